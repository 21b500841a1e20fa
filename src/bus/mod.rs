//! Pub/sub of committed board events inside one process. Core publishes each event
//! after its transaction commits; subscribers (SSE, WebSocket, gRPC streams, long
//! polls) receive it without the producer knowing who listens.
//!
//! Each board has a `tokio::sync::broadcast` ring: one send reaches every subscriber,
//! memory is bounded by the ring's capacity whatever the subscribers do, and a
//! subscriber that falls more than `capacity` events behind learns it explicitly
//! (`Lagged`) instead of slowing anyone down. Every event is serialized once per
//! format ([`SharedEvent`]) and shared by all subscribers. Events reach the rings
//! through one thread of their own ([`fanout`] says why), in publish order.
//!
//! Events of other instances reach the bus through core's feed, which reads them from
//! the log; each ring's bookkeeping ([`Bus::published`]) tells the feed where to start,
//! and drops an event a ring was already given (the feed and a local commit may both
//! publish it).

mod fanout;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use bytes::Bytes;
use prost::Message;
use tokio::sync::{broadcast, watch};

use crate::proto::v1::BoardEvent;
use fanout::Fanout;
pub use fanout::FanoutError;

/// An event with its encodings, each built once and shared by every subscriber.
#[derive(Debug)]
pub struct SharedEvent {
    pub event: BoardEvent,
    /// The event's JSON (REST/SSE/WebSocket/polling shape).
    pub json: Bytes,
    /// The encoded `BoardEvent` (gRPC).
    pub proto: Bytes,
    /// When it was published, right after its commit (`None` for one read from the
    /// log): where the delivery latency is measured from.
    pub published: Option<Instant>,
    /// A transport frame that is the same for every subscriber; see [`Self::shared_frame`].
    frame: OnceLock<Bytes>,
}

impl SharedEvent {
    /// An event read from the log.
    pub fn new(event: BoardEvent) -> Arc<Self> {
        Self::build(event, None)
    }

    fn build(event: BoardEvent, published: Option<Instant>) -> Arc<Self> {
        let json = serde_json::to_vec(&event).expect("proto types serialize to JSON");
        Arc::new(SharedEvent {
            proto: event.encode_to_vec().into(),
            json: json.into(),
            event,
            published,
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

type Sender = broadcast::Sender<Arc<SharedEvent>>;
type Boards = Mutex<Option<HashMap<String, Ring>>>;

/// One board's ring and what it is known to cover.
struct Ring {
    tx: Sender,
    /// The highest seq published into the ring; `None` until the first.
    sent: Option<u64>,
    /// The lowest seq a subscriber of the ring read the board's log up to after it
    /// registered ([`Bus::seen`]); `None` until one says.
    read: Option<u64>,
}

impl Ring {
    /// Whether an event with this seq goes into the ring: not when one at least as
    /// recent went in already. Such an event is a late duplicate for everyone: a
    /// subscriber registered before that publish got the newer event (and reads any
    /// gap below it from the log), and one registered after read the board's log when
    /// the newer event was already committed.
    fn admit(&mut self, seq: u64) -> bool {
        if self.sent.is_some_and(|sent| seq <= sent) {
            return false;
        }
        self.sent = Some(seq);
        true
    }

    /// Everything up to this seq has reached, or will reach, every subscriber of the
    /// ring without another publish; `None` while no subscriber has said where it
    /// read up to and nothing was published (the ring is too new to tell).
    fn published(&self) -> Option<u64> {
        match (self.sent, self.read) {
            (Some(sent), Some(read)) => Some(sent.max(read)),
            (sent, read) => sent.or(read),
        }
    }
}

pub struct Bus {
    /// How many events a subscriber may fall behind before it is told it lagged.
    capacity: usize,
    /// Per-board senders; `None` once the bus is closed for shutdown.
    boards: Arc<Boards>,
    /// Events on their way to the fan-out thread, in publish order.
    fanout: Fanout<(BoardEvent, Instant)>,
}

impl Bus {
    pub fn new(capacity: usize) -> Self {
        let boards: Arc<Boards> = Arc::new(Mutex::new(Some(HashMap::new())));
        let shared = boards.clone();
        let fanout = Fanout::spawn("boardcast-fanout", fanout::QUEUE, move |event| send(&shared, event));
        Bus {
            capacity: capacity.max(1),
            boards,
            fanout,
        }
    }

    /// How many events a subscriber may fall behind before it is told it lagged.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Hands a committed event to every subscriber of its board, in publish order.
    /// Waits while the fan-out thread is a whole queue behind.
    /// An event the board's ring was already given a newer one than is dropped
    /// ([`Ring::admit`]).
    pub fn publish(&self, event: BoardEvent) {
        // A board nobody follows costs no trip to the fan-out thread (nor building
        // the event's wire forms). Whoever subscribes after this check reads the
        // committed event from the log.
        let admitted = self
            .boards
            .lock()
            .expect("bus lock")
            .as_mut()
            .and_then(|boards| boards.get_mut(&event.board_id))
            .is_some_and(|ring| ring.admit(event.seq));
        if !admitted {
            return;
        }
        match self.fanout.send((event, Instant::now())) {
            Ok(()) => {}
            // Closed while this event was on its way: every stream is ending anyway.
            Err((FanoutError::Stopped, (event, _))) => {
                tracing::debug!(
                    board = event.board_id,
                    seq = event.seq,
                    "event published during shutdown"
                );
            }
            Err((e, (event, _))) => {
                tracing::error!(error = %e, board = event.board_id, seq = event.seq, "live event not delivered");
            }
        }
    }

    /// Live events of one board from now on. After [`Bus::close`], a receiver that
    /// is already closed.
    pub fn subscribe(&self, board_id: &str) -> Receiver {
        let mut guard = self.boards.lock().expect("bus lock");
        let Some(boards) = guard.as_mut() else {
            return broadcast::channel(1).1;
        };
        if let Some(ring) = boards.get(board_id) {
            return ring.tx.subscribe();
        }
        // A new ring: first drop those nobody listens to any more.
        boards.retain(|_, ring| ring.tx.receiver_count() > 0);
        let (tx, rx) = broadcast::channel(self.capacity);
        boards.insert(
            board_id.to_owned(),
            Ring {
                tx,
                sent: None,
                read: None,
            },
        );
        rx
    }

    /// A subscriber of `board_id` registered, then read the board's log up to
    /// `current`: it has every event up to there, and needs every one after from the
    /// ring. Only the lowest such seq is kept, and it never makes an event be dropped:
    /// another subscriber of the same ring may have read less (two follows racing), and
    /// an event above its `current` must still reach it. See [`Bus::published`].
    pub fn seen(&self, board_id: &str, current: u64) {
        let mut guard = self.boards.lock().expect("bus lock");
        if let Some(ring) = guard.as_mut().and_then(|boards| boards.get_mut(board_id)) {
            ring.read = Some(ring.read.map_or(current, |read| read.min(current)));
        }
    }

    /// For the feed that brings other instances' events: up to which seq `board_id`'s
    /// subscribers have (or are being given) every event, so the feed publishes the
    /// log after it. `None` when nobody follows the board here, or when its ring is
    /// too new to tell (its first subscriber has not read the log yet: that read
    /// covers it).
    pub fn published(&self, board_id: &str) -> Option<u64> {
        let guard = self.boards.lock().expect("bus lock");
        let ring = guard.as_ref()?.get(board_id)?;
        if ring.tx.receiver_count() == 0 {
            return None;
        }
        ring.published()
    }

    /// Every board followed here, with its [`Bus::published`] seq.
    pub fn followed(&self) -> Vec<(String, u64)> {
        let guard = self.boards.lock().expect("bus lock");
        let Some(boards) = guard.as_ref() else {
            return Vec::new();
        };
        boards
            .iter()
            .filter(|(_, ring)| ring.tx.receiver_count() > 0)
            .filter_map(|(board_id, ring)| Some((board_id.clone(), ring.published()?)))
            .collect()
    }

    /// Ends every subscription (their receivers see `Closed`) and refuses new ones:
    /// how streams learn the server is shutting down. Events published before still
    /// reach their subscribers first: the fan-out thread delivers its queue and is
    /// joined (a bounded wait). An error says live delivery had already failed, or
    /// that the thread did not end.
    pub fn close(&self) -> Result<(), FanoutError> {
        let stopped = self.fanout.stop(fanout::STOP_WAIT);
        self.boards.lock().expect("bus lock").take();
        stopped
    }

    /// Whether live delivery runs: the fan-out thread is alive and the bus is not
    /// closed (readiness).
    pub fn is_running(&self) -> bool {
        !*self.fanout.failed().borrow() && self.boards.lock().expect("bus lock").is_some()
    }

    /// Becomes `true` if the fan-out thread dies: live delivery has stopped, and the
    /// server should stop too rather than serve streams that never get an event.
    pub fn failed(&self) -> watch::Receiver<bool> {
        self.fanout.failed()
    }
}

/// On the fan-out thread: one event to its board's subscribers. The lock is held
/// only to find the board's sender, so `subscribe` and `publish` on request paths
/// never wait while thousands of subscribers are woken.
fn send(boards: &Boards, (event, published): (BoardEvent, Instant)) {
    let Some(tx) = sender(boards, &event.board_id) else {
        return;
    };
    // Each event's wire forms are built here, off the request's path.
    if let Err(broadcast::error::SendError(event)) = tx.send(SharedEvent::build(event, Some(published))) {
        // Nobody listens any more: forget the board until someone does, unless
        // someone subscribed to this ring since, or it was replaced.
        let mut guard = boards.lock().expect("bus lock");
        let Some(boards) = guard.as_mut() else { return };
        let unheard = |ring: &Ring| ring.tx.same_channel(&tx) && ring.tx.receiver_count() == 0;
        if boards.get(event.board_id()).is_some_and(unheard) {
            boards.remove(event.board_id());
        }
    }
}

fn sender(boards: &Boards, board_id: &str) -> Option<Sender> {
    Some(boards.lock().expect("bus lock").as_ref()?.get(board_id)?.tx.clone())
}

/// For tests here and in core: the seqs a receiver has been given so far, once the
/// fan-out is idle: a witness board published last is received after everything
/// published before it.
#[cfg(test)]
pub(crate) async fn drained(bus: &Bus, rx: &mut Receiver) -> Vec<u64> {
    let mut witness = bus.subscribe("witness");
    let seq = bus.published("witness").map_or(1, |s| s + 1);
    bus.publish(event("witness", seq));
    assert_eq!(witness.recv().await.expect("the witness event").seq(), seq);
    let mut got = Vec::new();
    while let Ok(e) = rx.try_recv() {
        got.push(e.seq());
    }
    got
}

/// For tests here and in core: an empty event of `board` at `seq`.
#[cfg(test)]
pub(crate) fn event(board: &str, seq: u64) -> BoardEvent {
    BoardEvent {
        seq,
        board_id: board.into(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        bus.close().unwrap();
        assert!(matches!(two.recv().await, Err(broadcast::error::RecvError::Closed)));
        let mut late = bus.subscribe("b1");
        assert!(matches!(late.recv().await, Err(broadcast::error::RecvError::Closed)));
    }

    #[tokio::test]
    async fn a_ring_whose_listeners_left_is_forgotten_when_it_is_sent_to() {
        let bus = Bus::new(4);
        drop(bus.subscribe("gone"));
        let mut witness = bus.subscribe("witness");
        bus.publish(event("gone", 1));
        // In publish order: once the witness has its event, "gone" was sent to.
        bus.publish(event("witness", 1));
        assert_eq!(witness.recv().await.unwrap().seq(), 1);
        let boards = bus.boards.lock().unwrap();
        let names: Vec<&String> = boards.as_ref().unwrap().keys().collect();
        assert_eq!(names, ["witness"]);
    }

    #[tokio::test]
    async fn close_joins_the_fan_out_thread_and_later_publishes_are_quiet() {
        let bus = Bus::new(4);
        let mut rx = bus.subscribe("b1");
        bus.publish(event("b1", 1));
        bus.close().unwrap();
        // Published before the close: still delivered, then the ring is closed.
        assert_eq!(rx.recv().await.unwrap().seq(), 1);
        assert!(matches!(rx.recv().await, Err(broadcast::error::RecvError::Closed)));
        assert!(bus.fanout.joined());
        bus.publish(event("b1", 2));
        bus.close().unwrap();
        assert!(!*bus.failed().borrow());
    }

    #[tokio::test]
    async fn an_event_older_than_one_the_ring_was_given_is_dropped() {
        let bus = Bus::new(16);
        let mut rx = bus.subscribe("b1");
        assert_eq!(bus.published("b1"), None, "a new ring cannot tell");
        bus.publish(event("b1", 2));
        bus.publish(event("b1", 1));
        bus.publish(event("b1", 2));
        bus.publish(event("b1", 3));
        assert_eq!(drained(&bus, &mut rx).await, [2, 3]);
        assert_eq!(bus.published("b1"), Some(3));
    }

    #[tokio::test]
    async fn seen_keeps_the_lowest_read_and_never_drops_an_event() {
        let bus = Bus::new(16);
        let mut first = bus.subscribe("b1");
        let _second = bus.subscribe("b1");
        // The second follow read the log up to 7 and said so first; the first read up
        // to 5 only: 6 and 7 must still be published for it.
        bus.seen("b1", 7);
        assert_eq!(bus.published("b1"), Some(7));
        bus.seen("b1", 5);
        assert_eq!(bus.published("b1"), Some(5));
        bus.publish(event("b1", 6));
        bus.publish(event("b1", 7));
        assert_eq!(drained(&bus, &mut first).await, [6, 7]);
        assert_eq!(bus.published("b1"), Some(7));
        // A follow that read further than what was published: the feed starts there.
        bus.seen("b1", 9);
        assert_eq!(bus.published("b1"), Some(7), "the lowest read and the last publish");
        bus.seen("unfollowed", 3);
        assert_eq!(bus.published("unfollowed"), None);
    }

    #[tokio::test]
    async fn followed_lists_the_boards_with_listeners_and_a_known_seq() {
        let bus = Bus::new(16);
        let _a = bus.subscribe("a");
        let _b = bus.subscribe("b");
        drop(bus.subscribe("gone"));
        let _new = bus.subscribe("new");
        bus.seen("a", 4);
        bus.seen("gone", 1);
        bus.publish(event("b", 2));
        let mut followed = bus.followed();
        followed.sort();
        assert_eq!(followed, [("a".to_owned(), 4), ("b".to_owned(), 2)]);
        bus.close().unwrap();
        assert!(bus.followed().is_empty());
        assert_eq!(bus.published("a"), None);
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
