//! Rooms and presence without a cluster: per-user viewers, coalesced joins and
//! leaves, lists for large rooms, dropped room messages and the resync.
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

/// Everything queued for a member, as "type user" (or "presence N/M").
fn heard(rx: &Inbox) -> Vec<String> {
    let mut out = Vec::new();
    rx.try_recv_all(&mut out);
    out.iter()
        .map(|b| {
            let json: serde_json::Value = serde_json::from_slice(b).unwrap();
            match json["type"].as_str().unwrap() {
                "presence" => format!(
                    "presence {}/{}",
                    json["viewers"].as_array().unwrap().len(),
                    json["viewerCount"]
                ),
                kind => format!("{kind} {}", json["userId"].as_str().unwrap()),
            }
        })
        .collect()
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
        seen.viewers.iter().map(|v| v.user_id.as_str()).collect::<Vec<_>>(),
        ["alice", "bob"]
    );
    assert_eq!(seen.viewer_count, 2);
    assert_eq!(text(&mut a1_rx), None, "joins go out at the flush");
    p.flush();
    assert!(text(&mut a1_rx).unwrap().contains("\"user_joined\""));
    assert_eq!(text(&mut b_rx), None, "bob's list had alice already");
    // alice's second tab: no second user_joined, still two viewers.
    assert_eq!(p.join("board", 3, &viewer("alice"), a2).viewers.len(), 2);
    p.flush();
    assert_eq!(text(&mut b_rx), None);
    p.leave("board", 1);
    p.flush();
    assert_eq!(text(&mut b_rx), None, "alice still has a tab open");
    p.leave("board", 3);
    p.flush();
    assert!(text(&mut b_rx).unwrap().contains("\"user_left\""));
    assert_eq!(viewers(&p.lock().rooms["board"]).len(), 1);
    assert_eq!(text(&mut a2_rx), None);
    assert!(p.lock().outbox.is_empty(), "without a cluster nothing is queued for it");
}

#[test]
fn a_member_hears_only_changes_after_its_list_and_only_the_latest_per_user() {
    let p = Presence::default();
    let (bob, b_rx) = Mailbox::new(8);
    p.join("board", 1, &viewer("bob"), bob);
    // Within one interval: carol comes and goes, dave comes, then erin joins and
    // gets a list that already has dave.
    let (carol, _c_rx) = Mailbox::new(8);
    p.join("board", 2, &viewer("carol"), carol);
    p.leave("board", 2);
    let (dave, _d_rx) = Mailbox::new(8);
    p.join("board", 3, &viewer("dave"), dave);
    let (erin, e_rx) = Mailbox::new(8);
    let list = p.join("board", 4, &viewer("erin"), erin);
    assert_eq!(list.viewer_count, 3, "bob, dave, erin");
    p.flush();
    let mut bob_heard = heard(&b_rx);
    bob_heard.sort();
    assert_eq!(bob_heard, ["user_joined dave", "user_joined erin", "user_left carol"]);
    assert_eq!(
        heard(&e_rx),
        Vec::<String>::new(),
        "erin's list was newer than every change"
    );
    p.flush();
    assert_eq!(heard(&b_rx), Vec::<String>::new(), "a flush sends each change once");
}

#[test]
fn many_changes_in_one_interval_are_one_list_of_the_first_viewers_and_the_count() {
    let p = Presence::default();
    let (b, b_rx) = Mailbox::new(8);
    p.join("board", 1, &viewer("a-bob"), b);
    let mut inboxes = Vec::new();
    for n in 0..120_u64 {
        let (m, rx) = Mailbox::new(8);
        p.join("board", 10 + n, &viewer(&format!("guest-{n:03}")), m);
        inboxes.push(rx);
    }
    p.flush();
    assert_eq!(heard(&b_rx), ["presence 20/121"], "one message, not 120");
    // The first joiner's list had only bob: it heard 119 joins, as one list too;
    // the last one's list was complete.
    assert_eq!(heard(&inboxes[0]), ["presence 20/121"]);
    assert_eq!(heard(&inboxes[119]), Vec::<String>::new());
    let list = p.join("board", 999, &viewer("zed"), Mailbox::new(8).0);
    assert_eq!((list.viewers.len(), list.viewer_count), (20, 122));
    assert_eq!(list.viewers[0].user_id, "a-bob", "the first in user id order");
}

#[test]
fn a_full_mailbox_drops_room_messages_and_gets_the_whole_list_when_it_has_room() {
    let p = Presence::default();
    let (slow, slow_rx) = Mailbox::new(2);
    p.join("board", 1, &viewer("slow"), slow);
    p.broadcast("board", None, &Bytes::from_static(b"{}"));
    p.broadcast("board", None, &Bytes::from_static(b"{}"));
    let (m, _rx) = Mailbox::new(8);
    p.join("board", 2, &viewer("late"), m);
    // The mailbox is full: the join is dropped for slow, never slow itself.
    p.flush();
    let mut queued = Vec::new();
    slow_rx.try_recv_all(&mut queued);
    assert_eq!(queued.len(), 2, "only the two broadcasts: the join did not fit");
    p.flush();
    assert_eq!(heard(&slow_rx), ["presence 2/2"], "the list again, once it had room");
    p.flush();
    assert_eq!(heard(&slow_rx), Vec::<String>::new(), "and then nothing more");
}

#[test]
fn colors_are_stable_per_user() {
    assert_eq!(color_of("alice"), color_of("alice"));
    assert!(color_of("bob").starts_with('#'));
}
