//! WebSocket collaboration at `/` (the seed's `wscat -c ws://localhost:3000`) and
//! `/ws`: rooms, presence, typing, cursors, board events, and task mutations over the
//! socket. Mutations go through the same core calls as REST; presence and rooms are
//! `crate::presence`; board events come from the same `Subscription` as SSE.
//!
//! One task per connection runs a select loop over: the client's frames, the room
//! mailbox, the board subscription, the heartbeat, and typing/cursor timers. The
//! client's frames are polled first (`biased`), so a `resume` sent right after `join`
//! is applied before any live event goes out.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior, interval_at, sleep_until};

use super::extract::token;
use crate::app::AppState;
use crate::core::{Actor, BATCH, Error, Resume, StreamItem, Subscription};
use crate::presence::{ConnId, Inbox, Mailbox, color_of, frame};
use crate::proto::v1::client_message::Message as In;
use crate::proto::v1::server_message::Message as Out;
use crate::proto::v1::{
    Ack, CursorMoved, ErrorFrame, Pong, Presence, StreamNotice, UserStoppedTyping, UserTyping, Viewer, Welcome,
    stream_notice::Notice,
};

/// Largest frame or message a client may send.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// Typing expires this long after the last `typing`.
const TYPING_TTL: Duration = Duration::from_secs(5);
/// Cursor updates forwarded per user: at most one per this interval (20/s).
const CURSOR_INTERVAL: Duration = Duration::from_millis(50);
/// Sustained frames per second a client may send, and the burst above it.
const RATE_PER_SEC: f64 = 100.0;
const RATE_BURST: f64 = 200.0;
/// Room messages waiting for a slow connection before it is closed (1013).
const MAILBOX_FRAMES: usize = 256;

const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_INTERNAL: u16 = 1011;
const CLOSE_TRY_AGAIN: u16 = 1013;

/// The upgrade. Identity and origin are settled before it: a bad token is a 401 and a
/// foreign `Origin` a 403, so neither ever gets a socket.
pub async fn websocket(State(s): State<AppState>, req: Request) -> Result<Response, Error> {
    let (mut parts, _) = req.into_parts();
    if !is_upgrade(&parts.headers) {
        return Err(Error::not_found("route", parts.uri.path()));
    }
    check_origin(&parts.headers, &s.config.allowed_origins)?;
    let token = token(&parts)?;
    let conn = s.presence.next_conn_id();
    let identity = match token {
        Some(token) => Some(identity_of(s.auth.actor(Some(&token)).await?)),
        None if s.auth.guests_allowed() => {
            // Each anonymous loopback connection is its own guest viewer, with the
            // guest's access to boards.
            let actor = s.auth.actor(None).await?;
            let suffix = format!("{conn:04x}");
            let viewer = Viewer {
                user_id: format!("guest-{suffix}"),
                name: format!("Guest {suffix}"),
                color: color_of(&format!("guest-{suffix}")),
            };
            Some((actor, viewer))
        }
        // Off loopback without a token: the first message must be `auth`.
        None => None,
    };
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &s)
        .await
        .map_err(|e| Error::invalid("Upgrade", e.to_string()))?;
    Ok(ws
        // Per-socket buffers dominate an idle connection's memory. tungstenite reads
        // into (and zero-fills) `read_buffer_size` bytes, 128 KiB by default; client
        // messages are small, and a larger one still assembles (the buffer grows to
        // the frame). Outgoing frames collect in a buffer that keeps its size: 4 KiB
        // still puts a dozen events into one write without every socket that once
        // saw a burst holding a burst's worth.
        .read_buffer_size(512)
        .write_buffer_size(4 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| Connection::new(s, conn, identity).run(socket)))
}

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn identity_of(actor: Actor) -> (Actor, Viewer) {
    let viewer = Viewer {
        user_id: actor.user.id.clone(),
        name: actor.user.name.clone(),
        color: color_of(&actor.user.id),
    };
    (actor, viewer)
}

/// No `Origin` (not a browser), an origin on the allow-list, or the server's own
/// origin (`Origin` host equal to `Host`) may connect; any other site's page may not.
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), Error> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    if authority.eq_ignore_ascii_case(host) || allowed.iter().any(|a| a == origin || a == "*") {
        Ok(())
    } else {
        Err(Error::OriginNotAllowed {
            origin: origin.to_owned(),
        })
    }
}

struct Connection {
    s: AppState,
    id: ConnId,
    /// Who acts (board access) and who is seen (presence); `None` until `auth`.
    identity: Option<(Actor, Viewer)>,
    /// Created at the first join; holds this connection's stream slot.
    sub: Option<Subscription>,
    mailbox: Mailbox,
    /// The receiving end of `mailbox`.
    inbox: Inbox,
    /// Boards whose room this connection is in.
    rooms: Vec<String>,
    /// board → when its typing indicator expires.
    typing: HashMap<String, Instant>,
    /// board → latest unsent cursor position.
    cursors: HashMap<String, (f64, f64)>,
    next_cursor_at: Instant,
    /// Token bucket for incoming frames.
    tokens: f64,
    refilled_at: Instant,
    last_heard: Instant,
}

/// Why the select loop woke.
enum Wake {
    Frame(Option<Result<Message, axum::Error>>),
    /// Room messages, already moved to the outgoing frames.
    Mail,
    Board(crate::core::Result<Option<StreamItem>>),
    Heartbeat,
    TypingExpired,
    CursorDue,
}

/// How a step ends the connection, if it does.
type Step = Result<(), (u16, String)>;

impl Connection {
    fn new(s: AppState, id: ConnId, identity: Option<(Actor, Viewer)>) -> Self {
        let (mailbox, inbox) = Mailbox::new(MAILBOX_FRAMES);
        let now = Instant::now();
        Connection {
            s,
            id,
            identity,
            sub: None,
            mailbox,
            inbox,
            rooms: Vec::new(),
            typing: HashMap::new(),
            cursors: HashMap::new(),
            next_cursor_at: now,
            tokens: RATE_BURST,
            refilled_at: now,
            last_heard: now,
        }
    }

    async fn run(self, socket: WebSocket) {
        let mut conn = self;
        let (mut sink, mut stream) = socket.split();
        let period = Duration::from_millis(conn.s.config.ws_ping_ms.max(1));
        let mut heartbeat = interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut out: Vec<Bytes> = Vec::new();
        if conn.identity.is_some() {
            out.push(conn.welcome());
        }
        let end = loop {
            if !out.is_empty() && send_all(&mut sink, &mut out).await.is_err() {
                break None;
            }
            if conn.mailbox.overflowed() {
                break Some((
                    CLOSE_TRY_AGAIN,
                    format!("too slow: room messages backed up; {}", conn.last_seqs()),
                ));
            }
            let typing_due = conn.typing.values().min().copied();
            let cursor_due = (!conn.cursors.is_empty()).then_some(conn.next_cursor_at);
            let following = conn.sub.as_ref().is_some_and(|s| !s.is_empty());
            let wake = tokio::select! {
                biased;
                frame = stream.next() => Wake::Frame(frame),
                () = conn.inbox.recv_all(&mut out) => Wake::Mail,
                item = next_item(&mut conn.sub), if following => Wake::Board(item),
                _ = heartbeat.tick() => Wake::Heartbeat,
                _ = sleep_until(typing_due.unwrap_or_else(Instant::now)), if typing_due.is_some() => Wake::TypingExpired,
                _ = sleep_until(cursor_due.unwrap_or_else(Instant::now)), if cursor_due.is_some() => Wake::CursorDue,
            };
            let step = match wake {
                Wake::Frame(None) => break None,
                Wake::Frame(Some(Err(e))) => {
                    let text = e.to_string();
                    if text.contains("too long") || text.contains("Space limit") {
                        break Some((CLOSE_TOO_BIG, format!("frames are limited to {MAX_FRAME_BYTES} bytes")));
                    }
                    break None;
                }
                // Boxed: handling a frame can run any core operation, a large future
                // that an idle connection should not carry room for.
                Wake::Frame(Some(Ok(message))) => Box::pin(conn.on_frame(message, &mut out)).await,
                Wake::Mail => Ok(()),
                Wake::Board(item) => {
                    let mut step = conn.on_board_item(item, &mut out);
                    // Whatever else is already waiting goes out in the same write.
                    while step.is_ok() && out.len() < BATCH {
                        let Some(item) = conn.sub.as_mut().and_then(Subscription::ready) else {
                            break;
                        };
                        step = conn.on_board_item(item, &mut out);
                    }
                    step
                }
                Wake::Heartbeat => {
                    if conn.last_heard.elapsed() > period * 2 {
                        break None;
                    }
                    if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                        break None;
                    }
                    Ok(())
                }
                Wake::TypingExpired => {
                    conn.expire_typing();
                    Ok(())
                }
                Wake::CursorDue => {
                    conn.flush_cursors();
                    Ok(())
                }
            };
            if let Err(close) = step {
                break Some(close);
            }
        };
        let _ = send_all(&mut sink, &mut out).await;
        conn.leave_all();
        if let Some((code, reason)) = end {
            let reason: String = reason.chars().take(120).collect();
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from(reason),
            };
            if sink.send(Message::Close(Some(frame))).await.is_ok() {
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
async fn send_all(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    out: &mut Vec<Bytes>,
) -> Result<(), axum::Error> {
    for text in out.drain(..) {
        sink.feed(text_message(text)).await?;
    }
    sink.flush().await
}

fn text_message(text: Bytes) -> Message {
    // Every frame is serialized JSON, so valid UTF-8.
    Message::Text(Utf8Bytes::try_from(text).unwrap_or_else(|_| Utf8Bytes::from_static("{}")))
}

impl Connection {
    fn welcome(&self) -> Bytes {
        let viewer = self.identity.as_ref().map(|(_, v)| v.clone()).unwrap_or_default();
        frame(Out::Welcome(Welcome {
            user_id: viewer.user_id,
            name: viewer.name,
            color: viewer.color,
            connection_id: self.id.to_string(),
        }))
    }

    fn last_seqs(&self) -> String {
        let positions = self.sub.as_ref().map(|s| s.positions()).unwrap_or_default();
        let seqs: Vec<String> = positions.iter().map(|p| format!("{}:{}", p.board_id, p.seq)).collect();
        format!("last delivered seq {}", seqs.join(","))
    }

    async fn on_frame(&mut self, message: Message, out: &mut Vec<Bytes>) -> Step {
        self.last_heard = Instant::now();
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(_) => {
                out.push(error_frame(
                    "",
                    &Error::invalid("frame", "binary frames are not supported; send JSON text"),
                ));
                return self.count_frame();
            }
            // Pongs only prove liveness; pings are answered by the library.
            Message::Ping(_) | Message::Pong(_) => return Ok(()),
            Message::Close(_) => return Err((1000, String::new())),
        };
        self.count_frame()?;
        let value: serde_json::Value = match serde_json::from_str(text.as_str()) {
            Ok(v) => v,
            Err(e) => {
                out.push(frame(Out::Error(ErrorFrame {
                    code: "invalid_json".into(),
                    message: format!("Invalid JSON: {e}"),
                    error: "Invalid JSON".into(),
                    ..Default::default()
                })));
                return Ok(());
            }
        };
        let request_id = value
            .get("requestId")
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        let raw = value.clone();
        match serde_path_to_error::deserialize::<_, In>(value) {
            Ok(message) => {
                if let Err(e) = self.handle(message, out).await {
                    out.push(error_frame(&request_id, &e));
                }
            }
            Err(e) => out.push(error_frame(&request_id, &message_error(&raw, e))),
        }
        Ok(())
    }

    /// The token bucket: more than `RATE_PER_SEC` frames a second, sustained, closes
    /// the connection with 1008.
    fn count_frame(&mut self) -> Step {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled_at).as_secs_f64() * RATE_PER_SEC;
        self.tokens = (self.tokens + earned).min(RATE_BURST);
        self.refilled_at = now;
        if self.tokens < 1.0 {
            return Err((
                CLOSE_POLICY,
                format!("too many messages: at most {RATE_PER_SEC} per second"),
            ));
        }
        self.tokens -= 1.0;
        Ok(())
    }

    async fn handle(&mut self, message: In, out: &mut Vec<Bytes>) -> crate::core::Result<()> {
        if let In::Auth(auth) = message {
            let actor = self.s.auth.actor(Some(&auth.token)).await?;
            // A new identity starts clean: its access to each board is checked when
            // it joins, never inherited from the previous one.
            self.leave_all();
            self.sub = None;
            self.identity = Some(identity_of(actor));
            out.push(self.welcome());
            return Ok(());
        }
        if let In::Ping(_) = message {
            out.push(frame(Out::Pong(Pong {})));
            return Ok(());
        }
        let Some((actor, viewer)) = self.identity.clone() else {
            return Err(Error::Unauthenticated(
                "send {\"type\":\"auth\",\"token\":\"…\"} first".into(),
            ));
        };
        let core = self.s.core.clone();
        match message {
            In::Auth(_) | In::Ping(_) => unreachable!("handled above"),
            In::Join(join) => {
                let resume = join.after_seq.map_or(Resume::Live, Resume::After);
                self.follow(&actor, &join.board_id, resume).await?;
                self.enter_room(&join.board_id, out);
            }
            In::Resume(resume) => {
                self.require_room(&resume.board_id)?;
                self.follow(&actor, &resume.board_id, Resume::After(resume.after_seq))
                    .await?;
                self.enter_room(&resume.board_id, out);
            }
            In::Leave(leave) => {
                self.require_room(&leave.board_id)?;
                self.leave_room(&leave.board_id);
            }
            In::Typing(typing) => {
                self.require_room(&typing.board_id)?;
                let was_typing = self
                    .typing
                    .insert(typing.board_id.clone(), Instant::now() + TYPING_TTL)
                    .is_some();
                if !was_typing || !typing.task_id.is_empty() {
                    let text = frame(Out::UserTyping(UserTyping {
                        board_id: typing.board_id.clone(),
                        user_id: viewer.user_id.clone(),
                        name: viewer.name.clone(),
                        task_id: typing.task_id,
                    }));
                    self.s
                        .presence
                        .broadcast(&typing.board_id, Some(&viewer.user_id), &text);
                }
            }
            In::StopTyping(stop) => {
                self.require_room(&stop.board_id)?;
                self.stop_typing(&stop.board_id);
            }
            In::Cursor(cursor) => {
                self.require_room(&cursor.board_id)?;
                self.cursors.insert(cursor.board_id, (cursor.x, cursor.y));
                if Instant::now() >= self.next_cursor_at {
                    self.flush_cursors();
                }
            }
            In::CreateTask(req) => {
                let request_id = req.request_id.clone();
                let r = core.create_task(&actor, req).await?;
                out.push(ack(request_id, r.task, r.seq));
            }
            In::UpdateTask(req) => {
                let request_id = req.request_id.clone();
                let r = core.update_task(&actor, req).await?;
                out.push(ack(request_id, r.task, r.seq));
            }
            In::MoveTask(req) => {
                let request_id = req.request_id.clone();
                let r = core.move_task(&actor, req).await?;
                out.push(ack(request_id, r.task, r.seq));
            }
            In::DeleteTask(req) => {
                let request_id = req.request_id.clone();
                let r = core.delete_task(&actor, req).await?;
                out.push(ack(request_id, None, r.seq));
            }
        }
        Ok(())
    }

    async fn follow(&mut self, actor: &Actor, board_id: &str, resume: Resume) -> crate::core::Result<()> {
        let core = self.s.core.clone();
        if self.sub.is_none() {
            self.sub = Some(core.open_stream(actor)?);
        }
        let sub = self.sub.as_mut().expect("just opened");
        core.follow(sub, actor, board_id, resume).await?;
        Ok(())
    }

    fn require_room(&self, board_id: &str) -> crate::core::Result<()> {
        if self.rooms.iter().any(|r| r == board_id) {
            Ok(())
        } else {
            Err(Error::invalid(
                "boardId",
                format!("boardId `{board_id}`: join the board first"),
            ))
        }
    }

    /// Joins the room (once) and sends the room's viewers.
    fn enter_room(&mut self, board_id: &str, out: &mut Vec<Bytes>) {
        let Some((_, viewer)) = self.identity.clone() else {
            return;
        };
        let viewers = self.s.presence.join(board_id, self.id, viewer, self.mailbox.clone());
        if !self.rooms.iter().any(|r| r == board_id) {
            self.rooms.push(board_id.to_owned());
        }
        out.push(frame(Out::Presence(Presence {
            board_id: board_id.to_owned(),
            viewers,
        })));
    }

    fn leave_room(&mut self, board_id: &str) {
        self.stop_typing(board_id);
        self.cursors.remove(board_id);
        self.s.presence.leave(board_id, self.id);
        self.rooms.retain(|r| r != board_id);
        if let Some(sub) = self.sub.as_mut() {
            sub.unfollow(board_id);
        }
    }

    fn leave_all(&mut self) {
        for board_id in std::mem::take(&mut self.rooms) {
            self.stop_typing(&board_id);
            self.s.presence.leave(&board_id, self.id);
        }
    }

    fn stop_typing(&mut self, board_id: &str) {
        if self.typing.remove(board_id).is_some() {
            self.broadcast_stopped(board_id);
        }
    }

    fn broadcast_stopped(&self, board_id: &str) {
        let Some((_, viewer)) = &self.identity else { return };
        let text = frame(Out::UserStoppedTyping(UserStoppedTyping {
            board_id: board_id.to_owned(),
            user_id: viewer.user_id.clone(),
        }));
        self.s.presence.broadcast(board_id, Some(&viewer.user_id), &text);
    }

    fn expire_typing(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .typing
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(b, _)| b.clone())
            .collect();
        for board_id in expired {
            self.stop_typing(&board_id);
        }
    }

    /// Sends the latest cursor of each board to the others (never back to this user).
    fn flush_cursors(&mut self) {
        let Some((_, viewer)) = self.identity.clone() else {
            return;
        };
        for (board_id, (x, y)) in self.cursors.drain() {
            let text = frame(Out::Cursor(CursorMoved {
                board_id: board_id.clone(),
                user_id: viewer.user_id.clone(),
                x,
                y,
                color: viewer.color.clone(),
            }));
            self.s.presence.broadcast(&board_id, Some(&viewer.user_id), &text);
        }
        self.next_cursor_at = Instant::now() + CURSOR_INTERVAL;
    }

    fn on_board_item(&mut self, item: crate::core::Result<Option<StreamItem>>, out: &mut Vec<Bytes>) -> Step {
        match item {
            Ok(Some(StreamItem::Event(event))) => out.push(event.json.clone()),
            Ok(Some(StreamItem::Reset(reset))) => out.push(notice(Notice::Reset(reset))),
            Ok(Some(StreamItem::Lagged(reset))) => {
                out.push(notice(Notice::Reset(reset.clone())));
                return Err((CLOSE_TRY_AGAIN, format!("too slow: {}", self.last_seqs())));
            }
            Ok(Some(StreamItem::Snapshot(_))) => {}
            Ok(None) => return Err((CLOSE_GOING_AWAY, "server shutting down".into())),
            Err(e) => {
                tracing::error!(error = %e, "WebSocket board stream failed");
                return Err((CLOSE_INTERNAL, "internal error".into()));
            }
        }
        Ok(())
    }
}

/// The error for a message that does not fit its type, naming the field. Inside an
/// internally tagged enum serde loses the field path, so on failure the payload is
/// parsed again as its own message type to find it.
fn message_error(raw: &serde_json::Value, err: serde_path_to_error::Error<serde_json::Error>) -> Error {
    use crate::proto::v1::*;
    fn locate<T: serde::de::DeserializeOwned>(payload: serde_json::Value) -> Option<Error> {
        let e = serde_path_to_error::deserialize::<_, T>(payload).err()?;
        let path = e.path().to_string();
        (path != ".").then(|| Error::invalid(&path, format!("invalid message at `{path}`: {}", e.into_inner())))
    }
    let mut payload = raw.clone();
    let kind = payload
        .as_object_mut()
        .and_then(|o| o.remove("type"))
        .and_then(|t| t.as_str().map(str::to_owned));
    let located = match kind.as_deref() {
        Some("auth") => locate::<Auth>(payload),
        Some("join") => locate::<Join>(payload),
        Some("leave") => locate::<Leave>(payload),
        Some("typing") => locate::<Typing>(payload),
        Some("stop_typing") => locate::<StopTyping>(payload),
        Some("cursor") => locate::<CursorMove>(payload),
        Some("resume") => locate::<Resume>(payload),
        Some("create_task") => locate::<CreateTaskRequest>(payload),
        Some("update_task") => locate::<UpdateTaskRequest>(payload),
        Some("move_task") => locate::<MoveTaskRequest>(payload),
        Some("delete_task") => locate::<DeleteTaskRequest>(payload),
        _ => None,
    };
    located.unwrap_or_else(|| Error::InvalidArgument {
        field: None,
        message: format!("invalid message: {}", err.into_inner()),
    })
}

fn notice(notice: Notice) -> Bytes {
    serde_json::to_vec(&StreamNotice { notice: Some(notice) })
        .expect("proto types serialize")
        .into()
}

fn ack(request_id: String, task: Option<crate::proto::v1::Task>, seq: u64) -> Bytes {
    frame(Out::Ack(Ack { request_id, task, seq }))
}

fn error_frame(request_id: &str, err: &Error) -> Bytes {
    if let Error::Internal(source) = err {
        tracing::error!(error = %source, "internal error");
    }
    frame(Out::Error(ErrorFrame {
        request_id: request_id.to_owned(),
        code: err.code().to_owned(),
        message: err.to_string(),
        field: err.field().unwrap_or_default().to_owned(),
        error: err.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_same_host_or_listed_or_absent() {
        assert!(check_origin(&headers(None, "localhost:3000"), &[]).is_ok());
        assert!(check_origin(&headers(Some("http://localhost:3000"), "localhost:3000"), &[]).is_ok());
        assert!(check_origin(&headers(Some("https://evil.example"), "localhost:3000"), &[]).is_err());
        let allowed = vec!["https://app.example".to_owned()];
        assert!(check_origin(&headers(Some("https://app.example"), "localhost:3000"), &allowed).is_ok());
    }
}
