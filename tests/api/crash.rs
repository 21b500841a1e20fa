//! A crash (issue 14): `boardcast serve` on a SQLite file is killed with SIGKILL in
//! the middle of 1,000 concurrent creates (400 on PostgreSQL) over REST (kept-alive and fresh
//! connections), gRPC and WebSocket, each with a request id, while SSE, WebSocket and
//! gRPC subscribers record what they see. Restarted on the same file: every
//! acknowledged write is there once, no refused one is, the log is 1..N without a
//! gap, a write that got no answer is there at most once and exactly once after a
//! retry with its request id, and every subscriber resumes from the last seq it saw
//! and receives exactly the rest. The same on PostgreSQL when a server answers.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{ChangesResponse, CreateTaskRequest, GetBoardResponse, SubscribeRequest};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};

use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::SseClient;

/// Writes (and after how many answers the server is killed) on SQLite; PostgreSQL,
/// ten round trips a write, gets a smaller run so the test stays short.
const SQLITE_RUN: (usize, usize) = (1000, 450);
const POSTGRES_RUN: (usize, usize) = (400, 180);
/// Writers per transport.
const WORKERS: usize = 6;

struct Server {
    child: Child,
    addr: String,
}

async fn serve(db: &str) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_boardcast"));
    cmd.args(["serve", "--demo", "--listen", "127.0.0.1:0", "--database-url", db])
        // Thousands of writes a second from one user and address: this is about what
        // survives a kill, not about the rate limits (tests/api/rates.rs).
        .args(["--rate-mutations-per-user", "0", "--rate-mutations-per-ip", "0"])
        .args(["--rate-streams-per-user", "0", "--rate-streams-per-ip", "0"]);
    let (child, addr) = crate::cli::start(&mut cmd).await.drain_log();
    Server { child, addr }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    KeptAlive,
    Fresh,
    Grpc,
    Ws,
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Acked(String),
    Refused,
    NoAnswer,
}

/// Write `i`: its request id, its title (the same), and whether it must be refused
/// (every tenth names a list that does not exist).
fn write(i: usize) -> (String, bool) {
    (format!("crash-{i}"), i % 10 == 7)
}

fn list_of(refused: bool) -> &'static str {
    if refused { "list-nope" } else { "list-todo" }
}

/// One writer's connections, per transport.
struct Writer {
    via: Via,
    addr: String,
    token: String,
    http: reqwest::Client,
    grpc: Option<BoardServiceClient<tonic::transport::Channel>>,
    ws: Option<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>>,
}

impl Writer {
    async fn new(via: Via, addr: &str, token: &str) -> Writer {
        let http = match via {
            Via::Fresh => reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            _ => reqwest::Client::new(),
        };
        let grpc = match via {
            Via::Grpc => Some(BoardServiceClient::connect(format!("http://{addr}")).await.unwrap()),
            _ => None,
        };
        let ws = match via {
            Via::Ws => {
                let url = format!("ws://{addr}/ws?token={token}");
                Some(tokio_tungstenite::connect_async(url).await.unwrap().0)
            }
            _ => None,
        };
        Writer {
            via,
            addr: addr.to_owned(),
            token: token.to_owned(),
            http,
            grpc,
            ws,
        }
    }

    async fn create(&mut self, key: &str, refused: bool) -> Outcome {
        let list = list_of(refused);
        match self.via {
            Via::KeptAlive | Via::Fresh => {
                let sent = self
                    .http
                    .post(format!("http://{}/tasks", self.addr))
                    .bearer_auth(&self.token)
                    .header("Idempotency-Key", key)
                    .json(&json!({"title": key, "listId": list}))
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status().is_success() => match r.json::<Value>().await {
                        Ok(task) => Outcome::Acked(task["id"].as_str().unwrap().to_owned()),
                        Err(_) => Outcome::NoAnswer,
                    },
                    Ok(r) if r.status().is_client_error() => Outcome::Refused,
                    _ => Outcome::NoAnswer,
                }
            }
            Via::Grpc => {
                let mut req = tonic::Request::new(CreateTaskRequest {
                    list_id: list.into(),
                    title: key.into(),
                    request_id: key.into(),
                    ..Default::default()
                });
                let bearer = format!("Bearer {}", self.token).parse().unwrap();
                req.metadata_mut().insert("authorization", bearer);
                match self.grpc.as_mut().unwrap().create_task(req).await {
                    Ok(r) => Outcome::Acked(r.into_inner().task.unwrap().id),
                    Err(s) if s.code() == tonic::Code::NotFound => Outcome::Refused,
                    Err(_) => Outcome::NoAnswer,
                }
            }
            Via::Ws => self.ws_create(key, list).await,
        }
    }

    async fn ws_create(&mut self, key: &str, list: &str) -> Outcome {
        let ws = self.ws.as_mut().unwrap();
        let msg = json!({"type":"create_task","requestId":key,"listId":list,"title":key});
        if ws.send(Message::text(msg.to_string())).await.is_err() {
            return Outcome::NoAnswer;
        }
        loop {
            let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(10), ws.next()).await else {
                return Outcome::NoAnswer;
            };
            let Message::Text(text) = frame else { continue };
            let v: Value = serde_json::from_str(text.as_str()).unwrap();
            if v["requestId"] != key {
                continue;
            }
            return match v["type"].as_str() {
                Some("ack") => Outcome::Acked(v["task"]["id"].as_str().unwrap().to_owned()),
                Some("error") => Outcome::Refused,
                _ => continue,
            };
        }
    }
}

/// What a subscriber saw: seqs in order, until its connection went.
type Seen = Arc<Mutex<Vec<u64>>>;

fn sse_follower(addr: &str, token: &str, after: u64, seen: Seen) -> tokio::task::JoinHandle<()> {
    let req = reqwest::Client::new()
        .get(format!("http://{addr}/boards/board-1/events"))
        .bearer_auth(token)
        .header("Last-Event-ID", after.to_string());
    tokio::spawn(async move {
        let mut sse = SseClient::connect(req).await;
        while let Some(frame) = sse.next().await {
            if let (Some(id), Some(_)) = (frame.id, frame.event) {
                seen.lock().unwrap().push(id.parse().unwrap());
            }
        }
    })
}

fn ws_follower(addr: &str, token: &str, after: u64, seen: Seen) -> tokio::task::JoinHandle<()> {
    let url = format!("ws://{addr}/ws?token={token}");
    tokio::spawn(async move {
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let join = json!({"type":"join","boardId":"board-1","afterSeq":after});
        ws.send(Message::text(join.to_string())).await.unwrap();
        while let Some(Ok(frame)) = ws.next().await {
            if let Message::Text(text) = frame {
                let v: Value = serde_json::from_str(text.as_str()).unwrap();
                if v["type"] == "task_created" {
                    seen.lock().unwrap().push(v["seq"].as_u64().unwrap());
                }
            }
        }
    })
}

fn grpc_follower(addr: &str, token: &str, after: u64, seen: Seen) -> tokio::task::JoinHandle<()> {
    let (addr, bearer) = (format!("http://{addr}"), format!("Bearer {token}"));
    tokio::spawn(async move {
        let mut grpc = BoardServiceClient::connect(addr).await.unwrap();
        let mut req = tonic::Request::new(SubscribeRequest {
            board_id: "board-1".into(),
            after_seq: Some(after),
            ..Default::default()
        });
        req.metadata_mut().insert("authorization", bearer.parse().unwrap());
        let mut stream = grpc.subscribe(req).await.unwrap().into_inner();
        while let Ok(Some(msg)) = stream.message().await {
            if let Some(Ok(event)) = msg.event() {
                seen.lock().unwrap().push(event.seq);
            }
        }
    })
}

async fn login(addr: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}/auth/login"))
        .json(&json!({"username": "alice", "password": "alice-demo-pw"}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// The whole log, in pages, asserting it is 1..N without a gap.
async fn contiguous_log(addr: &str, token: &str) -> u64 {
    let http = reqwest::Client::new();
    let mut after = 0;
    loop {
        let page: ChangesResponse = http
            .get(format!("http://{addr}/boards/board-1/changes?after={after}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        for event in &page.events {
            assert_eq!(event.seq, after + 1, "the log has no gap");
            after = event.seq;
        }
        if page.events.is_empty() {
            assert_eq!(after, page.seq, "the log reaches the board's seq");
            return after;
        }
    }
}

/// Runs every write, `WORKERS` at a time per transport, until the server is gone.
async fn write_all(
    addr: &str,
    token: &str,
    writes: usize,
    answered: Arc<AtomicUsize>,
    gone: Arc<AtomicBool>,
) -> Vec<(usize, Via, Outcome)> {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for via in [Via::KeptAlive, Via::Fresh, Via::Grpc, Via::Ws] {
        for _ in 0..WORKERS {
            let (next, answered, gone) = (next.clone(), answered.clone(), gone.clone());
            let (addr, token) = (addr.to_owned(), token.to_owned());
            tasks.push(tokio::spawn(async move {
                let mut writer = Writer::new(via, &addr, &token).await;
                let mut done = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= writes || gone.load(Ordering::SeqCst) {
                        return done;
                    }
                    let (key, refused) = write(i);
                    let outcome = writer.create(&key, refused).await;
                    if outcome != Outcome::NoAnswer {
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    done.push((i, via, outcome));
                }
            }));
        }
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    all
}

#[tokio::test]
async fn kill_9_during_concurrent_writes_loses_no_acknowledged_write_and_streams_resume() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite:{}", dir.path().join("crash.db").display());
    crash_and_restart("sqlite file", &db, SQLITE_RUN).await;
}

#[tokio::test]
async fn kill_9_during_concurrent_writes_on_postgres() {
    let Some(url) = crate::postgres::database().await else {
        return;
    };
    crash_and_restart("postgres", &url, POSTGRES_RUN).await;
}

async fn crash_and_restart(backend: &str, db: &str, (writes, kill_after): (usize, usize)) {
    let t0 = std::time::Instant::now();
    let mut first = serve(db).await;
    let token = login(&first.addr).await;
    let seen: [Seen; 3] = Default::default();
    let followers = [
        sse_follower(&first.addr, &token, 0, seen[0].clone()),
        ws_follower(&first.addr, &token, 0, seen[1].clone()),
        grpc_follower(&first.addr, &token, 0, seen[2].clone()),
    ];
    tokio::time::sleep(Duration::from_millis(300)).await;

    let (answered, gone) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
    let writes = tokio::spawn({
        let (addr, token, answered, gone) = (first.addr.clone(), token.clone(), answered.clone(), gone.clone());
        async move { write_all(&addr, &token, writes, answered, gone).await }
    });
    while answered.load(Ordering::SeqCst) < kill_after {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // No write starts after the kill: those in flight at that instant are the ones
    // left without an answer.
    gone.store(true, Ordering::SeqCst);
    first.child.start_kill().unwrap();
    first.child.wait().await.unwrap();
    let outcomes = writes.await.unwrap();
    for follower in followers {
        tokio::time::timeout(Duration::from_secs(30), follower)
            .await
            .unwrap()
            .unwrap();
    }

    eprintln!("crash ({backend}): killed and every client done at {:?}", t0.elapsed());
    let second = serve(db).await;
    eprintln!("crash ({backend}): restarted at {:?}", t0.elapsed());
    let board: GetBoardResponse = reqwest::Client::new()
        .get(format!("http://{}/boards/board-1", second.addr))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut present: HashMap<String, Vec<String>> = HashMap::new();
    for task in &board.tasks {
        present.entry(task.title.clone()).or_default().push(task.id.clone());
    }
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut unanswered = Vec::new();
    for (i, via, outcome) in &outcomes {
        let (key, _) = write(*i);
        let here = present.get(&key).cloned().unwrap_or_default();
        match outcome {
            Outcome::Acked(id) => {
                assert_eq!(
                    here,
                    std::slice::from_ref(id),
                    "{key} ({via:?}) was acknowledged: there, once"
                );
                *counts.entry("acked").or_default() += 1;
            }
            Outcome::Refused => {
                assert!(here.is_empty(), "{key} ({via:?}) was refused: absent");
                *counts.entry("refused").or_default() += 1;
            }
            Outcome::NoAnswer => {
                assert!(here.len() <= 1, "{key} ({via:?}) got no answer: at most once");
                unanswered.push((*i, *via, here));
            }
        }
    }
    let committed = contiguous_log(&second.addr, &token).await;
    let created = present.keys().filter(|t| t.starts_with("crash-")).count() as u64;
    assert_eq!(committed, created, "one event per write that took effect");

    // The unanswered, retried with their request ids: each exactly once, the same task
    // when it had taken effect.
    for (i, via, before) in &unanswered {
        let (key, refused) = write(*i);
        let mut writer = Writer::new(*via, &second.addr, &token).await;
        match writer.create(&key, refused).await {
            Outcome::Acked(id) => assert!(before.is_empty() || before == &[id], "{key}: the first task"),
            Outcome::Refused => assert!(refused, "{key}"),
            Outcome::NoAnswer => panic!("{key}: the restarted server answers"),
        }
    }
    let last = contiguous_log(&second.addr, &token).await;
    eprintln!(
        "crash ({backend}): {} writes sent before the kill ({counts:?}, {} in flight at the kill), {committed} committed, {last} after retries",
        outcomes.len(),
        unanswered.len()
    );

    eprintln!("crash ({backend}): checked and retried at {:?}", t0.elapsed());
    // Every subscriber saw 1..k in order, and resumes from k with exactly k+1..last.
    for (n, seen) in seen.iter().enumerate() {
        let before = seen.lock().unwrap().clone();
        let k = before.len() as u64;
        assert_eq!(
            before,
            (1..=k).collect::<Vec<_>>(),
            "subscriber {n} saw every seq once, in order"
        );
        let rest: Seen = Arc::default();
        let follower = match n {
            0 => sse_follower(&second.addr, &token, k, rest.clone()),
            1 => ws_follower(&second.addr, &token, k, rest.clone()),
            _ => grpc_follower(&second.addr, &token, k, rest.clone()),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while rest.lock().unwrap().len() < (last - k) as usize {
            assert!(tokio::time::Instant::now() < deadline, "subscriber {n} gets the rest");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            *rest.lock().unwrap(),
            (k + 1..=last).collect::<Vec<_>>(),
            "subscriber {n} resumed exactly"
        );
        follower.abort();
        eprintln!(
            "crash ({backend}): subscriber {n} resumed from {k} at {:?}",
            t0.elapsed()
        );
    }
}
