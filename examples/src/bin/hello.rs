//! Declare a service, serve it, call it: the README's example as a program.
//!
//! ```text
//! cargo run -p examples --bin hello
//! ```

use std::sync::Arc;

use webrpc_client::{CallOptions, Client};
use webrpc_core::{service, RequestContext, WebrpcError};
use webrpc_server::{Router, Server};

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
    // Serve: POST /rpc/Greeter/SayHello on an ephemeral loopback port.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let router = mount_greeter(Arc::new(Polite), Router::new());
    let server = tokio::spawn(Server::new().serve(listener, router, async {
        stopped.await.ok();
    }));

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

    let _ = stop.send(());
    server.await??;
    Ok(())
}
