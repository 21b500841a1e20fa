//! The gRPC stream wire: each `Subscribe` item as a `SubscribeResponse`, whose event
//! is the protobuf the bus encoded once for every subscriber. A lagged subscriber's
//! stream ends with `RESOURCE_EXHAUSTED`, a shutdown with `UNAVAILABLE`, the deletion
//! of every followed board with `OK`.

use tonic::Status;

use super::Step;
use crate::core::{Result, StreamItem};
use crate::proto::{SubscribeMessage, SubscribeResponse};

pub fn item(item: Result<Option<StreamItem>>) -> Step<SubscribeResponse, Status> {
    let send = |message| Step::Send(SubscribeResponse { message: Some(message) });
    let end = |why| Step::End { last: None, why };
    match item {
        Ok(Some(StreamItem::Event(event))) => send(SubscribeMessage::Event(event.proto.clone())),
        Ok(Some(StreamItem::Snapshot(snapshot))) => send(SubscribeMessage::Snapshot(snapshot)),
        Ok(Some(StreamItem::Reset(reset))) => send(SubscribeMessage::Reset(reset)),
        Ok(Some(StreamItem::Lagged(reset))) => end(Status::resource_exhausted(reset.reason)),
        Ok(Some(StreamItem::Revoked(reason))) => end(Status::unauthenticated(reason)),
        // Every followed board was deleted: a clean end (status OK), saying why.
        Ok(Some(StreamItem::Closed(reason))) => end(Status::ok(reason)),
        Ok(Some(StreamItem::Removed(reason))) => end(Status::permission_denied(reason)),
        // The bus closed: the server is shutting down.
        Ok(None) => end(Status::unavailable("server shutting down; resubscribe")),
        Err(e) => end(super::error::grpc_status(e)),
    }
}

/// The status of a call whose `grpc-timeout` passed before it finished: as the
/// header's own unit reads it, so the client sees which deadline it was.
pub fn deadline_exceeded(timeout: std::time::Duration) -> Status {
    Status::deadline_exceeded(format!(
        "the call's deadline (grpc-timeout {} ms) passed before it finished",
        timeout.as_millis()
    ))
}
