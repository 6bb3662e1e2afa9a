//! The router nested in an axum application, next to ordinary axum routes.

mod common;

use bytes::Bytes;
use common::collect;
use http::Request;
use http_body_util::Full;
use tower::ServiceExt;
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
