//! Live board streams over SSE and gRPC: order, resumption (also across a restart),
//! replay racing writers, heartbeats, slow consumers, scoping and bad input.

use std::collections::BTreeSet;
use std::time::Duration;

use boardcast::Config;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{BoardCursor, SubscribeRequest};
use boardcast::proto::{SubscribeMessage, SubscribeResponse};
use reqwest::{Method, StatusCode};
use serde_json::json;
use tonic::Code;

use crate::helpers::{SseClient, TestApp, as_user, big_task, error_body, on_file, spawn_app, spawn_with};

async fn sse(app: &TestApp, path: &str) -> SseClient {
    SseClient::connect(app.request(Method::GET, path, None)).await
}

#[tokio::test]
async fn sse_carries_connected_then_every_change_in_order() {
    let app = spawn_app().await;
    let mut stream = sse(&app, "/boards/board-1/events").await;
    let first = stream.next().await.unwrap();
    assert_eq!(first.retry.as_deref(), Some("2000"));
    assert_eq!(first.event, None, "connected reaches EventSource.onmessage");
    let connected = first.json();
    assert_eq!(
        (connected["type"].as_str(), connected["boardId"].as_str()),
        (Some("connected"), Some("board-1"))
    );
    assert_eq!(connected["seq"], 0);

    // board-2 traffic never reaches a board-1 stream.
    app.create_task("list-backlog", "elsewhere").await;
    let task = app.create_task("list-todo", "streamed").await;
    app.send_json(
        Method::PATCH,
        &format!("/tasks/{}", task.id),
        json!({"title": "renamed"}),
    )
    .await;
    app.send_json(
        Method::PATCH,
        &format!("/tasks/{}/move", task.id),
        json!({"listId": "list-todo", "position": 0}),
    )
    .await;
    app.request(Method::DELETE, &format!("/tasks/{}", task.id), None)
        .send()
        .await
        .unwrap();

    let expected = ["task_created", "task_updated", "task_moved", "task_deleted"];
    for (i, kind) in expected.iter().enumerate() {
        let frame = stream.next_data().await.unwrap();
        let seq = (i + 1).to_string();
        assert_eq!(frame.id.as_deref(), Some(seq.as_str()));
        assert_eq!(frame.event.as_deref(), Some(*kind));
        let data = frame.json();
        assert_eq!(data["type"], *kind);
        assert_eq!(data["seq"], i + 1);
        assert_eq!(data["boardId"], "board-1");
        match *kind {
            "task_created" | "task_updated" => assert_eq!(data["task"]["id"], task.id.as_str()),
            "task_moved" => {
                assert_eq!(data["task"]["position"], 0);
                let shifted = data["shifted"].as_array().unwrap();
                let ids: Vec<&str> = shifted.iter().map(|s| s["taskId"].as_str().unwrap()).collect();
                assert_eq!(
                    ids,
                    ["task-1", "task-2"],
                    "every shifted sibling, with its new position"
                );
            }
            _ => assert_eq!(data["taskId"], task.id.as_str()),
        }
    }
}

#[tokio::test]
async fn sse_sends_heartbeats_at_the_configured_interval() {
    let app = spawn_with(Config {
        sse_heartbeat_ms: 100,
        ..Config::ephemeral()
    })
    .await;
    let mut stream = sse(&app, "/boards/board-1/events").await;
    stream.next().await.unwrap();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        assert_eq!(stream.next().await.unwrap().comment.as_deref(), Some("heartbeat"));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn sse_resumes_from_the_log_after_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = on_file(&dir.path().join("restart.db"));
    let first = spawn_with(config.clone()).await;
    for i in 0..3 {
        first.create_task("list-doing", &format!("before restart {i}")).await;
    }
    drop(first);

    let second = spawn_with(config).await;
    let mut stream = SseClient::connect(
        second
            .request(Method::GET, "/boards/board-1/events", None)
            .header("Last-Event-ID", "1"),
    )
    .await;
    assert_eq!(
        stream.next().await.unwrap().json()["seq"],
        3,
        "connected carries the board's current seq"
    );
    for seq in [2, 3] {
        let frame = stream.next_data().await.unwrap();
        assert_eq!(frame.json()["task"]["title"], format!("before restart {}", seq - 1));
        assert_eq!(frame.id, Some(seq.to_string()));
    }
    second.create_task("list-doing", "after restart").await;
    let frame = stream.next_data().await.unwrap();
    assert_eq!(frame.id.as_deref(), Some("4"));

    // The query parameter works where a client cannot set the header.
    let mut by_query = sse(&second, "/boards/board-1/events?lastEventId=3").await;
    by_query.next().await.unwrap();
    assert_eq!(by_query.next_data().await.unwrap().id.as_deref(), Some("4"));
}

#[tokio::test]
async fn resume_racing_four_writers_yields_every_seq_exactly_once() {
    let app = spawn_app().await;
    for i in 0..10 {
        app.create_task("list-todo", &format!("early {i}")).await;
    }
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let http = app.http.clone();
            let url = app.url("/tasks");
            tokio::spawn(async move {
                for i in 0..25 {
                    let resp = http
                        .post(&url)
                        .json(&json!({"title": format!("w{w} #{i}"), "listId": "list-doing"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(resp.status(), StatusCode::CREATED);
                }
            })
        })
        .collect();
    // Subscribers join while the writers run, each resuming from seq 5.
    let mut readers = Vec::new();
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(15)).await;
        let stream = SseClient::connect(
            app.request(Method::GET, "/boards/board-1/events", None)
                .header("Last-Event-ID", "5"),
        )
        .await;
        readers.push(stream);
    }
    for w in writers {
        w.await.unwrap();
    }
    for mut stream in readers {
        stream.next().await.unwrap();
        let mut seqs = Vec::new();
        while seqs.last() != Some(&110) {
            seqs.push(stream.next_data().await.unwrap().json()["seq"].as_u64().unwrap());
        }
        assert_eq!(seqs, (6..=110).collect::<Vec<u64>>());
    }
}

#[tokio::test]
async fn resume_points_ahead_or_unreadable_get_a_reset_event() {
    let app = spawn_app().await;
    app.create_task("list-todo", "one").await;
    for (round, (id, reason)) in [
        ("99", "ahead of the board"),
        ("yesterday", "not a seq"),
        ("-1", "not a seq"),
    ]
    .into_iter()
    .enumerate()
    {
        let current = round as u64 + 1;
        let mut stream = SseClient::connect(
            app.request(Method::GET, "/boards/board-1/events", None)
                .header("Last-Event-ID", id),
        )
        .await;
        assert_eq!(stream.response_status, StatusCode::OK);
        stream.next().await.unwrap();
        let reset = stream.next_data().await.unwrap();
        assert_eq!(reset.event.as_deref(), Some("reset"));
        let expected_id = current.to_string();
        assert_eq!(
            reset.id.as_deref(),
            Some(expected_id.as_str()),
            "resume from the board's seq after reloading"
        );
        let data = reset.json();
        assert_eq!(
            (data["type"].as_str(), data["seq"].as_u64()),
            (Some("reset"), Some(current))
        );
        assert!(data["reason"].as_str().unwrap().contains(reason), "{data}");
        // Then the stream goes on live.
        app.create_task("list-todo", "two").await;
        let next = stream.next_data().await.unwrap();
        assert_eq!(next.event.as_deref(), Some("task_created"));
    }
}

#[tokio::test]
async fn one_stream_follows_several_boards_and_resumes_each_exactly() {
    let app = spawn_app().await;
    let mut stream = sse(&app, "/events?boards=board-1,board-2").await;
    let connected = stream.next().await.unwrap();
    assert_eq!(connected.id.as_deref(), Some("board-1:0,board-2:0"));
    let mut last_id = String::new();
    // Each board's events are ordered, but two boards' are not ordered against each
    // other, so each event is awaited before the next board changes.
    for (board, seq, list) in [
        ("board-1", 1, "list-todo"),
        ("board-2", 1, "list-backlog"),
        ("board-1", 2, "list-todo"),
    ] {
        app.create_task(list, &format!("{board} #{seq}")).await;
        let frame = stream.next_data().await.unwrap();
        let data = frame.json();
        assert_eq!(
            (data["boardId"].as_str(), data["seq"].as_u64()),
            (Some(board), Some(seq))
        );
        last_id = frame.id.unwrap();
    }
    assert_eq!(last_id, "board-1:2,board-2:1");
    drop(stream);

    // Missed while away: one event on each board.
    app.create_task("list-backlog", "b2 missed").await;
    app.create_task("list-doing", "b1 missed").await;
    let mut resumed = SseClient::connect(
        app.request(Method::GET, "/events?boards=board-1,board-2", None)
            .header("Last-Event-ID", &last_id),
    )
    .await;
    resumed.next().await.unwrap();
    let mut got = BTreeSet::new();
    for _ in 0..2 {
        let data = resumed.next_data().await.unwrap().json();
        got.insert((
            data["boardId"].as_str().unwrap().to_owned(),
            data["seq"].as_u64().unwrap(),
        ));
    }
    assert_eq!(
        got,
        BTreeSet::from([("board-1".to_owned(), 3), ("board-2".to_owned(), 2)])
    );

    let resp = app.get("/events").await;
    assert_eq!(
        error_body(resp, StatusCode::BAD_REQUEST).await["error"]["field"],
        "boards"
    );
    let resp = app.get("/events?boards=board-1,board-1").await;
    error_body(resp, StatusCode::BAD_REQUEST).await;
}

/// Found writing the round trip of `fuzz/run resume_id` (positions read from an id, written
/// as the server's next id, read back the same): in `board-1:1, board-2:1` the second id
/// was read as ` board-2`, no board, so board-2 went live and its missed events were
/// never replayed. Spaces around an id are not part of it, as in `?boards=`.
#[tokio::test]
async fn a_composite_last_event_id_with_spaces_resumes_every_board() {
    let app = spawn_app().await;
    app.create_task("list-todo", "b1 #1").await;
    app.create_task("list-backlog", "b2 #1").await;
    app.create_task("list-backlog", "b2 #2 missed").await;
    let mut resumed = SseClient::connect(
        app.request(Method::GET, "/events?boards=board-1,board-2", None)
            .header("Last-Event-ID", "board-1:1, board-2:1"),
    )
    .await;
    resumed.next().await.unwrap();
    // A live event after the replay: a board gone live would show it first.
    app.create_task("list-todo", "b1 #2 live").await;
    let mut got = Vec::new();
    for _ in 0..2 {
        let data = resumed.next_data().await.unwrap().json();
        got.push((
            data["boardId"].as_str().unwrap().to_owned(),
            data["seq"].as_u64().unwrap(),
        ));
    }
    assert_eq!(got, [("board-2".to_owned(), 2), ("board-1".to_owned(), 2)]);
}

#[tokio::test]
async fn streams_refuse_unknown_and_forbidden_boards_before_starting() {
    let app = spawn_app().await;
    let resp = app.get("/boards/nope/events").await;
    error_body(resp, StatusCode::NOT_FOUND).await;
    let resp = app
        .request(Method::GET, "/boards/board-1/events", Some("carol"))
        .send()
        .await
        .unwrap();
    // Issue 11: a non-member's board is a 404, like a missing one (was 403).
    error_body(resp, StatusCode::NOT_FOUND).await;
    let resp = app
        .http
        .get(app.url(&format!("/events?boards=board-2,board-1&token={}", app.token("carol"))))
        .send()
        .await
        .unwrap();
    // Issue 11: a non-member's board is a 404, like a missing one (was 403).
    error_body(resp, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn too_many_streams_from_one_user_is_429_and_resource_exhausted() {
    let app = spawn_with(Config {
        max_streams_per_user: 2,
        ..Config::ephemeral()
    })
    .await;
    let a = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("alice"))).await;
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let req = as_user(
        &app,
        "alice",
        SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        },
    );
    let b = grpc.subscribe(req).await.unwrap();
    let resp = app
        .request(Method::GET, "/boards/board-1/events", Some("alice"))
        .send()
        .await
        .unwrap();
    let err = error_body(resp, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(err["error"]["message"].as_str().unwrap().contains("at most 2"), "{err}");
    let req = as_user(
        &app,
        "alice",
        SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        },
    );
    assert_eq!(grpc.subscribe(req).await.unwrap_err().code(), Code::ResourceExhausted);
    // bob is not affected, and closing a stream frees its slot.
    let bob = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("bob"))).await;
    assert_eq!(bob.response_status, StatusCode::OK);
    drop(a);
    drop(b);
    let mut again = None;
    for _ in 0..50 {
        let s = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("alice"))).await;
        if s.response_status == StatusCode::OK {
            again = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "a closed stream frees its slot");
}

async fn grpc_events(stream: &mut tonic::Streaming<SubscribeResponse>, n: usize) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    while out.len() < n {
        let msg = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await
            .expect("a message within 10 s")
            .unwrap()
            .expect("stream open");
        let event = msg.event().expect("an event").unwrap();
        out.push((event.board_id, event.seq));
    }
    out
}

#[tokio::test]
async fn grpc_subscribe_replays_then_goes_live() {
    let app = spawn_app().await;
    app.create_task("list-todo", "one").await;
    app.create_task("list-todo", "two").await;
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let mut stream = grpc
        .subscribe(SubscribeRequest {
            board_id: "board-1".into(),
            after_seq: Some(0),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        grpc_events(&mut stream, 2).await,
        [("board-1".into(), 1), ("board-1".into(), 2)]
    );
    app.create_task("list-backlog", "other board").await;
    app.create_task("list-todo", "three").await;
    assert_eq!(
        grpc_events(&mut stream, 1).await,
        [("board-1".into(), 3)],
        "board-2 traffic is not here"
    );

    // Snapshot first, then events after it.
    let mut snap = grpc
        .subscribe(SubscribeRequest {
            board_id: "board-1".into(),
            snapshot: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = snap.message().await.unwrap().unwrap();
    let Some(SubscribeMessage::Snapshot(board)) = first.message else {
        panic!("snapshot first: {first:?}");
    };
    assert_eq!((board.seq, board.tasks.len()), (3, 8));
    app.create_task("list-todo", "four").await;
    assert_eq!(grpc_events(&mut snap, 1).await, [("board-1".into(), 4)]);

    // Several boards, each from its own point.
    let mut many = grpc
        .subscribe(SubscribeRequest {
            boards: vec![
                BoardCursor {
                    board_id: "board-1".into(),
                    after_seq: Some(3),
                },
                BoardCursor {
                    board_id: "board-2".into(),
                    after_seq: Some(0),
                },
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let got: BTreeSet<_> = grpc_events(&mut many, 2).await.into_iter().collect();
    assert_eq!(got, BTreeSet::from([("board-1".into(), 4), ("board-2".into(), 1)]));

    // Ahead of the board: a reset message, then live.
    let mut ahead = grpc
        .subscribe(SubscribeRequest {
            board_id: "board-1".into(),
            after_seq: Some(50),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(SubscribeMessage::Reset(reset)) = ahead.message().await.unwrap().unwrap().message else {
        panic!("reset first");
    };
    assert_eq!(reset.seq, 4);

    let err = grpc
        .subscribe(SubscribeRequest {
            board_id: "nope".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let forbidden = as_user(
        &app,
        "carol",
        SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        },
    );
    assert_eq!(
        grpc.subscribe(forbidden).await.unwrap_err().code(),
        // Issue 11: NOT_FOUND for a non-member, like a missing board (was PERMISSION_DENIED).
        Code::NotFound
    );
}

#[tokio::test]
async fn a_stalled_reader_is_cut_off_while_a_healthy_one_keeps_receiving() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_with(Config {
        stream_buffer: 16,
        ..Config::ephemeral()
    })
    .await;
    // The stalled reader: a raw socket with a tiny receive window that reads nothing.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(app.addr).await.unwrap();
    stalled
        .write_all(b"GET /boards/board-1/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut healthy = sse(&app, "/boards/board-1/events").await;
    healthy.next().await.unwrap();

    // ~10 KB events: far more than the socket buffers between server and stalled reader hold.
    let total = 800u64;
    for i in 0..total {
        app.send_json(Method::POST, "/tasks", big_task(i)).await;
        let frame = healthy.next_data().await.unwrap();
        assert_eq!(
            frame.id,
            Some((i + 1).to_string()),
            "the healthy reader keeps up, in order"
        );
    }

    // Now the stalled reader drains what was queued for it: it ends with a reset that
    // names the last event it was given, and then the response body ends (the final
    // empty chunk; the connection itself may stay open for the next request).
    let mut raw = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    tokio::time::timeout(Duration::from_secs(20), async {
        while !raw.ends_with(b"\r\n0\r\n\r\n") {
            let n = stalled.read(&mut chunk).await.unwrap();
            assert!(n > 0, "connection closed before the body ended");
            raw.extend_from_slice(&chunk[..n]);
        }
    })
    .await
    .expect("the server ends the stalled stream");
    let text = String::from_utf8_lossy(&raw);
    let ids: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("id: "))
        .filter_map(|id| id.trim().parse().ok())
        .collect();
    assert!(text.contains("event: reset"), "a final reset frame");
    let last_event = ids[ids.len() - 2];
    let reset_id = *ids.last().unwrap();
    assert_eq!(reset_id, last_event, "the reset names the last delivered seq");
    assert!(last_event < total, "cut off before the end ({last_event} of {total})");
    assert!(
        text.contains(&format!("resume after seq {last_event}")),
        "{}",
        &text[text.len() - 300..]
    );
    assert_eq!(
        ids[..ids.len() - 1],
        (1..=last_event).collect::<Vec<_>>()[..],
        "in order, no gap, until the cut"
    );
}

#[tokio::test]
async fn a_stalled_grpc_subscriber_ends_with_resource_exhausted_naming_its_last_seq() {
    let app = spawn_with(Config {
        stream_buffer: 16,
        ..Config::ephemeral()
    })
    .await;
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let mut stalled = grpc
        .subscribe(SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut healthy = grpc
        .subscribe(SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let total = 800u64;
    for i in 0..total {
        app.send_json(Method::POST, "/tasks", big_task(i)).await;
        assert_eq!(grpc_events(&mut healthy, 1).await, [("board-1".into(), i + 1)]);
    }
    let mut seqs = Vec::new();
    let status = loop {
        match tokio::time::timeout(Duration::from_secs(20), stalled.message())
            .await
            .expect("ends")
        {
            Ok(Some(msg)) => seqs.push(msg.event().unwrap().unwrap().seq),
            Ok(None) => panic!("ended without a status after {seqs:?}"),
            Err(status) => break status,
        }
    };
    let last = *seqs.last().unwrap();
    assert!(last < total, "cut off before the end");
    assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert!(
        status.message().contains(&format!("resume after seq {last}")),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_reader_that_never_reads_again_is_disconnected_and_frees_its_slot() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let app = spawn_with(Config {
        send_timeout_ms: 300,
        max_streams_per_user: 1,
        ..Config::ephemeral()
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stalled = socket.connect(app.addr).await.unwrap();
    let request = format!(
        "GET /boards/board-1/events?token={} HTTP/1.1\r\nHost: x\r\n\r\n",
        app.token("alice")
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    let mut head = [0u8; 12];
    stalled.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    let busy = app
        .request(Method::GET, "/boards/board-1/events", Some("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        busy.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "alice's one slot is taken"
    );

    // Far more than the kernel buffers between the two hold, so the server's writes stall.
    for i in 0..600 {
        app.send_json(Method::POST, "/tasks", big_task(i)).await;
    }
    assert!(
        stream_slot_frees(&app, "alice", Duration::from_secs(10)).await,
        "the stalled connection was closed and its stream slot freed"
    );
    // What was already in flight can still be read; then the connection is gone.
    let mut sink = vec![0u8; 1 << 20];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stalled.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the server closed the connection");
}

/// Whether `user` can open a board stream again within `within` (their one slot was
/// taken by a stream the server should end).
async fn stream_slot_frees(app: &TestApp, user: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let resp = app
            .request(Method::GET, "/boards/board-1/events", Some(user))
            .send()
            .await
            .unwrap();
        if resp.status() == StatusCode::OK {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// Reads from a raw socket until `needle` has arrived (or 5 s pass); returns all read.
async fn read_until(socket: &mut tokio::net::TcpStream, needle: &str) -> String {
    use tokio::io::AsyncReadExt;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let found = tokio::time::timeout(Duration::from_secs(5), async {
        while !String::from_utf8_lossy(&seen).contains(needle) {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&seen).into_owned();
    assert!(
        found.is_ok() && text.contains(needle),
        "expected {needle:?} in {text:?}"
    );
    text
}

#[tokio::test]
async fn a_stream_is_chunked_http_1_1_and_events_arrive_as_chunks() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /boards/board-1/events?token={} HTTP/1.1\r\nHost: x\r\n\r\n",
        app.token("alice")
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let head = read_until(&mut socket, "\"type\":\"connected\"").await;
    let lower = head.to_ascii_lowercase();
    assert!(lower.starts_with("http/1.1 200 ok\r\n"), "{head}");
    assert!(lower.contains("transfer-encoding: chunked\r\n"), "{head}");
    assert!(lower.contains("content-type: text/event-stream\r\n"), "{head}");
    assert!(lower.contains("\r\ndate: "), "{head}");
    // The first chunk's size line follows the head.
    let body = &head[head.find("\r\n\r\n").unwrap() + 4..];
    let (size, rest) = body.split_once("\r\n").unwrap();
    assert!(
        usize::from_str_radix(size, 16).is_ok_and(|n| n > 0),
        "chunk size line {size:?}"
    );
    assert!(rest.starts_with("retry: "), "{rest:?}");

    app.send_json(Method::POST, "/tasks", big_task(1)).await;
    let frame = read_until(&mut socket, "event: task_created").await;
    assert!(frame.contains("id: 1\n"), "{frame}");
}

#[tokio::test]
async fn a_refused_stream_is_answered_whole_and_the_connection_serves_on() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    socket
        .write_all(b"GET /boards/nope/events HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until(&mut socket, "}").await;
    assert!(answer.starts_with("HTTP/1.1 404 Not Found\r\n"), "{answer}");
    let lower = answer.to_ascii_lowercase();
    let body = &answer[answer.find("\r\n\r\n").unwrap() + 4..];
    assert!(
        lower.contains(&format!("content-length: {}\r\n", body.len())),
        "{answer}"
    );
    assert!(body.contains("nope"), "the error names the board: {body}");

    // Kept alive: the next request on the same socket is served as usual.
    let request = format!(
        "GET /boards/board-1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
        app.token("alice")
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let next = read_until(&mut socket, "list-todo").await;
    assert!(next.starts_with("HTTP/1.1 200 OK\r\n"), "{next}");
}

#[tokio::test]
async fn an_http_1_0_stream_is_raw_until_close() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app().await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /boards/board-1/events?token={} HTTP/1.0\r\n\r\n",
        app.token("alice")
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    let head = read_until(&mut socket, "\"type\":\"connected\"").await;
    let lower = head.to_ascii_lowercase();
    assert!(lower.contains("connection: close\r\n"), "{head}");
    assert!(!lower.contains("transfer-encoding"), "{head}");
    assert!(
        head.contains("\r\n\r\nretry: "),
        "the body starts right after the head: {head}"
    );
}

#[tokio::test]
async fn an_idle_stream_whose_client_left_frees_its_slot() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_with(Config {
        max_streams_per_user: 1,
        ..Config::ephemeral()
    })
    .await;
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "GET /boards/board-1/events?token={} HTTP/1.1\r\nHost: x\r\n\r\n",
        app.token("alice")
    );
    socket.write_all(request.as_bytes()).await.unwrap();
    read_until(&mut socket, "\"type\":\"connected\"").await;
    drop(socket);
    // No event is ever written to it: the server notices the close by reading.
    assert!(
        stream_slot_frees(&app, "alice", Duration::from_secs(3)).await,
        "the slot of the stream whose client closed was freed"
    );
}

#[tokio::test]
async fn a_non_ascii_last_event_id_is_an_unreadable_resume_point_not_no_id() {
    let app = spawn_app().await;
    app.create_task("list-todo", "one").await;
    // HTTP/1 takes the server's stream fast path; h2c goes through hyper and axum.
    let h2 = reqwest::Client::builder().http2_prior_knowledge().build().unwrap();
    let ids: [&[u8]; 2] = [b"\xff1", "1\u{e9}".as_bytes()];
    for (client, via) in [(&app.http, "HTTP/1 fast path"), (&h2, "h2c")] {
        for path in ["/boards/board-1/events", "/events?boards=board-1,board-2"] {
            for id in ids {
                let value = reqwest::header::HeaderValue::from_bytes(id).unwrap();
                let mut stream = SseClient::connect(client.get(app.url(path)).header("Last-Event-ID", value)).await;
                assert_eq!(stream.response_status, StatusCode::OK, "{via} {path}");
                stream.next().await.unwrap();
                let first = stream.next_data().await.unwrap();
                assert_eq!(first.event.as_deref(), Some("reset"), "{via} {path} {id:?}");
            }
        }
    }
    // The same bytes percent-encoded in the query are no more readable.
    let mut stream = sse(&app, "/events?boards=board-1,board-2&lastEventId=board-1%FF:1").await;
    stream.next().await.unwrap();
    let first = stream.next_data().await.unwrap();
    assert_eq!(first.event.as_deref(), Some("reset"));
}
