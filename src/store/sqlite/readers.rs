//! The read-only connections of a file database: opened on first need, at most
//! [`READERS`] of them, each lent to one read transaction for its lifetime.

use rusqlite::{Connection, OpenFlags};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::file::FileIdentity;
use super::prepare;
use crate::store::Result;

/// Read connections at most; each read transaction holds one for its lifetime.
const READERS: usize = 8;

/// Read-only connections, opened on first need, each lent to one read transaction.
pub(super) struct ReaderPool {
    path: PathBuf,
    /// Checked before a connection is opened: one opened on a deleted or replaced
    /// file would fail, or read another database.
    file: Arc<FileIdentity>,
    idle: std::sync::Mutex<Vec<Connection>>,
    /// One permit per connection that may exist.
    permits: Arc<Semaphore>,
}

impl ReaderPool {
    pub(super) fn new(path: PathBuf, file: Arc<FileIdentity>) -> Self {
        ReaderPool {
            path,
            file,
            idle: std::sync::Mutex::new(Vec::with_capacity(READERS)),
            permits: Arc::new(Semaphore::new(READERS)),
        }
    }

    pub(super) async fn take(self: &Arc<Self>) -> Result<Lent> {
        let permit = self.permits.clone().acquire_owned().await?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = if let Some(conn) = idle {
            conn
        } else {
            self.file.check()?;
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let conn = Connection::open_with_flags(&self.path, flags)?;
            prepare(&conn)?;
            conn
        };
        Ok(Lent {
            conn: Some(conn),
            pool: self.clone(),
            _permit: permit,
        })
    }
}

/// A read connection on loan; goes back to the pool on drop (before its permit does).
pub(super) struct Lent {
    conn: Option<Connection>,
    pool: Arc<ReaderPool>,
    _permit: OwnedSemaphorePermit,
}

impl Lent {
    pub(super) fn conn(&self) -> &Connection {
        self.conn.as_ref().expect("a lent connection is present until drop")
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A connection still inside a transaction (its rollback failed) is not
            // lent again; dropping it closes it, and the next loan opens a new one.
            if conn.is_autocommit() {
                self.pool
                    .idle
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(conn);
            }
        }
    }
}
