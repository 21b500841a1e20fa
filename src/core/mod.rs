//! The board rules, and the only place they live. Every transport turns its input into
//! one of these calls and frames the result; nothing here knows about HTTP or gRPC.
//!
//! A mutation is one write transaction: validate, authorize, apply the change, take
//! the board's next seq, append the `BoardEvent`, remember the request id, commit.

pub mod error;
mod idempotency;
mod ordering;
pub mod seed;
pub mod stream;
pub mod time;
mod validate;

use std::sync::Arc;
use std::time::Duration;

pub use error::{Error, Result};
pub use stream::{BATCH, Resume, StreamItem, Subscription};

use crate::auth;
use crate::bus::Bus;
use crate::proto::v1::{
    BoardEvent, ChangesResponse, CreateTaskRequest, CreateTaskResponse, DeleteTaskRequest, DeleteTaskResponse,
    GetBoardRequest, GetBoardResponse, GetTaskRequest, GetTaskResponse, ListBoardsResponse, ListTasksRequest,
    ListTasksResponse, MoveTaskRequest, MoveTaskResponse, Task, TaskCreated, TaskDeleted, TaskMoved, TaskUpdated,
    UpdateTaskRequest, UpdateTaskResponse, UpdatesResponse, User, board_event::Payload,
};
use crate::store::{Store, Tx};
use idempotency::RequestKey;

/// Who is asking: an authenticated user, or the loopback guest.
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    pub user: User,
}

/// Most boards one stream may follow.
pub const MAX_BOARDS_PER_STREAM: usize = 32;
/// Most events one poll answer carries.
pub const MAX_EVENTS_PER_ANSWER: u32 = 1000;
/// Longest a long poll may wait.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(30);

pub struct Core {
    store: Arc<dyn Store>,
    bus: Arc<Bus>,
    streams: stream::StreamLimiter,
}

impl Core {
    /// `max_streams_per_user` caps the streams (SSE, gRPC Subscribe, WebSocket) one user
    /// holds open at once.
    pub fn new(store: Arc<dyn Store>, bus: Arc<Bus>, max_streams_per_user: usize) -> Self {
        Core {
            store,
            bus,
            streams: stream::StreamLimiter::new(max_streams_per_user),
        }
    }

    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Follows boards from their resume points. Every board must exist (404) and have
    /// the actor as a member (403) before anything is streamed.
    pub async fn subscribe(
        &self,
        actor: &Actor,
        boards: Vec<(String, Resume)>,
        snapshot: bool,
    ) -> Result<Subscription> {
        if boards.is_empty() {
            return Err(Error::invalid("boards", "name at least one board to follow"));
        }
        if boards.len() > MAX_BOARDS_PER_STREAM {
            return Err(Error::invalid(
                "boards",
                format!(
                    "boards names {} boards; one stream follows at most {MAX_BOARDS_PER_STREAM}",
                    boards.len()
                ),
            ));
        }
        for (i, (id, _)) in boards.iter().enumerate() {
            validate::required("boardId", id)?;
            if boards[..i].iter().any(|(other, _)| other == id) {
                return Err(Error::invalid("boards", format!("boards names `{id}` twice")));
            }
        }
        if snapshot && boards.len() != 1 {
            return Err(Error::invalid("snapshot", "snapshot needs exactly one board"));
        }
        let mut sub = self.open_stream(actor)?;
        for (board_id, resume) in boards {
            if snapshot {
                let board = self
                    .get_board(
                        actor,
                        GetBoardRequest {
                            board_id: board_id.clone(),
                        },
                    )
                    .await?;
                let seq = board.seq;
                sub.push_front(StreamItem::Snapshot(board));
                self.follow(&mut sub, actor, &board_id, Resume::After(seq)).await?;
            } else {
                self.follow(&mut sub, actor, &board_id, resume).await?;
            }
        }
        Ok(sub)
    }

    /// An empty subscription, holding one of the actor's stream slots until dropped.
    pub fn open_stream(&self, actor: &Actor) -> Result<Subscription> {
        Ok(Subscription::new(
            self.store.clone(),
            self.streams.acquire(&actor.user.id)?,
        ))
    }

    /// Adds a board to a subscription (or restarts it from `resume`).
    pub async fn follow(&self, sub: &mut Subscription, actor: &Actor, board_id: &str, resume: Resume) -> Result<()> {
        validate::required("boardId", board_id)?;
        visible_board(&mut *self.store.read().await?, actor, board_id).await?;
        // Live before the read: whatever commits after it reaches the subscription.
        let live = self.bus.subscribe(board_id);
        let current = self.store.read().await?.last_seq(board_id).await?;
        sub.follow(board_id, resume, current, live);
        Ok(())
    }

    /// The events of a board after `after`, at once (short polling).
    pub async fn changes(&self, actor: &Actor, board_id: &str, after: u64) -> Result<ChangesResponse> {
        validate::required("boardId", board_id)?;
        let mut tx = self.store.read().await?;
        visible_board(&mut *tx, actor, board_id).await?;
        let seq = tx.last_seq(board_id).await?;
        if after > seq {
            return Ok(ChangesResponse {
                seq,
                reset: true,
                ..Default::default()
            });
        }
        Ok(ChangesResponse {
            events: tx.events_after(board_id, after, MAX_EVENTS_PER_ANSWER).await?,
            seq,
            ..Default::default()
        })
    }

    /// Like [`Core::changes`], but when nothing is there yet, waits up to `wait` for
    /// the next event (long polling). Without `after`, waits for the next event from
    /// now. Woken by the bus, never by a sleep loop.
    pub async fn wait_changes(
        &self,
        actor: &Actor,
        board_id: &str,
        after: Option<u64>,
        wait: Duration,
    ) -> Result<ChangesResponse> {
        if wait > MAX_POLL_WAIT {
            return Err(Error::invalid(
                "timeout",
                format!("timeout must be at most {} seconds", MAX_POLL_WAIT.as_secs()),
            ));
        }
        // Access first (an unknown board must not leave a bus channel behind), then
        // live before the read, so an event committed in between still wakes us.
        visible_board(&mut *self.store.read().await?, actor, board_id).await?;
        let mut live = self.bus.subscribe(board_id);
        let after = match after {
            Some(after) => after,
            None => self.store.read().await?.last_seq(board_id).await?,
        };
        let first = self.changes(actor, board_id, after).await?;
        if !first.events.is_empty() || first.reset || wait.is_zero() {
            return Ok(ChangesResponse {
                timeout: first.events.is_empty() && !first.reset,
                ..first
            });
        }
        match tokio::time::timeout(wait, live.recv()).await {
            // An event (or a lag, which also means events): read them from the log.
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                self.changes(actor, board_id, after).await
            }
            // Timed out, or the server is shutting down.
            Err(_) | Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                Ok(ChangesResponse { timeout: true, ..first })
            }
        }
    }

    /// Tasks of a board created or changed after `since_ms` (the seed's short poll).
    pub async fn updates_since(&self, actor: &Actor, board_id: &str, since_ms: i64) -> Result<UpdatesResponse> {
        validate::required("boardId", board_id)?;
        let timestamp = time::now_millis();
        let mut tx = self.store.read().await?;
        visible_board(&mut *tx, actor, board_id).await?;
        Ok(UpdatesResponse {
            data: tx.tasks_updated_since(board_id, since_ms).await?,
            timestamp,
        })
    }

    pub async fn list_boards(&self, actor: &Actor) -> Result<ListBoardsResponse> {
        let mut tx = self.store.read().await?;
        Ok(ListBoardsResponse {
            boards: tx.boards_of(&actor.user.id).await?,
        })
    }

    pub async fn get_board(&self, actor: &Actor, req: GetBoardRequest) -> Result<GetBoardResponse> {
        validate::required("boardId", &req.board_id)?;
        let mut tx = self.store.read().await?;
        let board = tx
            .board(&req.board_id)
            .await?
            .ok_or_else(|| Error::not_found("board", &req.board_id))?;
        auth::require_member(&mut *tx, actor, &board.id).await?;
        Ok(GetBoardResponse {
            lists: tx.lists(&board.id).await?,
            tasks: tx.tasks(&board.id, None).await?,
            seq: tx.last_seq(&board.id).await?,
            board: Some(board),
        })
    }

    pub async fn list_tasks(&self, actor: &Actor, req: ListTasksRequest) -> Result<ListTasksResponse> {
        validate::required("boardId", &req.board_id)?;
        let mut tx = self.store.read().await?;
        visible_board(&mut *tx, actor, &req.board_id).await?;
        let list_id = (!req.list_id.is_empty()).then_some(req.list_id.as_str());
        if let Some(list_id) = list_id {
            match tx.list(list_id).await? {
                Some(list) if list.board_id == req.board_id => {}
                _ => return Err(Error::not_found("list", list_id)),
            }
        }
        Ok(ListTasksResponse {
            tasks: tx.tasks(&req.board_id, list_id).await?,
        })
    }

    pub async fn get_task(&self, actor: &Actor, req: GetTaskRequest) -> Result<GetTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        let mut tx = self.store.read().await?;
        let task = visible_task(&mut *tx, actor, &req.task_id).await?;
        Ok(GetTaskResponse { task: Some(task) })
    }

    pub async fn create_task(&self, actor: &Actor, req: CreateTaskRequest) -> Result<CreateTaskResponse> {
        validate::required("listId", &req.list_id)?;
        let title = validate::title(&req.title)?;
        let description = validate::description(&req.description)?;
        let position = validate::position(req.position)?;
        let key = RequestKey::new(actor, "CreateTask", &req.request_id, &req)?;

        let mut tx = self.store.write().await?;
        if let Some(first) = replay(&key, &mut *tx).await? {
            return Ok(first);
        }
        let list = tx
            .list(&req.list_id)
            .await?
            .ok_or_else(|| Error::not_found("list", &req.list_id))?;
        auth::require_member(&mut *tx, actor, &list.board_id).await?;
        if !req.board_id.is_empty() && req.board_id != list.board_id {
            return Err(Error::invalid(
                "boardId",
                format!("boardId `{}` is not the board of list `{}`", req.board_id, list.id),
            ));
        }

        let id = format!("task-{}", uuid::Uuid::now_v7().simple());
        let len = tx.task_count(&list.id).await?;
        let index = ordering::clamp(position, len);
        // Appending shifts nobody, so only an insertion reads the list's order.
        let shifted = if index < len {
            let before = tx.task_order(&list.id).await?;
            let mut after = before.clone();
            after.insert(index, id.clone());
            ordering::shifted(&list.id, &before, &after, &id)
        } else {
            Vec::new()
        };

        let now = Some(time::from_millis(time::now_millis()));
        let task = Task {
            id,
            board_id: list.board_id.clone(),
            list_id: list.id.clone(),
            title,
            description,
            position: ordering::position_of(index),
            version: 1,
            created_at: now,
            updated_at: now,
            created_by: actor.user.id.clone(),
        };
        tx.insert_task(&task).await?;
        tx.set_positions(&shifted).await?;
        let event = append_event(
            &mut *tx,
            actor,
            &req.request_id,
            &task.board_id,
            Payload::TaskCreated(TaskCreated {
                task: Some(task.clone()),
                shifted,
            }),
        )
        .await?;
        let response = CreateTaskResponse {
            task: Some(task),
            seq: event.seq,
        };
        self.commit(tx, key, &response, event).await?;
        Ok(response)
    }

    pub async fn update_task(&self, actor: &Actor, req: UpdateTaskRequest) -> Result<UpdateTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        if req.title.is_none() && req.description.is_none() {
            return Err(Error::InvalidArgument {
                field: None,
                message: "nothing to update: give title and/or description".into(),
            });
        }
        let title = req.title.as_deref().map(validate::title).transpose()?;
        let description = req.description.as_deref().map(validate::description).transpose()?;
        let key = RequestKey::new(actor, "UpdateTask", &req.request_id, &req)?;

        let mut tx = self.store.write().await?;
        if let Some(first) = replay(&key, &mut *tx).await? {
            return Ok(first);
        }
        let mut task = visible_task(&mut *tx, actor, &req.task_id).await?;
        check_version(&task, req.expected_version)?;
        if let Some(title) = title {
            task.title = title;
        }
        if let Some(description) = description {
            task.description = description;
        }
        touch(&mut task);
        tx.update_task(&task).await?;
        let event = append_event(
            &mut *tx,
            actor,
            &req.request_id,
            &task.board_id,
            Payload::TaskUpdated(TaskUpdated {
                task: Some(task.clone()),
            }),
        )
        .await?;
        let response = UpdateTaskResponse {
            task: Some(task),
            seq: event.seq,
        };
        self.commit(tx, key, &response, event).await?;
        Ok(response)
    }

    pub async fn move_task(&self, actor: &Actor, req: MoveTaskRequest) -> Result<MoveTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        validate::required("listId", &req.list_id)?;
        let position = validate::position(req.position)?;
        let key = RequestKey::new(actor, "MoveTask", &req.request_id, &req)?;

        let mut tx = self.store.write().await?;
        if let Some(first) = replay(&key, &mut *tx).await? {
            return Ok(first);
        }
        let mut task = visible_task(&mut *tx, actor, &req.task_id).await?;
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
        let source_before = tx.task_order(&from_list_id).await?;
        let from_index = source_before.iter().position(|id| *id == task.id).unwrap_or_default();
        let mut source_after = source_before.clone();
        source_after.retain(|id| *id != task.id);
        let index;
        let mut shifted;
        if dest.id == from_list_id {
            index = ordering::clamp(position, source_after.len());
            source_after.insert(index, task.id.clone());
            shifted = ordering::shifted(&dest.id, &source_before, &source_after, &task.id);
        } else {
            shifted = ordering::shifted(&from_list_id, &source_before, &source_after, &task.id);
            let dest_before = tx.task_order(&dest.id).await?;
            let mut dest_after = dest_before.clone();
            index = ordering::clamp(position, dest_after.len());
            dest_after.insert(index, task.id.clone());
            shifted.extend(ordering::shifted(&dest.id, &dest_before, &dest_after, &task.id));
        }

        task.list_id = dest.id;
        task.position = ordering::position_of(index);
        touch(&mut task);
        tx.update_task(&task).await?;
        tx.set_positions(&shifted).await?;
        let event = append_event(
            &mut *tx,
            actor,
            &req.request_id,
            &task.board_id,
            Payload::TaskMoved(TaskMoved {
                task: Some(task.clone()),
                from_list_id,
                from_position: ordering::position_of(from_index),
                shifted,
            }),
        )
        .await?;
        let response = MoveTaskResponse {
            task: Some(task),
            seq: event.seq,
        };
        self.commit(tx, key, &response, event).await?;
        Ok(response)
    }

    pub async fn delete_task(&self, actor: &Actor, req: DeleteTaskRequest) -> Result<DeleteTaskResponse> {
        validate::required("taskId", &req.task_id)?;
        let key = RequestKey::new(actor, "DeleteTask", &req.request_id, &req)?;

        let mut tx = self.store.write().await?;
        if let Some(first) = replay(&key, &mut *tx).await? {
            return Ok(first);
        }
        let task = visible_task(&mut *tx, actor, &req.task_id).await?;
        check_version(&task, req.expected_version)?;
        let before = tx.task_order(&task.list_id).await?;
        let mut after = before.clone();
        after.retain(|id| *id != task.id);
        let shifted = ordering::shifted(&task.list_id, &before, &after, &task.id);
        tx.delete_task(&task.id).await?;
        tx.set_positions(&shifted).await?;
        let event = append_event(
            &mut *tx,
            actor,
            &req.request_id,
            &task.board_id,
            Payload::TaskDeleted(TaskDeleted {
                task_id: task.id.clone(),
                list_id: task.list_id.clone(),
                shifted,
            }),
        )
        .await?;
        let response = DeleteTaskResponse {
            task_id: task.id,
            seq: event.seq,
        };
        self.commit(tx, key, &response, event).await?;
        Ok(response)
    }
}

/// A board the actor may see: 404 when it does not exist, 403 when the actor is not
/// a member.
async fn visible_board(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<()> {
    if tx.board(id).await?.is_none() {
        return Err(Error::not_found("board", id));
    }
    auth::require_member(tx, actor, id).await
}

/// A task the actor may see: 404 when it does not exist, 403 when it is on a board the
/// actor is not a member of.
async fn visible_task(tx: &mut dyn Tx, actor: &Actor, id: &str) -> Result<Task> {
    let task = tx.task(id).await?.ok_or_else(|| Error::not_found("task", id))?;
    auth::require_member(tx, actor, &task.board_id).await?;
    Ok(task)
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

async fn replay<R: prost::Message + Default>(key: &Option<RequestKey<'_>>, tx: &mut dyn Tx) -> Result<Option<R>> {
    match key {
        Some(key) => key.replay(tx).await,
        None => Ok(None),
    }
}

/// Appends the change to the board's log under the board's next seq.
async fn append_event(
    tx: &mut dyn Tx,
    actor: &Actor,
    request_id: &str,
    board_id: &str,
    payload: Payload,
) -> Result<BoardEvent> {
    let event = BoardEvent {
        seq: tx.next_seq(board_id).await?,
        board_id: board_id.to_owned(),
        occurred_at: Some(time::from_millis(time::now_millis())),
        actor: actor.user.id.clone(),
        request_id: request_id.to_owned(),
        payload: Some(payload),
    };
    tx.append_event(&event).await?;
    Ok(event)
}

impl Core {
    /// Remembers the response under the request id, commits, and only then publishes
    /// the event: subscribers never see a change that could still roll back.
    async fn commit(
        &self,
        mut tx: Box<dyn Tx>,
        key: Option<RequestKey<'_>>,
        response: &impl prost::Message,
        event: BoardEvent,
    ) -> Result<()> {
        if let Some(key) = key {
            key.remember(&mut *tx, response).await?;
        }
        // Commit and publish run as a task of their own: the request may be dropped
        // while its commit waits for the group (the client went away), and a change
        // that commits must still reach the subscribers now, not when the board's
        // next event makes them read the gap from the log.
        let bus = self.bus.clone();
        tokio::spawn(async move {
            tx.commit().await?;
            bus.publish(event);
            Ok(())
        })
        .await
        .map_err(|e| Error::Internal(Box::new(e)))?
    }
}
