//! Compiles `proto/` with protox (pure Rust, no system `protoc`) and tonic-prost-build,
//! and writes the full descriptor set (imports included) for gRPC reflection.
//!
//! The serde attributes below are the whole JSON mapping of the schema: REST, SSE,
//! WebSocket and polling all serialize these generated types, never hand-built JSON.
//! The mapping is proto3 JSON's field naming (lowerCamelCase) with three deliberate
//! differences, documented in docs/ARCHITECTURE.md: 64-bit integers are JSON numbers
//! (seq and version are far below 2^53), default values are written out, and a
//! `oneof payload` is flattened beside a snake_case `"type"` tag, as the seed's wire
//! format has it. Enums (`Role`) are their lowercase value names without the prefix
//! (`"owner"`), as proto3 JSON has them but shorter.
//!
//! Every type also derives `utoipa::ToSchema`, and each serde attribute that changes a
//! field's JSON is paired here with the `#[schema]` attribute saying the same thing, so
//! the OpenAPI document (`gateway::openapi`) describes the bytes serde writes.

use std::{env, fs, path::PathBuf};

const JSON_MESSAGE: &str = "#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)] \
     #[serde(rename_all = \"camelCase\", default)]";
const JSON_TAGGED_ONEOF: &str = "#[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)] \
     #[serde(tag = \"type\", rename_all = \"snake_case\")]";
/// The oneofs that travel as a flattened, snake_case `"type"` tag on JSON transports.
/// Besides the serde attribute, each gets generated tag helpers (`oneof_tags.rs`,
/// included by `src/proto.rs`), so the tag list is written nowhere by hand.
const TAGGED_ONEOFS: &[(&str, &str)] = &[
    ("boardcast.v1.BoardEvent", "payload"),
    ("boardcast.v1.StreamNotice", "notice"),
    ("boardcast.v1.ClientMessage", "message"),
    ("boardcast.v1.ServerMessage", "message"),
];

/// An RFC 3339 string, `null` when unset.
const TIMESTAMP: &str = "#[serde(with = \"crate::proto::json::timestamp\")] \
     #[schema(value_type = Option<String>, format = DateTime, default)]";

/// Bodies clients send: a misspelt field is an error, not silently ignored.
const REQUESTS: &[&str] = &[
    ".boardcast.v1.CreateTaskRequest",
    ".boardcast.v1.UpdateTaskRequest",
    ".boardcast.v1.MoveTaskRequest",
    ".boardcast.v1.SignupRequest",
    ".boardcast.v1.LoginRequest",
    ".boardcast.v1.CreateTokenRequest",
    ".boardcast.v1.CreateBoardRequest",
    ".boardcast.v1.UpdateBoardRequest",
    ".boardcast.v1.CreateListRequest",
    ".boardcast.v1.UpdateListRequest",
    ".boardcast.v1.MoveListRequest",
    ".boardcast.v1.AddMemberRequest",
    ".boardcast.v1.UpdateMemberRequest",
    ".boardcast.v1.CreateLabelRequest",
    ".boardcast.v1.UpdateLabelRequest",
    // What a WebSocket client sends (ClientMessage's payloads): a misspelt field is an
    // error, not a default (a misspelt `afterSeq` would join live and skip the replay).
    ".boardcast.v1.Auth",
    ".boardcast.v1.Join",
    ".boardcast.v1.Leave",
    ".boardcast.v1.Typing",
    ".boardcast.v1.StopTyping",
    ".boardcast.v1.CursorMove",
    ".boardcast.v1.Ping",
    ".boardcast.v1.Resume",
    ".boardcast.v1.DeleteTaskRequest",
];

/// Request fields core refuses to go without (a 400 naming them): serde's `default`
/// lets them be left out, so the document says so itself, and a client generated from
/// it (or schemathesis) sends them.
const REQUIRED_FIELDS: &[&str] = &[
    ".boardcast.v1.CreateTaskRequest.title",
    ".boardcast.v1.CreateTaskRequest.list_id",
    ".boardcast.v1.MoveTaskRequest.list_id",
    ".boardcast.v1.CreateBoardRequest.name",
    ".boardcast.v1.CreateListRequest.name",
    ".boardcast.v1.UpdateListRequest.name",
    ".boardcast.v1.MoveListRequest.position",
    ".boardcast.v1.AddMemberRequest.username",
    ".boardcast.v1.AddMemberRequest.role",
    ".boardcast.v1.UpdateMemberRequest.role",
    ".boardcast.v1.CreateLabelRequest.name",
    ".boardcast.v1.CreateLabelRequest.color",
    ".boardcast.v1.SignupRequest.username",
    ".boardcast.v1.SignupRequest.password",
    ".boardcast.v1.LoginRequest.username",
    ".boardcast.v1.LoginRequest.password",
    ".boardcast.v1.CreateTokenRequest.name",
];

/// "Absent = unchanged" fields of `UpdateTaskRequest`: on JSON an `IdSet` is a bare
/// array and a `DueDate` an RFC 3339 string, or `null` to clear; left out, unset.
const ID_SET_FIELDS: &[&str] = &[
    ".boardcast.v1.UpdateTaskRequest.assignee_ids",
    ".boardcast.v1.UpdateTaskRequest.label_ids",
];
const ID_SET: &str = "#[serde(default, skip_serializing_if = \"Option::is_none\", with = \"crate::proto::json::id_set\")] \
     #[schema(value_type = Vec<String>, default)]";
const DUE_DATE: &str = "#[serde(default, skip_serializing_if = \"Option::is_none\", with = \"crate::proto::json::due_date\")] \
     #[schema(value_type = Option<String>, format = DateTime, default)]";

// `default` with no value: no `default` keyword. Without it, utoipa would render the
// field's Rust default with plain serde, bypassing the `with` module above it.

/// Fields of the `Role` enum: lowercase names on JSON (`"owner"`), not numbers.
const ROLE: &str = "#[serde(with = \"crate::proto::json::role\")] \
     #[schema(schema_with = crate::proto::json::role::schema)]";
const ROLE_FIELDS: &[&str] = &[
    ".boardcast.v1.Member.role",
    ".boardcast.v1.AddMemberRequest.role",
    ".boardcast.v1.UpdateMemberRequest.role",
];

const TIMESTAMP_FIELDS: &[&str] = &[
    ".boardcast.v1.Board.created_at",
    ".boardcast.v1.Task.created_at",
    ".boardcast.v1.Task.updated_at",
    ".boardcast.v1.BoardEvent.occurred_at",
    ".boardcast.v1.ApiToken.created_at",
    ".boardcast.v1.ApiToken.last_used_at",
    ".boardcast.v1.Task.due_at",
    ".boardcast.v1.CreateTaskRequest.due_at",
    ".boardcast.v1.DueDate.at",
    ".boardcast.v1.ActivityEntry.occurred_at",
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
        // A request that is not protobuf is INVALID_ARGUMENT, not tonic-prost's INTERNAL.
        .codec_path("crate::proto::codec::ProtoCodec")
        // Written by hand (src/proto.rs) so stream events go out as bytes encoded once.
        .extern_path(".boardcast.v1.SubscribeResponse", "crate::proto::SubscribeResponse")
        .message_attribute(".boardcast.v1", JSON_MESSAGE)
        .field_attribute(
            ".boardcast.v1.ErrorDetail.field",
            "#[serde(skip_serializing_if = \"Option::is_none\")]",
        );
    for (message, oneof) in TAGGED_ONEOFS {
        let short = message.rsplit('.').next().unwrap_or(message);
        // Every oneof enum is named after its oneof (`Payload`, `Message`): the schema is
        // named after the message too, so two oneofs never share a component name.
        let schema_name = format!("#[schema(as = {short}{})]", upper_camel(oneof));
        builder = builder
            .enum_attribute(format!(".{message}.{oneof}"), JSON_TAGGED_ONEOF)
            .enum_attribute(format!(".{message}.{oneof}"), schema_name)
            // A suffix path: a leading-dot path would also match the oneof variants.
            .field_attribute(format!("{short}.{oneof}"), "#[serde(flatten)]");
    }
    for request in REQUESTS {
        builder = builder.message_attribute(request, "#[serde(deny_unknown_fields)]");
    }
    for field in TIMESTAMP_FIELDS {
        builder = builder.field_attribute(field, TIMESTAMP);
    }
    for field in REQUIRED_FIELDS {
        builder = builder.field_attribute(field, "#[schema(required = true)]");
    }
    for field in ROLE_FIELDS {
        builder = builder.field_attribute(field, ROLE);
    }
    for field in ID_SET_FIELDS {
        builder = builder.field_attribute(field, ID_SET);
    }
    builder = builder.field_attribute(".boardcast.v1.UpdateTaskRequest.due_at", DUE_DATE);
    builder.compile_fds(compiler.file_descriptor_set())?;
    fs::write(out.join("oneof_tags.rs"), oneof_tags(&compiler.descriptor_pool())?)?;
    Ok(())
}

/// For each tagged oneof, an `impl` on its generated enum with the JSON tags. The tag
/// is the oneof field's name, which is what serde's `rename_all = "snake_case"` makes
/// of prost's UpperCamelCase variant (a unit test in `src/proto.rs` checks they agree).
fn oneof_tags(pool: &protox::prost_reflect::DescriptorPool) -> Result<String, Box<dyn std::error::Error>> {
    use protox::prost_reflect::Kind;
    use std::fmt::Write;
    let mut code = String::from("// @generated by build.rs from the tagged oneofs of proto/.\n");
    for (message, oneof) in TAGGED_ONEOFS {
        let descriptor = pool
            .get_message_by_name(message)
            .ok_or_else(|| format!("no message {message}"))?;
        let decl = descriptor
            .oneofs()
            .find(|o| o.name() == *oneof)
            .ok_or_else(|| format!("no oneof {message}.{oneof}"))?;
        let (mut tags, mut names, mut visits, mut every) = (String::new(), String::new(), String::new(), String::new());
        for field in decl.fields() {
            let (tag, variant) = (field.name(), upper_camel(field.name()));
            let Kind::Message(payload) = field.kind() else {
                return Err(format!("{message}.{tag}: a tagged variant must hold a message").into());
            };
            let ty = rust_path(payload.full_name(), payload.package_name());
            write!(tags, "{tag:?}, ")?;
            write!(names, "Self::{variant}(_) => {tag:?}, ")?;
            write!(visits, "{tag:?} => Some(visitor.visit::<{ty}>()), ")?;
            write!(every, "Self::{variant}(Default::default()), ")?;
        }
        let short = descriptor.name();
        let path = format!("{}::{}", snake(short), upper_camel(oneof));
        write!(
            code,
            r#"
impl {path} {{
    /// Every JSON `"type"` tag of `{short}.{oneof}`, in `.proto` order.
    pub const TAGS: &'static [&'static str] = &[{tags}];

    /// This variant's JSON `"type"` tag (also the SSE `event:` name of a stream item).
    pub fn type_name(&self) -> &'static str {{
        match self {{ {names} }}
    }}

    /// Calls `visitor` with the payload type of the variant tagged `tag`; `None` for a
    /// tag that is not one of [`Self::TAGS`].
    pub fn visit_payload_type<V: crate::proto::PayloadVisitor>(tag: &str, visitor: V) -> Option<V::Output> {{
        match tag {{ {visits} _ => None }}
    }}

    /// One of each variant, holding its payload's default.
    #[cfg(test)]
    pub fn every_variant() -> Vec<Self> {{
        vec![{every}]
    }}
}}
"#
        )?;
    }
    Ok(code)
}

/// The Rust path of a message, from inside the module of its package.
fn rust_path(full_name: &str, package: &str) -> String {
    let relative = full_name
        .strip_prefix(package)
        .unwrap_or(full_name)
        .trim_start_matches('.');
    let mut parts: Vec<String> = relative.split('.').map(str::to_owned).collect();
    let last = parts.pop().unwrap_or_default();
    for p in &mut parts {
        *p = snake(p);
    }
    parts.push(last);
    parts.join("::")
}

/// `stop_typing` → `StopTyping`, as prost names a oneof and its variants.
fn upper_camel(name: &str) -> String {
    name.split('_')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map_or_else(String::new, |c| c.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect()
}

/// `BoardEvent` → `board_event`, as prost names a message's module.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
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
