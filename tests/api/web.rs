//! The web board's server side: the embedded page and the dev sign-in list.

use boardcast::Config;
use boardcast::proto::v1::DevUsersResponse;
use reqwest::StatusCode;

use crate::helpers::{error_body, spawn_app, spawn_with};

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() {
    let app = spawn_app().await;
    for (path, content_type, needle) in [
        ("/", "text/html; charset=utf-8", "<script src=\"/app.js\""),
        ("/app.js", "text/javascript; charset=utf-8", "EventSource"),
        ("/style.css", "text/css; charset=utf-8", ".card"),
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], content_type, "{path}");
        assert!(resp.text().await.unwrap().contains(needle), "{path}");
    }
}

#[tokio::test]
async fn dev_users_are_offered_only_where_guests_are_allowed() {
    let app = spawn_app().await;
    let users: DevUsersResponse = app.get("/dev/users").await.json().await.unwrap();
    let names: Vec<&str> = users.users.iter().map(|u| u.user_id.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    assert_eq!(users.users[0].token, app.token("alice"));

    let closed = spawn_with(Config {
        guests: Some(false),
        ..Config::ephemeral()
    })
    .await;
    error_body(closed.get("/dev/users").await, StatusCode::NOT_FOUND).await;
}
