//! The RIDL parser (and the JSON schema reader): on arbitrary text it must not panic, and a
//! schema it accepts must print JSON that reads back as a schema printing the same JSON.

#![no_main]

use libfuzzer_sys::fuzz_target;
use webrpc_build::{parse_str, Schema};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let schema = match parse_str(text, "fuzz.ridl") {
        Ok(schema) => schema,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let json = schema.to_json();
    let again = Schema::from_json(&json)
        .unwrap_or_else(|err| panic!("accepted {text:?}, but its JSON does not read back: {err}"));
    assert_eq!(again.to_json(), json, "{text:?}");
});
