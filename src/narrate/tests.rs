//! The summary builder, one sentence per event type, and the names it learns.
#![allow(clippy::unnecessary_wraps)]

use super::{Names, summary};
use crate::proto::v1::board_event::Payload;
use crate::proto::v1::*;

fn names() -> Names {
    let map = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    Names {
        users: map(&[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]),
        lists: map(&[("l-todo", "To Do"), ("l-done", "Done")]),
        tasks: map(&[("t-gone", "Old title")]),
    }
}

fn by_alice(payload: Payload) -> String {
    let event = BoardEvent {
        seq: 1,
        actor: "alice".into(),
        payload: Some(payload),
        ..Default::default()
    };
    summary(&event, &names())
}

fn task(list_id: &str) -> Option<Task> {
    Some(Task {
        id: "t-1".into(),
        list_id: list_id.into(),
        title: "Fix login".into(),
        ..Default::default()
    })
}

fn list(name: &str, position: i32) -> Option<BoardList> {
    Some(BoardList {
        id: "l-x".into(),
        name: name.into(),
        position,
        ..Default::default()
    })
}

fn member(role: Role) -> Option<Member> {
    Some(Member {
        user_id: "carol".into(),
        username: "carol".into(),
        name: "Carol".into(),
        role: role as i32,
    })
}

fn label(name: &str) -> Option<Label> {
    Some(Label {
        name: name.into(),
        ..Default::default()
    })
}

#[test]
fn task_events() {
    let created = TaskCreated {
        task: task("l-todo"),
        shifted: vec![],
    };
    assert_eq!(
        by_alice(Payload::TaskCreated(created)),
        "Alice added “Fix login” to To Do"
    );
    assert_eq!(
        by_alice(Payload::TaskUpdated(TaskUpdated { task: task("l-todo") })),
        "Alice edited “Fix login”"
    );
    let moved = |from: &str| TaskMoved {
        task: task("l-done"),
        from_list_id: from.into(),
        ..Default::default()
    };
    assert_eq!(
        by_alice(Payload::TaskMoved(moved("l-todo"))),
        "Alice moved “Fix login” to Done"
    );
    assert_eq!(
        by_alice(Payload::TaskMoved(moved("l-done"))),
        "Alice moved “Fix login” within Done"
    );
    let deleted = |id: &str, title: &str| TaskDeleted {
        task_id: id.into(),
        title: title.into(),
        ..Default::default()
    };
    assert_eq!(
        by_alice(Payload::TaskDeleted(deleted("t-1", "Fix login"))),
        "Alice deleted “Fix login”"
    );
    assert_eq!(
        by_alice(Payload::TaskDeleted(deleted("t-gone", ""))),
        "Alice deleted “Old title”"
    );
    assert_eq!(
        by_alice(Payload::TaskDeleted(deleted("t-?", ""))),
        "Alice deleted a task"
    );
    // A list that no longer exists is said to be deleted.
    let moved_away = TaskMoved {
        task: task("l-gone"),
        from_list_id: "l-todo".into(),
        ..Default::default()
    };
    assert_eq!(
        by_alice(Payload::TaskMoved(moved_away)),
        "Alice moved “Fix login” to a deleted list"
    );
}

#[test]
fn list_events() {
    let created = ListCreated {
        list: list("Review", 1),
        shifted: vec![],
    };
    assert_eq!(by_alice(Payload::ListCreated(created)), "Alice added list “Review”");
    let renamed = ListUpdated {
        list: list("In progress", 1),
        from_name: "Doing".into(),
    };
    assert_eq!(
        by_alice(Payload::ListUpdated(renamed)),
        "Alice renamed list “Doing” to “In progress”"
    );
    let renamed_before_from_name = ListUpdated {
        list: list("In progress", 1),
        from_name: String::new(),
    };
    assert_eq!(
        by_alice(Payload::ListUpdated(renamed_before_from_name)),
        "Alice renamed a list to “In progress”"
    );
    let moved = ListMoved {
        list: list("Review", 2),
        ..Default::default()
    };
    assert_eq!(
        by_alice(Payload::ListMoved(moved)),
        "Alice moved list “Review” to position 3"
    );
    let deleted = ListDeleted {
        list_id: "l-x".into(),
        name: "Review".into(),
        ..Default::default()
    };
    assert_eq!(by_alice(Payload::ListDeleted(deleted)), "Alice deleted list “Review”");
    let deleted_moving = ListDeleted {
        list_id: "l-x".into(),
        name: "Review".into(),
        moved_tasks_to: "l-done".into(),
        moved_tasks: vec![TaskPosition::default(), TaskPosition::default()],
        ..Default::default()
    };
    assert_eq!(
        by_alice(Payload::ListDeleted(deleted_moving)),
        "Alice deleted list “Review” and moved its 2 tasks to Done"
    );
    let unnamed = ListDeleted {
        list_id: "l-?".into(),
        ..Default::default()
    };
    assert_eq!(by_alice(Payload::ListDeleted(unnamed)), "Alice deleted a list");
}

#[test]
fn member_events() {
    assert_eq!(
        by_alice(Payload::MemberAdded(MemberAdded {
            member: member(Role::Viewer)
        })),
        "Alice added Carol as viewer"
    );
    assert_eq!(
        by_alice(Payload::MemberUpdated(MemberUpdated {
            member: member(Role::Editor)
        })),
        "Alice made Carol editor"
    );
    let removed = |user: &str| MemberRemoved {
        user_id: user.into(),
        unassigned_task_ids: vec![],
    };
    assert_eq!(by_alice(Payload::MemberRemoved(removed("bob"))), "Alice removed Bob");
    assert_eq!(
        by_alice(Payload::MemberRemoved(removed("alice"))),
        "Alice left the board"
    );
    // A user the names do not know is named by id.
    assert_eq!(by_alice(Payload::MemberRemoved(removed("zed"))), "Alice removed zed");
}

#[test]
fn board_and_label_events() {
    let board = |archived| {
        Some(Board {
            name: "Launch".into(),
            archived,
            ..Default::default()
        })
    };
    assert_eq!(
        by_alice(Payload::BoardCreated(BoardCreated {
            board: board(false),
            ..Default::default()
        })),
        "Alice created the board “Launch”"
    );
    assert_eq!(
        by_alice(Payload::BoardUpdated(BoardUpdated { board: board(false) })),
        "Alice updated the board “Launch”"
    );
    assert_eq!(
        by_alice(Payload::BoardUpdated(BoardUpdated { board: board(true) })),
        "Alice archived the board “Launch”"
    );
    assert_eq!(
        by_alice(Payload::BoardDeleted(BoardDeleted { name: "Launch".into() })),
        "Alice deleted the board “Launch”"
    );
    assert_eq!(
        by_alice(Payload::LabelCreated(LabelCreated { label: label("Bug") })),
        "Alice created label “Bug”"
    );
    assert_eq!(
        by_alice(Payload::LabelUpdated(LabelUpdated { label: label("Defect") })),
        "Alice updated label “Defect”"
    );
    let deleted = |tasks: usize| LabelDeleted {
        label_id: "label-1".into(),
        task_ids: vec!["t".into(); tasks],
        name: "Bug".into(),
    };
    assert_eq!(by_alice(Payload::LabelDeleted(deleted(0))), "Alice deleted label “Bug”");
    assert_eq!(
        by_alice(Payload::LabelDeleted(deleted(1))),
        "Alice deleted label “Bug” (it was on 1 task)"
    );
}

/// Every event type has a sentence of its own (none falls through to the default).
#[test]
fn every_event_type_is_told() {
    for payload in Payload::every_variant() {
        let tag = payload.type_name();
        let text = by_alice(payload);
        assert!(text.starts_with("Alice "), "{tag}: {text}");
        assert_ne!(text, "Alice changed the board", "{tag} has no summary of its own");
        assert_ne!(text, "Alice ", "{tag} has no summary of its own");
    }
}

/// A reader going forward takes each event's names as the latest; one going back keeps
/// the names it already knows.
#[test]
fn names_learned_forward_and_remembered_backward() {
    let renamed = BoardEvent {
        actor: "alice".into(),
        payload: Some(Payload::ListUpdated(ListUpdated {
            list: Some(BoardList {
                id: "l-todo".into(),
                name: "Backlog".into(),
                ..Default::default()
            }),
            from_name: "To Do".into(),
        })),
        ..Default::default()
    };
    let added = BoardEvent {
        actor: "dana".into(),
        payload: Some(Payload::TaskCreated(TaskCreated {
            task: task("l-todo"),
            ..Default::default()
        })),
        ..Default::default()
    };
    let joined = BoardEvent {
        actor: "alice".into(),
        payload: Some(Payload::MemberAdded(MemberAdded {
            member: Some(Member {
                user_id: "dana".into(),
                name: "Dana".into(),
                ..Default::default()
            }),
        })),
        ..Default::default()
    };
    let mut back = names();
    back.remember(&renamed);
    back.remember(&joined);
    assert_eq!(summary(&added, &back), "dana added “Fix login” to To Do");
    let mut forward = names();
    forward.learn(&renamed);
    forward.learn(&joined);
    assert_eq!(summary(&added, &forward), "Dana added “Fix login” to Backlog");
}
