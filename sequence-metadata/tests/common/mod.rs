//! Shared test support: an in-memory `Collections` implementation and a recording transport
//! that captures the JSON each side of a call saw.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use sequence_metadata::*;
use serde_json::Value;
use tower::ServiceExt;

/// The project calls default to when they carry no `projectId` (Sequence takes it from the
/// JWT; this store has no auth).
pub(crate) const DEFAULT_PROJECT: u64 = 30957;

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    collections: BTreeMap<u64, Collection>,
    /// (collection id, token id) → token.
    tokens: BTreeMap<(u64, String), TokenMetadata>,
    /// (collection id, token id) → private flag.
    private_tokens: BTreeMap<(u64, String), bool>,
    assets: BTreeMap<u64, Asset>,
    /// (project, chain id, lower-cased address) → link.
    contracts: BTreeMap<(u64, u64, String), ContractCollection>,
}

/// A complete in-memory Collections store. Its clock is fixed so answers are reproducible.
#[derive(Debug)]
pub(crate) struct Memory {
    clock: Timestamp,
    base: String,
    state: Mutex<State>,
}

fn not_found(what: impl std::fmt::Display) -> WebrpcError {
    MetadataError::NotFound.with_cause(what.to_string())
}

fn paginate<T: Clone>(items: &[T], page: Option<Page>) -> (Page, Vec<T>) {
    let page = page.unwrap_or_default();
    let size = page.page_size.unwrap_or(30).max(1) as usize;
    let number = page.page.unwrap_or(1).max(1) as usize;
    let start = (number - 1).saturating_mul(size).min(items.len());
    let end = start.saturating_add(size).min(items.len());
    let out = Page {
        page: page.page,
        page_size: Some(size as u32),
        more: Some(end < items.len()),
        ..Page::default()
    };
    (out, items[start..end].to_vec())
}

impl Memory {
    pub(crate) fn new(clock: Timestamp) -> Self {
        Memory {
            clock,
            base: "https://metadata.sequence.app".to_owned(),
            state: Mutex::new(State {
                next_id: 1,
                ..State::default()
            }),
        }
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    fn base_uris(&self, project: u64, collection: u64) -> CollectionBaseURIs {
        CollectionBaseURIs {
            contract_metadata_uri: format!(
                "{}/projects/{project}/collections/{collection}.json",
                self.base
            ),
            token_metadata_uri: format!(
                "{}/projects/{project}/collections/{collection}/tokens/",
                self.base
            ),
        }
    }

    fn collection_of(
        state: &State,
        project: u64,
        collection_id: u64,
    ) -> Result<Collection, WebrpcError> {
        state
            .collections
            .get(&collection_id)
            .filter(|c| c.project_id == project)
            .cloned()
            .ok_or_else(|| not_found(format_args!("collection {collection_id}")))
    }

    fn set_private(
        &self,
        project: Option<u64>,
        collection_id: u64,
        private: bool,
        recursive: bool,
    ) -> Result<Collection, WebrpcError> {
        let project = project.unwrap_or(DEFAULT_PROJECT);
        self.with_state(|s| {
            Self::collection_of(s, project, collection_id)?;
            if recursive {
                for (key, flag) in s.private_tokens.iter_mut() {
                    if key.0 == collection_id {
                        *flag = private;
                    }
                }
            }
            let c = s.collections.get_mut(&collection_id).expect("checked");
            c.private = private;
            c.updated_at = self.clock;
            c.base_uris = (!private).then(|| self.base_uris(project, collection_id));
            Ok(c.clone())
        })
    }

    fn token_assets(state: &State, collection_id: u64, token_id: &str) -> Vec<Asset> {
        state
            .assets
            .values()
            .filter(|a| a.collection_id == collection_id && a.token_id.as_deref() == Some(token_id))
            .cloned()
            .collect()
    }
}

fn validate_token_id(token_id: &str) -> Result<BigInt, WebrpcError> {
    token_id
        .parse::<BigInt>()
        .map_err(|err| MetadataError::InvalidArgument.with_cause(err.to_string()))
}

impl Collections for Memory {
    type Ctx = RequestContext;

    async fn create_collection(
        &self,
        _ctx: RequestContext,
        req: CreateCollectionRequest,
    ) -> Result<CreateCollectionResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let metadata = req.collection.metadata.ok_or_else(|| {
            MetadataError::RequiredArgument.with_cause("collection.metadata is required")
        })?;
        if metadata.name.is_empty() {
            return Err(MetadataError::ValidationFailed.with_cause("metadata.name is empty"));
        }
        let collection = self.with_state(|s| {
            let id = s.next_id;
            s.next_id += 1;
            let c = Collection {
                id,
                project_id: project,
                metadata: Some(metadata),
                private: true,
                created_at: self.clock,
                updated_at: self.clock,
                ..Collection::default()
            };
            s.collections.insert(id, c.clone());
            c
        });
        Ok(CreateCollectionResponse { collection })
    }

    async fn get_collection(
        &self,
        _ctx: RequestContext,
        req: GetCollectionRequest,
    ) -> Result<GetCollectionResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let collection = self.with_state(|s| {
            let mut c = Self::collection_of(s, project, req.collection_id)?;
            c.token_count = Some(s.tokens.keys().filter(|k| k.0 == c.id).count() as u64);
            Ok::<_, WebrpcError>(c)
        })?;
        Ok(GetCollectionResponse { collection })
    }

    async fn list_collections(
        &self,
        _ctx: RequestContext,
        req: ListCollectionsRequest,
    ) -> Result<ListCollectionsResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let all: Vec<Collection> = self.with_state(|s| {
            s.collections
                .values()
                .filter(|c| c.project_id == project)
                .cloned()
                .collect()
        });
        let (page, collections) = paginate(&all, req.page);
        Ok(ListCollectionsResponse { page, collections })
    }

    async fn update_collection(
        &self,
        _ctx: RequestContext,
        req: UpdateCollectionRequest,
    ) -> Result<UpdateCollectionResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let collection = self.with_state(|s| {
            let old = Self::collection_of(s, project, req.collection.id)?;
            let updated = Collection {
                id: old.id,
                project_id: old.project_id,
                metadata: req.collection.metadata.or(old.metadata),
                private: old.private,
                reveal_key: req.collection.reveal_key,
                created_at: old.created_at,
                updated_at: self.clock,
                base_uris: old.base_uris,
                ..Collection::default()
            };
            s.collections.insert(updated.id, updated.clone());
            Ok::<_, WebrpcError>(updated)
        })?;
        Ok(UpdateCollectionResponse { collection })
    }

    async fn delete_collection(
        &self,
        _ctx: RequestContext,
        req: DeleteCollectionRequest,
    ) -> Result<DeleteCollectionResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        self.with_state(|s| {
            Self::collection_of(s, project, req.collection_id)?;
            s.collections.remove(&req.collection_id);
            s.tokens.retain(|k, _| k.0 != req.collection_id);
            s.assets.retain(|_, a| a.collection_id != req.collection_id);
            Ok(DeleteCollectionResponse { status: true })
        })
    }

    async fn publish_collection(
        &self,
        _ctx: RequestContext,
        req: PublishCollectionRequest,
    ) -> Result<PublishCollectionResponse, WebrpcError> {
        let collection = self.set_private(
            req.project_id,
            req.collection_id,
            false,
            req.recursive.unwrap_or(false),
        )?;
        Ok(PublishCollectionResponse { collection })
    }

    async fn unpublish_collection(
        &self,
        _ctx: RequestContext,
        req: UnpublishCollectionRequest,
    ) -> Result<UnpublishCollectionResponse, WebrpcError> {
        let collection = self.set_private(req.project_id, req.collection_id, true, false)?;
        Ok(UnpublishCollectionResponse { collection })
    }

    async fn create_contract_collection(
        &self,
        _ctx: RequestContext,
        req: CreateContractCollectionRequest,
    ) -> Result<CreateContractCollectionResponse, WebrpcError> {
        let mut link = req.contract_collection;
        link.contract_address = link.contract_address.to_ascii_lowercase();
        let key = (req.project_id, link.chain_id, link.contract_address.clone());
        let contract_collection = self.with_state(|s| {
            Self::collection_of(s, req.project_id, link.collection_id)?;
            if s.contracts.contains_key(&key) {
                return Err(MetadataError::RequestConflict.with_cause("contract already linked"));
            }
            link.id = s.next_id;
            s.next_id += 1;
            s.contracts.insert(key, link.clone());
            Ok(link)
        })?;
        Ok(CreateContractCollectionResponse {
            contract_collection,
        })
    }

    async fn get_contract_collection(
        &self,
        _ctx: RequestContext,
        req: GetContractCollectionRequest,
    ) -> Result<GetContractCollectionResponse, WebrpcError> {
        let key = (
            req.project_id,
            req.chain_id,
            req.contract_address.to_ascii_lowercase(),
        );
        let contract_collection = self
            .with_state(|s| s.contracts.get(&key).cloned())
            .ok_or_else(|| not_found(format_args!("contract {}", req.contract_address)))?;
        Ok(GetContractCollectionResponse {
            contract_collection,
        })
    }

    async fn list_contract_collections(
        &self,
        _ctx: RequestContext,
        req: ListContractCollectionsRequest,
    ) -> Result<ListContractCollectionsResponse, WebrpcError> {
        let (links, collections) = self.with_state(|s| {
            let links: Vec<ContractCollection> = s
                .contracts
                .iter()
                .filter(|(k, l)| {
                    k.0 == req.project_id
                        && req.collection_id.is_none_or(|id| l.collection_id == id)
                })
                .map(|(_, l)| l.clone())
                .collect();
            let collections: Vec<Collection> = s
                .collections
                .values()
                .filter(|c| links.iter().any(|l| l.collection_id == c.id))
                .cloned()
                .collect();
            (links, collections)
        });
        let (page, contract_collections) = paginate(&links, req.page);
        Ok(ListContractCollectionsResponse {
            contract_collections,
            collections,
            page,
        })
    }

    async fn update_contract_collection(
        &self,
        _ctx: RequestContext,
        req: UpdateContractCollectionRequest,
    ) -> Result<UpdateContractCollectionResponse, WebrpcError> {
        let mut link = req.contract_collection;
        link.contract_address = link.contract_address.to_ascii_lowercase();
        let key = (req.project_id, link.chain_id, link.contract_address.clone());
        self.with_state(|s| {
            Self::collection_of(s, req.project_id, link.collection_id)?;
            let slot = s
                .contracts
                .get_mut(&key)
                .ok_or_else(|| not_found(format_args!("contract {}", link.contract_address)))?;
            link.id = slot.id;
            *slot = link;
            Ok(UpdateContractCollectionResponse { ok: true })
        })
    }

    async fn delete_contract_collection(
        &self,
        _ctx: RequestContext,
        req: DeleteContractCollectionRequest,
    ) -> Result<DeleteContractCollectionResponse, WebrpcError> {
        let key = (
            req.project_id,
            req.chain_id,
            req.contract_address.to_ascii_lowercase(),
        );
        let removed = self.with_state(|s| s.contracts.remove(&key).is_some());
        Ok(DeleteContractCollectionResponse { ok: removed })
    }

    async fn create_token(
        &self,
        _ctx: RequestContext,
        req: CreateTokenRequest,
    ) -> Result<CreateTokenResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let token_id = validate_token_id(&req.token.token_id)?;
        self.with_state(|s| {
            Self::collection_of(s, project, req.collection_id)?;
            let key = (req.collection_id, token_id.to_string());
            if s.tokens.contains_key(&key) {
                return Err(
                    MetadataError::RequestConflict.with_cause(format!("token {token_id} exists"))
                );
            }
            let mut token = req.token;
            token.token_id = token_id.to_string();
            token.updated_at = self.clock;
            token.status = ResourceStatus::Available;
            s.tokens.insert(key.clone(), token.clone());
            s.private_tokens.insert(key, req.private.unwrap_or(false));
            let assets = Self::token_assets(s, req.collection_id, token_id.as_str());
            Ok(CreateTokenResponse { token, assets })
        })
    }

    async fn get_token(
        &self,
        _ctx: RequestContext,
        req: GetTokenRequest,
    ) -> Result<GetTokenResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let token_id = validate_token_id(&req.token_id)?;
        self.with_state(|s| {
            Self::collection_of(s, project, req.collection_id)?;
            let token = s
                .tokens
                .get(&(req.collection_id, token_id.to_string()))
                .cloned()
                .ok_or_else(|| not_found(format_args!("token {token_id}")))?;
            let assets = Self::token_assets(s, req.collection_id, token_id.as_str());
            Ok(GetTokenResponse { token, assets })
        })
    }

    async fn list_tokens(
        &self,
        _ctx: RequestContext,
        req: ListTokensRequest,
    ) -> Result<ListTokensResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let all = self.with_state(|s| {
            Self::collection_of(s, project, req.collection_id)?;
            Ok::<_, WebrpcError>(
                s.tokens
                    .iter()
                    .filter(|(k, _)| k.0 == req.collection_id)
                    .map(|(_, t)| t.clone())
                    .collect::<Vec<_>>(),
            )
        })?;
        let (page, tokens) = paginate(&all, req.page);
        Ok(ListTokensResponse { page, tokens })
    }

    async fn update_token(
        &self,
        _ctx: RequestContext,
        req: UpdateTokenRequest,
    ) -> Result<UpdateTokenResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let token_id = validate_token_id(&req.token_id)?;
        self.with_state(|s| {
            Self::collection_of(s, project, req.collection_id)?;
            let key = (req.collection_id, token_id.to_string());
            if !s.tokens.contains_key(&key) {
                return Err(not_found(format_args!("token {token_id}")));
            }
            let mut token = req.token;
            token.token_id = token_id.to_string();
            token.updated_at = self.clock;
            s.tokens.insert(key.clone(), token.clone());
            if let Some(private) = req.private {
                s.private_tokens.insert(key, private);
            }
            Ok(UpdateTokenResponse { token })
        })
    }

    async fn delete_token(
        &self,
        _ctx: RequestContext,
        req: DeleteTokenRequest,
    ) -> Result<DeleteTokenResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        let token_id = validate_token_id(&req.token_id)?;
        self.with_state(|s| {
            Self::collection_of(s, project, req.collection_id)?;
            let key = (req.collection_id, token_id.to_string());
            s.private_tokens.remove(&key);
            Ok(DeleteTokenResponse {
                status: s.tokens.remove(&key).is_some(),
            })
        })
    }

    async fn create_asset(
        &self,
        _ctx: RequestContext,
        req: CreateAssetRequest,
    ) -> Result<CreateAssetResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        self.with_state(|s| {
            Self::collection_of(s, project, req.asset.collection_id)?;
            let mut asset = req.asset;
            asset.id = s.next_id;
            s.next_id += 1;
            asset.url = format!(
                "{}/projects/{project}/collections/{}/assets/{}",
                self.base, asset.collection_id, asset.id
            );
            asset.updated_at = self.clock;
            s.assets.insert(asset.id, asset.clone());
            Ok(CreateAssetResponse { asset })
        })
    }

    async fn get_asset(
        &self,
        _ctx: RequestContext,
        req: GetAssetRequest,
    ) -> Result<GetAssetResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        self.with_state(|s| {
            let asset = s
                .assets
                .get(&req.asset_id)
                .cloned()
                .ok_or_else(|| not_found(format_args!("asset {}", req.asset_id)))?;
            Self::collection_of(s, project, asset.collection_id)?;
            Ok(GetAssetResponse { asset })
        })
    }

    async fn update_asset(
        &self,
        _ctx: RequestContext,
        req: UpdateAssetRequest,
    ) -> Result<UpdateAssetResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        self.with_state(|s| {
            let old = s
                .assets
                .get(&req.asset.id)
                .cloned()
                .ok_or_else(|| not_found(format_args!("asset {}", req.asset.id)))?;
            Self::collection_of(s, project, old.collection_id)?;
            let asset = Asset {
                id: old.id,
                collection_id: old.collection_id,
                url: old.url,
                updated_at: self.clock,
                ..req.asset
            };
            s.assets.insert(asset.id, asset.clone());
            Ok(UpdateAssetResponse { asset })
        })
    }

    async fn delete_asset(
        &self,
        _ctx: RequestContext,
        req: DeleteAssetRequest,
    ) -> Result<DeleteAssetResponse, WebrpcError> {
        let project = req.project_id.unwrap_or(DEFAULT_PROJECT);
        self.with_state(|s| {
            let Some(asset) = s.assets.get(&req.asset_id).cloned() else {
                return Ok(DeleteAssetResponse { status: false });
            };
            Self::collection_of(s, project, asset.collection_id)?;
            s.assets.remove(&req.asset_id);
            Ok(DeleteAssetResponse { status: true })
        })
    }
}

/// One call as both sides saw it on the wire.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    pub(crate) path: String,
    pub(crate) request: Value,
    pub(crate) status: u16,
    pub(crate) response: Value,
}

/// A transport that forwards to a router in process and records every exchange's JSON.
#[derive(Debug, Clone)]
pub(crate) struct Recording<S> {
    inner: S,
    log: Arc<Mutex<Vec<Exchange>>>,
}

impl<S> Recording<S> {
    pub(crate) fn new(inner: S) -> Self {
        Recording {
            inner,
            log: Arc::default(),
        }
    }

    /// Takes the exchanges recorded so far.
    pub(crate) fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Takes the only exchange recorded since the last take.
    pub(crate) fn take_one(&self) -> Exchange {
        let mut all = self.take();
        assert_eq!(all.len(), 1, "expected exactly one exchange: {all:?}");
        all.pop().unwrap()
    }
}

fn parse_json(bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(bytes).unwrap_or_else(|err| {
        panic!(
            "body is not JSON ({err}): {:?}",
            String::from_utf8_lossy(bytes)
        )
    })
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S> tower::Service<Request<Full<Bytes>>> for Recording<S>
where
    S: tower::Service<
            Request<Full<Bytes>>,
            Response = Response<webrpc_server::ResponseBody>,
            Error = Infallible,
        > + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Full<Bytes>>) -> Self::Future {
        let inner = self.inner.clone();
        let log = Arc::clone(&self.log);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let path = parts.uri.path().to_owned();
            let request_bytes = body.collect().await?.to_bytes();
            let request_json = parse_json(&request_bytes);
            let response = inner
                .oneshot(Request::from_parts(parts, Full::new(request_bytes)))
                .await?;
            let (parts, body) = response.into_parts();
            let response_bytes = body.collect().await?.to_bytes();
            log.lock().unwrap().push(Exchange {
                path,
                request: request_json,
                status: parts.status.as_u16(),
                response: parse_json(&response_bytes),
            });
            Ok(Response::from_parts(parts, Full::new(response_bytes)))
        })
    }
}

/// The fixed clock of [`Memory`] in these tests.
pub(crate) fn clock() -> Timestamp {
    "2024-10-23T07:10:45.118089Z".parse().unwrap()
}

/// A client over a recorded in-process router serving `service`.
pub(crate) fn recorded_client<T: Collections<Ctx = RequestContext>>(
    service: Arc<T>,
) -> (
    CollectionsClient<webrpc_client::Client<Recording<webrpc_server::Router>>>,
    Recording<webrpc_server::Router>,
) {
    let router = mount_collections(service, webrpc_server::Router::new());
    let recording = Recording::new(router);
    let client = webrpc_client::Client::builder("http://localhost")
        .build_with(recording.clone())
        .unwrap();
    (CollectionsClient::new(client), recording)
}
