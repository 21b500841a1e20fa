//! The command line: clap types for `loadgen fanout` and `loadgen writes`, and the
//! target, transport and write-path choices they take. `bench/compare.sh` passes these
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
    /// Approximate size of each published message in bytes.
    #[arg(long, default_value_t = 200)]
    pub size: usize,
    /// The server's pid, for resident memory per connection.
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

#[derive(clap::Args)]
pub struct Writes {
    #[arg(long, default_value = "127.0.0.1:3000")]
    pub addr: String,
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
