//! Property tests of the wire types (the invariants the fuzz targets check, kept in the
//! normal suite): the error envelope survives encoding and decoding, the `Webrpc` header
//! parses what it prints, and request decoding never panics and rejects with
//! `WebrpcBadRequest`. See docs/fuzzing.md.

use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use webrpc_core::codec::{self, is_json_content_type};
use webrpc_core::{BuiltinError, ErrorKind, WebrpcError, WebrpcHeader};

/// Any envelope a peer could send: arbitrary text, any code, a nonzero status.
fn any_error() -> impl Strategy<Value = WebrpcError> {
    (
        any::<String>(),
        any::<i32>(),
        any::<String>(),
        proptest::option::of(any::<String>()),
        1..=u16::MAX,
    )
        .prop_map(|(name, code, msg, cause, status)| {
            let err = WebrpcError::new(name, code, msg, status);
            match cause {
                Some(cause) => err.with_cause(cause),
                None => err,
            }
        })
}

fn fields(err: &WebrpcError) -> (&str, i32, &str, Option<&str>, u16) {
    (err.name(), err.code(), err.msg(), err.cause(), err.status())
}

/// Whether `body` is JSON text: UTF-8 in JSON's grammar. Number ranges are not checked (JSON
/// does not limit them, and a field the envelope ignores may hold `1e999`), so this is not
/// "`serde_json::Value` can hold it".
fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// A name or version as a header part holds it: no `;`, no `@`, no surrounding whitespace.
fn header_part() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._+-]{1,12}"
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Args {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    project_id: Option<u64>,
    collection_id: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct NoArgs {}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn error_envelope_round_trips(err in any_error(), http_status in 100u16..=999) {
        let body = codec::encode_error(&err);
        let back = codec::decode_error_response(http_status, &body);
        prop_assert_eq!(fields(&back), fields(&err));
        // The envelope on the wire has exactly the reference keys.
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        let mut expected = vec!["code", "error", "msg", "status"];
        if err.cause().is_some() {
            expected.insert(0, "cause");
        }
        prop_assert_eq!(keys, expected);
        // Display never panics and starts with the name and code.
        let shown = err.to_string();
        let prefix = format!("{} {}: ", err.name(), err.code());
        prop_assert!(shown.starts_with(&prefix));
    }

    #[test]
    fn envelope_without_status_takes_the_http_status(
        err in any_error(),
        http_status in 100u16..=999,
    ) {
        let body = codec::encode_error(&err.clone().with_status(0));
        let back = codec::decode_error_response(http_status, &body);
        prop_assert_eq!(back.status(), http_status);
        prop_assert_eq!((back.name(), back.code(), back.cause()), (err.name(), err.code(), err.cause()));
    }

    #[test]
    fn any_error_body_decodes_to_an_error(http_status in 100u16..=999, body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let err = codec::decode_error_response(http_status, &body);
        let is_object = is_json(&body) && body.trim_ascii_start().starts_with(b"{");
        if !is_object {
            prop_assert_eq!(err.code(), -5);
            prop_assert_eq!(err.status(), http_status);
            prop_assert!(err.cause().unwrap().starts_with("failed to unmarshal server error: "));
        }
        prop_assert_ne!(err.status(), 0);
        prop_assert!(err.http_status().as_u16() >= 100);
    }

    #[test]
    fn error_bodies_that_are_not_utf8_are_bad_response(
        err in any_error(),
        http_status in 100u16..=999,
        junk in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        // An envelope with an ignored field holding bytes that are not (all) UTF-8.
        let mut body = codec::encode_error(&err).to_vec();
        body.pop();
        body.extend_from_slice(b",\"extra\":\"\xff");
        body.extend(junk.iter().filter(|&&b| b != b'"' && b != b'\\'));
        body.extend_from_slice(b"\"}");
        let decoded = codec::decode_error_response(http_status, &body);
        prop_assert_eq!((decoded.code(), decoded.status()), (-5, http_status));
    }

    #[test]
    fn values_serde_json_cannot_hold_are_skipped_in_ignored_fields(
        err in any_error(),
        http_status in 100u16..=999,
        extra in proptest::sample::select(vec!["1e99999", "-3e70888", "\"\\ud800\"", "[1e400,{\"a\":2e308}]"]),
    ) {
        // Valid JSON that `serde_json::Value` refuses (numbers out of f64 range, lone
        // surrogates) in a field the envelope ignores: skipped, as Go's decoder does.
        let mut body = codec::encode_error(&err).to_vec();
        body.pop();
        body.extend_from_slice(b",\"extra\":");
        body.extend_from_slice(extra.as_bytes());
        body.push(b'}');
        prop_assert!(is_json(&body));
        let back = codec::decode_error_response(http_status, &body);
        prop_assert_eq!(fields(&back), fields(&err));
    }

    #[test]
    fn catalogue_errors_round_trip_with_their_kind(index in 0usize..BuiltinError::ALL.len(), cause in any::<String>()) {
        let kind = BuiltinError::ALL[index];
        let sent = kind.with_cause(cause.clone());
        let back = codec::decode_error_response(599, &codec::encode_error(&sent));
        prop_assert_eq!(back.kind::<BuiltinError>(), Some(kind));
        prop_assert_eq!(back.cause(), Some(cause.as_str()));
        prop_assert_eq!(back.status(), kind.status());
    }

    #[test]
    fn header_parse_never_panics_and_reparses(text in any::<String>()) {
        if let Ok(header) = WebrpcHeader::parse(&text) {
            let printed = header.to_string();
            prop_assert_eq!(WebrpcHeader::parse(&printed), Ok(header));
        }
    }

    #[test]
    fn header_parse_of_header_like_text(
        parts in proptest::collection::vec("[ a-z@;0-9.\t]{0,10}", 0..6),
    ) {
        let text = parts.join(";");
        if let Ok(header) = WebrpcHeader::parse(&text) {
            prop_assert_eq!(WebrpcHeader::parse(&header.to_string()), Ok(header.clone()));
            prop_assert!(header.to_header_value().is_ok());
        }
    }

    #[test]
    fn header_prints_and_parses_back(
        webrpc_version in header_part(),
        gen_name in header_part(),
        gen_version in header_part(),
        schema_name in header_part(),
        schema_version in header_part(),
    ) {
        let header = WebrpcHeader { webrpc_version, gen_name, gen_version, schema_name, schema_version };
        let printed = header.to_string();
        prop_assert_eq!(WebrpcHeader::parse(&printed), Ok(header.clone()));
        // Whitespace around parts and extra parts are tolerated.
        let spaced = printed.replace(';', " ; ") + "; extra";
        prop_assert_eq!(WebrpcHeader::parse(&spaced), Ok(header.clone()));
        let value = header.to_header_value().unwrap();
        prop_assert_eq!(value.to_str().unwrap(), printed);
    }

    #[test]
    fn request_decoding_never_panics(body in proptest::collection::vec(any::<u8>(), 0..256)) {
        for result in [
            codec::decode_request::<Args>(&body).map(|_| ()),
            codec::decode_request::<NoArgs>(&body).map(|_| ()),
        ] {
            if let Err(err) = result {
                prop_assert_eq!(err.code(), -4);
                prop_assert_eq!(err.status(), 400);
                prop_assert!(err.cause().unwrap().starts_with("failed to unmarshal request data: "));
            }
        }
    }

    #[test]
    fn requests_round_trip(
        project_id in proptest::option::of(any::<u64>()),
        collection_id in any::<u64>(),
        label in proptest::option::of(any::<String>()),
    ) {
        let args = Args { project_id, collection_id, label };
        let body = codec::encode(&args).unwrap();
        prop_assert_eq!(codec::decode_request::<Args>(&body).unwrap(), args);
    }

    #[test]
    fn json_content_type_ignores_case_and_parameters(
        upper in proptest::collection::vec(any::<bool>(), 16),
        params in "(; ?[a-z]{1,8}=[a-z0-9-]{1,8}){0,2}",
        pad in "[ \t]{0,2}",
    ) {
        let media: String = "application/json"
            .chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect();
        let value = format!("{pad}{media}{pad}{params}");
        prop_assert!(is_json_content_type(value.as_bytes()), "{:?}", value);
        let not_json = format!("{media}x{params}");
        prop_assert!(!is_json_content_type(not_json.as_bytes()));
    }
}
