//! Caps on open connections, counted in the accept loop: all of them
//! (`--max-connections`) and those of one client address (`--max-connections-per-ip`).
//! An admitted connection holds a [`Slot`] until it ends. One over a cap is answered
//! `503` with a JSON error and `Connection: close`, written here without hyper (the
//! refusal must cost less than serving), and then closed; an HTTP/2 client reads that
//! as a broken preface and fails the same way.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use super::listener::StallGuard;
use crate::core::Error;

/// Refusals being written at once; past that a refused connection is dropped
/// unanswered, so a flood of them cannot make the server hold more sockets.
const REFUSALS_AT_ONCE: usize = 256;
/// How long a refused connection is kept to read what the client sent (so closing
/// it does not reset the answer away) before it is dropped.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);
/// At most one warning about refused connections per this interval.
const WARN_EVERY_MS: u64 = 10_000;

pub(super) struct Caps {
    max: usize,
    per_ip: usize,
    /// Open connections: in total and per address (an address leaves the map at 0).
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
    refusing: Arc<Semaphore>,
    refused_since_warning: AtomicU64,
    warned_at_ms: AtomicU64,
}

/// One admitted connection; dropping it frees its place.
pub(super) struct Slot {
    caps: Arc<Caps>,
    ip: IpAddr,
}

impl Caps {
    /// 0 turns a cap off.
    pub(super) fn new(max: usize, per_ip: usize) -> Arc<Self> {
        Arc::new(Caps {
            max: if max == 0 { usize::MAX } else { max },
            per_ip: if per_ip == 0 { usize::MAX } else { per_ip },
            open: Mutex::default(),
            refusing: Arc::new(Semaphore::new(REFUSALS_AT_ONCE)),
            refused_since_warning: AtomicU64::new(0),
            warned_at_ms: AtomicU64::new(0),
        })
    }

    /// A place for a connection from `ip`, or the error its refusal says.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Error> {
        let mut open = self.open.lock().expect("connection caps lock");
        let (total, per_ip) = &mut *open;
        if *total >= self.max {
            return Err(Error::Unavailable(format!(
                "too many open connections: the server holds at most {}; try again later",
                self.max
            )));
        }
        let mine = per_ip.entry(ip).or_default();
        if *mine >= self.per_ip {
            return Err(Error::Unavailable(format!(
                "too many open connections from your address: at most {}; close one first",
                self.per_ip
            )));
        }
        *mine += 1;
        *total += 1;
        Ok(Slot { caps: self.clone(), ip })
    }

    /// Answers `io` with `why` and closes it, off the accept loop.
    pub(super) fn refuse(&self, mut io: StallGuard, ip: IpAddr, why: &Error) {
        self.warn(ip, why);
        let Ok(permit) = self.refusing.clone().try_acquire_owned() else {
            return;
        };
        let answer = refusal(why);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(REFUSAL_LINGER, async {
                if io.write_all(&answer).await.is_ok() && io.shutdown().await.is_ok() {
                    let mut sink = [0u8; 4096];
                    while matches!(io.read(&mut sink).await, Ok(n) if n > 0) {}
                }
            })
            .await;
            drop(permit);
        });
    }

    fn warn(&self, ip: IpAddr, why: &Error) {
        let refused = self.refused_since_warning.fetch_add(1, Ordering::Relaxed) + 1;
        let now = u64::try_from(crate::core::time::now_millis()).unwrap_or(0);
        let last = self.warned_at_ms.load(Ordering::Relaxed);
        if now.saturating_sub(last) >= WARN_EVERY_MS
            && self
                .warned_at_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.refused_since_warning.store(0, Ordering::Relaxed);
            tracing::warn!(%ip, refused, reason = %why, "refusing connections over the cap");
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.caps.open.lock().expect("connection caps lock");
        let (total, per_ip) = &mut *open;
        *total -= 1;
        if let Some(n) = per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                per_ip.remove(&self.ip);
            }
        }
    }
}

/// The whole HTTP/1.1 answer of a refused connection: 503, the JSON error body.
fn refusal(why: &Error) -> Vec<u8> {
    let body = serde_json::to_vec(&crate::wire::error::body(why)).unwrap_or_default();
    let mut answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         retry-after: 1\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_count_in_total_and_per_address_and_free_on_drop() {
        let caps = Caps::new(3, 2);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let a1 = caps.admit(a).unwrap();
        let _a2 = caps.admit(a).unwrap();
        let e = caps.admit(a).err().unwrap();
        assert!(e.to_string().contains("from your address: at most 2"), "{e}");
        let _b1 = caps.admit(b).unwrap();
        let e = caps.admit(b).err().unwrap();
        assert!(e.to_string().contains("the server holds at most 3"), "{e}");
        drop(a1);
        caps.admit(b).unwrap();
        assert!(Caps::new(0, 0).admit(a).is_ok());
    }
}
