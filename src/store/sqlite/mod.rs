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
//! and checkpoints run on a thread of their own ([`checkpoint`]). What is left is a
//! wait for a lock another connection holds, and that is bounded by [`BUSY_TIMEOUT`].
//!
//! **Writes** go through exactly one connection behind a [`tokio::sync::Mutex`]: a
//! write [`Tx`] holds the owned guard from its start to its commit (or rollback), so
//! write transactions queue in that mutex, in order, instead of racing for SQLite's
//! lock (a deferred transaction that read first would fail with SQLITE_BUSY when it
//! tries to write). On a file database they commit in groups ([`group`]). **Reads**
//! take one connection of a small read-only pool ([`readers`]) for the life of their
//! [`Tx`] and open a deferred transaction, so every read sees one consistent snapshot
//! and, in WAL mode, never waits for the writer.
//!
//! **Durability:** `synchronous=NORMAL` in WAL keeps every committed transaction
//! across a crash of the process (`kill -9`); only an OS crash or power loss can lose
//! the last few.
//!
//! **`:memory:`** (and `mode=memory`): each connection to an in-memory database is its
//! own database, so one connection serves reads and writes alike, behind the writer's
//! mutex, and each write transaction commits alone (a read on that connection would
//! otherwise see a group's uncommitted work).
//!
//! **A deleted or replaced file** is noticed and refused ([`file`]); a write the disk
//! refuses (full, read-only) fails with [`Error::Unwritable`], nothing of it applied,
//! and the next write tries the disk again.
//!
//! The rest, one concern a file: [`url`] (what a database URL names), [`migrate`] (the
//! schema), [`tx`] (a transaction's connection, begin and rollback), [`queries`] (the
//! SQL of [`Tx`]; [`retention`] that of expiry and compaction) and [`rows`] (rows to
//! messages).

mod accounts;
mod checkpoint;
mod details;
mod file;
mod group;
mod migrate;
mod queries;
mod readers;
mod retention;
mod rows;
mod tx;
mod url;

#[cfg(test)]
mod tests;

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

use super::{Error, Result, Store, Tx};
use crate::metrics::Metrics;
use checkpoint::Wal;
use file::FileIdentity;
use group::{Member, Writer};
use readers::ReaderPool;
use tx::{Conn, SqliteTx};
use url::{Location, location};

/// How long a statement waits for a lock another connection holds before SQLITE_BUSY.
/// In this design only the checkpointer or another process can hold one.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Distinct statements each connection keeps prepared (there are about thirty).
const STATEMENT_CACHE: usize = 64;

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
    /// The database file as opened, to notice it deleted or replaced; `None` for
    /// `:memory:`.
    file: Option<Arc<FileIdentity>>,
}

/// Settings every connection shares.
fn prepare(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

impl SqliteStore {
    // Async like every store's connect (a networked one awaits); SQLite opens inline.
    #[allow(clippy::unused_async)]
    pub async fn connect(url: &str) -> Result<Self> {
        Self::open(url, Arc::new(Metrics::new())).await
    }

    /// Like [`SqliteStore::connect`], timing its commits in `metrics`.
    #[allow(clippy::unused_async)]
    pub async fn open(url: &str, metrics: Arc<Metrics>) -> Result<Self> {
        // Opening and migrating run inline too: this happens once, at start-up.
        match location(url)? {
            Location::Memory => {
                let conn = Connection::open_in_memory()?;
                prepare(&conn)?;
                migrate::migrate(&conn)?;
                Ok(SqliteStore {
                    writer: Arc::new(Mutex::new(Writer::new(conn, metrics))),
                    group_commit: false,
                    readers: None,
                    wal: None,
                    file: None,
                })
            }
            Location::File { path, create } => {
                let writer = Arc::new(Mutex::new(Writer::new(open_writer(&path, create)?, metrics)));
                let file = Arc::new(FileIdentity::record(&path));
                let wal = Wal::start(&path, writer.clone())?;
                Ok(SqliteStore {
                    writer,
                    group_commit: true,
                    readers: Some(Arc::new(ReaderPool::new(path, file.clone()))),
                    wal: Some(wal),
                    file: Some(file),
                })
            }
        }
    }
}

/// Opens a file database's write connection in WAL mode and migrates it.
fn open_writer(path: &Path, create: bool) -> Result<Connection> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let writer = Connection::open_with_flags(path, flags)?;
    prepare(&writer)?;
    let mode: String = writer.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::NoWal {
            path: path.display().to_string(),
            mode,
        });
    }
    writer.pragma_update(None, "synchronous", "NORMAL")?;
    writer.pragma_update(None, "wal_autocheckpoint", 0)?;
    migrate::migrate(&writer)?;
    writer.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
    // A group's savepoints journal in memory, never in a temporary file.
    writer.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(writer)
}

#[async_trait]
impl Store for SqliteStore {
    async fn read(&self) -> Result<Box<dyn Tx>> {
        if let Some(file) = &self.file {
            file.known_gone()?;
        }
        let conn = match &self.readers {
            Some(pool) => Conn::Reader(pool.take().await?),
            None => Conn::Writer(Some(self.writer.clone().lock_owned().await)),
        };
        SqliteTx::begin(conn, "BEGIN", None)
    }

    async fn write(&self) -> Result<Box<dyn Tx>> {
        let mut guard = self.writer.clone().lock_owned().await;
        if let Some(file) = &self.file {
            // Once per group: a write joining an open one was checked with its first.
            if guard.opens_group() {
                file.check()?;
            } else {
                file.known_gone()?;
            }
        }
        let wal = self.wal.as_ref().map(|w| w.shared.clone());
        if !self.group_commit {
            return SqliteTx::begin(Conn::Writer(Some(guard)), "BEGIN IMMEDIATE", wal);
        }
        let member = Member::join(&mut guard, self.writer.clone())?;
        Ok(Box::new(SqliteTx::member(guard, wal, member)))
    }

    async fn ping(&self) -> Result<()> {
        if let Some(file) = &self.file {
            file.check()?;
        }
        // A real query: the file answers, not only its name on disk.
        let mut tx = self.read().await?;
        tx.account_count().await?;
        Ok(())
    }
}
