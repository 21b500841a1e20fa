//! Rooms and presence: which connections are in which board's room, who is viewing
//! (one viewer per user, however many tabs), and delivery of room-wide ephemeral
//! messages (joins, leaves, typing, cursors) to every other member.
//!
//! Each member connection has a bounded mailbox. A message is serialized once (by
//! `crate::wire::ws`) and its bytes shared by every member; a member whose mailbox is full is marked overflowed
//! and its connection closes itself (1013) instead of slowing the room down.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::proto::v1::{UserJoined, UserLeft, Viewer, server_message::Message};
use crate::wire::ws::frame;

/// Identifies one WebSocket connection.
pub type ConnId = u64;

/// The sending side of a connection's bounded inbox for room messages (JSON text
/// frames). A plain queue rather than a channel: a channel allocates its first block
/// of slots up front, and most connections in a large room idle with nothing queued.
#[derive(Clone)]
pub struct Mailbox(Arc<Shared>);

/// The receiving side, owned by the connection.
pub struct Inbox(Arc<Shared>);

struct Shared {
    queue: Mutex<VecDeque<Bytes>>,
    capacity: usize,
    notify: Notify,
    /// Set when a message did not fit: the connection is too slow and closes itself.
    overflowed: AtomicBool,
}

impl Mailbox {
    pub fn new(capacity: usize) -> (Mailbox, Inbox) {
        let shared = Arc::new(Shared {
            queue: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            notify: Notify::new(),
            overflowed: AtomicBool::new(false),
        });
        (Mailbox(shared.clone()), Inbox(shared))
    }

    pub fn overflowed(&self) -> bool {
        self.0.overflowed.load(Ordering::Relaxed)
    }

    fn deliver(&self, frame: &Bytes) {
        let mut queue = self.0.queue.lock().expect("mailbox lock");
        if queue.len() >= self.0.capacity {
            self.0.overflowed.store(true, Ordering::Relaxed);
            return;
        }
        queue.push_back(frame.clone());
        drop(queue);
        self.0.notify.notify_one();
    }
}

impl Inbox {
    /// Waits until at least one message is queued, then moves every queued message
    /// to `out` (in order). Cancel-safe: nothing is taken until it is handed over.
    pub async fn recv_all(&self, out: &mut Vec<Bytes>) {
        loop {
            if self.try_recv_all(out) {
                return;
            }
            self.0.notify.notified().await;
        }
    }

    /// Moves every queued message to `out`; whether there was any.
    pub fn try_recv_all(&self, out: &mut Vec<Bytes>) -> bool {
        let mut queue = self.0.queue.lock().expect("mailbox lock");
        if queue.is_empty() {
            return false;
        }
        out.extend(queue.drain(..));
        // A burst's worth of room is not kept for a connection that idles after it.
        if queue.capacity() > 16 {
            queue.shrink_to_fit();
        }
        true
    }
}

struct Member {
    viewer: Viewer,
    mailbox: Mailbox,
}

#[derive(Default)]
pub struct Presence {
    rooms: Mutex<HashMap<String, HashMap<ConnId, Member>>>,
    next_conn: AtomicU64,
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
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Adds a connection to a board's room and returns the room's viewers. The other
    /// members hear `user_joined` when this is the user's first connection there.
    pub fn join(&self, board_id: &str, conn: ConnId, viewer: &Viewer, mailbox: Mailbox) -> Vec<Viewer> {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let room = rooms.entry(board_id.to_owned()).or_default();
        let first = !room.values().any(|m| m.viewer.user_id == viewer.user_id);
        let previous = room.insert(
            conn,
            Member {
                viewer: viewer.clone(),
                mailbox,
            },
        );
        if first && previous.is_none() {
            let joined = frame(Message::UserJoined(UserJoined {
                board_id: board_id.to_owned(),
                user_id: viewer.user_id.clone(),
                name: viewer.name.clone(),
                color: viewer.color.clone(),
            }));
            send_all(room, Some(&viewer.user_id), &joined);
        }
        viewers(room)
    }

    /// Removes a connection from a room; when it was the user's last there, the others
    /// hear `user_left`. Returns whether the connection was in the room.
    pub fn leave(&self, board_id: &str, conn: ConnId) -> bool {
        let mut rooms = self.rooms.lock().expect("presence lock");
        let Some(room) = rooms.get_mut(board_id) else {
            return false;
        };
        let Some(member) = room.remove(&conn) else { return false };
        if !room.values().any(|m| m.viewer.user_id == member.viewer.user_id) {
            let left = frame(Message::UserLeft(UserLeft {
                board_id: board_id.to_owned(),
                user_id: member.viewer.user_id.clone(),
                name: member.viewer.name.clone(),
            }));
            send_all(room, None, &left);
        }
        if room.is_empty() {
            rooms.remove(board_id);
        }
        true
    }

    /// Sends a frame to every member of a room except the connections of `except_user`.
    pub fn broadcast(&self, board_id: &str, except_user: Option<&str>, frame: &Bytes) {
        let rooms = self.rooms.lock().expect("presence lock");
        if let Some(room) = rooms.get(board_id) {
            send_all(room, except_user, frame);
        }
    }
}

/// One entry per user, in user id order.
fn viewers(room: &HashMap<ConnId, Member>) -> Vec<Viewer> {
    let mut out: Vec<Viewer> = Vec::new();
    for member in room.values() {
        if !out.iter().any(|v| v.user_id == member.viewer.user_id) {
            out.push(member.viewer.clone());
        }
    }
    out.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    out
}

fn send_all(room: &HashMap<ConnId, Member>, except_user: Option<&str>, frame: &Bytes) {
    for member in room.values() {
        if Some(member.viewer.user_id.as_str()) == except_user {
            continue;
        }
        member.mailbox.deliver(frame);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(id: &str) -> Viewer {
        Viewer {
            user_id: id.into(),
            name: id.into(),
            color: color_of(id),
        }
    }

    fn text(rx: &mut Inbox) -> Option<String> {
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
        assert_eq!(viewers(&p.rooms.lock().unwrap()["board"]).len(), 1);
        assert_eq!(text(&mut a2_rx), None);
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
