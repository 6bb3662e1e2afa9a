//! The per-call context shared by both sides of a service trait.

use http::{Extensions, HeaderMap};

use crate::method::MethodInfo;

/// What travels with a call besides its arguments.
///
/// On the server, it holds the request's headers and extensions (where an auth layer puts
/// the authenticated principal) and the [`MethodInfo`] of the call. On the client, its headers are sent with the call, after the client's default
/// headers, and its extensions go into the outgoing request's extensions. So code written
/// against a service trait sees the same thing whether it runs in process or over HTTP.
#[derive(Debug, Default, Clone)]
pub struct Context {
    /// Request headers (server) or extra headers to send (client).
    pub headers: HeaderMap,
    /// Request extensions.
    pub extensions: Extensions,
    /// The method being called: set by the server before calling a handler (a field rather
    /// than an extension, so the hot path does not allocate an extension map). Ignored by
    /// the client, which always calls the method it is asked to.
    pub method: Option<MethodInfo>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// A context from a request's headers and extensions.
    pub fn from_parts(headers: HeaderMap, extensions: Extensions) -> Self {
        Context {
            headers,
            extensions,
            method: None,
        }
    }

    /// Adds a header (builder style). Values that are not valid header bytes are an error.
    pub fn with_header(
        mut self,
        name: http::HeaderName,
        value: &str,
    ) -> Result<Self, http::header::InvalidHeaderValue> {
        self.headers
            .insert(name, http::HeaderValue::from_str(value)?);
        Ok(self)
    }

    /// Adds `Authorization: Bearer <jwt>`, marked sensitive so it is never printed.
    pub fn with_bearer(mut self, jwt: &str) -> Result<Self, http::header::InvalidHeaderValue> {
        let mut value = http::HeaderValue::from_str(&format!("Bearer {jwt}"))?;
        value.set_sensitive(true);
        self.headers.insert(http::header::AUTHORIZATION, value);
        Ok(self)
    }
}
