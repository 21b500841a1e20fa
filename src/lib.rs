//! boardcast: a live, collaborative task board server.
//!
//! Layout, lowest layer first (a module imports only those below it; `tests/layering.rs`
//! checks it):
//! - `proto` (the one schema), `time`, `config` (the flags), `limits`, `metrics` (what
//!   the server counts, held by every layer that counts), `narrate` (events as sentences);
//! - `store` (persistence) and `bus` (live events);
//! - `core`: every rule;
//! - `auth` (identity), `wire` (every byte a transport sends), `presence` (rooms);
//! - `app`: the state every transport shares;
//! - `gateway` (HTTP: REST, SSE, polling, WebSocket, the page) and `grpc` (tonic);
//! - `server`: the one listener that serves both;
//! - `client`: the terminal client (`boardcast tail`, …), a gRPC client like any other;
//! - `fuzzing`: the entry points of the `cargo fuzz` targets (`fuzz/`), only built
//!   under `cfg(fuzzing)`.
//!
//! See docs/ARCHITECTURE.md.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod bus;
pub mod client;
pub mod config;
pub mod core;
pub mod delivery;
// Only for the fuzz targets (cargo-fuzz passes `--cfg fuzzing`): hidden, and absent
// from every other build, so they reach private parsers without widening the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
pub mod gateway;
pub mod grpc;
pub mod limits;
pub mod metrics;
pub mod narrate;
pub mod presence;
pub mod proto;
pub mod server;
pub mod store;
pub mod time;
pub mod wire;

pub use app::AppState;
pub use config::Config;
pub use server::Application;
