//! Turning the errors of tower layers into webrpc error envelopes.
//!
//! tower's middleware reports failures as the service's `Error`: `tower::timeout` fails a
//! call with [`Elapsed`], `tower::load_shed` with [`Overloaded`], `tower::buffer` with its
//! own errors, all as a [`BoxError`]. hyper cannot send an error, only a response (it closes
//! the connection instead), and hosts such as axum's `nest_service` take only services with
//! `Error = Infallible`. [`RecoverErrorLayer`] sits outside such layers and answers each error
//! with the webrpc envelope, as tonic's `recover_error` and axum's `HandleErrorLayer` do:
//!
//! | error | answer |
//! |---|---|
//! | a [`WebrpcError`] (boxed by a layer of your own) | that error |
//! | [`Elapsed`] (`tower::timeout`) | `WebrpcInternalError` 504, cause `request timed out` |
//! | [`Overloaded`] (`tower::load_shed`) | `WebrpcInternalError` 503, cause `server overloaded: service not ready` |
//! | any other error | `WebrpcInternalError` 500, cause `service error` (the error itself is logged, not sent) |
//!
//! A custom mapping replaces the table: [`RecoverErrorLayer::map_error`].
//!
//! [`Elapsed`]: https://docs.rs/tower/0.5/tower/timeout/error/struct.Elapsed.html
//! [`Overloaded`]: https://docs.rs/tower/0.5/tower/load_shed/error/struct.Overloaded.html
//!
//! [`serve`](crate::serve) applies the default mapping to any service whose error is not
//! `Infallible`, so a stack served directly needs no explicit layer; the layer is for other
//! hosts, for a custom mapping, and for the `Webrpc` header on the answers.
//!
//! ```
//! use std::time::Duration;
//! use tower::ServiceBuilder;
//! use webrpc_server::{RecoverErrorLayer, Router};
//!
//! let router = Router::new(); // mount services here
//! // Outermost first: answers errors, sheds load beyond 64 calls, times calls out after 5 s.
//! let app = ServiceBuilder::new()
//!     .layer(RecoverErrorLayer::new())
//!     .load_shed()
//!     .concurrency_limit(64)
//!     .timeout(Duration::from_secs(5))
//!     .service(router);
//! # fn infallible<S: tower::Service<http::Request<http_body_util::Full<bytes::Bytes>>, Error = std::convert::Infallible>>(_: &S) {}
//! # infallible(&app);
//! ```
//! (`load_shed`, `concurrency_limit` and `timeout` are tower features of your own
//! dependency on `tower`.)

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::{HeaderValue, Response};
use tower::load_shed::error::Overloaded;
use tower::timeout::error::Elapsed;
use webrpc_core::{BuiltinError, WebrpcError};

use crate::router::BoxError;

/// The default mapping of [`RecoverErrorLayer`] (see the [module](self) for the table).
///
/// ```
/// use webrpc_server::recover::error_from;
///
/// let err = error_from(Box::new(tower::timeout::error::Elapsed::new()));
/// assert_eq!((err.name(), err.status()), ("WebrpcInternalError", 504));
/// assert_eq!(err.cause(), Some("request timed out"));
/// ```
pub fn error_from(err: BoxError) -> WebrpcError {
    let err = match err.downcast::<WebrpcError>() {
        Ok(err) => return *err,
        Err(err) => err,
    };
    if err.is::<Elapsed>() {
        BuiltinError::WebrpcInternalError
            .with_cause("request timed out")
            .with_status(504)
    } else if err.is::<Overloaded>() {
        BuiltinError::WebrpcInternalError
            .with_cause("server overloaded: service not ready")
            .with_status(503)
    } else {
        tracing::warn!(error = %err, "service error answered as WebrpcInternalError");
        BuiltinError::WebrpcInternalError.with_cause("service error")
    }
}

type MapError = Arc<dyn Fn(BoxError) -> WebrpcError + Send + Sync>;

/// A layer answering the errors of the service it wraps with webrpc error envelopes, making
/// its error `Infallible` (see the [module](self)).
///
/// The service's response body `B` must be buildable from the envelope's bytes
/// (`From<Bytes>`: [`ResponseBody`](crate::ResponseBody), `http_body_util::Full`,
/// `axum::body::Body` are).
#[derive(Clone)]
pub struct RecoverErrorLayer {
    map: MapError,
    header: Option<HeaderValue>,
}

impl fmt::Debug for RecoverErrorLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoverErrorLayer")
            .field("header", &self.header)
            .finish_non_exhaustive()
    }
}

impl Default for RecoverErrorLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl RecoverErrorLayer {
    /// The layer with the default mapping ([`error_from`]) and no `Webrpc` header.
    pub fn new() -> Self {
        RecoverErrorLayer {
            map: Arc::new(error_from),
            header: None,
        }
    }

    /// Maps errors with `f` instead of [`error_from`] (which `f` may call for the errors it
    /// does not handle itself).
    #[must_use]
    pub fn map_error<F>(mut self, f: F) -> Self
    where
        F: Fn(BoxError) -> WebrpcError + Send + Sync + 'static,
    {
        self.map = Arc::new(f);
        self
    }

    /// Sets the `Webrpc` header ([`WEBRPC_HEADER_NAME`](webrpc_core::WEBRPC_HEADER_NAME)) of
    /// the answers to `value` (a generated crate's `WEBRPC_HEADER`), as the router sets it
    /// on its own. Default: none.
    #[must_use]
    pub fn webrpc_header(mut self, value: HeaderValue) -> Self {
        self.header = Some(value);
        self
    }
}

impl<S> tower_layer::Layer<S> for RecoverErrorLayer {
    type Service = RecoverError<S>;

    fn layer(&self, inner: S) -> RecoverError<S> {
        RecoverError {
            inner,
            layer: self.clone(),
            not_ready: None,
        }
    }
}

/// The service made by [`RecoverErrorLayer`].
pub struct RecoverError<S> {
    inner: S,
    layer: RecoverErrorLayer,
    /// An error of the inner service's `poll_ready`, answered to the next call.
    not_ready: Option<BoxError>,
}

impl<S: Clone> Clone for RecoverError<S> {
    fn clone(&self) -> Self {
        RecoverError {
            inner: self.inner.clone(),
            layer: self.layer.clone(),
            not_ready: None,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for RecoverError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoverError")
            .field("inner", &self.inner)
            .field("layer", &self.layer)
            .finish_non_exhaustive()
    }
}

impl RecoverErrorLayer {
    fn answer<B: From<Bytes>>(&self, err: BoxError) -> Response<B> {
        let err = (self.map)(err);
        let response = match &self.header {
            Some(header) => err.into_http_response_with_header(header.clone()),
            None => err.into_http_response(),
        };
        response.map(B::from)
    }
}

impl<S, R, B> tower_service::Service<R> for RecoverError<S>
where
    S: tower_service::Service<R, Response = Response<B>>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: From<Bytes> + Send + 'static,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = RecoverFuture<B>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        if self.not_ready.is_some() {
            return Poll::Ready(Ok(()));
        }
        match self.inner.poll_ready(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(Ok(())),
            Poll::Ready(Err(err)) => {
                // Ready to answer this error to the call that comes next.
                self.not_ready = Some(err.into());
                Poll::Ready(Ok(()))
            }
        }
    }

    fn call(&mut self, request: R) -> Self::Future {
        if let Some(err) = self.not_ready.take() {
            let response = self.layer.answer(err);
            return RecoverFuture {
                inner: Box::pin(std::future::ready(response)),
            };
        }
        let future = self.inner.call(request);
        let layer = self.layer.clone();
        RecoverFuture {
            inner: Box::pin(async move {
                match future.await {
                    Ok(response) => response,
                    Err(err) => layer.answer(err.into()),
                }
            }),
        }
    }
}

/// The future of a [`RecoverError`] call.
pub struct RecoverFuture<B> {
    inner: Pin<Box<dyn Future<Output = Response<B>> + Send>>,
}

impl<B> fmt::Debug for RecoverFuture<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecoverFuture").finish_non_exhaustive()
    }
}

impl<B> Future for RecoverFuture<B> {
    type Output = Result<Response<B>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        self.inner.as_mut().poll(cx).map(Ok)
    }
}
