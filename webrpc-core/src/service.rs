//! Declaring a service once for both sides: the [`service!`](macro@crate::service) macro and the
//! two traits it connects to, [`Caller`] (implemented by `webrpc-client`) and [`Routes`]
//! (implemented by `webrpc-server`'s router).

use std::future::Future;

use crate::context::Context;
use crate::error::WebrpcError;
use crate::method::Method;
use crate::stream::{MessageStream, StreamMethod};

/// The future a service-trait method returns: its response object or a [`WebrpcError`], and
/// `Send`, so a server can run it on any thread.
///
/// A shorthand for `impl Future<Output = Result<T, WebrpcError>> + Send`, with a blanket
/// implementation: implement a generated trait's methods with plain `async fn`s.
///
/// ```
/// use webrpc_core::{CallFuture, WebrpcError};
///
/// fn answer() -> impl CallFuture<u32> {
///     async { Ok::<_, WebrpcError>(42) }
/// }
/// # let _ = answer();
/// ```
pub trait CallFuture<T>: Future<Output = Result<T, WebrpcError>> + Send {}

impl<T, F> CallFuture<T> for F where F: Future<Output = Result<T, WebrpcError>> + Send {}

/// Something that can make a webrpc call: the network client, or anything standing in for
/// it. A service's generated client wrapper (`FooClient<C>`) implements the service trait for
/// every `C: Caller`.
pub trait Caller: Send + Sync + 'static {
    /// Calls method `M` with its request object.
    fn call<M: Method>(
        &self,
        ctx: Context,
        request: M::Request,
    ) -> impl Future<Output = Result<M::Response, WebrpcError>> + Send;

    /// Calls stream method `M`: resolves once the stream is open (an error before that, such
    /// as a bad route or an auth failure, is the call's error) to the stream of its messages.
    /// An error inside the stream is its last item.
    fn call_stream<M: StreamMethod>(
        &self,
        ctx: Context,
        request: M::Request,
    ) -> impl Future<Output = Result<MessageStream<M::Message>, WebrpcError>> + Send;
}

/// Something that methods can be mounted on: a server router. A service's generated `mount`
/// function adds each method of a service-trait implementation through it.
pub trait Routes: Sized {
    /// Adds a handler for method `M`.
    fn add_route<M, F, Fut>(self, handler: F) -> Self
    where
        M: Method,
        F: Fn(Context, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<M::Response, WebrpcError>> + Send + 'static;

    /// Adds a handler for stream method `M`. The handler resolves to the stream of messages
    /// (or an error); what the server does with an error before the stream (send it in the
    /// stream, as gen-golang does, or as an ordinary error response) is the router's rule.
    fn add_stream_route<M, F, Fut, S>(self, handler: F) -> Self
    where
        M: StreamMethod,
        F: Fn(Context, M::Request) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<S, WebrpcError>> + Send + 'static,
        S: futures_core::Stream<Item = Result<M::Message, WebrpcError>> + Send + 'static;
}

/// Declares a webrpc service once, for client and server use.
///
/// For each method it generates a marker type implementing [`Method`], a request struct and a
/// response struct (fields in `snake_case`, JSON keys in `camelCase`; field attributes such
/// as `#[serde(default, skip_serializing_if = "Option::is_none")]` pass through). For the
/// service it generates:
///
/// - a trait with one async method per RPC, taking a [`Context`] and the request object;
/// - a client wrapper implementing that trait over any [`Caller`], so code written against the
///   trait runs against a remote server or an in-process implementation unchanged;
/// - a `mount` function that adds every method of a trait implementation to any [`Routes`]
///   (the server's router).
///
/// ```
/// use webrpc_core::{service, Context, WebrpcError};
///
/// service! {
///     /// A greeting service.
///     pub trait Greeter;
///     /// Client of [`Greeter`].
///     client GreeterClient;
///     /// Mounts a [`Greeter`] on a router.
///     mount mount_greeter;
///     name "Greeter";
///     schema "greeter" "v1.0.0";
///
///     /// Says hello.
///     SayHello => say_hello(SayHelloRequest {
///         /// Who to greet.
///         pub name: String,
///     }) -> SayHelloResponse {
///         /// The greeting.
///         pub greeting: String,
///     };
/// }
///
/// struct Polite;
/// impl Greeter for Polite {
///     async fn say_hello(&self, _ctx: Context, req: SayHelloRequest) -> Result<SayHelloResponse, WebrpcError> {
///         Ok(SayHelloResponse { greeting: format!("hello, {}", req.name) })
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let out = Polite.say_hello(Context::new(), SayHelloRequest { name: "ana".into() }).await.unwrap();
/// assert_eq!(out.greeting, "hello, ana");
/// # });
/// assert_eq!(<SayHello as webrpc_core::Method>::INFO.path("/rpc/"), "/rpc/Greeter/SayHello");
/// ```
#[macro_export]
macro_rules! service {
    (
        $(#[$tmeta:meta])*
        $vis:vis trait $Trait:ident;
        $(#[$cmeta:meta])*
        client $Client:ident;
        $(#[$mountmeta:meta])*
        mount $mount:ident;
        name $service:literal;
        schema $schema:literal $schema_version:literal;
        $(
            $(#[$mmeta:meta])*
            $Method:ident => $fn_name:ident (
                $Req:ident { $( $(#[$rqmeta:meta])* $rqvis:vis $rqf:ident : $rqty:ty ),* $(,)? }
            ) -> $Resp:ident { $( $(#[$rsmeta:meta])* $rsvis:vis $rsf:ident : $rsty:ty ),* $(,)? };
        )*
    ) => {
        $(
            $(#[$mmeta])*
            #[derive(Debug, Clone, Copy, Default)]
            $vis struct $Method;

            impl $crate::Method for $Method {
                const SERVICE: &'static str = $service;
                const NAME: &'static str = stringify!($Method);
                const SCHEMA: &'static str = $schema;
                const SCHEMA_VERSION: &'static str = $schema_version;
                const WEBRPC_HEADER: &'static str = $crate::webrpc_header!($schema, $schema_version);
                type Request = $Req;
                type Response = $Resp;
            }

            #[doc = concat!("Request object of `", $service, ".", stringify!($Method), "`.")]
            #[derive(Debug, Clone, PartialEq, Default, $crate::__private::serde::Serialize, $crate::__private::serde::Deserialize)]
            #[serde(crate = "webrpc_core::__private::serde", rename_all = "camelCase")]
            $vis struct $Req {
                $( $(#[$rqmeta])* $rqvis $rqf: $rqty, )*
            }

            #[doc = concat!("Response object of `", $service, ".", stringify!($Method), "`.")]
            #[derive(Debug, Clone, PartialEq, Default, $crate::__private::serde::Serialize, $crate::__private::serde::Deserialize)]
            #[serde(crate = "webrpc_core::__private::serde", rename_all = "camelCase")]
            $vis struct $Resp {
                $( $(#[$rsmeta])* $rsvis $rsf: $rsty, )*
            }
        )*

        $(#[$tmeta])*
        $vis trait $Trait: ::std::marker::Send + ::std::marker::Sync + 'static {
            $(
                $(#[$mmeta])*
                fn $fn_name(
                    &self,
                    ctx: $crate::Context,
                    request: $Req,
                ) -> impl ::std::future::Future<Output = ::std::result::Result<$Resp, $crate::WebrpcError>> + ::std::marker::Send;
            )*
        }

        $(#[$cmeta])*
        #[derive(Debug, Clone)]
        $vis struct $Client<C> {
            caller: C,
        }

        impl<C: $crate::Caller> $Client<C> {
            /// Wraps a caller (usually a `webrpc_client::Client`).
            pub fn new(caller: C) -> Self {
                Self { caller }
            }
            /// The wrapped caller.
            pub fn caller(&self) -> &C {
                &self.caller
            }
        }

        impl<C: $crate::Caller> $Trait for $Client<C> {
            $(
                fn $fn_name(
                    &self,
                    ctx: $crate::Context,
                    request: $Req,
                ) -> impl ::std::future::Future<Output = ::std::result::Result<$Resp, $crate::WebrpcError>> + ::std::marker::Send {
                    self.caller.call::<$Method>(ctx, request)
                }
            )*
        }

        $(#[$mountmeta])*
        $vis fn $mount<R: $crate::Routes, T: $Trait>(service: ::std::sync::Arc<T>, routes: R) -> R {
            $(
                let routes = {
                    let service = ::std::sync::Arc::clone(&service);
                    routes.add_route::<$Method, _, _>(move |ctx, request| {
                        let service = ::std::sync::Arc::clone(&service);
                        async move { service.$fn_name(ctx, request).await }
                    })
                };
            )*
            routes
        }
    };
}
