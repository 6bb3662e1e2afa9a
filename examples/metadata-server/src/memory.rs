//! [`MemoryStore`]: the [`Store`] in process memory, for tests, benchmarks and throwaway
//! servers (`--store memory`).
//!
//! It is a separate implementation of the same semantics as the SQLite store (see
//! [`store`](super::store)), not SQLite's `:memory:`: maps behind one `RwLock`, so reads run
//! in parallel and each write is atomic. Deleted rows are kept with their `deletedAt`, as in
//! SQLite, and skipped by every read. Everything is lost when the process ends.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use sequence_metadata::{
    Asset, Collection, CollectionMetadata, ContractCollection, Timestamp, TokenMetadata,
};

use super::store::{
    encoded_len, fill_page, next_timestamp, stored_token, ContractUpdate, PageFill, PageRequest,
    Paged, Store, StoreError, StoreResult,
};

/// The [`Store`] in process memory. See the module docs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    last_collection_id: u64,
    last_token_seq: u64,
    last_contract_id: u64,
    last_asset_id: u64,
    collections: BTreeMap<u64, CollectionRow>,
    /// Live collection ids of each project.
    by_project: HashMap<u64, BTreeSet<u64>>,
    contracts: BTreeMap<u64, ContractRow>,
    /// Live contract links by (project, chain id, address).
    contract_keys: HashMap<(u64, u64, String), u64>,
    assets: BTreeMap<u64, AssetRow>,
}

#[derive(Debug)]
struct CollectionRow {
    /// `id`, `projectId`, `metadata`, `private`, `revealKey`, `createdAt`, `updatedAt`,
    /// `deletedAt`; `tokenCount` and `baseURIs` are filled in on the way out.
    collection: Collection,
    /// Every token ever added, by creation sequence.
    tokens: BTreeMap<u64, TokenRow>,
    /// Live tokens: token id → creation sequence.
    token_keys: HashMap<String, u64>,
}

#[derive(Debug)]
struct TokenRow {
    token: TokenMetadata,
    private: bool,
    deleted_at: Option<Timestamp>,
}

#[derive(Debug)]
struct ContractRow {
    project: u64,
    link: ContractCollection,
    deleted_at: Option<Timestamp>,
}

#[derive(Debug)]
struct AssetRow {
    project: u64,
    asset: Asset,
    deleted_at: Option<Timestamp>,
}

fn collection_not_found(id: u64) -> StoreError {
    StoreError::NotFound(format!("collection {id}"))
}

fn token_not_found(collection_id: u64, token_id: &str) -> StoreError {
    StoreError::NotFound(format!("token {token_id} of collection {collection_id}"))
}

/// The rows of a list from `page` on: those with ids after its cursor, or past its offset.
fn from_page<'a, T: 'a>(
    rows: &'a BTreeMap<u64, T>,
    page: PageRequest,
) -> Box<dyn Iterator<Item = (&'a u64, &'a T)> + 'a> {
    match page.after {
        Some(after) => Box::new(rows.range(after.saturating_add(1)..)),
        None => Box::new(rows.iter()),
    }
}

/// Skips `page`'s offset (none after a cursor).
fn skip_offset<I: Iterator>(rows: I, page: PageRequest) -> std::iter::Skip<I> {
    rows.skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
}

impl CollectionRow {
    fn is_live(&self) -> bool {
        self.collection.deleted_at.is_none()
    }

    fn output(&self) -> Collection {
        let mut out = self.collection.clone();
        out.token_count = Some(self.token_keys.len() as u64);
        out
    }

    fn live_token(&self, token_id: &str) -> Option<&TokenRow> {
        self.token_keys
            .get(token_id)
            .and_then(|seq| self.tokens.get(seq))
    }
}

impl State {
    fn collection(&self, project: u64, id: u64) -> StoreResult<&CollectionRow> {
        self.collections
            .get(&id)
            .filter(|row| row.collection.project_id == project && row.is_live())
            .ok_or_else(|| collection_not_found(id))
    }

    fn collection_mut(&mut self, project: u64, id: u64) -> StoreResult<&mut CollectionRow> {
        self.collections
            .get_mut(&id)
            .filter(|row| row.collection.project_id == project && row.is_live())
            .ok_or_else(|| collection_not_found(id))
    }

    fn contract_id_by_key(&self, project: u64, chain_id: u64, address: &str) -> StoreResult<u64> {
        self.contract_keys
            .get(&(project, chain_id, address.to_owned()))
            .copied()
            .ok_or_else(|| StoreError::NotFound(format!("contract {address} on chain {chain_id}")))
    }

    /// Checks an asset's collection and token exist in the project.
    fn check_asset_target(&self, project: u64, asset: &Asset) -> StoreResult<()> {
        let row = self.collection(project, asset.collection_id)?;
        if let Some(token_id) = &asset.token_id {
            if row.live_token(token_id.as_str()).is_none() {
                return Err(token_not_found(asset.collection_id, token_id.as_str()));
            }
        }
        Ok(())
    }

    fn live_asset(&self, project: u64, id: u64) -> StoreResult<&AssetRow> {
        self.assets
            .get(&id)
            .filter(|row| row.project == project && row.deleted_at.is_none())
            .ok_or_else(|| StoreError::NotFound(format!("asset {id}")))
    }

    /// Soft-deletes the live assets matching `filter`.
    fn delete_assets_where(&mut self, now: Timestamp, filter: impl Fn(&Asset) -> bool) {
        for row in self.assets.values_mut() {
            if row.deleted_at.is_none() && filter(&row.asset) {
                row.deleted_at = Some(now);
            }
        }
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    // A panic while a guard is held cannot leave a write half-done in a way later calls
    // would trip on (every write checks before it mutates), so poisoning is ignored.
    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    const BLOCKING: bool = false;

    fn create_collection(
        &self,
        project: u64,
        metadata: CollectionMetadata,
        reveal_key: String,
    ) -> StoreResult<Collection> {
        let mut state = self.write();
        state.last_collection_id += 1;
        let id = state.last_collection_id;
        let now = next_timestamp(None);
        let collection = Collection {
            id,
            project_id: project,
            metadata: Some(metadata),
            private: true,
            reveal_key,
            created_at: now,
            updated_at: now,
            ..Collection::default()
        };
        let row = CollectionRow {
            collection,
            tokens: BTreeMap::new(),
            token_keys: HashMap::new(),
        };
        let out = row.output();
        state.collections.insert(id, row);
        state.by_project.entry(project).or_default().insert(id);
        Ok(out)
    }

    fn get_collection(&self, project: u64, id: u64) -> StoreResult<Collection> {
        Ok(self.read().collection(project, id)?.output())
    }

    fn list_collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<Collection>> {
        let state = self.read();
        let Some(ids) = state.by_project.get(&project) else {
            return Ok(Paged::empty());
        };
        let ids: Box<dyn Iterator<Item = &u64>> = match page.after {
            Some(after) => Box::new(ids.range(after.saturating_add(1)..)),
            None => Box::new(ids.iter()),
        };
        let rows = skip_offset(ids.filter_map(|id| state.collections.get(id)), page).map(Ok);
        fill_page(
            rows,
            page,
            |row| (row.collection.id, encoded_len(&row.collection)),
            |row| Ok(row.output()),
        )
    }

    fn update_collection(
        &self,
        project: u64,
        id: u64,
        metadata: CollectionMetadata,
        reveal_key: String,
    ) -> StoreResult<Collection> {
        let mut state = self.write();
        let row = state.collection_mut(project, id)?;
        row.collection.metadata = Some(metadata);
        row.collection.reveal_key = reveal_key;
        row.collection.updated_at = next_timestamp(Some(row.collection.updated_at));
        Ok(row.output())
    }

    fn delete_collection(&self, project: u64, id: u64) -> StoreResult<()> {
        let mut state = self.write();
        let now = Timestamp::now();
        let row = state.collection_mut(project, id)?;
        row.collection.deleted_at = Some(now);
        for seq in std::mem::take(&mut row.token_keys).into_values() {
            if let Some(token) = row.tokens.get_mut(&seq) {
                token.deleted_at = Some(now);
            }
        }
        if let Some(ids) = state.by_project.get_mut(&project) {
            ids.remove(&id);
        }
        state.delete_assets_where(now, |asset| asset.collection_id == id);
        let State {
            contracts,
            contract_keys,
            ..
        } = &mut *state;
        for row in contracts.values_mut() {
            if row.deleted_at.is_none() && row.project == project && row.link.collection_id == id {
                row.deleted_at = Some(now);
                contract_keys.remove(&(
                    project,
                    row.link.chain_id,
                    row.link.contract_address.clone(),
                ));
            }
        }
        Ok(())
    }

    fn set_collection_private(
        &self,
        project: u64,
        id: u64,
        private: bool,
        recursive: bool,
    ) -> StoreResult<Collection> {
        let mut state = self.write();
        let row = state.collection_mut(project, id)?;
        row.collection.private = private;
        row.collection.updated_at = next_timestamp(Some(row.collection.updated_at));
        if recursive {
            let CollectionRow {
                tokens, token_keys, ..
            } = row;
            for seq in token_keys.values() {
                if let Some(token) = tokens.get_mut(seq) {
                    if token.private != private {
                        token.private = private;
                        token.token.updated_at = next_timestamp(Some(token.token.updated_at));
                    }
                }
            }
        }
        Ok(row.output())
    }

    fn create_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: String,
        collection_id: u64,
    ) -> StoreResult<ContractCollection> {
        let mut state = self.write();
        state.collection(project, collection_id)?;
        let key = (project, chain_id, contract_address.clone());
        if state.contract_keys.contains_key(&key) {
            return Err(StoreError::Conflict(format!(
                "contract {contract_address} on chain {chain_id} is already linked to a collection"
            )));
        }
        state.last_contract_id += 1;
        let id = state.last_contract_id;
        let link = ContractCollection {
            id,
            chain_id,
            contract_address,
            collection_id,
        };
        state.contracts.insert(
            id,
            ContractRow {
                project,
                link: link.clone(),
                deleted_at: None,
            },
        );
        state.contract_keys.insert(key, id);
        Ok(link)
    }

    fn get_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: &str,
    ) -> StoreResult<ContractCollection> {
        let state = self.read();
        let id = state.contract_id_by_key(project, chain_id, contract_address)?;
        state
            .contracts
            .get(&id)
            .map(|row| row.link.clone())
            .ok_or_else(|| {
                StoreError::Internal(format!("contract index points to missing row {id}"))
            })
    }

    fn list_contract_collections(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<(Paged<ContractCollection>, Vec<Collection>)> {
        let state = self.read();
        if let Some(id) = collection_id {
            state.collection(project, id)?;
        }
        let rows = skip_offset(
            from_page(&state.contracts, page)
                .map(|(_, row)| row)
                .filter(|row| {
                    row.project == project
                        && row.deleted_at.is_none()
                        && collection_id.is_none_or(|id| row.link.collection_id == id)
                }),
            page,
        );
        // The collections sent along count against the page's budget with their first link.
        let mut fill = PageFill::new(page);
        let mut links = Vec::new();
        let mut seen = BTreeSet::new();
        let mut collections = Vec::new();
        let mut more = false;
        for row in rows {
            let new = !seen.contains(&row.link.collection_id);
            let collection = if new {
                Some(state.collection(project, row.link.collection_id)?)
            } else {
                None
            };
            let bytes =
                encoded_len(&row.link) + collection.map_or(0, |c| encoded_len(&c.collection));
            if !fill.admit(bytes) {
                more = true;
                break;
            }
            if let Some(c) = collection {
                seen.insert(row.link.collection_id);
                collections.push(c.output());
            }
            links.push(row.link.clone());
        }
        let next = more
            .then(|| links.last().map(|l: &ContractCollection| l.id))
            .flatten();
        Ok((
            Paged {
                items: links,
                more,
                next,
            },
            collections,
        ))
    }

    fn update_contract_collection(
        &self,
        project: u64,
        update: ContractUpdate,
    ) -> StoreResult<ContractCollection> {
        let mut state = self.write();
        let id = match update.id {
            Some(id) => state
                .contracts
                .get(&id)
                .filter(|row| row.project == project && row.deleted_at.is_none())
                .map(|_| id)
                .ok_or_else(|| StoreError::NotFound(format!("contract collection {id}")))?,
            None => state.contract_id_by_key(project, update.chain_id, &update.contract_address)?,
        };
        state.collection(project, update.collection_id)?;
        let new_key = (project, update.chain_id, update.contract_address.clone());
        if state
            .contract_keys
            .get(&new_key)
            .is_some_and(|&other| other != id)
        {
            return Err(StoreError::Conflict(format!(
                "contract {} on chain {} is already linked to a collection",
                update.contract_address, update.chain_id
            )));
        }
        let State {
            contracts,
            contract_keys,
            ..
        } = &mut *state;
        let row = contracts
            .get_mut(&id)
            .ok_or_else(|| StoreError::Internal(format!("contract row {id} vanished")))?;
        contract_keys.remove(&(
            project,
            row.link.chain_id,
            row.link.contract_address.clone(),
        ));
        row.link.chain_id = update.chain_id;
        row.link.contract_address = update.contract_address;
        row.link.collection_id = update.collection_id;
        contract_keys.insert(new_key, id);
        Ok(row.link.clone())
    }

    fn delete_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: &str,
    ) -> StoreResult<()> {
        let mut state = self.write();
        let id = state.contract_id_by_key(project, chain_id, contract_address)?;
        state
            .contract_keys
            .remove(&(project, chain_id, contract_address.to_owned()));
        if let Some(row) = state.contracts.get_mut(&id) {
            row.deleted_at = Some(Timestamp::now());
        }
        Ok(())
    }

    fn create_token(
        &self,
        project: u64,
        collection_id: u64,
        token: TokenMetadata,
        private: Option<bool>,
    ) -> StoreResult<TokenMetadata> {
        let mut state = self.write();
        let token_id = token.token_id.clone();
        let row = state.collection(project, collection_id)?;
        if row.token_keys.contains_key(&token_id) {
            return Err(StoreError::Conflict(format!(
                "token {token_id} already exists in collection {collection_id}"
            )));
        }
        let private = private.unwrap_or(row.collection.private);
        state.last_token_seq += 1;
        let seq = state.last_token_seq;
        let token = stored_token(token, &token_id, next_timestamp(None));
        let row = state.collection_mut(project, collection_id)?;
        row.tokens.insert(
            seq,
            TokenRow {
                token: token.clone(),
                private,
                deleted_at: None,
            },
        );
        row.token_keys.insert(token_id, seq);
        Ok(token)
    }

    fn get_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
    ) -> StoreResult<(TokenMetadata, Vec<Asset>)> {
        let state = self.read();
        let token = state
            .collection(project, collection_id)?
            .live_token(token_id)
            .ok_or_else(|| token_not_found(collection_id, token_id))?
            .token
            .clone();
        let assets = state
            .assets
            .values()
            .filter(|row| {
                row.deleted_at.is_none()
                    && row.asset.collection_id == collection_id
                    && row
                        .asset
                        .token_id
                        .as_ref()
                        .is_some_and(|t| t.as_str() == token_id)
            })
            .map(|row| row.asset.clone())
            .collect();
        Ok((token, assets))
    }

    fn list_tokens(
        &self,
        project: u64,
        collection_id: u64,
        page: PageRequest,
    ) -> StoreResult<Paged<TokenMetadata>> {
        let state = self.read();
        let row = state.collection(project, collection_id)?;
        let rows = skip_offset(
            from_page(&row.tokens, page).filter(|(_, t)| t.deleted_at.is_none()),
            page,
        )
        .map(Ok);
        fill_page(
            rows,
            page,
            |(seq, t)| (**seq, encoded_len(&t.token)),
            |(_, t)| Ok(t.token.clone()),
        )
    }

    fn update_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
        token: TokenMetadata,
        private: Option<bool>,
    ) -> StoreResult<TokenMetadata> {
        let mut state = self.write();
        let row = state.collection_mut(project, collection_id)?;
        let seq = *row
            .token_keys
            .get(token_id)
            .ok_or_else(|| token_not_found(collection_id, token_id))?;
        let stored = row.tokens.get_mut(&seq).ok_or_else(|| {
            StoreError::Internal(format!("token index points to missing row {seq}"))
        })?;
        stored.token = stored_token(
            token,
            token_id,
            next_timestamp(Some(stored.token.updated_at)),
        );
        if let Some(private) = private {
            stored.private = private;
        }
        Ok(stored.token.clone())
    }

    fn delete_token(&self, project: u64, collection_id: u64, token_id: &str) -> StoreResult<()> {
        let mut state = self.write();
        let now = Timestamp::now();
        let row = state.collection_mut(project, collection_id)?;
        let seq = row
            .token_keys
            .remove(token_id)
            .ok_or_else(|| token_not_found(collection_id, token_id))?;
        if let Some(token) = row.tokens.get_mut(&seq) {
            token.deleted_at = Some(now);
        }
        state.delete_assets_where(now, |asset| {
            asset.collection_id == collection_id
                && asset
                    .token_id
                    .as_ref()
                    .is_some_and(|t| t.as_str() == token_id)
        });
        Ok(())
    }

    fn create_asset(&self, project: u64, mut asset: Asset) -> StoreResult<Asset> {
        let mut state = self.write();
        state.check_asset_target(project, &asset)?;
        state.last_asset_id += 1;
        asset.id = state.last_asset_id;
        asset.updated_at = next_timestamp(None);
        state.assets.insert(
            asset.id,
            AssetRow {
                project,
                asset: asset.clone(),
                deleted_at: None,
            },
        );
        Ok(asset)
    }

    fn get_asset(&self, project: u64, id: u64) -> StoreResult<Asset> {
        Ok(self.read().live_asset(project, id)?.asset.clone())
    }

    fn update_asset(&self, project: u64, mut asset: Asset) -> StoreResult<Asset> {
        let mut state = self.write();
        let previous = state.live_asset(project, asset.id)?.asset.updated_at;
        state.check_asset_target(project, &asset)?;
        asset.updated_at = next_timestamp(Some(previous));
        let row = state
            .assets
            .get_mut(&asset.id)
            .ok_or_else(|| StoreError::Internal(format!("asset row {} vanished", asset.id)))?;
        row.asset = asset.clone();
        Ok(asset)
    }

    fn delete_asset(&self, project: u64, id: u64) -> StoreResult<()> {
        let mut state = self.write();
        state.live_asset(project, id)?;
        if let Some(row) = state.assets.get_mut(&id) {
            row.deleted_at = Some(Timestamp::now());
        }
        Ok(())
    }

    fn public_collection(
        &self,
        project: u64,
        collection_id: u64,
    ) -> StoreResult<Option<CollectionMetadata>> {
        let state = self.read();
        Ok(state
            .collection(project, collection_id)
            .ok()
            .filter(|row| !row.collection.private)
            .map(|row| row.collection.metadata.clone().unwrap_or_default()))
    }

    fn public_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
    ) -> StoreResult<Option<TokenMetadata>> {
        let state = self.read();
        Ok(state
            .collection(project, collection_id)
            .ok()
            .filter(|row| !row.collection.private)
            .and_then(|row| row.live_token(token_id))
            .filter(|token| !token.private)
            .map(|token| token.token.clone()))
    }

    fn next_collection_id(&self) -> StoreResult<u64> {
        Ok(self.read().last_collection_id + 1)
    }
}
