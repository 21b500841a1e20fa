//! The embedded default: SQLite in WAL mode through rusqlite, called inline.
//!
//! This module owns the SQLite connections, their pragmas, the schema migrations and
//! the WAL checkpoints; core sees only [`Store`] and [`Tx`].
//!
//! **Statements run on the calling task.** Each [`Tx`] method executes its SQL
//! synchronously, on the tokio worker that awaits it. That is deliberate: in WAL mode
//! with a warm page cache a statement here answers in microseconds, less than what a
//! hand-off to a dedicated connection thread costs (a channel send, a futex wake, a
//! context switch, and the wait to be scheduled back onto the runtime), and a create
//! runs about ten statements. What could block for longer is kept off the request
//! path: commits do not fsync (`synchronous=NORMAL` in WAL syncs only at checkpoints),
//! and checkpoints run on a thread of their own (see below).
//!
//! **Writes** go through exactly one connection behind a [`tokio::sync::Mutex`]: a
//! write [`Tx`] holds the owned guard from its start to its commit (or rollback), so
//! write transactions queue in that mutex, in order, instead of racing for SQLite's
//! lock (a deferred transaction that read first would fail with SQLITE_BUSY when it
//! tries to write). **Reads** take one connection of a small read-only pool for the
//! life of their [`Tx`] and open a deferred transaction, so every read sees one
//! consistent snapshot and, in WAL mode, never waits for the writer.
//!
//! **Group commit** (file databases): write transactions that run close together
//! share one SQLite transaction. The first opens it with `BEGIN IMMEDIATE`; each runs
//! inside a `SAVEPOINT` of its own, so one that fails or is dropped rolls back only its
//! own work (`ROLLBACK TO`). Its commit `RELEASE`s the savepoint, lets go of the
//! writer's mutex, and waits until the group is committed: only then does it return,
//! so a caller never answers for, or publishes, a change that is not in the WAL. The
//! group's first commit spawns a committer task that yields once, so that every task
//! ready to run gets its turn (and joins the group if it writes), then takes the mutex
//! and commits. A task of its own, so a member's cancellation cannot strand the group.
//! Each commit costs a write of every page it changed to the WAL, and a create changes
//! about seven (the tasks table, its three indexes, the event log, the board's seq):
//! shared by a group, those writes, and the WAL locks around them, are paid once per
//! group instead of once per write. If the group's `COMMIT` fails, every member's
//! commit fails. Members see the work of earlier members of their group, which
//! commits or fails with theirs; readers see none of it before the commit.
//!
//! **Durability:** `synchronous=NORMAL` in WAL keeps every committed transaction
//! across a crash of the process (`kill -9`); only an OS crash or power loss can lose
//! the last few.
//!
//! **Checkpoints:** the writer's auto-checkpoint is off, because it would run inside
//! a commit, on a tokio worker, and fsync there. A background thread with its own
//! connection checkpoints instead, every [`CHECKPOINT_EVERY`] when there were commits
//! and sooner after [`CHECKPOINT_AFTER_COMMITS`] of them. It first runs
//! `wal_checkpoint(PASSIVE)`, which copies the WAL into the database (and fsyncs)
//! without ever taking the write lock, so writers go on meanwhile. Under steady writes
//! that alone never lets the WAL start over (SQLite restarts it only when a write
//! begins after a checkpoint copied *all* of it), and the WAL grows without bound,
//! every commit appending to fresh file pages, which costs the kernel more than
//! overwriting cached ones. So when the WAL holds [`RESTART_AFTER_FRAMES`] or more,
//! the thread takes the writer's mutex itself (write transactions queue behind it as
//! they would behind any other), commits the open group if there is one (its members
//! have all committed their part, or they would hold the mutex), and runs
//! `wal_checkpoint(RESTART)`: it copies the few
//! frames written since the PASSIVE one and waits, briefly, for readers still on the
//! old WAL, so the next write starts the WAL from its beginning. No tokio worker ever
//! blocks on it. TRUNCATE is not used: starting over in a file of the same size
//! rewrites pages already in the page cache. The thread stops when the store is
//! dropped.
//!
//! **`:memory:`** (and `mode=memory`): each connection to an in-memory database is its
//! own database, so one connection serves reads and writes alike, behind the writer's
//! mutex, and each write transaction commits alone (a read on that connection would
//! otherwise see a group's uncommitted work).
//!
//! **Migrations** are the files of `migrations/sqlite/`, embedded, applied in order
//! and tracked in `PRAGMA user_version`. A database created by the earlier sqlx-based
//! store (which tracked them in `_sqlx_migrations`) is recognised and picked up where
//! it was.

use async_trait::async_trait;
use prost::Message;
use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, params};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard, OwnedSemaphorePermit, Semaphore, watch};

use super::{IdempotentRecord, Store, Tx};
use crate::core::{Error, Result, time};
use crate::proto::v1::{Board, BoardEvent, BoardList, Task, TaskPosition, User};

/// The schema, one file per step; `user_version` counts how many are applied.
const MIGRATIONS: &[&str] = &[include_str!("../../migrations/sqlite/0001_init.sql")];

/// How long a statement waits for a lock another connection holds before SQLITE_BUSY.
/// In this design only the checkpointer or another process can hold one.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections at most; each read transaction holds one for its lifetime.
const READERS: usize = 8;
/// Distinct statements each connection keeps prepared (there are about thirty).
const STATEMENT_CACHE: usize = 64;
/// The checkpointer's period while there are commits.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Commits after which the writer asks for a checkpoint before the period is up.
const CHECKPOINT_AFTER_COMMITS: u64 = 500;
/// WAL frames (pages) from which a checkpoint pauses writes to start the WAL over.
const RESTART_AFTER_FRAMES: i64 = 2000;
/// How long a restarting checkpoint waits for readers still on the old WAL, while
/// writes wait for it; past that, it gives up until the next round.
const RESTART_WAIT: Duration = Duration::from_millis(100);
/// How long dropping the store waits for the checkpoint thread to end.
const STOP_WAIT: Duration = Duration::from_secs(2);

pub struct SqliteStore {
    /// The one connection every write transaction queues for (and, for `:memory:`,
    /// every read too).
    writer: Arc<Mutex<Writer>>,
    /// Whether write transactions commit in groups (not for `:memory:`, whose reads
    /// share the writer's connection and must not see a group's uncommitted work).
    group_commit: bool,
    /// Read-only connections; `None` for `:memory:`, whose reads use the writer.
    readers: Option<Arc<ReaderPool>>,
    /// WAL bookkeeping and the checkpoint thread; `None` for `:memory:`.
    wal: Option<Wal>,
}

/// Where a database lives, from its URL.
enum Location {
    Memory,
    File { path: PathBuf, create: bool },
}

/// Parses what [`super::connect`] accepts: `sqlite::memory:`, `sqlite:PATH`,
/// `sqlite://PATH`, either with `?mode=rwc|rw|memory`, or a bare file path.
fn location(url: &str) -> Result<Location> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bad = |why: String| Error::invalid("databaseUrl", format!("bad SQLite URL `{url}`: {why}"));
    let mut create = true;
    let mut memory = path == ":memory:";
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| bad(e.to_string()))?;
    for (key, value) in pairs {
        match (key.as_str(), value.as_str()) {
            ("mode", "rwc") => create = true,
            ("mode", "rw") => create = false,
            ("mode", "memory") => memory = true,
            ("mode", other) => return Err(bad(format!("unsupported mode `{other}` (rwc, rw or memory)"))),
            (other, _) => return Err(bad(format!("unknown parameter `{other}`"))),
        }
    }
    if memory {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(bad("no file path".into()));
    }
    Ok(Location::File {
        path: PathBuf::from(path),
        create,
    })
}

/// Settings every connection shares.
fn prepare(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        // Opening and migrating run inline too: this happens once, at start-up.
        match location(url)? {
            Location::Memory => {
                let conn = Connection::open_in_memory()?;
                prepare(&conn)?;
                migrate(&conn)?;
                Ok(SqliteStore {
                    writer: Arc::new(Mutex::new(Writer::new(conn))),
                    group_commit: false,
                    readers: None,
                    wal: None,
                })
            }
            Location::File { path, create } => {
                let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                if create {
                    flags |= OpenFlags::SQLITE_OPEN_CREATE;
                }
                let writer = Connection::open_with_flags(&path, flags)?;
                prepare(&writer)?;
                let mode: String = writer.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
                if !mode.eq_ignore_ascii_case("wal") {
                    return Err(Error::Internal(
                        format!(
                            "SQLite refused WAL mode for {} (journal_mode is {mode})",
                            path.display()
                        )
                        .into(),
                    ));
                }
                writer.pragma_update(None, "synchronous", "NORMAL")?;
                writer.pragma_update(None, "wal_autocheckpoint", 0)?;
                migrate(&writer)?;
                writer.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
                // A group's savepoints journal in memory, never in a temporary file.
                writer.pragma_update(None, "temp_store", "MEMORY")?;
                let writer = Arc::new(Mutex::new(Writer::new(writer)));
                let wal = Wal::start(&path, writer.clone())?;
                Ok(SqliteStore {
                    writer,
                    group_commit: true,
                    readers: Some(Arc::new(ReaderPool::new(path))),
                    wal: Some(wal),
                })
            }
        }
    }
}

/// Applies the migrations the database has not seen, each in its own transaction.
fn migrate(conn: &Connection) -> Result<()> {
    let mut version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version == 0 {
        version = sqlx_migrations(conn)?;
    }
    let applied = usize::try_from(version).unwrap_or(usize::MAX);
    if applied > MIGRATIONS.len() {
        return Err(Error::Internal(
            format!(
                "the database is at schema version {version}, newer than this build's {}",
                MIGRATIONS.len()
            )
            .into(),
        ));
    }
    for (step, sql) in (1i64..).zip(MIGRATIONS).skip(applied) {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let done = conn
            .execute_batch(sql)
            .and_then(|()| conn.pragma_update(None, "user_version", step))
            .and_then(|()| conn.execute_batch("COMMIT"));
        if let Err(e) = done {
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(e.into());
        }
        tracing::debug!(version = step, "applied SQLite migration");
    }
    Ok(())
}

/// The migrations the sqlx-based store recorded as applied, 0 if it never ran here.
fn sqlx_migrations(conn: &Connection) -> Result<i64> {
    let tracked: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !tracked {
        return Ok(0);
    }
    let last: Option<i64> = conn.query_row("SELECT MAX(version) FROM _sqlx_migrations WHERE success", [], |r| {
        r.get(0)
    })?;
    let last = last.unwrap_or_default();
    conn.pragma_update(None, "user_version", last)?;
    Ok(last)
}

/// Read-only connections, opened on first need, each lent to one read transaction.
struct ReaderPool {
    path: PathBuf,
    idle: std::sync::Mutex<Vec<Connection>>,
    /// One permit per connection that may exist.
    permits: Arc<Semaphore>,
}

impl ReaderPool {
    fn new(path: PathBuf) -> Self {
        ReaderPool {
            path,
            idle: std::sync::Mutex::new(Vec::with_capacity(READERS)),
            permits: Arc::new(Semaphore::new(READERS)),
        }
    }

    async fn take(self: &Arc<Self>) -> Result<Lent> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| Error::Internal(Box::new(e)))?;
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => {
                let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                let conn = Connection::open_with_flags(&self.path, flags)?;
                prepare(&conn)?;
                conn
            }
        };
        Ok(Lent {
            conn: Some(conn),
            pool: self.clone(),
            _permit: permit,
        })
    }
}

/// A read connection on loan; goes back to the pool on drop (before its permit does).
struct Lent {
    conn: Option<Connection>,
    pool: Arc<ReaderPool>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A connection still inside a transaction (its rollback failed) is not
            // lent again; dropping it closes it, and the next loan opens a new one.
            if conn.is_autocommit() {
                self.pool.idle.lock().unwrap_or_else(|e| e.into_inner()).push(conn);
            }
        }
    }
}

/// Commits since the last checkpoint, and the thread that checkpoints.
struct Wal {
    shared: Arc<WalShared>,
    thread: Option<JoinHandle<()>>,
    /// Disconnects when the thread has closed its connections and is about to end.
    /// (In a mutex only because a `Receiver` is not `Sync`, and the store must be.)
    done: std::sync::Mutex<mpsc::Receiver<()>>,
}

struct WalShared {
    commits: AtomicU64,
    wake: mpsc::Sender<Signal>,
}

enum Signal {
    /// Many commits since the last checkpoint: do one now.
    Checkpoint,
    Stop,
}

impl Wal {
    fn start(path: &std::path::Path, writer: Arc<Mutex<Writer>>) -> Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        prepare(&conn)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(WalShared {
            commits: AtomicU64::new(0),
            wake: tx,
        });
        let (done_tx, done) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn({
                let shared = shared.clone();
                move || {
                    checkpoint_loop(&conn, &writer, &shared, &rx);
                    drop(conn);
                    drop(writer);
                    drop(done_tx);
                }
            })
            .map_err(|e| Error::Internal(Box::new(e)))?;
        Ok(Wal {
            shared,
            thread: Some(thread),
            done: std::sync::Mutex::new(done),
        })
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        let _ = self.shared.wake.send(Signal::Stop);
        // Normally at most one checkpoint to wait for. The wait is bounded all the same:
        // a restart waits for the writer's mutex, and a write transaction that outlived
        // the store could hold it for as long as its task pleases.
        let done = self.done.get_mut().unwrap_or_else(|e| e.into_inner());
        match done.recv_timeout(STOP_WAIT) {
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                if let Some(thread) = self.thread.take() {
                    let _ = thread.join();
                }
            }
            Ok(()) | Err(mpsc::RecvTimeoutError::Timeout) => {
                tracing::warn!("the SQLite checkpoint thread did not stop in time; it stops after its round");
            }
        }
    }
}

impl WalShared {
    fn committed(&self) {
        let n = self.commits.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(CHECKPOINT_AFTER_COMMITS) {
            let _ = self.wake.send(Signal::Checkpoint);
        }
    }
}

fn checkpoint_loop(conn: &Connection, writer: &Mutex<Writer>, shared: &WalShared, wake: &mpsc::Receiver<Signal>) {
    let mut seen = 0;
    loop {
        match wake.recv_timeout(CHECKPOINT_EVERY) {
            Ok(Signal::Checkpoint) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(Signal::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let commits = shared.commits.load(Ordering::Relaxed);
        if commits == seen {
            continue;
        }
        seen = commits;
        let frames = match checkpoint(conn, "PASSIVE") {
            Ok(frames) => frames,
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed");
                continue;
            }
        };
        if frames >= RESTART_AFTER_FRAMES {
            restart(conn, writer);
        }
    }
}

/// Copies the rest of the WAL and has the next write start it over, holding the
/// writer's mutex meanwhile. A group whose members have all committed may be open:
/// it is committed first (its committer task then finds nothing to do).
fn restart(conn: &Connection, writer: &Mutex<Writer>) {
    let mut writes_wait = writer.blocking_lock();
    writes_wait.commit_open_group();
    // No write transaction is open while the guard is held, so RESTART waits only
    // for readers, and only as long as the busy timeout lets it.
    let restarted = conn
        .busy_timeout(RESTART_WAIT)
        .and_then(|()| checkpoint(conn, "RESTART"))
        .and_then(|_| conn.busy_timeout(BUSY_TIMEOUT));
    if let Err(e) = restarted {
        tracing::warn!(error = %e, "WAL restart failed");
    }
}

/// Runs one checkpoint; answers how many frames the WAL held.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<i64> {
    // (1 if it could not finish for a lock, frames in the WAL, frames copied)
    let sql = format!("PRAGMA wal_checkpoint({mode})");
    let (busy, frames, copied): (i64, i64, i64) =
        conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    tracing::trace!(mode, busy, frames, copied, "WAL checkpoint");
    Ok(frames)
}

/// The write connection and the group its open transaction holds, if any.
struct Writer {
    conn: Connection,
    group: Option<Group>,
    /// The generation the next group gets.
    next_generation: u64,
}

/// Write transactions that share one SQLite transaction, each in a savepoint of its
/// own, committed together.
struct Group {
    generation: u64,
    /// The group's outcome, sent once, when it committed or failed.
    done: watch::Sender<Option<Result<(), Arc<str>>>>,
    /// Whether a member has committed, and so a committer task is on its way.
    committing: bool,
}

impl Writer {
    fn new(conn: Connection) -> Self {
        Writer {
            conn,
            group: None,
            next_generation: 0,
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
        });
        Ok(generation)
    }

    /// The open group, if it is generation `generation`.
    fn group(&mut self, generation: u64) -> Option<&mut Group> {
        self.group.as_mut().filter(|g| g.generation == generation)
    }

    /// Commits the open group, if there is one, and tells its members how it went.
    /// Only for a holder of the writer's mutex that is not a member: then every member
    /// of the open group has committed its part (one that had not would hold the mutex,
    /// or would have rolled the group back when dropped). Answers whether it committed.
    fn commit_open_group(&mut self) -> bool {
        if self.group.is_none() {
            return false;
        }
        if self.conn.is_autocommit() {
            self.fail("SQLite rolled the transaction back");
            return false;
        }
        if let Err(e) = self.conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([])) {
            tracing::error!(error = %e, "SQLite group commit failed");
            self.fail(&format!("commit failed: {e}"));
            return false;
        }
        if let Some(group) = self.group.take() {
            group.done.send_replace(Some(Ok(())));
        }
        true
    }

    /// Ends the open group without committing: rolls it back and tells its members.
    fn fail(&mut self, why: &str) {
        if let Some(group) = self.group.take() {
            if !self.conn.is_autocommit()
                && let Err(e) = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]))
            {
                tracing::error!(error = %e, "SQLite rollback failed");
            }
            group.done.send_replace(Some(Err(why.into())));
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

#[async_trait]
impl Store for SqliteStore {
    async fn read(&self) -> Result<Box<dyn Tx>> {
        let conn = match &self.readers {
            Some(pool) => Conn::Reader(pool.take().await?),
            None => Conn::Writer(Some(self.writer.clone().lock_owned().await)),
        };
        SqliteTx::begin(conn, "BEGIN", None)
    }

    async fn write(&self) -> Result<Box<dyn Tx>> {
        let mut guard = self.writer.clone().lock_owned().await;
        let wal = self.wal.as_ref().map(|w| w.shared.clone());
        if !self.group_commit {
            return SqliteTx::begin(Conn::Writer(Some(guard)), "BEGIN IMMEDIATE", wal);
        }
        let generation = guard.join()?;
        if let Err(e) = guard
            .conn
            .prepare_cached("SAVEPOINT member")
            .and_then(|mut s| s.execute([]))
        {
            if guard.group(generation).is_some_and(|g| !g.committing) {
                guard.fail("its first member could not begin");
            }
            return Err(e.into());
        }
        Ok(Box::new(SqliteTx {
            conn: Conn::Writer(Some(guard)),
            wal,
            member: Some(Member {
                generation,
                writer: self.writer.clone(),
            }),
        }))
    }
}

enum Conn {
    /// The writer (or the one `:memory:` connection), held for the transaction; taken
    /// by a group member's commit.
    Writer(Option<OwnedMutexGuard<Writer>>),
    Reader(Lent),
}

/// What a write transaction in a group knows of it.
struct Member {
    generation: u64,
    writer: Arc<Mutex<Writer>>,
}

struct SqliteTx {
    conn: Conn,
    /// Told of each commit, for the checkpointer; `None` for reads and `:memory:`.
    wal: Option<Arc<WalShared>>,
    /// Set for a write transaction that is a member of a group.
    member: Option<Member>,
}

impl SqliteTx {
    /// A transaction of its own on `conn` (a read, or a write on `:memory:`).
    fn begin(conn: Conn, begin: &str, wal: Option<Arc<WalShared>>) -> Result<Box<dyn Tx>> {
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

    /// The connection, for the statements of an open transaction. One SQLite rolled
    /// back by itself (it does after some errors) is not used further: each statement
    /// would commit on its own.
    fn db(&self) -> Result<&Connection> {
        let db = self.conn();
        if db.is_autocommit() {
            return Err(Error::Internal("SQLite rolled the transaction back".into()));
        }
        Ok(db)
    }

    fn conn(&self) -> &Connection {
        match &self.conn {
            Conn::Writer(guard) => &guard.as_ref().expect("the writer is held until commit").conn,
            Conn::Reader(lent) => lent.conn.as_ref().expect("a lent connection is present until drop"),
        }
    }

    /// A member's commit: folds its savepoint into the group's transaction, lets the
    /// writer go to the next write, and waits for the group to commit.
    async fn commit_member(&mut self, member: Member) -> Result<()> {
        let Conn::Writer(slot) = &mut self.conn else {
            unreachable!("members hold the writer");
        };
        let mut guard = slot.take().expect("the writer is held until commit");
        if let Err(e) = guard
            .conn
            .prepare_cached("RELEASE member")
            .and_then(|mut s| s.execute([]))
        {
            // Still a member: dropping it rolls its savepoint back.
            *slot = Some(guard);
            self.member = Some(member);
            return Err(e.into());
        }
        let Some(group) = guard.group(member.generation) else {
            return Err(Error::Internal(
                "the write transaction's group ended before its commit".into(),
            ));
        };
        let mut done = group.done.subscribe();
        if !group.committing {
            group.committing = true;
            tokio::spawn(commit_group(member.writer.clone(), member.generation, self.wal.clone()));
        }
        drop(guard);
        let outcome = done
            .wait_for(Option::is_some)
            .await
            .map_err(|_| Error::Internal("the write transaction's group ended unannounced".into()))?
            .clone();
        match outcome {
            Some(Ok(())) => Ok(()),
            Some(Err(why)) => Err(Error::Internal(format!("group commit: {why}").into())),
            None => unreachable!("waited for an outcome"),
        }
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
                let db = lent.conn.as_ref().expect("a lent connection is present until drop");
                rollback(db);
                return;
            }
        };
        let Some(member) = member else {
            rollback(&guard.conn);
            return;
        };
        let Some(group) = guard.group(member.generation) else {
            return; // the group already failed, and rolled back
        };
        if !group.committing {
            // No member has committed: the group's transaction holds only this one's work.
            guard.fail("its only member rolled back");
        } else if guard.conn.is_autocommit() {
            guard.fail("SQLite rolled the transaction back");
        } else if let Err(e) = guard
            .conn
            .prepare_cached("ROLLBACK TO member")
            .and_then(|mut s| s.execute([]))
            .and_then(|_| guard.conn.prepare_cached("RELEASE member")?.execute([]))
        {
            tracing::error!(error = %e, "SQLite rollback to a savepoint failed");
            guard.fail("a member's rollback failed");
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

fn user(row: &Row) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        name: row.get(1)?,
    })
}

fn board(row: &Row) -> rusqlite::Result<Board> {
    Ok(Board {
        id: row.get(0)?,
        name: row.get(1)?,
        created_at: Some(time::from_millis(row.get(2)?)),
    })
}

fn list(row: &Row) -> rusqlite::Result<BoardList> {
    Ok(BoardList {
        id: row.get(0)?,
        board_id: row.get(1)?,
        name: row.get(2)?,
        position: row.get(3)?,
    })
}

/// Reads the columns [`task_columns`] names, in that order.
fn task(row: &Row) -> rusqlite::Result<Task> {
    Ok(Task {
        id: row.get(0)?,
        board_id: row.get(1)?,
        list_id: row.get(2)?,
        title: row.get(3)?,
        description: row.get(4)?,
        position: row.get(5)?,
        version: u64_of(row.get(6)?),
        created_at: Some(time::from_millis(row.get(7)?)),
        updated_at: Some(time::from_millis(row.get(8)?)),
        created_by: row.get(9)?,
    })
}

/// SQLite integers are i64; versions and seqs are never negative.
fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn millis(ts: Option<&prost_types::Timestamp>) -> i64 {
    ts.map(time::to_millis).unwrap_or_default()
}

/// The task columns, in the order [`task`] reads them; a macro so queries stay `&'static str`.
macro_rules! task_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "board_id, ",
            $p,
            "list_id, ",
            $p,
            "title, ",
            $p,
            "description, ",
            $p,
            "position, ",
            $p,
            "version, ",
            $p,
            "created_at, ",
            $p,
            "updated_at, ",
            $p,
            "created_by"
        )
    };
}

impl SqliteTx {
    /// Every row `sql` yields, each through `map`.
    fn all<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.db()?.prepare_cached(sql)?;
        let rows = stmt.query_map(params, map)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first row `sql` yields, if any, through `map`.
    fn first<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> Result<Option<T>> {
        Ok(self.db()?.prepare_cached(sql)?.query_row(params, map).optional()?)
    }

    /// The one row `sql` yields (none is an error), through `map`.
    fn one<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        map: impl FnOnce(&Row) -> rusqlite::Result<T>,
    ) -> Result<T> {
        Ok(self.db()?.prepare_cached(sql)?.query_row(params, map)?)
    }

    fn execute(&self, sql: &str, params: impl rusqlite::Params) -> Result<()> {
        self.db()?.prepare_cached(sql)?.execute(params)?;
        Ok(())
    }
}

#[async_trait]
impl Tx for SqliteTx {
    async fn user_by_token(&mut self, token: &str) -> Result<Option<User>> {
        self.first("SELECT id, name FROM users WHERE token = ?", [token], user)
    }

    async fn user(&mut self, id: &str) -> Result<Option<User>> {
        self.first("SELECT id, name FROM users WHERE id = ?", [id], user)
    }

    async fn users_with_tokens(&mut self) -> Result<Vec<(User, String)>> {
        self.all(
            "SELECT id, name, token FROM users WHERE token IS NOT NULL ORDER BY id",
            [],
            |r| Ok((user(r)?, r.get(2)?)),
        )
    }

    async fn boards_of(&mut self, user_id: &str) -> Result<Vec<Board>> {
        self.all(
            "SELECT b.id, b.name, b.created_at FROM boards b
             JOIN board_members m ON m.board_id = b.id
             WHERE m.user_id = ? ORDER BY b.id",
            [user_id],
            board,
        )
    }

    async fn board(&mut self, id: &str) -> Result<Option<Board>> {
        self.first("SELECT id, name, created_at FROM boards WHERE id = ?", [id], board)
    }

    async fn is_member(&mut self, board_id: &str, user_id: &str) -> Result<bool> {
        Ok(self
            .first(
                "SELECT 1 FROM board_members WHERE board_id = ? AND user_id = ?",
                [board_id, user_id],
                |_| Ok(()),
            )?
            .is_some())
    }

    async fn lists(&mut self, board_id: &str) -> Result<Vec<BoardList>> {
        self.all(
            "SELECT id, board_id, name, position FROM lists WHERE board_id = ? ORDER BY position",
            [board_id],
            list,
        )
    }

    async fn list(&mut self, id: &str) -> Result<Option<BoardList>> {
        self.first(
            "SELECT id, board_id, name, position FROM lists WHERE id = ?",
            [id],
            list,
        )
    }

    async fn tasks(&mut self, board_id: &str, list_id: Option<&str>) -> Result<Vec<Task>> {
        self.all(
            concat!(
                "SELECT ",
                task_columns!("t."),
                " FROM tasks t JOIN lists l ON l.id = t.list_id
                 WHERE t.board_id = ?1 AND (?2 IS NULL OR t.list_id = ?2)
                 ORDER BY l.position, t.position, t.id"
            ),
            params![board_id, list_id],
            task,
        )
    }

    async fn task(&mut self, id: &str) -> Result<Option<Task>> {
        self.first(
            concat!("SELECT ", task_columns!(""), " FROM tasks WHERE id = ?"),
            [id],
            task,
        )
    }

    async fn tasks_updated_since(&mut self, board_id: &str, since_ms: i64) -> Result<Vec<Task>> {
        self.all(
            concat!(
                "SELECT ",
                task_columns!(""),
                " FROM tasks WHERE board_id = ? AND updated_at > ? ORDER BY updated_at, id"
            ),
            params![board_id, since_ms],
            task,
        )
    }

    async fn task_count(&mut self, list_id: &str) -> Result<usize> {
        // Positions are dense, so the length is the last position + 1: answered from the
        // (list_id, position) index without scanning the list.
        let n: i64 = self.one(
            "SELECT COALESCE(MAX(position) + 1, 0) FROM tasks WHERE list_id = ?",
            [list_id],
            |r| r.get(0),
        )?;
        Ok(usize::try_from(n).unwrap_or_default())
    }

    async fn task_order(&mut self, list_id: &str) -> Result<Vec<String>> {
        self.all(
            "SELECT id FROM tasks WHERE list_id = ? ORDER BY position, id",
            [list_id],
            |r| r.get(0),
        )
    }

    async fn last_seq(&mut self, board_id: &str) -> Result<u64> {
        let seq: Option<i64> = self.first("SELECT last_seq FROM boards WHERE id = ?", [board_id], |r| r.get(0))?;
        Ok(u64_of(seq.unwrap_or_default()))
    }

    async fn events_after(&mut self, board_id: &str, after: u64, limit: u32) -> Result<Vec<BoardEvent>> {
        let bodies: Vec<Vec<u8>> = self.all(
            "SELECT body FROM events WHERE board_id = ? AND seq > ? ORDER BY seq LIMIT ?",
            params![board_id, i64_of(after), limit],
            |r| r.get(0),
        )?;
        bodies.iter().map(|b| Ok(BoardEvent::decode(b.as_slice())?)).collect()
    }

    async fn insert_user(&mut self, user: &User, token: Option<&str>) -> Result<()> {
        self.execute(
            "INSERT INTO users (id, name, token) VALUES (?, ?, ?)",
            params![user.id, user.name, token],
        )
    }

    async fn insert_board(&mut self, board: &Board, members: &[&str]) -> Result<()> {
        self.execute(
            "INSERT INTO boards (id, name, created_at) VALUES (?, ?, ?)",
            params![board.id, board.name, millis(board.created_at.as_ref())],
        )?;
        for member in members {
            self.execute(
                "INSERT INTO board_members (board_id, user_id) VALUES (?, ?)",
                params![board.id, member],
            )?;
        }
        Ok(())
    }

    async fn insert_list(&mut self, list: &BoardList) -> Result<()> {
        self.execute(
            "INSERT INTO lists (id, board_id, name, position) VALUES (?, ?, ?, ?)",
            params![list.id, list.board_id, list.name, list.position],
        )
    }

    async fn insert_task(&mut self, t: &Task) -> Result<()> {
        self.execute(
            concat!(
                "INSERT INTO tasks (",
                task_columns!(""),
                ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            params![
                t.id,
                t.board_id,
                t.list_id,
                t.title,
                t.description,
                t.position,
                i64_of(t.version),
                millis(t.created_at.as_ref()),
                millis(t.updated_at.as_ref()),
                t.created_by,
            ],
        )
    }

    async fn update_task(&mut self, t: &Task) -> Result<()> {
        self.execute(
            "UPDATE tasks SET board_id = ?, list_id = ?, title = ?, description = ?, position = ?,
             version = ?, updated_at = ? WHERE id = ?",
            params![
                t.board_id,
                t.list_id,
                t.title,
                t.description,
                t.position,
                i64_of(t.version),
                millis(t.updated_at.as_ref()),
                t.id,
            ],
        )
    }

    async fn delete_task(&mut self, id: &str) -> Result<()> {
        self.execute("DELETE FROM tasks WHERE id = ?", [id])
    }

    async fn set_positions(&mut self, positions: &[TaskPosition]) -> Result<()> {
        for p in positions {
            self.execute(
                "UPDATE tasks SET list_id = ?, position = ? WHERE id = ?",
                params![p.list_id, p.position, p.task_id],
            )?;
        }
        Ok(())
    }

    async fn next_seq(&mut self, board_id: &str) -> Result<u64> {
        let seq: i64 = self.one(
            "UPDATE boards SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
            [board_id],
            |r| r.get(0),
        )?;
        Ok(u64_of(seq))
    }

    async fn append_event(&mut self, event: &BoardEvent) -> Result<()> {
        self.execute(
            "INSERT INTO events (board_id, seq, occurred_at, body) VALUES (?, ?, ?, ?)",
            params![
                event.board_id,
                i64_of(event.seq),
                millis(event.occurred_at.as_ref()),
                event.encode_to_vec(),
            ],
        )
    }

    async fn idempotent(&mut self, actor: &str, key: &str) -> Result<Option<IdempotentRecord>> {
        self.first(
            "SELECT fingerprint, response FROM idempotency_keys WHERE actor = ? AND key = ?",
            [actor, key],
            |r| {
                Ok(IdempotentRecord {
                    fingerprint: r.get(0)?,
                    response: r.get(1)?,
                })
            },
        )
    }

    async fn remember(&mut self, actor: &str, key: &str, record: &IdempotentRecord, now_ms: i64) -> Result<()> {
        self.execute(
            "INSERT INTO idempotency_keys (actor, key, fingerprint, response, created_at) VALUES (?, ?, ?, ?, ?)",
            params![actor, key, record.fingerprint, record.response, now_ms],
        )
    }

    async fn commit(mut self: Box<Self>) -> Result<()> {
        if let Some(member) = self.member.take() {
            return self.commit_member(member).await;
        }
        // On failure the transaction is still open; dropping `self` rolls it back.
        self.execute("COMMIT", [])?;
        if let Some(wal) = &self.wal {
            wal.committed();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> User {
        User {
            id: id.into(),
            name: id.into(),
        }
    }

    fn path_of(url: &str) -> Option<(String, bool)> {
        match location(url).unwrap() {
            Location::Memory => None,
            Location::File { path, create } => Some((path.display().to_string(), create)),
        }
    }

    #[test]
    fn urls_name_memory_or_a_file() {
        assert_eq!(path_of("sqlite::memory:"), None);
        assert_eq!(path_of("sqlite://x.db?mode=memory"), None);
        assert_eq!(path_of("sqlite:boardcast.db"), Some(("boardcast.db".into(), true)));
        assert_eq!(path_of("sqlite:/tmp/a.db"), Some(("/tmp/a.db".into(), true)));
        assert_eq!(path_of("sqlite://data/a.db?mode=rwc"), Some(("data/a.db".into(), true)));
        assert_eq!(path_of("sqlite:///tmp/a.db?mode=rw"), Some(("/tmp/a.db".into(), false)));
        assert_eq!(path_of("/tmp/a.db"), Some(("/tmp/a.db".into(), true)));
        for bad in [
            "sqlite:a.db?mode=ro",
            "sqlite:a.db?cache=shared",
            "sqlite:",
            "sqlite://?mode=rwc",
        ] {
            let Err(e) = location(bad) else {
                panic!("{bad} was accepted")
            };
            assert_eq!(e.field(), Some("databaseUrl"), "{bad}");
        }
    }

    async fn user_exists(store: &SqliteStore, id: &str) -> bool {
        store.read().await.unwrap().user(id).await.unwrap().is_some()
    }

    async fn rollback_on_drop(store: &SqliteStore) {
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("dropped"), None).await.unwrap();
        drop(tx);
        assert!(!user_exists(store, "dropped").await);

        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("kept"), None).await.unwrap();
        tx.commit().await.unwrap();
        assert!(user_exists(store, "kept").await);

        // A failed statement leaves the transaction to the drop, and the writer usable.
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("twice"), None).await.unwrap();
        assert!(tx.insert_user(&user("twice"), None).await.is_err());
        drop(tx);
        assert!(!user_exists(store, "twice").await);
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("after"), None).await.unwrap();
        tx.commit().await.unwrap();
        assert!(user_exists(store, "after").await);
    }

    #[tokio::test]
    async fn an_uncommitted_transaction_rolls_back_on_drop_in_memory() {
        rollback_on_drop(&SqliteStore::connect("sqlite::memory:").await.unwrap()).await;
    }

    #[tokio::test]
    async fn an_uncommitted_transaction_rolls_back_on_drop_in_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("t.db").display());
        rollback_on_drop(&SqliteStore::connect(&url).await.unwrap()).await;
    }

    #[tokio::test]
    async fn a_read_sees_one_snapshot_while_writes_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap();
        let mut read = store.read().await.unwrap();
        assert!(read.user("late").await.unwrap().is_none());
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("late"), None).await.unwrap();
        tx.commit().await.unwrap();
        assert!(read.user("late").await.unwrap().is_none(), "the snapshot moved");
        drop(read);
        assert!(user_exists(&store, "late").await);
        // Read connections are read-only.
        let mut read = store.read().await.unwrap();
        assert!(read.insert_user(&user("nope"), None).await.is_err());
    }

    #[tokio::test]
    async fn reopening_keeps_data_and_migrates_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let url = format!("sqlite://{}?mode=rwc", db.display());
        {
            let store = SqliteStore::connect(&url).await.unwrap();
            let mut tx = store.write().await.unwrap();
            tx.insert_user(&user("a"), Some("tok")).await.unwrap();
            tx.commit().await.unwrap();
        }
        // Every connection closed (the checkpoint thread's too): SQLite folded the WAL
        // into the database and removed it.
        assert!(!dir.path().join("t.db-wal").exists());
        let store = SqliteStore::connect(&url).await.unwrap();
        assert!(user_exists(&store, "a").await);
        let version: i64 = store
            .writer
            .lock()
            .await
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, i64::try_from(MIGRATIONS.len()).unwrap());
    }

    #[tokio::test]
    async fn a_database_the_sqlx_store_made_is_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("old.db");
        {
            let conn = Connection::open(&db).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch(
                "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, success BOOLEAN NOT NULL);
                 INSERT INTO _sqlx_migrations VALUES (1, TRUE);
                 INSERT INTO users (id, name, token) VALUES ('old', 'old', NULL);",
            )
            .unwrap();
        }
        let store = SqliteStore::connect(db.to_str().unwrap()).await.unwrap();
        assert!(user_exists(&store, "old").await);
    }

    #[tokio::test]
    async fn the_wal_starts_over_under_steady_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("t.db");
        let store = SqliteStore::connect(db.to_str().unwrap()).await.unwrap();
        // Commit back to back for a while: PASSIVE checkpoints alone would never catch
        // up with the writer, and without restarts the WAL would hold every frame.
        let start = std::time::Instant::now();
        let mut commits = 0;
        while start.elapsed() < CHECKPOINT_EVERY * 8 {
            let mut tx = store.write().await.unwrap();
            tx.insert_user(&user(&format!("u{commits}")), None).await.unwrap();
            tx.commit().await.unwrap();
            commits += 1;
        }
        let (frames, total): (i64, i64) = {
            let writer = store.writer.lock().await;
            let frames = writer
                .conn
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
                .unwrap();
            let total = writer
                .conn
                .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
                .unwrap();
            (frames, total)
        };
        assert_eq!(total, commits);
        assert!(
            frames < commits,
            "{frames} frames in the WAL after {commits} commits of at least one frame each"
        );
    }

    #[tokio::test]
    async fn concurrent_writes_commit_as_one_group_and_each_rolls_back_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(
            SqliteStore::connect(dir.path().join("t.db").to_str().unwrap())
                .await
                .unwrap(),
        );
        let before = store.wal.as_ref().unwrap().shared.commits.load(Ordering::Relaxed);
        let mut tasks = Vec::new();
        for i in 0..30 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut tx = store.write().await.unwrap();
                tx.insert_user(&user(&format!("u{i}")), None).await.unwrap();
                match i % 3 {
                    0 => tx.commit().await.unwrap(),
                    // A failed statement, then the drop: only this one's work goes.
                    1 => assert!(tx.insert_user(&user(&format!("u{i}")), None).await.is_err()),
                    _ => drop(tx),
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        for i in 0..30 {
            assert_eq!(user_exists(&store, &format!("u{i}")).await, i % 3 == 0, "u{i}");
        }
        let groups = store.wal.as_ref().unwrap().shared.commits.load(Ordering::Relaxed) - before;
        assert!((1..10).contains(&groups), "10 commits took {groups} groups");
    }

    #[tokio::test]
    async fn a_group_commits_even_if_the_member_that_started_it_is_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::connect(dir.path().join("t.db").to_str().unwrap())
            .await
            .unwrap();
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("cancelled"), None).await.unwrap();
        {
            let commit = tx.commit();
            tokio::pin!(commit);
            assert!(futures_util::poll!(&mut commit).is_pending(), "waits for the group");
        }
        // Not committed yet, so readers do not see it...
        assert!(!user_exists(&store, "cancelled").await);
        // ...until the group's committer has run.
        let mut tries = 0;
        while !user_exists(&store, "cancelled").await {
            tries += 1;
            assert!(tries < 100, "the group never committed");
            tokio::task::yield_now().await;
        }
    }
}
