//! The router: a `tower::Service<http::Request<B>>` that serves any number of webrpc services.

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::FutureExt;
use http::header::{HeaderValue, ALLOW, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE};
use http::{Request, Response};
use http_body::Body;
use tracing::Instrument;

use crate::call::{CallHandle, CancelOnDrop};
use webrpc_core::codec::{self, is_json_content_type};
use webrpc_core::stream::StreamMethod;
use webrpc_core::{
    normalize_basepath, BuiltinError, Method, MethodInfo, RequestContext, Routes, WebrpcError,
    WebrpcHeader, DEFAULT_BASEPATH,
};

/// A boxed error, as handlers may return.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

pub use crate::stream::ResponseBody;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
pub(crate) type ErasedHandler =
    dyn Fn(RequestContext, Bytes) -> BoxFuture<Result<Reply, WebrpcError>> + Send + Sync;

/// What a handler produced: a whole JSON answer, or a stream to open.
pub(crate) enum Reply {
    Unary(Bytes),
    Stream(crate::stream::OpenStream),
}

/// Default limit on a request body: 4 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 4 * 1024 * 1024;

/// Default time allowed to receive a request body once its headers are in: 30 seconds.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(30);

static JSON: HeaderValue = HeaderValue::from_static(codec::JSON_CONTENT_TYPE);
static POST_ONLY: HeaderValue = HeaderValue::from_static("POST");
static CLOSE: HeaderValue = HeaderValue::from_static("close");

#[derive(Clone)]
struct Route {
    info: MethodInfo,
    header: HeaderValue,
    handler: Arc<ErasedHandler>,
}

#[derive(Clone)]
struct Inner {
    basepath: String,
    routes: HashMap<Box<str>, Route>,
    header: HeaderValue,
    body_limit: usize,
    body_timeout: Duration,
    handler_timeout: Option<Duration>,
    limit: Option<Limit>,
    stream_keep_alive: Duration,
}

#[derive(Clone)]
struct Limit {
    permits: Arc<tokio::sync::Semaphore>,
    queue_timeout: Duration,
    rejection: WebrpcError,
}

/// A cap on the calls a [`Router`] runs at once (see [`Router::concurrency_limit`]).
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit {
    max: usize,
    queue_timeout: Duration,
    rejection: WebrpcError,
}

impl ConcurrencyLimit {
    /// At most `max` calls at once. An excess call is answered at once (no queueing) with
    /// `WebrpcInternalError` and HTTP status 503, cause `server overloaded: …`; change that with
    /// [`queue_timeout`](Self::queue_timeout) and [`rejection`](Self::rejection).
    pub fn new(max: usize) -> Self {
        ConcurrencyLimit {
            max,
            queue_timeout: Duration::ZERO,
            rejection: BuiltinError::WebrpcInternalError.err().with_status(503),
        }
    }

    /// How long an excess call waits for a free slot before it is rejected. Default: zero
    /// (rejected at once).
    #[must_use]
    pub fn queue_timeout(mut self, timeout: Duration) -> Self {
        self.queue_timeout = timeout;
        self
    }

    /// The error excess calls get (its cause is replaced by one naming the limit), such as a
    /// schema's `RateLimited` (429). Default: `WebrpcInternalError` with status 503.
    #[must_use]
    pub fn rejection(mut self, error: WebrpcError) -> Self {
        self.rejection = error;
        self
    }
}

/// A webrpc router: `POST {basepath}{Service}/{Method}` to the handler of that method.
///
/// It is a [`tower::Service`](https://docs.rs/tower-service/0.3/tower_service/trait.Service.html) over `http::Request<B>` for any body
/// `B`, with `Error = Infallible`: every failure is an error-envelope response. It runs under
/// [`serve`](crate::serve), plain hyper, or nested in another router (for axum,
/// `axum::Router::new().nest_service("/rpc", Router::with_basepath("/"))`: axum strips the
/// prefix it nests at), and tests can call it directly with `oneshot`. Layers go around it;
/// see [`recover`](crate::recover) for those whose errors are not responses.
///
/// The checks run in the reference order, each answered with the reference error:
///
/// | check | error | status |
/// |---|---|---|
/// | path is a known method | `WebrpcBadRoute` | 404 |
/// | method is POST | `WebrpcBadMethod` + `Allow: POST` | 405 |
/// | `Content-Type` is `application/json` (parameters and case ignored) | `WebrpcBadRequest` | 400 |
/// | body within [`body_limit`](Router::body_limit) | `WebrpcBadRequest` | 413 |
/// | body arrives within [`body_timeout`](Router::body_timeout) | `WebrpcBadRequest` | 408 |
/// | body decodes as the arguments | `WebrpcBadRequest` | 400 |
/// | handler returns a webrpc error | that error | its status |
/// | handler returns another error | `WebrpcEndpoint`, cause = the error's text | 400 |
/// | handler panics | `WebrpcServerPanic` (the panic message is logged, not sent) | 500 |
/// | the result cannot be encoded | `WebrpcBadResponse` | 500 |
///
/// Every response carries `Content-Type: application/json` and the `Webrpc` header, except
/// the `200` that opens a stream method's ndjson stream (see
/// [`route_stream`](Router::route_stream)). A handler receives a [`RequestContext`] with the
/// request's headers and extensions (read-only; nothing of them is sent on by a call the
/// handler makes), the call's [`MethodInfo`] and its [`CallHandle`], and
/// the decoded request object.
///
/// **Cancellation.** A call whose router future is dropped (hyper drops it when an HTTP/2
/// client resets the stream or the connection goes away) stops where it is. The router
/// yields once between reading the body and starting the handler, so a reset that came
/// with the request (the "rapid reset" pattern) cancels the call before the handler runs;
/// an HTTP/1.1 call under [`Server`](crate::Server) asks its connection's peer probe
/// instead (a closed connection is not reported to hyper until the socket is next read).
/// Work a handler hands off outlives its future; [`spawn_blocking`](crate::spawn_blocking)
/// skips such work when the caller is gone before it starts, and keeps the concurrency
/// slot until it ends.
///
/// ```
/// use webrpc_core::{service, RequestContext, WebrpcError};
/// use webrpc_server::Router;
/// # service! {
/// #     /// Greeter.
/// #     pub trait Greeter;
/// #     /// Client.
/// #     client GreeterClient;
/// #     /// Mount.
/// #     mount mount_greeter;
/// #     name "Greeter";
/// #     schema "greeter" "v1.0.0";
/// #     /// Says hello.
/// #     SayHello => say_hello(SayHelloRequest { /// who
/// #         pub name: String }) -> SayHelloResponse { /// greeting
/// #         pub greeting: String };
/// # }
///
/// let router = Router::new().route(SayHello, |_ctx: RequestContext, req: SayHelloRequest| async move {
///     Ok::<_, WebrpcError>(SayHelloResponse { greeting: format!("hello, {}", req.name) })
/// });
/// # let _ = router;
/// ```
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut paths: Vec<&str> = self.inner.routes.keys().map(|k| &**k).collect();
        paths.sort_unstable();
        f.debug_struct("Router")
            .field("basepath", &self.inner.basepath)
            .field("routes", &paths)
            .field("body_limit", &self.inner.body_limit)
            .field("body_timeout", &self.inner.body_timeout)
            .finish()
    }
}

impl Default for Router {
    fn default() -> Self {
        Self::new()
    }
}

impl Router {
    /// An empty router at the default basepath `/rpc/`.
    pub fn new() -> Self {
        Self::with_basepath(DEFAULT_BASEPATH)
    }

    /// An empty router at another basepath (normalised to start and end with `/`). Set it
    /// before adding routes: routes are keyed by their full path.
    pub fn with_basepath(basepath: &str) -> Self {
        Router {
            inner: Arc::new(Inner {
                basepath: normalize_basepath(basepath),
                routes: HashMap::new(),
                header: HeaderValue::from_str(
                    &WebrpcHeader::for_schema("webrpc", "v0.0.0").to_string(),
                )
                .expect("static header is valid"),
                body_limit: DEFAULT_BODY_LIMIT,
                body_timeout: DEFAULT_BODY_TIMEOUT,
                handler_timeout: None,
                limit: None,
                stream_keep_alive: webrpc_core::stream::DEFAULT_KEEP_ALIVE,
            }),
        }
    }

    fn inner_mut(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// The basepath routes are mounted under.
    pub fn basepath(&self) -> &str {
        &self.inner.basepath
    }

    /// Limits the size of a request body. Larger bodies get `WebrpcBadRequest` with HTTP
    /// status 413:
    ///
    /// - a body whose `Content-Length` is over the limit is answered at once, before the
    ///   concurrency limit, without reading a byte of it (and so without `100 Continue` to a
    ///   client that sent `Expect: 100-continue`);
    /// - a body without a length (chunked, or HTTP/2 without `content-length`) that turns
    ///   out larger is cut at the limit, and the rest is read and discarded, up to 16 MiB
    ///   more, so a client still sending sees the answer rather than a reset.
    ///
    /// Over HTTP/1.1 a 413 carries `Connection: close` and the connection is closed after
    /// it; over HTTP/2 the request stream is reset (`NO_ERROR`) once the answer is sent and
    /// the connection goes on.
    ///
    /// Default: 4 MiB ([`DEFAULT_BODY_LIMIT`]).
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.inner_mut().body_limit = bytes;
        self
    }

    /// Limits the time to receive a request body after its headers. A client that stalls
    /// mid-body gets `WebrpcBadRequest` with HTTP status 408.
    ///
    /// Default: 30 s ([`DEFAULT_BODY_TIMEOUT`]).
    #[must_use]
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.inner_mut().body_timeout = timeout;
        self
    }

    /// Limits the time a handler may take. A call still running then is dropped (the
    /// handler's future is cancelled, its [`CallHandle`] marked cancelled) and answered with
    /// `WebrpcInternalError` and HTTP status 504, cause `handler timed out after …`.
    ///
    /// The clock starts once the body is read (bounded on its own by
    /// [`body_timeout`](Self::body_timeout)) and stops when a stream method's stream opens.
    /// To bound the whole call instead, body included, put `tower::timeout` around the router
    /// (its `Elapsed` error is answered `WebrpcInternalError` 504 too, see
    /// [`recover`](crate::recover)); both cancel the call the same way.
    ///
    /// Default: no limit.
    #[must_use]
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.inner_mut().handler_timeout = Some(timeout);
        self
    }

    /// Caps the calls running at once (counted from the end of the header checks to the end
    /// of the handler, so the slot also covers reading the body, and beyond it to the end of
    /// any work the handler started with [`spawn_blocking`](crate::spawn_blocking) or that
    /// holds its [`CallHandle`]). Excess calls wait up to the limit's queue timeout, then get
    /// its rejection error; they never hang.
    ///
    /// This is what `tower::limit::ConcurrencyLimit` around the router cannot do: its slot is
    /// given back as soon as the call's future is dropped (by a timeout, an HTTP/2 reset, a
    /// closed connection), while work the handler handed to the blocking pool runs on; this
    /// limit keeps counting that work until it ends (see `tests/hostile.rs`). For calls whose
    /// work ends with their future, the tower layer (with `tower::load_shed` in front, for
    /// rejection instead of queueing) does the same job.
    ///
    /// Default: no cap.
    #[must_use]
    pub fn concurrency_limit(mut self, limit: ConcurrencyLimit) -> Self {
        self.inner_mut().limit = Some(Limit {
            permits: Arc::new(tokio::sync::Semaphore::new(limit.max)),
            queue_timeout: limit.queue_timeout,
            rejection: limit.rejection,
        });
        self
    }

    /// Adds a handler for `method` (a method's marker value, such as `SayHello`).
    ///
    /// The handler gets the call's [`RequestContext`] and decoded request object, and returns the
    /// response object or any error: a [`WebrpcError`] is sent as it is, any other error
    /// becomes `WebrpcEndpoint` with the error's text as cause.
    #[must_use]
    pub fn route<M, F, Fut, E>(self, method: M, handler: F) -> Self
    where
        M: Method,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M::Response, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        // The marker value only names the method: its type is what routes.
        let _ = method;
        self.add_unary::<M, F, Fut, E>(handler)
    }

    fn add_unary<M, F, Fut, E>(mut self, handler: F) -> Self
    where
        M: Method,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M::Response, E>> + Send + 'static,
        E: Into<BoxError>,
    {
        // The encode buffer starts at the size of this method's last answer, so a typical
        // response is written without growing the buffer.
        let state = Arc::new((handler, AtomicUsize::new(256)));
        let erased =
            move |ctx: RequestContext, body: Bytes| -> BoxFuture<Result<Reply, WebrpcError>> {
                let state = Arc::clone(&state);
                Box::pin(async move {
                    let request: M::Request = codec::decode_request(&body)?;
                    drop(body);
                    let (handler, size_hint) = &*state;
                    let response = handler(ctx, request).await.map_err(into_webrpc_error)?;
                    let bytes =
                        codec::encode_response_with_capacity(&response, size_hint.load(Relaxed))?;
                    size_hint.store((bytes.len() + 64).min(64 * 1024), Relaxed);
                    Ok(Reply::Unary(bytes))
                })
            };
        self.insert(M::INFO, M::WEBRPC_HEADER, Arc::new(erased));
        self
    }

    /// Adds a handler for stream method `method` (a marker value; `=> stream (...)`), opening
    /// the stream before
    /// the handler runs, as gen-golang does.
    ///
    /// Everything up to the decoded request is an ordinary call: a bad route, method, content
    /// type, body or arguments (and whatever layers in front reject) is an error envelope with
    /// its status. Then the stream opens: `200`, `Content-Type: application/x-ndjson`,
    /// `Cache-Control: no-store`, `Connection: keep-alive` (HTTP/1.1 only; the header is
    /// forbidden in HTTP/2), `X-Content-Type-Options: nosniff` and the `Webrpc` header, and at
    /// once a ping line (`\n`). Only then is the handler's future polled, from the response
    /// body; so an error it returns, even before any message, is sent **in the stream**, as
    /// the last line `{"webrpcError":{…}}`, with HTTP status 200. A handler that wants to
    /// reject with an ordinary error status uses [`route_stream_deferred`](Self::route_stream_deferred).
    ///
    /// Then each item of the stream is sent as it comes: a message as one JSON line (one
    /// frame, flushed), an error as the last line `{"webrpcError":{…}}` after which the body
    /// ends, and the end of the stream as the end of the body. A ping line follows every
    /// [`stream_keep_alive`](Self::stream_keep_alive) interval. A panic in the handler or its
    /// stream is the last line `WebrpcServerPanic`; the server goes on.
    ///
    /// The handler's stream is polled only when the connection wants more bytes (a slow
    /// reader holds the handler back; nothing is buffered beyond the connection's buffers),
    /// and it is dropped as soon as the body is: when the client goes away (HTTP/1.1
    /// connection closed, HTTP/2 stream reset) or the stream ends. Under [`Server`](crate::Server),
    /// graceful shutdown ends every open stream with the line `WebrpcStreamLost`, cause
    /// `server shutting down` (see [`StreamShutdown`](crate::stream::StreamShutdown)).
    ///
    /// The [`handler_timeout`](Self::handler_timeout) and the
    /// [`concurrency_limit`](Self::concurrency_limit) slot cover the call up to the opening
    /// (reading and decoding the request); an open stream is not cut by the handler timeout
    /// and does not hold a slot. Open streams are bounded by the server's connection cap and
    /// HTTP/2's limit on concurrent streams per connection. The handler's [`RequestContext`] carries
    /// a [`CallHandle`](crate::CallHandle) of the stream's own, holding no slot, cancelled
    /// when the client goes away.
    ///
    /// To feed a stream from another task, return the receiver of a
    /// [`stream::channel`](crate::stream::channel).
    #[must_use]
    pub fn route_stream<M, F, Fut, S, E>(self, method: M, handler: F) -> Self
    where
        M: StreamMethod,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        S: futures_util::Stream<Item = Result<M::Message, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let _ = method;
        self.add_stream::<M, F, Fut, S, E>(handler, true)
    }

    /// Like [`route_stream`](Self::route_stream), but the stream opens only once the
    /// handler's future returns its stream: an `Err` from the future is an ordinary error
    /// envelope with its own HTTP status (a 400 `EmptyUsername`, say), and nothing of a
    /// stream is sent. This differs from gen-golang, which opens every stream before calling
    /// its handler; clients of either read both answers correctly. While the handler's future
    /// runs, the [`handler_timeout`](Self::handler_timeout) and the concurrency slot apply
    /// as to an ordinary call, and no ping is sent yet.
    #[must_use]
    pub fn route_stream_deferred<M, F, Fut, S, E>(self, method: M, handler: F) -> Self
    where
        M: StreamMethod,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        S: futures_util::Stream<Item = Result<M::Message, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let _ = method;
        self.add_stream::<M, F, Fut, S, E>(handler, false)
    }

    fn add_stream<M, F, Fut, S, E>(mut self, handler: F, open_first: bool) -> Self
    where
        M: StreamMethod,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, E>> + Send + 'static,
        S: futures_util::Stream<Item = Result<M::Message, E>> + Send + 'static,
        E: Into<BoxError> + 'static,
    {
        let erased = crate::stream::erase::<M, F, Fut, S, E>(handler, open_first);
        self.insert(M::INFO, M::WEBRPC_HEADER, erased);
        self
    }

    /// The interval between the pings (`\n` lines) of an open stream, counted from the
    /// previous ping. `Duration::ZERO` sends only the opening ping.
    ///
    /// Default: 10 s ([`DEFAULT_KEEP_ALIVE`](webrpc_core::stream::DEFAULT_KEEP_ALIVE)), as
    /// gen-golang; clients count a stream silent for 11 s as lost.
    #[must_use]
    pub fn stream_keep_alive(mut self, interval: Duration) -> Self {
        self.inner_mut().stream_keep_alive = interval;
        self
    }

    fn insert(&mut self, info: MethodInfo, header: &'static str, handler: Arc<ErasedHandler>) {
        let header = HeaderValue::from_static(header);
        let inner = self.inner_mut();
        // The first service mounted names the schema in the header of answers that belong
        // to no method (bad routes).
        if inner.routes.is_empty() {
            inner.header = header.clone();
        }
        let path = info.path(&inner.basepath);
        inner.routes.insert(
            path.into_boxed_str(),
            Route {
                info,
                header,
                handler,
            },
        );
    }

    /// The methods this router serves.
    pub fn methods(&self) -> impl Iterator<Item = MethodInfo> + '_ {
        self.inner.routes.values().map(|r| r.info)
    }
}

impl Routes for Router {
    fn add_route<M, F, Fut>(self, handler: F) -> Self
    where
        M: Method,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M::Response, WebrpcError>> + Send + 'static,
    {
        self.add_unary::<M, F, Fut, WebrpcError>(handler)
    }

    fn add_stream_route<M, F, Fut, S>(self, handler: F) -> Self
    where
        M: StreamMethod,
        F: Fn(RequestContext, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, WebrpcError>> + Send + 'static,
        S: futures_util::Stream<Item = Result<M::Message, WebrpcError>> + Send + 'static,
    {
        self.add_stream::<M, F, Fut, S, WebrpcError>(handler, true)
    }
}

pub(crate) fn into_webrpc_error<E: Into<BoxError>>(err: E) -> WebrpcError {
    let err: BoxError = err.into();
    match err.downcast::<WebrpcError>() {
        Ok(err) => *err,
        Err(other) => BuiltinError::WebrpcEndpoint.with_cause(other.to_string()),
    }
}

/// Builds the response for an error ([`WebrpcError::into_http_response_with_header`]: the
/// HTTP status is the envelope's, 500 on both sides for a status that is not an error
/// status).
pub(crate) fn error_response(err: WebrpcError, header: &HeaderValue) -> Response<ResponseBody> {
    err.into_http_response_with_header(header.clone())
        .map(ResponseBody::full)
}

fn ok_response(body: Bytes, header: &HeaderValue) -> Response<ResponseBody> {
    let mut response = Response::new(ResponseBody::full(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, JSON.clone());
    headers.insert(webrpc_core::WEBRPC_HEADER_NAME, header.clone());
    response
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}

impl Inner {
    /// Takes a slot of the concurrency limit, if there is one.
    async fn admit(&self) -> Result<Option<tokio::sync::OwnedSemaphorePermit>, WebrpcError> {
        let Some(limit) = &self.limit else {
            return Ok(None);
        };
        let permits = Arc::clone(&limit.permits);
        let acquired = if limit.queue_timeout.is_zero() {
            permits.try_acquire_owned().ok()
        } else {
            tokio::time::timeout(limit.queue_timeout, permits.acquire_owned())
                .await
                .ok()
                .and_then(Result::ok)
        };
        match acquired {
            Some(permit) => Ok(Some(permit)),
            None => Err(limit.rejection.clone().with_cause(format!(
                "server overloaded: too many calls in progress (waited {:?})",
                limit.queue_timeout
            ))),
        }
    }

    /// Reads the body and runs the handler (with its timeout), catching panics.
    async fn run<B>(
        &self,
        handler: &ErasedHandler,
        info: MethodInfo,
        parts: http::request::Parts,
        body: B,
        content_length: Option<u64>,
        call: CallHandle,
    ) -> Result<Reply, WebrpcError>
    where
        B: Body,
        B::Error: Into<BoxError>,
    {
        let bytes =
            crate::body::read_body(body, self.body_limit, self.body_timeout, content_length)
                .await?;
        // Over HTTP/1.x, hyper sees a closed connection only when it next reads the socket,
        // which can be after the handler started: the connection's probe (under `Server`)
        // knows what the reactor has seen of the peer (see `peer`).
        // Whether the probe found the client gone; `None` without a probe. (The connection's
        // parts are not held past this point.)
        let gone = match parts.version <= http::Version::HTTP_11 {
            true => crate::stream::Connection::of(&parts.extensions)
                .and_then(|connection| connection.probe.as_ref().map(|p| p.peer_closed())),
            false => None,
        };
        match gone {
            Some(true) => {
                tracing::debug!(
                    service = info.service,
                    method = info.method,
                    "client closed its connection before the call started"
                );
                return Err(BuiltinError::WebrpcClientDisconnected
                    .with_cause("client closed its connection before the call started"));
            }
            Some(false) => {}
            // Without a probe (HTTP/2, or a connection served by another server), give the
            // connection one turn before the handler starts: a reset or disconnect that
            // arrived with the request (the "rapid reset" pattern sends the reset in the same
            // packet as the body) is seen by hyper while this future is pending, and the call
            // is dropped before any of its work begins. A probed call skips the turn: the
            // probe has already looked, and the turn costs a reschedule per call.
            None => tokio::task::yield_now().await,
        }
        let mut parts = parts;
        parts.extensions.insert(call.clone());
        let ctx = RequestContext::from_parts(parts.headers, parts.extensions).with_method(info);
        let handler_call = AssertUnwindSafe(handler(ctx, bytes)).catch_unwind();
        let outcome = match self.handler_timeout {
            None => handler_call.await,
            Some(limit) => match tokio::time::timeout(limit, handler_call).await {
                Ok(outcome) => outcome,
                Err(_) => {
                    // The handler's future is gone; work it handed off must not start.
                    call.cancel();
                    return Err(BuiltinError::WebrpcInternalError
                        .with_cause(format!("handler timed out after {limit:?}"))
                        .with_status(504));
                }
            },
        };
        outcome.unwrap_or_else(|payload| {
            tracing::error!(panic = panic_message(&*payload), "webrpc handler panicked");
            Err(BuiltinError::WebrpcServerPanic.with_cause("handler panicked"))
        })
    }

    async fn handle<B>(self: Arc<Self>, request: Request<B>) -> Response<ResponseBody>
    where
        B: Body + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = request.into_parts();
        let version = parts.version;
        let path = parts.uri.path();
        let Some(route) = self.routes.get(path) else {
            tracing::debug!(path, "webrpc bad route");
            return error_response(
                BuiltinError::WebrpcBadRoute
                    .with_cause(format!("no webrpc method defined for path {path}")),
                &self.header,
            );
        };
        if parts.method != http::Method::POST {
            let mut response = error_response(
                BuiltinError::WebrpcBadMethod.with_cause(format!(
                    "unsupported HTTP method {} (only POST is allowed)",
                    parts.method
                )),
                &route.header,
            );
            response.headers_mut().insert(ALLOW, POST_ONLY.clone());
            return response;
        }
        let content_type = parts
            .headers
            .get(CONTENT_TYPE)
            .map(HeaderValue::as_bytes)
            .unwrap_or_default();
        if !is_json_content_type(content_type) {
            return error_response(
                BuiltinError::WebrpcBadRequest.with_cause(format!(
                    "unsupported Content-Type {:?} (only application/json is allowed)",
                    String::from_utf8_lossy(content_type)
                )),
                &route.header,
            );
        }
        let content_length = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        // HTTP/1 cannot skip an unread body to reach the next request: close after a 413.
        let close = parts.version < http::Version::HTTP_2;
        if content_length.is_some_and(|len| len > self.body_limit as u64) {
            // Declared over the limit: answered at once, before taking a slot and without
            // polling the body (hyper sends `100 Continue` only once the body is polled).
            tracing::info!(
                service = route.info.service,
                method = route.info.method,
                "webrpc call failed: declared body over the limit"
            );
            let mut response =
                error_response(crate::body::too_large(self.body_limit), &route.header);
            if close {
                response.headers_mut().insert(CONNECTION, CLOSE.clone());
            }
            return response;
        }

        let span = tracing::info_span!(
            "webrpc",
            service = route.info.service,
            method = route.info.method,
            outcome = tracing::field::Empty,
        );
        async {
            let started = tracing::enabled!(tracing::Level::INFO).then(Instant::now);
            let result = match self.admit().await {
                Err(err) => Err(err),
                Ok(permit) => {
                    let call = CallHandle::new(permit);
                    // Dropped armed (this future cancelled mid-call), it marks the call
                    // cancelled, so work the handler handed off does not start.
                    let mut armed = CancelOnDrop(Some(call.clone()));
                    let result = self
                        .run(
                            route.handler.as_ref(),
                            route.info,
                            parts,
                            body,
                            content_length,
                            call,
                        )
                        .await;
                    armed.0 = None;
                    result
                }
            };
            let elapsed_us = started.map(|t| t.elapsed().as_micros() as u64);
            match result {
                Ok(Reply::Unary(body)) => {
                    tracing::Span::current().record("outcome", "ok");
                    tracing::debug!(elapsed_us, "webrpc call ok");
                    ok_response(body, &route.header)
                }
                Ok(Reply::Stream(open)) => {
                    tracing::Span::current().record("outcome", "stream");
                    tracing::debug!(elapsed_us, "webrpc stream open");
                    crate::stream::stream_response(
                        open,
                        &route.header,
                        version,
                        self.stream_keep_alive,
                    )
                }
                Err(err) => {
                    tracing::Span::current().record("outcome", err.name());
                    if err.status() >= 500 {
                        tracing::warn!(elapsed_us, error = %err, "webrpc call failed");
                    } else {
                        tracing::info!(elapsed_us, error = %err, "webrpc call failed");
                    }
                    // The body read's own 413 (not a handler's): the rest of the body may
                    // not have been drained.
                    let too_large = err.status() == 413
                        && err.cause() == crate::body::too_large(self.body_limit).cause();
                    let mut response = error_response(err, &route.header);
                    if too_large && close {
                        response.headers_mut().insert(CONNECTION, CLOSE.clone());
                    }
                    response
                }
            }
        }
        .instrument(span)
        .await
    }
}

impl<B> tower_service::Service<Request<B>> for Router
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = RouterFuture;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        RouterFuture {
            inner: Box::pin(Arc::clone(&self.inner).handle(request)),
        }
    }
}

/// The future of a [`Router`] call.
pub struct RouterFuture {
    inner: BoxFuture<Response<ResponseBody>>,
}

impl std::fmt::Debug for RouterFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouterFuture").finish_non_exhaustive()
    }
}

impl Future for RouterFuture {
    type Output = Result<Response<ResponseBody>, Infallible>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx).map(Ok)
    }
}
