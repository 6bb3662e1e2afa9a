//! The local Sequence Metadata server: Sequence's `Collections` service (schema
//! `sequence-metadata` v0.4.0) on an embedded store, for developing against locally instead of
//! `https://metadata.sequence.app`.
//!
//! ```text
//! cargo run --release -p metadata-server
//! ```
//!
//! ## Architecture
//!
//! - [`MetadataApp`] ([`app`]): the tower service serving everything, an axum router behind
//!   the access log: `/rpc/…` through tower-http's CORS layer and [`AuthLayer`] to the
//!   webrpc router, `/projects/…` to the public metadata routes and to asset upload and
//!   asset files ([`assets`]), `GET /health`.
//! - [`AuthLayer`] ([`auth`]): checks `Authorization: Bearer <JWT>` (HS256, claim
//!   `project`) and puts the caller's [`AuthProject`] in the request extensions; optionally
//!   with a bounded [`JwtCache`] of verified tokens ([`jwt_cache`]).
//! - [`MetadataService`] ([`service`]): the `Collections` trait (21 methods) over a
//!   [`Store`]: the caller's project, argument checks, error mapping.
//! - [`collections`]: the rules of the service (scoping, cascades, soft deletion, unique
//!   keys, publishing, ids, timestamps, pagination), written once over the row-level
//!   operations of a store.
//! - [`Store`] ([`store`]): where rows are kept, read in snapshots and written in
//!   transactions ([`store::ReadTx`], [`store::WriteTx`]); implemented by [`SqliteStore`]
//!   ([`sqlite`]; WAL, `synchronous=FULL`, one writer plus a read pool), [`PostgresStore`]
//!   ([`postgresql`]; a connection pool, row locks, shared by any number of instances) and
//!   [`MemoryStore`] ([`memory`]; maps under a `RwLock`).
//! - [`public`]: `GET /projects/{p}/collections/{c}.json` and
//!   `GET /projects/{p}/collections/{c}/tokens/{tokenId}` for published collections.
//! - [`config`], [`logging`] and [`server`]: the command line, the log (non-blocking, plain
//!   text or JSON) and startup of the `metadata-server` binary.
//!
//! ## In process
//!
//! ```
//! use std::sync::Arc;
//! use metadata_server::{JwtAuth, MemoryStore, MetadataApp};
//! use webrpc_client::CallOptions;
//! use sequence_metadata::{
//!     Collection, CollectionMetadata, Collections, CollectionsClient,
//!     CreateCollectionRequest,
//! };
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let auth = JwtAuth::new(b"dev secret");
//! let jwt = auth.dev_token(1, "0x0000000000000000000000000000000000000001");
//! let app = MetadataApp::new(Arc::new(MemoryStore::new()), auth, "http://127.0.0.1:4242");
//! let client = webrpc_client::Client::builder("http://127.0.0.1:4242")
//!     .bearer_token(&jwt)
//!     .build_with(app)
//!     .unwrap();
//! let collections = CollectionsClient::new(client);
//! let created = collections
//!     .create_collection(CallOptions::new(), CreateCollectionRequest {
//!         project_id: None,
//!         collection: Collection {
//!             metadata: Some(CollectionMetadata { name: "Demo".into(), ..Default::default() }),
//!             ..Default::default()
//!         },
//!     })
//!     .await
//!     .unwrap()
//!     .collection;
//! assert_eq!((created.id, created.project_id, created.private), (1, 1, true));
//! # });
//! ```

pub mod app;
pub mod assets;
pub mod auth;
pub mod collections;
pub mod config;
pub mod jwt_cache;
pub mod logging;
pub mod memory;
pub mod postgresql;
pub mod public;
pub mod server;
pub mod service;
pub mod sqlite;
pub mod store;
mod upload;
mod validate;

pub use app::{AppConfig, CallLimits, MetadataApp};
pub use auth::{AuthLayer, AuthProject, Claims, JwtAuth};
pub use config::{ServerArgs, StoreKind};
pub use jwt_cache::JwtCache;
pub use memory::MemoryStore;
pub use postgresql::PostgresStore;
pub use service::MetadataService;
pub use sqlite::SqliteStore;
pub use store::{
    PageRequest, Store, StoreError, MAX_ENTITY_BYTES, PAGE_BYTE_BUDGET, TOKEN_ASSETS_BYTE_BUDGET,
};
