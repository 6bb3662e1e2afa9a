//! The default transport: a pooled hyper-util client speaking HTTP/1.1 and HTTP/2, with HTTPS
//! through rustls (feature `rustls`, on by default).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// How long an idle pooled connection is kept: 4 seconds.
///
/// Shorter than the keep-alive of the servers a client commonly meets (Node.js 5 s, Go's
/// `net/http` and load balancers 60 s and more, nginx 75 s), so the client closes an idle
/// connection before the server does and a call never lands on a connection the server is
/// closing. Busy connections are reused however long the traffic lasts.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// How long establishing a TCP connection may take: 10 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[cfg(feature = "rustls")]
type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
#[cfg(not(feature = "rustls"))]
type Connector = HttpConnector;

/// Options of [`HttpTransport`].
#[derive(Debug, Clone)]
pub struct TransportOptions {
    /// Idle pooled connections are closed after this. Default:
    /// [`DEFAULT_POOL_IDLE_TIMEOUT`].
    pub pool_idle_timeout: Duration,
    /// Most idle connections kept per host. Default: unlimited (`usize::MAX`).
    pub pool_max_idle_per_host: usize,
    /// TCP connect timeout. Default: [`DEFAULT_CONNECT_TIMEOUT`].
    pub connect_timeout: Duration,
    /// Speak HTTP/2 without negotiation (h2c "prior knowledge") on `http://` URLs. Over HTTPS
    /// the version is negotiated with ALPN whatever this says. Default: `false`.
    pub http2_prior_knowledge: bool,
}

impl Default for TransportOptions {
    fn default() -> Self {
        TransportOptions {
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            pool_max_idle_per_host: usize::MAX,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            http2_prior_knowledge: false,
        }
    }
}

/// The pooled hyper-util HTTP client used by default: HTTP/1.1 and HTTP/2 (ALPN over TLS,
/// prior knowledge in cleartext when asked), `TCP_NODELAY`, and HTTPS with rustls and the
/// webpki root certificates when the `rustls` feature is on.
///
/// It is a `tower::Service<http::Request<Full<Bytes>>>`; cloning it shares the pool.
#[derive(Clone, Debug)]
pub struct HttpTransport {
    client: hyper_util::client::legacy::Client<Connector, Full<Bytes>>,
}

impl HttpTransport {
    /// A transport with default options.
    pub fn new() -> Self {
        Self::with_options(&TransportOptions::default())
    }

    /// A transport with the given options.
    pub fn with_options(options: &TransportOptions) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(options.connect_timeout));
        http.enforce_http(false);
        #[cfg(feature = "rustls")]
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .expect("the ring provider supports rustls' default protocol versions")
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        #[cfg(not(feature = "rustls"))]
        let connector = http;
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .pool_idle_timeout(options.pool_idle_timeout)
            .pool_max_idle_per_host(options.pool_max_idle_per_host)
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .http2_only(options.http2_prior_knowledge)
            .build(connector);
        HttpTransport { client }
    }
}

impl Default for HttpTransport {
    fn default() -> Self {
        Self::new()
    }
}

/// The future of an [`HttpTransport`] call.
pub struct TransportFuture {
    inner: hyper_util::client::legacy::ResponseFuture,
}

impl std::fmt::Debug for TransportFuture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportFuture").finish_non_exhaustive()
    }
}

impl Future for TransportFuture {
    type Output = Result<Response<Incoming>, hyper_util::client::legacy::Error>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl tower_service::Service<Request<Full<Bytes>>> for HttpTransport {
    type Response = Response<Incoming>;
    type Error = hyper_util::client::legacy::Error;
    type Future = TransportFuture;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        TransportFuture {
            inner: self.client.request(request),
        }
    }
}
