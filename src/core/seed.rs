//! What a database starts with. Always the loopback guest (an identity, not data);
//! with `--demo`, the seed course's boards, lists and tasks and the demo users
//! `alice`, `bob` and `carol` with the known passwords of [`DEMO_USERS`] (documented
//! in the README). Each is written once, in one transaction.

use super::GUEST_ID;
use super::secrets::hash_password_blocking;
use super::{Result, time};
use crate::proto::v1::{Board, BoardList, Role, Task, User};
use crate::store::{Store, Tx};

struct SeedBoard {
    id: &'static str,
    name: &'static str,
    members: &'static [&'static str],
    lists: &'static [(&'static str, &'static str)],
    /// (task id, list id, title, description)
    tasks: &'static [(&'static str, &'static str, &'static str, &'static str)],
}

/// The demo accounts: (id and username, display name, password). Demo data only:
/// the passwords are public (README).
pub const DEMO_USERS: &[(&str, &str, &str)] = &[
    ("alice", "Alice", "alice-demo-pw"),
    ("bob", "Bob", "bob-demo-pw"),
    ("carol", "Carol", "carol-demo-pw"),
];

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

/// What [`seed`] wrote.
#[derive(Debug, Default, PartialEq)]
pub struct Seeded {
    /// The database was new: the guest was created.
    pub fresh: bool,
    /// The demo boards and users were created.
    pub demo: bool,
}

/// Creates the guest on a new database and, when `demo` is set and the demo data is
/// not there yet, the demo boards and users. A database that has them is left alone;
/// so is one where a demo username was taken by a real account.
pub async fn seed(store: &dyn Store, demo: bool) -> Result<Seeded> {
    // Hashed before the transaction opens, in parallel, off the runtime's workers, and
    // only when some demo user will need one: argon2 costs ~19 MiB and tens of ms each.
    let hashes = if demo && needs_demo_passwords(store).await? {
        let jobs = DEMO_USERS
            .iter()
            .map(|(_, _, pw)| hash_password_blocking((*pw).to_owned()));
        futures_util::future::try_join_all(jobs).await?
    } else {
        Vec::new()
    };
    let mut tx = store.write().await?;
    // Seeding is a request of the system's own: instances starting together on one
    // empty database take turns here, and the later ones find the seed in place.
    tx.lock_request("", "seed").await?;
    let mut seeded = Seeded::default();
    if tx.user(GUEST_ID).await?.is_none() {
        let guest = User {
            id: GUEST_ID.into(),
            name: "Guest".into(),
            username: String::new(),
        };
        tx.insert_user(&guest, None).await?;
        seeded.fresh = true;
    }
    if demo && demo_present(tx.as_mut()).await? {
        give_demo_users_passwords(tx.as_mut(), &hashes).await?;
    } else if demo {
        for ((id, name, _), hash) in DEMO_USERS.iter().zip(&hashes) {
            let user = User {
                id: (*id).into(),
                name: (*name).into(),
                username: (*id).into(),
            };
            tx.insert_user(&user, Some(hash)).await?;
        }
        demo_boards(tx.as_mut()).await?;
        seeded.demo = true;
    }
    tx.commit().await?;
    Ok(seeded)
}

/// Whether seeding the demo would set any password: the demo is not there yet, or a
/// demo user has none.
async fn needs_demo_passwords(store: &dyn Store) -> Result<bool> {
    let mut tx = store.read().await?;
    if !demo_present(tx.as_mut()).await? {
        return Ok(true);
    }
    for (id, _, _) in DEMO_USERS {
        if matches!(tx.user_by_username(id).await?, Some((user, None)) if user.id == *id) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A database made before accounts had passwords holds the demo users without one:
/// `--demo` gives them the documented demo password, so they can sign in as the README
/// says. A demo user who has a password keeps it.
async fn give_demo_users_passwords(tx: &mut dyn Tx, hashes: &[String]) -> Result<()> {
    for ((id, _, _), hash) in DEMO_USERS.iter().zip(hashes) {
        if let Some((user, None)) = tx.user_by_username(id).await?
            && user.id == *id
        {
            tx.set_password_hash(id, hash).await?;
        }
    }
    Ok(())
}

/// Whether any of the demo data (a board, a user or a username) is there already.
async fn demo_present(tx: &mut dyn Tx) -> Result<bool> {
    for b in BOARDS {
        if tx.board(b.id).await?.is_some() {
            return Ok(true);
        }
    }
    for (id, _, _) in DEMO_USERS {
        if tx.user(id).await?.is_some() || tx.user_by_username(id).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The seed course's boards, lists and tasks. Each board's first member is its
/// owner, the others editors (roles arrive with board membership roles).
async fn demo_boards(tx: &mut dyn Tx) -> Result<()> {
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
                    ..Task::default()
                })
                .await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    #[tokio::test]
    async fn demo_users_from_before_passwords_get_the_demo_password_and_others_keep_theirs() {
        let store = SqliteStore::connect("sqlite::memory:").await.unwrap();
        seed(&store, false).await.unwrap();
        // As a database made before accounts holds them: no password.
        let mut tx = store.write().await.unwrap();
        for id in ["alice", "bob"] {
            let user = User {
                id: id.into(),
                name: id.into(),
                username: id.into(),
            };
            tx.insert_user(&user, None).await.unwrap();
        }
        tx.set_password_hash("bob", "bob's own").await.unwrap();
        tx.commit().await.unwrap();

        let seeded = seed(&store, true).await.unwrap();
        assert!(!seeded.demo, "the demo data is not seeded twice");
        let mut tx = store.read().await.unwrap();
        let (_, alice) = tx.user_by_username("alice").await.unwrap().unwrap();
        let alice = alice.expect("alice has a password now");
        assert!(crate::core::secrets::verify_password("alice-demo-pw", &alice));
        let (_, bob) = tx.user_by_username("bob").await.unwrap().unwrap();
        assert_eq!(bob.as_deref(), Some("bob's own"));
    }

    #[tokio::test]
    async fn instances_starting_together_on_an_empty_database_seed_it_once() {
        let Some(url) = crate::store::postgres::scratch::test_database().await else {
            return;
        };
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(crate::store::connect(&url).await.unwrap());
        }
        let seeded = futures_util::future::join_all(stores.iter().map(|s| seed(s.as_ref(), true))).await;
        let seeded: Vec<Seeded> = seeded.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            seeded.iter().filter(|s| s.demo).count(),
            1,
            "one of them seeded the demo: {seeded:?}"
        );
        let mut tx = stores[0].read().await.unwrap();
        assert_eq!(tx.boards_of("alice").await.unwrap().len(), 2);
    }
}
