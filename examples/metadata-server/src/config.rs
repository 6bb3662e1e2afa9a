//! Command-line configuration of the `metadata-server` binary.
//!
//! Every flag has a default suited to running the server locally, so
//! `cargo run --release -p metadata-server` needs none of them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use http::HeaderValue;

use super::app::{AppConfig, CallLimits};
use super::assets::DEFAULT_MAX_UPLOAD_BYTES;
use super::logging::LogFormat;
use super::postgresql::DEFAULT_POOL_SIZE;

/// Default listen address: `127.0.0.1:4242`.
pub const DEFAULT_ADDR: &str = "127.0.0.1:4242";

/// Default SQLite database file: `./metadata.db`.
pub const DEFAULT_DB: &str = "metadata.db";

/// Default project of the printed development JWT: 1.
pub const DEFAULT_DEV_PROJECT: u64 = 1;

/// Where the server keeps its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StoreKind {
    /// A SQLite database file (WAL, `synchronous=FULL`): survives restarts and crashes.
    Sqlite,
    /// Process memory: fast, gone when the process stops.
    Memory,
    /// A PostgreSQL database (`--database-url`), shared by any number of instances.
    Postgres,
}

/// The local Sequence Metadata server: the `Collections` webrpc service on an embedded store,
/// behind HS256 JWT auth, with published collections served as public metadata JSON.
#[derive(Debug, Clone, Parser)]
#[command(name = "metadata-server", version, about, long_about = None)]
pub struct ServerArgs {
    /// Address to listen on (port 0 picks a free port; the bound address is printed).
    #[arg(long, default_value = DEFAULT_ADDR, env = "METADATA_ADDR")]
    pub addr: SocketAddr,

    /// SQLite database file (created with its schema on first start). Ignored by the memory
    /// store.
    #[arg(long, default_value = DEFAULT_DB, env = "METADATA_DB")]
    pub db: PathBuf,

    /// Store to use.
    #[arg(long, value_enum, default_value_t = StoreKind::Sqlite, env = "METADATA_STORE")]
    pub store: StoreKind,

    /// PostgreSQL database of `--store postgres`: a URL
    /// (`postgres://user:password@host:port/dbname`; a Unix socket directory as a
    /// percent-encoded host, e.g. `postgres://user@%2Frun%2Fpostgresql/dbname`) or a
    /// `key=value` connection string. Its schema is created or migrated at start.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Most pooled PostgreSQL connections of this instance (`--store postgres`).
    #[arg(long, default_value_t = DEFAULT_POOL_SIZE, env = "METADATA_DATABASE_POOL_SIZE")]
    pub database_pool_size: u32,

    /// Directory of uploaded asset files. Default: `<db>.assets/` with the SQLite store, a
    /// temporary directory (lost on exit) otherwise; with several instances on one
    /// PostgreSQL database, give them one shared directory.
    #[arg(long, env = "METADATA_ASSETS_DIR")]
    pub assets_dir: Option<PathBuf>,

    /// HS256 secret that JWTs are signed with. Without it, a random secret is generated once
    /// and kept in the database (the memory store generates one per run).
    #[arg(long, env = "METADATA_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Base URL of the public metadata routes, used in `baseURIs`.
    /// Default: `http://<bound address>`.
    #[arg(long, env = "METADATA_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Project of the development JWT printed at startup.
    #[arg(long, default_value_t = DEFAULT_DEV_PROJECT)]
    pub dev_project: u64,

    /// Most webrpc calls run at once (0: no limit). A call over the limit waits up to
    /// `--queue-timeout-ms` for a slot, then is answered `RateLimited` (2005, HTTP 429).
    #[arg(long, default_value_t = 0, env = "METADATA_MAX_CONCURRENT_CALLS")]
    pub max_concurrent_calls: usize,

    /// How long a call over `--max-concurrent-calls` waits for a slot, in milliseconds
    /// (0: answered `RateLimited` at once).
    #[arg(long, default_value_t = 0, env = "METADATA_QUEUE_TIMEOUT_MS")]
    pub queue_timeout_ms: u64,

    /// Longest a webrpc call's handler may run, in seconds (0: no limit). A call still
    /// running then is answered `WebrpcInternalError` with HTTP status 504.
    #[arg(long, default_value_t = 0, env = "METADATA_HANDLER_TIMEOUT_SECS")]
    pub handler_timeout_secs: u64,

    /// Format of the log lines on stderr: `text` (coloured only on a terminal) or `json` (one
    /// object per line). The level is `RUST_LOG` (default `info`: one access line per request).
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "METADATA_LOG_FORMAT")]
    pub log_format: LogFormat,

    /// Cache this many verified JWTs (0: no cache, every request verifies its token). A
    /// cached token skips the HS256 check until its `exp`; see `JwtCache`.
    #[arg(long, default_value_t = 0, env = "METADATA_JWT_CACHE")]
    pub jwt_cache: usize,

    /// An origin browsers may call the webrpc API from (CORS), e.g. `http://localhost:3000`;
    /// repeat the flag (or separate with commas in `METADATA_CORS_ORIGIN`) for several.
    /// Default: any origin, since tokens travel in headers, never in cookies.
    #[arg(long = "cors-origin", value_name = "ORIGIN", value_parser = parse_origin,
          value_delimiter = ',', env = "METADATA_CORS_ORIGIN")]
    pub cors_origins: Vec<HeaderValue>,

    /// Largest asset upload (`PUT …/assets/{id}/upload`), in bytes; a larger file is answered
    /// 413 `WebrpcBadRequest` naming the limit. Uploaded files are kept in `<db>.assets/`
    /// (a temporary directory with the memory store).
    #[arg(long, default_value_t = DEFAULT_MAX_UPLOAD_BYTES, env = "METADATA_MAX_UPLOAD_BYTES")]
    pub max_upload_bytes: u64,
}

/// An origin for `--cors-origin`: `scheme://host[:port]`, nothing after it.
fn parse_origin(text: &str) -> Result<HeaderValue, String> {
    let uri: http::Uri = text.parse().map_err(|e| format!("not an origin: {e}"))?;
    let bare = uri.scheme().is_some()
        && uri.authority().is_some()
        && uri
            .path_and_query()
            .is_none_or(|p| p.as_str().is_empty() || p.as_str() == "/")
        && !text.ends_with('/');
    if !bare {
        return Err("an origin is scheme://host[:port], e.g. http://localhost:3000".into());
    }
    HeaderValue::from_str(text).map_err(|e| format!("not an origin: {e}"))
}

impl ServerArgs {
    /// The public base URL: `--public-url` without a trailing `/`, or `http://<bound>`.
    pub fn public_url(&self, bound: SocketAddr) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{bound}"),
        }
    }

    /// The app configuration set by the flags: call limits and CORS origins.
    pub fn app_config(&self) -> AppConfig {
        AppConfig {
            limits: self.call_limits(),
            cors_origins: self.cors_origins.clone(),
            assets_dir: self.assets_dir.clone(),
            max_upload_bytes: self.max_upload_bytes,
        }
    }

    /// The call limits set by `--max-concurrent-calls`, `--queue-timeout-ms` and
    /// `--handler-timeout-secs`.
    pub fn call_limits(&self) -> CallLimits {
        CallLimits {
            max_concurrent_calls: self.max_concurrent_calls,
            queue_timeout: Duration::from_millis(self.queue_timeout_ms),
            handler_timeout: (self.handler_timeout_secs > 0)
                .then(|| Duration::from_secs(self.handler_timeout_secs)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origin_must_be_a_bare_origin() {
        for bad in [
            "localhost",
            "http://a.example/path",
            "http://a.example/",
            "*",
            "",
        ] {
            assert!(
                ServerArgs::try_parse_from(["metadata-server", "--cors-origin", bad]).is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn defaults() {
        let args = ServerArgs::try_parse_from(["metadata-server"]).unwrap();
        assert_eq!(args.addr, DEFAULT_ADDR.parse().unwrap());
        assert_eq!(args.db, PathBuf::from(DEFAULT_DB));
        assert_eq!(args.store, StoreKind::Sqlite);
        assert_eq!(args.dev_project, 1);
        assert_eq!(args.log_format, LogFormat::Text);
        assert_eq!(args.jwt_cache, 0);
        assert_eq!(args.database_url, None);
        assert_eq!(args.database_pool_size, DEFAULT_POOL_SIZE);
        assert_eq!(args.assets_dir, None);
        assert!(args.cors_origins.is_empty());
        assert_eq!(args.call_limits(), CallLimits::default());
        assert_eq!(
            args.public_url("127.0.0.1:5000".parse().unwrap()),
            "http://127.0.0.1:5000"
        );
    }

    #[test]
    fn postgres_flags() {
        let args = ServerArgs::try_parse_from([
            "metadata-server",
            "--store",
            "postgres",
            "--database-url",
            "postgres://u@%2Ftmp/db",
            "--database-pool-size",
            "4",
            "--assets-dir",
            "/srv/assets",
        ])
        .unwrap();
        assert_eq!(args.store, StoreKind::Postgres);
        assert_eq!(args.database_url.as_deref(), Some("postgres://u@%2Ftmp/db"));
        assert_eq!(args.database_pool_size, 4);
        assert_eq!(
            args.app_config().assets_dir,
            Some(PathBuf::from("/srv/assets"))
        );
    }

    #[test]
    fn flags() {
        let args = ServerArgs::try_parse_from([
            "metadata-server",
            "--addr",
            "127.0.0.1:0",
            "--store",
            "memory",
            "--db",
            "/tmp/x.db",
            "--jwt-secret",
            "s3cret",
            "--public-url",
            "https://meta.example.com/",
            "--max-concurrent-calls",
            "8",
            "--queue-timeout-ms",
            "250",
            "--handler-timeout-secs",
            "5",
            "--log-format",
            "json",
            "--jwt-cache",
            "1000",
            "--cors-origin",
            "http://localhost:3000",
            "--cors-origin",
            "https://app.example.com",
        ])
        .unwrap();
        assert_eq!(args.assets_dir, None);
        assert_eq!(
            args.call_limits(),
            CallLimits {
                max_concurrent_calls: 8,
                queue_timeout: Duration::from_millis(250),
                handler_timeout: Some(Duration::from_secs(5)),
            }
        );
        assert_eq!(args.store, StoreKind::Memory);
        assert_eq!(args.log_format, LogFormat::Json);
        assert_eq!(args.jwt_cache, 1000);
        assert_eq!(
            args.cors_origins,
            ["http://localhost:3000", "https://app.example.com"]
        );
        assert_eq!(args.jwt_secret.as_deref(), Some("s3cret"));
        assert_eq!(
            args.public_url("127.0.0.1:1".parse().unwrap()),
            "https://meta.example.com"
        );
    }
}
