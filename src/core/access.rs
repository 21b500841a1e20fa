//! Who may see and change a board. Identity (which user a token names) is resolved
//! by `auth` before core is called; here a resolved [`Actor`] meets the board's
//! membership and the member's role. Every rule that reads or changes a board, a list
//! or a task goes through these checks.
//!
//! - Every read (and every stream) needs membership.
//! - Changing lists and tasks needs the editor or owner role; renaming, archiving and
//!   deleting the board and managing its members need the owner role.
//! - A non-member learns nothing: a board, list or task on a board the actor is not a
//!   member of is `NotFound`, exactly as one that does not exist.
//! - An archived board refuses every change but its unarchiving (409).
//!
//! A change (`need` above [`Need::Read`]) first locks the board ([`Tx::lock_board`]):
//! on a database several instances share, two changes of one board would otherwise
//! read the same list order or version and both write. What a helper returns was read
//! after the lock, so the rule sees the board as the previous change left it.

use super::{Error, Result};
use crate::proto::v1::{Board, BoardList, Label, Role, Task, User};
use crate::store::{OnBoard, Tx};

/// The identity of token-less requests when guest access is on (loopback listeners):
/// an editor of the seeded boards, so the seed course's walkthrough works as written.
pub const GUEST_ID: &str = "guest";

/// Who is asking: an authenticated user, or the loopback guest.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub user: User,
    /// The credential (session or personal token) the caller authenticated with; `None`
    /// for the guest.
    pub credential_id: Option<String>,
    /// The client's address, as the transport saw it (the TCP peer, or the proxy's
    /// `X-Forwarded-For` with `--trust-proxy`): what per-address rate limits count.
    /// `None` for calls from inside the process.
    pub client_ip: Option<std::net::IpAddr>,
}

/// What an operation needs of the actor's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Need {
    /// Any member: reads and streams.
    Read,
    /// Editor or owner: list and task changes.
    Edit,
    /// Owner: the board itself and its members.
    Own,
}

impl Need {
    fn allows(self, role: Role) -> bool {
        match self {
            Need::Read => role != Role::Unspecified,
            Need::Edit => matches!(role, Role::Owner | Role::Editor),
            Need::Own => role == Role::Owner,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Need::Read => "membership",
            Need::Edit => "an editor or owner",
            Need::Own => "an owner",
        }
    }
}

fn article(role: Role) -> &'static str {
    match role {
        Role::Owner => "an owner",
        Role::Editor => "an editor",
        Role::Viewer => "a viewer",
        Role::Unspecified => "no member",
    }
}

/// The actor's role on `board_id` allows `need`, or the call is refused: `missing()`
/// (the caller's own "not found") for a non-member, 403 for a member whose role is
/// too small. Returns the role.
async fn require(
    tx: &mut dyn Tx,
    actor: &Actor,
    board_id: &str,
    need: Need,
    missing: impl FnOnce() -> Error,
) -> Result<Role> {
    let role = tx.member_role(board_id, &actor.user.id).await?.ok_or_else(missing)?;
    if need.allows(role) {
        Ok(role)
    } else {
        Err(Error::PermissionDenied {
            board_id: board_id.to_owned(),
            role: article(role),
            needed: need.describe(),
        })
    }
}

/// A board that accepts changes: not archived.
pub(super) fn writable(board: &Board) -> Result<()> {
    if board.archived {
        Err(Error::Conflict(format!(
            "board `{}` is archived and read-only: unarchive it first",
            board.id
        )))
    } else {
        Ok(())
    }
}

/// A board the actor's role allows `need` on (its archived state not checked: the
/// caller decides). A non-member's board is 404 like a missing one.
pub(super) async fn board_as(tx: &mut dyn Tx, actor: &Actor, id: &str, need: Need) -> Result<Board> {
    let missing = || Error::not_found("board", id);
    if need > Need::Read {
        tx.lock_board(id).await?;
    }
    // Membership first: a missing board and a hidden one then cost the same one read
    // before their (identical) 404, so timing does not tell them apart either.
    require(tx, actor, id, need, missing).await?;
    tx.board(id).await?.ok_or_else(missing)
}

/// A board the actor may see: 404 when it does not exist or the actor is not a member.
pub(super) async fn visible_board(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<Board> {
    board_as(tx, actor, id, Need::Read).await
}

/// A task whose board allows `need` (and, for a change, is not archived): 404 when it
/// does not exist or is on a board the actor is not a member of.
pub(super) async fn task_as(tx: &mut dyn Tx, actor: &Actor, id: &str, need: Need) -> Result<Task> {
    let missing = || Error::not_found("task", id);
    if need > Need::Read {
        tx.lock_board_of(OnBoard::Task(id)).await?.ok_or_else(missing)?;
    }
    let task = tx.task(id).await?.ok_or_else(missing)?;
    require(tx, actor, &task.board_id, need, missing).await?;
    if need > Need::Read {
        writable(&tx.board(&task.board_id).await?.ok_or_else(missing)?)?;
    }
    Ok(task)
}

/// A task the actor may see.
pub(super) async fn visible_task(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<Task> {
    task_as(tx, actor, id, Need::Read).await
}

/// A list whose board allows `need` (and, for a change, is not archived): 404 when it
/// does not exist or is on a board the actor is not a member of.
pub(super) async fn list_as(tx: &mut dyn Tx, actor: &Actor, id: &str, need: Need) -> Result<BoardList> {
    let missing = || Error::not_found("list", id);
    if need > Need::Read {
        tx.lock_board_of(OnBoard::List(id)).await?.ok_or_else(missing)?;
    }
    let list = tx.list(id).await?.ok_or_else(missing)?;
    require(tx, actor, &list.board_id, need, missing).await?;
    if need > Need::Read {
        writable(&tx.board(&list.board_id).await?.ok_or_else(missing)?)?;
    }
    Ok(list)
}

/// A label whose board allows `need` (and, for a change, is not archived): 404 when
/// it does not exist or is on a board the actor is not a member of.
pub(super) async fn label_as(tx: &mut dyn Tx, actor: &Actor, id: &str, need: Need) -> Result<Label> {
    let missing = || Error::not_found("label", id);
    if need > Need::Read {
        tx.lock_board_of(OnBoard::Label(id)).await?.ok_or_else(missing)?;
    }
    let label = tx.label(id).await?.ok_or_else(missing)?;
    let board = tx.board(&label.board_id).await?.ok_or_else(missing)?;
    require(tx, actor, &board.id, need, missing).await?;
    if need > Need::Read {
        writable(&board)?;
    }
    Ok(label)
}

/// A signed-in user (username = id) with no credential, for core's own tests.
#[cfg(test)]
impl Actor {
    pub(crate) fn for_tests(id: &str, name: &str) -> Actor {
        Actor {
            user: User {
                id: id.into(),
                name: name.into(),
                username: id.into(),
            },
            credential_id: None,
            client_ip: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_need_admits_exactly_the_roles_of_the_table() {
        let admits = |need: Need| -> Vec<Role> {
            [Role::Owner, Role::Editor, Role::Viewer, Role::Unspecified]
                .into_iter()
                .filter(|r| need.allows(*r))
                .collect()
        };
        assert_eq!(admits(Need::Read), [Role::Owner, Role::Editor, Role::Viewer]);
        assert_eq!(admits(Need::Edit), [Role::Owner, Role::Editor]);
        assert_eq!(admits(Need::Own), [Role::Owner]);
    }
}
