//! WebSocket collaboration over real sockets: the seed's wscat session, presence,
//! typing, cursors, heartbeats, CRUD over the socket, resume, scoping, bad input.

use std::time::Duration;

use boardcast::Config;
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::helpers::{SseClient, TestApp, big_task, spawn_app, spawn_with};

pub(crate) struct Ws(pub(crate) WebSocketStream<MaybeTlsStream<TcpStream>>);

pub(crate) async fn connect(app: &TestApp, path: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}{}", app.addr, path))
        .await
        .expect("WebSocket connects");
    Ws(ws)
}

async fn connect_as(app: &TestApp, user: &str) -> Ws {
    connect(app, &format!("/ws?token={}", app.token(user))).await
}

/// alice and bob, each joined to board-1, after alice has heard bob join.
async fn alice_and_bob_on_board_1(app: &TestApp) -> (Ws, Ws) {
    let mut alice = connect_as(app, "alice").await;
    let mut bob = connect_as(app, "bob").await;
    for ws in [&mut alice, &mut bob] {
        ws.recv().await;
        ws.send(json!({"type":"join","boardId":"board-1"})).await;
        ws.recv_type("presence").await;
    }
    alice.recv_type("user_joined").await;
    (alice, bob)
}

impl Ws {
    pub(crate) async fn send(&mut self, v: Value) {
        self.0.send(Message::text(v.to_string())).await.unwrap();
    }

    /// The next JSON text frame; panics after 5 s or on close.
    pub(crate) async fn recv(&mut self) -> Value {
        self.recv_within(Duration::from_secs(5)).await
    }

    async fn recv_within(&mut self, limit: Duration) -> Value {
        tokio::time::timeout(limit, async {
            loop {
                match self.0.next().await.expect("socket open").expect("frame") {
                    Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
                    Message::Close(c) => panic!("closed: {c:?}"),
                    _ => {}
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("a frame within {limit:?}"))
    }

    /// The next frame of this type, skipping others.
    pub(crate) async fn recv_type(&mut self, kind: &str) -> Value {
        loop {
            let v = self.recv().await;
            if v["type"] == kind {
                return v;
            }
        }
    }

    /// No text frame arrives for `d`.
    async fn silent_for(&mut self, d: Duration) -> Result<(), Value> {
        match tokio::time::timeout(d, self.recv()).await {
            Err(_) => Ok(()),
            Ok(v) => Err(v),
        }
    }

    /// Reads until the server's close frame; returns its code and reason.
    async fn closed(&mut self) -> (u16, String) {
        tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                match self.0.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => return (u16::from(frame.code), frame.reason.to_string()),
                    Some(Ok(_)) => {}
                    other => panic!("no close frame: {other:?}"),
                }
            }
        })
        .await
        .expect("closed within 20 s")
    }
}

#[tokio::test]
async fn seed_wscat_session_works_verbatim() {
    let app = spawn_app().await;
    // wscat -c ws://localhost:3000
    let mut one = connect(&app, "").await;
    let welcome = one.recv().await;
    assert_eq!(welcome["type"], "welcome");
    let me = welcome["userId"].as_str().unwrap().to_owned();
    assert!(me.starts_with("guest-"), "{welcome}");
    // > {"type":"join","boardId":"board-1"}
    one.send(json!({"type":"join","boardId":"board-1"})).await;
    let presence = one.recv().await;
    assert_eq!(presence["type"], "presence");
    assert_eq!(presence["viewers"][0]["userId"], me.as_str());

    let mut two = connect(&app, "/").await;
    let other = two.recv().await["userId"].as_str().unwrap().to_owned();
    assert_ne!(other, me, "each anonymous loopback connection is its own viewer");
    two.send(json!({"type":"join","boardId":"board-1"})).await;
    assert_eq!(two.recv().await["viewers"].as_array().unwrap().len(), 2);
    let joined = one.recv().await;
    assert_eq!(
        (joined["type"].as_str(), joined["userId"].as_str()),
        (Some("user_joined"), Some(other.as_str()))
    );

    // > {"type":"typing","boardId":"board-1"}
    one.send(json!({"type":"typing","boardId":"board-1"})).await;
    let typing = two.recv().await;
    assert_eq!(
        (typing["type"].as_str(), typing["userId"].as_str()),
        (Some("user_typing"), Some(me.as_str()))
    );

    // curl -X POST /tasks ... → task_created on both sockets, same seq
    let task = app.create_task("list-todo", "Live from the capstone!").await;
    for ws in [&mut one, &mut two] {
        let event = ws.recv_type("task_created").await;
        assert_eq!(
            (event["task"]["id"].as_str(), event["seq"].as_u64()),
            (Some(task.id.as_str()), Some(1))
        );
    }
    // curl -X PATCH /tasks/task-1/move → task_moved
    app.send_json(
        Method::PATCH,
        "/tasks/task-1/move",
        json!({"listId":"list-done","position":0}),
    )
    .await;
    assert_eq!(one.recv_type("task_moved").await["task"]["listId"], "list-done");

    one.send(json!({"type":"ping"})).await;
    assert_eq!(one.recv_type("pong").await["type"], "pong");
}

#[tokio::test]
async fn presence_is_per_user_across_tabs() {
    let app = spawn_app().await;
    let mut bob = connect_as(&app, "bob").await;
    bob.recv().await;
    bob.send(json!({"type":"join","boardId":"board-1"})).await;
    bob.recv_type("presence").await;

    let mut tab1 = connect_as(&app, "alice").await;
    let mut tab2 = connect_as(&app, "alice").await;
    for tab in [&mut tab1, &mut tab2] {
        assert_eq!(tab.recv().await["userId"], "alice");
        tab.send(json!({"type":"join","boardId":"board-1"})).await;
        let viewers: Vec<String> = tab.recv_type("presence").await["viewers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["userId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(viewers, ["alice", "bob"], "one viewer per user");
    }
    let joined = bob.recv().await;
    assert_eq!(
        (joined["type"].as_str(), joined["userId"].as_str()),
        (Some("user_joined"), Some("alice"))
    );
    assert!(joined["color"].as_str().unwrap().starts_with('#'));
    assert!(
        bob.silent_for(Duration::from_millis(200)).await.is_ok(),
        "no second user_joined for tab 2"
    );

    drop(tab1);
    assert!(
        bob.silent_for(Duration::from_millis(300)).await.is_ok(),
        "alice still has a tab open"
    );
    tab2.0.close(None).await.unwrap();
    let left = bob.recv().await;
    assert_eq!(
        (left["type"].as_str(), left["userId"].as_str()),
        (Some("user_left"), Some("alice"))
    );
}

#[tokio::test]
async fn typing_shows_to_others_and_expires_by_itself() {
    let app = spawn_app().await;
    let (mut alice, mut bob) = alice_and_bob_on_board_1(&app).await;

    bob.send(json!({"type":"typing","boardId":"board-1","taskId":"task-3"}))
        .await;
    let typing = alice.recv().await;
    assert_eq!(
        (
            typing["type"].as_str(),
            typing["taskId"].as_str(),
            typing["name"].as_str()
        ),
        (Some("user_typing"), Some("task-3"), Some("Bob"))
    );
    bob.send(json!({"type":"stop_typing","boardId":"board-1"})).await;
    assert_eq!(alice.recv().await["type"], "user_stopped_typing");

    bob.send(json!({"type":"typing","boardId":"board-1"})).await;
    alice.recv_type("user_typing").await;
    let started = std::time::Instant::now();
    let stopped = alice.recv_within(Duration::from_secs(8)).await;
    assert_eq!(stopped["type"], "user_stopped_typing", "{stopped}");
    assert_eq!(stopped["userId"], "bob");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(4500) && waited < Duration::from_millis(6500),
        "{waited:?}"
    );
    assert!(
        bob.silent_for(Duration::from_millis(100)).await.is_ok(),
        "no echo to the typist"
    );
}

#[tokio::test]
async fn ongoing_typing_is_heard_again_so_a_lost_stop_cannot_leave_it_shown() {
    let app = spawn_app().await;
    let (mut alice, mut bob) = alice_and_bob_on_board_1(&app).await;
    let typing = json!({"type":"typing","boardId":"board-1"});
    bob.send(typing.clone()).await;
    alice.recv_type("user_typing").await;
    let started = std::time::Instant::now();
    // Bob keeps typing (no card named: before, only the start was heard), refreshing
    // every 800 ms for 4 s; alice hears it again once 2.5 s have passed, at his next
    // refresh, and not before.
    let refreshing = async {
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_millis(800)).await;
            bob.send(typing.clone()).await;
        }
    };
    let hearing = async {
        let again = alice.recv_within(Duration::from_secs(4)).await;
        (again, started.elapsed())
    };
    let ((again, after), ()) = tokio::join!(hearing, refreshing);
    assert_eq!(
        (again["type"].as_str(), again["userId"].as_str()),
        (Some("user_typing"), Some("bob")),
        "{again}"
    );
    assert!(
        after >= Duration::from_millis(2500) && after < Duration::from_millis(3600),
        "heard again after {after:?}"
    );
}

#[tokio::test]
async fn cursors_are_coalesced_latest_wins_and_never_echoed() {
    let app = spawn_app().await;
    let (mut alice, mut bob) = alice_and_bob_on_board_1(&app).await;
    for i in 0..60 {
        alice
            .send(json!({"type":"cursor","boardId":"board-1","x": i, "y": i * 2}))
            .await;
    }
    let started = std::time::Instant::now();
    let mut seen = Vec::new();
    while seen.last() != Some(&59.0) {
        let c = bob.recv_type("cursor").await;
        assert_eq!(
            (c["userId"].as_str(), c["color"].as_str().is_some()),
            (Some("alice"), true)
        );
        seen.push(c["x"].as_f64().unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(seen.len() < 10, "60 moves coalesced into {} updates", seen.len());
    assert!(
        seen.len() as f64 <= 1.0 + elapsed * 20.0 + 1.0,
        "at most 20/s: {} in {elapsed}s",
        seen.len()
    );
    assert!(
        bob.silent_for(Duration::from_millis(200)).await.is_ok(),
        "nothing after the latest position"
    );
    assert!(
        alice.silent_for(Duration::from_millis(200)).await.is_ok(),
        "never echoed to the sender"
    );
}

#[tokio::test]
async fn a_silent_connection_leaves_presence_after_the_heartbeat_timeout() {
    let app = spawn_with(Config {
        ws_ping_ms: 150,
        ..Config::ephemeral()
    })
    .await;
    let mut bob = connect_as(&app, "bob").await;
    bob.recv().await;
    bob.send(json!({"type":"join","boardId":"board-1"})).await;
    bob.recv_type("presence").await;

    // alice joins, then her client goes silent: it is never polled again, so it
    // answers no ping, and sends no close frame.
    let mut alice = connect_as(&app, "alice").await;
    alice.recv().await;
    alice.send(json!({"type":"join","boardId":"board-1"})).await;
    alice.recv_type("presence").await;
    bob.recv_type("user_joined").await;
    let started = std::time::Instant::now();
    let left = bob.recv_type("user_left").await;
    assert_eq!(left["userId"], "alice");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // bob, who answers pings, is still there.
    bob.send(json!({"type":"ping"})).await;
    bob.recv_type("pong").await;
    drop(alice);
}

#[tokio::test]
async fn crud_over_the_socket_acks_the_sender_and_reaches_everyone() {
    let app = spawn_app().await;
    let mut sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", None)).await;
    sse.next().await.unwrap();
    let mut alice = connect_as(&app, "alice").await;
    let mut bob = connect_as(&app, "bob").await;
    for ws in [&mut alice, &mut bob] {
        ws.recv().await;
        ws.send(json!({"type":"join","boardId":"board-1"})).await;
        ws.recv_type("presence").await;
    }
    let create = json!({"type":"create_task","requestId":"r-1","listId":"list-todo","title":"over the socket"});
    alice.send(create.clone()).await;
    let ack = alice.recv_type("ack").await;
    assert_eq!((ack["requestId"].as_str(), ack["seq"].as_u64()), (Some("r-1"), Some(1)));
    assert_eq!(ack["task"]["createdBy"], "alice");
    let id = ack["task"]["id"].as_str().unwrap().to_owned();
    let at_bob = bob.recv_type("task_created").await;
    assert_eq!(
        (at_bob["seq"].as_u64(), at_bob["requestId"].as_str()),
        (Some(1), Some("r-1"))
    );
    let at_sse = sse.next_data().await.unwrap().json();
    assert_eq!(
        (at_sse["seq"].as_u64(), at_sse["task"]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );
    assert_eq!(
        alice.recv_type("task_created").await["seq"],
        1,
        "the sender's own room gets the event too"
    );

    // A retry with the same requestId: the same ack, no second event.
    alice.send(create).await;
    assert_eq!(alice.recv_type("ack").await["task"]["id"], id.as_str());
    alice
        .send(json!({"type":"move_task","requestId":"r-2","taskId": id,"listId":"list-done","position":0,"expectedVersion":1}))
        .await;
    assert_eq!(alice.recv_type("ack").await["seq"], 2);
    assert_eq!(bob.recv_type("task_moved").await["seq"], 2, "seq 1 was not repeated");
    alice
        .send(json!({"type":"update_task","requestId":"r-3","taskId": id,"title":"renamed"}))
        .await;
    assert_eq!(alice.recv_type("ack").await["task"]["title"], "renamed");
    alice
        .send(json!({"type":"delete_task","requestId":"r-4","taskId": id}))
        .await;
    assert_eq!(alice.recv_type("ack").await["seq"], 4);

    // Same validation and versions as REST, reported to the sender only.
    alice
        .send(json!({"type":"create_task","requestId":"r-5","listId":"list-todo","title":"  "}))
        .await;
    let err = alice.recv_type("error").await;
    assert_eq!(
        (err["requestId"].as_str(), err["code"].as_str(), err["field"].as_str()),
        (Some("r-5"), Some("invalid_argument"), Some("title"))
    );
    alice
        .send(json!({"type":"update_task","requestId":"r-6","taskId":"task-1","title":"x","expectedVersion":9}))
        .await;
    assert_eq!(alice.recv_type("error").await["code"], "version_conflict");
    assert_eq!(app.log("board-1").await.len(), 4);
}

#[tokio::test]
async fn resume_after_reconnect_replays_exactly_what_was_missed() {
    let app = spawn_app().await;
    let mut ws = connect_as(&app, "alice").await;
    ws.recv().await;
    ws.send(json!({"type":"join","boardId":"board-1"})).await;
    ws.recv_type("presence").await;
    for i in 0..2 {
        app.create_task("list-todo", &format!("seen {i}")).await;
        ws.recv_type("task_created").await;
    }
    drop(ws);
    for i in 0..3 {
        app.create_task("list-todo", &format!("missed {i}")).await;
    }
    let mut ws = connect_as(&app, "alice").await;
    ws.recv().await;
    ws.send(json!({"type":"join","boardId":"board-1"})).await;
    ws.send(json!({"type":"resume","boardId":"board-1","afterSeq":2})).await;
    let mut seqs = Vec::new();
    let mut presences = 0;
    while seqs.len() < 3 {
        let v = ws.recv().await;
        match v["type"].as_str().unwrap() {
            "task_created" => seqs.push(v["seq"].as_u64().unwrap()),
            "presence" => presences += 1,
            other => panic!("unexpected {other}: {v}"),
        }
    }
    assert_eq!(seqs, [3, 4, 5]);
    app.create_task("list-todo", "live").await;
    assert_eq!(ws.recv_type("task_created").await["seq"], 6);
    assert!(presences >= 1, "a fresh presence");

    // join with afterSeq does both at once.
    let mut again = connect_as(&app, "bob").await;
    again.recv().await;
    again
        .send(json!({"type":"join","boardId":"board-1","afterSeq":4}))
        .await;
    assert_eq!(again.recv_type("task_created").await["seq"], 5);
    assert_eq!(again.recv_type("task_created").await["seq"], 6);
}

#[tokio::test]
async fn everything_is_scoped_to_its_room() {
    let app = spawn_app().await;
    let mut one = connect_as(&app, "alice").await;
    let mut two = connect_as(&app, "carol").await;
    one.recv().await;
    two.recv().await;
    one.send(json!({"type":"join","boardId":"board-1"})).await;
    one.recv_type("presence").await;
    two.send(json!({"type":"join","boardId":"board-2"})).await;
    two.recv_type("presence").await;
    two.send(json!({"type":"typing","boardId":"board-2"})).await;
    two.send(json!({"type":"cursor","boardId":"board-2","x":1,"y":1})).await;
    app.create_task("list-backlog", "board-2 only").await;
    assert_eq!(two.recv_type("task_created").await["boardId"], "board-2");
    assert!(
        one.silent_for(Duration::from_millis(300)).await.is_ok(),
        "board-1 hears nothing of board-2"
    );

    // One connection, several rooms; leave stops a board.
    one.send(json!({"type":"join","boardId":"board-2"})).await;
    one.recv_type("presence").await;
    app.create_task("list-backlog", "now seen").await;
    assert_eq!(one.recv_type("task_created").await["boardId"], "board-2");
    one.send(json!({"type":"leave","boardId":"board-2"})).await;
    assert_eq!(two.recv_type("user_left").await["userId"], "alice");
    app.create_task("list-backlog", "after leaving").await;
    app.create_task("list-todo", "board-1 still").await;
    assert_eq!(one.recv_type("task_created").await["boardId"], "board-1");

    // A board the user cannot see: an error frame, not a room.
    two.send(json!({"type":"join","boardId":"board-1"})).await;
    // Issue 11: a non-member's board is not_found, like a missing one (was permission_denied).
    assert_eq!(two.recv_type("error").await["code"], "not_found");
    two.send(json!({"type":"typing","boardId":"board-1"})).await;
    assert_eq!(two.recv_type("error").await["field"], "boardId");
}

#[tokio::test]
async fn bad_input_gets_error_frames_and_the_connection_stays_open() {
    let app = spawn_app().await;
    let mut ws = connect(&app, "/ws").await;
    ws.recv().await;
    ws.0.send(Message::text("{not json")).await.unwrap();
    let err = ws.recv().await;
    assert_eq!(
        (err["type"].as_str(), err["error"].as_str(), err["code"].as_str()),
        (Some("error"), Some("Invalid JSON"), Some("invalid_json"))
    );
    ws.send(json!({"type":"dance"})).await;
    let err = ws.recv().await;
    assert!(
        err["message"].as_str().unwrap().contains("unknown variant `dance`"),
        "{err}"
    );
    ws.send(json!({"boardId":"board-1"})).await;
    assert!(
        ws.recv().await["message"].as_str().unwrap().contains("type"),
        "a missing type is named"
    );
    ws.send(json!({"type":"join"})).await;
    assert_eq!(ws.recv().await["field"], "boardId");
    ws.send(json!({"type":"join","boardId":"nope"})).await;
    assert_eq!(ws.recv().await["code"], "not_found");
    ws.send(json!({"type":"cursor","boardId":"board-1","x":"left"})).await;
    assert_eq!(ws.recv().await["field"], "x");
    ws.send(json!({"type":"ping"})).await;
    assert_eq!(ws.recv().await["type"], "pong", "still open after every error");
}

#[tokio::test]
async fn an_oversized_frame_closes_with_1009() {
    let app = spawn_app().await;
    let mut ws = connect(&app, "/ws").await;
    ws.recv().await;
    let big = json!({"type":"typing","boardId": "x".repeat(70 * 1024)});
    let _ = ws.0.send(Message::text(big.to_string())).await;
    assert_eq!(ws.closed().await.0, 1009);
}

#[tokio::test]
async fn a_flood_of_frames_closes_with_1008() {
    let app = spawn_app().await;
    let mut ws = connect(&app, "/ws").await;
    ws.recv().await;
    for _ in 0..400 {
        if ws.0.send(Message::text(r#"{"type":"ping"}"#)).await.is_err() {
            break;
        }
    }
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("too many messages"), "{reason}");
}

#[tokio::test]
async fn a_subscriber_that_falls_behind_closes_with_1013_naming_its_last_seq() {
    let app = spawn_with(Config {
        stream_buffer: 16,
        ..Config::ephemeral()
    })
    .await;
    let mut ws = connect_as(&app, "alice").await;
    ws.recv().await;
    ws.send(json!({"type":"join","boardId":"board-1"})).await;
    ws.recv_type("presence").await;
    for i in 0..800 {
        app.send_json(Method::POST, "/tasks", big_task(i)).await;
    }
    let mut last = 0;
    let (code, reason) = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match ws.0.next().await {
                Some(Ok(Message::Text(t))) => {
                    let v: Value = serde_json::from_str(t.as_str()).unwrap();
                    if v["type"] == "task_created" {
                        last = v["seq"].as_u64().unwrap();
                    }
                }
                Some(Ok(Message::Close(Some(f)))) => return (u16::from(f.code), f.reason.to_string()),
                Some(Ok(_)) => {}
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(code, 1013);
    assert!(last < 800, "cut off before the end");
    assert!(
        reason.contains(&format!("board-1:{last}")),
        "the reason names the last delivered seq {last}: {reason}"
    );
}

#[tokio::test]
async fn identity_is_settled_before_the_upgrade() {
    let app = spawn_app().await;
    let err = tokio_tungstenite::connect_async(format!("ws://{}/ws?token=bad", app.addr))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");

    let mut req = format!("ws://{}/ws", app.addr).into_client_request().unwrap();
    req.headers_mut()
        .insert("origin", HeaderValue::from_static("https://evil.example"));
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    let mut req = format!("ws://{}/ws", app.addr).into_client_request().unwrap();
    req.headers_mut().insert(
        "origin",
        HeaderValue::from_str(&format!("http://{}", app.addr)).unwrap(),
    );
    assert!(
        tokio_tungstenite::connect_async(req).await.is_ok(),
        "the server's own origin is fine"
    );

    // The seed's first-message auth switches a guest connection to the user.
    let mut ws = connect(&app, "/").await;
    assert!(ws.recv().await["userId"].as_str().unwrap().starts_with("guest-"));
    ws.send(json!({"type":"auth","token": app.token("bob")})).await;
    let welcome = ws.recv().await;
    assert_eq!(
        (welcome["type"].as_str(), welcome["userId"].as_str()),
        (Some("welcome"), Some("bob"))
    );
    ws.send(json!({"type":"auth","token":"nope"})).await;
    assert_eq!(ws.recv().await["code"], "unauthenticated");

    // Switching identity leaves the rooms: carol does not inherit the guest's board-1.
    let mut switch = connect(&app, "/").await;
    switch.recv().await;
    switch.send(json!({"type":"join","boardId":"board-1"})).await;
    switch.recv_type("presence").await;
    switch.send(json!({"type":"auth","token": app.token("carol")})).await;
    assert_eq!(switch.recv_type("welcome").await["userId"], "carol");
    app.create_task("list-todo", "not for carol").await;
    assert!(
        switch.silent_for(Duration::from_millis(300)).await.is_ok(),
        "no board-1 events after auth"
    );
    switch.send(json!({"type":"typing","boardId":"board-1"})).await;
    assert_eq!(switch.recv().await["field"], "boardId", "no longer in the board-1 room");
    switch.send(json!({"type":"join","boardId":"board-1"})).await;
    // Issue 11: not_found for a non-member (was permission_denied).
    assert_eq!(switch.recv().await["code"], "not_found");

    // Off loopback (guests off), a token-less socket may only authenticate.
    let closed = spawn_with(Config {
        guests: Some(false),
        ..Config::ephemeral()
    })
    .await;
    let mut ws = connect(&closed, "/ws").await;
    ws.send(json!({"type":"join","boardId":"board-1"})).await;
    assert_eq!(ws.recv().await["code"], "unauthenticated");
    ws.send(json!({"type":"auth","token": closed.token("alice")})).await;
    assert_eq!(ws.recv().await["userId"], "alice");
    ws.send(json!({"type":"join","boardId":"board-1"})).await;
    assert_eq!(ws.recv().await["type"], "presence");

    let plain = app.http.get(app.url("/ws")).send().await.unwrap();
    assert_eq!(plain.status(), StatusCode::NOT_FOUND, "no upgrade, no socket");
}

#[tokio::test]
async fn ws_cursor_frames_queued_before_an_auth_switch_are_not_sent_as_the_new_user() {
    let app = spawn_app().await;
    let (mut alice, mut bob) = alice_and_bob_on_board_1(&app).await;
    // The first cursor goes out at once; the second waits out the cursor interval,
    // and the switch to carol (not a member of board-1) comes before it is due.
    alice
        .send(json!({"type":"cursor","boardId":"board-1","x":1.0,"y":1.0}))
        .await;
    alice
        .send(json!({"type":"cursor","boardId":"board-1","x":2.0,"y":2.0}))
        .await;
    alice.send(json!({"type":"auth","token": app.token("carol")})).await;
    assert_eq!(alice.recv_type("welcome").await["userId"], "carol");
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(frame) = tokio::time::timeout_at(deadline, bob.recv()).await {
        assert_ne!(frame["userId"], "carol", "carol put a frame into board-1: {frame}");
    }
}

#[tokio::test]
async fn ws_ping_and_pong_frames_count_against_the_frame_limit() {
    let app = spawn_app().await;
    let mut ws = connect(&app, "/ws").await;
    ws.recv().await;
    for i in 0..400u32 {
        let frame = if i % 2 == 0 {
            Message::Ping(Vec::new().into())
        } else {
            Message::Pong(Vec::new().into())
        };
        if ws.0.send(frame).await.is_err() {
            break;
        }
    }
    let (code, reason) = ws.closed().await;
    assert_eq!(code, 1008, "{reason}");
    assert!(reason.contains("too many messages"), "{reason}");
}

#[tokio::test]
async fn ws_unknown_fields_are_refused_on_every_message_type() {
    let app = spawn_app().await;
    let mut ws = connect_as(&app, "alice").await;
    ws.recv().await;
    for (message, field) in [
        (json!({"type":"join","boardId":"board-1","afterseq":0}), "afterseq"),
        (json!({"type":"typing","boardId":"board-1","bogus":1}), "bogus"),
        (json!({"type":"ping","bogus":true}), "bogus"),
        (json!({"type":"auth","token": app.token("alice"),"tokn":"x"}), "tokn"),
        (json!({"type":"delete_task","taskId":"t","bogus":1}), "bogus"),
    ] {
        ws.send(message.clone()).await;
        let answer = ws.recv().await;
        assert_eq!(
            (answer["type"].as_str(), answer["field"].as_str()),
            (Some("error"), Some(field)),
            "{message} → {answer}"
        );
        assert!(answer["message"].as_str().unwrap().contains(field), "{answer}");
    }
    // Not joined by the misspelt join; a frame's requestId is still fine on any type.
    ws.send(json!({"type":"cursor","boardId":"board-1","x":1.0,"y":1.0}))
        .await;
    assert_eq!(ws.recv().await["field"], "boardId");
    ws.send(json!({"type":"join","boardId":"board-1","requestId":"j"}))
        .await;
    assert_eq!(ws.recv().await["type"], "presence");
    ws.send(json!({"type":"ping","requestId":"p"})).await;
    assert_eq!(ws.recv().await["type"], "pong");
}

/// Found by fuzzing (`fuzz/run ws_message`): serde's tagged enum also reads an array,
/// tag first and fields by position, so `["join","board-1"]` joined the room. Only an
/// object is a message.
#[tokio::test]
async fn ws_an_array_frame_is_refused_not_read_as_a_message_by_position() {
    let app = spawn_app().await;
    let mut ws = connect_as(&app, "alice").await;
    ws.recv().await;
    for text in [r#"["join","board-1"]"#, r#"["ping"]"#] {
        ws.0.send(Message::text(text)).await.unwrap();
        let answer = ws.recv().await;
        assert_eq!(
            (answer["type"].as_str(), answer["code"].as_str()),
            (Some("error"), Some("invalid_argument")),
            "{text} → {answer}"
        );
        assert!(answer["message"].as_str().unwrap().contains("JSON object"), "{answer}");
    }
    // Not joined by the array: a cursor on the board is refused for want of the room.
    ws.send(json!({"type":"cursor","boardId":"board-1","x":1.0,"y":1.0}))
        .await;
    assert_eq!(ws.recv().await["field"], "boardId");
}

/// A raw WebSocket over a plain TCP stream, past the handshake and the welcome.
async fn raw_ws(app: &TestApp) -> TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        app.addr
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.unwrap();
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
    tcp
}

/// Reads the server's frames until its close frame; its code, or `None` when the TCP
/// connection ends without one.
async fn raw_close_code(tcp: &mut TcpStream) -> Option<u16> {
    use tokio::io::AsyncReadExt;
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let mut header = [0u8; 2];
            tcp.read_exact(&mut header).await.ok()?;
            let len = match header[1] & 0x7f {
                126 => usize::from(tcp.read_u16().await.ok()?),
                127 => usize::try_from(tcp.read_u64().await.ok()?).unwrap(),
                n => usize::from(n),
            };
            let mut payload = vec![0u8; len];
            tcp.read_exact(&mut payload).await.ok()?;
            if header[0] & 0x0f == 0x8 {
                return Some(u16::from_be_bytes([payload[0], payload[1]]));
            }
        }
    })
    .await
    .expect("the server ends the connection within 5 s")
}

/// One client frame: FIN, `opcode`, masked with a zero key when `masked`.
fn raw_frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut frame = vec![
        0x80 | opcode,
        u8::try_from(payload.len()).unwrap() | if masked { 0x80 } else { 0 },
    ];
    if masked {
        frame.extend([0u8; 4]);
    }
    frame.extend(payload);
    frame
}

#[tokio::test]
async fn ws_protocol_errors_get_a_1002_or_1007_close_frame_before_the_tcp_close() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    for (what, frame, code) in [
        (
            "an unmasked client frame",
            raw_frame(0x1, br#"{"type":"ping"}"#, false),
            1002,
        ),
        ("a reserved opcode", raw_frame(0x3, b"x", true), 1002),
        ("a reserved control opcode", raw_frame(0xb, b"", true), 1002),
        (
            "invalid UTF-8 in a text frame",
            raw_frame(0x1, b"\xff\xfe{}", true),
            1007,
        ),
    ] {
        let mut tcp = raw_ws(&app).await;
        tcp.write_all(&frame).await.unwrap();
        assert_eq!(raw_close_code(&mut tcp).await, Some(code), "{what}");
    }
}
