//! What the generator reads of the server's process in /proc: its resident memory
//! (memory per idle connection) and its CPU time, user + system over all its threads,
//! sampled through a run so the delivery window can be cut out afterwards (CPU per
//! delivery).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How often the CPU sampler reads /proc: below the kernel's tick (10 ms at 100 Hz),
/// so a window's edges are off by at most one tick.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// The server's resident memory in KiB, from /proc.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// utime + stime of the whole process (every thread, live or exited), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    parse_cpu_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Fields 14 and 15 of a /proc/PID/stat line, counted after the command name: the
/// name is in parentheses and may itself hold spaces or parentheses.
fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`), asked of `getconf` since the
/// workspace forbids the unsafe call; 100, Linux's value everywhere, if that fails.
fn clock_ticks_per_sec() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// The server's CPU time over a run's delivery window.
#[derive(serde::Serialize)]
pub struct ServerCpu {
    pub clk_tck: u64,
    /// The window actually measured: the last sample at or before the first publish
    /// to the first at or after the last delivery.
    pub window_secs: f64,
    pub cpu_secs: f64,
    /// `cpu_secs` ÷ `window_secs`: 1.0 is one core busy throughout.
    pub cores_busy: f64,
    pub us_per_delivery: f64,
}

/// Reads the server's CPU time every few milliseconds on a thread of its own (a task
/// on the generator's busy runtime would be read late).
pub struct CpuSampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<Vec<(Instant, u64)>>,
}

impl CpuSampler {
    /// Starts sampling; the first sample is taken before this returns.
    pub fn start(pid: u32) -> CpuSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let first: Vec<_> = cpu_ticks(pid).map(|t| (Instant::now(), t)).into_iter().collect();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = first;
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(SAMPLE_EVERY);
                if let Some(t) = cpu_ticks(pid) {
                    samples.push((Instant::now(), t));
                }
            }
            samples
        });
        CpuSampler { stop, thread }
    }

    /// Stops sampling and gives the CPU time from `from` to `to`, per delivery.
    #[expect(clippy::cast_precision_loss, reason = "ticks and deliveries are far below 2^52")]
    pub fn finish(self, from: Instant, to: Instant, deliveries: usize) -> Option<ServerCpu> {
        self.stop.store(true, Ordering::Relaxed);
        let samples = self.thread.join().ok()?;
        let (t0, c0) = samples.iter().rev().find(|(t, _)| *t <= from).or(samples.first())?;
        let (t1, c1) = samples.iter().find(|(t, _)| *t >= to).or(samples.last())?;
        let clk_tck = clock_ticks_per_sec();
        let cpu_secs = c1.saturating_sub(*c0) as f64 / clk_tck as f64;
        let window_secs = t1.saturating_duration_since(*t0).as_secs_f64();
        Some(ServerCpu {
            clk_tck,
            window_secs,
            cpu_secs,
            cores_busy: if window_secs > 0.0 { cpu_secs / window_secs } else { 0.0 },
            us_per_delivery: if deliveries > 0 {
                cpu_secs * 1e6 / deliveries as f64
            } else {
                0.0
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cpu_ticks;

    #[test]
    fn cpu_ticks_are_counted_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 9 0 1 2 3";
        assert_eq!(parse_cpu_ticks(stat), Some(325));
        assert_eq!(parse_cpu_ticks("42 (x) S 1"), None);
    }
}
