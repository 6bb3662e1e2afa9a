//! The real `metadata-server` binary under abuse and overload, over loopback: thousands of
//! idle connections (plus a slowloris and a half-sent request) held and then shed while the
//! server stays responsive, with its memory and open descriptors read from `/proc`; calls
//! over `--max-concurrent-calls` answered `RateLimited` fast; and a handler outliving
//! `--handler-timeout-secs` answered with a webrpc error. The figures printed here are
//! recorded in docs/reliability.md.
//!
//! A slow store is made by holding SQLite's write lock from the test (`BEGIN IMMEDIATE` on
//! the server's database file): the server's writes then wait (up to SQLite's 5 s busy
//! timeout) while its reads go on.
//!
//! ```text
//! cargo test -p metadata-server --test reliability_overload -- --nocapture
//! ```

mod reliability_common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reliability_common::*;
use rusqlite::Connection;
use sequence_metadata::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Holds SQLite's write lock on `path` until dropped (then rolls back).
fn hold_write_lock(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).expect("open the server's database");
    conn.execute_batch("BEGIN IMMEDIATE")
        .expect("take the write lock");
    conn
}

/// Reads one HTTP/1.1 response (head and `Content-Length` body) from a kept-alive stream.
async fn read_one_response(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            if let Some(end) = out.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&out[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if out.len() >= end + 4 + length {
                    return;
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("a response in time");
    String::from_utf8_lossy(&out).into_owned()
}

/// One `ListCollections` call on a new connection (closed after it): the server answers.
async fn probe(server: &ServerProcess, jwt: &str) -> Duration {
    let started = Instant::now();
    let answer = raw_exchange(
        server.addr,
        &rpc_request(
            "ListCollections",
            Some(&format!("Bearer {jwt}")),
            r#"{"page":{"pageSize":1}}"#,
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_idle_connections_are_held_then_shed_and_the_server_stays_responsive() {
    // Each idle connection costs one descriptor here and two in the server (its socket and
    // the duplicate its HTTP/1.1 peer probe holds, see `webrpc_server`'s `peer` module).
    let limit = open_files_limit();
    let wanted: u64 = 4000;
    let idle_total = wanted.min(limit.saturating_sub(300) / 2);
    assert!(idle_total >= 500, "open file limit {limit} is too low");
    if idle_total < wanted {
        println!("open file limit {limit}: scaled down to {idle_total} idle connections");
    }
    let keep_alive_total = idle_total / 10; // that many finish a call first, then idle
    let silent_total = idle_total - keep_alive_total;

    let server = ServerProcess::start(&["--store", "memory"], "warn").await;
    let base_fds = server.open_fds();
    let jwt = token(1);
    let client = server.client(1);
    client
        .create_collection(ctx(), create_request("warm-up"))
        .await
        .unwrap();
    drop(client);
    for _ in 0..5 {
        probe(&server, &jwt).await;
    }
    // Wait for the connections of the warm-up to be closed.
    assert!(eventually(WAIT, || server.open_fds() <= base_fds).await);
    let base_rss = server.rss_kib();

    let started = Instant::now();
    // A slowloris: one header byte every 50 ms (its 2 KB header would take 100 s).
    let trickler = {
        let addr = server.addr;
        tokio::spawn(async move {
            let mut head =
                b"POST /rpc/Collections/ListCollections HTTP/1.1\r\nHost: x\r\nX-Pad: ".to_vec();
            head.extend(std::iter::repeat_n(b'a', 2048));
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let mut sent = 0;
            for byte in &head {
                if stream.write_all(std::slice::from_ref(byte)).await.is_err() {
                    break;
                }
                sent += 1;
                let mut probe = [0u8; 256];
                match tokio::time::timeout(Duration::from_millis(50), stream.read(&mut probe)).await
                {
                    Err(_) => {}
                    Ok(_) => break, // closed, reset, or a 408 before the header was done
                }
            }
            (sent, head.len())
        })
    };
    // A request whose headers stop halfway.
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(b"POST /rpc/Collections/ListCollections HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();

    // Silent connections, in batches, each batch held by the server before the next.
    let mut idle = Vec::with_capacity(idle_total as usize);
    while (idle.len() as u64) < silent_total {
        let batch = 500.min(silent_total - idle.len() as u64);
        for _ in 0..batch {
            idle.push(TcpStream::connect(server.addr).await.unwrap());
        }
        let expected = base_fds + idle.len();
        assert!(
            eventually(WAIT, || server.open_fds() >= expected).await,
            "the server accepted only {} of {expected} descriptors",
            server.open_fds()
        );
    }
    // Keep-alive connections: one call each, then idle.
    let request = rpc_request("ListCollections", Some(&format!("Bearer {jwt}")), "{}");
    let keep_alive_request = String::from_utf8(request)
        .unwrap()
        .replace("Connection: close\r\n", "");
    for _ in 0..keep_alive_total {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        stream
            .write_all(keep_alive_request.as_bytes())
            .await
            .unwrap();
        let answer = read_one_response(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
        idle.push(stream);
    }
    let opened_in = started.elapsed();
    let held = server.open_fds().saturating_sub(base_fds);
    let held_rss = server.rss_kib();

    // Responsive meanwhile: new clients are served, calls and public routes alike.
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        slowest = slowest.max(probe(&server, &jwt).await);
    }
    let client = server.client(1);
    let created = client
        .create_collection(ctx(), create_request("while flooded"))
        .await
        .unwrap()
        .collection;
    let read = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: created.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(read.metadata, created.metadata);
    drop(client);
    assert!(
        held as u64 >= idle_total,
        "the server held {held} of {idle_total} idle connections"
    );

    // Every idle connection is shed by the header read timeout (10 s by default), the
    // slowloris and the half-sent request included, and the descriptors are given back.
    let shed = eventually(WAIT, || server.open_fds() <= base_fds).await;
    let shed_in = started.elapsed();
    assert!(
        shed,
        "{} descriptors still open after the idle timeout",
        server.open_fds() - base_fds
    );
    let (sent, total) = tokio::time::timeout(WAIT, trickler)
        .await
        .expect("the slowloris is cut off")
        .unwrap();
    assert!(sent < total, "the slowloris sent its whole header");
    let half_answer = read_until_closed(&mut half).await;
    assert!(
        half_answer.is_empty() || half_answer.starts_with("HTTP/1.1 408"),
        "{half_answer}"
    );
    for stream in idle.iter_mut().step_by(97) {
        assert_eq!(read_until_closed(stream).await, "");
    }
    let after_rss = server.rss_kib();

    // A second wave of the same size, closed by the clients this time: the server reuses
    // the memory of the first rather than growing again.
    let mut wave = Vec::with_capacity(idle_total as usize);
    while (wave.len() as u64) < idle_total {
        let batch = 500.min(idle_total - wave.len() as u64);
        for _ in 0..batch {
            wave.push(TcpStream::connect(server.addr).await.unwrap());
        }
        let expected = base_fds + wave.len();
        assert!(eventually(WAIT, || server.open_fds() >= expected).await);
    }
    let wave_rss = server.rss_kib();
    drop(wave);
    assert!(eventually(WAIT, || server.open_fds() <= base_fds).await);
    let peak_rss = server.peak_rss_kib();
    let growth = held_rss.saturating_sub(base_rss);
    let per_connection = growth * 1024 / idle_total;
    println!(
        "idle connections: {idle_total} held ({silent_total} silent, {keep_alive_total} \
         keep-alive) + slowloris + half request, opened in {opened_in:?}; server \
         descriptors +{held}; server RSS \
         {base_rss} KiB before, {held_rss} KiB holding them (+{growth} KiB, ~{per_connection} \
         bytes each), {after_rss} KiB after they were shed, {wave_rss} KiB holding a second \
         wave of {idle_total}, peak {peak_rss} KiB; slowest of 20 calls meanwhile \
         {slowest:?}; all shed {shed_in:?} after the first was opened; slowloris cut after \
         {sent} of {total} header bytes"
    );
    // No leak: the second wave grew the server by less than half of what the first did.
    assert!(
        wave_rss < held_rss + growth / 2 + 1024,
        "a second wave grew the server from {held_rss} to {wave_rss} KiB"
    );
    // Bounded: well under 64 KiB of server memory per idle connection.
    assert!(
        per_connection < 64 * 1024,
        "{per_connection} bytes per idle connection"
    );
}

/// How many calls over the limit [`burst`] sends.
const EXCESS: usize = 16;

/// A server limited to 2 calls at a time with a 100 ms queue, over a SQLite file whose
/// write lock the test holds, both of its slots taken by two writes waiting for the lock.
struct Saturated {
    _db_dir: tempfile::TempDir,
    server: ServerProcess,
    client: RemoteClient,
    /// Dropped (rolled back) by [`Saturated::release`].
    lock: Option<Connection>,
    blockers: Vec<tokio::task::JoinHandle<(Collection, usize)>>,
}

async fn saturated() -> Saturated {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-overload-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    let server = ServerProcess::start(
        &[
            "--db",
            &db_arg,
            "--max-concurrent-calls",
            "2",
            "--queue-timeout-ms",
            "100",
        ],
        "warn",
    )
    .await;
    let client = server.client(1);
    let warm = client
        .create_collection(ctx(), create_request("warm-up"))
        .await
        .unwrap()
        .collection;

    let lock = hold_write_lock(db.as_path());
    // Two writes take both slots and wait for the lock. (A blocker whose attempt meets the
    // limit because a probe holds a slot for a moment retries: a rejected call has done
    // nothing.)
    let blockers: Vec<_> = (0..2)
        .map(|i| {
            let client = server.client(1);
            tokio::spawn(async move {
                let mut rejected = 0;
                for _ in 0..1000 {
                    match client
                        .create_collection(ctx(), create_request(&format!("blocked {i}")))
                        .await
                    {
                        Ok(out) => return (out.collection, rejected),
                        Err(err) if err.is(MetadataError::RateLimited) => {
                            rejected += 1;
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(err) => panic!("blocked write failed: {err}"),
                    }
                }
                panic!("a blocker never got a slot");
            })
        })
        .collect();
    // Reads do not wait for the lock: once one is refused, both slots are held.
    let mut full = false;
    for _ in 0..1000 {
        match client
            .get_collection(
                ctx(),
                GetCollectionRequest {
                    project_id: None,
                    collection_id: warm.id,
                },
            )
            .await
        {
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(err) => {
                assert!(err.is(MetadataError::RateLimited), "{err}");
                full = true;
                break;
            }
        }
    }
    assert!(full, "the two writes never held both slots");
    Saturated {
        _db_dir: db_dir,
        server,
        client,
        lock: Some(lock),
        blockers,
    }
}

impl Saturated {
    /// A burst of [`EXCESS`] calls, reads and writes: each one's outcome and how long it
    /// took to be answered, and how long the whole burst took.
    async fn burst(&self) -> (Vec<(Result<(), WebrpcError>, Duration)>, Duration) {
        let started = Instant::now();
        let burst: Vec<_> = (0..EXCESS)
            .map(|i| {
                let client = self.server.client(1);
                tokio::spawn(async move {
                    let began = Instant::now();
                    let out = if i % 2 == 0 {
                        client
                            .create_collection(ctx(), create_request(&format!("excess {i}")))
                            .await
                            .map(|_| ())
                    } else {
                        client
                            .list_collections(ctx(), ListCollectionsRequest::default())
                            .await
                            .map(|_| ())
                    };
                    (out, began.elapsed())
                })
            })
            .collect();
        let mut answers = Vec::new();
        for call in burst {
            answers.push(
                tokio::time::timeout(WAIT, call)
                    .await
                    .expect("an excess call is answered")
                    .unwrap(),
            );
        }
        (answers, started.elapsed())
    }

    /// Releases the write lock and waits for the blocked writes: the names they created
    /// and how many times they were refused before they got a slot.
    async fn release(&mut self) -> (HashSet<String>, usize) {
        drop(self.lock.take());
        let mut blocked_names = HashSet::new();
        let mut retries = 0;
        for blocker in self.blockers.drain(..) {
            let (collection, rejected) = tokio::time::timeout(WAIT, blocker)
                .await
                .expect("blocked writes finish once the lock is released")
                .unwrap();
            blocked_names.insert(collection.metadata.unwrap().name);
            retries += rejected;
        }
        (blocked_names, retries)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_over_the_limit_are_answered_rate_limited_once_their_queue_time_is_up() {
    let mut s = saturated().await;
    // Every one answered RateLimited once its 100 ms in the queue are up, none hangs.
    let (answers, burst_took) = s.burst().await;
    let mut slowest = Duration::ZERO;
    for (out, took) in answers {
        let err = out.expect_err("both slots are held");
        assert_eq!(
            (err.name(), err.code(), err.msg(), err.status()),
            ("RateLimited", 2005, "Rate limited", 429),
            "{err}"
        );
        assert_eq!(
            err.cause(),
            Some("server overloaded: too many calls in progress (waited 100ms)")
        );
        slowest = slowest.max(took);
    }
    s.release().await;
    println!(
        "overload: limit 2, queue 100 ms: {EXCESS} excess calls all RateLimited (429), \
         slowest answer {slowest:?}, burst answered in {burst_took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_refused_over_the_limit_write_nothing_and_the_waiting_ones_finish() {
    let mut s = saturated().await;
    s.burst().await;
    let (blocked_names, retries) = s.release().await;
    assert_eq!(
        blocked_names,
        HashSet::from(["blocked 0".to_owned(), "blocked 1".to_owned()])
    );
    // The rejected writes wrote nothing; the slots were given back.
    let listed = s
        .client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap()
        .collections;
    let mut names: Vec<_> = listed
        .into_iter()
        .map(|c| c.metadata.unwrap().name)
        .collect();
    names.sort();
    assert_eq!(names, ["blocked 0", "blocked 1", "warm-up"]);
    println!("overload: blockers retried {retries} times; nothing written by rejected calls");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_outliving_the_timeout_gets_a_webrpc_error() {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-handler-timeout-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    let server =
        ServerProcess::start(&["--db", &db_arg, "--handler-timeout-secs", "1"], "warn").await;
    let client = server.client(1);
    let warm = client
        .create_collection(ctx(), create_request("warm-up"))
        .await
        .unwrap()
        .collection;

    let lock = hold_write_lock(db.as_path());
    let started = Instant::now();
    let err = client
        .create_collection(ctx(), create_request("too slow"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(
        (err.name(), err.code(), err.msg(), err.status()),
        ("WebrpcInternalError", -7, "internal error", 504),
        "{err}"
    );
    assert_eq!(err.cause(), Some("handler timed out after 1s"));
    // The server is not stuck: reads go on while the store is.
    let got = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: warm.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.id, warm.id);

    drop(lock);
    let next = client
        .create_collection(ctx(), create_request("after"))
        .await
        .unwrap()
        .collection;
    assert_eq!(next.metadata.unwrap().name, "after");
    // The store call of the timed-out handler was waiting for the write lock: once it got
    // it, it found its call cancelled and wrote nothing (a write already past that point
    // would still commit). Report what happened.
    let names: Vec<_> = client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap()
        .collections
        .into_iter()
        .map(|c| c.metadata.unwrap().name)
        .collect();
    println!(
        "handler timeout 1 s: the caller got 504 WebrpcInternalError after {took:?}; \
         the timed-out write committed later: {}",
        names.iter().any(|n| n == "too slow")
    );
}
