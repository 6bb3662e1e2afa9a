//! Starting the server: open the store, settle the JWT secret, bind, print how to use it,
//! serve until shutdown. The `metadata-server` binary is this plus argument parsing and
//! logging.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use webrpc_server::Server;

use super::app::MetadataApp;
use super::auth::{generate_secret, JwtAuth};
use super::config::{ServerArgs, StoreKind};
use super::memory::MemoryStore;
use super::postgresql::PostgresStore;
use super::sqlite::{SqliteStore, JWT_SECRET_SETTING};
use super::store::{Store, StoreError};

/// The account (`account` claim) of the printed development token.
pub const DEV_ACCOUNT: &str = "0x0000000000000000000000000000000000000001";

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened (the text may name the file: it is for the operator).
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    /// `--store postgres` without `--database-url` / `DATABASE_URL`.
    #[error("--store postgres needs --database-url (or DATABASE_URL)")]
    NoDatabaseUrl,
    /// No random secret could be generated.
    #[error("cannot generate a JWT secret: {0}")]
    Random(getrandom::Error),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The failure.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Where the JWT secret came from, for the startup text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SecretSource {
    Given,
    Stored,
    Shared,
    PerRun,
}

fn new_secret() -> Result<String, StartError> {
    generate_secret().map_err(StartError::Random)
}

/// What the startup text needs to know.
struct Banner<'a> {
    addr: SocketAddr,
    public_url: &'a str,
    store: String,
    assets: String,
    cors: String,
    secret: SecretSource,
    project: u64,
    token: &'a str,
    next_collection: u64,
}

impl Banner<'_> {
    fn write(&self, out: &mut impl Write) -> std::io::Result<()> {
        let Banner {
            addr,
            public_url,
            store,
            assets,
            cors,
            secret,
            project,
            token,
            next_collection,
        } = self;
        let base = format!("http://{addr}");
        let secret = match secret {
            SecretSource::Given => "from --jwt-secret / METADATA_JWT_SECRET",
            SecretSource::Stored => "generated once, kept in the database (settings table)",
            SecretSource::Shared => {
                "generated once, kept in the database (settings table), shared by all instances"
            }
            SecretSource::PerRun => "generated for this run (memory store)",
        };
        let rpc = |method: &str, body: &str| {
            format!(
                "curl -sS -X POST {base}/rpc/Collections/{method} -H 'Content-Type: application/json' \
                 -H \"Authorization: Bearer $METADATA_JWT\" -d '{body}'"
            )
        };
        writeln!(out, "metadata-server listening on {base}")?;
        writeln!(out, "  version:     {}", env!("CARGO_PKG_VERSION"))?;
        writeln!(out, "  store:       {store}")?;
        writeln!(out, "  assets:      {assets}")?;
        writeln!(out, "  public URL:  {public_url}")?;
        writeln!(out, "  JWT secret:  {secret}")?;
        writeln!(out, "  CORS:        {cors}")?;
        writeln!(out, "  health:      {base}/health")?;
        writeln!(out)?;
        writeln!(out, "Dev JWT for project {project} (HS256, no expiry):")?;
        writeln!(out, "  {token}")?;
        writeln!(out)?;
        writeln!(
            out,
            "Try it: create a collection, publish it, read its public metadata:"
        )?;
        writeln!(out, "  export METADATA_JWT={token}")?;
        writeln!(
            out,
            "  {}",
            rpc(
                "CreateCollection",
                r#"{"collection":{"metadata":{"name":"My collection","description":"Created with curl"}}}"#
            )
        )?;
        writeln!(
            out,
            "  {}",
            rpc(
                "PublishCollection",
                &format!(r#"{{"collectionId":{next_collection},"recursive":true}}"#)
            )
        )?;
        writeln!(
            out,
            "  curl -sS {base}/projects/{project}/collections/{next_collection}.json"
        )?;
        writeln!(out)?;
        out.flush()
    }
}

/// Runs the server as configured by `args` until `shutdown` completes, writing the startup
/// text (bound address, dev JWT, curl lines) to `out`.
pub async fn run(
    args: ServerArgs,
    out: &mut (impl Write + Send),
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let given = args.jwt_secret.clone().filter(|s| !s.is_empty());
    match args.store {
        StoreKind::Memory => {
            let (secret, source) = match given {
                Some(secret) => (secret, SecretSource::Given),
                None => (new_secret()?, SecretSource::PerRun),
            };
            let store = Arc::new(MemoryStore::new());
            serve(
                args,
                store,
                "memory (lost on exit)".to_owned(),
                secret,
                source,
                out,
                shutdown,
            )
            .await
        }
        StoreKind::Sqlite => {
            let db = args.db.clone();
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(db))
                .await
                .map_err(|e| StoreError::Internal(e.to_string()))??;
            let (secret, source) = match given {
                Some(secret) => (secret, SecretSource::Given),
                None => {
                    let mut failure = None;
                    let secret = store.setting_or_insert(JWT_SECRET_SETTING, || {
                        generate_secret().map_err(|e| {
                            failure = Some(e);
                            StoreError::Internal("random generator failed".into())
                        })
                    });
                    match (secret, failure) {
                        (_, Some(e)) => return Err(StartError::Random(e)),
                        (secret, None) => (secret?, SecretSource::Stored),
                    }
                }
            };
            let label = format!("sqlite {}", args.db.display());
            serve(args, Arc::new(store), label, secret, source, out, shutdown).await
        }
        StoreKind::Postgres => {
            let url = args
                .database_url
                .clone()
                .filter(|url| !url.is_empty())
                .ok_or(StartError::NoDatabaseUrl)?;
            let pool_size = args.database_pool_size;
            let store = tokio::task::spawn_blocking(move || {
                let store = PostgresStore::connect(&url, pool_size)?;
                let secret = match given {
                    Some(secret) => (secret, SecretSource::Given),
                    None => {
                        // A failing random generator is reported as such below.
                        let secret = store.setting_or_insert(JWT_SECRET_SETTING, || {
                            generate_secret().map_err(|e| {
                                StoreError::Internal(format!("random generator failed: {e}"))
                            })
                        })?;
                        (secret, SecretSource::Shared)
                    }
                };
                Ok::<_, StoreError>((store, secret))
            })
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))?;
            let (store, (secret, source)) = store?;
            let label = store.label().to_owned();
            serve(args, Arc::new(store), label, secret, source, out, shutdown).await
        }
    }
}

async fn serve<S: Store>(
    args: ServerArgs,
    store: Arc<S>,
    store_label: String,
    secret: String,
    source: SecretSource,
    out: &mut (impl Write + Send),
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), StartError> {
    let listener = TcpListener::bind(args.addr)
        .await
        .map_err(|source| StartError::Bind {
            addr: args.addr,
            source,
        })?;
    let addr = listener.local_addr()?;
    let public_url = args.public_url(addr);
    let auth = JwtAuth::new(secret.as_bytes()).with_cache(args.jwt_cache);
    if args.jwt_cache > 0 {
        tracing::info!(entries = args.jwt_cache, "JWT cache on");
    }
    let token = auth.dev_token(args.dev_project, DEV_ACCOUNT);
    let next_collection = {
        let store = Arc::clone(&store);
        tokio::task::spawn_blocking(move || crate::collections::next_collection_id(&*store))
            .await
            .map_err(|e| StoreError::Internal(e.to_string()))??
    };
    let mut config = args.app_config();
    if args.store == StoreKind::Sqlite && config.assets_dir.is_none() {
        let mut dir = args.db.clone().into_os_string();
        dir.push(".assets");
        config.assets_dir = Some(dir.into());
    }
    let assets = match &config.assets_dir {
        Some(dir) => dir.display().to_string(),
        None => "a temporary directory (lost on exit)".to_owned(),
    };
    let limits = config.limits;
    if limits != Default::default() {
        tracing::info!(
            max_concurrent_calls = limits.max_concurrent_calls,
            queue_timeout_ms = limits.queue_timeout.as_millis() as u64,
            handler_timeout_secs = limits.handler_timeout.map(|t| t.as_secs()),
            "call limits"
        );
    }
    let cors = if config.cors_origins.is_empty() {
        "any origin".to_owned()
    } else {
        config
            .cors_origins
            .iter()
            .map(|origin| origin.to_str().unwrap_or("?"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Blocking: sweeping the asset directory reads the store, which for PostgreSQL must not
    // happen on an async worker thread.
    let app = {
        let public_url = public_url.clone();
        tokio::task::spawn_blocking(move || {
            MetadataApp::try_with_config(store, auth, &public_url, config)
        })
        .await
        .map_err(|e| StoreError::Internal(e.to_string()))??
    };
    Banner {
        addr,
        public_url: &public_url,
        store: store_label,
        assets,
        cors,
        secret: source,
        project: args.dev_project,
        token: &token,
        next_collection,
    }
    .write(out)
    .unwrap_or_else(|err| {
        // A closed stdout (a parent that stopped reading) must not stop the server.
        tracing::warn!(error = %err, "cannot print the startup text");
    });
    Server::new().serve(listener, app, shutdown).await?;
    Ok(())
}
