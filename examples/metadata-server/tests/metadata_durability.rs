//! The SQLite store across restarts and failures: data and the JWT secret survive a
//! reopen, the schema is versioned, and storage failures reach clients as a plain envelope
//! without SQL or file names.
//!
//! ```text
//! cargo test -p metadata-server --test metadata_durability
//! ```

mod metadata_common;

use std::sync::Arc;

use http::StatusCode;
use metadata_common::*;
use rusqlite::Connection;
use sequence_metadata::*;

use metadata_server::sqlite::JWT_SECRET_SETTING;
use metadata_server::{JwtAuth, MetadataApp, SqliteStore, StoreError};

/// An empty call context: the client's `CallOptions::new()` (nothing but the client's own
/// headers is sent), or an empty `RequestContext` for a service called in process.
fn ctx<C: Default>() -> C {
    C::default()
}

/// What [`restarted`] wrote before the restart.
struct Written {
    collection: Collection,
    token: TokenMetadata,
    asset: Asset,
    link: ContractCollection,
}

/// A harness over the SQLite file `db`, with no temp dir of its own.
fn harness_over(db: &std::path::Path) -> Harness<SqliteStore> {
    let store = Arc::new(SqliteStore::open(db).unwrap());
    Harness {
        app: MetadataApp::new(Arc::clone(&store), JwtAuth::new(SECRET), PUBLIC_URL),
        store,
        db: None,
        pg: None,
    }
}

/// A store where project 21 wrote a published collection with token 77, an asset on it and
/// a contract link, every handle dropped, and the file reopened: the temp dir (keep it), the
/// harness over the reopened store, and what was written.
async fn restarted() -> (tempfile::TempDir, Harness<SqliteStore>, Written) {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-restart-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let written = {
        let h = harness_over(&db);
        let client = h.client(21);
        let c = create_collection(&client, "Durable").await;
        let token = client
            .create_token(
                ctx(),
                CreateTokenRequest {
                    project_id: None,
                    collection_id: c.id,
                    token: TokenMetadata {
                        token_id: "77".into(),
                        name: "Kept".into(),
                        ..Default::default()
                    },
                    private: None,
                },
            )
            .await
            .unwrap()
            .token;
        let asset = client
            .create_asset(
                ctx(),
                CreateAssetRequest {
                    project_id: None,
                    asset: Asset {
                        collection_id: c.id,
                        token_id: Some("77".into()),
                        url: "https://cdn.test/77.png".into(),
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap()
            .asset;
        let link = client
            .create_contract_collection(
                ctx(),
                CreateContractCollectionRequest {
                    project_id: 21,
                    contract_collection: ContractCollection {
                        id: 0,
                        chain_id: 137,
                        contract_address: "0x00000000000000000000000000000000000000aa".into(),
                        collection_id: c.id,
                    },
                },
            )
            .await
            .unwrap()
            .contract_collection;
        let collection = client
            .publish_collection(
                ctx(),
                PublishCollectionRequest {
                    project_id: None,
                    collection_id: c.id,
                    recursive: Some(true),
                },
            )
            .await
            .unwrap()
            .collection;
        Written {
            collection,
            token,
            asset,
            link,
        }
        // Every handle to the store is dropped here.
    };
    let h = harness_over(&db);
    (db_dir, h, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collection_survives_a_restart_with_its_timestamps_to_the_nanosecond() {
    let (_dir, h, w) = restarted().await;
    let got = h
        .client(21)
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: w.collection.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.metadata, w.collection.metadata);
    assert_eq!(got.created_at, w.collection.created_at);
    assert_eq!(
        got.updated_at, w.collection.updated_at,
        "timestamps round-trip to the nanosecond"
    );
    assert_eq!(got.token_count, Some(1));
    assert!(!got.private);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_and_its_assets_survive_a_restart() {
    let (_dir, h, w) = restarted().await;
    let read = h
        .client(21)
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: w.collection.id,
                token_id: "77".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(read.token.name, w.token.name);
    assert_eq!(read.assets, vec![w.asset]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_link_survives_a_restart() {
    let (_dir, h, w) = restarted().await;
    let read_link = h
        .client(21)
        .get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: 21,
                chain_id: 137,
                contract_address: w.link.contract_address.clone(),
            },
        )
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(read_link, w.link);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_metadata_is_still_served_after_a_restart() {
    let (_dir, h, w) = restarted().await;
    let (status, body) = h
        .get(&format!(
            "/projects/21/collections/{}/tokens/77",
            w.collection.id
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "Kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_continue_after_a_restart() {
    let (_dir, h, w) = restarted().await;
    assert_eq!(
        create_collection(&h.client(21), "Next").await.id,
        w.collection.id + 1
    );
}

#[test]
fn the_generated_secret_is_kept_in_the_database() {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-secret-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let first = {
        let store = SqliteStore::open(db.as_path()).unwrap();
        assert_eq!(store.setting(JWT_SECRET_SETTING).unwrap(), None);
        store
            .setting_or_insert(JWT_SECRET_SETTING, || Ok("first-secret".into()))
            .unwrap()
    };
    assert_eq!(first, "first-secret");
    let store = SqliteStore::open(db.as_path()).unwrap();
    let again = store
        .setting_or_insert(JWT_SECRET_SETTING, || Ok("second-secret".into()))
        .unwrap();
    assert_eq!(
        again, "first-secret",
        "the first secret is kept, not replaced"
    );
    assert_eq!(
        store.setting(JWT_SECRET_SETTING).unwrap().as_deref(),
        Some("first-secret")
    );
}

#[test]
fn the_database_is_in_wal_mode_with_a_versioned_schema() {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-schema-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    drop(SqliteStore::open(db.as_path()).unwrap());
    let conn = Connection::open(db.as_path()).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    // A database from a newer server is refused rather than misread.
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);
    match SqliteStore::open(db.as_path()) {
        Err(StoreError::Internal(text)) => assert!(text.contains("schema version 99"), "{text}"),
        other => panic!("expected a schema version error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn storage_failures_do_not_leak_details() {
    let h = Harness::sqlite("failure");
    let client = h.client(1);
    let c = create_collection(&client, "Doomed").await.id;
    client
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: c,
                recursive: None,
            },
        )
        .await
        .unwrap();
    // Break the database behind the server's back: the tables the asset call and the
    // public route read.
    let path = h.db.as_ref().unwrap().path().join(metadata_common::DB_FILE);
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP TABLE assets; DROP INDEX tokens_live; DROP INDEX tokens_unique; DROP TABLE tokens; \
         DROP TABLE contract_collections; DROP TABLE collections;",
    )
    .unwrap();
    drop(conn);

    let err = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: c,
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcInternalError", -7, 500)
    );
    let cause = err.cause().unwrap();
    assert_eq!(
        cause,
        "the metadata store failed; the server log has the details"
    );
    let file_name = path.file_name().unwrap().to_string_lossy().into_owned();
    for secret in [
        "table",
        "SQL",
        "assets",
        "tokens",
        "collections",
        file_name.as_str(),
    ] {
        assert!(!cause.contains(secret), "cause leaks {secret:?}: {cause}");
    }
    let (status, body) = h.get(&format!("/projects/1/collections/{c}.json")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["error"], "WebrpcInternalError");
    assert!(!body.to_string().contains("no such table"), "{body}");
    assert!(!body.to_string().contains("tokens"), "{body}");
}
