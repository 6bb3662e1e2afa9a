//! The local Sequence Metadata server.
//!
//! ```text
//! cargo run --release -p metadata-server -- [--addr 127.0.0.1:4242] \
//!     [--db ./metadata.db] [--store sqlite|memory] [--jwt-secret SECRET] [--public-url URL]
//! ```
//!
//! Serves Sequence's `Collections` webrpc service at `/rpc/Collections/*` (HS256 JWT auth,
//! claim `project`) and published collections' metadata at `/projects/…`. At startup it
//! prints the bound address, a development JWT and curl lines to try it; the access log (one
//! line per request) and the server's events go to stderr (`RUST_LOG`, default `info`;
//! `--log-format text|json`), written by a background thread. Stops gracefully on Ctrl-C or
//! SIGTERM, flushing the log.

use clap::Parser;
use metadata_server::{logging, server, ServerArgs};

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received, shutting down"),
        () = terminate => tracing::info!("SIGTERM received, shutting down"),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = ServerArgs::parse();
    // Held until `main` returns: dropping it flushes the queued log lines.
    let log = logging::init(args.log_format);
    let mut stdout = std::io::stdout();
    let code = match server::run(args, &mut stdout, shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("metadata-server stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("metadata-server: {err}");
            std::process::ExitCode::FAILURE
        }
    };
    drop(log);
    code
}
