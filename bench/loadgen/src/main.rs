//! Load generator for boardcast and, with the same code, for nchan (the reference).
//!
//! `loadgen fanout` holds N subscribers on one board (SSE, WebSocket, gRPC, or a mix),
//! publishes M events at a rate or back to back, and reports: connected/failed,
//! deliveries per second, publish-to-receive latency (p50/p90/p99/max), lost and
//! duplicated deliveries, and the server's resident memory per idle connection (from
//! /proc); events are published over kept-alive connections, a fresh connection per
//! event, or several writers at once, and it also reports each publish's answer time,
//! the server's CPU time per delivery (/proc) and a bystander's requests meanwhile. `loadgen writes` measures task creations per second through REST or gRPC,
//! or the latency at a fixed rate. `loadgen soak` checks several instances on one
//! database for exactly-once, in-order delivery while streams move between them.
//!
//! Every published message carries `lg <index> <send time in µs>` (in the task title
//! for boardcast, in the body for nchan), padded to `--size` bytes; subscribers find it
//! in whatever framing their transport uses, so one parser serves every target.
//!
//! Each long phase shows its progress on stderr (`progress.rs`); the report is stdout's.

mod bystander;
mod cli;
mod fanout;
mod http;
mod marks;
mod pace;
mod proc;
mod progress;
mod publish;
mod report;
mod soak;
mod subscriber;
mod writes;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command {
        Command::Fanout(args) => fanout::fanout(&args).await,
        Command::Writes(args) => writes::writes(&args).await,
        Command::Soak(args) => soak::soak(&args).await,
    }
}
