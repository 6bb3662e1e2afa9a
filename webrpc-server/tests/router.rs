//! The router's checks, in process (`oneshot`, no socket): every row of the protocol doc's
//! server checks, with status, error name, code and cause.

mod common;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::{collect, router, send};
use http::Request;
use http_body::Frame;
use http_body_util::Full;
use tower::ServiceExt;
use webrpc_server::ConcurrencyLimit;

const JSON: Option<&str> = Some("application/json");

#[tokio::test]
async fn good_call_answers_200_with_json_and_webrpc_header() {
    let r = router();
    let a = send(
        &r,
        "POST",
        "/rpc/Test/Echo",
        JSON,
        br#"{"value":7,"label":"x"}"#,
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.headers["content-type"], "application/json");
    assert_eq!(
        a.headers["webrpc"],
        concat!(
            "webrpc@v0.31.0;webrpc-rs@v",
            env!("CARGO_PKG_VERSION"),
            ";webrpc-rs-test@v1.2.3"
        )
    );
    let v = a.json();
    assert_eq!(v["value"], 7);
    assert_eq!(v["label"], "x");
    assert_eq!(v["seen"]["method"], "Test.Echo");
}

#[tokio::test]
async fn unknown_method_is_bad_route_404() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/Nope", JSON, b"{}").await;
    let cause = a.assert_error("WebrpcBadRoute", -2, 404);
    assert_eq!(cause, "no webrpc method defined for path /rpc/Test/Nope");
    // Other services, other basepaths, case and trailing slashes are all exact.
    for path in [
        "/rpc/Metadata/Ping",
        "/rpc/test/echo",
        "/rpc/Test/Echo/",
        "/Test/Echo",
        "/",
        "/rpc/",
    ] {
        let a = send(&r, "POST", path, JSON, b"{}").await;
        let cause = a.assert_error("WebrpcBadRoute", -2, 404);
        assert_eq!(cause, format!("no webrpc method defined for path {path}"));
    }
}

#[tokio::test]
async fn route_is_checked_before_http_method() {
    let r = router();
    let a = send(&r, "GET", "/rpc/Test/Nope", None, b"").await;
    a.assert_error("WebrpcBadRoute", -2, 404);
}

#[tokio::test]
async fn get_on_a_method_is_bad_method_405_with_allow() {
    let r = router();
    for method in ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"] {
        let a = send(&r, method, "/rpc/Test/Echo", JSON, b"").await;
        let cause = a.assert_error("WebrpcBadMethod", -3, 405);
        assert_eq!(
            cause,
            format!("unsupported HTTP method {method} (only POST is allowed)")
        );
        assert_eq!(a.headers["allow"], "POST");
    }
}

#[tokio::test]
async fn content_type_is_checked() {
    let r = router();
    let a = send(
        &r,
        "POST",
        "/rpc/Test/Echo",
        Some("text/plain"),
        br#"{"value":1}"#,
    )
    .await;
    let cause = a.assert_error("WebrpcBadRequest", -4, 400);
    assert_eq!(
        cause,
        r#"unsupported Content-Type "text/plain" (only application/json is allowed)"#
    );

    let a = send(&r, "POST", "/rpc/Test/Echo", None, br#"{"value":1}"#).await;
    let cause = a.assert_error("WebrpcBadRequest", -4, 400);
    assert_eq!(
        cause,
        r#"unsupported Content-Type "" (only application/json is allowed)"#
    );

    for ok in [
        "application/json; charset=utf-8",
        "Application/JSON",
        " application/json ",
        "application/json;charset=UTF-8",
    ] {
        let a = send(&r, "POST", "/rpc/Test/Echo", Some(ok), br#"{"value":1}"#).await;
        assert_eq!(a.status, 200, "{ok}: {:?}", a.body);
    }
    let a = send(
        &r,
        "POST",
        "/rpc/Test/Echo",
        Some("application/jsonx"),
        b"{}",
    )
    .await;
    a.assert_error("WebrpcBadRequest", -4, 400);
}

#[tokio::test]
async fn bodies_that_do_not_decode_are_bad_request() {
    let r = router();
    let cases: [&'static [u8]; 7] = [
        br#"{"value":1,"#,                    // malformed
        b"",                                  // empty, method has a required argument
        br#"{"value":"1"}"#,                  // wrong JSON type
        br#"{"value":-1}"#,                   // out of range for u64
        br#"{"value":18446744073709551616}"#, // out of range
        br#"{"value":1} x"#,                  // trailing garbage
        b"[1]",                               // not an object
    ];
    for body in cases {
        let a = send(&r, "POST", "/rpc/Test/Echo", JSON, body).await;
        let cause = a.assert_error("WebrpcBadRequest", -4, 400);
        assert!(
            cause.starts_with("failed to unmarshal request data: "),
            "{:?}: {cause}",
            String::from_utf8_lossy(body)
        );
    }
}

#[tokio::test]
async fn missing_required_argument_is_rejected_naming_it() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/Echo", JSON, br#"{"label":"x"}"#).await;
    let cause = a.assert_error("WebrpcBadRequest", -4, 400);
    assert!(cause.contains("missing field `value`"), "{cause}");
    // null is not a value for a required argument either
    let a = send(&r, "POST", "/rpc/Test/Echo", JSON, br#"{"value":null}"#).await;
    a.assert_error("WebrpcBadRequest", -4, 400);
}

#[tokio::test]
async fn optional_arguments_may_be_absent_or_null_unknown_fields_ignored() {
    let r = router();
    for body in [
        &br#"{"value":5}"#[..],
        br#"{"value":5,"label":null}"#,
        br#"{"value":5,"bogus":{"deep":[1,2,3]}}"#,
    ] {
        let a = send(&r, "POST", "/rpc/Test/Echo", JSON, body).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        assert_eq!(a.json()["value"], 5);
        assert!(a.json()["label"].is_null());
    }
}

#[tokio::test]
async fn method_without_arguments_accepts_empty_null_and_empty_object() {
    let r = router();
    for body in [&b""[..], b"null", b"{}", b" {} ", br#"{"extra":1}"#] {
        let a = send(&r, "POST", "/rpc/Test/Ping", JSON, body).await;
        assert_eq!(a.status, 200, "{:?}", String::from_utf8_lossy(body));
        assert_eq!(&a.body[..], b"{}", "a method with no returns answers {{}}");
    }
}

#[tokio::test]
async fn handler_errors_keep_their_envelope() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/Fail", JSON, br#"{"code":3000}"#).await;
    let cause = a.assert_error("NotFound", 3000, 400);
    assert_eq!(cause, "no such thing");
    assert_eq!(a.json()["msg"], "Resource not found");

    let a = send(&r, "POST", "/rpc/Test/Fail", JSON, br#"{"code":2005}"#).await;
    a.assert_error("RateLimited", 2005, 429);
    assert!(
        a.json().get("cause").is_none(),
        "no cause key when there is no cause"
    );

    let a = send(&r, "POST", "/rpc/Test/Fail", JSON, br#"{"code":4242}"#).await;
    a.assert_error("Custom", 4242, 418);
}

#[tokio::test]
async fn non_webrpc_error_becomes_webrpc_endpoint_with_its_text() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/Plain", JSON, b"{}").await;
    let cause = a.assert_error("WebrpcEndpoint", 0, 400);
    assert_eq!(cause, "disk on fire");
    assert_eq!(a.json()["msg"], "endpoint error");
}

#[tokio::test]
async fn panic_is_server_panic_500_and_the_router_keeps_serving() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/Panic", JSON, b"{}").await;
    let cause = a.assert_error("WebrpcServerPanic", -6, 500);
    assert!(
        !cause.contains("secret"),
        "panic messages are logged, not sent: {cause}"
    );
    let a = send(&r, "POST", "/rpc/Test/Echo", JSON, br#"{"value":1}"#).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn unencodable_result_is_bad_response_500() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/BadEncode", JSON, b"{}").await;
    let cause = a.assert_error("WebrpcBadResponse", -5, 500);
    assert!(cause.contains("refuses to be encoded"), "{cause}");
}

#[tokio::test]
async fn error_status_outside_4xx_5xx_is_sent_as_500_in_body_and_header() {
    let r = router();
    let a = send(&r, "POST", "/rpc/Test/WeirdStatus", JSON, b"{}").await;
    a.assert_error("Weird", 77, 500);
}

#[tokio::test]
async fn headers_and_extensions_reach_the_handler() {
    let r = router();
    let mut request = Request::builder()
        .method("POST")
        .uri("/rpc/Test/Echo")
        .header("content-type", "application/json")
        .header("x-test", "hello")
        .body(Full::new(Bytes::from_static(br#"{"value":3}"#)))
        .unwrap();
    request.extensions_mut().insert(42u32);
    let a = collect(r.oneshot(request).await.unwrap()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["seen"]["x-test"], "hello");
    assert_eq!(a.json()["seen"]["extension"], "42");
    assert_eq!(a.json()["seen"]["method"], "Test.Echo");
}

#[tokio::test]
async fn body_over_the_limit_is_413_envelope() {
    let r = router().body_limit(64);
    let big = Box::leak(
        format!(r#"{{"value":1,"label":"{}"}}"#, "x".repeat(100))
            .into_bytes()
            .into_boxed_slice(),
    );
    // With a Content-Length (known size)...
    let a = send(&r, "POST", "/rpc/Test/Echo", JSON, big).await;
    let cause = a.assert_error("WebrpcBadRequest", -4, 413);
    assert!(cause.contains("exceeds the limit of 64 bytes"), "{cause}");
    // ...and streamed in chunks with no declared size.
    let request = Request::builder()
        .method("POST")
        .uri("/rpc/Test/Echo")
        .header("content-type", "application/json")
        .body(Chunks(big.chunks(10).map(Bytes::from_static).collect()))
        .unwrap();
    let a = collect(r.clone().oneshot(request).await.unwrap()).await;
    a.assert_error("WebrpcBadRequest", -4, 413);
    // At the limit is fine.
    let r = router().body_limit(11);
    let a = send(&r, "POST", "/rpc/Test/Echo", JSON, br#"{"value":1}"#).await;
    assert_eq!(a.status, 200);
}

#[tokio::test]
async fn multi_chunk_bodies_are_reassembled() {
    let r = router();
    let body = br#"{"value":123456,"label":"chunked body"}"#;
    let request = Request::builder()
        .method("POST")
        .uri("/rpc/Test/Echo")
        .header("content-type", "application/json")
        .body(Chunks(body.chunks(3).map(Bytes::from_static).collect()))
        .unwrap();
    let a = collect(r.oneshot(request).await.unwrap()).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["label"], "chunked body");
}

#[tokio::test(start_paused = true)]
async fn stalled_body_times_out_with_408_envelope() {
    let r = router().body_timeout(Duration::from_secs(2));
    let request = Request::builder()
        .method("POST")
        .uri("/rpc/Test/Echo")
        .header("content-type", "application/json")
        .body(Stalled(Some(Bytes::from_static(b"{\"value\":"))))
        .unwrap();
    let a = collect(r.oneshot(request).await.unwrap()).await;
    let cause = a.assert_error("WebrpcBadRequest", -4, 408);
    assert!(cause.contains("timed out"), "{cause}");
}

#[tokio::test]
async fn body_read_error_is_bad_request() {
    let r = router();
    let request = Request::builder()
        .method("POST")
        .uri("/rpc/Test/Echo")
        .header("content-type", "application/json")
        .body(Broken)
        .unwrap();
    let a = collect(r.oneshot(request).await.unwrap()).await;
    let cause = a.assert_error("WebrpcBadRequest", -4, 400);
    assert!(
        cause.starts_with("failed to read request data: "),
        "{cause}"
    );
}

#[test]
fn router_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let request = Request::new(Full::new(Bytes::new()));
    let future = tower::Service::call(&mut router(), request);
    is_send(&future);
}

/// A body delivered in several frames with no size hint.
struct Chunks(std::collections::VecDeque<Bytes>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }
}

/// A body that sends a first chunk, then nothing, ever.
struct Stalled(Option<Bytes>);

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.0.take() {
            Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
            None => Poll::Pending,
        }
    }
}

/// A body whose read fails.
struct Broken;

impl http_body::Body for Broken {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "peer reset",
        ))))
    }
}

#[tokio::test(start_paused = true)]
async fn handler_outliving_its_timeout_gets_504_envelope() {
    let r = router().handler_timeout(Duration::from_millis(100));
    let a = send(&r, "POST", "/rpc/Test/Sleep", JSON, br#"{"millis":60000}"#).await;
    let cause = a.assert_error("WebrpcInternalError", -7, 504);
    assert_eq!(cause, "handler timed out after 100ms");
    let a = send(&r, "POST", "/rpc/Test/Sleep", JSON, br#"{"millis":10}"#).await;
    assert_eq!(a.status, 200);
}

#[tokio::test(start_paused = true)]
async fn calls_over_the_concurrency_limit_are_rejected_fast() {
    let rejection = common::TestError::RateLimited.err();
    let r = router().concurrency_limit(ConcurrencyLimit::new(2).rejection(rejection));
    let busy: Vec<_> = (0..2)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move {
                send(&r, "POST", "/rpc/Test/Sleep", JSON, br#"{"millis":1000}"#).await
            })
        })
        .collect();
    // Let both calls take their slots.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let a = send(&r, "POST", "/rpc/Test/Ping", JSON, b"{}").await;
    let cause = a.assert_error("RateLimited", 2005, 429);
    assert!(cause.starts_with("server overloaded"), "{cause}");
    for call in busy {
        assert_eq!(call.await.unwrap().status, 200);
    }
    // Slots are given back.
    let a = send(&r, "POST", "/rpc/Test/Ping", JSON, b"{}").await;
    assert_eq!(a.status, 200);
}

#[tokio::test(start_paused = true)]
async fn excess_calls_can_queue_with_a_deadline() {
    let r = router()
        .concurrency_limit(ConcurrencyLimit::new(1).queue_timeout(Duration::from_millis(500)));
    let first = {
        let r = r.clone();
        tokio::spawn(async move {
            send(&r, "POST", "/rpc/Test/Sleep", JSON, br#"{"millis":200}"#).await
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    // Waits for the first call's slot, within its deadline.
    let a = send(&r, "POST", "/rpc/Test/Ping", JSON, b"{}").await;
    assert_eq!(a.status, 200);
    assert_eq!(first.await.unwrap().status, 200);
    // A call that cannot get a slot in time gets the default rejection.
    let long = {
        let r = r.clone();
        tokio::spawn(async move {
            send(&r, "POST", "/rpc/Test/Sleep", JSON, br#"{"millis":5000}"#).await
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    let a = send(&r, "POST", "/rpc/Test/Ping", JSON, b"{}").await;
    a.assert_error("WebrpcInternalError", -7, 503);
    assert_eq!(long.await.unwrap().status, 200);
}
