//! The presence cluster task: the only code that awaits the cluster for presence, so
//! neither a connection loop nor the rooms' lock ever waits on the database. It
//! renews the lease every [`RENEW_EVERY`], writes this instance's viewers from the
//! rooms' outbox (latest state per (board, user), so a quick join and leave never land
//! reversed), applies other instances' room signals, and after each renewal (and on
//! `Reconnected`) replaces what signals said with a snapshot of the viewers table.
//! An instance killed without a goodbye thus leaves everywhere within the lease plus
//! one period (15 s + 5 s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::{Presence, ViewerKey};
use crate::proto::v1::Viewer;
use crate::store::cluster::{Cluster, RoomKind, RoomSignal};
use crate::store::postgres::lease::RENEW_EVERY;

/// How long a clean shutdown waits for the goodbye before giving up on it (the lease
/// then ends at its expiry).
const GOODBYE_WITHIN: Duration = Duration::from_secs(5);

/// Presence's handle on its cluster and its task.
pub(super) struct Link {
    cluster: Arc<dyn Cluster>,
    bells: Arc<Bells>,
    task: Mutex<Option<JoinHandle<()>>>,
}

/// What wakes the task besides its timer and the signals.
#[derive(Default)]
struct Bells {
    /// The outbox or the refresh list has something.
    work: Notify,
    /// Shut down: say goodbye and end.
    stop: Notify,
}

impl Link {
    pub(super) fn new(cluster: Arc<dyn Cluster>) -> Self {
        Link {
            cluster,
            bells: Arc::default(),
            task: Mutex::new(None),
        }
    }

    pub(super) fn wake(&self) {
        self.bells.work.notify_one();
    }

    pub(super) fn send_room(&self, board_id: &str, kind: RoomKind) {
        self.cluster.send_room(board_id, kind);
    }

    pub(super) async fn stop(&self) {
        let task = self.task.lock().expect("presence task lock").take();
        let Some(task) = task else { return };
        self.bells.stop.notify_one();
        let abort = task.abort_handle();
        if tokio::time::timeout(GOODBYE_WITHIN, task).await.is_err() {
            abort.abort();
            tracing::warn!("presence: the cluster goodbye took too long; this instance's viewers end with its lease");
        }
    }
}

/// Spawns the task of `presence`'s link. It holds the rooms weakly: dropping the
/// presence ends it.
pub(super) fn start(presence: &Arc<Presence>) {
    let Some(link) = &presence.link else { return };
    let worker = Worker {
        presence: Arc::downgrade(presence),
        cluster: link.cluster.clone(),
        told: HashMap::new(),
        leased: false,
        outage: false,
        failed_now: false,
    };
    let task = tokio::spawn(worker.run(link.bells.clone()));
    *link.task.lock().expect("presence task lock") = Some(task);
}

struct Worker {
    presence: Weak<Presence>,
    cluster: Arc<dyn Cluster>,
    /// What the cluster has of this instance's viewers, as far as it was told.
    told: HashMap<ViewerKey, Viewer>,
    /// A renewal succeeded: viewer rows can reference this instance's lease.
    leased: bool,
    /// The database failed and that was logged; logged again only once it is back.
    outage: bool,
    /// Something failed in the current period.
    failed_now: bool,
}

enum Wake {
    Stop,
    Tick,
    Signal(Option<RoomSignal>),
    Work,
}

impl Worker {
    async fn run(mut self, bells: Arc<Bells>) {
        let mut signals = self.cluster.rooms();
        let mut tick = tokio::time::interval(RENEW_EVERY);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let wake = tokio::select! {
                biased;
                () = bells.stop.notified() => Wake::Stop,
                _ = tick.tick() => Wake::Tick,
                signal = next_signal(&mut signals) => Wake::Signal(signal),
                () = bells.work.notified() => Wake::Work,
            };
            let Some(presence) = self.presence.upgrade() else {
                return;
            };
            match wake {
                Wake::Stop => {
                    self.goodbye().await;
                    return;
                }
                Wake::Tick => self.period(&presence).await,
                Wake::Signal(None) => signals = None,
                Wake::Signal(Some(signal)) => self.on_signal(&presence, signal).await,
                Wake::Work if self.leased => {
                    self.flush(&presence).await;
                    let boards = presence.take_refresh();
                    self.reconcile(&presence, boards).await;
                }
                // Before the first lease, viewer rows could not reference it: the
                // outbox waits for the renewal.
                Wake::Work => {}
            }
        }
    }

    /// A renewal, then what waited for it, then a snapshot of every known board.
    async fn period(&mut self, presence: &Presence) {
        self.failed_now = false;
        if self.renew(presence).await {
            presence.take_refresh();
            self.flush(presence).await;
            self.reconcile(presence, presence.known_boards()).await;
        }
        // Over only when a whole period went through.
        if self.outage && !self.failed_now {
            self.outage = false;
            tracing::info!("presence: the cluster's database answers again");
        }
    }

    async fn on_signal(&mut self, presence: &Presence, signal: RoomSignal) {
        if signal.kind == RoomKind::Reconnected {
            self.reconcile(presence, presence.known_boards()).await;
        } else if signal.from != self.cluster.instance_id() {
            presence.on_signal(signal);
        }
    }

    /// Renews the lease; whether this instance holds one now.
    async fn renew(&mut self, presence: &Presence) -> bool {
        match self.cluster.renew().await {
            Ok(ended) => {
                if ended {
                    // The lease's end took this instance's viewer rows with it.
                    self.told.clear();
                    presence.tell_all_again();
                }
                self.leased = true;
                true
            }
            Err(e) => {
                self.failed("renewing the lease", &e);
                false
            }
        }
    }

    /// Tells the cluster what changed in the outbox; on a failure the rest waits for
    /// the next period.
    async fn flush(&mut self, presence: &Presence) {
        let mut batch = presence.take_outbox().into_iter();
        while let Some((key, want)) = batch.next() {
            if let Err(e) = self.tell(&key, want.as_ref()).await {
                self.failed("writing a viewer", &e);
                presence.put_back(std::iter::once((key, want)).chain(batch));
                return;
            }
        }
    }

    /// Brings one viewer's row to `want`; the other instances hear of it once the row
    /// is written, so a snapshot they read after the signal agrees with it.
    async fn tell(&mut self, key: &ViewerKey, want: Option<&Viewer>) -> crate::store::Result<()> {
        let (board_id, user_id) = key;
        match (want, self.told.get(key)) {
            (Some(viewer), Some(told)) if viewer == told => {}
            (Some(viewer), _) => {
                self.cluster.add_viewer(board_id, viewer).await?;
                self.cluster.send_room(board_id, RoomKind::Joined(viewer.clone()));
                self.told.insert(key.clone(), viewer.clone());
            }
            (None, Some(told)) => {
                let name = told.name.clone();
                self.cluster.remove_viewer(board_id, user_id).await?;
                self.cluster.send_room(
                    board_id,
                    RoomKind::Left {
                        user_id: user_id.clone(),
                        name,
                    },
                );
                self.told.remove(key);
            }
            (None, None) => {}
        }
        Ok(())
    }

    async fn reconcile(&mut self, presence: &Presence, boards: Vec<String>) {
        if boards.is_empty() {
            return;
        }
        match self.cluster.remote_viewers(&boards).await {
            Ok(snapshot) => presence.reconcile(&boards, snapshot),
            // The next period reads every known board again.
            Err(e) => self.failed("reading remote viewers", &e),
        }
    }

    /// Ends the lease now, then tells the others its users left (after, so a
    /// snapshot they read on hearing it no longer has them).
    async fn goodbye(&mut self) {
        if let Err(e) = self.cluster.leave().await {
            tracing::warn!(error = %e, "presence: ending the lease failed; this instance's viewers end with it");
        }
        for ((board_id, user_id), viewer) in self.told.drain() {
            self.cluster.send_room(
                &board_id,
                RoomKind::Left {
                    user_id,
                    name: viewer.name,
                },
            );
        }
    }

    fn failed(&mut self, what: &str, e: &crate::store::Error) {
        self.failed_now = true;
        if !self.outage {
            self.outage = true;
            tracing::warn!(error = %e, "presence: {what} failed; retrying every {RENEW_EVERY:?}");
        }
    }
}

/// The next room signal; never, once the stream is gone (or was taken elsewhere).
async fn next_signal(signals: &mut Option<mpsc::Receiver<RoomSignal>>) -> Option<RoomSignal> {
    match signals {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
