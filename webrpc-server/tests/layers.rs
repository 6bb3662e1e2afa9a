//! Real tower layers (`timeout`, `limit`, `load_shed`) composed around the router and served
//! over HTTP: their errors are answered with webrpc envelopes, by `serve` itself or by an
//! explicit `RecoverErrorLayer`.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http::{HeaderValue, Request, Response};
use http_body_util::Full;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tower::{ServiceBuilder, ServiceExt};
use webrpc_client::Client;
use webrpc_core::{BuiltinError, Method, RequestContext, WebrpcError};
use webrpc_server::{serve, RecoverErrorLayer, ResponseBody, Router, ServerHandle};

/// The `Webrpc` header value of the test schema.
const TEST_WEBRPC_HEADER: &str = <Ping as Method>::WEBRPC_HEADER;

async fn spawn<S, B>(app: S) -> (ServerHandle, TestClient<Client>)
where
    S: tower::Service<Request<hyper::body::Incoming>, Response = Response<B>>
        + Clone
        + Send
        + 'static,
    S::Error: Into<webrpc_server::BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<webrpc_server::BoxError>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = serve(listener, app).spawn();
    let client = TestClient::new(Client::new(&format!("http://{}", server.local_addr())).unwrap());
    (server, client)
}

/// A router whose `Sleep` says when it has started, then waits for `release`.
fn gated_router(entered: Arc<Notify>, release: Arc<Semaphore>) -> Router {
    router().route(Sleep, move |_ctx: RequestContext, req: SleepRequest| {
        let entered = Arc::clone(&entered);
        let release = Arc::clone(&release);
        async move {
            entered.notify_one();
            let _permit = release.acquire().await.expect("semaphore open");
            Ok::<_, WebrpcError>(SleepResponse { slept: req.millis })
        }
    })
}

#[tokio::test]
async fn tower_timeout_around_the_router_is_answered_504_by_serve() {
    let app = ServiceBuilder::new()
        .timeout(Duration::from_millis(100))
        .service(router());
    let (server, client) = spawn(app).await;

    let err = client
        .sleep(Default::default(), SleepRequest { millis: 10_000 })
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcInternalError", -7, 504)
    );
    assert_eq!(err.cause(), Some("request timed out"));

    // Calls within the timeout are untouched.
    let ok = client
        .sleep(Default::default(), SleepRequest { millis: 1 })
        .await
        .unwrap();
    assert_eq!(ok.slept, 1);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn load_shed_over_a_concurrency_limit_answers_503_while_the_slot_is_taken() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Semaphore::new(0));
    let app = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new().webrpc_header(HeaderValue::from_static(TEST_WEBRPC_HEADER)))
        .load_shed()
        .concurrency_limit(1)
        .service(gated_router(Arc::clone(&entered), Arc::clone(&release)));
    let (server, client) = spawn(app).await;

    let first = {
        let client = client.clone();
        tokio::spawn(async move {
            client
                .sleep(Default::default(), SleepRequest { millis: 7 })
                .await
        })
    };
    entered.notified().await;

    // The only slot is taken: shed at once, not queued.
    let err = client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcInternalError", -7, 503)
    );
    assert_eq!(err.cause(), Some("server overloaded: service not ready"));

    release.add_permits(1);
    assert_eq!(first.await.unwrap().unwrap().slept, 7);
    // The slot is free again.
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shed_answers_carry_the_configured_webrpc_header() {
    let app = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new().webrpc_header(HeaderValue::from_static(TEST_WEBRPC_HEADER)))
        .service(tower::service_fn(|_: Request<Full<Bytes>>| async {
            Err::<Response<ResponseBody>, _>(tower::load_shed::error::Overloaded::new())
        }));
    let request = Request::post("/rpc/Test/Ping")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let answer = collect(app.oneshot(request).await.unwrap()).await;
    answer.assert_error("WebrpcInternalError", -7, 503);
    assert_eq!(answer.headers["webrpc"], TEST_WEBRPC_HEADER);
}

#[tokio::test]
async fn a_concurrency_limit_layer_queues_calls_and_runs_one_at_a_time() {
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let (r, m) = (Arc::clone(&running), Arc::clone(&most));
    let router = router().route(Sleep, move |_ctx: RequestContext, req: SleepRequest| {
        let (running, most) = (Arc::clone(&r), Arc::clone(&m));
        async move {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(req.millis)).await;
            running.fetch_sub(1, Ordering::SeqCst);
            Ok::<_, WebrpcError>(SleepResponse { slept: req.millis })
        }
    });
    let app = ServiceBuilder::new().concurrency_limit(1).service(router);
    let (server, client) = spawn(app).await;

    let calls: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .sleep(Default::default(), SleepRequest { millis: 20 })
                    .await
            })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap().slept, 20);
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "one call at a time");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn other_service_errors_are_500_without_their_text_unless_mapped() {
    let failing = || {
        tower::service_fn(|_: Request<Full<Bytes>>| async {
            Err::<Response<ResponseBody>, _>(std::io::Error::other("db password rejected"))
        })
    };
    let request = || {
        Request::post("/rpc/Test/Ping")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap()
    };

    let app = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new())
        .service(failing());
    let answer = collect(app.oneshot(request()).await.unwrap()).await;
    assert_eq!(answer.status, 500);
    let v = answer.json();
    assert_eq!(
        (&v["error"], &v["code"]),
        (&"WebrpcInternalError".into(), &(-7).into())
    );
    assert_eq!(v["cause"], "service error");
    assert!(!String::from_utf8_lossy(&answer.body).contains("password"));

    // A WebrpcError boxed by a layer is sent as it is; a custom mapping decides the rest.
    let app = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new().map_error(|err| {
            if err.is::<std::io::Error>() {
                BuiltinError::WebrpcInternalError
                    .with_cause("storage unavailable")
                    .with_status(503)
            } else {
                webrpc_server::recover::error_from(err)
            }
        }))
        .service(failing());
    let answer = collect(app.oneshot(request()).await.unwrap()).await;
    assert_eq!(answer.status, 503);
    assert_eq!(answer.json()["cause"], "storage unavailable");

    let app = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new())
        .service(tower::service_fn(|_: Request<Full<Bytes>>| async {
            Err::<Response<ResponseBody>, webrpc_server::BoxError>(Box::new(
                TestError::RateLimited.with_cause("slow down"),
            ))
        }));
    let answer = collect(app.oneshot(request()).await.unwrap()).await;
    assert_eq!(
        (answer.status, answer.json()["error"].clone()),
        (429, "RateLimited".into())
    );
}

/// A service that fails in `poll_ready`, as a broken inner service or a closed buffer does.
#[derive(Clone)]
struct NeverReady;

impl tower::Service<Request<hyper::body::Incoming>> for NeverReady {
    type Response = Response<ResponseBody>;
    type Error = std::io::Error;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Err(std::io::Error::other("backend closed")))
    }

    fn call(&mut self, _: Request<hyper::body::Incoming>) -> Self::Future {
        unreachable!("never ready, never called")
    }
}

#[tokio::test]
async fn readiness_errors_are_answered_and_the_connection_serves_on() {
    let (server, client) = spawn(NeverReady).await;
    for _ in 0..2 {
        let err = client
            .ping(Default::default(), PingRequest {})
            .await
            .unwrap_err();
        assert_eq!((err.code(), err.status()), (-7, 500));
        assert_eq!(err.cause(), Some("service error"));
    }
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_recovered_stack_nests_in_axum() {
    // axum's `nest_service` takes only `Error = Infallible`: the recovery layer makes it so.
    let rpc = ServiceBuilder::new()
        .layer(RecoverErrorLayer::new())
        .timeout(Duration::from_millis(100))
        .service(common::mount_test(
            Arc::new(TestImpl),
            Router::with_basepath("/"),
        ));
    let app = axum::Router::new().nest_service("/rpc", rpc);
    let (server, client) = spawn(app).await;
    let err = client
        .sleep(Default::default(), SleepRequest { millis: 10_000 })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), (-7, 504));
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    server.shutdown().await.unwrap();
}
