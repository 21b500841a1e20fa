//! Who may see and change a board. Identity (which user a token names) is resolved
//! by `auth` before core is called; here a resolved [`Actor`] meets the board's
//! membership. Every rule that reads a board or a task goes through these checks.

use super::{Error, Result};
use crate::proto::v1::{Board, BoardList, Task, User};
use crate::store::Tx;

/// The identity of token-less requests when guest access is on (loopback listeners):
/// a member of the seeded boards, so the seed course's walkthrough works as written.
pub const GUEST_ID: &str = "guest";

/// Who is asking: an authenticated user, or the loopback guest.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub user: User,
    /// The credential (session or personal token) the caller authenticated with; `None`
    /// for the guest.
    pub credential_id: Option<String>,
}

/// The actor is a member of the board, or the call is refused with 403.
pub(super) async fn require_member(tx: &mut dyn Tx, actor: &Actor, board_id: &str) -> Result<()> {
    if tx.is_member(board_id, &actor.user.id).await? {
        Ok(())
    } else {
        Err(Error::PermissionDenied {
            board_id: board_id.to_owned(),
        })
    }
}

/// A board the actor may see: 404 when it does not exist, 403 when the actor is not
/// a member.
pub(super) async fn visible_board(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<Board> {
    let board = tx.board(id).await?.ok_or_else(|| Error::not_found("board", id))?;
    require_member(tx, actor, id).await?;
    Ok(board)
}

/// A task the actor may see: 404 when it does not exist, 403 when it is on a board the
/// actor is not a member of.
pub(super) async fn visible_task(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<Task> {
    let task = tx.task(id).await?.ok_or_else(|| Error::not_found("task", id))?;
    require_member(tx, actor, &task.board_id).await?;
    Ok(task)
}

/// A list the actor may see: 404 when it does not exist, 403 when it is on a board the
/// actor is not a member of.
pub(super) async fn visible_list(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<BoardList> {
    let list = tx.list(id).await?.ok_or_else(|| Error::not_found("list", id))?;
    require_member(tx, actor, &list.board_id).await?;
    Ok(list)
}
