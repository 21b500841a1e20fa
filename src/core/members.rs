//! Members and their roles: any member lists them; owners add members by username,
//! change roles and remove members; any member may remove themself (leave). A board
//! always keeps at least one owner.

use super::access::{Actor, Need, board_as, visible_board, writable};
use super::mutation::begin;
use super::validate;
use super::{Core, Error, Result};
use crate::proto::json::role as role_json;
use crate::proto::v1::{
    AddMemberRequest, AddMemberResponse, ListMembersRequest, ListMembersResponse, Member, MemberAdded, MemberRemoved,
    MemberUpdated, RemoveMemberRequest, RemoveMemberResponse, Role, UpdateMemberRequest, UpdateMemberResponse,
    board_event::Payload,
};
use crate::store::Tx;

/// A role a member can be given: owner, editor or viewer.
fn role(raw: i32) -> Result<Role> {
    match Role::try_from(raw) {
        Ok(r @ (Role::Owner | Role::Editor | Role::Viewer)) => Ok(r),
        _ => Err(Error::invalid("role", "role must be owner, editor or viewer")),
    }
}

/// The member `user_id` of `board_id`, or 404 naming them.
async fn member_of(tx: &mut dyn Tx, board_id: &str, user_id: &str) -> Result<Member> {
    tx.member(board_id, user_id)
        .await?
        .ok_or_else(|| Error::not_found("member", user_id))
}

/// Refuses to take the owner role from `member` when they are the board's last owner.
async fn keep_an_owner(tx: &mut dyn Tx, board_id: &str, member: &Member, what: &str) -> Result<()> {
    if member.role == Role::Owner as i32 && tx.owner_count(board_id).await? <= 1 {
        return Err(Error::Conflict(format!(
            "`{}` is the last owner of board `{board_id}` and cannot be {what}: make another member owner first",
            member.username
        )));
    }
    Ok(())
}

impl Core {
    pub async fn list_members(&self, actor: &Actor, req: ListMembersRequest) -> Result<ListMembersResponse> {
        validate::required("boardId", &req.board_id)?;
        let mut tx = self.store.read().await?;
        let board = visible_board(&mut *tx, actor, &req.board_id).await?;
        Ok(ListMembersResponse {
            members: tx.members(&board.id).await?,
        })
    }

    pub async fn add_member(&self, actor: &Actor, req: AddMemberRequest) -> Result<AddMemberResponse> {
        validate::required("boardId", &req.board_id)?;
        validate::required("username", &req.username)?;
        let new_role = role(req.role)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let board = board_as(tx, actor, &req.board_id, Need::Own).await?;
        writable(&board)?;
        // Usernames are stored lowercase: looking one up ignores case.
        let found = tx.user_by_username(&req.username.trim().to_lowercase()).await?;
        let user = found
            .map(|(user, _)| user)
            .ok_or_else(|| Error::not_found("username", &req.username))?;
        if let Some(existing) = tx.member(&board.id, &user.id).await? {
            return Err(Error::AlreadyExists(format!(
                "`{}` is already a member of board `{}` (as {}): change their role instead",
                existing.username,
                board.id,
                role_json::name(existing.role)
            )));
        }
        tx.insert_member(&board.id, &user.id, new_role).await?;
        let member = member_of(tx, &board.id, &user.id).await?;
        let added = Payload::MemberAdded(MemberAdded {
            member: Some(member.clone()),
        });
        m.commit(&board.id, added, |seq| AddMemberResponse {
            member: Some(member),
            seq,
        })
        .await
    }

    pub async fn update_member(&self, actor: &Actor, req: UpdateMemberRequest) -> Result<UpdateMemberResponse> {
        validate::required("boardId", &req.board_id)?;
        validate::required("userId", &req.user_id)?;
        let new_role = role(req.role)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let board = board_as(tx, actor, &req.board_id, Need::Own).await?;
        writable(&board)?;
        let mut member = member_of(tx, &board.id, &req.user_id).await?;
        if new_role != Role::Owner {
            keep_an_owner(tx, &board.id, &member, "demoted").await?;
        }
        tx.set_member_role(&board.id, &member.user_id, new_role).await?;
        member.role = new_role as i32;
        let updated = Payload::MemberUpdated(MemberUpdated {
            member: Some(member.clone()),
        });
        m.commit(&board.id, updated, |seq| UpdateMemberResponse {
            member: Some(member),
            seq,
        })
        .await
    }

    /// Owners remove anyone; every member may remove themself (leave), also from an
    /// archived board.
    pub async fn remove_member(&self, actor: &Actor, req: RemoveMemberRequest) -> Result<RemoveMemberResponse> {
        validate::required("boardId", &req.board_id)?;
        validate::required("userId", &req.user_id)?;
        let leaving = req.user_id == actor.user.id;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let need = if leaving {
            // Leaving needs only membership, but it is a change all the same.
            tx.lock_board(&req.board_id).await?;
            Need::Read
        } else {
            Need::Own
        };
        let board = board_as(tx, actor, &req.board_id, need).await?;
        if !leaving {
            writable(&board)?;
        }
        let member = member_of(tx, &board.id, &req.user_id).await?;
        keep_an_owner(tx, &board.id, &member, "removed").await?;
        tx.delete_member(&board.id, &member.user_id).await?;
        // Off the board's tasks too (their versions kept, as for a deleted label).
        let unassigned_task_ids = tx.unassign_member(&board.id, &member.user_id).await?;
        let removed = Payload::MemberRemoved(MemberRemoved {
            user_id: member.user_id.clone(),
            unassigned_task_ids,
        });
        m.commit(&board.id, removed, |seq| RemoveMemberResponse {
            user_id: member.user_id,
            seq,
        })
        .await
    }
}
