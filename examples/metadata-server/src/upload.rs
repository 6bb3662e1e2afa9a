//! Asset upload and asset files, outside webrpc like on the hosted service:
//!
//! | route | answer |
//! |---|---|
//! | `PUT /projects/{p}/collections/{c}/assets/{a}/upload` | `multipart/form-data` with the bytes in field `file`, `Authorization: Bearer <JWT>` of project `p`; stores the bytes ([`crate::assets`]), fills the asset's `url`, `filename`, `filesize`, `mimeType`, `width`/`height` (images), answers the `Asset` as JSON (200) |
//! | `GET /projects/{p}/collections/{c}/assets/{a}/{sha256}` (and `HEAD`) | the bytes, while collection `c` is published and asset `a` still points at them; `Content-Type` the asset's `mimeType`, `X-Content-Type-Options: nosniff`, `ETag`, ranges |
//!
//! Errors are the webrpc envelope: no or a bad token `Unauthorized` (401), another project
//! `PermissionDenied` (403), an asset that is missing or in another collection `NotFound`,
//! no `file` field or a broken body `WebrpcBadRequest` (400), bytes over the limit
//! `WebrpcBadRequest` with HTTP 413 and a cause naming the limit.

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
use crate::service::MetadataService;
use crate::store::Store;

/// What the asset routes need.
#[derive(Debug)]
pub(crate) struct Uploads {
    pub(crate) auth: JwtAuth,
    pub(crate) files: AssetFiles,
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
    let mut response = Response::new(axum::body::Body::from(codec::encode_error(err)));
    *response.status_mut() = err.http_status();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(codec::JSON_CONTENT_TYPE),
    );
    response
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
            store.get_asset(project, asset)
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
    match store_upload(&service, &uploads, request, project, collection, asset).await {
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

async fn store_upload<S: Store>(
    service: &MetadataService<S>,
    uploads: &Uploads,
    request: Request,
    project: u64,
    collection: u64,
    asset: u64,
) -> Result<Asset, WebrpcError> {
    let caller = uploads
        .auth
        .verify_header(request.headers().get(AUTHORIZATION))?;
    if caller.project_id != project {
        return Err(MetadataError::PermissionDenied.with_cause(format!(
            "the token grants access to project {}, not project {project}",
            caller.project_id
        )));
    }
    let mut existing = asset_in(service, project, collection, asset).await?;
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
        upload = tokio::task::spawn_blocking(move || upload.write(&chunk).map(|()| upload))
            .await
            .map_err(|e| io_error(std::io::Error::other(e)))?
            .map_err(upload_error)?;
    }
    let stored = tokio::task::spawn_blocking(move || upload.finish())
        .await
        .map_err(|e| io_error(std::io::Error::other(e)))?
        .map_err(upload_error)?;
    existing.url = format!(
        "{}/projects/{project}/collections/{collection}/assets/{asset}/{}",
        uploads.public_url, stored.sha256
    );
    existing.name = filename;
    existing.filesize = u32::try_from(stored.size).unwrap_or(u32::MAX);
    existing.mime_type = match stored.image_mime {
        Some(mime) => mime.to_owned(),
        None if !declared_type.is_empty() => declared_type,
        None => "application/octet-stream".to_owned(),
    };
    let (width, height) = match stored.dimensions {
        Some((w, h)) => (u16::try_from(w).ok(), u16::try_from(h).ok()),
        None => (None, None),
    };
    existing.width = width;
    existing.height = height;
    service
        .run(&RequestContext::new(), move |store| {
            store.update_asset(project, existing)
        })
        .await
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
    let published = service
        .run(&RequestContext::new(), move |store| {
            store.public_collection(project, collection)
        })
        .await;
    let found = match published {
        Ok(Some(_)) => asset_in(&service, project, collection, asset).await,
        Ok(None) => Err(not_found()),
        Err(err) => Err(err),
    };
    let asset = match found {
        Ok(asset) if asset.url.ends_with(&format!("/{sha256}")) => asset,
        Ok(_) => return envelope(&not_found().with_status(404)),
        Err(err) if err.code() == MetadataError::NotFound.err().code() => {
            return envelope(&not_found().with_status(404))
        }
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
