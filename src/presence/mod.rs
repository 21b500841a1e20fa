//! Rooms and presence: which connections are in which board's room, who is viewing
//! (one viewer per user, however many tabs and instances), and delivery of room-wide
//! ephemeral messages (joins, leaves, typing, cursors) to every other member.
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

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

use crate::metrics::Metrics;
use crate::proto::v1::{UserJoined, UserLeft, Viewer, server_message::Message};
use crate::store::cluster::{Cluster, RoomKind};
use crate::wire::ws::frame;

pub use mailbox::{Inbox, Mailbox};

/// Identifies one WebSocket connection.
pub type ConnId = u64;

struct Member {
    viewer: Viewer,
    mailbox: Mailbox,
}

/// A board's room: this instance's connections, and the users other instances have.
#[derive(Default)]
struct Room {
    members: HashMap<ConnId, Member>,
    /// user id → the viewer and the other instances that have the user here. Always
    /// empty without a cluster.
    remote: HashMap<String, remote::Remote>,
}

impl Room {
    fn is_empty(&self) -> bool {
        self.members.is_empty() && self.remote.is_empty()
    }

    /// Whether the user is seen here, on this instance or another.
    fn sees(&self, user_id: &str) -> bool {
        has_local(&self.members, user_id) || self.remote.contains_key(user_id)
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
    pub fn new(cluster: Option<Arc<dyn Cluster>>, metrics: Arc<Metrics>) -> Arc<Self> {
        let Some(cluster) = cluster else {
            return Arc::new(Presence {
                metrics,
                ..Presence::default()
            });
        };
        let presence = Arc::new(Presence {
            link: Some(link::Link::new(cluster)),
            metrics,
            ..Presence::default()
        });
        link::start(&presence);
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
    /// instance. The other members hear `user_joined` when the user was seen nowhere.
    pub fn join(&self, board_id: &str, conn: ConnId, viewer: &Viewer, mailbox: Mailbox) -> Vec<Viewer> {
        let mut state = self.lock();
        let State { rooms, outbox, refresh } = &mut *state;
        let room = rooms.entry(board_id.to_owned()).or_default();
        let first_here = room.members.is_empty();
        let first = !has_local(&room.members, &viewer.user_id);
        let seen = !first || room.remote.contains_key(&viewer.user_id);
        let previous = room.members.insert(
            conn,
            Member {
                viewer: viewer.clone(),
                mailbox,
            },
        );
        let mut tell = false;
        if first && previous.is_none() {
            if !seen {
                send_all(&room.members, Some(&viewer.user_id), &joined(board_id, viewer));
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
        let out = viewers(room);
        self.metrics.presence_rooms(state.rooms.len());
        drop(state);
        if tell {
            self.wake_link();
        }
        out
    }

    /// Removes a connection from a room; when it was the user's last there and no
    /// other instance has the user, the others hear `user_left`. Returns whether the
    /// connection was in the room.
    pub fn leave(&self, board_id: &str, conn: ConnId) -> bool {
        let mut state = self.lock();
        let State { rooms, outbox, .. } = &mut *state;
        let Some(room) = rooms.get_mut(board_id) else {
            return false;
        };
        let Some(member) = room.members.remove(&conn) else {
            return false;
        };
        let user = &member.viewer;
        let mut tell = false;
        if !has_local(&room.members, &user.user_id) {
            if !room.remote.contains_key(&user.user_id) {
                send_all(&room.members, None, &left(board_id, &user.user_id, &user.name));
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

    fn wake_link(&self) {
        if let Some(link) = &self.link {
            link.wake();
        }
    }
}

fn has_local(members: &HashMap<ConnId, Member>, user_id: &str) -> bool {
    members.values().any(|m| m.viewer.user_id == user_id)
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
fn viewers(room: &Room) -> Vec<Viewer> {
    let mut out: Vec<Viewer> = Vec::new();
    for member in room.members.values() {
        if !out.iter().any(|v| v.user_id == member.viewer.user_id) {
            out.push(member.viewer.clone());
        }
    }
    for (user_id, remote) in &room.remote {
        if !has_local(&room.members, user_id) {
            out.push(remote.viewer.clone());
        }
    }
    out.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    out
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
mod tests {
    use super::*;

    pub(super) fn viewer(id: &str) -> Viewer {
        Viewer {
            user_id: id.into(),
            name: id.into(),
            color: color_of(id),
        }
    }

    pub(super) fn text(rx: &mut Inbox) -> Option<String> {
        let mut out = Vec::new();
        rx.try_recv_all(&mut out);
        assert!(out.len() <= 1, "one message at a time here: {out:?}");
        out.pop().map(|b| String::from_utf8(b.to_vec()).unwrap())
    }

    #[test]
    fn presence_is_per_user_and_leaves_with_the_last_connection() {
        let p = Presence::default();
        let (a1, mut a1_rx) = Mailbox::new(8);
        let (a2, mut a2_rx) = Mailbox::new(8);
        let (b, mut b_rx) = Mailbox::new(8);
        p.join("board", 1, &viewer("alice"), a1);
        let seen = p.join("board", 2, &viewer("bob"), b);
        assert_eq!(
            seen.iter().map(|v| v.user_id.as_str()).collect::<Vec<_>>(),
            ["alice", "bob"]
        );
        assert!(text(&mut a1_rx).unwrap().contains("\"user_joined\""));
        // alice's second tab: no second user_joined, still two viewers.
        assert_eq!(p.join("board", 3, &viewer("alice"), a2).len(), 2);
        assert_eq!(text(&mut b_rx), None);
        p.leave("board", 1);
        assert_eq!(text(&mut b_rx), None, "alice still has a tab open");
        p.leave("board", 3);
        assert!(text(&mut b_rx).unwrap().contains("\"user_left\""));
        assert_eq!(viewers(&p.lock().rooms["board"]).len(), 1);
        assert_eq!(text(&mut a2_rx), None);
        assert!(p.lock().outbox.is_empty(), "without a cluster nothing is queued for it");
    }

    #[test]
    fn a_full_mailbox_marks_its_owner_overflowed() {
        let p = Presence::default();
        let (slow, _rx) = Mailbox::new(1);
        p.join("board", 1, &viewer("slow"), slow.clone());
        let (_fast, _fast_rx) = Mailbox::new(8);
        p.broadcast("board", None, &Bytes::from_static(b"{}"));
        assert!(!slow.overflowed());
        p.broadcast("board", None, &Bytes::from_static(b"{}"));
        assert!(slow.overflowed());
    }

    #[test]
    fn colors_are_stable_per_user() {
        assert_eq!(color_of("alice"), color_of("alice"));
        assert!(color_of("bob").starts_with('#'));
    }
}
