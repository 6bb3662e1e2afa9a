//! The HTTP surface around the webrpc API: CORS for browsers (preflights answered before
//! auth, allowed origins), `GET /health`, and the same through the real binary.
//!
//! ```text
//! cargo test -p metadata-server --test metadata_http
//! ```

mod reliability_common;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use tower::ServiceExt;

use metadata_server::{AppConfig, JwtAuth, MemoryStore, MetadataApp};
use reliability_common::{eventually, raw_exchange, ServerProcess, WAIT};

fn app(cors_origins: &[&str]) -> MetadataApp<MemoryStore> {
    let config = AppConfig {
        cors_origins: cors_origins
            .iter()
            .map(|o| HeaderValue::from_str(o).unwrap())
            .collect(),
        ..AppConfig::default()
    };
    MetadataApp::with_config(
        Arc::new(MemoryStore::new()),
        JwtAuth::new(b"cors test secret"),
        "http://metadata.test",
        config,
    )
}

async fn send(app: &MetadataApp<MemoryStore>, request: Request<Full<Bytes>>) -> Response<Bytes> {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

/// The preflight of issue #13: what sequence.js's fetch sends before its first call.
fn preflight(origin: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::OPTIONS)
        .uri("/rpc/Collections/GetCollection")
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,authorization,webrpc",
        )
        .body(Full::default())
        .unwrap()
}

fn header<'a>(response: &'a Response<Bytes>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

fn listed(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .collect()
}

#[tokio::test]
async fn a_browser_preflight_is_answered_before_auth_with_the_sdk_headers_allowed() {
    let app = app(&[]);
    let response = send(&app, preflight("http://localhost:3000")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    assert!(listed(header(&response, "access-control-allow-methods")).contains(&"post".into()));
    let allowed = listed(header(&response, "access-control-allow-headers"));
    for name in ["authorization", "content-type", "webrpc", "x-access-key"] {
        assert!(allowed.contains(&name.to_owned()), "{name} in {allowed:?}");
    }
    assert!(response.body().is_empty());
}

#[tokio::test]
async fn an_upload_preflight_is_answered_for_put_without_a_token() {
    let app = app(&[]);
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri("/projects/1/collections/1/assets/1/upload")
        .header("origin", "http://localhost:3000")
        .header("access-control-request-method", "PUT")
        .header("access-control-request-headers", "authorization")
        .body(Full::default())
        .unwrap();
    let response = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    assert!(listed(header(&response, "access-control-allow-methods")).contains(&"put".into()));
    assert!(
        listed(header(&response, "access-control-allow-headers")).contains(&"authorization".into())
    );
}

#[tokio::test]
async fn a_cross_origin_call_exposes_the_webrpc_header_even_when_auth_rejects_it() {
    let app = app(&[]);
    let request = Request::builder()
        .method(Method::POST)
        .uri("/rpc/Collections/GetCollection")
        .header("origin", "http://localhost:3000")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{\"collectionId\":1}")))
        .unwrap();
    let response = send(&app, request).await;
    // No token: the webrpc error, readable by the page because CORS headers are on it.
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    assert_eq!(
        listed(header(&response, "access-control-expose-headers")),
        ["webrpc"]
    );
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["error"], "Unauthorized");
}

#[tokio::test]
async fn a_call_without_origin_gets_the_same_answer_without_cors_headers() {
    let app = app(&[]);
    let call = |origin: Option<&str>, path: &str| {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", "application/json");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request
            .body(Full::new(Bytes::from_static(b"{\"collectionId\":1}")))
            .unwrap()
    };
    for path in [
        "/rpc/Collections/GetCollection",
        "/rpc/Collections/NoSuchMethod",
        "/rpc/Other/GetCollection",
    ] {
        let browser = send(&app, call(Some("http://localhost:3000"), path)).await;
        let plain = send(&app, call(None, path)).await;
        assert_eq!(plain.status(), browser.status(), "{path}");
        assert_eq!(plain.body(), browser.body(), "{path}");
        assert_eq!(
            header(&plain, "webrpc"),
            header(&browser, "webrpc"),
            "{path}"
        );
        assert_eq!(
            header(&browser, "access-control-allow-origin"),
            "*",
            "{path}"
        );
        // CORS headers are for browsers; a client that sends no Origin gets none.
        for (name, _) in plain.headers() {
            assert!(
                !name.as_str().starts_with("access-control-") && name != "vary",
                "{path}: {name}"
            );
        }
    }
}

#[tokio::test]
async fn a_listed_origin_is_allowed_and_any_other_gets_no_cors_grant() {
    let app = app(&["http://localhost:3000", "https://app.example.com"]);
    let allowed = send(&app, preflight("https://app.example.com")).await;
    assert_eq!(
        header(&allowed, "access-control-allow-origin"),
        "https://app.example.com"
    );
    assert!(listed(header(&allowed, "vary")).contains(&"origin".into()));

    let refused = send(&app, preflight("https://evil.example")).await;
    // Still no 401 (the preflight never reaches auth), but no grant: the browser stops.
    assert_ne!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn health_answers_ok_with_the_version_without_a_token() {
    let app = app(&[]);
    let request = Request::get("/health").body(Full::default()).unwrap();
    let response = send(&app, request).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn the_binary_prints_version_cors_and_health_and_answers_preflights_over_tcp() {
    let server = ServerProcess::start(
        &[
            "--store",
            "memory",
            "--cors-origin",
            "http://localhost:3000",
        ],
        "info",
    )
    .await;
    // The startup text ends with the curl lines; wait for them (bounded).
    assert!(eventually(WAIT, || server.printed().contains("curl -sS http")).await);
    let banner = server.printed();
    assert!(
        banner.contains(&format!("version:     {}", env!("CARGO_PKG_VERSION"))),
        "{banner}"
    );
    assert!(
        banner.contains("CORS:        http://localhost:3000"),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("health:      {}/health", server.base_url)),
        "{banner}"
    );

    let health = raw_exchange(
        server.addr,
        b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.contains("\"status\":\"ok\""), "{health}");

    let preflight = raw_exchange(
        server.addr,
        b"OPTIONS /rpc/Collections/GetCollection HTTP/1.1\r\nhost: x\r\n\
          origin: http://localhost:3000\r\naccess-control-request-method: POST\r\n\
          access-control-request-headers: content-type,authorization,webrpc\r\n\
          connection: close\r\n\r\n",
    )
    .await
    .to_ascii_lowercase();
    assert!(preflight.starts_with("http/1.1 200"), "{preflight}");
    assert!(
        preflight.contains("access-control-allow-origin: http://localhost:3000"),
        "{preflight}"
    );
}
