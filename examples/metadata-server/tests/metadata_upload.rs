//! Asset upload (`PUT /projects/{p}/collections/{c}/assets/{a}/upload`, multipart field
//! `file`, as go-sequence's `UploadAsset` sends it) and the public asset files: the answer,
//! auth and scoping, the size limit, serving only while published, and an upload cut by
//! `kill -9` of the binary.
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
    Asset, Collections, CreateAssetRequest, GetAssetRequest, PublishCollectionRequest,
};
use tower::ServiceExt;

use metadata_common::{create_collection, token, Harness, PUBLIC_URL, SECRET};
use metadata_server::{AppConfig, JwtAuth, MemoryStore, MetadataApp};

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
    assert_eq!(std::fs::read_dir(assets.path()).unwrap().count(), 0);

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
    assert_eq!(std::fs::read_dir(assets.path()).unwrap().count(), 1);
}

#[tokio::test]
async fn an_upload_cut_by_kill_9_leaves_the_previous_bytes_and_no_partial_file() {
    use reliability_common::{eventually, ServerProcess, TempDb, WAIT};
    use tokio::io::AsyncWriteExt;

    let db = TempDb::new("upload-kill9");
    let db_arg = db.arg();
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
    let names = || -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&assets_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
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
