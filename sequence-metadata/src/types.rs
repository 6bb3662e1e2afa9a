//! The schema's data types, with their exact JSON keys and omission rules.
//!
//! Conventions shared by every type here, matching the Go code Sequence's servers are
//! generated from:
//!
//! - keys are camelCase unless the schema says otherwise (`external_link`, `image_data`,
//!   `external_url`, `background_color`, `animation_url`, `contractMetadataURI`, …);
//! - fields the schema marks "omit" are left out of the JSON when empty, zero or `None`;
//!   the others are always written (an unset optional one as `null`);
//! - decoding is lenient as Go's is: a missing field or a `null` takes the zero value, and
//!   unknown fields (from a newer server) are ignored.

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::{BigInt, Timestamp};
use webrpc_core::serde_go::{is_zero, null_as_default};

/// A JSON object of arbitrary values (`map<string, any>`), such as a collection's
/// `properties` or one entry of its `attributes`.
pub type Properties = Map<String, Value>;

/// A collection: the contract-level metadata of an NFT collection, with its tokens' metadata
/// and assets hosted by Sequence.
///
/// Created private; [`PublishCollection`](crate::PublishCollection) makes its metadata
/// public under [`base_uris`](Self::base_uris).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Collection {
    /// `id`, the collection's id (omitted when 0, as in a create request).
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub id: u64,
    /// `projectId`, the Sequence project owning it (omitted when 0).
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub project_id: u64,
    /// `metadata`, the contract-level metadata (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<CollectionMetadata>,
    /// `private`: whether the metadata is hidden from the public `baseURIs`.
    #[serde(deserialize_with = "null_as_default")]
    pub private: bool,
    /// `revealKey` (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub reveal_key: String,
    /// `tokenCount`, the number of tokens (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_count: Option<u64>,
    /// `createdAt`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub created_at: Timestamp,
    /// `updatedAt`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub updated_at: Timestamp,
    /// `deletedAt` (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<Timestamp>,
    /// `baseURIs`, where the published metadata is served (omitted when `None`).
    #[serde(rename = "baseURIs", skip_serializing_if = "Option::is_none")]
    pub base_uris: Option<CollectionBaseURIs>,
    /// `assets` (omitted when empty).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub assets: Vec<Asset>,
}

/// A collection's contract-level metadata, as served at its `contractMetadataURI`
/// (OpenSea's contract-level metadata shape).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CollectionMetadata {
    /// `name`, the collection's name (required by the schema, always written).
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// `description`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
    /// `image`, an image URL (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub image: String,
    /// `external_link` (snake_case on the wire; omitted when empty). Decoding also accepts
    /// `externalLink`, the name the published OpenAPI document uses.
    #[serde(
        rename = "external_link",
        alias = "externalLink",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub external_link: String,
    /// `properties`, arbitrary JSON (omitted when empty).
    #[serde(
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub properties: Properties,
    /// `attributes`, a list of arbitrary JSON objects (omitted when empty).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub attributes: Vec<Properties>,
}

/// Where a published collection's metadata is served.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CollectionBaseURIs {
    /// `contractMetadataURI`, the contract-level metadata (what `contractURI()` returns),
    /// e.g. `https://metadata.sequence.app/projects/30957/collections/887.json`.
    #[serde(rename = "contractMetadataURI", deserialize_with = "null_as_default")]
    pub contract_metadata_uri: String,
    /// `tokenMetadataURI`, the base of token-level metadata (what ERC-721/1155 `uri(id)`
    /// builds on), e.g. `https://metadata.sequence.app/projects/30957/collections/887/tokens/`.
    #[serde(rename = "tokenMetadataURI", deserialize_with = "null_as_default")]
    pub token_metadata_uri: String,
}

/// A deployed contract linked to a collection.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContractCollection {
    /// `id` (omitted when 0).
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub id: u64,
    /// `chainId`, the chain the contract lives on.
    #[serde(deserialize_with = "null_as_default")]
    pub chain_id: u64,
    /// `contractAddress`, hex, lower-cased by the server.
    #[serde(deserialize_with = "null_as_default")]
    pub contract_address: String,
    /// `collectionId`, the collection the contract takes its metadata from.
    #[serde(deserialize_with = "null_as_default")]
    pub collection_id: u64,
}

/// A file (image, video, audio…) attached to a collection or one of its tokens; its bytes are
/// uploaded outside webrpc (`PUT /projects/{projectId}/collections/{collectionId}/assets/{assetId}/upload`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Asset {
    /// `id`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub id: u64,
    /// `collectionId`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub collection_id: u64,
    /// `tokenId`: the token the asset belongs to, `null` for a collection-level asset
    /// (always written).
    pub token_id: Option<BigInt>,
    /// `url`, where the asset is served, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub url: String,
    /// `metadataField`, the metadata field the asset fills: `image`, `video`, `audio`,
    /// `animation_url`… (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub metadata_field: String,
    /// `filename` (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub filename: String,
    /// `filesize` in bytes (omitted when 0).
    #[serde(skip_serializing_if = "is_zero", deserialize_with = "null_as_default")]
    pub filesize: u32,
    /// `mimeType` (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub mime_type: String,
    /// `width` in pixels (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u16>,
    /// `height` in pixels (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u16>,
    /// `updatedAt`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub updated_at: Timestamp,
}

/// One token's metadata (the ERC-721/1155 metadata JSON shape, with Sequence's additions).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct TokenMetadata {
    /// `chainId` (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// `contractAddress` (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub contract_address: String,
    /// `tokenId`, the token id in decimal, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub token_id: String,
    /// `source`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub source: String,
    /// `name`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    /// `description`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub description: String,
    /// `image`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub image: String,
    /// `video` (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub video: String,
    /// `audio` (omitted when empty).
    #[serde(
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub audio: String,
    /// `properties`, arbitrary JSON, always written (`{}` when empty; `null` decodes as
    /// empty).
    #[serde(deserialize_with = "null_as_default")]
    pub properties: Properties,
    /// `attributes`, always written (`[]` when empty; `null` decodes as empty).
    #[serde(deserialize_with = "null_as_default")]
    pub attributes: Vec<Properties>,
    /// `image_data` (snake_case; omitted when empty).
    #[serde(
        rename = "image_data",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub image_data: String,
    /// `external_url` (snake_case; omitted when empty).
    #[serde(
        rename = "external_url",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub external_url: String,
    /// `background_color` (snake_case; omitted when empty).
    #[serde(
        rename = "background_color",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub background_color: String,
    /// `animation_url` (snake_case; omitted when empty).
    #[serde(
        rename = "animation_url",
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub animation_url: String,
    /// `decimals` (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u64>,
    /// `updatedAt`, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub updated_at: Timestamp,
    /// `assets` (omitted when empty).
    #[serde(
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub assets: Vec<Asset>,
    /// `status`, whether the metadata is available, always written.
    #[serde(deserialize_with = "null_as_default")]
    pub status: ResourceStatus,
    /// `queuedAt`: the schema marks it optional but not omitted, so an unset value is
    /// written as `null`, as Go's generated code does.
    pub queued_at: Option<Timestamp>,
    /// `lastFetched` (omitted when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_fetched: Option<Timestamp>,
}

/// Whether a resource (a token's metadata) can be served. Sent as its name.
///
/// An unknown name (from a newer server) decodes as [`NotAvailable`](Self::NotAvailable), as
/// Go's generated decoder maps it to 0, rather than failing the whole response.
///
/// ```
/// use sequence_metadata::ResourceStatus;
///
/// assert_eq!(serde_json::to_string(&ResourceStatus::Available).unwrap(), r#""AVAILABLE""#);
/// assert_eq!(serde_json::from_str::<ResourceStatus>(r#""REFRESHING""#).unwrap(), ResourceStatus::Refreshing);
/// assert_eq!(ResourceStatus::default(), ResourceStatus::NotAvailable);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ResourceStatus {
    /// `NOT_AVAILABLE` (0).
    #[default]
    NotAvailable,
    /// `REFRESHING` (1).
    Refreshing,
    /// `AVAILABLE` (2).
    Available,
}

impl ResourceStatus {
    /// Every status, in value order.
    pub const ALL: [ResourceStatus; 3] = [
        ResourceStatus::NotAvailable,
        ResourceStatus::Refreshing,
        ResourceStatus::Available,
    ];

    /// The wire name: `NOT_AVAILABLE`, `REFRESHING` or `AVAILABLE`.
    pub const fn name(self) -> &'static str {
        match self {
            ResourceStatus::NotAvailable => "NOT_AVAILABLE",
            ResourceStatus::Refreshing => "REFRESHING",
            ResourceStatus::Available => "AVAILABLE",
        }
    }

    /// The schema's numeric value (0, 1, 2); it never appears on the wire.
    pub const fn value(self) -> u8 {
        self as u8
    }

    /// The status with this wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl std::fmt::Display for ResourceStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for ResourceStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for ResourceStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = ResourceStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a ResourceStatus name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<ResourceStatus, E> {
                Ok(ResourceStatus::from_name(name).unwrap_or_default())
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A page of a list: what the client asks for and what the server answers with. Every field
/// is optional and omitted when unset; a typical answer is `{"pageSize":30,"more":false}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Page {
    /// `page`, the page number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// `column`, the column a cursor refers to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// `before`, an opaque cursor (any JSON value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    /// `after`, an opaque cursor (any JSON value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// `pageSize`, the number of items per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    /// `more`: whether there are more pages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub more: Option<bool>,
}
