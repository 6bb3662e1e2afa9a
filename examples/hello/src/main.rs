//! Declare a service, serve it, call it: the README's first example, as a program
//! (`examples/hello/tests/readme.rs` checks that the README shows this file's code).
//!
//! ```text
//! cargo run -p hello
//! ```

use std::sync::Arc;

use webrpc_client::{CallOptions, Client};
use webrpc_core::{service, RequestContext, WebrpcError};
use webrpc_server::{serve, Router};

service! {
    /// A greeting service.
    pub trait Greeter;
    /// Calls a [`Greeter`] over webrpc.
    client GreeterClient;
    /// Serves a [`Greeter`].
    mount mount_greeter;
    name "Greeter";
    schema "hello" "v1.0.0";
    /// Greets someone.
    SayHello => say_hello(SayHelloRequest {
        /// Who to greet.
        pub name: String,
    }) -> SayHelloResponse {
        /// The greeting.
        pub greeting: String,
    };
}

struct Polite;

impl Greeter for Polite {
    type Ctx = RequestContext;

    async fn say_hello(
        &self,
        _: RequestContext,
        req: SayHelloRequest,
    ) -> Result<SayHelloResponse, WebrpcError> {
        Ok(SayHelloResponse {
            greeting: format!("Hello, {}!", req.name),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Serve it (HTTP/1.1 and h2c) on a port the system picks: POST /rpc/Greeter/SayHello.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let router = mount_greeter(Arc::new(Polite), Router::new());
    let server = serve(listener, router).spawn();
    let url = format!("http://{}", server.local_addr());

    // Call it: the generated client implements the same trait.
    let greeter = GreeterClient::new(Client::new(&url)?);
    let reply = greeter
        .say_hello(
            CallOptions::new(),
            SayHelloRequest {
                name: "webrpc".into(),
            },
        )
        .await?;
    println!("{}", reply.greeting);

    // Graceful shutdown: stop accepting, let calls in flight finish.
    server.shutdown().await?;
    Ok(())
}
