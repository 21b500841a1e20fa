//! The WAL checkpoints, on a thread of their own, and the commit count that paces them.
//!
//! The writer's auto-checkpoint is off, because it would run inside a commit, on a
//! tokio worker, and fsync there. A background thread with its own connection
//! checkpoints instead, every [`CHECKPOINT_EVERY`] when there were commits and sooner
//! after [`CHECKPOINT_AFTER_COMMITS`] of them. It first runs `wal_checkpoint(PASSIVE)`,
//! which copies the WAL into the database (and fsyncs) without ever taking the write
//! lock, so writers go on meanwhile. Under steady writes that alone never lets the WAL
//! start over (SQLite restarts it only when a write begins after a checkpoint copied
//! *all* of it), and the WAL grows without bound, every commit appending to fresh file
//! pages, which costs the kernel more than overwriting cached ones. So when the WAL
//! holds [`RESTART_AFTER_FRAMES`] or more, the thread takes the writer's mutex itself
//! (write transactions queue behind it as they would behind any other), commits the
//! open group if there is one (its members have all committed their part, or they
//! would hold the mutex), and runs `wal_checkpoint(RESTART)`: it copies the few
//! frames written since the PASSIVE one and waits, briefly, for readers still on the
//! old WAL, so the next write starts the WAL from its beginning. No tokio worker ever
//! blocks on it. TRUNCATE is not used: starting over in a file of the same size
//! rewrites pages already in the page cache. The thread stops when the store is
//! dropped.

use rusqlite::{Connection, OpenFlags};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::Mutex;

use super::group::Writer;
use super::{BUSY_TIMEOUT, prepare};
use crate::store::{Error, Result};

/// The checkpointer's period while there are commits.
pub(super) const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// Commits after which the writer asks for a checkpoint before the period is up.
const CHECKPOINT_AFTER_COMMITS: u64 = 500;
/// WAL frames (pages) from which a checkpoint pauses writes to start the WAL over.
const RESTART_AFTER_FRAMES: i64 = 2000;
/// How long a restarting checkpoint waits for readers still on the old WAL, while
/// writes wait for it; past that, it gives up until the next round.
const RESTART_WAIT: Duration = Duration::from_millis(100);
/// How long dropping the store waits for the checkpoint thread to end.
const STOP_WAIT: Duration = Duration::from_secs(2);

/// Commits since the last checkpoint, and the thread that checkpoints.
pub(super) struct Wal {
    pub(super) shared: Arc<WalShared>,
    thread: Option<JoinHandle<()>>,
    /// Disconnects when the thread has closed its connections and is about to end.
    /// (In a mutex only because a `Receiver` is not `Sync`, and the store must be.)
    done: std::sync::Mutex<mpsc::Receiver<()>>,
}

pub(super) struct WalShared {
    pub(super) commits: AtomicU64,
    wake: mpsc::Sender<Signal>,
}

enum Signal {
    /// Many commits since the last checkpoint: do one now.
    Checkpoint,
    Stop,
}

impl Wal {
    pub(super) fn start(path: &std::path::Path, writer: Arc<Mutex<Writer>>) -> Result<Self> {
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
            .map_err(Error::Thread)?;
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
    pub(super) fn committed(&self) {
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
