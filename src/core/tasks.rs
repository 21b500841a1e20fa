//! The task mutations (editors and owners). Each validates its input into checked types, opens the
//! mutation pipeline ([`super::mutation`]), applies its rule and commits one event.

use super::access::{Actor, Need, list_as, task_as};
use super::mutation::begin;
use super::validate::{self, Description, Position, Title};
use super::{Core, Error, Result, ordering, time};
use crate::proto::v1::{
    CreateTaskRequest, CreateTaskResponse, DeleteTaskRequest, DeleteTaskResponse, MoveTaskRequest, MoveTaskResponse,
    Task, TaskCreated, TaskDeleted, TaskMoved, TaskUpdated, UpdateTaskRequest, UpdateTaskResponse,
    board_event::Payload,
};
use crate::store::Tx;

impl Core {
    pub async fn create_task(&self, actor: &Actor, req: CreateTaskRequest) -> Result<CreateTaskResponse> {
        validate::required("listId", &req.list_id)?;
        let title = Title::parse(&req.title)?;
        let description = Description::parse(&req.description)?;
        let position = Position::parse(req.position)?;
        let assignee_ids = validate::id_set("assigneeIds", &req.assignee_ids)?;
        let label_ids = validate::id_set("labelIds", &req.label_ids)?;
        let due_at = validate::due_at(req.due_at)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let list = list_as(tx, actor, &req.list_id, Need::Edit).await?;
        check_assignees(tx, &list.board_id, &assignee_ids).await?;
        check_labels(tx, &list.board_id, &label_ids).await?;
        if !req.board_id.is_empty() && req.board_id != list.board_id {
            return Err(Error::invalid(
                "boardId",
                format!("boardId `{}` is not the board of list `{}`", req.board_id, list.id),
            ));
        }
        let id = format!("task-{}", uuid::Uuid::now_v7().simple());
        let len = tx.task_count(&list.id).await?;
        // Appending shifts nobody, so only an insertion reads the list's order.
        let (index, shifted) = match position {
            Some(p) if p.index() < len => ordering::place(&list.id, &tx.task_order(&list.id).await?, &id, position),
            _ => (len, Vec::new()),
        };
        let now = Some(time::from_millis(time::now_millis()));
        let task = Task {
            id,
            board_id: list.board_id,
            list_id: list.id,
            title: title.into_string(),
            description: description.into_string(),
            position: ordering::position_of(index),
            version: 1,
            created_at: now,
            updated_at: now,
            created_by: actor.user.id.clone(),
            assignee_ids,
            label_ids,
            due_at,
        };
        tx.insert_task(&task).await?;
        // A new task has no rows to replace: write only what it has.
        if !task.assignee_ids.is_empty() {
            tx.set_task_assignees(&task.id, &task.assignee_ids).await?;
        }
        if !task.label_ids.is_empty() {
            tx.set_task_labels(&task.id, &task.label_ids).await?;
        }
        tx.set_positions(&shifted).await?;
        let created = Payload::TaskCreated(TaskCreated {
            task: Some(task.clone()),
            shifted,
        });
        m.commit(&task.board_id.clone(), created, |seq| CreateTaskResponse {
            task: Some(task),
            seq,
        })
        .await
    }

    pub async fn update_task(&self, actor: &Actor, req: UpdateTaskRequest) -> Result<UpdateTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        if req.title.is_none()
            && req.description.is_none()
            && req.assignee_ids.is_none()
            && req.label_ids.is_none()
            && req.due_at.is_none()
        {
            return Err(Error::InvalidArgument {
                field: None,
                message: "nothing to update: give title, description, assigneeIds, labelIds and/or dueAt".into(),
            });
        }
        let title = req.title.as_deref().map(Title::parse).transpose()?;
        let description = req.description.as_deref().map(Description::parse).transpose()?;
        let assignee_ids = (req.assignee_ids.as_ref())
            .map(|set| validate::id_set("assigneeIds", &set.ids))
            .transpose()?;
        let label_ids = (req.label_ids.as_ref())
            .map(|set| validate::id_set("labelIds", &set.ids))
            .transpose()?;
        let due_at = req.due_at.map(|d| validate::due_at(d.at)).transpose()?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let mut task = task_as(tx, actor, &req.task_id, Need::Edit).await?;
        check_version(&task, req.expected_version)?;
        if let Some(title) = title {
            task.title = title.into_string();
        }
        if let Some(description) = description {
            task.description = description.into_string();
        }
        if let Some(ids) = assignee_ids {
            check_assignees(tx, &task.board_id, &ids).await?;
            tx.set_task_assignees(&task.id, &ids).await?;
            task.assignee_ids = ids;
        }
        if let Some(ids) = label_ids {
            check_labels(tx, &task.board_id, &ids).await?;
            tx.set_task_labels(&task.id, &ids).await?;
            task.label_ids = ids;
        }
        if let Some(due_at) = due_at {
            task.due_at = due_at;
        }
        touch(&mut task);
        tx.update_task(&task).await?;
        let updated = Payload::TaskUpdated(TaskUpdated {
            task: Some(task.clone()),
        });
        m.commit(&task.board_id.clone(), updated, |seq| UpdateTaskResponse {
            task: Some(task),
            seq,
        })
        .await
    }

    pub async fn move_task(&self, actor: &Actor, req: MoveTaskRequest) -> Result<MoveTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        validate::required("listId", &req.list_id)?;
        let position = Position::parse(req.position)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let mut task = task_as(tx, actor, &req.task_id, Need::Edit).await?;
        check_version(&task, req.expected_version)?;
        let dest = tx
            .list(&req.list_id)
            .await?
            .ok_or_else(|| Error::not_found("list", &req.list_id))?;
        if dest.board_id != task.board_id {
            return Err(Error::invalid(
                "listId",
                format!(
                    "listId `{}` is not a list of the task's board `{}`",
                    dest.id, task.board_id
                ),
            ));
        }
        let from_list_id = task.list_id.clone();
        let source = tx.task_order(&from_list_id).await?;
        let from_index = source.iter().position(|id| *id == task.id).unwrap_or_default();
        let (index, shifted) = shifts_of_move(tx, &task.id, &from_list_id, &source, &dest.id, position).await?;
        task.list_id = dest.id;
        task.position = ordering::position_of(index);
        touch(&mut task);
        tx.update_task(&task).await?;
        tx.set_positions(&shifted).await?;
        let moved = Payload::TaskMoved(TaskMoved {
            task: Some(task.clone()),
            from_list_id,
            from_position: ordering::position_of(from_index),
            shifted,
        });
        m.commit(&task.board_id.clone(), moved, |seq| MoveTaskResponse {
            task: Some(task),
            seq,
        })
        .await
    }

    pub async fn delete_task(&self, actor: &Actor, req: DeleteTaskRequest) -> Result<DeleteTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let task = task_as(tx, actor, &req.task_id, Need::Edit).await?;
        check_version(&task, req.expected_version)?;
        let shifted = ordering::remove(&task.list_id, &tx.task_order(&task.list_id).await?, &task.id);
        tx.delete_task(&task.id).await?;
        tx.set_positions(&shifted).await?;
        let deleted = Payload::TaskDeleted(TaskDeleted {
            task_id: task.id.clone(),
            list_id: task.list_id.clone(),
            shifted,
            title: task.title.clone(),
        });
        m.commit(&task.board_id, deleted, |seq| DeleteTaskResponse {
            task_id: task.id,
            seq,
        })
        .await
    }
}

/// Where a moved task lands in `dest` and every sibling that shifted, in the source
/// list (closing its gap) and in the destination (making room).
async fn shifts_of_move(
    tx: &mut dyn Tx,
    task_id: &str,
    from_list_id: &str,
    source: &[String],
    dest_list_id: &str,
    position: Option<Position>,
) -> Result<(usize, Vec<crate::proto::v1::TaskPosition>)> {
    if dest_list_id == from_list_id {
        return Ok(ordering::place(dest_list_id, source, task_id, position));
    }
    let mut shifted = ordering::remove(from_list_id, source, task_id);
    let (index, made_room) = ordering::place(dest_list_id, &tx.task_order(dest_list_id).await?, task_id, position);
    shifted.extend(made_room);
    Ok((index, shifted))
}

/// Every assignee is a member of the board (any role), or 400 naming `assigneeIds`.
async fn check_assignees(tx: &mut dyn Tx, board_id: &str, user_ids: &[String]) -> Result<()> {
    for user_id in user_ids {
        if tx.member_role(board_id, user_id).await?.is_none() {
            return Err(Error::invalid(
                "assigneeIds",
                format!("assigneeIds: `{user_id}` is not a member of board `{board_id}`"),
            ));
        }
    }
    Ok(())
}

/// Every label is one of the board's, or 400 naming `labelIds`.
async fn check_labels(tx: &mut dyn Tx, board_id: &str, label_ids: &[String]) -> Result<()> {
    for label_id in label_ids {
        if tx.label(label_id).await?.is_none_or(|l| l.board_id != board_id) {
            return Err(Error::invalid(
                "labelIds",
                format!("labelIds: `{label_id}` is not a label of board `{board_id}`"),
            ));
        }
    }
    Ok(())
}

fn check_version(task: &Task, expected: Option<u64>) -> Result<()> {
    match expected {
        Some(expected) if expected != task.version => Err(Error::VersionConflict {
            id: task.id.clone(),
            expected,
            current: task.version,
        }),
        _ => Ok(()),
    }
}

fn touch(task: &mut Task) {
    task.version += 1;
    task.updated_at = Some(time::from_millis(time::now_millis()));
}
