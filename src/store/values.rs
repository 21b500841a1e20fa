//! How both backends store what the messages hold: roles as text, versions and seqs
//! as i64, timestamps as Unix milliseconds.

use crate::proto::v1::Role;
use crate::time;

/// A role as stored (`'owner'`, `'editor'`, `'viewer'`).
pub(super) fn role_of(text: &str) -> Role {
    match text {
        "owner" => Role::Owner,
        "editor" => Role::Editor,
        "viewer" => Role::Viewer,
        _ => Role::Unspecified,
    }
}

pub(super) fn role_text(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Editor => "editor",
        Role::Viewer | Role::Unspecified => "viewer",
    }
}

/// Stored integers are i64; versions and seqs are never negative.
pub(super) fn u64_of(v: i64) -> u64 {
    u64::try_from(v).unwrap_or_default()
}

pub(super) fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn millis(ts: Option<&prost_types::Timestamp>) -> i64 {
    ts.map(time::to_millis).unwrap_or_default()
}
