//! # webrpc-server
//!
//! Serve [webrpc](https://github.com/webrpc/webrpc) services from Rust, wire-compatible with
//! the reference Go and TypeScript implementations.
//!
//! ## Architecture
//!
//! - [`Router`] is a `tower::Service<http::Request<B>>` with `Error = Infallible`. It routes
//!   `POST {basepath}{Service}/{Method}` to typed handlers and turns every failure (bad route,
//!   bad method, bad content type, oversized or slow body, undecodable arguments, handler
//!   errors and panics) into the webrpc error envelope with the reference status and cause.
//! - Being a plain tower service, it takes tower and tower-http layers around it (auth,
//!   `tower::timeout`, `tower::limit`, `tower::load_shed`, CORS, compression) and nests in
//!   other routers. Layers that fail calls with an error rather than a response (timeout,
//!   load shedding, buffer) are answered with envelopes by [`RecoverErrorLayer`], or by
//!   [`serve`] itself, which takes a service whatever its error type (see [`recover`]).
//! - [`serve`] serves such a service on a `TcpListener` with hyper 1 and hyper-util:
//!   HTTP/1.1 and h2c, a header read timeout, an optional connection cap and graceful
//!   shutdown (`serve(listener, app).with_graceful_shutdown(signal).await`, or
//!   [`spawn`](Serve::spawn) for a [`ServerHandle`] with `local_addr()` and `shutdown()`);
//!   [`Server`] holds its options. It also gives each connection a peer probe, so that an
//!   HTTP/1.1 call whose client sent it and closed at once does not start its handler: a
//!   router served some other way (`axum::serve`, a hyper loop of your own) works the same
//!   but without that check, and such a call's handler can then run (about one in ten in
//!   this project's test), as with hyper alone. Over HTTP/2 a reset is seen either way.
//! - The router's own [`concurrency_limit`](Router::concurrency_limit) and
//!   [`handler_timeout`](Router::handler_timeout) remain for what a layer cannot do: the
//!   limit counts work a handler handed to the blocking pool ([`spawn_blocking`],
//!   [`CallHandle`]) until that work ends, while a `tower::limit` slot is given back when the
//!   call's future is dropped (a timeout, a reset) even though its blocking work runs on; the
//!   timeout covers the handler alone, after the body is read (which
//!   [`body_timeout`](Router::body_timeout) bounds), whereas `tower::timeout` around the
//!   router covers the whole call.
//! - [`stream`]: stream methods (`=> stream (...)`), served with [`Router::route_stream`] as
//!   newline-delimited JSON, byte for byte like gen-golang, pulled lazily from the handler.
//!
//! Services are generated from a schema by `webrpc-build` (or declared with
//! [`webrpc_core::service!`]): a trait and a `mount` function that adds an implementation's
//! methods to a router; single methods can also be added with closures through
//! [`Router::route`] (`Router::new().route(SayHello, handler)`).
//!
//! Handlers see the incoming request as a [`RequestContext`](webrpc_core::RequestContext):
//! read-only, server-side only. A call a handler makes to another service takes the client's
//! own options, which start empty, so none of the incoming request's headers (`Host`,
//! `Authorization`, `Cookie`, …) travel on unless the handler copies one by name.
//!
//! ## Example
//!
//! ```
//! use webrpc_core::{service, RequestContext, WebrpcError};
//! use webrpc_server::{serve, Router};
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
//! let router = mount_greeter(std::sync::Arc::new(Polite), Router::new());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! let server = serve(listener, router).spawn();
//! println!("POST http://{}/rpc/Greeter/SayHello", server.local_addr());
//! // ... until it is time to stop: in-flight calls finish first.
//! server.shutdown().await.unwrap();
//! # });
//! ```

// Links from other crates' docs to this one resolve even when this crate's docs are not
// built first (`cargo doc --workspace --no-deps` builds them in parallel: a link to a crate
// whose docs are not there yet would render as literal `[brackets]`). Keep the version in
// step with Cargo.toml.
#![doc(html_root_url = "https://docs.rs/webrpc-server/0.1.0")]

mod body;
mod call;
mod peer;
pub mod recover;
mod router;
mod serve;
pub mod stream;

pub use call::{spawn_blocking, CallHandle};
pub use recover::{RecoverError, RecoverErrorLayer};
pub use router::{
    BoxError, ConcurrencyLimit, ResponseBody, Router, RouterFuture, DEFAULT_BODY_LIMIT,
    DEFAULT_BODY_TIMEOUT,
};
pub use serve::{
    serve, Serve, Server, ServerHandle, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT,
};
pub use webrpc_core;

/// The crate's README, whose Rust snippets rustdoc compiles and runs as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
