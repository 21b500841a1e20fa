//! REST JSON bodies → the proto request types (`gateway::extract::parse_json`, what
//! every `JsonBody` runs), one type per first byte of the input.
//!
//! Beyond not panicking: a refused body is a 400 (`invalid_argument`), never another
//! error; an accepted one names no field its type lacks (`deny_unknown_fields`) and,
//! written back out, reads as the same request.

#![no_main]

use std::fmt::Debug;

use boardcast::core::Error;
use boardcast::fuzzing::rest_json;
use boardcast::proto::v1::{
    AddMemberRequest, CreateBoardRequest, CreateLabelRequest, CreateListRequest, CreateTaskRequest, CreateTokenRequest,
    LoginRequest, MoveListRequest, MoveTaskRequest, SignupRequest, UpdateBoardRequest, UpdateLabelRequest,
    UpdateListRequest, UpdateMemberRequest, UpdateTaskRequest,
};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    // Every type a REST handler takes as its `JsonBody`.
    match which % 15 {
        0 => check::<CreateTaskRequest>(body),
        1 => check::<UpdateTaskRequest>(body),
        2 => check::<MoveTaskRequest>(body),
        3 => check::<CreateBoardRequest>(body),
        4 => check::<UpdateBoardRequest>(body),
        5 => check::<CreateListRequest>(body),
        6 => check::<UpdateListRequest>(body),
        7 => check::<MoveListRequest>(body),
        8 => check::<AddMemberRequest>(body),
        9 => check::<UpdateMemberRequest>(body),
        10 => check::<CreateLabelRequest>(body),
        11 => check::<UpdateLabelRequest>(body),
        12 => check::<SignupRequest>(body),
        13 => check::<LoginRequest>(body),
        _ => check::<CreateTokenRequest>(body),
    }
});

fn check<T: DeserializeOwned + Serialize + PartialEq + Debug>(body: &[u8]) {
    match rest_json::<T>(body) {
        Ok(request) => {
            let sent: Value = serde_json::from_slice(body).expect("an accepted body is JSON");
            let sent = sent.as_object().expect("only an object is a request");
            // Every field is written out, defaults included: a key the client sent
            // that is not in the written request was a field its type does not have.
            let written = serde_json::to_value(&request).expect("requests serialize");
            for key in sent.keys() {
                assert!(written.get(key).is_some(), "unknown field `{key}` accepted");
            }
            let again = serde_json::to_vec(&written).expect("JSON values serialize");
            let back = rest_json::<T>(&again).expect("a written request parses");
            assert_eq!(back, request, "{}", String::from_utf8_lossy(&again));
        }
        Err(Error::InvalidArgument { field, message }) => {
            assert!(!message.is_empty());
            assert!(field.is_none_or(|f| !f.is_empty()), "a named field has a name");
        }
        Err(other) => panic!("a body is refused with invalid_argument, not {other:?}"),
    }
}
