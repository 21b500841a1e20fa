//! The one schema: types generated from `proto/`, plus the serde glue that lets every
//! JSON transport serialize them directly. The JSON mapping itself is configured in
//! `build.rs`; this module holds the few helpers those attributes point at.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("boardcast.v1");
    // `TAGS`, `type_name` and `visit_payload_type` of each tagged oneof (`build.rs`).
    include!(concat!(env!("OUT_DIR"), "/oneof_tags.rs"));
}

pub mod codec;

/// Receives the payload type of a tagged oneof variant, chosen by its JSON tag (see the
/// generated `visit_payload_type`): how code that holds only a tag reaches the type.
pub trait PayloadVisitor {
    type Output;
    fn visit<T: serde::de::DeserializeOwned + Default>(self) -> Self::Output;
}

/// Every file of the contract with all its imports, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("boardcast_descriptor");

/// `boardcast.v1.SubscribeResponse`, written by hand: its `event` goes out as the
/// bytes the bus encoded once for every subscriber, instead of being re-encoded per
/// stream. Wire-compatible with the generated form (field 1 is an embedded message).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubscribeResponse {
    pub message: Option<SubscribeMessage>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SubscribeMessage {
    /// An encoded `BoardEvent`.
    Event(bytes::Bytes),
    Snapshot(v1::GetBoardResponse),
    Reset(v1::Reset),
}

impl SubscribeResponse {
    /// The event this message carries, decoded.
    pub fn event(&self) -> Option<Result<v1::BoardEvent, prost::DecodeError>> {
        match &self.message {
            Some(SubscribeMessage::Event(bytes)) => Some(prost::Message::decode(bytes.clone())),
            _ => None,
        }
    }
}

impl prost::Message for SubscribeResponse {
    fn encode_raw(&self, buf: &mut impl bytes::BufMut) {
        use prost::encoding::{bytes, message};
        match &self.message {
            Some(SubscribeMessage::Event(b)) => bytes::encode(1, b, buf),
            Some(SubscribeMessage::Snapshot(s)) => message::encode(2, s, buf),
            Some(SubscribeMessage::Reset(r)) => message::encode(3, r, buf),
            None => {}
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        use prost::encoding::{bytes, message, skip_field};
        match tag {
            1 => {
                let mut b = ::bytes::Bytes::new();
                bytes::merge(wire_type, &mut b, buf, ctx)?;
                self.message = Some(SubscribeMessage::Event(b));
            }
            2 => {
                let mut s = match self.message.take() {
                    Some(SubscribeMessage::Snapshot(s)) => s,
                    _ => v1::GetBoardResponse::default(),
                };
                message::merge(wire_type, &mut s, buf, ctx)?;
                self.message = Some(SubscribeMessage::Snapshot(s));
            }
            3 => {
                let mut r = match self.message.take() {
                    Some(SubscribeMessage::Reset(r)) => r,
                    _ => v1::Reset::default(),
                };
                message::merge(wire_type, &mut r, buf, ctx)?;
                self.message = Some(SubscribeMessage::Reset(r));
            }
            _ => skip_field(wire_type, tag, buf, ctx)?,
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        use prost::encoding::{bytes, message};
        match &self.message {
            Some(SubscribeMessage::Event(b)) => bytes::encoded_len(1, b),
            Some(SubscribeMessage::Snapshot(s)) => message::encoded_len(2, s),
            Some(SubscribeMessage::Reset(r)) => message::encoded_len(3, r),
            None => 0,
        }
    }

    fn clear(&mut self) {
        self.message = None;
    }
}

pub mod json {
    //! Serde helpers named by the attributes in `build.rs`.

    /// `google.protobuf.Timestamp` as an RFC 3339 string (`"2026-11-23T10:00:00.123Z"`),
    /// as the proto3 JSON mapping has it; an unset timestamp is `null`.
    pub mod timestamp {
        use prost_types::Timestamp;
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match ts {
                Some(ts) => s.collect_str(ts),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| s.parse().map_err(D::Error::custom))
                .transpose()
        }
    }

    /// An optional `IdSet` as a bare array of ids (`["u1","u2"]`, `[]` to clear); the
    /// field left out is `None` (serde's `default`), so `null` is refused.
    pub mod id_set {
        use crate::proto::v1::IdSet;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(set: &Option<IdSet>, s: S) -> Result<S::Ok, S::Error> {
            match set {
                Some(set) => s.collect_seq(&set.ids),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<IdSet>, D::Error> {
            Ok(Some(IdSet {
                ids: Vec::<String>::deserialize(d)?,
            }))
        }
    }

    /// An optional `DueDate`: an RFC 3339 string sets it, `null` clears it (`DueDate`
    /// without `at`); the field left out is `None` (serde's `default`): unchanged.
    pub mod due_date {
        use crate::proto::v1::DueDate;
        use serde::{Deserializer, Serializer};

        pub fn serialize<S: Serializer>(due: &Option<DueDate>, s: S) -> Result<S::Ok, S::Error> {
            super::timestamp::serialize(&due.as_ref().and_then(|d| d.at), s)
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DueDate>, D::Error> {
            Ok(Some(DueDate {
                at: super::timestamp::deserialize(d)?,
            }))
        }
    }

    /// `Role` as its lowercase name (`"owner"`, `"editor"`, `"viewer"`; `""` when
    /// unset). Reading, any other string is an error naming the accepted ones.
    pub mod role {
        use crate::proto::v1::Role;
        use serde::{Deserialize, Deserializer, Serializer, de::Error};

        pub fn serialize<S: Serializer>(role: &i32, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(name(*role))
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
            let text = String::deserialize(d)?;
            parse(&text)
                .map(|r| r as i32)
                .ok_or_else(|| D::Error::custom(format!("unknown role `{text}`: owner, editor or viewer")))
        }

        /// The OpenAPI schema of the field: one of the names [`name`] writes.
        pub fn schema() -> utoipa::openapi::schema::Object {
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .enum_values(Some(["owner", "editor", "viewer", ""]))
                .description(Some("The member's role; `\"\"` only when unset."))
                .build()
        }

        /// The JSON name of a role value; `""` for unset or unknown values.
        pub fn name(role: i32) -> &'static str {
            match Role::try_from(role) {
                Ok(Role::Owner) => "owner",
                Ok(Role::Editor) => "editor",
                Ok(Role::Viewer) => "viewer",
                Ok(Role::Unspecified) | Err(_) => "",
            }
        }

        /// The role a JSON name stands for (`""` is unset).
        pub fn parse(text: &str) -> Option<Role> {
            match text {
                "owner" => Some(Role::Owner),
                "editor" => Some(Role::Editor),
                "viewer" => Some(Role::Viewer),
                "" => Some(Role::Unspecified),
                _ => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::v1::*;

    #[test]
    fn subscribe_response_event_is_an_embedded_board_event() {
        use prost::Message;
        let event = BoardEvent {
            seq: 3,
            board_id: "board-1".into(),
            ..Default::default()
        };
        let msg = super::SubscribeResponse {
            message: Some(super::SubscribeMessage::Event(event.encode_to_vec().into())),
        };
        let bytes = msg.encode_to_vec();
        // Field 1, length-delimited, then the event itself.
        assert_eq!(bytes[0], (1 << 3) | 2);
        let back = super::SubscribeResponse::decode(bytes.as_slice()).unwrap();
        assert_eq!(back.event().unwrap().unwrap(), event);
        let reset = super::SubscribeResponse {
            message: Some(super::SubscribeMessage::Reset(Reset {
                board_id: "b".into(),
                seq: 9,
                reason: "r".into(),
            })),
        };
        assert_eq!(
            super::SubscribeResponse::decode(reset.encode_to_vec().as_slice()).unwrap(),
            reset
        );
    }

    /// The generated tags are the ones serde writes, for every variant of every oneof.
    #[test]
    fn generated_tags_agree_with_serde() {
        fn check<T: serde::Serialize>(variants: &[T], tags: &[&str], type_name: fn(&T) -> &'static str) {
            assert_eq!(variants.len(), tags.len());
            for (variant, tag) in variants.iter().zip(tags) {
                assert_eq!(serde_json::to_value(variant).unwrap()["type"], *tag);
                assert_eq!(type_name(variant), *tag);
            }
        }
        check(
            &board_event::Payload::every_variant(),
            board_event::Payload::TAGS,
            super::v1::board_event::Payload::type_name,
        );
        check(
            &stream_notice::Notice::every_variant(),
            stream_notice::Notice::TAGS,
            super::v1::stream_notice::Notice::type_name,
        );
        check(
            &client_message::Message::every_variant(),
            client_message::Message::TAGS,
            super::v1::client_message::Message::type_name,
        );
        check(
            &server_message::Message::every_variant(),
            server_message::Message::TAGS,
            super::v1::server_message::Message::type_name,
        );
    }

    /// A tag leads to its own payload type: each variant's JSON, tag removed, parses as it.
    #[test]
    fn payload_types_follow_their_tags() {
        struct Parse(serde_json::Value);
        impl super::PayloadVisitor for Parse {
            type Output = bool;
            fn visit<T: serde::de::DeserializeOwned + Default>(self) -> bool {
                serde_json::from_value::<T>(self.0).is_ok()
            }
        }
        for variant in client_message::Message::every_variant() {
            let mut json = serde_json::to_value(&variant).unwrap();
            json.as_object_mut().unwrap().remove("type");
            assert_eq!(
                client_message::Message::visit_payload_type(variant.type_name(), Parse(json)),
                Some(true)
            );
        }
        assert_eq!(
            client_message::Message::visit_payload_type("dance", Parse(serde_json::Value::Null)),
            None
        );
    }

    #[test]
    fn event_json_flattens_payload_beside_type_tag() {
        let event = BoardEvent {
            seq: 7,
            board_id: "board-1".into(),
            occurred_at: Some(prost_types::Timestamp { seconds: 0, nanos: 0 }),
            payload: Some(board_event::Payload::TaskDeleted(TaskDeleted {
                task_id: "task-1".into(),
                ..Default::default()
            })),
            ..Default::default()
        };
        let json: serde_json::Value = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "task_deleted");
        assert_eq!(json["taskId"], "task-1");
        assert_eq!(json["seq"], 7);
        assert_eq!(json["occurredAt"], "1970-01-01T00:00:00Z");
        let back: BoardEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, event);
    }
}
