//! Lists over REST: create (at a position, shifting siblings), rename, move (dense
//! positions), delete (a non-empty list needs `moveTasksTo`); every error writes
//! nothing and appends no event.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, dense_order, error_body, spawn_app};

/// The board's list ids in position order, asserting positions are exactly 0..n.
async fn list_order(app: &TestApp, board_id: &str) -> Vec<String> {
    let board = app.board(board_id).await;
    let mut lists = board.lists.clone();
    lists.sort_by_key(|l| l.position);
    let positions: Vec<i32> = lists.iter().map(|l| l.position).collect();
    assert_eq!(
        positions,
        (0..lists.len() as i32).collect::<Vec<_>>(),
        "dense list positions"
    );
    lists.into_iter().map(|l| l.id).collect()
}

fn event(app_log: &[boardcast::proto::v1::BoardEvent], i: usize) -> Value {
    serde_json::to_value(&app_log[i]).unwrap()
}

#[tokio::test]
async fn lists_are_created_renamed_and_moved_with_dense_positions() {
    let app = spawn_app().await;
    let resp = app
        .send_json(
            Method::POST,
            "/boards/board-1/lists",
            json!({"name": " Ideas ", "position": 1}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp.headers()["location"].to_str().unwrap().to_owned();
    let list: Value = resp.json().await.unwrap();
    let id = list["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/lists/{id}"));
    assert_eq!(
        (list["name"].as_str(), list["position"].as_i64()),
        (Some("Ideas"), Some(1))
    );
    assert_eq!(
        list_order(&app, "board-1").await,
        ["list-todo", id.as_str(), "list-doing", "list-done"]
    );
    let log = app.log("board-1").await;
    assert_eq!(event(&log, 0)["type"], "list_created");
    assert_eq!(
        event(&log, 0)["shifted"],
        json!([{"listId": "list-doing", "position": 2}, {"listId": "list-done", "position": 3}])
    );
    // Without a position it appends, shifting nobody.
    let last: Value = app
        .send_json(Method::POST, "/boards/board-1/lists", json!({"name": "Later"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(last["position"], 4);

    let renamed = app
        .send_json(Method::PATCH, &format!("/lists/{id}"), json!({"name": "Someday"}))
        .await;
    assert_eq!(renamed.json::<Value>().await.unwrap()["name"], "Someday");

    let moved = app
        .send_json(Method::PATCH, &format!("/lists/{id}/move"), json!({"position": 99}))
        .await;
    assert_eq!(
        moved.json::<Value>().await.unwrap()["position"],
        4,
        "past the end clamps"
    );
    let order = list_order(&app, "board-1").await;
    assert_eq!(order.last().unwrap(), &id);
    let log = app.log("board-1").await;
    let moved = event(&log, 3);
    assert_eq!(
        (moved["type"].as_str(), moved["fromPosition"].as_i64()),
        (Some("list_moved"), Some(1))
    );
    assert_eq!(
        moved["shifted"].as_array().unwrap().len(),
        3,
        "doing, done and later moved up"
    );
    assert_eq!(event(&log, 2)["type"], "list_updated");
}

#[tokio::test]
async fn list_errors_name_their_field_and_write_nothing() {
    let app = spawn_app().await;
    let before = app.board("board-1").await;
    for (method, path, body, status, field) in [
        (
            Method::POST,
            "/boards/board-1/lists",
            json!({"name": ""}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            Method::POST,
            "/boards/board-1/lists",
            json!({"name": "x", "position": -1}),
            StatusCode::BAD_REQUEST,
            Some("position"),
        ),
        (
            Method::POST,
            "/boards/nope/lists",
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            Method::PATCH,
            "/lists/list-todo",
            json!({"name": "y".repeat(101)}),
            StatusCode::BAD_REQUEST,
            Some("name"),
        ),
        (
            Method::PATCH,
            "/lists/nope",
            json!({"name": "x"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            Method::PATCH,
            "/lists/list-todo/move",
            json!({}),
            StatusCode::BAD_REQUEST,
            Some("position"),
        ),
        (
            Method::PATCH,
            "/lists/list-todo/move",
            json!({"position": -2}),
            StatusCode::BAD_REQUEST,
            Some("position"),
        ),
        (
            Method::PATCH,
            "/lists/list-todo/move",
            json!({"listId": "list-done", "position": 0}),
            StatusCode::BAD_REQUEST,
            Some("listId"),
        ),
        (Method::DELETE, "/lists/nope", Value::Null, StatusCode::NOT_FOUND, None),
    ] {
        let req = app.request(method.clone(), path, None);
        let req = if body.is_null() { req } else { req.json(&body) };
        let err = error_body(req.send().await.unwrap(), status).await;
        assert_eq!(err["error"]["field"].as_str(), field, "{method} {path} {body}");
    }
    assert_eq!(app.board("board-1").await, before);
    assert!(app.log("board-1").await.is_empty());
}

#[tokio::test]
async fn a_list_with_tasks_is_deleted_only_by_moving_them() {
    let app = spawn_app().await;
    let before = app.board("board-1").await;
    let err = error_body(
        app.send_as(None, Method::DELETE, "/lists/list-todo", None).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        err["error"]["message"],
        "list `list-todo` holds 2 tasks: give moveTasksTo (another list of the board) to move them, or delete them first"
    );
    for (query, status, field) in [
        ("?moveTasksTo=list-todo", StatusCode::BAD_REQUEST, Some("moveTasksTo")),
        ("?moveTasksTo=list-backlog", StatusCode::NOT_FOUND, None),
        ("?moveTasksTo=nope", StatusCode::NOT_FOUND, None),
    ] {
        let resp = app
            .send_as(None, Method::DELETE, &format!("/lists/list-todo{query}"), None)
            .await;
        let err = error_body(resp, status).await;
        assert_eq!(err["error"]["field"].as_str(), field, "{query}");
    }
    assert_eq!(app.board("board-1").await, before);
    assert!(app.log("board-1").await.is_empty());

    let resp = app
        .send_as(None, Method::DELETE, "/lists/list-todo?moveTasksTo=list-done", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let board = app.board("board-1").await;
    assert_eq!(
        dense_order(&board, "list-done"),
        ["task-5", "task-1", "task-2"],
        "appended, in order"
    );
    assert_eq!(list_order(&app, "board-1").await, ["list-doing", "list-done"]);
    let deleted = event(&app.log("board-1").await, 0);
    assert_eq!(deleted["type"], "list_deleted");
    assert_eq!(
        (deleted["listId"].as_str(), deleted["movedTasksTo"].as_str()),
        (Some("list-todo"), Some("list-done"))
    );
    assert_eq!(
        deleted["movedTasks"],
        json!([
            {"taskId": "task-1", "listId": "list-done", "position": 1},
            {"taskId": "task-2", "listId": "list-done", "position": 2}
        ])
    );
    assert_eq!(
        deleted["shifted"],
        json!([{"listId": "list-doing", "position": 0}, {"listId": "list-done", "position": 1}])
    );
    assert_eq!(
        board.tasks.iter().find(|t| t.id == "task-1").unwrap().version,
        1,
        "versions kept"
    );

    // An empty list goes without moveTasksTo; a retry with the same key is answered again.
    let empty: Value = app
        .send_json(Method::POST, "/boards/board-1/lists", json!({"name": "Empty"}))
        .await
        .json()
        .await
        .unwrap();
    let path = format!("/lists/{}", empty["id"].as_str().unwrap());
    for _ in 0..2 {
        let resp = app
            .request(Method::DELETE, &path, None)
            .header("idempotency-key", "d1")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    }
    assert_eq!(
        app.log("board-1").await.len(),
        3,
        "one list_deleted for the retried delete"
    );
}
