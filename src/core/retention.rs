//! Retention: how long request ids and a board's log are kept, and the background
//! sweeper that forgets what is past that, a small batch per transaction.
//!
//! A request id older than [`Retention::idempotency_ttl`] is forgotten: a retry after
//! it is a new request. Lookups apply the window themselves (`idempotency.rs`), so
//! what a client sees never depends on when the sweeper last ran; the sweeper only
//! reclaims the rows.
//!
//! A board's log is compacted below a horizon: events older than
//! [`Retention::log_max_age`], except the board's newest [`Retention::log_keep`], are
//! deleted and the horizon recorded with them (`Tx::compact_log`). A resume point
//! below the horizon gets the same `reset` as one ahead of the board (`stream.rs`,
//! `live.rs`). Board state is read from its tables, never replayed from the log, so
//! compaction changes no read but the log's own (streams, polls, activity).
//!
//! Both run in batches of [`BATCH`] rows, one short write transaction each with a
//! [`PAUSE`] between, so writers queue behind one batch at most.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{self, Store};
use crate::time;

/// Rows deleted per transaction.
pub const BATCH: u32 = 1000;
/// The sweeper's rest between two batches: the writers' turn.
pub const PAUSE: Duration = Duration::from_millis(5);

/// What is kept, and how often the rest is swept away.
#[derive(Clone, Debug)]
pub struct Retention {
    /// How long a request id stands for its first answer.
    pub idempotency_ttl: Duration,
    /// Events older than this may be compacted; `None` keeps every log for ever.
    pub log_max_age: Option<Duration>,
    /// The newest events of each board that compaction always keeps.
    pub log_keep: u64,
    /// How often the sweeper runs.
    pub sweep: Duration,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            idempotency_ttl: Duration::from_hours(24),
            log_max_age: Some(Duration::from_hours(30 * 24)),
            log_keep: 1000,
            sweep: Duration::from_mins(1),
        }
    }
}

impl Retention {
    /// Request ids remembered before this (Unix ms) are forgotten.
    pub fn requests_expire_before(&self, now_ms: i64) -> i64 {
        now_ms.saturating_sub(millis(self.idempotency_ttl))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// What one sweep removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub requests: u64,
    pub events: u64,
}

/// The running sweeper; dropping it (with its `Core`) ends the task.
pub(super) struct SweeperTask(tokio::task::JoinHandle<()>);

impl Drop for SweeperTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the sweeper on the current runtime: its first sweep one interval from now.
pub(super) fn spawn(store: Arc<dyn Store>, policy: Retention) -> SweeperTask {
    SweeperTask(tokio::spawn(async move {
        let every = policy.sweep.max(Duration::from_millis(1));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticks.tick().await;
            match sweep(store.as_ref(), &policy).await {
                Ok(swept) => {
                    if failing {
                        tracing::info!("the retention sweeper runs again");
                    }
                    failing = false;
                    if swept != Swept::default() {
                        tracing::debug!(requests = swept.requests, events = swept.events, "retention sweep");
                    }
                }
                // Logged once per outage; the next tick tries again.
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "the retention sweeper failed; it retries at its next run");
                }
                Err(e) => tracing::debug!(error = %e, "the retention sweeper still fails"),
            }
        }
    }))
}

/// One sweep: expired request ids, then every board's log past the policy.
pub async fn sweep(store: &dyn Store, policy: &Retention) -> store::Result<Swept> {
    Ok(Swept {
        requests: expire_requests(store, policy).await?,
        events: compact_logs(store, policy).await?,
    })
}

async fn expire_requests(store: &dyn Store, policy: &Retention) -> store::Result<u64> {
    let before = policy.requests_expire_before(time::now_millis());
    let mut total = 0;
    loop {
        let mut tx = store.write().await?;
        let gone = tx.expire_requests(before, BATCH).await?;
        tx.commit().await?;
        total += gone;
        if gone < u64::from(BATCH) {
            return Ok(total);
        }
        tokio::time::sleep(PAUSE).await;
    }
}

async fn compact_logs(store: &dyn Store, policy: &Retention) -> store::Result<u64> {
    let Some(age) = policy.log_max_age else {
        return Ok(0);
    };
    let since = time::now_millis().saturating_sub(millis(age));
    let boards = store.read().await?.compactable_boards(policy.log_keep).await?;
    let mut total = 0;
    for (board_id, bounds) in boards {
        let mut horizon = bounds.compacted_through;
        let newest_kept = bounds.last_seq.saturating_sub(policy.log_keep);
        // Events are appended in time order: everything below the first young one is old.
        let young = store.read().await?.first_event_since(&board_id, horizon, since).await?;
        let target = young.map_or(newest_kept, |seq| newest_kept.min(seq - 1));
        while horizon < target {
            let through = target.min(horizon + u64::from(BATCH));
            let mut tx = store.write().await?;
            total += tx.compact_log(&board_id, through).await?;
            tx.commit().await?;
            horizon = through;
            tokio::time::sleep(PAUSE).await;
        }
    }
    Ok(total)
}
