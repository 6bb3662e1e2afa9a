//! The hand-written baseline of the benchmarks: PublishCollection written directly on hyper 1,
//! with nothing of this project's crates, so the benchmarks can show what the webrpc layers
//! cost on top of the same work.
//!
//! The server does exactly PublishCollection's work: route check, method check, content-type
//! check, body read with a size limit, `serde_json::from_slice` decode, in-memory lookup and
//! update under a mutex, encode, respond with the same headers (`Content-Type`, `Webrpc`) and
//! the same JSON as the webrpc server. With [`BaselineStore::with_jwt_secret`] it also checks
//! an HS256 `Authorization: Bearer` token and its `project` claim, the work the local Metadata
//! server's auth layer does, so a load comparison against `metadata-server` compares like
//! with like. The client makes the same call with a pooled hyper-util client.
//!
//! Run the server alone with `cargo run --release -p bench --bin baseline-server`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// The path the baseline serves.
pub const PUBLISH_PATH: &str = "/rpc/Collections/PublishCollection";

const BODY_LIMIT: usize = 4 * 1024 * 1024;
const WEBRPC: &str = "webrpc@v0.31.0;baseline@v0.0.0;sequence-metadata@v0.4.0";

/// A collection's metadata, mirroring the schema's JSON (every field, plain serde: no
/// tolerance of `null`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Metadata {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Image URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image: String,
    /// External link.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub external_link: String,
    /// Free-form properties.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub properties: Map<String, Value>,
    /// Free-form attributes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Map<String, Value>>,
}

/// The public URIs of a published collection.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BaseUris {
    /// The contract metadata URL.
    #[serde(rename = "contractMetadataURI")]
    pub contract_metadata_uri: String,
    /// The token metadata URL prefix.
    #[serde(rename = "tokenMetadataURI")]
    pub token_metadata_uri: String,
}

/// A collection, mirroring the schema's JSON: every field, so that the baseline client
/// decodes the whole `Collection` as the webrpc client does (plain serde, no tolerance of
/// `null`). The baseline server leaves the optional ones out, as it has none of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    /// Id.
    pub id: u64,
    /// Owning project.
    pub project_id: u64,
    /// Metadata.
    pub metadata: Metadata,
    /// Private until published.
    pub private: bool,
    /// Reveal key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reveal_key: String,
    /// Number of tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_count: Option<u64>,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last update.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Deletion time.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub deleted_at: Option<OffsetDateTime>,
    /// Public URIs, once published.
    #[serde(default, rename = "baseURIs", skip_serializing_if = "Option::is_none")]
    pub base_uris: Option<BaseUris>,
    /// Assets (any JSON: the benchmark's collections have none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PublishArgs {
    #[serde(default)]
    project_id: Option<u64>,
    collection_id: u64,
    #[serde(default)]
    #[allow(dead_code)]
    recursive: Option<bool>,
}

#[derive(Serialize)]
struct PublishReturns<'a> {
    collection: &'a Collection,
}

#[derive(Deserialize)]
struct Claims {
    project: u64,
}

/// The in-memory data of the baseline: collections by (project, id).
#[derive(Clone)]
pub struct BaselineStore {
    collections: Arc<Mutex<HashMap<(u64, u64), Collection>>>,
    jwt: Option<Arc<(jsonwebtoken::DecodingKey, jsonwebtoken::Validation)>>,
}

impl std::fmt::Debug for BaselineStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BaselineStore")
            .field("auth", &self.jwt.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for BaselineStore {
    fn default() -> Self {
        Self::new()
    }
}

impl BaselineStore {
    /// An empty store without auth.
    pub fn new() -> Self {
        BaselineStore {
            collections: Arc::default(),
            jwt: None,
        }
    }

    /// Requires an HS256 bearer token signed with `secret` whose `project` claim is the
    /// project of the call.
    #[must_use]
    pub fn with_jwt_secret(mut self, secret: &[u8]) -> Self {
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = true;
        self.jwt = Some(Arc::new((
            jsonwebtoken::DecodingKey::from_secret(secret),
            validation,
        )));
        self
    }

    /// Adds (or replaces) a collection.
    pub fn insert(&self, collection: Collection) {
        let key = (collection.project_id, collection.id);
        self.collections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, collection);
    }
}

/// The collection the benchmarks publish: the seed's example (project 30957, collection 888).
pub fn seed_collection() -> Collection {
    let mut properties = Map::new();
    properties.insert("funCollection".into(), Value::Bool(false));
    properties.insert("maxNfts".into(), Value::from(1000));
    properties.insert("minNfts".into(), Value::from(1));
    Collection {
        id: 888,
        project_id: 30957,
        metadata: Metadata {
            name: "Sandbox Chronicles Modified".into(),
            description: "A collection of test cases designed to push the boundaries of your API."
                .into(),
            properties,
            image: String::new(),
            external_link: String::new(),
            attributes: Vec::new(),
        },
        private: true,
        reveal_key: String::new(),
        token_count: None,
        created_at: time::macros::datetime!(2024-10-23 07:02:00.905283 UTC),
        updated_at: time::macros::datetime!(2024-10-23 07:10:45.118089 UTC),
        deleted_at: None,
        base_uris: None,
        assets: Vec::new(),
    }
}

/// A `200` with a JSON body and the `Content-Type` and `Webrpc` headers.
fn json_response(body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
        .headers_mut()
        .insert("webrpc", HeaderValue::from_static(WEBRPC));
    response
}

fn error(status: u16, name: &str, code: i32, msg: &str, cause: &str) -> Response<Full<Bytes>> {
    let body = serde_json::json!({"error": name, "code": code, "msg": msg, "cause": cause, "status": status});
    let mut response = json_response(body.to_string().into_bytes());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response
}

/// Handles one request the way a hand-written hyper service would.
pub async fn handle<B>(store: &BaselineStore, request: Request<B>) -> Response<Full<Bytes>>
where
    B: http_body::Body,
    B::Error: std::error::Error + Send + Sync + 'static,
{
    if request.uri().path() != PUBLISH_PATH {
        return error(404, "WebrpcBadRoute", -2, "bad route", "no such method");
    }
    if request.method() != http::Method::POST {
        let mut response = error(405, "WebrpcBadMethod", -3, "bad method", "only POST");
        response
            .headers_mut()
            .insert("allow", HeaderValue::from_static("POST"));
        return response;
    }
    let json = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if !json {
        return error(
            400,
            "WebrpcBadRequest",
            -4,
            "bad request",
            "unsupported Content-Type",
        );
    }
    let token_project = match &store.jwt {
        None => None,
        Some(jwt) => {
            let token = request
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, token)| token.trim());
            let Some(token) = token else {
                return error(401, "Unauthorized", 1000, "Unauthorized access", "no token");
            };
            match jsonwebtoken::decode::<Claims>(token, &jwt.0, &jwt.1) {
                Ok(data) => Some(data.claims.project),
                Err(_) => {
                    return error(
                        401,
                        "Unauthorized",
                        1000,
                        "Unauthorized access",
                        "bad token",
                    )
                }
            }
        }
    };
    let body = match Limited::new(request.into_body(), BODY_LIMIT)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(err) => return error(400, "WebrpcBadRequest", -4, "bad request", &err.to_string()),
    };
    let args: PublishArgs = match serde_json::from_slice(&body) {
        Ok(args) => args,
        Err(err) => return error(400, "WebrpcBadRequest", -4, "bad request", &err.to_string()),
    };
    let project = match (args.project_id, token_project) {
        (Some(p), Some(t)) if p != t => {
            return error(
                403,
                "PermissionDenied",
                1001,
                "Permission denied",
                "project",
            )
        }
        (Some(p), _) | (None, Some(p)) => p,
        (None, None) => {
            return error(
                400,
                "InvalidArgument",
                2001,
                "Invalid argument",
                "projectId",
            )
        }
    };
    // Like the webrpc handler, update under the lock and take a copy out of it, then encode
    // without holding the lock: both sides do the same handler work, so the comparison
    // measures what lies around it.
    let collection = {
        let mut collections = store.collections.lock().unwrap_or_else(|e| e.into_inner());
        let Some(collection) = collections.get_mut(&(project, args.collection_id)) else {
            drop(collections);
            return error(400, "NotFound", 3000, "Resource not found", "collection");
        };
        collection.private = false;
        collection.updated_at = OffsetDateTime::now_utc();
        collection.clone()
    };
    let encoded = serde_json::to_vec(&PublishReturns {
        collection: &collection,
    });
    match encoded {
        Ok(bytes) => json_response(bytes),
        Err(err) => error(
            500,
            "WebrpcBadResponse",
            -5,
            "bad response",
            &err.to_string(),
        ),
    }
}

/// Serves the baseline on `listener` (HTTP/1.1 and h2c, like the webrpc server) until
/// `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: BaselineStore,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let builder =
        hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(_) => continue,
            },
            () = &mut shutdown => return,
        };
        let _ = stream.set_nodelay(true);
        let store = store.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let store = store.clone();
                async move { Ok::<_, Infallible>(handle(&store, request).await) }
            });
            let _ = builder
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// The baseline client: a pooled hyper-util client posting PublishCollection.
#[derive(Debug, Clone)]
pub struct BaselineClient {
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    url: http::Uri,
    authorization: Option<HeaderValue>,
}

impl BaselineClient {
    /// A client for the server at `addr`, sending `jwt` as a bearer token when given, over
    /// pooled HTTP/1.1 connections.
    pub fn new(addr: SocketAddr, jwt: Option<&str>) -> Self {
        Self::with_http2(addr, jwt, false)
    }

    /// Like [`new`](Self::new); with `http2`, speaks h2c (HTTP/2 with prior knowledge) and
    /// multiplexes every call over one connection.
    pub fn with_http2(addr: SocketAddr, jwt: Option<&str>, http2: bool) -> Self {
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_idle_timeout(std::time::Duration::from_secs(4))
                .pool_timer(hyper_util::rt::TokioTimer::new())
                .http2_only(http2)
                .build(connector);
        BaselineClient {
            client,
            url: format!("http://{addr}{PUBLISH_PATH}")
                .parse()
                .expect("valid URL"),
            authorization: jwt.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()),
        }
    }

    /// Publishes a collection and returns it.
    pub async fn publish(&self, project_id: u64, collection_id: u64) -> Result<Collection, String> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Args {
            project_id: u64,
            collection_id: u64,
        }
        #[derive(Deserialize)]
        struct Returns {
            collection: Collection,
        }
        let body = serde_json::to_vec(&Args {
            project_id,
            collection_id,
        })
        .map_err(|e| e.to_string())?;
        let mut request = Request::new(Full::new(Bytes::from(body)));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = self.url.clone();
        let headers = request.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert("accept", HeaderValue::from_static("application/json"));
        headers.insert("webrpc", HeaderValue::from_static(WEBRPC));
        if let Some(auth) = &self.authorization {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let bytes = Limited::new(response.into_body(), 32 * 1024 * 1024)
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(String::from_utf8_lossy(&bytes).into_owned());
        }
        serde_json::from_slice::<Returns>(&bytes)
            .map(|r| r.collection)
            .map_err(|e| e.to_string())
    }
}
