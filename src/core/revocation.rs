//! Ending open streams when their credential ends. Every stream opened with a
//! credential (a session or a personal token) watches it here; signing out or revoking
//! a token fires the watch, and each stream ends with its transport's final frame
//! (SSE `event: revoked`, WebSocket close 4401, gRPC UNAUTHENTICATED, a long poll 401).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;

use tokio::sync::watch;

/// What a revoked stream is told.
pub const REVOKED: &str = "the session or token this stream was opened with has ended (signed out or revoked)";

/// Recently revoked credential ids kept, so a stream that authenticated just before a
/// revocation but starts watching just after it still ends. The window is the time
/// between authenticating a request and opening its stream, so a few thousand is
/// ample.
const RECENTLY_REVOKED: usize = 4096;

/// Credential id → the watch its open streams hold.
#[derive(Default)]
pub struct Revocations {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    watches: HashMap<String, watch::Sender<bool>>,
    recent: HashSet<String>,
    order: VecDeque<String>,
}

impl Revocations {
    /// A watch that turns true when `credential_id` is revoked (already true if it was
    /// revoked lately).
    pub fn watch(&self, credential_id: &str) -> watch::Receiver<bool> {
        let mut inner = self.inner.lock().expect("revocations lock");
        if inner.recent.contains(credential_id) {
            return watch::channel(true).1;
        }
        // Credentials whose streams have all ended are forgotten.
        inner.watches.retain(|_, tx| tx.receiver_count() > 0);
        inner
            .watches
            .entry(credential_id.to_owned())
            .or_insert_with(|| watch::channel(false).0)
            .subscribe()
    }

    /// How many open streams watch `credential_id`.
    pub fn watching(&self, credential_id: &str) -> usize {
        let inner = self.inner.lock().expect("revocations lock");
        inner
            .watches
            .get(credential_id)
            .map_or(0, watch::Sender::receiver_count)
    }

    /// Ends every stream opened with `credential_id`.
    pub fn revoke(&self, credential_id: &str) {
        let mut inner = self.inner.lock().expect("revocations lock");
        if let Some(tx) = inner.watches.remove(credential_id) {
            tx.send_replace(true);
        }
        if inner.recent.insert(credential_id.to_owned()) {
            inner.order.push_back(credential_id.to_owned());
        }
        while inner.order.len() > RECENTLY_REVOKED {
            if let Some(old) = inner.order.pop_front() {
                inner.recent.remove(&old);
            }
        }
    }
}

/// Resolves once the watched credential is revoked; never without a watch.
pub async fn revoked(watch: &mut Option<watch::Receiver<bool>>) {
    match watch {
        Some(rx) => {
            if rx.wait_for(|revoked| *revoked).await.is_err() {
                std::future::pending::<()>().await;
            }
        }
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn revoking_wakes_every_watch_of_that_credential_only() {
        let r = Revocations::default();
        let (mut a, mut b, mut other) = (Some(r.watch("c1")), Some(r.watch("c1")), Some(r.watch("c2")));
        r.revoke("c1");
        revoked(&mut a).await;
        revoked(&mut b).await;
        let still = tokio::time::timeout(std::time::Duration::from_millis(20), revoked(&mut other)).await;
        assert!(still.is_err(), "another credential's stream goes on");
        // A stream that starts watching just after the revocation ends at once.
        let mut late = Some(r.watch("c1"));
        revoked(&mut late).await;
        assert_eq!(r.watching("c2"), 1);
    }

    #[test]
    fn only_the_latest_revocations_are_remembered() {
        let r = Revocations::default();
        for i in 0..=RECENTLY_REVOKED {
            r.revoke(&i.to_string());
        }
        assert!(!*r.watch("0").borrow(), "the oldest is forgotten");
        assert!(*r.watch("1").borrow());
    }

    #[test]
    fn ended_watches_are_forgotten() {
        let r = Revocations::default();
        drop(r.watch("gone"));
        let _kept = r.watch("kept");
        assert_eq!(r.inner.lock().unwrap().watches.len(), 1);
    }
}
