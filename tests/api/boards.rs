//! Boards over REST: create (the caller owns it, three default lists), rename,
//! archive/unarchive, delete (its streams get `board_deleted` and end); every error
//! writes nothing and appends no event.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{SseClient, TestApp, error_body, spawn_app};

/// Boards `user` is listed on.
async fn boards_of(app: &TestApp, user: &str) -> Vec<Value> {
    let resp = app.send_as(Some(user), Method::GET, "/boards", None).await;
    let body: Value = resp.json().await.unwrap();
    body["boards"].as_array().unwrap().clone()
}

async fn create_board(app: &TestApp, user: &str, name: &str) -> Value {
    let resp = app
        .send_as(Some(user), Method::POST, "/boards", Some(json!({"name": name})))
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let board: Value = resp.json().await.unwrap();
    assert_eq!(location, format!("/boards/{}", board["id"].as_str().unwrap()));
    board
}

#[tokio::test]
async fn a_new_board_is_owned_by_its_creator_and_starts_with_three_lists() {
    let app = spawn_app().await;
    let board = create_board(&app, "carol", "  Plans  ").await;
    let id = board["id"].as_str().unwrap();
    assert!(id.starts_with("board-"), "{id}");
    assert_eq!(
        (board["name"].as_str(), board["archived"].as_bool()),
        (Some("Plans"), Some(false))
    );
    let full: Value = app
        .send_as(Some("carol"), Method::GET, &format!("/boards/{id}"), None)
        .await
        .json()
        .await
        .unwrap();
    let lists: Vec<(&str, i64)> = (full["lists"].as_array().unwrap().iter())
        .map(|l| (l["name"].as_str().unwrap(), l["position"].as_i64().unwrap()))
        .collect();
    assert_eq!(lists, [("To Do", 0), ("Doing", 1), ("Done", 2)]);
    assert_eq!(full["seq"], 1);
    let members: Value = app
        .send_as(Some("carol"), Method::GET, &format!("/boards/{id}/members"), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        members["members"],
        json!([{"userId": "carol", "username": "carol", "name": "Carol", "role": "owner"}])
    );
    let log = app.log(id).await;
    assert_eq!(log.len(), 1);
    let event = serde_json::to_value(&log[0]).unwrap();
    assert_eq!(
        (event["type"].as_str(), event["actor"].as_str()),
        (Some("board_created"), Some("carol"))
    );
    assert_eq!(event["owner"]["role"], "owner");
    assert!(boards_of(&app, "carol").await.iter().any(|b| b["id"] == id));
    assert!(!boards_of(&app, "bob").await.iter().any(|b| b["id"] == id));
}

#[tokio::test]
async fn creating_a_board_is_idempotent_and_validates_its_name() {
    let app = spawn_app().await;
    let send = |key: &'static str, name: Value| {
        app.request(Method::POST, "/boards", Some("bob"))
            .header("idempotency-key", key)
            .json(&json!({"name": name}))
            .send()
    };
    let first: Value = send("k1", json!("Roadmap")).await.unwrap().json().await.unwrap();
    let again = send("k1", json!("Roadmap")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], first["id"]);
    let reused = send("k1", json!("Other")).await.unwrap();
    error_body(reused, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(boards_of(&app, "bob").await.len(), 2, "board-1 and one Roadmap");

    for (body, message) in [
        (json!({"name": "   "}), "name must not be empty"),
        (json!({}), "name must not be empty"),
        (
            json!({"name": "x".repeat(101)}),
            "name must be at most 100 characters (got 101)",
        ),
    ] {
        let resp = app.send_as(Some("bob"), Method::POST, "/boards", Some(body)).await;
        let err = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(
            (err["error"]["field"].as_str(), err["error"]["message"].as_str()),
            (Some("name"), Some(message))
        );
    }
    let resp = app
        .send_as(
            Some("bob"),
            Method::POST,
            "/boards",
            Some(json!({"name": "a", "nmae": "b"})),
        )
        .await;
    error_body(resp, StatusCode::BAD_REQUEST).await;
    assert_eq!(boards_of(&app, "bob").await.len(), 2, "no error wrote a board");
}

#[tokio::test]
async fn owners_rename_and_archive_and_an_archived_board_is_read_only() {
    let app = spawn_app().await;
    let rename = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            "/boards/board-1",
            Some(json!({"name": " Liftoff "})),
        )
        .await;
    assert_eq!(rename.status(), StatusCode::OK);
    assert_eq!(rename.json::<Value>().await.unwrap()["name"], "Liftoff");
    let archive = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            "/boards/board-1",
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(archive.json::<Value>().await.unwrap()["archived"], true);
    let listed = boards_of(&app, "alice").await;
    let flagged: Vec<_> = listed
        .iter()
        .map(|b| (b["id"].as_str().unwrap(), b["archived"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        flagged,
        [("board-1", true), ("board-2", false)],
        "archived boards stay listed, flagged"
    );
    let log = app.log("board-1").await;
    let types: Vec<Value> = log
        .iter()
        .map(|e| serde_json::to_value(e).unwrap()["type"].clone())
        .collect();
    assert_eq!(types, ["board_updated", "board_updated"]);

    // Read-only now: reads work, changes are 409 and write nothing.
    assert_eq!(app.board("board-1").await.board.unwrap().name, "Liftoff");
    let before = app.board("board-1").await;
    for (user, method, path, body) in [
        (
            "bob",
            Method::POST,
            "/tasks",
            Some(json!({"title": "t", "listId": "list-todo"})),
        ),
        ("bob", Method::PATCH, "/tasks/task-1", Some(json!({"title": "t"}))),
        ("bob", Method::POST, "/boards/board-1/lists", Some(json!({"name": "n"}))),
        ("bob", Method::PATCH, "/lists/list-todo", Some(json!({"name": "n"}))),
        ("alice", Method::PATCH, "/boards/board-1", Some(json!({"name": "n"}))),
        (
            "alice",
            Method::POST,
            "/boards/board-1/members",
            Some(json!({"username": "carol", "role": "viewer"})),
        ),
    ] {
        let resp = app.send_as(Some(user), method.clone(), path, body).await;
        let err = error_body(resp, StatusCode::CONFLICT).await;
        assert_eq!(err["error"]["code"], "conflict", "{method} {path}");
        assert_eq!(
            err["error"]["message"],
            "board `board-1` is archived and read-only: unarchive it first"
        );
    }
    assert_eq!(app.board("board-1").await, before);
    assert_eq!(app.log("board-1").await.len(), 2);

    // Unarchiving (with a rename in the same request) opens it again.
    let resp = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            "/boards/board-1",
            Some(json!({"archived": false, "name": "Launch"})),
        )
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["archived"], false);
    app.create_task("list-todo", "open again").await;
}

#[tokio::test]
async fn updating_a_board_refuses_what_it_cannot_do_and_writes_nothing() {
    let app = spawn_app().await;
    let before = app.board("board-1").await;
    for (user, path, body, status, field) in [
        ("alice", "/boards/board-1", json!({}), StatusCode::BAD_REQUEST, None),
        (
            "alice",
            "/boards/board-1",
            json!({"name": ""}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            "alice",
            "/boards/board-1",
            json!({"boardId": "board-2", "name": "x"}),
            StatusCode::BAD_REQUEST,
            Some("boardId"),
        ),
        (
            "alice",
            "/boards/nope",
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "bob",
            "/boards/board-1",
            json!({"name": "x"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "carol",
            "/boards/board-1",
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        let resp = app.send_as(Some(user), Method::PATCH, path, Some(body.clone())).await;
        let err = error_body(resp, status).await;
        assert_eq!(err["error"]["field"].as_str(), field, "{user} {body}");
    }
    let resp = app
        .send_as(
            Some("bob"),
            Method::PATCH,
            "/boards/board-1",
            Some(json!({"name": "x"})),
        )
        .await;
    let err = error_body(resp, StatusCode::FORBIDDEN).await;
    assert_eq!(
        err["error"]["message"],
        "you are an editor of board `board-1`; this needs an owner"
    );
    for (user, path, status) in [
        ("bob", "/boards/board-1", StatusCode::FORBIDDEN),
        ("carol", "/boards/board-1", StatusCode::NOT_FOUND),
        ("alice", "/boards/nope", StatusCode::NOT_FOUND),
    ] {
        error_body(app.send_as(Some(user), Method::DELETE, path, None).await, status).await;
    }
    assert_eq!(app.board("board-1").await, before);
    assert!(app.log("board-1").await.is_empty());
}

#[tokio::test]
async fn deleting_a_board_ends_its_streams_with_board_deleted_and_hides_everything() {
    let app = spawn_app().await;
    let mut sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("bob"))).await;
    assert_eq!(sse.next_data().await.unwrap().json()["type"], "connected");
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let last = sse.next_data().await.unwrap();
    assert_eq!(
        (last.event.as_deref(), last.id.as_deref()),
        (Some("board_deleted"), Some("1"))
    );
    assert_eq!(last.json()["name"], "Launch");
    assert!(sse.next_data().await.is_none(), "the stream ends after board_deleted");

    for path in [
        "/boards/board-1",
        "/tasks/task-1",
        "/boards/board-1/members",
        "/boards/board-1/events",
    ] {
        let err = error_body(
            app.send_as(Some("alice"), Method::GET, path, None).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(err["error"]["code"], "not_found", "{path}");
    }
    let err = error_body(
        app.send_as(
            Some("alice"),
            Method::PATCH,
            "/lists/list-todo",
            Some(json!({"name": "x"})),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(err["error"]["message"], "list `list-todo` not found");
    assert!(!boards_of(&app, "alice").await.iter().any(|b| b["id"] == "board-1"));
    error_body(
        app.send_as(Some("alice"), Method::DELETE, "/boards/board-1", None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(
        app.log("board-1").await.len(),
        1,
        "board_deleted is the log's last event"
    );
}

#[tokio::test]
async fn a_long_poll_woken_by_the_deletion_gets_board_deleted_then_404() {
    let app = spawn_app().await;
    let poll = app
        .request(Method::GET, "/boards/board-1/poll?after=0&timeout=10", Some("bob"))
        .send();
    let waiting = tokio::spawn(poll);
    // The poll must be waiting: a delete before it would make it a plain 404.
    app.streams_open("bob", 1).await;
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let answer: Value = waiting.await.unwrap().unwrap().json().await.unwrap();
    assert_eq!(answer["events"][0]["type"], "board_deleted", "{answer}");
    let again = app
        .send_as(Some("bob"), Method::GET, "/boards/board-1/poll?after=1&timeout=1", None)
        .await;
    error_body(again, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn board_and_list_events_stream_over_sse_and_resume_after_a_reconnect() {
    let app = spawn_app().await;
    let mut sse = SseClient::connect(app.request(Method::GET, "/boards/board-1/events", Some("bob"))).await;
    sse.next_data().await.unwrap();
    app.send_as(
        Some("alice"),
        Method::PATCH,
        "/boards/board-1",
        Some(json!({"name": "Launch 2"})),
    )
    .await;
    app.send_as(
        Some("bob"),
        Method::POST,
        "/boards/board-1/lists",
        Some(json!({"name": "Ideas", "position": 0})),
    )
    .await;
    let updated = sse.next_data().await.unwrap();
    assert_eq!(updated.event.as_deref(), Some("board_updated"));
    assert_eq!(updated.json()["board"]["name"], "Launch 2");
    let created = sse.next_data().await.unwrap();
    assert_eq!(
        (created.event.as_deref(), created.id.as_deref()),
        (Some("list_created"), Some("2"))
    );
    drop(sse);

    // While away: a rename and a member; the reconnect replays them from Last-Event-ID.
    let list_id = created.json()["list"]["id"].as_str().unwrap().to_owned();
    app.send_as(
        Some("bob"),
        Method::PATCH,
        &format!("/lists/{list_id}"),
        Some(json!({"name": "Someday"})),
    )
    .await;
    app.send_as(
        Some("alice"),
        Method::POST,
        "/boards/board-1/members",
        Some(json!({"username": "carol", "role": "viewer"})),
    )
    .await;
    let mut again = SseClient::connect(
        app.request(Method::GET, "/boards/board-1/events", Some("bob"))
            .header("last-event-id", "2"),
    )
    .await;
    again.next_data().await.unwrap();
    let renamed = again.next_data().await.unwrap();
    assert_eq!(
        (renamed.event.as_deref(), renamed.id.as_deref()),
        (Some("list_updated"), Some("3"))
    );
    let added = again.next_data().await.unwrap();
    assert_eq!(
        (added.event.as_deref(), added.id.as_deref()),
        (Some("member_added"), Some("4"))
    );
    assert_eq!(added.json()["member"]["role"], "viewer");
}
