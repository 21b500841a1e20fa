//! Resume ids → where the SSE handlers start: `Last-Event-ID` (header bytes, or the
//! `?lastEventId=` value) read as one board's seq and as composite positions
//! (`board-1:5,board-2:3`, `wire::resume::parse`).
//!
//! Beyond not panicking: an id is live only when there is none; an unreadable one is
//! kept to be named in the `reset`; positions that were read, written by the server as
//! its next id (`wire::resume::format`) and sent back, read as the same positions.

#![no_main]

use std::collections::HashMap;

use boardcast::core::Resume;
use boardcast::fuzzing::{ResumeAt, format_positions, last_event_id, last_event_id_query};
use boardcast::proto::v1::BoardSeq;
use http::HeaderValue;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Bytes hyper would not accept as a header value never reach the handler.
    if let Ok(value) = HeaderValue::from_bytes(data) {
        check(&last_event_id(value), data.len());
    }
    // The query extractor percent-decodes, patching bytes that are not UTF-8.
    check(
        &last_event_id_query(String::from_utf8_lossy(data).into_owned()),
        data.len(),
    );
});

fn check(at: &ResumeAt, len: usize) {
    match &at.one_board {
        Resume::Live => assert_eq!(at.several, Ok(HashMap::new()), "no id is no id on either route"),
        Resume::Unreadable(raw) => assert!(!raw.is_empty(), "the reset names what it could not read"),
        Resume::After(_) => {}
    }
    if let Err(raw) = &at.several {
        assert!(!raw.is_empty(), "the reset names what it could not read");
    }
    let Ok(map) = &at.several else { return };
    // At most one position per comma-separated part: nothing grows past the input.
    assert!(map.len() <= len / 2 + 1);
    if map.is_empty() {
        return;
    }
    let mut positions: Vec<BoardSeq> = map
        .iter()
        .map(|(board_id, seq)| BoardSeq {
            board_id: board_id.clone(),
            seq: *seq,
        })
        .collect();
    // The server writes its boards in its own order: any order must read back.
    positions.sort_by(|a, b| a.board_id.cmp(&b.board_id));
    for _ in 0..2 {
        let id = format_positions(&positions);
        // Board ids are the server's own (`board-<uuid>`): a query can carry others
        // (not ASCII, control bytes) that no `id:` line the server wrote ever held.
        if !id.is_ascii() {
            return;
        }
        let Ok(value) = HeaderValue::from_str(&id) else { return };
        let back = last_event_id(value);
        assert_eq!(back.several.as_ref(), Ok(map), "{id} reads back as other positions");
        positions.reverse();
    }
}
