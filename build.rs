//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and tonic-prost-build,
//! and writes the full descriptor set (imports included) for gRPC reflection.
//!
//! The serde attributes below are the whole JSON mapping of the schema: REST, SSE,
//! WebSocket and polling all serialize these generated types, never hand-built JSON.
//! The mapping is proto3 JSON's field naming (lowerCamelCase) with three deliberate
//! differences, documented in docs/ARCHITECTURE.md: 64-bit integers are JSON numbers
//! (seq and version are far below 2^53), default values are written out, and a
//! `oneof payload` is flattened beside a snake_case `"type"` tag, as the seed's wire
//! format has it.

use std::{env, fs, path::PathBuf};

const JSON_MESSAGE: &str =
    "#[derive(serde::Serialize, serde::Deserialize)] #[serde(rename_all = \"camelCase\", default)]";
const JSON_TAGGED_ONEOF: &str =
    "#[derive(serde::Serialize, serde::Deserialize)] #[serde(tag = \"type\", rename_all = \"snake_case\")]";
const TIMESTAMP: &str = "#[serde(with = \"crate::proto::json::timestamp\")]";

/// Bodies clients send: a misspelt field is an error, not silently ignored.
const REQUESTS: &[&str] = &[
    ".boardcast.v1.CreateTaskRequest",
    ".boardcast.v1.UpdateTaskRequest",
    ".boardcast.v1.MoveTaskRequest",
];

const TIMESTAMP_FIELDS: &[&str] = &[
    ".boardcast.v1.Board.created_at",
    ".boardcast.v1.Task.created_at",
    ".boardcast.v1.Task.updated_at",
    ".boardcast.v1.BoardEvent.occurred_at",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let mut files = Vec::new();
    collect_protos(&PathBuf::from("proto"), &mut files)?;
    files.sort();
    let relative: Vec<PathBuf> = files
        .iter()
        .map(|f| f.strip_prefix("proto").map(PathBuf::from))
        .collect::<Result<_, _>>()?;

    let mut compiler = protox::Compiler::new(["proto"])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(&relative)?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out.join("boardcast_descriptor.bin"),
        compiler.encode_file_descriptor_set(),
    )?;

    let mut builder = tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // Written by hand (src/proto.rs) so stream events go out as bytes encoded once.
        .extern_path(".boardcast.v1.SubscribeResponse", "crate::proto::SubscribeResponse")
        .message_attribute(".boardcast.v1", JSON_MESSAGE)
        .enum_attribute(".boardcast.v1.BoardEvent.payload", JSON_TAGGED_ONEOF)
        .enum_attribute(".boardcast.v1.StreamNotice.notice", JSON_TAGGED_ONEOF)
        .field_attribute("StreamNotice.notice", "#[serde(flatten)]")
        .enum_attribute(".boardcast.v1.ClientMessage.message", JSON_TAGGED_ONEOF)
        .field_attribute("ClientMessage.message", "#[serde(flatten)]")
        .enum_attribute(".boardcast.v1.ServerMessage.message", JSON_TAGGED_ONEOF)
        .field_attribute("ServerMessage.message", "#[serde(flatten)]")
        // A suffix path: a leading-dot path would also match the oneof variants.
        .field_attribute("BoardEvent.payload", "#[serde(flatten)]")
        .field_attribute(
            ".boardcast.v1.ErrorDetail.field",
            "#[serde(skip_serializing_if = \"Option::is_none\")]",
        );
    for request in REQUESTS {
        builder = builder.message_attribute(request, "#[serde(deny_unknown_fields)]");
    }
    for field in TIMESTAMP_FIELDS {
        builder = builder.field_attribute(field, TIMESTAMP);
    }
    builder.compile_fds(compiler.file_descriptor_set())?;
    Ok(())
}

fn collect_protos(dir: &PathBuf, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
