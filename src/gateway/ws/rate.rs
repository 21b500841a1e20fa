//! How fast one connection may send: a token bucket of frames (governor, the same
//! GCRA core's rate limits use), `--ws-frames-per-sec` sustained with bursts of twice
//! that; and the count of rate-limit refusals after which a connection that keeps
//! going is closed.

use std::num::NonZeroU32;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use crate::limits::{WS_REFUSAL_WINDOW, WS_REFUSALS_BEFORE_CLOSE};

/// The frame bucket; `None` when the rate is 0 (off).
pub(super) struct FrameRate(Option<DefaultDirectRateLimiter>);

impl FrameRate {
    pub(super) fn new(per_sec: u32) -> Self {
        FrameRate(NonZeroU32::new(per_sec).map(|rate| {
            let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
            RateLimiter::direct(Quota::per_second(rate).allow_burst(burst))
        }))
    }

    /// Takes a token for one frame; `false` when the client is over the rate.
    pub(super) fn take(&self) -> bool {
        self.0.as_ref().is_none_or(|bucket| bucket.check().is_ok())
    }
}

/// Rate-limit refusals within the current window.
pub(super) struct Refusals {
    since: Instant,
    count: u32,
}

impl Refusals {
    pub(super) fn new(now: Instant) -> Self {
        Refusals { since: now, count: 0 }
    }

    /// Counts one refusal at `now`; `Some(count)` once the window holds more than
    /// [`WS_REFUSALS_BEFORE_CLOSE`].
    pub(super) fn refused(&mut self, now: Instant) -> Option<u32> {
        if now.duration_since(self.since) >= WS_REFUSAL_WINDOW {
            *self = Refusals::new(now);
        }
        self.count += 1;
        (self.count > WS_REFUSALS_BEFORE_CLOSE).then_some(self.count)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_burst_of_twice_the_rate_passes_and_one_more_does_not() {
        let bucket = FrameRate::new(100);
        assert!((0..200).all(|_| bucket.take()), "the whole burst passes");
        assert!(!bucket.take(), "one more does not");
        let off = FrameRate::new(0);
        assert!((0..10_000).all(|_| off.take()));
    }

    #[test]
    fn refusals_close_past_the_limit_within_a_window_only() {
        let t0 = Instant::now();
        let mut r = Refusals::new(t0);
        for _ in 0..WS_REFUSALS_BEFORE_CLOSE {
            assert_eq!(r.refused(t0), None);
        }
        assert_eq!(r.refused(t0), Some(WS_REFUSALS_BEFORE_CLOSE + 1));
        let later = t0 + WS_REFUSAL_WINDOW + Duration::from_millis(1);
        assert_eq!(r.refused(later), None, "a new window starts over");
    }
}
