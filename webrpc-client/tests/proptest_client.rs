//! Property tests of the client's response handling (the invariant of the `client_response`
//! fuzz target, kept in the normal suite): whatever status, headers and body a transport
//! answers with, a call ends in a value or a `WebrpcError`, never a panic, and the error says
//! what went wrong: a body that is not JSON is `WebrpcBadResponse` (-5) with the HTTP status;
//! a non-2xx JSON envelope comes back field for field. See docs/fuzzing.md.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use proptest::prelude::*;
use serde_json::{json, Value};
use webrpc_client::Client;
use webrpc_core::{codec, service, WebrpcError};

service! {
    /// A one-method service.
    pub trait Lookup;
    /// Client of [`Lookup`].
    client LookupClient;
    /// Mounts [`Lookup`].
    mount mount_lookup;
    name "Lookup";
    schema "lookup" "v0.0.1";

    /// Finds a record.
    Find => find(#[derive(Debug, Clone, PartialEq, Default)] FindRequest {
        /// Which record.
        pub id: u64,
    }) -> #[derive(Debug, Clone, PartialEq, Default)] FindResponse {
        /// Its name.
        pub name: String,
        /// Its tags.
        #[serde(default)]
        pub tags: Vec<String>,
    };
}

/// Whether `body` is JSON text: UTF-8 in JSON's grammar. Number ranges are not checked (JSON
/// does not limit them, and a field the envelope ignores may hold `1e999`), so this is not
/// "`serde_json::Value` can hold it".
fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// A small response limit, so the strategies reach the limit checks.
const LIMIT: usize = 512;

fn status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        2 => prop::sample::select(vec![200u16, 201, 204, 400, 401, 404, 405, 413, 429, 500, 502, 503]),
        1 => 100u16..=999,
    ]
    .prop_map(|s| StatusCode::from_u16(s).expect("100..=999"))
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let envelope = (
        prop::option::of(any::<String>()),
        prop::option::of(any::<i32>()),
        prop::option::of(any::<String>()),
        prop::option::of(any::<String>()),
        prop::option::of(0u16..=1000),
    )
        .prop_map(|(error, code, msg, cause, status)| {
            let mut v = serde_json::Map::new();
            let fields = [
                ("error", error.map(Value::from)),
                ("code", code.map(Value::from)),
                ("msg", msg.map(Value::from)),
                ("cause", cause.map(Value::from)),
                ("status", status.map(Value::from)),
            ];
            for (key, value) in fields {
                if let Some(value) = value {
                    v.insert(key.to_owned(), value);
                }
            }
            serde_json::to_vec(&v).expect("encodes")
        });
    let success = (
        any::<String>(),
        prop::collection::vec(any::<String>(), 0..3),
    )
        .prop_map(|(name, tags)| {
            serde_json::to_vec(&json!({"name": name, "tags": tags})).expect("encodes")
        });
    prop_oneof![
        2 => envelope,
        2 => success,
        1 => prop::collection::vec(any::<u8>(), 0..(2 * LIMIT)),
        1 => prop::sample::select(vec![
            "", "null", "{}", "[]", "<html>Bad Gateway</html>", "{\"code\":\"x\"}",
            "{\"name\":7}", "{\"status\":-1}", "{\"code\":99999999999}",
            "{\"page\":3e70888}", "{\"x\":\"\\ud800\"}", "{\"code\":1e999}",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    let name = prop_oneof![
        Just("content-type".to_owned()),
        Just("content-length".to_owned()),
        Just("webrpc".to_owned()),
        "[a-z-]{1,12}",
    ];
    prop::collection::vec((name, "[ -~]{0,20}"), 0..4)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_response_is_a_value_or_a_typed_error(
        status in status(),
        headers in headers(),
        body in body(),
    ) {
        let mut header_map = HeaderMap::new();
        for (name, value) in &headers {
            if let (Ok(name), Ok(value)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                header_map.append(name, value);
            }
        }
        let answer_headers = header_map.clone();
        let answer_body = Bytes::from(body.clone());
        let transport = tower::service_fn(move |_request: Request<Full<Bytes>>| {
            let mut response = Response::new(Full::new(answer_body.clone()));
            *response.status_mut() = status;
            *response.headers_mut() = answer_headers.clone();
            async move { Ok::<_, Infallible>(response) }
        });
        let client = Client::builder("http://127.0.0.1:1")
            .response_limit(LIMIT)
            .build_with(transport)
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result: Result<FindResponse, WebrpcError> =
            runtime.block_on(client.call::<Find>(&FindRequest { id: 7 }));

        let err = match result {
            Ok(_) => {
                prop_assert!(status.is_success(), "{} became a value", status);
                return Ok(());
            }
            Err(err) => err,
        };
        let _ = err.to_string();
        let is_json = is_json(&body);
        if !is_json {
            prop_assert_eq!(err.code(), -5, "{:?}", err);
            if status.as_u16() >= 400 {
                prop_assert_eq!(err.status(), status.as_u16(), "{:?}", err);
            }
        }
        if status.is_success() {
            prop_assert_eq!(err.code(), -5, "{:?}", err);
            return Ok(());
        }
        let declared_too_large = header_map
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n > LIMIT as u64);
        if body.len() > LIMIT || declared_too_large {
            prop_assert_eq!(err.code(), -5, "{:?}", err);
            prop_assert!(err.cause().unwrap().contains("exceeds the limit"), "{:?}", err);
        } else {
            let expected = codec::decode_error_response(status.as_u16(), &body);
            prop_assert_eq!(
                (err.name(), err.code(), err.msg(), err.cause(), err.status()),
                (expected.name(), expected.code(), expected.msg(), expected.cause(), expected.status())
            );
        }
    }
}
