//! The server side's view of a call: [`RequestContext`].
//!
//! A handler gets the incoming request's headers and extensions through it, read-only. It is
//! not what a client sends: calls take their transport's options (`webrpc_client::CallOptions`,
//! see [`Caller::Options`](crate::Caller::Options)), which start empty. There is no conversion
//! from one to the other, so a handler that calls another service forwards nothing of its
//! caller's request (no `Host`, `Content-Length`, `Authorization` or `Cookie`) unless it
//! copies a header by name.

use http::header::AsHeaderName;
use http::{Extensions, HeaderMap, HeaderName, HeaderValue};

use crate::method::MethodInfo;

/// The incoming request a server-side handler serves, read-only: its headers, its
/// extensions (where an auth layer puts the authenticated principal, and
/// `webrpc_server::Router` its `CallHandle`) and the [`MethodInfo`] of the call.
///
/// The router builds one per call. Tests that call a service implementation directly build
/// one with [`new`](Self::new) (or `Default`) and the `with_*` methods:
///
/// ```
/// use http::header::{HeaderValue, AUTHORIZATION};
/// use webrpc_core::{MethodInfo, RequestContext};
///
/// #[derive(Debug, Clone, PartialEq)]
/// struct Principal(u64);
///
/// let ctx = RequestContext::new()
///     .with_header(AUTHORIZATION, HeaderValue::from_static("Bearer t"))
///     .with_extension(Principal(7))
///     .with_method(MethodInfo { service: "Greeter", method: "SayHello" });
/// assert_eq!(ctx.header(AUTHORIZATION), Some(&HeaderValue::from_static("Bearer t")));
/// assert_eq!(ctx.extensions().get::<Principal>(), Some(&Principal(7)));
/// assert_eq!(ctx.method().map(|m| m.method), Some("SayHello"));
/// ```
///
/// Its fields are private, so that it can grow (a peer address, a deadline) without breaking
/// code, and so that a handler cannot change what later code sees of the request.
#[derive(Debug, Default, Clone)]
pub struct RequestContext {
    headers: HeaderMap,
    extensions: Extensions,
    method: Option<MethodInfo>,
}

impl RequestContext {
    /// An empty context: no headers, no extensions, no method (a handler called directly).
    pub fn new() -> Self {
        Self::default()
    }

    /// The context of a request with these headers and extensions (what a router builds from
    /// `http::request::Parts`).
    pub fn from_parts(headers: HeaderMap, extensions: Extensions) -> Self {
        RequestContext {
            headers,
            extensions,
            method: None,
        }
    }

    /// Sets the method being called (builder style).
    #[must_use]
    pub fn with_method(mut self, method: MethodInfo) -> Self {
        self.method = Some(method);
        self
    }

    /// Adds a request header, replacing any value of that name (builder style).
    #[must_use]
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Adds a request extension, replacing any of its type (builder style).
    #[must_use]
    pub fn with_extension<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.extensions.insert(value);
        self
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of one request header, if the request has it.
    pub fn header<K: AsHeaderName>(&self, name: K) -> Option<&HeaderValue> {
        self.headers.get(name)
    }

    /// The request's extensions.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The method being called: set by the server before it calls a handler (a field rather
    /// than an extension, so the hot path does not allocate an extension map); `None` for a
    /// context built by hand.
    pub fn method(&self) -> Option<MethodInfo> {
        self.method
    }

    /// Splits the context into its headers, extensions and method (for a server that needs
    /// to hand the request's parts on, such as a stream opener).
    pub fn into_parts(self) -> (HeaderMap, Extensions, Option<MethodInfo>) {
        (self.headers, self.extensions, self.method)
    }
}
