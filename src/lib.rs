//! boardcast: a live, collaborative task board server.
//!
//! Layout: `proto` (the one schema) → `core` (every rule) → `store` (persistence) —
//! and, facing clients, `gateway` (HTTP: REST) and `grpc` (tonic), both served by
//! `server` on one port. `auth` resolves identities; `config` holds the flags.
//! See docs/ARCHITECTURE.md.

pub mod auth;
pub mod config;
pub mod core;
pub mod gateway;
pub mod grpc;
pub mod proto;
pub mod server;
pub mod store;

pub use config::Config;
pub use server::{AppState, Application};
