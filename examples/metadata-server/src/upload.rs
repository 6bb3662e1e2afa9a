//! Asset upload and asset files, outside webrpc like on the hosted service:
//!
//! | route | answer |
//! |---|---|
//! | `PUT /projects/{p}/collections/{c}/assets/{a}/upload` | `multipart/form-data` with the bytes in field `file`, `Authorization: Bearer <JWT>` of project `p`; stores the bytes ([`crate::assets`]), fills the asset's `url`, `filename`, `filesize`, `mimeType`, `width`/`height` (images), answers the `Asset` as JSON (200) |
//! | `GET /projects/{p}/collections/{c}/assets/{a}/{sha256}` (and `HEAD`) | the bytes, while collection `c` is published and `sha256` is the content hash stored for asset `a` by its last upload (not whatever its user-settable `url` says); `Content-Type` the asset's `mimeType`, `X-Content-Type-Options: nosniff`, `ETag`, ranges |
//!
//! Errors are the webrpc envelope: no or a bad token `Unauthorized` (401), another project
//! `PermissionDenied` (403), an asset that is missing or in another collection `NotFound`,
//! no `file` field or a broken body `WebrpcBadRequest` (400), bytes over the limit
//! `WebrpcBadRequest` with HTTP 413 and a cause naming the limit.
//!
//! An error answer waits until the rest of the body has been read and dropped (bounded; see
//! `drain`), so a client that writes the whole body before reading sees it.

use std::sync::Arc;

use axum::extract::{FromRequest, Multipart, Request};
use axum::response::Response;
use bytes::Bytes;
use http::header::{
    HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, ETAG, X_CONTENT_TYPE_OPTIONS,
};
use http::StatusCode;
use sequence_metadata::{Asset, MetadataError};
use tower::ServiceExt;
use webrpc_core::{codec, BuiltinError, RequestContext, WebrpcError};

use crate::assets::{is_content_name, AssetFiles, UploadError};
use crate::auth::JwtAuth;
use crate::collections::{self, UploadedContent};
use crate::service::{store_error, MetadataService};
use crate::store::Store;

/// What the asset routes need.
#[derive(Debug)]
pub(crate) struct Uploads {
    pub(crate) auth: JwtAuth,
    pub(crate) files: Arc<AssetFiles>,
    pub(crate) max_bytes: u64,
    pub(crate) public_url: String,
}

/// A path of the asset routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AssetPath {
    /// `/projects/{p}/collections/{c}/assets/{a}/upload`
    Upload {
        project: u64,
        collection: u64,
        asset: u64,
    },
    /// `/projects/{p}/collections/{c}/assets/{a}/{sha256}`
    File {
        project: u64,
        collection: u64,
        asset: u64,
        sha256: String,
    },
}

fn id(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Parses an asset route path; `None` for any other path.
pub(crate) fn parse(path: &str) -> Option<AssetPath> {
    let mut parts = path.strip_prefix("/projects/")?.split('/');
    let project = id(parts.next()?)?;
    (parts.next()? == "collections").then_some(())?;
    let collection = id(parts.next()?)?;
    (parts.next()? == "assets").then_some(())?;
    let asset = id(parts.next()?)?;
    let last = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    if last == "upload" {
        Some(AssetPath::Upload {
            project,
            collection,
            asset,
        })
    } else if is_content_name(last) {
        Some(AssetPath::File {
            project,
            collection,
            asset,
            sha256: last.to_owned(),
        })
    } else {
        None
    }
}

fn envelope(err: &WebrpcError) -> Response {
    axum::response::IntoResponse::into_response(err.clone())
}

fn not_found() -> WebrpcError {
    MetadataError::NotFound.with_cause("asset not found")
}

/// The asset `asset` of project `project`, if it belongs to `collection`.
async fn asset_in<S: Store>(
    service: &MetadataService<S>,
    project: u64,
    collection: u64,
    asset: u64,
) -> Result<Asset, WebrpcError> {
    let found = service
        .run(&RequestContext::new(), move |store| {
            collections::get_asset(store, project, asset)
        })
        .await?;
    if found.collection_id != collection {
        return Err(not_found());
    }
    Ok(found)
}

/// `PUT …/assets/{a}/upload`.
pub(crate) async fn upload<S: Store>(
    service: Arc<MetadataService<S>>,
    uploads: Arc<Uploads>,
    request: Request,
    (project, collection, asset): (u64, u64, u64),
) -> Response {
    let result = match check_upload(
        &service,
        &uploads,
        request.headers(),
        project,
        collection,
        asset,
    )
    .await
    {
        Ok(target) => store_upload(&uploads, &service, request, target).await,
        Err(err) => {
            // Answered before reading the body: read it first (see `drain`).
            drain(request.into_body(), uploads.max_bytes).await;
            Err(err)
        }
    };
    match result {
        Ok(asset) => match codec::encode(&asset) {
            Ok(body) => {
                let mut response = Response::new(axum::body::Body::from(body));
                response.headers_mut().insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static(codec::JSON_CONTENT_TYPE),
                );
                response
            }
            Err(_) => envelope(&BuiltinError::WebrpcBadResponse.err()),
        },
        Err(err) => envelope(&err),
    }
}

/// How long [`drain`] reads at most, like nginx's `lingering_time`.
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads and drops the rest of a request body, up to `budget` bytes and [`DRAIN_TIME`],
/// before an error answer. An HTTP/1.1 client such as Node's `fetch` (undici) writes the
/// whole body before it reads the answer; a server that answers and closes with the body
/// still unread makes the kernel reset the connection, and the client sees `EPIPE` or
/// `ECONNRESET` instead of the error (the "lingering close" of nginx and Apache). Past the
/// budget the answer goes out anyway.
async fn drain(body: axum::body::Body, budget: u64) {
    use bytes::Buf;
    use http_body_util::BodyExt;
    let mut body = body;
    let mut left = budget;
    let read = async {
        while let Some(Ok(frame)) = body.frame().await {
            let len = frame.data_ref().map_or(0, |data| data.remaining() as u64);
            match left.checked_sub(len) {
                Some(rest) => left = rest,
                None => return,
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_TIME, read).await;
}

/// Reads and drops the rest of `field`, counting its bytes against `left`; `false` when the
/// budget ran out or the body broke.
async fn drain_field(field: &mut axum::extract::multipart::Field<'_>, left: &mut u64) -> bool {
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => match left.checked_sub(chunk.len() as u64) {
                Some(rest) => *left = rest,
                None => return false,
            },
            Ok(None) => return true,
            Err(_) => return false,
        }
    }
}

/// The checks made before the body is read: the token, its project, the asset.
async fn check_upload<S: Store>(
    service: &MetadataService<S>,
    uploads: &Uploads,
    headers: &http::HeaderMap,
    project: u64,
    collection: u64,
    asset: u64,
) -> Result<(u64, u64, u64), WebrpcError> {
    let caller = uploads.auth.verify_header(headers.get(AUTHORIZATION))?;
    if caller.project_id != project {
        return Err(MetadataError::PermissionDenied.with_cause(format!(
            "the token grants access to project {}, not project {project}",
            caller.project_id
        )));
    }
    asset_in(service, project, collection, asset).await?;
    Ok((project, collection, asset))
}

async fn store_upload<S: Store>(
    uploads: &Uploads,
    service: &MetadataService<S>,
    request: Request,
    (project, collection, asset): (u64, u64, u64),
) -> Result<Asset, WebrpcError> {
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| BuiltinError::WebrpcBadRequest.with_cause(e.body_text()))?;
    let bad_body = |e: axum::extract::multipart::MultipartError| {
        BuiltinError::WebrpcBadRequest.with_cause(format!("the multipart body is broken: {e}"))
    };
    let mut field = loop {
        match multipart.next_field().await.map_err(bad_body)? {
            Some(field) if field.name() == Some("file") => break field,
            Some(_) => continue,
            None => {
                return Err(BuiltinError::WebrpcBadRequest
                    .with_cause("the multipart body has no field named \"file\""))
            }
        }
    };
    let filename = field.file_name().unwrap_or("").to_owned();
    let declared_type = field.content_type().unwrap_or("").to_owned();
    let mut upload = uploads.files.begin(uploads.max_bytes).map_err(io_error)?;
    loop {
        let chunk: Option<Bytes> = field.chunk().await.map_err(bad_body)?;
        let Some(chunk) = chunk else { break };
        let written = tokio::task::spawn_blocking(move || upload.write(&chunk).map(|()| upload))
            .await
            .map_err(|e| io_error(std::io::Error::other(e)))?;
        match written {
            Ok(next) => upload = next,
            Err(err) => {
                if matches!(err, UploadError::TooLarge(_)) {
                    // Let the client finish sending, so it reads the 413 (see `drain`).
                    let mut left = uploads.max_bytes;
                    let drained =
                        tokio::time::timeout(DRAIN_TIME, drain_field(&mut field, &mut left));
                    if matches!(drained.await, Ok(true)) {
                        drop(field);
                        let rest = async {
                            while let Ok(Some(mut other)) = multipart.next_field().await {
                                if !drain_field(&mut other, &mut left).await {
                                    return;
                                }
                            }
                        };
                        let _ = tokio::time::timeout(DRAIN_TIME, rest).await;
                    }
                }
                return Err(upload_error(err));
            }
        }
    }
    let files = Arc::clone(&uploads.files);
    let store = Arc::clone(service.store());
    let public_url = uploads.public_url.clone();
    // The rename to the content name and the commit of the row naming it run under the
    // content lock, so a concurrent delete cannot remove the file in between.
    tokio::task::spawn_blocking(move || {
        let _guard = files.lock();
        let stored = upload.finish().map_err(upload_error)?;
        let (width, height) = match stored.dimensions {
            Some((w, h)) => (u16::try_from(w).ok(), u16::try_from(h).ok()),
            None => (None, None),
        };
        let uploaded = UploadedContent {
            url: format!(
                "{public_url}/projects/{project}/collections/{collection}/assets/{asset}/{}",
                stored.sha256
            ),
            content: stored.sha256.clone(),
            filename,
            filesize: u32::try_from(stored.size).unwrap_or(u32::MAX),
            mime_type: match stored.image_mime {
                Some(mime) => mime.to_owned(),
                None if !declared_type.is_empty() => declared_type,
                None => "application/octet-stream".to_owned(),
            },
            width,
            height,
        };
        let recorded = collections::upload_asset(&*store, project, collection, asset, uploaded);
        // Whatever the outcome, the files no live asset uses go: the bytes just written when
        // the row could not be updated, the asset's previous bytes when it was.
        let unused = match &recorded {
            Ok((_, released)) => released.0.clone(),
            Err(_) => vec![stored.sha256],
        };
        if let Err(err) = files.remove_unused_locked(&*store, &unused) {
            tracing::warn!(error = %err, "could not check asset files after an upload");
        }
        recorded.map(|(asset, _)| asset).map_err(store_error)
    })
    .await
    .map_err(|e| io_error(std::io::Error::other(e)))?
}

fn io_error(err: std::io::Error) -> WebrpcError {
    tracing::error!(error = %err, "asset upload failed");
    BuiltinError::WebrpcInternalError.with_cause("the asset could not be stored")
}

fn upload_error(err: UploadError) -> WebrpcError {
    match err {
        UploadError::TooLarge(_) => BuiltinError::WebrpcBadRequest
            .with_cause(err.to_string())
            .with_status(413),
        UploadError::Io(err) => io_error(err),
    }
}

/// `GET …/assets/{a}/{sha256}`: the bytes, only while the collection is published.
pub(crate) async fn serve<S: Store>(
    service: Arc<MetadataService<S>>,
    uploads: Arc<Uploads>,
    request: Request,
    (project, collection, asset, sha256): (u64, u64, u64, String),
) -> Response {
    let lookup = sha256.clone();
    let found = service
        .run(&RequestContext::new(), move |store| {
            collections::public_asset(store, project, collection, asset, &lookup)
        })
        .await;
    let asset = match found {
        Ok(Some(asset)) => asset,
        Ok(None) => return envelope(&not_found().with_status(404)),
        Err(err) => return envelope(&err),
    };
    let Some(path) = uploads.files.path(&sha256) else {
        return envelope(&not_found().with_status(404));
    };
    let mut response = match tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
    {
        Ok(response) => response.map(axum::body::Body::new),
        Err(never) => match never {},
    };
    if response.status() == StatusCode::NOT_FOUND {
        return envelope(&not_found().with_status(404));
    }
    let headers = response.headers_mut();
    if let Ok(mime) = HeaderValue::from_str(&asset.mime_type) {
        headers.insert(CONTENT_TYPE, mime);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(etag) = HeaderValue::from_str(&format!("\"{sha256}\"")) {
        headers.insert(ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_paths() {
        assert_eq!(
            parse("/projects/1/collections/2/assets/3/upload"),
            Some(AssetPath::Upload {
                project: 1,
                collection: 2,
                asset: 3
            })
        );
        let sha = "ab".repeat(32);
        assert_eq!(
            parse(&format!("/projects/1/collections/2/assets/3/{sha}")),
            Some(AssetPath::File {
                project: 1,
                collection: 2,
                asset: 3,
                sha256: sha.clone()
            })
        );
        for path in [
            "/projects/1/collections/2/assets/3",
            "/projects/1/collections/2/assets/03/upload",
            "/projects/1/collections/2/assets/3/upload/x",
            "/projects/1/collections/2/assets/3/..",
            "/projects/1/collections/2.json",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
    }
}
