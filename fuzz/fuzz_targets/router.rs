//! The server: arbitrary requests (method, path, headers, body) into the Collections router
//! over the local Metadata server's in-memory implementation. Every answer must be a
//! well-formed envelope whose `status` equals the HTTP status, checked in the reference
//! order (route, then HTTP method, then content type); a 200 must decode as the method's
//! response object; nothing may panic.
//!
//! Input: up to 8 requests separated by `\n~~~\n`, each `METHOD PATH\n`, header lines,
//! an empty line, the body. A path `#N` stands for `/rpc/Collections/<COLLECTIONS_SERVICE.methods[N % 21]>`.
//! A header line `x-fuzz-anonymous: 1` sends the request without an authenticated project.
//! Each input runs against a fresh store, so inputs are reproducible.

#![no_main]

use std::sync::Arc;

use bytes::Bytes;
use metadata_server::{AuthProject, MemoryStore, MetadataService};
use http::header::{ALLOW, CONTENT_TYPE};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;
use webrpc_core::codec::{decode_response, is_json_content_type};
use webrpc_fuzz::{check_router_answer, method_index, parse_message, runtime, split_requests};

const PROJECT: u64 = 30957;

fn path_of(raw: &str) -> String {
    match raw.strip_prefix('#').and_then(|n| n.parse::<usize>().ok()) {
        Some(n) => {
            let methods = sequence_metadata::COLLECTIONS_SERVICE.methods;
            methods[n % methods.len()].path("/rpc/")
        }
        None => raw.to_owned(),
    }
}

/// Checks that a 200 answer's body decodes as the visited method's response object.
struct DecodesAsResponse<'a> {
    body: &'a [u8],
}

impl webrpc_core::MethodVisitor for DecodesAsResponse<'_> {
    fn visit<M: webrpc_core::Method>(&mut self) {
        if let Err(err) = decode_response::<M::Response>(self.body) {
            panic!(
                "{}: 200 answer does not decode: {err}\n{:?}",
                M::NAME,
                String::from_utf8_lossy(self.body)
            );
        }
    }
}

/// Whether to print each exchange (`WEBRPC_FUZZ_TRACE=1`), to see what a seed or a crash
/// input does.
fn trace() -> bool {
    static TRACE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TRACE.get_or_init(|| std::env::var_os("WEBRPC_FUZZ_TRACE").is_some())
}

fuzz_target!(|data: &[u8]| {
    let service = MetadataService::new(Arc::new(MemoryStore::new()), "http://127.0.0.1:4242");
    let router = sequence_metadata::router(Arc::new(service));
    runtime().block_on(async move {
        for raw in split_requests(data) {
            let message = parse_message(raw);
            let Ok(line) = std::str::from_utf8(message.first_line) else {
                continue;
            };
            let (method, path) = line.split_once(' ').unwrap_or((line, "#5"));
            let Ok(method) = Method::from_bytes(method.as_bytes()) else {
                continue;
            };
            let Ok(uri) = path_of(path).parse::<Uri>() else {
                continue;
            };
            let mut request = Request::new(Full::new(message.body.clone()));
            *request.method_mut() = method.clone();
            *request.uri_mut() = uri.clone();
            let mut anonymous = false;
            for (name, value) in message.headers {
                if name == "x-fuzz-anonymous" {
                    anonymous = true;
                }
                request.headers_mut().append(name, value);
            }
            if !anonymous {
                request.extensions_mut().insert(AuthProject {
                    project_id: PROJECT,
                    account: None,
                });
            }
            let json_request = request
                .headers()
                .get(CONTENT_TYPE)
                .is_some_and(|v| is_json_content_type(v.as_bytes()));

            let response = match router.clone().oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let (parts, body) = response.into_parts();
            let body: Bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(never) => match never {},
            };
            if trace() {
                eprintln!(
                    "{method} {uri} -> {} {}",
                    parts.status,
                    String::from_utf8_lossy(&body)
                );
            }
            if let Err(problem) = check_router_answer(parts.status, &parts.headers, &body) {
                panic!(
                    "{problem}\nrequest: {method} {uri}\nanswer: {} {:?}",
                    parts.status,
                    String::from_utf8_lossy(&body)
                );
            }

            // The reference order of the checks.
            let index = method_index(uri.path());
            let expected = match index {
                None => Some(StatusCode::NOT_FOUND),
                Some(_) if method != Method::POST => Some(StatusCode::METHOD_NOT_ALLOWED),
                Some(_) if !json_request => Some(StatusCode::BAD_REQUEST),
                Some(_) => None,
            };
            if let Some(expected) = expected {
                assert_eq!(parts.status, expected, "{method} {uri}: {body:?}");
            }
            if parts.status == StatusCode::METHOD_NOT_ALLOWED {
                assert_eq!(
                    parts.headers.get(ALLOW).map(|v| v.as_bytes()),
                    Some(&b"POST"[..])
                );
            }
            if anonymous && index.is_some() && parts.status == StatusCode::OK {
                panic!("{method} {uri} answered 200 without an authenticated project");
            }
            // A success decodes as the method's response object, as a client would read it.
            if let (Some(index), StatusCode::OK) = (index, parts.status) {
                webrpc_fuzz::visit_method(index, &mut DecodesAsResponse { body: &body });
            }
        }
    });
});
