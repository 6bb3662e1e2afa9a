//! The real `metadata-server` binary over loopback: what it prints at startup works as
//! printed (the curl lines, replayed with the Rust client), `publish-collection` works
//! against it, and with a database file its data and JWT secret survive `kill -9`.
//!
//! ```text
//! cargo test -p examples --test metadata_binary
//! ```

mod metadata_common;

use std::process::Stdio;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use metadata_common::{TempDb, WAIT};
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
    let mut child = Command::new(env!("CARGO_BIN_EXE_metadata-server"))
        .args(args)
        .env("RUST_LOG", "warn")
        .env_remove("METADATA_JWT_SECRET")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
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
    let db = TempDb::new("kill9");
    let db_arg = db.path().to_str().expect("utf-8 temp path").to_owned();
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
            Context::new(),
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
