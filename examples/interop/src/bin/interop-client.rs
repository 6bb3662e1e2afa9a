//! `interop-client`: webrpc's interoperability checks (`webrpc-test -client`), from Rust.
//!
//! It calls every `TestApi` method of the server at `--url`, compares what comes back with
//! the reference fixtures and error table, prints one line per check (`ok   GetOne`,
//! `FAIL GetOne: …`), and exits with status 1 listing every failure (status 2 when the
//! server never answered). The checks are `interop::run_checks`; its docs list
//! them, including the few that are stricter than webrpc's client.
//!
//! ```text
//! cargo run -p interop --bin interop-server -- --addr 127.0.0.1:9988 &
//! cargo run -p interop --bin interop-client -- --url http://127.0.0.1:9988
//! ```
//!
//! Against webrpc's reference server:
//!
//! ```text
//! webrpc-test -server -port=9988 &
//! cargo run -p interop --bin interop-client -- --url http://127.0.0.1:9988 --wait 10
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use interop::{run_checks, wait_ready, TestApiClient, DEFAULT_ADDR};
use webrpc_client::Client;

/// Runs webrpc's interop checks against a TestApi server.
#[derive(Debug, Parser)]
#[command(name = "interop-client")]
struct Args {
    /// Base URL of the server (calls go to URL/rpc/TestApi/METHOD).
    #[arg(long, default_value_t = format!("http://{DEFAULT_ADDR}"))]
    url: String,
    /// First wait up to this many seconds for the server to answer GetEmpty (polling every
    /// 100 ms, like webrpc-test's client).
    #[arg(long, value_name = "SECONDS")]
    wait: Option<u64>,
    /// Per-call timeout, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    timeout: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let client = match Client::builder(&args.url)
        .timeout(Some(Duration::from_secs(args.timeout)))
        .build()
    {
        Ok(client) => TestApiClient::new(client),
        Err(err) => {
            eprintln!("interop-client: {err}");
            return ExitCode::from(2);
        }
    };

    if let Some(wait) = args.wait {
        if let Err(err) = wait_ready(&client, Duration::from_secs(wait)).await {
            eprintln!(
                "interop-client: {} did not answer GetEmpty within {wait}s: {err}",
                args.url
            );
            return ExitCode::from(2);
        }
    }

    let report = run_checks(&client).await;
    for check in &report.checks {
        println!("{check}");
    }
    let failures: Vec<_> = report.failures().collect();
    println!(
        "{} checks, {} passed, {} failed",
        report.checks.len(),
        report.checks.len() - failures.len(),
        failures.len()
    );
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!("Failed tests:");
    for check in failures {
        eprintln!("{check}");
    }
    ExitCode::FAILURE
}
