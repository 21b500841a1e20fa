//! A connection's first bytes → the protocol detector's verdict (`server::detect`'s
//! `classify`, the httparse-based reading of a first request head).
//!
//! Beyond not panicking: what the detector takes for an event stream (and serves
//! itself, outside hyper) really is a complete, body-less `GET` of a stream route, as
//! the router will see it; and a stream head that arrives in pieces is waited for,
//! not handed to hyper early, wherever it is cut.

#![no_main]

use boardcast::fuzzing::{Head, sse_head};
use http::{Method, Version, header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Head::Stream { request, keep_alive } = sse_head(data) else {
        return;
    };
    assert_eq!(request.method(), Method::GET);
    // Nothing after the head: a body or a pipelined request would be lost.
    assert!(data.ends_with(b"\n\n") || data.ends_with(b"\n\r\n"), "{data:?}");
    let path = request.uri().path();
    assert!(is_stream_path(path), "{path} from {:?}", String::from_utf8_lossy(data));
    for framing in [header::UPGRADE, header::CONTENT_LENGTH, header::TRANSFER_ENCODING] {
        assert!(!request.headers().contains_key(&framing), "{framing}");
    }
    if keep_alive {
        assert_eq!(request.version(), Version::HTTP_11);
        let close = request.headers().get_all(header::CONNECTION).iter().any(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .to_ascii_lowercase()
                .contains("close")
        });
        assert!(!close, "kept alive after Connection: close");
    }
    // The detector classifies after every read; each cut is where a read could end.
    let cuts = [
        1,
        2,
        3,
        4,
        5,
        data.len() / 4,
        data.len() / 2,
        data.len() - 3,
        data.len() - 2,
        data.len() - 1,
    ];
    for cut in cuts.into_iter().filter(|c| (1..data.len()).contains(c)) {
        assert!(
            matches!(sse_head(&data[..cut]), Head::Partial),
            "a stream head cut at {cut} is not waited for"
        );
    }
});

/// The stream routes (`/events`, `/boards/{board_id}/events`), matched on the path the
/// router routes by, independently of the detector's own matcher.
fn is_stream_path(path: &str) -> bool {
    match path.split('/').collect::<Vec<_>>().as_slice() {
        ["", "events"] => true,
        ["", "boards", board, "events"] => !board.is_empty(),
        _ => false,
    }
}
