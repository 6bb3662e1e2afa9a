//! Reading a request body into one buffer, bounded in size and time.

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use bytes::{Buf, Bytes};
use http_body::Body;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use webrpc_core::{BuiltinError, WebrpcError};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How much of an over-limit body is read and thrown away (in addition to the limit) so the
/// error response reaches a client that is still sending, instead of a connection reset.
const DRAIN_ALLOWANCE: usize = 16 * 1024 * 1024;

/// Collects `body` into one `Bytes` through [`http_body_util::Limited`], as the client reads
/// responses. A body sent as a single frame (the common case with a `Content-Length`) is
/// returned without copying.
///
/// Errors: `WebrpcBadRequest` 413 past `limit` bytes, 408 past `timeout`, 400 when the body
/// cannot be read.
pub(crate) async fn read_body<B>(
    body: B,
    limit: usize,
    timeout: Duration,
    content_length: Option<u64>,
) -> Result<Bytes, WebrpcError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    // A body that came with its headers (the usual small call) is complete at the first
    // poll: only a body still on its way needs the timer (whose deadline reads the clock).
    let mut collecting = std::pin::pin!(collect(body, limit, content_length));
    let first = std::future::poll_fn(|cx| Poll::Ready(collecting.as_mut().poll(cx))).await;
    if let Poll::Ready(result) = first {
        return result;
    }
    match tokio::time::timeout(timeout, collecting).await {
        Ok(result) => result,
        Err(_) => Err(BuiltinError::WebrpcBadRequest
            .with_cause(format!(
                "failed to read request data: timed out after {}s",
                timeout.as_secs_f32()
            ))
            .with_status(408)),
    }
}

pub(crate) fn too_large(limit: usize) -> WebrpcError {
    BuiltinError::WebrpcBadRequest
        .with_cause(format!(
            "failed to read request data: body exceeds the limit of {limit} bytes"
        ))
        .with_status(413)
}

async fn collect<B>(
    body: B,
    limit: usize,
    content_length: Option<u64>,
) -> Result<Bytes, WebrpcError>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let mut body = std::pin::pin!(body);
    if content_length.is_some_and(|len| len > limit as u64) {
        drain(body.as_mut()).await;
        return Err(too_large(limit));
    }
    // `Limited` over a pinned borrow, so that the body is still ours to drain once the limit
    // is hit. `Collected::to_bytes` returns a body sent as one frame without copying it.
    match Limited::new(body.as_mut(), limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => {
            drain(body.as_mut()).await;
            Err(too_large(limit))
        }
        Err(err) => Err(BuiltinError::WebrpcBadRequest
            .with_cause(format!("failed to read request data: {err}"))),
    }
}

/// Reads and discards up to [`DRAIN_ALLOWANCE`] more bytes, so that a client still sending
/// an oversized body gets to read the error response.
async fn drain<B: Body>(mut body: std::pin::Pin<&mut B>) {
    let mut drained = 0usize;
    loop {
        let len = match body.frame().await {
            Some(Ok(frame)) => frame.data_ref().map_or(0, Buf::remaining),
            _ => return,
        };
        drained += len;
        if drained > DRAIN_ALLOWANCE {
            return;
        }
    }
}
