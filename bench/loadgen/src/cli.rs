//! The command line: clap types for `loadgen fanout`, `loadgen writes` and `loadgen
//! soak`, and the target, transport, publish-mode and write-path choices they take. `bench/compare.sh` passes these
//! flags by name, so they are part of the tool's interface.

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(about = "Load generator: fan-out and write throughput, for boardcast or nchan")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// N subscribers on one board, M events published; deliveries, latency, memory.
    Fanout(Fanout),
    /// Task creations per second (or latency at a fixed rate) on boardcast.
    Writes(Writes),
    /// Several instances on one database: exactly-once, in-order delivery while
    /// streams are cut and resumed on another instance.
    Soak(Soak),
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    Boardcast,
    Nchan,
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Sse,
    Ws,
    Grpc,
    /// A third each of SSE, WebSocket and gRPC.
    Mixed,
}

/// How `loadgen fanout` publishes its events.
#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PublishMode {
    /// Over connections opened once and kept alive (`--publishers`, default 1).
    Keepalive,
    /// A new TCP connection for every event, closed after its answer, as curl in a
    /// loop, a webhook or a serverless function publishes.
    Fresh,
    /// Several keep-alive writers at once (`--publishers`, default 8).
    Concurrent,
}

#[derive(clap::Args)]
pub struct Fanout {
    #[arg(long, value_enum, default_value = "boardcast")]
    pub target: Target,
    /// The server's address.
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: String,
    #[arg(long, value_enum, default_value = "sse")]
    pub transport: Transport,
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    #[arg(long, default_value_t = 200)]
    pub events: usize,
    /// Events per second; 0 publishes back to back.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Where events are published (default: `--addr`): another instance on the same
    /// database measures cross-instance delivery.
    #[arg(long)]
    pub publish_addr: Option<String>,
    #[arg(long, value_enum, default_value = "keepalive")]
    pub publish_mode: PublishMode,
    /// Publishers at once, taking numbers from one counter (default 1; 8 with
    /// `--publish-mode concurrent`). With `fresh`, each opens a connection per event.
    #[arg(long)]
    pub publishers: Option<usize>,
    /// Approximate size of each published message in bytes.
    #[arg(long, default_value_t = 200)]
    pub size: usize,
    /// The server's pid, for resident memory per connection and CPU time per delivery
    /// (nginx: the worker's).
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Local addresses to spread connections over (e.g. 127.0.0.2,127.0.0.3).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1")]
    pub sources: Vec<String>,
    /// HTTP/2 connections the gRPC streams are spread over.
    #[arg(long, default_value_t = 100)]
    pub grpc_connections: usize,
    /// boardcast: a user token (default: the loopback guest).
    #[arg(long)]
    pub token: Option<String>,
    /// boardcast, WebSocket: subscribers join without the token, each connection a
    /// loopback guest of its own, so the room has as many distinct viewers as
    /// subscribers (presence at scale); publishes still use `--token`.
    #[arg(long)]
    pub distinct_viewers: bool,
    /// Bystander requests per second during publish and delivery, each on a fresh
    /// connection and timed to its full response; 0 for none.
    #[arg(long, default_value_t = 20.0)]
    pub bystander_hz: f64,
    /// The bystander's request (default: `GET /boards` on boardcast, with `--token`;
    /// the channel info `GET /pub` on nchan).
    #[arg(long)]
    pub bystander_path: Option<String>,
    /// How long to wait for deliveries after the last publish.
    #[arg(long, default_value_t = 30)]
    pub drain_secs: u64,
    /// Print one JSON line instead of a report.
    #[arg(long)]
    pub json: bool,
    /// Also print each event's latency spread over subscribers (p50/p99/max ms), to stderr.
    #[arg(long)]
    pub per_event: bool,
}

impl Fanout {
    /// Publishers at once: `--publishers`, or the mode's default.
    pub fn publishers(&self) -> usize {
        let default = if self.publish_mode == PublishMode::Concurrent {
            8
        } else {
            1
        };
        self.publishers.unwrap_or(default).max(1)
    }
}

#[derive(clap::Args)]
pub struct Writes {
    /// The server, or several instances comma-separated (writer `w` writes to the
    /// `w mod n`th).
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:3000")]
    pub addr: Vec<String>,
    #[arg(long, value_enum, default_value = "rest")]
    pub via: Via,
    #[arg(long, default_value_t = 20_000)]
    pub count: usize,
    /// Requests in flight at once (connections for REST).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Requests per second; 0 sends as fast as `concurrency` allows.
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, PartialEq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    Rest,
    Grpc,
}

#[derive(clap::Args)]
pub struct Soak {
    /// The instances, comma-separated; writers and streams are spread over them.
    #[arg(long, value_delimiter = ',', required = true)]
    pub addrs: Vec<String>,
    /// A user token: the boards are made in this user's name.
    #[arg(long)]
    pub token: String,
    #[arg(long, default_value_t = 20)]
    pub boards: usize,
    /// Tasks created in all (one event each), round-robin over the boards.
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    #[arg(long, default_value_t = 64)]
    pub writers: usize,
    /// Streams cut (each resumes on the next instance).
    #[arg(long, default_value_t = 2000)]
    pub cycles: usize,
    /// Time between two cuts.
    #[arg(long, default_value_t = 10)]
    pub cycle_ms: u64,
    /// How long to wait, after the last write, for every stream to catch up.
    #[arg(long, default_value_t = 60)]
    pub drain_secs: u64,
    #[arg(long)]
    pub json: bool,
}
