//! Request limits every transport applies the same way.

/// Largest request body accepted on any route (REST JSON, gRPC message).
pub const MAX_BODY_BYTES: usize = 64 * 1024;
