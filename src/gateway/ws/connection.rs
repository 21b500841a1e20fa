//! One task per connection runs a select loop over: the client's frames, the room
//! mailbox, the board subscription, the heartbeat, typing/cursor timers, the
//! deadlines (idle, and `auth` for a socket opened without an identity) and the
//! server's shutdown (close 1001 after whatever was queued). Each
//! wake-up has its handler (`on_*`). The client's frames are polled first (`biased`),
//! so a `resume` sent right after `join` is applied before any live event goes out.
//!
//! A handler ends the connection by returning `Err`: with a close frame
//! (`Some(Close)`), or silently (`None`) when the peer is gone.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use bytes::Bytes;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio::time::{Instant, Interval, sleep_until};

use super::rate::{FrameRate, Refusals};
use crate::app::AppState;
use crate::core::lifecycle::{Phase, reached};
use crate::core::revocation::{REVOKED, revoked};
use crate::core::{Actor, Error, StreamItem, Subscription};
use crate::gateway::live;
use crate::limits::WS_MAILBOX_FRAMES;
use crate::presence::{ConnId, Inbox, Mailbox};
use crate::proto::v1::{Viewer, Welcome, server_message::Message as Out};
use crate::wire::Step;
use crate::wire::ws::{self as frames, Close, Incoming};

/// How a handler ends the connection, if it does.
pub(super) type Flow = Result<(), Option<Close>>;

type Sink = SplitSink<WebSocket, Message>;

/// A typing indicator a connection holds in a room.
pub(super) struct Typist {
    /// When it stops by itself: `TYPING_TTL` after the last `typing`.
    pub(super) expires: Instant,
    /// When the room last heard `user_typing` for it.
    pub(super) announced: Instant,
}

pub(super) struct Connection {
    pub(super) s: AppState,
    pub(super) id: ConnId,
    /// Who acts (board access) and who is seen (presence); `None` until `auth`.
    pub(super) identity: Option<(Actor, Viewer)>,
    /// Created at the first join; holds this connection's stream slot.
    pub(super) sub: Option<Subscription>,
    /// Turns true when the identity's credential is revoked: the socket closes (4401).
    pub(super) revoked: Option<watch::Receiver<bool>>,
    pub(super) mailbox: Mailbox,
    /// The receiving end of `mailbox`.
    inbox: Inbox,
    /// Boards whose room this connection is in.
    pub(super) rooms: Vec<String>,
    /// board → this connection's typing indicator in its room.
    pub(super) typing: HashMap<String, Typist>,
    /// board → latest unsent cursor position.
    pub(super) cursors: HashMap<String, (f64, f64)>,
    pub(super) next_cursor_at: Instant,
    /// The client's address, for the identity an `auth` message switches to.
    pub(super) client_ip: Option<std::net::IpAddr>,
    rate: FrameRate,
    refusals: Refusals,
    last_heard: Instant,
    /// Reaching `Ending` closes the socket (1001), following a board or not.
    phase: watch::Receiver<Phase>,
    /// When a socket still without an identity is closed.
    auth_deadline: Instant,
}

/// Why the select loop woke.
enum Wake {
    Frame(Option<Result<Message, axum::Error>>),
    /// Room messages, already moved to the outgoing frames.
    Mail,
    Board(crate::core::Result<Option<StreamItem>>),
    Heartbeat,
    Revoked,
    ShuttingDown,
    TypingExpired,
    CursorDue,
    Idle,
    NoAuth,
}

impl Connection {
    pub(super) fn new(
        s: AppState,
        id: ConnId,
        client_ip: Option<std::net::IpAddr>,
        identity: Option<(Actor, Viewer)>,
    ) -> Self {
        let (mailbox, inbox) = Mailbox::new(WS_MAILBOX_FRAMES);
        let now = Instant::now();
        let revoked = identity.as_ref().and_then(|(actor, _)| s.core.revocation(actor));
        let phase = s.core.lifecycle().phase();
        let rate = FrameRate::new(s.config.ws_frames_per_sec);
        let auth_deadline = now + Duration::from_millis(s.config.ws_handshake_timeout_ms);
        Connection {
            s,
            id,
            identity,
            sub: None,
            revoked,
            mailbox,
            inbox,
            rooms: Vec::new(),
            typing: HashMap::new(),
            cursors: HashMap::new(),
            next_cursor_at: now,
            client_ip,
            rate,
            refusals: Refusals::new(now),
            last_heard: now,
            phase,
            auth_deadline,
        }
    }

    /// The session, from the first frame to the close. Not an `async fn`: one moves its
    /// arguments from their upvars into locals, so the future would keep two copies
    /// of the connection (about 1 KiB) for the connection's whole life; this block
    /// uses its captures in place. The socket is split before the future exists for
    /// the same reason (a `WebSocket` moved out of an argument keeps its room).
    pub(super) fn run(mut self, socket: WebSocket) -> impl Future<Output = ()> + Send {
        let (mut sink, mut stream) = socket.split();
        async move {
            let _open = self.s.metrics.connection(crate::metrics::Transport::Ws);
            let mut heartbeat = live::heartbeat(self.s.config.ws_ping_ms);
            let mut out: Vec<Bytes> = Vec::new();
            if self.identity.is_some() {
                out.push(self.welcome());
            }
            let end = loop {
                if !out.is_empty() && send_all(&mut sink, &mut out).await.is_err() {
                    break None;
                }
                let flow = match self.wait(&mut stream, &mut heartbeat, &mut out).await {
                    Wake::Frame(frame) => self.on_frame(frame, &mut out).await,
                    Wake::Mail => Ok(()),
                    Wake::Board(item) => self.on_board(item, &mut out),
                    Wake::Heartbeat => self.on_heartbeat(&mut sink).await,
                    Wake::Revoked => Err(Some(Close::revoked(REVOKED))),
                    Wake::ShuttingDown => Err(Some(Close::going_away())),
                    Wake::TypingExpired => {
                        self.expire_typing();
                        Ok(())
                    }
                    Wake::CursorDue => {
                        self.flush_cursors();
                        Ok(())
                    }
                    Wake::Idle => Err(Some(Close::idle(self.idle_after(heartbeat.period())))),
                    Wake::NoAuth => Err(Some(Close::no_auth(Duration::from_millis(
                        self.s.config.ws_handshake_timeout_ms,
                    )))),
                };
                if let Err(end) = flow {
                    break end;
                }
            };
            // Boxed: the close handshake's state is needed once, at the end, and an idle
            // session (the task's resting size, per connection) should not carry room for it.
            Box::pin(self.finish(sink, stream, out, end)).await;
        }
    }

    async fn wait(
        &mut self,
        stream: &mut SplitStream<WebSocket>,
        heartbeat: &mut Interval,
        out: &mut Vec<Bytes>,
    ) -> Wake {
        let typing_due = self.typing.values().map(|t| t.expires).min();
        let cursor_due = (!self.cursors.is_empty()).then_some(self.next_cursor_at);
        let following = self.sub.as_ref().is_some_and(|s| !s.is_empty());
        let idle_at = self.last_heard + self.idle_after(heartbeat.period());
        let anonymous = self.identity.is_none();
        tokio::select! {
            biased;
            frame = stream.next() => Wake::Frame(frame),
            () = self.inbox.recv_all(out) => Wake::Mail,
            item = next_item(&mut self.sub), if following => Wake::Board(item),
            // After the board's items: what is ready for the client goes out first.
            () = reached(&mut self.phase, Phase::Ending) => Wake::ShuttingDown,
            _ = heartbeat.tick() => Wake::Heartbeat,
            () = revoked(&mut self.revoked) => Wake::Revoked,
            () = sleep_until(typing_due.unwrap_or_else(Instant::now)), if typing_due.is_some() => Wake::TypingExpired,
            () = sleep_until(cursor_due.unwrap_or_else(Instant::now)), if cursor_due.is_some() => Wake::CursorDue,
            () = sleep_until(idle_at) => Wake::Idle,
            () = sleep_until(self.auth_deadline), if anonymous => Wake::NoAuth,
        }
    }

    /// How long the client may send nothing (pongs count): `--ws-idle-timeout-ms`, or
    /// two ping periods if that is sooner (a client that answers no ping is gone).
    fn idle_after(&self, ping: Duration) -> Duration {
        Duration::from_millis(self.s.config.ws_idle_timeout_ms.max(1)).min(ping * 2)
    }

    async fn on_frame(&mut self, frame: Option<Result<Message, axum::Error>>, out: &mut Vec<Bytes>) -> Flow {
        match frame {
            None => Err(None),
            Some(Err(e)) => Err(read_failure(e)),
            // Boxed: handling a message can run any core operation, a large future
            // that an idle connection should not carry room for.
            Some(Ok(message)) => Box::pin(self.on_message(message, out)).await,
        }
    }

    async fn on_message(&mut self, message: Message, out: &mut Vec<Bytes>) -> Flow {
        self.last_heard = Instant::now();
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                let binary = Error::invalid("frame", "binary frames are not supported; send JSON text");
                out.push(crate::wire::error::ws_frame("", &binary));
                return self.count_frame();
            }
            // Pings are answered by the library, pongs only prove liveness; both are
            // frames the client sends, so both count against the frame rate.
            Message::Ping(_) | Message::Pong(_) => return self.count_frame(),
            Message::Close(_) => return Err(Some(Close::normal())),
        };
        self.count_frame()?;
        match frames::decode(text.as_str()) {
            Ok(Incoming { request_id, message }) => {
                if let Err(e) = self.handle(message, out).await {
                    out.push(crate::wire::error::ws_frame(&request_id, &e));
                    if let Error::RateLimited { .. } = e
                        && let Some(refusals) = self.refusals.refused(Instant::now())
                    {
                        return Err(Some(Close::rate_limited(refusals)));
                    }
                }
            }
            Err(answer) => out.push(answer),
        }
        Ok(())
    }

    /// More than the sustained rate of frames closes the connection with 1008.
    fn count_frame(&mut self) -> Flow {
        if self.rate.take() {
            Ok(())
        } else {
            Err(Some(Close::too_many_messages(self.s.config.ws_frames_per_sec)))
        }
    }

    fn on_board(&mut self, item: crate::core::Result<Option<StreamItem>>, out: &mut Vec<Bytes>) -> Flow {
        let Some(sub) = self.sub.as_mut() else { return Ok(()) };
        let mut flow = push(frames::item(item, || sub.positions()), out);
        if flow.is_ok() {
            live::drain(sub, out.len(), |item, sub| {
                flow = push(frames::item(item, || sub.positions()), out);
                flow.is_ok()
            });
        }
        flow
    }

    /// Pings the client (its pong keeps it from being idle).
    async fn on_heartbeat(&mut self, sink: &mut Sink) -> Flow {
        sink.send(Message::Ping(Bytes::new())).await.map_err(|_| None)
    }

    /// Sends what is left, leaves the rooms, and closes with `end` if there is one.
    async fn finish(
        mut self,
        mut sink: Sink,
        mut stream: SplitStream<WebSocket>,
        mut out: Vec<Bytes>,
        end: Option<Close>,
    ) {
        let _ = send_all(&mut sink, &mut out).await;
        self.leave_all();
        let Some(close) = end else {
            tracing::debug!(connection = %self.id, reason = "peer gone", "WebSocket ended");
            return;
        };
        tracing::debug!(connection = %self.id, code = close.code, reason = %close.reason, "WebSocket ended");
        if sink.send(close.into_message()).await.is_ok() {
            // The closing handshake: read (and drop) until the client's close, so
            // our close frame is not lost to a reset of a socket with unread data.
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(message)) = stream.next().await {
                    if let Message::Close(_) = message {
                        break;
                    }
                }
            })
            .await;
        }
    }

    /// Drops everything held for the current identity before another takes the
    /// connection: its rooms, its board subscription, its unsent cursors, and the room
    /// messages already in its mailbox (addressed to a member of those rooms), so
    /// nothing queued under one identity goes out under the next.
    pub(super) fn forget_identity(&mut self) {
        self.leave_all();
        self.sub = None;
        (self.mailbox, self.inbox) = Mailbox::new(WS_MAILBOX_FRAMES);
    }

    pub(super) fn welcome(&self) -> Bytes {
        let viewer = self.identity.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
        frames::frame(Out::Welcome(Welcome {
            user_id: viewer.user_id,
            name: viewer.name,
            color: viewer.color,
            connection_id: self.id.to_string(),
        }))
    }
}

/// Queues a stream item's frame; the flow that follows it.
fn push(step: Step<Bytes, Close>, out: &mut Vec<Bytes>) -> Flow {
    match step {
        Step::Send(frame) => {
            out.push(frame);
            Ok(())
        }
        Step::Skip => Ok(()),
        Step::End { last, why } => {
            out.extend(last);
            Err(Some(why))
        }
    }
}

/// A failed read: a frame over the size limit is answered with 1009, a breach of the
/// protocol (unmasked frame, reserved opcode or bits, bad control frame) with 1002,
/// a text frame that is not UTF-8 with 1007; anything else means the socket is gone.
fn read_failure(e: axum::Error) -> Option<Close> {
    let e = e.into_inner().downcast::<tungstenite::Error>().ok()?;
    match *e {
        tungstenite::Error::Capacity(_) => Some(Close::too_big()),
        // The peer is gone without a close: there is no one to tell.
        tungstenite::Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => None,
        tungstenite::Error::Protocol(e) => Some(Close::protocol(&e.to_string())),
        tungstenite::Error::Utf8(_) => Some(Close::invalid_payload()),
        _ => None,
    }
}

/// The subscription's next item; only polled while it follows a board.
async fn next_item(sub: &mut Option<Subscription>) -> crate::core::Result<Option<StreamItem>> {
    match sub {
        Some(sub) => sub.next().await,
        None => std::future::pending().await,
    }
}

/// Queues every frame, then flushes once: one write for a batch of events.
async fn send_all(sink: &mut Sink, out: &mut Vec<Bytes>) -> Result<(), axum::Error> {
    for json in out.drain(..) {
        sink.feed(frames::text(json)).await?;
    }
    sink.flush().await
}
