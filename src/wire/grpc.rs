//! The gRPC stream wire: each `Subscribe` item as a `SubscribeResponse`, whose event
//! is the protobuf the bus encoded once for every subscriber. A lagged subscriber's
//! stream ends with `RESOURCE_EXHAUSTED`, a shutdown with `UNAVAILABLE` carrying the
//! resume point, the deletion of every followed board with `OK`.

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::{Code, Status};

use super::{Step, resume};
use crate::core::{Result, StreamItem};
use crate::proto::v1::BoardSeq;
use crate::proto::{SubscribeMessage, SubscribeResponse};

/// The trailer of a `Subscribe` ended by shutdown: every followed board's last
/// delivered seq, `board-1:5,board-2:3` (the SSE resume id's form).
pub const RESUME_METADATA: &str = "boardcast-resume";

/// One stream item as gRPC. `positions` are the subscriber's, as of this item
/// (`Subscription::positions`), asked for only when a shutdown ends the stream.
pub fn item(
    item: Result<Option<StreamItem>>,
    positions: impl FnOnce() -> Vec<BoardSeq>,
) -> Step<SubscribeResponse, Status> {
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
        Ok(None) => end(going_away(&positions())),
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

/// `UNAVAILABLE`, saying where to resume: in the message for a person, in the
/// [`RESUME_METADATA`] trailer for a client (each board's `after_seq`).
fn going_away(positions: &[BoardSeq]) -> Status {
    let at = resume::format(positions);
    let mut metadata = MetadataMap::new();
    // Board ids are validated printable ASCII, so the trailer always parses.
    if let Ok(value) = MetadataValue::try_from(at.as_str()) {
        metadata.insert(RESUME_METADATA, value);
    }
    Status::with_metadata(
        Code::Unavailable,
        format!("server shutting down; resubscribe with after_seq from {at}"),
        metadata,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shutdown_is_unavailable_with_the_resume_point() {
        let at = vec![
            BoardSeq {
                board_id: "board-1".into(),
                seq: 5,
            },
            BoardSeq {
                board_id: "board-2".into(),
                seq: 0,
            },
        ];
        let Step::End { last: None, why } = item(Ok(None), || at) else {
            panic!("a shutdown ends the stream")
        };
        assert_eq!(why.code(), Code::Unavailable);
        assert_eq!(why.metadata().get(RESUME_METADATA).unwrap(), "board-1:5,board-2:0");
        assert!(why.message().contains("board-1:5,board-2:0"), "{}", why.message());
    }
}
