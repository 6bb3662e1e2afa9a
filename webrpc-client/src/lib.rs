//! # webrpc-client
//!
//! Call [webrpc](https://github.com/webrpc/webrpc) services from Rust, wire-compatible with
//! the reference Go and TypeScript servers.
//!
//! ## Architecture
//!
//! - [`Client`] is generic over any `tower::Service<http::Request<Full<Bytes>>>`, so the same
//!   typed client runs over the pooled network transport, a layered tower stack (retries,
//!   rate limits, tracing), a mock, or straight into a `webrpc_server::Router` in process.
//! - [`HttpTransport`] is the default transport: a pooled hyper-util client with HTTP/1.1 and
//!   HTTP/2, `TCP_NODELAY`, a short idle timeout, and HTTPS through rustls (feature `rustls`,
//!   on by default).
//! - Every failure is a [`WebrpcError`](crate::webrpc_core::WebrpcError); the mapping is documented on
//!   [`Client`].
//! - [`Client`] implements [`webrpc_core::Caller`] with [`CallOptions`] as its per-call
//!   options, so the client wrapper generated for a service implements the service's trait
//!   over it, with `Ctx = CallOptions`. Options start empty; a server's request context is
//!   never turned into them (see [`CallOptions::forward`] to pass one header on).
//! - Stream methods (`=> stream (...)`) are called with [`Client::call_stream`], which hands
//!   out a typed `Stream` of messages; every way a stream can end is told apart (see
//!   [`Client::call_stream_with`]).
//!
//! ## Example
//!
//! ```
//! use webrpc_client::Client;
//! use webrpc_client::CallOptions;
//! use webrpc_core::{service, RequestContext, WebrpcError};
//! use webrpc_server::Router;
//!
//! service! {
//!     /// A greeting service.
//!     pub trait Greeter;
//!     /// Client of [`Greeter`].
//!     client GreeterClient;
//!     /// Mounts a [`Greeter`].
//!     mount mount_greeter;
//!     name "Greeter";
//!     schema "greeter" "v1.0.0";
//!     /// Says hello.
//!     SayHello => say_hello(SayHelloRequest {
//!         /// Who to greet.
//!         pub name: String,
//!     }) -> SayHelloResponse {
//!         /// The greeting.
//!         pub greeting: String,
//!     };
//! }
//!
//! struct Polite;
//! impl Greeter for Polite {
//!     type Ctx = RequestContext;
//!
//!     async fn say_hello(&self, _: RequestContext, req: SayHelloRequest) -> Result<SayHelloResponse, WebrpcError> {
//!         Ok(SayHelloResponse { greeting: format!("hello, {}", req.name) })
//!     }
//! }
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! // In process: the client's transport is the server's router, no socket.
//! let router = mount_greeter(std::sync::Arc::new(Polite), Router::new());
//! let greeter = GreeterClient::new(Client::builder("http://localhost").build_with(router).unwrap());
//! let out = greeter.say_hello(CallOptions::new(), SayHelloRequest { name: "ana".into() }).await.unwrap();
//! assert_eq!(out.greeting, "hello, ana");
//!
//! // Over the network it is the same code with `Client::new("http://127.0.0.1:4242")`.
//! # });
//! ```

// Links from other crates' docs to this one resolve even when this crate's docs are not
// built first (`cargo doc --workspace --no-deps` builds them in parallel: a link to a crate
// whose docs are not there yet would render as literal `[brackets]`). Keep the version in
// step with Cargo.toml.
#![doc(html_root_url = "https://docs.rs/webrpc-client/0.1.0")]

mod client;
mod stream;
mod transport;

pub use client::{
    CallOptions, Client, ClientBuilder, ConfigError, DEFAULT_RESPONSE_LIMIT, DEFAULT_TIMEOUT,
    X_ACCESS_KEY,
};
pub use transport::{
    HttpTransport, TransportFuture, TransportOptions, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_POOL_IDLE_TIMEOUT,
};
pub use webrpc_core;

/// The crate's README, whose Rust snippets rustdoc compiles and runs as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
