//! The WebSocket wire: `ServerMessage` text frames, close frames, and the decoding of
//! a client's text frame into a typed `ClientMessage`.
//!
//! A client frame that fails to decode is answered with an `error` frame, not a
//! close: `invalid_json` for text that is not JSON, `invalid_argument` (naming the
//! field when there is one) for JSON that is not a message. Either carries the
//! frame's `requestId` when it has one, whatever else is wrong with it.

use std::fmt;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes};
use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::{Step, notice, resume};
use crate::core::{Error, Result, StreamItem};
use crate::limits::MAX_FRAME_BYTES;
use crate::proto::PayloadVisitor;
use crate::proto::v1::client_message::Message as In;
use crate::proto::v1::server_message::Message as Out;
use crate::proto::v1::{Ack, BoardSeq, ErrorFrame, ServerMessage, Task, stream_notice::Notice};

/// The JSON text of a server message.
pub fn frame(message: Out) -> Bytes {
    serde_json::to_vec(&ServerMessage { message: Some(message) })
        .expect("proto types serialize")
        .into()
}

/// The answer to a task mutation sent over the socket.
pub fn ack(request_id: String, task: Option<Task>, seq: u64) -> Bytes {
    frame(Out::Ack(Ack { request_id, task, seq }))
}

/// A text frame for the socket.
pub fn text(json: Bytes) -> Message {
    // Every frame is serialized JSON, so valid UTF-8.
    Message::Text(Utf8Bytes::try_from(json).unwrap_or_else(|_| Utf8Bytes::from_static("{}")))
}

/// A client message and the `requestId` its answer (ack or error) carries.
#[derive(Debug)]
pub struct Incoming {
    pub request_id: String,
    pub message: In,
}

/// Decodes a client's text frame; on failure, the `error` frame that answers it.
/// Every payload type refuses unknown fields (build.rs), except the frame's
/// `requestId`, which any message may carry: it is dropped before decoding a type
/// that has no such field.
///
/// Only an object is a message: serde's tagged enum would also take an array, tag
/// first and the fields by position (`["join","board-1"]`), a second syntax no client
/// is told about and that names no field, so none is refused as unknown.
pub fn decode(text: &str) -> Result<Incoming, Bytes> {
    let mut value: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid_json(&e))?;
    let request_id = RequestId::deserialize(&value).map(|r| r.0).unwrap_or_default();
    let Some(object) = value.as_object_mut() else {
        let e = Error::InvalidArgument {
            field: None,
            message: "a message must be a JSON object with a `type`".into(),
        };
        return Err(super::error::ws_frame(&request_id, &e));
    };
    let tag = object.get("type").and_then(serde_json::Value::as_str);
    if tag.is_some_and(|tag| In::visit_payload_type(tag, HasRequestId) == Some(false)) {
        object.remove("requestId");
    }
    match serde_path_to_error::deserialize::<_, In>(&value) {
        Ok(message) => Ok(Incoming { request_id, message }),
        Err(e) => Err(super::error::ws_frame(&request_id, &message_error(value, e))),
    }
}

fn invalid_json(e: &serde_json::Error) -> Bytes {
    frame(Out::Error(ErrorFrame {
        code: "invalid_json".into(),
        message: format!("Invalid JSON: {e}"),
        error: "Invalid JSON".into(),
        ..Default::default()
    }))
}

/// A frame's `requestId` when it is a string, read whatever the frame's type, so even
/// a message that fails to decode is answered with it. Only an object has one.
struct RequestId(String);

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestId, A::Error> {
                let mut id = String::new();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "requestId" => id = map.next_value::<TextOrNot>()?.0.unwrap_or_default(),
                        _ => drop(map.next_value::<IgnoredAny>()?),
                    }
                }
                Ok(RequestId(id))
            }
        }
        d.deserialize_map(Fields)
    }
}

/// A string, or any other JSON value (which counts as none).
struct TextOrNot(Option<String>);

impl<'de> Deserialize<'de> for TextOrNot {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Either {
            Text(String),
            Other(IgnoredAny),
        }
        Ok(TextOrNot(match Either::deserialize(d)? {
            Either::Text(text) => Some(text),
            Either::Other(_) => None,
        }))
    }
}

/// The error for a message that does not fit its type, naming the field. Inside an
/// internally tagged enum serde loses the field path, so on failure the payload is
/// parsed again as its own message type (chosen by its tag) to find it.
fn message_error(mut value: serde_json::Value, err: serde_path_to_error::Error<serde_json::Error>) -> Error {
    let tag = value.as_object_mut().and_then(|o| o.remove("type"));
    let located = match tag {
        Some(serde_json::Value::String(tag)) => In::visit_payload_type(&tag, Locate(value)).flatten(),
        _ => None,
    };
    located.unwrap_or_else(|| Error::InvalidArgument {
        field: None,
        message: format!("invalid message: {}", err.into_inner()),
    })
}

/// Whether the visited payload type has a `requestId` field of its own.
struct HasRequestId;

impl PayloadVisitor for HasRequestId {
    type Output = bool;
    fn visit<T: serde::de::DeserializeOwned + Default>(self) -> bool {
        let probe = serde_json::Value::Object(std::iter::once(("requestId".to_owned(), "".into())).collect());
        serde_json::from_value::<T>(probe).is_ok()
    }
}

/// Parses a payload as the visited type; the error at the field that fails, if any.
struct Locate(serde_json::Value);

impl PayloadVisitor for Locate {
    type Output = Option<Error>;
    fn visit<T: serde::de::DeserializeOwned + Default>(self) -> Option<Error> {
        let e = serde_path_to_error::deserialize::<_, T>(self.0).err()?;
        let path = e.path().to_string();
        (path != ".").then(|| Error::invalid(&path, format!("invalid message at `{path}`: {}", e.into_inner())))
    }
}

/// Why the server closes a socket: a close code and its reason.
#[derive(Debug, PartialEq)]
pub struct Close {
    pub code: u16,
    pub reason: String,
}

impl Close {
    /// The client closed first; the answer echoes a plain close.
    pub fn normal() -> Self {
        Close::new(1000, String::new())
    }

    pub fn going_away() -> Self {
        Close::new(1001, "server shutting down".into())
    }

    pub fn too_many_messages(per_sec: u32) -> Self {
        Close::new(1008, format!("too many messages: at most {per_sec} per second"))
    }

    /// The client kept sending what a rate limit had refused.
    pub fn rate_limited(refusals: u32) -> Self {
        Close::new(1008, format!("rate limited: {refusals} requests refused; slow down"))
    }

    /// No frame from the client (pongs included) for `after`.
    pub fn idle(after: std::time::Duration) -> Self {
        Close::new(1008, format!("idle: nothing received for {} ms", after.as_millis()))
    }

    /// A socket without an identity did not send `auth` in time.
    pub fn no_auth(within: std::time::Duration) -> Self {
        Close::new(
            1008,
            format!("no `auth` message within {} ms of connecting", within.as_millis()),
        )
    }

    pub fn too_big() -> Self {
        Close::new(1009, format!("frames are limited to {MAX_FRAME_BYTES} bytes"))
    }

    /// The client broke the WebSocket protocol; the reason says how.
    pub fn protocol(why: &str) -> Self {
        Close::new(1002, format!("protocol error: {why}"))
    }

    /// A text frame whose payload is not UTF-8.
    pub fn invalid_payload() -> Self {
        Close::new(1007, "text frames must be UTF-8".into())
    }

    /// The credential the socket authenticated with ended (signed out, revoked).
    pub fn revoked(reason: &str) -> Self {
        Close::new(4401, reason.into())
    }

    /// The socket's user was removed from a board it had joined.
    pub fn removed(reason: &str) -> Self {
        Close::new(4403, reason.into())
    }

    pub fn internal() -> Self {
        Close::new(1011, "internal error".into())
    }

    /// The connection fell behind its board stream; the reason names where to resume.
    pub fn lagged(positions: &[BoardSeq]) -> Self {
        Close::new(
            1013,
            format!("too slow: last delivered seq {}", resume::format(positions)),
        )
    }

    fn new(code: u16, reason: String) -> Self {
        Close { code, reason }
    }

    /// The close frame. The reason is cut short: a close frame's payload is at most
    /// 125 bytes.
    pub fn into_message(self) -> Message {
        let reason: String = self.reason.chars().take(120).collect();
        Message::Close(Some(CloseFrame {
            code: self.code,
            reason: Utf8Bytes::from(reason),
        }))
    }
}

/// One board stream item for a socket: events and resets go out as text; a lagged
/// subscriber hears its reset, then is closed (1013); the end of the subscription is
/// the server going away (1001); a snapshot is not a WebSocket item (skipped).
/// `positions` are the subscriber's (`Subscription::positions`), asked for on a lag.
pub fn item(item: Result<Option<StreamItem>>, positions: impl FnOnce() -> Vec<BoardSeq>) -> Step<Bytes, Close> {
    match item {
        Ok(Some(StreamItem::Event(event))) => Step::Send(event.json.clone()),
        Ok(Some(StreamItem::Reset(reset))) => Step::Send(notice(Notice::Reset(reset))),
        Ok(Some(StreamItem::Lagged(reset))) => Step::End {
            last: Some(notice(Notice::Reset(reset))),
            why: Close::lagged(&positions()),
        },
        Ok(Some(StreamItem::Revoked(reason))) => Step::End {
            last: None,
            why: Close::revoked(reason),
        },
        Ok(Some(StreamItem::Snapshot(_))) => Step::Skip,
        // A socket stops polling a subscription that follows nothing, so this ends one
        // only in principle: normally, saying why.
        Ok(Some(StreamItem::Closed(reason))) => Step::End {
            last: None,
            why: Close::new(1000, reason),
        },
        Ok(Some(StreamItem::Removed(reason))) => Step::End {
            last: None,
            why: Close::removed(&reason),
        },
        Ok(None) => Step::End {
            last: None,
            why: Close::going_away(),
        },
        Err(e) => {
            super::error::log_stream_failure("websocket", &e);
            Step::End {
                last: None,
                why: Close::internal(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(text: &str) -> String {
        String::from_utf8(decode(text).unwrap_err().to_vec()).unwrap()
    }

    #[test]
    fn text_that_is_not_json_is_invalid_json() {
        assert_eq!(
            answer("{not json"),
            r#"{"type":"error","requestId":"","code":"invalid_json","message":"Invalid JSON: key must be a string at line 1 column 2","field":"","error":"Invalid JSON"}"#
        );
    }

    #[test]
    fn an_unknown_or_missing_type_is_named() {
        assert!(answer(r#"{"type":"dance","requestId":"q"}"#).starts_with(
            r#"{"type":"error","requestId":"q","code":"invalid_argument","message":"invalid message: unknown variant `dance`, expected one of `auth`, "#
        ));
        assert_eq!(
            answer(r#"{"boardId":"board-1"}"#),
            r#"{"type":"error","requestId":"","code":"invalid_argument","message":"invalid message: missing field `type`","field":"","error":"invalid message: missing field `type`"}"#
        );
    }

    #[test]
    fn a_bad_field_is_located_by_the_payload_type() {
        assert_eq!(
            answer(r#"{"type":"cursor","boardId":"board-1","x":"left"}"#),
            r#"{"type":"error","requestId":"","code":"invalid_argument","message":"invalid message at `x`: invalid type: string \"left\", expected f64","field":"x","error":"invalid message at `x`: invalid type: string \"left\", expected f64"}"#
        );
        assert!(answer(r#"{"type":"create_task","requestId":"r-6","listId":"l","title":"x","bogus":1}"#).starts_with(
            r#"{"type":"error","requestId":"r-6","code":"invalid_argument","message":"invalid message at `bogus`: unknown field `bogus`"#
        ));
    }

    #[test]
    fn only_an_object_is_a_message() {
        for text in [r#"["join","board-1"]"#, r#"["ping"]"#, "7", r#""ping""#, "null"] {
            assert_eq!(
                answer(text),
                r#"{"type":"error","requestId":"","code":"invalid_argument","message":"a message must be a JSON object with a `type`","field":"","error":"a message must be a JSON object with a `type`"}"#,
                "{text}"
            );
        }
    }

    #[test]
    fn only_a_string_request_id_in_an_object_counts() {
        let id = |text: &str| {
            let value: serde_json::Value = serde_json::from_str(text).unwrap();
            RequestId::deserialize(&value).map(|r| r.0).unwrap_or_default()
        };
        assert_eq!(id(r#"{"type":"join","requestId":"r"}"#), "r");
        assert_eq!(id(r#"{"type":"join","requestId":7}"#), "");
        assert_eq!(id(r#"["r"]"#), "");
        assert_eq!(id(r#""r""#), "");
    }

    #[test]
    fn a_good_message_decodes_with_its_request_id() {
        let incoming = decode(r#"{"type":"delete_task","requestId":"d","taskId":"t"}"#).unwrap();
        assert_eq!(incoming.request_id, "d");
        assert!(matches!(incoming.message, In::DeleteTask(r) if r.task_id == "t"));
    }

    #[test]
    fn a_lagged_socket_hears_its_reset_then_closes_1013_naming_its_positions() {
        let lagged = StreamItem::Lagged(crate::proto::v1::Reset {
            board_id: "board-1".into(),
            seq: 7,
            reason: "r".into(),
        });
        let positions = || {
            vec![BoardSeq {
                board_id: "board-1".into(),
                seq: 7,
            }]
        };
        let Step::End { last: Some(last), why } = item(Ok(Some(lagged)), positions) else {
            panic!("a lag ends the socket")
        };
        assert_eq!(
            &last[..],
            br#"{"type":"reset","boardId":"board-1","seq":7,"reason":"r"}"#
        );
        assert_eq!(
            (why.code, why.reason.as_str()),
            (1013, "too slow: last delivered seq board-1:7")
        );
        assert_eq!(
            item(Ok(None), Vec::new),
            Step::End {
                last: None,
                why: Close::going_away()
            }
        );
    }

    #[test]
    fn close_reasons_name_the_limit_or_the_resume_point() {
        let at = BoardSeq {
            board_id: "board-1".into(),
            seq: 7,
        };
        assert_eq!(Close::lagged(&[at]).reason, "too slow: last delivered seq board-1:7");
        assert_eq!(Close::too_big().code, 1009);
        let Message::Close(Some(frame)) = Close::new(1000, "x".repeat(200)).into_message() else {
            panic!("a close frame")
        };
        assert_eq!(frame.reason.len(), 120);
    }
}
