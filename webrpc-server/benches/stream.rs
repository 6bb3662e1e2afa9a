//! Streaming benchmark (not a test): messages per second through one stream, and the server's
//! memory per idle open stream with many streams held.
//!
//! ```text
//! cargo bench -p webrpc-server --bench stream                 # defaults below
//! cargo bench -p webrpc-server --bench stream -- --messages 2000000 --streams 10000
//! ```
//!
//! - Throughput: one stream of `--messages` chat-like messages (~130 bytes a line) produced
//!   as fast as they are polled, read by `webrpc_client::Client::call_stream`: in process
//!   (the client's transport is the router), over loopback HTTP/1.1 and over h2c.
//! - Idle streams: the server runs in a child process (this binary with `--serve`), so its
//!   resident memory (`VmRSS`) is its own; the parent opens `--streams` streams that stay
//!   silent (pings only) over HTTP/1.1 (one connection each) and over h2c (200 streams per
//!   connection, hyper's default limit), and reports the growth of the server's RSS divided
//!   by the number of streams.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use webrpc_client::{Client, TransportOptions};
use webrpc_core::stream::StreamMethod;
use webrpc_core::{RequestContext, WebrpcError};
use webrpc_server::{serve, Router};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct FeedRequest {
    #[serde(default)]
    messages: u64,
    /// Stay open and silent instead.
    #[serde(default)]
    idle: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChatLine {
    id: u64,
    username: String,
    text: String,
    created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct FeedMessage {
    message: ChatLine,
}

struct Feed;
impl StreamMethod for Feed {
    const SERVICE: &'static str = "Bench";
    const NAME: &'static str = "Feed";
    const SCHEMA: &'static str = "bench";
    const SCHEMA_VERSION: &'static str = "v1.0.0";
    const WEBRPC_HEADER: &'static str = webrpc_core::webrpc_header!("bench", "v1.0.0");
    type Request = FeedRequest;
    type Message = FeedMessage;
}

fn router() -> Router {
    Router::new().route_stream::<Feed, _, _, _, WebrpcError>(
        Feed,
        |_ctx: RequestContext, req: FeedRequest| async move {
            let stream = if req.idle {
                stream::pending().boxed()
            } else {
                stream::iter(0..req.messages)
                    .map(|id| {
                        Ok(FeedMessage {
                            message: ChatLine {
                                id,
                                username: "bench".to_owned(),
                                text: "the quick brown fox jumps over the lazy dog".to_owned(),
                                created_at: "2026-12-02T01:10:00.123456Z".to_owned(),
                            },
                        })
                    })
                    .boxed()
            };
            Ok(stream)
        },
    )
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn start() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    // Runs until the bench's runtime ends.
    serve(listener, router()).spawn().local_addr()
}

fn h2c(url: &str) -> Client {
    Client::builder(url)
        .transport_options(TransportOptions {
            http2_prior_knowledge: true,
            ..Default::default()
        })
        .build()
        .unwrap()
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Reads one stream of `messages` to its end; the time it took.
async fn drain<S, B>(client: &Client<S>, messages: u64) -> Duration
where
    S: tower_service::Service<
            http::Request<http_body_util::Full<bytes::Bytes>>,
            Response = http::Response<B>,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let started = Instant::now();
    let mut stream = client
        .call_stream::<Feed>(&FeedRequest {
            messages,
            idle: false,
        })
        .await
        .unwrap();
    let mut n = 0;
    while let Some(item) = stream.next().await {
        item.unwrap();
        n += 1;
    }
    assert_eq!(n, messages);
    started.elapsed()
}

fn report(what: &str, messages: u64, elapsed: Duration) {
    let line = 130.0; // bytes per message line, about
    let rate = messages as f64 / elapsed.as_secs_f64();
    println!(
        "{what:<28} {messages:>9} messages in {:>7.3} s: {:>10.0} messages/s ({:.1} MB/s of lines)",
        elapsed.as_secs_f64(),
        rate,
        rate * line / 1e6
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn hold_streams(
    url: &str,
    streams: usize,
    http2: bool,
) -> Vec<webrpc_core::MessageStream<FeedMessage>> {
    let per_connection = if http2 { 200 } else { 1 };
    let mut held = Vec::with_capacity(streams);
    let mut clients = Vec::new();
    for i in 0..streams {
        if i % per_connection == 0 {
            clients.push(if http2 {
                h2c(url)
            } else {
                Client::new(url).unwrap()
            });
        }
        let client = clients.last().unwrap().clone();
        held.push(tokio::spawn(async move {
            client
                .call_stream::<Feed>(&FeedRequest {
                    messages: 0,
                    idle: true,
                })
                .await
                .unwrap()
        }));
        // Let connections establish in batches rather than all at once.
        if i % 500 == 499 {
            tokio::task::yield_now().await;
        }
    }
    let mut out = Vec::with_capacity(streams);
    for task in held {
        out.push(task.await.unwrap());
    }
    drop(clients);
    out
}

fn serve_child() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let addr = start().await;
        println!("{addr}");
        std::future::pending::<()>().await;
    });
}

fn main() {
    if std::env::args().any(|a| a == "--serve") {
        return serve_child();
    }
    let messages = arg("--messages", 1_000_000);
    let streams = arg("--streams", 10_000) as usize;
    let runtime = tokio::runtime::Runtime::new().unwrap();

    println!("# messages/s through one stream");
    runtime.block_on(async {
        let in_process = Client::builder("http://bench")
            .build_with(router())
            .unwrap();
        drain(&in_process, 10_000).await; // warm-up
        report(
            "in process (no socket)",
            messages,
            drain(&in_process, messages).await,
        );

        let addr = start().await;
        let url = format!("http://{addr}");
        let h1 = Client::new(&url).unwrap();
        drain(&h1, 10_000).await;
        report("loopback HTTP/1.1", messages, drain(&h1, messages).await);
        let h2 = h2c(&url);
        drain(&h2, 10_000).await;
        report("loopback h2c", messages, drain(&h2, messages).await);
    });

    println!("# server memory per idle open stream ({streams} streams)");
    for http2 in [false, true] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        let url = format!("http://{}", first.trim());
        let pid = child.id();
        runtime.block_on(async {
            // Warm the server's allocator and runtime with a few streams first.
            drop(hold_streams(&url, 200, http2).await);
            tokio::time::sleep(Duration::from_millis(500)).await;
            let before = rss_kib(pid);
            let started = Instant::now();
            let held = hold_streams(&url, streams, http2).await;
            let opened = started.elapsed();
            tokio::time::sleep(Duration::from_secs(1)).await;
            let after = rss_kib(pid);
            let per_stream = (after.saturating_sub(before)) as f64 * 1024.0 / streams as f64;
            println!(
                "{:<10} {} streams open in {:.2} s; server RSS {} KiB -> {} KiB: {:.1} KiB per stream",
                if http2 { "h2c" } else { "HTTP/1.1" },
                held.len(),
                opened.as_secs_f64(),
                before,
                after,
                per_stream / 1024.0
            );
            drop(held);
        });
        let _ = child.kill();
        let _ = child.wait();
    }
}
