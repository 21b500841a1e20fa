//! `loadgen fanout`, phase by phase: connect every subscriber, wait for them to idle
//! and read the server's memory, publish the events, collect what each subscriber saw
//! after the drain time, and report deliveries, latency, losses and memory.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use boardcast::proto::v1::CreateTaskRequest;
use tokio::sync::{mpsc, watch};

use crate::cli::{Fanout, Target, Transport};
use crate::http::{GrpcClient, Http};
use crate::marks::message;
use crate::pace::Pace;
use crate::progress::Phase;
use crate::report::{FanoutReport, Latency, ms, per_sec, percentile, print};
use crate::subscriber::{Seen, Shared, Subscriber};

/// How long connecting may take before the run goes on with those that made it.
const CONNECT_TIMEOUT: Duration = Duration::from_mins(2);

pub async fn fanout(args: &Fanout) -> Result<(), Box<dyn Error>> {
    // `stop` is held until the drain is over: dropping it early would end every
    // subscriber at once, since their `changed()` then returns at once.
    let (stop, deadline) = watch::channel(false);
    let shared = Arc::new(Shared::new(args, deadline));
    let rss_before = args.server_pid.and_then(rss_kib);
    let grpc_clients = connect_grpc(args).await?;
    let started = Instant::now();
    let done = spawn_subscribers(args, &shared, &grpc_clients).await;
    wait_settled(&shared, args.subscribers, started).await;
    let connect_secs = started.elapsed().as_secs_f64();
    // Idle for a second first, so the memory read is of settled connections.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_idle = args.server_pid.and_then(rss_kib);
    let (publish_start, publish_secs) = publish(args).await?;
    let seen = collect(done, stop, args).await;
    if args.per_event {
        print_per_event(&seen, args.events);
    }
    let times = Times {
        connect_secs,
        publish_start,
        publish_secs,
    };
    let rss_per_conn = rss_per_conn(rss_before, rss_idle, args.subscribers);
    let report = summarize(args, &shared, &seen, &times, rss_per_conn);
    print(&report, args.json)
}

/// The server's resident memory in KiB, from /proc.
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

/// Server RSS growth per connection, in bytes.
#[expect(clippy::cast_precision_loss, reason = "KiB and connection counts are far below 2^52")]
fn rss_per_conn(before: Option<u64>, idle: Option<u64>, subscribers: usize) -> Option<f64> {
    match (before, idle) {
        (Some(b), Some(i)) if subscribers > 0 => Some(i.saturating_sub(b) as f64 * 1024.0 / subscribers as f64),
        _ => None,
    }
}

/// The HTTP/2 connections gRPC subscribers share (none for SSE or WebSocket alone).
async fn connect_grpc(args: &Fanout) -> Result<Vec<GrpcClient>, Box<dyn Error>> {
    let mut clients = Vec::new();
    if matches!(args.transport, Transport::Grpc | Transport::Mixed) {
        for _ in 0..args.grpc_connections.max(1) {
            let channel = tonic::transport::Channel::from_shared(format!("http://{}", args.addr))?
                .connect()
                .await?;
            clients.push(GrpcClient::new(channel));
        }
    }
    Ok(clients)
}

/// Starts every subscriber; each sends what it saw (or `None`) when it is done.
async fn spawn_subscribers(
    args: &Fanout,
    shared: &Arc<Shared>,
    grpc_clients: &[GrpcClient],
) -> mpsc::UnboundedReceiver<Option<Seen>> {
    let (tx, rx) = mpsc::unbounded_channel();
    for i in 0..args.subscribers {
        let sub = Subscriber::new(shared.clone(), args.sources[i % args.sources.len()].clone());
        let kind = match args.transport {
            Transport::Mixed => [Transport::Sse, Transport::Ws, Transport::Grpc][i % 3],
            t => t,
        };
        let client = (kind == Transport::Grpc).then(|| grpc_clients[i % grpc_clients.len()].clone());
        let tx = tx.clone();
        tokio::spawn(async move {
            let _ = tx.send(sub.run(kind, client).await);
        });
        // Pace connection set-up so the accept queue never overflows.
        if i % 256 == 255 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    rx
}

/// Waits until every subscriber is subscribed or has failed (or the connect timeout).
async fn wait_settled(shared: &Shared, subscribers: usize, started: Instant) {
    let phase = Phase::start("connect", subscribers);
    while shared.settled() < subscribers {
        phase.set(shared.settled());
        if started.elapsed() > CONNECT_TIMEOUT {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    phase.set(shared.settled());
    phase.finish();
}

/// Publishes every event over `--publishers` keep-alive connections to the publish
/// address (default: the subscribers' server), taking numbers from one counter, so a
/// rate above one connection's round trip holds; returns when publishing started and
/// how long it took.
async fn publish(args: &Fanout) -> Result<(Instant, f64), Box<dyn Error>> {
    let addr = args.publish_addr.clone().unwrap_or_else(|| args.addr.clone());
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let pace = Pace::new(start, args.rate);
    let phase = Phase::start("publish", args.events);
    let mut publishers = Vec::new();
    for _ in 0..args.publishers.max(1) {
        let mut http = Http::connect(&addr).await?;
        let (next, phase) = (next.clone(), phase.clone());
        let args = PublishArgs::of(args);
        publishers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= args.events {
                    return Ok::<_, String>(());
                }
                pace.wait(i).await;
                let status = publish_one(&mut http, &args, message(i, args.size))
                    .await
                    .map_err(|e| e.to_string())?;
                if !(200..300).contains(&status) {
                    return Err(format!("publish {i} answered {status}"));
                }
                phase.inc(1);
            }
        }));
    }
    for p in publishers {
        p.await??;
    }
    phase.finish();
    Ok((start, start.elapsed().as_secs_f64()))
}

/// What a publisher needs of the arguments (owned, for its task).
struct PublishArgs {
    target: Target,
    token: Option<String>,
    events: usize,
    size: usize,
}

impl PublishArgs {
    fn of(args: &Fanout) -> Self {
        PublishArgs {
            target: args.target,
            token: args.token.clone(),
            events: args.events,
            size: args.size,
        }
    }
}

/// One event: a task created on boardcast (the mark in its title), a message on nchan.
async fn publish_one(http: &mut Http, args: &PublishArgs, msg: String) -> Result<u16, Box<dyn Error>> {
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
            let headers = format!("Content-Type: application/json\r\n{auth}");
            http.request("POST", "/tasks", &headers, body.as_bytes()).await?
        }
        Target::Nchan => {
            http.request("POST", "/pub", "Content-Type: text/plain\r\n", msg.as_bytes())
                .await?
        }
    };
    Ok(status)
}

/// Gives subscribers `drain_secs` to finish, then stops them, and gathers what the
/// subscribed ones saw.
async fn collect(
    mut done: mpsc::UnboundedReceiver<Option<Seen>>,
    stop: watch::Sender<bool>,
    args: &Fanout,
) -> Vec<Seen> {
    let (drain_secs, phase) = (args.drain_secs, Phase::start("collect", args.subscribers));
    let drain = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(drain_secs)).await;
        let _ = stop.send(true);
    });
    let mut seen = Vec::new();
    while let Some(one) = done.recv().await {
        seen.extend(one);
        phase.inc(1);
    }
    drain.abort();
    phase.finish();
    seen
}

/// Each event's latency spread over subscribers, to stderr.
fn print_per_event(seen: &[Seen], events: usize) {
    let mut per: Vec<Vec<u64>> = vec![Vec::new(); events];
    for (index, us) in seen.iter().flat_map(|s| s.by_event.iter()) {
        per[*index as usize].push(u64::from(*us));
    }
    for (index, mut l) in per.into_iter().enumerate() {
        l.sort_unstable();
        let at = |p| ms(percentile(&l, p));
        eprintln!(
            "event {index}: p50 {:.1} p99 {:.1} max {:.1}",
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// When the run connected and published.
struct Times {
    connect_secs: f64,
    publish_start: Instant,
    publish_secs: f64,
}

fn summarize(args: &Fanout, shared: &Shared, seen: &[Seen], times: &Times, rss_per_conn: Option<f64>) -> FanoutReport {
    let expected = seen.len() * args.events;
    let deliveries: usize = seen.iter().map(|s| s.deliveries).sum();
    let distinct: usize = seen.iter().map(Seen::distinct_count).sum();
    let last_at = seen.iter().filter_map(|s| s.last_at).max();
    let span = last_at.map_or(0.0, |l| l.duration_since(times.publish_start).as_secs_f64());
    let mut lat: Vec<u64> = seen.iter().flat_map(|s| s.latencies_us.iter().copied()).collect();
    lat.sort_unstable();
    FanoutReport {
        target: args.target,
        transport: args.transport,
        subscribers: args.subscribers,
        connected: seen.len(),
        failed: shared.failed.load(Ordering::Relaxed),
        connect_secs: times.connect_secs,
        events: args.events,
        publish_secs: times.publish_secs,
        deliveries,
        expected,
        lost: expected.saturating_sub(distinct),
        duplicated: deliveries.saturating_sub(distinct),
        deliveries_per_sec: if span > 0.0 { per_sec(deliveries, span) } else { 0.0 },
        latency_ms: Latency::of(&lat),
        rss_idle_bytes_per_conn: rss_per_conn,
    }
}
