//! Asset upload (`PUT /projects/{p}/collections/{c}/assets/{a}/upload`, multipart field
//! `file`, as go-sequence's `UploadAsset` sends it) and the public asset files: the answer,
//! auth and scoping, the size limit, serving only while published, an upload cut by
//! `kill -9` of the binary; and, on both stores, that an asset's bytes are served by its
//! stored content hash (never by its user-settable `url`) and removed from disk once no live
//! asset uses them.
//!
//! ```text
//! cargo test -p metadata-server --test metadata_upload
//! ```

mod metadata_common;
mod reliability_common;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use sequence_metadata::{
    Asset, Collections, CreateAssetRequest, CreateTokenRequest, DeleteAssetRequest,
    DeleteCollectionRequest, DeleteTokenRequest, GetAssetRequest, PublishCollectionRequest,
    TokenMetadata, UpdateAssetRequest,
};
use tower::ServiceExt;

use metadata_common::{create_collection, token, Harness, PUBLIC_URL, SECRET};
use metadata_server::{AppConfig, JwtAuth, MemoryStore, MetadataApp, Store};

/// A 3×2 PNG's signature and IHDR chunk, then filler bytes.
fn png() -> Vec<u8> {
    let mut bytes = vec![
        0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0, 0,
        0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0, 0x12, 0x16, 0xf1, 0x4d,
    ];
    bytes.extend((0..200u8).map(|i| i.wrapping_mul(7)));
    bytes
}

const BOUNDARY: &str = "webrpc-test-boundary-7c2f";

/// A multipart body with one field, like Go's `multipart.Writer.CreateFormFile`.
fn multipart(field: &str, filename: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; \
         filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload_request(path: &str, jwt: Option<&str>, body: Vec<u8>) -> Request<Full<Bytes>> {
    let mut request = Request::put(path).header(
        "content-type",
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    if let Some(jwt) = jwt {
        // go-sequence writes the scheme in capitals.
        request = request.header("authorization", format!("BEARER {jwt}"));
    }
    request.body(Full::new(Bytes::from(body))).unwrap()
}

async fn send(app: &MetadataApp<MemoryStore>, request: Request<Full<Bytes>>) -> Response<Bytes> {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

fn json(response: &Response<Bytes>) -> serde_json::Value {
    serde_json::from_slice(response.body()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}",
            String::from_utf8_lossy(response.body())
        )
    })
}

async fn create_asset<C: Collections>(client: &C, collection: u64) -> Asset {
    client
        .create_asset(
            Default::default(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: collection,
                    metadata_field: "image".into(),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap()
        .asset
}

/// The files in an assets directory, sorted, without `.lock` (the lock file instances
/// sharing the directory take; it holds no content).
fn stored_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name != ".lock")
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn an_uploaded_image_fills_the_asset_and_is_served_only_while_published() {
    let h = Harness::memory();
    let client = h.client(1);
    let collection = create_collection(&client, "Uploads").await;
    let asset = create_asset(&client, collection.id).await;
    let path = format!(
        "/projects/1/collections/{}/assets/{}/upload",
        collection.id, asset.id
    );
    let bytes = png();
    let response = send(
        &h.app,
        upload_request(&path, Some(&token(1)), multipart("file", "cat.png", &bytes)),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = json(&response);
    assert_eq!(body["id"], asset.id);
    assert_eq!(body["collectionId"], collection.id);
    assert_eq!(body["metadataField"], "image");
    assert_eq!(body["filename"], "cat.png");
    assert_eq!(body["filesize"], bytes.len());
    assert_eq!(body["mimeType"], "image/png");
    assert_eq!(
        (body["width"].clone(), body["height"].clone()),
        (3.into(), 2.into())
    );
    let url = body["url"].as_str().unwrap().to_owned();
    let file_path = url
        .strip_prefix(PUBLIC_URL)
        .expect("url under the public URL");
    // The RPC sees the same asset.
    let stored = client
        .get_asset(
            Default::default(),
            GetAssetRequest {
                project_id: None,
                asset_id: asset.id,
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(stored.url, url);

    // Private collection: not served.
    let get = || Request::get(file_path).body(Full::default()).unwrap();
    assert_eq!(send(&h.app, get()).await.status(), StatusCode::NOT_FOUND);

    client
        .publish_collection(
            Default::default(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: collection.id,
                recursive: None,
            },
        )
        .await
        .unwrap();
    let served = send(&h.app, get()).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.body().as_ref(), bytes.as_slice());
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    let sha = file_path.rsplit('/').next().unwrap();
    assert_eq!(served.headers()["etag"], format!("\"{sha}\""));

    let range = Request::get(file_path)
        .header("range", "bytes=0-3")
        .body(Full::default())
        .unwrap();
    let partial = send(&h.app, range).await;
    assert_eq!(partial.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(partial.body().as_ref(), &bytes[..4]);

    // A made-up content name under the same asset is not served.
    let other = file_path.replace(sha, &"0".repeat(64));
    let request = Request::get(other).body(Full::default()).unwrap();
    assert_eq!(send(&h.app, request).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn uploads_need_the_project_s_token_a_file_field_and_the_right_collection() {
    let h = Harness::memory();
    let client = h.client(1);
    let collection = create_collection(&client, "Scoped").await;
    let other = create_collection(&client, "Other").await;
    let asset = create_asset(&client, collection.id).await;
    let path = format!(
        "/projects/1/collections/{}/assets/{}/upload",
        collection.id, asset.id
    );
    let body = || multipart("file", "a.bin", b"hello");

    let anonymous = send(&h.app, upload_request(&path, None, body())).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json(&anonymous)["error"], "Unauthorized");

    let foreign = send(&h.app, upload_request(&path, Some(&token(2)), body())).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(json(&foreign)["error"], "PermissionDenied");

    let wrong_collection = format!(
        "/projects/1/collections/{}/assets/{}/upload",
        other.id, asset.id
    );
    let missing = send(
        &h.app,
        upload_request(&wrong_collection, Some(&token(1)), body()),
    )
    .await;
    assert_eq!(json(&missing)["error"], "NotFound");

    let no_file = send(
        &h.app,
        upload_request(&path, Some(&token(1)), multipart("image", "a.bin", b"x")),
    )
    .await;
    assert_eq!(no_file.status(), StatusCode::BAD_REQUEST);
    assert!(json(&no_file)["cause"]
        .as_str()
        .unwrap()
        .contains("\"file\""));

    // Not an image: the declared type is kept, no dimensions.
    let plain = send(&h.app, upload_request(&path, Some(&token(1)), body())).await;
    assert_eq!(plain.status(), StatusCode::OK);
    let plain = json(&plain);
    assert_eq!(plain["mimeType"], "application/octet-stream");
    assert_eq!(plain["filesize"], 5);
    assert!(plain.get("width").is_none());
}

#[tokio::test]
async fn an_upload_over_the_limit_is_413_with_the_limit_named_and_stores_nothing() {
    let assets = tempfile::tempdir().unwrap();
    let app = MetadataApp::with_config(
        Arc::new(MemoryStore::new()),
        JwtAuth::new(SECRET),
        PUBLIC_URL,
        AppConfig {
            assets_dir: Some(assets.path().to_path_buf()),
            max_upload_bytes: 100,
            ..AppConfig::default()
        },
    );
    let client = sequence_metadata::CollectionsClient::new(
        webrpc_client::Client::builder(PUBLIC_URL)
            .bearer_token(&token(1))
            .build_with(app.clone())
            .unwrap(),
    );
    let collection = create_collection(&client, "Big").await;
    let asset = create_asset(&client, collection.id).await;
    let path = format!(
        "/projects/1/collections/{}/assets/{}/upload",
        collection.id, asset.id
    );
    let response = send(
        &app,
        upload_request(
            &path,
            Some(&token(1)),
            multipart("file", "big.bin", &[7; 101]),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = json(&response);
    assert_eq!(body["error"], "WebrpcBadRequest");
    assert!(
        body["cause"].as_str().unwrap().contains("100 bytes"),
        "{body}"
    );
    assert_eq!(stored_files(assets.path()), Vec::<String>::new());

    let fits = send(
        &app,
        upload_request(
            &path,
            Some(&token(1)),
            multipart("file", "ok.bin", &[7; 100]),
        ),
    )
    .await;
    assert_eq!(fits.status(), StatusCode::OK);
    assert_eq!(stored_files(assets.path()).len(), 1);
}

#[tokio::test]
async fn an_upload_cut_by_kill_9_leaves_the_previous_bytes_and_no_partial_file() {
    use reliability_common::{eventually, ServerProcess, WAIT};
    use tokio::io::AsyncWriteExt;

    let db_dir = tempfile::Builder::new()
        .prefix("webrpc-metadata-upload-kill9-")
        .tempdir()
        .expect("create a temp dir");
    let db = db_dir.path().join("metadata.db");
    let db_arg = db.to_str().expect("utf-8 temp path").to_owned();
    let assets_dir = std::path::PathBuf::from(format!("{db_arg}.assets"));
    let args = ["--addr", "127.0.0.1:0", "--db", db_arg.as_str()];
    let mut server = ServerProcess::start(&args, "info").await;
    let client = server.client(1);
    let collection = create_collection(&client, "Crash").await;
    let asset = create_asset(&client, collection.id).await;
    let path = format!(
        "/projects/1/collections/{}/assets/{}/upload",
        collection.id, asset.id
    );
    let jwt = reliability_common::token(1);

    // First upload, complete.
    let first = png();
    let body = multipart("file", "first.png", &first);
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {jwt}\r\n\
         content-type: multipart/form-data; boundary={BOUNDARY}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let answer = reliability_common::raw_exchange(server.addr, &request).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let names = || stored_files(&assets_dir);
    let kept = names();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let first_file = assets_dir.join(&kept[0]);

    // Second upload: headers and half of a 4 MiB body, then the server is killed.
    let second = vec![0xabu8; 4 * 1024 * 1024];
    let body = multipart("file", "second.bin", &second);
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head = format!(
        "PUT {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {jwt}\r\n\
         content-type: multipart/form-data; boundary={BOUNDARY}\r\n\
         content-length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    let part_written = eventually(WAIT, || {
        names().iter().any(|n| {
            n.ends_with(".part") && std::fs::metadata(assets_dir.join(n)).is_ok_and(|m| m.len() > 0)
        })
    })
    .await;
    assert!(
        part_written,
        "the upload never reached the disk: {:?}",
        names()
    );
    server.kill9().await;
    drop(stream);

    // The first bytes are intact; only a *.part file is left, and a restart removes it.
    assert_eq!(std::fs::read(&first_file).unwrap(), first);
    assert!(
        names()
            .iter()
            .all(|n| n == &kept[0] || n.ends_with(".part")),
        "{:?}",
        names()
    );
    let server = ServerProcess::start(&args, "info").await;
    assert_eq!(names(), kept);
    let stored = server
        .client(1)
        .get_asset(
            Default::default(),
            GetAssetRequest {
                project_id: None,
                asset_id: asset.id,
            },
        )
        .await
        .unwrap()
        .asset;
    assert!(stored.url.ends_with(&kept[0]), "{}", stored.url);
    assert_eq!(stored.name, "first.png");
}

// ---- the bytes belong to the asset they were uploaded for ----

/// An app over `store` keeping its asset files in `dir`.
fn app_in<S: Store>(store: Arc<S>, dir: &std::path::Path) -> MetadataApp<S> {
    let config = AppConfig {
        assets_dir: Some(dir.to_path_buf()),
        ..AppConfig::default()
    };
    MetadataApp::with_config(store, JwtAuth::new(SECRET), PUBLIC_URL, config)
}

fn client_of<S: Store>(app: &MetadataApp<S>, project: u64) -> metadata_common::TestClient<S> {
    sequence_metadata::CollectionsClient::new(
        webrpc_client::Client::builder(PUBLIC_URL)
            .bearer_token(&token(project))
            .build_with(app.clone())
            .expect("client"),
    )
}

async fn send_to<S: Store>(app: &MetadataApp<S>, request: Request<Full<Bytes>>) -> Response<Bytes> {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    Response::from_parts(parts, body.collect().await.unwrap().to_bytes())
}

async fn publish<C: Collections>(client: &C, collection: u64) {
    client
        .publish_collection(
            Default::default(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: collection,
                recursive: Some(true),
            },
        )
        .await
        .unwrap();
}

/// Uploads `bytes` to an asset of project `project`; answers the asset's file path (under
/// the public URL) and the content hash.
async fn upload_to<S: Store>(
    app: &MetadataApp<S>,
    project: u64,
    collection: u64,
    asset: u64,
    bytes: &[u8],
) -> (String, String) {
    let path = format!("/projects/{project}/collections/{collection}/assets/{asset}/upload");
    let response = send_to(
        app,
        upload_request(
            &path,
            Some(&token(project)),
            multipart("file", "f.bin", bytes),
        ),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK, "{:?}", response.body());
    let url = json(&response)["url"].as_str().unwrap().to_owned();
    let file_path = url.strip_prefix(PUBLIC_URL).unwrap().to_owned();
    let sha = file_path.rsplit('/').next().unwrap().to_owned();
    (file_path, sha)
}

async fn status_of<S: Store>(app: &MetadataApp<S>, path: &str) -> StatusCode {
    let request = Request::get(path).body(Full::default()).unwrap();
    send_to(app, request).await.status()
}

/// Runs a behaviour against the memory store and a SQLite file, each with its own asset
/// directory.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = std::sync::Arc::new(metadata_server::MemoryStore::new());
                    super::$name(store, dir.path()).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = std::sync::Arc::new(
                        metadata_server::SqliteStore::open(dir.path().join("m.db")).unwrap(),
                    );
                    super::$name(store, &dir.path().join("m.db.assets")).await;
                }
            }
        )*
    };
}

on_both_stores!(
    a_url_pointed_at_another_project_s_file_does_not_serve_it,
    deleting_an_asset_removes_its_file_once_no_other_asset_uses_it,
    deleting_a_token_or_a_collection_removes_the_files_of_their_assets,
    a_new_upload_removes_the_asset_s_previous_file,
    files_no_live_asset_uses_are_swept_when_the_app_starts,
);

async fn a_url_pointed_at_another_project_s_file_does_not_serve_it<S: Store>(
    store: Arc<S>,
    dir: &std::path::Path,
) {
    let app = app_in(store, dir);
    let alice = client_of(&app, 1);
    let mallory = client_of(&app, 2);
    let secret_collection = create_collection(&alice, "Alice's").await.id;
    let secret_asset = create_asset(&alice, secret_collection).await.id;
    let (alice_path, sha) = upload_to(
        &app,
        1,
        secret_collection,
        secret_asset,
        b"alice's unreleased art",
    )
    .await;

    let own = create_collection(&mallory, "Mallory's").await.id;
    publish(&mallory, own).await;
    let mut forged = create_asset(&mallory, own).await;
    let forged_path = format!("/projects/2/collections/{own}/assets/{}/{sha}", forged.id);
    forged.url = format!("{PUBLIC_URL}{forged_path}");
    let updated = mallory
        .update_asset(
            Default::default(),
            UpdateAssetRequest {
                project_id: None,
                asset: forged,
            },
        )
        .await
        .unwrap()
        .asset;
    // The url is stored as the user set it, but it opens no bytes.
    assert!(updated.url.ends_with(&sha));
    assert_eq!(status_of(&app, &forged_path).await, StatusCode::NOT_FOUND);
    // Alice's bytes stay hers: not served while her collection is private, served once
    // she publishes it.
    assert_eq!(status_of(&app, &alice_path).await, StatusCode::NOT_FOUND);
    publish(&alice, secret_collection).await;
    assert_eq!(status_of(&app, &alice_path).await, StatusCode::OK);
    assert_eq!(status_of(&app, &forged_path).await, StatusCode::NOT_FOUND);
}

async fn deleting_an_asset_removes_its_file_once_no_other_asset_uses_it<S: Store>(
    store: Arc<S>,
    dir: &std::path::Path,
) {
    let app = app_in(store, dir);
    let client = client_of(&app, 1);
    let c = create_collection(&client, "Shared").await.id;
    let a = create_asset(&client, c).await.id;
    let b = create_asset(&client, c).await.id;
    let (_, sha) = upload_to(&app, 1, c, a, b"the same bytes").await;
    let (_, same) = upload_to(&app, 1, c, b, b"the same bytes").await;
    assert_eq!(sha, same);
    let file = dir.join(&sha);
    for (asset, still_there) in [(a, true), (b, false)] {
        client
            .delete_asset(
                Default::default(),
                DeleteAssetRequest {
                    project_id: None,
                    asset_id: asset,
                },
            )
            .await
            .unwrap();
        assert_eq!(file.exists(), still_there, "after deleting asset {asset}");
    }
}

async fn deleting_a_token_or_a_collection_removes_the_files_of_their_assets<S: Store>(
    store: Arc<S>,
    dir: &std::path::Path,
) {
    let app = app_in(store, dir);
    let client = client_of(&app, 1);
    let c = create_collection(&client, "Tokens").await.id;
    client
        .create_token(
            Default::default(),
            CreateTokenRequest {
                project_id: None,
                collection_id: c,
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
    let token_asset = client
        .create_asset(
            Default::default(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: c,
                    token_id: Some("1".into()),
                    metadata_field: "image".into(),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap()
        .asset
        .id;
    let collection_asset = create_asset(&client, c).await.id;
    let (_, token_sha) = upload_to(&app, 1, c, token_asset, b"token image").await;
    let (_, collection_sha) = upload_to(&app, 1, c, collection_asset, b"banner").await;
    client
        .delete_token(
            Default::default(),
            DeleteTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "1".into(),
            },
        )
        .await
        .unwrap();
    assert!(!dir.join(&token_sha).exists());
    assert!(dir.join(&collection_sha).exists());
    client
        .delete_collection(
            Default::default(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: c,
            },
        )
        .await
        .unwrap();
    assert!(!dir.join(&collection_sha).exists());
}

async fn a_new_upload_removes_the_asset_s_previous_file<S: Store>(
    store: Arc<S>,
    dir: &std::path::Path,
) {
    let app = app_in(store, dir);
    let client = client_of(&app, 1);
    let c = create_collection(&client, "Replace").await.id;
    publish(&client, c).await;
    let a = create_asset(&client, c).await.id;
    let (old_path, old) = upload_to(&app, 1, c, a, b"first version").await;
    let (new_path, new) = upload_to(&app, 1, c, a, b"second version").await;
    assert!(!dir.join(&old).exists());
    assert!(dir.join(&new).exists());
    assert_eq!(status_of(&app, &old_path).await, StatusCode::NOT_FOUND);
    assert_eq!(status_of(&app, &new_path).await, StatusCode::OK);
}

async fn files_no_live_asset_uses_are_swept_when_the_app_starts<S: Store>(
    store: Arc<S>,
    dir: &std::path::Path,
) {
    let app = app_in(Arc::clone(&store), dir);
    let client = client_of(&app, 1);
    let c = create_collection(&client, "Kept").await.id;
    let a = create_asset(&client, c).await.id;
    let (_, used) = upload_to(&app, 1, c, a, b"still used").await;
    drop((client, app));
    // What a crash between a delete's commit and the file's removal leaves behind.
    let orphan = "ef".repeat(32);
    std::fs::write(dir.join(&orphan), b"nobody's").unwrap();
    let _restarted = app_in(store, dir);
    assert!(!dir.join(&orphan).exists());
    assert!(dir.join(&used).exists());
}

/// An upload request as raw HTTP/1.1 bytes, `Connection: close`, `BEARER` scheme.
fn raw_upload(path: &str, jwt: Option<&str>, body: &[u8]) -> Vec<u8> {
    let auth = jwt.map_or(String::new(), |jwt| {
        format!("authorization: BEARER {jwt}\r\n")
    });
    let mut request = format!(
        "PUT {path} HTTP/1.1\r\nhost: x\r\n{auth}\
         content-type: multipart/form-data; boundary={BOUNDARY}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    request
}

/// Writes all of `request` as a client that reads only afterwards (like undici), then
/// reads the answer; `Err` when the server reset the connection before taking the request.
async fn write_then_read(addr: std::net::SocketAddr, request: &[u8]) -> Result<String, String> {
    use tokio::io::AsyncWriteExt;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("writing the request failed: {e}"))?;
    Ok(reliability_common::read_until_closed(&mut stream).await)
}

/// Node's `fetch` (undici) writes a whole request body before it reads the answer. An error
/// answered before the body is read (a bad token, another project, a missing asset) or in the
/// middle of it (over the size limit) must let the client finish writing, or closing the
/// connection with bytes unread resets it and the client sees `EPIPE` instead of the error.
/// The bodies are larger than loopback's socket buffers can hold (32 MiB + 4 MiB here), so
/// the write succeeds only if the server reads them.
#[tokio::test]
async fn upload_errors_are_answered_after_the_body_is_read_so_the_client_sees_them() {
    use reliability_common::ServerProcess;

    // Default limit, 100 MiB: a 64 MiB body is one the server would have accepted.
    let server = ServerProcess::start(&["--store", "memory"], "warn").await;
    let client = server.client(1);
    let collection = create_collection(&client, "Early errors").await;
    let asset = create_asset(&client, collection.id).await;
    let path = |asset: u64| {
        format!(
            "/projects/1/collections/{}/assets/{asset}/upload",
            collection.id
        )
    };
    let jwt = reliability_common::token(1);
    let foreign = reliability_common::token(2);
    let big = multipart("file", "big.bin", &vec![7u8; 64 << 20]);
    let cases = [
        (
            "no token",
            path(asset.id),
            None,
            "HTTP/1.1 401",
            "Unauthorized",
        ),
        (
            "another project's token",
            path(asset.id),
            Some(foreign.as_str()),
            "HTTP/1.1 403",
            "PermissionDenied",
        ),
        (
            "a missing asset",
            path(asset.id + 1000),
            Some(jwt.as_str()),
            "HTTP/1.1 400",
            "NotFound",
        ),
    ];
    for (case, path, jwt, status, error) in cases {
        let answer = write_then_read(server.addr, &raw_upload(&path, jwt, &big))
            .await
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        assert!(answer.starts_with(status), "{case}: {answer}");
        assert!(
            answer.contains(&format!("\"error\":\"{error}\"")),
            "{case}: {answer}"
        );
    }
    drop(server);

    // A 40 MiB limit and a body 36 MiB over it: the server stops storing at the limit,
    // reads the rest (up to another limit's worth), answers 413.
    let server = ServerProcess::start(
        &["--store", "memory", "--max-upload-bytes", "41943040"],
        "warn",
    )
    .await;
    let client = server.client(1);
    let collection = create_collection(&client, "Over").await;
    let asset = create_asset(&client, collection.id).await;
    let path = format!(
        "/projects/1/collections/{}/assets/{}/upload",
        collection.id, asset.id
    );
    let over = multipart("file", "over.bin", &vec![7u8; 76 << 20]);
    let answer = write_then_read(server.addr, &raw_upload(&path, Some(&jwt), &over))
        .await
        .unwrap_or_else(|e| panic!("over the limit: {e}"));
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("41943040 bytes"), "{answer}");
}
