//! The storage of the Metadata server: where rows are kept, not what they mean.
//!
//! A [`Store`] runs closures over a read snapshot ([`ReadTx`]) or a write transaction
//! ([`WriteTx`]) made of row-level operations: look a row up by id or unique key, list rows by
//! key a page at a time, hand out the next id, insert or replace a row. The rules of the
//! `Collections` service (project scoping, cascades, soft deletion, unique-key checks,
//! publishing, ids and timestamps) are written once over these operations in
//! [`crate::collections`]; a store decides none of them. Implemented by
//! [`MemoryStore`](super::MemoryStore) (maps under a `RwLock`),
//! [`SqliteStore`](super::SqliteStore) (one SQL transaction per write) and
//! [`PostgresStore`](super::PostgresStore) (one PostgreSQL transaction per call, shared by
//! many instances); a new store
//! implements [`ReadTx`], [`WriteTx`] and [`Store`] and is checked by the same contract suite,
//! `tests/store_contract.rs` (one `store_contract!` line per store).
//!
//! What every store guarantees:
//!
//! - reads see live rows only (`deleted_at` unset), and one call's reads one consistent state;
//! - a write closure commits as a whole when it returns `Ok` and leaves nothing when it fails;
//!   writes do not interleave (or are serialisable);
//! - a write does not start when its caller is gone ([`caller_gone`], checked once the store
//!   holds its write lock);
//! - [`WriteTx::next_id`] never hands out an id twice;
//! - unique keys over live rows are enforced as a backstop ([`StoreError::Conflict`]);
//! - lists of collections and tokens are filled with [`fill_page`] while reading, so a page
//!   larger than [`PAGE_BYTE_BUDGET`] is never loaded.

use sequence_metadata::{Asset, Collection, ContractCollection, Page, Timestamp, TokenMetadata};
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

/// Byte budget of one token's assets: a write that would make the JSON of a token's live
/// assets larger than 8 MiB is refused with `ValidationFailed` (2004). `GetToken` answers a
/// token with all its assets, unpaged, so this keeps that answer within about 10 MiB (the
/// budget plus a token of at most [`MAX_ENTITY_BYTES`]), as [`PAGE_BYTE_BUDGET`] does for
/// the list methods.
pub const TOKEN_ASSETS_BYTE_BUDGET: usize = PAGE_BYTE_BUDGET;

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
    /// The write would break a size bound of the data, such as
    /// [`TOKEN_ASSETS_BYTE_BUDGET`]. The text says which.
    #[error("{0}")]
    TooLarge(String),
    /// The call's caller went away before the store started its work (checked once the
    /// store holds its write lock), so nothing was done.
    #[error("the call was cancelled before its store work started")]
    Cancelled,
    /// The storage could not be reached or gave up on the transaction before its commit
    /// (the database unreachable, a connection lost, a deadlock), so nothing was written:
    /// the call can be retried as it is. The text is for the server's log only.
    #[error("storage unavailable, nothing written: {0}")]
    Unavailable(String),
    /// The connection was lost while the write was committing: it may or may not have been
    /// applied. The text is for the server's log only.
    #[error("storage failure while committing, outcome unknown: {0}")]
    OutcomeUnknown(String),
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
pub struct PageFill {
    rows: usize,
    limit: usize,
    bytes: usize,
}

impl PageFill {
    /// An empty page of `page`'s size.
    pub fn new(page: PageRequest) -> Self {
        PageFill {
            rows: 0,
            limit: page.page_size as usize,
            bytes: 0,
        }
    }

    /// Whether a row of `bytes` still goes on the page (and counts it if so). `false`
    /// means the page is full: it ends before this row, with `more: true`.
    pub fn admit(&mut self, bytes: usize) -> bool {
        if self.rows == self.limit || (self.rows > 0 && self.bytes + bytes > PAGE_BYTE_BUDGET) {
            return false;
        }
        self.rows += 1;
        self.bytes += bytes;
        true
    }
}

/// Fills one page from `rows` (in id order, already past the offset or cursor), the rule
/// every store applies while it reads: `measure` gives a row's id and size (its stored JSON), `take` turns
/// an admitted row into the item. Reading stops at the first row that does not fit, so a
/// store reading lazily never holds more than a page's worth.
pub fn fill_page<R, T>(
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

/// The tables of a store, for [`WriteTx::next_id`] and [`ReadTx::last_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Table {
    /// Collections (their ids are the wire's `collection.id`).
    Collections,
    /// Tokens (the id is the row's creation sequence, never on the wire).
    Tokens,
    /// Contract links (`contractCollection.id`).
    Contracts,
    /// Assets (`asset.id`).
    Assets,
}

impl Table {
    /// Every table, in a fixed order (`as usize` indexes it).
    pub const ALL: [Table; 4] = [
        Table::Collections,
        Table::Tokens,
        Table::Contracts,
        Table::Assets,
    ];
}

/// A stored collection is the wire's [`Collection`]: `id`, `projectId`, `metadata`,
/// `private`, `revealKey`, `createdAt`, `updatedAt`, `deletedAt` are stored; `tokenCount` and
/// `baseURIs` are not (the logic fills them in on the way out).
pub type CollectionRow = Collection;

/// What the rules need of a collection to scope a call to it: its project and whether it is
/// private (read without its metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectionScope {
    /// The project it belongs to.
    pub project_id: u64,
    /// Whether its public routes are closed.
    pub private: bool,
}

/// A stored token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    /// The row's id ([`Table::Tokens`]): lists of a collection's tokens are in this order
    /// and their `after` cursor is this id.
    pub seq: u64,
    /// The collection it belongs to.
    pub collection_id: u64,
    /// The token as answered: `tokenId` (canonical decimal) and `updatedAt` are its keys
    /// and timestamp.
    pub token: TokenMetadata,
    /// Whether its public route is closed.
    pub private: bool,
    /// When it was deleted; deleted rows are invisible to every [`ReadTx`] method.
    pub deleted_at: Option<Timestamp>,
}

/// A stored contract link.
#[derive(Debug, Clone, PartialEq)]
pub struct ContractRow {
    /// The project it belongs to.
    pub project_id: u64,
    /// The link as answered (`id` is its row id).
    pub link: ContractCollection,
    /// When it was created.
    pub created_at: Timestamp,
    /// When it was last written.
    pub updated_at: Timestamp,
    /// When it was deleted.
    pub deleted_at: Option<Timestamp>,
}

/// A stored asset.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetRow {
    /// The project it belongs to.
    pub project_id: u64,
    /// The asset as answered (`id`, `collectionId`, `tokenId`, `updatedAt` included).
    pub asset: Asset,
    /// The SHA-256 (64 lowercase hex digits) of the bytes uploaded for it, if any: the one
    /// file its public route serves. Set only by an upload, never from the wire (`url` is
    /// user-settable and is not trusted for this).
    pub content: Option<String>,
    /// When it was deleted.
    pub deleted_at: Option<Timestamp>,
}

/// The row-level reads of a store, inside a read snapshot or a write transaction. Every
/// method sees **live rows only** (`deleted_at` unset): a deleted row is absent, and its
/// unique key is free.
///
/// Lookups do not check projects: the logic ([`crate::collections`]) compares a row's
/// project with the caller's.
pub trait ReadTx {
    /// The collection `id`.
    fn collection(&self, id: u64) -> StoreResult<Option<CollectionRow>>;
    /// The project and `private` flag of the collection `id`, without its metadata.
    fn collection_scope(&self, id: u64) -> StoreResult<Option<CollectionScope>>;
    /// The project's collections in id order, from `page`'s cursor or offset, filled with
    /// [`fill_page`] (measuring each row by its stored size).
    fn collections(&self, project: u64, page: PageRequest) -> StoreResult<Paged<CollectionRow>>;
    /// The number of tokens of collection `id`.
    fn token_count(&self, collection_id: u64) -> StoreResult<u64>;
    /// The token `token_id` of a collection.
    fn token(&self, collection_id: u64, token_id: &str) -> StoreResult<Option<TokenRow>>;
    /// A collection's tokens in `seq` order, paged like [`collections`](Self::collections).
    fn tokens(&self, collection_id: u64, page: PageRequest) -> StoreResult<Paged<TokenRow>>;
    /// The contract link `id`.
    fn contract(&self, id: u64) -> StoreResult<Option<ContractRow>>;
    /// The project's link of `(chain_id, address)` (the unique key of links).
    fn contract_by_key(
        &self,
        project: u64,
        chain_id: u64,
        address: &str,
    ) -> StoreResult<Option<ContractRow>>;
    /// The project's links (of one collection when given) in id order, from `page`'s cursor
    /// or offset: at most `page.page_size + 1` rows (links are small; the logic fills the
    /// page, and the extra row tells it whether more follow).
    fn contracts(
        &self,
        project: u64,
        collection_id: Option<u64>,
        page: PageRequest,
    ) -> StoreResult<Vec<ContractRow>>;
    /// The asset `id`.
    fn asset(&self, id: u64) -> StoreResult<Option<AssetRow>>;
    /// The assets of one token of a collection, in id order.
    fn token_assets(&self, collection_id: u64, token_id: &str) -> StoreResult<Vec<AssetRow>>;
    /// Whether a live asset has `content` as its [`AssetRow::content`].
    fn content_in_use(&self, content: &str) -> StoreResult<bool>;
    /// The largest id [`WriteTx::next_id`] has handed out for `table` (0 when none).
    fn last_id(&self, table: Table) -> StoreResult<u64>;
}

/// The row-level writes of a store, inside one transaction: everything a
/// [`Store::write`] closure does commits together, or (when the closure fails) not at all.
///
/// The store persists what it is given; it decides nothing. `insert_*` store a new row
/// (its id from [`next_id`](Self::next_id)); `update_*` replace the row with the same id,
/// all fields. Deleting is an update that sets `deleted_at`. A unique key that is taken
/// anyway (the logic checks first) is [`StoreError::Conflict`].
pub trait WriteTx: ReadTx {
    /// A fresh id for a row of `table`: larger than every id handed out before, never
    /// reused, from 1.
    fn next_id(&mut self, table: Table) -> StoreResult<u64>;
    /// Stores a new collection.
    fn insert_collection(&mut self, row: &CollectionRow) -> StoreResult<()>;
    /// Replaces the collection `row.id`.
    fn update_collection(&mut self, row: &CollectionRow) -> StoreResult<()>;
    /// Stores a new token.
    fn insert_token(&mut self, row: &TokenRow) -> StoreResult<()>;
    /// Replaces the token `row.seq`.
    fn update_token(&mut self, row: &TokenRow) -> StoreResult<()>;
    /// Runs `change` on each live token of a collection, in `seq` order, and stores those
    /// for which it returns `true`.
    fn update_tokens_of(
        &mut self,
        collection_id: u64,
        change: &mut dyn FnMut(&mut TokenRow) -> bool,
    ) -> StoreResult<()>;
    /// Stores a new contract link.
    fn insert_contract(&mut self, row: &ContractRow) -> StoreResult<()>;
    /// Replaces the contract link `row.link.id`.
    fn update_contract(&mut self, row: &ContractRow) -> StoreResult<()>;
    /// Runs `change` on each live link to a collection and stores those for which it
    /// returns `true`.
    fn update_contracts_of(
        &mut self,
        collection_id: u64,
        change: &mut dyn FnMut(&mut ContractRow) -> bool,
    ) -> StoreResult<()>;
    /// Stores a new asset.
    fn insert_asset(&mut self, row: &AssetRow) -> StoreResult<()>;
    /// Replaces the asset `row.asset.id`.
    fn update_asset(&mut self, row: &AssetRow) -> StoreResult<()>;
    /// Runs `change` on each live asset of a collection (of one of its tokens, when
    /// `token_id` is given) and stores those for which it returns `true`.
    fn update_assets_of(
        &mut self,
        collection_id: u64,
        token_id: Option<&str>,
        change: &mut dyn FnMut(&mut AssetRow) -> bool,
    ) -> StoreResult<()>;
}

/// Where the rows of the `Collections` service are kept. A store only persists: the rules
/// (project scoping, validation, cascades, uniqueness checks, ids and timestamps) are in
/// [`crate::collections`], written once over [`ReadTx`] and [`WriteTx`].
pub trait Store: Send + Sync + 'static {
    /// Whether calls block on I/O and must run on a blocking thread (the service then runs
    /// them through [`webrpc_server::spawn_blocking`]).
    const BLOCKING: bool;

    /// Runs `f` over one consistent snapshot. Reads may run in parallel with each other.
    fn read<T>(&self, f: impl FnOnce(&dyn ReadTx) -> StoreResult<T>) -> StoreResult<T>;

    /// Runs `f` in one write transaction, committed when `f` returns `Ok` and rolled back
    /// when it fails. Writes run one at a time (or as if they did). Once the store holds
    /// its write lock it checks [`caller_gone`] and answers [`StoreError::Cancelled`]
    /// without running `f` when the caller went away while it waited.
    fn write<T>(&self, f: impl FnOnce(&mut dyn WriteTx) -> StoreResult<T>) -> StoreResult<T>;
}

/// Whether the webrpc call this thread works for was cancelled (its caller went away, or
/// its handler timed out): see [`webrpc_server::CallHandle`]. Every [`Store::write`]
/// checks it once it holds its write lock, before the transaction's work starts.
pub fn caller_gone() -> bool {
    webrpc_server::CallHandle::current().is_some_and(|call| call.is_cancelled())
}

/// The `updatedAt` of a row written now: the current time, or just after `previous` when
/// the clock has not moved past it (so each write of a row moves its `updatedAt`).
pub fn next_timestamp(previous: Option<Timestamp>) -> Timestamp {
    let now = Timestamp::now();
    match previous {
        Some(prev) if now <= prev => {
            Timestamp::new(prev.get() + time::Duration::nanoseconds(1)).to_utc()
        }
        _ => now,
    }
}

/// What the store keeps of a token: everything the client sent except the fields the server
/// owns (`updatedAt`, `status`, `assets`, `queuedAt`, `lastFetched`), which it sets.
pub fn stored_token(
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
