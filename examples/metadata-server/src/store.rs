//! The storage contract of the Metadata server, implemented three times: by
//! [`SqliteStore`](super::SqliteStore) (a database file), by
//! [`PostgresStore`](super::PostgresStore) (a PostgreSQL database shared by many instances)
//! and by [`MemoryStore`](super::MemoryStore) (process memory).
//!
//! The [`Store`] trait is synchronous: SQLite and PostgreSQL calls block, so the service
//! runs them on tokio's blocking pool ([`Store::BLOCKING`]), while the memory store is
//! called inline.
//! Inputs reach the store already validated and normalised by the service (token ids in
//! canonical decimal, contract addresses lower-cased, names non-empty); the store enforces
//! what needs its data: existence within the caller's project, uniqueness, soft deletion,
//! ids and timestamps.
//!
//! Semantics every implementation shares (the `both_stores!` scenarios of
//! `tests/metadata_service.rs` and `tests/security_hostile.rs` run against all three):
//!
//! - every row belongs to one project; a row of another project is "not found";
//! - ids are assigned by the store, from 1, never reused;
//! - deleting sets `deletedAt`; deleted rows are invisible to every read, free their unique
//!   keys, and take their dependants with them (a collection its tokens, assets and contract
//!   links; a token its assets);
//! - collections are created private; tokens are created private when their collection is;
//! - `updatedAt` strictly increases with each write of a row;
//! - lists are ordered by creation (id) and paginated with [`PageRequest`], each page
//!   within [`MAX_PAGE_SIZE`] items and [`PAGE_BYTE_BUDGET`] bytes (`fill_page`, the one
//!   rule both stores apply while they read, so an oversized page is never loaded).

use sequence_metadata::{
    Asset, Collection, CollectionMetadata, ContractCollection, Page, Timestamp, TokenMetadata,
};
use serde::Serialize;

/// Default page size of list methods: 30.
pub const DEFAULT_PAGE_SIZE: u32 = 30;

/// Largest page size of list methods: 100 (a larger `pageSize` is capped).
pub const MAX_PAGE_SIZE: u32 = 100;

/// Largest stored entity: a collection (its metadata and reveal key), a token or an
/// asset whose JSON encoding is larger is refused with `ValidationFailed` (2004). 2 MiB:
/// far above real metadata (kilobytes), and a quarter of [`PAGE_BYTE_BUDGET`], so any
/// entity fits on a page.
pub const MAX_ENTITY_BYTES: usize = 2 * 1024 * 1024;

/// Byte budget of one list page: a page stops before the entities on it would exceed
/// 8 MiB of JSON (the first entity always goes on), and says `more: true` with an `after`
/// cursor where it stopped. A list answer stays within about 8.1 MiB (the budget plus the
/// envelope and per-item fields such as `baseURIs`), a quarter of the 32 MiB response limit
/// of this project's client.
pub const PAGE_BYTE_BUDGET: usize = 8 * 1024 * 1024;

const _: () = assert!(MAX_ENTITY_BYTES <= PAGE_BYTE_BUDGET);

/// The size of `value` encoded as JSON, counted without building the text.
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Encoding into a counter fails only for values that cannot be encoded at all (maps
    // with non-string keys), which metadata types cannot hold.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// A store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist in the caller's project, or was deleted. The text names it
    /// (`collection 7`).
    #[error("{0} not found")]
    NotFound(String),
    /// A unique key is taken. The text says which.
    #[error("{0}")]
    Conflict(String),
    /// The call's caller went away before the store started its work (checked once the
    /// store holds its write lock), so nothing was done.
    #[error("the call was cancelled before its store work started")]
    Cancelled,
    /// The storage itself failed. The text is for the server's log only: it may name SQL
    /// or files.
    #[error("storage failure: {0}")]
    Internal(String),
}

/// The result of a store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which page of a list to read: after a cursor, or by 1-based page number; and the page
/// size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// The page number, from 1 (ignored when [`after`](Self::after) is set).
    pub page: u32,
    /// The number of rows per page, 1 to [`MAX_PAGE_SIZE`].
    pub page_size: u32,
    /// The cursor of a previous answer: the page starts with the first row after the row
    /// with this id (ids only grow, so rows created meanwhile come at the end).
    pub after: Option<u64>,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

/// A cursor as clients send it back: the JSON number this server gives, or its decimal
/// text. Anything else is no cursor.
fn cursor(value: Option<&serde_json::Value>) -> Option<u64> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl PageRequest {
    /// The page a client asked for: no page or `page` 0 is page 1; no `pageSize` or 0 is
    /// [`DEFAULT_PAGE_SIZE`]; above [`MAX_PAGE_SIZE`] is capped. `after` is the cursor of
    /// a previous answer (see [`after`](Self::after)); `column` and `before` are not
    /// supported and ignored.
    pub fn from_page(page: Option<&Page>) -> Self {
        let requested = page.and_then(|p| p.page).unwrap_or(1);
        let size = page.and_then(|p| p.page_size).unwrap_or(DEFAULT_PAGE_SIZE);
        PageRequest {
            page: requested.max(1),
            page_size: match size {
                0 => DEFAULT_PAGE_SIZE,
                n => n.min(MAX_PAGE_SIZE),
            },
            after: cursor(page.and_then(|p| p.after.as_ref())),
        }
    }

    /// The number of rows skipped before this page: none after a cursor, else the rows of
    /// the pages before it.
    pub fn offset(&self) -> u64 {
        if self.after.is_some() {
            return 0;
        }
        u64::from(self.page - 1) * u64::from(self.page_size)
    }

    /// The page to answer with: this page's number and size, whether more rows follow and,
    /// when they do, the `after` cursor to continue with (`next`, the id of the page's last
    /// row).
    pub fn response(&self, more: bool, next: Option<u64>) -> Page {
        Page {
            page: Some(self.page),
            page_size: Some(self.page_size),
            more: Some(more),
            after: next.filter(|_| more).map(serde_json::Value::from),
            ..Page::default()
        }
    }
}

/// One page of rows and whether more rows follow.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    /// The rows of the page.
    pub items: Vec<T>,
    /// Whether rows follow this page.
    pub more: bool,
    /// When rows follow: the id of this page's last row, the `after` cursor of the next
    /// page.
    pub next: Option<u64>,
}

impl<T> Paged<T> {
    /// An empty last page.
    pub fn empty() -> Self {
        Paged {
            items: Vec::new(),
            more: false,
            next: None,
        }
    }
}

/// Keeps count while a page is filled: at most `page_size` rows and, past the first row,
/// at most [`PAGE_BYTE_BUDGET`] bytes of them.
#[derive(Debug)]
pub(crate) struct PageFill {
    rows: usize,
    limit: usize,
    bytes: usize,
}

impl PageFill {
    pub(crate) fn new(page: PageRequest) -> Self {
        PageFill {
            rows: 0,
            limit: page.page_size as usize,
            bytes: 0,
        }
    }

    /// Whether a row of `bytes` still goes on the page (and counts it if so). `false`
    /// means the page is full: it ends before this row, with `more: true`.
    pub(crate) fn admit(&mut self, bytes: usize) -> bool {
        if self.rows == self.limit || (self.rows > 0 && self.bytes + bytes > PAGE_BYTE_BUDGET) {
            return false;
        }
        self.rows += 1;
        self.bytes += bytes;
        true
    }
}

/// Fills one page from `rows` (in id order, already past the offset or cursor), the rule
/// both stores share: `measure` gives a row's id and size (its stored JSON), `take` turns
/// an admitted row into the item. Reading stops at the first row that does not fit, so a
/// store reading lazily never holds more than a page's worth.
pub(crate) fn fill_page<R, T>(
    rows: impl Iterator<Item = StoreResult<R>>,
    page: PageRequest,
    mut measure: impl FnMut(&R) -> (u64, usize),
    mut take: impl FnMut(R) -> StoreResult<T>,
) -> StoreResult<Paged<T>> {
    let mut fill = PageFill::new(page);
    let mut items = Vec::new();
    let mut last = None;
    for row in rows {
        let row = row?;
        let (id, bytes) = measure(&row);
        if !fill.admit(bytes) {
            return Ok(Paged {
                items,
                more: true,
                next: last,
            });
        }
        items.push(take(row)?);
        last = Some(id);
    }
    Ok(Paged {
        items,
        more: false,
        next: None,
    })
}

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

/// The storage behind the `Collections` service. See the module docs for the semantics.
///
/// `project` is always the caller's authenticated project.
pub trait Store: Send + Sync + 'static {
    /// Whether calls block on I/O and must run on a blocking thread.
    const BLOCKING: bool;

    /// Creates a private collection.
    fn create_collection(
        &self,
        project: u64,
        metadata: CollectionMetadata,
        reveal_key: String,
    ) -> StoreResult<Collection>;
    /// Reads a collection, with its `tokenCount`.
    fn get_collection(&self, project: u64, id: u64) -> StoreResult<Collection>;
    /// Lists the project's collections.
    fn list_collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<Collection>>;
    /// Replaces a collection's metadata and reveal key.
    fn update_collection(
        &self,
        project: u64,
        id: u64,
        metadata: CollectionMetadata,
        reveal_key: String,
    ) -> StoreResult<Collection>;
    /// Soft-deletes a collection with its tokens, assets and contract links.
    fn delete_collection(&self, project: u64, id: u64) -> StoreResult<()>;
    /// Sets a collection's `private` flag (publish: `false`, unpublish: `true`); with
    /// `recursive`, its tokens' too.
    fn set_collection_private(
        &self,
        project: u64,
        id: u64,
        private: bool,
        recursive: bool,
    ) -> StoreResult<Collection>;

    /// Links a contract to a collection of the project.
    fn create_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: String,
        collection_id: u64,
    ) -> StoreResult<ContractCollection>;
    /// Reads the link of a contract.
    fn get_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: &str,
    ) -> StoreResult<ContractCollection>;
    /// Lists the project's contract links (of one collection when given), with the
    /// collections they point to.
    fn list_contract_collections(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<(Paged<ContractCollection>, Vec<Collection>)>;
    /// Updates a contract link.
    fn update_contract_collection(
        &self,
        project: u64,
        update: ContractUpdate,
    ) -> StoreResult<ContractCollection>;
    /// Soft-deletes a contract link.
    fn delete_contract_collection(
        &self,
        project: u64,
        chain_id: u64,
        contract_address: &str,
    ) -> StoreResult<()>;

    /// Adds a token (its `tokenId` canonical) to a collection; `private` defaults to the
    /// collection's.
    fn create_token(
        &self,
        project: u64,
        collection_id: u64,
        token: TokenMetadata,
        private: Option<bool>,
    ) -> StoreResult<TokenMetadata>;
    /// Reads a token and its assets.
    fn get_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
    ) -> StoreResult<(TokenMetadata, Vec<Asset>)>;
    /// Lists a collection's tokens.
    fn list_tokens(
        &self,
        project: u64,
        collection_id: u64,
        page: PageRequest,
    ) -> StoreResult<Paged<TokenMetadata>>;
    /// Replaces a token's metadata; sets its `private` flag when given.
    fn update_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
        token: TokenMetadata,
        private: Option<bool>,
    ) -> StoreResult<TokenMetadata>;
    /// Soft-deletes a token and its assets.
    fn delete_token(&self, project: u64, collection_id: u64, token_id: &str) -> StoreResult<()>;

    /// Adds an asset to a collection (and token, when `tokenId` is set) of the project.
    fn create_asset(&self, project: u64, asset: Asset) -> StoreResult<Asset>;
    /// Reads an asset.
    fn get_asset(&self, project: u64, id: u64) -> StoreResult<Asset>;
    /// Replaces an asset (found by its `id`).
    fn update_asset(&self, project: u64, asset: Asset) -> StoreResult<Asset>;
    /// Soft-deletes an asset.
    fn delete_asset(&self, project: u64, id: u64) -> StoreResult<()>;

    /// The metadata of a collection that is public (exists, not deleted, not private).
    fn public_collection(
        &self,
        project: u64,
        collection_id: u64,
    ) -> StoreResult<Option<CollectionMetadata>>;
    /// A token that is public (its collection public, itself not private nor deleted).
    fn public_token(
        &self,
        project: u64,
        collection_id: u64,
        token_id: &str,
    ) -> StoreResult<Option<TokenMetadata>>;

    /// The id the next created collection will get (for the startup hint).
    fn next_collection_id(&self) -> StoreResult<u64>;
}

/// The `updatedAt` of a row written now: the current time, or just after `previous` when
/// the clock has not moved past it (so each write of a row moves its `updatedAt`).
pub(crate) fn next_timestamp(previous: Option<Timestamp>) -> Timestamp {
    let now = Timestamp::now();
    match previous {
        Some(prev) if now <= prev => {
            Timestamp::new(prev.get() + time::Duration::nanoseconds(1)).to_utc()
        }
        _ => now,
    }
}

/// An asset's token id as stored: the canonical decimal text.
pub(crate) fn asset_token_key(token_id: &Option<String>) -> Option<String> {
    token_id.clone()
}

/// What the store keeps of a token: everything the client sent except the fields the server
/// owns (`updatedAt`, `status`, `assets`, `queuedAt`, `lastFetched`), which it sets.
pub(crate) fn stored_token(
    mut token: TokenMetadata,
    token_id: &str,
    updated_at: Timestamp,
) -> TokenMetadata {
    token.token_id = token_id.to_owned();
    token.updated_at = updated_at;
    token.status = sequence_metadata::ResourceStatus::Available;
    token.assets = Vec::new();
    token.queued_at = None;
    token.last_fetched = None;
    token
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_requests() {
        assert_eq!(
            PageRequest::from_page(None),
            PageRequest {
                page: 1,
                page_size: 30,
                after: None,
            }
        );
        let p = Page {
            page: Some(3),
            page_size: Some(1000),
            ..Page::default()
        };
        let req = PageRequest::from_page(Some(&p));
        assert_eq!(
            req,
            PageRequest {
                page: 3,
                page_size: 100,
                after: None,
            }
        );
        assert_eq!(req.offset(), 200);
        let zero = Page {
            page: Some(0),
            page_size: Some(0),
            ..Page::default()
        };
        assert_eq!(PageRequest::from_page(Some(&zero)), PageRequest::default());
        let answer = req.response(true, Some(42));
        assert_eq!(
            serde_json::to_string(&answer).unwrap(),
            r#"{"page":3,"after":42,"pageSize":100,"more":true}"#
        );
        let last = req.response(false, Some(42));
        assert_eq!(
            serde_json::to_string(&last).unwrap(),
            r#"{"page":3,"pageSize":100,"more":false}"#
        );
        for after in [serde_json::json!(42), serde_json::json!("42")] {
            let p = Page {
                page: Some(3),
                after: Some(after),
                ..Page::default()
            };
            let req = PageRequest::from_page(Some(&p));
            assert_eq!((req.after, req.offset()), (Some(42), 0));
        }
    }

    #[test]
    fn pages_stop_at_the_row_count_or_the_byte_budget() {
        let page = PageRequest {
            page: 1,
            page_size: 3,
            after: None,
        };
        let fill = |sizes: &[usize]| {
            let rows = sizes
                .iter()
                .enumerate()
                .map(|(i, &s)| Ok((i as u64 + 1, s)));
            fill_page(rows, page, |&(id, s)| (id, s), |(id, _)| Ok(id)).unwrap()
        };
        // Small rows: the row count ends the page.
        let p = fill(&[10, 10, 10, 10]);
        assert_eq!((p.items, p.more, p.next), (vec![1, 2, 3], true, Some(3)));
        let p = fill(&[10, 10, 10]);
        assert_eq!((p.items, p.more, p.next), (vec![1, 2, 3], false, None));
        // Large rows: the budget ends it; the first row always goes on.
        let big = PAGE_BYTE_BUDGET / 2;
        let p = fill(&[big, big, 1]);
        assert_eq!((p.items, p.more, p.next), (vec![1, 2], true, Some(2)));
        let p = fill(&[big, big + 1]);
        assert_eq!((p.items, p.more, p.next), (vec![1], true, Some(1)));
        let p = fill(&[PAGE_BYTE_BUDGET * 2]);
        assert_eq!((p.items, p.more), (vec![1], false));
    }

    #[test]
    fn encoded_len_counts_the_json() {
        let value = serde_json::json!({"a": "é\u{0}\"", "b": [1, 2]});
        assert_eq!(
            encoded_len(&value),
            serde_json::to_vec(&value).unwrap().len()
        );
    }

    #[test]
    fn timestamps_move_forward() {
        let far = Timestamp::new(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
        let next = next_timestamp(Some(far));
        assert!(next > far);
        assert!(next_timestamp(None) > Timestamp::ZERO);
    }
}
