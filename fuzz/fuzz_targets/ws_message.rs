//! A WebSocket client's text frame → `ClientMessage` (`wire::ws::decode`).
//!
//! Beyond not panicking: a frame is either a message or an `error` frame, never
//! neither; the answer carries the frame's string `requestId`; a message that decodes
//! names no field its type lacks (the unknown-field refusal) and reads back as itself
//! once written out.

#![no_main]

use boardcast::fuzzing::ws_message;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    // The socket refuses a text frame that is not UTF-8 (close 1007) before decoding.
    let Ok(text) = std::str::from_utf8(data) else { return };
    let sent: Option<Value> = serde_json::from_str(text).ok();
    let request_id = sent
        .as_ref()
        .and_then(|v| v.get("requestId"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    match ws_message(text) {
        Ok(incoming) => {
            assert_eq!(incoming.request_id, request_id);
            let sent = sent.expect("a decoded frame is JSON");
            let sent = sent.as_object().expect("only an object is a message");
            // Every field is written out, defaults included: a key the client sent
            // that is not in the written message was a field its type does not have.
            let written = serde_json::to_value(&incoming.message).expect("messages serialize");
            for key in sent.keys().filter(|k| *k != "requestId") {
                assert!(written.get(key).is_some(), "unknown field `{key}` accepted in {text}");
            }
            let again = serde_json::to_string(&written).expect("JSON values serialize");
            let back = ws_message(&again).expect("a written message decodes");
            assert_eq!(back.message, incoming.message, "{text} → {again}");
        }
        Err(answer) => {
            let answer: Value = serde_json::from_slice(&answer).expect("an error frame is JSON");
            assert_eq!(answer["type"], "error");
            assert_eq!(answer["requestId"], request_id);
            let code = answer["code"].as_str().unwrap_or_default();
            assert!(matches!(code, "invalid_json" | "invalid_argument"), "{code}");
        }
    }
});
