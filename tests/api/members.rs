//! Members over REST: list, add by username, change roles, remove and leave; a board
//! always keeps an owner; every error writes nothing and appends no event.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_body, spawn_app};

async fn members(app: &TestApp, user: &str, board_id: &str) -> Value {
    let resp = app
        .send_as(Some(user), Method::GET, &format!("/boards/{board_id}/members"), None)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["members"].clone()
}

fn types(app_log: &[boardcast::proto::v1::BoardEvent]) -> Vec<String> {
    (app_log.iter())
        .map(|e| serde_json::to_value(e).unwrap()["type"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn members_are_listed_with_username_name_and_role() {
    let app = spawn_app().await;
    assert_eq!(
        members(&app, "bob", "board-1").await,
        json!([
            {"userId": "alice", "username": "alice", "name": "Alice", "role": "owner"},
            {"userId": "bob", "username": "bob", "name": "Bob", "role": "editor"},
            {"userId": "guest", "username": "guest", "name": "Guest", "role": "editor"}
        ])
    );
    let err = error_body(
        app.send_as(Some("carol"), Method::GET, "/boards/board-1/members", None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(err["error"]["message"], "board `board-1` not found");
}

#[tokio::test]
async fn owners_add_change_and_remove_members_and_each_is_an_event() {
    let mut app = spawn_app().await;
    app.add_user("dave").await;
    let resp = app
        .send_as(
            Some("alice"),
            Method::POST,
            "/boards/board-1/members",
            Some(json!({"username": "dave", "role": "viewer"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(resp.headers()["location"], "/boards/board-1/members/dave");
    assert_eq!(
        resp.json::<Value>().await.unwrap(),
        json!({"userId": "dave", "username": "dave", "name": "DAVE", "role": "viewer"})
    );
    // dave now sees the board, read-only.
    assert_eq!(
        app.send_as(Some("dave"), Method::GET, "/boards/board-1", None)
            .await
            .status(),
        StatusCode::OK
    );
    let resp = app
        .send_as(
            Some("dave"),
            Method::PATCH,
            "/tasks/task-1",
            Some(json!({"title": "x"})),
        )
        .await;
    let err = error_body(resp, StatusCode::FORBIDDEN).await;
    assert_eq!(
        err["error"]["message"],
        "you are a viewer of board `board-1`; this needs an editor or owner"
    );

    let resp = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            "/boards/board-1/members/dave",
            Some(json!({"role": "editor"})),
        )
        .await;
    assert_eq!(resp.json::<Value>().await.unwrap()["role"], "editor");
    let resp = app
        .send_as(
            Some("dave"),
            Method::PATCH,
            "/tasks/task-1",
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1/members/dave", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    error_body(
        app.send_as(Some("dave"), Method::GET, "/boards/board-1", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let log = app.log("board-1").await;
    assert_eq!(
        types(&log),
        ["member_added", "member_updated", "task_updated", "member_removed"]
    );
    assert_eq!(serde_json::to_value(&log[3]).unwrap()["userId"], "dave");
}

#[tokio::test]
async fn a_member_may_leave_and_a_board_keeps_an_owner() {
    let app = spawn_app().await;
    let resp = app
        .send_as(Some("bob"), Method::DELETE, "/boards/board-1/members/bob", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT, "leaving needs no owner");
    error_body(
        app.send_as(Some("bob"), Method::GET, "/boards/board-1", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let events = app.log("board-1").await.len();

    for (method, path, body) in [
        (
            Method::PATCH,
            "/boards/board-1/members/alice",
            Some(json!({"role": "editor"})),
        ),
        (Method::DELETE, "/boards/board-1/members/alice", None),
    ] {
        let err = error_body(
            app.send_as(Some("alice"), method, path, body).await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(err["error"]["code"], "conflict");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("`alice` is the last owner of board `board-1`"),
            "{err}"
        );
    }
    assert_eq!(app.log("board-1").await.len(), events);

    // With a second owner, the first may step down.
    let resp = app
        .send_as(
            Some("alice"),
            Method::PATCH,
            "/boards/board-1/members/guest",
            Some(json!({"role": "owner"})),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .send_as(Some("alice"), Method::DELETE, "/boards/board-1/members/alice", None)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let left: Value = app.get("/boards/board-1/members").await.json().await.unwrap();
    let roles: Vec<_> = (left["members"].as_array().unwrap().iter())
        .map(|m| (m["userId"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [("guest", "owner")]);
}

#[tokio::test]
async fn member_errors_name_what_is_wrong_and_write_nothing() {
    let mut app = spawn_app().await;
    app.add_user("erin").await;
    let before = members(&app, "alice", "board-1").await;
    for (user, method, path, body, status, field) in [
        (
            "alice",
            Method::POST,
            "/boards/board-1/members",
            json!({"username": "nobody", "role": "editor"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "alice",
            Method::POST,
            "/boards/board-1/members",
            json!({"username": "bob", "role": "viewer"}),
            StatusCode::CONFLICT,
            None,
        ),
        (
            "alice",
            Method::POST,
            "/boards/board-1/members",
            json!({"username": "erin", "role": "admin"}),
            StatusCode::BAD_REQUEST,
            Some("role"),
        ),
        (
            "alice",
            Method::POST,
            "/boards/board-1/members",
            json!({"username": "erin"}),
            StatusCode::BAD_REQUEST,
            Some("role"),
        ),
        (
            "alice",
            Method::POST,
            "/boards/board-1/members",
            json!({"role": "viewer"}),
            StatusCode::BAD_REQUEST,
            Some("username"),
        ),
        (
            "bob",
            Method::POST,
            "/boards/board-1/members",
            json!({"username": "erin", "role": "viewer"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "carol",
            Method::POST,
            "/boards/board-1/members",
            json!({"username": "erin", "role": "viewer"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "alice",
            Method::PATCH,
            "/boards/board-1/members/erin",
            json!({"role": "viewer"}),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "alice",
            Method::PATCH,
            "/boards/board-1/members/bob",
            json!({"role": "boss"}),
            StatusCode::BAD_REQUEST,
            Some("role"),
        ),
        (
            "bob",
            Method::PATCH,
            "/boards/board-1/members/bob",
            json!({"role": "owner"}),
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "bob",
            Method::DELETE,
            "/boards/board-1/members/alice",
            Value::Null,
            StatusCode::FORBIDDEN,
            None,
        ),
        (
            "alice",
            Method::DELETE,
            "/boards/board-1/members/erin",
            Value::Null,
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            "carol",
            Method::DELETE,
            "/boards/board-1/members/carol",
            Value::Null,
            StatusCode::NOT_FOUND,
            None,
        ),
    ] {
        let req = app.request(method.clone(), path, Some(user));
        let req = if body.is_null() { req } else { req.json(&body) };
        let err = error_body(req.send().await.unwrap(), status).await;
        assert_eq!(err["error"]["field"].as_str(), field, "{user} {method} {path} {body}");
    }
    let resp = app
        .send_as(
            Some("alice"),
            Method::POST,
            "/boards/board-1/members",
            Some(json!({"username": "nobody", "role": "editor"})),
        )
        .await;
    assert_eq!(
        error_body(resp, StatusCode::NOT_FOUND).await["error"]["message"],
        "username `nobody` not found"
    );
    let resp = app
        .send_as(
            Some("alice"),
            Method::POST,
            "/boards/board-1/members",
            Some(json!({"username": "bob", "role": "viewer"})),
        )
        .await;
    let err = error_body(resp, StatusCode::CONFLICT).await;
    assert_eq!(err["error"]["code"], "already_exists");
    assert_eq!(
        err["error"]["message"],
        "`bob` is already a member of board `board-1` (as editor): change their role instead"
    );
    assert_eq!(members(&app, "alice", "board-1").await, before);
    assert!(app.log("board-1").await.is_empty());
}
