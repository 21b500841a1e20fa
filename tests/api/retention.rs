//! Retention (issue 14) over real sockets: a request id is forgotten after the
//! idempotency window and not before; a compacted board answers a resume point below
//! its horizon with the documented `reset` on SSE, WebSocket, gRPC and both polls,
//! and one at or above it with exactly the rest; the activity feed ends at the
//! horizon; writes go on while a large log is compacted (SQLite and PostgreSQL).

use std::time::{Duration, Instant};

use boardcast::Config;
use boardcast::proto::SubscribeMessage;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{BoardEvent, BoardUpdated, ChangesResponse, SubscribeRequest, board_event::Payload};
use futures_util::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SseClient, TestApp, spawn_with};
use crate::postgres::database;

/// A server whose request ids last one second and whose sweeper never runs during
/// the test: what a client sees must not depend on the sweeper.
fn short_window(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        idempotency_ttl_secs: 1,
        retention_interval_ms: 3_600_000,
        ..Config::ephemeral()
    }
}

async fn create_with_key(app: &TestApp, key: &str, title: &str) -> Value {
    let resp = app
        .request(Method::POST, "/tasks", Some("alice"))
        .header("Idempotency-Key", key)
        .json(&json!({"title": title, "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_request_id_is_forgotten_after_the_window_and_not_before() {
    forgotten_after_the_window("sqlite::memory:").await;
}

async fn forgotten_after_the_window(database_url: &str) {
    let app = spawn_with(short_window(database_url)).await;
    let first = create_with_key(&app, "k-1", "once").await;
    let retry = create_with_key(&app, "k-1", "once").await;
    assert_eq!(first["id"], retry["id"], "within the window a retry replays");
    assert_eq!(app.log("board-1").await.len(), 1, "and writes nothing");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let late = create_with_key(&app, "k-1", "once").await;
    assert_ne!(late["id"], first["id"], "past the window the same key is a new request");
    assert_eq!(app.log("board-1").await.len(), 2);
    let again = create_with_key(&app, "k-1", "once").await;
    assert_eq!(again["id"], late["id"], "and is remembered anew");
    let titles = app
        .board("board-1")
        .await
        .tasks
        .iter()
        .filter(|t| t.title == "once")
        .count();
    assert_eq!(titles, 2);
}

#[tokio::test]
async fn the_sweeper_deletes_expired_request_ids_in_the_background() {
    let app = spawn_with(Config {
        idempotency_ttl_secs: 1,
        retention_interval_ms: 50,
        ..Config::ephemeral()
    })
    .await;
    create_with_key(&app, "swept", "swept").await;
    let stored = || async {
        let mut tx = app.state.core.store().read().await.unwrap();
        tx.idempotent("alice", "swept").await.unwrap().is_some()
    };
    assert!(stored().await, "kept within the window");
    let deadline = Instant::now() + Duration::from_secs(10);
    while stored().await {
        assert!(Instant::now() < deadline, "the sweeper deletes the row past the window");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Events older than a second may go, the newest ten of a board stay, swept every 50 ms.
fn compacting(database_url: &str) -> Config {
    Config {
        database_url: database_url.to_owned(),
        log_retention_secs: 1,
        log_keep_events: 10,
        retention_interval_ms: 50,
        ..Config::ephemeral()
    }
}

async fn changes(app: &TestApp, after: u64) -> ChangesResponse {
    let resp = app.get(&format!("/boards/board-1/changes?after={after}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Board-1 with 30 events, compacted through seq 20 (the newest ten stay).
async fn compacted_board(database_url: &str) -> TestApp {
    let app = spawn_with(compacting(database_url)).await;
    for i in 0..30 {
        app.create_task("list-todo", &format!("t{i}")).await;
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    while !changes(&app, 19).await.reset {
        assert!(Instant::now() < deadline, "compaction reaches seq 20");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seqs: Vec<u64> = app.log("board-1").await.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (21..=30).collect::<Vec<_>>(),
        "the log keeps exactly the newest ten"
    );
    app
}

#[tokio::test]
async fn a_compacted_board_resets_a_resume_point_below_its_horizon_on_every_transport() {
    let app = compacted_board("sqlite::memory:").await;
    resumes_from_the_horizon(&app).await;
}

async fn resumes_from_the_horizon(app: &TestApp) {
    // Board state is its tables, not a replay: every task is there.
    assert_eq!(
        app.board("board-1").await.tasks.len(),
        35,
        "30 created and the five seeded"
    );

    // Short and long polls.
    for after in [0, 5, 19] {
        let below = changes(app, after).await;
        assert!(below.reset && below.events.is_empty(), "after={after}: {below:?}");
        assert_eq!(below.seq, 30);
    }
    let at = changes(app, 20).await;
    assert!(!at.reset);
    assert_eq!(
        at.events.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (21..=30).collect::<Vec<_>>()
    );
    let long: ChangesResponse = app
        .get("/boards/board-1/poll?after=5&timeout=10")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        long.reset && long.events.is_empty() && !long.timeout,
        "at once: {long:?}"
    );

    sse_resumes(app).await;
    ws_resumes(app).await;
    grpc_resumes(app).await;

    // The activity feed ends at the horizon.
    let page: Value = app
        .get("/boards/board-1/activity?limit=200")
        .await
        .json()
        .await
        .unwrap();
    let seqs: Vec<u64> = page["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (21..=30).rev().collect::<Vec<_>>());
    assert_eq!(page["nextBefore"], 0, "no older page");
    let older: Value = app
        .get("/boards/board-1/activity?before=15")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (older["entries"].as_array().unwrap().len(), &older["nextBefore"]),
        (0, &json!(0))
    );
}

async fn sse_resumes(app: &TestApp) {
    let connect = |id: &'static str| {
        SseClient::connect(
            app.request(Method::GET, "/boards/board-1/events", None)
                .header("Last-Event-ID", id),
        )
    };
    let mut below = connect("5").await;
    below.next().await.unwrap();
    let reset = below.next_data().await.unwrap();
    assert_eq!(
        (reset.event.as_deref(), reset.id.as_deref()),
        (Some("reset"), Some("30"))
    );
    let data = reset.json();
    assert_eq!((data["type"].as_str(), data["seq"].as_u64()), (Some("reset"), Some(30)));
    assert!(
        data["reason"].as_str().unwrap().contains("compacted through seq 20"),
        "{data}"
    );

    let mut at = connect("20").await;
    at.next().await.unwrap();
    for seq in 21..=30 {
        let frame = at.next_data().await.unwrap();
        assert_eq!(frame.id, Some(seq.to_string()), "{frame:?}");
    }
}

async fn ws_next(
    ws: &mut tokio_tungstenite::WebSocketStream<impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>,
) -> Value {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a frame within 10 s")
            .expect("socket open")
            .unwrap();
        if let Message::Text(t) = frame {
            let v: Value = serde_json::from_str(t.as_str()).unwrap();
            if v["type"] != "presence" && v["type"] != "welcome" {
                return v;
            }
        }
    }
}

async fn ws_resumes(app: &TestApp) {
    let url = format!("ws://{}/ws?token={}", app.addr, app.token("alice"));
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    let join = json!({"type":"join","boardId":"board-1","afterSeq":5});
    ws.send(Message::text(join.to_string())).await.unwrap();
    let reset = ws_next(&mut ws).await;
    assert_eq!(
        (reset["type"].as_str(), reset["seq"].as_u64()),
        (Some("reset"), Some(30)),
        "{reset}"
    );
    assert!(reset["reason"].as_str().unwrap().contains("compacted"), "{reset}");

    let resume = json!({"type":"resume","boardId":"board-1","afterSeq":20});
    ws.send(Message::text(resume.to_string())).await.unwrap();
    for seq in 21..=30 {
        let event = ws_next(&mut ws).await;
        assert_eq!(event["seq"].as_u64(), Some(seq), "{event}");
    }
}

async fn grpc_resumes(app: &TestApp) {
    let mut grpc = BoardServiceClient::connect(format!("http://{}", app.addr))
        .await
        .unwrap();
    let subscribe = |after| SubscribeRequest {
        board_id: "board-1".into(),
        after_seq: Some(after),
        ..Default::default()
    };
    let mut below = grpc.subscribe(subscribe(5)).await.unwrap().into_inner();
    let first = below.message().await.unwrap().unwrap();
    let Some(SubscribeMessage::Reset(reset)) = first.message else {
        panic!("a reset first");
    };
    assert_eq!(reset.seq, 30);
    assert!(reset.reason.contains("compacted"), "{reset:?}");

    let mut at = grpc.subscribe(subscribe(20)).await.unwrap().into_inner();
    for seq in 21..=30 {
        let msg = tokio::time::timeout(Duration::from_secs(10), at.message())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(msg.event().unwrap().unwrap().seq, seq);
    }
}

/// Latency percentiles of `samples` (sorted here), in ms.
fn percentiles(samples: &mut [Duration]) -> String {
    if samples.is_empty() {
        return "no samples".into();
    }
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize].as_secs_f64() * 1000.0;
    format!(
        "n={} p50={:.2}ms p99={:.2}ms max={:.2}ms",
        samples.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    )
}

/// Fills board-1's log with `n` events an hour old, in one transaction (setup, not
/// what is measured).
async fn old_log(app: &TestApp, n: usize) {
    let hour_ago = boardcast::time::now_millis() - 3_600_000;
    let mut tx = app.state.core.store().write().await.unwrap();
    for _ in 0..n {
        let event = BoardEvent {
            seq: tx.next_seq("board-1").await.unwrap(),
            board_id: "board-1".into(),
            occurred_at: Some(boardcast::time::from_millis(hour_ago)),
            actor: "alice".into(),
            request_id: String::new(),
            payload: Some(Payload::BoardUpdated(BoardUpdated::default())),
        };
        tx.append_event(&event).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// 10,000 old events compacted in the background while a writer creates tasks: every
/// write succeeds, and the writer's latency before and during compaction is printed
/// (numbers, not a timed assertion: the machine is shared).
async fn writes_go_on_while_a_large_log_is_compacted(backend: &str, database_url: &str) {
    const OLD: u64 = 10_000;
    let app = spawn_with(Config {
        database_url: database_url.to_owned(),
        log_retention_secs: 60,
        log_keep_events: 100,
        retention_interval_ms: 1500,
        ..Config::ephemeral()
    })
    .await;
    old_log(&app, OLD as usize).await;
    let started = Instant::now();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (http, url, stop) = (app.http.clone(), app.url("/tasks"), stop.clone());
        tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let t = Instant::now();
                let resp = http
                    .post(&url)
                    .json(&json!({"title": format!("w{i}"), "listId": "list-doing"}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::CREATED);
                samples.push((t, t.elapsed()));
                i += 1;
            }
            samples
        })
    };
    // Compaction is seen start (something below the horizon) and end (everything old gone).
    let (mut began, deadline) = (None, Instant::now() + Duration::from_secs(60));
    loop {
        assert!(Instant::now() < deadline, "{backend}: compaction ends within 60 s");
        if began.is_none() && changes(&app, 0).await.reset {
            began = Some(Instant::now());
        }
        if changes(&app, OLD - 1).await.reset {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (began, ended) = (began.unwrap_or_else(Instant::now), Instant::now());
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let samples = writer.await.unwrap();
    let written = samples.len() as u64;
    // Before: writes that ended before the first batch could have begun (one poll earlier).
    let (mut before, mut during) = (Vec::new(), Vec::new());
    for (t, d) in samples {
        if t + d < began - Duration::from_millis(10) {
            before.push(d);
        } else if t <= ended {
            during.push(d);
        }
    }
    eprintln!(
        "{backend}: compacted {OLD} events in ~{:?} (seen from {:?} after the writer began); writer before: {}; during: {}",
        ended - began,
        began - started,
        percentiles(&mut before),
        percentiles(&mut during)
    );
    let log = app.log("board-1").await;
    assert_eq!(
        log.first().map(|e| e.seq),
        Some(OLD + 1),
        "{backend}: every old event went, no new one"
    );
    let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (OLD + 1..=OLD + written).collect::<Vec<_>>(),
        "{backend}: the rest is contiguous"
    );
}

#[tokio::test]
async fn writes_go_on_while_a_large_log_is_compacted_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("retention.db").display());
    writes_go_on_while_a_large_log_is_compacted("sqlite file", &url).await;
}

#[tokio::test]
async fn retention_on_postgres_request_ids_expire() {
    let Some(url) = database().await else { return };
    forgotten_after_the_window(&url).await;
}

#[tokio::test]
async fn retention_on_postgres_a_compacted_board_resets_below_its_horizon() {
    let Some(url) = database().await else { return };
    let app = compacted_board(&url).await;
    resumes_from_the_horizon(&app).await;
}

#[tokio::test]
async fn retention_on_postgres_writes_go_on_while_a_large_log_is_compacted() {
    let Some(url) = database().await else { return };
    writes_go_on_while_a_large_log_is_compacted("postgres", &url).await;
}
