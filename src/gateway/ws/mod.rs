//! WebSocket collaboration at `/` (the seed's `wscat -c ws://localhost:3000`) and
//! `/ws`: rooms, presence, typing, cursors, board events, and task mutations over the
//! socket. Mutations go through the same core calls as REST; presence and rooms are
//! `crate::presence`; board events come from the same `Subscription` as SSE; every
//! frame is built by `crate::wire::ws`.
//!
//! - `upgrade`: origin and identity, settled before the socket exists;
//! - `connection`: the per-connection select loop, one handler per wake-up;
//! - `dispatch`: one typed `ClientMessage` → its core call or room change;
//! - `rooms`: joining and leaving rooms, typing and cursor state;
//! - `rate`: the token bucket that bounds a client's frames.

mod connection;
mod dispatch;
mod rate;
mod rooms;
mod upgrade;

pub use upgrade::{is_upgrade, websocket};
