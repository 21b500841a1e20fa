//! The one schema: types generated from `proto/`, plus the serde glue that lets every
//! JSON transport serialize them directly. The JSON mapping itself is configured in
//! `build.rs`; this module holds the few helpers those attributes point at.

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    tonic::include_proto!("boardcast.v1");
}

/// Every file of the contract with all its imports, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("boardcast_descriptor");

impl v1::board_event::Payload {
    /// The snake_case `"type"` tag this payload carries on JSON transports, e.g. in
    /// the SSE `event:` field.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::TaskCreated(_) => "task_created",
            Self::TaskUpdated(_) => "task_updated",
            Self::TaskMoved(_) => "task_moved",
            Self::TaskDeleted(_) => "task_deleted",
        }
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
}

#[cfg(test)]
mod tests {
    use super::v1::*;

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
