//! Rooms and presence: which connections are in which board's room, who is viewing
//! (one viewer per user, however many tabs and instances), and delivery of room-wide
//! ephemeral messages (joins, leaves, typing, cursors) to every other member.
//!
//! Joins and leaves are not sent as they happen: a room keeps the latest change per
//! user and [`Presence::flush`] sends them every [`PRESENCE_INTERVAL`], one by one
//! when a member has a few to hear, else as one `presence` message listing the room
//! (the first [`PRESENCE_VIEWERS_LISTED`] viewers and the count). So N people joining
//! a room cost each member a bounded number of messages per interval rather than N,
//! and the N²/2 storm of a large room joining at once never forms. Room messages are
//! droppable: a member whose mailbox is full misses them (never its connection) and
//! hears the whole list again once it has room. Board events never go through here.
//!
//! A message is serialized once (by `crate::wire::ws`) and its bytes shared by every
//! member's bounded [`Mailbox`]. With a cluster (PostgreSQL), each room also knows the
//! viewers other instances have (`remote`), so `user_joined`/`user_left` go out once per
//! user across instances; `link` is the task that tells the cluster about this
//! instance's viewers and applies what the others say. Without one, none of that runs.
//!
//! - `mailbox`: a connection's bounded inbox;
//! - `remote`: the merge rules for what other instances say (signals, snapshots);
//! - `link`: the cluster task (lease, viewer writes, signals, reconciliation).

#[cfg(test)]
mod cluster_tests;
mod link;
mod mailbox;
mod remote;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use bytes::Bytes;
use tokio::time::MissedTickBehavior;

use crate::limits::{PRESENCE_CHANGES_ONE_BY_ONE, PRESENCE_INTERVAL, PRESENCE_VIEWERS_LISTED};
use crate::metrics::Metrics;
use crate::proto::v1::{Presence as ViewerList, UserJoined, UserLeft, Viewer, server_message::Message};
use crate::store::cluster::{Cluster, RoomKind};
use crate::wire::ws::frame;

pub use mailbox::{Inbox, Mailbox};

/// Identifies one WebSocket connection.
pub type ConnId = u64;

struct Member {
    viewer: Viewer,
    mailbox: Mailbox,
    /// The room's [`Room::changes`] when this member joined: the list it was given
    /// then has every change up to that one, so it hears only later ones.
    since: u64,
    /// A presence message did not fit in its mailbox: its list is sent whole next.
    resync: bool,
}

/// A join or leave not sent yet: the user's latest, numbered by [`Room::changes`].
struct Pending {
    at: u64,
    change: Change,
}

enum Change {
    Joined(Viewer),
    Left { name: String },
}

/// A board's room: this instance's connections, and the users other instances have.
#[derive(Default)]
struct Room {
    members: HashMap<ConnId, Member>,
    /// user id → the viewer and how many of `members` are the user's (a large room's
    /// joins, leaves and lists would otherwise scan every member).
    local: HashMap<String, (Viewer, usize)>,
    /// user id → the viewer and the other instances that have the user here. Always
    /// empty without a cluster.
    remote: HashMap<String, remote::Remote>,
    /// user id → the user's latest join or leave since the last flush.
    pending: HashMap<String, Pending>,
    /// Joins and leaves recorded so far (numbers them).
    changes: u64,
}

impl Room {
    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.remote.is_empty()
    }

    /// Whether the user is seen here, on this instance or another.
    fn sees(&self, user_id: &str) -> bool {
        self.has_local(user_id) || self.remote.contains_key(user_id)
    }

    /// Whether the user has a connection here on this instance.
    fn has_local(&self, user_id: &str) -> bool {
        self.local.contains_key(user_id)
    }

    fn add_member(&mut self, conn: ConnId, member: Member) {
        let user_id = member.viewer.user_id.clone();
        let viewer = member.viewer.clone();
        if self.members.insert(conn, member).is_none() {
            self.local.entry(user_id).or_insert((viewer, 0)).1 += 1;
        }
    }

    fn remove_member(&mut self, conn: ConnId) -> Option<Member> {
        let member = self.members.remove(&conn)?;
        if let Some((_, count)) = self.local.get_mut(&member.viewer.user_id) {
            *count -= 1;
            if *count == 0 {
                self.local.remove(&member.viewer.user_id);
            }
        }
        Some(member)
    }

    /// How many users view the room, here or elsewhere.
    fn viewer_count(&self) -> usize {
        self.local.len() + self.remote.keys().filter(|u| !self.local.contains_key(*u)).count()
    }
}

/// Records that a user came or went; the room's members hear it at the next flush.
/// A later change of the same user replaces an unsent one (a member told only the
/// latest ends with the same list).
fn announce(dirty: &mut HashSet<String>, board_id: &str, room: &mut Room, user_id: &str, change: Change) {
    room.changes += 1;
    room.pending.insert(
        user_id.to_owned(),
        Pending {
            at: room.changes,
            change,
        },
    );
    if !dirty.contains(board_id) {
        dirty.insert(board_id.to_owned());
    }
}

/// (board id, user id): the key of a viewer the cluster is told about.
type ViewerKey = (String, String);

#[derive(Default)]
struct State {
    rooms: HashMap<String, Room>,
    /// With a cluster: what it must have of this instance's viewers, by (board, user),
    /// `None` for "no longer here". Written under the same lock as the rooms, so the
    /// latest entry per key is the room's state; `link` applies it in its own time.
    outbox: HashMap<ViewerKey, Option<Viewer>>,
    /// With a cluster: boards that just got their first local member, whose remote
    /// viewers are read now rather than at the next reconciliation.
    refresh: Vec<String>,
    /// Rooms with changes to send or members to send the whole list to.
    dirty: HashSet<String>,
}

#[derive(Default)]
pub struct Presence {
    state: Mutex<State>,
    next_conn: AtomicU64,
    /// `None` for a single-process store: rooms are then local only.
    link: Option<link::Link>,
    /// Where the number of rooms is kept.
    metrics: Arc<Metrics>,
}

/// A stable color per user id, for avatars and cursors.
pub fn color_of(user_id: &str) -> String {
    const PALETTE: [&str; 10] = [
        "#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#f032e6", "#9a6324", "#800000", "#000075",
    ];
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = user_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let index = hash % PALETTE.len() as u64;
    PALETTE[usize::try_from(index).unwrap_or_default()].to_owned()
}

impl Presence {
    /// Rooms shared with the other instances of `cluster` (its task starts now, so
    /// this runs inside a Tokio runtime), or local rooms only with `None`.
    /// The flushing task starts now too, and ends when the rooms are dropped.
    pub fn new(cluster: Option<Arc<dyn Cluster>>, metrics: Arc<Metrics>) -> Arc<Self> {
        let Some(cluster) = cluster else {
            let presence = Arc::new(Presence {
                metrics,
                ..Presence::default()
            });
            start_flushing(Arc::downgrade(&presence));
            return presence;
        };
        let presence = Arc::new(Presence {
            link: Some(link::Link::new(cluster)),
            metrics,
            ..Presence::default()
        });
        link::start(&presence);
        start_flushing(Arc::downgrade(&presence));
        presence
    }

    /// On a clean shutdown: this instance's lease and viewers end now (the other
    /// instances hear its users leave) instead of at the lease's expiry.
    pub async fn leave_cluster(&self) {
        if let Some(link) = &self.link {
            link.stop().await;
        }
    }

    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("presence lock")
    }

    /// Adds a connection to a board's room and returns the room's viewers, on every
    /// instance. The other members hear the user join (at the next flush) when the
    /// user was seen nowhere.
    pub fn join(&self, board_id: &str, conn: ConnId, viewer: &Viewer, mailbox: Mailbox) -> ViewerList {
        let mut state = self.lock();
        let State {
            rooms,
            outbox,
            refresh,
            dirty,
        } = &mut *state;
        let room = rooms.entry(board_id.to_owned()).or_default();
        let first_here = room.members.is_empty();
        let first = !room.has_local(&viewer.user_id);
        let seen = !first || room.remote.contains_key(&viewer.user_id);
        let again = room.members.contains_key(&conn);
        room.add_member(
            conn,
            Member {
                viewer: viewer.clone(),
                mailbox,
                since: room.changes,
                resync: false,
            },
        );
        let mut tell = false;
        if first && !again {
            if !seen {
                announce(dirty, board_id, room, &viewer.user_id, Change::Joined(viewer.clone()));
            }
            // The cluster hears of the user's first local connection whatever the
            // other instances have: its row is this instance's.
            if self.link.is_some() {
                outbox.insert((board_id.to_owned(), viewer.user_id.clone()), Some(viewer.clone()));
                if first_here {
                    refresh.push(board_id.to_owned());
                }
                tell = true;
            }
        }
        let out = listing(board_id, room);
        self.metrics.presence_rooms(state.rooms.len());
        drop(state);
        if tell {
            self.wake_link();
        }
        out
    }

    /// Removes a connection from a room; when it was the user's last there and no
    /// other instance has the user, the others hear the user leave (at the next
    /// flush). Returns whether the connection was in the room.
    pub fn leave(&self, board_id: &str, conn: ConnId) -> bool {
        let mut state = self.lock();
        let State {
            rooms, outbox, dirty, ..
        } = &mut *state;
        let Some(room) = rooms.get_mut(board_id) else {
            return false;
        };
        let Some(member) = room.remove_member(conn) else {
            return false;
        };
        let user = &member.viewer;
        let mut tell = false;
        if !room.has_local(&user.user_id) {
            if !room.remote.contains_key(&user.user_id) {
                let name = user.name.clone();
                announce(dirty, board_id, room, &user.user_id, Change::Left { name });
            }
            if self.link.is_some() {
                outbox.insert((board_id.to_owned(), user.user_id.clone()), None);
                tell = true;
            }
        }
        if room.is_empty() {
            rooms.remove(board_id);
            self.metrics.presence_rooms(rooms.len());
        }
        drop(state);
        if tell {
            self.wake_link();
        }
        true
    }

    /// Sends a frame (typing, cursor) to every member of a room except the connections
    /// of `except_user`, on this instance and, when they have viewers there, the others.
    pub fn broadcast(&self, board_id: &str, except_user: Option<&str>, frame: &Bytes) {
        let state = self.lock();
        let Some(room) = state.rooms.get(board_id) else { return };
        send_all(&room.members, except_user, frame);
        let elsewhere = !room.remote.is_empty();
        drop(state);
        if let (true, Some(link)) = (elsewhere, &self.link) {
            link.send_room(
                board_id,
                RoomKind::Frame {
                    except_user: except_user.map(str::to_owned),
                    frame: frame.clone(),
                },
            );
        }
    }

    /// Sends every room's unsent joins and leaves to its members, and the whole list
    /// to members that missed some. Runs every [`PRESENCE_INTERVAL`].
    pub fn flush(&self) {
        let mut state = self.lock();
        let State { rooms, dirty, .. } = &mut *state;
        if dirty.is_empty() {
            return;
        }
        let mut again = Vec::new();
        for board_id in std::mem::take(dirty) {
            let Some(room) = rooms.get_mut(&board_id) else { continue };
            if flush_room(&board_id, room) {
                again.push(board_id);
            }
        }
        dirty.extend(again);
    }

    fn wake_link(&self) {
        if let Some(link) = &self.link {
            link.wake();
        }
    }
}

/// Flushes every [`PRESENCE_INTERVAL`] while the rooms exist.
fn start_flushing(presence: Weak<Presence>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(PRESENCE_INTERVAL);
        tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(presence) = presence.upgrade() else { return };
            presence.flush();
        }
    });
}

/// Sends a room's pending changes: to each member those after its `since`, one by one
/// up to [`PRESENCE_CHANGES_ONE_BY_ONE`], else the room's list. Returns whether some
/// member's mailbox was full (it gets the list at the next flush).
fn flush_room(board_id: &str, room: &mut Room) -> bool {
    let changes: Vec<(u64, Option<&str>, Bytes)> = room
        .pending
        .iter()
        .map(|(user_id, p)| {
            let (joiner, bytes) = match &p.change {
                Change::Joined(viewer) => (Some(user_id.as_str()), joined(board_id, viewer)),
                Change::Left { name } => (None, left(board_id, user_id, name)),
            };
            (p.at, joiner, bytes)
        })
        .collect();
    // A room too large to list whole is told by lists (and counts) only: a client
    // could not keep an exact list from single joins and leaves past the listed ones.
    let large = room.viewer_count() > PRESENCE_VIEWERS_LISTED;
    let whole = (large || changes.len() > PRESENCE_CHANGES_ONE_BY_ONE || room.members.values().any(|m| m.resync))
        .then(|| frame(Message::Presence(listing(board_id, room))));
    let mut missed = false;
    for member in room.members.values_mut() {
        // Never told of its own user's arrival.
        let own = Some(member.viewer.user_id.as_str());
        let since = member.since;
        let is_news = |(at, joiner, _): &&(u64, Option<&str>, Bytes)| *at > since && *joiner != own;
        let count = changes.iter().filter(is_news).count();
        if count == 0 && !member.resync {
            continue;
        }
        let delivered = match &whole {
            Some(list) if member.resync || large || count > PRESENCE_CHANGES_ONE_BY_ONE => member.mailbox.deliver(list),
            _ => changes
                .iter()
                .filter(is_news)
                .all(|(_, _, bytes)| member.mailbox.deliver(bytes)),
        };
        member.resync = !delivered;
        missed |= !delivered;
    }
    drop(changes);
    room.pending.clear();
    missed
}

/// The room's viewers as a joining or resyncing member gets them: the first
/// [`PRESENCE_VIEWERS_LISTED`] in user id order, and how many there are.
fn listing(board_id: &str, room: &Room) -> ViewerList {
    let all = sorted_viewers(room);
    ViewerList {
        board_id: board_id.to_owned(),
        viewer_count: u32::try_from(all.len()).unwrap_or(u32::MAX),
        viewers: all.into_iter().take(PRESENCE_VIEWERS_LISTED).cloned().collect(),
    }
}

fn joined(board_id: &str, viewer: &Viewer) -> Bytes {
    frame(Message::UserJoined(UserJoined {
        board_id: board_id.to_owned(),
        user_id: viewer.user_id.clone(),
        name: viewer.name.clone(),
        color: viewer.color.clone(),
    }))
}

fn left(board_id: &str, user_id: &str, name: &str) -> Bytes {
    frame(Message::UserLeft(UserLeft {
        board_id: board_id.to_owned(),
        user_id: user_id.to_owned(),
        name: name.to_owned(),
    }))
}

/// One entry per user (local or remote), in user id order.
#[cfg(test)]
fn viewers(room: &Room) -> Vec<Viewer> {
    sorted_viewers(room).into_iter().cloned().collect()
}

/// Every viewer of the room, local or remote, once each, in user id order.
fn sorted_viewers(room: &Room) -> Vec<&Viewer> {
    let local = room.local.values().map(|(viewer, _)| viewer);
    let remote = (room.remote.iter())
        .filter(|(user_id, _)| !room.has_local(user_id))
        .map(|(_, remote)| &remote.viewer);
    let mut all: Vec<&Viewer> = local.chain(remote).collect();
    all.sort_unstable_by(|a, b| a.user_id.cmp(&b.user_id));
    all
}

fn send_all(members: &HashMap<ConnId, Member>, except_user: Option<&str>, frame: &Bytes) {
    for member in members.values() {
        if Some(member.viewer.user_id.as_str()) == except_user {
            continue;
        }
        member.mailbox.deliver(frame);
    }
}

#[cfg(test)]
mod tests;
