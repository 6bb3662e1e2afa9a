//! Loopback load tool for PublishCollection, built on the webrpc client.
//!
//! Against one running server:
//!
//! ```text
//! cargo run --release -p bench --bin bench-load -- --url http://127.0.0.1:4242 \
//!     --jwt $METADATA_JWT --concurrency 32 --duration 10s [--collection ID] [--client baseline]
//! ```
//!
//! (Without `--collection`, it first creates one with CreateCollection.) It prints calls/s,
//! p50/p99/p99.9 latency and errors. `--method GetCollection` reads that collection instead
//! (a read), `--method CreateCollection` creates a new collection per call (an insert).
//! `--url A,B` spreads the calls over several servers of one dataset (round-robin per call,
//! like a load balancer; the webrpc client only), e.g. metadata-server instances on one
//! PostgreSQL database (`docs/metadata-server.md`).
//!
//! The comparison the benchmarks doc reports, the hand-written hyper baseline against the
//! webrpc stack, one after the other under the same load:
//!
//! ```text
//! cargo build --release -p bench -p metadata-server --bins
//! target/release/bench-load --compare --concurrency 32 --duration 10s --rounds 3
//! # each side on its own core:
//! taskset -c 1 target/release/bench-load --compare --server-cpus 0 --rounds 5
//! ```
//!
//! The default-configuration suite of issue #11, in one command:
//!
//! ```text
//! cargo build --release -p bench -p metadata-server --bins
//! target/release/bench-load --suite --duration 3s --rounds 3
//! ```
//!
//! starts `metadata-server --store memory` as shipped (no `RUST_LOG`: level `info`, the access
//! log on, written to a file in the temp dir), the same with `--jwt-cache 1024`, and
//! `baseline-server`, and measures every combination of {those servers} × {baseline client,
//! webrpc client, `wrk` when installed (it says so when it is not)} × {HTTP/1.1, h2c (one
//! multiplexed connection)} × {unpinned (all processes share every CPU), pinned (servers on
//! CPU 0, load on CPU 1, moved with `taskset -a -p`)}, in interleaved rounds; then prints the
//! medians and their ratios (calls/s, p50, p99, and the CPU time per call of the side
//! compared: the server's or the load generator's, read from `/proc/<pid>/stat`, which a
//! busy or shared machine disturbs less than calls/s). `--pin`, `--protocols`, `--clients` and
//! `--jwt-cache 0` select a subset.
//!
//! `--compare` starts `metadata-server --store memory` and `baseline-server` (both from the same
//! target directory, as child processes on 127.0.0.1:0, with the same JWT secret, kept for
//! the whole run), and each round measures the four combinations of {webrpc client, baseline
//! client} × {metadata server, baseline server}, one after the other in a rotating order. It
//! prints each run and the ratios of the medians over the rounds.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use bench::baseline::BaselineClient;
use bench::load::{self, LoadReport};
use clap::Parser;
use sequence_metadata::{
    Collection, CollectionMetadata, Collections, CollectionsClient, CreateCollectionRequest,
    GetCollectionRequest, PublishCollectionRequest,
};
use webrpc_client::{CallOptions, Client};

#[derive(Parser, Debug)]
#[command(
    about = "Loopback load for PublishCollection (webrpc client), or --compare against the hyper baseline"
)]
struct Args {
    /// Server base URL, or several separated by commas: calls go round-robin over them
    /// (ignored with --compare and --suite).
    #[arg(long, value_delimiter = ',', default_value = "http://127.0.0.1:4242")]
    url: Vec<String>,
    /// Concurrent callers.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Measured duration (`10s`, `500ms`, `2m`, or seconds).
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before measuring.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// The method to call: PublishCollection (a write to one collection), GetCollection (a
    /// read of it) or CreateCollection (a new collection per call); --compare and --suite use
    /// PublishCollection only.
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
    /// Run the default-configuration suite (issue #11): `metadata-server --store memory` as
    /// shipped (access log on, to a file), the same with `--jwt-cache`, and the baseline
    /// server, under each client, HTTP/1.1 and h2c, unpinned and pinned, in interleaved
    /// rounds; prints the ratios.
    #[arg(long)]
    suite: bool,
    /// With --suite: pinning modes to run, of `unpinned` (servers and load share every CPU)
    /// and `pinned` (servers on --server-cpus, default `0`; load on --client-cpus).
    #[arg(long, value_delimiter = ',', default_value = "unpinned,pinned")]
    pin: Vec<String>,
    /// With --suite: the load's CPUs when pinned.
    #[arg(long, default_value = "1")]
    client_cpus: String,
    /// With --suite: protocols, of `h1` (HTTP/1.1, a pool of connections) and `h2c` (HTTP/2
    /// with prior knowledge, every call multiplexed on one connection; not for wrk).
    #[arg(long, value_delimiter = ',', default_value = "h1,h2c")]
    protocols: Vec<String>,
    /// With --suite: load generators, of `webrpc` (the webrpc client), `baseline` (the
    /// hand-written hyper client) and `wrk` (when installed).
    #[arg(long, value_delimiter = ',', default_value = "baseline,webrpc,wrk")]
    clients: Vec<String>,
    /// With --suite: entries of the JWT cache of the second metadata-server (0: do not run
    /// it).
    #[arg(long, default_value_t = 1024)]
    jwt_cache: usize,
    /// With --suite: directory of the metadata servers' log files (default: the temp dir).
    #[arg(long)]
    log_dir: Option<std::path::PathBuf>,
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
            CallOptions::new(),
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
                        CallOptions::new(),
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

/// `--method` over every `--url`, round-robin per call: one client (one connection pool)
/// per server, like a load balancer in front of them.
async fn load_spread(
    args: &Args,
    clients: Vec<Metadata>,
    project: Option<u64>,
    collection: u64,
) -> LoadReport {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    let clients: Arc<[Metadata]> = clients.into();
    let next = Arc::new(AtomicUsize::new(0));
    let method = args.method.clone();
    load::run(
        args.concurrency,
        args.warmup,
        args.duration,
        args.calls,
        move || {
            let client = clients[next.fetch_add(1, Ordering::Relaxed) % clients.len()].clone();
            let method = method.clone();
            async move {
                match method.as_str() {
                    "GetCollection" => client
                        .get_collection(
                            CallOptions::new(),
                            GetCollectionRequest {
                                project_id: project,
                                collection_id: collection,
                            },
                        )
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                    "CreateCollection" => create_collection(&client, project).await.map(drop),
                    _ => client
                        .publish_collection(
                            CallOptions::new(),
                            PublishCollectionRequest {
                                project_id: project,
                                collection_id: collection,
                                recursive: None,
                            },
                        )
                        .await
                        .map(drop)
                        .map_err(|e| e.to_string()),
                }
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
/// Its stderr goes to `log` with `RUST_LOG` unset (the default configuration), or without a
/// log file to this tool's stderr with `RUST_LOG=warn`.
fn start(
    binary: &str,
    args: &[&str],
    marker: &str,
    cpus: Option<&str>,
    log: Option<std::fs::File>,
) -> Result<ChildServer, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let path = exe.with_file_name(binary);
    if !path.exists() {
        return Err(format!(
            "{} not found: build it first with `cargo build --release -p bench -p metadata-server --bins`",
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
    match log {
        Some(file) => command.env_remove("RUST_LOG").stderr(Stdio::from(file)),
        None => command.env("RUST_LOG", "warn").stderr(Stdio::inherit()),
    };
    let mut child = command
        .args(args)
        .stdout(Stdio::piped())
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
        None,
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
        None,
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
    let methods: &[&str] = if args.suite || args.compare {
        &["PublishCollection"]
    } else {
        &["PublishCollection", "GetCollection", "CreateCollection"]
    };
    if !methods.contains(&args.method.as_str()) {
        eprintln!("bench-load: --method must be one of {methods:?} here");
        return std::process::ExitCode::FAILURE;
    }
    let result = if args.suite {
        suite::run(&args).await
    } else if args.compare {
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
    let clients = args
        .url
        .iter()
        .map(|url| metadata_client(url, &jwt))
        .collect::<Result<Vec<_>, _>>()?;
    let client = clients.first().ok_or("no --url")?.clone();
    let collection = match args.collection {
        Some(id) => id,
        None => {
            let id = create_collection(&client, args.project).await?;
            println!("collection: {id}");
            id
        }
    };
    let report = match args.client.as_str() {
        "webrpc" if clients.len() == 1 && args.method == "PublishCollection" => {
            load_webrpc(args, client, args.project, collection).await
        }
        "webrpc" => load_spread(args, clients, args.project, collection).await,
        "baseline" if args.url.len() > 1 || args.method != "PublishCollection" => {
            return Err("--client baseline takes one --url and PublishCollection".into());
        }
        "baseline" => {
            let addr = args.url[0]
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

/// `--suite`: the comparison of issue #11 in one run.
mod suite {
    use std::collections::HashMap;
    use std::path::PathBuf;
    use std::process::Command;

    use bench::baseline::BaselineClient;
    use bench::load::LoadReport;
    use sequence_metadata::{client_builder, CollectionsClient};
    use webrpc_client::TransportOptions;

    use super::{create_collection, load_baseline, load_webrpc, median, start, Args, ChildServer};

    const PROJECT: u64 = 30957;
    const BASELINE_COLLECTION: u64 = 888;

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Server {
        Metadata,
        MetadataCached,
        Baseline,
    }

    impl Server {
        fn label(self) -> &'static str {
            match self {
                Server::Metadata => "metadata-server",
                Server::MetadataCached => "metadata-server --jwt-cache",
                Server::Baseline => "baseline-server",
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    enum Load {
        Webrpc,
        Baseline,
        Wrk,
    }

    impl Load {
        fn label(self) -> &'static str {
            match self {
                Load::Webrpc => "webrpc client",
                Load::Baseline => "baseline client",
                Load::Wrk => "wrk",
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    struct Combo {
        pinned: bool,
        h2c: bool,
        server: Server,
        load: Load,
    }

    /// What one measurement gave.
    #[derive(Debug, Clone, Copy)]
    struct Figures {
        rate: f64,
        p50: f64,
        p99: f64,
        errors: u64,
        /// CPU time (user + system) the server process spent per call, in seconds.
        server_cpu: f64,
        /// CPU time the load generator spent per call (this process for the in-process
        /// clients, the child for `wrk`), in seconds.
        client_cpu: f64,
    }

    /// CPU time a process has used, from `/proc/<pid>/stat`: (its own user + system time,
    /// that of its waited-for children), in seconds. `None` off Linux.
    fn cpu_times(pid: &str) -> Option<(f64, f64)> {
        parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// The times of [`cpu_times`] from the text of a `/proc/<pid>/stat`.
    fn parse_stat(stat: &str) -> Option<(f64, f64)> {
        // Fields after the command name (which may hold spaces and parentheses) start at
        // field 3.
        let rest = stat.get(stat.rfind(')')? + 2..)?;
        let field = |n: usize| -> Option<f64> { rest.split_whitespace().nth(n - 3)?.parse().ok() };
        // In USER_HZ ticks, 100 per second on Linux.
        let own = field(14)? + field(15)?;
        let children = field(16)? + field(17)?;
        Some((own / 100.0, children / 100.0))
    }

    impl From<&LoadReport> for Figures {
        fn from(report: &LoadReport) -> Self {
            Figures {
                rate: report.calls_per_sec(),
                p50: report.quantile(0.5).as_secs_f64(),
                p99: report.quantile(0.99).as_secs_f64(),
                errors: report.errors,
                server_cpu: f64::NAN,
                client_cpu: f64::NAN,
            }
        }
    }

    fn micros(seconds: f64) -> String {
        format!("{:.0} µs", seconds * 1e6)
    }

    fn loadavg() -> String {
        std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "unknown".into())
    }

    /// Every CPU this process may use now, as a `taskset` list.
    fn all_cpus() -> String {
        std::fs::read_to_string("/sys/devices/system/cpu/online")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| {
                let n = std::thread::available_parallelism().map_or(1, |n| n.get());
                format!("0-{}", n - 1)
            })
    }

    /// Moves every thread of process `pid` to `cpus`.
    fn pin(pid: u32, cpus: &str) -> Result<(), String> {
        let status = Command::new("taskset")
            .args(["-a", "-p", "-c", cpus, &pid.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("cannot run taskset: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("taskset -a -p -c {cpus} {pid} failed"))
        }
    }

    fn wrk_available() -> bool {
        Command::new("wrk")
            .arg("--version")
            .output()
            .is_ok_and(|out| !out.stdout.is_empty() || !out.stderr.is_empty())
    }

    /// Parses a wrk latency like `635.91us`, `1.39ms`, `2.00s`, in seconds.
    fn wrk_duration(text: &str) -> Option<f64> {
        let split = text.find(|c: char| c.is_ascii_alphabetic())?;
        let (number, unit) = text.split_at(split);
        let value: f64 = number.parse().ok()?;
        Some(match unit {
            "us" => value / 1e6,
            "ms" => value / 1e3,
            "s" => value,
            "m" => value * 60.0,
            _ => return None,
        })
    }

    /// Reads calls/s, p50, p99 and errors from `wrk --latency` output.
    fn parse_wrk(output: &str) -> Result<Figures, String> {
        let mut figures = Figures {
            rate: f64::NAN,
            p50: f64::NAN,
            p99: f64::NAN,
            errors: 0,
            server_cpu: f64::NAN,
            client_cpu: f64::NAN,
        };
        for line in output.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["Requests/sec:", rate] => figures.rate = rate.parse().unwrap_or(f64::NAN),
                ["50%", value] => figures.p50 = wrk_duration(value).unwrap_or(f64::NAN),
                ["99%", value] => figures.p99 = wrk_duration(value).unwrap_or(f64::NAN),
                ["Non-2xx", "or", "3xx", "responses:", n] => {
                    figures.errors += n.parse::<u64>().unwrap_or(0)
                }
                ["Socket", "errors:", rest @ ..] => {
                    figures.errors += rest
                        .iter()
                        .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                        .sum::<u64>()
                }
                _ => {}
            }
        }
        if figures.rate.is_nan() {
            return Err(format!("cannot read wrk's output:\n{output}"));
        }
        Ok(figures)
    }

    struct Target {
        url: String,
        collection: u64,
    }

    /// Runs one load against `target` (the server process `server_pid`) and adds the CPU
    /// time per call of both sides. Calls are counted as the measured rate over the whole
    /// run, warm-up included (it runs at the same rate), so that the CPU time and the calls
    /// cover the same span.
    async fn measure(
        args: &Args,
        combo: Combo,
        target: &Target,
        server_pid: u32,
        token: &str,
        wrk_script: &std::path::Path,
    ) -> Result<Figures, String> {
        let server_pid = server_pid.to_string();
        let before = (cpu_times(&server_pid), cpu_times("self"));
        let started = std::time::Instant::now();
        let mut figures = measure_load(args, combo, target, token, wrk_script).await?;
        let elapsed = started.elapsed().as_secs_f64();
        let after = (cpu_times(&server_pid), cpu_times("self"));
        let calls = figures.rate * elapsed;
        if let (Some(a), Some(b)) = (before.0, after.0) {
            figures.server_cpu = (b.0 - a.0) / calls;
        }
        if let (Some(a), Some(b)) = (before.1, after.1) {
            figures.client_cpu = match combo.load {
                Load::Wrk => (b.1 - a.1) / calls,
                Load::Webrpc | Load::Baseline => (b.0 - a.0) / calls,
            };
        }
        Ok(figures)
    }

    async fn measure_load(
        args: &Args,
        combo: Combo,
        target: &Target,
        token: &str,
        wrk_script: &std::path::Path,
    ) -> Result<Figures, String> {
        let addr: std::net::SocketAddr = target
            .url
            .trim_start_matches("http://")
            .parse()
            .map_err(|e| format!("bad address {}: {e}", target.url))?;
        match combo.load {
            Load::Webrpc => {
                let client = client_builder(&target.url, token, None)
                    .transport_options(TransportOptions {
                        http2_prior_knowledge: combo.h2c,
                        ..TransportOptions::default()
                    })
                    .build()
                    .map_err(|e| e.to_string())?;
                let report = load_webrpc(
                    args,
                    CollectionsClient::new(client),
                    Some(PROJECT),
                    target.collection,
                )
                .await;
                Ok(Figures::from(&report))
            }
            Load::Baseline => {
                let client = BaselineClient::with_http2(addr, Some(token), combo.h2c);
                let report = load_baseline(args, client, PROJECT, target.collection).await;
                Ok(Figures::from(&report))
            }
            Load::Wrk => {
                let body = format!(
                    "wrk.method = \"POST\"\nwrk.body = '{{\"projectId\":{PROJECT},\"collectionId\":{}}}'\n\
                     wrk.headers[\"Content-Type\"] = \"application/json\"\n\
                     wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n",
                    target.collection
                );
                std::fs::write(wrk_script, body).map_err(|e| e.to_string())?;
                let seconds = args.duration.as_secs_f64().ceil().max(1.0) as u64;
                let mut command = if combo.pinned {
                    let mut c = Command::new("taskset");
                    c.args(["-c", &args.client_cpus, "wrk"]);
                    c
                } else {
                    Command::new("wrk")
                };
                let url = format!("{}/rpc/Collections/PublishCollection", target.url);
                command.args([
                    "-t2",
                    &format!("-c{}", args.concurrency),
                    &format!("-d{seconds}s"),
                    "--latency",
                    "-s",
                ]);
                command.arg(wrk_script).arg(&url);
                let output = tokio::task::spawn_blocking(move || command.output())
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| format!("cannot run wrk: {e}"))?;
                parse_wrk(&String::from_utf8_lossy(&output.stdout))
            }
        }
    }

    /// Runs the suite.
    pub(super) async fn run(args: &Args) -> Result<(), String> {
        let want = |list: &[String], item: &str| list.iter().any(|x| x.trim() == item);
        let wrk = want(&args.clients, "wrk") && wrk_available();
        if want(&args.clients, "wrk") && !wrk {
            println!("wrk: not installed, its runs are skipped (apt-get install -y wrk)");
        }
        let mut pins = Vec::new();
        if want(&args.pin, "unpinned") {
            pins.push(false);
        }
        if want(&args.pin, "pinned") {
            if Command::new("taskset").arg("-V").output().is_ok() {
                pins.push(true);
            } else {
                println!("taskset: not found, the pinned runs are skipped");
            }
        }
        let mut protocols = Vec::new();
        if want(&args.protocols, "h1") {
            protocols.push(false);
        }
        if want(&args.protocols, "h2c") {
            protocols.push(true);
        }
        let mut loads = Vec::new();
        if want(&args.clients, "baseline") {
            loads.push(Load::Baseline);
        }
        if want(&args.clients, "webrpc") {
            loads.push(Load::Webrpc);
        }
        if wrk {
            loads.push(Load::Wrk);
        }
        let mut servers = vec![Server::Metadata, Server::Baseline];
        if args.jwt_cache > 0 {
            servers.insert(1, Server::MetadataCached);
        }
        let all = all_cpus();
        let server_cpus = args.server_cpus.clone().unwrap_or_else(|| "0".into());

        // The token and secret of this run.
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
        let cache = args.jwt_cache.to_string();
        let log_dir = args.log_dir.clone().unwrap_or_else(std::env::temp_dir);
        let run_id = std::process::id();
        let log_path =
            |name: &str| -> PathBuf { log_dir.join(format!("bench-{name}-{run_id}.log")) };

        // The servers as shipped: no RUST_LOG, the access log on, stderr to a file.
        let mut children: HashMap<Server, (ChildServer, Target, Option<PathBuf>)> = HashMap::new();
        for &server in &servers {
            let (binary, extra, log): (&str, Vec<&str>, Option<PathBuf>) = match server {
                Server::Metadata => (
                    "metadata-server",
                    vec!["--store", "memory"],
                    Some(log_path("metadata")),
                ),
                Server::MetadataCached => (
                    "metadata-server",
                    vec!["--store", "memory", "--jwt-cache", &cache],
                    Some(log_path("metadata-cached")),
                ),
                Server::Baseline => ("baseline-server", vec!["--project", &project], None),
            };
            let mut server_args = vec!["--addr", "127.0.0.1:0", "--jwt-secret", &secret];
            server_args.extend(extra);
            let file = match &log {
                Some(path) => Some(
                    std::fs::File::create(path)
                        .map_err(|e| format!("cannot create {}: {e}", path.display()))?,
                ),
                None => None,
            };
            let child = start(binary, &server_args, "listening on ", None, file)?;
            let collection = match server {
                Server::Baseline => BASELINE_COLLECTION,
                _ => {
                    create_collection(&super::metadata_client(&child.url, &token)?, Some(PROJECT))
                        .await?
                }
            };
            let target = Target {
                url: child.url.clone(),
                collection,
            };
            children.insert(server, (child, target, log));
        }

        let mut combos = Vec::new();
        for &pinned in &pins {
            for &h2c in &protocols {
                for &server in &servers {
                    for &load in &loads {
                        if load == Load::Wrk && h2c {
                            continue; // wrk speaks HTTP/1.1 only
                        }
                        combos.push(Combo {
                            pinned,
                            h2c,
                            server,
                            load,
                        });
                    }
                }
            }
        }
        println!(
            "suite: {} combinations x {} rounds x {:?} (+{:?} warm-up), {} connections; load average {}",
            combos.len(),
            args.rounds.max(1),
            args.duration,
            args.warmup,
            args.concurrency,
            loadavg()
        );
        let wrk_script = log_dir.join(format!("bench-wrk-{run_id}.lua"));
        let me = std::process::id();
        let mut results: HashMap<Combo, Vec<Figures>> = HashMap::new();
        let mut current_pin: Option<bool> = None;
        let outcome: Result<(), String> = async {
            for round in 0..args.rounds.max(1) {
                for step in 0..combos.len() {
                    let combo = combos[(step + round * 7) % combos.len()];
                    if current_pin != Some(combo.pinned) {
                        let (servers_on, load_on) = if combo.pinned {
                            (server_cpus.as_str(), args.client_cpus.as_str())
                        } else {
                            (all.as_str(), all.as_str())
                        };
                        for (child, _, _) in children.values() {
                            pin(child.child.id(), servers_on)?;
                        }
                        pin(me, load_on)?;
                        current_pin = Some(combo.pinned);
                    }
                    let (child, target, _) = &children[&combo.server];
                    let figures =
                        measure(args, combo, target, child.child.id(), &token, &wrk_script)
                            .await?;
                    println!(
                        "round {:>2}  {:<8} {:<4} {:<28} + {:<16} {:>8.0} calls/s  p50 {:>8}  p99 {:>8}  cpu/call server {:>5.1} µs client {:>5.1} µs  errors {}",
                        round + 1,
                        if combo.pinned { "pinned" } else { "unpinned" },
                        if combo.h2c { "h2c" } else { "h1" },
                        combo.server.label(),
                        combo.load.label(),
                        figures.rate,
                        micros(figures.p50),
                        micros(figures.p99),
                        figures.server_cpu * 1e6,
                        figures.client_cpu * 1e6,
                        figures.errors
                    );
                    results.entry(combo).or_default().push(figures);
                }
            }
            Ok(())
        }
        .await;
        let _ = pin(me, &all);
        let _ = std::fs::remove_file(&wrk_script);
        outcome?;

        let med = |combo: &Combo, f: fn(&Figures) -> f64| -> Option<f64> {
            let mut values: Vec<f64> = results.get(combo)?.iter().map(f).collect();
            Some(median(&mut values))
        };
        println!();
        println!(
            "medians over {} rounds (load average now {}):",
            args.rounds.max(1),
            loadavg()
        );
        for combo in &combos {
            if let (Some(rate), Some(p50), Some(p99), Some(server_cpu), Some(client_cpu)) = (
                med(combo, |f| f.rate),
                med(combo, |f| f.p50),
                med(combo, |f| f.p99),
                med(combo, |f| f.server_cpu),
                med(combo, |f| f.client_cpu),
            ) {
                println!(
                    "  {:<8} {:<4} {:<28} + {:<16} {:>8.0} calls/s  p50 {:>8}  p99 {:>8}  cpu/call server {:>5.1} µs client {:>5.1} µs",
                    if combo.pinned { "pinned" } else { "unpinned" },
                    if combo.h2c { "h2c" } else { "h1" },
                    combo.server.label(),
                    combo.load.label(),
                    rate,
                    micros(p50),
                    micros(p99),
                    server_cpu * 1e6,
                    client_cpu * 1e6
                );
            }
        }

        // (what, numerator, denominator, calls/s target) — the ratios of the medians.
        println!();
        println!(
            "ratios (calls/s, p50, p99, and CPU time per call of the side compared), each of the medians above:"
        );
        // The last member: whether the row compares clients (their CPU time) or servers.
        let mut rows: Vec<(String, Combo, Combo, &str, bool)> = Vec::new();
        for &pinned in &pins {
            for &h2c in &protocols {
                let at = |server, load| Combo {
                    pinned,
                    h2c,
                    server,
                    load,
                };
                for &load in &loads {
                    if load == Load::Wrk && h2c {
                        continue;
                    }
                    for server in [Server::Metadata, Server::MetadataCached] {
                        if servers.contains(&server) {
                            rows.push((
                                format!(
                                    "server {} / baseline-server, {}",
                                    server.label(),
                                    load.label()
                                ),
                                at(server, load),
                                at(Server::Baseline, load),
                                ">= 0.95, p99 <= 1.10",
                                false,
                            ));
                        }
                    }
                }
                if loads.contains(&Load::Webrpc) && loads.contains(&Load::Baseline) {
                    for &server in &servers {
                        rows.push((
                            format!("client webrpc / baseline client, {}", server.label()),
                            at(server, Load::Webrpc),
                            at(server, Load::Baseline),
                            ">= 0.95",
                            true,
                        ));
                    }
                }
            }
            if protocols.len() == 2 {
                for &server in &servers {
                    for load in [Load::Webrpc, Load::Baseline] {
                        if loads.contains(&load) {
                            rows.push((
                                format!("h2c / h1, {} + {}", server.label(), load.label()),
                                Combo {
                                    pinned,
                                    h2c: true,
                                    server,
                                    load,
                                },
                                Combo {
                                    pinned,
                                    h2c: false,
                                    server,
                                    load,
                                },
                                "(informative)",
                                false,
                            ));
                        }
                    }
                }
            }
        }
        for (label, top, bottom, target, client_side) in &rows {
            let ratio = |f: fn(&Figures) -> f64| match (med(top, f), med(bottom, f)) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.3}", a / b),
                _ => "-".into(),
            };
            println!(
                "  {:<8} {:<4} {:<64} calls/s {}  p50 {}  p99 {}  cpu/call {} {}   target {}",
                if top.pinned { "pinned" } else { "unpinned" },
                if top.h2c == bottom.h2c {
                    if top.h2c {
                        "h2c"
                    } else {
                        "h1"
                    }
                } else {
                    ""
                },
                label,
                ratio(|f| f.rate),
                ratio(|f| f.p50),
                ratio(|f| f.p99),
                if *client_side {
                    ratio(|f| f.client_cpu)
                } else {
                    ratio(|f| f.server_cpu)
                },
                if *client_side { "(client)" } else { "(server)" },
                target
            );
        }
        let errors: u64 = results.values().flatten().map(|f| f.errors).sum();
        println!("errors in all runs: {errors}");
        for (server, (_, _, log)) in &children {
            if let Some(path) = log {
                let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                println!(
                    "{} log: {} ({:.1} MB)",
                    server.label(),
                    path.display(),
                    size as f64 / 1e6
                );
            }
        }
        drop(children);
        Ok(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn cpu_times_are_read_from_proc_stat() {
            let stat = "4242 (a (b) c) S 1 2 3 0 -1 4194560 100 0 0 0 250 75 12 3 20 0 9 0";
            assert_eq!(parse_stat(stat), Some((3.25, 0.15)));
            assert_eq!(parse_stat("4242 (cut"), None);
            assert_eq!(parse_stat("4242 (x) S 1 2"), None);
            if cfg!(target_os = "linux") {
                let (own, children) = cpu_times("self").expect("this process's times");
                assert!(own >= 0.0 && children >= 0.0);
            }
        }

        #[test]
        fn wrk_output_is_read() {
            let output = "Running 3s test @ http://127.0.0.1:1/rpc/Collections/PublishCollection
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  300.00us   9.00ms   90.00%
  Latency Distribution
     50%  635.91us
     75%  712.66us
     90%  789.20us
     99%    1.39ms
  93718 requests in 3.00s, 60.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  31234.56
Transfer/sec:     20.00MB
";
            let figures = parse_wrk(output).unwrap();
            assert_eq!(figures.rate, 31234.56);
            assert!((figures.p50 - 635.91e-6).abs() < 1e-12);
            assert!((figures.p99 - 1.39e-3).abs() < 1e-12);
            assert_eq!(figures.errors, 7);
            assert!(parse_wrk("unable to connect").is_err());
            assert_eq!(wrk_duration("2.00s"), Some(2.0));
            assert_eq!(wrk_duration("7"), None);
        }
    }
}
