//! Attempt limits for sign-up and sign-in: fixed windows counted per key (a client
//! address, a username). The numbers are in `crate::limits`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::core::{Error, Result};
use crate::limits::SIGNIN_TRACKED_KEYS;

/// Counts per key within the current window of each.
pub struct Attempts {
    limit: u32,
    window: Duration,
    counts: Mutex<HashMap<String, (Instant, u32)>>,
}

impl Attempts {
    pub fn new(limit: u32, window: Duration) -> Self {
        Attempts {
            limit,
            window,
            counts: Mutex::default(),
        }
    }

    /// Refused (with how long to wait) when `key` used up its window.
    pub fn check(&self, key: &str, now: Instant) -> Result<()> {
        let counts = self.counts.lock().expect("attempts lock");
        match counts.get(key) {
            Some((start, n)) if *n >= self.limit && now < *start + self.window => Err(Error::RateLimited {
                what: "attempts".into(),
                retry_after: *start + self.window - now,
            }),
            _ => Ok(()),
        }
    }

    /// Counts one attempt of `key`.
    pub fn hit(&self, key: &str, now: Instant) {
        let mut counts = self.counts.lock().expect("attempts lock");
        if counts.len() >= SIGNIN_TRACKED_KEYS {
            counts.retain(|_, (start, _)| now < *start + self.window);
        }
        let entry = counts.entry(key.to_owned()).or_insert((now, 0));
        if now >= entry.0 + self.window {
            *entry = (now, 0);
        }
        entry.1 += 1;
    }

    /// [`Self::check`], then [`Self::hit`].
    pub fn take(&self, key: &str, now: Instant) -> Result<()> {
        self.check(key, now)?;
        self.hit(key, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_refused_past_its_limit_until_its_window_ends() {
        let a = Attempts::new(2, Duration::from_mins(1));
        let t0 = Instant::now();
        a.take("ip", t0).unwrap();
        a.take("ip", t0).unwrap();
        let Err(Error::RateLimited { retry_after, .. }) = a.take("ip", t0 + Duration::from_secs(10)) else {
            panic!("third attempt allowed")
        };
        assert_eq!(retry_after, Duration::from_secs(50));
        a.take("other", t0).unwrap();
        a.take("ip", t0 + Duration::from_mins(1)).unwrap();
    }

    #[test]
    fn checking_does_not_count() {
        let a = Attempts::new(1, Duration::from_mins(1));
        let t0 = Instant::now();
        for _ in 0..3 {
            a.check("u", t0).unwrap();
        }
        a.hit("u", t0);
        assert!(a.check("u", t0).is_err());
    }
}
