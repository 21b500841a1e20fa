//! Identity and board access: tokens, the loopback guest, members only.

use boardcast::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{error_body, spawn_app, spawn_with};

#[tokio::test]
async fn non_members_are_refused_and_learn_nothing() {
    let app = spawn_app().await;
    let before = app.board("board-1").await;
    let carol = Some("carol");
    for (method, path, body) in [
        (Method::GET, "/boards/board-1", None),
        (Method::GET, "/boards/board-1/tasks", None),
        (Method::GET, "/tasks/task-1", None),
        (
            Method::POST,
            "/tasks",
            Some(json!({"title": "sneaky", "listId": "list-todo"})),
        ),
        (Method::PATCH, "/tasks/task-1", Some(json!({"title": "sneaky"}))),
        (
            Method::PATCH,
            "/tasks/task-1/move",
            Some(json!({"listId": "list-done"})),
        ),
        (Method::DELETE, "/tasks/task-1", None),
    ] {
        let mut req = app.request(method.clone(), path, carol);
        if let Some(body) = body {
            req = req.json(&body);
        }
        // Issue 11: a non-member gets the 404 of a board that does not exist (was 403).
        let err = error_body(req.send().await.unwrap(), StatusCode::NOT_FOUND).await;
        assert_eq!(err["error"]["code"], "not_found", "{method} {path}");
        let text = err.to_string();
        assert!(
            !text.contains("Launch") && !text.contains("task-2"),
            "leaks board content: {text}"
        );
    }
    assert_eq!(app.board("board-1").await, before);
    assert!(app.log("board-1").await.is_empty());

    // carol is at home on board-2.
    let resp = app.request(Method::GET, "/boards/board-2", carol).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn tokens_travel_as_bearer_query_or_cookie() {
    let app = spawn_app().await;
    let who = |resp: reqwest::Response| async move {
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<serde_json::Value>().await.unwrap()["createdBy"].clone()
    };
    let body = json!({"title": "t", "listId": "list-todo"});
    let bearer = app
        .request(Method::POST, "/tasks", Some("bob"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(who(bearer).await, "bob");
    let query = app
        .http
        .post(app.url(&format!("/tasks?token={}", app.token("alice"))))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(who(query).await, "alice");
    let cookie = app
        .http
        .post(app.url("/tasks"))
        .header("cookie", format!("theme=dark; boardcast_token={}", app.token("bob")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(who(cookie).await, "bob");
}

#[tokio::test]
async fn a_bad_token_is_401_even_where_guests_are_allowed() {
    let app = spawn_app().await;
    let resp = app
        .http
        .get(app.url("/boards"))
        .bearer_auth("bc_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let err = error_body(resp, StatusCode::UNAUTHORIZED).await;
    assert_eq!(err["error"]["message"], "invalid token");
    let resp = app
        .http
        .get(app.url("/boards"))
        .header("authorization", "Basic YWxpY2U6")
        .send()
        .await
        .unwrap();
    error_body(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn identities_are_remembered_without_mixing_them_up() {
    let app = spawn_app().await;
    // The guest is known (and remembered) first; an empty token still is no guest.
    assert_eq!(app.get("/boards").await.status(), StatusCode::OK);
    for query in ["/boards?token=", "/boards?token=bc_wrong"] {
        let resp = app.http.get(app.url(query)).send().await.unwrap();
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{query} must not act as the guest"
        );
    }
    // Each remembered token stays its own user, the second time as the first.
    for _ in 0..2 {
        for user in ["alice", "carol"] {
            let boards = app
                .request(Method::GET, "/boards", Some(user))
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap();
            let ids: Vec<&str> = boards["boards"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["id"].as_str().unwrap())
                .collect();
            let expected: &[&str] = if user == "alice" {
                &["board-1", "board-2"]
            } else {
                &["board-2"]
            };
            assert_eq!(ids, expected, "{user}");
        }
    }
}

#[tokio::test]
async fn without_guest_access_every_request_needs_a_token() {
    let app = spawn_with(Config {
        guests: Some(false),
        ..Config::ephemeral()
    })
    .await;
    let err = error_body(app.get("/boards").await, StatusCode::UNAUTHORIZED).await;
    assert!(err["error"]["message"].as_str().unwrap().contains("Bearer"), "{err}");
    let resp = app
        .send_json(Method::POST, "/tasks", json!({"title": "anon", "listId": "list-todo"}))
        .await;
    error_body(resp, StatusCode::UNAUTHORIZED).await;
    assert!(app.log("board-1").await.is_empty());

    let resp = app
        .request(Method::GET, "/boards/board-1", Some("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
