//! The JSON codec: encoding and decoding request, response and error bodies from collected
//! bytes (`serde_json::from_slice`, never a reader), with the reference `cause` texts.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{BuiltinError, WebrpcError};

/// `application/json`, the only content type of webrpc calls.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// Whether a `Content-Type` value is JSON as the reference server decides it: the value is
/// cut at `;`, trimmed, and compared to `application/json` ignoring case.
///
/// ```
/// use webrpc_core::codec::is_json_content_type;
/// assert!(is_json_content_type(b"application/json"));
/// assert!(is_json_content_type(b"Application/JSON ; charset=utf-8"));
/// assert!(!is_json_content_type(b"text/plain"));
/// assert!(!is_json_content_type(b""));
/// ```
pub fn is_json_content_type(value: &[u8]) -> bool {
    let media_type = match value.iter().position(|&b| b == b';') {
        Some(i) => &value[..i],
        None => value,
    };
    media_type
        .trim_ascii()
        .eq_ignore_ascii_case(JSON_CONTENT_TYPE.as_bytes())
}

/// Decodes a request object.
///
/// An empty body or `null` stands for "no arguments": it is decoded as `{}`, so methods whose
/// arguments are all optional (or that have none) accept what the Go client (`null`) and the
/// TS client (`{}`) send. When `{}` does not decode either (a required argument is missing),
/// the error is the one for the body as received. Unknown fields are ignored. A JSON array is
/// rejected (serde would otherwise read it as the struct's fields in order).
///
/// Errors are `WebrpcBadRequest` with cause `failed to unmarshal request data: …`.
pub fn decode_request<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebrpcError> {
    // serde accepts a struct written as a JSON array (`[1, true]`); the protocol does not.
    if body.trim_ascii_start().first() == Some(&b'[') {
        return Err(BuiltinError::WebrpcBadRequest.with_cause(
            "failed to unmarshal request data: expected a JSON object of arguments, found an array",
        ));
    }
    match serde_json::from_slice(body) {
        Ok(value) => Ok(value),
        Err(err) => {
            let trimmed = body.trim_ascii();
            if trimmed.is_empty() || trimmed == b"null" {
                if let Ok(value) = serde_json::from_slice(b"{}") {
                    return Ok(value);
                }
            }
            Err(BuiltinError::WebrpcBadRequest
                .with_cause(format!("failed to unmarshal request data: {err}")))
        }
    }
}

/// Encodes a value as JSON bytes.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, serde_json::Error> {
    encode_with_capacity(value, 256)
}

/// Encodes a value as JSON bytes into a buffer of `capacity` bytes to start with.
pub fn encode_with_capacity<T: Serialize + ?Sized>(
    value: &T,
    capacity: usize,
) -> Result<Bytes, serde_json::Error> {
    let mut buf = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut buf, value)?;
    Ok(Bytes::from(buf))
}

/// Encodes a response object; a value that cannot be encoded (a map with non-string keys, a
/// failing `Serialize` impl) is `WebrpcBadResponse` with cause
/// `failed to marshal json response: …`.
pub fn encode_response<T: Serialize + ?Sized>(value: &T) -> Result<Bytes, WebrpcError> {
    encode_response_with_capacity(value, 256)
}

/// [`encode_response`] into a buffer of `capacity` bytes to start with.
pub fn encode_response_with_capacity<T: Serialize + ?Sized>(
    value: &T,
    capacity: usize,
) -> Result<Bytes, WebrpcError> {
    encode_with_capacity(value, capacity).map_err(|err| {
        BuiltinError::WebrpcBadResponse
            .with_cause(format!("failed to marshal json response: {err}"))
    })
}

/// Encodes an error envelope.
pub fn encode_error(err: &WebrpcError) -> Bytes {
    // Serializing the envelope (strings and integers) cannot fail.
    encode(err).unwrap_or_else(|_| Bytes::from_static(b"{}"))
}

/// Decodes a success response object; failure is `WebrpcBadResponse` with cause
/// `failed to unmarshal json response: …`.
pub fn decode_response<T: DeserializeOwned>(body: &[u8]) -> Result<T, WebrpcError> {
    serde_json::from_slice(body).map_err(|err| {
        BuiltinError::WebrpcBadResponse
            .with_cause(format!("failed to unmarshal json response: {err}"))
    })
}

/// Decodes the body of an error response (any non-success status) into the error it carries.
///
/// - a JSON object becomes the error with every field as received; a missing `code` is 0 and
///   a missing (or zero) `status` is the HTTP status of the response;
/// - anything else (HTML from a proxy, truncated JSON, a JSON value that is not an envelope,
///   bytes that are not UTF-8) becomes `WebrpcBadResponse` with cause
///   `failed to unmarshal server error: …`, keeping the real HTTP status rather than the
///   reference Go client's 500.
pub fn decode_error_response(http_status: u16, body: &[u8]) -> WebrpcError {
    // `from_slice` checks UTF-8 only in the strings it keeps: an object with invalid UTF-8 in
    // a field the envelope ignores would pass for an envelope with code 0 (found by the
    // `client_response` fuzz target). Error bodies are off the hot path, so check it all.
    let decoded = std::str::from_utf8(body)
        .map_err(|err| format!("invalid UTF-8: {err}"))
        .and_then(|text| serde_json::from_str::<WebrpcError>(text).map_err(|err| err.to_string()));
    match decoded {
        Ok(err) if err.status() == 0 => err.with_status(http_status),
        Ok(err) => err,
        Err(err) => BuiltinError::WebrpcBadResponse
            .with_cause(format!("failed to unmarshal server error: {err}"))
            .with_status(http_status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Args {
        project_id: Option<u64>,
        collection_id: u64,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct NoArgs {}

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Optional {
        #[serde(default)]
        page: Option<u32>,
    }

    #[test]
    fn empty_and_null_mean_no_arguments() {
        for body in [&b""[..], b"null", b" null ", b"{}", b"  "] {
            assert_eq!(decode_request::<NoArgs>(body).unwrap(), NoArgs {});
            assert_eq!(
                decode_request::<Optional>(body).unwrap(),
                Optional { page: None }
            );
        }
    }

    #[test]
    fn missing_required_argument_names_it() {
        let err = decode_request::<Args>(b"{\"projectId\":1}").unwrap_err();
        assert_eq!(err.code(), -4);
        let cause = err.cause().unwrap();
        assert!(
            cause.starts_with("failed to unmarshal request data: "),
            "{cause}"
        );
        assert!(cause.contains("collectionId"), "{cause}");
        // An empty body for a method with required arguments reports the empty body.
        let err = decode_request::<Args>(b"").unwrap_err();
        assert!(err.cause().unwrap().contains("EOF"), "{err}");
    }

    #[test]
    fn unknown_fields_ignored_wrong_types_rejected() {
        let a: Args = decode_request(b"{\"collectionId\":888,\"bogus\":[1,2]}").unwrap();
        assert_eq!(a.collection_id, 888);
        assert!(decode_request::<Args>(b"{\"collectionId\":\"888\"}").is_err());
        assert!(decode_request::<Args>(b"{\"collectionId\":-1}").is_err());
        assert!(decode_request::<Args>(b"{\"collectionId\":18446744073709551616}").is_err());
        assert!(decode_request::<Args>(b"{\"collectionId\":1} x").is_err());
    }

    #[test]
    fn error_bodies() {
        let err = decode_error_response(
            400,
            br#"{"error":"NotFound","code":3000,"msg":"Resource not found","status":400}"#,
        );
        assert_eq!(
            (err.name(), err.code(), err.status(), err.cause()),
            ("NotFound", 3000, 400, None)
        );
        let err = decode_error_response(418, br#"{"msg":"x"}"#);
        assert_eq!((err.code(), err.status()), (0, 418));
        let err = decode_error_response(502, b"<html>Bad Gateway</html>");
        assert_eq!((err.code(), err.status()), (-5, 502));
        assert!(err
            .cause()
            .unwrap()
            .starts_with("failed to unmarshal server error: "));
        let err = decode_error_response(500, b"[1,2]");
        assert_eq!(err.code(), -5);
    }
}
