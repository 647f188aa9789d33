//! What the benchmarks print alike: percentiles and the in-process throughput/latency lines.

use std::time::Duration;

/// The allocator the CLI ships with (src/main.rs), so the numbers are the CLI's.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The `p` quantile of sorted durations (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Throughput over `total`, then p50/p90/p99/max of the per-item latencies (sorted here).
pub fn print_latency(unit: &str, lat: &mut [Duration], total: Duration) {
    lat.sort();
    println!("  throughput: {:.0} {unit}s/s", lat.len() as f64 / total.as_secs_f64());
    println!(
        "  per-{unit} latency: p50 {:.0} µs, p90 {:.0} µs, p99 {:.0} µs, max {:.0} µs",
        percentile(lat, 0.5).as_secs_f64() * 1e6,
        percentile(lat, 0.9).as_secs_f64() * 1e6,
        percentile(lat, 0.99).as_secs_f64() * 1e6,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e6
    );
}
