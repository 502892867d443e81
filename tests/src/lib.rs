//! The fake forge and the end-to-end tests of lister.
//!
//! [`fake_forge`] serves the listing endpoints of GitHub, Bitbucket Cloud, GitLab, Heptapod,
//! Gitea, Forgejo, Gogs, Phabricator and Phorge on one `127.0.0.1` port, with quotas,
//! scripted faults, a record of every request, and the origins a correct lister must produce
//! from each; the tests in `tests/` run the transport and the listers against it, and
//! `benches/` measures the transport.

pub mod fake_forge;

/// The `lister` binary the benchmarks run: `LISTER_BIN`, else the workspace's release build.
/// Panics when it is missing.
pub fn lister_binary() -> std::path::PathBuf {
    let path = std::env::var_os("LISTER_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/lister")
        });
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release -p lister-cli` first",
        path.display()
    );
    path
}

/// The "Write a new forge" guide's Rust examples, compiled and run as doctests so they cannot
/// rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/new-forge.md")]
pub struct NewForgeDoctests;

/// The README's code, should it ever hold Rust examples.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
