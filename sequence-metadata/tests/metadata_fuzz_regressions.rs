//! Inputs found by the property tests and fuzz targets (docs/fuzzing.md), kept as ordinary
//! tests: each failed once, and each now guards its fix.

use sequence_metadata::*;
use serde_json::{json, Value};
use webrpc_core::codec;

/// Found by `proptest_metadata::list_and_token_requests_round_trip`: serde_json's default
/// float parser may land one ULP off, so `1.222355242572306e259` in a page cursor came back
/// as `1.2223552425723061e259`. Fixed by serde_json's `float_roundtrip` feature (enabled by
/// webrpc-core): a number a client sends is the number a server stores and sends back.
#[test]
fn floats_in_arguments_survive_a_round_trip_exactly() {
    let body = br#"{"page":{"after":1.222355242572306e+259}}"#;
    let request: ListCollectionsRequest = codec::decode_request(body).unwrap();
    let after = request.page.as_ref().unwrap().after.as_ref().unwrap();
    assert_eq!(after.as_f64(), Some(1.222355242572306e259));
    let encoded = codec::encode(&request).unwrap();
    assert_eq!(
        std::str::from_utf8(&encoded).unwrap(),
        r#"{"page":{"after":1.222355242572306e+259}}"#
    );
    assert_eq!(
        codec::decode_request::<ListCollectionsRequest>(&encoded).unwrap(),
        request
    );

    // The same holds in free-form metadata properties.
    for x in [
        1.222355242572306e259,
        5e-324,
        0.1,
        2.2250738585072014e-308,
        9007199254740993.0,
    ] {
        let body = json!({"collectionId": 1, "token": {"properties": {"x": x}}});
        let request: CreateTokenRequest =
            codec::decode_request(&serde_json::to_vec(&body).unwrap()).unwrap();
        assert_eq!(request.token.properties["x"], Value::from(x));
    }
}
