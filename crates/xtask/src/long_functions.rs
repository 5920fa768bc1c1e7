//! The function-length rule: no production function over [`LIMIT`] lines, except those listed in the
//! shrinking allow-list `crates/xtask/long-functions.txt` ([`ALLOW_LIST`]).
//!
//! A function is every `fn` item, and every impl or trait method with a body, in a production file (see
//! [`crate::source`]), at any nesting depth; test code (`#[cfg(test)]`, `#[test]`) is skipped. Its length
//! counts physical lines from the line of the `fn` keyword to the line of the closing brace, inclusive: blank
//! and comment lines inside count, the doc comment and attributes above do not.
//!
//! A function is named `path::scope::name`: its file from the repository root, then the inline modules,
//! impls (`Type` or `<Type as Trait>`), traits and enclosing functions it sits in, then its own name, e.g.
//! `crates/tfeco-core/src/state.rs::State::apply`. A name that would repeat in one file gets ` #2`, ` #3`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use quote::ToTokens;
use syn::visit::{self, Visit};
use syn::{Block, ImplItemFn, Item, ItemFn, ItemImpl, ItemMod, ItemTrait, Signature, TraitItemFn};

use crate::source::{is_test_only, item_attrs, SourceFile};

/// The longest a production function may be, in lines.
pub const LIMIT: usize = 80;

/// Where the allow-list lives, relative to the repository root.
pub const ALLOW_LIST: &str = "crates/xtask/long-functions.txt";

/// The comment that opens the allow-list file.
pub const HEADER: &str = "\
# Production functions allowed over 80 lines, checked by crates/xtask/tests/tidy.rs. This list only shrinks:
# split a listed function and delete its line; split a new long function instead of adding it here.
# One function a line: `path::scope::name <lines> <reason>`, where <lines> is its recorded length in physical
# lines from the `fn` keyword to the closing brace; it may not grow past it.
# Print the current offenders in this format (reasons kept) with `cargo run -p xtask -- long-functions`.
";

/// The measured length of one production function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionLength {
    /// `path::scope::name` (see the module doc).
    pub name: String,
    /// Physical lines from the `fn` keyword to the closing brace, inclusive.
    pub lines: usize,
}

/// One line of the allow-list: a function allowed over [`LIMIT`] lines, up to `lines`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowed {
    /// `path::scope::name`, as in [`FunctionLength::name`].
    pub name: String,
    /// The recorded length the function may not exceed.
    pub lines: usize,
    /// Why it is still long (`TODO: split` until someone looks).
    pub reason: String,
}

/// A malformed allow-list line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowListError {
    /// 1-based line number in the allow-list file.
    pub line: usize,
    /// The offending line.
    pub text: String,
}

impl fmt::Display for AllowListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{ALLOW_LIST}:{}: expected `path::name <lines> <reason>`, got `{}`", self.line, self.text)
    }
}

impl std::error::Error for AllowListError {}

/// Measures every production function of `files`, in file order then source order.
pub fn measure(files: &[SourceFile]) -> Vec<FunctionLength> {
    let mut out = Vec::new();
    for file in files {
        let mut visitor = Measure { scope: vec![file.display.clone()], found: Vec::new() };
        visitor.visit_file(&file.syntax);
        let mut seen: HashMap<String, usize> = HashMap::new();
        for mut function in visitor.found {
            let count = seen.entry(function.name.clone()).or_default();
            *count += 1;
            if *count > 1 {
                function.name = format!("{} #{count}", function.name);
            }
            out.push(function);
        }
    }
    out
}

/// Parses the allow-list text: `#` comments and blank lines are skipped; every other line is a name, its
/// recorded length and a non-empty reason, separated by whitespace. The name is everything before the first
/// all-digit word (names of trait impls contain spaces: `<Amount as Display>::fmt`).
///
/// Errors: the first line that does not have that shape.
pub fn parse_allow_list(text: &str) -> Result<Vec<Allowed>, AllowListError> {
    let mut out = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let error = || AllowListError { line: index + 1, text: line.to_owned() };
        let words: Vec<&str> = trimmed.split_whitespace().collect();
        let at = words.iter().position(|w| w.chars().all(|c| c.is_ascii_digit())).ok_or_else(error)?;
        let lines = words[at].parse().map_err(|_| error())?;
        if at == 0 || at + 1 == words.len() {
            return Err(error());
        }
        out.push(Allowed { name: words[..at].join(" "), lines, reason: words[at + 1..].join(" ") });
    }
    Ok(out)
}

/// Every breach of the rule, one readable sentence each (empty when the tree complies):
/// a function over [`LIMIT`] that is not listed, a listed function that grew past its recorded length, a
/// listed function that is gone or back within the limit (its line must be deleted), a name listed twice.
pub fn problems(measured: &[FunctionLength], allowed: &[Allowed]) -> Vec<String> {
    let lengths: HashMap<&str, usize> = measured.iter().map(|f| (f.name.as_str(), f.lines)).collect();
    let mut listed: HashMap<&str, &Allowed> = HashMap::new();
    let mut out = Vec::new();
    for entry in allowed {
        if listed.insert(&entry.name, entry).is_some() {
            out.push(format!("{} is listed twice in {ALLOW_LIST}: delete one line", entry.name));
        }
    }
    for function in measured.iter().filter(|f| f.lines > LIMIT) {
        match listed.get(function.name.as_str()) {
            None => out.push(format!(
                "{} is {} lines, over the limit of {LIMIT}: split it (the allow-list only shrinks)",
                function.name, function.lines
            )),
            Some(entry) if function.lines > entry.lines => out.push(format!(
                "{} grew to {} lines, past the {} recorded in {ALLOW_LIST}: split it",
                function.name, function.lines, entry.lines
            )),
            Some(_) => {}
        }
    }
    for entry in allowed {
        match lengths.get(entry.name.as_str()) {
            None => out.push(format!(
                "{} is listed in {ALLOW_LIST} but no longer exists: delete its line",
                entry.name
            )),
            Some(&lines) if lines <= LIMIT => out.push(format!(
                "{} is now {lines} lines, within the limit of {LIMIT}: delete its line from {ALLOW_LIST}",
                entry.name
            )),
            Some(_) => {}
        }
    }
    out
}

/// The allow-list file for the current offenders, sorted by name: [`HEADER`], then one line per function
/// over [`LIMIT`], keeping the reason already given in `allowed` and `TODO: split` for new ones.
pub fn allow_list(measured: &[FunctionLength], allowed: &[Allowed]) -> String {
    let reasons: HashMap<&str, &str> = allowed.iter().map(|a| (a.name.as_str(), a.reason.as_str())).collect();
    let offenders: BTreeMap<&str, usize> =
        measured.iter().filter(|f| f.lines > LIMIT).map(|f| (f.name.as_str(), f.lines)).collect();
    let mut out = HEADER.to_owned();
    for (name, lines) in offenders {
        let reason = reasons.get(name).copied().unwrap_or("TODO: split");
        out.push_str(&format!("{name} {lines} {reason}\n"));
    }
    out
}

/// The visitor that measures functions; `scope` holds the file path and the enclosing names.
struct Measure {
    scope: Vec<String>,
    found: Vec<FunctionLength>,
}

impl Measure {
    /// Records the function with signature `sig` and body `block`.
    fn record(&mut self, sig: &Signature, block: &Block) {
        let first = sig.fn_token.span.start().line;
        let last = block.brace_token.span.close().end().line;
        let name = format!("{}::{}", self.scope.join("::"), sig.ident);
        self.found.push(FunctionLength { name, lines: last + 1 - first });
    }

    /// Runs `visit` with `segment` pushed on the scope.
    fn within(&mut self, segment: String, visit: impl FnOnce(&mut Self)) {
        self.scope.push(segment);
        visit(self);
        self.scope.pop();
    }
}

impl<'ast> Visit<'ast> for Measure {
    fn visit_item(&mut self, item: &'ast Item) {
        if !is_test_only(item_attrs(item)) {
            visit::visit_item(self, item);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast ItemMod) {
        self.within(item.ident.to_string(), |v| visit::visit_item_mod(v, item));
    }

    fn visit_item_impl(&mut self, item: &'ast ItemImpl) {
        let self_type = compact(&item.self_ty.to_token_stream().to_string());
        let segment = match &item.trait_ {
            Some((path, _)) => format!("<{self_type} as {}>", compact(&path.to_token_stream().to_string())),
            None => self_type,
        };
        self.within(segment, |v| visit::visit_item_impl(v, item));
    }

    fn visit_item_trait(&mut self, item: &'ast ItemTrait) {
        self.within(item.ident.to_string(), |v| visit::visit_item_trait(v, item));
    }

    fn visit_item_fn(&mut self, item: &'ast ItemFn) {
        self.record(&item.sig, &item.block);
        self.within(item.sig.ident.to_string(), |v| visit::visit_item_fn(v, item));
    }

    fn visit_impl_item_fn(&mut self, item: &'ast ImplItemFn) {
        if is_test_only(&item.attrs) {
            return;
        }
        self.record(&item.sig, &item.block);
        self.within(item.sig.ident.to_string(), |v| visit::visit_impl_item_fn(v, item));
    }

    fn visit_trait_item_fn(&mut self, item: &'ast TraitItemFn) {
        if let Some(block) = &item.default {
            self.record(&item.sig, block);
        }
        self.within(item.sig.ident.to_string(), |v| visit::visit_trait_item_fn(v, item));
    }
}

/// Token text with the spaces the printer puts between all tokens removed, except between two words:
/// `Foo < T >` becomes `Foo<T>`, `& 'a mut T` becomes `&'a mut T`.
fn compact(text: &str) -> String {
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '\'');
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' && !(is_word(out.chars().last()) && is_word(chars.get(i + 1).copied())) {
            continue;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile { rel: "a.rs".into(), display: "src/a.rs".into(), syntax: syn::parse_file(text).unwrap() }
    }

    #[test]
    fn measures_from_the_fn_keyword_to_the_closing_brace_and_names_the_scope() {
        let text = "/// doc\n#[inline]\nfn one() {\n\n    // note\n}\nstruct S;\nimpl std::fmt::Display for S {\n    \
                    fn fmt(&self) {}\n}\nimpl S { fn new() -> Self {\n S\n } }\ntrait T { fn f(); fn g() {} }\n\
                    #[cfg(test)]\nmod tests { fn skipped() {} }\nmod inner { fn outer() { fn nested() {} } }\n";
        let found: Vec<(String, usize)> =
            measure(&[file(text)]).into_iter().map(|f| (f.name, f.lines)).collect();
        let expected = [
            ("src/a.rs::one", 4),
            ("src/a.rs::<S as std::fmt::Display>::fmt", 1),
            ("src/a.rs::S::new", 3),
            ("src/a.rs::T::g", 1),
            ("src/a.rs::inner::outer", 1),
            ("src/a.rs::inner::outer::nested", 1),
        ];
        let expected: Vec<(String, usize)> = expected.iter().map(|(n, l)| ((*n).to_owned(), *l)).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn repeated_names_are_numbered() {
        let text = "struct A<T>(T);\nimpl A<u8> { fn new() {} }\nimpl A<u16> { fn new() {} }\n\
                    impl From<u8> for A<u8> { fn from(_: u8) -> Self { todo() } }\n\
                    #[cfg(unix)] fn os() {}\n#[cfg(windows)] fn os() {}\n";
        let names: Vec<String> = measure(&[file(text)]).into_iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "src/a.rs::A<u8>::new",
                "src/a.rs::A<u16>::new",
                "src/a.rs::<A<u8> as From<u8>>::from",
                "src/a.rs::os",
                "src/a.rs::os #2"
            ]
        );
    }

    #[test]
    fn the_allow_list_round_trips_and_rejects_malformed_lines() {
        let text = "# comment\n\nsrc/a.rs::<A as From<u8>>::from 90 parser table, one arm per opcode\n";
        let allowed = parse_allow_list(text).unwrap();
        assert_eq!(allowed[0].name, "src/a.rs::<A as From<u8>>::from");
        assert_eq!(allowed[0].lines, 90);
        assert_eq!(allowed[0].reason, "parser table, one arm per opcode");
        for bad in ["src/a.rs::f 90", "src/a.rs::f long", "90 reason"] {
            assert_eq!(parse_allow_list(bad).unwrap_err().line, 1, "{bad}");
        }
        let measured = [FunctionLength { name: allowed[0].name.clone(), lines: 85 }];
        let regenerated = allow_list(&measured, &allowed);
        assert!(
            regenerated.ends_with("src/a.rs::<A as From<u8>>::from 85 parser table, one arm per opcode\n")
        );
        assert_eq!(parse_allow_list(&regenerated).unwrap().len(), 1);
    }

    #[test]
    fn problems_cover_new_grown_gone_and_short_functions() {
        let length = |name: &str, lines| FunctionLength { name: name.into(), lines };
        let allow = |name: &str, lines| Allowed { name: name.into(), lines, reason: "r".into() };
        let measured = [length("new", 81), length("grown", 101), length("kept", 99), length("short", 80)];
        let allowed = [allow("grown", 100), allow("kept", 100), allow("short", 90), allow("gone", 90)];
        let found = problems(&measured, &allowed);
        assert_eq!(found.len(), 4, "{found:#?}");
        assert!(found[0].starts_with("new is 81 lines"));
        assert!(found[1].starts_with("grown grew to 101 lines"));
        assert!(found[2].starts_with("short is now 80 lines"));
        assert!(found[3].starts_with("gone is listed"));
        assert!(problems(&[length("kept", 81)], &[allow("kept", 81)]).is_empty());
    }
}
