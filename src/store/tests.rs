//! One suite for every backend: each test runs the same scenario against SQLite in
//! memory, SQLite in a file and PostgreSQL on a scratch database (skipped, with the
//! printed notice, when no server answers), so the backends cannot drift apart on
//! what a `Tx` method means: orderings, NULLs, counts, rollbacks, snapshots.

use std::sync::Arc;
use std::time::Duration;

use super::postgres::scratch::test_database;
use super::{
    CredentialKind, IdempotentRecord, LogBounds, NewCredential, OnBoard, PgStore, SqliteStore, Store, TaskCursor, Tx,
};
use crate::proto::v1::{
    Board, BoardEvent, BoardList, BoardUpdated, Label, ListPosition, Role, Task, TaskPosition, User,
    board_event::Payload,
};
use crate::time;

/// A store under test, and what must live as long as it.
struct Backend {
    name: &'static str,
    store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
}

/// What a scenario needs of its store.
#[derive(Clone, Copy, PartialEq)]
enum Needs {
    /// Any store.
    Any,
    /// Reads on connections of their own, beside the writer (not SQLite `:memory:`,
    /// whose one connection a read holds like a write).
    SeparateReads,
}

async fn backends(needs: Needs) -> Vec<Backend> {
    let mut all = Vec::new();
    if needs == Needs::Any {
        all.push(Backend {
            name: "sqlite memory",
            store: Arc::new(SqliteStore::connect("sqlite::memory:").await.unwrap()),
            _dir: None,
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("t.db").display());
    all.push(Backend {
        name: "sqlite file",
        store: Arc::new(SqliteStore::connect(&url).await.unwrap()),
        _dir: Some(dir),
    });
    if let Some(url) = test_database().await {
        all.push(Backend {
            name: "postgres",
            store: Arc::new(PgStore::connect(&url).await.unwrap()),
            _dir: None,
        });
    }
    all
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        name: id.to_uppercase(),
        username: id.into(),
    }
}

fn board(id: &str) -> Board {
    Board {
        id: id.into(),
        name: format!("Board {id}"),
        created_at: Some(time::from_millis(1_000)),
        archived: false,
    }
}

fn list(id: &str, board_id: &str, position: i32) -> BoardList {
    BoardList {
        id: id.into(),
        board_id: board_id.into(),
        name: id.to_uppercase(),
        position,
    }
}

fn task(id: &str, list_id: &str, position: i32, updated_ms: i64) -> Task {
    Task {
        id: id.into(),
        board_id: "b".into(),
        list_id: list_id.into(),
        title: format!("title {id}"),
        description: String::new(),
        position,
        version: 1,
        created_at: Some(time::from_millis(500)),
        updated_at: Some(time::from_millis(updated_ms)),
        created_by: "alice".into(),
        assignee_ids: Vec::new(),
        label_ids: Vec::new(),
        due_at: None,
    }
}

fn event(board_id: &str, seq: u64) -> BoardEvent {
    BoardEvent {
        seq,
        board_id: board_id.into(),
        occurred_at: Some(time::from_millis(2_000)),
        actor: "alice".into(),
        request_id: format!("r{seq}"),
        payload: Some(Payload::BoardUpdated(BoardUpdated {
            board: Some(board(board_id)),
        })),
    }
}

async fn user_exists(store: &dyn Store, id: &str) -> bool {
    store.read().await.unwrap().user(id).await.unwrap().is_some()
}

/// Users alice, bob (and carol, without a password); board `b` with alice the owner,
/// bob an editor; lists l0, l1.
async fn seed(store: &dyn Store) {
    let mut tx = store.write().await.unwrap();
    tx.insert_user(&user("alice"), Some("hash-a")).await.unwrap();
    tx.insert_user(&user("bob"), Some("hash-b")).await.unwrap();
    tx.insert_user(&user("carol"), None).await.unwrap();
    tx.insert_board(&board("b"), &[("alice", Role::Owner), ("bob", Role::Editor)])
        .await
        .unwrap();
    tx.insert_list(&list("l0", "b", 0)).await.unwrap();
    tx.insert_list(&list("l1", "b", 1)).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_uncommitted_transaction_rolls_back_on_drop() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("dropped"), None).await.unwrap();
        drop(tx);
        assert!(!user_exists(store, "dropped").await);

        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("kept"), None).await.unwrap();
        tx.commit().await.unwrap();
        assert!(user_exists(store, "kept").await);

        // A failed statement leaves the transaction to the drop, and the store usable.
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("twice"), None).await.unwrap();
        assert!(tx.insert_user(&user("twice"), None).await.is_err());
        drop(tx);
        assert!(!user_exists(store, "twice").await);
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("after"), None).await.unwrap();
        tx.commit().await.unwrap();
        assert!(user_exists(store, "after").await);
    }
}

#[tokio::test]
async fn a_read_sees_one_snapshot_while_writes_commit_and_refuses_to_write() {
    for b in backends(Needs::SeparateReads).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        let mut read = store.read().await.unwrap();
        assert!(read.user("late").await.unwrap().is_none());
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&user("late"), None).await.unwrap();
        tx.commit().await.unwrap();
        assert!(read.user("late").await.unwrap().is_none(), "the snapshot moved");
        drop(read);
        assert!(user_exists(store, "late").await);
        let mut read = store.read().await.unwrap();
        assert!(read.insert_user(&user("nope"), None).await.is_err());
        drop(read);
        assert!(!user_exists(store, "nope").await);
    }
}

/// alice's credentials: tokens t0 (at 10), t1 and t2 (both at 20), session s0.
async fn insert_credentials(tx: &mut dyn Tx) {
    for (id, kind, name, at, secret) in [
        ("t2", CredentialKind::Token, "ci", 20, b"s2"),
        ("t1", CredentialKind::Token, "laptop", 20, b"s1"),
        ("t0", CredentialKind::Token, "old", 10, b"s0"),
        ("s0", CredentialKind::Session, "browser", 5, b"s3"),
    ] {
        let c = NewCredential {
            id,
            user_id: "alice",
            kind,
            name,
            secret_hash: secret,
            created_ms: at,
        };
        tx.insert_credential(&c).await.unwrap();
    }
}

#[tokio::test]
async fn accounts_and_credentials() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let guest = User {
            id: "guest".into(),
            name: "Guest".into(),
            username: String::new(),
        };
        let mut tx = store.write().await.unwrap();
        tx.insert_user(&guest, None).await.unwrap();
        // The guest has no username: two such users do not collide.
        tx.insert_user(
            &User {
                id: "ghost".into(),
                ..guest.clone()
            },
            None,
        )
        .await
        .unwrap();
        insert_credentials(tx.as_mut()).await;
        tx.set_password_hash("carol", "hash-c").await.unwrap();
        tx.touch_credential("t1", 99).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.user("guest").await.unwrap(), Some(guest));
        assert_eq!(tx.user("nobody").await.unwrap(), None);
        assert_eq!(tx.account_count().await.unwrap(), 3, "only users with a username");
        let (alice, hash) = tx.user_by_username("alice").await.unwrap().unwrap();
        assert_eq!((alice, hash.as_deref()), (user("alice"), Some("hash-a")));
        let (_, hash) = tx.user_by_username("carol").await.unwrap().unwrap();
        assert_eq!(hash.as_deref(), Some("hash-c"));
        assert!(
            tx.user_by_username("ALICE").await.unwrap().is_none(),
            "usernames are exact"
        );
        assert_eq!(
            tx.user_by_secret(b"s1").await.unwrap(),
            Some((user("alice"), "t1".to_owned()))
        );
        assert_eq!(tx.user_by_secret(b"nope").await.unwrap(), None);
        let tokens = tx.credentials("alice", CredentialKind::Token).await.unwrap();
        let ids: Vec<&str> = tokens.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["t0", "t1", "t2"], "oldest first, then by id");
        assert_eq!(tokens[1].last_used_at, Some(time::from_millis(99)));
        assert_eq!(tokens[0].last_used_at, None);
        assert_eq!(tokens[2].created_at, Some(time::from_millis(20)));
        assert_eq!(tx.credentials("alice", CredentialKind::Session).await.unwrap().len(), 1);
        assert!(tx.credentials("bob", CredentialKind::Token).await.unwrap().is_empty());
        drop(tx);

        let mut tx = store.write().await.unwrap();
        assert!(!tx.delete_credential("bob", "t1").await.unwrap(), "not bob's");
        assert!(tx.delete_credential("alice", "t1").await.unwrap());
        assert!(!tx.delete_credential("alice", "t1").await.unwrap(), "gone");
        tx.commit().await.unwrap();
        assert_eq!(store.read().await.unwrap().user_by_secret(b"s1").await.unwrap(), None);
    }
}

#[tokio::test]
async fn boards_and_members() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        tx.insert_user(
            &User {
                id: "guest".into(),
                name: "Guest".into(),
                username: String::new(),
            },
            None,
        )
        .await
        .unwrap();
        tx.insert_board(&board("a"), &[("bob", Role::Owner), ("guest", Role::Viewer)])
            .await
            .unwrap();
        tx.insert_board(&board("c"), &[("bob", Role::Owner)]).await.unwrap();
        let mut renamed = board("c");
        renamed.name = "Renamed".into();
        renamed.archived = true;
        tx.update_board(&renamed).await.unwrap();
        tx.set_member_role("b", "bob", Role::Owner).await.unwrap();
        tx.insert_member("a", "carol", Role::Editor).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        let ids = |boards: Vec<Board>| boards.into_iter().map(|b| b.id).collect::<Vec<_>>();
        assert_eq!(ids(tx.boards_of("bob").await.unwrap()), ["a", "b", "c"]);
        assert_eq!(tx.board("c").await.unwrap(), Some(renamed));
        assert_eq!(tx.owner_count("b").await.unwrap(), 2);
        assert_eq!(tx.member_role("a", "guest").await.unwrap(), Some(Role::Viewer));
        assert_eq!(tx.member_role("a", "alice").await.unwrap(), None);
        assert!(tx.is_member("a", "carol").await.unwrap());
        assert!(!tx.is_member("a", "alice").await.unwrap());
        // Ordered by username; the guest (none) by its id.
        let members = tx.members("a").await.unwrap();
        let order: Vec<(&str, &str, i32)> = members
            .iter()
            .map(|m| (m.user_id.as_str(), m.username.as_str(), m.role))
            .collect();
        assert_eq!(
            order,
            [
                ("bob", "bob", Role::Owner as i32),
                ("carol", "carol", Role::Editor as i32),
                ("guest", "guest", Role::Viewer as i32)
            ]
        );
        assert_eq!(tx.member("a", "carol").await.unwrap().unwrap().name, "CAROL");
        assert_eq!(tx.member("a", "alice").await.unwrap(), None);
        drop(tx);

        let mut tx = store.write().await.unwrap();
        tx.delete_member("a", "carol").await.unwrap();
        tx.delete_board("c", 5_000).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert!(!tx.is_member("a", "carol").await.unwrap());
        assert_eq!(tx.board("c").await.unwrap(), None, "deleted");
        assert_eq!(ids(tx.boards_of("bob").await.unwrap()), ["a", "b"]);
        assert!(tx.members("c").await.unwrap().is_empty());
        assert_eq!(tx.last_seq("c").await.unwrap(), 0, "the row stays");
    }
}

#[tokio::test]
async fn lists_in_order() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        tx.insert_list(&list("l2", "b", 2)).await.unwrap();
        tx.set_list_positions(&[
            ListPosition {
                list_id: "l0".into(),
                position: 2,
            },
            ListPosition {
                list_id: "l2".into(),
                position: 0,
            },
        ])
        .await
        .unwrap();
        tx.set_list_positions(&[]).await.unwrap();
        let mut l1 = list("l1", "b", 1);
        l1.name = "Doing".into();
        tx.update_list(&l1).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.list_order("b").await.unwrap(), ["l2", "l1", "l0"]);
        let lists = tx.lists("b").await.unwrap();
        assert_eq!(lists[1], l1);
        assert_eq!(lists.iter().map(|l| l.position).collect::<Vec<_>>(), [0, 1, 2]);
        assert_eq!(tx.list("l2").await.unwrap(), Some(list("l2", "b", 0)));
        assert_eq!(tx.list("none").await.unwrap(), None);
        assert!(tx.list_order("none").await.unwrap().is_empty());
        drop(tx);
        let mut tx = store.write().await.unwrap();
        tx.delete_list("l2").await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.read().await.unwrap().list_order("b").await.unwrap(), ["l1", "l0"]);
    }
}

#[tokio::test]
async fn tasks_in_order_with_their_details() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        for t in [
            task("t-b", "l1", 0, 30),
            task("t-a", "l1", 1, 10),
            task("t-c", "l0", 0, 20),
            task("t-d", "l0", 1, 20),
        ] {
            tx.insert_task(&t).await.unwrap();
        }
        tx.insert_label(&label("lab-2", "x")).await.unwrap();
        tx.insert_label(&label("lab-1", "y")).await.unwrap();
        tx.set_task_assignees("t-c", &["bob".into(), "alice".into()])
            .await
            .unwrap();
        tx.set_task_labels("t-c", &["lab-2".into(), "lab-1".into()])
            .await
            .unwrap();
        let mut changed = task("t-d", "l0", 1, 30);
        changed.title = "changed".into();
        changed.description = "more".into();
        changed.version = 7;
        changed.due_at = Some(time::from_millis(123_456));
        tx.update_task(&changed).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        let ids = |tasks: Vec<Task>| tasks.into_iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(tx.tasks("b", None).await.unwrap()), ["t-c", "t-d", "t-b", "t-a"]);
        assert_eq!(ids(tx.tasks("b", Some("l1")).await.unwrap()), ["t-b", "t-a"]);
        assert!(tx.tasks("b", Some("none")).await.unwrap().is_empty());
        let c = tx.task("t-c").await.unwrap().unwrap();
        assert_eq!(c.assignee_ids, ["alice", "bob"], "sorted");
        assert_eq!(c.label_ids, ["lab-1", "lab-2"], "sorted");
        assert_eq!(c.due_at, None);
        assert_eq!(tx.task("t-d").await.unwrap().as_ref(), Some(&changed));
        assert_eq!(tx.task("none").await.unwrap(), None);
        // Strictly after, oldest change first, ties by id.
        assert_eq!(
            ids(tx.tasks_updated_since("b", 10).await.unwrap()),
            ["t-c", "t-b", "t-d"]
        );
        // (t-b and t-d were both changed at 30.)
        assert_eq!(tx.task_count("l0").await.unwrap(), 2);
        assert_eq!(tx.task_count("none").await.unwrap(), 0);
        assert_eq!(tx.task_order("l1").await.unwrap(), ["t-b", "t-a"]);
        drop(tx);

        let mut tx = store.write().await.unwrap();
        let at = |task_id: &str, position| TaskPosition {
            task_id: task_id.into(),
            list_id: "l0".into(),
            position,
        };
        tx.set_positions(&[at("t-a", 0), at("t-c", 1)]).await.unwrap();
        tx.set_positions(&[]).await.unwrap();
        tx.set_task_assignees("t-c", &["bob".into()]).await.unwrap();
        tx.set_task_labels("t-c", &[]).await.unwrap();
        tx.delete_task("t-d").await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.task_order("l0").await.unwrap(), ["t-a", "t-c"]);
        let c = tx.task("t-c").await.unwrap().unwrap();
        assert_eq!((c.assignee_ids, c.label_ids), (vec!["bob".to_owned()], vec![]));
        assert_eq!(tx.task("t-d").await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_board_s_tasks_page_by_the_key_of_their_order() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        for t in [
            task("t-b", "l1", 0, 30),
            task("t-a", "l1", 1, 10),
            task("t-c", "l0", 0, 20),
        ] {
            tx.insert_task(&t).await.unwrap();
        }
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        let ids = |tasks: &[Task]| tasks.iter().map(|t| t.id.clone()).collect::<Vec<_>>();
        let first = tx.tasks_page("b", None, 2).await.unwrap();
        assert_eq!(ids(&first), ["t-c", "t-b"]);
        let last = first.last().unwrap();
        let after = TaskCursor {
            list_position: 1,
            position: last.position,
            id: last.id.clone(),
        };
        assert_eq!(ids(&tx.tasks_page("b", Some(&after), 2).await.unwrap()), ["t-a"]);
        assert!(tx.tasks_page("none", None, 2).await.unwrap().is_empty());
    }
}

fn label(id: &str, name: &str) -> Label {
    Label {
        id: id.into(),
        board_id: "b".into(),
        name: name.into(),
        color: "#aabbcc".into(),
    }
}

#[tokio::test]
async fn labels_sort_by_name_ignoring_ascii_case_and_leave_their_tasks() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        // SQLite's NOCASE folds ASCII only: "É" sorts after every ASCII letter.
        for (id, name) in [("k3", "b"), ("k2", "a"), ("k1", "A"), ("k4", "Émile"), ("k5", "Zed")] {
            tx.insert_label(&label(id, name)).await.unwrap();
        }
        for t in ["t2", "t1", "t3"] {
            tx.insert_task(&task(t, "l0", 0, 1)).await.unwrap();
        }
        tx.set_task_labels("t2", &["k3".into()]).await.unwrap();
        tx.set_task_labels("t1", &["k3".into(), "k2".into()]).await.unwrap();
        tx.set_task_labels("t3", &["k2".into()]).await.unwrap();
        let mut renamed = label("k5", "zed");
        renamed.color = "#000000".into();
        tx.update_label(&renamed).await.unwrap();
        tx.commit().await.unwrap();

        let mut tx = store.read().await.unwrap();
        let names: Vec<(String, String)> = (tx.labels("b").await.unwrap().into_iter())
            .map(|l| (l.id, l.name))
            .collect();
        let expected = [("k1", "A"), ("k2", "a"), ("k3", "b"), ("k5", "zed"), ("k4", "Émile")];
        assert_eq!(names, expected.map(|(i, n)| (i.to_owned(), n.to_owned())));
        assert_eq!(tx.label("k5").await.unwrap(), Some(renamed));
        assert_eq!(tx.label("none").await.unwrap(), None);
        drop(tx);

        let mut tx = store.write().await.unwrap();
        assert_eq!(tx.delete_label("k3").await.unwrap(), ["t1", "t2"]);
        assert!(tx.delete_label("k4").await.unwrap().is_empty());
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.label("k3").await.unwrap(), None);
        assert_eq!(tx.task("t1").await.unwrap().unwrap().label_ids, ["k2"]);
        assert!(tx.task("t2").await.unwrap().unwrap().label_ids.is_empty());
    }
}

#[tokio::test]
async fn unassigning_a_member_names_the_tasks_of_that_board_only() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        tx.insert_board(&board("other"), &[("bob", Role::Owner)]).await.unwrap();
        tx.insert_list(&list("o0", "other", 0)).await.unwrap();
        let mut elsewhere = task("t-o", "o0", 0, 1);
        elsewhere.board_id = "other".into();
        tx.insert_task(&elsewhere).await.unwrap();
        for t in ["t2", "t1", "t3"] {
            tx.insert_task(&task(t, "l0", 0, 1)).await.unwrap();
        }
        for t in ["t2", "t1", "t-o"] {
            tx.set_task_assignees(t, &["alice".into(), "bob".into()]).await.unwrap();
        }
        tx.set_task_assignees("t3", &["alice".into()]).await.unwrap();
        assert_eq!(tx.unassign_member("b", "bob").await.unwrap(), ["t1", "t2"]);
        assert!(tx.unassign_member("b", "carol").await.unwrap().is_empty());
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.task("t1").await.unwrap().unwrap().assignee_ids, ["alice"]);
        assert_eq!(tx.task("t-o").await.unwrap().unwrap().assignee_ids, ["alice", "bob"]);
    }
}

#[tokio::test]
async fn seqs_and_the_log() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        tx.insert_board(&board("quiet"), &[]).await.unwrap();
        for _ in 0..5 {
            let seq = tx.next_seq("b").await.unwrap();
            tx.append_event(&event("b", seq)).await.unwrap();
        }
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        assert_eq!(tx.next_seq("b").await.unwrap(), 6);
        drop(tx);

        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.last_seq("b").await.unwrap(), 5, "the dropped seq was not taken");
        assert_eq!(tx.last_seq("none").await.unwrap(), 0);
        let mut seqs = tx
            .last_seqs(&["quiet".into(), "none".into(), "b".into()])
            .await
            .unwrap();
        seqs.sort();
        assert_eq!(seqs, [("b".to_owned(), 5), ("quiet".to_owned(), 0)]);
        assert!(tx.last_seqs(&[]).await.unwrap().is_empty());
        let seqs_of = |events: Vec<BoardEvent>| events.into_iter().map(|e| e.seq).collect::<Vec<_>>();
        let all = tx.events_after("b", 0, u32::MAX).await.unwrap();
        assert_eq!(all[2], event("b", 3), "an event reads back whole");
        assert_eq!(seqs_of(all), [1, 2, 3, 4, 5]);
        assert_eq!(seqs_of(tx.events_after("b", 2, 2).await.unwrap()), [3, 4]);
        assert!(tx.events_after("b", 5, 10).await.unwrap().is_empty());
        assert!(tx.events_after("quiet", 0, 10).await.unwrap().is_empty());
        assert_eq!(seqs_of(tx.events_before("b", None, 2).await.unwrap()), [5, 4]);
        assert_eq!(seqs_of(tx.events_before("b", Some(3), 10).await.unwrap()), [2, 1]);
        assert!(tx.events_before("b", Some(1), 10).await.unwrap().is_empty());
        drop(tx);
        // One seq, one event: the log refuses a second event under a taken seq.
        let mut tx = store.write().await.unwrap();
        assert!(tx.append_event(&event("b", 5)).await.is_err());
    }
}

#[tokio::test]
async fn an_idempotency_record_is_kept_once_per_actor_and_key() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        let record = |r: &[u8]| IdempotentRecord {
            fingerprint: b"op\0req".to_vec(),
            response: r.to_vec(),
            created_ms: 1,
        };
        let mut tx = store.write().await.unwrap();
        assert!(tx.idempotent("alice", "k").await.unwrap().is_none());
        tx.lock_request("alice", "k").await.unwrap();
        tx.remember("alice", "k", &record(b"first")).await.unwrap();
        tx.remember("bob", "k", &record(b"bob's")).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        let got = tx.idempotent("alice", "k").await.unwrap().unwrap();
        assert_eq!(
            (got.fingerprint, got.response, got.created_ms),
            (record(b"").fingerprint, b"first".to_vec(), 1)
        );
        assert_eq!(tx.idempotent("bob", "k").await.unwrap().unwrap().response, b"bob's");
        assert!(tx.idempotent("alice", "other").await.unwrap().is_none());
        assert!(tx.remember("alice", "k", &record(b"again")).await.is_err());
    }
}

/// Which of alice's request ids k0..k3 are stored.
async fn keys_left(tx: &mut dyn Tx) -> Vec<usize> {
    let mut keys = Vec::new();
    for i in 0..4 {
        if tx.idempotent("alice", &format!("k{i}")).await.unwrap().is_some() {
            keys.push(i);
        }
    }
    keys
}

#[tokio::test]
async fn request_ids_expire_oldest_first_a_batch_at_a_time() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        let mut tx = store.write().await.unwrap();
        for (i, created_ms) in [30, 10, 20, 40].into_iter().enumerate() {
            let record = IdempotentRecord {
                fingerprint: vec![1],
                response: vec![2],
                created_ms,
            };
            tx.remember("alice", &format!("k{i}"), &record).await.unwrap();
        }
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        assert_eq!(
            tx.expire_requests(35, 2).await.unwrap(),
            2,
            "a batch is at most the limit"
        );
        assert_eq!(keys_left(&mut *tx).await, [0, 3], "the two oldest went first");
        assert_eq!(
            tx.expire_requests(35, 2).await.unwrap(),
            1,
            "then what is left below 35"
        );
        tx.forget_request("alice", "k3").await.unwrap();
        assert!(keys_left(&mut *tx).await.is_empty());
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn a_log_is_compacted_below_its_horizon_and_the_horizon_recorded() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        tx.insert_board(&board("quiet"), &[]).await.unwrap();
        for seq in 1..=6 {
            assert_eq!(tx.next_seq("b").await.unwrap(), seq);
            let mut e = event("b", seq);
            e.occurred_at = Some(time::from_millis(i64::try_from(seq).unwrap() * 100));
            tx.append_event(&e).await.unwrap();
        }
        tx.commit().await.unwrap();
        let bounds = |last_seq, compacted_through| LogBounds {
            compacted_through,
            last_seq,
        };
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.log_bounds("b").await.unwrap(), bounds(6, 0));
        assert_eq!(tx.log_bounds("none").await.unwrap(), bounds(0, 0));
        assert_eq!(
            tx.compactable_boards(2).await.unwrap(),
            [("b".to_owned(), bounds(6, 0))]
        );
        assert!(
            tx.compactable_boards(6).await.unwrap().is_empty(),
            "none holds more than 6"
        );
        assert_eq!(tx.first_event_since("b", 0, 350).await.unwrap(), Some(4));
        assert_eq!(tx.first_event_since("b", 4, 0).await.unwrap(), Some(5));
        assert_eq!(tx.first_event_since("b", 0, 700).await.unwrap(), None);
        drop(tx);

        let mut tx = store.write().await.unwrap();
        assert_eq!(tx.compact_log("b", 2).await.unwrap(), 2);
        assert_eq!(tx.compact_log("b", 3).await.unwrap(), 1, "only what is left below");
        drop(tx);
        let mut tx = store.read().await.unwrap();
        assert_eq!(
            tx.log_bounds("b").await.unwrap(),
            bounds(6, 0),
            "a rolled back compaction left all"
        );
        drop(tx);

        let mut tx = store.write().await.unwrap();
        assert_eq!(tx.compact_log("b", 3).await.unwrap(), 3);
        assert_eq!(tx.compact_log("b", 1).await.unwrap(), 0, "the horizon never goes down");
        tx.commit().await.unwrap();
        let mut tx = store.read().await.unwrap();
        assert_eq!(tx.log_bounds("b").await.unwrap(), bounds(6, 3));
        let seqs: Vec<u64> = tx
            .events_after("b", 0, 10)
            .await
            .unwrap()
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [4, 5, 6]);
        assert_eq!(
            tx.compactable_boards(2).await.unwrap(),
            [("b".to_owned(), bounds(6, 3))]
        );
        assert!(
            tx.compactable_boards(3).await.unwrap().is_empty(),
            "3 above the horizon"
        );
        assert_eq!(tx.last_seq("b").await.unwrap(), 6, "the seq is untouched");
    }
}

/// Whether `f` is still pending after a while (another transaction holds it up).
async fn still_waiting<F: std::future::Future>(f: &mut std::pin::Pin<&mut F>) -> bool {
    tokio::time::timeout(Duration::from_millis(300), f.as_mut())
        .await
        .is_err()
}

#[tokio::test]
async fn a_write_on_a_locked_board_waits_for_the_lock_and_then_reads_what_it_committed() {
    // The second writer locks the board by its id, then through one of its rows.
    for through_row in [false, true] {
        for b in backends(Needs::Any).await {
            eprintln!("backend: {}, locking through a row: {through_row}", b.name);
            let store = b.store.clone();
            seed(store.as_ref()).await;
            let mut first = store.write().await.unwrap();
            first.lock_board("b").await.unwrap();
            let second = {
                let store = store.clone();
                async move {
                    let mut tx = store.write().await.unwrap();
                    let board = if through_row {
                        tx.lock_board_of(OnBoard::List("l0")).await.unwrap()
                    } else {
                        tx.lock_board("b").await.unwrap();
                        Some("b".to_owned())
                    };
                    let order = tx.task_order("l0").await.unwrap();
                    let name = tx.list("l0").await.unwrap().map(|l| l.name);
                    let seq = tx.next_seq("b").await.unwrap();
                    tx.append_event(&event("b", seq)).await.unwrap();
                    tx.commit().await.unwrap();
                    (board, order, name, seq)
                }
            };
            let second = tokio::spawn(second);
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!second.is_finished(), "the second write did not wait for the lock");
            first.insert_task(&task("t", "l0", 0, 1)).await.unwrap();
            let renamed = BoardList {
                name: "Renamed".into(),
                ..list("l0", "b", 0)
            };
            first.update_list(&renamed).await.unwrap();
            assert_eq!(first.next_seq("b").await.unwrap(), 1);
            first.append_event(&event("b", 1)).await.unwrap();
            first.commit().await.unwrap();
            let (board, order, name, seq) = second.await.unwrap();
            assert_eq!(board.as_deref(), Some("b"));
            assert_eq!(
                order,
                vec!["t".to_owned()],
                "the second write read the list's order from before the lock"
            );
            assert_eq!(
                name.as_deref(),
                Some("Renamed"),
                "the second write read the row from before the lock"
            );
            assert_eq!(seq, 2);
        }
    }
}

#[tokio::test]
async fn a_row_locks_the_board_it_belongs_to() {
    for b in backends(Needs::Any).await {
        eprintln!("backend: {}", b.name);
        let store = b.store.as_ref();
        seed(store).await;
        let mut tx = store.write().await.unwrap();
        tx.insert_task(&task("t", "l0", 0, 1)).await.unwrap();
        tx.insert_label(&label("lab", "x")).await.unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.write().await.unwrap();
        for row in [OnBoard::List("l1"), OnBoard::Task("t"), OnBoard::Label("lab")] {
            assert_eq!(tx.lock_board_of(row).await.unwrap().as_deref(), Some("b"), "{row:?}");
        }
        for row in [OnBoard::List("nope"), OnBoard::Task("nope"), OnBoard::Label("nope")] {
            assert_eq!(tx.lock_board_of(row).await.unwrap(), None, "{row:?}");
        }
        // Locked through a row, the board is locked as by its id: its next seq follows.
        let seq = tx.next_seq("b").await.unwrap();
        tx.append_event(&event("b", seq)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.read().await.unwrap().last_seq("b").await.unwrap(), 1);
    }
}

#[tokio::test]
async fn a_connection_the_server_closed_while_pooled_is_replaced_when_lent() {
    let Some(url) = test_database().await else { return };
    let store = PgStore::connect(&url).await.unwrap();
    seed(&store).await;
    // Several connections in the pool, every one just used: none is idle long enough
    // to be pinged before it is lent again.
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(store.write().await.unwrap());
    }
    for tx in open {
        tx.commit().await.unwrap();
    }
    end_every_session(&url).await;
    for round in 0..6 {
        let mut tx = store
            .write()
            .await
            .unwrap_or_else(|e| panic!("round {round}: a write on a closed connection: {e}"));
        tx.lock_board("b").await.unwrap();
        tx.insert_board(&board(&format!("after-{round}")), &[]).await.unwrap();
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn a_lock_is_per_board_on_postgres() {
    let Some(url) = test_database().await else { return };
    let store = PgStore::connect(&url).await.unwrap();
    seed(&store).await;
    let mut tx = store.write().await.unwrap();
    tx.insert_board(&board("other"), &[]).await.unwrap();
    tx.commit().await.unwrap();
    let mut first = store.write().await.unwrap();
    first.lock_board("b").await.unwrap();
    first.lock_request("alice", "k").await.unwrap();
    let mut other = store.write().await.unwrap();
    // Another board, another request id: nothing to wait for.
    other.lock_board("other").await.unwrap();
    other.lock_request("alice", "k2").await.unwrap();
    other.commit().await.unwrap();
    let mut same_key = store.write().await.unwrap();
    let locking = same_key.lock_request("alice", "k");
    tokio::pin!(locking);
    assert!(still_waiting(&mut locking).await, "the same request id did not wait");
    drop(first);
    locking.await.unwrap();
}

/// The server ends every session of the database `url` names (but the one that asks).
async fn end_every_session(url: &str) {
    let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(url).await.unwrap();
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_lost_connection_is_unavailable_and_its_transaction_rolled_back() {
    let Some(url) = test_database().await else { return };
    let store = PgStore::connect(&url).await.unwrap();
    let mut tx = store.write().await.unwrap();
    tx.insert_user(&user("lost"), None).await.unwrap();
    end_every_session(&url).await;
    let Err(e) = tx.insert_user(&user("later"), None).await else {
        panic!("a statement on a terminated session succeeded")
    };
    assert!(e.is_unavailable(), "{e:?}");
    drop(tx);
    // The pool opens new connections: the store works again, and nothing of the lost
    // transaction was kept.
    assert!(!user_exists(&store, "lost").await);
}

#[tokio::test]
async fn a_transaction_dropped_while_it_begins_leaves_no_transaction_behind_on_postgres() {
    let Some(url) = test_database().await else { return };
    // One connection, so the next transaction reuses the one a cancelled begin had.
    let store = PgStore::connect(&format!("{url}?max_connections=1")).await.unwrap();
    seed(&store).await;
    for round in 0..60 {
        // A read dropped after a few polls: at one of its awaits, some rounds mid-`BEGIN`.
        {
            let read = store.read();
            tokio::pin!(read);
            for _ in 0..=round % 6 {
                if futures_util::poll!(&mut read).is_ready() {
                    break;
                }
                tokio::task::yield_now().await;
            }
        }
        // Were that read-only transaction left open, this write would run inside it.
        let mut tx = store.write().await.unwrap();
        tx.lock_board("b")
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        tx.insert_board(&board(&format!("after-{round}")), &[]).await.unwrap();
        tx.commit().await.unwrap();
    }
    let mut tx = store.read().await.unwrap();
    assert!(tx.board("after-59").await.unwrap().is_some());
}
