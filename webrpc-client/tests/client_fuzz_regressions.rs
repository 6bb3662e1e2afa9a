//! Inputs found by the `client_response` fuzz target (docs/fuzzing.md), replayed through a
//! client: each failed once, and each now guards its fix.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use webrpc_client::Client;
use webrpc_core::service;

service! {
    /// A one-method service.
    pub trait Publish;
    /// Client of [`Publish`].
    client PublishClient;
    /// Mounts [`Publish`].
    mount mount_publish;
    name "Collections";
    schema "sequence-metadata" "v0.4.0";

    /// Publishes a collection.
    PublishCollection => publish_collection(#[derive(Debug, Clone, PartialEq, Default)] PublishCollectionRequest {
        /// The collection.
        pub collection_id: u64,
    }) -> #[derive(Debug, Clone, PartialEq, Default)] PublishCollectionResponse {
        /// Whatever came back.
        #[serde(default)]
        pub collection: serde_json::Value,
    };
}

async fn call_answered_with(status: u16, body: &'static [u8]) -> webrpc_core::WebrpcError {
    let transport = tower::service_fn(move |_request: Request<Full<Bytes>>| {
        let mut response = Response::new(Full::new(Bytes::from_static(body)));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        async move { Ok::<_, Infallible>(response) }
    });
    let client = Client::builder("http://127.0.0.1:1")
        .build_with(transport)
        .unwrap();
    client
        .call::<PublishCollection>(&PublishCollectionRequest { collection_id: 888 })
        .await
        .unwrap_err()
}

/// `crash-a0bd2f3baa0a2b0d522ebea9d71a20f1e71e26a6`: status 100 (the fuzzer's status line
/// `e0(0` folds to it) and an object with bytes that are not UTF-8 in a field the envelope
/// ignores. The client called it an error named `""` with code 0 (which reads as
/// `WebrpcEndpoint`); the body is not JSON, so it is `WebrpcBadResponse`.
#[tokio::test]
async fn a_non_utf8_error_body_is_bad_response_not_an_envelope() {
    let body = b"{\"collection\":{\"c\xff\xff\xff\xffedAt\":\"yesterday\"}}";
    let err = call_answered_with(100, body).await;
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcBadResponse", -5, 100)
    );
    let err = call_answered_with(503, body).await;
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcBadResponse", -5, 503)
    );
    assert!(err
        .cause()
        .unwrap()
        .starts_with("failed to unmarshal server error: invalid UTF-8"));
}

/// `crash-2c793d0cd7b9a73a2bcbdb3e845591599edd5eb8`: status 120 and
/// `{"page":30888…8e70888…895728}`, a number far beyond `f64`. `serde_json::Value` refuses it,
/// so the target took the body for "not JSON" and expected -5; but it is valid JSON (the
/// grammar sets no range), and the envelope decoder skips the field it ignores, as Go's does.
/// The target's definition of JSON was wrong, not the client: the body is an envelope with no
/// fields (code 0, the HTTP status). An out-of-range number in a field the envelope keeps is
/// still `WebrpcBadResponse`.
#[tokio::test]
async fn a_number_beyond_f64_in_an_ignored_field_does_not_spoil_the_envelope() {
    let err = call_answered_with(120, b"{\"page\":3088888888e70888895728}").await;
    assert_eq!(
        (err.name(), err.code(), err.cause(), err.status()),
        ("", 0, None, 120)
    );

    let body = b"{\"error\":\"NotFound\",\"code\":3000,\"msg\":\"Resource not found\",\"status\":400,\"page\":1e99999}";
    let err = call_answered_with(400, body).await;
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("NotFound", 3000, 400)
    );

    let err = call_answered_with(400, b"{\"code\":1e999}").await;
    assert_eq!((err.code(), err.status()), (-5, 400));
}
