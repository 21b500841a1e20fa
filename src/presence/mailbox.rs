//! A connection's bounded mailbox for room messages. Room messages are ephemeral: one
//! that does not fit is dropped for that member (the room never waits for it, and it
//! is never cut off for it); `presence` knows, and sends its viewer list again.

use std::collections::VecDeque;
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
}

impl Mailbox {
    pub fn new(capacity: usize) -> (Mailbox, Inbox) {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            notify: Notify::new(),
        });
        (Mailbox(shared.clone()), Inbox(shared))
    }

    /// Queues a message; false when the mailbox is full and it was dropped.
    pub(super) fn deliver(&self, frame: &Bytes) -> bool {
        let mut queue = self.0.queue.lock().expect("mailbox lock");
        if queue.len() >= self.0.capacity {
            return false;
        }
        queue.push_back(frame.clone());
        drop(queue);
        self.0.notify.notify_one();
        true
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
