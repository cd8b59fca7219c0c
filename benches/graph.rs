//! Graph benchmarks (placeholder until the BENCH.md workload lands).
fn main() {}
