//! A small test service exercising every server path.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize, Serializer};
use tower::ServiceExt;
use webrpc_core::{error_catalogue, service, RequestContext, WebrpcError};
use webrpc_server::Router;

error_catalogue! {
    /// Errors of the test schema.
    pub enum TestError {
        /// Nothing there.
        NotFound = (3000, "Resource not found", 400),
        /// Slow down.
        RateLimited = (2005, "Rate limited", 429),
    }
}

/// A value whose encoding always fails, to reach the `WebrpcBadResponse` path.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Unencodable;

impl Serialize for Unencodable {
    fn serialize<S: Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this value refuses to be encoded",
        ))
    }
}

service! {
    /// The test service.
    pub trait Test;
    /// Client of [`Test`].
    client TestClient;
    /// Mounts [`Test`].
    mount mount_test;
    name "Test";
    schema "webrpc-rs-test" "v1.2.3";

    /// Echoes its arguments.
    Echo => echo(#[derive(Debug, Clone, PartialEq, Default)] EchoRequest {
        pub value: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub label: Option<String>,
    }) -> #[derive(Debug, Clone, PartialEq, Default)] EchoResponse {
        pub value: u64,
        pub label: Option<String>,
        pub seen: HashMap<String, String>,
    };
    /// No arguments, no returns.
    Ping => ping(#[derive(Debug, Clone, PartialEq, Default)] PingRequest {}) -> #[derive(Debug, Clone, PartialEq, Default)] PingResponse {};
    /// Fails with the error whose code it is given.
    Fail => fail(#[derive(Debug, Clone, PartialEq, Default)] FailRequest { pub code: i32 }) -> #[derive(Debug, Clone, PartialEq, Default)] FailResponse {};
    /// Fails with a plain (non-webrpc) error.
    Plain => plain(#[derive(Debug, Clone, PartialEq, Default)] PlainRequest {}) -> #[derive(Debug, Clone, PartialEq, Default)] PlainResponse {};
    /// Panics.
    Panic => panic(#[derive(Debug, Clone, PartialEq, Default)] PanicRequest {}) -> #[derive(Debug, Clone, PartialEq, Default)] PanicResponse {};
    /// Returns a value that cannot be encoded.
    BadEncode => bad_encode(#[derive(Debug, Clone, PartialEq, Default)] BadEncodeRequest {}) -> #[derive(Debug, Clone, PartialEq, Default)] BadEncodeResponse { pub value: Unencodable };
    /// Sleeps, then answers.
    Sleep => sleep(#[derive(Debug, Clone, PartialEq, Default)] SleepRequest { pub millis: u64 }) -> #[derive(Debug, Clone, PartialEq, Default)] SleepResponse { pub slept: u64 };
    /// Returns an error with a status that is not an error status.
    WeirdStatus => weird_status(#[derive(Debug, Clone, PartialEq, Default)] WeirdStatusRequest {}) -> #[derive(Debug, Clone, PartialEq, Default)] WeirdStatusResponse {};
}

/// The implementation used by the tests.
#[derive(Debug, Default)]
pub struct TestImpl;

impl Test for TestImpl {
    type Ctx = RequestContext;

    async fn echo(
        &self,
        ctx: RequestContext,
        req: EchoRequest,
    ) -> Result<EchoResponse, WebrpcError> {
        let mut seen = HashMap::new();
        if let Some(v) = ctx.extensions().get::<u32>() {
            seen.insert("extension".to_owned(), v.to_string());
        }
        if let Some(v) = ctx.headers().get("x-test") {
            seen.insert(
                "x-test".to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            );
        }
        if let Some(info) = ctx.method() {
            seen.insert(
                "method".to_owned(),
                format!("{}.{}", info.service, info.method),
            );
        }
        Ok(EchoResponse {
            value: req.value,
            label: req.label,
            seen,
        })
    }
    async fn ping(&self, _: RequestContext, _: PingRequest) -> Result<PingResponse, WebrpcError> {
        Ok(PingResponse {})
    }
    async fn fail(&self, _: RequestContext, req: FailRequest) -> Result<FailResponse, WebrpcError> {
        match req.code {
            3000 => Err(TestError::NotFound.with_cause("no such thing")),
            2005 => Err(TestError::RateLimited.err()),
            other => Err(WebrpcError::new("Custom", other, "custom error", 418)),
        }
    }
    async fn plain(
        &self,
        _: RequestContext,
        _: PlainRequest,
    ) -> Result<PlainResponse, WebrpcError> {
        unreachable!("replaced by a closure route in tests")
    }
    async fn panic(
        &self,
        _: RequestContext,
        _: PanicRequest,
    ) -> Result<PanicResponse, WebrpcError> {
        panic!("boom: secret internal detail")
    }
    async fn bad_encode(
        &self,
        _: RequestContext,
        _: BadEncodeRequest,
    ) -> Result<BadEncodeResponse, WebrpcError> {
        Ok(BadEncodeResponse { value: Unencodable })
    }
    async fn sleep(
        &self,
        _: RequestContext,
        req: SleepRequest,
    ) -> Result<SleepResponse, WebrpcError> {
        tokio::time::sleep(Duration::from_millis(req.millis)).await;
        Ok(SleepResponse { slept: req.millis })
    }
    async fn weird_status(
        &self,
        _: RequestContext,
        _: WeirdStatusRequest,
    ) -> Result<WeirdStatusResponse, WebrpcError> {
        Err(WebrpcError::new("Weird", 77, "weird", 200))
    }
}

/// The test router: the trait implementation, with `Plain` replaced by a closure returning
/// a non-webrpc error.
pub fn router() -> Router {
    mount_test(std::sync::Arc::new(TestImpl), Router::new()).route(
        Plain,
        |_ctx: RequestContext, _req: PlainRequest| async move {
            Err::<PlainResponse, _>(std::io::Error::other("disk on fire"))
        },
    )
}

/// What a test sees of a response.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the response is the error envelope with this name, code and status, and that
    /// its `status` field equals the HTTP status. Returns the cause.
    pub fn assert_error(&self, name: &str, code: i64, status: u16) -> String {
        let v = self.json();
        assert_eq!(self.status, status, "HTTP status; body {v}");
        assert_eq!(v["error"], name, "{v}");
        assert_eq!(v["code"], code, "{v}");
        assert_eq!(v["status"], status, "{v}");
        assert!(v["msg"].is_string(), "{v}");
        assert_eq!(
            self.headers["content-type"], "application/json",
            "content-type of {v}"
        );
        assert!(self.headers.contains_key("webrpc"), "Webrpc header on {v}");
        v["cause"].as_str().unwrap_or_default().to_owned()
    }
}

/// Sends a raw request straight into the router (no socket).
pub async fn send(
    router: &Router,
    method: &str,
    path: &str,
    content_type: Option<&str>,
    body: &'static [u8],
) -> Answer {
    let mut builder = Request::builder().method(method).uri(path);
    if let Some(ct) = content_type {
        builder = builder.header("content-type", ct);
    }
    let request = builder.body(Full::new(Bytes::from_static(body))).unwrap();
    collect(router.clone().oneshot(request).await.unwrap()).await
}

pub async fn collect<B>(response: Response<B>) -> Answer
where
    B: http_body::Body,
    B::Error: std::fmt::Debug,
{
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes(),
    }
}
