//! [`MemoryStore`]: the [`Store`] in process memory, for tests, benchmarks and throwaway
//! servers (`--store memory`).
//!
//! Rows in maps behind one `RwLock`: reads take the read lock and run in parallel, a write
//! takes the write lock, so writes are serialised and atomic. A write keeps an undo log of
//! the rows it replaced (moved out, not copied) and puts them back if its closure fails, so
//! a failed write leaves nothing behind, as a rolled-back SQL transaction would. Deleted rows
//! are kept with their `deletedAt` and dropped from the live indexes that every read goes
//! through. Everything is lost when the process ends.

use std::collections::{BTreeSet, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::store::{
    caller_gone, encoded_len, fill_page, AssetRow, CollectionRow, CollectionScope, ContractRow,
    PageRequest, Paged, ReadTx, Store, StoreError, StoreResult, Table, TokenRow, WriteTx,
};

/// The [`Store`] in process memory. See the module docs.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The last id handed out per [`Table`] (indexed by `Table as usize`).
    last_ids: [u64; 4],
    collections: HashMap<u64, CollectionRow>,
    /// Live collection ids of each project.
    collections_of: HashMap<u64, BTreeSet<u64>>,
    tokens: HashMap<u64, TokenRow>,
    /// Live tokens of each collection: in `seq` order, and by token id.
    tokens_of: HashMap<u64, LiveTokens>,
    contracts: HashMap<u64, ContractRow>,
    /// Live links of each project, by id.
    contracts_of: HashMap<u64, BTreeSet<u64>>,
    /// Live links by (project, chain id, address).
    contract_keys: HashMap<(u64, u64, String), u64>,
    assets: HashMap<u64, AssetRow>,
    /// Live assets of each collection, by id.
    assets_of: HashMap<u64, BTreeSet<u64>>,
    /// Live assets per content hash.
    content_refs: HashMap<String, usize>,
}

#[derive(Debug, Default)]
struct LiveTokens {
    seqs: BTreeSet<u64>,
    keys: HashMap<String, u64>,
}

/// What a write replaced: the row before (`None`: there was none), put back on rollback.
#[derive(Debug)]
enum Undo {
    Collection(u64, Option<CollectionRow>),
    Token(u64, Option<TokenRow>),
    Contract(u64, Option<ContractRow>),
    Asset(u64, Option<AssetRow>),
}

/// The rows of `ids` from `page` on: those after its cursor, or past its offset.
fn page_ids<'a>(ids: &'a BTreeSet<u64>, page: PageRequest) -> impl Iterator<Item = u64> + 'a {
    let from = page.after.map_or(0, |after| after.saturating_add(1));
    ids.range(from..)
        .copied()
        .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
}

fn vanished(what: &str, id: u64) -> StoreError {
    StoreError::Internal(format!(
        "the live index of {what} points to missing row {id}"
    ))
}

impl State {
    /// Stores `row` as collection `id` (or removes it), keeping the live index; returns
    /// the row it replaced.
    fn put_collection(&mut self, id: u64, row: Option<CollectionRow>) -> Option<CollectionRow> {
        // The live index's key of a row: its project, while it is not deleted.
        let key = |row: &CollectionRow| row.deleted_at.is_none().then_some(row.project_id);
        let new_key = row.as_ref().and_then(key);
        let old = match row {
            Some(row) => self.collections.insert(id, row),
            None => self.collections.remove(&id),
        };
        let old_key = old.as_ref().and_then(key);
        // An update that keeps the row live in its project (the usual one) leaves the index.
        if old_key != new_key {
            if let Some(project) = old_key {
                if let Some(ids) = self.collections_of.get_mut(&project) {
                    ids.remove(&id);
                }
            }
            if let Some(project) = new_key {
                self.collections_of.entry(project).or_default().insert(id);
            }
        }
        old
    }

    fn put_token(&mut self, seq: u64, row: Option<TokenRow>) -> Option<TokenRow> {
        let old = match row {
            Some(row) => self.tokens.insert(seq, row),
            None => self.tokens.remove(&seq),
        };
        let is_live = |row: &&TokenRow| row.deleted_at.is_none();
        // An update that keeps the token live under the same key leaves the index.
        let unchanged = match (
            old.as_ref().filter(is_live),
            self.tokens.get(&seq).filter(is_live),
        ) {
            (Some(old), Some(new)) => {
                old.collection_id == new.collection_id && old.token.token_id == new.token.token_id
            }
            _ => false,
        };
        if unchanged {
            return old;
        }
        if let Some(old) = old.as_ref().filter(is_live) {
            if let Some(live) = self.tokens_of.get_mut(&old.collection_id) {
                live.seqs.remove(&seq);
                if live.keys.get(&old.token.token_id) == Some(&seq) {
                    live.keys.remove(&old.token.token_id);
                }
            }
        }
        if let Some(new) = self.tokens.get(&seq).filter(is_live) {
            let live = self.tokens_of.entry(new.collection_id).or_default();
            live.seqs.insert(seq);
            live.keys.insert(new.token.token_id.clone(), seq);
        }
        old
    }

    fn put_contract(&mut self, id: u64, row: Option<ContractRow>) -> Option<ContractRow> {
        let old = match row {
            Some(row) => self.contracts.insert(id, row),
            None => self.contracts.remove(&id),
        };
        if let Some(old) = &old {
            if old.deleted_at.is_none() {
                if let Some(ids) = self.contracts_of.get_mut(&old.project_id) {
                    ids.remove(&id);
                }
                let key = (
                    old.project_id,
                    old.link.chain_id,
                    old.link.contract_address.clone(),
                );
                if self.contract_keys.get(&key) == Some(&id) {
                    self.contract_keys.remove(&key);
                }
            }
        }
        if let Some(new) = self.contracts.get(&id) {
            if new.deleted_at.is_none() {
                self.contracts_of
                    .entry(new.project_id)
                    .or_default()
                    .insert(id);
                self.contract_keys.insert(
                    (
                        new.project_id,
                        new.link.chain_id,
                        new.link.contract_address.clone(),
                    ),
                    id,
                );
            }
        }
        old
    }

    fn put_asset(&mut self, id: u64, row: Option<AssetRow>) -> Option<AssetRow> {
        let old = match row {
            Some(row) => self.assets.insert(id, row),
            None => self.assets.remove(&id),
        };
        if let Some(old) = &old {
            if old.deleted_at.is_none() {
                if let Some(ids) = self.assets_of.get_mut(&old.asset.collection_id) {
                    ids.remove(&id);
                }
                if let Some(content) = &old.content {
                    if let Some(n) = self.content_refs.get_mut(content) {
                        *n -= 1;
                        if *n == 0 {
                            self.content_refs.remove(content);
                        }
                    }
                }
            }
        }
        if let Some(new) = self.assets.get(&id) {
            if new.deleted_at.is_none() {
                self.assets_of
                    .entry(new.asset.collection_id)
                    .or_default()
                    .insert(id);
                if let Some(content) = &new.content {
                    *self.content_refs.entry(content.clone()).or_default() += 1;
                }
            }
        }
        old
    }

    fn undo(&mut self, undo: Undo) {
        match undo {
            Undo::Collection(id, row) => {
                self.put_collection(id, row);
            }
            Undo::Token(seq, row) => {
                self.put_token(seq, row);
            }
            Undo::Contract(id, row) => {
                self.put_contract(id, row);
            }
            Undo::Asset(id, row) => {
                self.put_asset(id, row);
            }
        }
    }
}

impl ReadTx for State {
    fn collection(&self, id: u64) -> StoreResult<Option<CollectionRow>> {
        Ok(self
            .collections
            .get(&id)
            .filter(|row| row.deleted_at.is_none())
            .cloned())
    }

    fn collection_scope(&self, id: u64) -> StoreResult<Option<CollectionScope>> {
        Ok(self
            .collections
            .get(&id)
            .filter(|row| row.deleted_at.is_none())
            .map(|row| CollectionScope {
                project_id: row.project_id,
                private: row.private,
            }))
    }

    fn collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<CollectionRow>> {
        let Some(ids) = self.collections_of.get(&project) else {
            return Ok(Paged::empty());
        };
        let rows = page_ids(ids, page).map(|id| {
            self.collections
                .get(&id)
                .ok_or_else(|| vanished("collections", id))
        });
        fill_page(
            rows,
            page,
            |row| (row.id, encoded_len(*row)),
            |row| Ok(row.clone()),
        )
    }

    fn token_count(&self, collection_id: u64) -> StoreResult<u64> {
        Ok(self
            .tokens_of
            .get(&collection_id)
            .map_or(0, |live| live.keys.len() as u64))
    }

    fn token(&self, collection_id: u64, token_id: &str) -> StoreResult<Option<TokenRow>> {
        Ok(self
            .tokens_of
            .get(&collection_id)
            .and_then(|live| live.keys.get(token_id))
            .and_then(|seq| self.tokens.get(seq))
            .cloned())
    }

    fn tokens(&self, collection_id: u64, page: PageRequest) -> StoreResult<Paged<TokenRow>> {
        let Some(live) = self.tokens_of.get(&collection_id) else {
            return Ok(Paged::empty());
        };
        let rows = page_ids(&live.seqs, page)
            .map(|seq| self.tokens.get(&seq).ok_or_else(|| vanished("tokens", seq)));
        fill_page(
            rows,
            page,
            |row| (row.seq, encoded_len(&row.token)),
            |row| Ok(row.clone()),
        )
    }

    fn contract(&self, id: u64) -> StoreResult<Option<ContractRow>> {
        Ok(self
            .contracts
            .get(&id)
            .filter(|row| row.deleted_at.is_none())
            .cloned())
    }

    fn contract_by_key(
        &self,
        project: u64,
        chain_id: u64,
        address: &str,
    ) -> StoreResult<Option<ContractRow>> {
        Ok(self
            .contract_keys
            .get(&(project, chain_id, address.to_owned()))
            .and_then(|id| self.contracts.get(id))
            .cloned())
    }

    fn contracts(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<Vec<ContractRow>> {
        let Some(ids) = self.contracts_of.get(&project) else {
            return Ok(Vec::new());
        };
        let from = page.after.map_or(0, |after| after.saturating_add(1));
        ids.range(from..)
            .map(|id| {
                self.contracts
                    .get(id)
                    .ok_or_else(|| vanished("contracts", *id))
            })
            .filter(|row| {
                row.as_ref().map_or(true, |row| {
                    collection_id.is_none_or(|c| row.link.collection_id == c)
                })
            })
            .skip(usize::try_from(page.offset()).unwrap_or(usize::MAX))
            .take(page.page_size as usize + 1)
            .map(|row| row.cloned())
            .collect()
    }

    fn asset(&self, id: u64) -> StoreResult<Option<AssetRow>> {
        Ok(self
            .assets
            .get(&id)
            .filter(|row| row.deleted_at.is_none())
            .cloned())
    }

    fn token_assets(&self, collection_id: u64, token_id: &str) -> StoreResult<Vec<AssetRow>> {
        let Some(ids) = self.assets_of.get(&collection_id) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| self.assets.get(id))
            .filter(|row| row.asset.token_id.as_deref() == Some(token_id))
            .cloned()
            .collect())
    }

    fn content_in_use(&self, content: &str) -> StoreResult<bool> {
        Ok(self.content_refs.contains_key(content))
    }

    fn last_id(&self, table: Table) -> StoreResult<u64> {
        Ok(self.last_ids[table as usize])
    }
}

/// A write in progress: the state under the write lock, and how to undo it.
struct MemoryTx<'a> {
    state: &'a mut State,
    undo: Vec<Undo>,
}

impl ReadTx for MemoryTx<'_> {
    fn collection(&self, id: u64) -> StoreResult<Option<CollectionRow>> {
        self.state.collection(id)
    }
    fn collection_scope(&self, id: u64) -> StoreResult<Option<CollectionScope>> {
        self.state.collection_scope(id)
    }
    fn collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<CollectionRow>> {
        self.state.collections(project, page)
    }
    fn token_count(&self, collection_id: u64) -> StoreResult<u64> {
        self.state.token_count(collection_id)
    }
    fn token(&self, collection_id: u64, token_id: &str) -> StoreResult<Option<TokenRow>> {
        self.state.token(collection_id, token_id)
    }
    fn tokens(&self, collection_id: u64, page: PageRequest) -> StoreResult<Paged<TokenRow>> {
        self.state.tokens(collection_id, page)
    }
    fn contract(&self, id: u64) -> StoreResult<Option<ContractRow>> {
        self.state.contract(id)
    }
    fn contract_by_key(
        &self,
        project: u64,
        chain_id: u64,
        address: &str,
    ) -> StoreResult<Option<ContractRow>> {
        self.state.contract_by_key(project, chain_id, address)
    }
    fn contracts(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<Vec<ContractRow>> {
        self.state.contracts(project, collection_id, page)
    }
    fn asset(&self, id: u64) -> StoreResult<Option<AssetRow>> {
        self.state.asset(id)
    }
    fn token_assets(&self, collection_id: u64, token_id: &str) -> StoreResult<Vec<AssetRow>> {
        self.state.token_assets(collection_id, token_id)
    }
    fn content_in_use(&self, content: &str) -> StoreResult<bool> {
        self.state.content_in_use(content)
    }
    fn last_id(&self, table: Table) -> StoreResult<u64> {
        self.state.last_id(table)
    }
}

impl MemoryTx<'_> {
    fn unique_token(&self, row: &TokenRow) -> StoreResult<()> {
        let taken = self
            .state
            .tokens_of
            .get(&row.collection_id)
            .and_then(|live| live.keys.get(&row.token.token_id))
            .is_some_and(|&seq| seq != row.seq);
        if taken && row.deleted_at.is_none() {
            return Err(StoreError::Conflict(format!(
                "token {} already exists in collection {}",
                row.token.token_id, row.collection_id
            )));
        }
        Ok(())
    }

    fn unique_contract(&self, row: &ContractRow) -> StoreResult<()> {
        let key = (
            row.project_id,
            row.link.chain_id,
            row.link.contract_address.clone(),
        );
        let taken = self
            .state
            .contract_keys
            .get(&key)
            .is_some_and(|&id| id != row.link.id);
        if taken && row.deleted_at.is_none() {
            return Err(StoreError::Conflict(format!(
                "contract {} on chain {} is already linked to a collection",
                row.link.contract_address, row.link.chain_id
            )));
        }
        Ok(())
    }
}

impl WriteTx for MemoryTx<'_> {
    fn next_id(&mut self, table: Table) -> StoreResult<u64> {
        let last = &mut self.state.last_ids[table as usize];
        *last += 1;
        Ok(*last)
    }

    fn insert_collection(&mut self, row: &CollectionRow) -> StoreResult<()> {
        let old = self.state.put_collection(row.id, Some(row.clone()));
        self.undo.push(Undo::Collection(row.id, old));
        Ok(())
    }

    fn update_collection(&mut self, row: &CollectionRow) -> StoreResult<()> {
        self.insert_collection(row)
    }

    fn insert_token(&mut self, row: &TokenRow) -> StoreResult<()> {
        self.unique_token(row)?;
        let old = self.state.put_token(row.seq, Some(row.clone()));
        self.undo.push(Undo::Token(row.seq, old));
        Ok(())
    }

    fn update_token(&mut self, row: &TokenRow) -> StoreResult<()> {
        self.insert_token(row)
    }

    fn update_tokens_of(
        &mut self,
        collection_id: u64,
        change: &mut dyn FnMut(&mut TokenRow) -> bool,
    ) -> StoreResult<()> {
        let seqs: Vec<u64> = match self.state.tokens_of.get(&collection_id) {
            Some(live) => live.seqs.iter().copied().collect(),
            None => return Ok(()),
        };
        for seq in seqs {
            let mut row = self
                .state
                .tokens
                .get(&seq)
                .ok_or_else(|| vanished("tokens", seq))?
                .clone();
            if change(&mut row) {
                let old = self.state.put_token(seq, Some(row));
                self.undo.push(Undo::Token(seq, old));
            }
        }
        Ok(())
    }

    fn insert_contract(&mut self, row: &ContractRow) -> StoreResult<()> {
        self.unique_contract(row)?;
        let old = self.state.put_contract(row.link.id, Some(row.clone()));
        self.undo.push(Undo::Contract(row.link.id, old));
        Ok(())
    }

    fn update_contract(&mut self, row: &ContractRow) -> StoreResult<()> {
        self.insert_contract(row)
    }

    fn update_contracts_of(
        &mut self,
        collection_id: u64,
        change: &mut dyn FnMut(&mut ContractRow) -> bool,
    ) -> StoreResult<()> {
        let mut changed = Vec::new();
        for row in self.state.contracts.values() {
            if row.deleted_at.is_none() && row.link.collection_id == collection_id {
                let mut new = row.clone();
                if change(&mut new) {
                    changed.push(new);
                }
            }
        }
        changed.sort_by_key(|row| row.link.id);
        for row in changed {
            self.update_contract(&row)?;
        }
        Ok(())
    }

    fn insert_asset(&mut self, row: &AssetRow) -> StoreResult<()> {
        let old = self.state.put_asset(row.asset.id, Some(row.clone()));
        self.undo.push(Undo::Asset(row.asset.id, old));
        Ok(())
    }

    fn update_asset(&mut self, row: &AssetRow) -> StoreResult<()> {
        self.insert_asset(row)
    }

    fn update_assets_of(
        &mut self,
        collection_id: u64,
        token_id: Option<&str>,
        change: &mut dyn FnMut(&mut AssetRow) -> bool,
    ) -> StoreResult<()> {
        let ids: Vec<u64> = match self.state.assets_of.get(&collection_id) {
            Some(ids) => ids.iter().copied().collect(),
            None => return Ok(()),
        };
        for id in ids {
            let row = self
                .state
                .assets
                .get(&id)
                .ok_or_else(|| vanished("assets", id))?;
            if token_id.is_some_and(|t| row.asset.token_id.as_deref() != Some(t)) {
                continue;
            }
            let mut new = row.clone();
            if change(&mut new) {
                self.update_asset(&new)?;
            }
        }
        Ok(())
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    // A panic while the write guard is held leaves at worst the rows written so far (the
    // undo log runs only when the closure returns an error), each consistent with its
    // indexes; poisoning is ignored.
    fn read_lock(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_lock(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for MemoryStore {
    const BLOCKING: bool = false;

    fn read<T>(&self, f: impl FnOnce(&dyn ReadTx) -> StoreResult<T>) -> StoreResult<T> {
        let state = self.read_lock();
        f(&*state)
    }

    fn write<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> StoreResult<T>) -> StoreResult<T> {
        let mut state = self.write_lock();
        if caller_gone() {
            return Err(StoreError::Cancelled);
        }
        let last_ids = state.last_ids;
        let mut tx = MemoryTx {
            state: &mut state,
            undo: Vec::new(),
        };
        match f(&mut tx) {
            Ok(out) => Ok(out),
            Err(err) => {
                let MemoryTx { state, undo } = tx;
                for step in undo.into_iter().rev() {
                    state.undo(step);
                }
                // Like SQLite's rolled-back `sqlite_sequence`: the ids of a failed write
                // were never seen by anyone, so the counters go back too.
                state.last_ids = last_ids;
                Err(err)
            }
        }
    }
}
