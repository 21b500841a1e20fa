//! Spawning servers and talking to them.

use std::collections::HashMap;
use std::net::SocketAddr;

use boardcast::proto::v1::{BoardEvent, GetBoardResponse, Task};
use boardcast::store::CredentialKind;
use boardcast::{Application, Config};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use tokio::sync::oneshot;

pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    /// Session tokens of the demo users by user id: the sessions the server mints at
    /// start-up with `--demo` for `GET /dev/users`.
    pub tokens: HashMap<String, String>,
    pub state: boardcast::AppState,
    /// Dropping the sender shuts the server down.
    _shutdown: oneshot::Sender<()>,
}

pub async fn spawn_app() -> TestApp {
    spawn_with(Config::ephemeral()).await
}

/// The test configuration on a SQLite file at `path` instead of memory: for what
/// only a file shows (group commits, restarts, the bytes on disk).
pub fn on_file(path: &std::path::Path) -> Config {
    Config {
        database_url: format!("sqlite:{}", path.display()),
        ..Config::ephemeral()
    }
}

pub async fn spawn_with(config: Config) -> TestApp {
    let app = Application::build(config).await.expect("server builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let mut tokens: HashMap<String, String> = state
        .auth
        .dev_credentials()
        .into_iter()
        .map(|(u, t)| (u.id, t))
        .collect();
    // Without guests no dev sessions are minted: the tests mint their own.
    if tokens.is_empty() && state.config.demo {
        for user in ["alice", "bob", "carol"] {
            let session = state.core.issue(user, CredentialKind::Session, "test").await.unwrap();
            tokens.insert(user.to_owned(), session.secret);
        }
    }
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(app.run(async {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        http: reqwest::Client::new(),
        tokens,
        state,
        _shutdown: tx,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn token(&self, user: &str) -> &str {
        &self.tokens[user]
    }

    /// A request as `user` (None: no token, the loopback guest).
    pub fn request(&self, method: Method, path: &str, user: Option<&str>) -> reqwest::RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match user {
            Some(u) => req.bearer_auth(self.token(u)),
            None => req,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, None).send().await.unwrap()
    }

    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> Response {
        self.request(method, path, None).json(&body).send().await.unwrap()
    }

    pub async fn board(&self, board_id: &str) -> GetBoardResponse {
        let resp = self.get(&format!("/boards/{board_id}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    pub async fn create_task(&self, list_id: &str, title: &str) -> Task {
        let resp = self
            .send_json(
                Method::POST,
                "/tasks",
                serde_json::json!({"title": title, "listId": list_id}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    /// Adds a user (id and username `id`) with a session, as `tokens[id]`. Straight
    /// into the store rather than through signup, so tests can name the user's id.
    pub async fn add_user(&mut self, id: &str) {
        let user = boardcast::proto::v1::User {
            id: id.into(),
            name: id.to_uppercase(),
            username: id.to_lowercase(),
        };
        let mut tx = self.state.core.store().write().await.unwrap();
        tx.insert_user(&user, None).await.unwrap();
        tx.commit().await.unwrap();
        let session = self
            .state
            .core
            .issue(id, CredentialKind::Session, "test")
            .await
            .unwrap();
        self.tokens.insert(id.into(), session.secret);
    }

    /// Waits until `n` streams (SSE, WebSocket, gRPC, long polls) opened with `user`'s
    /// token are open: registered, so whatever happens next reaches them.
    pub async fn streams_open(&self, user: &str, n: usize) {
        let actor = self.state.auth.actor(Some(self.token(user)), None).await.unwrap();
        let credential = actor.credential_id.unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while self.state.core.streams_of_credential(&credential) < n {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the streams are open");
    }

    /// A personal API token made with `bearer` (a session): `{"apiToken","token"}`.
    pub async fn create_token(&self, bearer: &str, name: &str) -> Value {
        let resp = self
            .http
            .post(self.url("/me/tokens"))
            .bearer_auth(bearer)
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json().await.unwrap()
    }

    /// A JSON request as `user` (None: no token).
    pub async fn send_as(&self, user: Option<&str>, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.request(method, path, user);
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send().await.unwrap()
    }

    /// Every event in the board's durable log, read from the store.
    pub async fn log(&self, board_id: &str) -> Vec<BoardEvent> {
        let mut tx = self.state.core.store().read().await.unwrap();
        tx.events_after(board_id, 0, u32::MAX).await.unwrap()
    }
}

/// A task creation with a ~10 KB description: a few hundred of these are more than the
/// kernel buffers between server and a stalled reader hold.
pub fn big_task(i: u64) -> Value {
    serde_json::json!({"title": format!("big {i}"), "listId": "list-doing", "description": "d".repeat(10_000)})
}

/// A gRPC request carrying `user`'s token.
pub fn as_user<T>(app: &TestApp, user: &str, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    let value = format!("Bearer {}", app.token(user)).parse().unwrap();
    req.metadata_mut().insert("authorization", value);
    req
}

/// The ids of a list's tasks in position order, asserting positions are exactly 0..n.
pub fn dense_order(board: &GetBoardResponse, list_id: &str) -> Vec<String> {
    let mut tasks: Vec<&Task> = board.tasks.iter().filter(|t| t.list_id == list_id).collect();
    tasks.sort_by_key(|t| t.position);
    let positions: Vec<i32> = tasks.iter().map(|t| t.position).collect();
    let expected: Vec<i32> = (0..tasks.len() as i32).collect();
    assert_eq!(positions, expected, "positions in {list_id} are dense and unique");
    tasks.iter().map(|t| t.id.clone()).collect()
}

/// The body of a JSON error answer, asserting its shape.
pub async fn error_body(resp: Response, status: StatusCode) -> Value {
    assert_eq!(resp.status(), status);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert!(body["error"]["code"].is_string(), "{body}");
    assert!(body["error"]["message"].is_string(), "{body}");
    body
}

/// For a test whose outside tool (grpcurl, PostgreSQL) is missing: fails when
/// `BOARDCAST_REQUIRE_EXTERNAL` is set (CI sets it), else prints a notice; the caller
/// then returns, skipping the rest.
pub fn skip_or_fail(what: &str) {
    assert!(
        std::env::var_os("BOARDCAST_REQUIRE_EXTERNAL").is_none(),
        "{what} is required (BOARDCAST_REQUIRE_EXTERNAL is set) but unavailable"
    );
    eprintln!("SKIPPED: {what} is unavailable; set BOARDCAST_REQUIRE_EXTERNAL=1 to make this a failure");
}

/// One parsed SSE frame (a comment line is a frame with only `comment`).
#[derive(Debug, Default, Clone)]
pub struct Frame {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
    pub comment: Option<String>,
    pub retry: Option<String>,
}

impl Frame {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("frame data is JSON ({e}): {self:?}"))
    }
}

/// Reads SSE frames from a streaming HTTP response, as `curl -N` shows them.
pub struct SseClient {
    pub response_status: StatusCode,
    body: std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl SseClient {
    pub async fn connect(req: reqwest::RequestBuilder) -> SseClient {
        let resp = req.send().await.unwrap();
        let status = resp.status();
        if status == StatusCode::OK {
            assert_eq!(resp.headers()["content-type"], "text/event-stream");
        }
        SseClient {
            response_status: status,
            body: Box::pin(resp.bytes_stream()),
            buf: String::new(),
        }
    }

    /// The next frame, or `None` when the server ended the stream. Panics after 10 s.
    pub async fn next(&mut self) -> Option<Frame> {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.next_inner())
            .await
            .expect("an SSE frame within 10 s")
    }

    async fn next_inner(&mut self) -> Option<Frame> {
        use futures_util::StreamExt;
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let raw: String = self.buf.drain(..end + 2).collect();
                let mut frame = Frame::default();
                for line in raw.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        frame.comment = Some(c.trim().to_owned());
                    } else if let Some((field, value)) = line.split_once(':') {
                        let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
                        match field {
                            "id" => frame.id = Some(value),
                            "event" => frame.event = Some(value),
                            "data" => frame.data.push_str(&value),
                            "retry" => frame.retry = Some(value),
                            other => panic!("unknown SSE field {other}"),
                        }
                    }
                }
                return Some(frame);
            }
            match self.body.next().await {
                Some(Ok(chunk)) => self.buf.push_str(std::str::from_utf8(&chunk).unwrap()),
                _ => return None,
            }
        }
    }

    /// The next frame that is not a heartbeat comment.
    pub async fn next_data(&mut self) -> Option<Frame> {
        loop {
            let frame = self.next().await?;
            if frame.comment.is_none() {
                return Some(frame);
            }
        }
    }
}
