//! A connection's bounded mailbox for room messages. A member whose mailbox is full is
//! marked overflowed and its connection closes itself (1013) instead of slowing the
//! room down.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::Notify;

/// The sending side of a connection's bounded inbox for room messages (JSON text
/// frames). A plain queue rather than a channel: a channel allocates its first block
/// of slots up front, and most connections in a large room idle with nothing queued.
#[derive(Clone)]
pub struct Mailbox(Arc<Shared>);

/// The receiving side, owned by the connection.
pub struct Inbox(Arc<Shared>);

struct Shared {
    queue: Mutex<VecDeque<Bytes>>,
    capacity: usize,
    notify: Notify,
    /// Set when a message did not fit: the connection is too slow and closes itself.
    overflowed: AtomicBool,
}

impl Mailbox {
    pub fn new(capacity: usize) -> (Mailbox, Inbox) {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            notify: Notify::new(),
            overflowed: AtomicBool::new(false),
        });
        (Mailbox(shared.clone()), Inbox(shared))
    }

    pub fn overflowed(&self) -> bool {
        self.0.overflowed.load(Ordering::Relaxed)
    }

    pub(super) fn deliver(&self, frame: &Bytes) {
        let mut queue = self.0.queue.lock().expect("mailbox lock");
        if queue.len() >= self.0.capacity {
            self.0.overflowed.store(true, Ordering::Relaxed);
            return;
        }
        queue.push_back(frame.clone());
        drop(queue);
        self.0.notify.notify_one();
    }
}

impl Inbox {
    /// Waits until at least one message is queued, then moves every queued message
    /// to `out` (in order). Cancel-safe: nothing is taken until it is handed over.
    pub async fn recv_all(&self, out: &mut Vec<Bytes>) {
        loop {
            if self.try_recv_all(out) {
                return;
            }
            self.0.notify.notified().await;
        }
    }

    /// Moves every queued message to `out`; whether there was any.
    pub fn try_recv_all(&self, out: &mut Vec<Bytes>) -> bool {
        let mut queue = self.0.queue.lock().expect("mailbox lock");
        if queue.is_empty() {
            return false;
        }
        out.extend(queue.drain(..));
        // A burst's worth of room is not kept for a connection that idles after it.
        if queue.capacity() > 16 {
            queue.shrink_to_fit();
        }
        true
    }
}
