//! The list mutations (editors and owners): create, rename, move, delete. Lists are
//! densely ordered per board like tasks per list ([`super::ordering`] over the
//! board's list ids). Lists carry no version: a rename is last-writer-wins, and the
//! event tells every client at once.

use super::access::{Actor, Need, board_as, list_as, writable};
use super::mutation::begin;
use super::validate::{self, Name, Position};
use super::{Core, Error, Result, ordering};
use crate::proto::v1::{
    BoardList, CreateListRequest, CreateListResponse, DeleteListRequest, DeleteListResponse, ListCreated, ListDeleted,
    ListMoved, ListPosition, ListUpdated, MoveListRequest, MoveListResponse, TaskPosition, UpdateListRequest,
    UpdateListResponse, board_event::Payload,
};

/// [`ordering`] speaks of tasks in a list; here the "list" is the board and its
/// entries are lists.
fn list_positions(shifted: Vec<TaskPosition>) -> Vec<ListPosition> {
    shifted
        .into_iter()
        .map(|p| ListPosition {
            list_id: p.task_id,
            position: p.position,
        })
        .collect()
}

impl Core {
    pub async fn create_list(&self, actor: &Actor, req: CreateListRequest) -> Result<CreateListResponse> {
        validate::required("boardId", &req.board_id)?;
        let name = Name::parse(&req.name)?;
        let position = Position::parse(req.position)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let board = board_as(tx, actor, &req.board_id, Need::Edit).await?;
        writable(&board)?;
        let id = format!("list-{}", uuid::Uuid::now_v7().simple());
        let (index, shifted) = ordering::place(&board.id, &tx.list_order(&board.id).await?, &id, position);
        let list = BoardList {
            id,
            board_id: board.id,
            name: name.into_string(),
            position: ordering::position_of(index),
        };
        let shifted = list_positions(shifted);
        tx.set_list_positions(&shifted).await?;
        tx.insert_list(&list).await?;
        let created = Payload::ListCreated(ListCreated {
            list: Some(list.clone()),
            shifted,
        });
        m.commit(&list.board_id.clone(), created, |seq| CreateListResponse {
            list: Some(list),
            seq,
        })
        .await
    }

    pub async fn update_list(&self, actor: &Actor, req: UpdateListRequest) -> Result<UpdateListResponse> {
        validate::required("listId", &req.list_id)?;
        let name = Name::parse(&req.name)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let mut list = list_as(tx, actor, &req.list_id, Need::Edit).await?;
        let from_name = std::mem::replace(&mut list.name, name.into_string());
        tx.update_list(&list).await?;
        let updated = Payload::ListUpdated(ListUpdated {
            list: Some(list.clone()),
            from_name,
        });
        m.commit(&list.board_id.clone(), updated, |seq| UpdateListResponse {
            list: Some(list),
            seq,
        })
        .await
    }

    pub async fn move_list(&self, actor: &Actor, req: MoveListRequest) -> Result<MoveListResponse> {
        validate::required("listId", &req.list_id)?;
        if req.position.is_none() {
            return Err(Error::invalid("position", "position is required"));
        }
        let position = Position::parse(req.position)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let mut list = list_as(tx, actor, &req.list_id, Need::Edit).await?;
        let order = tx.list_order(&list.board_id).await?;
        let from_index = order.iter().position(|id| *id == list.id).unwrap_or_default();
        let (index, shifted) = ordering::place(&list.board_id, &order, &list.id, position);
        let shifted = list_positions(shifted);
        list.position = ordering::position_of(index);
        tx.update_list(&list).await?;
        tx.set_list_positions(&shifted).await?;
        let moved = Payload::ListMoved(ListMoved {
            list: Some(list.clone()),
            from_position: ordering::position_of(from_index),
            shifted,
        });
        m.commit(&list.board_id.clone(), moved, |seq| MoveListResponse {
            list: Some(list),
            seq,
        })
        .await
    }

    /// Deletes a list. One that holds tasks needs `move_tasks_to`, another list of the
    /// same board, which receives them appended in their order (their versions kept:
    /// as for shifted siblings, where a task sits is the lists' business).
    pub async fn delete_list(&self, actor: &Actor, req: DeleteListRequest) -> Result<DeleteListResponse> {
        validate::required("listId", &req.list_id)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let list = list_as(tx, actor, &req.list_id, Need::Edit).await?;
        let tasks = tx.task_order(&list.id).await?;
        let mut moved_tasks = Vec::new();
        if !req.move_tasks_to.is_empty() {
            let dest = match tx.list(&req.move_tasks_to).await? {
                Some(dest) if dest.board_id == list.board_id => dest,
                // A list of another board is as unknown here as one that does not exist.
                _ => return Err(Error::not_found("list", &req.move_tasks_to)),
            };
            if dest.id == list.id {
                return Err(Error::invalid(
                    "moveTasksTo",
                    "moveTasksTo must name another list than the one being deleted",
                ));
            }
            let start = tx.task_count(&dest.id).await?;
            moved_tasks = (tasks.iter().enumerate())
                .map(|(i, task_id)| TaskPosition {
                    task_id: task_id.clone(),
                    list_id: dest.id.clone(),
                    position: ordering::position_of(start + i),
                })
                .collect();
            tx.set_positions(&moved_tasks).await?;
        } else if !tasks.is_empty() {
            return Err(Error::Conflict(format!(
                "list `{}` holds {} task{}: give moveTasksTo (another list of the board) to move them, or delete them first",
                list.id,
                tasks.len(),
                if tasks.len() == 1 { "" } else { "s" }
            )));
        }
        let shifted = list_positions(ordering::remove(
            &list.board_id,
            &tx.list_order(&list.board_id).await?,
            &list.id,
        ));
        tx.delete_list(&list.id).await?;
        tx.set_list_positions(&shifted).await?;
        let deleted = Payload::ListDeleted(ListDeleted {
            list_id: list.id.clone(),
            shifted,
            moved_tasks_to: req.move_tasks_to.clone(),
            moved_tasks,
            name: list.name.clone(),
        });
        m.commit(&list.board_id, deleted, |seq| DeleteListResponse {
            list_id: list.id,
            seq,
        })
        .await
    }
}
