//! The `lister` command.

fn main() {}
