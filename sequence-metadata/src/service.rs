//! The `Collections` service: its 21 methods, their request and response objects, the
//! [`Collections`] trait, the [`CollectionsClient`] wrapper and [`mount_collections`].
//!
//! Request objects are keyed by the schema's argument names (`projectId`, `collectionId`…).
//! Optional arguments are `Option`s, left out of the JSON when `None` and accepted as absent
//! or `null`; a missing required argument is rejected by the server with `WebrpcBadRequest`
//! naming it. Response objects always carry every return value; when decoding, a missing
//! or `null` return takes its zero value (Go servers send `null` for an empty list).

use webrpc_core::Method;

use crate::{Asset, Collection, ContractCollection, Page, TokenMetadata};
use webrpc_core::serde_go::null_as_default;

webrpc_core::service! {
    /// Sequence's Collections service (schema `sequence-metadata` `v0.4.0`): collections of
    /// NFT metadata, their tokens and assets, and the contracts that use them.
    ///
    /// One async method per RPC, each taking the call's [`Context`](webrpc_core::Context)
    /// (headers and extensions, such as the authenticated project put there by an auth
    /// layer) and the request object. Implement it to serve the API (see
    /// [`mount_collections`]); [`CollectionsClient`] implements it by calling a server, so code
    /// written against the trait runs against Sequence, a local server or an in-process
    /// implementation alike.
    ///
    /// `projectId` is optional on most methods because Sequence takes the project from the
    /// secret JWT when it is absent.
    pub trait Collections;
    /// The [`Collections`] trait over webrpc calls: wraps any
    /// [`Caller`](webrpc_core::Caller), usually a `webrpc_client::Client` (with feature
    /// `client`, `CollectionsClient::hosted` and `CollectionsClient::connect` make one).
    client CollectionsClient;
    /// Adds every method of a [`Collections`] implementation to a router (any
    /// [`Routes`](webrpc_core::Routes), such as `webrpc_server::Router`) at
    /// `{basepath}Collections/{Method}`.
    mount mount_collections;
    name "Collections";
    schema "sequence-metadata" "v0.4.0";

    /// Creates a collection (private until published).
    CreateCollection => create_collection(CreateCollectionRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collection`: the collection to create (its `id` is assigned by the server).
        pub collection: Collection,
    }) -> CreateCollectionResponse {
        /// `collection`: the collection as created.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collection: Collection,
    };

    /// Reads a collection.
    GetCollection => get_collection(GetCollectionRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
    }) -> GetCollectionResponse {
        /// `collection`: the collection.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collection: Collection,
    };

    /// Lists a project's collections, a page at a time.
    ListCollections => list_collections(ListCollectionsRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `page?`: which page to read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub page: Option<Page>,
    }) -> ListCollectionsResponse {
        /// `page`: the page read, and whether there are more.
        #[serde(default, deserialize_with = "null_as_default")]
        pub page: Page,
        /// `collections`: the collections on this page.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collections: Vec<Collection>,
    };

    /// Updates a collection (identified by `collection.id`).
    UpdateCollection => update_collection(UpdateCollectionRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collection`: the new state.
        pub collection: Collection,
    }) -> UpdateCollectionResponse {
        /// `collection`: the collection as updated.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collection: Collection,
    };

    /// Deletes a collection.
    DeleteCollection => delete_collection(DeleteCollectionRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
    }) -> DeleteCollectionResponse {
        /// `status`: whether it was deleted.
        #[serde(default, deserialize_with = "null_as_default")]
        pub status: bool,
    };

    /// Publishes a collection: sets `private: false` (with `recursive`, on its tokens too),
    /// so its metadata is served publicly under its `baseURIs`.
    PublishCollection => publish_collection(PublishCollectionRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
        /// `recursive?`: publish the collection's tokens too.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub recursive: Option<bool>,
    }) -> PublishCollectionResponse {
        /// `collection`: the collection as published.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collection: Collection,
    };

    /// Unpublishes a collection: makes it private again.
    UnpublishCollection => unpublish_collection(UnpublishCollectionRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
    }) -> UnpublishCollectionResponse {
        /// `collection`: the collection as unpublished.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collection: Collection,
    };

    /// Links a deployed contract to a collection.
    CreateContractCollection => create_contract_collection(CreateContractCollectionRequest {
        /// `projectId`: the project.
        pub project_id: u64,
        /// `contractCollection`: the link to create.
        pub contract_collection: ContractCollection,
    }) -> CreateContractCollectionResponse {
        /// `contractCollection`: the link as created.
        #[serde(default, deserialize_with = "null_as_default")]
        pub contract_collection: ContractCollection,
    };

    /// Reads the link of a deployed contract.
    GetContractCollection => get_contract_collection(GetContractCollectionRequest {
        /// `projectId`: the project.
        pub project_id: u64,
        /// `chainId`: the contract's chain.
        pub chain_id: u64,
        /// `contractAddress`: the contract's address (hex).
        pub contract_address: String,
    }) -> GetContractCollectionResponse {
        /// `contractCollection`: the link.
        #[serde(default, deserialize_with = "null_as_default")]
        pub contract_collection: ContractCollection,
    };

    /// Lists a project's contract links, optionally those of one collection.
    ListContractCollections => list_contract_collections(ListContractCollectionsRequest {
        /// `projectId`: the project.
        pub project_id: u64,
        /// `collectionId?`: only the links of this collection.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub collection_id: Option<u64>,
        /// `page?`: which page to read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub page: Option<Page>,
    }) -> ListContractCollectionsResponse {
        /// `contractCollections`: the links on this page.
        #[serde(default, deserialize_with = "null_as_default")]
        pub contract_collections: Vec<ContractCollection>,
        /// `collections`: the collections they link to.
        #[serde(default, deserialize_with = "null_as_default")]
        pub collections: Vec<Collection>,
        /// `page`: the page read, and whether there are more.
        #[serde(default, deserialize_with = "null_as_default")]
        pub page: Page,
    };

    /// Updates a contract link (identified by chain and address).
    UpdateContractCollection => update_contract_collection(UpdateContractCollectionRequest {
        /// `projectId`: the project.
        pub project_id: u64,
        /// `contractCollection`: the new state.
        pub contract_collection: ContractCollection,
    }) -> UpdateContractCollectionResponse {
        /// `ok`: whether it was updated.
        #[serde(default, deserialize_with = "null_as_default")]
        pub ok: bool,
    };

    /// Removes a contract link.
    DeleteContractCollection => delete_contract_collection(DeleteContractCollectionRequest {
        /// `projectId`: the project.
        pub project_id: u64,
        /// `chainId`: the contract's chain.
        pub chain_id: u64,
        /// `contractAddress`: the contract's address (hex).
        pub contract_address: String,
    }) -> DeleteContractCollectionResponse {
        /// `ok`: whether it was removed.
        #[serde(default, deserialize_with = "null_as_default")]
        pub ok: bool,
    };

    /// Adds a token's metadata to a collection.
    CreateToken => create_token(CreateTokenRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
        /// `token`: the token's metadata.
        pub token: TokenMetadata,
        /// `private?`: keep the token private.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub private: Option<bool>,
    }) -> CreateTokenResponse {
        /// `token`: the token as created.
        #[serde(default, deserialize_with = "null_as_default")]
        pub token: TokenMetadata,
        /// `assets`: the token's assets.
        #[serde(default, deserialize_with = "null_as_default")]
        pub assets: Vec<Asset>,
    };

    /// Reads a token's metadata and assets.
    GetToken => get_token(GetTokenRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
        /// `tokenId`: the token id in decimal.
        pub token_id: String,
    }) -> GetTokenResponse {
        /// `token`: the token's metadata.
        #[serde(default, deserialize_with = "null_as_default")]
        pub token: TokenMetadata,
        /// `assets`: the token's assets.
        #[serde(default, deserialize_with = "null_as_default")]
        pub assets: Vec<Asset>,
    };

    /// Lists a collection's tokens, a page at a time.
    ListTokens => list_tokens(ListTokensRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
        /// `page?`: which page to read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub page: Option<Page>,
    }) -> ListTokensResponse {
        /// `page`: the page read, and whether there are more.
        #[serde(default, deserialize_with = "null_as_default")]
        pub page: Page,
        /// `tokens`: the tokens on this page.
        #[serde(default, deserialize_with = "null_as_default")]
        pub tokens: Vec<TokenMetadata>,
    };

    /// Replaces a token's metadata.
    UpdateToken => update_token(UpdateTokenRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
        /// `tokenId`: the token id in decimal.
        pub token_id: String,
        /// `token`: the new metadata.
        pub token: TokenMetadata,
        /// `private?`: make the token private or public.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub private: Option<bool>,
    }) -> UpdateTokenResponse {
        /// `token`: the token as updated.
        #[serde(default, deserialize_with = "null_as_default")]
        pub token: TokenMetadata,
    };

    /// Deletes a token's metadata.
    DeleteToken => delete_token(DeleteTokenRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `collectionId`: the collection.
        pub collection_id: u64,
        /// `tokenId`: the token id in decimal.
        pub token_id: String,
    }) -> DeleteTokenResponse {
        /// `status`: whether it was deleted.
        #[serde(default, deserialize_with = "null_as_default")]
        pub status: bool,
    };

    /// Creates an asset record (its bytes are uploaded separately, outside webrpc).
    CreateAsset => create_asset(CreateAssetRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `asset`: the asset to create (its `id` is assigned by the server).
        pub asset: Asset,
    }) -> CreateAssetResponse {
        /// `asset`: the asset as created.
        #[serde(default, deserialize_with = "null_as_default")]
        pub asset: Asset,
    };

    /// Reads an asset.
    GetAsset => get_asset(GetAssetRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `assetId`: the asset.
        pub asset_id: u64,
    }) -> GetAssetResponse {
        /// `asset`: the asset.
        #[serde(default, deserialize_with = "null_as_default")]
        pub asset: Asset,
    };

    /// Updates an asset (identified by `asset.id`).
    UpdateAsset => update_asset(UpdateAssetRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `asset`: the new state.
        pub asset: Asset,
    }) -> UpdateAssetResponse {
        /// `asset`: the asset as updated.
        #[serde(default, deserialize_with = "null_as_default")]
        pub asset: Asset,
    };

    /// Deletes an asset.
    DeleteAsset => delete_asset(DeleteAssetRequest {
        /// `projectId?`: the project; defaults to the JWT's.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub project_id: Option<u64>,
        /// `assetId`: the asset.
        pub asset_id: u64,
    }) -> DeleteAssetResponse {
        /// `status`: whether it was deleted.
        #[serde(default, deserialize_with = "null_as_default")]
        pub status: bool,
    };
}

/// The schema's name, `sequence-metadata`.
pub const SCHEMA_NAME: &str = "sequence-metadata";

/// The schema's version, `v0.4.0`.
pub const SCHEMA_VERSION: &str = "v0.4.0";

/// The `Webrpc` header this crate sends and serves:
/// `webrpc@v0.31.0;webrpc-rs@v0.1.0;sequence-metadata@v0.4.0`.
pub const WEBRPC_HEADER: &str = webrpc_core::webrpc_header!("sequence-metadata", "v0.4.0");

/// The names of the 21 Collections methods, in schema order (the last segment of each
/// method's path, `/rpc/Collections/{name}`).
pub const METHODS: [&str; 21] = [
    <CreateCollection as Method>::NAME,
    <GetCollection as Method>::NAME,
    <ListCollections as Method>::NAME,
    <UpdateCollection as Method>::NAME,
    <DeleteCollection as Method>::NAME,
    <PublishCollection as Method>::NAME,
    <UnpublishCollection as Method>::NAME,
    <CreateContractCollection as Method>::NAME,
    <GetContractCollection as Method>::NAME,
    <ListContractCollections as Method>::NAME,
    <UpdateContractCollection as Method>::NAME,
    <DeleteContractCollection as Method>::NAME,
    <CreateToken as Method>::NAME,
    <GetToken as Method>::NAME,
    <ListTokens as Method>::NAME,
    <UpdateToken as Method>::NAME,
    <DeleteToken as Method>::NAME,
    <CreateAsset as Method>::NAME,
    <GetAsset as Method>::NAME,
    <UpdateAsset as Method>::NAME,
    <DeleteAsset as Method>::NAME,
];
