//! The feed: other instances' events, brought into this instance's bus. The log is the
//! bus between instances: an instance never receives another's events, only hints
//! that a board's log grew ([`Hint`]), and reads the events from the log like any
//! subscriber catching up. Hints may be lost, so every [`SWEEP`] (and after the hint
//! connection was lost) every board followed here is compared with the log.
//!
//! One task does all of it, in order, so two fetches of one board never race and a
//! board's events reach its ring in seq order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::bus::Bus;
use crate::metrics::Metrics;
use crate::store::cluster::Hint;
use crate::store::{self, Store};

/// How often every followed board is compared with the log: the longest an event
/// whose hint was lost waits.
pub const SWEEP: Duration = Duration::from_millis(250);
/// Events read from the log per query.
const PAGE: u32 = 256;

/// The running feed; dropping it (with its `Core`) ends the task.
pub(super) struct FeedTask(tokio::task::JoinHandle<()>);

impl Drop for FeedTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the feed on the current runtime, sweeping every `sweep`.
pub(super) fn spawn(
    store: Arc<dyn Store>,
    bus: Arc<Bus>,
    hints: mpsc::Receiver<Hint>,
    sweep: Duration,
    metrics: Arc<Metrics>,
) -> FeedTask {
    let feed = Feed {
        store,
        bus,
        failing: false,
        metrics,
    };
    FeedTask(tokio::spawn(run(feed, hints, sweep)))
}

/// The feed task: hints as they come, and a sweep every `sweep`, until aborted.
async fn run(mut feed: Feed, hints: mpsc::Receiver<Hint>, sweep: Duration) {
    let mut hints = Some(hints);
    // The first sweep one interval from now: at start nothing is followed yet.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + sweep, sweep);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let next = async {
            match hints.as_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            hint = next => {
                if let (Some(hint), Some(rx)) = (hint, hints.as_mut()) {
                    feed.hints(hint, rx).await;
                } else {
                    tracing::warn!("the cluster's hint channel closed: other instances' events arrive by sweep only");
                    hints = None;
                }
            }
            _ = ticks.tick() => feed.sweep().await,
        }
    }
}

/// A followed board whose log goes past what its ring has.
struct Behind {
    board_id: String,
    /// What the ring has ([`Bus::published`]).
    after: u64,
    /// Where the log is known to reach.
    to: u64,
}

struct Feed {
    store: Arc<dyn Store>,
    bus: Arc<Bus>,
    /// Reading the log failed last time: logged once, retried at the next sweep.
    failing: bool,
    /// Counts the boards a sweep caught up.
    metrics: Arc<Metrics>,
}

impl Feed {
    /// `first` and whatever other hints are already waiting, coalesced per board.
    async fn hints(&mut self, first: Hint, rx: &mut mpsc::Receiver<Hint>) {
        let mut boards: HashMap<String, u64> = HashMap::new();
        let mut sweep = false;
        let mut hint = Some(first);
        while let Some(h) = hint {
            match h {
                Hint::Seq { board_id, seq } => {
                    let known = boards.entry(board_id).or_default();
                    *known = (*known).max(seq);
                }
                Hint::Reconnected => sweep = true,
            }
            hint = rx.try_recv().ok();
        }
        if sweep {
            self.sweep().await;
            return;
        }
        let behind: Vec<Behind> = boards
            .into_iter()
            .filter_map(|(board_id, seq)| {
                let after = self.bus.published(&board_id)?;
                (seq > after).then_some(Behind {
                    board_id,
                    after,
                    to: seq,
                })
            })
            .collect();
        let outcome = self.catch_up(behind).await;
        self.report(outcome);
    }

    /// Every followed board against the log.
    async fn sweep(&mut self) {
        let followed: HashMap<String, u64> = self.bus.followed().into_iter().collect();
        if followed.is_empty() {
            return;
        }
        let outcome = async {
            let ids: Vec<String> = followed.keys().cloned().collect();
            let last = self.store.read().await?.last_seqs(&ids).await?;
            let behind = last
                .into_iter()
                .filter_map(|(board_id, last)| {
                    let after = *followed.get(&board_id)?;
                    (last > after).then_some(Behind {
                        board_id,
                        after,
                        to: last,
                    })
                })
                .collect::<Vec<_>>();
            // A board behind at a sweep is one whose hint was lost or is late.
            self.metrics.sweep_caught_up(behind.len() as u64);
            self.catch_up(behind).await
        }
        .await;
        self.report(outcome);
    }

    /// Publishes each board's log after `after`, a page at a time, in order. A gap
    /// wider than half the ring would make every subscriber lag out (and its stream
    /// end) as it is published: then only its end is, and each subscriber reads the
    /// gap from the log at its own pace, as it does for any event that is not the
    /// next.
    async fn catch_up(&self, behind: Vec<Behind>) -> store::Result<()> {
        if behind.is_empty() {
            return Ok(());
        }
        let widest = u64::try_from(self.bus.capacity() / 2).unwrap_or(u64::MAX);
        let mut tx = self.store.read().await?;
        for Behind {
            board_id,
            mut after,
            to,
        } in behind
        {
            if to - after > widest {
                after = to - 1;
            }
            loop {
                let events = tx.events_after(&board_id, after, PAGE).await?;
                let full = events.len() == PAGE as usize;
                for event in events {
                    after = event.seq;
                    self.bus.publish(event);
                }
                if !full {
                    break;
                }
            }
        }
        Ok(())
    }

    fn report(&mut self, outcome: store::Result<()>) {
        match outcome {
            Ok(()) if self.failing => {
                self.failing = false;
                tracing::info!("the feed reads the log again");
            }
            Ok(()) => {}
            Err(e) if !self.failing => {
                self.failing = true;
                tracing::warn!(error = %e, "the feed cannot read the log: other instances' events wait for the next sweep");
            }
            Err(e) => tracing::debug!(error = %e, "the feed still cannot read the log"),
        }
    }
}

#[cfg(test)]
mod tests;
