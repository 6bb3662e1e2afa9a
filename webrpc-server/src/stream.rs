//! Serving stream methods: the response body of the router (a whole JSON answer, or an
//! ndjson stream pulled from the handler as hyper polls it), a bounded channel to feed a
//! stream from a task, and the shutdown signal that ends open streams.
//!
//! See [`Router::route_stream`](crate::Router::route_stream) for the wire behaviour.

use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::header::{HeaderValue, CACHE_CONTROL, CONNECTION, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use http::{Request, Response, Version};
use http_body::{Body, Frame, SizeHint};
use http_body_util::Full;
use tokio::sync::{mpsc, watch};
use webrpc_core::codec;
use webrpc_core::stream::{encode_error_line, encode_message_with_capacity, StreamMethod, PING};
use webrpc_core::{BuiltinError, MethodInfo, RequestContext, WebrpcError};

use crate::call::CallHandle;
use crate::router::{into_webrpc_error, panic_message, BoxError, BoxFuture, ErasedHandler, Reply};

static NDJSON: HeaderValue = HeaderValue::from_static(webrpc_core::stream::NDJSON_CONTENT_TYPE);
static NO_STORE: HeaderValue = HeaderValue::from_static("no-store");
static KEEP_ALIVE: HeaderValue = HeaderValue::from_static("keep-alive");
static NOSNIFF: HeaderValue = HeaderValue::from_static("nosniff");

/// The response body of a [`Router`](crate::Router): a whole answer (an envelope or a JSON
/// response object, with its exact length) or an open stream.
///
/// A stream body is lazy: the handler's stream is polled only when the server polls the body
/// for its next frame, and each message is one frame (so each is written and flushed as soon
/// as it is produced). A client that reads slowly stops the polling, and with it the
/// handler; a body that is dropped (the client went away) drops the handler's stream.
pub struct ResponseBody {
    kind: Kind,
}

enum Kind {
    Full(Full<Bytes>),
    Stream(Box<StreamBody>),
}

impl ResponseBody {
    /// A body of these bytes.
    pub fn full(bytes: Bytes) -> Self {
        ResponseBody {
            kind: Kind::Full(Full::new(bytes)),
        }
    }

    /// An empty body.
    pub fn empty() -> Self {
        ResponseBody {
            kind: Kind::Full(Full::default()),
        }
    }

    /// Whether this body is an open stream.
    pub fn is_stream(&self) -> bool {
        matches!(self.kind, Kind::Stream(_))
    }
}

impl From<Bytes> for ResponseBody {
    fn from(bytes: Bytes) -> Self {
        ResponseBody::full(bytes)
    }
}

/// An empty body, as [`ResponseBody::empty`] (tower-http's CORS layer answers preflights
/// with the default body).
impl Default for ResponseBody {
    fn default() -> Self {
        ResponseBody::empty()
    }
}

impl From<Full<Bytes>> for ResponseBody {
    fn from(body: Full<Bytes>) -> Self {
        ResponseBody {
            kind: Kind::Full(body),
        }
    }
}

impl std::fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            Kind::Full(body) => f
                .debug_struct("ResponseBody")
                .field("len", &body.size_hint().exact())
                .finish(),
            Kind::Stream(body) => f
                .debug_struct("ResponseBody")
                .field("stream", &body.info)
                .finish_non_exhaustive(),
        }
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match &mut self.get_mut().kind {
            Kind::Full(body) => Pin::new(body).poll_frame(cx),
            Kind::Stream(body) => body.poll_frame(cx).map(|frame| frame.map(Ok)),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Full(body) => body.is_end_stream(),
            Kind::Stream(body) => body.state.is_none() && body.opened,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Full(body) => body.size_hint(),
            Kind::Stream(_) => SizeHint::default(),
        }
    }
}

/// Tells the open streams of a connection's requests that the server is shutting down.
///
/// [`Server`](crate::Server) puts one in every request's extensions; any other server can do
/// the same with the receiving side of a `watch` channel it sets to `true` when it begins to
/// shut down. When that happens (or the sender is dropped), each open stream sends the line
/// `{"webrpcError":{"error":"WebrpcStreamLost","code":-9,…,"cause":"server shutting down",…}}`
/// and its body ends, so clients tell it apart from a clean end and reconnect elsewhere.
#[derive(Debug, Clone)]
pub struct StreamShutdown(watch::Receiver<bool>);

impl StreamShutdown {
    /// A signal that fires when `receiver` sees `true`.
    pub fn new(receiver: watch::Receiver<bool>) -> Self {
        StreamShutdown(receiver)
    }

    fn into_future(self) -> BoxFuture<()> {
        let mut receiver = self.0;
        Box::pin(async move {
            let _ = receiver.wait_for(|stopping| *stopping).await;
        })
    }
}

/// What the router's erased stream handler hands to the response: the stream, or the
/// handler's future that will produce it.
pub(crate) struct OpenStream {
    state: State,
    shutdown: Option<StreamShutdown>,
    info: MethodInfo,
    call: CallHandle,
}

type LineStream = Pin<Box<dyn Stream<Item = Result<Bytes, WebrpcError>> + Send>>;

enum State {
    /// The handler has not returned yet (gen-golang order: the stream is open first).
    Starting(BoxFuture<Result<LineStream, WebrpcError>>),
    Streaming(LineStream),
}

struct StreamBody {
    /// `None` once the stream has ended (its last frame sent or about to be).
    state: Option<State>,
    opened: bool,
    keep_alive: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    shutdown: Option<BoxFuture<()>>,
    info: MethodInfo,
    /// The stream's call, as its handler sees it: cancelled when the body is dropped before
    /// the stream ended (the client went away).
    call: CallHandle,
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        if self.state.is_some() {
            self.call.cancel();
        }
    }
}

impl StreamBody {
    fn poll_frame(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Frame<Bytes>>> {
        if !self.opened {
            // The opening ping, before anything else (and before the handler is polled).
            self.opened = true;
            if !self.keep_alive.is_zero() {
                self.timer = Some(Box::pin(tokio::time::sleep(self.keep_alive)));
            }
            return Poll::Ready(Some(Frame::data(Bytes::from_static(PING))));
        }
        if self.state.is_none() {
            return Poll::Ready(None);
        }
        if let Some(shutdown) = &mut self.shutdown {
            if shutdown.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(
                    self.fail(BuiltinError::WebrpcStreamLost.with_cause("server shutting down")),
                ));
            }
        }
        loop {
            let polled = match &mut self.state {
                None => return Poll::Ready(None),
                Some(State::Starting(future)) => {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
                        Ok(Poll::Ready(Ok(stream))) => {
                            self.state = Some(State::Streaming(stream));
                            continue;
                        }
                        Ok(Poll::Ready(Err(err))) => Poll::Ready(Some(Err(err))),
                        Ok(Poll::Pending) => Poll::Pending,
                        Err(payload) => Poll::Ready(Some(Err(panicked(&*payload)))),
                    }
                }
                Some(State::Streaming(stream)) => {
                    match std::panic::catch_unwind(AssertUnwindSafe(|| {
                        stream.as_mut().poll_next(cx)
                    })) {
                        Ok(polled) => polled,
                        Err(payload) => Poll::Ready(Some(Err(panicked(&*payload)))),
                    }
                }
            };
            match polled {
                Poll::Ready(Some(Ok(line))) => return Poll::Ready(Some(Frame::data(line))),
                Poll::Ready(Some(Err(err))) => return Poll::Ready(Some(self.fail(err))),
                Poll::Ready(None) => {
                    self.state = None;
                    tracing::debug!(
                        service = self.info.service,
                        method = self.info.method,
                        "webrpc stream finished"
                    );
                    return Poll::Ready(None);
                }
                Poll::Pending => break,
            }
        }
        if let Some(timer) = &mut self.timer {
            if timer.as_mut().poll(cx).is_ready() {
                // Like gen-golang, the interval runs from the previous ping, not from the
                // last message.
                let next = tokio::time::Instant::now() + self.keep_alive;
                timer.as_mut().reset(next);
                return Poll::Ready(Some(Frame::data(Bytes::from_static(PING))));
            }
        }
        Poll::Pending
    }

    /// Ends the stream with `err` as its last line; the handler's stream is dropped now.
    fn fail(&mut self, err: WebrpcError) -> Frame<Bytes> {
        self.state = None;
        self.timer = None;
        self.shutdown = None;
        if err.status() >= 500 {
            tracing::warn!(service = self.info.service, method = self.info.method, error = %err, "webrpc stream failed");
        } else {
            tracing::info!(service = self.info.service, method = self.info.method, error = %err, "webrpc stream failed");
        }
        Frame::data(encode_error_line(&err))
    }
}

fn panicked(payload: &(dyn std::any::Any + Send)) -> WebrpcError {
    tracing::error!(
        panic = panic_message(payload),
        "webrpc stream handler panicked"
    );
    BuiltinError::WebrpcServerPanic.with_cause("handler panicked")
}

/// The response that opens a stream: 200 with gen-golang's headers.
pub(crate) fn stream_response(
    open: OpenStream,
    header: &HeaderValue,
    version: Version,
    keep_alive: Duration,
) -> Response<ResponseBody> {
    let body = StreamBody {
        state: Some(open.state),
        opened: false,
        keep_alive,
        timer: None,
        shutdown: open.shutdown.map(StreamShutdown::into_future),
        info: open.info,
        call: open.call,
    };
    let mut response = Response::new(ResponseBody {
        kind: Kind::Stream(Box::new(body)),
    });
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, NO_STORE.clone());
    // A connection-specific header: forbidden in HTTP/2, meaningless before HTTP/1.1.
    if version == Version::HTTP_11 {
        headers.insert(CONNECTION, KEEP_ALIVE.clone());
    }
    headers.insert(CONTENT_TYPE, NDJSON.clone());
    headers.insert(webrpc_core::WEBRPC_HEADER_NAME, header.clone());
    headers.insert(X_CONTENT_TYPE_OPTIONS, NOSNIFF.clone());
    response
}

/// Turns a typed stream handler into the router's erased handler. With `open_first`, the
/// handler's future runs inside the stream (its error is an in-stream line); without, the
/// router waits for it and its error is an ordinary envelope.
pub(crate) fn erase<M, F, Fut, S, E>(handler: F, open_first: bool) -> Arc<ErasedHandler>
where
    M: StreamMethod,
    F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<S, E>> + Send + 'static,
    S: Stream<Item = Result<M::Message, E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    let handler = Arc::new(handler);
    Arc::new(
        move |ctx: RequestContext, body: Bytes| -> BoxFuture<Result<Reply, WebrpcError>> {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let request: M::Request = codec::decode_request(&body)?;
                drop(body);
                let shutdown = shutdown_of(ctx.extensions());
                // The router's handle holds the call's concurrency slot; an open stream holds
                // none (it would starve ordinary calls), so the handler gets a handle of its
                // own, which tells it when the client is gone.
                let call = CallHandle::new(None);
                let ctx = ctx.with_extension(call.clone());
                let state = if open_first {
                    let started = handler(ctx, request);
                    State::Starting(Box::pin(async move {
                        started
                            .await
                            .map(lines::<M, S, E>)
                            .map_err(into_webrpc_error)
                    }))
                } else {
                    let stream = handler(ctx, request).await.map_err(into_webrpc_error)?;
                    State::Streaming(lines::<M, S, E>(stream))
                };
                Ok(Reply::Stream(OpenStream {
                    state,
                    shutdown,
                    info: M::INFO,
                    call,
                }))
            })
        },
    )
}

/// Encodes each message as its line.
fn lines<M, S, E>(stream: S) -> LineStream
where
    M: StreamMethod,
    S: Stream<Item = Result<M::Message, E>> + Send + 'static,
    E: Into<BoxError>,
{
    // Each line's buffer starts at the size of the previous one.
    let mut size_hint = 128;
    Box::pin(stream.map(move |item| {
        let line = encode_message_with_capacity(&item.map_err(into_webrpc_error)?, size_hint)?;
        size_hint = (line.len() + 16).min(64 * 1024);
        Ok(line)
    }))
}

/// A tower layer-like wrapper that puts the connection's [`ConnectionParts`] in every
/// request, as one [`Connection`] extension.
///
/// hyper's adapter clones the service for every request: the connection's parts are
/// behind one `Arc`, so that clone is the inner service's and one reference count, and the
/// request gets one extension instead of a shutdown signal and a probe of its own.
#[derive(Clone)]
pub(crate) struct WithShutdown<S> {
    pub(crate) inner: S,
    pub(crate) connection: Arc<ConnectionParts>,
}

/// What [`WithShutdown`] gives each request of one connection.
pub(crate) struct ConnectionParts {
    /// The signal of the connection's open streams ([`shutdown_of`] finds it).
    pub(crate) signal: StreamShutdown,
    /// The connection's [`PeerProbe`](crate::peer::PeerProbe), which the router asks for
    /// HTTP/1.x calls.
    pub(crate) probe: Option<crate::peer::PeerProbe>,
}

/// The request extension of [`Server`](crate::Server)'s connections: their
/// [`ConnectionParts`], held weakly. Only the connection's service holds them strongly, so
/// a `RequestContext` kept past the connection (by a task a handler spawned) does not keep
/// the probe's duplicate descriptor, and with it the socket, open.
#[derive(Clone)]
pub(crate) struct Connection(pub(crate) Weak<ConnectionParts>);

impl Connection {
    /// The parts of the connection of a request with `extensions`, while it is served.
    pub(crate) fn of(extensions: &http::Extensions) -> Option<Arc<ConnectionParts>> {
        extensions.get::<Connection>()?.0.upgrade()
    }
}

/// The shutdown signal for a stream opened by a request with `extensions`: a
/// [`StreamShutdown`] put there by the server (or any other code), else that of
/// [`Server`](crate::Server)'s connection.
fn shutdown_of(extensions: &http::Extensions) -> Option<StreamShutdown> {
    extensions
        .get::<StreamShutdown>()
        .cloned()
        .or_else(|| Some(Connection::of(extensions)?.signal.clone()))
}

impl<S, B> tower_service::Service<Request<B>> for WithShutdown<S>
where
    S: tower_service::Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        request
            .extensions_mut()
            .insert(Connection(Arc::downgrade(&self.connection)));
        self.inner.call(request)
    }
}

/// A bounded channel feeding a stream handler's messages from another task, as a Go handler
/// writes to its stream.
///
/// The handler returns the [`StreamReceiver`]; the task keeps the [`StreamSender`]. At most
/// `capacity` messages wait in the channel (at least one): a client that reads slowly makes
/// [`StreamSender::send`] wait, and a client that goes away makes it fail, so the producing
/// task learns of both.
///
/// ```
/// use webrpc_server::stream::channel;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let (tx, rx) = channel::<u32>(16);
/// tokio::spawn(async move {
///     for n in 0..3 {
///         if tx.send(n).await.is_err() {
///             return; // the client went away
///         }
///     }
/// });
/// # let _ = rx;
/// # });
/// ```
pub fn channel<T>(capacity: usize) -> (StreamSender<T>, StreamReceiver<T>) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    (StreamSender { tx }, StreamReceiver { rx })
}

/// The sending half of [`channel`].
pub struct StreamSender<T> {
    tx: mpsc::Sender<Result<T, WebrpcError>>,
}

impl<T> Clone for StreamSender<T> {
    fn clone(&self) -> Self {
        StreamSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> std::fmt::Debug for StreamSender<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSender")
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

/// The stream is gone: its client went away or its body ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamClosed;

impl std::fmt::Display for StreamClosed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the stream is closed")
    }
}

impl std::error::Error for StreamClosed {}

impl<T> StreamSender<T> {
    /// Sends one message, waiting while the channel is full.
    pub async fn send(&self, message: T) -> Result<(), StreamClosed> {
        self.tx.send(Ok(message)).await.map_err(|_| StreamClosed)
    }

    /// Ends the stream with `err` as its last line (once the messages before it are out).
    pub async fn fail(self, err: WebrpcError) -> Result<(), StreamClosed> {
        self.tx.send(Err(err)).await.map_err(|_| StreamClosed)
    }

    /// Whether the receiving side is gone.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Completes when the receiving side is gone (the client went away).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

/// The receiving half of [`channel`]: the stream a handler returns. It ends when every
/// sender is dropped.
pub struct StreamReceiver<T> {
    rx: mpsc::Receiver<Result<T, WebrpcError>>,
}

impl<T> std::fmt::Debug for StreamReceiver<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamReceiver")
            .field("queued", &self.rx.len())
            .finish()
    }
}

impl<T> Stream for StreamReceiver<T> {
    type Item = Result<T, WebrpcError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
