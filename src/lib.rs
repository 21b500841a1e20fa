//! boardcast: a live, collaborative task board server.
//!
//! Layout: `proto` (the one schema) → `core` (every rule) → `store` (persistence) and
//! `bus` (live events) — and, facing clients, `gateway` (HTTP: REST, SSE, polling) and
//! `grpc` (tonic), both served by `server` on one port; `wire` builds every byte they send. `auth` resolves identities; `config` holds the flags.
//! See docs/ARCHITECTURE.md.

#![forbid(unsafe_code)]

pub mod app;
pub mod auth;
pub mod bus;
pub mod config;
pub mod core;
pub mod gateway;
pub mod grpc;
pub mod limits;
pub mod presence;
pub mod proto;
pub mod server;
pub mod store;
pub mod time;
pub mod wire;

pub use app::AppState;
pub use config::Config;
pub use server::Application;
