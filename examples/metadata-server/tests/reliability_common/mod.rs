//! Helpers shared by the `reliability_*` and `security_*` test files: the real
//! `metadata-server` binary as a child process (startup text parsed, log captured, memory and
//! open descriptors read from `/proc`), clients for it, raw TCP exchanges and temporary
//! database files.

#![allow(dead_code, unreachable_pub)] // each test file uses its own subset; a private module

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sequence_metadata::{
    Collection, CollectionMetadata, CollectionsClient, CreateCollectionRequest,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};
use webrpc_client::{Client, HttpTransport};

use metadata_server::JwtAuth;

/// Generous bound on anything that waits for another process or task.
pub const WAIT: Duration = Duration::from_secs(60);

/// The JWT secret the child servers get (through `METADATA_JWT_SECRET`, never on the
/// command line). Distinctive, so a test can search the log for it.
pub const SECRET: &str = "reliability-secret-5f0c1e7a9b2d";

/// A signed token for `project` with [`SECRET`].
pub fn token(project: u64) -> String {
    JwtAuth::new(SECRET.as_bytes()).dev_token(project, "0x00000000000000000000000000000000000000bb")
}

/// The typed client over loopback.
pub type RemoteClient = CollectionsClient<Client<HttpTransport>>;

/// A running `metadata-server` child process.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// The bound address, as printed.
    pub addr: SocketAddr,
    /// `http://<addr>`.
    pub base_url: String,
    /// The process id.
    pub pid: u32,
    log: Arc<Mutex<Vec<u8>>>,
    printed: Arc<Mutex<String>>,
    /// The tasks copying the child's stderr and stdout; they end at end of stream. Once
    /// the process has exited, [`wait`](Self::wait) and [`kill9`](Self::kill9) join them,
    /// so [`log`](Self::log) then holds every line the process wrote: its exit does not
    /// mean a reader has drained the pipe yet.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

impl ServerProcess {
    /// The binary with `args`, logging at `rust_log` (stderr captured).
    pub fn command(args: &[&str], rust_log: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_metadata-server"));
        command.args(args);
        Self::configure(&mut command, rust_log);
        command
    }

    /// The environment every child server gets: the test secret, a log filter, and none of
    /// the `METADATA_*` settings of the environment running the tests.
    pub fn configure(command: &mut Command, rust_log: &str) {
        for var in [
            "METADATA_ADDR",
            "METADATA_DB",
            "METADATA_STORE",
            "METADATA_PUBLIC_URL",
            "METADATA_MAX_CONCURRENT_CALLS",
            "METADATA_QUEUE_TIMEOUT_MS",
            "METADATA_HANDLER_TIMEOUT_SECS",
        ] {
            command.env_remove(var);
        }
        command
            .env("METADATA_JWT_SECRET", SECRET)
            .env("RUST_LOG", rust_log)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
    }

    /// Starts the binary with `args` (plus `--addr 127.0.0.1:0` unless `args` has an
    /// `--addr`), and waits for its startup text.
    pub async fn start(args: &[&str], rust_log: &str) -> Self {
        let mut all: Vec<&str> = args.to_vec();
        if !args.contains(&"--addr") {
            all.extend(["--addr", "127.0.0.1:0"]);
        }
        Self::spawn(Self::command(&all, rust_log)).await
    }

    /// Spawns `command` (made with [`command`](Self::command) or
    /// [`configure`](Self::configure)) and waits for its startup text.
    pub async fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("spawn metadata-server");
        let pid = child.id().expect("pid");
        let log = Arc::new(Mutex::new(Vec::new()));
        let mut stderr = child.stderr.take().expect("stderr");
        let mut readers = Vec::with_capacity(2);
        {
            let log = Arc::clone(&log);
            readers.push(tokio::spawn(async move {
                let mut buf = vec![0u8; 16 * 1024];
                while let Ok(n) = stderr.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    log.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            }));
        }
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let printed = Arc::new(Mutex::new(String::new()));
        let read_banner = async {
            while let Some(line) = lines.next_line().await.expect("read stdout") {
                printed.lock().unwrap().push_str(&line);
                printed.lock().unwrap().push('\n');
                if let Some(url) = line.strip_prefix("metadata-server listening on ") {
                    return url.trim().to_owned();
                }
            }
            panic!("metadata-server exited before printing its address");
        };
        let base_url = match tokio::time::timeout(WAIT, read_banner).await {
            Ok(url) => url,
            Err(_) => panic!(
                "metadata-server did not start in time; log: {}",
                String::from_utf8_lossy(&log.lock().unwrap())
            ),
        };
        // Keep reading, so the server never writes into a closed pipe.
        {
            let printed = Arc::clone(&printed);
            readers.push(tokio::spawn(async move {
                while let Ok(Some(line)) = lines.next_line().await {
                    let mut printed = printed.lock().unwrap();
                    printed.push_str(&line);
                    printed.push('\n');
                }
            }));
        }
        let addr = base_url
            .strip_prefix("http://")
            .and_then(|a| a.parse().ok())
            .expect("printed address");
        ServerProcess {
            child,
            addr,
            base_url,
            pid,
            log,
            printed,
            readers,
        }
    }

    /// What the server printed on stdout so far (its startup text).
    pub fn printed(&self) -> String {
        self.printed.lock().unwrap().clone()
    }

    /// A client for `project` (token signed with [`SECRET`]).
    pub fn client(&self, project: u64) -> RemoteClient {
        CollectionsClient::new(self.raw_client(Some(&token(project))))
    }

    /// An untyped client sending `Authorization: Bearer <jwt>` when given.
    pub fn raw_client(&self, jwt: Option<&str>) -> Client<HttpTransport> {
        let mut builder = Client::builder(&self.base_url).timeout(Some(WAIT));
        if let Some(jwt) = jwt {
            builder = builder.bearer_token(jwt);
        }
        builder.build().expect("client")
    }

    /// Everything the server logged to stderr so far.
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&self.log.lock().unwrap()).into_owned()
    }

    /// The server's resident memory (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> u64 {
        proc_status_kib(self.pid, "VmRSS:")
    }

    /// The server's peak resident memory (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        proc_status_kib(self.pid, "VmHWM:")
    }

    /// The number of file descriptors the server has open (listener, database, log pipes
    /// and one per connection).
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid))
            .expect("read /proc/<pid>/fd")
            .count()
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// `kill -9`: no shutdown code runs. Returns once the process is gone.
    pub async fn kill9(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("killed process exits in time")
            .expect("wait");
        self.drain_output().await;
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn terminate(&self) {
        let status = std::process::Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .expect("run kill -TERM");
        assert!(status.success(), "kill -TERM {}", self.pid);
    }

    /// Waits (bounded) for the process to exit.
    pub async fn wait(&mut self) -> std::process::ExitStatus {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("server exits in time")
            .expect("wait");
        self.drain_output().await;
        status
    }

    /// Joins the output readers of an exited process (bounded): they end when they have
    /// read the pipes to their end.
    async fn drain_output(&mut self) {
        for reader in self.readers.drain(..) {
            tokio::time::timeout(WAIT, reader)
                .await
                .expect("the exited server's output is read to its end in time")
                .expect("output reader");
        }
    }
}

fn proc_status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The soft limit on open files of this process (children inherit it).
pub fn open_files_limit() -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("read limits");
    limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// Polls `check` every 20 ms until it holds, for at most `limit`. Returns whether it held.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if check() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Writes `request` on a new connection and reads until the server closes it (bounded).
pub async fn raw_exchange(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("write");
    read_until_closed(&mut stream).await
}

/// Reads until the peer closes (or resets) the connection, bounded by [`WAIT`].
pub async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the server closes the connection in time");
    String::from_utf8_lossy(&out).into_owned()
}

/// A `POST /rpc/Collections/{method}` request with `Connection: close`.
pub fn rpc_request(method: &str, authorization: Option<&str>, body: &str) -> Vec<u8> {
    let mut request = format!(
        "POST /rpc/Collections/{method} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(value) = authorization {
        request.push_str("Authorization: ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    request.into_bytes()
}

/// Collection metadata with a name.
pub fn named(name: &str) -> CollectionMetadata {
    CollectionMetadata {
        name: name.to_owned(),
        description: format!("{name} description"),
        ..Default::default()
    }
}

/// A CreateCollection request for a collection named `name`.
pub fn create_request(name: &str) -> CreateCollectionRequest {
    CreateCollectionRequest {
        project_id: None,
        collection: Collection {
            metadata: Some(named(name)),
            ..Default::default()
        },
    }
}

/// An empty call context: the client's `CallOptions::new()` (nothing but the client's own
/// headers is sent), or an empty `RequestContext` for a service called in process.
pub fn ctx<C: Default>() -> C {
    C::default()
}

/// A buffer the `tracing` events of this thread are written into (see [`capture_logs`]).
#[derive(Debug, Clone, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes every `tracing` event of the current thread, at every level, into a buffer until
/// the guard is dropped. Use it on a current-thread runtime (`#[tokio::test]`), so that the
/// server's handlers run on this thread.
pub fn capture_logs() -> (LogBuffer, tracing::subscriber::DefaultGuard) {
    let buffer = LogBuffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}
