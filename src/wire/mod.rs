//! Every byte a transport sends is built here; transports only call it. One file per
//! wire format:
//! - [`error`]: a core [`Error`](crate::core::Error) as HTTP status + JSON body, as a
//!   gRPC `Status`, as a WebSocket error frame (an `Internal` error is logged here,
//!   once, whichever way it goes out);
//! - [`sse`]: `text/event-stream` frames, `retry:`, notices and heartbeats;
//! - [`ws`]: WebSocket `ServerMessage` frames, close frames, and the decoding of a
//!   client's text frame into a typed `ClientMessage`;
//! - [`grpc`]: `SubscribeResponse` items;
//! - [`resume`]: the `board:seq,…` resume positions.
//!
//! Each of `sse`, `ws` and `grpc` turns a core [`StreamItem`](crate::core::StreamItem)
//! into a [`Step`] of its own output, so what a reset, a lag or the end of a stream
//! means on the wire is decided next to the bytes it sends. The JSON itself always
//! comes from the generated proto types (`build.rs`).

pub mod error;
pub mod grpc;
pub mod resume;
pub mod sse;
pub mod ws;

use bytes::Bytes;

use crate::proto::v1::{StreamNotice, stream_notice::Notice};

/// What one stream item becomes on a transport.
#[derive(Debug, PartialEq)]
pub enum Step<F, E> {
    /// Send this; the stream goes on.
    Send(F),
    /// Nothing to send for this item; the stream goes on.
    Skip,
    /// Send `last` if there is one, then end the stream, for `why`.
    End { last: Option<F>, why: E },
}

/// A stream notice (`connected`, `reset`) as JSON: the SSE `data:` and the WebSocket
/// text frame are the same bytes.
pub fn notice(notice: Notice) -> Bytes {
    serde_json::to_vec(&StreamNotice { notice: Some(notice) })
        .expect("proto types serialize")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::v1::Reset;

    #[test]
    fn notices_are_tagged_proto_json() {
        let reset = Notice::Reset(Reset {
            board_id: "b".into(),
            seq: 4,
            reason: "why".into(),
        });
        assert_eq!(
            &notice(reset)[..],
            br#"{"type":"reset","boardId":"b","seq":4,"reason":"why"}"#
        );
    }
}
