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
        ("/app.js", "text/javascript; charset=utf-8", "from './js/"),
        ("/js/live.js", "text/javascript; charset=utf-8", "new EventSource("),
        ("/js/auth.js", "text/javascript; charset=utf-8", "/auth/login"),
        ("/style.css", "text/css; charset=utf-8", ".card"),
    ] {
        let resp = app.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(resp.headers()["content-type"], content_type, "{path}");
        assert!(resp.text().await.unwrap().contains(needle), "{path}");
    }
}

#[tokio::test]
async fn every_module_the_page_imports_is_served_and_an_unknown_one_is_a_json_404() {
    let app = spawn_app().await;
    let entry = app.get("/app.js").await.text().await.unwrap();
    let mut modules = vec!["/app.js".to_owned()];
    let mut seen = 0;
    // Follow the static imports from the entry module, transitively.
    while seen < modules.len() {
        let path = modules[seen].clone();
        seen += 1;
        let source = if path == "/app.js" {
            entry.clone()
        } else {
            let resp = app.get(&path).await;
            assert_eq!(resp.status(), StatusCode::OK, "{path}");
            resp.text().await.unwrap()
        };
        for import in source.split("from '").skip(1) {
            let target = import.split('\'').next().unwrap();
            let name = target.rsplit('/').next().unwrap();
            let full = format!("/js/{name}");
            if !modules.contains(&full) {
                modules.push(full);
            }
        }
    }
    assert!(modules.len() > 5, "the page is split into modules: {modules:?}");
    error_body(app.get("/js/nope.js").await, StatusCode::NOT_FOUND).await;
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

#[tokio::test]
async fn dev_users_answer_only_a_loopback_host_so_a_rebinding_page_cannot_read_tokens() {
    let app = spawn_app().await;
    let port = app.addr.port();
    for host in [
        format!("evil.example:{port}"),
        "evil.example".to_owned(),
        format!("10.0.0.1:{port}"),
    ] {
        let got = app
            .http
            .get(app.url("/dev/users"))
            .header("Host", &host)
            .send()
            .await
            .unwrap();
        error_body(got, StatusCode::NOT_FOUND).await;
    }
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let got = app
            .http
            .get(app.url("/dev/users"))
            .header("Host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), StatusCode::OK, "{host}");
    }
}
