//! The fake forge and the end-to-end tests of lister.
//!
//! [`fake_forge`] serves the listing endpoints of GitHub, Bitbucket Cloud, GitLab, Heptapod,
//! Gitea, Forgejo, Gogs, Phabricator and Phorge on one `127.0.0.1` port, with quotas,
//! scripted faults, a record of every request, and the origins a correct lister must produce
//! from each; the tests in `tests/` run the transport and the listers against it, and
//! `benches/` measures the transport.

pub mod fake_forge;

/// The "Write a new forge" guide's Rust examples, compiled and run as doctests so they cannot
/// rot.
#[cfg(doctest)]
#[doc = include_str!("../../docs/new-forge.md")]
pub struct NewForgeDoctests;

/// The README's code, should it ever hold Rust examples.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
