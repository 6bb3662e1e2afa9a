//! The client against servers that fail mid-call, over loopback: a server that resets the
//! connection before or during its answer, dies (closes) mid-response, stalls mid-body, or
//! answers after the call's timeout, and one that resets idle pooled connections. Each fault
//! is a typed [`WebrpcError`]; and the very next call on the same client (same pool, same
//! address) gets its own answer, never a stale one.
//!
//! The server is a small scripted HTTP/1.1 server on raw TCP: keep-alive, one request at a
//! time per connection, each request handled as the next step of its script says.
//!
//! ```text
//! cargo test -p webrpc-client --test faults
//! ```

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use webrpc_client::{CallOptions, Client, HttpTransport};
use webrpc_core::{service, WebrpcError};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
struct Item {
    id: u64,
    name: String,
}

service! {
    /// A small store.
    pub trait Store;
    /// Client.
    client StoreClient;
    /// Mount.
    mount mount_store;
    name "Store";
    schema "store" "v0.0.1";
    /// Gets an item.
    GetItem => get_item(#[derive(Debug, Clone, PartialEq, Default)] GetItemRequest {
        /// Which item.
        pub id: u64,
    }) -> #[derive(Debug, Clone, PartialEq, Default)] GetItemResponse {
        /// The item.
        pub item: Item,
    };
}

/// Generous bound on anything that waits.
const WAIT: Duration = Duration::from_secs(30);

/// The timeout of the clients under test.
const CALL_TIMEOUT: Duration = Duration::from_millis(400);

/// What the scripted server does with one request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    /// A 200 answer naming the requested id; the connection stays open.
    Answer,
    /// Reset the connection (RST) without answering.
    ResetBeforeAnswer,
    /// Close the connection (FIN) without answering.
    CloseBeforeAnswer,
    /// Send the status line, headers and part of the body, then reset.
    ResetMidBody,
    /// Send the status line, headers and part of the body, then close: a server dying
    /// mid-response.
    CloseMidBody,
    /// Send the status line, headers and part of the body, then send nothing more.
    StallMidBody,
    /// Answer correctly, but only after this long (past the client's timeout); the
    /// connection stays open.
    AnswerLate(Duration),
    /// Answer, then reset the connection while it is idle in the client's pool.
    AnswerThenResetIdle,
}

/// A scripted server: a request for item `id` gets `plan(id)`.
struct Scripted {
    addr: SocketAddr,
    /// The id each request asked for, in arrival order.
    seen: Arc<Mutex<Vec<u64>>>,
    /// One message per connection the server reset or closed.
    cut: mpsc::UnboundedReceiver<Step>,
}

impl Scripted {
    async fn start(plan: Plan) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (cut_tx, cut) = mpsc::unbounded_channel();
        {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                // Bounded: no test here makes more than a few dozen connections.
                for _ in 0..256 {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let (seen, cut_tx) = (Arc::clone(&seen), cut_tx.clone());
                    tokio::spawn(serve_connection(stream, plan, seen, cut_tx));
                }
            });
        }
        Scripted { addr, seen, cut }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server has reset or closed a connection because of `step`.
    async fn wait_cut(&mut self, step: Step) {
        let got = tokio::time::timeout(WAIT, self.cut.recv())
            .await
            .expect("the server cuts the connection in time");
        assert_eq!(got, Some(step));
    }
}

/// What to do with the request for an item id.
type Plan = fn(u64) -> Step;

/// Reads one request (head and `Content-Length` body); `None` when the peer closed.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            if buf.len() >= total {
                let body = buf[end + 4..total].to_vec();
                buf.drain(..total);
                return Some(body);
            }
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn answer_for(id: u64) -> Vec<u8> {
    let body = format!(r#"{{"item":{{"id":{id},"name":"item {id}"}}}}"#);
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const PARTIAL: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"item\":{\"id\":";

async fn serve_connection(
    mut stream: TcpStream,
    plan: Plan,
    seen: Arc<Mutex<Vec<u64>>>,
    cut: mpsc::UnboundedSender<Step>,
) {
    let mut buf = Vec::new();
    while let Some(body) = read_request(&mut stream, &mut buf).await {
        let id = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["id"].as_u64())
            .unwrap_or(0);
        seen.lock().unwrap().push(id);
        let step = plan(id);
        match step {
            Step::Answer => {
                if stream.write_all(&answer_for(id)).await.is_err() {
                    return;
                }
            }
            Step::AnswerLate(delay) => {
                tokio::time::sleep(delay).await;
                if stream.write_all(&answer_for(id)).await.is_err() {
                    return;
                }
            }
            Step::ResetBeforeAnswer | Step::ResetMidBody => {
                if step == Step::ResetMidBody {
                    let _ = stream.write_all(PARTIAL).await;
                    let _ = stream.flush().await;
                }
                let _ = stream.set_zero_linger();
                drop(stream);
                let _ = cut.send(step);
                return;
            }
            Step::CloseBeforeAnswer | Step::CloseMidBody => {
                if step == Step::CloseMidBody {
                    let _ = stream.write_all(PARTIAL).await;
                }
                let _ = stream.shutdown().await;
                drop(stream);
                let _ = cut.send(step);
                return;
            }
            Step::StallMidBody => {
                let _ = stream.write_all(PARTIAL).await;
                // Hold the connection open without a byte more, until the client gives up.
                let mut sink = [0u8; 64];
                let _ = tokio::time::timeout(WAIT, stream.read(&mut sink)).await;
                let _ = cut.send(step);
                return;
            }
            Step::AnswerThenResetIdle => {
                if stream.write_all(&answer_for(id)).await.is_err() {
                    return;
                }
                let _ = stream.flush().await;
                // Give the client the answer, then reset while the connection is idle.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = stream.set_zero_linger();
                drop(stream);
                let _ = cut.send(step);
                return;
            }
        }
    }
}

fn client_for(server: &Scripted) -> Client<HttpTransport> {
    Client::builder(&server.url())
        .timeout(Some(CALL_TIMEOUT))
        .build()
        .unwrap()
}

async fn get(client: &Client<HttpTransport>, id: u64) -> Result<Item, WebrpcError> {
    tokio::time::timeout(WAIT, client.call::<GetItem>(&GetItemRequest { id }))
        .await
        .expect("a call never hangs past its timeout")
        .map(|r| r.item)
}

/// The next call on the same client gets its own answer.
#[track_caller]
fn assert_own_answer(out: Result<Item, WebrpcError>, id: u64) {
    let item = out.unwrap_or_else(|err| panic!("call {id} after a fault failed: {err}"));
    assert_eq!(
        item,
        Item {
            id,
            name: format!("item {id}")
        }
    );
}

#[track_caller]
fn assert_request_failed(err: &WebrpcError, cause_prefix: &str) {
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcRequestFailed", -1, 400),
        "{err}"
    );
    assert!(!err.is_timeout(), "{err}");
    let cause = err.cause().unwrap_or_default();
    assert!(cause.starts_with(cause_prefix), "{err}");
}

#[track_caller]
fn assert_timeout(err: &WebrpcError) {
    assert!(err.is_timeout(), "{err}");
    assert_eq!((err.code(), err.status()), (-1, 408), "{err}");
    assert_eq!(
        err.cause(),
        Some(format!("request timed out after {CALL_TIMEOUT:?}").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_is_a_typed_error_and_the_next_call_succeeds() {
    const FAULTS: [Step; 6] = [
        Step::ResetBeforeAnswer,
        Step::CloseBeforeAnswer,
        Step::ResetMidBody,
        Step::CloseMidBody,
        Step::StallMidBody,
        Step::AnswerLate(Duration::from_millis(1500)),
    ];
    // Item 100·(i+1) + 1 gets fault i; every other item an answer.
    fn plan(id: u64) -> Step {
        match (id / 100, id % 100) {
            (n @ 1..=6, 1) => FAULTS[n as usize - 1],
            _ => Step::Answer,
        }
    }
    let faults = FAULTS;
    let mut server = Scripted::start(plan).await;
    let client = client_for(&server);
    for (i, fault) in faults.into_iter().enumerate() {
        let id = 100 * (i as u64 + 1);
        // A good call first, so the fault hits a connection reused from the pool.
        assert_own_answer(get(&client, id).await, id);
        let err = get(&client, id + 1).await.unwrap_err();
        match fault {
            Step::ResetBeforeAnswer | Step::CloseBeforeAnswer => {
                assert_request_failed(&err, "failed to send request: ")
            }
            Step::ResetMidBody | Step::CloseMidBody => {
                assert_request_failed(&err, "failed to read response body: ")
            }
            Step::StallMidBody | Step::AnswerLate(_) => assert_timeout(&err),
            other => unreachable!("{other:?}"),
        }
        if !matches!(fault, Step::AnswerLate(_)) {
            server.wait_cut(fault).await;
        }
        // The pool recovers: the next call on the same client gets its own answer (not the
        // late answer meant for the call that timed out).
        assert_own_answer(get(&client, id + 2).await, id + 2);
    }
    let seen = server.seen.lock().unwrap().clone();
    let expected: Vec<u64> = (1..=faults.len() as u64)
        .flat_map(|i| [100 * i, 100 * i + 1, 100 * i + 2])
        .collect();
    assert_eq!(
        seen, expected,
        "each call was sent exactly once (no silent retry of a call that reached the server)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_pooled_connection_reset_by_the_server_costs_at_most_one_call() {
    // The keep-alive race: the server resets a connection idle in the client's pool. A call
    // that takes it from the pool before the client's connection task has seen the reset
    // fails (hyper does not resend a POST whose write has begun), with a typed error; the
    // dead connection is then dropped and the call after it succeeds. A call made once the
    // client has seen the reset goes to a new connection and succeeds.
    const ROUNDS: u64 = 5;
    // Item 10·n is answered, then its connection reset while idle.
    fn plan(id: u64) -> Step {
        if id % 10 == 0 {
            Step::AnswerThenResetIdle
        } else {
            Step::Answer
        }
    }
    let mut server = Scripted::start(plan).await;
    let client = client_for(&server);
    let mut raced = 0;
    for round in 0..ROUNDS {
        let id = round * 10;
        assert_own_answer(get(&client, id).await, id);
        server.wait_cut(Step::AnswerThenResetIdle).await;
        match get(&client, id + 1).await {
            Ok(item) => assert_eq!(item.id, id + 1),
            Err(err) => {
                assert_request_failed(&err, "failed to send request: ");
                raced += 1;
            }
        }
        // Never twice in a row: the dead connection is not handed out again.
        assert_own_answer(get(&client, id + 2).await, id + 2);
    }
    println!("idle pooled connection reset: {raced} of {ROUNDS} next calls hit the race");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_through_a_flaky_server_each_get_an_answer_or_a_typed_error() {
    // Half the calls are cut one way or another; 60 calls from 6 tasks share one pool.
    fn plan(id: u64) -> Step {
        match id % 6 {
            1 => Step::ResetBeforeAnswer,
            3 => Step::CloseMidBody,
            5 => Step::ResetMidBody,
            _ => Step::Answer,
        }
    }
    let server = Scripted::start(plan).await;
    let client = client_for(&server);
    let tasks: Vec<_> = (0..6u64)
        .map(|t| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut outcomes = Vec::new();
                for i in 0..10u64 {
                    let id = t * 100 + i;
                    outcomes.push((id, get(&client, id).await));
                }
                outcomes
            })
        })
        .collect();
    let (mut ok, mut failed) = (0, 0);
    for task in tasks {
        for (id, outcome) in task.await.unwrap() {
            match outcome {
                Ok(item) => {
                    assert_eq!(item.id, id, "an answer meant for another call");
                    assert_eq!(plan(id), Step::Answer);
                    ok += 1;
                }
                Err(err) => {
                    assert_eq!(err.code(), -1, "{err}");
                    assert!(!err.is_timeout(), "{err}");
                    assert_ne!(plan(id), Step::Answer, "call {id} failed: {err}");
                    failed += 1;
                }
            }
        }
    }
    assert_eq!(ok + failed, 60);
    assert_eq!(failed, 30, "exactly the scripted faults fail");
    // And afterwards the pool is healthy.
    assert_own_answer(get(&client, 1000).await, 1000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_call_timeout_shorter_than_the_answer_is_a_timeout_and_the_pool_recovers() {
    fn plan(id: u64) -> Step {
        if id == 5 {
            Step::AnswerLate(Duration::from_millis(800))
        } else {
            Step::Answer
        }
    }
    let server = Scripted::start(plan).await;
    let client = Client::builder(&server.url())
        .timeout(Some(WAIT))
        .build()
        .unwrap();
    let err = client
        .call_with::<GetItem>(
            &GetItemRequest { id: 5 },
            CallOptions::new().timeout(Duration::from_millis(100)),
        )
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!(err.cause(), Some("request timed out after 100ms"));
    let out = client
        .call::<GetItem>(&GetItemRequest { id: 6 })
        .await
        .unwrap();
    assert_eq!(out.item.id, 6);
}
