//! What a database URL names: an in-memory database, or a file and whether it may be
//! created. Parses what [`crate::store::connect`] accepts: `sqlite::memory:`,
//! `sqlite:PATH`, `sqlite://PATH`, either with `?mode=rwc|rw|memory`, or a bare file path.

use std::path::PathBuf;

use crate::store::{Error, Result};

/// Where a database lives, from its URL.
pub(super) enum Location {
    Memory,
    File { path: PathBuf, create: bool },
}

pub(super) fn location(url: &str) -> Result<Location> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bad = |why: String| Error::InvalidUrl {
        backend: "SQLite",
        url: url.to_owned(),
        why,
    };
    let mut create = true;
    let mut memory = path == ":memory:";
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).map_err(|e| bad(e.to_string()))?;
    for (key, value) in pairs {
        match (key.as_str(), value.as_str()) {
            ("mode", "rwc") => create = true,
            ("mode", "rw") => create = false,
            ("mode", "memory") => memory = true,
            ("mode", other) => return Err(bad(format!("unsupported mode `{other}` (rwc, rw or memory)"))),
            (other, _) => return Err(bad(format!("unknown parameter `{other}`"))),
        }
    }
    if memory {
        return Ok(Location::Memory);
    }
    if path.is_empty() {
        return Err(bad("no file path".into()));
    }
    Ok(Location::File {
        path: PathBuf::from(path),
        create,
    })
}
