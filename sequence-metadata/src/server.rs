//! The server adapter (feature `server`).

use std::sync::Arc;

use webrpc_server::Router;

use crate::{mount_collections, Collections};

/// A router serving a [`Collections`] implementation at `/rpc/Collections/{Method}`: every
/// method mounted on [`Router::new`]. It is a `tower::Service`, so add layers (auth, limits,
/// tracing) around it, serve it with `webrpc_server::Server`, or put it under a
/// `webrpc_client::Client` in process.
///
/// To mount on a router with another basepath or beside other services, use
/// [`mount_collections`] directly.
pub fn router<T: Collections>(service: Arc<T>) -> Router {
    mount_collections(service, Router::new())
}
