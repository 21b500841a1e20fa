//! SIGTERM to the real binary: the drain's phases as clients see them. `/readyz` goes
//! 503 while the grace lasts; then every stream ends with its documented last frame
//! (SSE `retry:` and a clean chunked end on the fast path and through hyper, WebSocket
//! close 1001, gRPC `UNAVAILABLE` with the resume point, a long poll answered at
//! once); a write made during the drain is kept; a client holding an unfinished
//! request does not hold the process; and the process exits 0 within the timeout.

use std::time::{Duration, Instant};

use boardcast::proto::v1::SubscribeRequest;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::tungstenite::Message;

/// The binary, serving on an ephemeral port.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    async fn start(database_url: &str, extra: &[&str]) -> Server {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_boardcast"));
        cmd.args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--database-url",
            database_url,
        ])
        .args(extra);
        let (child, addr) = crate::cli::start(&mut cmd).await.drain_log();
        Server { child, addr }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn sigterm(&self) -> Instant {
        let pid = self.child.id().unwrap().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(status.success());
        Instant::now()
    }

    /// Waits for the exit, at most `within`; returns how long it took from `since`.
    async fn exit(mut self, since: Instant, within: Duration) -> Duration {
        let status = timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("still running {within:?} after SIGTERM"))
            .unwrap();
        assert!(status.success(), "exit status 0, got {status}");
        since.elapsed()
    }
}

/// Writes `head` on a new connection and reads everything until the server closes.
fn raw(addr: &str, head: String) -> JoinHandle<Vec<u8>> {
    let addr = addr.to_owned();
    tokio::spawn(async move {
        let mut conn = TcpStream::connect(&addr).await.unwrap();
        conn.write_all(head.as_bytes()).await.unwrap();
        let mut all = Vec::new();
        let _ = conn.read_to_end(&mut all).await;
        all
    })
}

/// The body of a chunked HTTP/1.1 response, and whether it ended with the last chunk.
fn dechunk(response: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(response);
    let (_, mut rest) = text.split_once("\r\n\r\n").expect("a head");
    let mut body = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size, 16).expect("a chunk size line");
        if size == 0 {
            return (body, after == "\r\n");
        }
        body.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
    (body, false)
}

async fn websocket(addr: &str, join: bool) -> JoinHandle<(Vec<Value>, Option<(u16, String)>)> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let welcome = ws.next().await.unwrap().unwrap();
    seen.push(serde_json::from_str::<Value>(welcome.to_text().unwrap()).unwrap());
    if join {
        let join = json!({"type": "join", "boardId": "board-1"}).to_string();
        ws.send(Message::text(join)).await.unwrap();
        let presence = ws.next().await.unwrap().unwrap();
        seen.push(serde_json::from_str(presence.to_text().unwrap()).unwrap());
    }
    tokio::spawn(async move {
        while let Some(Ok(message)) = ws.next().await {
            match message {
                Message::Text(text) => seen.push(serde_json::from_str(text.as_str()).unwrap()),
                Message::Close(frame) => {
                    let close = frame.map(|f| (u16::from(f.code), f.reason.to_string()));
                    return (seen, close);
                }
                _ => {}
            }
        }
        (seen, None)
    })
}

/// `/readyz` on a fresh connection each time (the drain closes idle kept-alive ones).
async fn readyz(server: &Server) -> Option<(u16, Value)> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let resp = client.get(server.url("/readyz")).send().await.ok()?;
    Some((resp.status().as_u16(), resp.json().await.unwrap()))
}

#[tokio::test]
async fn sigterm_drains_every_stream_with_its_last_frame_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("drain.db").display());
    let args = ["--drain-grace-ms", "1500", "--drain-timeout-ms", "8000"];
    let server = Server::start(&db, &args).await;
    let (status, ready) = readyz(&server).await.unwrap();
    assert_eq!((status, ready["ready"].clone()), (200, json!(true)), "{ready}");

    // The HTTP/1 fast path, and hyper (a Content-Length sends the request there).
    let get = "GET /boards/board-1/events HTTP/1.1\r\nHost: x\r\n";
    let fast = raw(&server.addr, format!("{get}\r\n"));
    let hyper = raw(&server.addr, format!("{get}Content-Length: 0\r\n\r\n"));
    let joined = websocket(&server.addr, true).await;
    let lobby = websocket(&server.addr, false).await;
    let mut grpc = BoardServiceClient::connect(server.url("")).await.unwrap();
    let subscribe = SubscribeRequest {
        board_id: "board-1".into(),
        after_seq: Some(0),
        ..Default::default()
    };
    let mut stream = grpc.subscribe(subscribe).await.unwrap().into_inner();
    let grpc = tokio::spawn(async move {
        let mut seqs = Vec::new();
        loop {
            match stream.message().await {
                Ok(Some(message)) => {
                    if let Some(event) = message.event() {
                        seqs.push(event.unwrap().seq);
                    }
                }
                Ok(None) => panic!("the stream ended without a status"),
                Err(status) => return (seqs, status),
            }
        }
    });
    // board-2 gets no write: only the drain can answer this poll before 25 s.
    let poll = tokio::spawn(reqwest::get(server.url("/boards/board-2/poll?after=0&timeout=25")));
    sleep(Duration::from_millis(300)).await;

    let signalled = server.sigterm().await;
    let mut not_ready = None;
    while not_ready.is_none() && signalled.elapsed() < Duration::from_millis(1200) {
        not_ready = readyz(&server).await.filter(|(status, _)| *status == 503);
    }
    let (_, why) = not_ready.expect("/readyz said 503 during the grace");
    assert_eq!(why["ready"], false, "{why}");
    let serving = why["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "serving")
        .unwrap();
    assert_eq!(serving["ok"], false, "{why}");
    assert_eq!(serving["detail"], "the server is draining for shutdown");
    // Still served during the grace, and kept: it is there after a restart.
    let write = reqwest::Client::new()
        .post(server.url("/tasks"))
        .json(&json!({"title": "written while draining", "listId": "list-todo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(write.status(), 201);

    for (name, sse) in [("fast path", fast), ("hyper", hyper)] {
        let sse = timeout(Duration::from_secs(8), sse).await.expect("SSE ended").unwrap();
        let (body, clean) = dechunk(&sse);
        assert!(body.contains("id: 1\nevent: task_created\n"), "{name}: {body}");
        assert!(
            body.ends_with("retry: 2000\n\n"),
            "{name}: the last frame is retry: {body}"
        );
        assert!(clean, "{name}: a clean chunked end: {}", String::from_utf8_lossy(&sse));
    }
    for (name, ws) in [("joined", joined), ("lobby", lobby)] {
        let (seen, close) = timeout(Duration::from_secs(8), ws).await.expect("WS closed").unwrap();
        assert_eq!(close, Some((1001, "server shutting down".into())), "{name}: {seen:?}");
        if name == "joined" {
            assert_eq!(seen.last().unwrap()["type"], "task_created", "{seen:?}");
        }
    }
    let (seqs, status) = timeout(Duration::from_secs(8), grpc)
        .await
        .expect("gRPC ended")
        .unwrap();
    assert_eq!(seqs, [1]);
    assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}");
    assert_eq!(status.metadata().get("boardcast-resume").unwrap(), "board-1:1");
    let poll = timeout(Duration::from_secs(8), poll)
        .await
        .expect("poll answered")
        .unwrap()
        .unwrap();
    assert_eq!(poll.status(), 200);
    let answer: Value = poll.json().await.unwrap();
    assert_eq!(
        (answer["timeout"].clone(), answer["events"].clone()),
        (json!(true), json!([]))
    );

    // Every stream has ended, so the listener is gone.
    assert!(TcpStream::connect(&server.addr).await.is_err(), "the port refuses");
    let took = server.exit(signalled, Duration::from_secs(9)).await;
    assert!(
        took < Duration::from_secs(8),
        "exited within the drain timeout: {took:?}"
    );

    let again = Server::start(&db, &[]).await;
    let changes: Value = reqwest::get(again.url("/boards/board-1/changes?after=0"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        changes["events"][0]["task"]["title"], "written while draining",
        "{changes}"
    );
    let signalled = again.sigterm().await;
    again.exit(signalled, Duration::from_secs(9)).await;
}

/// The issue-14 defect: the port closed on SIGTERM, but the process ran on until a
/// client holding a request head without its end, or a body shorter than its
/// `Content-Length`, went away. Neither request is in core, so the drain closes them
/// at once (the short body is told 503), long before the drain timeout.
#[tokio::test]
async fn sigterm_finishes_while_a_client_holds_an_unfinished_request() {
    let server = Server::start("sqlite::memory:", &["--drain-timeout-ms", "10000"]).await;
    let head = raw(&server.addr, "POST /tasks HTTP/1.1\r\n".into());
    let body = raw(
        &server.addr,
        "POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\""
            .into(),
    );
    // A kept-alive connection past its first answer, with a second head begun.
    let mut kept = TcpStream::connect(&server.addr).await.unwrap();
    kept.write_all(b"GET /boards HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let mut rest = [0u8; 4096];
    let _ = timeout(Duration::from_millis(300), kept.read(&mut rest)).await;
    kept.write_all(b"POST /tasks HTTP/1.1\r\nHost: x\r\nContent-Le")
        .await
        .unwrap();
    sleep(Duration::from_millis(300)).await;

    let signalled = server.sigterm().await;
    let took = server.exit(signalled, Duration::from_secs(12)).await;
    assert!(
        took < Duration::from_secs(3),
        "exited promptly, not at the drain timeout: {took:?}"
    );
    let body = String::from_utf8(timeout(Duration::from_secs(1), body).await.unwrap().unwrap()).unwrap();
    assert!(body.starts_with("HTTP/1.1 503"), "{body}");
    assert!(body.contains("had not fully arrived"), "{body}");
    timeout(Duration::from_secs(1), head)
        .await
        .expect("the head-only connection closed")
        .unwrap();
}

/// What the drain cannot end by itself (a gRPC health `Watch` is open for ever) is
/// dropped at `--drain-timeout-ms`, and the process still exits 0. The watcher first
/// hears NOT_SERVING.
#[tokio::test]
async fn what_outlives_the_drain_timeout_is_dropped_and_the_exit_is_still_0() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let server = Server::start("sqlite::memory:", &["--drain-timeout-ms", "1500"]).await;
    let channel = tonic::transport::Channel::from_shared(server.url(""))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let mut watch = health
        .watch(HealthCheckRequest { service: String::new() })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let signalled = server.sigterm().await;
    let next = timeout(Duration::from_secs(2), watch.message())
        .await
        .expect("a status change");
    assert_eq!(next.unwrap().unwrap().status, ServingStatus::NotServing as i32);
    let took = server.exit(signalled, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(1400), "held until the timeout: {took:?}");
    assert!(took < Duration::from_secs(3), "dropped at the timeout: {took:?}");
}
