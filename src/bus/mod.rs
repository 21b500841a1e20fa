//! Pub/sub of committed board events inside one process. Core publishes each event
//! after its transaction commits; subscribers (SSE, WebSocket, gRPC streams, long
//! polls) receive it without the producer knowing who listens.
//!
//! Each board has a `tokio::sync::broadcast` ring: one send reaches every subscriber,
//! memory is bounded by the ring's capacity whatever the subscribers do, and a
//! subscriber that falls more than `capacity` events behind learns it explicitly
//! (`Lagged`) instead of slowing anyone down. Every event is serialized once per
//! format ([`SharedEvent`]) and shared by all subscribers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;
use prost::Message;
use tokio::sync::broadcast;

use crate::proto::v1::BoardEvent;

/// An event with its encodings, each built once and shared by every subscriber.
#[derive(Debug)]
pub struct SharedEvent {
    pub event: BoardEvent,
    /// The event's JSON (REST/SSE/WebSocket/polling shape).
    pub json: Bytes,
    /// The encoded `BoardEvent` (gRPC).
    pub proto: Bytes,
    /// A transport frame that is the same for every subscriber; see [`Self::shared_frame`].
    frame: OnceLock<Bytes>,
}

impl SharedEvent {
    pub fn new(event: BoardEvent) -> Arc<Self> {
        let json = serde_json::to_vec(&event).expect("proto types serialize to JSON");
        Arc::new(SharedEvent {
            proto: event.encode_to_vec().into(),
            json: json.into(),
            event,
            frame: OnceLock::new(),
        })
    }

    pub fn seq(&self) -> u64 {
        self.event.seq
    }

    pub fn board_id(&self) -> &str {
        &self.event.board_id
    }

    pub fn type_name(&self) -> &'static str {
        self.event.payload.as_ref().map_or("unknown", |p| p.type_name())
    }

    /// A frame of this event built by the first subscriber that asks (with `build`)
    /// and shared by all after it. The slot is opaque to the bus and holds one frame:
    /// it is for the one transport whose frame is the same for every subscriber (the
    /// SSE one-board stream, `crate::wire::sse`).
    pub fn shared_frame(&self, build: impl FnOnce(&Self) -> Bytes) -> Bytes {
        self.frame.get_or_init(|| build(self)).clone()
    }
}

pub type Receiver = broadcast::Receiver<Arc<SharedEvent>>;

type Boards = Mutex<Option<HashMap<String, broadcast::Sender<Arc<SharedEvent>>>>>;

pub struct Bus {
    /// How many events a subscriber may fall behind before it is told it lagged.
    capacity: usize,
    /// Per-board senders; `None` once the bus is closed for shutdown.
    boards: Arc<Boards>,
    /// Events on their way to the fan-out thread, in publish order.
    fanout: std::sync::mpsc::Sender<BoardEvent>,
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        let boards: Arc<Boards> = Arc::new(Mutex::new(Some(HashMap::new())));
        let (fanout, events) = std::sync::mpsc::channel();
        let shared = boards.clone();
        // The broadcast send happens on a thread of its own. Sent from a runtime
        // worker (the request that committed), its wake-ups would land in that
        // worker's local run queue, which tokio serves ahead of its global queue: the
        // subscribers woken last time would be served again and again while the rest
        // wait, and under a burst of writes the first event of the burst reached most
        // watchers only after the last was published (docs/BENCHMARKS.md). Woken
        // from outside, every subscriber queues in one FIFO and takes all that is
        // waiting when its turn comes.
        std::thread::Builder::new()
            .name("boardcast-fanout".into())
            .spawn(move || {
                // Ends when the bus, and with it the sending side, is dropped.
                // Each event's wire forms are built here, off the request's path.
                while let Ok(event) = events.recv() {
                    send(&shared, SharedEvent::new(event));
                }
            })
            .expect("spawn the fan-out thread");
        Bus {
            capacity: capacity.max(1),
            boards,
            fanout,
        }
    }

    /// Hands a committed event to every subscriber of its board, in publish order.
    pub fn publish(&self, event: BoardEvent) {
        // A board nobody follows costs no trip to the fan-out thread (nor building
        // the event's wire forms). Whoever subscribes after this check reads the
        // committed event from the log.
        let followed = self
            .boards
            .lock()
            .expect("bus lock")
            .as_ref()
            .is_some_and(|boards| boards.contains_key(&event.board_id));
        if followed {
            let _ = self.fanout.send(event);
        }
    }

    /// Live events of one board from now on. After [`Bus::close`], a receiver that
    /// is already closed.
    pub fn subscribe(&self, board_id: &str) -> Receiver {
        let mut guard = self.boards.lock().expect("bus lock");
        let Some(boards) = guard.as_mut() else {
            return broadcast::channel(1).1;
        };
        if let Some(tx) = boards.get(board_id) {
            return tx.subscribe();
        }
        // A new ring: first drop those nobody listens to any more.
        boards.retain(|_, tx| tx.receiver_count() > 0);
        let (tx, rx) = broadcast::channel(self.capacity);
        boards.insert(board_id.to_owned(), tx);
        rx
    }

    /// Ends every subscription (their receivers see `Closed`) and refuses new ones:
    /// how streams learn the server is shutting down.
    pub fn close(&self) {
        self.boards.lock().expect("bus lock").take();
    }
}

fn send(boards: &Boards, event: Arc<SharedEvent>) {
    let mut guard = boards.lock().expect("bus lock");
    let Some(boards) = guard.as_mut() else { return };
    if let Some(tx) = boards.get(event.board_id()) {
        let board = event.board_id().to_owned();
        if tx.send(event).is_err() {
            // Nobody listens any more: forget the board until someone does.
            boards.remove(&board);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(board: &str, seq: u64) -> BoardEvent {
        BoardEvent {
            seq,
            board_id: board.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn subscribers_get_their_board_only_and_lag_is_explicit() {
        let bus = Bus::new(2);
        let mut one = bus.subscribe("b1");
        let mut two = bus.subscribe("b2");
        bus.publish(event("b1", 1));
        bus.publish(event("b2", 1));
        assert_eq!(one.recv().await.unwrap().board_id(), "b1");
        assert_eq!(two.recv().await.unwrap().board_id(), "b2");
        for seq in 2..=5 {
            bus.publish(event("b1", seq));
        }
        // Published in order: once b2's next event arrives, b1's four have been sent.
        bus.publish(event("b2", 2));
        assert_eq!(two.recv().await.unwrap().seq(), 2);
        assert!(matches!(one.recv().await, Err(broadcast::error::RecvError::Lagged(2))));
        bus.close();
        assert!(matches!(two.recv().await, Err(broadcast::error::RecvError::Closed)));
        let mut late = bus.subscribe("b1");
        assert!(matches!(late.recv().await, Err(broadcast::error::RecvError::Closed)));
    }

    #[test]
    fn rings_without_listeners_are_dropped() {
        let bus = Bus::new(4);
        drop(bus.subscribe("gone"));
        let _kept = bus.subscribe("kept");
        let boards = bus.boards.lock().unwrap();
        let names: Vec<&String> = boards.as_ref().unwrap().keys().collect();
        assert_eq!(names, ["kept"]);
    }
}
