//! Helpers shared by the `metadata_*` test files: an in-process server over either store,
//! temporary database files, tokens, raw HTTP requests into the app.

#![allow(dead_code, unreachable_pub)] // each test file uses its own subset; a private module

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use sequence_metadata::{
    Collection, CollectionMetadata, Collections, CollectionsClient, CreateCollectionRequest,
    GetCollectionRequest, MetadataError,
};
use tower::ServiceExt;
use webrpc_client::Client;
use webrpc_core::WebrpcError;

use metadata_server::{JwtAuth, MemoryStore, MetadataApp, PostgresStore, SqliteStore, Store};

pub mod pg;

/// Generous bound on anything that waits for another process or task.
pub const WAIT: Duration = Duration::from_secs(60);

/// The JWT secret of in-process servers.
pub const SECRET: &[u8] = b"test secret";

/// The public URL in-process servers put in `baseURIs`.
pub const PUBLIC_URL: &str = "http://metadata.test";

/// A signed token for `project` with the test secret.
pub fn token(project: u64) -> String {
    JwtAuth::new(SECRET).dev_token(project, "0x00000000000000000000000000000000000000aa")
}

/// The database file's name inside [`Harness::db`].
pub const DB_FILE: &str = "metadata.db";

/// The typed client type used by the tests, calling the app in process.
pub type TestClient<S> = CollectionsClient<Client<MetadataApp<S>>>;

/// An in-process server over a store, and clients for it.
pub struct Harness<S: Store> {
    pub app: MetadataApp<S>,
    pub store: Arc<S>,
    /// The temporary directory holding the SQLite file [`DB_FILE`] (removed at the end).
    pub db: Option<tempfile::TempDir>,
    /// Keeps the PostgreSQL database alive (and drops it at the end).
    pub pg: Option<pg::TestDatabase>,
}

impl Harness<MemoryStore> {
    /// Over a fresh memory store.
    pub fn memory() -> Self {
        let store = Arc::new(MemoryStore::new());
        Harness {
            app: MetadataApp::new(Arc::clone(&store), JwtAuth::new(SECRET), PUBLIC_URL),
            store,
            db: None,
            pg: None,
        }
    }
}

impl Harness<SqliteStore> {
    /// Over a fresh SQLite file.
    pub fn sqlite(name: &str) -> Self {
        let db = tempfile::Builder::new()
            .prefix(&format!("webrpc-metadata-{name}-"))
            .tempdir()
            .expect("create a temp dir");
        let store =
            Arc::new(SqliteStore::open(db.path().join(DB_FILE)).expect("open sqlite store"));
        Harness {
            app: MetadataApp::new(Arc::clone(&store), JwtAuth::new(SECRET), PUBLIC_URL),
            store,
            db: Some(db),
            pg: None,
        }
    }
}

impl Harness<PostgresStore> {
    /// Over a fresh PostgreSQL database; `None` (having said why) without a PostgreSQL
    /// server (see [`pg`]).
    pub fn postgres(name: &str) -> Option<Self> {
        let db = pg::TestDatabase::create(name)?;
        let store = pg::off_runtime(|| PostgresStore::connect(&db.url, 8))
            .expect("connect the postgres store");
        let store = Arc::new(store);
        Some(Harness {
            app: MetadataApp::new(Arc::clone(&store), JwtAuth::new(SECRET), PUBLIC_URL),
            store,
            db: None,
            pg: Some(db),
        })
    }
}

impl<S: Store> Harness<S> {
    /// A client authenticated for `project`.
    pub fn client(&self, project: u64) -> TestClient<S> {
        self.client_with_jwt(&token(project))
    }

    /// A client sending `Authorization: Bearer <jwt>`.
    pub fn client_with_jwt(&self, jwt: &str) -> TestClient<S> {
        CollectionsClient::new(
            Client::builder(PUBLIC_URL)
                .bearer_token(jwt)
                .build_with(self.app.clone())
                .expect("client"),
        )
    }

    /// A client sending no `Authorization` header.
    pub fn anonymous(&self) -> Client<MetadataApp<S>> {
        Client::builder(PUBLIC_URL)
            .build_with(self.app.clone())
            .expect("client")
    }

    /// A raw request into the app: status and body text.
    pub async fn http(
        &self,
        request: Request<Full<Bytes>>,
    ) -> (StatusCode, http::HeaderMap, String) {
        let response = self.app.clone().oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await.expect("body").to_bytes();
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).expect("utf-8 body"),
        )
    }

    /// `GET path` on the app.
    pub async fn get(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::get(path).body(Full::new(Bytes::new())).unwrap();
        let (status, _, body) = self.http(request).await;
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|err| panic!("GET {path}: body is not JSON ({err}): {body}"));
        (status, json)
    }
}

/// Collection metadata with a name (and a description derived from it).
pub fn metadata(name: &str) -> CollectionMetadata {
    CollectionMetadata {
        name: name.to_owned(),
        description: format!("{name} description"),
        ..Default::default()
    }
}

/// Creates a collection named `name` through `client`.
pub async fn create_collection<C: Collections>(client: &C, name: &str) -> Collection {
    client
        .create_collection(
            Default::default(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection {
                    metadata: Some(metadata(name)),
                    ..Default::default()
                },
            },
        )
        .await
        .expect("create collection")
        .collection
}

/// Reads collection `id` through `client` (the token's project).
pub async fn get_collection<C: Collections>(
    client: &C,
    id: u64,
) -> Result<Collection, WebrpcError> {
    client
        .get_collection(
            Default::default(),
            GetCollectionRequest {
                project_id: None,
                collection_id: id,
            },
        )
        .await
        .map(|r| r.collection)
}

/// Asserts an error is the schema's `kind`, with that status, and returns its cause.
#[track_caller]
pub fn assert_kind(err: &WebrpcError, kind: MetadataError) -> String {
    assert_eq!(
        (err.name(), err.code(), err.status()),
        (kind.name(), kind.code(), kind.status()),
        "unexpected error: {err}"
    );
    err.cause().unwrap_or_default().to_owned()
}

/// Runs an async scenario against every store: `both_stores!(name, scenario)` makes the
/// tests `name::memory`, `name::sqlite` and `name::postgres` (which skips, saying why,
/// without a PostgreSQL server: see [`pg`]); `both_stores!(scenario)` names them after the
/// scenario (a function and a module of the same name do not clash).
#[macro_export]
macro_rules! both_stores {
    ($scenario:ident) => {
        both_stores!($scenario, $scenario);
    };
    ($name:ident, $scenario:ident) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                $scenario(&Harness::memory()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $scenario(&Harness::sqlite(stringify!($name))).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(harness) = Harness::postgres(stringify!($name)) {
                    $scenario(&harness).await;
                }
            }
        }
    };
}
