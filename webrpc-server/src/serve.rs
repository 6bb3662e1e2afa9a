//! Serving a router (or any HTTP `tower::Service`) on a TCP listener with hyper 1:
//! HTTP/1.1 and cleartext HTTP/2 (h2c) on the same port, a header read timeout, an optional
//! connection cap, and graceful shutdown that lets in-flight calls finish.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
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

/// Serving options. `Server::new().serve(listener, router, shutdown)` runs until `shutdown`
/// completes, then stops accepting, lets in-flight calls finish and returns.
///
/// ```no_run
/// # async fn run(router: webrpc_server::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:4242").await?;
/// webrpc_server::Server::new()
///     .serve(listener, router, async { /* e.g. tokio::signal::ctrl_c() */ })
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

    /// Serves `service` on `listener` until `shutdown` completes, then shuts down gracefully:
    /// stops accepting, finishes the calls in flight (HTTP/1 connections close after their
    /// current response, HTTP/2 connections get a GOAWAY; connections that have not sent a
    /// byte yet are closed at once), and returns. Open streams of stream methods end at once
    /// with the line `WebrpcStreamLost` (cause `server shutting down`), so their clients
    /// reconnect elsewhere (see [`StreamShutdown`](crate::stream::StreamShutdown)).
    ///
    /// Accept errors (such as running out of file descriptors) are logged and retried after a
    /// short pause; they do not stop the server.
    pub async fn serve<S, B, F>(
        self,
        listener: TcpListener,
        service: S,
        shutdown: F,
    ) -> io::Result<()>
    where
        S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<BoxError>,
        F: Future<Output = ()> + Send,
    {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(self.header_read_timeout);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(self.http2_keep_alive);
        if let Some(interval) = self.http2_keep_alive {
            builder.http2().keep_alive_timeout(interval);
        }

        let graceful = GracefulShutdown::new();
        // Tells connections still waiting for their first bytes that shutdown has begun:
        // they hold a watcher, and would otherwise hold up the shutdown until their header
        // read timeout.
        let (stopping, stop_waiting) = tokio::sync::watch::channel(false);
        let limit = self.max_connections.map(|n| Arc::new(Semaphore::new(n)));
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
            let first_bytes_timeout = self.header_read_timeout;
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let mut stop_waiting = stop_waiting.clone();
            // Open streams end when shutdown begins (see `stream::StreamShutdown`).
            let service = crate::stream::WithShutdown {
                inner: service.clone(),
                signal: crate::stream::StreamShutdown::new(stop_waiting.clone()),
                probe: crate::peer::PeerProbe::new(&stream),
            };
            tokio::spawn(async move {
                let _permit = permit;
                // hyper's header read timeout starts once a request begins; the protocol
                // detection before it has none, so a client that connects and sends nothing
                // would hold the connection forever. Wait for its first bytes here.
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
                let connection = builder
                    .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
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
        match self.shutdown_timeout {
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

/// Serves `service` on `listener` with default options until the process ends.
pub async fn serve<S, B>(listener: TcpListener, service: S) -> io::Result<()>
where
    S: tower_service::Service<Request<Incoming>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    Server::new()
        .serve(listener, service, std::future::pending())
        .await
}
