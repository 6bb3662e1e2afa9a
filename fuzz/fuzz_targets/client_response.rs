//! The client's response handling: an arbitrary status, headers and body, answered by a
//! tower service under a `webrpc_client::Client`, for `PublishCollection` and
//! `ListCollections` (whose arguments are all optional). Every call must end in a value or a
//! `WebrpcError`, never a panic, and:
//!
//! - a non-2xx status is always an error;
//! - a body that is not JSON (UTF-8 text in JSON's grammar: see `webrpc_fuzz::is_json`) is `WebrpcBadResponse` (-5), with the HTTP status when it is an
//!   error status;
//! - a 2xx that fails is -5;
//! - a non-2xx JSON object body within the limit is exactly what `codec::decode_error_response`
//!   makes of it.
//!
//! Input: `STATUS\n` (decimal; values outside 100..=999 are folded into it), header lines,
//! an empty line, the body.

#![no_main]

use std::convert::Infallible;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use sequence_metadata::{
    ListCollections, ListCollectionsRequest, PublishCollection, PublishCollectionRequest,
};
use webrpc_core::{codec, Method, WebrpcError};
use webrpc_fuzz::{parse_message, runtime};

/// A small response limit, so the fuzzer reaches the limit checks with small inputs.
const LIMIT: usize = 2048;

fn status_of(line: &[u8]) -> StatusCode {
    let digits: String = line
        .iter()
        .filter(|b| b.is_ascii_digit())
        .take(9)
        .map(|&b| b as char)
        .collect();
    let n: u32 = digits.parse().unwrap_or(200);
    let n = if (100..=999).contains(&n) {
        n
    } else {
        100 + n % 900
    };
    StatusCode::from_u16(n as u16).expect("100..=999 is a valid status")
}

fn check<T: std::fmt::Debug>(
    method: &str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &Bytes,
    result: &Result<T, WebrpcError>,
) {
    let Err(err) = result else {
        assert!(status.is_success(), "{method}: {status} became a value");
        return;
    };
    let is_json = webrpc_fuzz::is_json(body);
    if !is_json {
        assert_eq!(
            err.code(),
            -5,
            "{method}: non-JSON {status} body gave {err:?}"
        );
        if status.as_u16() >= 400 {
            assert_eq!(err.status(), status.as_u16(), "{method}: {err:?}");
        }
    }
    if status.is_success() {
        assert_eq!(err.code(), -5, "{method}: a {status} failed with {err:?}");
        return;
    }
    let declared_too_large = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > LIMIT as u64);
    if body.len() <= LIMIT && !declared_too_large {
        let expected = codec::decode_error_response(status.as_u16(), body);
        assert_eq!(
            (err.name(), err.code(), err.msg(), err.cause(), err.status()),
            (
                expected.name(),
                expected.code(),
                expected.msg(),
                expected.cause(),
                expected.status()
            ),
            "{method}"
        );
    } else {
        assert_eq!(err.code(), -5, "{method}: oversized body gave {err:?}");
    }
    // Formatting the error never panics either.
    let _ = err.to_string();
}

fuzz_target!(|data: &[u8]| {
    let message = parse_message(data);
    let status = status_of(message.first_line);
    let mut headers = HeaderMap::new();
    for (name, value) in message.headers {
        headers.append(name, value);
    }
    let body = message.body;

    let answer_headers = headers.clone();
    let answer_body = body.clone();
    let service = tower::service_fn(move |_request: Request<Full<Bytes>>| {
        let mut response = Response::new(Full::new(answer_body.clone()));
        *response.status_mut() = status;
        *response.headers_mut() = answer_headers.clone();
        async move { Ok::<_, Infallible>(response) }
    });
    let client = webrpc_client::Client::builder("http://127.0.0.1:4242")
        .response_limit(LIMIT)
        .build_with(service)
        .expect("a valid base URL");

    runtime().block_on(async {
        let publish = PublishCollectionRequest {
            project_id: Some(30957),
            collection_id: 888,
            recursive: None,
        };
        let result = client.call::<PublishCollection>(&publish).await;
        check(PublishCollection::NAME, status, &headers, &body, &result);
        let result = client
            .call::<ListCollections>(&ListCollectionsRequest::default())
            .await;
        check(ListCollections::NAME, status, &headers, &body, &result);
    });
});
