//! # webrpc-core
//!
//! The [webrpc](https://github.com/webrpc/webrpc) wire protocol as Rust types, with no I/O:
//! the error envelope and error catalogues, the `Webrpc` header, method descriptors and
//! routes, and the JSON codec. `webrpc-server` and `webrpc-client` are built on it; it is light
//! enough for any other transport.
//!
//! ## Architecture
//!
//! - [`error`]: [`WebrpcError`], the `{"error","code","msg","cause","status"}` envelope;
//!   [`BuiltinError`], webrpc's codes 0 to -10; [`error_catalogue!`] to declare a schema's
//!   table of errors once.
//! - [`method`]: [`Method`], one RPC described at the type level, [`MethodInfo`], and
//!   [`ServiceInfo`], a service's method table.
//! - [`header`]: [`WebrpcHeader`], the `webrpc@…;gen@…;schema@…` header.
//! - [`codec`]: JSON encoding and decoding from collected bytes, with the reference causes.
//! - [`service!`]: declares a service (types, trait, client wrapper, mount function) once;
//!   [`RequestContext`], what a serving implementation sees of the incoming request.
//! - [`stream`]: streaming methods: [`StreamMethod`], [`MessageStream`] and the ndjson lines.
//! - [`types`]: the scalars [`Timestamp`], [`BigInt`] and [`Bytes`] (webrpc's `timestamp`,
//!   `bigint` and `[]byte`).
//! - [`serde_go`]: serde helpers for Go-compatible JSON (`null` and missing fields as zero
//!   values, `omitempty`).
//!
//! ## Example
//!
//! ```
//! use webrpc_core::{codec, error_catalogue, BuiltinError, WebrpcError};
//!
//! error_catalogue! {
//!     /// My schema's errors.
//!     pub enum AppError {
//!         /// Nothing there.
//!         NotFound = (3000, "Resource not found", 400),
//!     }
//! }
//!
//! // What a server sends, and what a client makes of it.
//! let sent = AppError::NotFound.with_cause("collection 999999");
//! let body = codec::encode_error(&sent);
//! assert_eq!(
//!     &body[..],
//!     br#"{"error":"NotFound","code":3000,"msg":"Resource not found","cause":"collection 999999","status":400}"#
//! );
//! let received: WebrpcError = codec::decode_error_response(400, &body);
//! assert_eq!(received.kind::<AppError>(), Some(AppError::NotFound));
//! assert_eq!(received.cause(), Some("collection 999999"));
//! assert!(received.kind::<BuiltinError>().is_none());
//! ```

// Links from other crates' docs to this one resolve even when this crate's docs are not
// built first (`cargo doc --workspace --no-deps` builds them in parallel: a link to a crate
// whose docs are not there yet would render as literal `[brackets]`). Keep the version in
// step with Cargo.toml.
#![doc(html_root_url = "https://docs.rs/webrpc-core/0.1.0")]

pub mod codec;
pub mod context;
pub mod error;
pub mod header;
pub mod method;
pub mod serde_go;
pub mod service;
pub mod stream;
pub mod types;

pub use context::RequestContext;
pub use error::{BuiltinError, ErrorKind, WebrpcError};
#[allow(deprecated)]
pub use header::WEBRPC_HEADER;
pub use header::{HeaderParseError, WebrpcHeader, WEBRPC_HEADER_NAME};
pub use method::{
    normalize_basepath, Method, MethodInfo, MethodVisitor, ServiceInfo, DEFAULT_BASEPATH,
};
pub use service::{CallFuture, Caller, Empty, Routes};
pub use stream::{MessageStream, StreamFuture, StreamMethod};
pub use types::{BigInt, Bytes, ParseBigIntError, Timestamp};

/// Includes the Rust code `webrpc-build` generated for a schema in `build.rs`
/// (`$OUT_DIR/<name>.rs`, where `<name>` is the schema file's name without `.ridl`).
///
/// ```ignore
/// // build.rs: webrpc_build::compile("schema/petstore.ridl").unwrap();
/// mod petstore {
///     webrpc_core::include_schema!("petstore");
/// }
/// ```
#[macro_export]
macro_rules! include_schema {
    ($name:literal) => {
        include!(concat!(env!("OUT_DIR"), "/", $name, ".rs"));
    };
}

/// Re-exports used by the macros; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use serde;

    /// Glob-imported by `service!` where it is called, so that serde's derive finds serde
    /// through this crate (`#[serde(crate = "__webrpc_core_serde")]`) by a name nothing
    /// else uses; glob imports of the same item may repeat, so several services can share
    /// a module.
    pub mod serde_path {
        pub use serde as __webrpc_core_serde;
    }
}

/// The crate's README, whose Rust snippets rustdoc compiles and runs as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
