//! Reading boards and tasks: what a member may see, one consistent snapshot per call.

use super::access::{Actor, visible_board, visible_task};
use super::{Core, Error, Result, time, validate};
use crate::proto::v1::{
    GetBoardRequest, GetBoardResponse, GetTaskRequest, GetTaskResponse, ListBoardsResponse, ListTasksRequest,
    ListTasksResponse, UpdatesResponse,
};

impl Core {
    pub async fn list_boards(&self, actor: &Actor) -> Result<ListBoardsResponse> {
        let mut tx = self.store.read().await?;
        Ok(ListBoardsResponse {
            boards: tx.boards_of(&actor.user.id).await?,
        })
    }

    pub async fn get_board(&self, actor: &Actor, req: GetBoardRequest) -> Result<GetBoardResponse> {
        validate::required("boardId", &req.board_id)?;
        let mut tx = self.store.read().await?;
        let board = visible_board(&mut *tx, actor, &req.board_id).await?;
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
}
