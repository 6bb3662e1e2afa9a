//! The call a handler serves, as the work it starts sees it: whether its caller is still
//! waiting, and a handle that keeps the call's concurrency slot taken while work outlives
//! the handler's future.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;
use webrpc_core::{BuiltinError, RequestContext, WebrpcError};

/// A call in progress, seen from the work it starts.
///
/// The [`Router`](crate::Router) puts one in the extensions of every handler's
/// [`RequestContext`]
/// (find it with [`CallHandle::of`]). It tells two things:
///
/// - **whether the caller went away** ([`is_cancelled`](Self::is_cancelled)): true once
///   the router's future for the call was dropped before it answered (an HTTP/2
///   `RST_STREAM`, a closed connection, a server shutting down) or the handler outlived
///   [`Router::handler_timeout`](crate::Router::handler_timeout);
/// - **the call's slot of [`Router::concurrency_limit`](crate::Router::concurrency_limit)**:
///   the slot is given back when the last clone of the handle is dropped, not when the
///   handler's future ends. Work that runs on after the future (a thread, a blocking task)
///   keeps a clone, so the limit counts it until it really ends.
///
/// [`spawn_blocking`] does both for work on tokio's blocking pool.
#[derive(Clone)]
pub struct CallHandle {
    state: Arc<CallState>,
}

struct CallState {
    cancelled: AtomicBool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl std::fmt::Debug for CallHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallHandle")
            .field("cancelled", &self.is_cancelled())
            .field("holds_slot", &self.state._permit.is_some())
            .finish()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<CallHandle>> = const { RefCell::new(None) };
}

impl CallHandle {
    pub(crate) fn new(permit: Option<OwnedSemaphorePermit>) -> Self {
        CallHandle {
            state: Arc::new(CallState {
                cancelled: AtomicBool::new(false),
                _permit: permit,
            }),
        }
    }

    /// The handle of the call `ctx` belongs to; `None` outside a [`Router`](crate::Router)
    /// (a handler called directly).
    pub fn of(ctx: &RequestContext) -> Option<&CallHandle> {
        ctx.extensions().get::<CallHandle>()
    }

    /// The call whose work runs on this thread: set inside [`spawn_blocking`], `None`
    /// elsewhere. Lets code deep in blocking work (a store that just took its lock, say)
    /// check [`is_cancelled`](Self::is_cancelled) without being handed the handle.
    pub fn current() -> Option<CallHandle> {
        CURRENT.with(|current| current.borrow().clone())
    }

    /// Whether the caller is gone: the router's future for the call was dropped before it
    /// answered, or the handler timed out. Work not started yet should not start.
    pub fn is_cancelled(&self) -> bool {
        self.state.cancelled.load(Ordering::Acquire)
    }

    pub(crate) fn cancel(&self) {
        self.state.cancelled.store(true, Ordering::Release);
    }
}

/// Sets the call's cancelled flag when dropped armed: the router's future ended before the
/// call was answered.
pub(crate) struct CancelOnDrop(pub(crate) Option<CallHandle>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(call) = self.0.take() {
            call.cancel();
        }
    }
}

/// The error of work skipped because its caller went away (nobody reads it but logs).
fn cancelled() -> WebrpcError {
    BuiltinError::WebrpcInternalError
        .with_cause("the call was cancelled before its work started")
        .with_status(503)
}

/// Runs `f` on tokio's blocking pool on behalf of the call `ctx` belongs to, and waits for
/// it.
///
/// - If the caller is gone when a thread picks the work up, `f` does not run (the answer,
///   which nobody waits for, is `WebrpcInternalError` 503, cause `the call was cancelled
///   before its work started`).
/// - The work holds the call's concurrency slot until `f` returns, even when the handler's
///   future is dropped first (a reset, a timeout): the limit counts work really running.
/// - Inside `f`, [`CallHandle::current`] is the call, so `f` can check for cancellation at
///   its own safe points.
/// - A panic in `f` is `WebrpcServerPanic` (logged, not sent).
///
/// Without a call (a `ctx` not from a router) it is plain `spawn_blocking`.
pub async fn spawn_blocking<T, F>(ctx: &RequestContext, f: F) -> Result<T, WebrpcError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let call = CallHandle::of(ctx).cloned();
    let task = tokio::task::spawn_blocking(move || {
        if call.as_ref().is_some_and(CallHandle::is_cancelled) {
            return Err(cancelled());
        }
        let previous = CURRENT.with(|current| current.replace(call.clone()));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
        CURRENT.with(|current| *current.borrow_mut() = previous);
        drop(call);
        result.map_err(|payload| {
            tracing::error!(
                panic = crate::router::panic_message(&*payload),
                "webrpc blocking work panicked"
            );
            BuiltinError::WebrpcServerPanic.with_cause("handler panicked")
        })
    });
    match task.await {
        Ok(result) => result,
        Err(err) => {
            Err(BuiltinError::WebrpcInternalError
                .with_cause(format!("blocking task failed: {err}")))
        }
    }
}
