//! The error catalogue: every schema error (and the built-ins a server produces) travels from
//! a server implementation to `CollectionsClient` as the right typed error, and errors of
//! codes this catalogue does not know (Sequence's auth layer) arrive with their raw fields.

mod common;

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use sequence_metadata::*;
use serde_json::json;
use webrpc_core::ErrorKind;

use common::{recorded_client, Canned, Recording};

/// The spec's table, pinned: code, name, message, HTTP status.
const TABLE: [(i32, &str, &str, u16); 19] = [
    (1000, "Unauthorized", "Unauthorized access", 401),
    (1001, "PermissionDenied", "Permission denied", 403),
    (1002, "SessionExpired", "Session expired", 403),
    (1003, "MethodNotFound", "Method not found", 404),
    (
        1004,
        "RequestConflict",
        "Conflict with target resource",
        409,
    ),
    (1005, "Fail", "Request Failed", 400),
    (1006, "Geoblocked", "Geoblocked region", 451),
    (1007, "TaskFailed", "Task failed", 400),
    (1008, "Deprecated", "RPC method is deprecated", 400),
    (2000, "Timeout", "Request timed out", 408),
    (2001, "InvalidArgument", "Invalid argument", 400),
    (2002, "RequiredArgument", "Required argument missing", 400),
    (2003, "QueryFailed", "Query failed", 400),
    (2004, "ValidationFailed", "Validation failed", 400),
    (2005, "RateLimited", "Rate limited", 429),
    (3000, "NotFound", "Resource not found", 400),
    (3002, "ProjectNotFound", "Project not found", 400),
    (3003, "ChainNotFound", "Chain not found", 400),
    (
        4001,
        "TokenDirectoryDisabled",
        "Token Directory is disabled",
        400,
    ),
];

#[test]
fn catalogue_matches_the_spec_table() {
    assert_eq!(MetadataError::ALL.len(), TABLE.len());
    for (kind, (code, name, msg, status)) in MetadataError::ALL.iter().zip(TABLE) {
        assert_eq!(
            (kind.code(), kind.name(), kind.msg(), kind.status()),
            (code, name, msg, status)
        );
        assert_eq!(MetadataError::from_code(code), Some(*kind));
        assert_eq!(<MetadataError as ErrorKind>::from_name(name), Some(*kind));
        let err: WebrpcError = (*kind).into();
        assert_eq!(
            (err.name(), err.code(), err.msg(), err.status(), err.cause()),
            (name, code, msg, status, None)
        );
        assert_eq!(kind.to_string(), format!("{name} {code}: {msg}"));
    }
    assert_eq!(MetadataError::from_code(1009), None);
    assert_eq!(MetadataError::from_code(3001), None);
}

/// A server whose GetCollection fails with the schema error whose code is the
/// `collectionId`, with a cause unless the id is odd.
fn failing_router() -> webrpc_server::Router {
    webrpc_server::Router::new().route(
        GetCollection,
        |_ctx: RequestContext, req: GetCollectionRequest| async move {
            let code = i32::try_from(req.collection_id).unwrap();
            let kind = MetadataError::from_code(code).expect("a catalogue code");
            let err = if code % 2 == 0 {
                kind.with_cause(format!("cause of {}", kind.name()))
            } else {
                kind.err()
            };
            Err::<GetCollectionResponse, _>(err)
        },
    )
}

#[tokio::test]
async fn every_schema_error_reaches_the_client_typed() {
    let recording = Recording::new(failing_router());
    let client = webrpc_client::Client::builder("http://localhost")
        .build_with(recording.clone())
        .unwrap();
    let api = CollectionsClient::new(client);
    for (code, name, msg, status) in TABLE {
        let err = api
            .get_collection(
                Default::default(),
                GetCollectionRequest {
                    project_id: None,
                    collection_id: code as u64,
                },
            )
            .await
            .unwrap_err();
        let kind = MetadataError::from_code(code).unwrap();
        assert_eq!(err.kind::<MetadataError>(), Some(kind));
        assert!(err.is(kind));
        assert_eq!(err.kind::<BuiltinError>(), None);
        let cause = (code % 2 == 0).then(|| format!("cause of {name}"));
        assert_eq!(
            (err.name(), err.code(), err.msg(), err.status(), err.cause()),
            (name, code, msg, status, cause.as_deref())
        );

        // The wire: HTTP status equals the envelope's, `cause` only when there is one.
        let exchange = recording.take_one();
        assert_eq!(exchange.status, status);
        let mut envelope = json!({"error": name, "code": code, "msg": msg, "status": status});
        if let Some(cause) = &cause {
            envelope["cause"] = json!(cause);
        }
        assert_eq!(exchange.response, envelope);
    }
}

#[tokio::test]
async fn handler_errors_come_back_typed_with_their_cause() {
    let canned = Canned::new();
    let (api, wire) = recorded_client(Arc::clone(&canned));
    canned.fail(
        "PublishCollection",
        MetadataError::NotFound.with_cause("collection 999999"),
    );
    canned.fail(
        "CreateCollection",
        MetadataError::RequiredArgument.with_cause("collection.metadata is required"),
    );
    canned.fail(
        "GetToken",
        MetadataError::InvalidArgument
            .with_cause(r#"invalid bigint "x1": expected decimal digits"#),
    );
    let err = api
        .publish_collection(
            Default::default(),
            PublishCollectionRequest {
                project_id: Some(30957),
                collection_id: 999999,
                recursive: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind::<MetadataError>(), Some(MetadataError::NotFound));
    assert_eq!(err.cause(), Some("collection 999999"));
    assert_eq!(
        err.to_string(),
        "NotFound 3000: Resource not found: collection 999999"
    );
    assert_eq!(wire.take_one().status, 400);

    let err = api
        .create_collection(Default::default(), CreateCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<MetadataError>(),
        Some(MetadataError::RequiredArgument)
    );
    assert_eq!(err.cause(), Some("collection.metadata is required"));

    let err = api
        .get_token(
            Default::default(),
            GetTokenRequest {
                project_id: None,
                collection_id: 1,
                token_id: "x1".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<MetadataError>(),
        Some(MetadataError::InvalidArgument)
    );
    assert_eq!(
        err.cause(),
        Some(r#"invalid bigint "x1": expected decimal digits"#)
    );
}

#[tokio::test]
async fn builtin_errors_reach_the_client_typed() {
    let router = webrpc_server::Router::new()
        .route(
            GetCollection,
            |_ctx: RequestContext, _req: GetCollectionRequest| async move {
                // Not a webrpc error: the server answers WebrpcEndpoint with its text as cause.
                Err::<GetCollectionResponse, _>(std::io::Error::other("disk on fire"))
            },
        )
        .route(
            DeleteCollection,
            |_ctx: RequestContext, req: DeleteCollectionRequest| async move {
                if req.collection_id == 1 {
                    panic!("handler bug");
                }
                Err::<DeleteCollectionResponse, _>(
                    BuiltinError::WebrpcInternalError.with_cause("database unreachable"),
                )
            },
        );
    let client = webrpc_client::Client::builder("http://localhost")
        .build_with(router)
        .unwrap();
    let api = CollectionsClient::new(client);

    let err = api
        .get_collection(Default::default(), GetCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcEndpoint)
    );
    assert_eq!((err.code(), err.status()), (0, 400));
    assert_eq!(err.cause(), Some("disk on fire"));
    assert_eq!(err.kind::<MetadataError>(), None);

    let err = api
        .delete_collection(
            Default::default(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcServerPanic)
    );
    assert_eq!((err.name(), err.status()), ("WebrpcServerPanic", 500));

    let err = api
        .delete_collection(
            Default::default(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: 2,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcInternalError)
    );
    assert_eq!(
        (err.code(), err.msg(), err.status(), err.cause()),
        (-7, "internal error", 500, Some("database unreachable"))
    );

    // A method this server does not mount.
    let err = api
        .publish_collection(Default::default(), PublishCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcBadRoute)
    );
    assert_eq!(err.status(), 404);
    assert_eq!(
        err.cause(),
        Some("no webrpc method defined for path /rpc/Collections/PublishCollection")
    );
}

/// A transport answering every call with one fixed response, as a layer in front of the
/// service (Sequence's auth layer, a proxy) does.
fn answering(
    status: u16,
    body: &'static str,
) -> webrpc_client::Client<
    impl tower::Service<
            Request<Full<Bytes>>,
            Response = Response<Full<Bytes>>,
            Error = Infallible,
            Future = impl Send,
        > + Clone
        + Send
        + Sync
        + 'static,
> {
    let transport = tower::service_fn(move |_request: Request<Full<Bytes>>| async move {
        Ok::<_, Infallible>(
            Response::builder()
                .status(status)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap(),
        )
    });
    webrpc_client::Client::builder("https://metadata.sequence.app")
        .build_with(transport)
        .unwrap()
}

#[tokio::test]
async fn errors_of_other_layers_keep_their_raw_fields() {
    // 1009 is not in this catalogue: it arrives intact.
    let api = CollectionsClient::new(answering(
        403,
        r#"{"error":"SecretKeyCorsDisallowed","code":1009,"msg":"secret key used from a browser","cause":"origin https://example.com","status":403}"#,
    ));
    let err = api
        .publish_collection(Default::default(), PublishCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind::<MetadataError>(), None);
    assert_eq!(err.kind::<BuiltinError>(), None);
    assert_eq!(
        (err.name(), err.code(), err.msg(), err.status(), err.cause()),
        (
            "SecretKeyCorsDisallowed",
            1009,
            "secret key used from a browser",
            403,
            Some("origin https://example.com")
        )
    );

    // 1008 collides: by code it is this schema's Deprecated, but the raw name and status
    // say what the auth layer meant.
    let api = CollectionsClient::new(answering(
        401,
        r#"{"error":"ProjectNotFound","code":1008,"msg":"Project not found","status":401}"#,
    ));
    let err = api
        .get_collection(Default::default(), GetCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind::<MetadataError>(), Some(MetadataError::Deprecated));
    assert_eq!(
        (err.name(), err.msg(), err.status(), err.cause()),
        ("ProjectNotFound", "Project not found", 401, None)
    );

    // A body that is not an envelope (a proxy's HTML) keeps the real HTTP status.
    let api = CollectionsClient::new(answering(502, "<html>Bad Gateway</html>"));
    let err = api
        .get_collection(Default::default(), GetCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcBadResponse)
    );
    assert_eq!(err.status(), 502);

    // A success body that does not decode as the response.
    let api = CollectionsClient::new(answering(200, r#"{"collection":{"id":"888"}}"#));
    let err = api
        .get_collection(Default::default(), GetCollectionRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcBadResponse)
    );
    assert!(err
        .cause()
        .unwrap()
        .starts_with("failed to unmarshal json response: "));
}
