//! How fast one user, or one client address, may change boards and open streams:
//! token buckets (governor's GCRA) keyed by user id and by address. Every mutation
//! passes [`Rates::mutation`] in `Core::begin`, every stream open [`Rates::stream`],
//! so the limit is the same on REST, gRPC and WebSocket.

use std::hash::Hash;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{Actor, Error, Result};

/// Keys (users, addresses) a rate limiter holds before it drops those whose bucket
/// is full again (they would start fresh anyway), bounding its memory.
pub const RATE_TRACKED_KEYS: usize = 10_000;

/// The rate limits core applies, each a sustained rate per second with bursts of
/// twice that; 0 turns one off. The server sets them from the `--rate-*` flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// Changes (every mutation, on any transport) per user.
    pub mutations_per_user: u32,
    /// Changes per client address, whoever makes them.
    pub mutations_per_ip: u32,
    /// Streams opened (SSE, WebSocket joins, gRPC Subscribe, long polls) per user.
    pub streams_per_user: u32,
    /// Streams opened per client address.
    pub streams_per_ip: u32,
}

/// One limit: a bucket per key, `None` when the limit is off.
struct Keyed<K: Hash + Eq + Clone> {
    per_sec: u32,
    limiter: DefaultKeyedRateLimiter<K>,
    /// Checks since the last look at how many keys are tracked.
    checks: AtomicU32,
}

impl<K: Hash + Eq + Clone> Keyed<K> {
    fn new(per_sec: u32) -> Option<Self> {
        let rate = NonZeroU32::new(per_sec)?;
        let burst = rate.saturating_mul(NonZeroU32::MIN.saturating_add(1));
        Some(Keyed {
            per_sec,
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            checks: AtomicU32::new(0),
        })
    }

    /// Takes a token of `key`'s bucket, or says how long until one is there.
    fn take(&self, key: &K, what: &str, whose: &str) -> Result<()> {
        // Now and then, not on every call: `len` visits every shard.
        if self.checks.fetch_add(1, Ordering::Relaxed).is_multiple_of(1024) && self.limiter.len() > RATE_TRACKED_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter.check_key(key).map_err(|not_until| Error::RateLimited {
            what: format!("{what} by {whose} (at most {} per second)", self.per_sec),
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }
}

/// Every rate limit core applies.
pub struct Rates {
    mutations_per_user: Option<Keyed<String>>,
    mutations_per_ip: Option<Keyed<IpAddr>>,
    streams_per_user: Option<Keyed<String>>,
    streams_per_ip: Option<Keyed<IpAddr>>,
}

impl Rates {
    pub fn new(limits: RateLimits) -> Self {
        Rates {
            mutations_per_user: Keyed::new(limits.mutations_per_user),
            mutations_per_ip: Keyed::new(limits.mutations_per_ip),
            streams_per_user: Keyed::new(limits.streams_per_user),
            streams_per_ip: Keyed::new(limits.streams_per_ip),
        }
    }

    /// One change by `actor`: refused when the user's or the address's bucket is empty.
    pub fn mutation(&self, actor: &Actor) -> Result<()> {
        take(
            self.mutations_per_user.as_ref(),
            self.mutations_per_ip.as_ref(),
            actor,
            "changes",
        )
    }

    /// One stream opened by `actor`.
    pub fn stream(&self, actor: &Actor) -> Result<()> {
        take(
            self.streams_per_user.as_ref(),
            self.streams_per_ip.as_ref(),
            actor,
            "stream opens",
        )
    }
}

fn take(per_user: Option<&Keyed<String>>, per_ip: Option<&Keyed<IpAddr>>, actor: &Actor, what: &str) -> Result<()> {
    // The address first: a user refused for its address keeps its own tokens.
    if let (Some(limit), Some(ip)) = (per_ip, actor.client_ip) {
        limit.take(&ip, what, &format!("address {ip}"))?;
    }
    if let Some(limit) = per_user {
        limit.take(&actor.user.id, what, &format!("user `{}`", actor.user.id))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: &str, ip: [u8; 4]) -> Actor {
        Actor {
            client_ip: Some(IpAddr::from(ip)),
            ..Actor::for_tests(id, id)
        }
    }

    #[test]
    fn a_user_gets_twice_its_rate_as_a_burst_then_is_told_to_wait() {
        let rates = Rates::new(RateLimits {
            mutations_per_user: 5,
            ..RateLimits::default()
        });
        let alice = actor("alice", [10, 0, 0, 1]);
        for _ in 0..10 {
            rates.mutation(&alice).unwrap();
        }
        let Err(Error::RateLimited { retry_after, what }) = rates.mutation(&alice) else {
            panic!("the 11th change passed")
        };
        assert!(retry_after > std::time::Duration::ZERO && retry_after <= std::time::Duration::from_millis(200));
        assert_eq!(what, "changes by user `alice` (at most 5 per second)");
        rates.mutation(&actor("bob", [10, 0, 0, 1])).unwrap();
        rates.stream(&alice).unwrap();
    }

    #[test]
    fn an_address_is_limited_whoever_uses_it() {
        let rates = Rates::new(RateLimits {
            streams_per_ip: 1,
            ..RateLimits::default()
        });
        rates.stream(&actor("a", [10, 0, 0, 1])).unwrap();
        rates.stream(&actor("b", [10, 0, 0, 1])).unwrap();
        let e = rates.stream(&actor("c", [10, 0, 0, 1])).unwrap_err();
        assert_eq!(
            e.to_string().split(':').next(),
            Some("too many stream opens by address 10.0.0.1 (at most 1 per second)")
        );
        rates.stream(&actor("c", [10, 0, 0, 2])).unwrap();
    }
}
