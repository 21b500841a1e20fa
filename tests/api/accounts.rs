//! Accounts over REST: sign-up, sign-in, the session cookie, sign-out, `/me`, personal
//! tokens and their revocation, validation, attempt limits, and what the database keeps.

use std::net::IpAddr;

use boardcast::Config;
use boardcast::store::CredentialKind;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_body, on_file, spawn_app, spawn_with};

async fn post(app: &TestApp, path: &str, body: Value) -> Response {
    app.http.post(app.url(path)).json(&body).send().await.unwrap()
}

async fn signup(app: &TestApp, username: &str, password: &str) -> Response {
    post(app, "/auth/signup", json!({"username": username, "password": password})).await
}

async fn login(app: &TestApp, username: &str, password: &str) -> Response {
    post(app, "/auth/login", json!({"username": username, "password": password})).await
}

/// The session token of a successful sign-up or sign-in.
async fn token_of(resp: Response) -> String {
    assert!(resp.status().is_success(), "{}", resp.status());
    let body: Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

async fn get_as(app: &TestApp, path: &str, token: &str) -> Response {
    app.http.get(app.url(path)).bearer_auth(token).send().await.unwrap()
}

async fn accounts(app: &TestApp) -> u64 {
    app.state
        .core
        .store()
        .read()
        .await
        .unwrap()
        .account_count()
        .await
        .unwrap()
}

async fn credentials(app: &TestApp, user_id: &str) -> usize {
    let mut tx = app.state.core.store().read().await.unwrap();
    tx.credentials(user_id, CredentialKind::Token).await.unwrap().len()
}

#[tokio::test]
async fn signup_login_me_tokens_and_revocation() {
    let app = spawn_app().await;
    let resp = post(
        &app,
        "/auth/signup",
        json!({"username": "Dana", "password": "dana-pw-123", "name": "Dana D"}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["user"]["username"], "dana", "usernames are lowercase");
    assert_eq!(body["user"]["name"], "Dana D");
    let dana_id = body["user"]["id"].as_str().unwrap().to_owned();
    let signup_token = body["token"].as_str().unwrap().to_owned();

    let me: Value = get_as(&app, "/me", &signup_token).await.json().await.unwrap();
    assert_eq!(me["user"], body["user"]);

    let session = token_of(login(&app, "DANA", "dana-pw-123").await).await;
    assert_ne!(session, signup_token, "each sign-in is its own session");
    let me: Value = get_as(&app, "/me", &session).await.json().await.unwrap();
    assert_eq!(me["user"]["id"], dana_id.as_str());

    // A personal token: its secret once, then only its metadata.
    let resp = app
        .http
        .post(app.url("/me/tokens"))
        .bearer_auth(&session)
        .json(&json!({"name": " ci "}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    let created: Value = resp.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["apiToken"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["apiToken"]["name"], "ci");
    assert!(created["apiToken"]["createdAt"].is_string());
    assert!(created["apiToken"]["lastUsedAt"].is_null());

    let listed: Value = get_as(&app, "/me/tokens", &session).await.json().await.unwrap();
    assert_eq!(listed["tokens"].as_array().unwrap().len(), 1);
    assert_eq!(listed["tokens"][0]["id"], id.as_str());
    assert!(listed["tokens"][0]["lastUsedAt"].is_null(), "not used yet");
    assert!(!listed.to_string().contains(&secret), "the secret is never listed");

    // Bearer auth takes the personal token like a session.
    let me: Value = get_as(&app, "/me", &secret).await.json().await.unwrap();
    assert_eq!(me["user"]["id"], dana_id.as_str());
    let listed: Value = get_as(&app, "/me/tokens", &session).await.json().await.unwrap();
    assert!(listed["tokens"][0]["lastUsedAt"].is_string(), "{listed}");

    let revoked = app
        .http
        .delete(app.url(&format!("/me/tokens/{id}")))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::OK);
    // Refused on the very next request, though it was remembered as valid.
    let err = error_body(get_as(&app, "/me", &secret).await, StatusCode::UNAUTHORIZED).await;
    assert_eq!(err["error"]["message"], "invalid token");
    let listed: Value = get_as(&app, "/me/tokens", &session).await.json().await.unwrap();
    assert_eq!(listed["tokens"], json!([]));
    let again = app
        .http
        .delete(app.url(&format!("/me/tokens/{id}")))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    error_body(again, StatusCode::NOT_FOUND).await;
    // The sessions are untouched.
    assert_eq!(get_as(&app, "/me", &signup_token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_users_token_id_is_not_found_and_stays_valid() {
    let app = spawn_app().await;
    let dana = token_of(signup(&app, "dana", "dana-pw-123").await).await;
    let created = app.create_token(&dana, "laptop").await;
    let id = created["apiToken"]["id"].as_str().unwrap();
    let resp = app
        .request(Method::DELETE, &format!("/me/tokens/{id}"), Some("bob"))
        .send()
        .await
        .unwrap();
    let theirs = error_body(resp, StatusCode::NOT_FOUND).await;
    let resp = app
        .request(Method::DELETE, "/me/tokens/tok_nope", Some("bob"))
        .send()
        .await
        .unwrap();
    let unknown = error_body(resp, StatusCode::NOT_FOUND).await;
    assert_eq!(theirs["error"]["code"], unknown["error"]["code"]);
    let secret = created["token"].as_str().unwrap();
    assert_eq!(get_as(&app, "/me", secret).await.status(), StatusCode::OK);
    let bobs: Value = app
        .request(Method::GET, "/me/tokens", Some("bob"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bobs["tokens"], json!([]), "bob does not see dana's tokens");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = login(&app, "alice", "not-her-password").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let wrong = wrong.bytes().await.unwrap();
    for (user, password) in [("nobody", "not-her-password"), ("x", "y"), ("alice", "")] {
        let other = login(&app, user, password).await;
        assert_eq!(other.status(), StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(other.bytes().await.unwrap(), wrong, "{user}");
    }
    let body: Value = serde_json::from_slice(&wrong).unwrap();
    assert_eq!(body["error"]["message"], "wrong username or password");
    // The demo password works.
    token_of(login(&app, "alice", "alice-demo-pw").await).await;
}

#[tokio::test]
async fn validation_errors_name_their_field_and_write_nothing() {
    let app = spawn_app().await;
    token_of(signup(&app, "dana", "dana-pw-123").await).await;
    let before = accounts(&app).await;
    for (body, field, says) in [
        (
            json!({"username": "DANA", "password": "other-pw-123"}),
            "username",
            "username `dana` is taken",
        ),
        (
            json!({"username": "ab", "password": "long-enough"}),
            "username",
            "3 to 32 characters",
        ),
        (
            json!({"username": "a b c", "password": "long-enough"}),
            "username",
            "a-z, 0-9",
        ),
        (
            json!({"username": "x".repeat(33), "password": "long-enough"}),
            "username",
            "3 to 32",
        ),
        (
            json!({"username": "erin", "password": "short"}),
            "password",
            "8 to 200 characters (got 5)",
        ),
        (
            json!({"username": "erin", "password": "p".repeat(201)}),
            "password",
            "8 to 200",
        ),
        (
            json!({"username": "erin", "password": "long-enough", "name": "n".repeat(201)}),
            "name",
            "1 to 200",
        ),
        (
            json!({"username": "erin", "password": "long-enough", "admin": true}),
            "admin",
            "unknown field",
        ),
        (
            json!({"username": 7, "password": "long-enough"}),
            "username",
            "invalid type",
        ),
    ] {
        let err = error_body(post(&app, "/auth/signup", body.clone()).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(says),
            "{body}: {err}"
        );
    }
    assert_eq!(accounts(&app).await, before, "no refused sign-up wrote an account");
    assert_eq!(
        login(&app, "erin", "long-enough").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let dana = token_of(login(&app, "dana", "dana-pw-123").await).await;
    let id = get_as(&app, "/me", &dana).await.json::<Value>().await.unwrap()["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (body, field) in [
        (json!({"name": ""}), "name"),
        (json!({"name": "n".repeat(101)}), "name"),
        (json!({"nmae": "ci"}), "nmae"),
    ] {
        let resp = app
            .http
            .post(app.url("/me/tokens"))
            .bearer_auth(&dana)
            .json(&body)
            .send()
            .await
            .unwrap();
        let err = error_body(resp, StatusCode::BAD_REQUEST).await;
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    assert_eq!(credentials(&app, &id).await, 0, "no refused token was stored");
    // Accounts are not board events.
    assert!(app.log("board-1").await.is_empty());
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_lax_and_signs_the_browser_in() {
    let app = spawn_app().await;
    let resp = login(&app, "bob", "bob-demo-pw").await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let token = token_of(resp).await;
    assert_eq!(
        cookie,
        format!("boardcast_token={token}; HttpOnly; SameSite=Lax; Path=/")
    );
    let me: Value = app
        .http
        .get(app.url("/me"))
        .header("cookie", format!("boardcast_token={token}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["id"], "bob");

    let secure = spawn_with(Config {
        cookie_secure: true,
        ..Config::ephemeral()
    })
    .await;
    let resp = signup(&secure, "dana", "dana-pw-123").await;
    let cookie = resp.headers()["set-cookie"].to_str().unwrap();
    assert!(cookie.ends_with("; HttpOnly; SameSite=Lax; Path=/; Secure"), "{cookie}");
}

#[tokio::test]
async fn logout_ends_the_session_it_was_sent_with() {
    let app = spawn_app().await;
    let by_cookie = token_of(login(&app, "carol", "carol-demo-pw").await).await;
    let by_bearer = token_of(login(&app, "carol", "carol-demo-pw").await).await;
    let cookie = format!("boardcast_token={by_cookie}");

    let resp = app
        .http
        .post(app.url("/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        resp.headers()["set-cookie"],
        "boardcast_token=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0"
    );
    let after = app
        .http
        .get(app.url("/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    error_body(after, StatusCode::UNAUTHORIZED).await;
    assert_eq!(
        get_as(&app, "/me", &by_bearer).await.status(),
        StatusCode::OK,
        "the other session stays"
    );

    let resp = app
        .http
        .post(app.url("/auth/logout"))
        .bearer_auth(&by_bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    error_body(get_as(&app, "/me", &by_bearer).await, StatusCode::UNAUTHORIZED).await;
    error_body(get_as(&app, "/boards", &by_bearer).await, StatusCode::UNAUTHORIZED).await;

    // The guest has no session to end, and no `/me`.
    error_body(post(&app, "/auth/logout", json!({})).await, StatusCode::UNAUTHORIZED).await;
    error_body(app.get("/me").await, StatusCode::UNAUTHORIZED).await;
    error_body(app.get("/me/tokens").await, StatusCode::UNAUTHORIZED).await;
}

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

async fn login_from(app: &TestApp, client: &reqwest::Client, username: &str, password: &str) -> Response {
    client
        .post(app.url("/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn attempts_are_limited_per_address_and_per_username() {
    let app = spawn_app().await;
    let (first, second, third) = (
        client_from("127.0.0.1"),
        client_from("127.0.0.2"),
        client_from("127.0.0.3"),
    );
    // Ten attempts from one address (distinct usernames, so only the address counts).
    for i in 0..10 {
        let resp = login_from(&app, &first, &format!("nobody{i}"), "whatever-pw").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let refused = login_from(&app, &first, "alice", "alice-demo-pw").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let err = error_body(refused, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(err["error"]["code"], "rate_limited");
    let signup = first
        .post(app.url("/auth/signup"))
        .json(&json!({"username": "erin", "password": "erin-pw-123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(signup.status(), StatusCode::TOO_MANY_REQUESTS, "sign-up counts too");
    // Another address is still served.
    assert_eq!(
        login_from(&app, &second, "alice", "alice-demo-pw").await.status(),
        StatusCode::OK
    );

    // Five failures for one username lock it, even with the right password, from anywhere.
    for _ in 0..5 {
        let resp = login_from(&app, &third, "bob", "guessing-pw").await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = login_from(&app, &third, "bob", "bob-demo-pw").await;
    error_body(locked, StatusCode::TOO_MANY_REQUESTS).await;
    let locked = login_from(&app, &second, "bob", "bob-demo-pw").await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another username from the same address is still served.
    assert_eq!(
        login_from(&app, &third, "carol", "carol-demo-pw").await.status(),
        StatusCode::OK
    );
    assert_eq!(accounts(&app).await, 3, "the refused sign-up wrote nothing");
}

/// Every byte SQLite wrote: the database file and its WAL.
fn database_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test]
async fn the_database_holds_no_plaintext_password_session_or_token() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_with(on_file(&dir.path().join("secrets.db"))).await;
    let password = "Plain-Text-Password-42";
    let signup_token = token_of(signup(&app, "dana", password).await).await;
    let session = token_of(login(&app, "dana", password).await).await;
    let created = app.create_token(&session, "ci").await;
    let token = created["token"].as_str().unwrap().to_owned();
    assert_eq!(get_as(&app, "/me", &token).await.status(), StatusCode::OK);

    let bytes = database_bytes(dir.path());
    assert!(contains(&bytes, "dana"), "the test reads the data it wrote");
    let mut secrets = vec![password.to_owned(), signup_token, session, token];
    secrets.extend(["alice-demo-pw", "bob-demo-pw", "carol-demo-pw"].map(str::to_owned));
    secrets.extend(app.tokens.values().cloned());
    for secret in &secrets {
        assert!(!contains(&bytes, secret), "the database holds `{secret}` in plain text");
        assert!(
            !contains(&bytes, &secret[secret.len().saturating_sub(16)..]),
            "part of `{secret}` is stored"
        );
    }
}

#[tokio::test]
async fn a_restarted_demo_server_replaces_its_dev_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let config = on_file(&dir.path().join("dev.db"));
    let first = spawn_with(config.clone()).await;
    let old = first.token("alice").to_owned();
    drop(first);

    let second = spawn_with(config).await;
    let me = |token: &str| second.http.get(second.url("/me")).bearer_auth(token.to_owned()).send();
    assert_eq!(
        me(&old).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "the last start's is gone"
    );
    assert_eq!(me(second.token("alice")).await.unwrap().status(), StatusCode::OK);
    let sessions = second
        .state
        .core
        .store()
        .read()
        .await
        .unwrap()
        .credentials("alice", CredentialKind::Session)
        .await
        .unwrap();
    assert_eq!(
        sessions.iter().filter(|s| s.name == "dev sign-in").count(),
        1,
        "{sessions:?}"
    );
}
