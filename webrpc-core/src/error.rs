//! The error envelope shared by every webrpc service, and error catalogues.
//!
//! Every failure on the wire is one JSON object whose `status` equals the HTTP status of the
//! response that carries it:
//!
//! ```json
//! {"error":"WebrpcBadRoute","code":-2,"msg":"bad route","cause":"no webrpc method defined for path /rpc/X/Y","status":404}
//! ```
//!
//! [`WebrpcError`] is that object as a value. Catalogues of known errors (webrpc's built-ins in
//! [`BuiltinError`], or a schema's own table declared with [`error_catalogue!`](crate::error_catalogue))
//! give names to codes; matching is by code, as the reference clients do, and the raw fields
//! received from a peer are always kept, even for codes no catalogue knows.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A webrpc error: the wire envelope `{"error","code","msg","cause","status"}` as a value.
///
/// It is small enough to pass by value (the name and message of catalogue errors are
/// `&'static str`, only a `cause` allocates) and it keeps exactly what a peer sent, so an
/// error whose code no local catalogue knows survives a round trip intact.
///
/// `Display` follows the reference Go implementation: `"{error} {code}: {msg}"`, then
/// `": {cause}"` when there is one.
///
/// ```
/// use webrpc_core::{BuiltinError, WebrpcError};
///
/// let err = BuiltinError::WebrpcBadRoute.with_cause("no webrpc method defined for path /rpc/X/Y");
/// assert_eq!(err.code(), -2);
/// assert_eq!(err.status(), 404);
/// assert_eq!(err.kind::<BuiltinError>(), Some(BuiltinError::WebrpcBadRoute));
/// assert_eq!(
///     err.to_string(),
///     "WebrpcBadRoute -2: bad route: no webrpc method defined for path /rpc/X/Y"
/// );
/// ```
#[derive(Clone, Serialize, Deserialize, thiserror::Error)]
pub struct WebrpcError {
    #[serde(rename = "error", default)]
    name: Cow<'static, str>,
    #[serde(default)]
    code: i32,
    #[serde(default)]
    msg: Cow<'static, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cause: Option<String>,
    #[serde(default)]
    status: u16,
}

impl WebrpcError {
    /// An error with every wire field given explicitly, as received from a peer or built for
    /// a code that no catalogue declares.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        code: i32,
        msg: impl Into<Cow<'static, str>>,
        status: u16,
    ) -> Self {
        WebrpcError {
            name: name.into(),
            code,
            msg: msg.into(),
            cause: None,
            status,
        }
    }

    /// The error of a catalogue entry, without a cause.
    pub fn from_kind<K: ErrorKind>(kind: K) -> Self {
        WebrpcError {
            name: Cow::Borrowed(kind.name()),
            code: kind.code(),
            msg: Cow::Borrowed(kind.msg()),
            cause: None,
            status: kind.status(),
        }
    }

    /// The `error` field: the error's name, such as `WebrpcBadRoute` or `NotFound`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `code` field. Webrpc's built-ins are 0 to -10, schema errors are positive.
    pub fn code(&self) -> i32 {
        self.code
    }

    /// The `msg` field: the catalogue's human-readable message.
    pub fn msg(&self) -> &str {
        &self.msg
    }

    /// The `cause` field, if any: what exactly went wrong this time.
    pub fn cause(&self) -> Option<&str> {
        self.cause.as_deref()
    }

    /// The `status` field: the HTTP status the error travels with.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// [`status`](Self::status) as an [`http::StatusCode`](https://docs.rs/http/1/http/status/struct.StatusCode.html); a value that is not a valid
    /// status (as a broken peer might send) becomes 500.
    pub fn http_status(&self) -> http::StatusCode {
        http::StatusCode::from_u16(self.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// Sets the cause.
    #[must_use]
    pub fn with_cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// The catalogue entry of `K` with this error's code, if `K` declares it.
    ///
    /// Matching is by code only, as in the reference implementations: a peer that names
    /// code -8 `WebrpcClientAborted` still matches [`BuiltinError::WebrpcClientDisconnected`].
    pub fn kind<K: ErrorKind>(&self) -> Option<K> {
        K::from_code(self.code)
    }

    /// Whether this error has the code of `kind`.
    pub fn is<K: ErrorKind>(&self, kind: K) -> bool {
        self.code == kind.code()
    }

    /// Whether this is the client's per-call timeout: `WebrpcRequestFailed` (-1) with HTTP
    /// status 408, as produced by `webrpc-client` when a call outlives its deadline.
    pub fn is_timeout(&self) -> bool {
        self.code == BuiltinError::WebrpcRequestFailed.code() && self.status == 408
    }
}

/// An error as the HTTP response a webrpc server sends for it.
impl WebrpcError {
    /// The response carrying this error: the JSON envelope as body,
    /// `Content-Type: application/json`, and the envelope's `status` as HTTP status.
    ///
    /// A status that is not an error status (4xx or 5xx; a handler forwarding a broken
    /// peer's error, say) is sent as 500 both in the envelope and as the HTTP status, so the
    /// two always agree, as webrpc clients expect.
    ///
    /// The body is `bytes::Bytes`; give it the body type of the server at hand with
    /// [`Response::map`](http::Response::map) (`ResponseBody::full`, `Full::new`,
    /// `axum::body::Body::from`). With the `axum` feature, `WebrpcError` is also an
    /// `axum::response::IntoResponse` giving this response.
    ///
    /// ```
    /// use webrpc_core::BuiltinError;
    ///
    /// let response = BuiltinError::WebrpcBadRoute.with_cause("no such method").into_http_response();
    /// assert_eq!(response.status(), 404);
    /// assert_eq!(response.headers()["content-type"], "application/json");
    /// assert_eq!(
    ///     &response.body()[..],
    ///     br#"{"error":"WebrpcBadRoute","code":-2,"msg":"bad route","cause":"no such method","status":404}"#
    /// );
    ///
    /// // Not an error status: 500 on both sides.
    /// let response = BuiltinError::WebrpcStreamFinished.err().into_http_response();
    /// assert_eq!(response.status(), 500);
    /// assert!(response.body().ends_with(br#""status":500}"#));
    /// ```
    pub fn into_http_response(self) -> http::Response<bytes::Bytes> {
        let err = if (400..=599).contains(&self.status) {
            self
        } else {
            self.with_status(500)
        };
        let mut response = http::Response::new(crate::codec::encode_error(&err));
        *response.status_mut() = err.http_status();
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(crate::codec::JSON_CONTENT_TYPE),
        );
        response
    }

    /// [`into_http_response`](Self::into_http_response) with the `Webrpc` header
    /// ([`WEBRPC_HEADER_NAME`](crate::WEBRPC_HEADER_NAME)) set to `webrpc_header`, the
    /// value of the schema the answer belongs to (a generated crate's `WEBRPC_HEADER`, or
    /// [`Method::WEBRPC_HEADER`](crate::Method::WEBRPC_HEADER)), as webrpc servers send it
    /// on every response.
    ///
    /// ```
    /// use http::HeaderValue;
    /// use webrpc_core::BuiltinError;
    ///
    /// let header = HeaderValue::from_static("webrpc@v0.31.0;gen-golang@v0.23.1;example@v1.0.0");
    /// let response = BuiltinError::WebrpcBadMethod.err().into_http_response_with_header(header);
    /// assert_eq!(response.status(), 405);
    /// assert_eq!(response.headers()["webrpc"], "webrpc@v0.31.0;gen-golang@v0.23.1;example@v1.0.0");
    /// ```
    pub fn into_http_response_with_header(
        self,
        webrpc_header: http::HeaderValue,
    ) -> http::Response<bytes::Bytes> {
        let mut response = self.into_http_response();
        response
            .headers_mut()
            .insert(crate::WEBRPC_HEADER_NAME, webrpc_header);
        response
    }
}

/// The same response as [`WebrpcError::into_http_response`].
impl From<WebrpcError> for http::Response<bytes::Bytes> {
    fn from(err: WebrpcError) -> Self {
        err.into_http_response()
    }
}

/// An axum handler or middleware can return a `WebrpcError` (or `Result<_, WebrpcError>`):
/// the answer is [`WebrpcError::into_http_response`]. To add the `Webrpc` header, return
/// `([(WEBRPC_HEADER_NAME, value)], err)`.
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for WebrpcError {
    fn into_response(self) -> axum_core::response::Response {
        self.into_http_response().map(axum_core::body::Body::from)
    }
}

impl fmt::Display for WebrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.name, self.code, self.msg)?;
        if let Some(cause) = &self.cause {
            write!(f, ": {cause}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for WebrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebrpcError")
            .field("error", &self.name)
            .field("code", &self.code)
            .field("msg", &self.msg)
            .field("cause", &self.cause)
            .field("status", &self.status)
            .finish()
    }
}

/// An entry of an error catalogue: a code with its name, message and HTTP status.
///
/// Implemented by [`BuiltinError`] and by every enum declared with
/// [`error_catalogue!`](crate::error_catalogue); rarely implemented by hand.
pub trait ErrorKind: Copy + Sized + 'static {
    /// Every entry of the catalogue, in declaration order.
    const ALL: &'static [Self];
    /// The wire code.
    fn code(self) -> i32;
    /// The wire name (`error` field).
    fn name(self) -> &'static str;
    /// The wire message (`msg` field).
    fn msg(self) -> &'static str;
    /// The HTTP status.
    fn status(self) -> u16;
    /// The entry with this code, if the catalogue declares one.
    fn from_code(code: i32) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.code() == code)
    }
    /// The entry with this name, if the catalogue declares one.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.name() == name)
    }
}

/// Declares an error catalogue in one table: each entry's code, message and HTTP status.
/// The variant's identifier is its wire name.
///
/// The macro generates a `Copy` enum implementing [`ErrorKind`] (lookup by code and name),
/// inherent `code`/`name`/`msg`/`status` accessors, `with_cause` and `err` constructors
/// returning [`WebrpcError`], `From<Enum> for WebrpcError`, and `Display`.
///
/// ```
/// use webrpc_core::{error_catalogue, ErrorKind, WebrpcError};
///
/// error_catalogue! {
///     /// Errors of my schema.
///     pub enum MyError {
///         /// The caller is not signed in.
///         Unauthorized = (1000, "Unauthorized access", 401),
///         /// No such thing.
///         NotFound = (3000, "Resource not found", 400),
///     }
/// }
///
/// let err: WebrpcError = MyError::NotFound.with_cause("collection 7");
/// assert_eq!((err.name(), err.code(), err.status()), ("NotFound", 3000, 400));
/// assert_eq!(err.kind::<MyError>(), Some(MyError::NotFound));
/// assert_eq!(MyError::from_code(1000), Some(MyError::Unauthorized));
/// ```
#[macro_export]
macro_rules! error_catalogue {
    (
        $(#[$meta:meta])*
        $vis:vis enum $Name:ident {
            $(
                $(#[$vmeta:meta])*
                $Variant:ident = ($code:expr, $msg:expr, $status:expr)
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $Name {
            $( $(#[$vmeta])* $Variant, )*
        }

        impl $Name {
            /// The wire code.
            pub const fn code(self) -> i32 {
                match self { $( Self::$Variant => $code, )* }
            }
            /// The wire name (`error` field).
            pub const fn name(self) -> &'static str {
                match self { $( Self::$Variant => stringify!($Variant), )* }
            }
            /// The wire message (`msg` field).
            pub const fn msg(self) -> &'static str {
                match self { $( Self::$Variant => $msg, )* }
            }
            /// The HTTP status.
            pub const fn status(self) -> u16 {
                match self { $( Self::$Variant => $status, )* }
            }
            /// This error, without a cause.
            pub fn err(self) -> $crate::WebrpcError {
                $crate::WebrpcError::from_kind(self)
            }
            /// This error with a cause.
            pub fn with_cause(self, cause: impl ::std::convert::Into<::std::string::String>) -> $crate::WebrpcError {
                $crate::WebrpcError::from_kind(self).with_cause(cause)
            }
        }

        impl $crate::ErrorKind for $Name {
            const ALL: &'static [Self] = &[ $( Self::$Variant, )* ];
            fn code(self) -> i32 { $Name::code(self) }
            fn name(self) -> &'static str { $Name::name(self) }
            fn msg(self) -> &'static str { $Name::msg(self) }
            fn status(self) -> u16 { $Name::status(self) }
            fn from_code(code: i32) -> ::std::option::Option<Self> {
                #[allow(unreachable_patterns)]
                match code {
                    $( c if c == $code => ::std::option::Option::Some(Self::$Variant), )*
                    _ => ::std::option::Option::None,
                }
            }
        }

        impl ::std::convert::From<$Name> for $crate::WebrpcError {
            fn from(kind: $Name) -> Self {
                $crate::WebrpcError::from_kind(kind)
            }
        }

        impl ::std::fmt::Display for $Name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{} {}: {}", self.name(), self.code(), self.msg())
            }
        }
    };
}

error_catalogue! {
    /// Webrpc's built-in errors (codes 0 to -10), common to every schema. The list is
    /// append-only in webrpc.
    pub enum BuiltinError {
        /// A handler failed with an error that is not a webrpc error.
        WebrpcEndpoint = (0, "endpoint error", 400),
        /// The request could not be sent or its answer not received (transport failure).
        WebrpcRequestFailed = (-1, "request failed", 400),
        /// No method at this path.
        WebrpcBadRoute = (-2, "bad route", 404),
        /// HTTP method other than POST.
        WebrpcBadMethod = (-3, "bad method", 405),
        /// Wrong content type, unreadable body or arguments that do not decode.
        WebrpcBadRequest = (-4, "bad request", 400),
        /// The response could not be encoded (server) or decoded (client).
        WebrpcBadResponse = (-5, "bad response", 500),
        /// A handler panicked.
        WebrpcServerPanic = (-6, "server panic", 500),
        /// The server failed for a reason of its own.
        WebrpcInternalError = (-7, "internal error", 500),
        /// The client went away or cancelled the call. Newer webrpc names it
        /// `WebrpcClientAborted` ("request aborted by client"); both names decode to this
        /// entry because matching is by code.
        WebrpcClientDisconnected = (-8, "client disconnected", 400),
        /// A stream was cut before it finished.
        WebrpcStreamLost = (-9, "stream lost", 400),
        /// A stream ended cleanly.
        WebrpcStreamFinished = (-10, "stream finished", 200),
    }
}

impl BuiltinError {
    /// Looks a built-in up by name, accepting `WebrpcClientAborted`, the newer name of -8.
    pub fn from_wire_name(name: &str) -> Option<Self> {
        if name == "WebrpcClientAborted" {
            return Some(BuiltinError::WebrpcClientDisconnected);
        }
        <Self as ErrorKind>::from_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins every built-in error: code, name, message and HTTP status, as in the protocol's
    /// table (append-only in webrpc).
    #[test]
    fn builtin_catalogue_table() {
        let table: [(BuiltinError, i32, &str, &str, u16); 11] = [
            (
                BuiltinError::WebrpcEndpoint,
                0,
                "WebrpcEndpoint",
                "endpoint error",
                400,
            ),
            (
                BuiltinError::WebrpcRequestFailed,
                -1,
                "WebrpcRequestFailed",
                "request failed",
                400,
            ),
            (
                BuiltinError::WebrpcBadRoute,
                -2,
                "WebrpcBadRoute",
                "bad route",
                404,
            ),
            (
                BuiltinError::WebrpcBadMethod,
                -3,
                "WebrpcBadMethod",
                "bad method",
                405,
            ),
            (
                BuiltinError::WebrpcBadRequest,
                -4,
                "WebrpcBadRequest",
                "bad request",
                400,
            ),
            (
                BuiltinError::WebrpcBadResponse,
                -5,
                "WebrpcBadResponse",
                "bad response",
                500,
            ),
            (
                BuiltinError::WebrpcServerPanic,
                -6,
                "WebrpcServerPanic",
                "server panic",
                500,
            ),
            (
                BuiltinError::WebrpcInternalError,
                -7,
                "WebrpcInternalError",
                "internal error",
                500,
            ),
            (
                BuiltinError::WebrpcClientDisconnected,
                -8,
                "WebrpcClientDisconnected",
                "client disconnected",
                400,
            ),
            (
                BuiltinError::WebrpcStreamLost,
                -9,
                "WebrpcStreamLost",
                "stream lost",
                400,
            ),
            (
                BuiltinError::WebrpcStreamFinished,
                -10,
                "WebrpcStreamFinished",
                "stream finished",
                200,
            ),
        ];
        assert_eq!(<BuiltinError as ErrorKind>::ALL.len(), table.len());
        for (kind, code, name, msg, status) in table {
            assert_eq!(
                (kind.code(), kind.name(), kind.msg(), kind.status()),
                (code, name, msg, status)
            );
            assert_eq!(<BuiltinError as ErrorKind>::from_code(code), Some(kind));
            assert_eq!(BuiltinError::from_wire_name(name), Some(kind));
            let err = kind.with_cause("why");
            let json: serde_json::Value =
                serde_json::from_slice(&crate::codec::encode_error(&err)).unwrap();
            assert_eq!(
                json,
                serde_json::json!({"error": name, "code": code, "msg": msg, "cause": "why", "status": status})
            );
        }
        assert_eq!(
            BuiltinError::from_wire_name("WebrpcClientAborted"),
            Some(BuiltinError::WebrpcClientDisconnected)
        );
        assert_eq!(<BuiltinError as ErrorKind>::from_code(-11), None);
        assert_eq!(<BuiltinError as ErrorKind>::from_code(1000), None);
    }

    #[test]
    fn unknown_codes_survive_a_round_trip() {
        let body = br#"{"error":"InvalidScope","code":1010,"msg":"invalid scope","cause":"x","status":403}"#;
        let err: WebrpcError = serde_json::from_slice(body).unwrap();
        assert_eq!(err.kind::<BuiltinError>(), None);
        assert_eq!(&crate::codec::encode_error(&err)[..], &body[..]);
        assert_eq!(err.to_string(), "InvalidScope 1010: invalid scope: x");
    }
}
