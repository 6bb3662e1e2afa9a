//! [`MetadataApp`]: the whole HTTP surface of the server as one tower service.
//!
//! ```text
//!                    ┌─ /rpc/…       → AuthLayer → webrpc Router (Collections → MetadataService)
//! request → access ──┼─ /projects/…  → public metadata (no auth)
//!            log     └─ anything else → webrpc Router (answers WebrpcBadRoute)
//! ```
//!
//! It is `Clone`, `Send` and `Sync` with `Error = Infallible`, so it runs under
//! `webrpc_server::Server`, and a `webrpc_client::Client` can use it as its transport in
//! process (`Client::builder(url).build_with(app)`), auth included.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, Response};
use http_body::Body;
use http_body_util::Full;
use sequence_metadata::MetadataError;
use tower::{Layer, ServiceExt};
use webrpc_server::{BoxError, ConcurrencyLimit, Router};

use super::auth::{Auth, AuthLayer, JwtAuth};
use super::public::{self, PUBLIC_PREFIX};
use super::service::MetadataService;
use super::store::Store;

/// Limits on the webrpc calls a [`MetadataApp`] runs (the `metadata-server` flags
/// `--max-concurrent-calls`, `--queue-timeout-ms` and `--handler-timeout-secs`). They apply
/// to `/rpc/…` calls that passed auth; the public metadata routes are not limited.
///
/// Default: no limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallLimits {
    /// Most calls run at once; 0 is no limit. A call over it waits up to
    /// [`queue_timeout`](Self::queue_timeout) for a slot, then is answered `RateLimited`
    /// (2005, HTTP 429) with cause `server overloaded: …`.
    pub max_concurrent_calls: usize,
    /// How long a call over the limit waits for a slot; zero rejects it at once.
    pub queue_timeout: Duration,
    /// Longest a handler may run; a call still running then is cancelled and answered
    /// `WebrpcInternalError` with HTTP status 504. `None` is no limit.
    pub handler_timeout: Option<Duration>,
}

impl CallLimits {
    /// `router` with these limits.
    pub fn apply(&self, mut router: Router) -> Router {
        if self.max_concurrent_calls > 0 {
            router = router.concurrency_limit(
                ConcurrencyLimit::new(self.max_concurrent_calls)
                    .queue_timeout(self.queue_timeout)
                    .rejection(MetadataError::RateLimited.err()),
            );
        }
        if let Some(timeout) = self.handler_timeout {
            router = router.handler_timeout(timeout);
        }
        router
    }
}

/// The server's tower service. See the module docs.
#[derive(Debug)]
pub struct MetadataApp<S> {
    service: Arc<MetadataService<S>>,
    rpc: Auth<Router>,
    router: Router,
}

impl<S> Clone for MetadataApp<S> {
    fn clone(&self) -> Self {
        MetadataApp {
            service: Arc::clone(&self.service),
            rpc: self.rpc.clone(),
            router: self.router.clone(),
        }
    }
}

impl<S: Store> MetadataApp<S> {
    /// The app over `store`: tokens are checked with `auth`, `baseURIs` start with
    /// `public_url`.
    pub fn new(store: Arc<S>, auth: JwtAuth, public_url: &str) -> Self {
        Self::with_limits(store, auth, public_url, CallLimits::default())
    }

    /// Like [`new`](Self::new), with limits on the calls run at once and on their duration.
    pub fn with_limits(store: Arc<S>, auth: JwtAuth, public_url: &str, limits: CallLimits) -> Self {
        let service = Arc::new(MetadataService::new(store, public_url));
        let router = limits.apply(sequence_metadata::router(Arc::clone(&service)));
        let rpc = AuthLayer::new(auth, sequence_metadata::WEBRPC_HEADER).layer(router.clone());
        MetadataApp {
            service,
            rpc,
            router,
        }
    }

    /// The `Collections` implementation behind the app.
    pub fn service(&self) -> &Arc<MetadataService<S>> {
        &self.service
    }
}

/// A request path in the access log: written as is when it is ASCII (a parsed URI path has no
/// spaces or ASCII control characters), else escaped like a `Debug` string, so a path with
/// C1 control characters in UTF-8 cannot reach a terminal raw. Writing as is skips the
/// per-character escaping that was a tenth of the server's work per request.
struct LogPath<'a>(&'a str);

impl std::fmt::Display for LogPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_ascii() {
            f.write_str(self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

/// The future of a [`MetadataApp`] call.
pub type AppFuture =
    Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl<S, B> tower::Service<Request<B>> for MetadataApp<S>
where
    S: Store,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = AppFuture;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> AppFuture {
        // The access line is one event: method, path, status, latency (the clock is read only
        // when the line is written).
        let started = tracing::enabled!(tracing::Level::INFO).then(Instant::now);
        let method = request.method().clone();
        // A clone of a parsed URI shares its bytes (no copy); only its path is logged, never
        // the query string.
        let uri = request.uri().clone();
        let this = self.clone();
        Box::pin(async move {
            let path = uri.path();
            let response = if path.starts_with(PUBLIC_PREFIX) {
                public::handle(this.service, method.clone(), path.to_owned()).await
            } else if path.starts_with(this.router.basepath()) {
                match this.rpc.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            } else {
                match this.router.oneshot(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            };
            if let Some(started) = started {
                tracing::info!(
                    %method,
                    path = %LogPath(path),
                    status = response.status().as_u16(),
                    elapsed_us = started.elapsed().as_micros() as u64,
                    "request"
                );
            }
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::LogPath;

    #[test]
    fn log_path_is_raw_when_ascii_and_escaped_otherwise() {
        assert_eq!(
            LogPath("/rpc/Collections/GetCollection").to_string(),
            "/rpc/Collections/GetCollection"
        );
        assert_eq!(
            LogPath("/projects/1/\u{9b}31m").to_string(),
            "\"/projects/1/\\u{9b}31m\""
        );
    }
}
