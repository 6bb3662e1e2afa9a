//! The hand-written hyper baseline of the benchmarks, as a server: PublishCollection only,
//! on an in-memory map holding the seed collection (project 30957, collection 888).
//!
//! ```text
//! cargo run --release -p bench --bin baseline-server -- --addr 127.0.0.1:4343 [--jwt-secret S]
//! ```
//!
//! It prints `listening on http://ADDR` once ready. With `--jwt-secret` it checks HS256 bearer
//! tokens like the local Metadata server does.

use bench::baseline::{self, BaselineStore};
use clap::Parser;

#[derive(Parser)]
#[command(about = "Hand-written hyper PublishCollection server (benchmark baseline)")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:4343")]
    addr: String,
    /// Check HS256 bearer tokens signed with this secret.
    #[arg(long, env = "METADATA_JWT_SECRET")]
    jwt_secret: Option<String>,
    /// Project of the seeded collection.
    #[arg(long, default_value_t = 30957)]
    project: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let mut store = BaselineStore::new();
    if let Some(secret) = &args.jwt_secret {
        store = store.with_jwt_secret(secret.as_bytes());
    }
    let mut seed = baseline::seed_collection();
    seed.project_id = args.project;
    store.insert(seed);
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    baseline::serve(listener, store, async {
        tokio::signal::ctrl_c().await.ok();
    })
    .await;
    Ok(())
}
