//! The `Subscription` cursor against an in-memory store: replay, overtaking
//! publishes, late duplicates, resets (ahead of the board, below a compacted log), lag.

use super::*;
use crate::bus::Bus;
use crate::proto::v1::BoardEvent;
use crate::store::SqliteStore;

const BOARD: &str = "board-1";

async fn store() -> Arc<dyn Store> {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect("sqlite::memory:").await.unwrap());
    crate::core::seed::seed(store.as_ref(), true).await.unwrap();
    store
}

/// Compacts the board's log through `through`.
async fn compact(store: &dyn Store, through: u64) {
    let mut tx = store.write().await.unwrap();
    tx.compact_log(BOARD, through).await.unwrap();
    tx.commit().await.unwrap();
}

/// Commits the board's next `n` events to the log (not published).
async fn commit(store: &dyn Store, n: usize) -> Vec<BoardEvent> {
    let mut tx = store.write().await.unwrap();
    let mut events = Vec::new();
    for _ in 0..n {
        let event = BoardEvent {
            seq: tx.next_seq(BOARD).await.unwrap(),
            board_id: BOARD.into(),
            ..Default::default()
        };
        tx.append_event(&event).await.unwrap();
        events.push(event);
    }
    tx.commit().await.unwrap();
    events
}

async fn subscription(store: &Arc<dyn Store>, bus: &Bus, resume: Resume) -> Subscription {
    let mut sub = Subscription::new(
        store.clone(),
        crate::core::limiter::StreamLimiter::new(1).acquire("alice").unwrap(),
        None,
        Arc::new(crate::metrics::Metrics::new()).deliveries(crate::metrics::Transport::Sse),
    );
    let live = bus.subscribe(BOARD);
    let bounds = store.read().await.unwrap().log_bounds(BOARD).await.unwrap();
    sub.follow(BOARD, resume, bounds, live);
    sub
}

async fn next(sub: &mut Subscription) -> Option<StreamItem> {
    tokio::time::timeout(std::time::Duration::from_secs(5), sub.next())
        .await
        .expect("an item within 5 s")
        .unwrap()
}

async fn next_seq(sub: &mut Subscription) -> u64 {
    match next(sub).await {
        Some(StreamItem::Event(e)) => e.seq(),
        _ => panic!("expected an event"),
    }
}

#[tokio::test]
async fn board_deleted_is_a_boards_last_item_and_a_stream_following_nothing_closes() {
    use crate::proto::v1::{BoardDeleted, board_event::Payload};
    let (store, bus) = (store().await, Bus::new(16));
    commit(store.as_ref(), 1).await;
    let mut sub = subscription(&store, &bus, Resume::After(0)).await;
    let mut tx = store.write().await.unwrap();
    let deleted = BoardEvent {
        seq: tx.next_seq(BOARD).await.unwrap(),
        board_id: BOARD.into(),
        payload: Some(Payload::BoardDeleted(BoardDeleted::default())),
        ..Default::default()
    };
    tx.append_event(&deleted).await.unwrap();
    tx.commit().await.unwrap();
    bus.publish(deleted);
    assert_eq!(next_seq(&mut sub).await, 1);
    assert_eq!(next_seq(&mut sub).await, 2);
    assert!(sub.is_empty(), "the deleted board is no longer followed");
    match next(&mut sub).await {
        Some(StreamItem::Closed(reason)) => assert_eq!(reason, "board `board-1` was deleted"),
        _ => panic!("expected Closed"),
    }
    assert!(next(&mut sub).await.is_none());
}

#[tokio::test]
async fn replays_the_log_then_goes_live_without_a_gap() {
    let (store, bus) = (store().await, Bus::new(16));
    commit(store.as_ref(), 3).await;
    let mut sub = subscription(&store, &bus, Resume::After(0)).await;
    for seq in 1..=3 {
        assert_eq!(next_seq(&mut sub).await, seq);
    }
    bus.publish(commit(store.as_ref(), 1).await.remove(0));
    assert_eq!(next_seq(&mut sub).await, 4);
    assert_eq!(sub.positions()[0].seq, 4);
}

#[tokio::test]
async fn an_overtaking_event_is_read_from_the_log_and_a_late_duplicate_dropped() {
    let (store, bus) = (store().await, Bus::new(16));
    let mut sub = subscription(&store, &bus, Resume::Live).await;
    let mut events = commit(store.as_ref(), 2).await;
    let first = events.remove(0);
    // 2 is published before 1: 2 reveals a gap, read from the log; 1 arrives late.
    bus.publish(events.remove(0));
    bus.publish(first);
    assert_eq!(next_seq(&mut sub).await, 1);
    assert_eq!(next_seq(&mut sub).await, 2);
    bus.publish(commit(store.as_ref(), 1).await.remove(0));
    assert_eq!(next_seq(&mut sub).await, 3, "the late 1 must not be delivered twice");
}

#[tokio::test]
async fn a_resume_point_ahead_of_the_board_is_reset_then_live() {
    let (store, bus) = (store().await, Bus::new(16));
    let mut sub = subscription(&store, &bus, Resume::After(9)).await;
    match next(&mut sub).await {
        Some(StreamItem::Reset(r)) => assert_eq!((r.board_id.as_str(), r.seq), (BOARD, 0)),
        _ => panic!("expected a reset"),
    }
    bus.publish(commit(store.as_ref(), 1).await.remove(0));
    assert_eq!(next_seq(&mut sub).await, 1);
}

#[tokio::test]
async fn a_subscriber_behind_the_ring_is_told_where_it_stopped_and_ends() {
    let (store, bus) = (store().await, Bus::new(2));
    let mut sub = subscription(&store, &bus, Resume::Live).await;
    bus.publish(commit(store.as_ref(), 1).await.remove(0));
    assert_eq!(next_seq(&mut sub).await, 1);
    let mut probe = bus.subscribe(BOARD);
    for event in commit(store.as_ref(), 4).await {
        bus.publish(event);
    }
    // Wait until the fan-out has put all four in the ring (the probe lags too).
    while !matches!(probe.recv().await, Ok(e) if e.seq() == 5) {}
    match next(&mut sub).await {
        Some(StreamItem::Lagged(r)) => assert_eq!(r.seq, 1),
        _ => panic!("expected lagged"),
    }
    assert!(next(&mut sub).await.is_none());
}

#[tokio::test]
async fn a_resume_point_below_the_horizon_is_reset_then_live() {
    let (store, bus) = (store().await, Bus::new(16));
    commit(store.as_ref(), 5).await;
    compact(store.as_ref(), 3).await;
    let mut sub = subscription(&store, &bus, Resume::After(2)).await;
    match next(&mut sub).await {
        Some(StreamItem::Reset(r)) => {
            assert_eq!((r.board_id.as_str(), r.seq), (BOARD, 5));
            assert!(r.reason.contains("compacted through seq 3"), "{}", r.reason);
        }
        _ => panic!("expected a reset"),
    }
    bus.publish(commit(store.as_ref(), 1).await.remove(0));
    assert_eq!(next_seq(&mut sub).await, 6);
    let mut at = subscription(&store, &bus, Resume::After(3)).await;
    for seq in 4..=6 {
        assert_eq!(next_seq(&mut at).await, seq, "from the horizon on, the log replays");
    }
}

#[tokio::test]
async fn compaction_overtaking_a_replay_resets_it_to_the_latest_seq() {
    let (store, bus) = (store().await, Bus::new(16));
    commit(store.as_ref(), 600).await;
    let mut sub = subscription(&store, &bus, Resume::After(0)).await;
    // The first page (256 events) is read; then the log goes below the cursor.
    assert_eq!(next_seq(&mut sub).await, 1);
    compact(store.as_ref(), 400).await;
    for seq in 2..=256 {
        assert_eq!(next_seq(&mut sub).await, seq);
    }
    match next(&mut sub).await {
        Some(StreamItem::Reset(r)) => assert_eq!(r.seq, 600, "{}", r.reason),
        _ => panic!("expected a reset"),
    }
    assert_eq!(sub.positions()[0].seq, 600);
    bus.publish(commit(store.as_ref(), 1).await.remove(0));
    assert_eq!(next_seq(&mut sub).await, 601);
}
