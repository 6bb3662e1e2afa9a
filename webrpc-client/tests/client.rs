//! Every client error path, in process (mock transports and the router itself, no socket)
//! and over loopback (real servers, including broken ones written with raw TCP).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use webrpc_client::{CallOptions, Client, X_ACCESS_KEY};
use webrpc_core::{service, BuiltinError, MethodInfo, RequestContext, WebrpcError};
use webrpc_server::Router;

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

type Captured = Arc<Mutex<Option<Request<Bytes>>>>;

type Mock = tower::util::BoxCloneSyncService<Request<Full<Bytes>>, Response<Full<Bytes>>, BoxError>;
type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A transport that records the request and answers with a fixed status and body.
fn canned(status: u16, content_type: &'static str, body: &'static [u8], seen: Captured) -> Mock {
    Mock::new(tower::service_fn(move |req: Request<Full<Bytes>>| {
        let seen = seen.clone();
        async move {
            let (parts, req_body) = req.into_parts();
            let bytes = req_body.collect().await.unwrap().to_bytes();
            *seen.lock().unwrap() = Some(Request::from_parts(parts, bytes));
            let mut response = Response::new(Full::new(Bytes::from_static(body)));
            *response.status_mut() = http::StatusCode::from_u16(status).unwrap();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static(content_type));
            Ok::<_, BoxError>(response)
        }
    }))
}

fn never_answers() -> Mock {
    Mock::new(tower::service_fn(|_req: Request<Full<Bytes>>| async {
        std::future::pending::<()>().await;
        Ok::<Response<Full<Bytes>>, BoxError>(Response::new(Full::new(Bytes::new())))
    }))
}

fn client_with(service: Mock) -> Client<Mock> {
    Client::builder("http://example.test/prefix")
        .bearer_token("secret.jwt.value")
        .access_key("AQAAAAAAAAA")
        .build_with(service)
        .unwrap()
}

fn leak(bytes: Vec<u8>) -> &'static [u8] {
    Box::leak(bytes.into_boxed_slice())
}

#[tokio::test]
async fn sends_the_protocol_headers_and_the_arguments() {
    let seen = Captured::default();
    let client = client_with(canned(
        200,
        "application/json",
        br#"{"item":{"id":1,"name":"a"}}"#,
        seen.clone(),
    ));
    let mut opts = CallOptions::new().header(
        http::HeaderName::from_static("x-request-id"),
        HeaderValue::from_static("abc"),
    );
    opts.extensions.insert(7u8);
    let out = client
        .call_with::<GetItem>(&GetItemRequest { id: 1 }, opts)
        .await
        .unwrap();
    assert_eq!(
        out.item,
        Item {
            id: 1,
            name: "a".into()
        }
    );

    let req = seen.lock().unwrap().take().unwrap();
    assert_eq!(req.method(), "POST");
    assert_eq!(req.uri(), "http://example.test/prefix/rpc/Store/GetItem");
    let h = req.headers();
    assert_eq!(h["content-type"], "application/json");
    assert_eq!(h["accept"], "application/json");
    assert_eq!(
        h["webrpc"],
        concat!(
            "webrpc@v0.31.0;webrpc-rs@v",
            env!("CARGO_PKG_VERSION"),
            ";store@v0.0.1"
        )
    );
    assert_eq!(h["authorization"], "Bearer secret.jwt.value");
    assert!(h["authorization"].is_sensitive());
    assert_eq!(h[X_ACCESS_KEY], "AQAAAAAAAAA");
    assert_eq!(h["x-request-id"], "abc");
    assert_eq!(req.body().as_ref(), br#"{"id":1}"#);
    assert_eq!(
        req.extensions().get::<MethodInfo>(),
        Some(&MethodInfo {
            service: "Store",
            method: "GetItem"
        })
    );
    assert_eq!(req.extensions().get::<u8>(), Some(&7));
}

#[tokio::test]
async fn debug_output_never_shows_credentials() {
    let client = client_with(canned(200, "application/json", b"{}", Captured::default()));
    let text = format!("{client:?}");
    assert!(!text.contains("secret.jwt.value"), "{text}");
    assert!(!text.contains("AQAAAAAAAAA"), "{text}");
}

#[tokio::test]
async fn error_envelope_is_decoded_with_every_raw_field() {
    let client = client_with(canned(
        403,
        "application/json",
        br#"{"error":"SecretKeyCorsDisallowed","code":1009,"msg":"CORS disallowed for admin secret key","cause":"origin x","status":403}"#,
        Captured::default(),
    ));
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.name(), "SecretKeyCorsDisallowed");
    assert_eq!(err.code(), 1009);
    assert_eq!(err.msg(), "CORS disallowed for admin secret key");
    assert_eq!(err.cause(), Some("origin x"));
    assert_eq!(err.status(), 403);
    assert_eq!(err.kind::<BuiltinError>(), None);
}

#[tokio::test]
async fn newer_name_of_minus_8_matches_the_builtin() {
    let client = client_with(canned(
        400,
        "application/json",
        br#"{"error":"WebrpcClientAborted","code":-8,"msg":"request aborted by client","status":400}"#,
        Captured::default(),
    ));
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcClientDisconnected)
    );
    assert_eq!(err.name(), "WebrpcClientAborted");
    assert_eq!(
        BuiltinError::from_wire_name("WebrpcClientAborted"),
        Some(BuiltinError::WebrpcClientDisconnected)
    );
}

#[tokio::test]
async fn error_body_without_code_is_code_0_with_http_status() {
    let client = client_with(canned(
        422,
        "application/json",
        br#"{"msg":"nope"}"#,
        Captured::default(),
    ));
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status(), err.msg()), (0, 422, "nope"));
}

#[tokio::test]
async fn html_error_body_is_bad_response_with_the_real_status() {
    let client = client_with(canned(
        502,
        "text/html",
        b"<html><body>502 Bad Gateway</body></html>",
        Captured::default(),
    ));
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcBadResponse", -5, 502)
    );
    assert!(
        err.cause()
            .unwrap()
            .starts_with("failed to unmarshal server error: "),
        "{err}"
    );
}

#[tokio::test]
async fn undecodable_success_body_is_bad_response() {
    for body in [
        &b"not json"[..],
        br#"{"item":{"id":"x"}}"#,
        b"",
        br#"{"other":1}"#,
    ] {
        let client = client_with(canned(
            200,
            "application/json",
            leak(body.to_vec()),
            Captured::default(),
        ));
        let err = client
            .call::<GetItem>(&GetItemRequest { id: 1 })
            .await
            .unwrap_err();
        assert_eq!((err.code(), err.status()), (-5, 500), "{err}");
        assert!(
            err.cause()
                .unwrap()
                .starts_with("failed to unmarshal json response: "),
            "{err}"
        );
    }
}

#[tokio::test]
async fn any_2xx_is_success() {
    let client = client_with(canned(
        201,
        "application/json",
        br#"{"item":{"id":2,"name":"b"}}"#,
        Captured::default(),
    ));
    let out = client
        .call::<GetItem>(&GetItemRequest { id: 2 })
        .await
        .unwrap();
    assert_eq!(out.item.id, 2);
}

#[tokio::test]
async fn response_over_the_limit_is_bad_response() {
    let body =
        leak(format!(r#"{{"item":{{"id":1,"name":"{}"}}}}"#, "x".repeat(10_000)).into_bytes());
    let client = Client::builder("http://x")
        .response_limit(1000)
        .build_with(canned(200, "application/json", body, Captured::default()))
        .unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), -5);
    assert!(
        err.cause().unwrap().contains("limit of 1000 bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn transport_error_is_request_failed() {
    let failing = Mock::new(tower::service_fn(|_req: Request<Full<Bytes>>| async {
        Err::<Response<Full<Bytes>>, BoxError>(Box::new(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset by peer",
        )))
    }));
    let client = Client::builder("http://x").build_with(failing).unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcRequestFailed", -1, 400)
    );
    assert!(
        err.cause().unwrap().contains("connection reset by peer"),
        "{err}"
    );
    assert!(!err.is_timeout());
}

#[tokio::test(start_paused = true)]
async fn timeout_is_request_failed_408() {
    let client = Client::builder("http://x")
        .timeout(Some(Duration::from_secs(3)))
        .build_with(never_answers())
        .unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    assert_eq!((err.code(), err.status()), (-1, 408));
    // Per call, through CallOptions, also as the service trait's context.
    let err = client
        .call_with::<GetItem>(
            &GetItemRequest { id: 1 },
            CallOptions::new().timeout(Duration::from_millis(10)),
        )
        .await
        .unwrap_err();
    assert!(err.cause().unwrap().contains("10ms"), "{err}");
    let err = StoreClient::new(client)
        .get_item(
            CallOptions::new().timeout(Duration::from_millis(20)),
            GetItemRequest { id: 1 },
        )
        .await
        .unwrap_err();
    assert!(
        err.is_timeout() && err.cause().unwrap().contains("20ms"),
        "{err}"
    );
}

#[tokio::test]
async fn cancellation_is_client_disconnected() {
    let client = Client::builder("http://x")
        .build_with(never_answers())
        .unwrap();
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let call = tokio::spawn(async move {
        client
            .call_with::<GetItem>(
                &GetItemRequest { id: 1 },
                CallOptions::new().cancel_on(async {
                    cancelled.await.ok();
                }),
            )
            .await
    });
    cancel.send(()).unwrap();
    let err = call.await.unwrap().unwrap_err();
    assert_eq!((err.name(), err.code()), ("WebrpcClientDisconnected", -8));
    assert_eq!(err.cause(), Some("request cancelled by the caller"));
}

struct Items;
impl Store for Items {
    type Ctx = RequestContext;

    async fn get_item(
        &self,
        _: RequestContext,
        req: GetItemRequest,
    ) -> Result<GetItemResponse, WebrpcError> {
        if req.id == 0 {
            return Err(
                WebrpcError::new("NotFound", 3000, "Resource not found", 400).with_cause("item 0"),
            );
        }
        Ok(GetItemResponse {
            item: Item {
                id: req.id,
                name: format!("item {}", req.id),
            },
        })
    }
}

#[tokio::test]
async fn in_process_client_straight_into_the_router() {
    let router = mount_store(Arc::new(Items), Router::new());
    let store = StoreClient::new(
        Client::builder("http://in-process")
            .build_with(router)
            .unwrap(),
    );
    let out = store
        .get_item(Default::default(), GetItemRequest { id: 5 })
        .await
        .unwrap();
    assert_eq!(out.item.name, "item 5");
    let err = store
        .get_item(Default::default(), GetItemRequest { id: 0 })
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status(), err.cause()),
        ("NotFound", 3000, 400, Some("item 0"))
    );
}

#[test]
fn client_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let router = mount_store(Arc::new(Items), Router::new());
    let client = Client::builder("http://x").build_with(router).unwrap();
    let request = GetItemRequest { id: 1 };
    is_send(&client.call::<GetItem>(&request));
    let store = StoreClient::new(client);
    is_send(&store.get_item(Default::default(), GetItemRequest { id: 1 }));
}

#[tokio::test]
async fn bad_configuration_is_an_error() {
    assert!(Client::new("not a url").is_err());
    assert!(Client::new("ftp://host").is_err());
    assert!(Client::new("/relative").is_err());
    assert!(Client::builder("http://x")
        .bearer_token("bad\nvalue")
        .build()
        .is_err());
    assert!(Client::new("https://metadata.sequence.app").is_ok());
}

// ---- over loopback -------------------------------------------------------------------

async fn serve_router() -> (SocketAddr, webrpc_server::ServerHandle) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let router = mount_store(Arc::new(Items), Router::new());
    let server = webrpc_server::serve(listener, router).spawn();
    (server.local_addr(), server)
}

/// A raw TCP server that answers each of its first 16 connections with `answer`, then
/// closes it.
async fn raw_server(answer: &'static [u8], delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        for _ in 0..16 {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = stream.read(&mut buf).await;
                tokio::time::sleep(delay).await;
                let _ = stream.write_all(answer).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn loopback_success_and_error() {
    let (addr, server) = serve_router().await;
    let store = StoreClient::new(Client::new(&format!("http://{addr}")).unwrap());
    let out = store
        .get_item(Default::default(), GetItemRequest { id: 9 })
        .await
        .unwrap();
    assert_eq!(out.item.id, 9);
    let err = store
        .get_item(Default::default(), GetItemRequest { id: 0 })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.cause()), (3000, Some("item 0")));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn connection_refused_is_request_failed() {
    // Bind then drop, so nothing listens on the port.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), -1, "{err}");
    assert!(
        err.cause().unwrap().starts_with("failed to send request: "),
        "{err}"
    );
}

#[tokio::test]
async fn server_closing_mid_response_is_request_failed() {
    let addr = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"item\":{\"id\":1,",
        Duration::ZERO,
    )
    .await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), -1, "{err}");
    assert!(
        err.cause()
            .unwrap()
            .starts_with("failed to read response body: "),
        "{err}"
    );
}

#[tokio::test]
async fn server_closing_before_answering_is_request_failed() {
    let addr = raw_server(b"", Duration::ZERO).await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), -1, "{err}");
}

#[tokio::test]
async fn html_over_the_wire_is_bad_response_with_status() {
    let addr = raw_server(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 26\r\nConnection: close\r\n\r\n<html>maintenance</html>\r\n",
        Duration::ZERO,
    )
    .await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.status()), (-5, 503), "{err}");
}

#[tokio::test]
async fn garbage_instead_of_http_is_request_failed() {
    let addr = raw_server(b"SSH-2.0-OpenSSH_9.2\r\n", Duration::ZERO).await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), -1, "{err}");
}

#[tokio::test]
async fn late_answer_times_out_and_the_pool_recovers() {
    let slow = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 28\r\n\r\n{\"item\":{\"id\":1,\"name\":\"a\"}}",
        Duration::from_millis(500),
    )
    .await;
    let client = Client::builder(&format!("http://{slow}"))
        .timeout(Some(Duration::from_millis(100)))
        .build()
        .unwrap();
    let err = client
        .call::<GetItem>(&GetItemRequest { id: 1 })
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err}");
    // Same client (same pool): a call with enough time succeeds.
    let out = client
        .call_with::<GetItem>(
            &GetItemRequest { id: 1 },
            CallOptions::new().timeout(Duration::from_secs(10)),
        )
        .await
        .unwrap();
    assert_eq!(out.item.name, "a");

    // After failures against a dead server, the pool serves a live one.
    let (addr, server) = serve_router().await;
    let client = Client::new(&format!("http://{addr}")).unwrap();
    for id in 1..=5 {
        assert_eq!(
            client
                .call::<GetItem>(&GetItemRequest { id })
                .await
                .unwrap()
                .item
                .id,
            id
        );
    }
    server.shutdown().await.unwrap();
}

/// A second service with a method of the same name, in its own module.
mod shelf {
    use super::Item;
    use webrpc_core::service;

    service! {
        /// A shelf.
        pub trait Shelf;
        /// Client.
        client ShelfClient;
        /// Mount.
        mount mount_shelf;
        name "Shelf";
        schema "store" "v0.0.1";
        /// Gets an item from the shelf.
        GetItem => get_item(#[derive(Debug, Clone, PartialEq, Default)] ShelfGetItemRequest {
            /// Which item.
            pub id: u64,
        }) -> #[derive(Debug, Clone, PartialEq, Default)] ShelfGetItemResponse {
            /// The item.
            pub item: Item,
        };
    }
}
#[tokio::test]
async fn each_method_keeps_its_own_path_across_calls_and_clients() {
    let seen = Captured::default();
    let answer = canned(
        200,
        "application/json",
        br#"{"item":{"id":1,"name":"a"}}"#,
        seen.clone(),
    );
    let prefixed = client_with(answer.clone());
    let plain = Client::builder("http://other.test:8080")
        .basepath("/api")
        .build_with(answer)
        .unwrap();
    let uri = |seen: &Captured| seen.lock().unwrap().take().unwrap().uri().to_string();
    for _ in 0..3 {
        prefixed
            .call::<GetItem>(&GetItemRequest { id: 1 })
            .await
            .unwrap();
        assert_eq!(uri(&seen), "http://example.test/prefix/rpc/Store/GetItem");
        prefixed
            .call::<shelf::GetItem>(&shelf::ShelfGetItemRequest { id: 1 })
            .await
            .unwrap();
        assert_eq!(uri(&seen), "http://example.test/prefix/rpc/Shelf/GetItem");
        plain
            .call::<shelf::GetItem>(&shelf::ShelfGetItemRequest { id: 1 })
            .await
            .unwrap();
        assert_eq!(uri(&seen), "http://other.test:8080/api/Shelf/GetItem");
        plain
            .call::<GetItem>(&GetItemRequest { id: 1 })
            .await
            .unwrap();
        assert_eq!(uri(&seen), "http://other.test:8080/api/Store/GetItem");
    }
}
