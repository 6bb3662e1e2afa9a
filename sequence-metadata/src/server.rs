//! The server adapters (feature `server`): a router per service.

use std::sync::Arc;

use webrpc_server::Router;

use crate::{
    mount_admin, mount_collections, mount_metadata, Admin, Collections, Metadata, RequestContext,
};

/// A router serving a [`Collections`] implementation at `/rpc/Collections/{Method}`: every
/// method mounted on [`Router::new`]. It is a `tower::Service`, so add layers (auth, limits,
/// tracing) around it, serve it with `webrpc_server::Server`, or put it under a
/// `webrpc_client::Client` in process.
///
/// To mount on a router with another basepath or beside other services, use
/// [`mount_collections`] directly.
pub fn router<T: Collections<Ctx = RequestContext>>(service: Arc<T>) -> Router {
    mount_collections(service, Router::new())
}

/// A router serving a [`Metadata`] implementation at `/rpc/Metadata/{Method}` (see
/// [`router`]; [`mount_metadata`] mounts it beside other services).
pub fn metadata_router<T: Metadata<Ctx = RequestContext>>(service: Arc<T>) -> Router {
    mount_metadata(service, Router::new())
}

/// A router serving an [`Admin`] implementation at `/rpc/Admin/{Method}` (see [`router`];
/// [`mount_admin`] mounts it beside other services).
pub fn admin_router<T: Admin<Ctx = RequestContext>>(service: Arc<T>) -> Router {
    mount_admin(service, Router::new())
}
