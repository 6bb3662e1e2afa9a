//! Inputs found by the fuzz targets and property tests (docs/fuzzing.md), kept as ordinary
//! tests: each failed once, and each now guards its fix.

use webrpc_core::codec;

/// Found by the `client_response` fuzz target
/// (`crash-a0bd2f3baa0a2b0d522ebea9d71a20f1e71e26a6`): an object with bytes that are not UTF-8
/// inside a field the envelope ignores passed for an envelope with code 0 and an empty name,
/// because serde_json checks UTF-8 only in the strings it keeps. A body that is not UTF-8 is
/// not JSON, so it is now `WebrpcBadResponse` with the HTTP status.
#[test]
fn an_error_body_that_is_not_utf8_is_bad_response() {
    let body = b"{\"collection\":{\"c\xff\xff\xff\xffedAt\":\"yesterday\"}}";
    let err = codec::decode_error_response(400, body);
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcBadResponse", -5, 400)
    );
    let cause = err.cause().unwrap();
    assert!(
        cause.starts_with("failed to unmarshal server error: invalid UTF-8"),
        "{cause}"
    );

    // Invalid UTF-8 next to real envelope fields is still not an envelope.
    let body =
        b"{\"error\":\"NotFound\",\"code\":3000,\"msg\":\"m\",\"status\":400,\"x\":\"\xc3\"}";
    let err = codec::decode_error_response(502, body);
    assert_eq!((err.code(), err.status()), (-5, 502));

    // Valid UTF-8 (not ASCII) in any field is fine.
    let body = "{\"error\":\"NotFound\",\"code\":3000,\"msg\":\"m\",\"cause\":\"colección ✓\",\"x\":\"é\"}";
    let err = codec::decode_error_response(400, body.as_bytes());
    assert_eq!(
        (err.code(), err.status(), err.cause()),
        (3000, 400, Some("colección ✓"))
    );
}
