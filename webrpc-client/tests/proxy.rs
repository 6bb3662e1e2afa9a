//! A handler that calls a second webrpc server on behalf of its caller: what reaches the
//! second server is what the handler's code put in the call, never the first request's
//! headers (`Host`, `Content-Length`, `Authorization`, `Cookie`, …).
//!
//! Both servers run on loopback sockets, so the headers are the ones on the wire.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{HeaderName, HeaderValue, AUTHORIZATION, CONTENT_LENGTH, COOKIE, HOST};
use webrpc_client::{CallOptions, Client};
use webrpc_core::{codec, service, RequestContext, WebrpcError};
use webrpc_server::{Router, Server};

service! {
    /// One hop of a relay.
    pub trait Relay;
    /// Client of [`Relay`].
    client RelayClient;
    /// Mounts a [`Relay`].
    mount mount_relay;
    name "Relay";
    schema "relay" "v1.0.0";

    /// Answers the request headers the server received (or, from a proxy, those the next
    /// hop received).
    Seen => seen(#[derive(Debug, Clone)] SeenRequest {
        /// Anything; its length sets the request's `Content-Length`.
        pub note: String,
    }) -> #[derive(Debug, Clone)] SeenResponse {
        /// Each header name with its values, in order.
        pub headers: BTreeMap<String, Vec<String>>,
    };
}

/// The second server: records what reached it.
struct Recorder;

impl Relay for Recorder {
    type Ctx = RequestContext;

    async fn seen(&self, ctx: RequestContext, _: SeenRequest) -> Result<SeenResponse, WebrpcError> {
        let mut headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (name, value) in ctx.headers() {
            headers
                .entry(name.as_str().to_owned())
                .or_default()
                .push(value.to_str().unwrap_or("<binary>").to_owned());
        }
        Ok(SeenResponse { headers })
    }
}

/// The first server: calls the second with options built from nothing but what it is told
/// to forward or set.
struct Proxy {
    next: RelayClient<Client>,
    forward: Vec<HeaderName>,
    set: Vec<(HeaderName, HeaderValue)>,
}

/// The body the proxy sends on: shorter than the first caller's.
const HOP_NOTE: &str = "hop";

impl Relay for Proxy {
    type Ctx = RequestContext;

    async fn seen(&self, ctx: RequestContext, _: SeenRequest) -> Result<SeenResponse, WebrpcError> {
        let mut options = CallOptions::new();
        for name in &self.forward {
            options = options.forward(&ctx, name.clone());
        }
        for (name, value) in &self.set {
            options = options.header(name.clone(), value.clone());
        }
        self.next
            .seen(
                options,
                SeenRequest {
                    note: HOP_NOTE.to_owned(),
                },
            )
            .await
    }
}

struct Running {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(router: Router) -> Running {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(Server::new().serve(listener, router, async {
            stopped.await.ok();
        }));
        Running {
            addr,
            stop: Some(stop),
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
        self.task.await.unwrap().unwrap();
    }
}

/// The first caller: a bearer token, a cookie, a request id and a long note.
const FIRST_NOTE: &str = "a note long enough that the first request's body is not the proxy's";

fn first_caller(url: &str) -> RelayClient<Client> {
    RelayClient::new(
        Client::builder(url)
            .bearer_token("first-callers-secret")
            .header(COOKIE, "session=first-caller")
            .header(HeaderName::from_static("x-request-id"), "req-1")
            .build()
            .unwrap(),
    )
}

/// Runs one call through a proxy (configured by `forward` and `set`) to the recorder, and
/// answers what reached the recorder, with the two servers' addresses.
async fn through_proxy(
    forward: Vec<HeaderName>,
    set: Vec<(HeaderName, HeaderValue)>,
) -> (BTreeMap<String, Vec<String>>, SocketAddr, SocketAddr) {
    let second = Running::start(mount_relay(Arc::new(Recorder), Router::new())).await;
    let proxy = Proxy {
        next: RelayClient::new(Client::new(&second.url()).unwrap()),
        forward,
        set,
    };
    let first = Running::start(mount_relay(Arc::new(proxy), Router::new())).await;
    let seen = first_caller(&first.url())
        .seen(
            CallOptions::new(),
            SeenRequest {
                note: FIRST_NOTE.to_owned(),
            },
        )
        .await
        .unwrap()
        .headers;
    let (first_addr, second_addr) = (first.addr, second.addr);
    first.stop().await;
    second.stop().await;
    (seen, first_addr, second_addr)
}

fn body_len(note: &str) -> String {
    codec::encode(&SeenRequest {
        note: note.to_owned(),
    })
    .unwrap()
    .len()
    .to_string()
}

#[tokio::test]
async fn a_proxying_handler_sends_none_of_its_callers_headers_on() {
    let (seen, first, second) = through_proxy(Vec::new(), Vec::new()).await;

    // Only what the client itself sends with every call.
    let names: Vec<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["accept", "content-length", "content-type", "host", "webrpc"],
        "the second server got {seen:?}"
    );
    // `Host` names the second server, not the first; `Content-Length` is the proxy's own
    // body's, not the first request's.
    assert_eq!(seen[HOST.as_str()], [second.to_string()]);
    assert_ne!(first, second);
    assert_eq!(seen[CONTENT_LENGTH.as_str()], [body_len(HOP_NOTE)]);
    assert_ne!(body_len(HOP_NOTE), body_len(FIRST_NOTE));
    assert!(!seen.contains_key(AUTHORIZATION.as_str()));
    assert!(!seen.contains_key(COOKIE.as_str()));
    assert!(!seen.contains_key("x-request-id"));
}

#[tokio::test]
async fn a_proxying_handler_sends_on_exactly_the_headers_its_code_names() {
    let (seen, _, second) = through_proxy(
        vec![AUTHORIZATION, HeaderName::from_static("x-absent")],
        vec![(
            HeaderName::from_static("x-hop"),
            HeaderValue::from_static("proxy"),
        )],
    )
    .await;

    let names: Vec<&str> = seen.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "webrpc",
            "x-hop"
        ],
        "the second server got {seen:?}"
    );
    assert_eq!(seen["authorization"], ["Bearer first-callers-secret"]);
    assert_eq!(seen["x-hop"], ["proxy"]);
    assert_eq!(seen[HOST.as_str()], [second.to_string()]);
    assert_eq!(seen[CONTENT_LENGTH.as_str()], [body_len(HOP_NOTE)]);
    assert!(!seen.contains_key(COOKIE.as_str()));
}
