//! Hints and room signals between instances, over PostgreSQL's LISTEN/NOTIFY.
//!
//! The [`Announcer`] sends: `announce` and `send_room` only queue (a commit never waits
//! for another instance), and a task of its own drains the queue and sends it with
//! `pg_notify` on a dedicated connection, never inside a business transaction: a
//! NOTIFY takes a lock at commit that every notifying transaction of the cluster
//! queues for, which would serialize unrelated boards' commits. Hints coalesce per
//! board (only the highest seq matters: a hint says "read the log up to here"), and
//! many fit one payload. The [`listen`] task receives on a connection of its own and
//! forwards what other instances sent; after losing that connection it says so
//! (`Reconnected`), because whatever was sent meanwhile is gone.
//!
//! Everything here may be lost (a full queue, a broken connection): the feed's sweep
//! reads the log anyway, and room signals are ephemeral.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgListener, PgNotification, PgPoolOptions};
use sqlx::{Connection, PgConnection};
use tokio::sync::{Notify, mpsc};

use crate::proto::v1::Viewer;
use crate::store::Result;
use crate::store::cluster::{Hint, RoomKind, RoomSignal};

/// The channel hints travel on.
pub const HINTS: &str = "boardcast_hints";
/// The channel room signals travel on.
pub const ROOMS: &str = "boardcast_rooms";
/// The longest payload PostgreSQL accepts (it refuses 8000 bytes or more).
pub const MAX_PAYLOAD: usize = 7_999;

/// Boards whose hint may wait to be sent; past it a hint is dropped (the sweep reads
/// that board's log within one interval anyway).
const MAX_QUEUED_HINTS: usize = 65_536;
/// Room signals that may wait to be sent; past it they are dropped (ephemeral).
const MAX_QUEUED_ROOMS: usize = 4_096;
/// Hints and room signals received but not yet taken by the feed / presence; past it
/// they are dropped rather than letting PostgreSQL's notification queue (shared by
/// the whole cluster) grow behind a slow reader.
pub const RECEIVED: usize = 4_096;
/// Longest wait between two attempts to reach the database after losing it.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
/// How long a `Reconnected` may wait for room in a full channel: it matters more than
/// any one hint (it makes the receiver compare everything), but never blocks for ever.
const RECONNECTED_WAIT: Duration = Duration::from_secs(1);

/// A payload's content, or why it cannot be read (or sent).
type Parsed<T> = std::result::Result<T, String>;

/// What waits to be sent.
#[derive(Default)]
struct Outbox {
    /// The highest seq announced per board since the last send.
    hints: HashMap<String, u64>,
    /// Encoded room payloads, in send order.
    rooms: VecDeque<String>,
    /// Numbers this instance's room payloads: PostgreSQL delivers only one of several
    /// identical payloads sent in one transaction, and a batch may hold the same
    /// signal twice (joined, left, joined again).
    room_count: u64,
}

/// The sending half: queues, and drains the queue from its own task ([`Self::run`]).
pub struct Announcer {
    instance_id: String,
    outbox: Mutex<Outbox>,
    wake: Notify,
}

impl Announcer {
    pub fn new(instance_id: String) -> Self {
        Announcer {
            instance_id,
            outbox: Mutex::default(),
            wake: Notify::new(),
        }
    }

    /// Queues a hint; never waits.
    pub fn announce(&self, board_id: &str, seq: u64) {
        let mut outbox = self.outbox.lock().expect("outbox lock");
        if let Some(known) = outbox.hints.get_mut(board_id) {
            *known = (*known).max(seq);
        } else if outbox.hints.len() < MAX_QUEUED_HINTS {
            outbox.hints.insert(board_id.to_owned(), seq);
        } else {
            tracing::debug!(board = board_id, seq, "hint queue full: hint dropped");
            return;
        }
        drop(outbox);
        self.wake.notify_one();
    }

    /// Queues a room signal; never waits. A signal too large for one payload, or one
    /// that cannot travel (`Reconnected` is local news), is dropped.
    pub fn send_room(&self, board_id: &str, kind: &RoomKind) {
        let mut outbox = self.outbox.lock().expect("outbox lock");
        outbox.room_count += 1;
        let payload = match encode_room(&self.instance_id, outbox.room_count, board_id, kind) {
            Ok(payload) => payload,
            Err(why) => {
                tracing::debug!(board = board_id, why, "room signal dropped");
                return;
            }
        };
        if outbox.rooms.len() >= MAX_QUEUED_ROOMS {
            tracing::debug!(board = board_id, "room queue full: room signal dropped");
            return;
        }
        outbox.rooms.push_back(payload);
        drop(outbox);
        self.wake.notify_one();
    }

    /// Everything queued, as (channel, payload) pairs: hints first, then rooms.
    fn take(&self) -> Vec<(&'static str, String)> {
        let mut outbox = self.outbox.lock().expect("outbox lock");
        let hints = std::mem::take(&mut outbox.hints);
        let rooms = std::mem::take(&mut outbox.rooms);
        drop(outbox);
        let mut batch: Vec<_> = hint_payloads(&self.instance_id, hints)
            .into_iter()
            .map(|p| (HINTS, p))
            .collect();
        batch.extend(rooms.into_iter().map(|p| (ROOMS, p)));
        batch
    }

    /// The sending task: waits for something queued, sends all of it in one round
    /// trip, repeats. What accumulates during a send goes in the next batch, so
    /// batches grow with the load and add no delay when idle. A batch that cannot be
    /// sent is dropped; the connection is opened again (with backoff) for the next.
    pub async fn run(&self, options: PgConnectOptions, first: PgConnection) {
        let mut conn = Some(first);
        let mut outage = Outage::new("notify");
        loop {
            self.wake.notified().await;
            let batch = self.take();
            if batch.is_empty() {
                continue;
            }
            if conn.is_none() {
                match PgConnection::connect_with(&options).await {
                    Ok(c) => conn = Some(c),
                    Err(e) => {
                        outage.failed(&e);
                        tokio::time::sleep(outage.backoff()).await;
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            match send(c, &batch).await {
                Ok(()) => outage.recovered(),
                Err(e) => {
                    outage.failed(&e);
                    conn = None;
                }
            }
        }
    }
}

/// Sends every payload in one statement (one round trip, one small transaction).
async fn send(conn: &mut PgConnection, batch: &[(&'static str, String)]) -> Result<()> {
    let (channels, payloads): (Vec<&str>, Vec<&str>) = batch.iter().map(|(c, p)| (*c, p.as_str())).unzip();
    sqlx::query("SELECT pg_notify(c, p) FROM unnest($1::text[], $2::text[]) AS t(c, p)")
        .bind(channels)
        .bind(payloads)
        .execute(conn)
        .await?;
    Ok(())
}

/// A connection's outage, logged at warn once (not once per attempt), with a backoff
/// that doubles while it lasts.
struct Outage {
    what: &'static str,
    down: bool,
    backoff: Duration,
}

impl Outage {
    fn new(what: &'static str) -> Self {
        Outage {
            what,
            down: false,
            backoff: FIRST_BACKOFF,
        }
    }

    fn failed(&mut self, error: &dyn std::fmt::Display) {
        if !self.down {
            self.down = true;
            tracing::warn!(connection = self.what, %error, "lost the cluster connection; retrying (hints and room signals meanwhile are lost)");
        }
    }

    /// How long to wait before the next attempt (doubles, up to [`MAX_BACKOFF`]).
    fn backoff(&mut self) -> Duration {
        let wait = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        wait
    }

    fn recovered(&mut self) {
        if self.down {
            tracing::info!(connection = self.what, "cluster connection back");
        }
        self.down = false;
        self.backoff = FIRST_BACKOFF;
    }
}

/// Escapes what separates a hint payload's fields (tab, newline) and what PostgreSQL
/// text cannot hold (NUL). Board ids are server-made today (`board-<uuid>`, the demo's
/// `board-1`), but the store takes any text, so nothing relies on that.
fn escape(board_id: &str, out: &mut String) {
    for c in board_id.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
}

fn unescape(raw: &str) -> Parsed<String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('0') => out.push('\0'),
            other => {
                return Err(format!(
                    "board id `{raw}` has a bad escape `\\{}`",
                    other.unwrap_or(' ')
                ));
            }
        }
    }
    Ok(out)
}

/// Hint payloads: `<instance id>\n` then one `<board id>\t<seq>\n` per board, as many
/// boards as fit under [`MAX_PAYLOAD`], then the next payload.
fn hint_payloads(instance_id: &str, hints: HashMap<String, u64>) -> Vec<String> {
    let header = format!("{instance_id}\n");
    let mut payloads = Vec::new();
    let mut current = header.clone();
    let mut line = String::new();
    for (board_id, seq) in hints {
        line.clear();
        escape(&board_id, &mut line);
        line.push('\t');
        line.push_str(&seq.to_string());
        line.push('\n');
        if header.len() + line.len() > MAX_PAYLOAD {
            tracing::debug!(board = board_id, "board id too long for a hint: left to the sweep");
            continue;
        }
        if current.len() + line.len() > MAX_PAYLOAD {
            payloads.push(std::mem::replace(&mut current, header.clone()));
        }
        current.push_str(&line);
    }
    if current.len() > header.len() {
        payloads.push(current);
    }
    payloads
}

/// A hint payload's sender and its (board, seq) pairs.
fn parse_hints(payload: &str) -> Parsed<(&str, Vec<(String, u64)>)> {
    let mut lines = payload.split('\n');
    let from = lines.next().filter(|f| !f.is_empty()).ok_or("no instance id")?;
    let mut hints = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (board, seq) = line
            .split_once('\t')
            .ok_or_else(|| format!("line `{line}` has no tab between board id and seq"))?;
        let seq = seq
            .parse()
            .map_err(|e| format!("line `{line}`: seq `{seq}` is not a number ({e})"))?;
        hints.push((unescape(board)?, seq));
    }
    Ok((from, hints))
}

/// A room signal as it travels (JSON).
#[derive(Serialize, Deserialize)]
struct RoomWire {
    from: String,
    /// The sender's count of room signals (see [`Outbox::room_count`]).
    n: u64,
    board: String,
    #[serde(flatten)]
    kind: KindWire,
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum KindWire {
    Joined {
        user_id: String,
        name: String,
        color: String,
    },
    Left {
        user_id: String,
        name: String,
    },
    Frame {
        except_user: Option<String>,
        frame: String,
    },
}

fn encode_room(from: &str, n: u64, board_id: &str, kind: &RoomKind) -> Parsed<String> {
    let kind = match kind {
        RoomKind::Joined(v) => KindWire::Joined {
            user_id: v.user_id.clone(),
            name: v.name.clone(),
            color: v.color.clone(),
        },
        RoomKind::Left { user_id, name } => KindWire::Left {
            user_id: user_id.clone(),
            name: name.clone(),
        },
        RoomKind::Frame { except_user, frame } => KindWire::Frame {
            except_user: except_user.clone(),
            frame: String::from_utf8(frame.to_vec()).map_err(|_| "the frame is not UTF-8 text".to_owned())?,
        },
        RoomKind::Reconnected => return Err("`Reconnected` is this instance's own news, not sent".into()),
    };
    let wire = RoomWire {
        from: from.to_owned(),
        n,
        board: board_id.to_owned(),
        kind,
    };
    let payload = serde_json::to_string(&wire).map_err(|e| e.to_string())?;
    if payload.len() > MAX_PAYLOAD {
        return Err(format!(
            "the payload is {} bytes; a notification holds at most {MAX_PAYLOAD}",
            payload.len()
        ));
    }
    Ok(payload)
}

fn parse_room(payload: &str) -> Parsed<RoomSignal> {
    let wire: RoomWire = serde_json::from_str(payload).map_err(|e| e.to_string())?;
    let kind = match wire.kind {
        KindWire::Joined { user_id, name, color } => RoomKind::Joined(Viewer { user_id, name, color }),
        KindWire::Left { user_id, name } => RoomKind::Left { user_id, name },
        KindWire::Frame { except_user, frame } => RoomKind::Frame {
            except_user,
            frame: frame.into(),
        },
    };
    Ok(RoomSignal {
        from: wire.from,
        board_id: wire.board,
        kind,
    })
}

/// A listener on both channels, on a connection of its own (a pool of one, which
/// `PgListener` reconnects through).
pub async fn open_listener(options: &PgConnectOptions) -> Result<PgListener> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .min_connections(0)
        .max_lifetime(None)
        .idle_timeout(None)
        .acquire_timeout(MAX_BACKOFF)
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    listener.listen_all([HINTS, ROOMS]).await?;
    Ok(listener)
}

/// Where received signals go.
pub struct Inbox {
    pub instance_id: String,
    pub hints: mpsc::Sender<Hint>,
    pub rooms: mpsc::Sender<RoomSignal>,
    /// Counts the reconnections.
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

/// The listening task: forwards other instances' hints and room signals, skips this
/// instance's own, and after a lost connection (reopened with backoff) emits
/// `Reconnected` on both channels.
pub async fn listen(options: PgConnectOptions, first: PgListener, inbox: Inbox) {
    let mut listener = Some(first);
    let mut outage = Outage::new("listen");
    loop {
        let Some(l) = listener.as_mut() else {
            match open_listener(&options).await {
                Ok(l) => {
                    listener = Some(l);
                    outage.recovered();
                    inbox.reconnected().await;
                }
                Err(e) => {
                    outage.failed(&e);
                    tokio::time::sleep(outage.backoff()).await;
                }
            }
            continue;
        };
        match l.try_recv().await {
            Ok(Some(notification)) => inbox.dispatch(&notification),
            // Lost, and already connected again (eager reconnection).
            Ok(None) => {
                outage.failed(&"the listening connection closed");
                outage.recovered();
                inbox.reconnected().await;
            }
            // Lost, and not back: start over on a new connection.
            Err(e) => {
                outage.failed(&e);
                listener = None;
            }
        }
    }
}

impl Inbox {
    fn dispatch(&self, notification: &PgNotification) {
        let payload = notification.payload();
        match notification.channel() {
            HINTS => match parse_hints(payload) {
                Ok((from, _)) if from == self.instance_id => {}
                Ok((_, hints)) => {
                    for (board_id, seq) in hints {
                        if self.hints.try_send(Hint::Seq { board_id, seq }).is_err() {
                            tracing::debug!("hint channel full or closed: hint dropped (the sweep covers it)");
                        }
                    }
                }
                Err(why) => tracing::warn!(why, payload, "malformed hint payload skipped"),
            },
            ROOMS => match parse_room(payload) {
                Ok(signal) if signal.from == self.instance_id => {}
                Ok(signal) => {
                    if self.rooms.try_send(signal).is_err() {
                        tracing::debug!("room channel full or closed: room signal dropped");
                    }
                }
                Err(why) => tracing::warn!(why, payload, "malformed room payload skipped"),
            },
            other => tracing::debug!(channel = other, "notification on an unexpected channel skipped"),
        }
    }

    async fn reconnected(&self) {
        self.metrics.listen_reconnected();
        if let Err(e) = self.hints.send_timeout(Hint::Reconnected, RECONNECTED_WAIT).await {
            tracing::debug!(error = %e, "`Reconnected` hint not delivered");
        }
        let signal = RoomSignal {
            from: self.instance_id.clone(),
            board_id: String::new(),
            kind: RoomKind::Reconnected,
        };
        if let Err(e) = self.rooms.send_timeout(signal, RECONNECTED_WAIT).await {
            tracing::debug!(error = %e, "`Reconnected` room signal not delivered");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_payloads_round_trip_escapes_and_split_under_the_limit() {
        let mut hints = HashMap::new();
        hints.insert("board-1".to_owned(), 7);
        hints.insert("odd\tid\nwith \\ and \0".to_owned(), 3);
        for i in 0..400 {
            hints.insert(format!("board-{i:0>40}"), i);
        }
        let payloads = hint_payloads("me", hints.clone());
        assert!(payloads.len() >= 3, "about 20 kB of hints: {} payloads", payloads.len());
        let mut back = HashMap::new();
        for p in &payloads {
            assert!(p.len() <= MAX_PAYLOAD, "{} bytes", p.len());
            let (from, pairs) = parse_hints(p).unwrap();
            assert_eq!(from, "me");
            back.extend(pairs);
        }
        assert_eq!(back, hints);
    }

    #[test]
    fn a_board_id_too_long_for_any_payload_is_left_out() {
        let hints = HashMap::from([("x".repeat(MAX_PAYLOAD), 1), ("b".to_owned(), 2)]);
        let payloads = hint_payloads("me", hints);
        assert_eq!(payloads, ["me\nb\t2\n"]);
    }

    #[test]
    fn malformed_hint_payloads_are_errors_naming_the_problem() {
        assert!(parse_hints("").unwrap_err().contains("instance"));
        assert!(parse_hints("me\nboard 1").unwrap_err().contains("no tab"));
        assert!(parse_hints("me\nb\tx").unwrap_err().contains("not a number"));
        assert!(parse_hints("me\nb\\q\t1").unwrap_err().contains("bad escape"));
    }

    #[test]
    fn room_signals_round_trip_and_oversized_ones_are_refused() {
        let kinds = [
            RoomKind::Joined(Viewer {
                user_id: "u".into(),
                name: "Ann \"A\"".into(),
                color: "#fff".into(),
            }),
            RoomKind::Left {
                user_id: "u".into(),
                name: "Ann".into(),
            },
            RoomKind::Frame {
                except_user: Some("u".into()),
                frame: bytes::Bytes::from_static(br#"{"type":"typing"}"#),
            },
        ];
        for kind in kinds {
            let payload = encode_room("me", 1, "b", &kind).unwrap();
            let signal = parse_room(&payload).unwrap();
            assert_eq!((signal.from.as_str(), signal.board_id.as_str()), ("me", "b"));
            assert_eq!(signal.kind, kind);
        }
        let big = RoomKind::Frame {
            except_user: None,
            frame: "x".repeat(MAX_PAYLOAD).into(),
        };
        assert!(encode_room("me", 1, "b", &big).unwrap_err().contains("at most"));
        assert!(encode_room("me", 1, "b", &RoomKind::Reconnected).is_err());
        assert!(parse_room("{\"from\":1}").is_err());
    }
}
