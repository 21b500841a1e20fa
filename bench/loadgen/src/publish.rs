//! Publishing a fan-out run's events: the publish modes (kept-alive connections, a
//! fresh connection per event, several writers at once), what one publish is on each
//! target, and the publish side's own runtime. Every publish is timed from the start
//! of its request (its connect too, when fresh) to the end of its response.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use boardcast::proto::v1::CreateTaskRequest;
use tokio::runtime::{Handle, Runtime};

use crate::cli::{Fanout, PublishMode, Target};
use crate::http::Http;
use crate::marks::message;
use crate::pace::Pace;
use crate::progress::Phase;

/// The publish side's runtime: one worker thread of its own, so the publishers and
/// the bystander are served as soon as an answer arrives, not after the subscriber
/// tasks the generator's main runtime is busy with (which would count the
/// generator's backlog as the server's answer time).
pub struct SideRuntime {
    /// Taken when dropped.
    rt: Option<Runtime>,
    handle: Handle,
}

impl SideRuntime {
    pub fn start() -> std::io::Result<SideRuntime> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("publish-side")
            .enable_all()
            .build()?;
        let handle = rt.handle().clone();
        Ok(SideRuntime { rt: Some(rt), handle })
    }

    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for SideRuntime {
    /// Shuts down without waiting: dropping a runtime inside async code (the main
    /// runtime's, on every return from `fanout`, errors too) would panic.
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// What publishing took.
pub struct Published {
    /// When the first publish started (after keep-alive connections were open).
    pub start: Instant,
    pub secs: f64,
    /// Each publish's answer time in µs, sorted.
    pub latencies_us: Vec<u64>,
    /// Distinct TCP connections the publishes went over (by local port).
    pub connections: usize,
}

/// What the publishers need of the arguments (owned, for their tasks).
pub struct PublishArgs {
    target: Target,
    addr: String,
    token: Option<String>,
    events: usize,
    size: usize,
    rate: f64,
    mode: PublishMode,
    publishers: usize,
}

impl PublishArgs {
    pub fn of(args: &Fanout) -> Self {
        PublishArgs {
            target: args.target,
            addr: args.publish_addr.clone().unwrap_or_else(|| args.addr.clone()),
            token: args.token.clone(),
            events: args.events,
            size: args.size,
            rate: args.rate,
            mode: args.publish_mode,
            publishers: args.publishers(),
        }
    }
}

/// Publishes every event from `publishers` tasks taking numbers from one counter, so
/// a rate above one connection's round trip holds.
pub async fn publish(args: PublishArgs) -> Result<Published, String> {
    let args = Arc::new(args);
    let next = Arc::new(AtomicUsize::new(0));
    // Kept-alive connections are opened before the clock starts, as a long-lived
    // client's would be; fresh ones are part of each publish.
    let mut conns = Vec::new();
    for _ in 0..args.publishers {
        conns.push(if args.mode == PublishMode::Fresh {
            None
        } else {
            Some(Http::connect(&args.addr).await.map_err(|e| e.to_string())?)
        });
    }
    let start = Instant::now();
    let pace = Pace::new(start, args.rate);
    let phase = Phase::start("publish", args.events);
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|conn| {
            let (args, next, phase) = (args.clone(), next.clone(), phase.clone());
            tokio::spawn(async move { publisher(&args, conn, &next, pace, &phase).await })
        })
        .collect();
    let (mut latencies_us, mut ports) = (Vec::new(), HashSet::new());
    for t in tasks {
        let (lat, used) = t.await.map_err(|e| e.to_string())??;
        latencies_us.extend(lat);
        ports.extend(used);
    }
    phase.finish();
    latencies_us.sort_unstable();
    Ok(Published {
        start,
        secs: start.elapsed().as_secs_f64(),
        latencies_us,
        connections: ports.len(),
    })
}

/// One publisher: publishes until the numbers run out, on `conn` or, without one, on
/// a new connection each time; each publish's answer time and the local ports used.
async fn publisher(
    args: &PublishArgs,
    mut conn: Option<Http>,
    next: &AtomicUsize,
    pace: Pace,
    phase: &Phase,
) -> Result<(Vec<u64>, HashSet<u16>), String> {
    let (mut lat, mut ports) = (Vec::new(), HashSet::new());
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= args.events {
            return Ok((lat, ports));
        }
        pace.wait(i).await;
        let t0 = Instant::now();
        // Stamped before a fresh connect: publish→receive counts from when the
        // publisher set out, as the answer time does.
        let msg = message(i, args.size);
        let mut http = match conn.take() {
            Some(http) => http,
            None => Http::connect(&args.addr).await.map_err(|e| e.to_string())?,
        };
        let status = publish_one(&mut http, args, msg).await.map_err(|e| e.to_string())?;
        lat.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
        if !(200..300).contains(&status) {
            return Err(format!("publish {i} answered {status}"));
        }
        ports.insert(http.local_port());
        // A fresh connection is dropped here: closed, the next publish opens another.
        if args.mode != PublishMode::Fresh {
            conn = Some(http);
        }
        phase.inc(1);
    }
}

/// One event: a task created on boardcast (the mark in its title), a message on nchan.
async fn publish_one(http: &mut Http, args: &PublishArgs, msg: String) -> std::io::Result<u16> {
    match args.target {
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
            http.request("POST", "/tasks", &headers, body.as_bytes()).await
        }
        Target::Nchan => {
            http.request("POST", "/pub", "Content-Type: text/plain\r\n", msg.as_bytes())
                .await
        }
    }
}
