//! `interop-server`: webrpc's interoperability `TestApi`, served from Rust.
//!
//! It answers as webrpc's reference server (`webrpc-test -server`): the same fixtures, the
//! same schema errors and causes, `UnexpectedValue` when a `Send*` argument differs from the
//! fixture. See the `interop` crate's docs for the details and the known differences.
//!
//! ```text
//! cargo run -p interop --bin interop-server -- --addr 127.0.0.1:9988
//! cargo run -p interop --bin interop-server -- --addr 127.0.0.1:0     # any free port
//! cargo run -p interop --bin interop-server -- --print-schema         # the RIDL it serves
//! ```
//!
//! Once listening it prints its base URL, `http://127.0.0.1:PORT`, as the first line on
//! stdout (logs go to stderr; `RUST_LOG` sets their level), so scripts and tests can bind
//! port 0 and read the port back. It serves `POST /rpc/TestApi/<Method>` until Ctrl-C (or
//! SIGTERM, or `--timeout` seconds), then stops accepting and lets calls in flight finish.
//!
//! Check it with this project's client, or with webrpc's:
//!
//! ```text
//! cargo run -p interop --bin interop-client -- --url http://127.0.0.1:9988
//! webrpc-test -client -url=http://127.0.0.1:9988
//! ```

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use interop::{router, DEFAULT_ADDR, SCHEMA_RIDL};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// Serves webrpc's interop TestApi (schema Test@v1.0.0) at /rpc/TestApi/.
#[derive(Debug, Parser)]
#[command(name = "interop-server")]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = DEFAULT_ADDR)]
    addr: String,
    /// Stop after this many seconds (like webrpc-test's -timeout); default: run until
    /// Ctrl-C.
    #[arg(long, value_name = "SECONDS")]
    timeout: Option<u64>,
    /// Print the schema (test.ridl) and exit.
    #[arg(long)]
    print_schema: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    if args.print_schema {
        print!("{SCHEMA_RIDL}");
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let listener = match TcpListener::bind(&args.addr).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("interop-server: cannot listen on {}: {err}", args.addr);
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => {
            println!("http://{addr}");
            // Whoever reads the address waits for this line; do not leave it in a buffer.
            let _ = std::io::stdout().flush();
        }
        Err(err) => {
            eprintln!("interop-server: cannot read the bound address: {err}");
            return ExitCode::FAILURE;
        }
    }

    let shutdown = shutdown_signal(args.timeout.map(Duration::from_secs));
    match webrpc_server::serve(listener, router())
        .with_graceful_shutdown(shutdown)
        .await
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("interop-server: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Completes on Ctrl-C, on SIGTERM (Unix), or when `timeout` has passed.
async fn shutdown_signal(timeout: Option<Duration>) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling available: only the timeout (if any) stops the server.
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            match signal(SignalKind::terminate()) {
                Ok(mut stream) => {
                    stream.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        }
        #[cfg(not(unix))]
        std::future::pending::<()>().await;
    };
    let deadline = async {
        match timeout {
            Some(timeout) => tokio::time::sleep(timeout).await,
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received"),
        () = terminate => tracing::info!("SIGTERM received"),
        () = deadline => tracing::info!("--timeout elapsed"),
    }
}
