//! The board mutations: create (anyone signed in; the creator is the owner), rename,
//! archive and unarchive, delete (owners). Each goes through the mutation pipeline.

use super::access::{Actor, Need, board_as, writable};
use super::mutation::begin;
use super::validate::{self, Name};
use super::{Core, Error, Result, ordering, time};
use crate::proto::v1::{
    Board, BoardCreated, BoardDeleted, BoardList, BoardUpdated, CreateBoardRequest, CreateBoardResponse,
    DeleteBoardRequest, DeleteBoardResponse, Role, UpdateBoardRequest, UpdateBoardResponse, board_event::Payload,
};

/// The lists a new board starts with, as Trello's default board has them: a board
/// with no columns has nowhere to put the first card.
pub const DEFAULT_LISTS: [&str; 3] = ["To Do", "Doing", "Done"];

impl Core {
    pub async fn create_board(&self, actor: &Actor, req: CreateBoardRequest) -> Result<CreateBoardResponse> {
        let name = Name::parse(&req.name)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let board = Board {
            id: format!("board-{}", uuid::Uuid::now_v7().simple()),
            name: name.into_string(),
            created_at: Some(time::from_millis(time::now_millis())),
            archived: false,
        };
        tx.insert_board(&board, &[(&actor.user.id, Role::Owner)]).await?;
        let mut lists = Vec::new();
        for (position, name) in DEFAULT_LISTS.iter().enumerate() {
            let list = BoardList {
                id: format!("list-{}", uuid::Uuid::now_v7().simple()),
                board_id: board.id.clone(),
                name: (*name).to_owned(),
                position: ordering::position_of(position),
            };
            tx.insert_list(&list).await?;
            lists.push(list);
        }
        let owner = tx.member(&board.id, &actor.user.id).await?;
        let created = Payload::BoardCreated(BoardCreated {
            board: Some(board.clone()),
            lists: lists.clone(),
            owner,
        });
        m.commit(&board.id.clone(), created, |seq| CreateBoardResponse {
            board: Some(board),
            lists,
            seq,
        })
        .await
    }

    /// Renames, archives or unarchives. An archived board accepts only its unarchiving
    /// (with a rename in the same request, if asked).
    pub async fn update_board(&self, actor: &Actor, req: UpdateBoardRequest) -> Result<UpdateBoardResponse> {
        validate::required("boardId", &req.board_id)?;
        if req.name.is_none() && req.archived.is_none() {
            return Err(Error::InvalidArgument {
                field: None,
                message: "nothing to update: give name and/or archived".into(),
            });
        }
        let name = req.name.as_deref().map(Name::parse).transpose()?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let mut board = board_as(tx, actor, &req.board_id, Need::Own).await?;
        if req.archived != Some(false) && name.is_some() {
            writable(&board)?;
        }
        if let Some(name) = name {
            board.name = name.into_string();
        }
        if let Some(archived) = req.archived {
            board.archived = archived;
        }
        tx.update_board(&board).await?;
        let updated = Payload::BoardUpdated(BoardUpdated {
            board: Some(board.clone()),
        });
        m.commit(&board.id.clone(), updated, |seq| UpdateBoardResponse {
            board: Some(board),
            seq,
        })
        .await
    }

    /// Deletes a board: `board_deleted` is the last event of its log, every stream
    /// following it receives that event and stops following it, and from then on the
    /// board, its lists and its tasks are not found.
    pub async fn delete_board(&self, actor: &Actor, req: DeleteBoardRequest) -> Result<DeleteBoardResponse> {
        validate::required("boardId", &req.board_id)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let board = board_as(tx, actor, &req.board_id, Need::Own).await?;
        tx.delete_board(&board.id, time::now_millis()).await?;
        let deleted = Payload::BoardDeleted(BoardDeleted {
            name: board.name.clone(),
        });
        m.commit(&board.id.clone(), deleted, |seq| DeleteBoardResponse {
            board_id: board.id,
            seq,
        })
        .await
    }
}
