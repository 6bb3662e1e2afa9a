//! Loopback load tool for PublishCollection, built on the webrpc client.
//!
//! Against one running server:
//!
//! ```text
//! cargo run --release -p examples --bin bench-load -- --url http://127.0.0.1:4242 \
//!     --jwt $METADATA_JWT --concurrency 32 --duration 10s [--collection ID] [--client baseline]
//! ```
//!
//! (Without `--collection`, it first creates one with CreateCollection.) It prints calls/s,
//! p50/p99/p99.9 latency and errors.
//!
//! The comparison the benchmarks doc reports, the hand-written hyper baseline against the
//! webrpc stack, one after the other under the same load:
//!
//! ```text
//! cargo build --release -p examples --bins
//! target/release/bench-load --compare --concurrency 32 --duration 10s --rounds 3
//! # each side on its own core:
//! taskset -c 1 target/release/bench-load --compare --server-cpus 0 --rounds 5
//! ```
//!
//! It starts `metadata-server --store memory` and `baseline-server` (both from the same
//! target directory, as child processes on 127.0.0.1:0, with the same JWT secret, kept for
//! the whole run), and each round measures the four combinations of {webrpc client, baseline
//! client} × {metadata server, baseline server}, one after the other in a rotating order. It
//! prints each run and the ratios of the medians over the rounds.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use clap::Parser;
use examples::baseline::BaselineClient;
use examples::load::{self, LoadReport};
use sequence_metadata::{
    Collection, CollectionMetadata, Collections, CollectionsClient, Context,
    CreateCollectionRequest, PublishCollectionRequest,
};
use webrpc_client::Client;

#[derive(Parser, Debug)]
#[command(
    about = "Loopback load for PublishCollection (webrpc client), or --compare against the hyper baseline"
)]
struct Args {
    /// Server base URL (ignored with --compare).
    #[arg(long, default_value = "http://127.0.0.1:4242")]
    url: String,
    /// Concurrent callers.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured duration (`10s`, `500ms`, `2m`, or seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before measuring.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// The method to call (PublishCollection is the only one).
    #[arg(long, default_value = "PublishCollection")]
    method: String,
    /// Bearer JWT (default: $METADATA_JWT).
    #[arg(long, env = "METADATA_JWT", hide_env_values = true)]
    jwt: Option<String>,
    /// Project id (default: the token's project, as the server decides).
    #[arg(long)]
    project: Option<u64>,
    /// Collection to publish (default: create one first).
    #[arg(long)]
    collection: Option<u64>,
    /// Which client makes the calls: `webrpc` or the hand-written `baseline`.
    #[arg(long, default_value = "webrpc")]
    client: String,
    /// Run the baseline-vs-webrpc comparison with child servers.
    #[arg(long)]
    compare: bool,
    /// Rounds of the comparison (medians are compared).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// With --compare: run the servers pinned to these CPUs (`taskset -c LIST`), e.g. `0`,
    /// while this tool runs under `taskset -c 1`, so each side has its own core.
    #[arg(long)]
    server_cpus: Option<String>,
    /// Stop each worker after this many measured calls (the duration still bounds the run).
    #[arg(long)]
    calls: Option<u64>,
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?}"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("bad duration unit in {text:?} (ms, s, m)")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

type Metadata = CollectionsClient<Client>;

fn metadata_client(url: &str, jwt: &str) -> Result<Metadata, String> {
    CollectionsClient::connect(url, jwt, None).map_err(|e| e.to_string())
}

async fn create_collection(client: &Metadata, project: Option<u64>) -> Result<u64, String> {
    let created = client
        .create_collection(
            Context::new(),
            CreateCollectionRequest {
                project_id: project,
                collection: Collection {
                    metadata: Some(CollectionMetadata {
                        name: "bench-load".into(),
                        description: "A collection published over and over by bench-load.".into(),
                        ..CollectionMetadata::default()
                    }),
                    ..Collection::default()
                },
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(created.collection.id)
}

async fn load_webrpc(
    args: &Args,
    client: Metadata,
    project: Option<u64>,
    collection: u64,
) -> LoadReport {
    load::run(
        args.concurrency,
        args.warmup,
        args.duration,
        args.calls,
        move || {
            let client = client.clone();
            async move {
                client
                    .publish_collection(
                        Context::new(),
                        PublishCollectionRequest {
                            project_id: project,
                            collection_id: collection,
                            recursive: None,
                        },
                    )
                    .await
                    .map(drop)
                    .map_err(|e| e.to_string())
            }
        },
    )
    .await
}

async fn load_baseline(
    args: &Args,
    client: BaselineClient,
    project: u64,
    collection: u64,
) -> LoadReport {
    load::run(
        args.concurrency,
        args.warmup,
        args.duration,
        args.calls,
        move || {
            let client = client.clone();
            async move { client.publish(project, collection).await.map(drop) }
        },
    )
    .await
}

/// A child server, killed on drop.
struct ChildServer {
    child: Child,
    url: String,
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a sibling binary and waits (bounded) for the stdout line that carries its URL.
fn start(
    binary: &str,
    args: &[&str],
    marker: &str,
    cpus: Option<&str>,
) -> Result<ChildServer, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.with_file_name(binary);
    if !path.exists() {
        return Err(format!(
            "{} not found: build it first with `cargo build --release -p examples --bins`",
            path.display()
        ));
    }
    let mut command = match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(cpus).arg(&path);
            c
        }
        None => Command::new(&path),
    };
    let mut child = command
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", path.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    let marker = marker.to_owned();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.split(&marker).nth(1) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    let url = rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| format!("{binary} did not print its address in 30 s"))?;
    Ok(ChildServer { child, url })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn compare(args: &Args) -> Result<(), String> {
    const PROJECT: u64 = 30957;
    let mut secret_bytes = [0u8; 24];
    getrandom::fill(&mut secret_bytes).map_err(|e| e.to_string())?;
    let secret: String = secret_bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({ "project": PROJECT, "account": "0xbench" }),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())?;
    let project = PROJECT.to_string();

    // Both servers run for the whole comparison (pinned to the same CPUs when asked); each
    // round measures the four combinations one after the other, in an order that rotates
    // from round to round, so slow drifts of a noisy machine hit every combination alike.
    let metadata = start(
        "metadata-server",
        &[
            "--addr",
            "127.0.0.1:0",
            "--store",
            "memory",
            "--jwt-secret",
            &secret,
        ],
        "listening on ",
        args.server_cpus.as_deref(),
    )?;
    let baseline = start(
        "baseline-server",
        &[
            "--addr",
            "127.0.0.1:0",
            "--jwt-secret",
            &secret,
            "--project",
            &project,
        ],
        "listening on ",
        args.server_cpus.as_deref(),
    )?;
    let addr_of = |url: &str| -> Result<std::net::SocketAddr, String> {
        url.trim_start_matches("http://")
            .parse()
            .map_err(|e| format!("bad address {url}: {e}"))
    };
    let metadata_collection =
        create_collection(&metadata_client(&metadata.url, &token)?, Some(PROJECT)).await?;

    const NAMES: [&str; 4] = [
        "metadata-server (webrpc) + webrpc client  ",
        "baseline-server (hyper)  + webrpc client  ",
        "metadata-server (webrpc) + baseline client",
        "baseline-server (hyper)  + baseline client",
    ];
    let mut reports: [Vec<LoadReport>; 4] = Default::default();
    for round in 0..args.rounds.max(1) {
        for step in 0..4 {
            let which = (step + round) % 4;
            let report = match which {
                0 => {
                    let client = metadata_client(&metadata.url, &token)?;
                    load_webrpc(args, client, Some(PROJECT), metadata_collection).await
                }
                1 => {
                    let client = metadata_client(&baseline.url, &token)?;
                    load_webrpc(args, client, Some(PROJECT), 888).await
                }
                2 => {
                    let client = BaselineClient::new(addr_of(&metadata.url)?, Some(&token));
                    load_baseline(args, client, PROJECT, metadata_collection).await
                }
                _ => {
                    let client = BaselineClient::new(addr_of(&baseline.url)?, Some(&token));
                    load_baseline(args, client, PROJECT, 888).await
                }
            };
            println!(
                "round {}  {}  {}",
                round + 1,
                NAMES[which],
                report.summary()
            );
            reports[which].push(report);
        }
    }
    drop(metadata);
    drop(baseline);

    let rate =
        |r: &[LoadReport]| median(&mut r.iter().map(LoadReport::calls_per_sec).collect::<Vec<_>>());
    let p99 = |r: &[LoadReport]| {
        median(
            &mut r
                .iter()
                .map(|x| x.quantile(0.99).as_secs_f64())
                .collect::<Vec<_>>(),
        )
    };
    let errors: u64 = reports.iter().flatten().map(|r| r.errors).sum();
    println!();
    println!("medians over {} rounds:", args.rounds.max(1));
    for (name, r) in NAMES.iter().zip(&reports) {
        println!(
            "  {name}  {:>10.0} calls/s  p99 {:>9.1?}",
            rate(r),
            Duration::from_secs_f64(p99(r))
        );
    }
    println!();
    // (label, measured ratio, target, whether higher is better), from the medians above.
    let ratios = [
        (
            "server throughput, metadata-server / baseline, webrpc client  ",
            rate(&reports[0]) / rate(&reports[1]),
            0.95,
            true,
        ),
        (
            "server throughput, metadata-server / baseline, baseline client",
            rate(&reports[2]) / rate(&reports[3]),
            0.95,
            true,
        ),
        (
            "server p99 latency, metadata-server / baseline, webrpc client ",
            p99(&reports[0]) / p99(&reports[1]),
            1.10,
            false,
        ),
        (
            "server p99 latency, metadata-server / baseline, baseline client",
            p99(&reports[2]) / p99(&reports[3]),
            1.10,
            false,
        ),
        (
            "client throughput, webrpc / baseline client, baseline server  ",
            rate(&reports[1]) / rate(&reports[3]),
            0.95,
            true,
        ),
        (
            "client throughput, webrpc / baseline client, metadata-server  ",
            rate(&reports[0]) / rate(&reports[2]),
            0.95,
            true,
        ),
    ];
    for (label, ratio, target, higher_is_better) in ratios {
        let sign = if higher_is_better { ">=" } else { "<=" };
        println!("{label}: {ratio:.3}  (target {sign} {target:.2})");
    }
    println!("errors in all runs: {errors}");
    if let Some(err) = reports.iter().flatten().find_map(|r| r.first_error.clone()) {
        println!("first error: {err}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    if args.method != "PublishCollection" {
        eprintln!("bench-load: only --method PublishCollection is supported");
        return std::process::ExitCode::FAILURE;
    }
    let result = if args.compare {
        compare(&args).await
    } else {
        single(&args).await
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("bench-load: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn single(args: &Args) -> Result<(), String> {
    let jwt = args.jwt.clone().unwrap_or_default();
    let client = metadata_client(&args.url, &jwt)?;
    let collection = match args.collection {
        Some(id) => id,
        None => create_collection(&client, args.project).await?,
    };
    let report = match args.client.as_str() {
        "webrpc" => load_webrpc(args, client, args.project, collection).await,
        "baseline" => {
            let addr = args
                .url
                .trim_start_matches("http://")
                .trim_end_matches('/')
                .parse()
                .map_err(|e| format!("--client baseline needs http://IP:PORT: {e}"))?;
            let project = args.project.ok_or("--client baseline needs --project")?;
            load_baseline(
                args,
                BaselineClient::new(addr, args.jwt.as_deref()),
                project,
                collection,
            )
            .await
        }
        other => return Err(format!("unknown --client {other:?} (webrpc or baseline)")),
    };
    println!("{}", report.summary());
    if let Some(err) = &report.first_error {
        println!("first error: {err}");
    }
    Ok(())
}
