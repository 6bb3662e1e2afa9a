//! The router nested in an axum application, next to ordinary axum routes.

mod common;

use bytes::Bytes;
use common::collect;
use http::Request;
use http_body_util::Full;
use tower::ServiceExt;
use webrpc_core::{BuiltinError, WebrpcError, WEBRPC_HEADER_NAME};
use webrpc_server::Router;

fn app() -> axum::Router {
    // axum's `nest_service` strips the prefix it is nested at, so the webrpc router below it
    // uses the basepath `/`.
    let rpc = common::mount_test(
        std::sync::Arc::new(common::TestImpl),
        Router::with_basepath("/"),
    );
    axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .nest_service("/rpc", rpc)
}

fn post(path: &str, body: &'static [u8]) -> Request<axum::body::Body> {
    Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/json")
        .body(axum::body::Body::new(Full::new(Bytes::from_static(body))))
        .unwrap()
}

#[tokio::test]
async fn webrpc_calls_and_errors_through_axum() {
    let a = collect(
        app()
            .oneshot(post("/rpc/Test/Echo", br#"{"value":4}"#))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["value"], 4);

    let a = collect(app().oneshot(post("/rpc/Test/Nope", b"{}")).await.unwrap()).await;
    a.assert_error("WebrpcBadRoute", -2, 404);

    let a = collect(app().oneshot(post("/rpc/Test/Echo", b"{")).await.unwrap()).await;
    a.assert_error("WebrpcBadRequest", -4, 400);

    let get = Request::get("/rpc/Test/Echo")
        .body(axum::body::Body::empty())
        .unwrap();
    let a = collect(app().oneshot(get).await.unwrap()).await;
    a.assert_error("WebrpcBadMethod", -3, 405);

    // The application's own routes are untouched.
    let health = Request::get("/health")
        .body(axum::body::Body::empty())
        .unwrap();
    let a = collect(app().oneshot(health).await.unwrap()).await;
    assert_eq!((a.status, &a.body[..]), (200, &b"ok"[..]));
}

/// An axum handler answering with a `WebrpcError` sends the same envelope as the router.
#[tokio::test]
async fn axum_handlers_return_webrpc_errors_as_envelopes() {
    async fn forbidden() -> Result<&'static str, WebrpcError> {
        Err(WebrpcError::new("Forbidden", 1001, "not yours", 403).with_cause("project 7"))
    }
    async fn with_header() -> impl axum::response::IntoResponse {
        (
            [(
                WEBRPC_HEADER_NAME,
                "webrpc@v0.31.0;webrpc-rs@v0.1.0;test@v1.0.0",
            )],
            BuiltinError::WebrpcBadRoute.with_cause("no such page"),
        )
    }
    let app = axum::Router::new()
        .route("/forbidden", axum::routing::get(forbidden))
        .route("/missing", axum::routing::get(with_header));

    let get = |path: &str| Request::get(path).body(axum::body::Body::empty()).unwrap();
    let a = collect(app.clone().oneshot(get("/forbidden")).await.unwrap()).await;
    assert_eq!(a.status, 403);
    assert_eq!(
        &a.body[..],
        br#"{"error":"Forbidden","code":1001,"msg":"not yours","cause":"project 7","status":403}"#
    );
    assert_eq!(a.headers["content-type"], "application/json");
    assert!(!a.headers.contains_key("webrpc"), "no header unless given");

    let a = collect(app.oneshot(get("/missing")).await.unwrap()).await;
    a.assert_error("WebrpcBadRoute", -2, 404);
    assert_eq!(
        a.headers["webrpc"],
        "webrpc@v0.31.0;webrpc-rs@v0.1.0;test@v1.0.0"
    );
}
