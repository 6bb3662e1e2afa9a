//! Several `metadata-server` processes on one PostgreSQL database: they share the data and
//! the JWT secret, concurrent writers through both lose nothing, a unique key has one
//! winner, `kill -9` of one instance mid-load loses no acknowledged write and leaves the
//! other unaffected, a database restart mid-load is survived by both without a restart
//! of their own, a delete racing writes to the same rows through the other instance leaves
//! no half state, and `/health` says when the database is gone.
//!
//! Needs a real PostgreSQL server (see `metadata_common/pg.rs`); without one the tests say
//! they were skipped, and why, on stderr.
//!
//! ```text
//! cargo test -p metadata-server --test postgres_instances
//! ```

mod metadata_common;
mod reliability_common;

use std::collections::BTreeSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use metadata_common::pg::{self, TestDatabase};
use metadata_common::{get_collection, WAIT};
use metadata_server::PostgresStore;
use sequence_metadata::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use webrpc_client::Client;

type Remote = CollectionsClient<Client>;

fn ctx<C: Default>() -> C {
    C::default()
}

/// One running `metadata-server --store postgres`: its process, URL and printed dev JWT.
struct Instance {
    child: Child,
    base_url: String,
    jwt: String,
}

impl Instance {
    /// Starts an instance on `database_url` (its own JWT secret: the database's) and reads
    /// its startup text.
    async fn start(database_url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_metadata-server"))
            .args(["--store", "postgres", "--addr", "127.0.0.1:0"])
            .args(["--database-url", database_url, "--database-pool-size", "6"])
            .env("RUST_LOG", "error")
            .env_remove("METADATA_JWT_SECRET")
            .env_remove("DATABASE_URL")
            .env_remove("METADATA_LOG_FORMAT")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn metadata-server");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut banner = Vec::new();
        let read = async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                let last = line.contains("curl -sS http") && line.contains("/projects/");
                banner.push(line);
                if last {
                    return;
                }
            }
            panic!("metadata-server exited before printing its banner: {banner:#?}");
        };
        tokio::time::timeout(WAIT, read)
            .await
            .expect("banner printed in time");
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let find = |prefix: &str| {
            banner
                .iter()
                .find_map(|l| l.trim().strip_prefix(prefix).map(str::to_owned))
                .unwrap_or_else(|| panic!("no {prefix:?} in {banner:#?}"))
        };
        let base_url = find("metadata-server listening on ");
        let jwt = find("export METADATA_JWT=");
        assert!(
            banner.iter().any(|l| l.contains("shared by all instances")),
            "the banner says where the secret lives: {banner:#?}"
        );
        Instance {
            child,
            base_url,
            jwt,
        }
    }

    /// A client of this instance sending `jwt`.
    fn client(&self, jwt: &str) -> Remote {
        CollectionsClient::new(
            Client::builder(&self.base_url)
                .bearer_token(jwt)
                .timeout(Some(WAIT))
                .build()
                .expect("client"),
        )
    }

    /// `kill -9`: no shutdown code runs.
    async fn kill(&mut self) {
        self.child.kill().await.expect("kill -9");
    }
}

fn token(id: &str, name: &str) -> TokenMetadata {
    TokenMetadata {
        token_id: id.to_owned(),
        name: name.to_owned(),
        ..TokenMetadata::default()
    }
}

async fn create_collection(client: &Remote, name: &str) -> Result<Collection, WebrpcError> {
    client
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection {
                    metadata: Some(CollectionMetadata {
                        name: name.to_owned(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            },
        )
        .await
        .map(|r| r.collection)
}

async fn create_token(client: &Remote, collection: u64, id: &str) -> Result<(), WebrpcError> {
    client
        .create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: collection,
                token: token(id, &format!("token {id}")),
                private: None,
            },
        )
        .await
        .map(drop)
}

/// Every token of `collection`, as `(tokenId, name)`.
async fn all_tokens(client: &Remote, collection: u64) -> Vec<(String, String)> {
    let mut tokens = Vec::new();
    let mut after = None;
    loop {
        let listed = client
            .list_tokens(
                ctx(),
                ListTokensRequest {
                    project_id: None,
                    collection_id: collection,
                    page: Some(Page {
                        page_size: Some(100),
                        after: after.clone(),
                        ..Page::default()
                    }),
                },
            )
            .await
            .expect("list tokens");
        tokens.extend(listed.tokens.into_iter().map(|t| (t.token_id, t.name)));
        if listed.page.more != Some(true) {
            return tokens;
        }
        after = listed.page.after;
    }
}

/// What writers had acknowledged: collections and token ids (of the shared collection).
#[derive(Debug, Default)]
struct Acked {
    collections: BTreeSet<u64>,
    tokens: BTreeSet<u64>,
}

/// The first token id of writer `w` on instance `side` (1, 2): writers' ids never meet.
fn first_id(side: u64, w: u64) -> u64 {
    side * 1_000_000 + w * 100_000
}

/// Whether token `id` was written through instance `side`.
fn written_by(id: u64, side: u64) -> bool {
    id / 1_000_000 == side
}

/// Writes through `client` until `rounds` writes are done or `stop` is set: each round a
/// token `first + i` in `collection`, and every third round a new collection too.
/// Acknowledged writes go into `acked`; errors `tolerate` accepts are counted and the
/// writer goes on (an instance being killed, the database restarting), any other error
/// fails the test. Returns the number of errors.
async fn writer(
    client: Remote,
    collection: u64,
    first: u64,
    rounds: u64,
    acked: Arc<Mutex<Acked>>,
    stop: Arc<AtomicBool>,
    tolerate: fn(&WebrpcError) -> bool,
) -> u64 {
    let mut errors = 0;
    for i in 0..rounds {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let id = first + i;
        match create_token(&client, collection, &id.to_string()).await {
            Ok(()) => {
                acked.lock().unwrap().tokens.insert(id);
            }
            Err(err) if tolerate(&err) => {
                errors += 1;
                // Bounded: an unreachable instance is not hammered.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("write {id} failed: {err}"),
        }
        if i % 3 == 0 {
            match create_collection(&client, &format!("writer {first} {i}")).await {
                Ok(c) => {
                    let fresh = acked.lock().unwrap().collections.insert(c.id);
                    assert!(fresh, "collection id {} handed out twice", c.id);
                }
                Err(err) if tolerate(&err) => {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(err) => panic!("create collection {first} {i} failed: {err}"),
            }
        }
    }
    errors
}

/// Tolerates any error: the instance is being killed, so its calls fail as they may.
fn any_error(_: &WebrpcError) -> bool {
    true
}

/// Tolerates no error (the writer then fails the test with the error it got).
fn no_error(_: &WebrpcError) -> bool {
    false
}

/// Tolerates what a database restart may cost a call, and only that: the store was
/// unavailable and nothing was written (503), or its commit was cut off (500, outcome
/// unknown).
fn store_unavailable(err: &WebrpcError) -> bool {
    let cause = err.cause().unwrap_or_default();
    (err.status() == 503 && cause == metadata_server::service::STORE_UNAVAILABLE)
        || (err.status() == 500 && cause == metadata_server::service::STORE_OUTCOME_UNKNOWN)
}

/// Checks through `client` that every acknowledged write is there, and that the shared
/// collection's `tokenCount` is the number of its tokens (no half state).
async fn assert_acked_present(client: &Remote, collection: u64, acked: &Acked) {
    let tokens: BTreeSet<u64> = all_tokens(client, collection)
        .await
        .into_iter()
        .map(|(id, _)| id.parse().expect("decimal token id"))
        .collect();
    let missing: Vec<_> = acked.tokens.difference(&tokens).collect();
    assert!(
        missing.is_empty(),
        "acknowledged tokens missing: {missing:?}"
    );
    let shared = get_collection(client, collection)
        .await
        .expect("collection");
    assert_eq!(shared.token_count, Some(tokens.len() as u64));
    for id in &acked.collections {
        get_collection(client, *id)
            .await
            .unwrap_or_else(|err| panic!("acknowledged collection {id} missing: {err}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_share_the_data_and_the_jwt_secret() {
    let Some(db) = TestDatabase::create("share") else {
        return;
    };
    let (a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    // One secret, generated by whichever started first: each accepts the other's token.
    let through_a = a.client(&b.jwt);
    let through_b = b.client(&a.jwt);
    let created = create_collection(&through_a, "Shared").await.unwrap();
    let read = get_collection(&through_b, created.id).await.unwrap();
    assert_eq!(read.metadata, created.metadata);
    // Published on one, public on the other.
    publish(&through_b, created.id).await.unwrap();
    assert!(
        !get_collection(&through_a, created.id)
            .await
            .unwrap()
            .private
    );
    // The secret is a row of the database's settings table.
    let secret: String = pg::off_runtime(|| {
        db.connect()
            .query_one("SELECT value FROM settings WHERE key = 'jwt_secret'", &[])
            .unwrap()
            .get(0)
    });
    assert!(!secret.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unique_key_has_one_winner_across_instances() {
    let Some(db) = TestDatabase::create("unique") else {
        return;
    };
    let (a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    let (ca, cb) = (a.client(&a.jwt), b.client(&a.jwt));
    let collection = create_collection(&ca, "Race").await.unwrap().id;
    const KEYS: u64 = 40;
    let mut tasks = Vec::new();
    for (client, side) in [(ca.clone(), "a"), (cb.clone(), "b")] {
        for half in 0..2 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let mut wins = Vec::new();
                // Both sides go through the same ids, each in its own order.
                for k in 0..KEYS {
                    let k = if half == 0 { k } else { KEYS - 1 - k };
                    let id = (1000 + k).to_string();
                    match create_token(&client, collection, &id).await {
                        Ok(()) => wins.push(id),
                        Err(err) => {
                            assert_eq!(
                                err.name(),
                                MetadataError::RequestConflict.name(),
                                "{side}: {err}"
                            );
                        }
                    }
                }
                wins
            }));
        }
    }
    let mut wins = Vec::new();
    for task in tasks {
        wins.extend(tokio::time::timeout(WAIT, task).await.unwrap().unwrap());
    }
    wins.sort();
    let unique: BTreeSet<_> = wins.iter().cloned().collect();
    assert_eq!(
        wins.len(),
        unique.len(),
        "a token id created twice: {wins:?}"
    );
    assert_eq!(unique.len() as u64, KEYS, "every id created once");
    let stored = all_tokens(&cb, collection).await;
    assert_eq!(stored.len() as u64, KEYS);
    assert_eq!(
        get_collection(&ca, collection).await.unwrap().token_count,
        Some(KEYS)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_through_both_instances_are_not_lost() {
    let Some(db) = TestDatabase::create("updates") else {
        return;
    };
    let (a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    let (ca, cb) = (a.client(&a.jwt), b.client(&a.jwt));
    let collection = create_collection(&ca, "Busy").await.unwrap().id;
    const TASKS: u64 = 4;
    const PER_TASK: u64 = 15;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        // Created through one instance, updated through the other, publishing now and
        // then (a write of every token of the collection) through both.
        let (create, update) = if task % 2 == 0 {
            (ca.clone(), cb.clone())
        } else {
            (cb.clone(), ca.clone())
        };
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let id = (task * 1000 + i).to_string();
                create_token(&create, collection, &id)
                    .await
                    .expect("create");
                update
                    .update_token(
                        ctx(),
                        UpdateTokenRequest {
                            project_id: None,
                            collection_id: collection,
                            token_id: id.clone(),
                            token: token(&id, &format!("updated {id}")),
                            private: None,
                        },
                    )
                    .await
                    .expect("update");
                if i % 5 == 0 {
                    publish(&create, collection).await.expect("publish");
                }
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    }
    let tokens = all_tokens(&ca, collection).await;
    assert_eq!(tokens.len() as u64, TASKS * PER_TASK, "no token lost");
    for (id, name) in &tokens {
        assert_eq!(name, &format!("updated {id}"), "no update lost");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_instance_mid_load_loses_no_acknowledged_write() {
    let Some(db) = TestDatabase::create("kill") else {
        return;
    };
    let (mut a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    let (ca, cb) = (a.client(&a.jwt), b.client(&a.jwt));
    let collection = create_collection(&cb, "Load").await.unwrap().id;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut on_a = Vec::new();
    let mut on_b = Vec::new();
    for w in 0..3 {
        on_a.push(tokio::spawn(writer(
            ca.clone(),
            collection,
            first_id(1, w),
            10_000,
            Arc::clone(&acked),
            Arc::clone(&stop),
            any_error,
        )));
        // The survivor's writers must not see a single error.
        on_b.push(tokio::spawn(writer(
            cb.clone(),
            collection,
            first_id(2, w),
            60,
            Arc::clone(&acked),
            Arc::new(AtomicBool::new(false)),
            no_error,
        )));
    }
    // Kill A once it has acknowledged some writes (bounded wait).
    for _ in 0..600 {
        let from_a = acked
            .lock()
            .unwrap()
            .tokens
            .iter()
            .filter(|&&t| written_by(t, 1))
            .count();
        if from_a >= 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.kill().await;
    for task in on_b {
        tokio::time::timeout(WAIT, task)
            .await
            .expect("survivor's writers finish")
            .expect("the survivor answered every write");
    }
    stop.store(true, Ordering::Relaxed);
    let mut a_errors = 0;
    for task in on_a {
        a_errors += tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.tokens.iter().filter(|&&t| written_by(t, 1)).count() >= 30,
        "A acknowledged writes before it was killed"
    );
    assert!(a_errors > 0, "A's writers saw it go away");
    eprintln!(
        "kill -9: {} tokens and {} collections acknowledged, {a_errors} failed writes to A",
        acked.tokens.len(),
        acked.collections.len()
    );
    // Everything acknowledged by either instance is in the database, as read through the
    // survivor, and through a fresh instance started on the same database.
    assert_acked_present(&cb, collection, &acked).await;
    let c = Instance::start(&db.url).await;
    assert_acked_present(&c.client(&a.jwt), collection, &acked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_instances_recover_from_a_database_restart_mid_load() {
    let Some(cluster) = pg::own_cluster() else {
        return;
    };
    let url = cluster.url("postgres");
    let (a, b) = tokio::join!(Instance::start(&url), Instance::start(&url));
    let (ca, cb) = (a.client(&a.jwt), b.client(&a.jwt));
    let collection = create_collection(&ca, "Restart").await.unwrap().id;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for (client, side) in [(&ca, 1), (&cb, 2)] {
        for w in 0..2 {
            writers.push(tokio::spawn(writer(
                client.clone(),
                collection,
                first_id(side, w),
                10_000,
                Arc::clone(&acked),
                Arc::clone(&stop),
                store_unavailable,
            )));
        }
    }
    let acked_count = |acked: &Mutex<Acked>| acked.lock().unwrap().tokens.len();
    for _ in 0..600 {
        if acked_count(&acked) >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let before = acked_count(&acked);
    // `pg_ctl restart -m fast`: every connection of both instances is cut.
    pg::off_runtime(|| cluster.restart()).expect("restart PostgreSQL");
    // Writers go on after the restart: more writes are acknowledged (bounded wait).
    let mut after = before;
    for _ in 0..600 {
        after = acked_count(&acked);
        if after >= before + 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut errors = 0;
    for task in writers {
        errors += tokio::time::timeout(WAIT, task).await.unwrap().unwrap();
    }
    eprintln!("database restart: {before} writes acknowledged before, {after} by the end, {errors} failed");
    assert!(
        after >= before + 40,
        "writes were acknowledged after the restart ({before} before, {after} after, \
         {errors} errors)"
    );
    // Each instance serves new writes, without having been restarted.
    for (client, side) in [(&ca, "a"), (&cb, "b")] {
        let id = if side == "a" { 1 } else { 2 };
        create_token(client, collection, &id.to_string())
            .await
            .unwrap_or_else(|err| panic!("{side} after the restart: {err}"));
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert_acked_present(&ca, collection, &acked).await;
    assert_acked_present(&cb, collection, &acked).await;
}

/// `GET /health` of `instance`: the status code and the body.
async fn health(instance: &Instance) -> (u16, String) {
    let addr = instance
        .base_url
        .trim_start_matches("http://")
        .parse()
        .expect("a socket address");
    let answer = reliability_common::raw_exchange(
        addr,
        b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )
    .await;
    let status = answer
        .get(9..12)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    let body = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_unavailable_while_the_database_is_down_and_ok_once_it_is_back() {
    let Some(cluster) = pg::own_cluster() else {
        return;
    };
    let instance = Instance::start(&cluster.url("postgres")).await;
    let (status, body) = health(&instance).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""status":"ok""#), "{body}");
    pg::off_runtime(|| cluster.stop()).expect("stop PostgreSQL");
    // Pooled connections are cut and new ones refused: the check fails at once (well
    // within the route's own 5 s bound).
    let (status, body) = health(&instance).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""status":"unavailable""#), "{body}");
    assert!(!body.contains("postgres"), "no database details: {body}");
    pg::off_runtime(|| cluster.resume()).expect("start PostgreSQL again");
    let mut last = (0, String::new());
    for _ in 0..100 {
        last = health(&instance).await;
        if last.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(last.0, 200, "healthy again without a restart: {}", last.1);
}

async fn update_token(client: &Remote, collection: u64, id: &str) -> Result<(), WebrpcError> {
    client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: collection,
                token_id: id.to_owned(),
                token: token(id, "updated"),
                private: None,
            },
        )
        .await
        .map(drop)
}

async fn publish(client: &Remote, collection: u64) -> Result<(), WebrpcError> {
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
        .map(drop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_racing_writes_to_the_same_rows_through_the_other_instance_leaves_no_live_token() {
    let Some(db) = TestDatabase::create("delete_race") else {
        return;
    };
    let (a, b) = tokio::join!(Instance::start(&db.url), Instance::start(&db.url));
    let (ca, cb) = (a.client(&a.jwt), b.client(&a.jwt));
    let mut raced = 0;
    for round in 0..8u64 {
        let collection = create_collection(&ca, &format!("race {round}"))
            .await
            .unwrap()
            .id;
        for t in 0..10 {
            create_token(&ca, collection, &t.to_string()).await.unwrap();
        }
        // Through b: creates, updates and recursive publishes of the collection's rows,
        // until the delete through a makes them NotFound.
        let writes = {
            let cb = cb.clone();
            tokio::spawn(async move {
                for i in 0..2000u64 {
                    let result = match i % 3 {
                        0 => create_token(&cb, collection, &(100 + i).to_string()).await,
                        1 => update_token(&cb, collection, &(i % 10).to_string()).await,
                        _ => publish(&cb, collection).await,
                    };
                    match result {
                        Ok(()) => {}
                        Err(err) if err.name() == MetadataError::NotFound.name() => return i,
                        Err(err) => panic!("write {i}: {err}"),
                    }
                }
                panic!("2000 writes and the delete never took effect");
            })
        };
        tokio::time::sleep(Duration::from_millis(15 * (round % 4))).await;
        ca.delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: collection,
            },
        )
        .await
        .unwrap();
        let acknowledged = tokio::time::timeout(WAIT, writes).await.unwrap().unwrap();
        raced += acknowledged;
        for client in [&ca, &cb] {
            let err = get_collection(client, collection).await.unwrap_err();
            assert_eq!(err.name(), MetadataError::NotFound.name(), "{err}");
        }
        // No half state: not one live token of the deleted collection, whichever order
        // the transactions committed in.
        let live: i64 = pg::off_runtime(|| {
            db.connect()
                .query_one(
                    "SELECT count(*) FROM tokens WHERE collection_id = $1 AND deleted_at IS NULL",
                    &[&i64::try_from(collection).unwrap()],
                )
                .unwrap()
                .get(0)
        });
        assert_eq!(
            live, 0,
            "round {round}: {acknowledged} writes acknowledged, {live} live tokens left"
        );
    }
    eprintln!("delete race: {raced} writes through b acknowledged before the deletes");
    // The race was run: b's writes were landing when a's deletes came (the sleeps give b
    // 0 to 45 ms of head start per round).
    assert!(raced > 0);
}

#[test]
fn a_database_of_a_newer_schema_is_refused() {
    let Some(db) = TestDatabase::create("newer") else {
        return;
    };
    pg::off_runtime(|| {
        drop(PostgresStore::connect(&db.url, 1).expect("first start migrates"));
        let mut client = db.connect();
        let version: i32 = client
            .query_one("SELECT version FROM schema_version", &[])
            .unwrap()
            .get(0);
        assert_eq!(
            version as u32,
            metadata_server::postgresql::schema_version()
        );
        // A second start finds the schema current and changes nothing.
        drop(PostgresStore::connect(&db.url, 1).expect("second start"));
        client
            .execute("UPDATE schema_version SET version = version + 1", &[])
            .unwrap();
        let err = PostgresStore::connect(&db.url, 1).expect_err("a newer schema is refused");
        assert!(
            err.to_string().contains("newer than this server's"),
            "clear error: {err}"
        );
    });
}

#[test]
fn an_unreachable_database_fails_the_start_with_a_clear_error() {
    // A socket directory with no server in it.
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "postgresql://postgres@{}/x?connect_timeout=2",
        dir.path().display().to_string().replace('/', "%2F")
    );
    let err = PostgresStore::connect(&url, 1).expect_err("no server");
    let text = err.to_string();
    assert!(
        text.contains("cannot connect to postgres postgres@"),
        "{text}"
    );
    assert!(!text.contains("password"), "{text}");
}

#[test]
fn database_urls_get_the_test_database_name() {
    assert_eq!(
        pg::with_db("postgres://u:p@h:5/postgres?sslmode=disable", "t1"),
        "postgres://u:p@h:5/t1?sslmode=disable"
    );
    assert_eq!(
        pg::with_db("postgresql://u@%2Ftmp%2Fx", "t1"),
        "postgresql://u@%2Ftmp%2Fx/t1"
    );
    assert_eq!(
        pg::with_db("host=/tmp user=u", "t1"),
        "host=/tmp user=u dbname=t1"
    );
}
