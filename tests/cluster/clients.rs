//! Clients as an application writes them: followers of a board over SSE, WebSocket,
//! gRPC `Subscribe` and long polling that reconnect, to the next address they know,
//! with their resume point; writers that retry a create on another instance under the
//! same idempotency key.

use std::net::SocketAddr;
use std::time::Duration;

use boardcast::proto::SubscribeMessage;
use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{CreateTaskRequest, SubscribeRequest};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Sse,
    Ws,
    Grpc,
    LongPoll,
}

pub const ALL: [Transport; 4] = [Transport::Sse, Transport::Ws, Transport::Grpc, Transport::LongPoll];

/// What a follower saw.
#[derive(Debug)]
pub struct Followed {
    pub transport: Transport,
    /// Every seq it was given, in order of arrival, repeats included.
    pub seqs: Vec<u64>,
    /// Connections it opened (1: it never had to reconnect).
    pub connections: u32,
    /// Why each connection ended, and anything it was told that a follower should never
    /// be (a reset, an unexpected answer).
    pub notes: Vec<String>,
}

impl Followed {
    /// Asserts it saw exactly 1..=n, each once, in order.
    pub fn assert_exactly(&self, n: u64, who: &str) {
        let expected: Vec<u64> = (1..=n).collect();
        assert_eq!(
            self.seqs, expected,
            "{who} ({:?}) sees seq 1..={n} exactly once, in order; notes: {:?}",
            self.transport, self.notes
        );
    }
}

enum Item {
    Seq(u64),
    Note(String),
}

/// Follows `board_id` from its start until it has seen the seq `until` holds (the
/// writer sets it once it knows how many events there are), or `deadline`. Whenever a
/// connection ends it opens the next one on the next address (wrapping around), after
/// the last seq it has.
pub fn follow(
    transport: Transport,
    addrs: Vec<SocketAddr>,
    board_id: &str,
    mut until: watch::Receiver<u64>,
    deadline: Duration,
) -> Follower {
    let board_id = board_id.to_owned();
    let (last_tx, last) = watch::channel(0);
    let handle = tokio::spawn(async move {
        let deadline = Instant::now() + deadline;
        let mut out = Followed {
            transport,
            seqs: Vec::new(),
            connections: 0,
            notes: Vec::new(),
        };
        let done = |out: &Followed, until: u64| out.seqs.last().is_some_and(|&s| s >= until);
        for addr in addrs.iter().cycle() {
            let after = out.seqs.last().copied().unwrap_or(0);
            let (tx, mut rx) = mpsc::unbounded_channel();
            out.connections += 1;
            let session = tokio::spawn(session(transport, *addr, board_id.clone(), after, tx));
            loop {
                tokio::select! {
                    item = rx.recv() => match item {
                        Some(Item::Seq(seq)) => {
                            out.seqs.push(seq);
                            last_tx.send_replace(seq);
                        }
                        Some(Item::Note(note)) => out.notes.push(format!("{addr}: {note}")),
                        None => break,
                    },
                    changed = until.changed() => if changed.is_err() {
                        out.notes.push("the writer went away".into());
                        session.abort();
                        return out;
                    },
                    () = tokio::time::sleep_until(deadline) => {
                        out.notes.push("deadline reached".into());
                        session.abort();
                        return out;
                    }
                }
                if done(&out, *until.borrow()) {
                    session.abort();
                    return out;
                }
            }
            // Not at once: the address may be one that is down.
            tokio::time::sleep(Duration::from_millis(200)).await;
            if Instant::now() >= deadline {
                out.notes.push("deadline reached".into());
                return out;
            }
        }
        unreachable!("addrs is not empty")
    });
    Follower { handle, last }
}

/// A running [`follow`].
pub struct Follower {
    handle: JoinHandle<Followed>,
    last: watch::Receiver<u64>,
}

impl Follower {
    /// Waits until it has been given `seq` (at most 20 s): its stream is then open, so
    /// what is written next reaches it live.
    pub async fn reached(&mut self, seq: u64) {
        let reached = tokio::time::timeout(Duration::from_secs(20), self.last.wait_for(|&s| s >= seq))
            .await
            .is_ok_and(|r| r.is_ok());
        assert!(
            reached,
            "a follower reaches seq {seq} within 20 s (it is at {})",
            *self.last.borrow()
        );
    }

    /// What it saw, once it has seen everything or its deadline has passed.
    pub async fn finish(self) -> Followed {
        self.handle.await.unwrap()
    }
}

/// One connection, from `after`: its seqs and notes go to `tx`; returns when it ends.
async fn session(
    transport: Transport,
    addr: SocketAddr,
    board_id: String,
    after: u64,
    tx: mpsc::UnboundedSender<Item>,
) {
    let result = match transport {
        Transport::Sse => sse(addr, &board_id, after, &tx).await,
        Transport::Ws => ws(addr, &board_id, after, &tx).await,
        Transport::Grpc => grpc(addr, &board_id, after, &tx).await,
        Transport::LongPoll => long_poll(addr, &board_id, after, &tx).await,
    };
    let _ = tx.send(Item::Note(match result {
        Ok(()) => "ended".into(),
        Err(e) => format!("ended: {e}"),
    }));
}

async fn sse(addr: SocketAddr, board_id: &str, after: u64, tx: &mpsc::UnboundedSender<Item>) -> Result<(), String> {
    let resp = reqwest::Client::new()
        .get(format!("http://{addr}/boards/{board_id}/events"))
        .header("Last-Event-ID", after.to_string())
        .send()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    if resp.status() != 200 {
        return Err(format!("status {}", resp.status()));
    }
    let mut body = resp.bytes_stream();
    let mut buf = String::new();
    while let Some(chunk) = body.next().await {
        buf.push_str(std::str::from_utf8(&chunk.map_err(|e| format!("read: {e}"))?).unwrap());
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let field = |name: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_owned()))
            };
            if field("event:").as_deref() == Some("reset") {
                let _ = tx.send(Item::Note(format!("reset: {frame}")));
            } else if let Some(id) = field("id:") {
                let _ = tx.send(Item::Seq(id.parse().map_err(|_| format!("id {id} is not a seq"))?));
            }
        }
    }
    Ok(())
}

async fn ws(addr: SocketAddr, board_id: &str, after: u64, tx: &mpsc::UnboundedSender<Item>) -> Result<(), String> {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws"))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let join = json!({"type": "join", "boardId": board_id, "afterSeq": after});
    ws.send(Message::text(join.to_string()))
        .await
        .map_err(|e| format!("send: {e}"))?;
    while let Some(msg) = ws.next().await {
        match msg.map_err(|e| format!("read: {e}"))? {
            Message::Text(text) => {
                let v: Value = serde_json::from_str(text.as_str()).unwrap();
                match (v["type"].as_str(), v["seq"].as_u64()) {
                    (Some("reset" | "error"), _) => {
                        let _ = tx.send(Item::Note(format!("told: {v}")));
                    }
                    (Some(t), Some(seq)) if t != "ack" && v["boardId"] == board_id => {
                        let _ = tx.send(Item::Seq(seq));
                    }
                    _ => {}
                }
            }
            Message::Close(frame) => return Err(format!("closed: {frame:?}")),
            _ => {}
        }
    }
    Ok(())
}

async fn grpc(addr: SocketAddr, board_id: &str, after: u64, tx: &mpsc::UnboundedSender<Item>) -> Result<(), String> {
    let mut client = BoardServiceClient::connect(format!("http://{addr}"))
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let mut stream = client
        .subscribe(SubscribeRequest {
            board_id: board_id.into(),
            after_seq: Some(after),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("subscribe: {e}"))?
        .into_inner();
    while let Some(msg) = stream.message().await.map_err(|e| format!("stream: {e}"))? {
        match msg.message {
            Some(SubscribeMessage::Event(_)) => {
                let event = msg.event().unwrap().unwrap();
                let _ = tx.send(Item::Seq(event.seq));
            }
            other => {
                let _ = tx.send(Item::Note(format!("told: {other:?}")));
            }
        }
    }
    Ok(())
}

/// Long polls, one after the other, each from the last seq it has; a connection is
/// one poll, so this "connection" ends only when a poll fails.
async fn long_poll(
    addr: SocketAddr,
    board_id: &str,
    mut after: u64,
    tx: &mpsc::UnboundedSender<Item>,
) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    loop {
        let resp = http
            .get(format!("http://{addr}/boards/{board_id}/poll?after={after}&timeout=5"))
            .send()
            .await
            .map_err(|e| format!("poll: {e}"))?;
        if resp.status() != 200 {
            return Err(format!("status {}", resp.status()));
        }
        let body: Value = resp.json().await.map_err(|e| format!("body: {e}"))?;
        if body["reset"] == true {
            let _ = tx.send(Item::Note(format!("reset: {body}")));
        }
        for event in body["events"].as_array().unwrap() {
            let seq = event["seq"].as_u64().unwrap();
            after = after.max(seq);
            let _ = tx.send(Item::Seq(seq));
        }
    }
}

/// Creates a task in `list_id` with REST, under an idempotency key of its own: on an
/// instance that cannot be reached (or answers 5xx) it tries the next address, up to
/// `tries` in all. The final status, and the task's id on success.
pub async fn create_rest(addrs: &[SocketAddr], list_id: &str, title: &str, tries: usize) -> (u16, Option<String>) {
    let key = uuid::Uuid::new_v4().to_string();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap();
    let mut last = 0;
    for addr in addrs.iter().cycle().take(tries) {
        let sent = http
            .post(format!("http://{addr}/tasks"))
            .header("Idempotency-Key", &key)
            .json(&json!({"title": title, "listId": list_id}))
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status() == 201 => {
                let task: Value = resp.json().await.unwrap();
                return (201, Some(task["id"].as_str().unwrap().to_owned()));
            }
            Ok(resp) if resp.status().is_server_error() => last = resp.status().as_u16(),
            Ok(resp) => return (resp.status().as_u16(), None),
            Err(_) => last = 0,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (last, None)
}

/// Creates a task with gRPC `CreateTask` on `addr` under `request_id` (its idempotency
/// key: a retry passes the same): its seq, or the status.
pub async fn create_grpc(addr: SocketAddr, list_id: &str, title: &str, request_id: &str) -> Result<u64, tonic::Status> {
    let mut client = BoardServiceClient::connect(format!("http://{addr}"))
        .await
        .map_err(|e| tonic::Status::unavailable(format!("connect: {e}")))?;
    let created = client
        .create_task(CreateTaskRequest {
            list_id: list_id.into(),
            title: title.into(),
            request_id: request_id.into(),
            ..Default::default()
        })
        .await?;
    Ok(created.into_inner().seq)
}

/// Board `board_id` as one instance reads it: `{"board","lists","tasks","seq"}`.
pub async fn board(addr: SocketAddr, board_id: &str) -> Value {
    let resp = reqwest::get(format!("http://{addr}/boards/{board_id}")).await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// Every event in the board's log after 0, as the short poll gives them, page by page.
pub async fn log(addr: SocketAddr, board_id: &str) -> Vec<Value> {
    let mut events: Vec<Value> = Vec::new();
    loop {
        let after = events.last().map_or(0, |e| e["seq"].as_u64().unwrap());
        let resp = reqwest::get(format!("http://{addr}/boards/{board_id}/changes?after={after}"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let body: Value = resp.json().await.unwrap();
        let page = body["events"].as_array().unwrap();
        if page.is_empty() {
            return events;
        }
        events.extend(page.iter().cloned());
    }
}
