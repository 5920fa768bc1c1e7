//! The production Rust sources of the workspace: every `crates/*/src/**/*.rs` file, parsed with `syn`, minus
//! the files that only exist for tests (a module declared `#[cfg(test)] mod name;` and everything below it).
//! Code inside `#[cfg(test)]` items of a production file is left to each check (see [`is_test_only`]).

use std::fmt;
use std::path::{Path, PathBuf};

use syn::{Attribute, Item};

/// The repository root (two levels above this crate's manifest).
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// One parsed production source file.
pub struct SourceFile {
    /// Path relative to the crate's `src/`, with `/` separators, e.g. `minting/v3.rs`.
    pub rel: String,
    /// Path relative to the repository root, e.g. `crates/tfeco-core/src/minting/v3.rs`.
    pub display: String,
    /// The parsed file.
    pub syntax: syn::File,
}

impl SourceFile {
    /// True for a crate root (`lib.rs` or `main.rs` directly in `src/`).
    pub fn is_crate_root(&self) -> bool {
        self.rel == "lib.rs" || self.rel == "main.rs"
    }
}

/// The production sources of one crate.
pub struct CrateSources {
    /// The crate's directory name under `crates/`, e.g. `tfeco-core`.
    pub name: String,
    /// Its production files, sorted by path.
    pub files: Vec<SourceFile>,
}

/// A source file that could not be read or parsed.
#[derive(Debug)]
pub struct SourceError {
    /// The file, relative to the repository root.
    pub path: String,
    /// What went wrong (an I/O or a parse error, with its line for parse errors).
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for SourceError {}

/// Reads and parses the production sources of every crate under `root/crates`, sorted by crate name.
///
/// Errors: the first file that cannot be read or does not parse as Rust.
pub fn workspace_crates(root: &Path) -> Result<Vec<CrateSources>, SourceError> {
    let mut crate_dirs: Vec<PathBuf> =
        read_dir_sorted(&root.join("crates")).into_iter().filter(|dir| dir.join("src").is_dir()).collect();
    crate_dirs.sort();
    crate_dirs.iter().map(|dir| crate_sources(root, dir)).collect()
}

/// Reads and parses the production files of the crate in `dir`.
fn crate_sources(root: &Path, dir: &Path) -> Result<CrateSources, SourceError> {
    let src = dir.join("src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let mut files = Vec::new();
    for path in paths {
        let display = relative(root, &path);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| SourceError { path: display.clone(), message: e.to_string() })?;
        let syntax = syn::parse_file(&text).map_err(|e| SourceError {
            path: display.clone(),
            message: format!("line {}: {e}", e.span().start().line),
        })?;
        files.push(SourceFile { rel: relative(&src, &path), display, syntax });
    }
    let test_modules: Vec<String> = files.iter().flat_map(test_module_paths).collect();
    files.retain(|file| !test_modules.iter().any(|module| is_in_module(&file.rel, module)));
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(CrateSources { name, files })
}

/// True when the item is test code: it carries `#[cfg(test)]` or `#[test]`.
pub fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path().is_ident("test")
            || (attr.path().is_ident("cfg")
                && attr.meta.require_list().is_ok_and(|list| list.tokens.to_string() == "test"))
    })
}

/// The attributes of any item kind (empty for the kinds that carry none we care about).
pub fn item_attrs(item: &Item) -> &[Attribute] {
    match item {
        Item::Const(i) => &i.attrs,
        Item::Enum(i) => &i.attrs,
        Item::ExternCrate(i) => &i.attrs,
        Item::Fn(i) => &i.attrs,
        Item::ForeignMod(i) => &i.attrs,
        Item::Impl(i) => &i.attrs,
        Item::Macro(i) => &i.attrs,
        Item::Mod(i) => &i.attrs,
        Item::Static(i) => &i.attrs,
        Item::Struct(i) => &i.attrs,
        Item::Trait(i) => &i.attrs,
        Item::TraitAlias(i) => &i.attrs,
        Item::Type(i) => &i.attrs,
        Item::Union(i) => &i.attrs,
        Item::Use(i) => &i.attrs,
        _ => &[],
    }
}

/// The module folders (relative to `src/`, no extension) of the out-of-line `#[cfg(test)] mod name;`
/// declarations in `file`, including those nested in inline modules: `foo.rs` declaring `mod tests;` gives
/// `foo/tests` (the file `foo/tests.rs` or `foo/tests/mod.rs` and everything under `foo/tests/`).
fn test_module_paths(file: &SourceFile) -> Vec<String> {
    let stem = file.rel.trim_end_matches(".rs");
    let dir = match stem.rsplit_once('/') {
        Some((dir, "mod")) => dir.to_owned(),
        None if stem == "lib" || stem == "main" || stem == "mod" => String::new(),
        _ => stem.to_owned(),
    };
    let mut out = Vec::new();
    collect_test_modules(&file.syntax.items, &dir, &mut out);
    out
}

fn collect_test_modules(items: &[Item], dir: &str, out: &mut Vec<String>) {
    for item in items {
        let Item::Mod(module) = item else { continue };
        let path = if dir.is_empty() { module.ident.to_string() } else { format!("{dir}/{}", module.ident) };
        match &module.content {
            None if is_test_only(&module.attrs) => out.push(path),
            Some((_, inner)) if !is_test_only(&module.attrs) => collect_test_modules(inner, &path, out),
            _ => {}
        }
    }
}

/// True when the file `rel` (relative to `src/`) belongs to the module folder `module` (see
/// [`test_module_paths`]).
fn is_in_module(rel: &str, module: &str) -> bool {
    rel == format!("{module}.rs") || rel.starts_with(&format!("{module}/"))
}

/// Every `.rs` file below `dir`, recursively, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for path in read_dir_sorted(dir) {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The entries of `dir` (hidden ones and `target` left out), sorted; empty if it cannot be read.
fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            name != "target" && !name.to_string_lossy().starts_with('.')
        })
        .map(|e| e.path())
        .collect();
    paths.sort();
    paths
}

/// `path` relative to `base`, with `/` separators.
fn relative(base: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(base).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(rel: &str, text: &str) -> SourceFile {
        SourceFile { rel: rel.into(), display: rel.into(), syntax: syn::parse_file(text).unwrap() }
    }

    #[test]
    fn out_of_line_test_modules_are_found_below_their_parent() {
        let root =
            file("lib.rs", "#[cfg(test)]\nmod testkit;\nmod state;\nmod inline { #[cfg(test)] mod t; }");
        assert_eq!(test_module_paths(&root), ["testkit", "inline/t"]);
        let leaf = file("minting/v3.rs", "#[cfg(test)]\nmod tests;\n#[cfg(unix)]\nmod os;");
        assert_eq!(test_module_paths(&leaf), ["minting/v3/tests"]);
        let folder = file("minting/mod.rs", "#[cfg(test)]\nmod tests;");
        assert_eq!(test_module_paths(&folder), ["minting/tests"]);
        assert!(is_in_module("minting/v3/tests.rs", "minting/v3/tests"));
        assert!(is_in_module("minting/v3/tests/cases.rs", "minting/v3/tests"));
        assert!(!is_in_module("minting/v3/tests_util.rs", "minting/v3/tests"));
    }

    #[test]
    fn test_only_means_cfg_test_or_test() {
        let item: syn::ItemFn = syn::parse_quote! { #[cfg(test)] fn a() {} };
        assert!(is_test_only(&item.attrs));
        let item: syn::ItemFn = syn::parse_quote! { #[test] fn a() {} };
        assert!(is_test_only(&item.attrs));
        let item: syn::ItemFn = syn::parse_quote! { #[cfg(not(test))] #[inline] fn a() {} };
        assert!(!is_test_only(&item.attrs));
    }
}
