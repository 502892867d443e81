//! A forge is fill-in-the-blanks: each forge crate stays within its line budget (lines of code
//! before its tests, not counting blank lines and comments). A forge that needs more shows a
//! capability the framework lacks.

/// Each forge crate, the forges it holds, and its budget: 40 lines a crate, a family's forges
/// together (60 for GitHub and Bitbucket, the first two, whose quirks are the framework's
/// oldest, and for a two-level forge, Tuleap, which reads two kinds of pages).
const BUDGETS: &[(&str, &[&str], usize)] = &[
    ("lister-github", &["github"], 60),
    ("lister-bitbucket", &["bitbucket"], 60),
    ("lister-bitbucket-server", &["bitbucket-server"], 40),
    ("lister-gitlab", &["gitlab", "heptapod"], 40),
    ("lister-gitea", &["gitea", "forgejo", "gogs"], 40),
    ("lister-phabricator", &["phabricator", "phorge"], 40),
    ("lister-gitiles", &["gitiles"], 40),
    ("lister-pagure", &["pagure"], 40),
    ("lister-gerrit", &["gerrit"], 40),
    ("lister-launchpad", &["launchpad", "launchpad-bzr"], 40),
    ("lister-grokmirror", &["grokmirror"], 40),
    ("lister-cgit", &["cgit"], 60),
    ("lister-gitweb", &["gitweb"], 60),
    ("lister-hgweb", &["hgweb"], 60),
    ("lister-stagit", &["stagit"], 60),
    ("lister-tuleap", &["tuleap"], 60),
    ("lister-sourceforge", &["sourceforge"], 60),
    ("lister-sourcehut", &["sourcehut", "sourcehut-hg"], 40),
];

/// Lines of code of a crate's `lib.rs` before its tests.
fn lines_of_code(source: &str) -> usize {
    let code = source.split("#[cfg(test)]").next().unwrap_or_default();
    code.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with("//"))
        .count()
}

#[test]
fn every_forge_crate_is_within_its_line_budget() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (krate, forges, budget) in BUDGETS {
        let source = std::fs::read_to_string(root.join(krate).join("src/lib.rs")).unwrap();
        let lines = lines_of_code(&source);
        println!(
            "{krate}: {lines} lines for {} forges ({forges:?}), budget {budget}",
            forges.len()
        );
        assert!(
            lines <= *budget,
            "{krate}: {lines} lines, over its budget of {budget}"
        );
        for forge in *forges {
            assert!(
                source.contains(&format!("\"{forge}\"")),
                "{krate} names {forge}"
            );
        }
    }
}

#[test]
fn the_count_skips_comments_blank_lines_and_tests() {
    let source = "//! doc\nuse a;\n\n/// item\nfn f() {}\n#[cfg(test)]\nmod tests { fn t() {} }\n";
    assert_eq!(lines_of_code(source), 2);
}
