//! The bystander: while events are published and delivered, a request at a fixed rate,
//! each on a fresh connection and timed from its connect to its full response. It is
//! what someone who only opens the app sees of the server during a fan-out: on
//! boardcast `GET /boards` (with the run's token), on nchan the channel info
//! `GET /pub`, its cheapest read of the same state.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::cli::{Fanout, Target};
use crate::http::Http;
use crate::report::Latency;

/// A request unanswered after this long counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The request, as sent every time.
struct Request {
    addr: String,
    path: String,
    headers: String,
}

/// One request: when it started, how long it took, and its status (0: no answer).
struct Sample {
    started: Instant,
    us: u64,
    status: u16,
}

#[derive(serde::Serialize)]
pub struct BystanderReport {
    pub path: String,
    pub hz: f64,
    /// Requests started within the window (first publish to last delivery).
    pub count: usize,
    /// Of those, answered with other than 2xx, or not at all.
    pub errors: usize,
    /// Answer times of the 2xx ones.
    pub latency_ms: Latency,
}

/// A running bystander; [`Bystander::finish`] stops it and reports.
pub struct Bystander {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<Sample>>,
    path: String,
    hz: f64,
}

impl Bystander {
    /// Starts asking on `rt` (the publish side's runtime, so the answers are read
    /// when they arrive); `None` when `--bystander-hz` is 0.
    pub fn start(rt: &Handle, args: &Fanout) -> Option<Bystander> {
        if args.bystander_hz <= 0.0 {
            return None;
        }
        let path = args.bystander_path.clone().unwrap_or_else(|| match args.target {
            Target::Boardcast => "/boards".into(),
            Target::Nchan => "/pub".into(),
        });
        let headers = match (&args.token, args.target) {
            (Some(t), Target::Boardcast) => format!("Authorization: Bearer {t}\r\n"),
            _ => String::new(),
        };
        let request = Arc::new(Request {
            addr: args.addr.clone(),
            path: path.clone(),
            headers,
        });
        let (stop, stopped) = watch::channel(false);
        let every = Duration::from_secs_f64(1.0 / args.bystander_hz);
        let task = rt.spawn(run(request, every, stopped));
        Some(Bystander {
            stop,
            task,
            path,
            hz: args.bystander_hz,
        })
    }

    /// Stops asking, waits for the requests in flight, and reports those that
    /// started by `window_end`.
    pub async fn finish(self, window_end: Instant) -> BystanderReport {
        let _ = self.stop.send(true);
        let samples: Vec<Sample> = self
            .task
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|s| s.started <= window_end)
            .collect();
        let mut ok: Vec<u64> = samples
            .iter()
            .filter(|s| (200..300).contains(&s.status))
            .map(|s| s.us)
            .collect();
        ok.sort_unstable();
        BystanderReport {
            path: self.path,
            hz: self.hz,
            count: samples.len(),
            errors: samples.len() - ok.len(),
            latency_ms: Latency::of(&ok),
        }
    }
}

/// Starts a request every `every` until stopped, each in its own task so a slow
/// answer does not delay (and thin out) the samples after it.
async fn run(request: Arc<Request>, every: Duration, mut stopped: watch::Receiver<bool>) -> Vec<Sample> {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut in_flight = Vec::new();
    loop {
        tokio::select! {
            _ = tick.tick() => in_flight.push(tokio::spawn(ask(request.clone()))),
            _ = stopped.changed() => break,
        }
    }
    let mut samples = Vec::new();
    for t in in_flight {
        samples.extend(t.await.ok());
    }
    samples
}

/// One request on a new connection, closed after its answer.
async fn ask(request: Arc<Request>) -> Sample {
    let started = Instant::now();
    let answer = tokio::time::timeout(REQUEST_TIMEOUT, async {
        let mut http = Http::connect(&request.addr).await?;
        http.request("GET", &request.path, &request.headers, b"").await
    })
    .await;
    Sample {
        started,
        us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        status: match answer {
            Ok(Ok(status)) => status,
            _ => 0,
        },
    }
}
