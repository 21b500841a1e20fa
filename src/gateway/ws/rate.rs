//! The token bucket that bounds how fast a client may send frames: a sustained
//! [`WS_RATE_PER_SEC`], with bursts up to [`WS_RATE_BURST`].

use tokio::time::Instant;

use crate::limits::{WS_RATE_BURST, WS_RATE_PER_SEC};

pub(super) struct TokenBucket {
    tokens: f64,
    refilled_at: Instant,
}

impl TokenBucket {
    pub(super) fn new(now: Instant) -> Self {
        TokenBucket {
            tokens: f64::from(WS_RATE_BURST),
            refilled_at: now,
        }
    }

    /// Takes a token for one frame at `now`; `false` when the client is over the rate.
    pub(super) fn take(&mut self, now: Instant) -> bool {
        let earned = now.duration_since(self.refilled_at).as_secs_f64() * f64::from(WS_RATE_PER_SEC);
        self.tokens = (self.tokens + earned).min(f64::from(WS_RATE_BURST));
        self.refilled_at = now;
        if self.tokens < 1.0 {
            return false;
        }
        self.tokens -= 1.0;
        true
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_passes_then_the_rate_refills() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(start);
        assert!((0..WS_RATE_BURST).all(|_| bucket.take(start)), "the whole burst passes");
        assert!(!bucket.take(start), "one more does not");
        // A tenth of a second earns a tenth of the per-second rate.
        let later = start + Duration::from_millis(100);
        assert!((0..WS_RATE_PER_SEC / 10).all(|_| bucket.take(later)));
        assert!(!bucket.take(later));
    }
}
