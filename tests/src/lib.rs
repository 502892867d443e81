//! The fake forge and end-to-end tests.
