//! A board's labels: any member lists them; editors and owners create, rename,
//! recolor and delete them. Deleting a label takes it off every task that had it
//! (their versions kept: the event names them, so clients never guess).

use super::access::{Actor, Need, board_as, label_as, visible_board, writable};
use super::mutation::begin;
use super::validate::{self, Color};
use super::{Core, Error, Result};
use crate::proto::v1::{
    CreateLabelRequest, CreateLabelResponse, DeleteLabelRequest, DeleteLabelResponse, Label, LabelCreated,
    LabelDeleted, LabelUpdated, ListLabelsRequest, ListLabelsResponse, UpdateLabelRequest, UpdateLabelResponse,
    board_event::Payload,
};

impl Core {
    pub async fn list_labels(&self, actor: &Actor, req: ListLabelsRequest) -> Result<ListLabelsResponse> {
        validate::required("boardId", &req.board_id)?;
        let mut tx = self.store.read().await?;
        let board = visible_board(&mut *tx, actor, &req.board_id).await?;
        Ok(ListLabelsResponse {
            labels: tx.labels(&board.id).await?,
        })
    }

    pub async fn create_label(&self, actor: &Actor, req: CreateLabelRequest) -> Result<CreateLabelResponse> {
        validate::required("boardId", &req.board_id)?;
        let name = validate::label_name(&req.name)?;
        let color = Color::parse(&req.color)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let board = board_as(tx, actor, &req.board_id, Need::Edit).await?;
        writable(&board)?;
        let label = Label {
            id: format!("label-{}", uuid::Uuid::now_v7().simple()),
            board_id: board.id,
            name,
            color: color.into_string(),
        };
        tx.insert_label(&label).await?;
        let created = Payload::LabelCreated(LabelCreated {
            label: Some(label.clone()),
        });
        m.commit(&label.board_id.clone(), created, |seq| CreateLabelResponse {
            label: Some(label),
            seq,
        })
        .await
    }

    pub async fn update_label(&self, actor: &Actor, req: UpdateLabelRequest) -> Result<UpdateLabelResponse> {
        validate::required("labelId", &req.label_id)?;
        if req.name.is_none() && req.color.is_none() {
            return Err(Error::InvalidArgument {
                field: None,
                message: "nothing to update: give name and/or color".into(),
            });
        }
        let name = req.name.as_deref().map(validate::label_name).transpose()?;
        let color = req.color.as_deref().map(Color::parse).transpose()?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let mut label = label_as(tx, actor, &req.label_id, Need::Edit).await?;
        if let Some(name) = name {
            label.name = name;
        }
        if let Some(color) = color {
            label.color = color.into_string();
        }
        tx.update_label(&label).await?;
        let updated = Payload::LabelUpdated(LabelUpdated {
            label: Some(label.clone()),
        });
        m.commit(&label.board_id.clone(), updated, |seq| UpdateLabelResponse {
            label: Some(label),
            seq,
        })
        .await
    }

    pub async fn delete_label(&self, actor: &Actor, req: DeleteLabelRequest) -> Result<DeleteLabelResponse> {
        validate::required("labelId", &req.label_id)?;
        let mut m = begin!(self, actor, &req);
        let tx = m.tx();
        let label = label_as(tx, actor, &req.label_id, Need::Edit).await?;
        let task_ids = tx.delete_label(&label.id).await?;
        let deleted = Payload::LabelDeleted(LabelDeleted {
            label_id: label.id.clone(),
            task_ids,
            name: label.name,
        });
        m.commit(&label.board_id, deleted, |seq| DeleteLabelResponse {
            label_id: label.id,
            seq,
        })
        .await
    }
}
