//! The public metadata routes: what a published collection's `baseURIs` point to. No auth.
//!
//! | route | answer |
//! |---|---|
//! | `GET /projects/{p}/collections/{c}.json` | the contract-level metadata (OpenSea's `contractURI()` shape): `name`, `description`, `image`, `external_link`, `properties`, `attributes` |
//! | `GET /projects/{p}/collections/{c}/tokens/{tokenId}` (also with `.json`) | the token's ERC-721/1155 metadata JSON: `tokenId`, `name`, `description`, `image`, `attributes`, `properties`, and `decimals`, `animation_url`, `external_url`… when set |
//!
//! A collection that is missing, deleted or private, and a token that is missing, deleted
//! or private (or whose collection is), all answer 404 with the same JSON envelope, so the
//! answer does not tell a private collection from a missing one. `HEAD` is answered like
//! `GET` without the body; other methods get 405. Answers carry
//! `Access-Control-Allow-Origin: *` (marketplaces and dapps fetch metadata from browsers),
//! `Cache-Control: no-cache` (metadata can be updated or unpublished at any time) and
//! `X-Content-Type-Options: nosniff` (stored strings are never sniffed into markup).
//!
//! Ids in the path are canonical decimals only: `/projects/01/…`, `collections/007.json`
//! and `tokens/07` are 404, so each document has exactly one URL.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{
    HeaderValue, ACCESS_CONTROL_ALLOW_ORIGIN, ALLOW, CACHE_CONTROL, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use sequence_metadata::{MetadataError, Properties, TokenMetadata};
use serde::Serialize;
use webrpc_core::{codec, BuiltinError, RequestContext, WebrpcError};

use super::service::MetadataService;
use super::store::Store;
use super::validate;

/// The path prefix of the public routes.
pub const PUBLIC_PREFIX: &str = "/projects/";

/// What a public path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/projects/{p}/collections/{c}.json`
    Collection { project: u64, collection: u64 },
    /// `/projects/{p}/collections/{c}/tokens/{tokenId}[.json]`
    Token {
        project: u64,
        collection: u64,
        token_id: String,
    },
}

/// An id in canonical decimal: digits only, no leading zero (`0` itself is canonical), so
/// each document has one URL (`/projects/01/…` is not `/projects/1/…`).
fn id(text: &str) -> Option<u64> {
    if !is_canonical_decimal(text) {
        return None;
    }
    text.parse().ok()
}

fn is_canonical_decimal(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

/// Parses a public path; `None` when it names nothing this server serves.
pub(crate) fn parse(path: &str) -> Option<Target> {
    let rest = path.strip_prefix(PUBLIC_PREFIX)?;
    let (project, rest) = rest.split_once('/')?;
    let project = id(project)?;
    let rest = rest.strip_prefix("collections/")?;
    if let Some(collection) = rest.strip_suffix(".json").filter(|c| !c.contains('/')) {
        return Some(Target::Collection {
            project,
            collection: id(collection)?,
        });
    }
    let (collection, rest) = rest.split_once('/')?;
    let collection = id(collection)?;
    let token = rest.strip_prefix("tokens/")?;
    let token = token.strip_suffix(".json").unwrap_or(token);
    // Canonical token ids only, as `tokenURI` builds them (`baseURI + tokenId.toString()`):
    // a zero-padded id is rather an ERC-1155 `{id}` substitution, which is hex.
    if !is_canonical_decimal(token) {
        return None;
    }
    let token_id = validate::token_id("tokenId", token).ok()?;
    Some(Target::Token {
        project,
        collection,
        token_id,
    })
}

/// A token's public metadata JSON: the ERC-721/1155 metadata fields, the optional ones
/// only when set.
#[derive(Debug, Serialize)]
struct PublicToken<'a> {
    #[serde(rename = "tokenId")]
    token_id: &'a str,
    name: &'a str,
    description: &'a str,
    image: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    video: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    audio: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    image_data: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    external_url: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    background_color: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    animation_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    decimals: Option<u64>,
    attributes: &'a [Properties],
    properties: &'a Properties,
}

impl<'a> From<&'a TokenMetadata> for PublicToken<'a> {
    fn from(token: &'a TokenMetadata) -> Self {
        PublicToken {
            token_id: &token.token_id,
            name: &token.name,
            description: &token.description,
            image: &token.image,
            video: &token.video,
            audio: &token.audio,
            image_data: &token.image_data,
            external_url: &token.external_url,
            background_color: &token.background_color,
            animation_url: &token.animation_url,
            decimals: token.decimals,
            attributes: &token.attributes,
            properties: &token.properties,
        }
    }
}

fn response(status: StatusCode, body: Bytes, head: bool) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(if head { Bytes::new() } else { body }));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(codec::JSON_CONTENT_TYPE),
    );
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Browsers fetch these from anywhere: never let one sniff a stored string into markup.
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

fn error(err: &WebrpcError, head: bool) -> Response<Full<Bytes>> {
    let (parts, body) = err.clone().into_http_response().into_parts();
    response(parts.status, body, head)
}

fn not_found(head: bool) -> Response<Full<Bytes>> {
    error(
        &MetadataError::NotFound
            .with_cause("no public metadata at this URL")
            .with_status(404),
        head,
    )
}

fn json<T: Serialize>(value: &T, head: bool) -> Response<Full<Bytes>> {
    match codec::encode(value) {
        Ok(body) => response(StatusCode::OK, body, head),
        Err(err) => {
            tracing::error!(error = %err, "public metadata could not be encoded");
            error(&BuiltinError::WebrpcBadResponse.err(), head)
        }
    }
}

/// Answers a request under [`PUBLIC_PREFIX`].
pub(crate) async fn handle<S: Store>(
    service: Arc<MetadataService<S>>,
    method: Method,
    path: String,
) -> Response<Full<Bytes>> {
    let head = method == Method::HEAD;
    if method != Method::GET && !head {
        let mut response = error(
            &BuiltinError::WebrpcBadMethod.with_cause(format!(
                "unsupported HTTP method {method} (only GET and HEAD are allowed)"
            )),
            false,
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
        return response;
    }
    let Some(target) = parse(&path) else {
        return not_found(head);
    };
    match target {
        Target::Collection {
            project,
            collection,
        } => match service
            .run(&RequestContext::new(), move |store| {
                crate::collections::public_collection(store, project, collection)
            })
            .await
        {
            Ok(Some(metadata)) => json(&metadata, head),
            Ok(None) => not_found(head),
            Err(err) => error(&err, head),
        },
        Target::Token {
            project,
            collection,
            token_id,
        } => match service
            .run(&RequestContext::new(), move |store| {
                crate::collections::public_token(store, project, collection, &token_id)
            })
            .await
        {
            Ok(Some(token)) => json(&PublicToken::from(&token), head),
            Ok(None) => not_found(head),
            Err(err) => error(&err, head),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            parse("/projects/1/collections/22.json"),
            Some(Target::Collection {
                project: 1,
                collection: 22
            })
        );
        for path in [
            "/projects/1/collections/22/tokens/7",
            "/projects/1/collections/22/tokens/7.json",
        ] {
            assert_eq!(
                parse(path),
                Some(Target::Token {
                    project: 1,
                    collection: 22,
                    token_id: "7".into()
                }),
                "{path}"
            );
        }
        for path in [
            "/projects/x/collections/1.json",
            "/projects/+1/collections/1.json",
            "/projects/1/collections/1",
            "/projects/1/collections/1/tokens/",
            "/projects/1/collections/1/tokens/abc",
            "/projects/1/collections/1/tokens/1/extra",
            "/projects/1/things/1.json",
            "/projects/01/collections/1.json",
            "/projects/1/collections/00.json",
            "/projects/1/collections/22/tokens/007",
            "/projects/1/collections/022/tokens/7",
        ] {
            assert_eq!(parse(path), None, "{path}");
        }
    }
}
