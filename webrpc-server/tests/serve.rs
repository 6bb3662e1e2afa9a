//! Serving over loopback: HTTP/1.1 and h2c, raw wire exchanges, the header read timeout,
//! oversized bodies answered (not reset), panics survived, and graceful shutdown.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use webrpc_client::{Client, TransportOptions};
use webrpc_core::WebrpcError;
use webrpc_server::{serve, Router, Server, ServerHandle};

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

    async fn shutdown(self) {
        tokio::time::timeout(Duration::from_secs(10), self.handle.shutdown())
            .await
            .expect("server stops in time")
            .unwrap();
    }
}

/// Sends raw bytes, returns everything the server writes until it closes (bounded).
async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn http1_and_h2c_calls_over_loopback() {
    let server = Running::start(Server::new(), router()).await;
    let h1 = TestClient::new(Client::new(&server.url()).unwrap());
    let out = h1
        .echo(
            Default::default(),
            EchoRequest {
                value: 9,
                label: Some("h1".into()),
            },
        )
        .await
        .unwrap();
    assert_eq!((out.value, out.label.as_deref()), (9, Some("h1")));

    let h2 = TestClient::new(
        Client::builder(&server.url())
            .transport_options(TransportOptions {
                http2_prior_knowledge: true,
                ..TransportOptions::default()
            })
            .build()
            .unwrap(),
    );
    for i in 0..20 {
        let out = h2
            .echo(
                Default::default(),
                EchoRequest {
                    value: i,
                    label: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(out.value, i);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn raw_wire_exchange_matches_the_reference() {
    let server = Running::start(Server::new(), router()).await;
    let answer = raw_exchange(
        server.addr,
        b"GET /rpc/Test/Echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
        "{answer}"
    );
    let lower = answer.to_ascii_lowercase();
    assert!(lower.contains("\r\nallow: post\r\n"), "{answer}");
    assert!(
        lower.contains("\r\ncontent-type: application/json\r\n"),
        "{answer}"
    );
    assert!(
        lower.contains("\r\nwebrpc: webrpc@v0.31.0;webrpc-rs@"),
        "{answer}"
    );
    assert!(answer.ends_with(
        r#"{"error":"WebrpcBadMethod","code":-3,"msg":"bad method","cause":"unsupported HTTP method GET (only POST is allowed)","status":405}"#
    ), "{answer}");

    let answer = raw_exchange(
        server.addr,
        b"POST /rpc/Test/Echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"projectId\":30957,",
    )
    .await;
    assert!(
        answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.contains(r#""error":"WebrpcBadRequest","code":-4,"msg":"bad request","cause":"failed to unmarshal request data: "#), "{answer}");
    server.shutdown().await;
}

#[tokio::test]
async fn header_read_timeout_closes_slow_clients_and_others_are_served() {
    let server = Running::start(
        Server::new().header_read_timeout(Some(Duration::from_millis(300))),
        router(),
    )
    .await;
    // A client that starts a request and never finishes its headers.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"POST /rpc/Test/Echo HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // A client that connects and says nothing.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();

    // Meanwhile, others are served.
    let client = TestClient::new(Client::new(&server.url()).unwrap());
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();

    for (which, stream) in [("slow", &mut slow), ("silent", &mut silent)] {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
            .await
            .unwrap_or_else(|_| {
                panic!("the server closes the {which} connection after the header read timeout")
            });
        // Closed, possibly after a 408 response; either way nothing more is served.
        let text = String::from_utf8_lossy(&buf);
        assert!(
            read.is_err() || buf.is_empty() || text.starts_with("HTTP/1.1 408"),
            "{text}"
        );
    }
    // (A new client: the first one's idle connection was closed by the same timeout, which
    // here is far shorter than the client's pool idle timeout.)
    let client = TestClient::new(Client::new(&server.url()).unwrap());
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_body_gets_an_envelope_not_a_reset() {
    let server = Running::start(Server::new(), router().body_limit(64 * 1024)).await;
    let client = TestClient::new(Client::new(&server.url()).unwrap());
    let err = client
        .echo(
            Default::default(),
            EchoRequest {
                value: 1,
                label: Some("x".repeat(1024 * 1024)),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcBadRequest", -4, 413)
    );
    // The same client keeps working.
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    server.shutdown().await;
}

#[tokio::test]
async fn panics_do_not_take_the_server_down() {
    let server = Running::start(Server::new(), router()).await;
    let client = TestClient::new(Client::new(&server.url()).unwrap());
    for _ in 0..3 {
        let err: WebrpcError = client
            .panic(Default::default(), PanicRequest {})
            .await
            .unwrap_err();
        assert_eq!((err.code(), err.status()), (-6, 500));
        client
            .ping(Default::default(), PingRequest {})
            .await
            .unwrap();
    }
    server.shutdown().await;
}

#[tokio::test]
async fn graceful_shutdown_finishes_calls_in_flight() {
    let server = Running::start(Server::new(), router()).await;
    let url = server.url();
    let client = TestClient::new(Client::new(&url).unwrap());
    let mut calls = Vec::new();
    for _ in 0..8 {
        let client = client.clone();
        calls.push(tokio::spawn(async move {
            client
                .sleep(Default::default(), SleepRequest { millis: 400 })
                .await
        }));
    }
    // Wait until the calls are in the server (bounded), then ask it to stop.
    let probe = TestClient::new(Client::new(&url).unwrap());
    probe
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let addr = server.addr;
    server.shutdown().await;
    for call in calls {
        let out = call
            .await
            .unwrap()
            .expect("an accepted call gets its answer");
        assert_eq!(out.slept, 400);
    }
    // Nothing listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn connection_cap_queues_rather_than_refuses() {
    let server = Running::start(Server::new().max_connections(Some(2)), router()).await;
    let mut clients = Vec::new();
    for i in 0..6 {
        let client = TestClient::new(
            Client::builder(&server.url())
                .transport_options(TransportOptions {
                    pool_idle_timeout: Duration::from_millis(50),
                    ..TransportOptions::default()
                })
                .build()
                .unwrap(),
        );
        clients.push(tokio::spawn(async move {
            client
                .echo(
                    Default::default(),
                    EchoRequest {
                        value: i,
                        label: None,
                    },
                )
                .await
        }));
    }
    for (i, c) in clients.into_iter().enumerate() {
        assert_eq!(c.await.unwrap().unwrap().value, i as u64);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn idle_keep_alive_connections_are_closed() {
    let server = Running::start(
        Server::new().header_read_timeout(Some(Duration::from_millis(300))),
        router(),
    )
    .await;
    let mut stream = TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"POST /rpc/Test/Ping HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("an idle keep-alive connection is closed after the header read timeout");
    assert!(read.is_ok());
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200 OK"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn serve_awaited_in_place_returns_once_its_shutdown_signal_fires() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        serve(listener, router())
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .await
    });
    let client = TestClient::new(Client::new(&url).unwrap());
    client
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .expect("serve returns after the signal")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_dropped_server_handle_leaves_the_server_serving() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = serve(listener, router()).spawn();
    let url = format!("http://{}", handle.local_addr());
    drop(handle);
    let client = TestClient::new(Client::new(&url).unwrap());
    for _ in 0..3 {
        client
            .ping(Default::default(), PingRequest {})
            .await
            .unwrap();
        tokio::task::yield_now().await;
    }
}
