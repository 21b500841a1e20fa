//! The one pipeline every mutation goes through, so each operation reads as its rule
//! alone:
//!
//! 1. [`Core::begin`]: the request id becomes a [`RequestKey`] (the typed operation
//!    and the encoded request), the write transaction opens, and a retry of a request
//!    already applied gets its first answer back without applying it again;
//! 2. the operation applies its rule through [`Pending::tx`], locking the board first
//!    (the `access` helpers do: `Tx::lock_board`);
//! 3. [`Pending::commit`]: the change is appended to the board's log under its next
//!    seq, the answer is remembered under the request id, the transaction commits and
//!    only then is the event published.
//!
//! A [`Pending`] dropped before step 3 (a rule refused the change) rolls back: an
//! error writes nothing and appends no event.

use std::marker::PhantomData;
use std::sync::Arc;

use prost::Message;

use super::idempotency::RequestKey;
use super::sequencer::Sequencer;
use super::validate::RequestId;
use super::{Actor, Core, Error, Result, time};
use crate::metrics::Metrics;
use crate::proto::v1::{
    AddMemberRequest, AddMemberResponse, BoardEvent, CreateBoardRequest, CreateBoardResponse, CreateLabelRequest,
    CreateLabelResponse, CreateListRequest, CreateListResponse, CreateTaskRequest, CreateTaskResponse,
    DeleteBoardRequest, DeleteBoardResponse, DeleteLabelRequest, DeleteLabelResponse, DeleteListRequest,
    DeleteListResponse, DeleteTaskRequest, DeleteTaskResponse, MoveListRequest, MoveListResponse, MoveTaskRequest,
    MoveTaskResponse, RemoveMemberRequest, RemoveMemberResponse, UpdateBoardRequest, UpdateBoardResponse,
    UpdateLabelRequest, UpdateLabelResponse, UpdateListRequest, UpdateListResponse, UpdateMemberRequest,
    UpdateMemberResponse, UpdateTaskRequest, UpdateTaskResponse, board_event::Payload,
};
use crate::store::Tx;
use crate::store::cluster::Cluster;

/// The operations that change a board. An operation's name is part of its request
/// fingerprint, so one request id cannot stand for two different operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    CreateTask,
    UpdateTask,
    MoveTask,
    DeleteTask,
    CreateBoard,
    UpdateBoard,
    DeleteBoard,
    CreateList,
    UpdateList,
    MoveList,
    DeleteList,
    AddMember,
    UpdateMember,
    RemoveMember,
    CreateLabel,
    UpdateLabel,
    DeleteLabel,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::CreateTask => "CreateTask",
            Op::UpdateTask => "UpdateTask",
            Op::MoveTask => "MoveTask",
            Op::DeleteTask => "DeleteTask",
            Op::CreateBoard => "CreateBoard",
            Op::UpdateBoard => "UpdateBoard",
            Op::DeleteBoard => "DeleteBoard",
            Op::CreateList => "CreateList",
            Op::UpdateList => "UpdateList",
            Op::MoveList => "MoveList",
            Op::DeleteList => "DeleteList",
            Op::AddMember => "AddMember",
            Op::UpdateMember => "UpdateMember",
            Op::RemoveMember => "RemoveMember",
            Op::CreateLabel => "CreateLabel",
            Op::UpdateLabel => "UpdateLabel",
            Op::DeleteLabel => "DeleteLabel",
        }
    }
}

/// A request that changes a board: which operation it is and what it answers.
pub trait Mutation: Message {
    const OP: Op;
    type Response: Message + Default;
    /// The client's request id; empty when it sent none.
    fn request_id(&self) -> &str;
}

macro_rules! mutations {
    ($($request:ty => $response:ty, $op:expr;)*) => {$(
        impl Mutation for $request {
            const OP: Op = $op;
            type Response = $response;
            fn request_id(&self) -> &str {
                &self.request_id
            }
        }
    )*};
}

mutations! {
    CreateTaskRequest => CreateTaskResponse, Op::CreateTask;
    UpdateTaskRequest => UpdateTaskResponse, Op::UpdateTask;
    MoveTaskRequest => MoveTaskResponse, Op::MoveTask;
    DeleteTaskRequest => DeleteTaskResponse, Op::DeleteTask;
    CreateBoardRequest => CreateBoardResponse, Op::CreateBoard;
    UpdateBoardRequest => UpdateBoardResponse, Op::UpdateBoard;
    DeleteBoardRequest => DeleteBoardResponse, Op::DeleteBoard;
    CreateListRequest => CreateListResponse, Op::CreateList;
    UpdateListRequest => UpdateListResponse, Op::UpdateList;
    MoveListRequest => MoveListResponse, Op::MoveList;
    DeleteListRequest => DeleteListResponse, Op::DeleteList;
    AddMemberRequest => AddMemberResponse, Op::AddMember;
    UpdateMemberRequest => UpdateMemberResponse, Op::UpdateMember;
    RemoveMemberRequest => RemoveMemberResponse, Op::RemoveMember;
    CreateLabelRequest => CreateLabelResponse, Op::CreateLabel;
    UpdateLabelRequest => UpdateLabelResponse, Op::UpdateLabel;
    DeleteLabelRequest => DeleteLabelResponse, Op::DeleteLabel;
}

/// Opens the mutation for `$req`, or answers at once with the reply a retry gets.
macro_rules! begin {
    ($core:expr, $actor:expr, $req:expr) => {
        match $core.begin($actor, $req).await? {
            $crate::core::mutation::Begun::Fresh(pending) => pending,
            $crate::core::mutation::Begun::Replayed(first) => return Ok(first),
        }
    };
}
pub(super) use begin;

/// What [`Core::begin`] found: a request to apply, or the answer it had the first time.
pub(super) enum Begun<'a, M: Mutation> {
    Fresh(Pending<'a, M>),
    Replayed(M::Response),
}

/// A mutation whose write transaction is open and whose request id is not yet used.
pub(super) struct Pending<'a, M: Mutation> {
    tx: Box<dyn Tx>,
    actor: &'a Actor,
    request_id: &'a str,
    key: Option<RequestKey<'a>>,
    sequencer: Arc<Sequencer>,
    cluster: Option<Arc<dyn Cluster>>,
    metrics: Arc<Metrics>,
    _op: PhantomData<fn() -> M>,
}

impl Core {
    /// Opens a mutation: validates the request id, opens the write transaction and
    /// replays the first answer when this request was applied before.
    pub(super) async fn begin<'a, M: Mutation>(&self, actor: &'a Actor, req: &'a M) -> Result<Begun<'a, M>> {
        // Before anything is read: a refused change costs no transaction. A retry counts
        // too (it is a request all the same).
        self.rates.mutation(actor)?;
        let key = RequestId::parse(req.request_id())?
            .map(|id| RequestKey::new(actor, M::OP, id, req))
            .transpose()?;
        let mut tx = self.store.write().await?;
        if let Some(key) = &key {
            // A retry racing its first attempt (on another instance) waits for it here,
            // then replays its answer rather than applying the change twice.
            key.lock(&mut *tx).await?;
            let expired_before = self.retention.requests_expire_before(time::now_millis());
            if let Some(first) = key.replay(&mut *tx, expired_before).await? {
                return Ok(Begun::Replayed(first));
            }
        }
        Ok(Begun::Fresh(Pending {
            tx,
            actor,
            request_id: req.request_id(),
            key,
            sequencer: self.sequencer.clone(),
            cluster: self.cluster.clone(),
            metrics: self.metrics.clone(),
            _op: PhantomData,
        }))
    }
}

impl<M: Mutation> Pending<'_, M> {
    /// The mutation's transaction, for its rule to read and write through.
    pub fn tx(&mut self) -> &mut dyn Tx {
        &mut *self.tx
    }

    /// Appends `payload` to `board_id`'s log, builds the answer from the event's seq,
    /// remembers it under the request id, commits, and only then publishes the event:
    /// subscribers never see a change that could still roll back.
    pub async fn commit(
        mut self,
        board_id: &str,
        payload: Payload,
        respond: impl FnOnce(u64) -> M::Response,
    ) -> Result<M::Response> {
        let event = BoardEvent {
            seq: self.tx.next_seq(board_id).await?,
            board_id: board_id.to_owned(),
            occurred_at: Some(time::from_millis(time::now_millis())),
            actor: self.actor.user.id.clone(),
            request_id: self.request_id.to_owned(),
            payload: Some(payload),
        };
        self.tx.append_event(&event).await?;
        // Still under the board's write lock: seqs take their turns in order.
        let turn = self.sequencer.turn(board_id, event.seq);
        let response = respond(event.seq);
        if let Some(key) = self.key {
            key.remember(&mut *self.tx, &response).await?;
        }
        // Commit and publish run as a task of their own: the request may be dropped
        // while its commit waits for the group (the client went away), and a change
        // that commits must still reach the subscribers now, not when the board's
        // next event makes them read the gap from the log.
        let (tx, cluster, metrics) = (self.tx, self.cluster, self.metrics);
        tokio::spawn(async move {
            tx.commit().await?;
            let (board_id, seq) = (event.board_id.clone(), event.seq);
            turn.publish(event);
            metrics.published(1);
            // After the commit, never inside it: the other instances read the log.
            if let Some(cluster) = cluster {
                cluster.announce(&board_id, seq);
            }
            Ok::<_, Error>(())
        })
        .await
        .map_err(|e| Error::Internal(Box::new(e)))??;
        Ok(response)
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod two_instances;
