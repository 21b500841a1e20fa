//! Server-Sent Events framing (`text/event-stream`): `retry:`, the `connected` and
//! `reset` notices, each event as `id:`/`event:`/`data:`, `: heartbeat` comments, and
//! the final `retry:` of a stream ended by shutdown.
//!
//! A one-board stream's event frame is the same for every subscriber (its id is the
//! seq), so it is built once per event, by the first subscriber to send it, and kept
//! in the event's shared slot. A several-board stream's id is the subscriber's own
//! positions (`board-1:5,board-2:3`), so its frames are built per subscriber.

use bytes::Bytes;

use super::{Step, notice, resume};
use crate::core::{Result, StreamItem};
use crate::proto::v1::{BoardSeq, Connected, Revoked, stream_notice::Notice};

/// Reconnect delay suggested to `EventSource`, in ms.
pub const RETRY_MS: u32 = 2000;

/// The last bytes of a stream the server ends for shutdown: how long to wait before
/// reconnecting (to another instance, or this one restarted). No `data:`, so
/// `EventSource` dispatches nothing; the resume point stays the last event's id.
pub fn going_away() -> Bytes {
    format!("retry: {RETRY_MS}\n\n").into()
}

/// Sent while idle, so proxies and clients see the connection is alive.
pub fn heartbeat() -> Bytes {
    Bytes::from_static(b": heartbeat\n\n")
}

/// One SSE frame. `data` is JSON: it never holds a raw newline.
pub fn frame(id: &str, event: Option<&str>, data: &[u8]) -> Bytes {
    let mut frame = Vec::with_capacity(data.len() + id.len() + 48);
    if !id.is_empty() {
        frame.extend_from_slice(b"id: ");
        frame.extend_from_slice(id.as_bytes());
        frame.push(b'\n');
    }
    if let Some(event) = event {
        frame.extend_from_slice(b"event: ");
        frame.extend_from_slice(event.as_bytes());
        frame.push(b'\n');
    }
    frame.extend_from_slice(b"data: ");
    frame.extend_from_slice(data);
    frame.extend_from_slice(b"\n\n");
    frame.into()
}

/// The first bytes of a stream: `retry:`, then the `connected` notice. `id` is the
/// resume id (empty on a one-board stream, whose id is an event's seq).
pub fn opening(id: &str, connected: Connected) -> Bytes {
    let mut first = format!("retry: {RETRY_MS}\n").into_bytes();
    first.extend_from_slice(&notice_frame(id, Notice::Connected(connected)));
    first.into()
}

/// A notice as a frame. `connected` has no `event:` name, so `EventSource.onmessage`
/// sees it; the others are named by their tag (`event: reset`).
fn notice_frame(id: &str, item: Notice) -> Bytes {
    let name = match &item {
        Notice::Connected(_) => None,
        other @ (Notice::Reset(_) | Notice::Revoked(_)) => Some(other.type_name()),
    };
    frame(id, name, &notice(item))
}

/// How a subscriber's stream is identified in `id:` fields.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Ids {
    /// One board: an event's id is its seq.
    Seq,
    /// Several boards: every id is the subscriber's positions on all of them.
    Positions,
}

/// One stream item as SSE. A reset goes on; a lagged stream ends after telling the
/// client where to resume; a snapshot is not an SSE item (skipped); the end of the
/// subscription, or a failure, ends the stream. `positions` are the subscriber's, as
/// of this item (`Subscription::positions`), asked for only with [`Ids::Positions`].
pub fn item(
    item: Result<Option<StreamItem>>,
    ids: Ids,
    positions: impl FnOnce() -> Vec<BoardSeq>,
) -> Step<Bytes, &'static str> {
    let id = |seq: u64| match ids {
        Ids::Seq => seq.to_string(),
        Ids::Positions => resume::format(&positions()),
    };
    match item {
        Ok(Some(StreamItem::Event(event))) => Step::Send(match ids {
            Ids::Seq => event.shared_frame(|e| frame(&e.seq().to_string(), Some(e.type_name()), &e.json)),
            Ids::Positions => frame(&id(event.seq()), Some(event.type_name()), &event.json),
        }),
        Ok(Some(StreamItem::Reset(reset))) => Step::Send(notice_frame(&id(reset.seq), Notice::Reset(reset))),
        Ok(Some(StreamItem::Lagged(reset))) => Step::End {
            last: Some(notice_frame(&id(reset.seq), Notice::Reset(reset))),
            why: "fell behind the live buffer (reset sent)",
        },
        // No id: the client's resume point stays its last event.
        Ok(Some(StreamItem::Revoked(reason))) => Step::End {
            last: Some(notice_frame(
                "",
                Notice::Revoked(Revoked {
                    reason: reason.to_owned(),
                }),
            )),
            why: "its credential was revoked (revoked sent)",
        },
        Ok(Some(StreamItem::Removed(reason))) => Step::End {
            last: Some(notice_frame("", Notice::Revoked(Revoked { reason }))),
            why: "its user was removed from the board (revoked sent)",
        },
        Ok(Some(StreamItem::Snapshot(_))) => Step::Skip,
        // After the board_deleted event itself, the stream just ends.
        Ok(Some(StreamItem::Closed(_))) => Step::End {
            last: None,
            why: "every followed board was deleted",
        },
        Ok(None) => Step::End {
            last: Some(going_away()),
            why: "server shutting down (retry sent)",
        },
        Err(e) => {
            super::error::log_stream_failure("sse", &e);
            Step::End {
                last: None,
                why: "failed reading the log",
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::SharedEvent;
    use crate::proto::v1::{BoardEvent, GetBoardResponse, Reset, TaskDeleted, board_event::Payload};

    fn at(board_id: &str, seq: u64) -> BoardSeq {
        BoardSeq {
            board_id: board_id.into(),
            seq,
        }
    }

    fn event(seq: u64) -> StreamItem {
        StreamItem::Event(SharedEvent::new(BoardEvent {
            seq,
            board_id: "b".into(),
            payload: Some(Payload::TaskDeleted(TaskDeleted::default())),
            ..Default::default()
        }))
    }

    fn reset(seq: u64) -> Reset {
        Reset {
            board_id: "b".into(),
            seq,
            reason: "r".into(),
        }
    }

    fn sent(step: Step<Bytes, &'static str>) -> String {
        match step {
            Step::Send(frame) => String::from_utf8(frame.to_vec()).unwrap(),
            other => panic!("not sent: {other:?}"),
        }
    }

    #[test]
    fn an_event_is_identified_by_its_seq_or_by_every_position() {
        let one = sent(item(Ok(Some(event(3))), Ids::Seq, || unreachable!("not asked")));
        assert!(
            one.starts_with("id: 3\nevent: task_deleted\ndata: {\"seq\":3,"),
            "{one}"
        );
        let many = sent(item(Ok(Some(event(3))), Ids::Positions, || {
            vec![at("b", 3), at("c", 1)]
        }));
        assert!(many.starts_with("id: b:3,c:1\nevent: task_deleted\n"), "{many}");
    }

    #[test]
    fn a_reset_goes_on_and_a_lag_ends_after_its_reset() {
        assert!(
            sent(item(Ok(Some(StreamItem::Reset(reset(2)))), Ids::Seq, Vec::new)).starts_with("id: 2\nevent: reset\n")
        );
        let Step::End { last: Some(last), .. } = item(Ok(Some(StreamItem::Lagged(reset(2)))), Ids::Seq, Vec::new)
        else {
            panic!("a lag ends the stream")
        };
        assert!(last.starts_with(b"id: 2\nevent: reset\n"));
    }

    /// A snapshot is skipped: it does not end the stream, unlike the end itself.
    #[test]
    fn a_snapshot_is_skipped_and_only_the_end_ends() {
        let snapshot = StreamItem::Snapshot(GetBoardResponse::default());
        assert_eq!(item(Ok(Some(snapshot)), Ids::Seq, Vec::new), Step::Skip);
        let Step::End { last: Some(last), .. } = item(Ok(None), Ids::Seq, Vec::new) else {
            panic!("a shutdown ends the stream with its retry")
        };
        assert_eq!(&last[..], b"retry: 2000\n\n");
        let failed = item(Err(crate::core::Error::Internal("x".into())), Ids::Seq, Vec::new);
        assert!(matches!(failed, Step::End { last: None, .. }));
    }

    #[test]
    fn frames_carry_id_event_and_data() {
        assert_eq!(
            &frame("3", Some("task_created"), b"{}")[..],
            b"id: 3\nevent: task_created\ndata: {}\n\n"
        );
        assert_eq!(
            &frame("", None, b"{\"type\":\"connected\"}")[..],
            b"data: {\"type\":\"connected\"}\n\n"
        );
    }

    #[test]
    fn a_stream_opens_with_retry_and_an_unnamed_connected_notice() {
        let one = Connected {
            board_id: "board-1".into(),
            seq: 1,
            boards: vec![],
        };
        assert_eq!(
            &opening("", one)[..],
            &b"retry: 2000\ndata: {\"type\":\"connected\",\"boardId\":\"board-1\",\"seq\":1,\"boards\":[]}\n\n"[..]
        );
        let many = Connected {
            boards: vec![BoardSeq {
                board_id: "b".into(),
                seq: 2,
            }],
            ..Default::default()
        };
        assert_eq!(
            &opening("b:2", many)[..],
            &b"retry: 2000\nid: b:2\ndata: {\"type\":\"connected\",\"boardId\":\"\",\"seq\":0,\"boards\":[{\"boardId\":\"b\",\"seq\":2}]}\n\n"[..]
        );
    }

    #[test]
    fn resets_are_named_by_their_tag() {
        let reset = Notice::Reset(Reset {
            board_id: "b".into(),
            seq: 1,
            reason: "r".into(),
        });
        assert_eq!(
            &notice_frame("1", reset)[..],
            &b"id: 1\nevent: reset\ndata: {\"type\":\"reset\",\"boardId\":\"b\",\"seq\":1,\"reason\":\"r\"}\n\n"[..]
        );
        assert_eq!(&heartbeat()[..], b": heartbeat\n\n");
    }
}
