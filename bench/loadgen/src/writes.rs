//! `loadgen writes`: task creations on boardcast through REST or gRPC, from
//! `concurrency` writers taking numbers from one counter, back to back or paced;
//! reports writes per second and per-write latency.

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use boardcast::proto::v1::CreateTaskRequest;

use crate::cli::{Via, Writes};
use crate::http::{GrpcClient, Http};
use crate::pace::Pace;
use crate::progress::Phase;
use crate::report::{Latency, WritesReport, per_sec, print};

pub async fn writes(args: &Writes) -> Result<(), Box<dyn Error>> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let pace = Pace::new(start, args.rate);
    let phase = Phase::start("writes", args.count);
    let mut tasks = Vec::new();
    for w in 0..args.concurrency.max(1) {
        let writer = Writer {
            next: next.clone(),
            count: args.count,
            pace,
            phase: phase.clone(),
        };
        let (via, addr) = (args.via, args.addr[w % args.addr.len()].clone());
        tasks.push(tokio::spawn(async move { writer.run(via, &addr).await }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await??);
    }
    phase.finish();
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let report = WritesReport {
        via: args.via,
        count: lat.len(),
        concurrency: args.concurrency,
        rate: args.rate,
        secs,
        writes_per_sec: per_sec(lat.len(), secs),
        latency_ms: Latency::of(&lat),
    };
    print(&report, args.json)
}

/// One of the writers: takes the next number until `count` are taken.
struct Writer {
    next: Arc<AtomicUsize>,
    count: usize,
    pace: Pace,
    phase: Phase,
}

impl Writer {
    /// Writes until the numbers run out; each write's latency in µs. Stops at the
    /// first failure, so every counted write was acknowledged.
    async fn run(self, via: Via, addr: &str) -> std::io::Result<Vec<u64>> {
        let mut conn = Conn::connect(via, addr).await?;
        let mut lat = Vec::new();
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.count {
                break;
            }
            self.pace.wait(i).await;
            let t0 = Instant::now();
            if !conn.create_task(i).await? {
                return Err(std::io::Error::other(format!("write {i} failed")));
            }
            lat.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
            self.phase.inc(1);
        }
        Ok(lat)
    }
}

/// A writer's connection: keep-alive HTTP/1.1 for REST, its own HTTP/2 for gRPC.
enum Conn {
    Rest(Http),
    Grpc(GrpcClient),
}

impl Conn {
    async fn connect(via: Via, addr: &str) -> std::io::Result<Conn> {
        Ok(match via {
            Via::Rest => Conn::Rest(Http::connect(addr).await?),
            Via::Grpc => Conn::Grpc(
                GrpcClient::connect(format!("http://{addr}"))
                    .await
                    .map_err(std::io::Error::other)?,
            ),
        })
    }

    /// Creates task `i` in list-doing; whether the server acknowledged it.
    async fn create_task(&mut self, i: usize) -> std::io::Result<bool> {
        let req = CreateTaskRequest {
            title: format!("write {i}"),
            list_id: "list-doing".into(),
            ..Default::default()
        };
        Ok(match self {
            Conn::Rest(http) => {
                let body = serde_json::to_string(&req).map_err(std::io::Error::other)?;
                http.request("POST", "/tasks", "Content-Type: application/json\r\n", body.as_bytes())
                    .await?
                    == 201
            }
            Conn::Grpc(grpc) => grpc.create_task(req).await.is_ok(),
        })
    }
}
