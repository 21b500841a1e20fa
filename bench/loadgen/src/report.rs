//! What a run prints: the fan-out and writes report structs (their JSON field names
//! are read by `bench/compare.sh`), latency percentiles, and printing as one JSON line
//! or an indented report.

use crate::bystander::BystanderReport;
use crate::cli::{PublishMode, Target, Transport, Via};
use crate::proc::ServerCpu;

#[derive(serde::Serialize)]
pub struct FanoutReport {
    pub target: Target,
    pub transport: Transport,
    pub publish_mode: PublishMode,
    pub publishers: usize,
    pub subscribers: usize,
    pub connected: usize,
    pub failed: usize,
    pub connect_secs: f64,
    pub events: usize,
    pub publish_secs: f64,
    /// Distinct TCP connections the publishes went over: `events` when fresh.
    pub publish_connections: usize,
    /// Each publish from the start of its request (its connect, when fresh) to the
    /// end of its response.
    pub publish_latency_ms: Latency,
    pub deliveries: usize,
    pub expected: usize,
    pub lost: usize,
    pub duplicated: usize,
    /// First publish to last delivery: the window of deliveries/s and CPU.
    pub delivery_secs: f64,
    pub deliveries_per_sec: f64,
    pub latency_ms: Latency,
    /// Server RSS growth from before connecting to all-connected-and-idle, per connection.
    pub rss_idle_bytes_per_conn: Option<f64>,
    /// The server's CPU time over the delivery window (with `--server-pid`).
    pub server_cpu: Option<ServerCpu>,
    /// Fresh-connection requests during publish and delivery (unless `--bystander-hz 0`).
    pub bystander: Option<BystanderReport>,
    /// WebSocket subscribers were each a viewer of their own (`--distinct-viewers`).
    pub distinct_viewers: bool,
    /// Presence messages WebSocket subscribers received from joining to the end, and
    /// their bytes.
    pub presence_messages: usize,
    pub presence_bytes: usize,
}

#[derive(serde::Serialize)]
pub struct WritesReport {
    pub via: Via,
    pub count: usize,
    pub concurrency: usize,
    pub rate: f64,
    pub secs: f64,
    pub writes_per_sec: f64,
    pub latency_ms: Latency,
}

#[derive(serde::Serialize)]
pub struct Latency {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    /// From sorted microseconds.
    pub fn of(sorted: &[u64]) -> Latency {
        Latency {
            p50: ms(percentile(sorted, 0.50)),
            p90: ms(percentile(sorted, 0.90)),
            p99: ms(percentile(sorted, 0.99)),
            max: ms(sorted.last().copied().unwrap_or(0)),
        }
    }
}

/// Microseconds as milliseconds.
#[expect(clippy::cast_precision_loss, reason = "latencies are far below 2^52 µs")]
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// The nearest-rank `p` quantile (0..=1) of sorted values; 0 when there are none.
#[expect(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    reason = "a rank from 0 to len - 1, rounded: intended float arithmetic on an index"
)]
pub fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `count` per `secs`.
#[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
pub fn per_sec(count: usize, secs: f64) -> f64 {
    count as f64 / secs
}

/// One JSON line (for scripts) or an indented report.
pub fn print(report: &impl serde::Serialize, one_line: bool) -> Result<(), Box<dyn std::error::Error>> {
    let text = if one_line {
        serde_json::to_string(report)?
    } else {
        serde_json::to_string_pretty(report)?
    };
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Latency, percentile};

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let sorted: Vec<u64> = (1..=101).map(|n| n * 1000).collect();
        assert_eq!(percentile(&sorted, 0.5), 51_000);
        assert_eq!(percentile(&sorted, 0.99), 100_000);
        assert_eq!(percentile(&sorted, 1.0), 101_000);
        assert_eq!(percentile(&[], 0.5), 0);
        let latency = Latency::of(&sorted);
        assert!((latency.p90 - 91.0).abs() < 1e-9 && (latency.max - 101.0).abs() < 1e-9);
    }
}
