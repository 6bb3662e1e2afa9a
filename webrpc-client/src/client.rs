//! The typed client.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE};
use http::uri::PathAndQuery;
use http::{Extensions, HeaderMap, Request, Response, Uri};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tower::ServiceExt;
use webrpc_core::codec::{self, JSON_CONTENT_TYPE};
use webrpc_core::{
    normalize_basepath, BuiltinError, Caller, MessageStream, Method, MethodInfo, RequestContext,
    StreamMethod, WebrpcError, DEFAULT_BASEPATH, WEBRPC_HEADER_NAME,
};

use crate::transport::{HttpTransport, TransportOptions};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Default per-call timeout (request sent and response read): 30 seconds.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Default limit on a response body: 32 MiB.
pub const DEFAULT_RESPONSE_LIMIT: usize = 32 * 1024 * 1024;

/// The `X-Access-Key` header of Sequence's public endpoints.
pub const X_ACCESS_KEY: HeaderName = HeaderName::from_static("x-access-key");

static JSON: HeaderValue = HeaderValue::from_static(JSON_CONTENT_TYPE);

/// A client configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The base URL is not an absolute `http://` or `https://` URL.
    #[error("invalid base URL {0:?}: expected http://host[:port][/prefix] or https://…")]
    BaseUrl(String),
    /// A header value holds bytes not allowed in headers.
    #[error("invalid value for header {0}")]
    HeaderValue(String),
}

/// Per-call options: extra headers and extensions, a timeout, a cancellation signal.
///
/// They start empty ([`new`](Self::new), `Default`): a call sends the client's default
/// headers and what its options add, nothing else. They are also the `Ctx` of a generated
/// client (`FooClient<Client>`), so a server handler that calls another service passes
/// options it built, never its [`RequestContext`]: there is no conversion from one to the
/// other, and nothing of the incoming request (`Host`, `Content-Length`, `Authorization`,
/// `Cookie`, …) is forwarded unless the code names it:
///
/// ```
/// use http::header::{HeaderName, AUTHORIZATION};
/// use webrpc_client::CallOptions;
/// use webrpc_core::RequestContext;
///
/// # let ctx = RequestContext::new()
/// #     .with_header(AUTHORIZATION, http::HeaderValue::from_static("Bearer t"))
/// #     .with_header(http::header::COOKIE, http::HeaderValue::from_static("s=1"));
/// // In a handler: pass the caller's token on, and only that.
/// let options = CallOptions::new().forward(&ctx, AUTHORIZATION);
/// assert_eq!(options.headers.len(), 1);
/// assert_eq!(options.headers[AUTHORIZATION], "Bearer t");
/// // The same, spelled out; a header the request does not have is not added.
/// let mut options = CallOptions::new();
/// if let Some(value) = ctx.header(HeaderName::from_static("x-request-id")) {
///     options = options.header(HeaderName::from_static("x-request-id"), value.clone());
/// }
/// assert!(options.headers.is_empty());
/// ```
#[derive(Default)]
#[non_exhaustive]
pub struct CallOptions {
    /// Headers sent with this call, after (and replacing) the client's default headers.
    pub headers: HeaderMap,
    /// Extensions put in the outgoing request, for the transport's middleware.
    pub extensions: Extensions,
    /// This call's timeout, instead of the client's.
    pub timeout: Option<Duration>,
    pub(crate) cancel: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("cancellable", &self.cancel.is_some())
            .finish_non_exhaustive()
    }
}

impl CallOptions {
    /// No extra headers, no extensions, the client's timeout, no cancellation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets this call's timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Adds a header to this call (replacing any earlier value of that name). A sensitive
    /// value (`HeaderValue::set_sensitive`) stays out of `Debug` output.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Copies one header, every value of it, from an incoming request to this call: the
    /// explicit way for a handler to pass, say, its caller's `Authorization` on. Does nothing
    /// when the request has no such header. Nothing else of the request is copied.
    #[must_use]
    pub fn forward(mut self, ctx: &RequestContext, name: HeaderName) -> Self {
        let mut values = ctx.headers().get_all(&name).iter();
        if let Some(first) = values.next() {
            self.headers.insert(name.clone(), first.clone());
            for value in values {
                self.headers.append(name.clone(), value.clone());
            }
        }
        self
    }

    /// Puts a value in the outgoing request's extensions (for the transport's middleware;
    /// extensions are never sent).
    #[must_use]
    pub fn extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// Cancels the call when `signal` completes first: the call then fails with
    /// `WebrpcClientDisconnected` (-8, the code newer webrpc names `WebrpcClientAborted`).
    /// Dropping the call's future cancels it too, without an error to report.
    #[must_use]
    pub fn cancel_on(mut self, signal: impl Future<Output = ()> + Send + 'static) -> Self {
        self.cancel = Some(Box::pin(signal));
        self
    }
}

#[derive(Debug)]
pub(crate) struct Config {
    scheme: http::uri::Scheme,
    authority: http::uri::Authority,
    /// `{prefix}{basepath}`, ready to have `Service/Method` appended.
    path_prefix: String,
    /// The paths built so far, `(service, method, path)`: a call clones its method's path
    /// (a reference count) instead of building and validating it again.
    paths: RwLock<Vec<(&'static str, &'static str, PathAndQuery)>>,
    headers: HeaderMap,
    pub(crate) timeout: Option<Duration>,
    pub(crate) response_limit: usize,
    pub(crate) stream_inactivity_timeout: Option<Duration>,
    /// Whether requests carry their [`MethodInfo`](webrpc_core::MethodInfo) extension: for
    /// any transport given to `build_with` (its middleware may read it), not for the default
    /// transport, which nothing reads it from.
    method_info: bool,
}

/// Most paths a client keeps (more methods than that are built at each call).
const MAX_CACHED_PATHS: usize = 256;

impl Config {
    /// `{prefix}{basepath}{Service}/{Method}` of a method.
    fn path_of(&self, info: MethodInfo) -> Result<PathAndQuery, WebrpcError> {
        let same = |(service, method, _): &&(&str, &str, PathAndQuery)| {
            *service == info.service && *method == info.method
        };
        if let Some((_, _, path)) = self
            .paths
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(same)
        {
            return Ok(path.clone());
        }
        let mut text = String::with_capacity(
            self.path_prefix.len() + info.service.len() + info.method.len() + 1,
        );
        text.push_str(&self.path_prefix);
        text.push_str(info.service);
        text.push('/');
        text.push_str(info.method);
        let path = PathAndQuery::from_maybe_shared(Bytes::from(text)).map_err(|err| {
            BuiltinError::WebrpcRequestFailed.with_cause(format!("invalid request URL: {err}"))
        })?;
        let mut paths = self.paths.write().unwrap_or_else(|e| e.into_inner());
        if paths.len() < MAX_CACHED_PATHS && !paths.iter().any(|entry| same(&entry)) {
            paths.push((info.service, info.method, path.clone()));
        }
        Ok(path)
    }
}

/// Builds a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    basepath: String,
    headers: Vec<(HeaderName, Result<HeaderValue, String>)>,
    timeout: Option<Duration>,
    response_limit: usize,
    stream_inactivity_timeout: Option<Duration>,
    transport: TransportOptions,
}

impl ClientBuilder {
    /// Sets the basepath. Default: `/rpc/`.
    #[must_use]
    pub fn basepath(mut self, basepath: &str) -> Self {
        self.basepath = normalize_basepath(basepath);
        self
    }

    /// Adds a header sent with every call.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: &str) -> Self {
        let parsed = HeaderValue::from_str(value).map_err(|_| name.to_string());
        self.headers.push((name, parsed));
        self
    }

    /// Sends `Authorization: Bearer <jwt>` with every call. The value is marked sensitive and
    /// never appears in `Debug` output.
    #[must_use]
    pub fn bearer_token(mut self, jwt: &str) -> Self {
        let parsed = HeaderValue::from_str(&format!("Bearer {jwt}"))
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .map_err(|_| AUTHORIZATION.to_string());
        self.headers.push((AUTHORIZATION, parsed));
        self
    }

    /// Sends `X-Access-Key: <key>` with every call (Sequence's project access key), marked
    /// sensitive.
    #[must_use]
    pub fn access_key(mut self, key: &str) -> Self {
        let parsed = HeaderValue::from_str(key)
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .map_err(|_| X_ACCESS_KEY.to_string());
        self.headers.push((X_ACCESS_KEY, parsed));
        self
    }

    /// Sets the per-call timeout (sending the request and reading the whole response); `None`
    /// for no timeout. A call that runs out of time fails with `WebrpcRequestFailed` and HTTP
    /// status 408 ([`WebrpcError::is_timeout`]).
    ///
    /// Default: 30 s ([`DEFAULT_TIMEOUT`]).
    #[must_use]
    pub fn timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Limits the size of a response body; a larger one fails the call with
    /// `WebrpcBadResponse`.
    ///
    /// Default: 32 MiB ([`DEFAULT_RESPONSE_LIMIT`]).
    #[must_use]
    pub fn response_limit(mut self, bytes: usize) -> Self {
        self.response_limit = bytes;
        self
    }

    /// How long an open stream may stay silent (no message, no ping) before it counts as
    /// lost (`WebrpcStreamLost`); `None` waits forever. Servers ping every 10 s.
    ///
    /// Default: 11 s ([`DEFAULT_INACTIVITY_TIMEOUT`](webrpc_core::stream::DEFAULT_INACTIVITY_TIMEOUT)),
    /// as gen-typescript.
    #[must_use]
    pub fn stream_inactivity_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.stream_inactivity_timeout = timeout;
        self
    }

    /// Options of the default transport (pool, connect timeout, HTTP/2 prior knowledge).
    #[must_use]
    pub fn transport_options(mut self, options: TransportOptions) -> Self {
        self.transport = options;
        self
    }

    /// Builds a client over the default pooled [`HttpTransport`].
    pub fn build(self) -> Result<Client<HttpTransport>, ConfigError> {
        let transport = HttpTransport::with_options(&self.transport);
        self.build_client(transport, false)
    }

    /// Builds a client over any `tower::Service` taking `http::Request<Full<Bytes>>`: a
    /// layered stack, a mock, or a server router called in process. Every request carries
    /// its [`MethodInfo`](webrpc_core::MethodInfo) in its extensions, for that service.
    pub fn build_with<S>(self, service: S) -> Result<Client<S>, ConfigError> {
        self.build_client(service, true)
    }

    fn build_client<S>(self, service: S, method_info: bool) -> Result<Client<S>, ConfigError> {
        let uri: Uri = self
            .base_url
            .parse()
            .map_err(|_| ConfigError::BaseUrl(self.base_url.clone()))?;
        let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
        if !scheme_ok || uri.authority().is_none() || uri.query().is_some() {
            return Err(ConfigError::BaseUrl(self.base_url));
        }
        let path_prefix = format!("{}{}", uri.path().trim_end_matches('/'), self.basepath);
        let parts = uri.into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(ConfigError::BaseUrl(self.base_url));
        };
        let mut headers = HeaderMap::new();
        for (name, value) in self.headers {
            let value = value.map_err(ConfigError::HeaderValue)?;
            headers.insert(name, value);
        }
        Ok(Client {
            service,
            config: Arc::new(Config {
                scheme,
                authority,
                path_prefix,
                paths: RwLock::new(Vec::new()),
                headers,
                timeout: self.timeout,
                response_limit: self.response_limit,
                stream_inactivity_timeout: self.stream_inactivity_timeout,
                method_info,
            }),
        })
    }
}

/// A typed webrpc client over any `tower::Service<http::Request<Full<Bytes>>>`.
///
/// Each call is `POST {base}{basepath}{Service}/{Method}` with `Content-Type` and `Accept`
/// `application/json`, the method's `Webrpc` header, the client's default headers and the
/// call's own, and, over a transport given to [`build_with`](ClientBuilder::build_with), a
/// [`MethodInfo`](webrpc_core::MethodInfo) in the request's extensions (the default
/// transport has no middleware to read it, so it is not added there).
///
/// Every failure is a [`WebrpcError`], and the client never panics on a response:
///
/// | what happened | error |
/// |---|---|
/// | a 2xx response whose body decodes | `Ok(response)` |
/// | a 2xx response whose body does not decode | `WebrpcBadResponse` (-5), cause `failed to unmarshal json response: …` |
/// | any other status with a JSON envelope | that error, every field as received (a missing `code` is 0, a missing `status` the HTTP status) |
/// | any other status with another body (HTML from a proxy…) | `WebrpcBadResponse` (-5), cause `failed to unmarshal server error: …`, the real HTTP status |
/// | a body larger than the [response limit](ClientBuilder::response_limit) | `WebrpcBadResponse` (-5), cause naming the limit |
/// | connection refused, reset, closed mid-response, TLS failure | `WebrpcRequestFailed` (-1), status 400, cause `failed to send request: …` or `failed to read response body: …` |
/// | the call outlived its [timeout](ClientBuilder::timeout) | `WebrpcRequestFailed` (-1), **status 408**, cause `request timed out after …` ([`WebrpcError::is_timeout`]) |
/// | the call's [cancellation signal](CallOptions::cancel_on) fired | `WebrpcClientDisconnected` (-8), cause `request cancelled by the caller` |
///
/// Like the TypeScript client (and unlike the Go client, which wants exactly 200), any 2xx
/// status is success.
///
/// Cloning a client is cheap and shares its connection pool.
#[derive(Debug, Clone)]
pub struct Client<S = HttpTransport> {
    service: S,
    config: Arc<Config>,
}

impl Client<HttpTransport> {
    /// A client with default options over the pooled HTTP transport.
    pub fn new(base_url: &str) -> Result<Self, ConfigError> {
        Self::builder(base_url).build()
    }

    /// A builder starting from `base_url` (`http://host:port` or `https://host`, optionally
    /// with a path prefix put before the basepath).
    pub fn builder(base_url: &str) -> ClientBuilder {
        ClientBuilder {
            base_url: base_url.to_owned(),
            basepath: DEFAULT_BASEPATH.to_owned(),
            headers: Vec::new(),
            timeout: Some(DEFAULT_TIMEOUT),
            response_limit: DEFAULT_RESPONSE_LIMIT,
            stream_inactivity_timeout: Some(webrpc_core::stream::DEFAULT_INACTIVITY_TIMEOUT),
            transport: TransportOptions::default(),
        }
    }
}

pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let s = inner.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = inner.source();
    }
    text
}

pub(crate) fn request_failed(context: &str, err: BoxError) -> WebrpcError {
    BuiltinError::WebrpcRequestFailed.with_cause(format!("{context}: {}", error_chain(&*err)))
}

impl<S, B> Client<S>
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Calls method `M` with the client's defaults.
    pub async fn call<M: Method>(&self, request: &M::Request) -> Result<M::Response, WebrpcError> {
        self.call_with::<M>(request, CallOptions::default()).await
    }

    /// Calls method `M` with per-call options.
    pub async fn call_with<M: Method>(
        &self,
        request: &M::Request,
        mut options: CallOptions,
    ) -> Result<M::Response, WebrpcError> {
        let timeout = options.timeout.or(self.config.timeout);
        let cancel = options.cancel.take();
        // One select over the exchange, its deadline and its cancellation signal, rather than
        // nested combinators: the exchange future is large and each combinator would move it.
        let exchange = self.exchange::<M>(request, options);
        let mut exchange = std::pin::pin!(exchange);
        let deadline = async {
            match timeout {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        let cancelled = async {
            match cancel {
                Some(signal) => signal.await,
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            biased;
            result = &mut exchange => result,
            () = deadline => Err(BuiltinError::WebrpcRequestFailed
                .with_cause(format!(
                    "request timed out after {:?}",
                    timeout.unwrap_or_default()
                ))
                .with_status(408)),
            () = cancelled => Err(BuiltinError::WebrpcClientDisconnected
                .with_cause("request cancelled by the caller")),
        };
        if let Err(err) = &result {
            tracing::debug!(service = M::SERVICE, method = M::NAME, error = %err, "webrpc call failed");
        }
        result
    }

    async fn exchange<M: Method>(
        &self,
        request: &M::Request,
        options: CallOptions,
    ) -> Result<M::Response, WebrpcError> {
        let body = codec::encode(request).map_err(|err| {
            BuiltinError::WebrpcBadRequest
                .with_cause(format!("failed to marshal json request: {err}"))
        })?;
        let http_request = self.http_request(M::INFO, M::WEBRPC_HEADER, body, options)?;

        let response = self
            .service
            .clone()
            .oneshot(http_request)
            .await
            .map_err(|err| request_failed("failed to send request", err.into()))?;

        let (parts, body) = response.into_parts();
        let limit = self.config.response_limit;
        let declared = parts
            .headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|len| len > limit as u64) {
            return Err(response_too_large(limit, parts.status.as_u16()));
        }
        let bytes = match Limited::new(body, limit).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(err) if err.is::<LengthLimitError>() => {
                return Err(response_too_large(limit, parts.status.as_u16()))
            }
            Err(err) => return Err(request_failed("failed to read response body", err)),
        };
        if parts.status.is_success() {
            codec::decode_response(&bytes)
        } else {
            Err(codec::decode_error_response(parts.status.as_u16(), &bytes))
        }
    }
}

impl<S> Client<S> {
    /// The HTTP request of a call: `POST` to the method's URL with the JSON headers, the
    /// method's `Webrpc` header, the client's and the call's headers and extensions (and the
    /// method's [`MethodInfo`] for a transport given to `build_with`).
    pub(crate) fn http_request(
        &self,
        info: MethodInfo,
        webrpc_header: &'static str,
        body: Bytes,
        options: CallOptions,
    ) -> Result<Request<Full<Bytes>>, WebrpcError> {
        // Scheme and authority were parsed once, at build time, and each method's path at
        // its first call.
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.config.scheme.clone());
        parts.authority = Some(self.config.authority.clone());
        parts.path_and_query = Some(self.config.path_of(info)?);
        let uri = Uri::from_parts(parts).map_err(|err| {
            BuiltinError::WebrpcRequestFailed.with_cause(format!("invalid request URL: {err}"))
        })?;

        let mut http_request = Request::new(Full::new(body));
        *http_request.method_mut() = http::Method::POST;
        *http_request.uri_mut() = uri;
        let headers = http_request.headers_mut();
        headers.reserve(4 + self.config.headers.len() + options.headers.len());
        headers.insert(CONTENT_TYPE, JSON.clone());
        headers.insert(ACCEPT, JSON.clone());
        headers.insert(WEBRPC_HEADER_NAME, HeaderValue::from_static(webrpc_header));
        for (name, value) in &self.config.headers {
            headers.insert(name, value.clone());
        }
        let mut last_name = None;
        for (name, value) in options.headers {
            // `HeaderMap::into_iter` yields a name only for the first of repeated values.
            if let Some(name) = name {
                headers.insert(name.clone(), value);
                last_name = Some(name);
            } else if let Some(name) = &last_name {
                headers.append(name, value);
            }
        }
        let extensions = http_request.extensions_mut();
        *extensions = options.extensions;
        if self.config.method_info {
            extensions.insert(info);
        }
        Ok(http_request)
    }

    /// The transport.
    pub(crate) fn service(&self) -> &S {
        &self.service
    }

    /// The client's options.
    pub(crate) fn config(&self) -> &Config {
        &self.config
    }
}

pub(crate) fn response_too_large(limit: usize, status: u16) -> WebrpcError {
    let err = BuiltinError::WebrpcBadResponse
        .with_cause(format!("response body exceeds the limit of {limit} bytes"));
    if status >= 400 {
        err.with_status(status)
    } else {
        err
    }
}

impl<S, B> Caller for Client<S>
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Options = CallOptions;

    async fn call<M: Method>(
        &self,
        options: CallOptions,
        request: M::Request,
    ) -> Result<M::Response, WebrpcError> {
        self.call_with::<M>(&request, options).await
    }

    async fn call_stream<M: StreamMethod>(
        &self,
        options: CallOptions,
        request: M::Request,
    ) -> Result<MessageStream<M::Message>, WebrpcError> {
        self.call_stream_with::<M>(&request, options).await
    }
}
