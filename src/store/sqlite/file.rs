//! Whether the database file on disk is still the one the store has open.
//!
//! A file deleted (or replaced, say by a restore) while the server runs goes on
//! working through the descriptors SQLite holds: writes succeed into an unlinked
//! inode and are gone at the next start, and a read connection opened afterwards
//! fails (or opens the other file). So the store records the database's and its WAL's
//! device and inode when it opens them and compares them again before each group of
//! writes (one `stat` each per group, not per write), whenever a read connection is
//! opened, and on [`Store::ping`](crate::store::Store::ping). Once they differ the
//! store refuses every read and write until a restart: what it would read is no longer
//! what is on disk, and what it would write would be lost. Logged once.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::store::{Error, Result};

/// The files a file database is made of, as first opened.
pub(super) struct FileIdentity {
    path: PathBuf,
    /// (file, its device and inode); the WAL only if it existed at open.
    files: Vec<(PathBuf, Option<(u64, u64)>)>,
    /// Set once a file was found gone: every later call fails without looking.
    gone: AtomicBool,
}

impl FileIdentity {
    /// Records the database at `path` and its WAL (after the writer opened both).
    pub(super) fn record(path: &Path) -> Self {
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let mut files = vec![(path.to_owned(), identity(path))];
        let wal = PathBuf::from(wal);
        if let Some(id) = identity(&wal) {
            files.push((wal, Some(id)));
        }
        FileIdentity {
            path: path.to_owned(),
            files,
            gone: AtomicBool::new(false),
        }
    }

    /// Fails if a file was already found gone; does not look at the disk.
    pub(super) fn known_gone(&self) -> Result<()> {
        if self.gone.load(Ordering::Relaxed) {
            return Err(self.error());
        }
        Ok(())
    }

    /// Compares the files on disk with those recorded.
    pub(super) fn check(&self) -> Result<()> {
        self.known_gone()?;
        if let Some((file, _)) = self.files.iter().find(|(file, id)| identity(file) != *id) {
            if !self.gone.swap(true, Ordering::Relaxed) {
                tracing::error!(
                    file = %file.display(),
                    "the database file was deleted or replaced while the server ran: refusing every \
                     read and write (what they wrote would be lost); restart the server"
                );
            }
            return Err(self.error());
        }
        Ok(())
    }

    fn error(&self) -> Error {
        Error::FileGone {
            path: self.path.display().to_string(),
        }
    }
}

/// A file's device and inode; `None` when there is no file at `path`.
fn identity(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}
