//! Abuse and overload over loopback: clients that trickle their headers or stop mid-body,
//! a flood of idle connections at the connection cap, more concurrent calls than the
//! concurrency limit, handlers that outlive their timeout, and graceful shutdown under load.
//! In each case the server answers (or cuts off) the abuser and keeps serving everyone else.
//! The figures are in docs/reliability.md.
//!
//! ```text
//! cargo test -p webrpc-server --test abuse
//! ```

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webrpc_client::{CallOptions, Client, TransportOptions};
use webrpc_core::{RequestContext, WebrpcError};
use webrpc_server::{serve, ConcurrencyLimit, Router, Server, ServerHandle};

/// Generous bound on anything that waits.
const WAIT: Duration = Duration::from_secs(30);

struct Running {
    addr: SocketAddr,
    handle: ServerHandle,
}

impl Running {
    async fn start(server: Server, router: Router) -> Running {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let handle = serve(listener, router).with_options(server).spawn();
        Running {
            addr: handle.local_addr(),
            handle,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn client(&self) -> TestClient<Client> {
        TestClient::new(
            Client::builder(&self.url())
                .timeout(Some(WAIT))
                .build()
                .unwrap(),
        )
    }

    async fn shutdown(self) {
        tokio::time::timeout(WAIT, self.handle.shutdown())
            .await
            .expect("server stops in time")
            .unwrap();
    }
}

/// Reads until the server closes (or resets) the connection, bounded by [`WAIT`].
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the server closes the connection in time");
    String::from_utf8_lossy(&out).into_owned()
}

/// The JSON envelope at the end of a raw HTTP/1 response.
fn envelope(raw: &str) -> serde_json::Value {
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or_else(|e| panic!("no JSON envelope ({e}) in {raw:?}"))
}

async fn ping_many(client: &TestClient<Client>, n: usize) {
    for _ in 0..n {
        client
            .ping(Default::default(), PingRequest {})
            .await
            .expect("others are served");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_trickled_one_byte_at_a_time_are_cut_off() {
    let server = Running::start(
        Server::new().header_read_timeout(Some(Duration::from_millis(500))),
        router(),
    )
    .await;
    // A slowloris: a 4 KB header sent one byte every 10 ms would take 40 s.
    let mut head = b"POST /rpc/Test/Ping HTTP/1.1\r\nHost: x\r\nX-Pad: ".to_vec();
    head.extend(std::iter::repeat_n(b'a', 4096));
    head.extend_from_slice(b"\r\n\r\n");
    let total = head.len();
    let addr = server.addr;
    let trickler = tokio::spawn(async move {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let mut sent = 0;
        for byte in &head {
            if stream.write_all(std::slice::from_ref(byte)).await.is_err() {
                break;
            }
            sent += 1;
            // Stop writing once the server has closed its side.
            let mut probe = [0u8; 512];
            match tokio::time::timeout(Duration::from_millis(10), stream.read(&mut probe)).await {
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(_)) => break, // an answer (408) before the headers were done
                Err(_) => {}
            }
        }
        sent
    });
    // Meanwhile, others are served.
    let client = server.client();
    ping_many(&client, 20).await;
    let sent = tokio::time::timeout(WAIT, trickler)
        .await
        .expect("the trickler is cut off in time")
        .unwrap();
    assert!(
        sent < total,
        "the server waited for the whole trickled header ({sent} of {total} bytes)"
    );
    ping_many(&server.client(), 5).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_stop_midway_get_408_and_others_are_served() {
    let server = Running::start(
        Server::new(),
        router().body_timeout(Duration::from_millis(300)),
    )
    .await;
    // 50 clients send their headers and 10 of 1000 announced body bytes, then stall.
    let mut stalled = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(
                b"POST /rpc/Test/Echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                  Content-Length: 1000\r\n\r\n{\"value\":1",
            )
            .await
            .unwrap();
        stalled.push(stream);
    }
    let client = server.client();
    ping_many(&client, 20).await;
    for mut stream in stalled {
        // The answer comes; the connection is then closed (the rest of the body never came).
        let raw = tokio::time::timeout(WAIT, async {
            let mut out = Vec::new();
            let mut buf = [0u8; 4096];
            while !String::from_utf8_lossy(&out).contains("\"status\":408}") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
        .await
        .expect("a stalled body is answered in time");
        assert!(raw.starts_with("HTTP/1.1 408 "), "{raw}");
        let v = envelope(&raw);
        assert_eq!(v["error"], "WebrpcBadRequest", "{v}");
        assert_eq!(v["code"], -4, "{v}");
        assert_eq!(
            v["cause"], "failed to read request data: timed out after 0.3s",
            "{v}"
        );
    }
    ping_many(&client, 5).await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_idle_connections_at_the_cap_is_shed_and_clients_get_through() {
    const CAP: usize = 32;
    const FLOOD: usize = 300;
    let server = Running::start(
        Server::new()
            .max_connections(Some(CAP))
            .header_read_timeout(Some(Duration::from_millis(300))),
        router(),
    )
    .await;
    // Far more silent connections than the cap: the first CAP are accepted and held, the
    // rest wait in the kernel's backlog.
    let mut flood = Vec::with_capacity(FLOOD);
    for _ in 0..FLOOD {
        flood.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // A real client queues behind them and is served once the silent ones are shed (each
    // after the header read timeout), not locked out.
    let started = Instant::now();
    let client = server.client();
    client
        .echo(
            Default::default(),
            EchoRequest {
                value: 7,
                label: None,
            },
        )
        .await
        .expect("a real client gets through the flood");
    println!(
        "flood of {FLOOD} idle connections at a cap of {CAP}: a real call answered after {:?}",
        started.elapsed()
    );
    // Every silent connection was closed by the server.
    for stream in &mut flood {
        let text = read_until_closed(stream).await;
        assert!(text.is_empty(), "a silent connection got {text:?}");
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_the_concurrency_limit_are_answered_429_never_hang() {
    const LIMIT: usize = 4;
    const CALLS: u64 = 64;
    let rejection = TestError::RateLimited.err();
    let server = Running::start(
        Server::new(),
        router().concurrency_limit(ConcurrencyLimit::new(LIMIT).rejection(rejection)),
    )
    .await;
    let client = server.client();
    let started = Instant::now();
    let calls: Vec<_> = (0..CALLS)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let began = Instant::now();
                let out = client
                    .sleep(Default::default(), SleepRequest { millis: 1000 })
                    .await;
                (out, began.elapsed())
            })
        })
        .collect();
    let (mut ok, mut limited, mut slowest_rejection) = (0, 0, Duration::ZERO);
    for call in calls {
        let (out, took) = tokio::time::timeout(WAIT, call)
            .await
            .expect("every call is answered")
            .unwrap();
        match out {
            Ok(out) => {
                assert_eq!(out.slept, 1000);
                ok += 1;
            }
            Err(err) => {
                assert_eq!(
                    (err.name(), err.code(), err.status()),
                    ("RateLimited", 2005, 429),
                    "{err}"
                );
                assert!(
                    err.cause().unwrap().starts_with("server overloaded:"),
                    "{err}"
                );
                limited += 1;
                slowest_rejection = slowest_rejection.max(took);
            }
        }
    }
    println!(
        "{CALLS} concurrent 1 s calls, limit {LIMIT}: {ok} ok, {limited} RateLimited \
         (slowest rejection {slowest_rejection:?}), all answered in {:?}",
        started.elapsed()
    );
    assert_eq!(ok + limited, CALLS);
    assert!(ok >= LIMIT as u64, "{ok} calls ran");
    assert!(limited > 0, "no call was over the limit");
    // Slots are given back.
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_the_limit_can_queue_and_all_complete() {
    let server = Running::start(
        Server::new(),
        router().concurrency_limit(ConcurrencyLimit::new(4).queue_timeout(WAIT)),
    )
    .await;
    let client = server.client();
    let calls: Vec<_> = (0..32)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .sleep(Default::default(), SleepRequest { millis: 50 })
                    .await
            })
        })
        .collect();
    for call in calls {
        let out = tokio::time::timeout(WAIT, call)
            .await
            .expect("queued calls complete")
            .unwrap()
            .expect("a queued call runs once a slot frees");
        assert_eq!(out.slept, 50);
    }
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_outliving_its_timeout_gets_504_over_the_wire() {
    let server = Running::start(
        Server::new(),
        router().handler_timeout(Duration::from_millis(200)),
    )
    .await;
    let client = server.client();
    for _ in 0..3 {
        let err: WebrpcError = client
            .sleep(Default::default(), SleepRequest { millis: 60_000 })
            .await
            .unwrap_err();
        assert_eq!(
            (err.name(), err.code(), err.status()),
            ("WebrpcInternalError", -7, 504),
            "{err}"
        );
        assert_eq!(err.cause(), Some("handler timed out after 200ms"));
        // The same client (same pooled connection) goes on working.
        let out = client
            .sleep(Default::default(), SleepRequest { millis: 1 })
            .await
            .unwrap();
        assert_eq!(out.slept, 1);
    }
    server.shutdown().await;
}

/// What the counting router saw.
#[derive(Default)]
struct Seen {
    /// Values of the calls that reached the handler.
    accepted: Mutex<HashSet<u64>>,
}

fn counting_router(seen: Arc<Seen>) -> Router {
    Router::new().route(Echo, move |_ctx: RequestContext, req: EchoRequest| {
        let seen = Arc::clone(&seen);
        async move {
            seen.accepted.lock().unwrap().insert(req.value);
            // Long enough that shutdown finds calls in flight.
            tokio::time::sleep(Duration::from_millis(20 + req.value % 30)).await;
            Ok::<_, WebrpcError>(EchoResponse {
                value: req.value,
                label: req.label,
                seen: Default::default(),
            })
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_under_load_answers_every_accepted_call() {
    const WORKERS: u64 = 32;
    let seen = Arc::new(Seen::default());
    let server = Running::start(Server::new(), counting_router(Arc::clone(&seen))).await;
    let url = server.url();
    let stop_clients = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..WORKERS)
        .map(|w| {
            // Half over HTTP/1.1 (connections close after their current response), half
            // over h2c (GOAWAY: streams already started are finished).
            let client = TestClient::new(
                Client::builder(&url)
                    .timeout(Some(WAIT))
                    .transport_options(TransportOptions {
                        http2_prior_knowledge: w % 2 == 1,
                        ..TransportOptions::default()
                    })
                    .build()
                    .unwrap(),
            );
            let stop = Arc::clone(&stop_clients);
            tokio::spawn(async move {
                let mut answered = Vec::new();
                let mut failed = Vec::new();
                for i in 0..100_000u64 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let value = w * 1_000_000 + i;
                    match client
                        .echo(Default::default(), EchoRequest { value, label: None })
                        .await
                    {
                        Ok(out) => {
                            assert_eq!(out.value, value, "an answer to another call");
                            answered.push(value);
                        }
                        Err(err) => {
                            failed.push((value, err));
                            // The server is going away; stop after a couple of failures.
                            if failed.len() >= 2 {
                                break;
                            }
                        }
                    }
                }
                (answered, failed)
            })
        })
        .collect();

    // Shut down once the server is busy.
    let loaded = tokio::time::timeout(WAIT, async {
        while seen.accepted.lock().unwrap().len() < 300 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert!(loaded.is_ok(), "the server never got busy");
    server.shutdown().await;
    stop_clients.store(true, Ordering::Relaxed);

    let mut answered = HashSet::new();
    let mut failures = Vec::new();
    for worker in workers {
        let (ok, failed) = tokio::time::timeout(WAIT, worker)
            .await
            .expect("clients finish")
            .unwrap();
        answered.extend(ok);
        failures.extend(failed);
    }
    let accepted = seen.accepted.lock().unwrap().clone();
    let lost: Vec<_> = accepted.difference(&answered).collect();
    println!(
        "graceful shutdown under load: {} calls reached a handler, {} answered, {} refused or \
         cut before reaching one",
        accepted.len(),
        answered.len(),
        failures.len()
    );
    assert!(
        lost.is_empty(),
        "calls accepted by a handler but never answered: {lost:?}"
    );
    assert!(answered.is_subset(&accepted));
    for (value, err) in &failures {
        assert!(!accepted.contains(value), "{value} ran but failed: {err}");
        assert_eq!(
            err.code(),
            -1,
            "a refused call is WebrpcRequestFailed: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cancelled_by_its_client_frees_its_slot() {
    // A client that gives up mid-call (timeout) must not leave its slot taken.
    let server = Running::start(
        Server::new(),
        router()
            .concurrency_limit(ConcurrencyLimit::new(1))
            .handler_timeout(Duration::from_secs(2)),
    )
    .await;
    let client = server.client();
    let raw = Client::builder(&server.url())
        .timeout(Some(WAIT))
        .build()
        .unwrap();
    let err = raw
        .call_with::<Sleep>(
            &SleepRequest { millis: 60_000 },
            CallOptions::new().timeout(Duration::from_millis(100)),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // The abandoned call holds its slot until its handler times out (2 s) at the latest;
    // then calls run again.
    let mut served = false;
    for _ in 0..200 {
        match client.ping(Default::default(), PingRequest {}).await {
            Ok(_) => {
                served = true;
                break;
            }
            Err(err) => {
                assert_eq!(err.status(), 503, "{err}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    assert!(
        served,
        "the slot of the abandoned call was never given back"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_is_not_held_up_by_connections_that_sent_nothing() {
    // Silent connections (an attacker's, or a client pool's spare ones) are closed when
    // shutdown starts, not after their header read timeout (an hour here).
    let server = Running::start(
        Server::new().header_read_timeout(Some(Duration::from_secs(3600))),
        router(),
    )
    .await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    server
        .client()
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    // `shutdown` panics if the server is not done within WAIT.
    server.shutdown().await;
    for stream in &mut silent {
        assert_eq!(read_until_closed(stream).await, "");
    }
}
