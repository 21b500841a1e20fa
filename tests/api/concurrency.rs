//! Concurrent writers: ordering stays dense and the log stays gap-free.

use std::collections::BTreeSet;

use boardcast::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SseClient, TestApp, dense_order, on_file, spawn_app, spawn_with};

async fn sixteen_concurrent_moves(app: &TestApp) {
    // Fill list-todo to 16 tasks, then move all of them at once to scattered positions.
    let mut ids = vec!["task-1".to_owned(), "task-2".to_owned()];
    for i in 0..14 {
        ids.push(app.create_task("list-todo", &format!("filler {i}")).await.id);
    }
    let moves = ids.iter().enumerate().map(|(i, id)| {
        let body = json!({"listId": "list-todo", "position": (i * 7) % 16});
        let req = app
            .request(Method::PATCH, &format!("/tasks/{id}/move"), None)
            .json(&body);
        async move { req.send().await.unwrap() }
    });
    let responses = futures_util::future::join_all(moves).await;
    for resp in responses {
        assert_eq!(resp.status(), StatusCode::OK);
        let _: Value = resp.json().await.unwrap();
    }
    let board = app.board("board-1").await;
    let order = dense_order(&board, "list-todo");
    assert_eq!(order.len(), 16);
    assert_eq!(
        order.iter().collect::<BTreeSet<_>>(),
        ids.iter().collect::<BTreeSet<_>>()
    );

    // One event per successful mutation (14 creates + 16 moves), seq exactly 1..=30.
    let log = app.log("board-1").await;
    assert_eq!(log.len(), 30);
    assert_eq!(
        log.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=30).collect::<Vec<u64>>()
    );
    assert_eq!(board.seq, 30);
}

#[tokio::test]
async fn concurrent_moves_in_memory() {
    sixteen_concurrent_moves(&spawn_app().await).await;
}

#[tokio::test]
async fn concurrent_moves_on_a_wal_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("board.db");
    let app = spawn_with(Config {
        database_url: format!("sqlite:{}", db.display()),
        ..Config::ephemeral()
    })
    .await;
    sixteen_concurrent_moves(&app).await;
}

#[tokio::test]
async fn concurrent_creates_and_deletes_keep_seq_gap_free_across_boards() {
    let app = spawn_app().await;
    let work = (0..24).map(|i| {
        let (list, title) = if i % 3 == 0 {
            ("list-backlog", "b2")
        } else {
            ("list-doing", "b1")
        };
        let req = app
            .request(Method::POST, "/tasks", None)
            .json(&json!({"title": format!("{title} {i}"), "listId": list, "position": 0}));
        async move { req.send().await.unwrap().status() }
    });
    let statuses = futures_util::future::join_all(work).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED));
    for (board, n) in [("board-1", 16), ("board-2", 8)] {
        let seqs: Vec<u64> = app.log(board).await.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=n).collect::<Vec<u64>>(), "{board}");
    }
    let board = app.board("board-1").await;
    assert_eq!(dense_order(&board, "list-doing").len(), 18);
}

/// Writes that commit together (SQLite's group commit, a file database) reach a live
/// subscriber in seq order, each as it is published: the stream never has to read an
/// overtaken event from the log (`boardcast_stream_log_reads_total` stays 0).
#[tokio::test]
async fn concurrent_writes_reach_a_live_subscriber_in_order_without_reading_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(on_file(&dir.path().join("groups.db"))).await;
    let mut sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", None)).await;
    assert_eq!(sse.next_data().await.unwrap().json()["type"], "connected");
    const WRITERS: usize = 8;
    const EACH: usize = 25;
    let writers = (0..WRITERS).map(|w| {
        let app = &app;
        async move {
            for i in 0..EACH {
                let resp = app
                    .send_json(
                        Method::POST,
                        "/tasks",
                        json!({"listId": "list-todo", "title": format!("w{w} #{i}")}),
                    )
                    .await;
                assert_eq!(resp.status(), StatusCode::CREATED);
            }
        }
    });
    futures_util::future::join_all(writers).await;
    let mut seqs = Vec::new();
    while seqs.len() < WRITERS * EACH {
        let frame = sse.next_data().await.expect("the stream stays open");
        seqs.push(frame.json()["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, (1..=(WRITERS * EACH) as u64).collect::<Vec<_>>());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let reads = metrics
        .lines()
        .find_map(|l| l.strip_prefix("boardcast_stream_log_reads_total "))
        .expect("the log-read counter is exposed");
    assert_eq!(reads, "0", "every event went to the subscriber live");
}
