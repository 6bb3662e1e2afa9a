//! # sequence-metadata
//!
//! [Sequence](https://sequence.xyz)'s Metadata API, the `Collections` service (schema
//! `sequence-metadata` `v0.4.0`, served at `https://metadata.sequence.app`), declared once
//! for both sides of [webrpc](https://github.com/webrpc/webrpc): call Sequence's hosted API
//! (or any server speaking it) from Rust, or serve the same API yourself.
//!
//! Collections hold the metadata of NFT collections: contract-level metadata, each token's
//! metadata and the assets (images, video…) they point to. A collection is created private;
//! [`PublishCollection`] makes its metadata public under its
//! [`baseURIs`](CollectionBaseURIs), ready for a contract's `contractURI()` and `uri(id)`.
//!
//! ## Architecture
//!
//! - Types ([`Collection`], [`CollectionMetadata`], [`CollectionBaseURIs`],
//!   [`ContractCollection`], [`Asset`], [`TokenMetadata`], [`ResourceStatus`], [`Page`]) with
//!   the schema's exact JSON keys and omission rules, plus the schema's scalar types
//!   [`Timestamp`] (RFC 3339 the way Go writes it) and [`BigInt`] (decimal string, any size).
//! - [`MetadataError`]: the schema's error catalogue (codes 1000 to 4001).
//! - [`Collections`]: the service as a trait, one async method per RPC, with a request and
//!   a response struct per method ([`PublishCollectionRequest`], …) and a marker type
//!   per method ([`PublishCollection`], …) for `webrpc_client::Client::call`.
//! - [`CollectionsClient`]: implements [`Collections`] by calling a server, over any
//!   [`Caller`](webrpc_core::Caller); with feature `client` (default),
//!   `CollectionsClient::hosted`, `CollectionsClient::connect` and `client_builder` make one
//!   over the network.
//! - [`mount_collections`] adds a [`Collections`] implementation to a router; with feature
//!   `server`, `router` builds a `webrpc_server::Router` serving it.
//!
//! Features: `client` (default; the network client), `rustls` (default; HTTPS for it),
//! `server` (the router adapter).
//!
//! ## Calling Sequence's hosted API
//!
//! ```no_run
//! use sequence_metadata::{Collections, CollectionsClient, Context, PublishCollectionRequest};
//!
//! # async fn publish() -> Result<(), Box<dyn std::error::Error>> {
//! let jwt = std::env::var("SEQUENCE_SECRET_JWT")?; // a service token from Sequence Builder
//! let collections = CollectionsClient::hosted(&jwt)?;
//! let published = collections
//!     .publish_collection(
//!         Context::new(),
//!         PublishCollectionRequest { project_id: Some(30957), collection_id: 888, recursive: None },
//!     )
//!     .await?;
//! println!("{:?}", published.collection.base_uris);
//! # Ok(())
//! # }
//! ```
//!
//! ## In process
//!
//! The client's transport can be a server router itself, with no socket: handy for tests of
//! code written against [`Collections`]. Here one method is served by a closure (a full
//! implementation of the trait is mounted with [`mount_collections`], or with `router` and
//! feature `server`), and an error of the catalogue reaches the client typed:
//!
//! ```
//! use sequence_metadata::{
//!     Collection, CollectionMetadata, Collections, CollectionsClient, Context, MetadataError,
//!     PublishCollection, PublishCollectionRequest, PublishCollectionResponse, Timestamp,
//! };
//! use webrpc_core::WebrpcError;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let router = webrpc_server::Router::new().route::<PublishCollection, _, _, _>(
//!     |_ctx: Context, req: PublishCollectionRequest| async move {
//!         if req.collection_id != 888 {
//!             return Err(MetadataError::NotFound.with_cause(format!("collection {}", req.collection_id)));
//!         }
//!         Ok::<_, WebrpcError>(PublishCollectionResponse {
//!             collection: Collection {
//!                 id: 888,
//!                 project_id: req.project_id.unwrap_or(30957),
//!                 metadata: Some(CollectionMetadata { name: "Sandbox Chronicles".into(), ..Default::default() }),
//!                 private: false,
//!                 created_at: "2024-10-23T07:02:00.905283Z".parse().unwrap(),
//!                 updated_at: Timestamp::now(),
//!                 ..Default::default()
//!             },
//!         })
//!     },
//! );
//! let client = webrpc_client::Client::builder("http://localhost").build_with(router).unwrap();
//! let collections = CollectionsClient::new(client);
//!
//! let request = PublishCollectionRequest { project_id: Some(30957), collection_id: 888, recursive: Some(true) };
//! let out = collections.publish_collection(Context::new(), request).await.unwrap();
//! assert!(!out.collection.private);
//! assert_eq!(out.collection.created_at.to_string(), "2024-10-23T07:02:00.905283Z");
//!
//! let missing = PublishCollectionRequest { collection_id: 999999, ..Default::default() };
//! let err = collections.publish_collection(Context::new(), missing).await.unwrap_err();
//! assert_eq!(err.kind::<MetadataError>(), Some(MetadataError::NotFound));
//! assert_eq!((err.status(), err.cause()), (400, Some("collection 999999")));
//! # });
//! ```
//!
//! ## JSON conventions
//!
//! - Keys are exactly the schema's, including its snake_case ones (`external_link`,
//!   `image_data`, `external_url`, `background_color`, `animation_url`).
//! - Fields the schema marks "omit" are left out when empty, zero or `None`; other optional
//!   fields (`Asset::token_id`, `TokenMetadata::queued_at`) are written as `null` when unset.
//! - Decoding is as lenient as Go's: unknown fields are ignored, a missing field or `null`
//!   takes the zero value, an unknown [`ResourceStatus`] name is `NOT_AVAILABLE`. Request
//!   arguments are the exception: a missing required argument is rejected with
//!   `WebrpcBadRequest` naming it.
//! - [`Timestamp`]s keep the offset they were received with, as Go does.
#[cfg(feature = "client")]
mod client;
mod error;
#[cfg(feature = "server")]
mod server;
mod service;
mod types;

#[cfg(feature = "client")]
pub use client::{client_builder, DEFAULT_BASE_URL};
pub use error::MetadataError;
#[cfg(feature = "server")]
pub use server::router;
pub use service::*;
pub use types::{
    Asset, Collection, CollectionBaseURIs, CollectionMetadata, ContractCollection, Page,
    Properties, ResourceStatus, TokenMetadata,
};
pub use webrpc_core::{
    self, BigInt, BuiltinError, Context, ParseBigIntError, Timestamp, WebrpcError,
};
