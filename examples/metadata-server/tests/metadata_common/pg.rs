//! A real PostgreSQL server for the tests, and a fresh database per test.
//!
//! Where the server comes from, in order:
//!
//! 1. `METADATA_TEST_POSTGRES`: the URL of a running server whose user may create
//!    databases (`.ci/run` starts one);
//! 2. otherwise a throwaway cluster this test binary starts itself ([`Cluster`]), from the
//!    `initdb`/`pg_ctl` binaries in `METADATA_POSTGRES_BIN`, or else the newest
//!    `/usr/lib/postgresql/*/bin` (Debian's `postgresql` package), or else `pg_config
//!    --bindir`;
//! 3. otherwise the PostgreSQL tests are skipped, saying so and why on stderr — and fail
//!    instead when `METADATA_REQUIRE_POSTGRES=1`.
//!
//! A cluster listens only on a Unix socket in its own temporary directory (no port to
//! collide on). Run as root, its processes run as the `postgres` user (`runuser`), which
//! the Debian package creates. A watcher process stops the cluster and removes its
//! directory once the test process has exited, however it exits.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

/// Whether the PostgreSQL tests must run (`METADATA_REQUIRE_POSTGRES=1`): then a missing
/// server fails them instead of skipping them.
pub fn required() -> bool {
    std::env::var("METADATA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// Runs `f` on a thread of its own: the synchronous `postgres` client blocks on its own
/// runtime, which tokio forbids on an async worker thread.
pub fn off_runtime<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|scope| scope.spawn(f).join().expect("postgres helper thread"))
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`, if any.
pub fn bin_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("METADATA_POSTGRES_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    dir.join("initdb").exists().then_some(dir)
}

/// Whether this process runs as root (then PostgreSQL runs as `postgres`).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
}

/// A command running `program` as the cluster's owner.
fn as_owner(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(mut command: Command, what: &str) -> Result<(), String> {
    let out = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A throwaway PostgreSQL cluster listening on a Unix socket in its own directory.
#[derive(Debug)]
pub struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
}

impl Cluster {
    /// Creates (`initdb`) and starts a cluster with the binaries in `bin`.
    pub fn start(bin: &Path) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("pgt")
            .tempdir_in("/tmp")
            .map_err(|e| format!("temp dir: {e}"))?
            .keep();
        let cluster = Cluster {
            bin: bin.to_owned(),
            dir,
        };
        cluster.watch_parent();
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg("postgres:postgres").arg(&cluster.dir);
                    c
                },
                "chown the cluster directory to postgres",
            )?;
        }
        let mut initdb = as_owner(&bin.join("initdb"));
        initdb
            .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .arg("--locale=C")
            .arg("-D")
            .arg(cluster.data());
        run(initdb, "initdb")?;
        cluster.pg_ctl("start")?;
        Ok(cluster)
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// `pg_ctl <action>` (start, stop, restart), waiting for it to finish.
    fn pg_ctl(&self, action: &str) -> Result<(), String> {
        let mut command = as_owner(&self.bin.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "60", "-m", "fast", "-l"])
            .arg(self.dir.join("log"))
            .arg("-o")
            // Unix socket only, in the cluster's directory; fsync off: a test cluster
            // need not survive a power cut (a restart still loses nothing).
            .arg(format!(
                "-c listen_addresses='' -k {} -c fsync=off -c max_connections=200",
                self.dir.display()
            ))
            .arg(action)
            .stdout(Stdio::null());
        run(command, &format!("pg_ctl {action}"))
    }

    /// Restarts the server (`pg_ctl restart -m fast`: clients are disconnected).
    pub fn restart(&self) -> Result<(), String> {
        self.pg_ctl("restart")
    }

    /// Stops the server (`pg_ctl stop -m fast`: clients are disconnected) until
    /// [`resume`](Self::resume).
    pub fn stop(&self) -> Result<(), String> {
        self.pg_ctl("stop")
    }

    /// Starts a server [`stop`](Self::stop)ped before, on the same data.
    pub fn resume(&self) -> Result<(), String> {
        self.pg_ctl("start")
    }

    /// The URL of database `db` as the `postgres` user, over the socket (the directory as
    /// a percent-encoded host).
    pub fn url(&self, db: &str) -> String {
        let host = self.dir.display().to_string().replace('/', "%2F");
        format!("postgresql://postgres@{host}/{db}")
    }

    /// Stops the server and removes its directory after this process exits, however it
    /// exits (a panic, `abort`, a signal): a shell that waits for this process first.
    fn watch_parent(&self) {
        let stop = if is_root() {
            "runuser -u postgres -- \"$1/pg_ctl\""
        } else {
            "\"$1/pg_ctl\""
        };
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
             {stop} -D \"$2/data\" -m immediate stop >/dev/null 2>&1; rm -rf \"$2\"",
            pid = std::process::id()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&self.bin)
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let mut command = as_owner(&self.bin.join("pg_ctl"));
        command
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"]);
        let _ = run(command, "pg_ctl stop");
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server the tests of this process use: an admin URL (with `{db}` for the database
/// name), and the cluster when this process started it.
struct Server {
    url: String,
    _cluster: Option<Cluster>,
}

/// `url` with its database name replaced by `db`.
pub fn with_db(url: &str, db: &str) -> String {
    // Replace the path of a URL (or append `dbname=` to a key=value string).
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = match url.split_once('?') {
            Some((base, query)) => (base, format!("?{query}")),
            None => (url, String::new()),
        };
        let scheme_end = base.find("://").unwrap() + 3;
        let base = match base[scheme_end..].find('/') {
            Some(slash) => &base[..scheme_end + slash],
            None => base,
        };
        format!("{base}/{db}{query}")
    } else {
        format!("{url} dbname={db}")
    }
}

fn server() -> Result<&'static Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            if let Ok(url) = std::env::var("METADATA_TEST_POSTGRES") {
                return Ok(Server {
                    url,
                    _cluster: None,
                });
            }
            let bin = bin_dir().ok_or_else(|| {
                "no PostgreSQL server: METADATA_TEST_POSTGRES is unset and no initdb was found \
                 (METADATA_POSTGRES_BIN, /usr/lib/postgresql/*/bin, pg_config); install \
                 Debian's postgresql package or see .ci/run"
                    .to_owned()
            })?;
            let cluster = Cluster::start(&bin)?;
            Ok(Server {
                url: cluster.url("postgres"),
                _cluster: Some(cluster),
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Says once per test process, on stderr past the test harness's capture, why the
/// PostgreSQL tests are skipped; panics instead when they are required.
pub fn skip(reason: &str) {
    assert!(
        !required(),
        "METADATA_REQUIRE_POSTGRES=1 but PostgreSQL is unavailable: {reason}"
    );
    static SAID: OnceLock<()> = OnceLock::new();
    SAID.get_or_init(|| {
        let _ = writeln!(
            std::io::stderr(),
            "PostgreSQL tests skipped: {reason} (set METADATA_REQUIRE_POSTGRES=1 to fail instead)"
        );
    });
}

/// A fresh database on the test server, dropped (with its connections) on drop.
#[derive(Debug)]
pub struct TestDatabase {
    admin: String,
    name: String,
    /// The database's URL.
    pub url: String,
}

impl TestDatabase {
    /// A new, empty database named after `label`; `None` (having said why) when there is
    /// no PostgreSQL server and it is not required.
    pub fn create(label: &str) -> Option<Self> {
        let server = match server() {
            Ok(server) => server,
            Err(reason) => {
                skip(&reason);
                return None;
            }
        };
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t_{}_{}_{}",
            label
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(30)
                .collect::<String>()
                .to_ascii_lowercase(),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = server.url.clone();
        off_runtime(|| {
            let mut client = postgres::Client::connect(&admin, postgres::NoTls)
                .unwrap_or_else(|e| panic!("connect to the test server: {e}"));
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        });
        Some(TestDatabase {
            url: with_db(&admin, &name),
            admin,
            name,
        })
    }

    /// A new connection to the database (for checks that go around the server).
    pub fn connect(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect to the test db")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        off_runtime(move || {
            if let Ok(mut client) = postgres::Client::connect(&admin, postgres::NoTls) {
                let _ = client.batch_execute(&sql);
            }
        });
    }
}

/// A cluster of this test's own (to restart it), or `None` (having said why) when there
/// are no PostgreSQL binaries and they are not required.
pub fn own_cluster() -> Option<Cluster> {
    let Some(bin) = bin_dir() else {
        skip(
            "no initdb found (METADATA_POSTGRES_BIN, /usr/lib/postgresql/*/bin, pg_config); \
             install Debian's postgresql package or see .ci/run",
        );
        return None;
    };
    match Cluster::start(&bin) {
        Ok(cluster) => Some(cluster),
        Err(reason) => {
            skip(&format!("cannot start a PostgreSQL cluster: {reason}"));
            None
        }
    }
}
