//! What a fresh database starts with: the seed course's boards, lists and tasks, and
//! dev users with random tokens. Written once, the first time the server opens an
//! empty database, in one transaction.

use super::GUEST_ID;
use super::{Result, time};
use crate::proto::v1::{Board, BoardList, Role, Task, User};
use crate::store::Store;

struct SeedBoard {
    id: &'static str,
    name: &'static str,
    members: &'static [&'static str],
    lists: &'static [(&'static str, &'static str)],
    /// (task id, list id, title, description)
    tasks: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

const USERS: &[(&str, &str)] = &[("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")];

const BOARDS: &[SeedBoard] = &[
    SeedBoard {
        id: "board-1",
        name: "Launch",
        members: &["alice", "bob", GUEST_ID],
        lists: &[
            ("list-todo", "To Do"),
            ("list-doing", "In Progress"),
            ("list-done", "Done"),
        ],
        tasks: &[
            (
                "task-1",
                "list-todo",
                "Write the launch announcement",
                "Draft, review, schedule.",
            ),
            ("task-2", "list-todo", "Set up the staging server", ""),
            (
                "task-3",
                "list-doing",
                "Design the landing page",
                "Hero, pricing, sign-up.",
            ),
            ("task-4", "list-doing", "Fix the sign-up email bug", ""),
            ("task-5", "list-done", "Create the repository", ""),
        ],
    },
    SeedBoard {
        id: "board-2",
        name: "Research",
        members: &["carol", "alice", GUEST_ID],
        lists: &[
            ("list-backlog", "Backlog"),
            ("list-active", "Active"),
            ("list-archive", "Archive"),
        ],
        tasks: &[
            ("task-6", "list-backlog", "Survey real-time protocols", ""),
            ("task-7", "list-active", "Compare SSE and WebSocket latency", ""),
        ],
    },
];

/// Seeds an empty database; a seeded one (the guest user exists) is left alone.
pub async fn seed_if_empty(store: &dyn Store) -> Result<bool> {
    let mut tx = store.write().await?;
    if tx.user(GUEST_ID).await?.is_some() {
        return Ok(false);
    }
    let guest = User {
        id: GUEST_ID.into(),
        name: "Guest".into(),
    };
    tx.insert_user(&guest, None).await?;
    for (id, name) in USERS {
        let token = format!("bc_{}", uuid::Uuid::new_v4().simple());
        let user = User {
            id: (*id).into(),
            name: (*name).into(),
        };
        tx.insert_user(&user, Some(&token)).await?;
    }
    let now = time::from_millis(time::now_millis());
    for b in BOARDS {
        let board = Board {
            id: b.id.into(),
            name: b.name.into(),
            created_at: Some(now),
            archived: false,
        };
        // The first member owns the board; the others (the guest too) edit it.
        let members: Vec<_> = (b.members.iter().enumerate())
            .map(|(i, id)| (*id, if i == 0 { Role::Owner } else { Role::Editor }))
            .collect();
        tx.insert_board(&board, &members).await?;
        for (position, (id, name)) in b.lists.iter().enumerate() {
            tx.insert_list(&BoardList {
                id: (*id).into(),
                board_id: b.id.into(),
                name: (*name).into(),
                position: super::ordering::position_of(position),
            })
            .await?;
        }
        for (list_id, _) in b.lists {
            let in_list = b.tasks.iter().filter(|t| t.1 == *list_id);
            for (position, (id, _, title, description)) in in_list.enumerate() {
                tx.insert_task(&Task {
                    id: (*id).into(),
                    board_id: b.id.into(),
                    list_id: (*list_id).into(),
                    title: (*title).into(),
                    description: (*description).into(),
                    position: super::ordering::position_of(position),
                    version: 1,
                    created_at: Some(now),
                    updated_at: Some(now),
                    created_by: b.members[0].into(),
                })
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(true)
}
