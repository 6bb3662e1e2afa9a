//! Hostile clients, round two (issue #12), at the framework level, for any router served by
//! [`serve`] over HTTP/1.1 and h2c:
//!
//! - a request that *declares* a body over the limit is answered 413 at once, without the
//!   server reading the body or inviting it with `100 Continue`, and the connection is closed;
//! - calls reset by an h2 client before their handler starts never run it ("rapid reset");
//! - work a handler hands to the blocking pool holds the call's concurrency slot until it
//!   really ends, and does not start at all once its caller is gone.
//!
//! The figures are in docs/reliability.md.
//!
//! ```text
//! cargo test -p webrpc-server --test hostile -- --nocapture
//! ```

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::*;
use http::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webrpc_core::{RequestContext, WebrpcError};
use webrpc_server::{serve, Router, ServerHandle};

/// The body timeout the servers here run with: an answer that only comes when it fires is
/// the bug these tests catch.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a test waits for an answer that must come "at once": well before the body
/// timeout, so a server that waits for the body fails the test instead of passing late.
const AT_ONCE: Duration = Duration::from_secs(10);

/// A declared length far over any limit (a terabyte).
const HUGE: u64 = 1_000_000_000_000;

struct Running {
    addr: SocketAddr,
    _server: ServerHandle,
}

async fn start(router: Router) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = serve(listener, router).spawn();
    Running {
        addr: server.local_addr(),
        _server: server,
    }
}

/// Reads one HTTP/1.1 response head (and the body its `Content-Length` announces).
async fn read_response(stream: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.expect("read the answer");
        assert!(n > 0, "connection closed before an answer: {buf:?}");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                return text;
            }
        }
    }
}

/// Reads until the server closes the connection; `true` when it did (EOF or reset).
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(AT_ONCE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

fn over_limit_request(length: u64, expect_continue: bool) -> String {
    format!(
        "POST /rpc/Test/Ping HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n{}\r\n",
        if expect_continue {
            "Expect: 100-continue\r\n"
        } else {
            ""
        }
    )
}

#[tokio::test]
async fn a_declared_over_limit_body_is_answered_413_at_once_and_the_connection_closes() {
    let server = start(router().body_timeout(BODY_TIMEOUT)).await;
    // A terabyte, and 5 MB (just over the default 4 MiB limit), each with a short body.
    for length in [HUGE, 5_000_000] {
        let mut stream = TcpStream::connect(server.addr).await.unwrap();
        let started = Instant::now();
        stream
            .write_all(over_limit_request(length, false).as_bytes())
            .await
            .unwrap();
        stream.write_all(b"{}").await.unwrap();
        let answer = tokio::time::timeout(AT_ONCE, read_response(&mut stream))
            .await
            .unwrap_or_else(|_| {
                panic!("no answer to Content-Length {length} within {AT_ONCE:?} (body timeout {BODY_TIMEOUT:?})")
            });
        let elapsed = started.elapsed();
        assert!(
            answer.starts_with("HTTP/1.1 413"),
            "Content-Length {length}: {answer}"
        );
        assert!(
            answer.contains(r#""error":"WebrpcBadRequest""#)
                && answer.contains("body exceeds the limit of 4194304 bytes"),
            "{answer}"
        );
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("\r\nconnection: close\r\n"),
            "the 413 says the connection closes: {answer}"
        );
        assert!(
            closed_by_server(&mut stream).await,
            "the server closes the connection after the 413"
        );
        println!("Content-Length {length}: 413 after {elapsed:?}, then closed");
    }
}

#[tokio::test]
async fn expect_100_continue_with_an_over_limit_length_gets_413_not_100() {
    let server = start(router().body_timeout(BODY_TIMEOUT)).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    // Headers only: a client that waits for `100 Continue` before sending its body.
    stream
        .write_all(over_limit_request(HUGE, true).as_bytes())
        .await
        .unwrap();
    let answer = tokio::time::timeout(AT_ONCE, read_response(&mut stream))
        .await
        .expect("an answer before the body timeout");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(!answer.contains("100 Continue"), "{answer}");
    assert!(closed_by_server(&mut stream).await);

    // Within the limit, `100 Continue` is still sent and the call is served.
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(over_limit_request(2, true).as_bytes())
        .await
        .unwrap();
    let mut head = [0u8; 25];
    tokio::time::timeout(AT_ONCE, stream.read_exact(&mut head))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"{}").await.unwrap();
    let answer = tokio::time::timeout(AT_ONCE, read_response(&mut stream))
        .await
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// An h2c connection with the `h2` crate (prior knowledge), its driver spawned.
async fn h2_connect(addr: SocketAddr) -> h2::client::SendRequest<Bytes> {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

fn h2_request(addr: SocketAddr, method: &str, length: Option<u64>) -> Request<()> {
    let mut builder = Request::post(format!("http://{addr}/rpc/Test/{method}"))
        .header("content-type", "application/json");
    if let Some(length) = length {
        builder = builder.header("content-length", length);
    }
    builder.body(()).unwrap()
}

async fn h2_body(mut body: h2::RecvStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("response body");
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out
}

#[tokio::test]
async fn a_declared_over_limit_body_over_h2c_is_answered_413_at_once() {
    let server = start(router().body_timeout(BODY_TIMEOUT)).await;
    let client = h2_connect(server.addr).await;
    let mut client = client.ready().await.unwrap();
    let (response, mut send) = client
        .send_request(h2_request(server.addr, "Ping", Some(HUGE)), false)
        .unwrap();
    send.send_data(Bytes::from_static(b"{}"), false).unwrap();
    let started = Instant::now();
    let response = tokio::time::timeout(AT_ONCE, response)
        .await
        .expect("an answer before the body timeout")
        .unwrap();
    assert_eq!(response.status(), 413);
    let body = h2_body(response.into_body()).await;
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("body exceeds the limit"), "{text}");
    // The request stream, still open on our side, is ended by the server (RST_STREAM once
    // it dropped the unread body), so the client stops sending.
    let reset = tokio::time::timeout(AT_ONCE, std::future::poll_fn(|cx| send.poll_reset(cx)))
        .await
        .expect("the server ends the request stream")
        .expect("a reset reason");
    println!(
        "h2c: 413 after {:?}; request stream then reset with {reset:?}",
        started.elapsed()
    );
    // The connection itself keeps serving.
    let (response, mut send) = client
        .send_request(h2_request(server.addr, "Ping", None), false)
        .unwrap();
    send.send_data(Bytes::from_static(b"{}"), true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
}

/// A router whose `Echo` handler counts the calls it runs.
fn counting_router(runs: Arc<AtomicUsize>) -> Router {
    router().route(Echo, move |_ctx: RequestContext, req: EchoRequest| {
        let runs = Arc::clone(&runs);
        async move {
            runs.fetch_add(1, Ordering::SeqCst);
            Ok::<_, WebrpcError>(EchoResponse {
                value: req.value,
                label: None,
                seen: Default::default(),
            })
        }
    })
}

/// Sends `n` `Echo` calls over one h2c connection, each reset (`RST_STREAM(CANCEL)`) right
/// after its last body frame, ten at a time with a `Ping` round trip between batches (so
/// they stay under h2's limit on resets of streams not yet accepted).
async fn rapid_resets(addr: SocketAddr, n: usize) {
    let mut client = h2_connect(addr).await;
    for batch in 0..n.div_ceil(10) {
        for i in 0..10.min(n - batch * 10) {
            client = client.ready().await.unwrap();
            let (response, mut send) = client
                .send_request(h2_request(addr, "Echo", None), false)
                .unwrap();
            let body = format!(r#"{{"value":{}}}"#, batch * 10 + i);
            send.send_data(Bytes::from(body), true).unwrap();
            send.send_reset(h2::Reason::CANCEL);
            drop(response);
        }
        client = client.ready().await.unwrap();
        let (response, mut send) = client
            .send_request(h2_request(addr, "Ping", None), false)
            .unwrap();
        send.send_data(Bytes::from_static(b"{}"), true).unwrap();
        let response = tokio::time::timeout(AT_ONCE, response)
            .await
            .expect("the connection keeps answering")
            .unwrap();
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn calls_reset_before_their_handler_starts_never_run_it() {
    let runs = Arc::new(AtomicUsize::new(0));
    let server = start(counting_router(Arc::clone(&runs))).await;
    const N: usize = 500;
    rapid_resets(server.addr, N).await;
    let executed = runs.load(Ordering::SeqCst);
    println!("h2c rapid reset: {executed} of {N} reset calls ran their handler");
    // Each call is reset in the same write as its body: the server sees the reset before it
    // first yields to the handler, so none may run.
    assert_eq!(
        executed, 0,
        "handlers ran for calls reset before they started"
    );

    // Calls that are not reset still run.
    let client = TestClient::new(
        webrpc_client::Client::builder(&format!("http://{}", server.addr))
            .build()
            .unwrap(),
    );
    let answer = client
        .echo(
            Default::default(),
            EchoRequest {
                value: 7,
                label: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(answer.value, 7);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

/// Sends `n` whole `Echo` calls, each on its own connection closed right after the send.
async fn send_and_close(addr: SocketAddr, n: usize) {
    for i in 0..n {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        let body = format!(r#"{{"value":{i}}}"#);
        let request = format!(
            "POST /rpc/Test/Echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        drop(stream);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http11_calls_whose_client_closed_before_the_server_read_them_never_run() {
    // The HTTP/1.1 form of the rapid reset: a client sends a whole call and closes its
    // connection at once, while the server is behind (here: not accepting yet, as under a
    // flood, when calls wait in the accept queue). By the time the server reads such a
    // call, its end of stream is there too; hyper (without half-close, its default) reads
    // it while the router's future is pending, before the handler starts (the router
    // yields once after the body for this), and drops the call. So none of them runs.
    let runs = Arc::new(AtomicUsize::new(0));
    const N: usize = 200;
    // An accept queue that holds them all (the default backlog is 128).
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1024).unwrap();
    let addr = listener.local_addr().unwrap();
    send_and_close(addr, N).await;
    let _server = serve(listener, counting_router(Arc::clone(&runs))).spawn();
    // A call that stays connected (accepted after the closed ones) is answered, and by
    // then the closed ones are settled.
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let answer = exchange_on(
        &mut stream,
        "POST /rpc/Test/Echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 11\r\n\r\n{\"value\":7}",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let executed = runs.load(Ordering::SeqCst) - 1;
    println!("HTTP/1.1 closed before read: {executed} of {N} closed calls ran their handler");
    assert_eq!(executed, 0, "calls whose client had gone ran their handler");

    // The same against a server that is not behind: each close races the server's read,
    // and a call whose end of stream comes after its handler started is in flight (hyper
    // drops its future when it sees the end; see the next test). A figure, bounded loosely.
    let before = runs.load(Ordering::SeqCst);
    send_and_close(addr, N).await;
    let answer = exchange_on(
        &mut stream,
        "POST /rpc/Test/Echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
         Content-Length: 11\r\n\r\n{\"value\":8}",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let raced = runs.load(Ordering::SeqCst) - before - 1;
    println!("HTTP/1.1 close racing the read: {raced} of {N} closed calls ran their handler");
    assert!(
        raced < N / 2,
        "{raced} of {N} calls whose client had gone ran their handler"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http11_async_work_of_a_client_that_closes_mid_call_is_dropped() {
    // A client whose call is in its handler and then closes: hyper sees the end of stream
    // on the busy connection and drops the call's future, so the handler's remaining work
    // (after an await) never happens. (Work handed to the blocking pool is covered by
    // `blocking_work_holds_its_slot_until_it_ends_and_sees_its_caller_leave`.)
    let started = Arc::new(tokio::sync::Notify::new());
    let finished = Arc::new(AtomicUsize::new(0));
    let router = {
        let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
        router().route(Echo, move |_ctx: RequestContext, req: EchoRequest| {
            let (started, finished) = (Arc::clone(&started), Arc::clone(&finished));
            async move {
                started.notify_one();
                tokio::time::sleep(Duration::from_millis(300)).await;
                finished.fetch_add(1, Ordering::SeqCst);
                Ok::<_, WebrpcError>(EchoResponse {
                    value: req.value,
                    label: None,
                    seen: Default::default(),
                })
            }
        })
    };
    let server = start(router).await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(
            b"POST /rpc/Test/Echo HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
              Content-Length: 11\r\n\r\n{\"value\":1}",
        )
        .await
        .unwrap();
    tokio::time::timeout(AT_ONCE, started.notified())
        .await
        .expect("the handler started");
    drop(stream);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(
        finished.load(Ordering::SeqCst),
        0,
        "the dropped call went on"
    );
}

async fn exchange_on(stream: &mut TcpStream, request: &str) -> String {
    stream.write_all(request.as_bytes()).await.unwrap();
    tokio::time::timeout(AT_ONCE, read_response(stream))
        .await
        .expect("answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_work_holds_its_slot_until_it_ends_and_sees_its_caller_leave() {
    use std::sync::mpsc;
    use std::sync::Mutex;
    use webrpc_server::{CallHandle, ConcurrencyLimit};

    // The `Echo` handler hands its work to the blocking pool; the work first waits for a
    // "lock" (a message from the test), then does its write only if its caller is still
    // there, as a store does after taking its write lock.
    let (unlock, locked) = mpsc::channel::<()>();
    let locked = Arc::new(Mutex::new(locked));
    let writes = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let router = {
        let (writes, finished) = (Arc::clone(&writes), Arc::clone(&finished));
        router()
            .concurrency_limit(ConcurrencyLimit::new(1))
            .handler_timeout(Duration::from_millis(200))
            .route(Echo, move |ctx: RequestContext, req: EchoRequest| {
                let (locked, writes, finished) = (
                    Arc::clone(&locked),
                    Arc::clone(&writes),
                    Arc::clone(&finished),
                );
                async move {
                    webrpc_server::spawn_blocking(&ctx, move || {
                        locked.lock().unwrap().recv().unwrap();
                        let call = CallHandle::current().expect("the call is current");
                        if !call.is_cancelled() {
                            writes.fetch_add(1, Ordering::SeqCst);
                        }
                        finished.fetch_add(1, Ordering::SeqCst);
                    })
                    .await?;
                    Ok::<_, WebrpcError>(EchoResponse {
                        value: req.value,
                        label: None,
                        seen: Default::default(),
                    })
                }
            })
    };
    let echo = br#"{"value":1}"#;

    // The handler outlives its timeout: 504, but its blocking work is still waiting.
    send(
        &router,
        "POST",
        "/rpc/Test/Echo",
        Some("application/json"),
        echo,
    )
    .await
    .assert_error("WebrpcInternalError", -7, 504);
    // That work still holds the only slot: another call is turned away.
    let cause = send(
        &router,
        "POST",
        "/rpc/Test/Ping",
        Some("application/json"),
        b"{}",
    )
    .await
    .assert_error("WebrpcInternalError", -7, 503);
    assert!(cause.starts_with("server overloaded"), "{cause}");
    assert_eq!(finished.load(Ordering::SeqCst), 0);

    // Once the work gets its "lock", it sees its caller is gone and writes nothing; then
    // the slot is free again.
    unlock.send(()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while finished.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < deadline, "the blocking work never ended");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        writes.load(Ordering::SeqCst),
        0,
        "work wrote for a caller that left"
    );
    let mut answer = send(
        &router,
        "POST",
        "/rpc/Test/Ping",
        Some("application/json"),
        b"{}",
    )
    .await;
    while answer.status == 503 {
        // The slot is given back when the blocking task drops its handle, just after
        // `finished` is counted.
        assert!(Instant::now() < deadline, "the slot was never given back");
        tokio::time::sleep(Duration::from_millis(5)).await;
        answer = send(
            &router,
            "POST",
            "/rpc/Test/Ping",
            Some("application/json"),
            b"{}",
        )
        .await;
    }
    assert_eq!(answer.status, 200);

    // A caller that waits gets its write.
    unlock.send(()).unwrap();
    let value = send(
        &router,
        "POST",
        "/rpc/Test/Echo",
        Some("application/json"),
        echo,
    )
    .await
    .json();
    assert_eq!(value["value"], 1);
    assert_eq!(writes.load(Ordering::SeqCst), 1);
}

// What hyper decides before the router sees a request (docs/reliability.md says why the
// server keeps each of these). Pinned here so a dependency update that changes them shows.

/// Writes `request` on a new connection and reads until the server closes it.
async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(AT_ONCE, stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => out.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("the server neither answered nor closed: {out:?}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn http11_without_host_is_served() {
    let server = start(router()).await;
    let answer = exchange(
        server.addr,
        b"POST /rpc/Test/Ping HTTP/1.1\r\nContent-Type: application/json\r\n\
          Content-Length: 2\r\nConnection: close\r\n\r\n{}",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn transfer_encoding_gzip_chunked_is_chunked_framing_and_not_json() {
    let server = start(router()).await;
    // Chunked last: framed as chunked; the (supposedly gzip) bytes reach the router as they
    // are, and are not JSON.
    let answer = exchange(
        server.addr,
        b"POST /rpc/Test/Ping HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: gzip, chunked\r\nConnection: close\r\n\r\n\
          4\r\n\x1f\x8b\x08\x00\r\n0\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains(r#""error":"WebrpcBadRequest""#), "{answer}");
    assert!(
        answer.contains("failed to unmarshal request data"),
        "{answer}"
    );
    // Chunked not last: hyper cannot tell where the body ends and refuses the request.
    let answer = exchange(
        server.addr,
        b"POST /rpc/Test/Ping HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked, gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        !answer.contains("webrpc"),
        "answered before routing: {answer}"
    );
}

#[tokio::test]
async fn unparsable_requests_get_hyper_s_bare_400_and_431() {
    let server = start(router()).await;
    let answer = exchange(
        server.addr,
        b"POST /rpc/Test/Ping HTTP/1.1\r\nBad Header\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("webrpc"),
        "no envelope: {answer}"
    );
    let mut huge = b"POST /rpc/Test/Ping HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    huge.extend(std::iter::repeat_n(b'a', 500 * 1024));
    huge.extend_from_slice(b"\r\n\r\n");
    let answer = exchange(server.addr, &huge).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:.200}");
    assert!(
        !answer.to_ascii_lowercase().contains("webrpc"),
        "no envelope: {answer}"
    );
}
