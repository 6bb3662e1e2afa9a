//! Stream methods on the server: the exact bytes of an opening, pings, messages, errors and
//! the end, in process and over loopback (HTTP/1.1 and h2c); disconnect detection, a slow
//! reader, panics and graceful shutdown with open streams.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{stream, Stream, StreamExt};
use http::{Request, Response, StatusCode};
use http_body::Body;
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt;
use webrpc_core::stream::StreamMethod;
use webrpc_core::{error_catalogue, BuiltinError, RequestContext, WebrpcError};
use webrpc_server::stream::channel;
use webrpc_server::{
    serve, CallHandle, ConcurrencyLimit, ResponseBody, Router, Server, ServerHandle,
};

error_catalogue! {
    /// The chat's error.
    pub enum ChatError {
        /// No username.
        EmptyUsername = (100, "Username must be provided.", 400),
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountRequest {
    /// How many messages.
    #[serde(default)]
    n: u32,
    /// Fail (in the stream) after this many messages.
    #[serde(default)]
    fail_after: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tick {
    n: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct CountMessage {
    tick: Tick,
}

/// `Test.Count(n, failAfter?) => stream (tick: Tick)`.
struct Count;
impl StreamMethod for Count {
    const SERVICE: &'static str = "Test";
    const NAME: &'static str = "Count";
    const SCHEMA: &'static str = "webrpc-rs-test";
    const SCHEMA_VERSION: &'static str = "v1.2.3";
    const WEBRPC_HEADER: &'static str = webrpc_core::webrpc_header!("webrpc-rs-test", "v1.2.3");
    type Request = CountRequest;
    type Message = CountMessage;
}

const WEBRPC: &str = "webrpc@v0.31.0;webrpc-rs@v0.1.0;webrpc-rs-test@v1.2.3";

fn tick(n: u32) -> CountMessage {
    CountMessage { tick: Tick { n } }
}

/// `n` messages, or an in-stream error after `fail_after` of them.
async fn count(_ctx: RequestContext, req: CountRequest) -> Result<BoxStream, WebrpcError> {
    let items = (0..req.n).map(move |i| match req.fail_after {
        Some(after) if i == after => Err(BuiltinError::WebrpcInternalError.with_cause("db down")),
        _ => Ok(tick(i)),
    });
    let items: Vec<_> = items.collect();
    let end = items
        .iter()
        .position(Result::is_err)
        .map_or(items.len(), |i| i + 1);
    Ok(Box::pin(stream::iter(items.into_iter().take(end))))
}

type BoxStream = Pin<Box<dyn Stream<Item = Result<CountMessage, WebrpcError>> + Send>>;

fn count_router() -> Router {
    Router::new().route_stream(Count, count)
}

fn request(body: &str) -> Request<Full<Bytes>> {
    Request::post("/rpc/Test/Count")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

/// Every frame of a body, one by one.
async fn frames(mut body: ResponseBody) -> Vec<Bytes> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        out.push(frame.unwrap().into_data().unwrap());
    }
    out
}

fn header<'a>(response: &'a Response<ResponseBody>, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

/// Sets a flag when dropped: tells a test that the handler's stream is gone.
struct DropGuard(Option<tokio::sync::oneshot::Sender<()>>);
impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A stream that never yields and reports when it is dropped.
struct Forever(#[allow(dead_code)] DropGuard);
impl Stream for Forever {
    type Item = Result<CountMessage, WebrpcError>;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        Poll::Pending
    }
}

fn forever_router(
    keep_alive: Duration,
) -> (
    Router,
    tokio::sync::mpsc::UnboundedReceiver<tokio::sync::oneshot::Receiver<()>>,
) {
    let (opened_tx, opened_rx) = tokio::sync::mpsc::unbounded_channel();
    let router = Router::new()
        .stream_keep_alive(keep_alive)
        .route_stream::<Count, _, _, _, WebrpcError>(
            Count,
            move |_ctx: RequestContext, _req: CountRequest| {
                let (tx, rx) = tokio::sync::oneshot::channel();
                let _ = opened_tx.send(rx);
                async move { Ok(Forever(DropGuard(Some(tx)))) }
            },
        );
    (router, opened_rx)
}

#[tokio::test]
async fn opening_messages_and_clean_end_frame_by_frame_in_process() {
    let response = count_router().oneshot(request(r#"{"n":2}"#)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        Some("application/x-ndjson")
    );
    assert_eq!(header(&response, "cache-control"), Some("no-store"));
    assert_eq!(header(&response, "connection"), Some("keep-alive"));
    assert_eq!(header(&response, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&response, "webrpc"), Some(WEBRPC));
    assert!(response.headers().get("content-length").is_none());
    assert!(response.body().is_stream());
    assert_eq!(
        frames(response.into_body()).await,
        vec![
            Bytes::from_static(b"\n"),
            Bytes::from_static(b"{\"tick\":{\"n\":0}}\n"),
            Bytes::from_static(b"{\"tick\":{\"n\":1}}\n"),
        ]
    );
}

#[tokio::test]
async fn http2_opening_has_no_connection_header() {
    let mut req = request(r#"{"n":0}"#);
    *req.version_mut() = http::Version::HTTP_2;
    let response = count_router().oneshot(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().get("connection").is_none());
    assert_eq!(
        header(&response, "content-type"),
        Some("application/x-ndjson")
    );
    assert_eq!(
        frames(response.into_body()).await,
        vec![Bytes::from_static(b"\n")]
    );
}

#[tokio::test]
async fn mid_stream_error_is_the_last_line_with_the_envelope_key_order() {
    let response = count_router()
        .oneshot(request(r#"{"n":5,"failAfter":1}"#))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        frames(response.into_body()).await,
        vec![
            Bytes::from_static(b"\n"),
            Bytes::from_static(b"{\"tick\":{\"n\":0}}\n"),
            Bytes::from_static(
                b"{\"webrpcError\":{\"error\":\"WebrpcInternalError\",\"code\":-7,\"msg\":\"internal error\",\"cause\":\"db down\",\"status\":500}}\n"
            ),
        ]
    );
}

#[tokio::test]
async fn handler_error_before_any_message_travels_in_stream_with_status_200() {
    let router = Router::new().route_stream::<Count, _, _, BoxStream, _>(
        Count,
        |_ctx: RequestContext, _req: CountRequest| async {
            Err::<BoxStream, _>(ChatError::EmptyUsername.err())
        },
    );
    let response = router.oneshot(request("{}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "content-type"),
        Some("application/x-ndjson")
    );
    assert_eq!(
        frames(response.into_body()).await,
        vec![
            Bytes::from_static(b"\n"),
            Bytes::from_static(
                b"{\"webrpcError\":{\"error\":\"EmptyUsername\",\"code\":100,\"msg\":\"Username must be provided.\",\"status\":400}}\n"
            ),
        ]
    );
}

#[tokio::test]
async fn the_opening_ping_is_sent_before_the_handler_is_polled() {
    let polled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&polled);
    let router = Router::new().route_stream::<Count, _, _, BoxStream, WebrpcError>(
        Count,
        move |_ctx: RequestContext, _req: CountRequest| {
            let seen = Arc::clone(&seen);
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                Ok(Box::pin(stream::empty()) as BoxStream)
            }
        },
    );
    let response = router.oneshot(request("{}")).await.unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&first[..], b"\n");
    assert_eq!(
        polled.load(Ordering::SeqCst),
        0,
        "handler not run before the ping"
    );
    assert!(body.frame().await.is_none());
    assert_eq!(polled.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn deferred_route_rejects_with_an_ordinary_envelope_and_its_status() {
    let router = Router::new().route_stream_deferred::<Count, _, _, BoxStream, _>(
        Count,
        |_ctx: RequestContext, req: CountRequest| async move {
            if req.n == 0 {
                return Err(ChatError::EmptyUsername.err());
            }
            count(Default::default(), req).await
        },
    );
    let response = router.clone().oneshot(request(r#"{"n":0}"#)).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(&response, "content-type"), Some("application/json"));
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &body[..],
        br#"{"error":"EmptyUsername","code":100,"msg":"Username must be provided.","status":400}"#
    );

    let response = router.oneshot(request(r#"{"n":1}"#)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        frames(response.into_body()).await,
        vec![
            Bytes::from_static(b"\n"),
            Bytes::from_static(b"{\"tick\":{\"n\":0}}\n")
        ]
    );
}

#[tokio::test]
async fn failures_before_the_opening_are_ordinary_envelopes() {
    let router = count_router();
    let get = Request::get("/rpc/Test/Count")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = router.clone().oneshot(get).await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&response, "allow"), Some("POST"));
    assert!(!response.body().is_stream());

    let text = Request::post("/rpc/Test/Count")
        .header("content-type", "text/plain")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let response = router.clone().oneshot(text).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(header(&response, "content-type"), Some("application/json"));

    let response = router
        .clone()
        .oneshot(request(r#"{"n":"x"}"#))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let err: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(err["error"], "WebrpcBadRequest");
    assert!(err["cause"]
        .as_str()
        .unwrap()
        .starts_with("failed to unmarshal request data"));

    let response = router
        .oneshot(
            Request::post("/rpc/Test/Nope")
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(b"{}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_over_limit_body_and_a_layer_in_front_answer_before_the_opening() {
    let router = count_router().body_limit(8);
    let response = router
        .clone()
        .oneshot(request(r#"{"n":1,"failAfter":null}"#))
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(!response.body().is_stream());

    // An auth layer in front rejects with its own envelope; the stream never opens.
    let guarded = tower::service_fn(move |req: Request<Full<Bytes>>| {
        let router = router.clone();
        async move {
            if req.headers().get("authorization").is_none() {
                let err = WebrpcError::new("Unauthorized", 1000, "Unauthorized access", 401);
                let mut response =
                    Response::new(ResponseBody::full(webrpc_core::codec::encode_error(&err)));
                *response.status_mut() = StatusCode::UNAUTHORIZED;
                return Ok::<_, std::convert::Infallible>(response);
            }
            router.oneshot(req).await
        }
    });
    let response = guarded.clone().oneshot(request("{}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let mut authorized = request("{}");
    authorized
        .headers_mut()
        .insert("authorization", "Bearer x".parse().unwrap());
    let response = guarded.oneshot(authorized).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.body().is_stream());
}

#[tokio::test]
async fn a_panicking_stream_ends_with_server_panic_and_the_router_keeps_serving() {
    let router = Router::new().route_stream::<Count, _, _, _, WebrpcError>(
        Count,
        |_ctx: RequestContext, _req: CountRequest| async {
            Ok(stream::iter(0..3).map(|i| {
                if i == 1 {
                    panic!("boom in the stream");
                }
                Ok(tick(i))
            }))
        },
    );
    let response = router.clone().oneshot(request("{}")).await.unwrap();
    assert_eq!(
        frames(response.into_body()).await,
        vec![
            Bytes::from_static(b"\n"),
            Bytes::from_static(b"{\"tick\":{\"n\":0}}\n"),
            Bytes::from_static(
                b"{\"webrpcError\":{\"error\":\"WebrpcServerPanic\",\"code\":-6,\"msg\":\"server panic\",\"cause\":\"handler panicked\",\"status\":500}}\n"
            ),
        ]
    );
    // The same route serves the next call.
    let response = router.oneshot(request("{}")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_handler_panicking_before_its_stream_ends_with_server_panic_in_stream() {
    let router = Router::new().route_stream::<Count, _, _, BoxStream, WebrpcError>(
        Count,
        |_ctx: RequestContext, _req: CountRequest| async { panic!("boom before the stream") },
    );
    let response = router.oneshot(request("{}")).await.unwrap();
    let lines = frames(response.into_body()).await;
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with(b"{\"webrpcError\":{\"error\":\"WebrpcServerPanic\""));
}

#[tokio::test]
async fn an_error_that_is_not_a_webrpc_error_becomes_webrpc_endpoint() {
    let router = Router::new().route_stream::<Count, _, _, _, std::io::Error>(
        Count,
        |_ctx: RequestContext, _req: CountRequest| async {
            Ok(stream::iter([Err(std::io::Error::other("disk full"))]))
        },
    );
    let response = router.oneshot(request("{}")).await.unwrap();
    assert_eq!(
        frames(response.into_body()).await[1],
        Bytes::from_static(
            b"{\"webrpcError\":{\"error\":\"WebrpcEndpoint\",\"code\":0,\"msg\":\"endpoint error\",\"cause\":\"disk full\",\"status\":400}}\n"
        )
    );
}

#[tokio::test(start_paused = true)]
async fn a_ping_follows_every_keep_alive_interval() {
    let (router, _opened) = forever_router(Duration::from_secs(10));
    let response = router.oneshot(request("{}")).await.unwrap();
    let mut body = response.into_body();
    let start = tokio::time::Instant::now();
    for round in 0..3u32 {
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&frame[..], b"\n");
        // Paused time: the clock moves only to the next timer, so this is exact.
        assert_eq!(start.elapsed(), Duration::from_secs(10) * round);
    }
}

#[tokio::test(start_paused = true)]
async fn open_streams_hold_no_concurrency_slot_and_outlive_the_handler_timeout() {
    let (router, _opened) = forever_router(Duration::from_secs(10));
    let router = router
        .concurrency_limit(ConcurrencyLimit::new(1))
        .handler_timeout(Duration::from_millis(50));
    let first = router.clone().oneshot(request("{}")).await.unwrap();
    let second = router.oneshot(request("{}")).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK, "the first stream opened");
    assert_eq!(
        second.status(),
        StatusCode::OK,
        "so did the second, with a limit of one"
    );
    let mut body = second.into_body();
    assert_eq!(
        &body.frame().await.unwrap().unwrap().into_data().unwrap()[..],
        b"\n"
    );
    // Ten seconds later, far past the handler timeout, the stream is still up and pinging.
    assert_eq!(
        &body.frame().await.unwrap().unwrap().into_data().unwrap()[..],
        b"\n"
    );
    drop(first);
}

#[tokio::test]
async fn the_handler_sees_its_call_cancelled_when_the_body_is_dropped() {
    let seen: Arc<std::sync::Mutex<Option<CallHandle>>> = Arc::default();
    let slot = Arc::clone(&seen);
    let router = Router::new().route_stream::<Count, _, _, _, WebrpcError>(
        Count,
        move |ctx: RequestContext, _req: CountRequest| {
            *slot.lock().unwrap() = CallHandle::of(&ctx).cloned();
            async { Ok(stream::pending::<Result<CountMessage, WebrpcError>>()) }
        },
    );
    let response = router.oneshot(request("{}")).await.unwrap();
    let mut body = response.into_body();
    body.frame().await.unwrap().unwrap();
    // Poll once more so the handler runs (it does after the opening ping).
    let _ = tokio::time::timeout(Duration::from_millis(50), body.frame()).await;
    let call = seen
        .lock()
        .unwrap()
        .clone()
        .expect("the handler got a call handle");
    assert!(!call.is_cancelled());
    drop(body);
    assert!(call.is_cancelled());
}

#[tokio::test]
async fn a_sender_feeds_the_stream_and_learns_when_the_client_is_gone() {
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<usize>();
    let done_tx = Arc::new(std::sync::Mutex::new(Some(done_tx)));
    let router = Router::new().route_stream::<Count, _, _, _, WebrpcError>(
        Count,
        move |_ctx: RequestContext, req: CountRequest| {
            let (tx, rx) = channel::<CountMessage>(2);
            let done_tx = Arc::clone(&done_tx);
            tokio::spawn(async move {
                let mut sent = 0;
                for i in 0.. {
                    if tx.send(tick(i)).await.is_err() {
                        break;
                    }
                    sent += 1;
                    if i + 1 == req.n {
                        let _ = tx.clone().fail(ChatError::EmptyUsername.err()).await;
                    }
                }
                if let Some(done) = done_tx.lock().unwrap().take() {
                    let _ = done.send(sent);
                }
            });
            async move { Ok(rx) }
        },
    );
    let response = router.oneshot(request(r#"{"n":2}"#)).await.unwrap();
    let mut body = response.into_body();
    let mut lines = Vec::new();
    for _ in 0..4 {
        lines.push(body.frame().await.unwrap().unwrap().into_data().unwrap());
    }
    assert_eq!(&lines[1][..], b"{\"tick\":{\"n\":0}}\n");
    assert_eq!(&lines[2][..], b"{\"tick\":{\"n\":1}}\n");
    assert!(lines[3].starts_with(b"{\"webrpcError\":{\"error\":\"EmptyUsername\""));
    assert!(body.frame().await.is_none());
    drop(body);
    // The body ended: the receiver is dropped, the producer's next send fails.
    let sent = tokio::time::timeout(Duration::from_secs(10), done_rx)
        .await
        .expect("the producer stops")
        .unwrap();
    assert!(sent >= 2);
}

// ---- over loopback -------------------------------------------------------------------

struct Running {
    addr: std::net::SocketAddr,
    handle: ServerHandle,
}

async fn start(router: Router, server: Server) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(listener, router).with_options(server).spawn();
    Running {
        addr: handle.local_addr(),
        handle,
    }
}

fn raw_request(body: &str) -> String {
    format!(
        "POST /rpc/Test/Count HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Reads until `needle` has been received (or the peer closes); bounded.
async fn read_until(conn: &mut TcpStream, buf: &mut Vec<u8>, needle: &[u8]) {
    let mut chunk = [0u8; 4096];
    for _ in 0..10_000 {
        if buf.windows(needle.len()).any(|w| w == needle) {
            return;
        }
        let n = tokio::time::timeout(Duration::from_secs(10), conn.read(&mut chunk))
            .await
            .expect("the server answers")
            .unwrap();
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn split_head(raw: &[u8]) -> (String, &[u8]) {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a full head")
        + 4;
    (String::from_utf8(raw[..end].to_vec()).unwrap(), &raw[end..])
}

#[tokio::test]
async fn http1_wire_bytes_of_a_stream_with_messages_and_a_clean_end() {
    let server = start(count_router(), Server::new()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(raw_request(r#"{"n":2}"#).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    read_until(&mut conn, &mut raw, b"0\r\n\r\n").await;
    let (head, body) = split_head(&raw);
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("HTTP/1.1 200 OK"));
    let mut headers: Vec<String> = lines
        .filter(|l| !l.is_empty() && !l.starts_with("date:"))
        .map(str::to_owned)
        .collect();
    headers.sort();
    assert_eq!(
        headers,
        vec![
            "cache-control: no-store".to_owned(),
            "connection: keep-alive".to_owned(),
            "content-type: application/x-ndjson".to_owned(),
            "transfer-encoding: chunked".to_owned(),
            format!("webrpc: {WEBRPC}"),
            "x-content-type-options: nosniff".to_owned(),
        ]
    );
    // One chunk per line: the ping, each message, then the terminating chunk.
    assert_eq!(
        body,
        b"1\r\n\n\r\n11\r\n{\"tick\":{\"n\":0}}\n\r\n11\r\n{\"tick\":{\"n\":1}}\n\r\n0\r\n\r\n"
    );
}

#[tokio::test]
async fn http1_wire_bytes_of_a_mid_stream_error() {
    let server = start(count_router(), Server::new()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(raw_request(r#"{"n":3,"failAfter":1}"#).as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    read_until(&mut conn, &mut raw, b"\r\n0\r\n\r\n").await;
    let (head, body) = split_head(&raw);
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"));
    let line = b"{\"webrpcError\":{\"error\":\"WebrpcInternalError\",\"code\":-7,\"msg\":\"internal error\",\"cause\":\"db down\",\"status\":500}}\n";
    let mut expected = b"1\r\n\n\r\n11\r\n{\"tick\":{\"n\":0}}\n\r\n".to_vec();
    expected.extend_from_slice(format!("{:x}\r\n", line.len()).as_bytes());
    expected.extend_from_slice(line);
    expected.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(body, &expected[..]);
}

#[tokio::test]
async fn http1_before_the_opening_a_bad_request_is_an_envelope_with_content_length() {
    let server = start(count_router(), Server::new()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(raw_request("{oops").as_bytes())
        .await
        .unwrap();
    let mut raw = Vec::new();
    read_until(&mut conn, &mut raw, b"}").await;
    let (head, _) = split_head(&raw);
    assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{head}");
    assert!(head.contains("content-type: application/json\r\n"));
    assert!(head.contains("content-length: "));
}

/// An h2c client (prior knowledge) on the server's port.
fn h2_client() -> webrpc_client::HttpTransport {
    webrpc_client::HttpTransport::with_options(&webrpc_client::TransportOptions {
        http2_prior_knowledge: true,
        ..Default::default()
    })
}

fn h2_request(addr: std::net::SocketAddr, body: &str) -> Request<Full<Bytes>> {
    Request::post(format!("http://{addr}/rpc/Test/Count"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

#[tokio::test]
async fn h2c_stream_has_the_same_lines_and_no_connection_header() {
    let server = start(count_router(), Server::new()).await;
    let response = h2_client()
        .oneshot(h2_request(server.addr, r#"{"n":3,"failAfter":2}"#))
        .await
        .unwrap();
    assert_eq!(response.version(), http::Version::HTTP_2);
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "application/x-ndjson");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["webrpc"], WEBRPC);
    assert!(headers.get("connection").is_none());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        &body[..],
        &b"\n{\"tick\":{\"n\":0}}\n{\"tick\":{\"n\":1}}\n{\"webrpcError\":{\"error\":\"WebrpcInternalError\",\"code\":-7,\"msg\":\"internal error\",\"cause\":\"db down\",\"status\":500}}\n"[..]
    );
}

#[tokio::test]
async fn http1_client_closing_the_connection_drops_the_handler_stream_at_once() {
    // Pings an hour apart: the server cannot learn of the close by failing to write one.
    let (router, mut opened) = forever_router(Duration::from_secs(3600));
    let server = start(router, Server::new()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(raw_request("{}").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    read_until(&mut conn, &mut raw, b"1\r\n\n\r\n").await;
    let dropped = opened.recv().await.unwrap();
    drop(conn);
    tokio::time::timeout(Duration::from_secs(1), dropped)
        .await
        .expect("handler stream dropped within a second of the close")
        .unwrap();
}

#[tokio::test]
async fn h2_client_resetting_the_stream_drops_the_handler_stream_at_once() {
    let (router, mut opened) = forever_router(Duration::from_secs(3600));
    let server = start(router, Server::new()).await;
    let client = h2_client();
    let response = client
        .clone()
        .oneshot(h2_request(server.addr, "{}"))
        .await
        .unwrap();
    let mut body = response.into_body();
    let ping = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(&ping[..], b"\n");
    let dropped = opened.recv().await.unwrap();
    // Dropping the body resets the HTTP/2 stream (the connection stays up).
    drop(body);
    tokio::time::timeout(Duration::from_secs(1), dropped)
        .await
        .expect("handler stream dropped within a second of the reset")
        .unwrap();
}

/// A stream producing messages as fast as it is polled, counting them.
fn firehose_router(produced: Arc<AtomicUsize>) -> Router {
    Router::new().route_stream::<Count, _, _, _, WebrpcError>(
        Count,
        move |_ctx: RequestContext, _req: CountRequest| {
            let produced = Arc::clone(&produced);
            async move {
                Ok(stream::repeat(()).map(move |()| {
                    let n = produced.fetch_add(1, Ordering::Relaxed) as u32;
                    Ok(tick(n))
                }))
            }
        },
    )
}

/// Waits until `counter` stops moving (five equal readings 100 ms apart, at most 30 s): a
/// producer without backpressure never stops, and this panics.
async fn settle(counter: &AtomicUsize) -> usize {
    let mut last = usize::MAX;
    let mut same = 0;
    for _ in 0..300 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = counter.load(Ordering::Relaxed);
        if now == last {
            same += 1;
            if same == 5 {
                return now;
            }
        } else {
            same = 0;
            last = now;
        }
    }
    panic!(
        "the producer never stopped: {} messages",
        counter.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn a_client_that_does_not_read_holds_the_producer_back_over_http1() {
    let produced = Arc::new(AtomicUsize::new(0));
    let server = start(firehose_router(Arc::clone(&produced)), Server::new()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(raw_request("{}").as_bytes()).await.unwrap();
    // Read the head, then stop reading.
    let mut raw = Vec::new();
    read_until(&mut conn, &mut raw, b"\r\n\r\n").await;
    let held = settle(&produced).await;
    eprintln!("HTTP/1.1: a client reading nothing holds the producer at {held} messages");
    // It stopped (`settle`); and what it produced (lines of ~18 bytes) is what the socket
    // buffers and hyper's write buffer hold, a few MiB at most.
    assert!(held > 0);
    assert!(
        held < 1_000_000,
        "{held} messages produced for a client that reads nothing"
    );
    // Reading again lets it go on.
    let mut chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        let _ = conn.read(&mut chunk).await.unwrap();
    }
    let later = settle_until_above(&produced, held).await;
    assert!(later > held);
}

async fn settle_until_above(counter: &AtomicUsize, floor: usize) -> usize {
    for _ in 0..300 {
        let now = counter.load(Ordering::Relaxed);
        if now > floor {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    counter.load(Ordering::Relaxed)
}

#[tokio::test]
async fn a_client_that_does_not_read_holds_the_producer_back_over_h2c() {
    let produced = Arc::new(AtomicUsize::new(0));
    let server = start(firehose_router(Arc::clone(&produced)), Server::new()).await;
    let response = h2_client()
        .oneshot(h2_request(server.addr, "{}"))
        .await
        .unwrap();
    let held = settle(&produced).await;
    eprintln!("h2c: a client reading nothing holds the producer at {held} messages");
    // HTTP/2 flow control: the producer stops within the stream's window.
    assert!(held > 0);
    assert!(
        held < 1_000_000,
        "{held} messages produced for a client that reads nothing"
    );
    drop(response);
}

#[tokio::test]
async fn shutdown_ends_open_streams_with_stream_lost_well_before_the_deadline() {
    let (router, mut opened) = forever_router(Duration::from_secs(3600));
    let server = start(
        router,
        Server::new().shutdown_timeout(Some(Duration::from_secs(3600))),
    )
    .await;
    // One stream over HTTP/1.1, one over h2c.
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(raw_request("{}").as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    read_until(&mut conn, &mut raw, b"1\r\n\n\r\n").await;
    let h2 = h2_client()
        .oneshot(h2_request(server.addr, "{}"))
        .await
        .unwrap();
    let dropped_1 = opened.recv().await.unwrap();
    let dropped_2 = opened.recv().await.unwrap();

    let stopped = tokio::spawn(server.handle.shutdown());
    let line = b"{\"webrpcError\":{\"error\":\"WebrpcStreamLost\",\"code\":-9,\"msg\":\"stream lost\",\"cause\":\"server shutting down\",\"status\":400}}\n";
    read_until(&mut conn, &mut raw, b"\r\n0\r\n\r\n").await;
    let (_, body) = split_head(&raw);
    let mut expected = b"1\r\n\n\r\n".to_vec();
    expected.extend_from_slice(format!("{:x}\r\n", line.len()).as_bytes());
    expected.extend_from_slice(line);
    expected.extend_from_slice(b"\r\n0\r\n\r\n");
    assert_eq!(body, &expected[..]);

    let h2_body = tokio::time::timeout(Duration::from_secs(10), h2.into_body().collect())
        .await
        .expect("the h2 stream ends")
        .unwrap()
        .to_bytes();
    let mut expected = b"\n".to_vec();
    expected.extend_from_slice(line);
    assert_eq!(&h2_body[..], &expected[..]);

    tokio::time::timeout(Duration::from_secs(10), dropped_1)
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), dropped_2)
        .await
        .unwrap()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the server stops long before its hour-long shutdown deadline")
        .unwrap()
        .unwrap();
}

#[test]
fn the_router_body_and_future_are_send() {
    fn body_is_send<B: Body + Send + 'static>() {}
    fn future_is_send<F: Future + Send>(_: &F) {}
    body_is_send::<ResponseBody>();
    future_is_send(&async { count_router().oneshot(request("{}")).await });
}
