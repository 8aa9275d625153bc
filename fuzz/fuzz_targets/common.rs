//! What every target checks about a rejection: it is an `Error` whose message says something
//! (an `InvalidArgument` names its field). A panic, a hang or an abort is what the fuzzer finds.
#![allow(dead_code)]

use tunelab::Error;

/// Checks that a rejection explains itself.
pub fn explained(e: &Error) {
    let msg = e.to_string();
    assert!(!msg.trim().is_empty(), "an error without a message: {e:?}");
    if let Error::InvalidArgument { field, .. } = e {
        assert!(!field.trim().is_empty(), "an error naming no field: {e:?}");
    }
}

/// The input as text, when it is UTF-8.
pub fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// The input as a JSON document, when it is one.
pub fn json(data: &[u8]) -> Option<serde_json::Value> {
    serde_json::from_slice(data).ok()
}
