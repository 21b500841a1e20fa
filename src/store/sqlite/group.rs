//! Group commit, the write path of a file database: the writer's connection, the
//! group its open transaction holds, how a write transaction joins, commits and rolls
//! back within it, and the task that commits it.
//!
//! Write transactions that run close together share one SQLite transaction. The first
//! opens it with `BEGIN IMMEDIATE`; each runs inside a `SAVEPOINT` of its own, so one
//! that fails or is dropped rolls back only its own work (`ROLLBACK TO`). Its commit
//! `RELEASE`s the savepoint, lets go of the writer's mutex, and waits until the group
//! is committed: only then does it return, so a caller never answers for, or
//! publishes, a change that is not in the WAL. The group's first commit spawns a
//! committer task that yields once, so that every task ready to run gets its turn (and
//! joins the group if it writes), then takes the mutex and commits. A task of its own,
//! so a member's cancellation cannot strand the group. Each commit costs a write of
//! every page it changed to the WAL, and a create changes about seven (the tasks
//! table, its three indexes, the event log, the board's seq): shared by a group, those
//! writes, and the WAL locks around them, are paid once per group instead of once per
//! write. If the group's `COMMIT` fails, every member's commit fails. Members see the
//! work of earlier members of their group, which commits or fails with theirs; readers
//! see none of it before the commit.

use rusqlite::Connection;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{Mutex, watch};

use super::checkpoint::WalShared;
use crate::metrics::Metrics;
use crate::store::{Error, Result};

/// A group's outcome, once it committed or failed: why it failed, if it did.
type Outcome = Option<std::result::Result<(), Failed>>;

/// Why a group did not commit, kept apart when it is the disk's doing (full,
/// read-only): then its members are told the database cannot be written, which clears
/// without a restart, and not that the store broke.
#[derive(Clone)]
enum Failed {
    Unwritable(Arc<str>),
    Other(Arc<str>),
}

/// The write connection and the group its open transaction holds, if any.
pub(super) struct Writer {
    pub(super) conn: Connection,
    group: Option<Group>,
    /// The generation the next group gets.
    next_generation: u64,
    /// Where commits are timed and their groups sized.
    pub(super) metrics: Arc<Metrics>,
}

/// Write transactions that share one SQLite transaction, each in a savepoint of its
/// own, committed together.
struct Group {
    generation: u64,
    /// The group's outcome, sent once, when it committed or failed.
    done: watch::Sender<Outcome>,
    /// Whether a member has committed, and so a committer task is on its way.
    committing: bool,
    /// Members whose savepoint was released into the group (what its COMMIT commits).
    released: u32,
}

impl Writer {
    pub(super) fn new(conn: Connection, metrics: Arc<Metrics>) -> Self {
        Writer {
            conn,
            group: None,
            next_generation: 0,
            metrics,
        }
    }

    /// The generation of the group a new write transaction joins: the open one, or
    /// a new one after `BEGIN IMMEDIATE`.
    fn join(&mut self) -> Result<u64> {
        if let Some(group) = &self.group {
            if !self.conn.is_autocommit() {
                return Ok(group.generation);
            }
            // SQLite rolled the transaction back by itself (it does after some errors).
            self.fail("SQLite rolled the transaction back");
        }
        if !self.conn.is_autocommit() {
            // Left open by a rollback that failed: try again before reuse.
            self.conn.execute_batch("ROLLBACK")?;
        }
        self.conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
        let generation = self.next_generation;
        self.next_generation += 1;
        self.group = Some(Group {
            generation,
            done: watch::channel(None).0,
            committing: false,
            released: 0,
        });
        Ok(generation)
    }

    /// Whether a write transaction begun now opens a new group (`BEGIN IMMEDIATE`).
    pub(super) fn opens_group(&self) -> bool {
        self.group.is_none() || self.conn.is_autocommit()
    }

    /// The open group, if it is generation `generation`.
    fn group(&mut self, generation: u64) -> Option<&mut Group> {
        self.group.as_mut().filter(|g| g.generation == generation)
    }

    /// Commits the open group, if there is one, and tells its members how it went.
    /// Only for a holder of the writer's mutex that is not a member: then every member
    /// of the open group has committed its part (one that had not would hold the mutex,
    /// or would have rolled the group back when dropped). Answers whether it committed.
    pub(super) fn commit_open_group(&mut self) -> bool {
        if self.group.is_none() {
            return false;
        }
        if self.conn.is_autocommit() {
            self.fail("SQLite rolled the transaction back");
            return false;
        }
        let started = Instant::now();
        if let Err(e) = self.conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])) {
            tracing::error!(error = %e, "SQLite group commit failed");
            let failed = match crate::store::error::unwritable(&e) {
                Some(why) => Failed::Unwritable(why.into()),
                None => Failed::Other(format!("commit failed: {e}").into()),
            };
            self.end_failed(failed);
            return false;
        }
        if let Some(group) = self.group.take() {
            self.metrics.store_commit(started.elapsed(), group.released);
            group.done.send_replace(Some(Ok(())));
        }
        true
    }

    /// Ends the open group without committing: rolls it back and tells its members.
    fn fail(&mut self, why: &str) {
        self.end_failed(Failed::Other(why.into()));
    }

    fn end_failed(&mut self, failed: Failed) {
        if let Some(group) = self.group.take() {
            if !self.conn.is_autocommit()
                && let Err(e) = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]))
            {
                tracing::error!(error = %e, "SQLite rollback failed");
            }
            group.done.send_replace(Some(Err(failed)));
        }
    }
}

/// What a write transaction in a group knows of it.
pub(super) struct Member {
    generation: u64,
    writer: Arc<Mutex<Writer>>,
}

impl Member {
    /// Starts a write transaction on `writer` (whose mutex the caller holds, as the
    /// transaction will until its commit): joins the open group, or opens one, and
    /// begins the member's savepoint.
    pub(super) fn join(writer: &mut Writer, mutex: Arc<Mutex<Writer>>) -> Result<Self> {
        let generation = writer.join()?;
        if let Err(e) = writer
            .conn
            .prepare_cached("SAVEPOINT member")
            .and_then(|mut s| s.execute([]))
        {
            if writer.group(generation).is_some_and(|g| !g.committing) {
                writer.fail("its first member could not begin");
            }
            return Err(e.into());
        }
        Ok(Member {
            generation,
            writer: mutex,
        })
    }

    /// The first half of a member's commit, under the writer's mutex: folds its
    /// savepoint into the group's transaction and sees that a committer is on its way.
    /// Answers what to wait on for the group's outcome once the mutex is let go. On an
    /// error the member is still one: dropping it rolls its savepoint back.
    pub(super) fn release(&self, writer: &mut Writer, wal: Option<&Arc<WalShared>>) -> Result<Committing> {
        writer
            .conn
            .prepare_cached("RELEASE member")
            .and_then(|mut s| s.execute([]))?;
        let Some(group) = writer.group(self.generation) else {
            return Err(Error::GroupEnded {
                when: "before its commit",
            });
        };
        let done = group.done.subscribe();
        group.released += 1;
        if !group.committing {
            group.committing = true;
            tokio::spawn(commit_group(self.writer.clone(), self.generation, wal.cloned()));
        }
        Ok(Committing(done))
    }

    /// A member dropped without committing, with the writer's mutex still held: rolls
    /// back its savepoint, or the whole group if it holds nothing else.
    pub(super) fn roll_back(self, writer: &mut Writer) {
        let Some(group) = writer.group(self.generation) else {
            return; // the group already failed, and rolled back
        };
        if !group.committing {
            // No member has committed: the group's transaction holds only this one's work.
            writer.fail("its only member rolled back");
        } else if writer.conn.is_autocommit() {
            writer.fail("SQLite rolled the transaction back");
        } else if let Err(e) = writer
            .conn
            .prepare_cached("ROLLBACK TO member")
            .and_then(|mut s| s.execute([]))
            .and_then(|_| writer.conn.prepare_cached("RELEASE member")?.execute([]))
        {
            tracing::error!(error = %e, "SQLite rollback to a savepoint failed");
            writer.fail("a member's rollback failed");
        }
    }
}

/// A member's commit waiting for its group's.
pub(super) struct Committing(watch::Receiver<Outcome>);

impl Committing {
    /// Waits until the group committed (or failed); only then is the member's work
    /// in the WAL (or gone).
    pub(super) async fn done(mut self) -> Result<()> {
        let outcome = self
            .0
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::GroupEnded { when: "unannounced" })?
            .clone();
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(Failed::Unwritable(why))) => Err(Error::Unwritable { why }),
            Some(Err(Failed::Other(why))) => Err(Error::GroupFailed(why)),
            None => unreachable!("waited for an outcome"),
        }
    }
}

/// Commits group `generation` once every write transaction that was ready to run has
/// had its turn. A task of its own, so that no member's cancellation strands the group.
async fn commit_group(writer: Arc<Mutex<Writer>>, generation: u64, wal: Option<Arc<WalShared>>) {
    // Let every task that is ready run first: those that write join the group.
    tokio::task::yield_now().await;
    let mut w = writer.lock().await;
    if w.group(generation).is_none() {
        return; // committed by the checkpointer, or failed; its members were told
    }
    if w.commit_open_group() {
        drop(w);
        if let Some(wal) = wal {
            wal.committed();
        }
    }
}
