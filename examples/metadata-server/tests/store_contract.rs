//! The store contract: the behaviour every [`Store`] gives the `Collections` rules
//! (`metadata_server::collections`), run against every store.
//!
//! Each contract is a generic function over a store; `store_contract!` instantiates all of
//! them for one store. Adding a store is one line at the bottom: a module name and an
//! expression that opens a fresh, empty store (with whatever keeps it alive, see
//! [`Fixture`]).

use metadata_server::collections::{self, ContractUpdate, UploadedContent};
use metadata_server::store::{PageRequest, Table};
use metadata_server::{
    MemoryStore, PostgresStore, SqliteStore, Store, StoreError, PAGE_BYTE_BUDGET,
    TOKEN_ASSETS_BYTE_BUDGET,
};
use sequence_metadata::{Asset, CollectionMetadata, TokenMetadata};

/// A fresh store and what keeps it alive (the temporary directory of a database file).
struct Fixture<S> {
    store: S,
    _dir: Option<tempfile::TempDir>,
}

fn memory() -> Fixture<MemoryStore> {
    Fixture {
        store: MemoryStore::new(),
        _dir: None,
    }
}

fn sqlite_file() -> Fixture<SqliteStore> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(dir.path().join("contract.db")).expect("open sqlite");
    Fixture {
        store,
        _dir: Some(dir),
    }
}

#[allow(dead_code, unreachable_pub)] // shared with the other test files
#[path = "metadata_common/pg.rs"]
mod pg;

/// A fresh PostgreSQL database and a store on it; `None` (having said why on stderr)
/// without a PostgreSQL server (see `metadata_common/pg.rs`).
fn postgres() -> Option<PgFixture> {
    let db = pg::TestDatabase::create("contract")?;
    let store = PostgresStore::connect(&db.url, 2).expect("connect the postgres store");
    Some(PgFixture { store, _db: db })
}

/// A store on a PostgreSQL test database (dropped after the store).
struct PgFixture {
    store: PostgresStore,
    _db: pg::TestDatabase,
}

/// A fixture, or none when its store is unavailable (and the test is skipped).
trait MaybeFixture {
    type Fixture;
    fn available(self) -> Option<Self::Fixture>;
}

impl<S> MaybeFixture for Fixture<S> {
    type Fixture = Fixture<S>;
    fn available(self) -> Option<Fixture<S>> {
        Some(self)
    }
}

impl MaybeFixture for Option<PgFixture> {
    type Fixture = PgFixture;
    fn available(self) -> Option<PgFixture> {
        self
    }
}

const P: u64 = 1;
const OTHER: u64 = 2;

fn meta(name: &str) -> CollectionMetadata {
    CollectionMetadata {
        name: name.into(),
        ..CollectionMetadata::default()
    }
}

fn collection<S: Store>(s: &S, project: u64, name: &str) -> u64 {
    collections::create_collection(s, project, meta(name), String::new())
        .expect("create collection")
        .id
}

fn token(id: &str) -> TokenMetadata {
    TokenMetadata {
        token_id: id.into(),
        name: format!("token {id}"),
        ..TokenMetadata::default()
    }
}

fn asset(collection_id: u64, token_id: Option<&str>) -> Asset {
    Asset {
        collection_id,
        token_id: token_id.map(str::to_owned),
        metadata_field: "image".into(),
        ..Asset::default()
    }
}

fn page(page: u32, size: u32, after: Option<u64>) -> PageRequest {
    PageRequest {
        page,
        page_size: size,
        after,
    }
}

fn uploaded(content: &str) -> UploadedContent {
    UploadedContent {
        content: content.into(),
        url: format!("http://metadata.test/x/{content}"),
        filename: "a.png".into(),
        filesize: 3,
        mime_type: "image/png".into(),
        width: Some(1),
        height: Some(1),
    }
}

fn is_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::NotFound(_)))
}

// ---- the contracts ----

fn ids_start_at_one_grow_and_are_not_reused_after_a_delete<S: Store>(s: &S) {
    assert_eq!(collections::next_collection_id(s).unwrap(), 1);
    let a = collection(s, P, "a");
    let b = collection(s, P, "b");
    assert_eq!((a, b), (1, 2));
    collections::delete_collection(s, P, b).unwrap();
    assert_eq!(collection(s, P, "c"), 3);
    assert_eq!(collections::next_collection_id(s).unwrap(), 4);
}

fn collections_are_created_private_with_no_tokens_and_equal_timestamps<S: Store>(s: &S) {
    let created = collections::create_collection(s, P, meta("a"), "key".into()).unwrap();
    assert!(created.private);
    assert_eq!(created.token_count, Some(0));
    assert_eq!(created.project_id, P);
    assert_eq!(created.created_at, created.updated_at);
    let read = collections::get_collection(s, P, created.id).unwrap();
    assert_eq!(read, created);
}

fn rows_of_another_project_are_not_found<S: Store>(s: &S) {
    let c = collection(s, P, "mine");
    collections::create_token(s, P, c, token("1"), None).unwrap();
    let a = collections::create_asset(s, P, asset(c, None)).unwrap().id;
    assert!(is_not_found(collections::get_collection(s, OTHER, c)));
    assert!(is_not_found(collections::get_token(s, OTHER, c, "1")));
    assert!(is_not_found(collections::get_asset(s, OTHER, a)));
    assert!(is_not_found(collections::delete_collection(s, OTHER, c)));
    assert!(is_not_found(collections::create_token(
        s,
        OTHER,
        c,
        token("2"),
        None
    )));
    assert!(
        collections::list_collections(s, OTHER, PageRequest::default())
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(collections::get_collection(s, P, c).unwrap().id, c);
}

fn updated_at_strictly_increases_with_each_write<S: Store>(s: &S) {
    let c = collections::create_collection(s, P, meta("a"), String::new()).unwrap();
    let mut last = c.updated_at;
    for i in 0..5 {
        let u = collections::update_collection(s, P, c.id, meta(&format!("a{i}")), String::new())
            .unwrap();
        assert!(u.updated_at > last, "write {i} did not move updatedAt");
        assert_eq!(u.created_at, c.created_at);
        last = u.updated_at;
    }
    let t = collections::create_token(s, P, c.id, token("7"), None).unwrap();
    let u = collections::update_token(s, P, c.id, "7", token("7"), None).unwrap();
    assert!(u.updated_at > t.updated_at);
}

fn tokens_take_their_collections_privacy_unless_the_call_says<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    collections::create_token(s, P, c, token("1"), None).unwrap();
    collections::create_token(s, P, c, token("2"), Some(false)).unwrap();
    collections::set_collection_private(s, P, c, false, false).unwrap();
    assert!(collections::public_token(s, P, c, "1").unwrap().is_none());
    assert!(collections::public_token(s, P, c, "2").unwrap().is_some());
    collections::create_token(s, P, c, token("3"), None).unwrap();
    assert!(collections::public_token(s, P, c, "3").unwrap().is_some());
}

fn recursive_publish_opens_the_tokens_and_unpublish_closes_only_the_collection<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    let before = collections::create_token(s, P, c, token("1"), None).unwrap();
    assert!(collections::public_collection(s, P, c).unwrap().is_none());
    let published = collections::set_collection_private(s, P, c, false, true).unwrap();
    assert!(!published.private);
    assert_eq!(
        collections::public_collection(s, P, c)
            .unwrap()
            .unwrap()
            .name,
        "a"
    );
    let opened = collections::public_token(s, P, c, "1").unwrap().unwrap();
    assert!(opened.updated_at > before.updated_at);
    collections::set_collection_private(s, P, c, true, false).unwrap();
    assert!(collections::public_collection(s, P, c).unwrap().is_none());
    assert!(collections::public_token(s, P, c, "1").unwrap().is_none());
    // The token itself stayed public: publishing the collection again shows it.
    collections::set_collection_private(s, P, c, false, false).unwrap();
    assert!(collections::public_token(s, P, c, "1").unwrap().is_some());
    assert!(collections::public_collection(s, OTHER, c)
        .unwrap()
        .is_none());
}

fn a_taken_token_id_is_a_conflict_and_a_deleted_one_is_free<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    collections::create_token(s, P, c, token("5"), None).unwrap();
    assert!(matches!(
        collections::create_token(s, P, c, token("5"), None),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        collections::get_collection(s, P, c).unwrap().token_count,
        Some(1)
    );
    // The same id in another collection is another token.
    let d = collection(s, P, "b");
    collections::create_token(s, P, d, token("5"), None).unwrap();
    collections::delete_token(s, P, c, "5").unwrap();
    assert!(is_not_found(collections::get_token(s, P, c, "5")));
    let again = collections::create_token(s, P, c, token("5"), None).unwrap();
    assert_eq!(again.token_id, "5");
    assert_eq!(
        collections::get_collection(s, P, c).unwrap().token_count,
        Some(1)
    );
}

fn deleting_a_collection_takes_its_tokens_assets_and_links_and_frees_their_keys<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    collections::create_token(s, P, c, token("1"), None).unwrap();
    let a = collections::create_asset(s, P, asset(c, Some("1")))
        .unwrap()
        .id;
    let (_, _) = collections::upload_asset(s, P, c, a, uploaded(&"ab".repeat(32))).unwrap();
    collections::create_contract_collection(s, P, 1, "0xabc".into(), c).unwrap();
    let released = collections::delete_collection(s, P, c).unwrap();
    assert_eq!(released.0, vec!["ab".repeat(32)]);
    assert!(is_not_found(collections::get_collection(s, P, c)));
    assert!(is_not_found(collections::get_token(s, P, c, "1")));
    assert!(is_not_found(collections::get_asset(s, P, a)));
    assert!(is_not_found(collections::get_contract_collection(
        s, P, 1, "0xabc"
    )));
    assert!(!collections::content_in_use(s, &"ab".repeat(32)).unwrap());
    assert!(is_not_found(collections::delete_collection(s, P, c)));
    // The contract is free for another collection.
    let d = collection(s, P, "b");
    collections::create_contract_collection(s, P, 1, "0xabc".into(), d).unwrap();
}

fn deleting_a_token_takes_its_assets_and_only_its_own<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    collections::create_token(s, P, c, token("1"), None).unwrap();
    collections::create_token(s, P, c, token("2"), None).unwrap();
    let a1 = collections::create_asset(s, P, asset(c, Some("1")))
        .unwrap()
        .id;
    let a2 = collections::create_asset(s, P, asset(c, Some("2")))
        .unwrap()
        .id;
    let whole = collections::create_asset(s, P, asset(c, None)).unwrap().id;
    collections::upload_asset(s, P, c, a1, uploaded(&"01".repeat(32))).unwrap();
    let released = collections::delete_token(s, P, c, "1").unwrap();
    assert_eq!(released.0, vec!["01".repeat(32)]);
    assert!(is_not_found(collections::get_asset(s, P, a1)));
    assert_eq!(collections::get_asset(s, P, a2).unwrap().id, a2);
    assert_eq!(collections::get_asset(s, P, whole).unwrap().id, whole);
    let (_, assets) = collections::get_token(s, P, c, "2").unwrap();
    assert_eq!(assets.iter().map(|a| a.id).collect::<Vec<_>>(), vec![a2]);
}

fn assets_need_a_live_collection_and_token_of_the_project<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    assert!(is_not_found(collections::create_asset(
        s,
        P,
        asset(c, Some("9"))
    )));
    assert!(is_not_found(collections::create_asset(
        s,
        OTHER,
        asset(c, None)
    )));
    assert!(is_not_found(collections::create_asset(
        s,
        P,
        asset(99, None)
    )));
    let a = collections::create_asset(s, P, asset(c, None)).unwrap();
    assert_eq!(a.id, 1);
    let mut moved = a.clone();
    moved.collection_id = 99;
    assert!(is_not_found(collections::update_asset(s, P, moved)));
}

fn an_assets_content_is_set_by_upload_only_and_a_url_update_does_not_change_it<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    collections::set_collection_private(s, P, c, false, false).unwrap();
    let a = collections::create_asset(s, P, asset(c, None)).unwrap();
    let mine = "aa".repeat(32);
    let theirs = "bb".repeat(32);
    assert!(collections::public_asset(s, P, c, a.id, &mine)
        .unwrap()
        .is_none());
    let (up, released) = collections::upload_asset(s, P, c, a.id, uploaded(&mine)).unwrap();
    assert!(released.0.is_empty());
    assert_eq!(up.mime_type, "image/png");
    assert!(collections::public_asset(s, P, c, a.id, &mine)
        .unwrap()
        .is_some());
    // The user points the url at other bytes: the stored content stays the asset's own.
    let mut edited = up.clone();
    edited.url = format!("http://metadata.test/x/{theirs}");
    collections::update_asset(s, P, edited).unwrap();
    assert!(collections::public_asset(s, P, c, a.id, &theirs)
        .unwrap()
        .is_none());
    assert!(collections::public_asset(s, P, c, a.id, &mine)
        .unwrap()
        .is_some());
    assert!(collections::content_in_use(s, &mine).unwrap());
    // Uploading other bytes releases the previous ones.
    let (_, released) = collections::upload_asset(s, P, c, a.id, uploaded(&theirs)).unwrap();
    assert_eq!(released.0, vec![mine.clone()]);
    assert!(!collections::content_in_use(s, &mine).unwrap());
    // An upload for an asset of another collection is not found.
    let d = collection(s, P, "b");
    assert!(is_not_found(collections::upload_asset(
        s,
        P,
        d,
        a.id,
        uploaded(&mine)
    )));
    // Unpublished, the bytes are not served.
    collections::set_collection_private(s, P, c, true, false).unwrap();
    assert!(collections::public_asset(s, P, c, a.id, &theirs)
        .unwrap()
        .is_none());
}

fn content_shared_by_two_assets_stays_in_use_until_both_are_deleted<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    let x = collections::create_asset(s, P, asset(c, None)).unwrap().id;
    let y = collections::create_asset(s, P, asset(c, None)).unwrap().id;
    let same = "cd".repeat(32);
    collections::upload_asset(s, P, c, x, uploaded(&same)).unwrap();
    collections::upload_asset(s, P, c, y, uploaded(&same)).unwrap();
    assert_eq!(
        collections::delete_asset(s, P, x).unwrap().0,
        vec![same.clone()]
    );
    assert!(collections::content_in_use(s, &same).unwrap());
    collections::delete_asset(s, P, y).unwrap();
    assert!(!collections::content_in_use(s, &same).unwrap());
}

fn lists_page_by_number_and_by_after_cursor_in_id_order<S: Store>(s: &S) {
    let ids: Vec<u64> = (0..7).map(|i| collection(s, P, &format!("c{i}"))).collect();
    collection(s, OTHER, "not mine");
    collections::delete_collection(s, P, ids[2]).unwrap();
    let live: Vec<u64> = ids.iter().copied().filter(|&id| id != ids[2]).collect();
    let first = collections::list_collections(s, P, page(1, 4, None)).unwrap();
    let got: Vec<u64> = first.items.iter().map(|c| c.id).collect();
    assert_eq!(got, live[..4]);
    assert!(first.more);
    assert_eq!(first.next, Some(live[3]));
    let second = collections::list_collections(s, P, page(2, 4, None)).unwrap();
    assert_eq!(
        second.items.iter().map(|c| c.id).collect::<Vec<_>>(),
        live[4..]
    );
    assert!(!second.more);
    assert_eq!(second.next, None);
    let after = collections::list_collections(s, P, page(1, 4, first.next)).unwrap();
    assert_eq!(after.items, second.items);
    // Tokens page the same way.
    let c = ids[0];
    for t in 1..=5 {
        collections::create_token(s, P, c, token(&t.to_string()), None).unwrap();
    }
    collections::delete_token(s, P, c, "2").unwrap();
    let tokens = collections::list_tokens(s, P, c, page(1, 2, None)).unwrap();
    assert_eq!(
        tokens
            .items
            .iter()
            .map(|t| t.token_id.as_str())
            .collect::<Vec<_>>(),
        ["1", "3"]
    );
    let rest = collections::list_tokens(s, P, c, page(1, 10, tokens.next)).unwrap();
    assert_eq!(
        rest.items
            .iter()
            .map(|t| t.token_id.as_str())
            .collect::<Vec<_>>(),
        ["4", "5"]
    );
    assert!(!rest.more);
}

fn a_page_stops_at_the_byte_budget_with_a_cursor_to_continue<S: Store>(s: &S) {
    // Each collection carries ~1.5 MiB: five fit in the 8 MiB budget, the sixth does not.
    let big = "x".repeat(3 * 512 * 1024);
    for i in 0..7 {
        collections::create_collection(
            s,
            P,
            CollectionMetadata {
                name: format!("big {i}"),
                description: big.clone(),
                ..CollectionMetadata::default()
            },
            String::new(),
        )
        .unwrap();
    }
    let first = collections::list_collections(s, P, page(1, 100, None)).unwrap();
    let n = first.items.len();
    assert!(n < 7 && n * big.len() <= PAGE_BYTE_BUDGET, "{n} rows");
    assert!(first.more);
    assert_eq!(first.next, first.items.last().map(|c| c.id));
    let rest = collections::list_collections(s, P, page(1, 100, first.next)).unwrap();
    assert_eq!(n + rest.items.len(), 7);
    assert!(!rest.more);
}

fn a_tokens_assets_stay_within_their_byte_budget<S: Store>(s: &S) {
    // Each asset carries ~1.5 MiB: five fit in the token's 8 MiB budget, the sixth does not.
    let c = collection(s, P, "a");
    collections::create_token(s, P, c, token("1"), None).unwrap();
    let big = |tag: &str| Asset {
        url: format!("{tag}{}", "x".repeat(3 * 512 * 1024)),
        ..asset(c, Some("1"))
    };
    let mut ids = Vec::new();
    let refused = loop {
        match collections::create_asset(s, P, big(&ids.len().to_string())) {
            Ok(created) => ids.push(created.id),
            Err(err) => break err,
        }
        assert!(ids.len() <= 6, "no budget: {} assets of 1.5 MiB", ids.len());
    };
    assert_eq!(ids.len(), 5);
    assert!(
        matches!(&refused, StoreError::TooLarge(why) if why.contains("token 1")),
        "{refused:?}"
    );
    let (_, assets) = collections::get_token(s, P, c, "1").unwrap();
    assert_eq!(assets.len(), 5);
    let answer: usize = assets
        .iter()
        .map(|a| serde_json::to_vec(a).unwrap().len())
        .sum();
    assert!(answer <= TOKEN_ASSETS_BYTE_BUDGET, "{answer} bytes");
    // Growing an asset past the budget is refused too, and changes nothing.
    let mut grown = collections::get_asset(s, P, ids[0]).unwrap();
    grown.url.push_str(&"y".repeat(1024 * 1024));
    assert!(matches!(
        collections::update_asset(s, P, grown.clone()),
        Err(StoreError::TooLarge(_))
    ));
    assert_eq!(
        collections::get_asset(s, P, ids[0]).unwrap().url.len(),
        3 * 512 * 1024 + 1
    );
    // Replacing an asset with one of its own size counts it once, not twice.
    let same = collections::get_asset(s, P, ids[0]).unwrap();
    collections::update_asset(s, P, same).unwrap();
    // A deleted asset frees its share; an asset of no token has no token budget.
    collections::delete_asset(s, P, ids[0]).unwrap();
    collections::create_asset(s, P, big("again")).unwrap();
    for _ in 0..6 {
        collections::create_asset(
            s,
            P,
            Asset {
                token_id: None,
                ..big("untokened")
            },
        )
        .unwrap();
    }
}

fn a_taken_contract_key_is_a_conflict_and_links_update_by_id_or_key<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    let d = collection(s, P, "b");
    let link = collections::create_contract_collection(s, P, 1, "0xaa".into(), c).unwrap();
    assert_eq!(link.id, 1);
    assert!(matches!(
        collections::create_contract_collection(s, P, 1, "0xaa".into(), d),
        Err(StoreError::Conflict(_))
    ));
    // Another project has its own keys.
    let o = collection(s, OTHER, "o");
    collections::create_contract_collection(s, OTHER, 1, "0xaa".into(), o).unwrap();
    assert!(is_not_found(collections::create_contract_collection(
        s,
        P,
        1,
        "0xbb".into(),
        o
    )));
    let other = collections::create_contract_collection(s, P, 2, "0xbb".into(), c).unwrap();
    // By key: only the collection changes.
    let moved = collections::update_contract_collection(
        s,
        P,
        ContractUpdate {
            id: None,
            chain_id: 1,
            contract_address: "0xaa".into(),
            collection_id: d,
        },
    )
    .unwrap();
    assert_eq!((moved.id, moved.collection_id), (link.id, d));
    // By id onto a taken key: conflict, nothing changes.
    let clash = collections::update_contract_collection(
        s,
        P,
        ContractUpdate {
            id: Some(other.id),
            chain_id: 1,
            contract_address: "0xaa".into(),
            collection_id: c,
        },
    );
    assert!(matches!(clash, Err(StoreError::Conflict(_))), "{clash:?}");
    assert_eq!(
        collections::get_contract_collection(s, P, 2, "0xbb").unwrap(),
        other
    );
    collections::delete_contract_collection(s, P, 2, "0xbb").unwrap();
    assert!(is_not_found(collections::get_contract_collection(
        s, P, 2, "0xbb"
    )));
}

fn contract_lists_send_each_collection_once_and_filter_by_collection<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    let d = collection(s, P, "b");
    for (i, target) in [c, c, d].into_iter().enumerate() {
        collections::create_contract_collection(s, P, 1, format!("0x{i:02x}"), target).unwrap();
    }
    let (links, cols) =
        collections::list_contract_collections(s, P, None, PageRequest::default()).unwrap();
    assert_eq!(links.items.len(), 3);
    assert_eq!(cols.iter().map(|c| c.id).collect::<Vec<_>>(), vec![c, d]);
    let (links, cols) =
        collections::list_contract_collections(s, P, Some(d), PageRequest::default()).unwrap();
    assert_eq!(links.items.len(), 1);
    assert_eq!(cols.len(), 1);
    let (first, _) = collections::list_contract_collections(s, P, None, page(1, 2, None)).unwrap();
    assert!(first.more);
    let (rest, _) =
        collections::list_contract_collections(s, P, None, page(1, 2, first.next)).unwrap();
    assert_eq!(rest.items.len(), 1);
    assert!(!rest.more);
    assert!(is_not_found(collections::list_contract_collections(
        s,
        P,
        Some(99),
        PageRequest::default()
    )));
}

fn a_failed_write_leaves_no_rows_behind<S: Store>(s: &S) {
    let result: Result<(), StoreError> = s.write(|tx| {
        let id = tx.next_id(Table::Collections)?;
        let row = sequence_metadata::Collection {
            id,
            project_id: P,
            metadata: Some(meta("ghost")),
            ..Default::default()
        };
        tx.insert_collection(&row)?;
        assert!(tx.collection(id)?.is_some(), "a write sees its own rows");
        Err(StoreError::Conflict("abandoned".into()))
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))));
    assert!(s.read(|tx| tx.collection(1)).unwrap().is_none());
    assert!(collections::list_collections(s, P, PageRequest::default())
        .unwrap()
        .items
        .is_empty());
    // An id handed to a failed write may be skipped (a PostgreSQL sequence does not roll
    // back) but is never given to another row.
    let real = collection(s, P, "real");
    assert!(real >= 1);
    assert_eq!(
        collections::get_collection(s, P, real).unwrap().metadata,
        Some(meta("real"))
    );
}

fn a_unique_key_taken_past_the_checks_is_refused_by_the_store<S: Store>(s: &S) {
    let c = collection(s, P, "a");
    collections::create_token(s, P, c, token("1"), None).unwrap();
    // Row-level: inserting a second live token with the same id is a conflict even when the
    // logic's check is skipped (the store's unique index is the backstop).
    let result = s.write(|tx| {
        let seq = tx.next_id(Table::Tokens)?;
        tx.insert_token(&metadata_server::store::TokenRow {
            seq,
            collection_id: c,
            token: token("1"),
            private: true,
            deleted_at: None,
        })
    });
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        collections::get_collection(s, P, c).unwrap().token_count,
        Some(1)
    );
}

macro_rules! store_contract {
    ($name:ident, $open:expr) => {
        store_contract!(@tests $name, $open, [
            ids_start_at_one_grow_and_are_not_reused_after_a_delete,
            collections_are_created_private_with_no_tokens_and_equal_timestamps,
            rows_of_another_project_are_not_found,
            updated_at_strictly_increases_with_each_write,
            tokens_take_their_collections_privacy_unless_the_call_says,
            recursive_publish_opens_the_tokens_and_unpublish_closes_only_the_collection,
            a_taken_token_id_is_a_conflict_and_a_deleted_one_is_free,
            deleting_a_collection_takes_its_tokens_assets_and_links_and_frees_their_keys,
            deleting_a_token_takes_its_assets_and_only_its_own,
            assets_need_a_live_collection_and_token_of_the_project,
            an_assets_content_is_set_by_upload_only_and_a_url_update_does_not_change_it,
            content_shared_by_two_assets_stays_in_use_until_both_are_deleted,
            lists_page_by_number_and_by_after_cursor_in_id_order,
            a_page_stops_at_the_byte_budget_with_a_cursor_to_continue,
            a_tokens_assets_stay_within_their_byte_budget,
            a_taken_contract_key_is_a_conflict_and_links_update_by_id_or_key,
            contract_lists_send_each_collection_once_and_filter_by_collection,
            a_failed_write_leaves_no_rows_behind,
            a_unique_key_taken_past_the_checks_is_refused_by_the_store,
        ]);
    };
    (@tests $name:ident, $open:expr, [$($test:ident),* $(,)?]) => {
        mod $name {
            $(
                #[test]
                fn $test() {
                    use super::MaybeFixture;
                    let Some(fixture) = $open.available() else {
                        return;
                    };
                    super::$test(&fixture.store);
                }
            )*
        }
    };
}

store_contract!(memory, super::memory());
store_contract!(sqlite_file, super::sqlite_file());
store_contract!(postgres, super::postgres());
