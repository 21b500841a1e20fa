//! Request limits every transport applies the same way.

/// Largest request body accepted on any route (REST JSON, gRPC message).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Largest WebSocket frame or message a client may send.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Room messages (presence, typing, cursors) waiting for a slow WebSocket. They are
/// ephemeral: past this many, new ones are dropped for that connection, never the
/// connection, and its viewer list is sent again whole once it has room.
pub const WS_MAILBOX_FRAMES: usize = 256;

/// How often a room's joins and leaves go out: each room's changes within one
/// interval make at most one presence message per member.
pub const PRESENCE_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

/// Changes of one interval a member hears one by one (`user_joined`, `user_left`);
/// past this many it gets one `presence` message with the room's viewers instead.
pub const PRESENCE_CHANGES_ONE_BY_ONE: usize = 8;

/// Viewers a `presence` message lists; its `viewerCount` counts them all, so a very
/// large room sends the first of them and a number rather than every name. A room
/// with more viewers than this is told of changes by such lists only.
pub const PRESENCE_VIEWERS_LISTED: usize = 20;

/// Cursor updates forwarded per user and board: at most one per this interval (20/s).
pub const WS_CURSOR_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// The window sign-in and sign-up attempts are counted in (a fixed window per key).
pub const SIGNIN_WINDOW: std::time::Duration = std::time::Duration::from_mins(1);

/// Sign-up and sign-in attempts one client address may make per [`SIGNIN_WINDOW`],
/// successful or not; more are refused (429 with `Retry-After`, RESOURCE_EXHAUSTED)
/// until the window ends. Behind a reverse proxy every client shares its address.
pub const SIGNIN_ATTEMPTS_PER_IP: u32 = 10;

/// Failed sign-ins (and refused sign-ups) per username per [`SIGNIN_WINDOW`], from any
/// address; after that even the right password is refused until the window ends,
/// so a password cannot be guessed faster by spreading over addresses.
pub const SIGNIN_FAILURES_PER_USERNAME: u32 = 5;

/// Keys (addresses, usernames) the attempt counters hold before expired ones are
/// dropped, bounding their memory.
pub const SIGNIN_TRACKED_KEYS: usize = 10_000;

/// WebSocket refusals for a rate limit (an `error` frame with code `rate_limited`)
/// one connection may draw within [`WS_REFUSAL_WINDOW`]; one more closes it (1008),
/// since a client that keeps going past the answer is not listening to it.
pub const WS_REFUSALS_BEFORE_CLOSE: u32 = 10;
pub const WS_REFUSAL_WINDOW: std::time::Duration = std::time::Duration::from_secs(10);
