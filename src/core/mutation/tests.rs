//! The pipeline against an in-memory SQLite store: replay, key reuse, rollback of a
//! refused change, and publish only after commit.

use std::sync::Arc;

use super::super::{Actor, Core, Error, seed};
use crate::bus::Bus;
use crate::proto::v1::{CreateTaskRequest, DeleteTaskRequest, GetBoardRequest, UpdateTaskRequest};
use crate::store::{SqliteStore, Store};

async fn core() -> Core {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::connect("sqlite::memory:").await.unwrap());
    seed::seed(store.as_ref(), true).await.unwrap();
    Core::new(store, Arc::new(Bus::new(16)), 8, Arc::default())
}

fn alice() -> Actor {
    Actor::for_tests("alice", "Alice")
}

fn create(title: &str, request_id: &str) -> CreateTaskRequest {
    CreateTaskRequest {
        list_id: "list-todo".into(),
        title: title.into(),
        request_id: request_id.into(),
        ..Default::default()
    }
}

async fn board_seq(core: &Core) -> (u64, usize) {
    let board = core
        .get_board(
            &alice(),
            GetBoardRequest {
                board_id: "board-1".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    (board.seq, board.tasks.len())
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_applies_nothing() {
    let core = core().await;
    let first = core.create_task(&alice(), create("once", "k1")).await.unwrap();
    let again = core.create_task(&alice(), create("once", "k1")).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(board_seq(&core).await, (1, 6));
}

#[tokio::test]
async fn a_request_id_reused_for_another_request_is_refused_and_writes_nothing() {
    let core = core().await;
    core.create_task(&alice(), create("one", "k1")).await.unwrap();
    let other_body = core.create_task(&alice(), create("two", "k1")).await;
    assert!(
        matches!(other_body, Err(Error::IdempotencyKeyReused { .. })),
        "{other_body:?}"
    );
    // The same id on another operation is another request, even with a similar body.
    let other_op = core
        .delete_task(
            &alice(),
            DeleteTaskRequest {
                task_id: "task-1".into(),
                request_id: "k1".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(other_op, Err(Error::IdempotencyKeyReused { .. })),
        "{other_op:?}"
    );
    assert_eq!(board_seq(&core).await, (1, 6));
}

#[tokio::test]
async fn a_refused_change_rolls_back_and_appends_no_event() {
    let core = core().await;
    let stale = core
        .update_task(
            &alice(),
            UpdateTaskRequest {
                task_id: "task-1".into(),
                title: Some("late".into()),
                expected_version: Some(7),
                request_id: "k2".into(),
                ..Default::default()
            },
        )
        .await;
    assert!(
        matches!(stale, Err(Error::VersionConflict { current: 1, .. })),
        "{stale:?}"
    );
    assert_eq!(board_seq(&core).await, (0, 5));
    // Nothing was remembered under the refused request's id: it can still be used.
    let ok = core
        .update_task(
            &alice(),
            UpdateTaskRequest {
                task_id: "task-1".into(),
                title: Some("on time".into()),
                expected_version: Some(1),
                request_id: "k2".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!((ok.seq, ok.task.unwrap().version), (1, 2));
}

#[tokio::test]
async fn the_event_is_published_once_committed_with_the_answers_seq() {
    let core = core().await;
    let mut live = core.bus().subscribe("board-1");
    let created = core.create_task(&alice(), create("live", "")).await.unwrap();
    let event = live.recv().await.unwrap();
    assert_eq!(event.seq(), created.seq);
    assert_eq!(event.event.actor, "alice");
    // Published means committed: a fresh read sees it.
    assert_eq!(board_seq(&core).await, (created.seq, 6));
}
