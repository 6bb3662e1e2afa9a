//! The real `metadata-server` binary over loopback: what it prints at startup works as
//! printed (the curl lines, replayed with the Rust client), `publish-collection` works
//! against it, and with a database file its data and JWT secret survive `kill -9`.
//!
//! ```text
//! cargo test -p metadata-server --test metadata_binary
//! ```

mod metadata_common;

use std::process::Stdio;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use metadata_common::WAIT;
use sequence_metadata::*;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use webrpc_client::Client;

/// What the server printed at startup.
#[derive(Debug)]
struct Banner {
    base_url: String,
    jwt: String,
    /// `(method, JSON body)` of each printed `curl … /rpc/Collections/<method> … -d '<body>'`.
    calls: Vec<(String, String)>,
    /// The printed public metadata URL.
    public_url: String,
}

fn parse_banner(lines: &[String]) -> Banner {
    let find = |prefix: &str| {
        lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(prefix).map(str::to_owned))
            .unwrap_or_else(|| panic!("no line starting with {prefix:?} in {lines:#?}"))
    };
    let base_url = find("metadata-server listening on ");
    let jwt = find("export METADATA_JWT=");
    let calls = lines
        .iter()
        .filter(|l| l.contains("/rpc/Collections/"))
        .map(|l| {
            let method = l
                .split("/rpc/Collections/")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .expect("method name")
                .to_owned();
            let body = l
                .split_once("-d '")
                .and_then(|(_, rest)| rest.strip_suffix('\''))
                .expect("curl body")
                .to_owned();
            assert!(
                l.contains("-H \"Authorization: Bearer $METADATA_JWT\""),
                "the curl line sends the exported JWT: {l}"
            );
            assert!(l.contains("-H 'Content-Type: application/json'"), "{l}");
            (method, body)
        })
        .collect();
    let public_url = lines
        .iter()
        .filter_map(|l| l.trim().strip_prefix("curl -sS "))
        .find(|rest| rest.contains("/projects/"))
        .expect("public URL line")
        .to_owned();
    Banner {
        base_url,
        jwt,
        calls,
        public_url,
    }
}

/// Starts the server with `args` and reads its startup text.
async fn start(args: &[&str]) -> (Child, Banner) {
    start_logging(args, Some("warn"), Stdio::null()).await
}

/// Starts the server with `args`, `RUST_LOG` set to `rust_log` (unset: the default level)
/// and its stderr to `stderr`, and reads its startup text.
async fn start_logging(args: &[&str], rust_log: Option<&str>, stderr: Stdio) -> (Child, Banner) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_metadata-server"));
    match rust_log {
        Some(level) => command.env("RUST_LOG", level),
        None => command.env_remove("RUST_LOG"),
    };
    let mut child = command
        .args(args)
        .env_remove("METADATA_JWT_SECRET")
        .env_remove("METADATA_LOG_FORMAT")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .expect("spawn metadata-server");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = BufReader::new(stdout).lines();
    let mut lines = Vec::new();
    let read = async {
        // The banner ends with the public metadata curl line.
        while let Some(line) = reader.next_line().await.expect("read stdout") {
            let last = line.contains("curl -sS http") && line.contains("/projects/");
            lines.push(line);
            if last {
                return;
            }
        }
        panic!("metadata-server exited before printing its banner: {lines:#?}");
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("banner printed in time");
    // Keep reading, so the server never writes into a closed pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = reader.next_line().await {} });
    (child, parse_banner(&lines))
}

/// Replays the printed curl calls with the Rust client; returns the published collection.
async fn replay_calls(banner: &Banner) -> Collection {
    let client = Client::builder(&banner.base_url)
        .bearer_token(&banner.jwt)
        .timeout(Some(WAIT))
        .build()
        .unwrap();
    assert_eq!(
        banner
            .calls
            .iter()
            .map(|(m, _)| m.as_str())
            .collect::<Vec<_>>(),
        ["CreateCollection", "PublishCollection"]
    );
    let create: CreateCollectionRequest = serde_json::from_str(&banner.calls[0].1).unwrap();
    let created = client
        .call::<CreateCollection>(&create)
        .await
        .unwrap()
        .collection;
    assert!(created.private);
    let publish: PublishCollectionRequest = serde_json::from_str(&banner.calls[1].1).unwrap();
    assert_eq!(
        publish.collection_id, created.id,
        "the printed publish line names the collection the printed create makes"
    );
    let published = client
        .call::<PublishCollection>(&publish)
        .await
        .unwrap()
        .collection;
    assert!(!published.private);
    assert_eq!(
        published.base_uris.as_ref().unwrap().contract_metadata_uri,
        banner.public_url
    );
    published
}

/// `GET url` over loopback: status and JSON body.
async fn http_get(url: &str) -> (StatusCode, serde_json::Value) {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(WAIT, client.get(url.parse().unwrap()))
        .await
        .expect("GET in time")
        .expect("GET");
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).expect("JSON body"))
}

#[tokio::test]
async fn printed_instructions_work_against_a_fresh_server() {
    let (mut child, banner) = start(&["--addr", "127.0.0.1:0", "--store", "memory"]).await;
    assert!(banner.base_url.starts_with("http://127.0.0.1:"));
    assert!(
        !banner.base_url.ends_with(":0"),
        "the bound port is printed"
    );

    let published = replay_calls(&banner).await;
    assert_eq!(published.id, 1);
    assert_eq!(published.project_id, 1);
    let (status, body) = http_get(&banner.public_url).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        serde_json::json!({"name": "My collection", "description": "Created with curl"})
    );

    // The example client, with the printed JWT.
    let output = tokio::time::timeout(
        WAIT,
        Command::new(env!("CARGO_BIN_EXE_publish-collection"))
            .args(["--url", &banner.base_url, "--name", "From the example"])
            .env("METADATA_JWT", &banner.jwt)
            .output(),
    )
    .await
    .expect("publish-collection finishes in time")
    .expect("run publish-collection");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("\"name\": \"From the example\""),
        "{stdout}"
    );
    assert!(stdout.contains("\"private\": false"), "{stdout}");
    let contract_uri = format!("{}/projects/1/collections/2.json", banner.base_url);
    assert!(
        stdout.contains(&format!("contract metadata: {contract_uri}")),
        "{stdout}"
    );
    let (status, body) = http_get(&contract_uri).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "From the example");

    child.kill().await.expect("stop the server");
}

#[tokio::test]
async fn data_and_secret_survive_kill_9() {
    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-kill9-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.as_path().to_str().expect("utf-8 temp path").to_owned();
    let args = ["--addr", "127.0.0.1:0", "--db", db_arg.as_str()];

    let (mut child, first) = start(&args).await;
    let published = replay_calls(&first).await;
    // SIGKILL: no shutdown code runs.
    child.kill().await.expect("kill -9");

    let (mut child, second) = start(&args).await;
    // The secret was kept in the database, so the first run's token still works.
    let client = CollectionsClient::new(
        Client::builder(&second.base_url)
            .bearer_token(&first.jwt)
            .timeout(Some(WAIT))
            .build()
            .unwrap(),
    );
    let got = client
        .get_collection(
            Default::default(),
            GetCollectionRequest {
                project_id: None,
                collection_id: published.id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.metadata, published.metadata);
    assert!(!got.private, "the publish was durable");
    assert_eq!(got.updated_at, published.updated_at);
    // The hint of the second run points at the next collection.
    let publish: PublishCollectionRequest = serde_json::from_str(&second.calls[1].1).unwrap();
    assert_eq!(publish.collection_id, published.id + 1);
    let public = second.public_url.replace(
        &format!("/{}.json", published.id + 1),
        &format!("/{}.json", published.id),
    );
    let (status, body) = http_get(&public).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["name"], "My collection");

    child.kill().await.expect("stop the server");
}

/// Runs a fresh memory-store server in its default configuration (no `RUST_LOG`) plus
/// `extra` arguments, its stderr to a file; makes 8 requests (1 create, 5 reads, 1 without a
/// token, 1 public GET); stops it with SIGTERM; returns the log and the dev JWT.
async fn default_log_of_eight_requests(extra: &[&str]) -> (String, String) {
    let log_file_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-stderr-log-")
        .tempdir()
        .expect("create a temp dir");
    let log_file = log_file_dir.path().join("stderr.log");
    let stderr = std::fs::File::create(log_file.as_path()).expect("create the log file");
    let mut args = vec!["--addr", "127.0.0.1:0", "--store", "memory"];
    args.extend_from_slice(extra);
    let (mut child, banner) = start_logging(&args, None, Stdio::from(stderr)).await;

    let client = CollectionsClient::new(
        Client::builder(&banner.base_url)
            .bearer_token(&banner.jwt)
            .timeout(Some(WAIT))
            .build()
            .unwrap(),
    );
    let created = client
        .create_collection(
            Default::default(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection {
                    metadata: Some(CollectionMetadata {
                        name: "Logged".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap()
        .collection;
    for _ in 0..5 {
        client
            .get_collection(
                Default::default(),
                GetCollectionRequest {
                    project_id: None,
                    collection_id: created.id,
                },
            )
            .await
            .unwrap();
    }
    let anonymous = CollectionsClient::new(
        Client::builder(&banner.base_url)
            .timeout(Some(WAIT))
            .build()
            .unwrap(),
    );
    let err = anonymous
        .get_collection(
            Default::default(),
            GetCollectionRequest {
                project_id: None,
                collection_id: created.id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), 1000);
    let (status, _) = http_get(&banner.public_url).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "the collection is not published"
    );

    // SIGTERM: a graceful stop, which flushes the log writer's queue.
    let pid = child.id().expect("the server is running").to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("run kill");
    assert!(killed.success());
    let exit = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the server stops in time")
        .expect("wait for the server");
    assert!(exit.success(), "{exit:?}");
    let log = std::fs::read_to_string(log_file.as_path()).expect("read the log");
    assert!(!log.contains(&banner.jwt), "the JWT is never logged");
    assert!(!log.to_ascii_lowercase().contains("bearer"), "{log}");
    (log, banner.jwt)
}

#[tokio::test]
async fn default_text_log_to_a_file_is_plain_with_one_access_line_per_request() {
    let (log, _) = default_log_of_eight_requests(&[]).await;
    assert!(
        !log.contains('\u{1b}'),
        "no ANSI escapes in a file: {log:?}"
    );
    let access: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("metadata_server::app: request "))
        .collect();
    assert_eq!(access.len(), 8, "{log}");
    for line in &access {
        assert!(line.contains(" INFO "), "{line}");
        assert!(
            line.contains("method=") && line.contains("status="),
            "{line}"
        );
        assert!(line.contains("elapsed_us="), "{line}");
    }
    assert_eq!(
        access
            .iter()
            .filter(|l| l.contains("path=/rpc/Collections/GetCollection status=200"))
            .count(),
        5,
        "{log}"
    );
    assert_eq!(
        access.iter().filter(|l| l.contains("status=401")).count(),
        1
    );
    assert_eq!(
        access.iter().filter(|l| l.contains("status=404")).count(),
        1
    );
    assert!(
        log.lines()
            .last()
            .unwrap_or_default()
            .contains("metadata-server stopped"),
        "the last line, written at shutdown, is flushed: {log}"
    );
}

#[tokio::test]
async fn json_log_format_writes_one_json_object_per_line() {
    let (log, _) = default_log_of_eight_requests(&["--log-format", "json"]).await;
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line:?}")))
        .collect();
    let access: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    assert_eq!(access.len(), 8, "{log}");
    for line in &access {
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["target"], "metadata_server::app");
        assert!(line["fields"]["status"].is_u64(), "{line}");
        assert!(line["fields"]["elapsed_us"].is_u64(), "{line}");
        assert!(line["fields"]["method"].is_string(), "{line}");
    }
    assert_eq!(
        access
            .iter()
            .filter(|l| l["fields"]["path"] == "/rpc/Collections/GetCollection"
                && l["fields"]["status"] == 200)
            .count(),
        5
    );
    assert_eq!(
        lines.last().map(|l| l["fields"]["message"].clone()),
        Some(serde_json::json!("metadata-server stopped"))
    );
}
