//! The polling fallback: short and long polls, the seed's shapes, and bad input.

use std::time::{Duration, Instant};

use boardcast::proto::v1::{ChangesResponse, PollResponse, UpdatesResponse};
use reqwest::{Method, StatusCode};

use crate::helpers::{error_body, spawn_app};

#[tokio::test]
async fn short_poll_answers_at_once_with_events_after_n() {
    let app = spawn_app().await;
    let empty: ChangesResponse = app.get("/boards/board-1/changes?after=0").await.json().await.unwrap();
    assert_eq!(
        (empty.events.len(), empty.seq, empty.timeout, empty.reset),
        (0, 0, false, false)
    );
    for i in 0..3 {
        app.create_task("list-todo", &format!("t{i}")).await;
    }
    let changes: ChangesResponse = app.get("/boards/board-1/changes?after=1").await.json().await.unwrap();
    assert_eq!(changes.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(changes.seq, 3);
    let ahead: ChangesResponse = app.get("/boards/board-1/changes?after=9").await.json().await.unwrap();
    assert!(ahead.reset && ahead.events.is_empty());
    let other: ChangesResponse = app.get("/boards/board-2/changes?after=0").await.json().await.unwrap();
    assert!(other.events.is_empty(), "board-1 traffic never shows on board-2");
}

#[tokio::test]
async fn long_poll_wakes_on_a_mutation_and_returns_on_timeout() {
    let app = spawn_app().await;
    let started = Instant::now();
    let waiting = app.get("/boards/board-1/poll?after=0&timeout=20");
    let (resp, _) = tokio::join!(waiting, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.create_task("list-todo", "wake up").await
    });
    let answer: ChangesResponse = resp.json().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "woken by the event, not the timeout"
    );
    assert_eq!(answer.events.len(), 1);
    assert!(!answer.timeout);

    // Already there: answers at once.
    let answer: ChangesResponse = app
        .get("/boards/board-1/poll?after=0&timeout=20")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer.events.len(), 1);

    let started = Instant::now();
    let answer: ChangesResponse = app
        .get("/boards/board-1/poll?after=1&timeout=1")
        .await
        .json()
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(answer.timeout && answer.events.is_empty());
    assert!(
        waited >= Duration::from_millis(950) && waited < Duration::from_secs(5),
        "{waited:?}"
    );

    // An event on another board does not wake a board-1 poll.
    let started = Instant::now();
    let (resp, _) = tokio::join!(app.get("/boards/board-1/poll?after=1&timeout=1"), async {
        app.create_task("list-backlog", "elsewhere").await
    });
    let answer: ChangesResponse = resp.json().await.unwrap();
    assert!(answer.timeout && started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn seed_shapes_updates_since_and_poll_without_after() {
    let app = spawn_app().await;
    let before: UpdatesResponse = app.get("/boards/board-1/updates?since=0").await.json().await.unwrap();
    assert_eq!(before.data.len(), 5, "every task changed since the epoch");
    let since = before.timestamp;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let task = app.create_task("list-todo", "new").await;
    let after: UpdatesResponse = app
        .get(&format!("/boards/board-1/updates?since={since}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        after.data.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [task.id.as_str()]
    );
    assert!(after.timestamp >= since);

    let (resp, _) = tokio::join!(app.get("/boards/board-1/poll?timeout=10"), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        app.create_task("list-todo", "polled").await
    });
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["data"][0]["type"], "task_created");
    assert!(json["timestamp"].is_number());
    let answer: PollResponse = serde_json::from_value(json).unwrap();
    assert!(!answer.timeout);
    let quiet: PollResponse = app.get("/boards/board-1/poll?timeout=1").await.json().await.unwrap();
    assert!(quiet.timeout && quiet.data.is_empty());
}

#[tokio::test]
async fn bad_poll_parameters_are_400_naming_them() {
    let app = spawn_app().await;
    for (path, field) in [
        ("/boards/board-1/changes?after=-1", "after"),
        ("/boards/board-1/changes?after=abc", "after"),
        ("/boards/board-1/poll?after=0&timeout=31", "timeout"),
        ("/boards/board-1/poll?after=0&timeout=soon", "timeout"),
        ("/boards/board-1/updates?since=now", "since"),
    ] {
        let err = error_body(app.get(path).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["error"]["field"], field, "{path}");
    }
    error_body(app.get("/boards/nope/changes").await, StatusCode::NOT_FOUND).await;
    let resp = app
        .request(Method::GET, "/boards/board-1/poll?after=0&timeout=1", Some("carol"))
        .send()
        .await
        .unwrap();
    // Issue 11: a non-member's board is a 404, like a missing one (was 403).
    error_body(resp, StatusCode::NOT_FOUND).await;
}
