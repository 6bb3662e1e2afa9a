//! Property tests of the router (the invariant of the `router` fuzz target, kept in the
//! normal suite): whatever the method, path, content type and body, the answer is JSON with
//! the `Webrpc` header, a success is 200, and a failure is a complete envelope whose `status`
//! equals the HTTP status, decided in the reference order (route, HTTP method, content type).
//! See docs/fuzzing.md.

mod common;

use bytes::Bytes;
use common::collect;
use http::Request;
use http_body_util::Full;
use proptest::prelude::*;
use serde_json::{json, Value};
use tower::ServiceExt;
use webrpc_core::{service, RequestContext, WebrpcError, WebrpcHeader};

service! {
    /// Errors on demand.
    pub trait Statuses;
    /// Client of [`Statuses`].
    client StatusesClient;
    /// Mounts [`Statuses`].
    mount mount_statuses;
    name "Statuses";
    schema "webrpc-rs-proptest" "v0.0.1";

    /// Fails with exactly the error described by its arguments.
    FailWith => fail_with(#[derive(Debug, Clone, PartialEq, Default)] FailWithRequest {
        /// The error's status, sent as it is (even 0 or 200).
        pub status: u16,
        /// The error's code.
        pub code: i32,
        /// The error's cause.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cause: Option<String>,
    }) -> #[derive(Debug, Clone, PartialEq, Default)] FailWithResponse {};
}

/// Paths the router serves (the common test service and [`FailWith`]).
const ROUTES: [&str; 9] = [
    "/rpc/Test/Echo",
    "/rpc/Test/Ping",
    "/rpc/Test/Fail",
    "/rpc/Test/Plain",
    "/rpc/Test/Panic",
    "/rpc/Test/BadEncode",
    "/rpc/Test/Sleep",
    "/rpc/Test/WeirdStatus",
    "/rpc/Statuses/FailWith",
];

fn router() -> webrpc_server::Router {
    common::router().route(
        FailWith,
        |_ctx: RequestContext, req: FailWithRequest| async move {
            let err = WebrpcError::new("Custom", req.code, "custom error", req.status);
            Err::<FailWithResponse, _>(match req.cause {
                Some(cause) => err.with_cause(cause),
                None => err,
            })
        },
    )
}

fn method() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just("POST".to_owned()),
        1 => prop::sample::select(vec!["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "post"])
            .prop_map(str::to_owned),
        1 => "[A-Z]{1,8}",
    ]
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(ROUTES.to_vec()).prop_map(str::to_owned),
        1 => "/rpc/[A-Za-z]{0,8}/[A-Za-z]{0,10}",
        1 => "/[a-zA-Z0-9/._-]{0,20}",
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.9,
        prop_oneof![
            4 => Just("application/json".to_owned()),
            1 => prop::sample::select(vec![
                "application/json; charset=utf-8",
                "Application/JSON",
                " application/json ;x=y",
                "text/plain",
                "",
                "application/jsonx",
                "application/json-patch+json",
            ])
            .prop_map(str::to_owned),
            1 => "[ -~]{0,24}",
        ],
    )
}

/// Random bytes, or JSON objects made of the test methods' argument names (never `millis`,
/// so `Sleep` is always rejected before it sleeps).
fn body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u16>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        Just(json!([1, 2])),
        Just(json!({"nested": {}})),
    ];
    let key = prop::sample::select(vec!["value", "label", "code", "status", "cause", "other"]);
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => prop::sample::select(vec!["", "null", "{}", "[]", "{", "{} x", "\"text\""])
            .prop_map(|s| s.as_bytes().to_vec()),
        3 => prop::collection::btree_map(key, value, 0..5)
            .prop_map(|m| serde_json::to_vec(&m).expect("a map of JSON values encodes")),
    ]
}

/// The error a failure must carry, when the request alone decides it.
fn expected_failure(method: &str, path: &str, content_type: Option<&str>) -> Option<(u16, i64)> {
    let json =
        content_type.is_some_and(|ct| webrpc_core::codec::is_json_content_type(ct.as_bytes()));
    if !ROUTES.contains(&path) {
        Some((404, -2))
    } else if method != "POST" {
        Some((405, -3))
    } else if !json {
        Some((400, -4))
    } else {
        None
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_answer_is_json_and_every_failure_an_envelope(
        method in method(),
        path in path(),
        content_type in content_type(),
        body in body(),
    ) {
        let mut builder = Request::builder().method(method.as_str()).uri(path.as_str());
        if let Some(ct) = &content_type {
            builder = builder.header("content-type", ct.as_str());
        }
        // Text the `http` crate refuses as a method or URI never reaches a router.
        let Ok(request) = builder.body(Full::new(Bytes::from(body.clone()))) else {
            return Ok(());
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let answer = runtime.block_on(async { collect(router().oneshot(request).await.unwrap()).await });

        prop_assert_eq!(&answer.headers["content-type"], "application/json");
        let header = answer.headers["webrpc"].to_str().unwrap();
        prop_assert!(WebrpcHeader::parse(header).is_ok(), "{}", header);
        let v: Value = serde_json::from_slice(&answer.body).unwrap();
        prop_assert!(v.is_object(), "{}", v);
        if answer.status != 200 {
            prop_assert!((400..=599).contains(&answer.status), "{}", answer.status);
            prop_assert!(v["error"].is_string(), "{}", v);
            prop_assert!(v["code"].is_i64(), "{}", v);
            prop_assert!(v["msg"].is_string(), "{}", v);
            prop_assert!(v.get("cause").is_none_or(Value::is_string), "{}", v);
            prop_assert_eq!(v["status"].as_u64(), Some(u64::from(answer.status)), "{}", v);
        }
        if let Some((status, code)) = expected_failure(&method, &path, content_type.as_deref()) {
            prop_assert_eq!(answer.status, status, "{}", v);
            prop_assert_eq!(v["code"].as_i64(), Some(code), "{}", v);
            if status == 405 {
                prop_assert_eq!(&answer.headers["allow"], "POST");
            }
        }
    }

    #[test]
    fn a_handler_error_keeps_its_status_only_if_it_is_an_error_status(
        status in prop_oneof![0u16..=1000, 400u16..=599],
        code in any::<i32>(),
        cause in prop::option::of(any::<String>()),
    ) {
        let request = FailWithRequest { status, code, cause: cause.clone() };
        let request = Request::post("/rpc/Statuses/FailWith")
            .header("content-type", "application/json")
            .body(Full::new(webrpc_core::codec::encode(&request).unwrap()))
            .unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let answer = runtime.block_on(async { collect(router().oneshot(request).await.unwrap()).await });
        let expected = if (400..=599).contains(&status) { status } else { 500 };
        prop_assert_eq!(answer.status, expected);
        let err = webrpc_core::codec::decode_error_response(answer.status, &answer.body);
        prop_assert_eq!(
            (err.name(), err.code(), err.cause(), err.status()),
            ("Custom", code, cause.as_deref(), expected)
        );
    }
}
