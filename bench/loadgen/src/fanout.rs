//! `loadgen fanout`, phase by phase: connect every subscriber, wait for them to idle
//! and read the server's memory, publish the events (on the publish side's runtime,
//! with the bystander and the server's CPU sampled meanwhile), collect what each
//! subscriber saw after the drain time, and report deliveries, latency, losses,
//! memory, CPU per delivery, publish answer times and the bystander's view.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::bystander::{Bystander, BystanderReport};
use crate::cli::{Fanout, Transport};
use crate::http::GrpcClient;
use crate::proc::{CpuSampler, ServerCpu, rss_kib};
use crate::progress::Phase;
use crate::publish::{PublishArgs, Published, SideRuntime, publish};
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
    let side = SideRuntime::start()?;
    let cpu = args.server_pid.map(CpuSampler::start);
    let bystander = Bystander::start(side.handle(), args);
    let published = side.handle().spawn(publish(PublishArgs::of(args))).await??;
    let seen = collect(done, stop, args).await;
    // The delivery window ends with the last delivery (or now, if none arrived).
    let window_end = seen.iter().filter_map(|s| s.last_at).max().unwrap_or_else(Instant::now);
    let deliveries = seen.iter().map(|s| s.deliveries).sum();
    let side_report = SideReport {
        server_cpu: cpu.and_then(|c| c.finish(published.start, window_end, deliveries)),
        bystander: match bystander {
            Some(b) => Some(b.finish(window_end).await),
            None => None,
        },
    };
    if args.per_event {
        print_per_event(&seen, args.events);
    }
    let rss_per_conn = rss_per_conn(rss_before, rss_idle, args.subscribers);
    let report = summarize(
        args,
        &shared,
        &seen,
        connect_secs,
        &published,
        rss_per_conn,
        side_report,
    );
    print(&report, args.json)
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

/// What was measured beside the subscribers while they were served.
struct SideReport {
    server_cpu: Option<ServerCpu>,
    bystander: Option<BystanderReport>,
}

fn summarize(
    args: &Fanout,
    shared: &Shared,
    seen: &[Seen],
    connect_secs: f64,
    published: &Published,
    rss_per_conn: Option<f64>,
    side: SideReport,
) -> FanoutReport {
    let expected = seen.len() * args.events;
    let deliveries: usize = seen.iter().map(|s| s.deliveries).sum();
    let distinct: usize = seen.iter().map(Seen::distinct_count).sum();
    let last_at = seen.iter().filter_map(|s| s.last_at).max();
    let span = last_at.map_or(0.0, |l| l.duration_since(published.start).as_secs_f64());
    let mut lat: Vec<u64> = seen.iter().flat_map(|s| s.latencies_us.iter().copied()).collect();
    lat.sort_unstable();
    FanoutReport {
        target: args.target,
        transport: args.transport,
        publish_mode: args.publish_mode,
        publishers: args.publishers(),
        subscribers: args.subscribers,
        connected: seen.len(),
        failed: shared.failed.load(Ordering::Relaxed),
        connect_secs,
        events: args.events,
        publish_secs: published.secs,
        publish_connections: published.connections,
        publish_latency_ms: Latency::of(&published.latencies_us),
        deliveries,
        expected,
        lost: expected.saturating_sub(distinct),
        duplicated: deliveries.saturating_sub(distinct),
        delivery_secs: span,
        deliveries_per_sec: if span > 0.0 { per_sec(deliveries, span) } else { 0.0 },
        latency_ms: Latency::of(&lat),
        rss_idle_bytes_per_conn: rss_per_conn,
        server_cpu: side.server_cpu,
        bystander: side.bystander,
        distinct_viewers: args.distinct_viewers,
        presence_messages: shared.presence_messages.load(Ordering::Relaxed),
        presence_bytes: shared.presence_bytes.load(Ordering::Relaxed),
    }
}
