//! The `rapport` binary. Placeholder until the server lands.
fn main() {}
