//! Load generator for boardcast and, with the same code, for nchan (the reference).
//!
//! `loadgen fanout` holds N subscribers on one board (SSE, WebSocket, gRPC, or a mix),
//! publishes M events at a rate or back to back, and reports: connected/failed,
//! deliveries per second, publish-to-receive latency (p50/p90/p99/max), lost and
//! duplicated deliveries, and the server's resident memory per idle connection (from
//! /proc). `loadgen writes` measures task creations per second through REST or gRPC,
//! or the latency at a fixed rate.
//!
//! Every published message carries `lg <index> <send time in µs>` (in the task title
//! for boardcast, in the body for nchan), padded to `--size` bytes; subscribers find it
//! in whatever framing their transport uses, so one parser serves every target.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use boardcast::proto::v1::board_service_client::BoardServiceClient;
use boardcast::proto::v1::{CreateTaskRequest, SubscribeRequest};
use clap::{Parser, Subcommand, ValueEnum};
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

#[derive(Parser)]
#[command(about = "Load generator: fan-out and write throughput, for boardcast or nchan")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// N subscribers on one board, M events published; deliveries, latency, memory.
    Fanout(Fanout),
    /// Task creations per second (or latency at a fixed rate) on boardcast.
    Writes(Writes),
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Target {
    Boardcast,
    Nchan,
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Transport {
    Sse,
    Ws,
    Grpc,
    /// A third each of SSE, WebSocket and gRPC.
    Mixed,
}

#[derive(clap::Args)]
struct Fanout {
    #[arg(long, value_enum, default_value = "boardcast")]
    target: Target,
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    #[arg(long, value_enum, default_value = "sse")]
    transport: Transport,
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    #[arg(long, default_value_t = 200)]
    events: usize,
    /// Events per second; 0 publishes back to back.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// Approximate size of each published message in bytes.
    #[arg(long, default_value_t = 200)]
    size: usize,
    /// The server's pid, for resident memory per connection.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Local addresses to spread connections over (e.g. 127.0.0.2,127.0.0.3).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    sources: Vec<String>,
    /// HTTP/2 connections the gRPC streams are spread over.
    #[arg(long, default_value_t = 100)]
    grpc_connections: usize,
    /// boardcast: a user token (default: the loopback guest).
    #[arg(long)]
    token: Option<String>,
    /// How long to wait for deliveries after the last publish.
    #[arg(long, default_value_t = 30)]
    drain_secs: u64,
    /// Print one JSON line instead of a report.
    #[arg(long)]
    json: bool,
    /// Also print each event's latency spread over subscribers (p50/p99/max ms), to stderr.
    #[arg(long)]
    per_event: bool,
}

#[derive(clap::Args)]
struct Writes {
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: String,
    #[arg(long, value_enum, default_value = "rest")]
    via: Via,
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Requests in flight at once (connections for REST).
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Requests per second; 0 sends as fast as `concurrency` allows.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Via {
    Rest,
    Grpc,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// `lg <index> <µs>` and padding to about `size` bytes.
fn message(index: usize, size: usize) -> String {
    let mut m = format!("lg {index} {} ", now_micros());
    while m.len() < size {
        m.push('x');
    }
    m
}

/// Finds every `lg <index> <µs>` in a buffer. The generator must stay cheaper than
/// the server it measures (its own backlog would count as latency), so no
/// allocation or UTF-8 pass per field.
fn marks(buf: &[u8]) -> Vec<(usize, u64)> {
    fn number(buf: &[u8]) -> Option<(u64, usize)> {
        let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
        let mut n: u64 = 0;
        for b in &buf[..digits] {
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        (digits > 0).then_some((n, digits))
    }
    let mut out = Vec::new();
    for pos in memchr::memmem::find_iter(buf, b"lg ") {
        let rest = &buf[pos + 3..];
        let Some((index, len)) = number(rest) else { continue };
        let Some((micros, _)) = rest.get(len + 1..).and_then(number) else {
            continue;
        };
        out.push((index as usize, micros));
    }
    out
}

/// What one subscriber saw.
#[derive(Default)]
struct Seen {
    deliveries: usize,
    distinct: Vec<bool>,
    latencies_us: Vec<u64>,
    /// Latency of each event index, for `--per-event`.
    by_event: Vec<(u32, u32)>,
    last_at: Option<Instant>,
}

impl Seen {
    fn new(events: usize) -> Self {
        Seen {
            distinct: vec![false; events],
            ..Default::default()
        }
    }

    fn record(&mut self, buf: &[u8]) -> usize {
        let now = now_micros();
        for (index, sent) in marks(buf) {
            if index < self.distinct.len() {
                self.deliveries += 1;
                self.distinct[index] = true;
                self.latencies_us.push(now.saturating_sub(sent));
                self.by_event.push((index as u32, now.saturating_sub(sent) as u32));
                self.last_at = Some(Instant::now());
            }
        }
        self.distinct.iter().filter(|d| **d).count()
    }
}

async fn tcp(source: &str, addr: &str) -> std::io::Result<TcpStream> {
    let dest: std::net::SocketAddr = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().map_err(std::io::Error::other)?)?;
    let stream = socket.connect(dest).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

struct Sub {
    args: Arc<FanoutShared>,
    source: String,
}

struct FanoutShared {
    target: Target,
    addr: String,
    events: usize,
    token: Option<String>,
    ready: AtomicUsize,
    failed: AtomicUsize,
    deadline: tokio::sync::watch::Receiver<bool>,
}

impl Sub {
    async fn sse(self) -> Option<Seen> {
        let a = &self.args;
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
        let mut pending: Vec<u8> = Vec::new();
        // Ready once the response head has arrived.
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || !buf.starts_with(b"HTTP/1.1 200") {
            return None;
        }
        a.ready.fetch_add(1, Ordering::Relaxed);
        let mut seen = Seen::new(a.events);
        seen.record(&buf[..n]);
        self.read_frames(&mut stream, &mut buf, &mut pending, &mut seen).await;
        Some(seen)
    }

    async fn read_frames(&self, stream: &mut TcpStream, buf: &mut [u8], pending: &mut Vec<u8>, seen: &mut Seen) {
        let mut deadline = self.args.deadline.clone();
        loop {
            tokio::select! {
                r = stream.read(buf) => match r {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        pending.extend_from_slice(&buf[..n]);
                        // Only complete frames: a mark split across reads is read whole later.
                        if let Some(end) = memchr::memmem::rfind(pending, b"\n\n") {
                            let done = seen.record(&pending[..end]);
                            pending.drain(..end + 2);
                            if done == self.args.events {
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
        let a = &self.args;
        let stream = tcp(&self.source, &a.addr).await.ok()?;
        let url = match (a.target, &a.token) {
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
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"presence\"") => break,
                    Some(Ok(Message::Text(t))) if t.as_str().contains("\"error\"") => return None,
                    Some(Ok(_)) => {}
                    _ => return None,
                }
            }
        }
        a.ready.fetch_add(1, Ordering::Relaxed);
        let mut seen = Seen::new(a.events);
        let mut deadline = a.deadline.clone();
        loop {
            tokio::select! {
                m = ws.next() => match m {
                    Some(Ok(Message::Text(t))) => {
                        if seen.record(t.as_bytes()) == a.events { break; }
                    }
                    Some(Ok(Message::Binary(b))) => {
                        if seen.record(&b) == a.events { break; }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
                _ = deadline.changed() => break,
            }
        }
        Some(seen)
    }

    async fn grpc(self, mut client: BoardServiceClient<tonic::transport::Channel>) -> Option<Seen> {
        let a = &self.args;
        let mut req = tonic::Request::new(SubscribeRequest {
            board_id: "board-1".into(),
            ..Default::default()
        });
        if let Some(t) = &a.token {
            req.metadata_mut()
                .insert("authorization", format!("Bearer {t}").parse().ok()?);
        }
        let mut stream = client.subscribe(req).await.ok()?.into_inner();
        a.ready.fetch_add(1, Ordering::Relaxed);
        let mut seen = Seen::new(a.events);
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

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A keep-alive HTTP/1.1 connection for publishing.
struct Http {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Http {
    async fn connect(addr: &str) -> std::io::Result<Http> {
        Ok(Http {
            stream: tcp("127.0.0.1", addr).await?,
            host: addr.to_owned(),
            buf: vec![0; 16 * 1024],
        })
    }

    /// Sends a request and returns the response status (bodies are read and dropped).
    async fn request(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> std::io::Result<u16> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n{headers}\r\n",
            self.host,
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body).await?;
        let mut got = Vec::new();
        loop {
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            got.extend_from_slice(&self.buf[..n]);
            if let Some(end) = memchr::memmem::find(&got, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while got.len() < end + 4 + len {
                    let n = self.stream.read(&mut self.buf).await?;
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&self.buf[..n]);
                }
                return Ok(status);
            }
        }
    }
}

#[derive(serde::Serialize)]
struct FanoutReport {
    target: Target,
    transport: Transport,
    subscribers: usize,
    connected: usize,
    failed: usize,
    connect_secs: f64,
    events: usize,
    publish_secs: f64,
    deliveries: usize,
    expected: usize,
    lost: usize,
    duplicated: usize,
    deliveries_per_sec: f64,
    latency_ms: Latency,
    /// Server RSS growth from before connecting to all-connected-and-idle, per connection.
    rss_idle_bytes_per_conn: Option<f64>,
}

#[derive(serde::Serialize)]
struct WritesReport {
    via: Via,
    count: usize,
    concurrency: usize,
    rate: f64,
    secs: f64,
    writes_per_sec: f64,
    latency_ms: Latency,
}

#[derive(serde::Serialize)]
struct Latency {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl Latency {
    /// From sorted microseconds.
    fn of(sorted: &[u64]) -> Latency {
        let ms = |us: u64| us as f64 / 1000.0;
        Latency {
            p50: ms(percentile(sorted, 0.50)),
            p90: ms(percentile(sorted, 0.90)),
            p99: ms(percentile(sorted, 0.99)),
            max: ms(sorted.last().copied().unwrap_or(0)),
        }
    }
}

/// One JSON line (for scripts) or an indented report.
fn print(report: &impl serde::Serialize, one_line: bool) -> Result<(), Box<dyn std::error::Error>> {
    let text = if one_line {
        serde_json::to_string(report)?
    } else {
        serde_json::to_string_pretty(report)?
    };
    println!("{text}");
    Ok(())
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn fanout(args: Fanout) -> Result<(), Box<dyn std::error::Error>> {
    let (stop, deadline) = tokio::sync::watch::channel(false);
    let shared = Arc::new(FanoutShared {
        target: args.target,
        addr: args.addr.clone(),
        events: args.events,
        token: args.token.clone(),
        ready: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        deadline,
    });
    let rss_before = args.server_pid.and_then(rss_kib);
    let mut grpc_clients = Vec::new();
    if matches!(args.transport, Transport::Grpc | Transport::Mixed) {
        for _ in 0..args.grpc_connections.max(1) {
            let channel = tonic::transport::Channel::from_shared(format!("http://{}", args.addr))?
                .connect()
                .await?;
            grpc_clients.push(BoardServiceClient::new(channel));
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<Seen>>();
    let started = Instant::now();
    for i in 0..args.subscribers {
        let sub = Sub {
            args: shared.clone(),
            source: args.sources[i % args.sources.len()].clone(),
        };
        let kind = match args.transport {
            Transport::Mixed => [Transport::Sse, Transport::Ws, Transport::Grpc][i % 3],
            t => t,
        };
        let tx = tx.clone();
        let client = (kind == Transport::Grpc).then(|| grpc_clients[i % grpc_clients.len()].clone());
        let shared = shared.clone();
        tokio::spawn(async move {
            let seen = match kind {
                Transport::Sse => sub.sse().await,
                Transport::Ws => sub.ws().await,
                _ => sub.grpc(client.expect("a gRPC client")).await,
            };
            if seen.is_none() {
                shared.failed.fetch_add(1, Ordering::Relaxed);
            }
            let _ = tx.send(seen);
        });
        // Pace connection set-up so the accept queue never overflows.
        if i % 256 == 255 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    drop(tx);
    while shared.ready.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed) < args.subscribers {
        if started.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connect_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let rss_idle = args.server_pid.and_then(rss_kib);

    // Publish.
    let mut http = Http::connect(&args.addr).await?;
    let publish_start = Instant::now();
    let interval = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
    for i in 0..args.events {
        if let Some(interval) = interval {
            tokio::time::sleep_until((publish_start + interval * i as u32).into()).await;
        }
        let msg = message(i, args.size);
        let status = match args.target {
            Target::Boardcast => {
                let body = serde_json::to_string(&CreateTaskRequest {
                    title: msg,
                    list_id: "list-todo".into(),
                    ..Default::default()
                })?;
                let auth = args
                    .token
                    .as_ref()
                    .map(|t| format!("Authorization: Bearer {t}\r\n"))
                    .unwrap_or_default();
                http.request(
                    "POST",
                    "/tasks",
                    &format!("Content-Type: application/json\r\n{auth}"),
                    body.as_bytes(),
                )
                .await?
            }
            Target::Nchan => {
                http.request("POST", "/pub", "Content-Type: text/plain\r\n", msg.as_bytes())
                    .await?
            }
        };
        if !(200..300).contains(&status) {
            return Err(format!("publish {i} answered {status}").into());
        }
    }
    let publish_secs = publish_start.elapsed().as_secs_f64();
    let drain = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(args.drain_secs)).await;
        let _ = stop.send(true);
    });
    let mut seen_all = Vec::new();
    while let Some(seen) = rx.recv().await {
        if let Some(seen) = seen {
            seen_all.push(seen);
        }
    }
    drain.abort();

    let expected = seen_all.len() * args.events;
    let deliveries: usize = seen_all.iter().map(|s| s.deliveries).sum();
    let distinct: usize = seen_all.iter().map(|s| s.distinct.iter().filter(|d| **d).count()).sum();
    let last = seen_all.iter().filter_map(|s| s.last_at).max();
    let span = last.map_or(0.0, |l| l.duration_since(publish_start).as_secs_f64());
    if args.per_event {
        let mut per: Vec<Vec<u64>> = vec![Vec::new(); args.events];
        for (index, us) in seen_all.iter().flat_map(|s| s.by_event.iter()) {
            per[*index as usize].push(u64::from(*us));
        }
        for (index, mut l) in per.into_iter().enumerate() {
            l.sort_unstable();
            let ms = |p| percentile(&l, p) as f64 / 1000.0;
            eprintln!(
                "event {index}: p50 {:.1} p99 {:.1} max {:.1}",
                ms(0.5),
                ms(0.99),
                ms(1.0)
            );
        }
    }
    let mut lat: Vec<u64> = seen_all.iter().flat_map(|s| s.latencies_us.iter().copied()).collect();
    lat.sort_unstable();
    let per_conn = match (rss_before, rss_idle) {
        (Some(b), Some(i)) if args.subscribers > 0 => {
            Some((i.saturating_sub(b)) as f64 * 1024.0 / args.subscribers as f64)
        }
        _ => None,
    };
    let report = FanoutReport {
        target: args.target,
        transport: args.transport,
        subscribers: args.subscribers,
        connected: seen_all.len(),
        failed: shared.failed.load(Ordering::Relaxed),
        connect_secs,
        events: args.events,
        publish_secs,
        deliveries,
        expected,
        lost: expected.saturating_sub(distinct),
        duplicated: deliveries.saturating_sub(distinct),
        deliveries_per_sec: if span > 0.0 { deliveries as f64 / span } else { 0.0 },
        latency_ms: Latency::of(&lat),
        rss_idle_bytes_per_conn: per_conn,
    };
    print(&report, args.json)
}

async fn writes(args: Writes) -> Result<(), Box<dyn std::error::Error>> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let interval = (args.rate > 0.0).then(|| Duration::from_secs_f64(1.0 / args.rate));
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency.max(1) {
        let next = next.clone();
        let addr = args.addr.clone();
        let via = args.via;
        let count = args.count;
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut http = if via == Via::Rest {
                Some(Http::connect(&addr).await?)
            } else {
                None
            };
            let mut grpc = if via == Via::Grpc {
                Some(
                    BoardServiceClient::connect(format!("http://{addr}"))
                        .await
                        .map_err(std::io::Error::other)?,
                )
            } else {
                None
            };
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    break;
                }
                if let Some(interval) = interval {
                    tokio::time::sleep_until((start + interval * i as u32).into()).await;
                }
                let t0 = Instant::now();
                let ok = match (&mut http, &mut grpc) {
                    (Some(http), _) => {
                        let body = serde_json::to_string(&CreateTaskRequest {
                            title: format!("write {i}"),
                            list_id: "list-doing".into(),
                            ..Default::default()
                        })
                        .map_err(std::io::Error::other)?;
                        http.request("POST", "/tasks", "Content-Type: application/json\r\n", body.as_bytes())
                            .await?
                            == 201
                    }
                    (_, Some(grpc)) => grpc
                        .create_task(CreateTaskRequest {
                            list_id: "list-doing".into(),
                            title: format!("write {i}"),
                            ..Default::default()
                        })
                        .await
                        .is_ok(),
                    _ => false,
                };
                if !ok {
                    return Err(std::io::Error::other(format!("write {i} failed")));
                }
                lat.push(t0.elapsed().as_micros() as u64);
            }
            Ok::<_, std::io::Error>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let report = WritesReport {
        via: args.via,
        count: lat.len(),
        concurrency: args.concurrency,
        rate: args.rate,
        secs,
        writes_per_sec: lat.len() as f64 / secs,
        latency_ms: Latency::of(&lat),
    };
    print(&report, args.json)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command {
        Command::Fanout(args) => fanout(args).await,
        Command::Writes(args) => writes(args).await,
    }
}

#[cfg(test)]
mod tests {
    use super::marks;

    #[test]
    fn marks_are_found_in_any_framing() {
        let sse = b"id: 3\ndata: {\"title\":\"lg 7 1700000000000000 xxxx\"}\n\n";
        assert_eq!(marks(sse), vec![(7, 1_700_000_000_000_000)]);
        assert_eq!(marks(b"lg 1 5 xx lg 2 6 yy").len(), 2);
        assert!(marks(b"lg x 5").is_empty());
    }
}
