//! Labels over REST: any member lists them, editors and owners create, rename,
//! recolor and delete them (viewers 403, non-members the 404 of a missing board);
//! deleting one takes it off its tasks; each change is one event, streamed over SSE;
//! every error writes nothing and appends no event.

use boardcast::proto::v1::GetBoardResponse;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SseClient, TestApp, error_body};
use crate::roles::setup;

pub(crate) async fn create_label(app: &TestApp, user: &str, name: &str, color: &str) -> Value {
    let resp = app
        .send_as(
            Some(user),
            Method::POST,
            "/boards/board-1/labels",
            Some(json!({"name": name, "color": color})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    resp.json().await.unwrap()
}

async fn labels(app: &TestApp, user: &str) -> Value {
    let resp = app
        .send_as(Some(user), Method::GET, "/boards/board-1/labels", None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()
}

/// Board-1 as the owner sees it (guests are off in `setup`).
pub(crate) async fn board(app: &TestApp) -> GetBoardResponse {
    let resp = app.send_as(Some("alice"), Method::GET, "/boards/board-1", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

pub(crate) fn event_json(log: &[boardcast::proto::v1::BoardEvent], i: usize) -> Value {
    serde_json::to_value(&log[i]).unwrap()
}

/// user, method, path, body, status, the field the error names.
type Case<'a> = (&'a str, Method, &'a str, Value, StatusCode, Option<&'a str>);

#[tokio::test]
async fn labels_are_created_listed_renamed_recolored_and_each_is_an_event() {
    let app = setup().await;
    let before = app.log("board-1").await.len();
    let resp = app
        .send_as(
            Some("alice"),
            Method::POST,
            "/boards/board-1/labels",
            Some(json!({"name": " Urgent ", "color": "#D73A4A"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let urgent: Value = resp.json().await.unwrap();
    let id = urgent["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("label-"), "{id}");
    assert_eq!(location, format!("/labels/{id}"));
    assert_eq!(
        urgent,
        json!({"id": id, "boardId": "board-1", "name": "Urgent", "color": "#d73a4a"}),
        "trimmed, color kept lowercase"
    );
    let bug = create_label(&app, "bob", "Bug", "#0e8a16").await;
    let chore = create_label(&app, "bob", "chore", "#0e8a16").await;
    // Viewers read them, ordered by name, ignoring case.
    assert_eq!(labels(&app, "vic").await, json!({"labels": [bug, chore, urgent]}));

    let renamed = app
        .send_as(
            Some("bob"),
            Method::PATCH,
            &format!("/labels/{id}"),
            Some(json!({"name": "Blocker"})),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed: Value = renamed.json().await.unwrap();
    assert_eq!(
        (renamed["name"].as_str(), renamed["color"].as_str()),
        (Some("Blocker"), Some("#d73a4a"))
    );
    let recolored: Value = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            &format!("/labels/{id}"),
            Some(json!({"color": "#000000"})),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (recolored["name"].as_str(), recolored["color"].as_str()),
        (Some("Blocker"), Some("#000000"))
    );
    assert_eq!(labels(&app, "alice").await["labels"][0], recolored);

    let log = app.log("board-1").await;
    let types: Vec<Value> = (before..log.len())
        .map(|i| event_json(&log, i)["type"].clone())
        .collect();
    assert_eq!(
        types,
        [
            "label_created",
            "label_created",
            "label_created",
            "label_updated",
            "label_updated"
        ]
    );
    assert_eq!(event_json(&log, before)["label"], urgent);
    assert_eq!(event_json(&log, before + 1)["actor"], "bob");
    assert_eq!(event_json(&log, log.len() - 1)["label"], recolored);
}

#[tokio::test]
async fn deleting_a_label_takes_it_off_its_tasks_without_bumping_their_versions() {
    let app = setup().await;
    let bug = create_label(&app, "alice", "Bug", "#d73a4a").await;
    let keep = create_label(&app, "alice", "Keep", "#0e8a16").await;
    let (bug_id, keep_id) = (bug["id"].as_str().unwrap(), keep["id"].as_str().unwrap());
    for task in ["task-1", "task-2"] {
        let resp = app
            .send_as(
                Some("alice"),
                Method::PATCH,
                &format!("/tasks/{task}"),
                Some(json!({"labelIds": [bug_id, keep_id]})),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let before = board(&app).await;
    let resp = app
        .send_as(Some("bob"), Method::DELETE, &format!("/labels/{bug_id}"), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let after = board(&app).await;
    for (old, new) in before.tasks.iter().zip(&after.tasks) {
        assert_eq!(new.version, old.version, "{}: version kept", new.id);
        assert!(!new.label_ids.contains(&bug_id.to_owned()), "{}", new.id);
    }
    let task1 = after.tasks.iter().find(|t| t.id == "task-1").unwrap();
    assert_eq!(task1.label_ids, [keep_id]);
    assert_eq!(labels(&app, "bob").await, json!({"labels": [keep]}));
    let log = app.log("board-1").await;
    let deleted = event_json(&log, log.len() - 1);
    assert_eq!(deleted["type"], "label_deleted");
    assert_eq!(deleted["labelId"], bug_id);
    assert_eq!(deleted["taskIds"], json!(["task-1", "task-2"]));
    // It is gone: changing or deleting it again is a 404, and it cannot be put on a task.
    let err = error_body(
        app.send_as(Some("alice"), Method::DELETE, &format!("/labels/{bug_id}"), None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(err["error"]["message"], format!("label `{bug_id}` not found"));
    let err = error_body(
        app.send_as(
            Some("alice"),
            Method::PATCH,
            "/tasks/task-1",
            Some(json!({"labelIds": [bug_id]})),
        )
        .await,
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert_eq!(err["error"]["field"], "labelIds");
    assert_eq!(app.log("board-1").await.len(), log.len());
}

#[tokio::test]
async fn label_errors_name_their_field_and_write_nothing() {
    let app = setup().await;
    let label = create_label(&app, "alice", "Bug", "#d73a4a").await;
    let id = label["id"].as_str().unwrap().to_owned();
    let lpath = format!("/labels/{id}");
    let before_labels = labels(&app, "alice").await;
    let before_log = app.log("board-1").await.len();
    let path = "/boards/board-1/labels";
    let cases: Vec<Case> = vec![
        (
            "alice",
            Method::POST,
            path,
            json!({"name": "", "color": "#000000"}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            "alice",
            Method::POST,
            path,
            json!({"name": "x".repeat(51), "color": "#000000"}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            "alice",
            Method::POST,
            path,
            json!({"name": "x"}),
            StatusCode::BAD_REQUEST,
            Some("color"),
        ),
        (
            "alice",
            Method::POST,
            path,
            json!({"name": "x", "color": "red"}),
            StatusCode::BAD_REQUEST,
            Some("color"),
        ),
        (
            "alice",
            Method::POST,
            path,
            json!({"name": "x", "color": "#12345"}),
            StatusCode::BAD_REQUEST,
            Some("color"),
        ),
        (
            "alice",
            Method::POST,
            path,
            json!({"name": "x", "colour": "#123456"}),
            StatusCode::BAD_REQUEST,
            Some("colour"),
        ),
        (
            "alice",
            Method::POST,
            path,
            json!({"boardId": "board-2", "name": "x", "color": "#123456"}),
            StatusCode::BAD_REQUEST,
            Some("boardId"),
        ),
        (
            "alice",
            Method::POST,
            "/boards/nope/labels",
            json!({"name": "x", "color": "#123456"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "vic",
            Method::POST,
            path,
            json!({"name": "x", "color": "#123456"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "nina",
            Method::POST,
            path,
            json!({"name": "x", "color": "#123456"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        ("alice", Method::PATCH, &lpath, json!({}), StatusCode::BAD_REQUEST, None),
        (
            "alice",
            Method::PATCH,
            &lpath,
            json!({"color": "#GGGGGG"}),
            StatusCode::BAD_REQUEST,
            Some("color"),
        ),
        (
            "alice",
            Method::PATCH,
            &lpath,
            json!({"name": " "}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            "alice",
            Method::PATCH,
            "/labels/nope",
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "vic",
            Method::PATCH,
            &lpath,
            json!({"name": "x"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "nina",
            Method::PATCH,
            &lpath,
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        ("vic", Method::DELETE, &lpath, Value::Null, StatusCode::FORBIDDEN, None),
        ("nina", Method::DELETE, &lpath, Value::Null, StatusCode::NOT_FOUND, None),
        (
            "alice",
            Method::DELETE,
            "/labels/nope",
            Value::Null,
            StatusCode::NOT_FOUND,
            None,
        ),
    ];
    for (user, method, path, body, status, field) in cases {
        let body = (!body.is_null()).then_some(body.clone());
        let resp = app.send_as(Some(user), method.clone(), path, body.clone()).await;
        let err = error_body(resp, status).await;
        assert_eq!(
            err["error"]["field"].as_str(),
            field,
            "{user} {method} {path} {body:?}: {err}"
        );
    }
    // A non-member's 404 is the one of a label that does not exist.
    let hidden = app
        .send_as(Some("nina"), Method::DELETE, &lpath, None)
        .await
        .text()
        .await
        .unwrap();
    let missing = app
        .send_as(Some("alice"), Method::DELETE, "/labels/nope", None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(hidden.replace(&id, "nope"), missing);
    // And reading a board's labels as a non-member is the 404 of a missing board.
    let hidden = app.send_as(Some("nina"), Method::GET, path, None).await;
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
    let missing = app
        .send_as(Some("alice"), Method::GET, "/boards/board-x/labels", None)
        .await;
    assert_eq!(
        hidden.text().await.unwrap().replace("board-1", "board-x"),
        missing.text().await.unwrap()
    );
    assert_eq!(labels(&app, "alice").await, before_labels);
    assert_eq!(app.log("board-1").await.len(), before_log, "no event appended");
}

#[tokio::test]
async fn an_archived_board_refuses_label_changes() {
    let app = setup().await;
    let label = create_label(&app, "alice", "Bug", "#d73a4a").await;
    let resp = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            "/boards/board-1",
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let before = app.log("board-1").await.len();
    let lpath = format!("/labels/{}", label["id"].as_str().unwrap());
    for (method, path, body) in [
        (
            Method::POST,
            "/boards/board-1/labels",
            Some(json!({"name": "x", "color": "#000000"})),
        ),
        (Method::PATCH, lpath.as_str(), Some(json!({"name": "x"}))),
        (Method::DELETE, lpath.as_str(), None),
    ] {
        error_body(
            app.send_as(Some("alice"), method, path, body).await,
            StatusCode::CONFLICT,
        )
        .await;
    }
    assert_eq!(labels(&app, "vic").await, json!({"labels": [label]}));
    assert_eq!(app.log("board-1").await.len(), before);
}

#[tokio::test]
async fn label_changes_replay_by_idempotency_key() {
    let app = setup().await;
    let send = |key: &'static str, body: Value| {
        app.request(Method::POST, "/boards/board-1/labels", Some("alice"))
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let body = json!({"name": "Bug", "color": "#d73a4a"});
    let first = send("k-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let before = app.log("board-1").await.len();
    let again = send("k-1", body).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(
        again.json::<Value>().await.unwrap(),
        first,
        "the first answer, not a second label"
    );
    let reused = send("k-1", json!({"name": "Other", "color": "#d73a4a"})).await.unwrap();
    error_body(reused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(app.log("board-1").await.len(), before);
    assert_eq!(labels(&app, "alice").await["labels"].as_array().unwrap().len(), 1);
    // The event carries the request id for the sender to match.
    let log = app.log("board-1").await;
    assert_eq!(event_json(&log, before - 1)["requestId"], "k-1");
}

#[tokio::test]
async fn label_events_stream_over_sse() {
    let app = setup().await;
    let mut stream = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("vic"))).await;
    assert_eq!(stream.next_data().await.unwrap().json()["type"], "connected");
    let label = create_label(&app, "bob", "Bug", "#d73a4a").await;
    let id = label["id"].as_str().unwrap();
    let resp = app
        .send_as(
            Some("bob"),
            Method::PATCH,
            "/tasks/task-1",
            Some(json!({"labelIds": [id]})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .send_as(Some("bob"), Method::DELETE, &format!("/labels/{id}"), None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let frame = stream.next_data().await.unwrap();
        seen.push((frame.event.clone().unwrap(), frame.json()));
    }
    assert_eq!(seen[0].0, "label_created");
    assert_eq!(seen[0].1["label"], label);
    assert_eq!(seen[1].0, "task_updated");
    assert_eq!(seen[1].1["task"]["labelIds"], json!([id]));
    assert_eq!(seen[2].0, "label_deleted");
    assert_eq!(seen[2].1["taskIds"], json!(["task-1"]));
}
