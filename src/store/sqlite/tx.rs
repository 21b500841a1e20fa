//! One transaction's life: the connection it holds (the writer, or a lent reader),
//! how it begins, commits, and rolls back when dropped without a commit.

use rusqlite::Connection;
use std::sync::Arc;
use tokio::sync::OwnedMutexGuard;

use super::checkpoint::WalShared;
use super::group::{Member, Writer};
use super::readers::Lent;
use crate::store::{Error, Result, Tx};

pub(super) enum Conn {
    /// The writer (or the one `:memory:` connection), held for the transaction; taken
    /// by a group member's commit.
    Writer(Option<OwnedMutexGuard<Writer>>),
    Reader(Lent),
}

pub(super) struct SqliteTx {
    conn: Conn,
    /// Told of each commit, for the checkpointer; `None` for reads and `:memory:`.
    wal: Option<Arc<WalShared>>,
    /// Set for a write transaction that is a member of a group.
    member: Option<Member>,
}

impl SqliteTx {
    /// A transaction of its own on `conn` (a read, or a write on `:memory:`).
    pub(super) fn begin(conn: Conn, begin: &str, wal: Option<Arc<WalShared>>) -> Result<Box<dyn Tx>> {
        let tx = SqliteTx {
            conn,
            wal,
            member: None,
        };
        let db = tx.conn();
        if !db.is_autocommit() {
            // Left open by a transaction whose rollback failed: try again before reuse.
            db.execute_batch("ROLLBACK")?;
        }
        db.prepare_cached(begin)?.execute([])?;
        Ok(Box::new(tx))
    }

    /// A write transaction in a group, which [`Member::join`] began on `writer`.
    pub(super) fn member(writer: OwnedMutexGuard<Writer>, wal: Option<Arc<WalShared>>, member: Member) -> Self {
        SqliteTx {
            conn: Conn::Writer(Some(writer)),
            wal,
            member: Some(member),
        }
    }

    /// The connection, for the statements of an open transaction. One SQLite rolled
    /// back by itself (it does after some errors) is not used further: each statement
    /// would commit on its own.
    pub(super) fn db(&self) -> Result<&Connection> {
        let db = self.conn();
        if db.is_autocommit() {
            return Err(Error::RolledBack);
        }
        Ok(db)
    }

    fn conn(&self) -> &Connection {
        match &self.conn {
            Conn::Writer(guard) => &guard.as_ref().expect("the writer is held until commit").conn,
            Conn::Reader(lent) => lent.conn(),
        }
    }

    /// [`Tx::commit`]: a member's, or a transaction's of its own.
    pub(super) async fn commit_tx(mut self: Box<Self>) -> Result<()> {
        if let Some(member) = self.member.take() {
            return self.commit_member(member).await;
        }
        // On failure the transaction is still open; dropping `self` rolls it back.
        let started = std::time::Instant::now();
        self.db()?.prepare_cached("COMMIT")?.execute([])?;
        if let Conn::Writer(Some(writer)) = &self.conn {
            writer.metrics.store_commit(started.elapsed(), 1);
        }
        if let Some(wal) = &self.wal {
            wal.committed();
        }
        Ok(())
    }

    /// A member's commit: folds its savepoint into the group's transaction, lets the
    /// writer go to the next write, and waits for the group to commit.
    async fn commit_member(&mut self, member: Member) -> Result<()> {
        let Conn::Writer(slot) = &mut self.conn else {
            unreachable!("members hold the writer");
        };
        let guard = slot.as_mut().expect("the writer is held until commit");
        let committing = match member.release(guard, self.wal.as_ref()) {
            Ok(committing) => committing,
            Err(e) => {
                // Still a member: dropping it rolls its savepoint back.
                self.member = Some(member);
                return Err(e);
            }
        };
        *slot = None;
        committing.done().await
    }
}

impl Drop for SqliteTx {
    /// Dropped without commit (or after a failed one): roll back.
    fn drop(&mut self) {
        let member = self.member.take();
        let guard = match &mut self.conn {
            Conn::Writer(Some(guard)) => guard,
            Conn::Writer(None) => return, // a member that committed
            Conn::Reader(lent) => {
                rollback(lent.conn());
                return;
            }
        };
        match member {
            Some(member) => member.roll_back(guard),
            None => rollback(&guard.conn),
        }
    }
}

/// Rolls back the transaction `db` has open, if any; logs a failure.
fn rollback(db: &Connection) {
    if db.is_autocommit() {
        return;
    }
    if let Err(e) = db.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([])) {
        tracing::error!(error = %e, "SQLite rollback failed");
    }
}
