//! The server on PostgreSQL, over HTTP: the seed's flow (tasks created, moved,
//! updated and deleted, an SSE stream resumed from Last-Event-ID, sign-up and
//! sign-in, an idempotent retry), a restart on the same database, and a database that
//! goes out of reach (503, "try again", nothing applied; not ready, on `/readyz` and
//! gRPC health). Skipped, with a notice, when no PostgreSQL server answers.

use std::sync::{Arc, Mutex};

use boardcast::Config;
use boardcast::store::postgres::scratch::{scratch_database, test_server};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{SseClient, TestApp, error_body, skip_or_fail, spawn_with};

/// A fresh database's URL, or `None` (after the skip notice) when there is no server.
pub(crate) async fn database() -> Option<String> {
    match scratch_database(&test_server()).await {
        Ok(url) => Some(url),
        Err(e) => {
            skip_or_fail(&format!("PostgreSQL at {} ({e})", test_server()));
            None
        }
    }
}

fn config(database_url: String) -> Config {
    Config {
        database_url,
        ..Config::ephemeral()
    }
}

async fn post(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.http.post(app.url(path)).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn the_seed_flow_runs_on_postgres() {
    let Some(url) = database().await else { return };
    let app = spawn_with(config(url)).await;
    let created = app.create_task("list-todo", "on postgres").await;
    assert_eq!((created.position, created.version), (2, 1), "after the two seeded");

    let moved = app
        .send_json(
            Method::PATCH,
            &format!("/tasks/{}/move", created.id),
            json!({"listId": "list-done", "position": 0}),
        )
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let moved: Value = moved.json().await.unwrap();
    assert_eq!(
        (moved["listId"].as_str(), moved["version"].as_u64()),
        (Some("list-done"), Some(2))
    );
    let done: Vec<String> = crate::helpers::dense_order(&app.board("board-1").await, "list-done");
    assert_eq!(done[0], created.id);

    let updated = app
        .request(Method::PATCH, &format!("/tasks/{}", created.id), None)
        .header("If-Match", "\"2\"")
        .json(&json!({"title": "renamed", "dueAt": "2030-01-02T03:04:05Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    let stale = app
        .request(Method::PATCH, &format!("/tasks/{}", created.id), None)
        .header("If-Match", "\"2\"")
        .json(&json!({"title": "stale"}))
        .send()
        .await
        .unwrap();
    error_body(stale, StatusCode::PRECONDITION_FAILED).await;
    let path = format!("/tasks/{}", created.id);
    let deleted = app.request(Method::DELETE, &path, None).send().await.unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.board("board-1").await.seq, 4);

    // A stream resumed after seq 1 replays 2..4 from the log, then follows live.
    let mut stream = SseClient::connect(
        app.request(Method::GET, "/boards/board-1/events", None)
            .header("Last-Event-ID", "1"),
    )
    .await;
    assert_eq!(stream.next().await.unwrap().json()["seq"], 4);
    for (seq, kind) in [(2, "task_moved"), (3, "task_updated"), (4, "task_deleted")] {
        let frame = stream.next_data().await.unwrap();
        assert_eq!(
            (frame.id.clone(), frame.json()["type"].clone()),
            (Some(seq.to_string()), json!(kind))
        );
    }
    app.create_task("list-doing", "live").await;
    let frame = stream.next_data().await.unwrap();
    assert_eq!(
        (frame.id.as_deref(), frame.json()["task"]["title"].as_str()),
        (Some("5"), Some("live"))
    );
    sign_up_and_in(&app).await;
    idempotent_retry(&app).await;
}

async fn sign_up_and_in(app: &TestApp) {
    let signup = post(
        app,
        "/auth/signup",
        json!({"username": "Dana", "password": "dana-pw-123"}),
    )
    .await;
    assert_eq!(signup.status(), StatusCode::CREATED);
    let taken = post(
        app,
        "/auth/signup",
        json!({"username": "dana", "password": "other-pw-123"}),
    )
    .await;
    let err = error_body(taken, StatusCode::BAD_REQUEST).await;
    assert_eq!(err["error"]["field"], "username");
    let login = post(
        app,
        "/auth/login",
        json!({"username": "DANA", "password": "dana-pw-123"}),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK);
    let token = login.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = (app.http.get(app.url("/me")).bearer_auth(&token).send().await.unwrap())
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "dana");
    let wrong = post(
        app,
        "/auth/login",
        json!({"username": "dana", "password": "not-it-123"}),
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

async fn idempotent_retry(app: &TestApp) {
    let seq = app.board("board-1").await.seq;
    let send = || {
        app.request(Method::POST, "/tasks", None)
            .header("Idempotency-Key", "pg-retry")
            .json(&json!({"title": "retried", "listId": "list-todo"}))
            .send()
    };
    let first: Value = send().await.unwrap().json().await.unwrap();
    let again = send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let board = app.board("board-1").await;
    assert_eq!(board.seq, seq + 1, "one event for two deliveries");
    assert_eq!(board.tasks.iter().filter(|t| t.title == "retried").count(), 1);
}

#[tokio::test]
async fn a_second_server_on_the_same_database_finds_everything() {
    let Some(url) = database().await else { return };
    let first = spawn_with(config(url.clone())).await;
    for i in 0..3 {
        first.create_task("list-doing", &format!("before restart {i}")).await;
    }
    let signup = post(
        &first,
        "/auth/signup",
        json!({"username": "erin", "password": "erin-pw-123"}),
    )
    .await;
    assert_eq!(signup.status(), StatusCode::CREATED);
    drop(first);

    let second = spawn_with(config(url)).await;
    let login = post(
        &second,
        "/auth/login",
        json!({"username": "erin", "password": "erin-pw-123"}),
    )
    .await;
    assert_eq!(login.status(), StatusCode::OK, "the account outlived the restart");
    let board = second.board("board-1").await;
    assert_eq!(board.seq, 3);
    assert_eq!(board.tasks.len(), 8, "five seeded (not seeded twice), three created");
    let mut stream = SseClient::connect(
        second
            .request(Method::GET, "/boards/board-1/events", None)
            .header("Last-Event-ID", "1"),
    )
    .await;
    assert_eq!(stream.next().await.unwrap().json()["seq"], 3);
    for seq in [2, 3] {
        let frame = stream.next_data().await.unwrap();
        assert_eq!(frame.json()["task"]["title"], format!("before restart {}", seq - 1));
    }
    second.create_task("list-doing", "after restart").await;
    assert_eq!(stream.next_data().await.unwrap().id.as_deref(), Some("4"));
}

/// A TCP forwarder to the PostgreSQL server that can be cut (every connection through
/// it closed, new ones closed on arrival) and mended: the database, as the server sees
/// it, goes away and comes back.
struct Proxy {
    addr: std::net::SocketAddr,
    cut: Arc<Mutex<bool>>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Proxy {
    async fn to(target: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(Mutex::new(false));
        let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, l) = (cut.clone(), links.clone());
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if *c.lock().unwrap() {
                    continue; // dropped: closed on arrival
                }
                let target = target.clone();
                l.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                }));
            }
        });
        Proxy {
            addr,
            cut,
            links,
            _accept: accept,
        }
    }

    fn cut(&self) {
        *self.cut.lock().unwrap() = true;
        for link in self.links.lock().unwrap().drain(..) {
            link.abort();
        }
    }

    fn mend(&self) {
        *self.cut.lock().unwrap() = false;
    }
}

/// The parts of a `postgres://[user@]host[:port]/path` URL.
fn split(url: &str) -> (&str, &str, &str, &str) {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (authority, path) = rest.split_once('/').unwrap();
    let (user, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    (scheme, user, host, path)
}

/// The host and port `url` names.
fn server_of(url: &str) -> String {
    let host = split(url).2;
    if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:5432")
    }
}

/// `url` through `addr` instead, with a short acquire timeout for the pool.
fn through(url: &str, addr: std::net::SocketAddr) -> String {
    let (scheme, user, _, path) = split(url);
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{scheme}://{at}{addr}/{path}{sep}acquire_timeout_ms=1000")
}

#[tokio::test]
async fn a_write_while_the_database_is_out_of_reach_is_503_and_applies_nothing() {
    let Some(url) = database().await else { return };
    let proxy = Proxy::to(server_of(&url)).await;
    let app = spawn_with(config(through(&url, proxy.addr))).await;
    app.create_task("list-todo", "before").await;

    proxy.cut();
    let write = app
        .request(Method::POST, "/tasks", None)
        .header("Idempotency-Key", "while-down")
        .json(&json!({"title": "while down", "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        write.headers().get("retry-after").map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let err = error_body(write, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(err["error"]["code"], "unavailable");
    assert_eq!(err["error"]["message"], "the database is unavailable; try again");
    let read = app.get("/boards/board-1").await;
    assert_eq!(read.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.mend();
    let board = app.board("board-1").await;
    assert_eq!(board.seq, 1, "nothing of the refused write was applied");
    assert!(!board.tasks.iter().any(|t| t.title == "while down"));
    // The client's retry, once the database is back, applies it once.
    let retry = app
        .request(Method::POST, "/tasks", None)
        .header("Idempotency-Key", "while-down")
        .json(&json!({"title": "while down", "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(app.board("board-1").await.seq, 2);
}

#[tokio::test]
async fn readiness_is_false_while_the_database_is_out_of_reach_and_grpc_health_agrees() {
    use tonic_health::pb::health_check_response::ServingStatus;

    let Some(url) = database().await else { return };
    let proxy = Proxy::to(server_of(&url)).await;
    let app = spawn_with(config(through(&url, proxy.addr))).await;
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
    assert_eq!(crate::health::grpc_health(app.addr).await, [ServingStatus::Serving; 3]);

    proxy.cut();
    let answer = app.get("/readyz").await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(body["checks"][0]["name"], "store", "{body}");
    assert_eq!(body["checks"][0]["ok"], false, "{body}");
    assert!(
        body["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .starts_with("the database did not answer"),
        "{body}"
    );
    assert_eq!(body["checks"][2]["ok"], true, "not draining: {body}");
    // gRPC health follows within its period (1 s) plus a probe.
    let started = std::time::Instant::now();
    let mut statuses = crate::health::grpc_health(app.addr).await;
    while statuses != [ServingStatus::NotServing; 3] && started.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        statuses = crate::health::grpc_health(app.addr).await;
    }
    assert_eq!(statuses, [ServingStatus::NotServing; 3]);
    // Alive is not ready: liveness never asks the store.
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);

    proxy.mend();
    let started = std::time::Instant::now();
    while app.get("/readyz").await.status() != StatusCode::OK {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "ready again once it is back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut statuses = crate::health::grpc_health(app.addr).await;
    while statuses != [ServingStatus::Serving; 3] && started.elapsed() < std::time::Duration::from_secs(5) {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        statuses = crate::health::grpc_health(app.addr).await;
    }
    assert_eq!(statuses, [ServingStatus::Serving; 3]);
}
