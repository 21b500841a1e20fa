//! The server's life as every part sees it ([`Phase`]: serving, draining, ending,
//! over), the work that outlives a connection and must be waited for ([`Hold`]), and
//! readiness: the checks `/readyz` and gRPC health answer with.
//!
//! A shutdown is a sequence of phases, each a promise to the parts watching: while
//! `Draining` everything still serves but readiness is false (a balancer polling
//! `/readyz` stops sending traffic); at `Ending` the listener has stopped accepting
//! and every stream ends with its transport's last frame; at `Over` the drain timeout
//! has passed and whatever is still open is dropped.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Core;
use crate::proto::v1::{ReadinessCheck, ReadinessResponse};

/// Longest the store probe may take: a database slower than this to say `SELECT 1`
/// is in no state to take traffic.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Where the server is in its life; only ever moves forward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Serving,
    /// Shutting down but still serving: not ready.
    Draining,
    /// No longer accepting; streams are told to end.
    Ending,
    /// The drain timeout passed: what is left is dropped.
    Over,
}

pub struct Lifecycle {
    phase: watch::Sender<Phase>,
    /// How many [`Hold`]s are alive.
    held: Arc<watch::Sender<usize>>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            phase: watch::Sender::new(Phase::Serving),
            held: Arc::new(watch::Sender::new(0)),
        }
    }
}

impl Lifecycle {
    pub fn phase(&self) -> watch::Receiver<Phase> {
        self.phase.subscribe()
    }

    pub fn current(&self) -> Phase {
        *self.phase.borrow()
    }

    /// Moves to `next` if that is forward; a shutdown's steps may race a second signal.
    pub fn advance(&self, next: Phase) {
        self.phase.send_if_modified(|phase| {
            let forward = next > *phase;
            if forward {
                *phase = next;
            }
            forward
        });
    }

    /// Work the listener does not see (a WebSocket session runs on after its HTTP
    /// connection handed it the socket) that the drain must wait for.
    pub fn hold(&self) -> Hold {
        self.held.send_modify(|n| *n += 1);
        Hold {
            held: self.held.clone(),
            phase: self.phase(),
        }
    }

    /// Resolves once no [`Hold`] is alive.
    pub async fn released(&self) {
        // The sender is ours: the wait cannot fail.
        let _ = self.held.subscribe().wait_for(|n| *n == 0).await;
    }
}

/// Why a request could not be read to its end: the server stopped while it was still
/// arriving (it never reached a rule, so nothing of it was applied).
#[derive(Debug, thiserror::Error)]
#[error("the server is shutting down and the request had not fully arrived; send it again")]
pub struct ShuttingDown;

/// One piece of held work; released when dropped.
pub struct Hold {
    held: Arc<watch::Sender<usize>>,
    phase: watch::Receiver<Phase>,
}

impl Hold {
    /// Runs `work` to its end, or drops it once the phase is [`Phase::Over`].
    pub async fn bounded<F: Future>(mut self, work: F) -> Option<F::Output> {
        tokio::select! {
            out = work => Some(out),
            () = reached(&mut self.phase, Phase::Over) => None,
        }
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.held.send_modify(|n| *n -= 1);
    }
}

/// Resolves once the phase is `at` or later (never, if the lifecycle is gone).
pub async fn reached(phase: &mut watch::Receiver<Phase>, at: Phase) {
    if phase.wait_for(|p| *p >= at).await.is_err() {
        std::future::pending::<()>().await;
    }
}

impl Core {
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.lifecycle
    }

    /// Whether this instance should get new traffic: the store answers a probe within
    /// [`PROBE_TIMEOUT`], live delivery runs, and the server is not shutting down.
    pub async fn readiness(&self) -> ReadinessResponse {
        let store = match tokio::time::timeout(PROBE_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => None,
            Ok(Err(e)) => {
                tracing::debug!(error = %e, "readiness: the store probe failed");
                Some("the database did not answer the probe".to_owned())
            }
            Err(_) => Some(format!(
                "the database did not answer the probe within {} ms",
                PROBE_TIMEOUT.as_millis()
            )),
        };
        let bus = (!self.bus.is_running()).then(|| "live delivery (the fan-out thread) has stopped".to_owned());
        let serving =
            (self.lifecycle.current() != Phase::Serving).then(|| "the server is draining for shutdown".to_owned());
        let checks: Vec<ReadinessCheck> = [("store", store), ("bus", bus), ("serving", serving)]
            .into_iter()
            .map(|(name, failed)| ReadinessCheck {
                name: name.to_owned(),
                ok: failed.is_none(),
                detail: failed.unwrap_or_default(),
            })
            .collect();
        ReadinessResponse {
            ready: checks.iter().all(|c| c.ok),
            checks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_phase_only_moves_forward_and_holds_are_counted() {
        let life = Lifecycle::default();
        life.advance(Phase::Ending);
        life.advance(Phase::Draining);
        assert_eq!(life.current(), Phase::Ending);
        let hold = life.hold();
        drop(life.hold());
        // Work that never ends is dropped once the drain is over.
        let (out, ()) = tokio::join!(hold.bounded(std::future::pending::<()>()), async {
            life.advance(Phase::Over);
        });
        assert_eq!(out, None);
        tokio::time::timeout(Duration::from_secs(1), life.released())
            .await
            .expect("every hold released");
    }
}
