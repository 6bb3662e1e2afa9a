//! Serving a router (or any HTTP `tower::Service`) on a TCP listener with hyper 1:
//! HTTP/1.1 and cleartext HTTP/2 (h2c) on the same port, a header read timeout, an optional
//! connection cap, and graceful shutdown that lets in-flight calls finish.

use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::router::BoxError;

/// Default time a client has to send a request's headers: 10 seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Default time in-flight calls get to finish after shutdown is asked for: 30 seconds.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// Serving options, for [`Serve::with_options`] or [`Server::serve`].
///
/// ```no_run
/// # async fn run(router: webrpc_server::Router) -> std::io::Result<()> {
/// use std::time::Duration;
/// use webrpc_server::{serve, Server};
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let options = Server::new().header_read_timeout(Some(Duration::from_secs(5)));
/// serve(listener, router)
///     .with_options(options)
///     .with_graceful_shutdown(async { tokio::signal::ctrl_c().await.ok(); })
///     .await
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Server {
    header_read_timeout: Option<Duration>,
    shutdown_timeout: Option<Duration>,
    max_connections: Option<usize>,
    http2_keep_alive: Option<Duration>,
}

impl Default for Server {
    fn default() -> Self {
        Self::new()
    }
}

impl Server {
    /// Default options.
    pub fn new() -> Self {
        Server {
            header_read_timeout: Some(DEFAULT_HEADER_READ_TIMEOUT),
            shutdown_timeout: Some(DEFAULT_SHUTDOWN_TIMEOUT),
            max_connections: None,
            http2_keep_alive: Some(Duration::from_secs(20)),
        }
    }

    /// Time an HTTP/1 client has to send a request's headers, on a new connection and between
    /// keep-alive requests; then the connection is closed. `None` disables it.
    ///
    /// Default: 10 s ([`DEFAULT_HEADER_READ_TIMEOUT`]).
    #[must_use]
    pub fn header_read_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Time in-flight calls get after shutdown starts; connections still busy then are
    /// dropped. `None` waits for them however long they take.
    ///
    /// Default: 30 s ([`DEFAULT_SHUTDOWN_TIMEOUT`]).
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Caps the number of open connections. At the cap the server stops accepting (new
    /// clients wait in the kernel's backlog) until a connection closes.
    ///
    /// Default: no cap.
    #[must_use]
    pub fn max_connections(mut self, max: Option<usize>) -> Self {
        self.max_connections = max;
        self
    }

    /// Interval of HTTP/2 keep-alive pings (a peer that does not answer within the same time
    /// is disconnected). `None` disables them.
    ///
    /// Default: 20 s.
    #[must_use]
    pub fn http2_keep_alive(mut self, interval: Option<Duration>) -> Self {
        self.http2_keep_alive = interval;
        self
    }

    /// Serves `service` on `listener` with these options until `shutdown` completes: the
    /// same as `serve(listener, service).with_options(self).with_graceful_shutdown(shutdown)`
    /// (see [`Serve`]), for a `shutdown` future that is not `'static`.
    pub async fn serve<S, B, F>(
        self,
        listener: TcpListener,
        service: S,
        shutdown: F,
    ) -> io::Result<()>
    where
        S: tower_service::Service<Request<Incoming>, Response = Response<B>>
            + Clone
            + Send
            + 'static,
        S::Error: Into<BoxError>,
        S::Future: Send + 'static,
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
        F: Future<Output = ()> + Send,
    {
        run(self, listener, service, shutdown).await
    }
}

/// Serves `service` on `listener`, with HTTP/1.1 and h2c: [`serve`] returns it; `.await` it
/// (it is an [`IntoFuture`]) or [`spawn`](Self::spawn) it.
///
/// - Without [`with_graceful_shutdown`](Self::with_graceful_shutdown) it serves until the
///   process ends (or, spawned, until [`ServerHandle::shutdown`]).
/// - With it, once the signal completes, it shuts down gracefully: stops accepting, finishes
///   the calls in flight (HTTP/1 connections close after their current response, HTTP/2
///   connections get a GOAWAY; connections that have not sent a byte yet are closed at
///   once), waits up to the [shutdown timeout](Server::shutdown_timeout), and returns. Open
///   streams of stream methods end at once with the line `WebrpcStreamLost` (cause
///   `server shutting down`), so their clients reconnect elsewhere (see
///   [`StreamShutdown`](crate::stream::StreamShutdown)).
///
/// Any HTTP `tower::Service` can be served, whatever its error type: an error (from
/// `tower::timeout`, `tower::load_shed`, `tower::buffer`…) is answered with a webrpc error
/// envelope by [`recover::error_from`](crate::recover::error_from) instead of closing the
/// connection. (Wrap the stack in a [`RecoverErrorLayer`](crate::RecoverErrorLayer) to choose
/// the answers.)
///
/// Accept errors (such as running out of file descriptors) are logged and retried after a
/// short pause; they do not stop the server.
#[must_use = "a Serve does nothing until it is awaited or spawned"]
pub struct Serve<S, F = std::future::Pending<()>> {
    listener: TcpListener,
    service: S,
    options: Server,
    signal: F,
}

impl<S, F> fmt::Debug for Serve<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Serve")
            .field("listener", &self.listener)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Serves `service` on `listener` with the default [`Server`] options; see [`Serve`].
///
/// ```
/// use webrpc_server::{serve, Router};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let server = serve(listener, Router::new()).spawn();
/// let url = format!("http://{}", server.local_addr());
/// // ... call the services at `url` ...
/// # let _ = url;
/// server.shutdown().await.unwrap();
/// # });
/// ```
pub fn serve<S>(listener: TcpListener, service: S) -> Serve<S> {
    Serve {
        listener,
        service,
        options: Server::new(),
        signal: std::future::pending(),
    }
}

impl<S> Serve<S> {
    /// Shuts down gracefully once `signal` completes (see [`Serve`]).
    pub fn with_graceful_shutdown<F>(self, signal: F) -> Serve<S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            service: self.service,
            options: self.options,
            signal,
        }
    }
}

impl<S, F> Serve<S, F> {
    /// Serves with these options instead of `Server::new()`'s.
    pub fn with_options(mut self, options: Server) -> Self {
        self.options = options;
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }
}

impl<S, B, F> Serve<S, F>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    /// Serves on a new tokio task, returning a handle to find its address and shut it down.
    /// The server shuts down gracefully on [`ServerHandle::shutdown`] or on the signal of
    /// [`with_graceful_shutdown`](Serve::with_graceful_shutdown), whichever comes first.
    /// Dropping the handle leaves the server running (until the runtime ends).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or if the listener has no local address (it always has one
    /// once bound).
    pub fn spawn(self) -> ServerHandle {
        let addr = self
            .listener
            .local_addr()
            .expect("a bound listener has a local address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let signal = self.signal;
        let shutdown = async move {
            let handle = async move {
                // A dropped handle is not a shutdown: serve on.
                if stopped.await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = signal => {}
                () = handle => {}
            }
        };
        let task = tokio::spawn(run(self.options, self.listener, self.service, shutdown));
        ServerHandle {
            addr,
            stop: Some(stop),
            task,
        }
    }
}

impl<S, B, F> IntoFuture for Serve<S, F>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self.options, self.listener, self.service, self.signal))
    }
}

/// A server running on its own task ([`Serve::spawn`]).
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<io::Result<()>>,
}

impl ServerHandle {
    /// The address the server listens on (with the port the system chose for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Shuts the server down gracefully (see [`Serve`]) and waits until it has: in-flight
    /// calls finished or the [shutdown timeout](Server::shutdown_timeout) passed.
    pub async fn shutdown(mut self) -> io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(err) => Err(io::Error::other(err)),
        }
    }
}

/// Makes any service's error an answer: [`RecoverError`](crate::RecoverError) for a body of
/// any type (the envelope is the other side of an `Either`).
struct Recovered<S> {
    inner: S,
    not_ready: Option<BoxError>,
}

impl<S: Clone> Clone for Recovered<S> {
    fn clone(&self) -> Self {
        Recovered {
            inner: self.inner.clone(),
            not_ready: None,
        }
    }
}

type RecoveredBody<B> = Either<B, Full<Bytes>>;

/// How [`Recovered`] turns its inner service's outcome into an answer.
type Finish<B, E> = fn(Result<Response<B>, E>) -> Result<Response<RecoveredBody<B>>, Infallible>;

fn recovered<B>(err: BoxError) -> Response<RecoveredBody<B>> {
    crate::recover::error_from(err)
        .into_http_response()
        .map(|bytes| Either::Right(Full::new(bytes)))
}

impl<S, R, B> tower_service::Service<R> for Recovered<S>
where
    S: tower_service::Service<R, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<RecoveredBody<B>>;
    type Error = Infallible;
    /// Named (no box per call): the inner future with its error turned into an answer, or
    /// the answer to a service that was not ready.
    type Future = futures_util::future::Either<
        futures_util::future::Map<S::Future, Finish<B, S::Error>>,
        std::future::Ready<Result<Self::Response, Infallible>>,
    >;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        if self.not_ready.is_some() {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(err)) => {
                self.not_ready = Some(err.into());
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, request: R) -> Self::Future {
        use futures_util::FutureExt;
        if let Some(err) = self.not_ready.take() {
            return futures_util::future::Either::Right(std::future::ready(Ok(recovered(err))));
        }
        let finish: Finish<B, S::Error> = |result| {
            Ok(match result {
                Ok(response) => response.map(Either::Left),
                Err(err) => recovered(err.into()),
            })
        };
        futures_util::future::Either::Left(self.inner.call(request).map(finish))
    }
}

/// The accept loop and graceful shutdown behind [`Serve`] and [`Server::serve`].
async fn run<S, B, F>(
    options: Server,
    listener: TcpListener,
    service: S,
    shutdown: F,
) -> io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
    F: Future<Output = ()> + Send,
{
    let service = Recovered {
        inner: service,
        not_ready: None,
    };
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(options.http2_keep_alive);
    if let Some(interval) = options.http2_keep_alive {
        builder.http2().keep_alive_timeout(interval);
    }

    let graceful = GracefulShutdown::new();
    // Tells connections still waiting for their first bytes that shutdown has begun:
    // they hold a watcher, and would otherwise hold up the shutdown until their header
    // read timeout.
    let (stopping, stop_waiting) = tokio::sync::watch::channel(false);
    let limit = options.max_connections.map(|n| Arc::new(Semaphore::new(n)));
    let mut shutdown = std::pin::pin!(shutdown);
    let local = listener.local_addr().ok();
    tracing::info!(addr = ?local, "webrpc server listening");

    loop {
        let permit = match &limit {
            Some(semaphore) => tokio::select! {
                permit = Arc::clone(semaphore).acquire_owned() => permit.ok(),
                () = &mut shutdown => break,
            },
            None => None,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(error = %err, "accept failed");
                    if !is_per_connection_error(&err) {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small request/response exchanges: do not wait for Nagle.
        let _ = stream.set_nodelay(true);
        let first_bytes_timeout = options.header_read_timeout;
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let mut stop_waiting = stop_waiting.clone();
        // Open streams end when shutdown begins (see `stream::StreamShutdown`).
        let service = crate::stream::WithShutdown {
            inner: service.clone(),
            connection: Arc::new(crate::stream::ConnectionParts {
                signal: crate::stream::StreamShutdown::new(stop_waiting.clone()),
                probe: crate::peer::PeerProbe::new(&stream),
            }),
        };
        tokio::spawn(async move {
            let _permit = permit;
            // hyper's header read timeout starts once hyper-util's `auto` builder has read
            // enough to tell HTTP/1 from HTTP/2, and that detection has no timer of its own
            // (hyperium/hyper#3756): a client that connects and sends nothing would hold the
            // connection forever. Wait for its first byte here, under the same timeout. (A
            // client that sends a first byte of the HTTP/2 preface and then stalls is still
            // held until it hangs up or shutdown; HTTP/1 requests are told apart at once.)
            if let Some(timeout) = first_bytes_timeout {
                let mut first = [0u8; 1];
                let peeked = tokio::select! {
                    peeked = tokio::time::timeout(timeout, stream.peek(&mut first)) => peeked,
                    _ = stop_waiting.wait_for(|stopping| *stopping) => {
                        tracing::debug!(%peer, "shutting down: closing a connection that sent nothing");
                        return;
                    }
                };
                if !matches!(peeked, Ok(Ok(n)) if n > 0) {
                    tracing::debug!(%peer, "closing a connection that sent nothing");
                    return;
                }
            }
            let connection =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(err) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
        });
    }

    drop(listener);
    let _ = stopping.send(true);
    tracing::info!(
        connections = graceful.count(),
        "webrpc server shutting down"
    );
    match options.shutdown_timeout {
        Some(timeout) => {
            if tokio::time::timeout(timeout, graceful.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("shutdown timeout elapsed with connections still open");
            }
        }
        None => graceful.shutdown().await,
    }
    Ok(())
}

/// Errors of one accepted connection (the peer gave up before we took it); the listener
/// itself is fine, so no pause is needed.
fn is_per_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
