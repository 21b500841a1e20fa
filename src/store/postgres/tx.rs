//! One transaction's life: a pooled connection inside `BEGIN`, the statement helpers
//! the queries share, the board lock, and the commit. Dropped without a commit, sqlx
//! rolls the transaction back before the connection is used again.

use sqlx::postgres::{PgArguments, PgRow};
use sqlx::{PgPool, Postgres, Row, Transaction};

use std::sync::Arc;

use super::rows::{board, u64_of};
use crate::metrics::Metrics;
use crate::proto::v1::Board;
use crate::store::{OnBoard, Result, Tx};

/// A board lock statement: the columns [`PgTx::lock`] reads, for the board `$where`
/// finds, locked.
macro_rules! lock_board {
    ($where:literal) => {
        concat!(
            "SELECT id, name, created_at, archived, deleted_at IS NOT NULL, last_seq FROM boards WHERE ",
            $where,
            " FOR NO KEY UPDATE"
        )
    };
}
const LOCK_BOARD: &str = lock_board!("id = $1");
const LOCK_BOARD_OF_LIST: &str = lock_board!("id = (SELECT board_id FROM lists WHERE id = $1)");
const LOCK_BOARD_OF_TASK: &str = lock_board!("id = (SELECT board_id FROM tasks WHERE id = $1)");
const LOCK_BOARD_OF_LABEL: &str = lock_board!("id = (SELECT board_id FROM labels WHERE id = $1)");

/// A statement with its binds.
pub(super) type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

/// One snapshot for the whole transaction, and refusing writes as SQLite's read
/// connections do.
const BEGIN_READ: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY";
/// Each statement sees what committed before it: after [`Tx::lock_board`], that is
/// everything the board's previous writers did.
const BEGIN_WRITE: &str = "BEGIN ISOLATION LEVEL READ COMMITTED";

/// Opens a transaction in a task of its own, so it runs to the end even when the
/// caller is dropped (a stream whose client left, a request cancelled). sqlx 0.9's
/// `begin` is not cancel-safe on PostgreSQL (transact-rs/sqlx#4393): dropped while
/// `BEGIN` is in flight, it returns the connection to the pool inside that
/// transaction, and the next borrower's `BEGIN` is ignored ("there is already a
/// transaction in progress"): a write then runs in an old read-only snapshot. Run to
/// completion, the `Transaction` exists and its drop rolls back as it should.
///
/// A pooled connection is not pinged before it is lent (see [`super::PgStore::open`]),
/// so one the server has closed since (a restart, an administrator) is found dead by
/// its `BEGIN`, before anything was asked of it, and the `BEGIN` is retried: at most
/// once per connection the pool can hold, and once more (by then on a new one).
async fn begin(pool: &PgPool, statement: &'static str) -> Result<Transaction<'static, Postgres>> {
    let pool = pool.clone();
    let begun = tokio::spawn(async move {
        let mut attempts = pool.options().get_max_connections() + 1;
        loop {
            attempts -= 1;
            let begun = pool.begin_with(statement).await;
            if !matches!(&begun, Err(e) if attempts > 0 && closed_since_lent(e)) {
                return begun;
            }
        }
    });
    match begun.await {
        Ok(begun) => Ok(begun?),
        Err(e) => Err(crate::store::Error::Postgres(sqlx::Error::Io(std::io::Error::other(e)))),
    }
}

/// A `BEGIN` that failed on its connection, not for want of one: the pool's own
/// failures (no connection in time, closed) are not retried.
fn closed_since_lent(e: &sqlx::Error) -> bool {
    !matches!(e, sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed) && crate::store::error::connection_failed(e)
}

pub(super) struct PgTx {
    tx: Transaction<'static, Postgres>,
    /// The board [`Tx::lock_board`] locked, as the lock read it (`None` inside: it is
    /// deleted or missing). Nobody else can change it until this transaction ends, so
    /// [`Tx::board`] answers from here until this transaction writes it: every
    /// change's access check reads it, and a round trip is most of a statement's cost.
    pub(super) locked: Option<LockedBoard>,
    /// Where a write transaction's commit is timed (`None` for reads).
    metrics: Option<Arc<Metrics>>,
}

/// What [`Tx::lock_board`] read of the board it locked.
pub(super) struct LockedBoard {
    id: String,
    /// `None`: deleted, or never was.
    pub(super) board: Option<Board>,
    /// The board's latest seq, as the lock read it and [`Tx::next_seq`] advanced it:
    /// nobody else takes one while the lock is held, so the next is known without a
    /// round trip ([`Tx::append_event`] writes it back).
    last_seq: u64,
}

impl PgTx {
    pub(super) async fn read(pool: &PgPool) -> Result<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: begin(pool, BEGIN_READ).await?,
            locked: None,
            metrics: None,
        }))
    }

    pub(super) async fn write(pool: &PgPool, metrics: &Arc<Metrics>) -> Result<Box<dyn Tx>> {
        Ok(Box::new(PgTx {
            tx: begin(pool, BEGIN_WRITE).await?,
            locked: None,
            metrics: Some(metrics.clone()),
        }))
    }

    /// Every row `query` yields, each through `map`.
    pub(super) async fn all<T>(&mut self, query: Query, map: fn(&PgRow) -> sqlx::Result<T>) -> Result<Vec<T>> {
        let rows = query.fetch_all(&mut *self.tx).await?;
        Ok(rows.iter().map(map).collect::<sqlx::Result<_>>()?)
    }

    /// The first row `query` yields, if any, through `map`.
    pub(super) async fn first<T>(&mut self, query: Query, map: fn(&PgRow) -> sqlx::Result<T>) -> Result<Option<T>> {
        let row = query.fetch_optional(&mut *self.tx).await?;
        Ok(row.as_ref().map(map).transpose()?)
    }

    /// The one row `query` yields (none is an error), through `map`.
    pub(super) async fn one<T>(&mut self, query: Query, map: fn(&PgRow) -> sqlx::Result<T>) -> Result<T> {
        let row = query.fetch_one(&mut *self.tx).await?;
        Ok(map(&row)?)
    }

    /// Runs `query`; returns how many rows it changed.
    pub(super) async fn execute(&mut self, query: Query) -> Result<u64> {
        Ok(query.execute(&mut *self.tx).await?.rows_affected())
    }

    /// [`Tx::lock_board`]: the row lock an `UPDATE` of the row takes (the seq's), so
    /// it queues behind the board's other writers and they behind it, while foreign
    /// keys that point at the board (a new list's, task's or event's) still check
    /// without waiting. A board that does not exist locks nothing: the read after it
    /// finds nothing either.
    pub(super) async fn lock_board_row(&mut self, board_id: &str) -> Result<()> {
        let lock = sqlx::query(LOCK_BOARD).bind(board_id.to_owned());
        if self.lock(lock).await?.is_none() {
            self.locked = Some(LockedBoard {
                id: board_id.to_owned(),
                board: None,
                last_seq: 0,
            });
        }
        Ok(())
    }

    /// [`Tx::lock_board_of`] in one round trip: the board is found from the row in the
    /// lock's own statement. Its snapshot predates the wait for the lock, which is
    /// sound only because the row never moves to another board; what the row holds
    /// now is read after, as core does.
    pub(super) async fn lock_board_of_row(&mut self, row: OnBoard<'_>) -> Result<Option<String>> {
        let (sql, id) = match row {
            OnBoard::List(id) => (LOCK_BOARD_OF_LIST, id),
            OnBoard::Task(id) => (LOCK_BOARD_OF_TASK, id),
            OnBoard::Label(id) => (LOCK_BOARD_OF_LABEL, id),
        };
        self.lock(sqlx::query(sql).bind(id.to_owned())).await
    }

    /// Runs a board lock statement (built by `lock_board!`) and keeps
    /// what it read; returns the locked board's id, `None` when it matched no row.
    async fn lock(&mut self, lock: Query) -> Result<Option<String>> {
        let row = self
            .first(lock, |r| {
                Ok((board(r)?, r.try_get::<bool, _>(4)?, r.try_get::<i64, _>(5)?))
            })
            .await?;
        Ok(row.map(|(board, deleted, last_seq)| {
            let id = board.id.clone();
            self.locked = Some(LockedBoard {
                id: id.clone(),
                board: (!deleted).then_some(board),
                last_seq: u64_of(last_seq),
            });
            id
        }))
    }

    /// The board as the lock read it, when `id` is the locked board.
    pub(super) fn locked_board(&self, id: &str) -> Option<&LockedBoard> {
        self.locked.as_ref().filter(|locked| locked.id == id)
    }

    /// [`Tx::next_seq`] of the live board this transaction locked, taken from the
    /// lock's read: one statement fewer while every other writer of the board waits
    /// on its lock. `None` for any other board.
    pub(super) fn next_seq_of_locked(&mut self, board_id: &str) -> Option<u64> {
        let locked = self.locked.as_mut().filter(|l| l.id == board_id && l.board.is_some())?;
        locked.last_seq += 1;
        Some(locked.last_seq)
    }

    /// [`Tx::lock_request`]: a transaction-scoped advisory lock keyed by the hashes of
    /// actor and key (a collision only makes two requests wait for each other). The
    /// two-key form: its key space is apart from the one-key locks others take.
    pub(super) async fn lock_request_key(&mut self, actor: &str, key: &str) -> Result<()> {
        let lock = sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))")
            .bind(actor)
            .bind(key);
        self.execute(lock).await?;
        Ok(())
    }

    pub(super) async fn commit_tx(self) -> Result<()> {
        let started = std::time::Instant::now();
        self.tx.commit().await?;
        if let Some(metrics) = &self.metrics {
            metrics.store_commit(started.elapsed(), 1);
        }
        Ok(())
    }
}
