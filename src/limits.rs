//! Request limits every transport applies the same way.

/// Largest request body accepted on any route (REST JSON, gRPC message).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest WebSocket frame or message a client may send.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Sustained WebSocket frames per second a client may send, and the burst above it;
/// more closes the socket (1008).
pub const WS_RATE_PER_SEC: u32 = 100;
pub const WS_RATE_BURST: u32 = 200;

/// Room messages waiting for a slow WebSocket before it is closed (1013).
pub const WS_MAILBOX_FRAMES: usize = 256;

/// Cursor updates forwarded per user and board: at most one per this interval (20/s).
pub const WS_CURSOR_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);
