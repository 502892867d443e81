//! No import cycles: within each crate of the workspace, the top-level modules import each other
//! in one direction only, so each can be read after the ones it imports. A module's imports are
//! the `crate::…` paths of its files (tests and comments aside), with the names the crate's root
//! re-exports (`pub use page::PageResponse;`) taken back to the module that defines them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crate's own modules each top-level module imports, by module name.
type Imports = BTreeMap<String, BTreeSet<String>>;

/// The code of a file before its tests, without its comments.
fn code(source: &str) -> String {
    let before_tests = source.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first identifier of `text`.
fn ident(text: &str) -> &str {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The names `code` reaches through `crate::`: `crate::page::X` gives `page`, and
/// `crate::{Error, walk::Walk}` gives `Error` and `walk`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                names.extend(group.split(',').map(ident).map(str::to_owned));
            }
            None => names.push(ident(rest).to_owned()),
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

/// Names the crate root re-exports, and the module each comes from: `pub use page::{A, B};`.
fn re_exports(root: &str) -> BTreeMap<String, String> {
    let mut from = BTreeMap::new();
    for statement in code(root).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = ident(path).to_owned();
        let names = match path.find('{') {
            Some(open) => path[open + 1..].trim_end_matches('}').to_owned(),
            None => path.rsplit("::").next().unwrap_or_default().to_owned(),
        };
        for name in names.split(',') {
            let name = name.rsplit(" as ").next().unwrap_or_default();
            let name = ident(name.rsplit("::").next().unwrap_or_default());
            if !name.is_empty() {
                from.insert(name.to_owned(), module.clone());
            }
        }
    }
    from
}

/// Every `.rs` file under `dir`, except test-only ones (`*tests.rs`).
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs")
            && !path.to_string_lossy().ends_with("tests.rs")
        {
            files.push(path);
        }
    }
    files
}

/// What each top-level module of the crate whose sources are at `src` imports.
fn imports(src: &Path) -> Imports {
    let root_file = ["lib.rs", "main.rs"]
        .iter()
        .map(|name| src.join(name))
        .find(|path| path.exists())
        .unwrap();
    let re_exported = re_exports(&std::fs::read_to_string(&root_file).unwrap());
    let mut imports = Imports::new();
    for file in rust_files(src) {
        let relative = file.strip_prefix(src).unwrap();
        let first = relative.components().next().unwrap().as_os_str();
        let module = first.to_string_lossy().trim_end_matches(".rs").to_owned();
        if file == root_file {
            continue;
        }
        let source = std::fs::read_to_string(&file).unwrap();
        let used = imports.entry(module.clone()).or_default();
        for name in crate_paths(&code(&source)) {
            let target = re_exported.get(&name).cloned().unwrap_or(name);
            if target != module {
                used.insert(target);
            }
        }
    }
    imports
}

/// A cycle among the modules, as the modules along it, if there is one.
fn cycle(imports: &Imports) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        imports: &Imports,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|seen| seen == module) {
            let mut found = path[at..].to_vec();
            found.push(module.to_owned());
            return Some(found);
        }
        if !done.insert(module.to_owned()) {
            return None;
        }
        path.push(module.to_owned());
        for next in imports.get(module).into_iter().flatten() {
            if imports.contains_key(next)
                && let Some(found) = visit(next, imports, path, done)
            {
                return Some(found);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    imports
        .keys()
        .find_map(|module| visit(module, imports, &mut Vec::new(), &mut done))
}

#[test]
fn no_crate_of_the_workspace_has_an_import_cycle() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut crates = 0;
    for entry in std::fs::read_dir(&workspace).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.join("lib.rs").exists() && !src.join("main.rs").exists() {
            continue;
        }
        crates += 1;
        let imports = imports(&src);
        if let Some(cycle) = cycle(&imports) {
            panic!("{}: import cycle {}", src.display(), cycle.join(" → "));
        }
    }
    assert!(crates >= 20, "found only {crates} crates");
}

#[test]
fn a_cycle_is_found_through_groups_and_re_exports() {
    let root = "pub use page::{Page, Parsed as P};\npub use walk::Walk;\n";
    let re_exported = re_exports(root);
    assert_eq!(re_exported["Page"], "page");
    assert_eq!(re_exported["P"], "page");
    assert_eq!(re_exported["Walk"], "walk");
    let walk = "use crate::{Page, error::Error}; // crate::comment\n";
    assert_eq!(crate_paths(&code(walk)), ["Page", "error"]);
    let mut imports = Imports::new();
    imports.insert("walk".into(), ["page".into()].into());
    imports.insert("page".into(), ["error".into()].into());
    imports.insert("error".into(), BTreeSet::new());
    assert_eq!(cycle(&imports), None);
    imports.insert("error".into(), ["walk".into()].into());
    let found = cycle(&imports).expect("a cycle");
    assert_eq!(found.first(), found.last());
    assert_eq!(found.len(), 4, "{found:?}");
}
