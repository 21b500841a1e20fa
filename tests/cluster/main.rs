//! Several `boardcast serve` processes on one PostgreSQL database, as an operator runs
//! them: the built binary, real sockets, nginx in front, instances killed with
//! `kill -9`, a private PostgreSQL server stopped and started under them.
//!
//! Each test skips with a notice when PostgreSQL (or nginx, or a private server's
//! binaries) is missing, and fails instead when `BOARDCAST_REQUIRE_EXTERNAL` is set.

// Tests may unwrap: a panic there is a failed assertion. Pedantic lints stay for the
// product code: a scenario reads best as one long function.
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod clients;
mod delivery;
mod harness;
mod nginx;
mod outage;
mod presence;
