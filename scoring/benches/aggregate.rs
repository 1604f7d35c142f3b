//! Aggregation benchmark.
fn main() {}
