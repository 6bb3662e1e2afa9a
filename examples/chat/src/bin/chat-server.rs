//! `chat-server --addr 127.0.0.1:PORT`: serves webrpc's streaming chat at `/rpc/Chat/`
//! (HTTP/1.1 and h2c) until Ctrl-C; open streams then end with `WebrpcStreamLost`, so
//! subscribers reconnect.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use chat::proto::mount_chat;
use chat::ChatServer;
use clap::Parser;
use webrpc_server::{serve, Router};

/// Serves webrpc's streaming chat example.
#[derive(Debug, Parser)]
#[command(name = "chat-server", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, default_value = "127.0.0.1:4848")]
    addr: SocketAddr,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let listener = match tokio::net::TcpListener::bind(args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("chat-server: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => println!("chat-server listening on http://{addr}/rpc/Chat/"),
        Err(err) => eprintln!("chat-server: {err}"),
    }
    let router = mount_chat(Arc::new(ChatServer::new()), Router::new());
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("chat-server: {err}");
            ExitCode::FAILURE
        }
    }
}
