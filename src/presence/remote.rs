//! What other instances say, merged into the rooms: a user is announced once however
//! many instances (and tabs) have them, and leaves once, when no instance has them any
//! more. Signals may be lost, so a snapshot of the viewers table replaces what the
//! signals built ([`Presence::reconcile`]), announcing only the differences.

use std::collections::{BTreeSet, HashMap};

use crate::proto::v1::Viewer;
use crate::store::cluster::{RemoteViewer, RoomKind, RoomSignal};

use std::collections::HashSet;

use super::{Change, Presence, Room, ViewerKey, announce, send_all};

/// A user other instances have on a board.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Remote {
    pub(super) viewer: Viewer,
    /// The instances that have the user there; never empty while kept.
    pub(super) instances: BTreeSet<String>,
}

impl Presence {
    /// Applies a room message from another instance (`Reconnected` is the link's: it
    /// calls for a snapshot, which this cannot take).
    pub(super) fn on_signal(&self, signal: RoomSignal) {
        let RoomSignal { from, board_id, kind } = signal;
        let mut state = self.lock();
        let state = &mut *state;
        match kind {
            RoomKind::Joined(viewer) => {
                let room = state.rooms.entry(board_id.clone()).or_default();
                let seen = room.sees(&viewer.user_id);
                let remote = room.remote.entry(viewer.user_id.clone()).or_insert_with(|| Remote {
                    viewer: viewer.clone(),
                    instances: BTreeSet::new(),
                });
                remote.viewer = viewer.clone();
                remote.instances.insert(from);
                if !seen {
                    let user_id = viewer.user_id.clone();
                    announce(&mut state.dirty, &board_id, room, &user_id, Change::Joined(viewer));
                }
            }
            RoomKind::Left { user_id, name } => {
                let Some(room) = state.rooms.get_mut(&board_id) else {
                    return;
                };
                let Some(remote) = room.remote.get_mut(&user_id) else {
                    return;
                };
                if !remote.instances.remove(&from) || !remote.instances.is_empty() {
                    return;
                }
                room.remote.remove(&user_id);
                if !room.has_local(&user_id) {
                    announce(&mut state.dirty, &board_id, room, &user_id, Change::Left { name });
                }
                if room.is_empty() {
                    state.rooms.remove(&board_id);
                }
            }
            RoomKind::Frame { except_user, frame } => {
                if let Some(room) = state.rooms.get(&board_id) {
                    send_all(&room.members, except_user.as_deref(), &frame);
                }
            }
            RoomKind::Reconnected => {}
        }
        self.metrics.presence_rooms(state.rooms.len());
    }

    /// Replaces what is known of other instances' viewers on `boards` with `snapshot`
    /// (their viewers there, read after `boards` was listed), announcing the users who
    /// appear and leave by it.
    pub(super) fn reconcile(&self, boards: &[String], snapshot: Vec<RemoteViewer>) {
        let mut fresh: HashMap<String, HashMap<String, Remote>> = HashMap::new();
        for RemoteViewer {
            instance_id,
            board_id,
            viewer,
        } in snapshot
        {
            let users = fresh.entry(board_id).or_default();
            users
                .entry(viewer.user_id.clone())
                .or_insert_with(|| Remote {
                    viewer,
                    instances: BTreeSet::new(),
                })
                .instances
                .insert(instance_id);
        }
        let mut state = self.lock();
        let state = &mut *state;
        for board_id in boards {
            let users = fresh.remove(board_id).unwrap_or_default();
            let room = if users.is_empty() {
                let Some(room) = state.rooms.get_mut(board_id) else {
                    continue;
                };
                room
            } else {
                state.rooms.entry(board_id.clone()).or_default()
            };
            replace_remote(&mut state.dirty, board_id, room, users);
            if room.is_empty() {
                state.rooms.remove(board_id);
            }
        }
        self.metrics.presence_rooms(state.rooms.len());
    }

    /// The boards whose remote viewers are worth reading: every room this instance
    /// knows of (with local members, or remote ones that would otherwise go stale).
    pub(super) fn known_boards(&self) -> Vec<String> {
        let state = self.lock();
        state.rooms.keys().cloned().collect()
    }

    /// Every viewer this instance has, for the cluster to hear again (its lease had
    /// ended and taken them).
    pub(super) fn tell_all_again(&self) {
        let mut state = self.lock();
        let mut all: Vec<(ViewerKey, Viewer)> = Vec::new();
        for (board_id, room) in &state.rooms {
            for member in room.members.values() {
                let key = (board_id.clone(), member.viewer.user_id.clone());
                if !all.iter().any(|(k, _)| *k == key) {
                    all.push((key, member.viewer.clone()));
                }
            }
        }
        for (key, viewer) in all {
            state.outbox.insert(key, Some(viewer));
        }
    }

    /// What the cluster has not been told yet, taken.
    pub(super) fn take_outbox(&self) -> HashMap<ViewerKey, Option<Viewer>> {
        std::mem::take(&mut self.lock().outbox)
    }

    /// Puts back what could not be told, unless a newer state of the same viewer came
    /// meanwhile.
    pub(super) fn put_back(&self, untold: impl IntoIterator<Item = (ViewerKey, Option<Viewer>)>) {
        let mut state = self.lock();
        for (key, want) in untold {
            state.outbox.entry(key).or_insert(want);
        }
    }

    pub(super) fn take_refresh(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().refresh)
    }
}

/// Installs a room's new remote users; announces the differences to its members.
fn replace_remote(dirty: &mut HashSet<String>, board_id: &str, room: &mut Room, users: HashMap<String, Remote>) {
    let old = std::mem::replace(&mut room.remote, users);
    let came: Vec<Viewer> = room
        .remote
        .iter()
        .filter(|(user_id, _)| !old.contains_key(*user_id) && !room.has_local(user_id))
        .map(|(_, remote)| remote.viewer.clone())
        .collect();
    for viewer in came {
        let user_id = viewer.user_id.clone();
        announce(dirty, board_id, room, &user_id, Change::Joined(viewer));
    }
    for (user_id, remote) in old {
        if !room.remote.contains_key(&user_id) && !room.has_local(&user_id) {
            let name = remote.viewer.name;
            announce(dirty, board_id, room, &user_id, Change::Left { name });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{text, viewer};
    use super::super::{ConnId, viewers};
    use super::*;
    use crate::presence::{Inbox, Mailbox};

    fn signal(from: &str, kind: RoomKind) -> RoomSignal {
        RoomSignal {
            from: from.into(),
            board_id: "board".into(),
            kind,
        }
    }

    fn joined_on(from: &str, user: &str) -> RoomSignal {
        signal(from, RoomKind::Joined(viewer(user)))
    }

    fn left_on(from: &str, user: &str) -> RoomSignal {
        signal(
            from,
            RoomKind::Left {
                user_id: user.into(),
                name: user.into(),
            },
        )
    }

    fn remote_viewer(instance: &str, user: &str) -> RemoteViewer {
        RemoteViewer {
            instance_id: instance.into(),
            board_id: "board".into(),
            viewer: viewer(user),
        }
    }

    fn member(p: &Presence, conn: ConnId, user: &str) -> (Vec<Viewer>, Inbox) {
        let (mailbox, inbox) = Mailbox::new(8);
        (p.join("board", conn, &viewer(user), mailbox).viewers, inbox)
    }

    fn ids(viewers: &[Viewer]) -> Vec<&str> {
        viewers.iter().map(|v| v.user_id.as_str()).collect()
    }

    fn kind_of(message: Option<String>) -> Option<String> {
        let json: serde_json::Value = serde_json::from_str(&message?).unwrap();
        Some(format!(
            "{} {}",
            json["type"].as_str().unwrap(),
            json["userId"].as_str().unwrap()
        ))
    }

    /// The one message a flush queued for a member, if any.
    fn told(p: &Presence, rx: &mut Inbox) -> Option<String> {
        p.flush();
        text(rx)
    }

    /// Everything a flush queued, as "type user", sorted (a snapshot's order is a map's).
    fn heard(p: &Presence, rx: &Inbox) -> Vec<String> {
        p.flush();
        let mut out = Vec::new();
        rx.try_recv_all(&mut out);
        let mut kinds: Vec<String> = out
            .into_iter()
            .filter_map(|b| kind_of(Some(String::from_utf8(b.to_vec()).unwrap())))
            .collect();
        kinds.sort();
        kinds
    }

    #[test]
    fn a_remote_user_is_in_the_join_reply_and_announced_once() {
        let p = Presence::default();
        let (_, mut bob) = member(&p, 1, "bob");
        p.on_signal(joined_on("a", "alice"));
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_joined alice"));
        p.on_signal(joined_on("c", "alice"));
        assert_eq!(told(&p, &mut bob), None, "alice on a second instance: no second join");
        let (seen, _carol) = member(&p, 2, "carol");
        assert_eq!(ids(&seen), ["alice", "bob", "carol"], "one entry per user, sorted");
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_joined carol"));
        p.on_signal(left_on("a", "alice"));
        assert_eq!(told(&p, &mut bob), None, "still on c");
        p.on_signal(left_on("c", "alice"));
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_left alice"));
        p.on_signal(left_on("c", "alice"));
        assert_eq!(told(&p, &mut bob), None, "a repeated leave is ignored");
    }

    #[test]
    fn a_user_local_and_remote_joins_once_and_leaves_after_both() {
        let p = Presence::default();
        let (_, mut bob) = member(&p, 1, "bob");
        // alice's tab here, then one on instance a: one join.
        let (_, _alice) = member(&p, 2, "alice");
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_joined alice"));
        p.on_signal(joined_on("a", "alice"));
        assert_eq!(told(&p, &mut bob), None);
        p.leave("board", 2);
        assert_eq!(told(&p, &mut bob), None, "alice is still on a");
        p.on_signal(left_on("a", "alice"));
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_left alice"));
        // The other order: remote first, then local, then remote leaves, then local.
        p.on_signal(joined_on("a", "alice"));
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_joined alice"));
        let (seen, _alice) = member(&p, 3, "alice");
        assert_eq!(ids(&seen), ["alice", "bob"]);
        assert_eq!(told(&p, &mut bob), None, "already seen on a");
        p.on_signal(left_on("a", "alice"));
        assert_eq!(told(&p, &mut bob), None, "still here");
        p.leave("board", 3);
        assert_eq!(kind_of(told(&p, &mut bob)).as_deref(), Some("user_left alice"));
    }

    #[test]
    fn frames_from_other_instances_skip_the_sender_user() {
        let p = Presence::default();
        let (_, mut bob) = member(&p, 1, "bob");
        let (_, mut alice) = member(&p, 2, "alice");
        told(&p, &mut bob);
        let frame = bytes::Bytes::from_static(b"{\"type\":\"user_typing\"}");
        p.on_signal(signal(
            "a",
            RoomKind::Frame {
                except_user: Some("alice".into()),
                frame: frame.clone(),
            },
        ));
        assert_eq!(told(&p, &mut bob).as_deref(), Some("{\"type\":\"user_typing\"}"));
        assert_eq!(told(&p, &mut alice), None, "alice's other tab typed it");
    }

    #[test]
    fn a_snapshot_replaces_what_signals_said() {
        let p = Presence::default();
        let (_, bob) = member(&p, 1, "bob");
        p.on_signal(joined_on("a", "alice"));
        p.on_signal(joined_on("a", "dave"));
        assert_eq!(heard(&p, &bob), ["user_joined alice", "user_joined dave"]);
        // A lost leave (dave), a lost join (erin), a dead instance (a, alice's), and
        // alice alive on c instead: one leave, one join.
        let boards = p.known_boards();
        assert_eq!(boards, ["board"]);
        p.reconcile(&boards, vec![remote_viewer("c", "alice"), remote_viewer("c", "erin")]);
        assert_eq!(heard(&p, &bob), ["user_joined erin", "user_left dave"]);
        let (seen, _carol) = member(&p, 2, "carol");
        assert_eq!(ids(&seen), ["alice", "bob", "carol", "erin"]);
        assert_eq!(heard(&p, &bob), ["user_joined carol"]);
        // Everyone elsewhere gone: they leave; local users stay.
        p.reconcile(&boards, Vec::new());
        assert_eq!(heard(&p, &bob), ["user_left alice", "user_left erin"]);
        assert_eq!(ids(&viewers(&p.lock().rooms["board"])), ["bob", "carol"]);
    }

    #[test]
    fn remote_knowledge_outlives_local_members_until_the_users_leave() {
        let p = Presence::default();
        p.on_signal(joined_on("a", "alice"));
        // No local member yet: a later join still sees alice.
        let (seen, _bob) = member(&p, 1, "bob");
        assert_eq!(ids(&seen), ["alice", "bob"]);
        p.leave("board", 1);
        assert_eq!(p.known_boards(), ["board"], "alice keeps the room known");
        p.reconcile(&["board".into()], Vec::new());
        assert!(p.known_boards().is_empty(), "nobody anywhere: the room is gone");
    }
}
