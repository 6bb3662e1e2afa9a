//! The rules of the `Collections` service, written once over the row-level operations of a
//! [`Store`] ([`ReadTx`], [`WriteTx`](crate::store::WriteTx)): every store (memory, SQLite, and any other) gets the
//! same semantics by construction. Inputs arrive validated and normalised by
//! [`MetadataService`](crate::MetadataService) (token ids canonical, contract addresses
//! lower-cased, names non-empty); this module decides everything that needs the data:
//!
//! - **project scoping**: every row belongs to one project; a row of another project is
//!   "not found", exactly like a missing one;
//! - **ids** come from [`WriteTx::next_id`](crate::store::WriteTx::next_id): from 1, never reused;
//! - **timestamps**: `createdAt` once; `updatedAt` strictly increases with each write of a
//!   row ([`next_timestamp`]);
//! - **soft deletion**: deleting sets `deletedAt`; deleted rows are invisible to every read
//!   and free their unique keys; a deleted collection takes its tokens, assets and contract
//!   links with it, a deleted token its assets;
//! - **publishing**: collections are created private; tokens are created private when their
//!   collection is (unless the call says); `PublishCollection` with `recursive` opens the
//!   tokens too, `UnpublishCollection` closes the collection only;
//! - **unique keys**: a token id within a collection, a contract (chain, address) within a
//!   project: checked in the write transaction before the row is written
//!   ([`StoreError::Conflict`]);
//! - **pagination**: lists in id order with [`PageRequest`] (offset or `after` cursor),
//!   each page within [`MAX_PAGE_SIZE`](crate::store::MAX_PAGE_SIZE) rows and
//!   [`PAGE_BYTE_BUDGET`](crate::PAGE_BYTE_BUDGET) bytes;
//! - **a token's assets**: within [`TOKEN_ASSETS_BYTE_BUDGET`] bytes of JSON in all, since
//!   `GetToken` answers them unpaged ([`StoreError::TooLarge`] past it);
//! - **asset bytes**: an asset's uploaded content hash ([`AssetRow::content`]) is set only
//!   by [`upload_asset`]; writes that delete assets report the hashes they released
//!   ([`Released`]), whose files the caller removes after the commit when no live asset
//!   still uses them.

use sequence_metadata::{
    Asset, Collection, CollectionMetadata, ContractCollection, Timestamp, TokenMetadata,
};

use crate::store::{
    encoded_len, next_timestamp, stored_token, AssetRow, CollectionRow, CollectionScope,
    ContractRow, PageFill, PageRequest, Paged, ReadTx, Store, StoreError, StoreResult, Table,
    TokenRow, TOKEN_ASSETS_BYTE_BUDGET,
};

/// The content hashes of the assets a write deleted or replaced: their files may now be
/// unused (see [`AssetFiles::remove_unused`](crate::assets::AssetFiles::remove_unused)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Released(pub Vec<String>);

/// A contract link to update: found by `id` when given (then chain and address may change
/// too), otherwise by chain and address (then only the collection changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractUpdate {
    /// The link's id, or `None` to find it by chain and address.
    pub id: Option<u64>,
    /// The chain id (validated, non-zero).
    pub chain_id: u64,
    /// The contract address (validated, lower-cased).
    pub contract_address: String,
    /// The collection to link to.
    pub collection_id: u64,
}

/// The bytes an upload stored for an asset, as [`upload_asset`] records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedContent {
    /// The SHA-256 of the bytes (the file's name).
    pub content: String,
    /// The asset's new `url` (where the bytes are served).
    pub url: String,
    /// The file name the client sent.
    pub filename: String,
    /// The size in bytes.
    pub filesize: u32,
    /// The MIME type.
    pub mime_type: String,
    /// Width of an image.
    pub width: Option<u16>,
    /// Height of an image.
    pub height: Option<u16>,
}

fn collection_not_found(id: u64) -> StoreError {
    StoreError::NotFound(format!("collection {id}"))
}

fn token_not_found(collection_id: u64, token_id: &str) -> StoreError {
    StoreError::NotFound(format!("token {token_id} of collection {collection_id}"))
}

fn link_not_found(chain_id: u64, address: &str) -> StoreError {
    StoreError::NotFound(format!("contract {address} on chain {chain_id}"))
}

fn link_conflict(chain_id: u64, address: &str) -> StoreError {
    StoreError::Conflict(format!(
        "contract {address} on chain {chain_id} is already linked to a collection"
    ))
}

fn asset_not_found(id: u64) -> StoreError {
    StoreError::NotFound(format!("asset {id}"))
}

/// The live collection `id` of `project`.
fn live_collection<R: ReadTx + ?Sized>(tx: &R, project: u64, id: u64) -> StoreResult<Collection> {
    tx.collection(id)?
        .filter(|row| row.project_id == project)
        .ok_or_else(|| collection_not_found(id))
}

/// The scope of the live collection `id` of `project`.
fn scope<R: ReadTx + ?Sized>(tx: &R, project: u64, id: u64) -> StoreResult<CollectionScope> {
    tx.collection_scope(id)?
        .filter(|c| c.project_id == project)
        .ok_or_else(|| collection_not_found(id))
}

/// A collection as answered: with its `tokenCount`.
fn output<R: ReadTx + ?Sized>(tx: &R, mut row: CollectionRow) -> StoreResult<Collection> {
    row.token_count = Some(tx.token_count(row.id)?);
    Ok(row)
}

fn live_asset<R: ReadTx + ?Sized>(tx: &R, project: u64, id: u64) -> StoreResult<AssetRow> {
    tx.asset(id)?
        .filter(|row| row.project_id == project)
        .ok_or_else(|| asset_not_found(id))
}

/// Checks an asset's collection (and token) exist, live, in the project.
fn check_asset_target<R: ReadTx + ?Sized>(tx: &R, project: u64, asset: &Asset) -> StoreResult<()> {
    scope(tx, project, asset.collection_id)?;
    if let Some(token_id) = &asset.token_id {
        if tx.token(asset.collection_id, token_id)?.is_none() {
            return Err(token_not_found(asset.collection_id, token_id));
        }
    }
    Ok(())
}

/// Checks that `asset`, stored (or replacing the asset of its id) on its token, keeps the
/// token's live assets within [`TOKEN_ASSETS_BYTE_BUDGET`]. An asset of no token is not
/// answered by `GetToken` and has no budget. In a write transaction the token row read by
/// [`check_asset_target`] is locked, so two writers to one token's assets are counted one
/// after the other.
fn check_token_assets_budget<R: ReadTx + ?Sized>(tx: &R, asset: &Asset) -> StoreResult<()> {
    let Some(token_id) = &asset.token_id else {
        return Ok(());
    };
    let mut total = encoded_len(asset);
    for row in tx.token_assets(asset.collection_id, token_id)? {
        if row.asset.id != asset.id {
            total += encoded_len(&row.asset);
        }
    }
    if total > TOKEN_ASSETS_BYTE_BUDGET {
        return Err(StoreError::TooLarge(format!(
            "the assets of token {token_id} in collection {} would be {total} bytes as JSON; \
             at most {TOKEN_ASSETS_BYTE_BUDGET} bytes are allowed",
            asset.collection_id
        )));
    }
    Ok(())
}

/// Creates a private collection.
pub fn create_collection<S: Store>(
    store: &S,
    project: u64,
    metadata: CollectionMetadata,
    reveal_key: String,
) -> StoreResult<Collection> {
    store.write(|tx| {
        let now = next_timestamp(None);
        let row = Collection {
            id: tx.next_id(Table::Collections)?,
            project_id: project,
            metadata: Some(metadata),
            private: true,
            reveal_key,
            created_at: now,
            updated_at: now,
            ..Collection::default()
        };
        tx.insert_collection(&row)?;
        Ok(Collection {
            token_count: Some(0),
            ..row
        })
    })
}

/// Reads a collection, with its `tokenCount`.
pub fn get_collection<S: Store>(store: &S, project: u64, id: u64) -> StoreResult<Collection> {
    store.read(|tx| output(tx, live_collection(tx, project, id)?))
}

/// Lists the project's collections.
pub fn list_collections<S: Store>(
    store: &S,
    project: u64,
    page: PageRequest,
) -> StoreResult<Paged<Collection>> {
    store.read(|tx| {
        let listed = tx.collections(project, page)?;
        Ok(Paged {
            items: listed
                .items
                .into_iter()
                .map(|row| output(tx, row))
                .collect::<StoreResult<_>>()?,
            more: listed.more,
            next: listed.next,
        })
    })
}

/// Replaces a collection's metadata and reveal key.
pub fn update_collection<S: Store>(
    store: &S,
    project: u64,
    id: u64,
    metadata: CollectionMetadata,
    reveal_key: String,
) -> StoreResult<Collection> {
    store.write(|tx| {
        let mut row = live_collection(tx, project, id)?;
        row.metadata = Some(metadata);
        row.reveal_key = reveal_key;
        row.updated_at = next_timestamp(Some(row.updated_at));
        tx.update_collection(&row)?;
        output(tx, row)
    })
}

/// Soft-deletes a collection with its tokens, assets and contract links.
pub fn delete_collection<S: Store>(store: &S, project: u64, id: u64) -> StoreResult<Released> {
    store.write(|tx| {
        let mut row = live_collection(tx, project, id)?;
        let now = Timestamp::now();
        row.deleted_at = Some(now);
        tx.update_collection(&row)?;
        tx.update_tokens_of(id, &mut |token| {
            token.deleted_at = Some(now);
            true
        })?;
        let mut released = Vec::new();
        tx.update_assets_of(id, None, &mut |asset| {
            asset.deleted_at = Some(now);
            released.extend(asset.content.clone());
            true
        })?;
        tx.update_contracts_of(id, &mut |link| {
            link.deleted_at = Some(now);
            true
        })?;
        Ok(Released(released))
    })
}

/// Sets a collection's `private` flag (publish: `false`, unpublish: `true`); with
/// `recursive`, its tokens' too (each token whose flag changes gets a new `updatedAt`).
pub fn set_collection_private<S: Store>(
    store: &S,
    project: u64,
    id: u64,
    private: bool,
    recursive: bool,
) -> StoreResult<Collection> {
    store.write(|tx| {
        let mut row = live_collection(tx, project, id)?;
        row.private = private;
        row.updated_at = next_timestamp(Some(row.updated_at));
        tx.update_collection(&row)?;
        if recursive {
            tx.update_tokens_of(id, &mut |token| {
                if token.private == private {
                    return false;
                }
                token.private = private;
                token.token.updated_at = next_timestamp(Some(token.token.updated_at));
                true
            })?;
        }
        output(tx, row)
    })
}

/// Links a contract to a collection of the project.
pub fn create_contract_collection<S: Store>(
    store: &S,
    project: u64,
    chain_id: u64,
    contract_address: String,
    collection_id: u64,
) -> StoreResult<ContractCollection> {
    store.write(|tx| {
        scope(tx, project, collection_id)?;
        if tx
            .contract_by_key(project, chain_id, &contract_address)?
            .is_some()
        {
            return Err(link_conflict(chain_id, &contract_address));
        }
        let now = next_timestamp(None);
        let row = ContractRow {
            project_id: project,
            link: ContractCollection {
                id: tx.next_id(Table::Contracts)?,
                chain_id,
                contract_address,
                collection_id,
            },
            created_at: now,
            updated_at: now,
            deleted_at: None,
        };
        tx.insert_contract(&row)?;
        Ok(row.link)
    })
}

/// Reads the link of a contract.
pub fn get_contract_collection<S: Store>(
    store: &S,
    project: u64,
    chain_id: u64,
    contract_address: &str,
) -> StoreResult<ContractCollection> {
    store.read(|tx| {
        tx.contract_by_key(project, chain_id, contract_address)?
            .map(|row| row.link)
            .ok_or_else(|| link_not_found(chain_id, contract_address))
    })
}

/// Lists the project's contract links (of one collection when given), with the collections
/// they point to. Each collection sent along counts against the page's byte budget with its
/// first link.
pub fn list_contract_collections<S: Store>(
    store: &S,
    project: u64,
    collection_id: Option<u64>,
    page: PageRequest,
) -> StoreResult<(Paged<ContractCollection>, Vec<Collection>)> {
    store.read(|tx| {
        if let Some(id) = collection_id {
            scope(tx, project, id)?;
        }
        let candidates = tx.contracts(project, collection_id, page)?;
        let mut fill = PageFill::new(page);
        let mut links: Vec<ContractCollection> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut collections = Vec::new();
        let mut more = false;
        for row in candidates {
            let link = row.link;
            let collection = if seen.contains(&link.collection_id) {
                None
            } else {
                Some(output(
                    tx,
                    live_collection(tx, project, link.collection_id)?,
                )?)
            };
            let bytes = encoded_len(&link) + collection.as_ref().map_or(0, encoded_len);
            if !fill.admit(bytes) {
                more = true;
                break;
            }
            if let Some(collection) = collection {
                seen.insert(link.collection_id);
                collections.push(collection);
            }
            links.push(link);
        }
        let next = if more {
            links.last().map(|l| l.id)
        } else {
            None
        };
        Ok((
            Paged {
                items: links,
                more,
                next,
            },
            collections,
        ))
    })
}

/// Updates a contract link.
pub fn update_contract_collection<S: Store>(
    store: &S,
    project: u64,
    update: ContractUpdate,
) -> StoreResult<ContractCollection> {
    store.write(|tx| {
        let mut row = match update.id {
            Some(id) => tx
                .contract(id)?
                .filter(|row| row.project_id == project)
                .ok_or_else(|| StoreError::NotFound(format!("contract collection {id}")))?,
            None => tx
                .contract_by_key(project, update.chain_id, &update.contract_address)?
                .ok_or_else(|| link_not_found(update.chain_id, &update.contract_address))?,
        };
        scope(tx, project, update.collection_id)?;
        if let Some(other) =
            tx.contract_by_key(project, update.chain_id, &update.contract_address)?
        {
            if other.link.id != row.link.id {
                return Err(link_conflict(update.chain_id, &update.contract_address));
            }
        }
        row.link.chain_id = update.chain_id;
        row.link.contract_address = update.contract_address;
        row.link.collection_id = update.collection_id;
        row.updated_at = next_timestamp(Some(row.updated_at));
        tx.update_contract(&row)?;
        Ok(row.link)
    })
}

/// Soft-deletes a contract link.
pub fn delete_contract_collection<S: Store>(
    store: &S,
    project: u64,
    chain_id: u64,
    contract_address: &str,
) -> StoreResult<()> {
    store.write(|tx| {
        let mut row = tx
            .contract_by_key(project, chain_id, contract_address)?
            .ok_or_else(|| link_not_found(chain_id, contract_address))?;
        row.deleted_at = Some(Timestamp::now());
        tx.update_contract(&row)
    })
}

/// Adds a token (its `tokenId` canonical) to a collection; `private` defaults to the
/// collection's.
pub fn create_token<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
    token: TokenMetadata,
    private: Option<bool>,
) -> StoreResult<TokenMetadata> {
    store.write(|tx| {
        let collection = scope(tx, project, collection_id)?;
        let token_id = token.token_id.clone();
        if tx.token(collection_id, &token_id)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "token {token_id} already exists in collection {collection_id}"
            )));
        }
        let row = TokenRow {
            seq: tx.next_id(Table::Tokens)?,
            collection_id,
            token: stored_token(token, &token_id, next_timestamp(None)),
            private: private.unwrap_or(collection.private),
            deleted_at: None,
        };
        tx.insert_token(&row)?;
        Ok(row.token)
    })
}

/// Reads a token and its assets.
pub fn get_token<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
    token_id: &str,
) -> StoreResult<(TokenMetadata, Vec<Asset>)> {
    store.read(|tx| {
        scope(tx, project, collection_id)?;
        let token = tx
            .token(collection_id, token_id)?
            .ok_or_else(|| token_not_found(collection_id, token_id))?
            .token;
        let assets = tx
            .token_assets(collection_id, token_id)?
            .into_iter()
            .map(|row| row.asset)
            .collect();
        Ok((token, assets))
    })
}

/// Lists a collection's tokens.
pub fn list_tokens<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
    page: PageRequest,
) -> StoreResult<Paged<TokenMetadata>> {
    store.read(|tx| {
        scope(tx, project, collection_id)?;
        let listed = tx.tokens(collection_id, page)?;
        Ok(Paged {
            items: listed.items.into_iter().map(|row| row.token).collect(),
            more: listed.more,
            next: listed.next,
        })
    })
}

/// Replaces a token's metadata; sets its `private` flag when given.
pub fn update_token<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
    token_id: &str,
    token: TokenMetadata,
    private: Option<bool>,
) -> StoreResult<TokenMetadata> {
    store.write(|tx| {
        scope(tx, project, collection_id)?;
        let mut row = tx
            .token(collection_id, token_id)?
            .ok_or_else(|| token_not_found(collection_id, token_id))?;
        row.token = stored_token(token, token_id, next_timestamp(Some(row.token.updated_at)));
        if let Some(private) = private {
            row.private = private;
        }
        tx.update_token(&row)?;
        Ok(row.token)
    })
}

/// Soft-deletes a token and its assets.
pub fn delete_token<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
    token_id: &str,
) -> StoreResult<Released> {
    store.write(|tx| {
        scope(tx, project, collection_id)?;
        let mut row = tx
            .token(collection_id, token_id)?
            .ok_or_else(|| token_not_found(collection_id, token_id))?;
        let now = Timestamp::now();
        row.deleted_at = Some(now);
        tx.update_token(&row)?;
        let mut released = Vec::new();
        tx.update_assets_of(collection_id, Some(token_id), &mut |asset| {
            asset.deleted_at = Some(now);
            released.extend(asset.content.clone());
            true
        })?;
        Ok(Released(released))
    })
}

/// Adds an asset to a collection (and token, when `tokenId` is set) of the project. It has
/// no bytes until [`upload_asset`].
pub fn create_asset<S: Store>(store: &S, project: u64, mut asset: Asset) -> StoreResult<Asset> {
    store.write(|tx| {
        check_asset_target(tx, project, &asset)?;
        asset.id = tx.next_id(Table::Assets)?;
        asset.updated_at = next_timestamp(None);
        check_token_assets_budget(tx, &asset)?;
        let row = AssetRow {
            project_id: project,
            asset,
            content: None,
            deleted_at: None,
        };
        tx.insert_asset(&row)?;
        Ok(row.asset)
    })
}

/// Reads an asset.
pub fn get_asset<S: Store>(store: &S, project: u64, id: u64) -> StoreResult<Asset> {
    store.read(|tx| Ok(live_asset(tx, project, id)?.asset))
}

/// Replaces an asset (found by its `id`). Its uploaded bytes stay its own: a `url` set here
/// is stored as given and never changes which file the asset's public route serves.
pub fn update_asset<S: Store>(store: &S, project: u64, mut asset: Asset) -> StoreResult<Asset> {
    store.write(|tx| {
        let mut row = live_asset(tx, project, asset.id)?;
        check_asset_target(tx, project, &asset)?;
        asset.updated_at = next_timestamp(Some(row.asset.updated_at));
        check_token_assets_budget(tx, &asset)?;
        row.asset = asset;
        tx.update_asset(&row)?;
        Ok(row.asset)
    })
}

/// Soft-deletes an asset.
pub fn delete_asset<S: Store>(store: &S, project: u64, id: u64) -> StoreResult<Released> {
    store.write(|tx| {
        let mut row = live_asset(tx, project, id)?;
        row.deleted_at = Some(Timestamp::now());
        tx.update_asset(&row)?;
        Ok(Released(row.content.into_iter().collect()))
    })
}

/// Records the bytes an upload stored for the asset `id` of `collection`: its content hash
/// and the file fields. Answers the asset and the content it replaced (if different).
pub fn upload_asset<S: Store>(
    store: &S,
    project: u64,
    collection: u64,
    id: u64,
    uploaded: UploadedContent,
) -> StoreResult<(Asset, Released)> {
    store.write(|tx| {
        let mut row = live_asset(tx, project, id)?;
        if row.asset.collection_id != collection {
            return Err(asset_not_found(id));
        }
        let previous = row.content.replace(uploaded.content);
        row.asset.url = uploaded.url;
        row.asset.name = uploaded.filename;
        row.asset.filesize = uploaded.filesize;
        row.asset.mime_type = uploaded.mime_type;
        row.asset.width = uploaded.width;
        row.asset.height = uploaded.height;
        row.asset.updated_at = next_timestamp(Some(row.asset.updated_at));
        // Reads (and so locks) the token row, as the other asset writes do.
        check_asset_target(tx, project, &row.asset)?;
        check_token_assets_budget(tx, &row.asset)?;
        tx.update_asset(&row)?;
        let released = previous.filter(|p| Some(p) != row.content.as_ref());
        Ok((row.asset, Released(released.into_iter().collect())))
    })
}

/// The metadata of a collection that is public (exists, not deleted, not private).
pub fn public_collection<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
) -> StoreResult<Option<CollectionMetadata>> {
    store.read(|tx| Ok(public(tx, project, collection_id)?.map(|c| c.metadata.unwrap_or_default())))
}

fn public<R: ReadTx + ?Sized>(
    tx: &R,
    project: u64,
    collection_id: u64,
) -> StoreResult<Option<Collection>> {
    Ok(tx
        .collection(collection_id)?
        .filter(|c| c.project_id == project && !c.private))
}

/// Whether the collection is live, in `project` and public.
fn is_public<R: ReadTx + ?Sized>(tx: &R, project: u64, collection_id: u64) -> StoreResult<bool> {
    Ok(tx
        .collection_scope(collection_id)?
        .is_some_and(|c| c.project_id == project && !c.private))
}

/// A token that is public (its collection public, itself not private nor deleted).
pub fn public_token<S: Store>(
    store: &S,
    project: u64,
    collection_id: u64,
    token_id: &str,
) -> StoreResult<Option<TokenMetadata>> {
    store.read(|tx| {
        if !is_public(tx, project, collection_id)? {
            return Ok(None);
        }
        Ok(tx
            .token(collection_id, token_id)?
            .filter(|t| !t.private)
            .map(|t| t.token))
    })
}

/// The asset whose uploaded bytes are `content`, when its collection is public and the asset
/// is live, in `collection` of `project`, and really holds `content` (its stored hash, not
/// its user-settable `url`).
pub fn public_asset<S: Store>(
    store: &S,
    project: u64,
    collection: u64,
    id: u64,
    content: &str,
) -> StoreResult<Option<Asset>> {
    store.read(|tx| {
        if !is_public(tx, project, collection)? {
            return Ok(None);
        }
        Ok(tx
            .asset(id)?
            .filter(|row| {
                row.project_id == project
                    && row.asset.collection_id == collection
                    && row.content.as_deref() == Some(content)
            })
            .map(|row| row.asset))
    })
}

/// Whether a live asset uses the bytes `content`.
pub fn content_in_use<S: Store>(store: &S, content: &str) -> StoreResult<bool> {
    store.read(|tx| tx.content_in_use(content))
}

/// The id the next created collection will get (for the startup hint).
pub fn next_collection_id<S: Store>(store: &S) -> StoreResult<u64> {
    store.read(|tx| Ok(tx.last_id(Table::Collections)? + 1))
}
