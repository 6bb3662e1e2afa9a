//! Shared code of the fuzz targets: the text format their inputs are written in, the
//! `Collections` method table, and the invariants every answer must satisfy.
//!
//! Input format (router and client_response targets; see docs/fuzzing.md):
//!
//! ```text
//! <first line>\n            router: "METHOD PATH"; client_response: "STATUS"
//! <name>: <value>\n         zero or more header lines
//! \n                        an empty line
//! <body bytes>              everything up to the next "\n~~~\n" (router) or the end
//! ```
//!
//! The router target takes up to [`MAX_REQUESTS`] such requests separated by `\n~~~\n`, sent
//! in order to one fresh server, so a seed can create a collection and then publish it.

use std::sync::OnceLock;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use sequence_metadata::MetadataError;
use serde_json::Value;
use webrpc_core::{BuiltinError, ErrorKind, Method, MethodVisitor, WebrpcHeader};

/// Requests per router input, at most.
pub const MAX_REQUESTS: usize = 8;

/// The separator between the requests of one router input.
pub const SEPARATOR: &[u8] = b"\n~~~\n";

/// A shared current-thread runtime (with timers: the router times body reads, the client
/// calls), created once per fuzzing process.
pub fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime")
    })
}

/// Calls `visitor` with the `Collections` method type at `index % 21`, in the order of the
/// generated method table ([`sequence_metadata::COLLECTIONS_SERVICE`]).
pub fn visit_method<V: MethodVisitor>(index: usize, visitor: &mut V) {
    struct Nth<'a, V> {
        target: usize,
        seen: usize,
        inner: &'a mut V,
    }
    impl<V: MethodVisitor> MethodVisitor for Nth<'_, V> {
        fn visit<M: Method>(&mut self) {
            if self.seen == self.target {
                self.inner.visit::<M>();
            }
            self.seen += 1;
        }
    }
    let target = index % sequence_metadata::COLLECTIONS_SERVICE.methods.len();
    sequence_metadata::for_each_collections_method(&mut Nth {
        target,
        seen: 0,
        inner: visitor,
    });
}

/// The index in [`sequence_metadata::COLLECTIONS_SERVICE`] of the method served at `path`,
/// if any.
pub fn method_index(path: &str) -> Option<usize> {
    let name = path.strip_prefix("/rpc/Collections/")?;
    sequence_metadata::COLLECTIONS_SERVICE
        .method_names()
        .position(|m| m == name)
}

/// One message of an input: its first line, its valid headers, its body.
#[derive(Debug)]
pub struct Message<'a> {
    /// The first line, without its `\n`.
    pub first_line: &'a [u8],
    /// The header lines that hold a valid name and value (others are skipped).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Everything after the empty line.
    pub body: Bytes,
}

/// Splits one message (see the module docs). A message without an empty line has an empty
/// body; one without a `\n` is all first line.
pub fn parse_message(data: &[u8]) -> Message<'_> {
    let (first_line, rest) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let mut headers = Vec::new();
    let mut rest = rest;
    loop {
        let (line, after) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &[][..]),
        };
        rest = after;
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = HeaderName::from_bytes(line[..colon].trim_ascii());
            let value = HeaderValue::from_bytes(line[colon + 1..].trim_ascii());
            if let (Ok(name), Ok(value)) = (name, value) {
                headers.push((name, value));
            }
        }
        if rest.is_empty() {
            break;
        }
    }
    Message {
        first_line,
        headers,
        body: Bytes::copy_from_slice(rest),
    }
}

/// Splits a router input into its requests (at most [`MAX_REQUESTS`]).
pub fn split_requests(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() < MAX_REQUESTS {
        match rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + SEPARATOR.len()..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

/// Whether `body` is JSON text: UTF-8, and a value in JSON's grammar. Number ranges and the
/// code points of `\u` escapes are not checked: JSON does not limit them, and like Go's
/// decoder, `serde_json` skips such values in fields it ignores (`{"x":1e999}` is a valid
/// envelope with no fields), though `serde_json::Value` cannot hold them.
pub fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

/// Whether `code` and `name` are an entry of webrpc's built-ins or of the schema's catalogue.
fn known_error(code: i32, name: &str) -> bool {
    match (
        BuiltinError::from_code(code),
        <MetadataError as ErrorKind>::from_code(code),
    ) {
        (Some(kind), _) => kind.name() == name,
        (None, Some(kind)) => kind.name() == name,
        (None, None) => false,
    }
}

/// Checks an answer of the Collections router: JSON `Content-Type`, a `Webrpc` header that
/// parses and names the schema, a JSON body; an error answer is a complete envelope whose
/// `status` is the HTTP status, with a catalogue code and name. Returns what is wrong.
pub fn check_router_answer(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), String> {
    let content_type = headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes);
    if content_type != Some(b"application/json") {
        return Err(format!("Content-Type is {content_type:?}"));
    }
    let webrpc = headers
        .get(webrpc_core::WEBRPC_HEADER_NAME)
        .ok_or("no Webrpc header")?
        .to_str()
        .map_err(|e| format!("Webrpc header is not text: {e}"))?;
    let parsed =
        WebrpcHeader::parse(webrpc).map_err(|e| format!("Webrpc header {webrpc:?}: {e}"))?;
    if parsed.schema_name != "sequence-metadata" {
        return Err(format!("Webrpc header names schema {}", parsed.schema_name));
    }
    let json: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e}): {body:?}"))?;
    let object = json.as_object().ok_or("body is not a JSON object")?;
    if status == StatusCode::OK {
        return Ok(());
    }
    if !(400..=599).contains(&status.as_u16()) {
        return Err(format!(
            "status {status} is neither 200 nor an error status"
        ));
    }
    let name = object
        .get("error")
        .and_then(Value::as_str)
        .ok_or("envelope without a string `error`")?;
    let code = object
        .get("code")
        .and_then(Value::as_i64)
        .ok_or("envelope without an integer `code`")?;
    object
        .get("msg")
        .and_then(Value::as_str)
        .ok_or("envelope without a string `msg`")?;
    match object.get("cause") {
        None | Some(Value::String(_)) => {}
        Some(other) => return Err(format!("`cause` is not a string: {other}")),
    }
    let envelope_status = object
        .get("status")
        .and_then(Value::as_u64)
        .ok_or("envelope without an integer `status`")?;
    if envelope_status != u64::from(status.as_u16()) {
        return Err(format!(
            "envelope status {envelope_status} but HTTP status {status}"
        ));
    }
    let code = i32::try_from(code).map_err(|_| format!("code {code} out of i32 range"))?;
    if !known_error(code, name) {
        return Err(format!("error {name} {code} is in no catalogue"));
    }
    Ok(())
}
