//! A histogram that observes without a lock, for the fan-out's hot path.
//!
//! `prometheus_client`'s own `Histogram` takes a mutex on every observation; the
//! delivery latency is observed by every subscriber task on every write, thousands of
//! times per burst, and a lock there would make subscribers queue behind one another.
//! Here each bucket, the count and the sum are atomics: an observation is a bucket
//! search over a short array and three relaxed adds. A scrape may see an observation
//! half applied (counted but not yet summed); the next scrape is whole.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Bucket bounds in seconds, and per bucket the observations at or below it (not
/// cumulative: the encoder adds them up).
#[derive(Debug)]
struct Inner {
    bounds: Vec<f64>,
    /// One per bound, plus the `+Inf` bucket last.
    counts: Vec<AtomicU64>,
    /// The sum of every observation, in nanoseconds (integer adds are atomic).
    sum_nanos: AtomicU64,
}

/// A latency histogram (seconds) whose clones share their buckets.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    inner: Arc<Inner>,
}

impl LatencyHistogram {
    pub fn new(bounds: impl IntoIterator<Item = f64>) -> Self {
        let bounds: Vec<f64> = bounds.into_iter().filter(|b| b.is_finite()).collect();
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        LatencyHistogram {
            inner: Arc::new(Inner {
                bounds,
                counts,
                sum_nanos: AtomicU64::new(0),
            }),
        }
    }

    pub fn observe(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        let at = self.inner.bounds.partition_point(|bound| *bound < seconds);
        self.inner.counts[at].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.inner.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl TypedMetric for LatencyHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for LatencyHistogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let mut count = 0;
        let buckets: Vec<(f64, u64)> = self
            .inner
            .bounds
            .iter()
            .copied()
            .chain(std::iter::once(f64::INFINITY))
            .zip(&self.inner.counts)
            .map(|(bound, n)| {
                let n = n.load(Ordering::Relaxed);
                count += n;
                (bound, n)
            })
            .collect();
        // Nanoseconds to seconds: exact enough for any sum a process accumulates.
        #[allow(clippy::cast_precision_loss)]
        let sum = self.inner.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        MetricType::Histogram
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_the_first_bucket_at_or_above_them() {
        let h = LatencyHistogram::new([0.001, 0.01]);
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(5));
        h.observe(Duration::from_secs(2));
        let counts: Vec<u64> = h.inner.counts.iter().map(|c| c.load(Ordering::Relaxed)).collect();
        assert_eq!(counts, [2, 1, 1]);
        assert_eq!(h.inner.sum_nanos.load(Ordering::Relaxed), 2_006_500_000);
    }
}
