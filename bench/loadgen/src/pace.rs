//! Pacing a numbered series (publishes, writes) at a fixed rate, or not at all.

use std::time::{Duration, Instant};

/// A series paced `rate` per second from `start`; a rate of 0 (or less) means back to back.
#[derive(Clone, Copy)]
pub struct Pace {
    start: Instant,
    interval: Option<Duration>,
}

impl Pace {
    pub fn new(start: Instant, rate: f64) -> Self {
        Pace {
            start,
            interval: (rate > 0.0).then(|| Duration::from_secs_f64(1.0 / rate)),
        }
    }

    /// Waits until the `index`th item is due (from the start, so a slow item does
    /// not delay the later ones).
    pub async fn wait(&self, index: usize) {
        if let Some(interval) = self.interval {
            let due = self.start + interval * u32::try_from(index).unwrap_or(u32::MAX);
            tokio::time::sleep_until(due.into()).await;
        }
    }
}
