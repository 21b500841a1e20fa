//! The fan-out thread: where published events are handed to their subscribers.
//!
//! Why a thread: sent from a runtime worker (the request that committed), a
//! broadcast's wake-ups would land in that worker's local run queue (and its LIFO
//! slot), which tokio serves ahead of its global queue: the subscribers woken last
//! time would be served again and again while the rest wait, and under a burst of
//! writes the first event of the burst reached most watchers only after the last was
//! published (docs/BENCHMARKS.md, "Fair fan-out"). Woken from outside the runtime,
//! every subscriber queues in one FIFO and takes all that is waiting when its turn
//! comes.
//!
//! The queue in front of it is bounded ([`QUEUE`]). When it is full the publisher
//! waits for room: events are the product and are never dropped, and the wait holds
//! writers back only while the thread is a whole queue behind, which bounds the
//! memory a burst can take. The wait blocks a runtime worker, which is safe (the
//! thread needs nothing from the runtime to drain) and short (about one event's
//! fan-out, when it happens at all). A panic on the thread is logged, raised on
//! [`Fanout::failed`] (the server shuts down on it and exits with an error), and
//! every later send is an error rather than silence. [`Fanout::stop`] delivers what
//! is queued, then joins the thread with a bounded wait.

use std::sync::Mutex;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

/// Events that may wait for the fan-out thread. A burst of writes (hundreds of
/// events: the benchmark's is 200) fits without holding a writer back; past it, at
/// one fan-out per event, a writer waits about one event's fan-out for its turn.
pub(super) const QUEUE: usize = 1024;

/// Longest [`Fanout::stop`] waits for the thread to deliver what is queued and end.
pub(super) const STOP_WAIT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    #[error("the fan-out thread died (it panicked): live events are no longer delivered")]
    Dead,
    #[error("the fan-out thread was stopped (shutdown)")]
    Stopped,
    #[error("the fan-out thread did not end within {0:?}")]
    Stuck(Duration),
}

/// The thread, its queue, and how it ended.
pub(super) struct Fanout<T> {
    /// `None` once stopped: the thread ends when it has delivered what is queued
    /// and no sender is left.
    queue: Mutex<Option<SyncSender<T>>>,
    /// The thread and a receiver that disconnects when the thread ends, however it
    /// ends; taken by the first `stop`.
    thread: Mutex<Option<(JoinHandle<()>, Receiver<()>)>>,
    /// `true` once the thread has panicked.
    dead: watch::Sender<bool>,
}

/// Raises the alarm if the thread unwinds.
struct PanicGuard(watch::Sender<bool>);

impl Drop for PanicGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!("the fan-out thread panicked: live events are no longer delivered");
            self.0.send_replace(true);
        }
    }
}

impl<T: Send + 'static> Fanout<T> {
    /// Starts the thread, which calls `deliver` on each item in send order.
    pub(super) fn spawn(name: &str, capacity: usize, mut deliver: impl FnMut(T) + Send + 'static) -> Self {
        let (queue, items) = mpsc::sync_channel(capacity);
        let (dead, _) = watch::channel(false);
        let guard = PanicGuard(dead.clone());
        let (alive, ended) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                // Dropped in reverse order: the queue first (so a send after a panic
                // fails), then the alarm, then the sign that the thread has ended.
                let _alive = alive;
                let _guard = guard;
                let items = items;
                while let Ok(item) = items.recv() {
                    deliver(item);
                }
            })
            .expect("spawn the fan-out thread");
        Fanout {
            queue: Mutex::new(Some(queue)),
            thread: Mutex::new(Some((thread, ended))),
            dead,
        }
    }

    /// Queues an item, waiting for room when the queue is full. On error the item
    /// comes back (for the caller's log).
    pub(super) fn send(&self, item: T) -> Result<(), (FanoutError, T)> {
        let Some(queue) = self.queue.lock().expect("fan-out lock").clone() else {
            return Err((FanoutError::Stopped, item));
        };
        // Our sender keeps the thread from ending normally: disconnected means dead.
        match queue.try_send(item) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(item)) => {
                tracing::debug!("fan-out queue full: the publisher waits for room");
                queue
                    .send(item)
                    .map_err(|mpsc::SendError(item)| (FanoutError::Dead, item))
            }
            Err(TrySendError::Disconnected(item)) => Err((FanoutError::Dead, item)),
        }
    }

    /// Resolves to `true` once the thread has died.
    pub(super) fn failed(&self) -> watch::Receiver<bool> {
        self.dead.subscribe()
    }
}

impl<T> Fanout<T> {
    /// Whether the thread has been joined.
    #[cfg(test)]
    pub(super) fn joined(&self) -> bool {
        self.thread.lock().expect("fan-out lock").is_none()
    }

    /// Refuses new items, lets the thread deliver what is queued and end, and joins
    /// it, waiting at most `wait` (a thread that stopped draining must not hang
    /// shutdown). Later calls return `Ok` at once.
    pub(super) fn stop(&self, wait: Duration) -> Result<(), FanoutError> {
        drop(self.queue.lock().expect("fan-out lock").take());
        let Some((thread, ended)) = self.thread.lock().expect("fan-out lock").take() else {
            return Ok(());
        };
        match ended.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => Err(FanoutError::Stuck(wait)),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => thread.join().map_err(|_| FanoutError::Dead),
        }
    }
}

impl<T> Drop for Fanout<T> {
    /// A drop guard: the thread never outlives its owner (a no-op once stopped).
    fn drop(&mut self) {
        match self.stop(STOP_WAIT) {
            Ok(()) | Err(FanoutError::Dead | FanoutError::Stopped) => {}
            Err(e) => tracing::warn!(error = %e, "fan-out thread left running"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A fan-out whose deliveries go to a channel, each first waiting for `gate`.
    fn gated(capacity: usize) -> (Fanout<u32>, mpsc::Sender<()>, mpsc::Receiver<u32>) {
        let (open, gate) = mpsc::channel::<()>();
        let (out, delivered) = mpsc::channel();
        let fanout = Fanout::spawn("test-fanout", capacity, move |n| {
            let _ = gate.recv();
            let _ = out.send(n);
        });
        (fanout, open, delivered)
    }

    #[test]
    fn items_are_delivered_in_send_order() {
        let (fanout, open, delivered) = gated(4);
        for n in 0..100 {
            open.send(()).unwrap();
            fanout.send(n).unwrap();
        }
        let got: Vec<u32> = (0..100).map(|_| delivered.recv().unwrap()).collect();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
        fanout.stop(STOP_WAIT).unwrap();
    }

    #[test]
    fn a_full_queue_makes_the_sender_wait_and_loses_nothing() {
        let (fanout, open, delivered) = gated(1);
        let fanout = Arc::new(fanout);
        // One item held by the thread (the gate is shut), one in the queue.
        fanout.send(1).unwrap();
        fanout.send(2).unwrap();
        let (sent_tx, sent) = mpsc::channel();
        let sender = {
            let fanout = fanout.clone();
            std::thread::spawn(move || {
                fanout.send(3).unwrap();
                sent_tx.send(()).unwrap();
            })
        };
        assert!(
            sent.recv_timeout(Duration::from_millis(200)).is_err(),
            "the third send waits while the queue is full"
        );
        for _ in 0..3 {
            open.send(()).unwrap();
        }
        sent.recv_timeout(Duration::from_secs(5))
            .expect("the send completes once there is room");
        sender.join().unwrap();
        let got: Vec<u32> = (0..3).map(|_| delivered.recv().unwrap()).collect();
        assert_eq!(got, [1, 2, 3]);
    }

    #[test]
    fn stop_delivers_what_is_queued_then_joins() {
        let (fanout, open, delivered) = gated(8);
        for n in 0..5 {
            fanout.send(n).unwrap();
        }
        for _ in 0..5 {
            open.send(()).unwrap();
        }
        fanout.stop(STOP_WAIT).unwrap();
        assert_eq!(delivered.try_iter().collect::<Vec<_>>(), [0, 1, 2, 3, 4]);
        assert!(matches!(fanout.send(9), Err((FanoutError::Stopped, 9))));
        fanout.stop(STOP_WAIT).unwrap();
    }

    #[test]
    fn a_stuck_thread_does_not_hang_stop() {
        let (fanout, _open, _delivered) = gated(1);
        fanout.send(1).unwrap();
        fanout.send(2).unwrap();
        let wait = Duration::from_millis(100);
        assert!(matches!(fanout.stop(wait), Err(FanoutError::Stuck(_))));
    }

    #[test]
    fn a_send_after_the_thread_died_is_an_error_not_silence() {
        let fanout = Fanout::spawn("test-fanout", 4, |n: u32| assert_ne!(n, 7, "deliberate panic"));
        let mut failed = fanout.failed();
        assert!(!*failed.borrow());
        fanout.send(7).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), failed.wait_for(|dead| *dead))
                .await
                .expect("the death is raised")
                .unwrap();
        });
        assert!(matches!(fanout.send(8), Err((FanoutError::Dead, 8))));
        assert!(matches!(fanout.stop(STOP_WAIT), Err(FanoutError::Dead)));
    }
}
