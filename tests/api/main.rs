//! Black-box tests: each spawns a server on port 0 with a fresh database and talks to
//! it over real sockets (HTTP/1.1, h2c gRPC), as a client would.

// Tests may unwrap: a panic there is a failed assertion. Pedantic lints stay for the
// product code: here a scenario or a table of messages reads best as one long function,
// and counts are small enough for any cast.
#![allow(clippy::unwrap_used, clippy::pedantic)]

mod account_grpc;
mod accounts;
mod activity;
mod auth;
mod board_grpc;
mod boards;
mod browser;
mod cli;
mod client;
mod concurrency;
mod connections;
mod cors;
mod crash;
mod drain;
mod errors;
mod faults;
mod grpc;
mod grpc_web;
mod grpc_wire;
mod grpcurl;
mod health;
mod helpers;
mod hidden;
mod labels;
mod large_rooms;
mod limits;
mod lists;
mod logs;
mod members;
mod metrics;
mod model;
mod openapi;
mod oracle;
mod pages;
mod poll;
mod postgres;
mod rates;
mod removal;
mod rest;
mod retention;
mod revocation;
mod roles;
mod schema;
mod streams;
mod task_details;
mod web;
mod ws;
mod wscat;
