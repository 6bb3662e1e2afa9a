//! The Metadata server through faults: `kill -9` under concurrent writes (every
//! acknowledged write is there after a restart, and the store opens cleanly), SIGTERM under
//! write load (every write the server committed was answered), a full disk and a read-only
//! database (clean error envelopes, nothing leaked, the server keeps serving), and the
//! client of a server killed mid-call (a typed error, then the same client works again once
//! the server is back). The figures printed here are recorded in docs/reliability.md.
//!
//! ```text
//! cargo test -p metadata-server --test reliability_faults -- --nocapture
//! ```

mod reliability_common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reliability_common::*;
use rusqlite::Connection;
use sequence_metadata::*;
use tokio::process::Command;
use webrpc_client::Client;

use metadata_server::{JwtAuth, MetadataApp, SqliteStore};

/// The cause every storage failure reaches clients with.
const STORE_FAILED: &str = "the metadata store failed; the server log has the details";

/// Asserts `err` is the generic storage failure, and that its text names no SQL, file or
/// SQLite error.
#[track_caller]
fn assert_store_failure(err: &WebrpcError, db: &std::path::Path) {
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcInternalError", -7, 500),
        "{err}"
    );
    assert_eq!(err.cause(), Some(STORE_FAILED));
    let text = err.to_string();
    let file = db.file_name().unwrap().to_string_lossy().into_owned();
    for leak in [
        file.as_str(),
        "/tmp",
        "sqlite",
        "SQL",
        "INSERT",
        "UPDATE",
        "table",
        "readonly",
        "disk",
        "I/O",
    ] {
        assert!(!text.contains(leak), "the error leaks {leak:?}: {text}");
    }
}

/// What the writers of a load round saw.
#[derive(Default)]
struct Acks {
    /// Acknowledged creates: name → id.
    created: HashMap<String, u64>,
    /// Acknowledged description updates: id → description.
    updated: HashMap<u64, String>,
    /// Calls that failed (all after the server went away).
    failed: usize,
}

/// Runs `writers` tasks, each creating collections and then updating them, until its first
/// failed call; `count` counts acknowledgements as they come.
fn start_writers(
    server: &ServerProcess,
    round: usize,
    writers: u64,
    count: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Acks>> {
    (0..writers)
        .map(|w| {
            let client = server.client(1);
            let count = Arc::clone(count);
            tokio::spawn(async move {
                let mut acks = Acks::default();
                for i in 0..100_000 {
                    let name = format!("r{round}-w{w}-{i}");
                    let created = match client.create_collection(ctx(), create_request(&name)).await
                    {
                        Ok(out) => out.collection,
                        Err(err) => {
                            assert_eq!(err.code(), -1, "a failed call is RequestFailed: {err}");
                            acks.failed += 1;
                            break;
                        }
                    };
                    acks.created.insert(name.clone(), created.id);
                    count.fetch_add(1, Ordering::Relaxed);
                    let description = format!("updated {name}");
                    let update = UpdateCollectionRequest {
                        project_id: None,
                        collection: Collection {
                            id: created.id,
                            metadata: Some(CollectionMetadata {
                                name: name.clone(),
                                description: description.clone(),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    };
                    match client.update_collection(ctx(), update).await {
                        Ok(_) => {
                            acks.updated.insert(created.id, description);
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(err) => {
                            assert_eq!(err.code(), -1, "a failed call is RequestFailed: {err}");
                            acks.failed += 1;
                            break;
                        }
                    }
                }
                acks
            })
        })
        .collect()
}

/// Every collection of project 1: id → (name, description).
async fn all_collections(client: &RemoteClient) -> HashMap<u64, (String, String)> {
    let mut out = HashMap::new();
    for page in 1..10_000 {
        let listed = client
            .list_collections(
                ctx(),
                ListCollectionsRequest {
                    project_id: None,
                    page: Some(Page {
                        page: Some(page),
                        page_size: Some(100),
                        ..Default::default()
                    }),
                },
            )
            .await
            .expect("list after restart");
        for c in listed.collections {
            let m = c.metadata.unwrap();
            out.insert(c.id, (m.name, m.description));
        }
        if listed.page.more != Some(true) {
            break;
        }
    }
    out
}

fn integrity_check(db: &std::path::Path) -> String {
    let conn = Connection::open(db).unwrap();
    conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_concurrent_writes_loses_no_acknowledged_write() {
    const ROUNDS: usize = 5;
    const WRITERS: u64 = 16;
    const ACKS_BEFORE_KILL: usize = 400;
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-kill9-load-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    let mut created: HashMap<String, u64> = HashMap::new();
    let mut updated: HashMap<u64, String> = HashMap::new();
    let mut acked_total = 0;
    let mut failed_total = 0;
    let mut unacked_rows_seen = 0;
    for round in 0..=ROUNDS {
        let mut server = ServerProcess::start(&["--db", &db_arg], "warn").await;
        // The store opened cleanly (the server started); check what it holds.
        assert_eq!(integrity_check(db.as_path()), "ok");
        let rows = all_collections(&server.client(1)).await;
        for (name, id) in &created {
            let (stored_name, description) = rows
                .get(id)
                .unwrap_or_else(|| panic!("acknowledged create {name} (id {id}) lost"));
            assert_eq!(stored_name, name);
            if let Some(expected) = updated.get(id) {
                assert_eq!(description, expected, "acknowledged update of {id} lost");
            }
        }
        // Rows whose create committed but whose answer was cut by the kill: at most one
        // in flight per writer per round.
        let unacked = rows.len() - created.len();
        assert!(
            unacked <= WRITERS as usize * round,
            "{unacked} rows nobody wrote"
        );
        unacked_rows_seen = unacked;
        if round == ROUNDS {
            break;
        }
        // The unacknowledged rows count as created from now on (a later round must keep
        // them too); only acknowledged ones are required.
        let count = Arc::new(AtomicUsize::new(0));
        let writers = start_writers(&server, round, WRITERS, &count);
        let loaded = eventually(WAIT, || count.load(Ordering::Relaxed) >= ACKS_BEFORE_KILL).await;
        assert!(loaded, "the writers never got going");
        server.kill9().await;
        for writer in writers {
            let acks = tokio::time::timeout(WAIT, writer)
                .await
                .expect("writers stop once the server is gone")
                .unwrap();
            acked_total += acks.created.len() + acks.updated.len();
            failed_total += acks.failed;
            created.extend(acks.created);
            updated.extend(acks.updated);
        }
    }
    println!(
        "kill -9: {ROUNDS} kills under {WRITERS} concurrent writers; {acked_total} \
         acknowledged writes ({} creates, {} updates) all found after restart; \
         {failed_total} calls cut by the kills; {unacked_rows_seen} rows in all committed without \
         their answer reaching the client; integrity_check ok after each restart",
        created.len(),
        updated.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_under_write_load_answers_every_write_it_commits() {
    const WRITERS: u64 = 16;
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-sigterm-load-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    let mut server = ServerProcess::start(&["--db", &db_arg], "info").await;
    let count = Arc::new(AtomicUsize::new(0));
    let writers = start_writers(&server, 0, WRITERS, &count);
    assert!(eventually(WAIT, || count.load(Ordering::Relaxed) >= 200).await);
    server.terminate();
    let status = server.wait().await;
    assert!(status.success(), "graceful exit: {status:?}");
    let mut created = HashMap::new();
    let mut updated = HashMap::new();
    let mut failed = 0;
    for writer in writers {
        let acks = tokio::time::timeout(WAIT, writer)
            .await
            .expect("writers stop once the server is gone")
            .unwrap();
        created.extend(acks.created);
        updated.extend(acks.updated);
        failed += acks.failed;
    }
    let log = server.log();
    assert!(log.contains("SIGTERM received, shutting down"), "{log}");
    assert!(log.contains("metadata-server stopped"), "{log}");

    // The server is gone: read its database directly. Every row it committed was
    // answered, and every answered write is there.
    assert_eq!(integrity_check(db.as_path()), "ok");
    let conn = Connection::open(db.as_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, metadata FROM collections WHERE project_id = 1 AND deleted_at IS NULL")
        .unwrap();
    let rows: HashMap<u64, CollectionMetadata> = stmt
        .query_map([], |r| {
            let id: i64 = r.get(0)?;
            let json: String = r.get(1)?;
            Ok((id as u64, serde_json::from_str(&json).unwrap()))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let stored: HashSet<&str> = rows.values().map(|m| m.name.as_str()).collect();
    let answered: HashSet<&str> = created.keys().map(String::as_str).collect();
    assert_eq!(
        stored, answered,
        "committed creates and answered creates differ"
    );
    for (id, metadata) in &rows {
        let acked_update = updated.get(id);
        let updated_in_db = metadata.description.starts_with("updated ");
        assert_eq!(
            updated_in_db,
            acked_update.is_some(),
            "collection {id}: an update committed without an answer, or answered and lost"
        );
    }
    println!(
        "SIGTERM under load ({WRITERS} writers): {} creates and {} updates committed, every \
         one answered; {failed} calls refused after shutdown began; clean exit",
        created.len(),
        updated.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_fails_writes_cleanly_and_the_server_keeps_serving() {
    // RLIMIT_FSIZE (`ulimit -f`, 1 MiB per file) makes the database and its WAL unable to
    // grow, like a full disk; it holds for root too. SIGXFSZ is ignored so that the write
    // fails with EFBIG instead of killing the process.
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-full-disk-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    let mut command = Command::new("bash");
    command.args([
        "-c",
        r#"trap "" XFSZ; ulimit -f 1024 && exec "$0" "$@""#,
        env!("CARGO_BIN_EXE_metadata-server"),
        "--addr",
        "127.0.0.1:0",
        "--db",
        &db_arg,
    ]);
    ServerProcess::configure(&mut command, "info");
    let mut server = ServerProcess::spawn(command).await;
    let client = server.client(1);
    let small = client
        .create_collection(ctx(), create_request("small"))
        .await
        .unwrap()
        .collection;
    client
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: small.id,
                recursive: None,
            },
        )
        .await
        .unwrap();

    // Writes of 100 KB each, until the limit is reached.
    let mut stored = 0;
    let mut failure = None;
    for i in 0..100 {
        let mut request = create_request(&format!("big {i}"));
        request.collection.metadata.as_mut().unwrap().description = "x".repeat(100 * 1024);
        match client.create_collection(ctx(), request).await {
            Ok(_) => stored += 1,
            Err(err) => {
                failure = Some(err);
                break;
            }
        }
    }
    let err = failure.expect("the file size limit was never reached");
    assert_store_failure(&err, db.as_path());
    // Every further large write fails the same way; the process is alive and serving.
    for _ in 0..3 {
        let mut request = create_request("bigger");
        request.collection.metadata.as_mut().unwrap().description = "y".repeat(200 * 1024);
        let err = client.create_collection(ctx(), request).await.unwrap_err();
        assert_store_failure(&err, db.as_path());
    }
    assert!(server.is_running(), "the server died");
    let got = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: small.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.metadata.unwrap().name, "small");
    let public = raw_exchange(
        server.addr,
        format!(
            "GET /projects/1/collections/{}.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            small.id
        )
        .as_bytes(),
    )
    .await;
    assert!(public.starts_with("HTTP/1.1 200 OK\r\n"), "{public}");
    // The details are in the server's log, not in the answer (read from its pipe by a task,
    // so they may show a moment after the answer).
    assert!(eventually(WAIT, || server.log().contains("metadata store failure")).await);
    let log = server.log();
    assert!(log.contains("metadata store failure"), "{log}");
    let detail = log
        .lines()
        .find(|l| l.contains("metadata store failure"))
        .unwrap_or_default()
        .to_owned();
    println!(
        "full disk (1 MiB file size limit): {stored} writes of 100 KB stored, then \
         WebrpcInternalError 500 \"{STORE_FAILED}\"; reads and public metadata kept working; \
         log line: {detail}"
    );
    server.kill9().await;

    // Without the limit, the same database opens cleanly and holds every stored write.
    assert_eq!(integrity_check(db.as_path()), "ok");
    let server = ServerProcess::start(&["--db", &db_arg], "warn").await;
    let client = server.client(1);
    let listed = client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.collections.len(), 1 + stored);
}

/// Every write method, against a store whose writes all fail. Returns the number of calls.
async fn every_write_fails(
    client: &RemoteClientInProcess,
    collection: u64,
    asset: u64,
    db: &std::path::Path,
) -> usize {
    let link = ContractCollection {
        id: 0,
        chain_id: 137,
        contract_address: "0x00000000000000000000000000000000000000cc".into(),
        collection_id: collection,
    };
    let token = TokenMetadata {
        token_id: "1".into(),
        name: "changed".into(),
        ..Default::default()
    };
    let results: Vec<Result<(), WebrpcError>> = vec![
        client
            .create_collection(ctx(), create_request("new"))
            .await
            .map(drop),
        client
            .update_collection(
                ctx(),
                UpdateCollectionRequest {
                    project_id: None,
                    collection: Collection {
                        id: collection,
                        metadata: Some(named("changed")),
                        ..Default::default()
                    },
                },
            )
            .await
            .map(drop),
        client
            .publish_collection(
                ctx(),
                PublishCollectionRequest {
                    project_id: None,
                    collection_id: collection,
                    recursive: Some(true),
                },
            )
            .await
            .map(drop),
        client
            .unpublish_collection(
                ctx(),
                UnpublishCollectionRequest {
                    project_id: None,
                    collection_id: collection,
                },
            )
            .await
            .map(drop),
        client
            .create_token(
                ctx(),
                CreateTokenRequest {
                    project_id: None,
                    collection_id: collection,
                    token: TokenMetadata {
                        token_id: "2".into(),
                        ..token.clone()
                    },
                    private: None,
                },
            )
            .await
            .map(drop),
        client
            .update_token(
                ctx(),
                UpdateTokenRequest {
                    project_id: None,
                    collection_id: collection,
                    token_id: "1".into(),
                    token: token.clone(),
                    private: None,
                },
            )
            .await
            .map(drop),
        client
            .create_asset(
                ctx(),
                CreateAssetRequest {
                    project_id: None,
                    asset: Asset {
                        collection_id: collection,
                        url: "https://cdn.test/new.png".into(),
                        ..Default::default()
                    },
                },
            )
            .await
            .map(drop),
        client
            .update_asset(
                ctx(),
                UpdateAssetRequest {
                    project_id: None,
                    asset: Asset {
                        id: asset,
                        collection_id: collection,
                        url: "https://cdn.test/changed.png".into(),
                        ..Default::default()
                    },
                },
            )
            .await
            .map(drop),
        client
            .create_contract_collection(
                ctx(),
                CreateContractCollectionRequest {
                    project_id: 1,
                    contract_collection: ContractCollection {
                        contract_address: "0x00000000000000000000000000000000000000dd".into(),
                        ..link.clone()
                    },
                },
            )
            .await
            .map(drop),
        client
            .update_contract_collection(
                ctx(),
                UpdateContractCollectionRequest {
                    project_id: 1,
                    contract_collection: link.clone(),
                },
            )
            .await
            .map(drop),
        client
            .delete_contract_collection(
                ctx(),
                DeleteContractCollectionRequest {
                    project_id: 1,
                    chain_id: link.chain_id,
                    contract_address: link.contract_address.clone(),
                },
            )
            .await
            .map(drop),
        client
            .delete_asset(
                ctx(),
                DeleteAssetRequest {
                    project_id: None,
                    asset_id: asset,
                },
            )
            .await
            .map(drop),
        client
            .delete_token(
                ctx(),
                DeleteTokenRequest {
                    project_id: None,
                    collection_id: collection,
                    token_id: "1".into(),
                },
            )
            .await
            .map(drop),
        client
            .delete_collection(
                ctx(),
                DeleteCollectionRequest {
                    project_id: None,
                    collection_id: collection,
                },
            )
            .await
            .map(drop),
    ];
    for result in &results {
        assert_store_failure(result.as_ref().unwrap_err(), db);
    }
    results.len()
}

/// The typed client calling an app in process.
type RemoteClientInProcess = CollectionsClient<Client<MetadataApp<SqliteStore>>>;

/// A database filled by project 1 (a collection "frozen" with token 1, an asset on it and a
/// contract link), then opened read-only (SQLITE_OPEN_READ_ONLY): its temp dir (keep it),
/// its path, a client of an app over the read-only store, the collection and the asset.
async fn read_only_database() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    RemoteClientInProcess,
    Collection,
    Asset,
) {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-read-only-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let url = "http://metadata.test";
    let auth = JwtAuth::new(SECRET.as_bytes());
    let (collection, asset) = {
        let app = MetadataApp::new(
            Arc::new(SqliteStore::open(db.as_path()).unwrap()),
            auth.clone(),
            url,
        );
        let client = CollectionsClient::new(
            Client::builder(url)
                .bearer_token(&token(1))
                .build_with(app)
                .unwrap(),
        );
        let c = client
            .create_collection(ctx(), create_request("frozen"))
            .await
            .unwrap()
            .collection;
        client
            .create_token(
                ctx(),
                CreateTokenRequest {
                    project_id: None,
                    collection_id: c.id,
                    token: TokenMetadata {
                        token_id: "1".into(),
                        name: "one".into(),
                        ..Default::default()
                    },
                    private: None,
                },
            )
            .await
            .unwrap();
        let asset = client
            .create_asset(
                ctx(),
                CreateAssetRequest {
                    project_id: None,
                    asset: Asset {
                        collection_id: c.id,
                        token_id: Some("1".into()),
                        url: "https://cdn.test/a.png".into(),
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap()
            .asset;
        client
            .create_contract_collection(
                ctx(),
                CreateContractCollectionRequest {
                    project_id: 1,
                    contract_collection: ContractCollection {
                        id: 0,
                        chain_id: 137,
                        contract_address: "0x00000000000000000000000000000000000000cc".into(),
                        collection_id: c.id,
                    },
                },
            )
            .await
            .unwrap();
        (c, asset)
    };

    let store = Arc::new(SqliteStore::open_read_only(db.as_path()).unwrap());
    let app = MetadataApp::new(store, auth, url);
    let client: RemoteClientInProcess = CollectionsClient::new(
        Client::builder(url)
            .bearer_token(&token(1))
            .build_with(app)
            .unwrap(),
    );
    (db_dir, db, client, collection, asset)
}

#[tokio::test]
async fn every_write_to_a_read_only_database_fails_cleanly_and_logs_the_cause_once() {
    let (logs, _guard) = capture_logs();
    let (_dir, db, client, collection, asset) = read_only_database().await;
    let writes = every_write_fails(&client, collection.id, asset.id, db.as_path()).await;
    // The cause went to the log, once per failed write.
    let log = logs.text();
    let logged = log
        .lines()
        .filter(|l| l.contains("metadata store failure") && l.contains("readonly"))
        .count();
    assert_eq!(logged, writes, "{log}");
    println!(
        "read-only database: {writes} write methods answered WebrpcInternalError 500 \
         \"{STORE_FAILED}\"; reads served; the log has SQLite's \"attempt to write a \
         readonly database\" for each"
    );
}

#[tokio::test]
async fn a_read_only_database_serves_reads_of_unchanged_data_after_failed_writes() {
    let (_dir, db, client, collection, asset) = read_only_database().await;
    every_write_fails(&client, collection.id, asset.id, db.as_path()).await;
    // Reads work, and see the data unchanged.
    let got = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: collection.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.metadata, collection.metadata);
    assert_eq!(got.updated_at, collection.updated_at);
    assert_eq!(got.token_count, Some(1));
    let token = client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: collection.id,
                token_id: "1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(token.token.name, "one");
    assert_eq!(token.assets.len(), 1);
    let links = client
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: 1,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(links.contract_collections.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_call_is_a_typed_error_and_the_client_recovers() {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-killed-mid-call-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    // One call at a time, so that a refused probe proves the write is in its handler.
    let mut server =
        ServerProcess::start(&["--db", &db_arg, "--max-concurrent-calls", "1"], "warn").await;
    let addr = server.addr.to_string();
    let client = server.client(1);
    let kept = client
        .create_collection(ctx(), create_request("kept"))
        .await
        .unwrap()
        .collection;

    // A write in flight (waiting for the database lock the test holds) when the server dies.
    let lock = Connection::open(db.as_path()).unwrap();
    lock.execute_batch("BEGIN IMMEDIATE").unwrap();
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move {
            loop {
                // Refused only while a probe holds the slot; a refused call did nothing.
                match client
                    .create_collection(ctx(), create_request("in flight"))
                    .await
                {
                    Err(err) if err.is(MetadataError::RateLimited) => {
                        tokio::time::sleep(Duration::from_millis(5)).await
                    }
                    other => return other,
                }
            }
        })
    };
    let probe = server.client(1);
    let mut in_handler = false;
    for _ in 0..1000 {
        let read = probe
            .get_collection(
                ctx(),
                GetCollectionRequest {
                    project_id: None,
                    collection_id: kept.id,
                },
            )
            .await;
        match read {
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(err) => {
                assert!(err.is(MetadataError::RateLimited), "{err}");
                in_handler = true;
                break;
            }
        }
    }
    assert!(in_handler, "the write never reached its handler");
    server.kill9().await;
    let err = tokio::time::timeout(WAIT, in_flight)
        .await
        .expect("the in-flight call ends")
        .unwrap()
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.status()),
        ("WebrpcRequestFailed", -1, 400),
        "{err}"
    );
    // While the server is down: a typed error too, at once.
    let err = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: kept.id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), -1, "{err}");
    assert!(
        err.cause().unwrap().starts_with("failed to send request: "),
        "{err}"
    );
    drop(lock);

    // Back on the same address: the same client (same pool) works again.
    let server = ServerProcess::start(&["--db", &db_arg, "--addr", &addr], "warn").await;
    assert_eq!(server.addr.to_string(), addr);
    let got = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: kept.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.metadata.unwrap().name, "kept");
    let names: Vec<_> = all_collections(&client)
        .await
        .into_values()
        .map(|(name, _)| name)
        .collect();
    // The killed write never committed (it was waiting for the lock when the process died).
    assert_eq!(names, ["kept"]);
}
