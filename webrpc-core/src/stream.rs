//! Streaming methods (`=> stream (...)`): the method descriptor, the message stream type and
//! the ndjson framing both sides speak, with no I/O.
//!
//! A stream call is an ordinary webrpc request; the answer, once open, is a `200` with
//! `Content-Type: application/x-ndjson` whose body is a sequence of lines:
//!
//! | line | meaning |
//! |---|---|
//! | `\n` (empty) | a ping: sent at once when the stream opens, then every keep-alive interval |
//! | `{"message":{…}}\n` | one message, keyed by the method's output names |
//! | `{"webrpcError":{"error":…,"code":…,"msg":…,"cause":…,"status":…}}\n` | the stream failed; nothing follows |
//!
//! and the body simply ending is the clean end. This is what gen-golang's server writes and
//! what its client and gen-typescript's read (see `docs/protocol.md`).
//!
//! ```
//! use webrpc_core::stream::{decode_line, encode_error_line, encode_message, Line};
//! use webrpc_core::BuiltinError;
//!
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! struct Tick { n: u32 }
//!
//! assert_eq!(&encode_message(&Tick { n: 1 }).unwrap()[..], b"{\"n\":1}\n");
//! let err = BuiltinError::WebrpcInternalError.with_cause("db down");
//! assert_eq!(
//!     &encode_error_line(&err)[..],
//!     &b"{\"webrpcError\":{\"error\":\"WebrpcInternalError\",\"code\":-7,\"msg\":\"internal error\",\"cause\":\"db down\",\"status\":500}}\n"[..]
//! );
//! assert!(matches!(decode_line::<Tick>(b"\n").unwrap(), Line::Ping));
//! assert!(matches!(decode_line::<Tick>(b"{\"n\":2}\n").unwrap(), Line::Message(Tick { n: 2 })));
//! assert!(matches!(decode_line::<Tick>(&encode_error_line(&err)).unwrap(), Line::Error(e) if e.code() == -7));
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{BuiltinError, WebrpcError};
use crate::method::MethodInfo;

/// `application/x-ndjson`, the content type of an open stream.
pub const NDJSON_CONTENT_TYPE: &str = "application/x-ndjson";

/// The ping line: a bare newline.
pub const PING: &[u8] = b"\n";

/// The key of the error line, `{"webrpcError":{…}}`.
pub const ERROR_LINE_KEY: &str = "webrpcError";

/// Default interval between pings of an open stream: 10 seconds, gen-golang's
/// `StreamKeepAliveInterval`.
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// Default time a client waits for any byte of an open stream before it counts the stream
/// as lost: 11 seconds, one more than the ping interval, as gen-typescript.
pub const DEFAULT_INACTIVITY_TIMEOUT: Duration = Duration::from_secs(11);

/// One streaming method of a service (`- M(args) => stream (outputs)`), described at the
/// type level, like [`Method`](crate::Method) for ordinary methods.
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use webrpc_core::stream::StreamMethod;
///
/// #[derive(Serialize, Deserialize)]
/// struct WatchRequest { topic: String }
/// #[derive(Serialize, Deserialize)]
/// struct WatchMessage { event: String }
///
/// struct Watch;
/// impl StreamMethod for Watch {
///     const SERVICE: &'static str = "Events";
///     const NAME: &'static str = "Watch";
///     const SCHEMA: &'static str = "events";
///     const SCHEMA_VERSION: &'static str = "v1.0.0";
///     const WEBRPC_HEADER: &'static str = webrpc_core::webrpc_header!("events", "v1.0.0");
///     type Request = WatchRequest;
///     type Message = WatchMessage;
/// }
/// assert_eq!(Watch::INFO.path("/rpc/"), "/rpc/Events/Watch");
/// ```
pub trait StreamMethod: Send + Sync + 'static {
    /// The service's name, the first path segment after the basepath.
    const SERVICE: &'static str;
    /// The method's name, the last path segment.
    const NAME: &'static str;
    /// The schema's name.
    const SCHEMA: &'static str;
    /// The schema's version.
    const SCHEMA_VERSION: &'static str;
    /// The `Webrpc` header value of the schema (see [`webrpc_header!`](crate::webrpc_header)).
    const WEBRPC_HEADER: &'static str;
    /// Both names, as a value.
    const INFO: MethodInfo = MethodInfo {
        service: Self::SERVICE,
        method: Self::NAME,
    };
    /// The request object: one field per argument, keyed by the schema's argument names.
    type Request: Serialize + DeserializeOwned + Send + Sync + 'static;
    /// One message of the stream: one field per output, keyed by the output names
    /// (`{"message":{…}}` for `=> stream (message: Message)`).
    type Message: Serialize + DeserializeOwned + Send + 'static;
}

/// A stream of messages or errors, boxed, as a service trait's stream method returns it and
/// as a client hands it out.
///
/// An `Err` item is the last one: producers (the server's router, the client) end the stream
/// after it, and consumers should stop there too.
pub struct MessageStream<T> {
    inner: Pin<Box<dyn Stream<Item = Result<T, WebrpcError>> + Send>>,
}

impl<T> MessageStream<T> {
    /// Boxes any stream of results.
    pub fn new<S>(stream: S) -> Self
    where
        S: Stream<Item = Result<T, WebrpcError>> + Send + 'static,
    {
        MessageStream {
            inner: Box::pin(stream),
        }
    }

    /// A stream that yields `err` and ends: how a trait implementation reports an error in
    /// the stream rather than before it (as gen-golang does with every handler error).
    pub fn from_error(err: WebrpcError) -> Self
    where
        T: Send + 'static,
    {
        MessageStream::new(Once(Some(Err(err))))
    }
}

impl<T> Stream for MessageStream<T> {
    type Item = Result<T, WebrpcError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl<T> fmt::Debug for MessageStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageStream").finish_non_exhaustive()
    }
}

/// The future a service trait's stream method returns: the open stream of messages, or the
/// error that prevented it, and `Send`, so a server can run it on any thread.
///
/// A shorthand for `impl Future<Output = Result<MessageStream<T>, WebrpcError>> + Send`, with
/// a blanket implementation: implement a generated trait's stream methods with `async fn`s.
///
/// ```
/// use webrpc_core::stream::{MessageStream, StreamFuture};
/// use webrpc_core::BuiltinError;
///
/// fn closed() -> impl StreamFuture<u32> {
///     async { Err::<MessageStream<u32>, _>(BuiltinError::WebrpcInternalError.with_cause("closed")) }
/// }
/// # let _ = closed();
/// ```
pub trait StreamFuture<T>: Future<Output = Result<MessageStream<T>, WebrpcError>> + Send {}

impl<T, F> StreamFuture<T> for F where
    F: Future<Output = Result<MessageStream<T>, WebrpcError>> + Send
{
}

/// A stream of one item.
struct Once<T>(Option<T>);

impl<T> Unpin for Once<T> {}

impl<T> Stream for Once<T> {
    type Item = T;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut TaskContext<'_>) -> Poll<Option<T>> {
        Poll::Ready(self.get_mut().0.take())
    }
}

/// Encodes one message as its line: the JSON object, then `\n`. A value that cannot be
/// encoded is `WebrpcBadResponse`, cause `failed to marshal json response: …`.
pub fn encode_message<T: Serialize + ?Sized>(message: &T) -> Result<Bytes, WebrpcError> {
    encode_message_with_capacity(message, 256)
}

/// [`encode_message`] into a buffer of `capacity` bytes to start with.
pub fn encode_message_with_capacity<T: Serialize + ?Sized>(
    message: &T,
    capacity: usize,
) -> Result<Bytes, WebrpcError> {
    let mut buf = Vec::with_capacity(capacity);
    serde_json::to_writer(&mut buf, message).map_err(|err| {
        BuiltinError::WebrpcBadResponse
            .with_cause(format!("failed to marshal json response: {err}"))
    })?;
    buf.push(b'\n');
    Ok(Bytes::from(buf))
}

/// Encodes the last line of a failed stream: `{"webrpcError":{…}}\n`, the envelope in its
/// own key order (`error`, `code`, `msg`, `cause` when there is one, `status`). The status
/// is the error's own, although the response carrying it is a 200.
pub fn encode_error_line(err: &WebrpcError) -> Bytes {
    let mut buf = Vec::with_capacity(128);
    buf.extend_from_slice(b"{\"webrpcError\":");
    // Serializing the envelope (strings and integers) cannot fail.
    if serde_json::to_writer(&mut buf, err).is_err() {
        buf.truncate(15);
        buf.extend_from_slice(b"{}");
    }
    buf.extend_from_slice(b"}\n");
    Bytes::from(buf)
}

/// What one line of a stream is.
#[derive(Debug, Clone)]
pub enum Line<T> {
    /// An empty line: a ping, to be skipped.
    Ping,
    /// A message.
    Message(T),
    /// The error that ended the stream.
    Error(WebrpcError),
}

#[derive(Deserialize)]
struct ErrorLine {
    #[serde(rename = "webrpcError")]
    webrpc_error: Option<WebrpcError>,
}

/// Decodes one line (with or without its `\n`; a `\r` before it is allowed).
///
/// A line holding only whitespace is a ping; an object with a `webrpcError` member is the
/// error line (a missing `status` in it is 400); anything else is decoded as a message.
/// A line that is neither is `WebrpcBadResponse`, cause `failed to unmarshal stream message: …`.
pub fn decode_line<T: DeserializeOwned>(line: &[u8]) -> Result<Line<T>, WebrpcError> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return Ok(Line::Ping);
    }
    // Only lines naming the key are tried as an error line, so a message costs one search,
    // not a second parse; and the check comes first, so a message type whose fields are all
    // optional cannot swallow an error line.
    if contains(line, b"\"webrpcError\"") {
        if let Ok(ErrorLine {
            webrpc_error: Some(err),
        }) = serde_json::from_slice::<ErrorLine>(line)
        {
            let err = if err.status() == 0 {
                err.with_status(400)
            } else {
                err
            };
            return Ok(Line::Error(err));
        }
    }
    serde_json::from_slice(line)
        .map(Line::Message)
        .map_err(|err| {
            BuiltinError::WebrpcBadResponse
                .with_cause(format!("failed to unmarshal stream message: {err}"))
        })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Splits the bytes of a stream body into lines, holding at most `limit` bytes of a line
/// that has not ended yet: the client's reader, without the I/O.
///
/// ```
/// use webrpc_core::stream::LineBuffer;
///
/// let mut lines = LineBuffer::new(1024);
/// lines.push(b"\n{\"a\":");
/// assert_eq!(lines.next_line().unwrap().as_deref(), Some(&b"\n"[..]));
/// assert_eq!(lines.next_line().unwrap(), None);
/// lines.push(b"1}\n");
/// assert_eq!(lines.next_line().unwrap().as_deref(), Some(&b"{\"a\":1}\n"[..]));
/// assert!(lines.finish().is_ok());
/// ```
#[derive(Debug)]
pub struct LineBuffer {
    buf: BytesMut,
    /// How far `buf` has been searched for `\n` already.
    scanned: usize,
    limit: usize,
}

impl LineBuffer {
    /// A buffer for lines of at most `limit` bytes (the `\n` included).
    pub fn new(limit: usize) -> Self {
        LineBuffer {
            buf: BytesMut::new(),
            scanned: 0,
            limit,
        }
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete line, `\n` included, if one is in. A line longer than the limit
    /// (complete or not) is `WebrpcBadResponse`; the buffer is then cleared.
    pub fn next_line(&mut self) -> Result<Option<Bytes>, WebrpcError> {
        match self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
            Some(i) => {
                let end = self.scanned + i + 1;
                self.scanned = 0;
                if end > self.limit {
                    self.buf.clear();
                    return Err(self.too_long());
                }
                Ok(Some(self.buf.split_to(end).freeze()))
            }
            None => {
                self.scanned = self.buf.len();
                if self.buf.len() > self.limit {
                    self.buf.clear();
                    self.scanned = 0;
                    return Err(self.too_long());
                }
                Ok(None)
            }
        }
    }

    /// Bytes held of a line that has not ended.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }

    /// Checks the end of the body: bytes left without their `\n` mean the last line was cut
    /// (`WebrpcStreamLost`, cause `stream truncated: …`). Whitespace alone is not a line.
    pub fn finish(&self) -> Result<(), WebrpcError> {
        if self.buf.trim_ascii().is_empty() {
            Ok(())
        } else {
            Err(BuiltinError::WebrpcStreamLost.with_cause(format!(
                "stream truncated: the body ended inside a line ({} bytes without a newline)",
                self.buf.len()
            )))
        }
    }

    fn too_long(&self) -> WebrpcError {
        BuiltinError::WebrpcBadResponse.with_cause(format!(
            "stream message exceeds the limit of {} bytes",
            self.limit
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Msg {
        message: Option<String>,
    }

    #[test]
    fn error_line_without_cause_has_the_envelope_key_order() {
        let err = WebrpcError::new("EmptyUsername", 100, "Username must be provided.", 400);
        assert_eq!(
            &encode_error_line(&err)[..],
            &br#"{"webrpcError":{"error":"EmptyUsername","code":100,"msg":"Username must be provided.","status":400}}
"#[..]
        );
    }

    #[test]
    fn error_line_is_not_taken_for_a_message_with_optional_fields() {
        let line = br#"{"webrpcError":{"error":"X","code":7,"msg":"m"}}"#;
        match decode_line::<Msg>(line).unwrap() {
            Line::Error(err) => {
                assert_eq!((err.name(), err.code(), err.status()), ("X", 7, 400));
            }
            other => panic!("expected an error line, got {other:?}"),
        }
    }

    #[test]
    fn message_mentioning_the_key_in_a_string_is_still_a_message() {
        let line = br#"{"message":"\"webrpcError\""}"#;
        match decode_line::<Msg>(line).unwrap() {
            Line::Message(msg) => assert_eq!(msg.message.as_deref(), Some("\"webrpcError\"")),
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn crlf_and_whitespace_lines_are_pings() {
        assert!(matches!(decode_line::<Msg>(b"\r\n").unwrap(), Line::Ping));
        assert!(matches!(decode_line::<Msg>(b"  \n").unwrap(), Line::Ping));
    }

    #[test]
    fn undecodable_line_is_bad_response() {
        let err = decode_line::<Msg>(b"{not json}\n").unwrap_err();
        assert_eq!(err.code(), -5);
        assert!(err
            .cause()
            .unwrap()
            .starts_with("failed to unmarshal stream message"));
    }

    #[test]
    fn line_buffer_splits_across_pushes_and_rejects_long_lines() {
        let mut lines = LineBuffer::new(8);
        lines.push(b"abc");
        assert_eq!(lines.next_line().unwrap(), None);
        lines.push(b"de\nfg");
        assert_eq!(lines.next_line().unwrap().as_deref(), Some(&b"abcde\n"[..]));
        assert_eq!(lines.next_line().unwrap(), None);
        assert_eq!(lines.pending(), 2);
        lines.push(b"hijklmn");
        let err = lines.next_line().unwrap_err();
        assert_eq!(err.code(), -5);
        assert_eq!(lines.pending(), 0, "memory is released");
    }

    #[test]
    fn complete_line_over_the_limit_is_rejected() {
        let mut lines = LineBuffer::new(4);
        lines.push(b"12345\n");
        assert_eq!(lines.next_line().unwrap_err().code(), -5);
    }

    #[test]
    fn leftover_bytes_at_the_end_are_a_lost_stream() {
        let mut lines = LineBuffer::new(64);
        lines.push(b"{\"a\":1}\n{\"a\"");
        assert!(lines.next_line().unwrap().is_some());
        assert_eq!(lines.next_line().unwrap(), None);
        let err = lines.finish().unwrap_err();
        assert_eq!(err.code(), -9);
        let mut clean = LineBuffer::new(64);
        clean.push(b"\n");
        clean.next_line().unwrap();
        assert!(clean.finish().is_ok());
    }

    #[test]
    fn from_error_yields_the_error_then_ends() {
        let mut stream = MessageStream::<u8>::from_error(BuiltinError::WebrpcStreamLost.err());
        let waker = std::task::Waker::noop();
        let mut cx = TaskContext::from_waker(waker);
        match Pin::new(&mut stream).poll_next(&mut cx) {
            Poll::Ready(Some(Err(err))) => assert_eq!(err.code(), -9),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            Pin::new(&mut stream).poll_next(&mut cx),
            Poll::Ready(None)
        ));
    }
}
