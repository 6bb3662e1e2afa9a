//! Stream methods on the client: every way a stream ends (finished, error line, lost,
//! reset, truncated line, inactivity, cancelled, dropped), bounded lines, errors before the
//! opening, and one service trait served and called through `Caller`/`Routes`, in process
//! and over loopback (HTTP/1.1 and h2c).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{stream, StreamExt};
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use webrpc_client::{CallOptions, Client, TransportOptions};
use webrpc_core::stream::StreamMethod;
use webrpc_core::{
    error_catalogue, BuiltinError, Caller, MessageStream, RequestContext, Routes, StreamFuture,
    WebrpcError,
};
use webrpc_server::{serve, Router, ServerHandle};

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
    #[serde(default)]
    n: u32,
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

fn tick(n: u32) -> CountMessage {
    CountMessage { tick: Tick { n } }
}

fn ticks(stream: &[Result<CountMessage, WebrpcError>]) -> Vec<u32> {
    stream
        .iter()
        .filter_map(|item| item.as_ref().ok().map(|m| m.tick.n))
        .collect()
}

// ---- a body fed by the test ----------------------------------------------------------

/// A response body whose frames the test sends; reports when it is dropped.
struct FedBody {
    rx: mpsc::UnboundedReceiver<Result<Bytes, std::io::Error>>,
    dropped: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for FedBody {
    fn drop(&mut self) {
        if let Some(tx) = self.dropped.take() {
            let _ = tx.send(());
        }
    }
}

impl Body for FedBody {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.rx
            .poll_recv(cx)
            .map(|item| item.map(|r| r.map(Frame::data)))
    }
}

type Feed = mpsc::UnboundedSender<Result<Bytes, std::io::Error>>;

/// A client whose one call gets a 200 ndjson answer with the fed body.
type FedService =
    tower::util::BoxCloneSyncService<Request<Full<Bytes>>, Response<FedBody>, Infallible>;

fn fed_client(
    builder: webrpc_client::ClientBuilder,
) -> (Client<FedService>, Feed, tokio::sync::oneshot::Receiver<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let (dropped_tx, dropped_rx) = tokio::sync::oneshot::channel();
    let body = Arc::new(Mutex::new(Some(FedBody {
        rx,
        dropped: Some(dropped_tx),
    })));
    let service = tower::service_fn(move |_req: Request<Full<Bytes>>| {
        let body = body.lock().unwrap().take().expect("one call");
        async move {
            Ok::<_, Infallible>(
                Response::builder()
                    .header("content-type", "application/x-ndjson")
                    .body(body)
                    .unwrap(),
            )
        }
    });
    (
        builder.build_with(FedService::new(service)).unwrap(),
        tx,
        dropped_rx,
    )
}

fn feed(tx: &Feed, bytes: &'static [u8]) {
    tx.send(Ok(Bytes::from_static(bytes))).unwrap();
}

async fn drain<T>(mut stream: MessageStream<T>) -> Vec<Result<T, WebrpcError>> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        match stream.next().await {
            Some(item) => out.push(item),
            None => return out,
        }
    }
    panic!("the stream did not end");
}

#[tokio::test]
async fn pings_are_skipped_lines_split_anywhere_and_a_clean_end_is_none() {
    let (client, tx, _) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n");
    feed(&tx, b"{\"tick\":{\"n\":0}}\n{\"ti");
    feed(&tx, b"ck\":{\"n\":1}}");
    feed(&tx, b"\n\n\n{\"tick\":{\"n\":2}}\n");
    drop(tx);
    let stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    let items = drain(stream).await;
    assert_eq!(items.len(), 3);
    assert_eq!(ticks(&items), vec![0, 1, 2]);
}

#[tokio::test]
async fn an_error_line_is_that_typed_error_then_the_end() {
    let (client, tx, dropped) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n{\"tick\":{\"n\":0}}\n");
    feed(&tx, b"{\"webrpcError\":{\"error\":\"EmptyUsername\",\"code\":100,\"msg\":\"Username must be provided.\",\"status\":400}}\n");
    // Whatever follows is not read.
    feed(&tx, b"{\"tick\":{\"n\":1}}\n");
    let items = drain(
        client
            .call_stream::<Count>(&CountRequest::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(items.len(), 2);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.kind::<ChatError>(), Some(ChatError::EmptyUsername));
    assert_eq!(
        (err.msg(), err.status()),
        ("Username must be provided.", 400)
    );
    // The body was dropped with the error, though the sender is still up.
    dropped.await.unwrap();
    drop(tx);
}

#[tokio::test]
async fn a_body_ending_inside_a_line_is_stream_lost() {
    let (client, tx, _) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n{\"tick\":{\"n\":0}}\n{\"tick\":{\"n\"");
    drop(tx);
    let items = drain(
        client
            .call_stream::<Count>(&CountRequest::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ticks(&items), vec![0]);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcStreamLost)
    );
    assert!(
        err.cause().unwrap().starts_with("stream truncated"),
        "{err}"
    );
}

#[tokio::test]
async fn a_body_read_error_is_stream_lost() {
    let (client, tx, _) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n{\"tick\":{\"n\":0}}\n");
    tx.send(Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    )))
    .unwrap();
    let items = drain(
        client
            .call_stream::<Count>(&CountRequest::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(items.len(), 2);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.code(), -9);
    assert_eq!(
        err.cause(),
        Some("failed to read stream: connection reset by peer")
    );
}

#[tokio::test]
async fn a_line_that_is_not_json_is_bad_response_then_the_end() {
    let (client, tx, _) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n<html>proxy error</html>\n{\"tick\":{\"n\":0}}\n");
    let items = drain(
        client
            .call_stream::<Count>(&CountRequest::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap_err().code(), -5);
    drop(tx);
}

#[tokio::test]
async fn a_line_longer_than_the_response_limit_is_bad_response_and_memory_stays_bounded() {
    let (client, tx, _) = fed_client(Client::builder("http://test").response_limit(64));
    feed(&tx, b"\n{\"tick\":{\"n\":0}}\n");
    // A line that never ends: the reader gives up past the limit instead of buffering it.
    for _ in 0..100 {
        feed(&tx, b"xxxxxxxxxxxxxxxx");
    }
    let items = drain(
        client
            .call_stream::<Count>(&CountRequest::default())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ticks(&items), vec![0]);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.code(), -5);
    assert_eq!(
        err.cause(),
        Some("stream message exceeds the limit of 64 bytes")
    );
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn silence_past_the_inactivity_timeout_is_stream_lost() {
    let (client, tx, _) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n");
    let mut stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), -9);
    assert_eq!(err.cause(), Some("no data or ping received within 11s"));
    // Paused time: the clock jumped straight to the deadline.
    assert_eq!(start.elapsed(), Duration::from_secs(11));
    assert!(stream.next().await.is_none());
    drop(tx);
}

#[tokio::test(start_paused = true)]
async fn pings_keep_a_quiet_stream_alive() {
    let (client, tx, _) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n");
    let mut stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    let start = tokio::time::Instant::now();
    tokio::spawn(async move {
        for _ in 0..4 {
            tokio::time::sleep(Duration::from_secs(10)).await;
            feed(&tx, b"\n");
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        feed(&tx, b"{\"tick\":{\"n\":7}}\n");
        // Then nothing, with the body still open.
        std::future::pending::<()>().await;
    });
    assert_eq!(stream.next().await.unwrap().unwrap(), tick(7));
    assert_eq!(start.elapsed(), Duration::from_secs(45));
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), -9);
    assert_eq!(start.elapsed(), Duration::from_secs(56));
}

#[tokio::test(start_paused = true)]
async fn no_inactivity_timeout_waits_for_ever() {
    let (client, tx, _) =
        fed_client(Client::builder("http://test").stream_inactivity_timeout(None));
    feed(&tx, b"\n");
    let mut stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        feed(&tx, b"{\"tick\":{\"n\":1}}\n");
    });
    assert_eq!(stream.next().await.unwrap().unwrap(), tick(1));
}

#[tokio::test]
async fn the_cancellation_signal_ends_the_stream_with_client_aborted() {
    let (client, tx, dropped) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n{\"tick\":{\"n\":0}}\n");
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let options = CallOptions::new().cancel_on(async {
        let _ = cancelled.await;
    });
    let mut stream = client
        .call_stream_with::<Count>(&CountRequest::default(), options)
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), tick(0));
    cancel.send(()).unwrap();
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcClientDisconnected)
    );
    assert_eq!(err.cause(), Some("request cancelled by the caller"));
    assert!(stream.next().await.is_none());
    dropped.await.unwrap();
    drop(tx);
}

#[tokio::test]
async fn dropping_the_stream_drops_the_body() {
    let (client, tx, dropped) = fed_client(Client::builder("http://test"));
    feed(&tx, b"\n");
    let stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    drop(stream);
    dropped.await.unwrap();
    drop(tx);
}

#[tokio::test]
async fn a_non_success_answer_before_the_opening_is_the_envelope_error() {
    let service = tower::service_fn(|_req: Request<Full<Bytes>>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .status(401)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(
                    br#"{"error":"Unauthorized","code":1000,"msg":"Unauthorized access","cause":"no token","status":401}"#,
                )))
                .unwrap(),
        )
    });
    let client = Client::builder("http://test").build_with(service).unwrap();
    let err = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("Unauthorized", 1000, 401)
    );
    assert_eq!(err.cause(), Some("no token"));
}

#[tokio::test(start_paused = true)]
async fn the_call_timeout_bounds_the_wait_for_the_opening_only() {
    let service = tower::service_fn(|_req: Request<Full<Bytes>>| async {
        std::future::pending::<Result<Response<Full<Bytes>>, Infallible>>().await
    });
    let client = Client::builder("http://test")
        .timeout(Some(Duration::from_secs(5)))
        .build_with(service)
        .unwrap();
    let err = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");

    // Once open, the stream outlives the call timeout.
    let (client, tx, _) =
        fed_client(Client::builder("http://test").timeout(Some(Duration::from_secs(5))));
    feed(&tx, b"\n");
    let mut stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(8)).await;
        feed(&tx, b"{\"tick\":{\"n\":3}}\n");
        std::future::pending::<()>().await;
    });
    assert_eq!(stream.next().await.unwrap().unwrap(), tick(3));
}

// ---- loopback, against hand-written servers ------------------------------------------

/// How the hand-written server ends its connection.
#[derive(Clone, Copy)]
enum End {
    Close,
    Reset,
}

/// A one-shot HTTP/1.1 server that answers with `response` and then ends as told.
async fn raw_server(response: &'static [u8], end: End) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut chunk = [0u8; 1024];
        while !request.ends_with(b"}") {
            let n = conn.read(&mut chunk).await.unwrap();
            if n == 0 {
                return;
            }
            request.extend_from_slice(&chunk[..n]);
        }
        conn.write_all(response).await.unwrap();
        conn.flush().await.unwrap();
        if let End::Reset = end {
            #[allow(deprecated)]
            conn.set_linger(Some(Duration::ZERO)).unwrap();
        }
        drop(conn);
    });
    addr
}

const HEAD: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\ntransfer-encoding: chunked\r\n\r\n";

async fn loopback_items(
    response: &'static [u8],
    end: End,
) -> Vec<Result<CountMessage, WebrpcError>> {
    let addr = raw_server(response, end).await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    drain(
        client
            .call_stream::<Count>(&CountRequest::default())
            .await
            .unwrap(),
    )
    .await
}

fn leak(parts: &[&str]) -> &'static [u8] {
    Box::leak(parts.concat().into_bytes().into_boxed_slice())
}

#[tokio::test]
async fn loopback_truncated_last_line_is_stream_lost() {
    let items = loopback_items(
        leak(&[
            HEAD,
            "1\r\n\n\r\n11\r\n{\"tick\":{\"n\":0}}\n\r\n7\r\n{\"tick\"\r\n0\r\n\r\n",
        ]),
        End::Close,
    )
    .await;
    assert_eq!(ticks(&items), vec![0]);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.code(), -9);
    assert!(
        err.cause().unwrap().starts_with("stream truncated"),
        "{err}"
    );
}

#[tokio::test]
async fn loopback_connection_closed_mid_body_is_stream_lost() {
    let items = loopback_items(
        leak(&[HEAD, "1\r\n\n\r\n11\r\n{\"tick\":{\"n\":0}}\n\r\n"]),
        End::Close,
    )
    .await;
    assert_eq!(ticks(&items), vec![0]);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!(err.code(), -9);
    assert!(
        err.cause().unwrap().starts_with("failed to read stream"),
        "{err}"
    );
}

#[tokio::test]
async fn loopback_connection_reset_mid_body_is_stream_lost() {
    let items = loopback_items(leak(&[HEAD, "1\r\n\n\r\n"]), End::Reset).await;
    assert_eq!(items.len(), 1);
    let err = items[0].as_ref().unwrap_err();
    assert_eq!(err.code(), -9);
    assert!(
        err.cause().unwrap().starts_with("failed to read stream"),
        "{err}"
    );
}

#[tokio::test]
async fn loopback_clean_end_after_a_complete_line_is_none() {
    let items = loopback_items(
        leak(&[HEAD, "1\r\n\n\r\n11\r\n{\"tick\":{\"n\":0}}\n\r\n0\r\n\r\n"]),
        End::Close,
    )
    .await;
    assert_eq!(items.len(), 1);
    assert_eq!(ticks(&items), vec![0]);
}

// ---- one service trait, served and called --------------------------------------------

/// A service trait with a stream method, written as the generator writes one.
trait Counter: Send + Sync + 'static {
    type Ctx: Default + Send + 'static;

    fn count(&self, ctx: Self::Ctx, request: CountRequest) -> impl StreamFuture<CountMessage>;
}

/// The client side: any `Caller`.
struct CounterClient<C>(C);

impl<C: Caller> Counter for CounterClient<C> {
    type Ctx = C::Options;

    fn count(&self, ctx: C::Options, request: CountRequest) -> impl StreamFuture<CountMessage> {
        self.0.call_stream::<Count>(ctx, request)
    }
}

/// The mount function: any `Routes`.
fn mount_counter<R: Routes, T: Counter<Ctx = RequestContext>>(service: Arc<T>, routes: R) -> R {
    routes.add_stream_route::<Count, _, _, _>(move |ctx, request| {
        let service = Arc::clone(&service);
        async move { service.count(ctx, request).await }
    })
}

/// The implementation: the chat's rule (an error for a bad request) and a stream.
struct Counting;

impl Counter for Counting {
    type Ctx = RequestContext;

    async fn count(
        &self,
        _ctx: RequestContext,
        request: CountRequest,
    ) -> Result<MessageStream<CountMessage>, WebrpcError> {
        if request.n == 0 {
            return Err(ChatError::EmptyUsername.err());
        }
        let fail_after = request.fail_after;
        Ok(MessageStream::new(stream::iter(0..request.n).map(
            move |i| match fail_after {
                Some(after) if i >= after => {
                    Err(BuiltinError::WebrpcInternalError.with_cause("db down"))
                }
                _ => Ok(tick(i)),
            },
        )))
    }
}

async fn exercise<C: Counter>(counter: &C) {
    let items = drain(
        counter
            .count(
                Default::default(),
                CountRequest {
                    n: 3,
                    fail_after: None,
                },
            )
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ticks(&items), vec![0, 1, 2]);
    assert_eq!(items.len(), 3);

    let items = drain(
        counter
            .count(
                Default::default(),
                CountRequest {
                    n: 3,
                    fail_after: Some(1),
                },
            )
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ticks(&items), vec![0]);
    let err = items[1].as_ref().unwrap_err();
    assert_eq!((err.code(), err.cause()), (-7, Some("db down")));
}

/// The handler's early error: returned directly in process, sent in the stream (with 200)
/// by the router, as gen-golang does.
async fn early_error<C: Counter>(counter: &C) -> WebrpcError {
    match counter
        .count(Default::default(), CountRequest::default())
        .await
    {
        Err(err) => err,
        Ok(stream) => {
            let items = drain(stream).await;
            assert_eq!(items.len(), 1);
            items.into_iter().next().unwrap().unwrap_err()
        }
    }
}

#[tokio::test]
async fn one_trait_in_process_without_a_socket() {
    exercise(&Counting).await;
    let router = mount_counter(Arc::new(Counting), Router::new());
    let client = CounterClient(
        Client::builder("http://in-process")
            .build_with(router)
            .unwrap(),
    );
    exercise(&client).await;
    assert_eq!(
        early_error(&Counting).await.kind::<ChatError>(),
        Some(ChatError::EmptyUsername)
    );
    assert_eq!(
        early_error(&client).await.kind::<ChatError>(),
        Some(ChatError::EmptyUsername)
    );
}

async fn serve_counter() -> (SocketAddr, ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let router = mount_counter(Arc::new(Counting), Router::new());
    let server = serve(listener, router).spawn();
    (server.local_addr(), server)
}

#[tokio::test]
async fn one_trait_over_loopback_http1_and_h2c() {
    let (addr, _stop) = serve_counter().await;
    let h1 = CounterClient(Client::new(&format!("http://{addr}")).unwrap());
    exercise(&h1).await;
    assert_eq!(
        early_error(&h1).await.kind::<ChatError>(),
        Some(ChatError::EmptyUsername)
    );
    let h2 = CounterClient(
        Client::builder(&format!("http://{addr}"))
            .transport_options(TransportOptions {
                http2_prior_knowledge: true,
                ..Default::default()
            })
            .build()
            .unwrap(),
    );
    exercise(&h2).await;
    assert_eq!(
        early_error(&h2).await.kind::<ChatError>(),
        Some(ChatError::EmptyUsername)
    );
}

#[tokio::test]
async fn server_shutdown_reaches_the_client_as_stream_lost() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = Router::new().route_stream::<Count, _, _, _, WebrpcError>(
        Count,
        |_ctx: RequestContext, _req: CountRequest| async {
            Ok(stream::iter([Ok(tick(0))]).chain(stream::pending()))
        },
    );
    let server = serve(listener, router).spawn();
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let mut stream = client
        .call_stream::<Count>(&CountRequest::default())
        .await
        .unwrap();
    assert_eq!(stream.next().await.unwrap().unwrap(), tick(0));
    let stopped = tokio::spawn(server.shutdown());
    let err = stream.next().await.unwrap().unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcStreamLost)
    );
    assert_eq!(err.cause(), Some("server shutting down"));
    assert!(stream.next().await.is_none());
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}
