//! The fake forge and the end-to-end tests of lister.
//!
//! [`fake_forge`] serves the listing endpoints of GitHub, Bitbucket Cloud, GitLab, Heptapod,
//! Gitea, Forgejo, Gogs, Phabricator and Phorge on one `127.0.0.1` port, with quotas,
//! scripted faults, a record of every request, and the origins a correct lister must produce
//! from each; the tests in `tests/` run the transport and the listers against it, and
//! `benches/` measures the transport.

pub mod fake_forge;

/// The README's Rust examples (the "Write a new forge" guide), compiled and run as doctests
/// so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
