//! Reading boards and tasks: what a member may see, one consistent snapshot per call
//! (a board's tasks a page per call).

mod page_token;

use super::access::{Actor, visible_board, visible_task};
use super::{Core, Error, Result, time, validate};
use crate::proto::v1::{
    GetBoardRequest, GetBoardResponse, GetTaskRequest, GetTaskResponse, ListBoardsResponse, ListTasksRequest,
    ListTasksResponse, UpdatesResponse,
};

/// Tasks in a `GetBoard` page unless the request says otherwise, and at most.
pub const BOARD_TASKS_DEFAULT_LIMIT: u32 = 500;
pub const BOARD_TASKS_MAX_LIMIT: u32 = 1000;

impl Core {
    pub async fn list_boards(&self, actor: &Actor) -> Result<ListBoardsResponse> {
        let mut tx = self.store.read().await?;
        Ok(ListBoardsResponse {
            boards: tx.boards_of(&actor.user.id).await?,
        })
    }

    /// A board with its lists and one page of its tasks: a board's tasks have no bound,
    /// an answer must (10,000 tasks were 2.5 MB in one response).
    pub async fn get_board(&self, actor: &Actor, req: GetBoardRequest) -> Result<GetBoardResponse> {
        validate::required("boardId", &req.board_id)?;
        let limit = match req.limit {
            None => BOARD_TASKS_DEFAULT_LIMIT,
            Some(n) if (1..=BOARD_TASKS_MAX_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(Error::invalid(
                    "limit",
                    format!("limit must be 1 to {BOARD_TASKS_MAX_LIMIT} (got {n})"),
                ));
            }
        };
        let after = (!req.page_token.is_empty())
            .then(|| page_token::parse(&req.page_token))
            .transpose()?;
        let mut tx = self.store.read().await?;
        let board = visible_board(&mut *tx, actor, &req.board_id).await?;
        let lists = tx.lists(&board.id).await?;
        // One more than asked for says whether another page follows.
        let mut tasks = tx.tasks_page(&board.id, after.as_ref(), limit + 1).await?;
        let more = tasks.len() > limit as usize;
        tasks.truncate(limit as usize);
        let next_page_token = match tasks.last() {
            Some(last) if more => page_token::after(last, &lists),
            _ => String::new(),
        };
        Ok(GetBoardResponse {
            lists,
            tasks,
            seq: tx.last_seq(&board.id).await?,
            board: Some(board),
            next_page_token,
        })
    }

    /// A board with its lists and every task, in one snapshot: what a stream that asked
    /// for a snapshot starts with.
    pub(super) async fn board_snapshot(&self, actor: &Actor, board_id: &str) -> Result<GetBoardResponse> {
        validate::required("boardId", board_id)?;
        let mut tx = self.store.read().await?;
        let board = visible_board(&mut *tx, actor, board_id).await?;
        Ok(GetBoardResponse {
            lists: tx.lists(&board.id).await?,
            tasks: tx.tasks(&board.id, None).await?,
            seq: tx.last_seq(&board.id).await?,
            board: Some(board),
            next_page_token: String::new(),
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
