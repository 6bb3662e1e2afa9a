//! Method descriptors and routes.
//!
//! A method is data: its service name, its method name, and the types of its request and
//! response objects. The client builds `POST {base}{basepath}{Service}/{Method}` from it, the
//! server routes, decodes and encodes with it.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The default basepath, `/rpc/`.
pub const DEFAULT_BASEPATH: &str = "/rpc/";

/// One RPC method of a service, described at the type level.
///
/// Usually declared by [`service!`](macro@crate::service), which generates a unit struct per method:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use webrpc_core::Method;
///
/// #[derive(Serialize, Deserialize)]
/// struct PingRequest {}
/// #[derive(Serialize, Deserialize)]
/// struct PingResponse { ok: bool }
///
/// struct Ping;
/// impl Method for Ping {
///     const SERVICE: &'static str = "Health";
///     const NAME: &'static str = "Ping";
///     const SCHEMA: &'static str = "health";
///     const SCHEMA_VERSION: &'static str = "v1.0.0";
///     const WEBRPC_HEADER: &'static str = webrpc_core::webrpc_header!("health", "v1.0.0");
///     type Request = PingRequest;
///     type Response = PingResponse;
/// }
///
/// assert_eq!(Ping::INFO.path("/rpc/"), "/rpc/Health/Ping");
/// assert_eq!(Ping::WEBRPC_HEADER, concat!("webrpc@v0.31.0;webrpc-rs@v", env!("CARGO_PKG_VERSION"), ";health@v1.0.0"));
/// ```
pub trait Method: Send + Sync + 'static {
    /// The service's name, the first path segment after the basepath.
    const SERVICE: &'static str;
    /// The method's name, the last path segment.
    const NAME: &'static str;
    /// The schema's name, such as `sequence-metadata`.
    const SCHEMA: &'static str;
    /// The schema's version, such as `v0.4.0`.
    const SCHEMA_VERSION: &'static str;
    /// The `Webrpc` header value sent with calls of this method and set on its responses,
    /// `webrpc@v0.31.0;webrpc-rs@v…;{SCHEMA}@{SCHEMA_VERSION}` (see
    /// [`webrpc_header!`](crate::webrpc_header)).
    const WEBRPC_HEADER: &'static str;
    /// Both names, as a value (for request extensions, logs and metrics).
    const INFO: MethodInfo = MethodInfo {
        service: Self::SERVICE,
        method: Self::NAME,
    };
    /// The request object: one field per argument, keyed by the schema's argument names.
    type Request: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// The response object: one field per return value.
    type Response: Serialize + DeserializeOwned + Send + Sync + 'static;
}

/// Which RPC a request is for. The server puts it in the request's extensions before calling
/// a handler, and the client on every outgoing request, so middleware can see the method
/// (as tonic's `GrpcMethod` does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MethodInfo {
    /// The service's name, such as `Collections`.
    pub service: &'static str,
    /// The method's name, such as `PublishCollection`.
    pub method: &'static str,
}

impl MethodInfo {
    /// The method's path under a basepath: `{basepath}{service}/{method}`.
    pub fn path(&self, basepath: &str) -> String {
        let mut path =
            String::with_capacity(basepath.len() + self.service.len() + self.method.len() + 1);
        path.push_str(basepath);
        path.push_str(self.service);
        path.push('/');
        path.push_str(self.method);
        path
    }
}

/// Normalises a basepath so that it starts and ends with `/` (`"api"` becomes `"/api/"`, an
/// empty one `"/"`).
///
/// ```
/// assert_eq!(webrpc_core::normalize_basepath("rpc"), "/rpc/");
/// assert_eq!(webrpc_core::normalize_basepath("/rpc/"), "/rpc/");
/// assert_eq!(webrpc_core::normalize_basepath(""), "/");
/// ```
pub fn normalize_basepath(basepath: &str) -> String {
    let trimmed = basepath.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

/// The `Webrpc` header value of this implementation for a schema, as a string literal:
/// `webrpc_header!("sequence-metadata", "v0.4.0")` is
/// `"webrpc@v0.31.0;webrpc-rs@v0.1.0;sequence-metadata@v0.4.0"`.
#[macro_export]
macro_rules! webrpc_header {
    ($schema:literal, $version:literal) => {
        concat!("webrpc@v0.31.0;webrpc-rs@v0.1.0;", $schema, "@", $version)
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_macro_matches_the_header_type() {
        assert_eq!(
            crate::webrpc_header!("s", "v1"),
            crate::WebrpcHeader::for_schema("s", "v1").to_string()
        );
    }
}
