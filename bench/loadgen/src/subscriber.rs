//! One fan-out subscriber: connects over SSE, WebSocket or gRPC to boardcast (board-1)
//! or nchan (`/sub`), counts itself ready once subscribed, and records the marks of
//! every delivery until it has seen all events or the drain deadline passes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use boardcast::proto::v1::SubscribeRequest;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

use crate::cli::{Fanout, Target, Transport};
use crate::http::{GrpcClient, tcp};
use crate::marks::{marks, now_micros};

/// What one subscriber saw.
#[derive(Default)]
pub struct Seen {
    pub deliveries: usize,
    pub distinct: Vec<bool>,
    pub latencies_us: Vec<u64>,
    /// Latency of each event index, for `--per-event`.
    pub by_event: Vec<(u32, u32)>,
    pub last_at: Option<Instant>,
}

impl Seen {
    fn new(events: usize) -> Self {
        Seen {
            distinct: vec![false; events],
            ..Default::default()
        }
    }

    /// Records the marks in `buf` and returns how many distinct events have arrived.
    fn record(&mut self, buf: &[u8]) -> usize {
        let now = now_micros();
        for (index, sent) in marks(buf) {
            if index < self.distinct.len() {
                let latency = now.saturating_sub(sent);
                self.deliveries += 1;
                self.distinct[index] = true;
                self.latencies_us.push(latency);
                self.by_event.push((
                    u32::try_from(index).unwrap_or(u32::MAX),
                    u32::try_from(latency).unwrap_or(u32::MAX),
                ));
                self.last_at = Some(Instant::now());
            }
        }
        self.distinct_count()
    }

    pub fn distinct_count(&self) -> usize {
        self.distinct.iter().filter(|d| **d).count()
    }
}

/// What every subscriber of a run shares: where to connect, and the run's counters.
pub struct Shared {
    target: Target,
    addr: String,
    events: usize,
    token: Option<String>,
    /// WebSocket subscribers connect without `token` (each its own guest viewer).
    distinct_viewers: bool,
    pub ready: AtomicUsize,
    pub failed: AtomicUsize,
    /// Presence messages (`presence`, `user_joined`, `user_left`) WebSocket
    /// subscribers received, the join's own list included, and their bytes.
    pub presence_messages: AtomicUsize,
    pub presence_bytes: AtomicUsize,
    /// Turns true when the drain time after the last publish is over.
    deadline: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(args: &Fanout, deadline: watch::Receiver<bool>) -> Self {
        Shared {
            target: args.target,
            addr: args.addr.clone(),
            events: args.events,
            token: args.token.clone(),
            distinct_viewers: args.distinct_viewers,
            ready: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
            presence_messages: AtomicUsize::new(0),
            presence_bytes: AtomicUsize::new(0),
            deadline,
        }
    }

    /// Subscribers that are subscribed or have given up.
    pub fn settled(&self) -> usize {
        self.ready.load(Ordering::Relaxed) + self.failed.load(Ordering::Relaxed)
    }

    /// Counts a WebSocket text frame if it is a presence message.
    fn count_presence(&self, text: &str) {
        const KINDS: [&str; 3] = [
            r#""type":"presence""#,
            r#""type":"user_joined""#,
            r#""type":"user_left""#,
        ];
        if KINDS.iter().any(|k| text.contains(k)) {
            self.presence_messages.fetch_add(1, Ordering::Relaxed);
            self.presence_bytes.fetch_add(text.len(), Ordering::Relaxed);
        }
    }
}

pub struct Subscriber {
    shared: Arc<Shared>,
    source: String,
}

impl Subscriber {
    /// A subscriber connecting from the local address `source`.
    pub fn new(shared: Arc<Shared>, source: String) -> Self {
        Subscriber { shared, source }
    }

    /// Subscribes over `kind` (SSE, WebSocket or gRPC, on `grpc`) and reads to the
    /// end; `None`, counted as failed, when it could not subscribe.
    pub async fn run(self, kind: Transport, grpc: Option<GrpcClient>) -> Option<Seen> {
        let shared = self.shared.clone();
        let seen = match kind {
            Transport::Sse => self.sse().await,
            Transport::Ws => self.ws().await,
            Transport::Grpc | Transport::Mixed => self.grpc(grpc.expect("a gRPC client")).await,
        };
        if seen.is_none() {
            shared.failed.fetch_add(1, Ordering::Relaxed);
        }
        seen
    }

    fn ready(&self) -> Seen {
        self.shared.ready.fetch_add(1, Ordering::Relaxed);
        Seen::new(self.shared.events)
    }

    async fn sse(self) -> Option<Seen> {
        let a = &self.shared;
        let mut stream = tcp(&self.source, &a.addr).await.ok()?;
        let path = match a.target {
            Target::Boardcast => match &a.token {
                Some(t) => format!("/boards/board-1/events?token={t}"),
                None => "/boards/board-1/events".into(),
            },
            Target::Nchan => "/sub".into(),
        };
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            a.addr
        );
        stream.write_all(req.as_bytes()).await.ok()?;
        // Written now (not zeroed lazily by the kernel) so page faults happen while
        // connecting, not while measuring.
        let mut buf = vec![1u8; 16 * 1024];
        // Ready once the response head has arrived.
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || !buf.starts_with(b"HTTP/1.1 200") {
            return None;
        }
        let mut seen = self.ready();
        seen.record(&buf[..n]);
        self.read_frames(&mut stream, &mut buf, &mut seen).await;
        Some(seen)
    }

    async fn read_frames(&self, stream: &mut TcpStream, buf: &mut [u8], seen: &mut Seen) {
        let mut pending: Vec<u8> = Vec::new();
        let mut deadline = self.shared.deadline.clone();
        loop {
            tokio::select! {
                r = stream.read(buf) => match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        pending.extend_from_slice(&buf[..n]);
                        // Only complete frames: a mark split across reads is read whole later.
                        if let Some(end) = memchr::memmem::rfind(&pending, b"\n\n") {
                            let done = seen.record(&pending[..end]);
                            pending.drain(..end + 2);
                            if done == self.shared.events {
                                return;
                            }
                        }
                    }
                },
                _ = deadline.changed() => return,
            }
        }
    }

    async fn ws(self) -> Option<Seen> {
        let mut ws = self.ws_join().await?;
        let mut seen = self.ready();
        let mut deadline = self.shared.deadline.clone();
        let events = self.shared.events;
        loop {
            tokio::select! {
                m = ws.next() => match m {
                    Some(Ok(Message::Text(t))) => {
                        self.shared.count_presence(t.as_str());
                        if seen.record(t.as_bytes()) == events { break; }
                    }
                    Some(Ok(Message::Binary(b))) => {
                        if seen.record(&b) == events { break; }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
                _ = deadline.changed() => break,
            }
        }
        Some(seen)
    }

    /// Opens the WebSocket and, on boardcast, joins board-1 (joined once its presence
    /// arrives); nchan subscribes by the URL alone.
    async fn ws_join(&self) -> Option<WebSocketStream<TcpStream>> {
        let a = &self.shared;
        let stream = tcp(&self.source, &a.addr).await.ok()?;
        let token = a.token.as_ref().filter(|_| !a.distinct_viewers);
        let url = match (a.target, token) {
            (Target::Boardcast, Some(t)) => format!("ws://{}/ws?token={t}", a.addr),
            (Target::Boardcast, None) => format!("ws://{}/ws", a.addr),
            (Target::Nchan, _) => format!("ws://{}/sub", a.addr),
        };
        let (mut ws, _) = tokio_tungstenite::client_async(url, stream).await.ok()?;
        if a.target == Target::Boardcast {
            ws.send(Message::text(r#"{"type":"join","boardId":"board-1"}"#))
                .await
                .ok()?;
            loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"presence\"") => {
                        a.count_presence(t.as_str());
                        break;
                    }
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"error\"") => return None,
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        }
        Some(ws)
    }

    async fn grpc(self, mut client: GrpcClient) -> Option<Seen> {
        let a = &self.shared;
        let mut req = tonic::Request::new(SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        });
        if let Some(t) = &a.token {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().ok()?);
        }
        let mut stream = client.subscribe(req).await.ok()?.into_inner();
        let mut seen = self.ready();
        let mut deadline = a.deadline.clone();
        loop {
            tokio::select! {
                m = stream.message() => match m {
                    Ok(Some(msg)) => {
                        if let Some(boardcast::proto::SubscribeMessage::Event(bytes)) = &msg.message
                            && seen.record(bytes) == a.events
                        {
                            break;
                        }
                    }
                    _ => break,
                },
                _ = deadline.changed() => break,
            }
        }
        Some(seen)
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    #[test]
    fn repeats_count_as_deliveries_but_not_as_distinct_events() {
        let mut seen = Seen::new(3);
        assert_eq!(seen.record(b"lg 0 1 lg 2 1"), 2);
        assert_eq!(seen.record(b"lg 2 1 lg 9 1"), 2, "a repeat and an index past --events");
        assert_eq!(seen.deliveries, 3);
        assert_eq!(seen.latencies_us.len(), 3);
        assert_eq!(seen.by_event.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 2, 2]);
        assert!(seen.last_at.is_some());
    }
}
