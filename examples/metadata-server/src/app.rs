//! [`MetadataApp`]: the whole HTTP surface of the server, an axum [`axum::Router`] behind
//! the access log.
//!
//! ```text
//!                    ┌─ /rpc/{*path}       → CorsLayer → AuthLayer → webrpc Router (Collections)
//! request → access ──┼─ /projects/{*path}  → CorsLayer → public metadata and asset files (no
//!            log     │                       auth), asset upload (JWT; see `upload`)
//!                    ├─ GET /health        → {"status":"ok","version":…}
//!                    └─ anything else      → webrpc Router (answers WebrpcBadRoute)
//! ```
//!
//! CORS (tower-http's [`CorsLayer`]), on `/rpc/…` and `/projects/…` (where asset uploads
//! go), sits outside the auth checks, so a browser's preflight
//! (`OPTIONS` with `Origin` and `Access-Control-Request-*`) is answered without a token. It
//! allows the request headers `Authorization`, `Content-Type`, `Webrpc` and `X-Access-Key`,
//! the methods `POST` and `PUT`, exposes `Webrpc`, and allows any origin unless
//! [`AppConfig::cors_origins`] lists some (tokens travel in headers, never in cookies, so
//! `*` hands a page nothing it did not already hold).
//!
//! A `/rpc/…` call without an `Origin` header (any client but a browser) skips axum's routing
//! and CORS: [`MetadataApp`] hands it straight to the auth layer and the webrpc router. CORS
//! headers mean nothing to such a client, and the routing, the body boxing and the four
//! CORS response headers were a measured part of each call's cost (`docs/benchmarks.md`).
//! Browsers send `Origin` on every cross-origin request and on every `POST`, so they keep
//! going through CORS.
//!
//! The access log stays the one event per request written by [`MetadataApp`] itself rather
//! than tower-http's `TraceLayer`: `TraceLayer` opens a span per request, and a span per
//! call was measured (callgrind, see `logging`) to cost as much as the access line itself.
//!
//! It is `Clone`, `Send` and `Sync` with `Error = Infallible`, so it runs under
//! `webrpc_server::Server`, and a `webrpc_client::Client` can use it as its transport in
//! process (`Client::builder(url).build_with(app)`), auth included.

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response as AxumResponse};
use axum::routing::{any, get};
use bytes::Bytes;
use futures_util::future::Either;
use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_TYPE, ORIGIN};
use http::{Method, Request, Response};
use http_body::Body;
use sequence_metadata::MetadataError;
use serde::Serialize;
use tower::{Layer, ServiceBuilder};
use tower_http::cors::{AllowOrigin, CorsLayer};
use webrpc_server::{BoxError, ConcurrencyLimit, ResponseBody, Router, RouterFuture};

use super::assets::{AssetFiles, DEFAULT_MAX_UPLOAD_BYTES};
use super::auth::{AuthLayer, JwtAuth};
use super::public::{self, PUBLIC_PREFIX};
use super::service::MetadataService;
use super::store::Store;
use super::upload::{self, AssetPath, Uploads};

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

/// How a [`MetadataApp`] is set up beyond its store and auth.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppConfig {
    /// Limits on the webrpc calls.
    pub limits: CallLimits,
    /// Origins allowed by CORS (`--cors-origin`, e.g. `http://localhost:3000`); empty allows
    /// any origin (`Access-Control-Allow-Origin: *`).
    pub cors_origins: Vec<HeaderValue>,
    /// Directory of uploaded asset files (`<db>.assets/` for SQLite); `None` is a temporary
    /// directory removed with the app.
    pub assets_dir: Option<PathBuf>,
    /// Largest asset upload in bytes; 0 is [`DEFAULT_MAX_UPLOAD_BYTES`].
    pub max_upload_bytes: u64,
}

/// The CORS layer of the `/rpc/…` routes; see the module docs.
pub fn cors_layer(origins: &[HeaderValue]) -> CorsLayer {
    let allow_origin = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().cloned())
    };
    CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([Method::POST, Method::PUT])
        .allow_headers([
            AUTHORIZATION,
            CONTENT_TYPE,
            HeaderName::from_static("webrpc"),
            HeaderName::from_static("x-access-key"),
        ])
        .expose_headers([HeaderName::from_static("webrpc")])
        .max_age(Duration::from_secs(3600))
}

/// The body of `GET /health`.
#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'static str>,
}

/// How long `GET /health` waits for the store's answer before it says `unavailable`.
const HEALTH_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The state of the axum routes.
struct RouteState<S> {
    service: Arc<MetadataService<S>>,
    uploads: Arc<Uploads>,
    /// One store check of `GET /health` at a time: the route needs no token, so a flood
    /// of it must not take more than one blocking thread and one database connection.
    health_check: Arc<tokio::sync::Mutex<()>>,
}

impl<S> Clone for RouteState<S> {
    fn clone(&self) -> Self {
        RouteState {
            service: Arc::clone(&self.service),
            uploads: Arc::clone(&self.uploads),
            health_check: Arc::clone(&self.health_check),
        }
    }
}

/// The server's tower service. See the module docs.
///
/// Cloning it (hyper's adapter clones the service for every request) is one reference count.
#[derive(Debug)]
pub struct MetadataApp<S> {
    shared: Arc<AppShared<S>>,
}

#[derive(Debug)]
struct AppShared<S> {
    service: Arc<MetadataService<S>>,
    router: axum::Router,
    /// `/rpc/…` calls without `Origin`: auth, then the webrpc router, no CORS (module docs).
    auth: AuthLayer,
    webrpc: Router,
    /// The webrpc base path (`/rpc/`).
    rpc_prefix: Arc<str>,
}

impl<S> Clone for MetadataApp<S> {
    fn clone(&self) -> Self {
        MetadataApp {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<S: Store> MetadataApp<S> {
    /// The app over `store`: tokens are checked with `auth`, `baseURIs` start with
    /// `public_url`.
    pub fn new(store: Arc<S>, auth: JwtAuth, public_url: &str) -> Self {
        Self::with_config(store, auth, public_url, AppConfig::default())
    }

    /// Like [`new`](Self::new), with limits on the calls run at once and on their duration.
    pub fn with_limits(store: Arc<S>, auth: JwtAuth, public_url: &str, limits: CallLimits) -> Self {
        let config = AppConfig {
            limits,
            ..AppConfig::default()
        };
        Self::with_config(store, auth, public_url, config)
    }

    /// Like [`new`](Self::new), configured by `config`.
    ///
    /// # Panics
    ///
    /// When the asset directory cannot be opened; [`try_with_config`](Self::try_with_config)
    /// returns that error instead.
    pub fn with_config(store: Arc<S>, auth: JwtAuth, public_url: &str, config: AppConfig) -> Self {
        Self::try_with_config(store, auth, public_url, config).expect("open the asset directory")
    }

    /// Like [`with_config`](Self::with_config), failing when the asset directory cannot be
    /// opened or created.
    pub fn try_with_config(
        store: Arc<S>,
        auth: JwtAuth,
        public_url: &str,
        config: AppConfig,
    ) -> std::io::Result<Self> {
        let files = Arc::new(match &config.assets_dir {
            Some(dir) => {
                let files = AssetFiles::open(dir)?;
                // Files a crash left without a live asset (see `AssetFiles::sweep`).
                let swept = files.sweep(&*store).map_err(std::io::Error::other)?;
                if swept > 0 {
                    tracing::info!(files = swept, "removed unused asset files");
                }
                files
            }
            None => AssetFiles::temporary()?,
        });
        let uploads = Arc::new(Uploads {
            auth: auth.clone(),
            files: Arc::clone(&files),
            max_bytes: match config.max_upload_bytes {
                0 => DEFAULT_MAX_UPLOAD_BYTES,
                n => n,
            },
            public_url: public_url.trim_end_matches('/').to_owned(),
        });
        let service = Arc::new(MetadataService::new(store, public_url).with_files(files));
        let webrpc = config
            .limits
            .apply(sequence_metadata::router(Arc::clone(&service)));
        let auth = AuthLayer::new(auth, sequence_metadata::WEBRPC_HEADER);
        let rpc = ServiceBuilder::new()
            .layer(cors_layer(&config.cors_origins))
            .service(auth.layer(webrpc.clone()));
        let rpc_prefix: Arc<str> = webrpc.basepath().into();
        let router = axum::Router::new()
            .route_service(&format!("{rpc_prefix}{{*path}}"), rpc)
            // CORS here too: a browser's upload (`PUT` with `Authorization`) is preflighted.
            .route(
                &format!("{PUBLIC_PREFIX}{{*path}}"),
                any(public_route::<S>).layer(cors_layer(&config.cors_origins)),
            )
            .route("/health", get(health::<S>))
            .fallback_service(webrpc.clone())
            // Uploads count their own bytes against `max_upload_bytes`.
            .layer(DefaultBodyLimit::disable())
            .with_state(RouteState {
                service: Arc::clone(&service),
                uploads,
                health_check: Arc::default(),
            });
        Ok(MetadataApp {
            shared: Arc::new(AppShared {
                service,
                router,
                auth,
                webrpc,
                rpc_prefix,
            }),
        })
    }

    /// The `Collections` implementation behind the app.
    pub fn service(&self) -> &Arc<MetadataService<S>> {
        &self.shared.service
    }
}

/// `GET /health`: `200 {"status":"ok"}` when the store answers a read (for PostgreSQL: a
/// pooled connection runs a query), `503 {"status":"unavailable"}` when it fails or does not
/// answer within [`HEALTH_STORE_TIMEOUT`]. The failure's details go to the log only: the
/// route needs no token.
async fn health<S: Store>(State(state): State<RouteState<S>>) -> AxumResponse {
    let check = async {
        let _one_at_a_time = state.health_check.lock().await;
        let store = Arc::clone(state.service.store());
        tokio::task::spawn_blocking(move || crate::collections::next_collection_id(&*store)).await
    };
    let failure = match tokio::time::timeout(HEALTH_STORE_TIMEOUT, check).await {
        Ok(Ok(Ok(_))) => None,
        Ok(Ok(Err(err))) => Some(err.to_string()),
        Ok(Err(err)) => Some(format!("the store check did not finish: {err}")),
        Err(_) => Some(format!(
            "the store did not answer within {} s",
            HEALTH_STORE_TIMEOUT.as_secs()
        )),
    };
    let (code, status, cause) = match failure {
        None => (http::StatusCode::OK, "ok", None),
        Some(err) => {
            tracing::warn!(error = %err, "health check: the store is unavailable");
            let cause = "the metadata store did not answer; the server log has the details";
            (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                Some(cause),
            )
        }
    };
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        cause,
    };
    (code, axum::Json(body)).into_response()
}

/// The public metadata routes (see [`public`]) and the asset routes (see [`upload`]); they
/// parse the path themselves, so every id is checked to be canonical in one place.
async fn public_route<S: Store>(
    State(state): State<RouteState<S>>,
    request: axum::extract::Request,
) -> AxumResponse {
    let method = request.method().clone();
    let is_read = method == Method::GET || method == Method::HEAD;
    match upload::parse(request.uri().path()) {
        Some(AssetPath::Upload {
            project,
            collection,
            asset,
        }) if method == Method::PUT => {
            upload::upload(
                state.service,
                state.uploads,
                request,
                (project, collection, asset),
            )
            .await
        }
        Some(AssetPath::File {
            project,
            collection,
            asset,
            sha256,
        }) if is_read => {
            upload::serve(
                state.service,
                state.uploads,
                request,
                (project, collection, asset, sha256),
            )
            .await
        }
        _ => public::handle(state.service, method, request.uri().path().to_owned())
            .await
            .into_response(),
    }
}

/// Where a [`MetadataApp`] call is, and what its access line needs.
#[derive(Debug)]
pub struct AppFuture {
    inner: AppInner,
    /// When the call began: `None` when the access line is not written (the level is above
    /// `info`), so the clock is read only when it is.
    started: Option<Instant>,
    method: Method,
    /// Only its path is logged, never the query string.
    uri: http::Uri,
}

/// The future of the service that answers the call.
enum AppInner {
    /// A `/rpc/…` call without `Origin`: the webrpc router's call, or the auth layer's
    /// refusal (no allocation here).
    Direct(Either<RouterFuture, std::future::Ready<Result<Response<ResponseBody>, Infallible>>>),
    /// Everything else: the axum routes, CORS included.
    Axum(Pin<Box<axum::routing::future::RouteFuture<Infallible>>>),
}

impl std::fmt::Debug for AppInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AppInner::Direct(_) => "Direct",
            AppInner::Axum(_) => "Axum",
        })
    }
}

impl Future for AppFuture {
    type Output = Result<AxumResponse, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let response = match &mut this.inner {
            AppInner::Direct(future) => match Pin::new(future).poll(cx) {
                Poll::Ready(Ok(response)) => response.map(axum::body::Body::new),
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => return Poll::Pending,
            },
            AppInner::Axum(future) => match future.as_mut().poll(cx) {
                Poll::Ready(Ok(response)) => response,
                Poll::Ready(Err(never)) => match never {},
                Poll::Pending => return Poll::Pending,
            },
        };
        // The access line: method, path, status, latency.
        if let Some(started) = this.started.take() {
            crate::logging::access_line(
                &this.method,
                this.uri.path(),
                response.status().as_u16(),
                started.elapsed().as_micros() as u64,
            );
        }
        Poll::Ready(Ok(response))
    }
}

impl<S, B> tower::Service<Request<B>> for MetadataApp<S>
where
    S: Store,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = AxumResponse;
    type Error = Infallible;
    type Future = AppFuture;

    /// Always ready: so are the two services behind it (the auth layer over the webrpc
    /// router, and axum's router), which is why `call` calls them without
    /// asking.
    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> AppFuture {
        let started =
            tracing::enabled!(target: crate::logging::ACCESS_TARGET, tracing::Level::INFO)
                .then(Instant::now);
        let method = request.method().clone();
        // A clone of a parsed URI shares its bytes (no copy).
        let uri = request.uri().clone();
        let path = uri.path();
        // What the axum route `/rpc/{*path}` matches (a non-empty rest), for a client that
        // does not ask for CORS.
        let shared = &*self.shared;
        let direct = path.len() > shared.rpc_prefix.len()
            && path.starts_with(&*shared.rpc_prefix)
            && !request.headers().contains_key(ORIGIN);
        let mut request = request;
        let inner = if direct {
            // What `auth::Auth` over the router does, without cloning the layer for the call.
            AppInner::Direct(match shared.auth.authorize(&mut request) {
                None => Either::Left(tower::Service::call(&mut shared.webrpc.clone(), request)),
                Some(answer) => Either::Right(std::future::ready(Ok(answer))),
            })
        } else {
            let request = request.map(axum::body::Body::new);
            AppInner::Axum(Box::pin(tower::Service::call(
                &mut shared.router.clone(),
                request,
            )))
        };
        AppFuture {
            inner,
            started,
            method,
            uri,
        }
    }
}
