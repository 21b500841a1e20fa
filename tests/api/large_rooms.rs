//! A large room over real sockets: hundreds of distinct viewers joining at once (each
//! anonymous loopback connection is its own guest, as each signed-in person of a
//! company-wide board is) all stay connected, all hear every event, and hear of each
//! other through a bounded number of presence messages rather than one per join.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use boardcast::Config;
use boardcast::limits::{PRESENCE_INTERVAL, PRESENCE_VIEWERS_LISTED};
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::spawn_with;
use crate::ws::{Ws, connect};

/// Enough that one message per join (N²/2 in all) is far over the bound asserted
/// below, few enough for a debug build on two cores.
const VIEWERS: usize = 400;
const EVENTS: usize = 5;

/// What one viewer heard after the list it got on joining.
#[derive(Default)]
struct Heard {
    presence_messages: usize,
    presence_bytes: usize,
    event_seqs: Vec<u64>,
}

/// The next text frame as JSON; a close, or silence for 30 s, fails the test.
async fn next_json(ws: &mut Ws) -> (Value, usize) {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(30), ws.0.next())
            .await
            .expect("a frame within 30 s")
            .expect("the socket stays open")
            .expect("a frame");
        match frame {
            Message::Text(text) => return (serde_json::from_str(text.as_str()).unwrap(), text.len()),
            Message::Close(close) => panic!("a viewer was cut off: {close:?}"),
            _ => {}
        }
    }
}

/// Reads until the viewer has heard `EVENTS` events and its presence says the room
/// has every viewer; hands the socket back (dropping it would leave the room).
async fn listen(mut ws: Ws, snapshots: Arc<AtomicUsize>) -> (Ws, Heard) {
    let (snapshot, _) = next_json(&mut ws).await;
    assert_eq!(
        (snapshot["type"].as_str(), snapshot["boardId"].as_str()),
        (Some("presence"), Some("board-1")),
        "{snapshot}"
    );
    snapshots.fetch_add(1, Ordering::SeqCst);
    let mut count = snapshot["viewerCount"].as_u64().unwrap();
    let mut heard = Heard::default();
    while heard.event_seqs.len() < EVENTS || count < VIEWERS as u64 {
        let (v, len) = next_json(&mut ws).await;
        match v["type"].as_str().unwrap() {
            "presence" => {
                count = v["viewerCount"].as_u64().unwrap();
                heard.presence_messages += 1;
                heard.presence_bytes += len;
            }
            "user_joined" | "user_left" => panic!("a room this large is told by lists: {v}"),
            "task_created" => heard.event_seqs.push(v["seq"].as_u64().unwrap()),
            _ => {}
        }
    }
    (ws, heard)
}

#[tokio::test]
async fn hundreds_of_distinct_viewers_joining_at_once_all_stay_and_hear_every_event() {
    // Loopback guests are distinct viewers but one user to the stream cap.
    let app = spawn_with(Config {
        max_streams_per_user: VIEWERS + 1,
        ..Config::ephemeral()
    })
    .await;
    let mut sockets = Vec::with_capacity(VIEWERS);
    for _ in 0..VIEWERS {
        let mut ws = connect(&app, "/ws").await;
        assert_eq!(ws.recv().await["type"], "welcome");
        sockets.push(ws);
    }
    let started = Instant::now();
    for ws in &mut sockets {
        ws.send(json!({"type":"join","boardId":"board-1"})).await;
    }
    let snapshots = Arc::new(AtomicUsize::new(0));
    let listeners: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(listen(ws, snapshots.clone())))
        .collect();
    while snapshots.load(Ordering::SeqCst) < VIEWERS {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "every viewer joined in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for n in 0..EVENTS {
        app.create_task("list-todo", &format!("for the room {n}")).await;
    }
    let mut total_messages = 0;
    let mut total_bytes = 0;
    let mut most = 0;
    let mut all_heard = Vec::new();
    let mut sockets = Vec::with_capacity(VIEWERS);
    for listener in listeners {
        let (ws, heard) = listener.await.expect("a viewer's reader");
        sockets.push(ws);
        total_messages += heard.presence_messages;
        total_bytes += heard.presence_bytes;
        most = most.max(heard.presence_messages);
        all_heard.push(heard.event_seqs);
    }
    let elapsed = started.elapsed();
    let expected: Vec<u64> = (1..=EVENTS as u64).collect();
    for event_seqs in &all_heard {
        assert_eq!(event_seqs, &expected, "every viewer hears every event, in order");
    }
    // At most one presence message per interval each (the room is too large to list
    // whole, so changes go out as lists), however many joined: a join no longer costs
    // every other member a message of its own.
    let intervals = usize::try_from(elapsed.as_millis() / PRESENCE_INTERVAL.as_millis()).unwrap() + 2;
    eprintln!(
        "{VIEWERS} viewers joined and heard {EVENTS} events in {elapsed:?}: presence messages \
         {total_messages} in all ({total_bytes} bytes), at most {most} for one viewer, \
         bound {intervals}"
    );
    assert!(
        most <= intervals,
        "{most} presence messages for one viewer in {elapsed:?}"
    );

    // A latecomer gets the first viewers and the count.
    let mut late = connect(&app, "/ws").await;
    late.recv().await;
    late.send(json!({"type":"join","boardId":"board-1"})).await;
    let list = late.recv_type("presence").await;
    assert_eq!(list["viewerCount"], VIEWERS + 1);
    assert_eq!(list["viewers"].as_array().unwrap().len(), PRESENCE_VIEWERS_LISTED);
}
