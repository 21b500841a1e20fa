//! `loadgen soak`: several instances on one database, checked for exactly-once, in-order
//! delivery under churn. It makes `--boards` boards, holds `--subscribers` SSE streams
//! (one board each, spread over the instances), has `--writers` writers (also spread
//! over the instances) create `--events` tasks over the boards, and meanwhile cuts
//! `--cycles` random streams, each of which reconnects to the *next* instance with its
//! last seq as `Last-Event-ID`. At the end every subscriber must have seen its board's
//! seq 1..last exactly once, in order: the report counts what was lost, duplicated or
//! out of order (all three must be 0) and the resets (a reset is a failure here too).

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{Notify, watch};

use crate::cli::Soak;
use crate::http::{Http, tcp};
use crate::progress::Phase;
use crate::report::{Latency, print};

struct Board {
    id: String,
    list_id: String,
}

/// One subscriber's view: where it is, and what went wrong.
#[derive(Default)]
struct Sub {
    board: usize,
    last: AtomicU64,
    lost: AtomicU64,
    duplicated: AtomicU64,
    resets: AtomicU64,
    reconnects: AtomicU64,
    /// Told to drop its connection and resume on the next instance.
    cut: Notify,
}

#[derive(serde::Serialize)]
struct SoakReport {
    instances: usize,
    boards: usize,
    events: usize,
    subscribers: usize,
    cycles: usize,
    reconnects: u64,
    write_secs: f64,
    writes_per_sec: f64,
    write_latency_ms: Latency,
    deliveries_expected: u64,
    deliveries_complete: usize,
    lost: u64,
    duplicated_or_out_of_order: u64,
    resets: u64,
    drain_secs: f64,
}

pub async fn soak(args: &Soak) -> Result<(), Box<dyn Error>> {
    let auth = format!(
        "Authorization: Bearer {}\r\nContent-Type: application/json\r\n",
        args.token
    );
    let boards = Arc::new(make_boards(args, &auth).await?);
    let (stop_tx, stop) = watch::channel(false);
    let subs: Vec<Arc<Sub>> = (0..args.subscribers)
        .map(|i| {
            Arc::new(Sub {
                board: i % boards.len(),
                ..Sub::default()
            })
        })
        .collect();
    for (i, sub) in subs.iter().enumerate() {
        let (sub, boards, stop) = (sub.clone(), boards.clone(), stop.clone());
        let (addrs, token) = (args.addrs.clone(), args.token.clone());
        tokio::spawn(async move { follow(sub, &boards, &addrs, i, &token, stop).await });
    }
    wait_connected(&subs, args).await;
    let started = Instant::now();
    let chaos = tokio::spawn(chaos(subs.clone(), args.cycles, Duration::from_millis(args.cycle_ms)));
    let mut latencies = write_all(args, &boards, &auth).await?;
    let write_secs = started.elapsed().as_secs_f64();
    chaos.await?;
    let finals = final_seqs(args, &boards, &auth).await?;
    let drain = Instant::now();
    let complete = drain_until_complete(&subs, &finals, Duration::from_secs(args.drain_secs)).await;
    let drain_secs = drain.elapsed().as_secs_f64();
    stop_tx.send_replace(true);
    latencies.sort_unstable();
    let sum = |f: fn(&Sub) -> &AtomicU64| subs.iter().map(|s| f(s).load(Ordering::Relaxed)).sum::<u64>();
    let behind: u64 = subs
        .iter()
        .map(|s| finals[s.board].saturating_sub(s.last.load(Ordering::Relaxed)))
        .sum();
    let report = SoakReport {
        instances: args.addrs.len(),
        boards: boards.len(),
        events: args.events,
        subscribers: subs.len(),
        cycles: args.cycles,
        reconnects: sum(|s| &s.reconnects),
        write_secs,
        writes_per_sec: crate::report::per_sec(latencies.len(), write_secs),
        write_latency_ms: Latency::of(&latencies),
        deliveries_expected: subs.iter().map(|s| finals[s.board]).sum(),
        deliveries_complete: complete,
        lost: sum(|s| &s.lost) + behind,
        duplicated_or_out_of_order: sum(|s| &s.duplicated),
        resets: sum(|s| &s.resets),
        drain_secs,
    };
    print(&report, args.json)
}

/// Creates the boards, each with one list for the tasks.
async fn make_boards(args: &Soak, auth: &str) -> Result<Vec<Board>, Box<dyn Error>> {
    let mut http = Http::connect(&args.addrs[0]).await?;
    let mut boards = Vec::new();
    let phase = Phase::start("boards", args.boards.max(1));
    for i in 0..args.boards.max(1) {
        let board = created_id(&mut http, "/boards", &format!(r#"{{"name":"soak {i}"}}"#), auth).await?;
        let list = created_id(
            &mut http,
            &format!("/boards/{board}/lists"),
            r#"{"name":"tasks"}"#,
            auth,
        )
        .await?;
        boards.push(Board {
            id: board,
            list_id: list,
        });
        phase.inc(1);
    }
    phase.finish();
    Ok(boards)
}

/// POSTs `body` to `path` and returns the created thing's id.
async fn created_id(http: &mut Http, path: &str, body: &str, auth: &str) -> Result<String, Box<dyn Error>> {
    let (status, answer) = http.exchange("POST", path, auth, body.as_bytes()).await?;
    if status != 201 {
        return Err(format!("POST {path} answered {status}: {}", String::from_utf8_lossy(&answer)).into());
    }
    let created: serde_json::Value = serde_json::from_slice(&answer)?;
    Ok(created["id"].as_str().ok_or("no id in the answer")?.to_owned())
}

async fn wait_connected(subs: &[Arc<Sub>], args: &Soak) {
    let deadline = Instant::now() + Duration::from_mins(1);
    let phase = Phase::start("connect", subs.len());
    let behind = || subs.iter().filter(|s| s.last.load(Ordering::Relaxed) == 0).count();
    // Each stream's first event is the board's `board_created` (seq 1).
    while behind() > 0 && Instant::now() < deadline {
        phase.set(subs.len() - behind());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let behind = behind();
    phase.set(subs.len() - behind);
    phase.finish();
    if behind > 0 {
        eprintln!("{behind} of {} subscribers had no event after 60 s", args.subscribers);
    }
}

/// `writers` keep-alive writers, writer `w` on instance `w % instances`, creating
/// `events` tasks round-robin over the boards; each write's latency in µs.
async fn write_all(args: &Soak, boards: &Arc<Vec<Board>>, auth: &str) -> Result<Vec<u64>, Box<dyn Error>> {
    let next = Arc::new(AtomicUsize::new(0));
    let phase = Phase::start("write", args.events);
    let mut writers = Vec::new();
    for w in 0..args.writers.max(1) {
        let (next, boards, auth, phase) = (next.clone(), boards.clone(), auth.to_owned(), phase.clone());
        let (addr, count) = (args.addrs[w % args.addrs.len()].clone(), args.events);
        writers.push(tokio::spawn(async move {
            let mut http = Http::connect(&addr).await?;
            let mut lat = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, std::io::Error>(lat);
                }
                let board = &boards[i % boards.len()];
                let body = format!(r#"{{"listId":"{}","title":"soak {i}"}}"#, board.list_id);
                let t0 = Instant::now();
                let status = http.request("POST", "/tasks", &auth, body.as_bytes()).await?;
                if status != 201 {
                    return Err(std::io::Error::other(format!("write {i} on {addr} answered {status}")));
                }
                lat.push(u64::try_from(t0.elapsed().as_micros()).unwrap_or(u64::MAX));
                phase.inc(1);
            }
        }));
    }
    let mut all = Vec::new();
    for w in writers {
        all.extend(w.await??);
    }
    phase.finish();
    Ok(all)
}

/// Cuts `cycles` streams, one every `every`, chosen at random.
async fn chaos(subs: Vec<Arc<Sub>>, cycles: usize, every: Duration) {
    if subs.is_empty() {
        return;
    }
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut rng = u64::from(since_epoch.subsec_nanos()) | 0x9e37_79b9_7f4a_7c15;
    for _ in 0..cycles {
        tokio::time::sleep(every).await;
        // xorshift64: no dependency for a choice that needs no quality.
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let i = usize::try_from(rng % subs.len() as u64).unwrap_or_default();
        subs[i].cut.notify_one();
    }
}

/// Each board's last seq, read once every write was acknowledged.
async fn final_seqs(args: &Soak, boards: &[Board], auth: &str) -> Result<Vec<u64>, Box<dyn Error>> {
    let mut http = Http::connect(&args.addrs[args.addrs.len() - 1]).await?;
    let mut out = Vec::new();
    for board in boards {
        let (status, body) = http
            .exchange("GET", &format!("/boards/{}", board.id), auth, b"")
            .await?;
        if status != 200 {
            return Err(format!("reading board {} answered {status}", board.id).into());
        }
        let read: serde_json::Value = serde_json::from_slice(&body)?;
        let seq = &read["seq"];
        out.push(seq.as_u64().or_else(|| seq.as_str()?.parse().ok()).ok_or("no seq")?);
    }
    Ok(out)
}

/// Waits until every subscriber is at its board's last seq (or `limit` passes);
/// how many are.
async fn drain_until_complete(subs: &[Arc<Sub>], finals: &[u64], limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    let phase = Phase::start("drain", subs.len());
    loop {
        let done = subs
            .iter()
            .filter(|s| s.last.load(Ordering::Relaxed) >= finals[s.board])
            .count();
        phase.set(done);
        if done == subs.len() || Instant::now() >= deadline {
            phase.finish();
            return done;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One subscriber: follows its board on instance `k`, moving to the next instance
/// each time it is cut (or its stream ends), resuming after its last seq.
async fn follow(
    sub: Arc<Sub>,
    boards: &[Board],
    addrs: &[String],
    mut k: usize,
    token: &str,
    mut stop: watch::Receiver<bool>,
) {
    let board = &boards[sub.board].id;
    loop {
        let addr = &addrs[k % addrs.len()];
        tokio::select! {
            _ = stop.changed() => return,
            () = sub.cut.notified() => {}
            ended = stream(&sub, addr, board, token) => {
                if let Err(e) = ended {
                    eprintln!("stream on {addr} ended: {e}");
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        sub.reconnects.fetch_add(1, Ordering::Relaxed);
        k += 1;
    }
}

/// One SSE connection (HTTP/1.0: the body is raw, not chunked) until it ends.
async fn stream(sub: &Sub, addr: &str, board: &str, token: &str) -> std::io::Result<()> {
    let mut conn = tcp("127.0.0.1", addr).await?;
    let last = sub.last.load(Ordering::Relaxed);
    let head = format!(
        "GET /boards/{board}/events HTTP/1.0\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\
         Authorization: Bearer {token}\r\nLast-Event-ID: {last}\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending: Vec<u8> = Vec::new();
    let mut head_done = false;
    loop {
        let n = conn.read(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::other("closed by the server"));
        }
        pending.extend_from_slice(&buf[..n]);
        if !head_done {
            let Some(end) = memchr::memmem::find(&pending, b"\r\n\r\n") else {
                continue;
            };
            if !pending.starts_with(b"HTTP/1.1 200") && !pending.starts_with(b"HTTP/1.0 200") {
                return Err(std::io::Error::other(
                    String::from_utf8_lossy(&pending[..end]).into_owned(),
                ));
            }
            pending.drain(..end + 4);
            head_done = true;
        }
        let used = frames(sub, &pending);
        pending.drain(..used);
    }
}

/// Records every whole frame in `text`; how many bytes they took.
fn frames(sub: &Sub, text: &[u8]) -> usize {
    let mut used = 0;
    while let Some(end) = memchr::memmem::find(&text[used..], b"\n\n") {
        let frame = String::from_utf8_lossy(&text[used..used + end]);
        used += end + 2;
        let field = |name: &str| frame.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
        match (field("event:"), field("id:").and_then(|id| id.parse::<u64>().ok())) {
            (Some("reset" | "revoked"), _) => {
                sub.resets.fetch_add(1, Ordering::Relaxed);
            }
            (Some(_), Some(seq)) => see(sub, seq),
            _ => {} // the `connected` notice, heartbeats
        }
    }
    used
}

fn see(sub: &Sub, seq: u64) {
    let last = sub.last.load(Ordering::Relaxed);
    if seq == last + 1 {
        sub.last.store(seq, Ordering::Relaxed);
    } else if seq <= last {
        sub.duplicated.fetch_add(1, Ordering::Relaxed);
    } else {
        sub.lost.fetch_add(seq - last - 1, Ordering::Relaxed);
        sub.last.store(seq, Ordering::Relaxed);
    }
}
