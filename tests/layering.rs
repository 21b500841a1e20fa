//! The layering rule of docs/ARCHITECTURE.md, checked: which top-level module of the
//! crate may name which. A module may use the ones listed for it and nothing else of
//! the crate, so the graph stays acyclic and no transport reaches into `server` or into
//! another transport.

// Tests may unwrap: a panic there is a failed assertion.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

/// Each module and what it may import, lowest first.
const RULES: &[(&str, &[&str])] = &[
    ("proto", &[]),
    ("time", &[]),
    ("config", &[]),
    ("limits", &[]),
    ("metrics", &[]),
    ("delivery", &[]),
    ("narrate", &["proto"]),
    ("store", &["metrics", "proto", "time"]),
    ("bus", &["proto"]),
    ("core", &["bus", "metrics", "narrate", "proto", "store", "time"]),
    ("auth", &["core", "limits", "proto", "store"]),
    ("wire", &["bus", "core", "limits", "proto"]),
    ("presence", &["limits", "metrics", "proto", "store", "wire"]),
    ("app", &["auth", "config", "core", "delivery", "metrics", "presence"]),
    (
        "gateway",
        &[
            "app", "auth", "bus", "config", "core", "delivery", "limits", "metrics", "presence", "proto", "wire",
        ],
    ),
    (
        "grpc",
        &["app", "auth", "bus", "core", "limits", "metrics", "proto", "wire"],
    ),
    (
        "server",
        &[
            "app", "auth", "bus", "config", "core", "delivery", "gateway", "grpc", "limits", "metrics", "presence",
            "proto", "store", "wire",
        ],
    ),
    // The terminal client talks to a server as any client does: the contract only.
    ("client", &["narrate", "proto"]),
    // The fuzzing entry layer (`cfg(fuzzing)` only): the private parsers the fuzz
    // targets drive, called as the transports call them; nothing imports it.
    ("fuzzing", &["core", "gateway", "server", "wire"]),
];

/// The crate modules a source file names through `crate::<module>`, outside comments.
fn imports(source: &str) -> BTreeSet<String> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let source = code.as_str();
    source
        .match_indices("crate::")
        .map(|(at, _)| {
            source[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_imports_only_the_layers_below_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut broken = Vec::new();
    let mut seen = BTreeSet::new();
    for path in all {
        let relative = path.strip_prefix(&src).unwrap();
        let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
        let module = first.trim_end_matches(".rs").to_owned();
        if matches!(module.as_str(), "lib" | "main") {
            continue;
        }
        let Some((_, allowed)) = RULES.iter().find(|(name, _)| *name == module) else {
            panic!(
                "src/{} belongs to module `{module}`, which RULES does not list",
                relative.display()
            );
        };
        seen.insert(module.clone());
        let source = std::fs::read_to_string(&path).unwrap();
        for import in imports(&source) {
            if import != module && !allowed.contains(&import.as_str()) {
                broken.push(format!("src/{} uses crate::{import}", relative.display()));
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layering rule:\n{}",
        broken.join("\n")
    );
    assert_eq!(seen.len(), RULES.len(), "every listed module exists");
}

#[test]
fn the_import_scan_finds_paths_and_use_lines() {
    let found = imports("use crate::core::{Actor};\nlet x = crate::bus::Bus::new(1); // crate::\n");
    assert_eq!(found.into_iter().collect::<Vec<_>>(), ["bus", "core"]);
}
