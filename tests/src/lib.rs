//! The fake forge and the end-to-end tests of lister.
//!
//! [`fake_forge`] serves GitHub's and Bitbucket Cloud's listing endpoints on `127.0.0.1`,
//! with quotas, scripted faults and a record of every request; the tests in `tests/` run
//! the transport and the listers against it, and `benches/` measures the transport.

pub mod fake_forge;

/// The README's Rust examples (the "Write a new forge" guide), compiled and run as doctests
/// so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
