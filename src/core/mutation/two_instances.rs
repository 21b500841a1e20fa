//! Two instances (two `Core`s, each with a pool of its own) on one PostgreSQL
//! database, changing one board at once: the board lock must make their mutations
//! run one at a time, so positions stay dense, seqs gap-free and the log a history
//! that replays to the board as it ends.

use std::collections::HashMap;
use std::sync::Arc;

use super::super::{Actor, Core, seed};
use crate::bus::Bus;
use crate::proto::v1::{
    CreateTaskRequest, GetBoardRequest, GetBoardResponse, MoveTaskRequest, Task, board_event::Payload,
};
use crate::store::postgres::scratch::test_database;
use crate::store::{PgStore, Store};

fn alice() -> Actor {
    Actor::for_tests("alice", "Alice")
}

/// Two cores on one fresh, seeded database; `None` when PostgreSQL is unavailable.
async fn two_instances() -> Option<(Arc<Core>, Arc<Core>)> {
    let url = test_database().await?;
    let mut cores = Vec::new();
    for _ in 0..2 {
        let store: Arc<dyn Store> = Arc::new(PgStore::connect(&url).await.unwrap());
        cores.push(Arc::new(Core::new(store, Arc::new(Bus::new(64)), 8, Arc::default())));
    }
    seed::seed(cores[0].store(), true).await.unwrap();
    let b = cores.pop()?;
    Some((cores.pop()?, b))
}

async fn board(core: &Core) -> GetBoardResponse {
    let req = GetBoardRequest {
        board_id: "board-1".into(),
        ..Default::default()
    };
    core.get_board(&alice(), req).await.unwrap()
}

/// The board's tasks after applying its log, in order, to `start`.
fn replay(start: &GetBoardResponse, events: &[crate::proto::v1::BoardEvent]) -> HashMap<String, Task> {
    let mut tasks: HashMap<String, Task> = start.tasks.iter().map(|t| (t.id.clone(), t.clone())).collect();
    for event in events {
        let (task, shifted) = match event.payload.clone() {
            Some(Payload::TaskCreated(c)) => (c.task, c.shifted),
            Some(Payload::TaskMoved(m)) => (m.task, m.shifted),
            other => panic!("unexpected event {other:?}"),
        };
        let task = task.unwrap();
        tasks.insert(task.id.clone(), task);
        for p in shifted {
            let t = tasks.get_mut(&p.task_id).unwrap();
            t.list_id = p.list_id;
            t.position = p.position;
        }
    }
    tasks
}

#[tokio::test]
async fn concurrent_mutations_of_one_board_on_two_instances_run_one_at_a_time() {
    let Some((a, b)) = two_instances().await else { return };
    let start = board(&a).await;
    let mut running = Vec::new();
    for i in 0..40 {
        let core = if i % 2 == 0 { a.clone() } else { b.clone() };
        running.push(tokio::spawn(async move {
            // Everything lands at the head of a list: each change shifts every other.
            if i % 4 < 2 {
                let req = CreateTaskRequest {
                    list_id: "list-todo".into(),
                    title: format!("new {i}"),
                    position: Some(0),
                    ..Default::default()
                };
                core.create_task(&alice(), req).await.map(|r| r.seq)
            } else {
                let req = MoveTaskRequest {
                    task_id: ["task-1", "task-2", "task-3", "task-4"][i % 4].into(),
                    list_id: ["list-todo", "list-doing"][(i / 4) % 2].into(),
                    position: Some(0),
                    ..Default::default()
                };
                core.move_task(&alice(), req).await.map(|r| r.seq)
            }
        }));
    }
    let mut seqs = Vec::new();
    for r in running {
        seqs.push(r.await.unwrap().unwrap());
    }
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (start.seq + 1..=start.seq + 40).collect::<Vec<_>>(),
        "one seq each, no gap"
    );

    let end = board(&b).await;
    assert_eq!(end.seq, start.seq + 40);
    let mut by_list: HashMap<&str, Vec<i32>> = HashMap::new();
    for t in &end.tasks {
        by_list.entry(&t.list_id).or_default().push(t.position);
    }
    for (list, mut positions) in by_list {
        positions.sort_unstable();
        assert_eq!(positions, (0..).take(positions.len()).collect::<Vec<i32>>(), "{list}");
    }
    let log = {
        let mut tx = a.store().read().await.unwrap();
        tx.events_after("board-1", start.seq, u32::MAX).await.unwrap()
    };
    let log_seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
    assert_eq!(log_seqs, (start.seq + 1..=end.seq).collect::<Vec<_>>());
    // Each event was computed from the state the one before left: replayed, the log
    // gives the board as it is, positions and versions alike.
    let replayed = replay(&start, &log);
    let actual: HashMap<String, Task> = end.tasks.iter().map(|t| (t.id.clone(), t.clone())).collect();
    assert_eq!(replayed.len(), actual.len());
    for (id, t) in &actual {
        let r = &replayed[id];
        assert_eq!(
            (&r.list_id, r.position, r.version),
            (&t.list_id, t.position, t.version),
            "{id}"
        );
    }
}

#[tokio::test]
async fn a_retry_racing_its_first_attempt_on_another_instance_is_answered_not_applied() {
    let Some((a, b)) = two_instances().await else { return };
    let start = board(&a).await;
    let req = CreateTaskRequest {
        list_id: "list-todo".into(),
        title: "once".into(),
        request_id: "retry-1".into(),
        ..Default::default()
    };
    let actor = alice();
    let (first, second) = tokio::join!(a.create_task(&actor, req.clone()), b.create_task(&actor, req));
    assert_eq!(first.unwrap(), second.unwrap());
    let end = board(&b).await;
    assert_eq!((end.seq, end.tasks.len()), (start.seq + 1, start.tasks.len() + 1));
}
