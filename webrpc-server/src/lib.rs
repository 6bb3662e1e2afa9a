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
//!   Being a plain tower service, it takes any tower or tower-http layer (auth, timeouts,
//!   concurrency limits, CORS, compression) and nests in other routers.
//! - [`Server`] serves any such service on a `TcpListener` with hyper 1 and hyper-util:
//!   HTTP/1.1 and h2c, a header read timeout, an optional connection cap and graceful shutdown.
//!
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
//! use webrpc_server::{Router, Server};
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
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(Server::new().serve(listener, router, async { stopped.await.ok(); }));
//! // ... serve calls to POST /rpc/Greeter/SayHello ...
//! stop.send(()).unwrap();
//! server.await.unwrap().unwrap();
//! # });
//! ```

mod body;
mod call;
mod router;
mod serve;
pub mod stream;

pub use call::{spawn_blocking, CallHandle};
pub use router::{
    BoxError, ConcurrencyLimit, ResponseBody, Router, RouterFuture, DEFAULT_BODY_LIMIT,
    DEFAULT_BODY_TIMEOUT,
};
pub use serve::{serve, Server, DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT};
pub use webrpc_core;
