//! Calling stream methods: [`Client::call_stream`] and the reader of an ndjson body.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_core::Stream;
use http::{Request, Response};
use http_body::Body;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tower::ServiceExt;
use webrpc_core::codec;
use webrpc_core::stream::{decode_line, Line, LineBuffer, StreamMethod};
use webrpc_core::{BuiltinError, MessageStream, WebrpcError};

use crate::client::{error_chain, request_failed, response_too_large, CallOptions, Client};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Signal = Pin<Box<dyn Future<Output = ()> + Send>>;

impl<S, B> Client<S>
where
    S: tower_service::Service<Request<Full<Bytes>>, Response = Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Calls stream method `M` with the client's defaults.
    pub async fn call_stream<M: StreamMethod>(
        &self,
        request: &M::Request,
    ) -> Result<MessageStream<M::Message>, WebrpcError> {
        self.call_stream_with::<M>(request, CallOptions::default())
            .await
    }

    /// Calls stream method `M` with per-call options, and resolves once the stream is open.
    ///
    /// Before the stream opens, the call is an ordinary one: a non-2xx answer is its error
    /// envelope (a bad route, an auth layer's 401, a server that rejects before opening), a
    /// transport failure is `WebrpcRequestFailed`, and the call's timeout bounds the wait for
    /// the response head. Once open, the timeout no longer applies (a stream may last for
    /// hours); the stream's items are:
    ///
    /// | on the wire | item |
    /// |---|---|
    /// | a ping (`\n`) | nothing: skipped |
    /// | a message line | `Ok(message)` |
    /// | a `{"webrpcError":{…}}` line | `Err(that error)`, then the end |
    /// | a line that does not decode | `Err(WebrpcBadResponse)`, then the end |
    /// | a line longer than the [response limit](crate::ClientBuilder::response_limit) | `Err(WebrpcBadResponse)`, then the end (at most that many bytes are held) |
    /// | the body ends after a complete line | the end (`None`): the stream finished cleanly |
    /// | the body ends inside a line | `Err(WebrpcStreamLost)`, cause `stream truncated: …` |
    /// | the connection drops or is reset, the HTTP/2 stream is reset | `Err(WebrpcStreamLost)`, cause `failed to read stream: …` |
    /// | no byte within the [inactivity timeout](crate::ClientBuilder::stream_inactivity_timeout) (11 s) | `Err(WebrpcStreamLost)`, cause `no data or ping received within …` |
    /// | the call's [cancellation signal](CallOptions::cancel_on) fires | `Err(WebrpcClientDisconnected)` (-8, newer webrpc's `WebrpcClientAborted`), then the end |
    ///
    /// Dropping the stream closes it (the HTTP/2 stream is reset, an HTTP/1.1 connection is
    /// closed rather than reused), and the server drops its side at once. There is no
    /// automatic reconnect; see `docs/protocol.md` for the resume pattern (`lastMessageId`
    /// plus backoff).
    pub async fn call_stream_with<M: StreamMethod>(
        &self,
        request: &M::Request,
        mut options: CallOptions,
    ) -> Result<MessageStream<M::Message>, WebrpcError> {
        let config = self.config();
        let timeout = options.timeout.or(config.timeout);
        let mut cancel = options.cancel.take();
        let body = codec::encode(request).map_err(|err| {
            BuiltinError::WebrpcBadRequest
                .with_cause(format!("failed to marshal json request: {err}"))
        })?;
        let http_request = self.http_request(M::INFO, M::WEBRPC_HEADER, body, options)?;
        let limit = config.response_limit;

        let open = async {
            let response = self
                .service()
                .clone()
                .oneshot(http_request)
                .await
                .map_err(|err| request_failed("failed to send request", err.into()))?;
            let (parts, body) = response.into_parts();
            if parts.status.is_success() {
                return Ok(body);
            }
            let status = parts.status.as_u16();
            let bytes = match Limited::new(body, limit).collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(err) if err.is::<LengthLimitError>() => {
                    return Err(response_too_large(limit, status))
                }
                Err(err) => return Err(request_failed("failed to read response body", err)),
            };
            Err(codec::decode_error_response(status, &bytes))
        };
        let deadline = async {
            match timeout {
                Some(limit) => tokio::time::sleep(limit).await,
                None => std::future::pending().await,
            }
        };
        let cancelled = async {
            match cancel.as_mut() {
                Some(signal) => signal.as_mut().await,
                None => std::future::pending().await,
            }
        };
        let opened = tokio::select! {
            biased;
            opened = open => opened,
            () = deadline => Err(BuiltinError::WebrpcRequestFailed
                .with_cause(format!("request timed out after {:?}", timeout.unwrap_or_default()))
                .with_status(408)),
            () = cancelled => Err(cancelled_error()),
        };
        let body = match opened {
            Ok(body) => body,
            Err(err) => {
                tracing::debug!(service = M::SERVICE, method = M::NAME, error = %err, "webrpc stream call failed");
                return Err(err);
            }
        };
        let inactivity = config.stream_inactivity_timeout;
        Ok(MessageStream::new(Reader::<B, M::Message> {
            body: Some(Box::pin(body)),
            lines: LineBuffer::new(limit),
            inactivity,
            timer: inactivity.map(|d| Box::pin(tokio::time::sleep(d))),
            cancel,
            _message: PhantomData,
        }))
    }
}

fn cancelled_error() -> WebrpcError {
    BuiltinError::WebrpcClientDisconnected.with_cause("request cancelled by the caller")
}

/// Reads messages from an ndjson body.
struct Reader<B, T> {
    /// `None` once the stream has ended: the body is dropped at once.
    body: Option<Pin<Box<B>>>,
    lines: LineBuffer,
    inactivity: Option<Duration>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    cancel: Option<Signal>,
    _message: PhantomData<fn() -> T>,
}

impl<B, T> Reader<B, T> {
    fn end(&mut self, err: WebrpcError) -> Poll<Option<Result<T, WebrpcError>>> {
        self.body = None;
        self.timer = None;
        self.cancel = None;
        tracing::debug!(error = %err, "webrpc stream ended with an error");
        Poll::Ready(Some(Err(err)))
    }
}

impl<B, T> Stream for Reader<B, T>
where
    B: Body,
    B::Error: Into<BoxError>,
    T: serde::de::DeserializeOwned,
{
    type Item = Result<T, WebrpcError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.body.is_none() {
            return Poll::Ready(None);
        }
        if let Some(cancel) = &mut this.cancel {
            if cancel.as_mut().poll(cx).is_ready() {
                return this.end(cancelled_error());
            }
        }
        loop {
            match this.lines.next_line() {
                Err(err) => return this.end(err),
                Ok(Some(line)) => match decode_line::<T>(&line) {
                    Ok(Line::Ping) => continue,
                    Ok(Line::Message(message)) => return Poll::Ready(Some(Ok(message))),
                    Ok(Line::Error(err)) | Err(err) => return this.end(err),
                },
                Ok(None) => {}
            }
            let Some(body) = &mut this.body else {
                return Poll::Ready(None);
            };
            match body.as_mut().poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            let n = chunk.len();
                            this.lines.push(chunk);
                            data.advance(n);
                        }
                        if let (Some(timer), Some(limit)) = (&mut this.timer, this.inactivity) {
                            timer.as_mut().reset(tokio::time::Instant::now() + limit);
                        }
                    }
                }
                Poll::Ready(Some(Err(err))) => {
                    let err: BoxError = err.into();
                    return this.end(
                        BuiltinError::WebrpcStreamLost
                            .with_cause(format!("failed to read stream: {}", error_chain(&*err))),
                    );
                }
                Poll::Ready(None) => {
                    // Lines still buffered were handled above; what is left is a partial one.
                    return match this.lines.finish() {
                        Ok(()) => {
                            this.body = None;
                            this.timer = None;
                            this.cancel = None;
                            Poll::Ready(None)
                        }
                        Err(err) => this.end(err),
                    };
                }
                Poll::Pending => break,
            }
        }
        if let (Some(timer), Some(limit)) = (&mut this.timer, this.inactivity) {
            if timer.as_mut().poll(cx).is_ready() {
                return this.end(
                    BuiltinError::WebrpcStreamLost
                        .with_cause(format!("no data or ping received within {limit:?}")),
                );
            }
        }
        Poll::Pending
    }
}
