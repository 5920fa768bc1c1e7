//! The module-cycle rule: no import cycle between the modules of one crate. A port of
//! `module_cycles.py` (the shared tool of issue 9) that reads the syntax tree instead of matching text.
//!
//! - Units: a file or folder at most two levels below `src/`: `state.rs` -> `state`, `minting.rs` and
//!   `minting/mod.rs` -> `minting`, `minting/v3.rs` -> `minting/v3`, `slices/market/billing.rs` ->
//!   `slices/market`. The crate roots (`lib.rs`, `main.rs`) and `src/bin/` are no unit.
//! - Arrows: from the unit of a file to the unit that each `crate::` path in it names, read from `use` trees,
//!   paths in code, types and attributes, the tokens of macros (`$crate::` too) and path strings in attributes
//!   (`#[serde(with = "crate::codec")]`). Test code (`#[cfg(test)]`, `#[test]`) is left out. A path
//!   resolves to the unit named by its first two segments, else its first; a name the crate root imports
//!   (`pub use state::State;` makes `crate::State` mean `crate::state::State`) resolves through that import.
//! - Cycles: strongly connected components of more than one unit (Tarjan's algorithm).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::visit::{self, Visit};
use syn::{Attribute, ImplItemFn, Item, ItemUse, Lit, Meta, Path, Token, UseTree};

use crate::source::{is_test_only, item_attrs, SourceFile};

/// The module graph of one crate.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ModuleGraph {
    /// Every unit, e.g. `state` or `minting/v3`.
    pub units: BTreeSet<String>,
    /// For each unit, the other units it names through `crate::` paths.
    pub arrows: BTreeMap<String, BTreeSet<String>>,
}

impl ModuleGraph {
    /// Builds the graph of the crate whose production files are `files` (see [`crate::source`]).
    pub fn of(files: &[SourceFile]) -> Self {
        let units: BTreeSet<String> = files.iter().filter_map(|f| unit_of(&f.rel)).collect();
        let root =
            files.iter().find(|f| f.rel == "lib.rs").or_else(|| files.iter().find(|f| f.rel == "main.rs"));
        let imports = root.map(|f| root_imports(&f.syntax)).unwrap_or_default();
        let mut graph =
            ModuleGraph { arrows: units.iter().map(|u| (u.clone(), BTreeSet::new())).collect(), units };
        for file in files {
            let Some(unit) = unit_of(&file.rel) else { continue };
            let mut paths = CratePaths::default();
            paths.visit_file(&file.syntax);
            let targets: BTreeSet<String> = paths
                .found
                .iter()
                .filter_map(|segments| graph.resolve(segments, &imports))
                .filter(|target| *target != unit)
                .collect();
            graph.arrows.entry(unit).or_default().extend(targets);
        }
        graph
    }

    /// The number of arrows.
    pub fn arrow_count(&self) -> usize {
        self.arrows.values().map(BTreeSet::len).sum()
    }

    /// The cycles: strongly connected components of more than one unit, each sorted, sorted.
    pub fn cycles(&self) -> Vec<Vec<String>> {
        let mut tarjan = Tarjan {
            graph: self,
            index: HashMap::new(),
            low: HashMap::new(),
            stack: Vec::new(),
            components: Vec::new(),
        };
        for unit in &self.units {
            if !tarjan.index.contains_key(unit.as_str()) {
                tarjan.connect(unit);
            }
        }
        let mut cycles: Vec<Vec<String>> = tarjan
            .components
            .into_iter()
            .filter(|c| c.len() > 1)
            .map(|c| {
                let mut c: Vec<String> = c.into_iter().map(str::to_owned).collect();
                c.sort();
                c
            })
            .collect();
        cycles.sort();
        cycles
    }

    /// The unit a path after `crate::` names, directly or through an import of the crate root.
    fn resolve(&self, segments: &[String], imports: &HashMap<String, Vec<String>>) -> Option<String> {
        self.unit_at(segments).or_else(|| {
            let (first, rest) = segments.split_first()?;
            let mut full = imports.get(first)?.clone();
            full.extend_from_slice(rest);
            self.unit_at(&full)
        })
    }

    /// The unit named by the first two segments, else by the first.
    fn unit_at(&self, segments: &[String]) -> Option<String> {
        [2, 1].into_iter().filter(|&depth| segments.len() >= depth).find_map(|depth| {
            let candidate = segments[..depth].join("/");
            self.units.contains(&candidate).then_some(candidate)
        })
    }
}

/// The unit of the file at `rel` (relative to `src/`), or `None` for a crate root or a file in `src/bin/`.
pub fn unit_of(rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = rel.trim_end_matches(".rs").split('/').collect();
    if parts.last() == Some(&"mod") {
        parts.pop();
    }
    if rel == "lib.rs" || rel == "main.rs" || parts.first() == Some(&"bin") || parts.is_empty() {
        return None;
    }
    parts.truncate(2);
    Some(parts.join("/"))
}

/// The names the crate root brings into the crate's top level with `use`, mapped to the path they stand
/// for (without a leading `crate`/`self`); glob imports are skipped.
fn root_imports(root: &syn::File) -> HashMap<String, Vec<String>> {
    let mut imports = HashMap::new();
    for item in &root.items {
        let Item::Use(item) = item else { continue };
        if is_test_only(&item.attrs) {
            continue;
        }
        let mut named = Vec::new();
        use_paths(&item.tree, Vec::new(), &mut named);
        for (name, mut path) in named {
            if let Some(name) = name {
                if matches!(path.first().map(String::as_str), Some("crate" | "self")) {
                    path.remove(0);
                }
                imports.insert(name, path);
            }
        }
    }
    imports
}

/// Flattens a `use` tree below `prefix` into the paths it imports, each with the name it binds (`None` for
/// a glob). `a::{b, c as d, e::*}` gives (`b`, a::b), (`d`, a::c), (none, a::e).
fn use_paths(tree: &UseTree, prefix: Vec<String>, out: &mut Vec<(Option<String>, Vec<String>)>) {
    let with = |ident: &syn::Ident| {
        let mut path = prefix.clone();
        path.push(ident.to_string());
        path
    };
    match tree {
        UseTree::Path(p) => use_paths(&p.tree, with(&p.ident), out),
        UseTree::Name(n) if n.ident == "self" => {
            let name = prefix.last().cloned();
            out.push((name, prefix));
        }
        UseTree::Name(n) => out.push((Some(n.ident.to_string()), with(&n.ident))),
        UseTree::Rename(r) => out.push((Some(r.rename.to_string()), with(&r.ident))),
        UseTree::Glob(_) => out.push((None, prefix)),
        UseTree::Group(g) => g.items.iter().for_each(|t| use_paths(t, prefix.clone(), out)),
    }
}

/// The visitor that collects the segments after `crate::` of every path in a file's production code.
#[derive(Default)]
struct CratePaths {
    found: Vec<Vec<String>>,
}

impl CratePaths {
    /// Records the paths of a `use` tree that starts with `crate`.
    fn use_tree(&mut self, tree: &UseTree) {
        if let UseTree::Path(path) = tree {
            if path.ident == "crate" {
                let mut named = Vec::new();
                use_paths(&path.tree, Vec::new(), &mut named);
                self.found.extend(named.into_iter().map(|(_, path)| path));
            }
        }
    }

    /// Records the `crate::` paths written in raw tokens (macro input, attribute arguments): `crate` followed
    /// by `::ident` segments, optionally ending in a `{...}` group of use trees, and string literals that
    /// start with `crate::`. Nested groups are searched too.
    fn tokens(&mut self, tokens: TokenStream) {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            match token {
                TokenTree::Group(group) => self.tokens(group.stream()),
                TokenTree::Ident(ident) if ident == "crate" => self.path_tokens(&tokens[i + 1..]),
                TokenTree::Literal(literal) => {
                    if let Lit::Str(text) = Lit::new(literal.clone()) {
                        if let Some(rest) = text.value().strip_prefix("crate::") {
                            self.found.push(rest.split("::").map(str::to_owned).collect());
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Records the path whose tokens follow a `crate` keyword.
    fn path_tokens(&mut self, mut rest: &[TokenTree]) {
        let mut segments = Vec::new();
        while let [TokenTree::Punct(a), TokenTree::Punct(b), next, tail @ ..] = rest {
            if a.as_char() != ':' || b.as_char() != ':' {
                break;
            }
            match next {
                TokenTree::Ident(ident) => segments.push(ident.to_string()),
                TokenTree::Group(group) if group.delimiter() == Delimiter::Brace => {
                    let parser = Punctuated::<UseTree, Token![,]>::parse_terminated;
                    for tree in parser.parse2(group.stream()).into_iter().flatten() {
                        let mut named = Vec::new();
                        use_paths(&tree, segments.clone(), &mut named);
                        self.found.extend(named.into_iter().map(|(_, path)| path));
                    }
                    return;
                }
                _ => break,
            }
            rest = tail;
        }
        if !segments.is_empty() {
            self.found.push(segments);
        }
    }
}

impl<'ast> Visit<'ast> for CratePaths {
    fn visit_item(&mut self, item: &'ast Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, item: &'ast ImplItemFn) {
        if !is_test_only(&item.attrs) {
            visit::visit_impl_item_fn(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast ItemUse) {
        self.use_tree(&item.tree);
    }

    fn visit_path(&mut self, path: &'ast Path) {
        let mut segments = path.segments.iter().map(|s| s.ident.to_string());
        if path.leading_colon.is_none() && segments.next().as_deref() == Some("crate") {
            let rest: Vec<String> = segments.collect();
            if !rest.is_empty() {
                self.found.push(rest);
            }
        }
        visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.tokens(mac.tokens.clone());
        visit::visit_macro(self, mac);
    }

    fn visit_attribute(&mut self, attr: &'ast Attribute) {
        if let Meta::List(list) = &attr.meta {
            if !attr.path().is_ident("doc") {
                self.tokens(list.tokens.clone());
            }
        }
        visit::visit_attribute(self, attr);
    }
}

/// Tarjan's strongly-connected-components algorithm over a [`ModuleGraph`].
struct Tarjan<'g> {
    graph: &'g ModuleGraph,
    index: HashMap<&'g str, usize>,
    low: HashMap<&'g str, usize>,
    stack: Vec<&'g str>,
    components: Vec<Vec<&'g str>>,
}

impl<'g> Tarjan<'g> {
    /// Visits `unit` and everything reachable from it, closing each component once its root is done.
    fn connect(&mut self, unit: &'g str) {
        let number = self.index.len();
        self.index.insert(unit, number);
        self.low.insert(unit, number);
        self.stack.push(unit);
        for next in self.graph.arrows.get(unit).into_iter().flatten() {
            let next = next.as_str();
            if !self.index.contains_key(next) {
                self.connect(next);
                self.low.insert(unit, self.low[unit].min(self.low[next]));
            } else if self.stack.contains(&next) {
                self.low.insert(unit, self.low[unit].min(self.index[next]));
            }
        }
        if self.low[unit] == self.index[unit] {
            let mut component = Vec::new();
            while let Some(member) = self.stack.pop() {
                component.push(member);
                if member == unit {
                    break;
                }
            }
            self.components.push(component);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str, text: &str) -> SourceFile {
        SourceFile { rel: rel.into(), display: rel.into(), syntax: syn::parse_file(text).unwrap() }
    }

    #[test]
    fn units_are_files_and_folders_two_levels_deep() {
        assert_eq!(unit_of("state.rs").as_deref(), Some("state"));
        assert_eq!(unit_of("minting/mod.rs").as_deref(), Some("minting"));
        assert_eq!(unit_of("minting/v3.rs").as_deref(), Some("minting/v3"));
        assert_eq!(unit_of("slices/market/billing.rs").as_deref(), Some("slices/market"));
        assert_eq!(unit_of("lib.rs"), None);
        assert_eq!(unit_of("bin/tool.rs"), None);
    }

    #[test]
    fn arrows_come_from_every_kind_of_crate_path_outside_tests() {
        let files = [
            file("lib.rs", "pub use ledger::{Ledger as Book};\nmod a; mod b; mod c; mod d; mod e; mod ledger; mod slices;"),
            file("a.rs", "use crate::{b::B, slices::{market::M}};\nfn f() -> crate::c::C { todo() }"),
            file("b.rs", "fn f() { format!(\"{}\", $crate::d::x()); }\n#[serde(with = \"crate::e\")] struct S;"),
            file("c.rs", "fn f(_: crate::Book) {}\n#[cfg(test)]\nmod tests { use crate::a; }"),
            file("d.rs", "#[test] fn t() { crate::a::f(); }"),
            file("e.rs", ""),
            file("ledger.rs", "/// crate::a in a doc\nfn f() {}"),
            file("slices/mod.rs", ""),
            file("slices/market.rs", "use crate::slices;"),
        ];
        let graph = ModuleGraph::of(&files);
        let arrows: Vec<(&str, &str)> = graph
            .arrows
            .iter()
            .flat_map(|(from, to)| to.iter().map(move |to| (from.as_str(), to.as_str())))
            .collect();
        let expected = [
            ("a", "b"),
            ("a", "c"),
            ("a", "slices/market"),
            ("b", "d"),
            ("b", "e"),
            ("c", "ledger"),
            ("slices/market", "slices"),
        ];
        assert_eq!(arrows, expected);
        assert!(graph.cycles().is_empty());
    }

    #[test]
    fn cycles_are_the_strongly_connected_components_of_more_than_one_unit() {
        let files = [
            file("a.rs", "use crate::b;"),
            file("b.rs", "use crate::c;"),
            file("c.rs", "use crate::a;\nuse crate::d;"),
            file("d.rs", ""),
            file("e.rs", "use crate::f;"),
            file("f.rs", "use crate::e;"),
        ];
        let graph = ModuleGraph::of(&files);
        assert_eq!(graph.arrow_count(), 6);
        assert_eq!(graph.cycles(), [vec!["a", "b", "c"], vec!["e", "f"]]);
    }
}
