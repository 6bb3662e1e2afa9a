//! The `Webrpc` header parser: `WebrpcHeader::parse` on arbitrary text must not panic; a
//! value that parses prints to text that parses to the same value and prints the same; a
//! value parsed from a valid header value converts back to a valid header value.

#![no_main]

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use webrpc_core::WebrpcHeader;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let header = match WebrpcHeader::parse(text) {
        Ok(header) => header,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    let printed = header.to_string();
    let again = WebrpcHeader::parse(&printed)
        .unwrap_or_else(|err| panic!("{text:?} parsed, but its text {printed:?} does not: {err}"));
    assert_eq!(again, header, "{text:?} -> {printed:?}");
    assert_eq!(again.to_string(), printed);
    if HeaderValue::from_str(text).is_ok() {
        if let Err(err) = header.to_header_value() {
            panic!("{text:?} is a valid header value but {printed:?} is not: {err}");
        }
    }
});
