//! What the store can fail with. The store knows nothing of the service's error: core
//! maps this onto it once (`From<store::Error> for core::Error`), where a database URL
//! the store cannot use is the operator's to fix (`databaseUrl`) and the rest is
//! internal.

use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database URL does not parse, or asks for what the store does not do.
    #[error("bad {backend} URL `{url}`: {why}")]
    InvalidUrl {
        backend: &'static str,
        url: String,
        why: String,
    },
    /// The database URL names a backend this build does not have.
    #[error("`{scheme}:` URLs are not supported: use postgres:, sqlite: or a file path")]
    Unsupported { scheme: String },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
    #[error(transparent)]
    PostgresMigrate(#[from] sqlx::migrate::MigrateError),
    /// A stored row (an event, a remembered response) that does not decode.
    #[error(transparent)]
    Decode(#[from] prost::DecodeError),
    /// The database was migrated by a newer build than this one.
    #[error("the database is at schema version {found}, newer than this build's {known}")]
    SchemaTooNew { found: i64, known: usize },
    #[error("SQLite refused WAL mode for {path} (journal_mode is {mode})")]
    NoWal { path: String, mode: String },
    /// SQLite rolled the open transaction back by itself (it does after some errors).
    #[error("SQLite rolled the transaction back")]
    RolledBack,
    /// A write transaction's group ended before telling it how its commit went.
    #[error("the write transaction's group ended {when}")]
    GroupEnded { when: &'static str },
    /// The group a write transaction committed in failed to commit.
    #[error("group commit: {0}")]
    GroupFailed(Arc<str>),
    /// The database file is no longer the one the store opened (deleted, or another
    /// file put in its place): what is written now would be lost at the next start.
    #[error("the database file {path} was deleted or replaced; restart the server")]
    FileGone { path: String },
    /// The database refused a write for want of room or permission (disk full,
    /// read-only, an I/O error): nothing of it was applied.
    #[error("the database cannot be written ({why})")]
    Unwritable { why: Arc<str> },
    /// The read pool's semaphore closed (it never is while the store lives).
    #[error(transparent)]
    Readers(#[from] tokio::sync::AcquireError),
    /// The checkpoint thread could not be started.
    #[error(transparent)]
    Thread(std::io::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// Whether the database could not be reached, or is going away: the same request
    /// may well succeed a moment later, unlike one the database refused.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Postgres(e) | Error::PostgresMigrate(sqlx::migrate::MigrateError::Execute(e)) => {
                connection_failed(e)
            }
            _ => false,
        }
    }

    /// Why the database cannot take writes, when that is what failed: a condition of
    /// the disk that clears by itself or by the operator's hand, without a restart.
    pub fn unwritable(&self) -> Option<&str> {
        match self {
            Error::Unwritable { why } => Some(why),
            Error::Sqlite(e) => unwritable(e),
            _ => None,
        }
    }
}

/// SQLite's word for a write it could not make for want of room or permission.
pub(super) fn unwritable(e: &rusqlite::Error) -> Option<&'static str> {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code()? {
        ErrorCode::DiskFull => Some("the disk is full"),
        ErrorCode::ReadOnly => Some("the file is read-only"),
        ErrorCode::SystemIoFailure => Some("an I/O error"),
        _ => None,
    }
}

/// A failure of the connection rather than of the statement: the socket (io, TLS), no
/// connection within the pool's timeout, a closed pool, or the server ending the
/// session (SQLSTATE class 08, connection exception; 57P01..57P03, an administrator,
/// a crash or a start-up).
pub(super) fn connection_failed(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}
