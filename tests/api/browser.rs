//! Browser-facing safety over real HTTP: the security headers on the page and on REST
//! answers, and the CSRF rule for changes signed in by the session cookie (refused
//! from another site, accepted from the server's own page or an allowed origin;
//! bearer tokens unaffected).

use boardcast::Config;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, error_body, spawn_app, spawn_with};

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; \
img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn assert_safety_headers(resp: &reqwest::Response, what: &str) {
    let h = resp.headers();
    assert_eq!(h["content-security-policy"], CSP, "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
}

#[tokio::test]
async fn the_page_its_files_and_rest_answers_carry_the_safety_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/app.js",
        "/js/api.js",
        "/style.css",
        "/boards",
        "/boards/no-such-board",
        "/nowhere",
    ] {
        let resp = app.request(Method::GET, path, Some("alice")).send().await.unwrap();
        assert_safety_headers(&resp, path);
    }
    let resp = app
        .request(Method::GET, "/boards/board-1/events", Some("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_safety_headers(&resp, "an event stream");
}

#[tokio::test]
async fn the_page_has_no_inline_script_style_or_handler_for_the_policy_to_block() {
    let app = spawn_app().await;
    let html = app.get("/").await.text().await.unwrap();
    for script in html.match_indices("<script").map(|(i, _)| &html[i..]) {
        let tag = &script[..script.find('>').unwrap()];
        assert!(tag.contains("src="), "inline script: {tag}");
    }
    assert!(!html.contains("<style"), "an inline <style>");
    assert!(!html.contains(" style="), "a style attribute");
    let handler = html.match_indices(" on").find(|(i, _)| {
        let rest = &html[i + 3..];
        let name_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
        name_len > 0 && rest[name_len..].starts_with('=')
    });
    assert!(handler.is_none(), "an inline event handler at {handler:?}");
}

async fn cookie_post(app: &TestApp, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url("/tasks"))
        .header("cookie", format!("boardcast_token={}", app.token("alice")))
        .json(&json!({"title": "by cookie", "listId": "list-todo"}));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn a_cookie_signed_change_from_another_site_is_refused() {
    let app = spawn_app().await;
    let resp = cookie_post(&app, &[("origin", "https://evil.example")]).await;
    let body = error_body(resp, StatusCode::FORBIDDEN).await;
    assert_eq!(body["error"]["code"], "cross_site_request");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("POST") && message.contains("https://evil.example"),
        "{message}"
    );

    let no_origin = cookie_post(&app, &[("sec-fetch-site", "cross-site")]).await;
    let body = error_body(no_origin, StatusCode::FORBIDDEN).await;
    assert_eq!(body["error"]["code"], "cross_site_request");

    let referer = cookie_post(&app, &[("referer", "https://evil.example/page")]).await;
    error_body(referer, StatusCode::FORBIDDEN).await;

    let delete = app
        .http
        .delete(app.url("/tasks/no-such-task"))
        .header("cookie", format!("boardcast_token={}", app.token("alice")))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    error_body(delete, StatusCode::FORBIDDEN).await;
    assert!(app.log("board-1").await.is_empty(), "nothing was changed");
}

#[tokio::test]
async fn a_cookie_signed_change_from_the_page_itself_or_an_allowed_origin_is_made() {
    let app = spawn_with(Config {
        allowed_origins: vec!["https://app.example".to_owned()],
        ..Config::ephemeral()
    })
    .await;
    let own = format!("http://{}", app.addr);
    for headers in [
        vec![("origin", own.as_str())],
        vec![("origin", "https://app.example")],
        vec![("sec-fetch-site", "same-origin")],
        vec![("referer", &format!("{own}/?board=board-1"))],
    ] {
        let resp = cookie_post(&app, &headers).await;
        assert_eq!(resp.status(), StatusCode::CREATED, "{headers:?}");
    }
    // A cookie-signed read from anywhere is still answered (CORS keeps it from the page).
    let read = app
        .http
        .get(app.url("/me"))
        .header("cookie", format!("boardcast_token={}", app.token("alice")))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_bearer_change_from_any_origin_is_made() {
    let app = spawn_app().await;
    let resp = app
        .request(Method::POST, "/tasks", Some("alice"))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .header("cookie", format!("boardcast_token={}", app.token("bob")))
        .json(&json!({"title": "by bearer", "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(app.log("board-1").await.len(), 1);
}

#[tokio::test]
async fn signing_out_clears_the_cookie_with_the_same_attributes() {
    let app = spawn_app().await;
    let own = format!("http://{}", app.addr);
    let resp = app
        .http
        .post(app.url("/auth/logout"))
        .header("cookie", format!("boardcast_token={}", app.token("bob")))
        .header("origin", own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["set-cookie"],
        "boardcast_token=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
    );
}
