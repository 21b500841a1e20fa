//! CORS from `--allowed-origins`, over HTTP/1.1: an allowed origin gets the headers
//! (its own origin, never `*` or a reflected stranger, never credentials), any other
//! origin none, and its preflights are refused; with no list nothing changes.

use boardcast::Config;
use reqwest::{Method, StatusCode};

use crate::helpers::{TestApp, error_body, spawn_app, spawn_with};

const ALLOWED: &str = "https://app.example";

async fn app_allowing(origins: &[&str]) -> TestApp {
    spawn_with(Config {
        allowed_origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        ..Config::ephemeral()
    })
    .await
}

fn header<'a>(resp: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    resp.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Every `access-control-*` header of an answer.
fn cors_headers(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

async fn preflight(app: &TestApp, path: &str, origin: &str, method: &str, headers: &str) -> reqwest::Response {
    app.http
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", headers)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_allowed_origin_reads_rest_answers_and_their_headers() {
    let app = app_allowing(&[ALLOWED, "http://localhost:5173"]).await;
    let resp = app
        .request(Method::GET, "/boards/board-1", Some("alice"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(ALLOWED));
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    let exposed = header(&resp, "access-control-expose-headers").unwrap();
    for name in ["etag", "retry-after", "x-request-id", "location"] {
        assert!(exposed.contains(name), "{name} in {exposed}");
    }
    assert!(header(&resp, "vary").unwrap().contains("origin"));

    // Each origin gets its own name back, not the list's first.
    let other = app
        .request(Method::GET, "/boards", Some("alice"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(
        header(&other, "access-control-allow-origin"),
        Some("http://localhost:5173")
    );
}

#[tokio::test]
async fn a_preflight_from_an_allowed_origin_names_the_methods_and_headers() {
    let app = app_allowing(&[ALLOWED]).await;
    let resp = preflight(
        &app,
        "/tasks/task-1",
        ALLOWED,
        "PATCH",
        "authorization,content-type,if-match",
    )
    .await;
    assert!(resp.status().is_success(), "{}", resp.status());
    assert_eq!(header(&resp, "access-control-allow-origin"), Some(ALLOWED));
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
    let methods = header(&resp, "access-control-allow-methods").unwrap();
    for m in ["GET", "POST", "PATCH", "PUT", "DELETE"] {
        assert!(methods.contains(m), "{m} in {methods}");
    }
    let allowed = header(&resp, "access-control-allow-headers").unwrap();
    for h in [
        "authorization",
        "content-type",
        "if-match",
        "idempotency-key",
        "last-event-id",
        "x-request-id",
    ] {
        assert!(allowed.contains(h), "{h} in {allowed}");
    }
    assert_eq!(header(&resp, "access-control-max-age"), Some("600"));

    // The page then sends the request itself, and reads its answer.
    let patched = app
        .request(Method::PATCH, "/tasks/task-1", Some("alice"))
        .header("origin", ALLOWED)
        .header("if-match", "\"1\"")
        .json(&serde_json::json!({"title": "From another origin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), StatusCode::OK);
    assert_eq!(header(&patched, "access-control-allow-origin"), Some(ALLOWED));
    assert!(header(&patched, "etag").is_some());
}

#[tokio::test]
async fn another_origin_gets_no_cors_headers_and_its_preflight_is_refused() {
    let app = app_allowing(&[ALLOWED]).await;
    for origin in [
        "https://evil.example",
        "https://app.example.evil",
        "http://app.example",
        "null",
    ] {
        let resp = app
            .request(Method::GET, "/boards/board-1", Some("alice"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        // Served (a non-browser could send this anyway), but no browser lets the page read it.
        assert_eq!(resp.status(), StatusCode::OK, "{origin}");
        assert_eq!(cors_headers(&resp), Vec::<String>::new(), "{origin}");
        assert!(header(&resp, "vary").unwrap().contains("origin"), "{origin}");

        let refused = preflight(&app, "/tasks/task-1", origin, "PATCH", "content-type").await;
        assert_eq!(cors_headers(&refused), Vec::<String>::new(), "{origin}");
        let body = error_body(refused, StatusCode::FORBIDDEN).await;
        assert_eq!(body["error"]["code"], "origin_not_allowed", "{origin}");
        assert!(body["error"]["message"].as_str().unwrap().contains(origin), "{body}");
    }
}

#[tokio::test]
async fn without_allowed_origins_no_cors_headers_are_sent() {
    let app = spawn_app().await;
    let resp = app
        .request(Method::GET, "/boards/board-1", Some("alice"))
        .header("origin", ALLOWED)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(cors_headers(&resp), Vec::<String>::new());
    let refused = preflight(&app, "/tasks", ALLOWED, "POST", "content-type").await;
    assert_eq!(cors_headers(&refused), Vec::<String>::new());
    error_body(refused, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn star_allows_any_origin_without_credentials() {
    let app = app_allowing(&["*"]).await;
    let resp = app
        .request(Method::GET, "/boards", Some("alice"))
        .header("origin", "https://anyone.example")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&resp, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(&resp, "access-control-allow-credentials"), None);
}

#[tokio::test]
async fn an_origin_that_could_never_match_fails_start_up_naming_the_flag() {
    let config = Config {
        allowed_origins: vec!["https://app.example/".into()],
        ..Config::ephemeral()
    };
    let Err(err) = boardcast::Application::build(config).await else {
        panic!("a path in an origin is refused");
    };
    let message = err.to_string();
    assert!(
        message.contains("--allowed-origins: `https://app.example/` is not an origin"),
        "{message}"
    );
}

#[tokio::test]
async fn an_event_stream_on_the_http1_fast_path_carries_the_cors_headers() {
    // A cross-origin EventSource: a body-less GET of a stream route, answered on the
    // socket by the fast path rather than hyper, through the same CORS policy.
    let app = app_allowing(&[ALLOWED]).await;
    for (origin, expected) in [(ALLOWED, Some(ALLOWED)), ("https://evil.example", None)] {
        let resp = app
            .request(Method::GET, "/boards/board-1/events", Some("alice"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(header(&resp, "content-type"), Some("text/event-stream"));
        assert_eq!(header(&resp, "access-control-allow-origin"), expected, "{origin}");
    }
}
