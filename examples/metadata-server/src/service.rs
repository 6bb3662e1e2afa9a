//! [`MetadataService`]: the `Collections` trait implemented over a [`Store`].
//!
//! Each call goes through the same three steps:
//!
//! 1. **Project.** The caller's project comes from the [`AuthProject`] that
//!    [`AuthLayer`](super::AuthLayer) put in the request's extensions. A `projectId`
//!    argument that is absent (or 0) means that project; any other value is
//!    `PermissionDenied` (1001, 403). A call without an [`AuthProject`] (the service mounted
//!    without the auth layer) is `Unauthorized`: the service fails closed.
//! 2. **Arguments.** Checked and normalised (`validate.rs`): missing
//!    required values, token ids, contract addresses, collection names.
//! 3. **Store.** The call runs on the store (on the blocking pool for SQLite). Store
//!    outcomes become the schema's errors: not found → `NotFound` (3000, 400), a taken
//!    unique key → `RequestConflict` (1004, 409), a storage failure → `WebrpcInternalError`
//!    (-7, 500) whose cause says only that the store failed; the details go to the log.
//!
//! Returned collections carry their `baseURIs` (where their metadata is served once
//! published) and `tokenCount`.

use std::sync::Arc;

use sequence_metadata::{
    Collection, CollectionBaseURIs, Collections, CreateAssetRequest, CreateAssetResponse,
    CreateCollectionRequest, CreateCollectionResponse, CreateContractCollectionRequest,
    CreateContractCollectionResponse, CreateTokenRequest, CreateTokenResponse, DeleteAssetRequest,
    DeleteAssetResponse, DeleteCollectionRequest, DeleteCollectionResponse,
    DeleteContractCollectionRequest, DeleteContractCollectionResponse, DeleteTokenRequest,
    DeleteTokenResponse, GetAssetRequest, GetAssetResponse, GetCollectionRequest,
    GetCollectionResponse, GetContractCollectionRequest, GetContractCollectionResponse,
    GetTokenRequest, GetTokenResponse, ListCollectionsRequest, ListCollectionsResponse,
    ListContractCollectionsRequest, ListContractCollectionsResponse, ListTokensRequest,
    ListTokensResponse, MetadataError, PublishCollectionRequest, PublishCollectionResponse,
    RequestContext, UnpublishCollectionRequest, UnpublishCollectionResponse, UpdateAssetRequest,
    UpdateAssetResponse, UpdateCollectionRequest, UpdateCollectionResponse,
    UpdateContractCollectionRequest, UpdateContractCollectionResponse, UpdateTokenRequest,
    UpdateTokenResponse,
};
use webrpc_core::{BuiltinError, WebrpcError};

use super::assets::AssetFiles;
use super::auth::AuthProject;
use super::collections::{self, ContractUpdate, Released};
use super::store::{PageRequest, Store, StoreError, StoreResult};
use super::validate;

/// The `Collections` service over a store. See the module docs.
#[derive(Debug)]
pub struct MetadataService<S> {
    store: Arc<S>,
    public_url: String,
    files: Option<Arc<AssetFiles>>,
}

/// The cause of a call the store could not run: nothing was written (503).
pub const STORE_UNAVAILABLE: &str =
    "the metadata store is unavailable; nothing was written and the call can be retried";

/// The cause of a write whose commit was cut off: it may have been applied (500).
pub const STORE_OUTCOME_UNKNOWN: &str =
    "the metadata store failed while committing; whether the write was applied is unknown";

/// Turns a store failure into the envelope sent to the client; storage failures are logged
/// here and reach the client without their details.
pub(crate) fn store_error(err: StoreError) -> WebrpcError {
    match err {
        StoreError::NotFound(what) => {
            MetadataError::NotFound.with_cause(format!("{what} not found"))
        }
        StoreError::Conflict(what) => MetadataError::RequestConflict.with_cause(what),
        StoreError::TooLarge(what) => MetadataError::ValidationFailed.with_cause(what),
        StoreError::Cancelled => BuiltinError::WebrpcInternalError
            .with_cause("the call was cancelled before its store work started")
            .with_status(503),
        StoreError::Unavailable(detail) => {
            tracing::warn!(error = %detail, "metadata store unavailable");
            BuiltinError::WebrpcInternalError
                .with_cause(STORE_UNAVAILABLE)
                .with_status(503)
        }
        StoreError::OutcomeUnknown(detail) => {
            tracing::error!(error = %detail, "metadata store failure while committing");
            BuiltinError::WebrpcInternalError.with_cause(STORE_OUTCOME_UNKNOWN)
        }
        StoreError::Internal(detail) => {
            tracing::error!(error = %detail, "metadata store failure");
            BuiltinError::WebrpcInternalError
                .with_cause("the metadata store failed; the server log has the details")
        }
    }
}

/// The caller's project: the token's, which a `projectId` argument may repeat but not change.
fn project(ctx: &RequestContext, requested: Option<u64>) -> Result<u64, WebrpcError> {
    let auth = ctx.extensions().get::<AuthProject>().ok_or_else(|| {
        MetadataError::Unauthorized.with_cause("the request carries no authenticated project")
    })?;
    match requested {
        None | Some(0) => Ok(auth.project_id),
        Some(p) if p == auth.project_id => Ok(p),
        Some(p) => Err(MetadataError::PermissionDenied.with_cause(format!(
            "the token grants access to project {}, not project {p}",
            auth.project_id
        ))),
    }
}

/// A project id inside an object argument (`collection.projectId`) must agree with the
/// caller's project when it is set.
fn same_project(field: &str, value: u64, project: u64) -> Result<(), WebrpcError> {
    if value == 0 || value == project {
        Ok(())
    } else {
        Err(MetadataError::PermissionDenied.with_cause(format!(
            "{field} is {value}, but the call is for project {project}"
        )))
    }
}

impl<S: Store> MetadataService<S> {
    /// The service over `store`; `public_url` (no trailing `/`) is the base of the
    /// collections' `baseURIs`.
    pub fn new(store: Arc<S>, public_url: impl Into<String>) -> Self {
        MetadataService {
            store,
            public_url: public_url.into().trim_end_matches('/').to_owned(),
            files: None,
        }
    }

    /// The service, removing from `files` the bytes of assets it deletes once no live asset
    /// uses them any more.
    pub fn with_files(mut self, files: Arc<AssetFiles>) -> Self {
        self.files = Some(files);
        self
    }

    /// Removes the files a committed write released, when no live asset uses them (on the
    /// blocking pool; it runs to its end even if the caller goes away). A failure is
    /// logged: a leftover file is removed by the next start's sweep.
    async fn release(&self, released: Released) {
        let Some(files) = self.files.clone().filter(|_| !released.0.is_empty()) else {
            return;
        };
        let store = Arc::clone(&self.store);
        let removal =
            tokio::task::spawn_blocking(move || files.remove_unused(&*store, &released.0));
        if let Err(err) = removal.await {
            tracing::error!(error = %err, "removing released asset files failed");
        }
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// The base of the public metadata URLs.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// Where a collection's metadata is served once published.
    pub fn base_uris(&self, project: u64, collection_id: u64) -> CollectionBaseURIs {
        // Built by hand rather than with `format!`: every collection answer carries these.
        let mut base = String::with_capacity(self.public_url.len() + 64);
        base.push_str(&self.public_url);
        base.push_str("/projects/");
        push_decimal(&mut base, project);
        base.push_str("/collections/");
        push_decimal(&mut base, collection_id);
        let mut token_metadata_uri = String::with_capacity(base.len() + 8);
        token_metadata_uri.push_str(&base);
        token_metadata_uri.push_str("/tokens/");
        base.push_str(".json");
        CollectionBaseURIs {
            contract_metadata_uri: base,
            token_metadata_uri,
        }
    }

    fn with_uris(&self, mut collection: Collection) -> Collection {
        collection.base_uris = Some(self.base_uris(collection.project_id, collection.id));
        collection
    }

    /// Runs a store call for the call `ctx` belongs to: on the blocking pool for a
    /// blocking store, inline otherwise.
    ///
    /// Blocking work goes through [`webrpc_server::spawn_blocking`]: it does not start if
    /// the caller went away (an h2 reset, a handler timeout) while it waited for a thread,
    /// the store checks again once it holds its write lock, and the call's concurrency slot
    /// stays taken until the store call really ends, even if the handler's future was
    /// dropped first.
    pub(crate) async fn run<T, F>(&self, ctx: &RequestContext, f: F) -> Result<T, WebrpcError>
    where
        T: Send + 'static,
        F: FnOnce(&S) -> StoreResult<T> + Send + 'static,
    {
        let result = if S::BLOCKING {
            let store = Arc::clone(&self.store);
            webrpc_server::spawn_blocking(ctx, move || f(&store)).await?
        } else {
            f(&self.store)
        };
        result.map_err(store_error)
    }
}

impl<S: Store> Collections for MetadataService<S> {
    type Ctx = RequestContext;

    async fn create_collection(
        &self,
        ctx: RequestContext,
        request: CreateCollectionRequest,
    ) -> Result<CreateCollectionResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection = request.collection;
        same_project("collection.projectId", collection.project_id, project)?;
        let metadata = validate::collection_metadata(collection.metadata)?;
        let reveal_key = collection.reveal_key;
        validate::collection_size(&metadata, &reveal_key)?;
        let created = self
            .run(&ctx, move |store| {
                collections::create_collection(store, project, metadata, reveal_key)
            })
            .await?;
        Ok(CreateCollectionResponse {
            collection: self.with_uris(created),
        })
    }

    async fn get_collection(
        &self,
        ctx: RequestContext,
        request: GetCollectionRequest,
    ) -> Result<GetCollectionResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let id = request.collection_id;
        let collection = self
            .run(&ctx, move |store| {
                collections::get_collection(store, project, id)
            })
            .await?;
        Ok(GetCollectionResponse {
            collection: self.with_uris(collection),
        })
    }

    async fn list_collections(
        &self,
        ctx: RequestContext,
        request: ListCollectionsRequest,
    ) -> Result<ListCollectionsResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let page = PageRequest::from_page(request.page.as_ref());
        let listed = self
            .run(&ctx, move |store| {
                collections::list_collections(store, project, page)
            })
            .await?;
        Ok(ListCollectionsResponse {
            page: page.response(listed.more, listed.next),
            collections: listed
                .items
                .into_iter()
                .map(|c| self.with_uris(c))
                .collect(),
        })
    }

    async fn update_collection(
        &self,
        ctx: RequestContext,
        request: UpdateCollectionRequest,
    ) -> Result<UpdateCollectionResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection = request.collection;
        same_project("collection.projectId", collection.project_id, project)?;
        let id = validate::non_zero("collection.id", collection.id)?;
        let metadata = validate::collection_metadata(collection.metadata)?;
        let reveal_key = collection.reveal_key;
        validate::collection_size(&metadata, &reveal_key)?;
        let updated = self
            .run(&ctx, move |store| {
                collections::update_collection(store, project, id, metadata, reveal_key)
            })
            .await?;
        Ok(UpdateCollectionResponse {
            collection: self.with_uris(updated),
        })
    }

    async fn delete_collection(
        &self,
        ctx: RequestContext,
        request: DeleteCollectionRequest,
    ) -> Result<DeleteCollectionResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let id = request.collection_id;
        let released = self
            .run(&ctx, move |store| {
                collections::delete_collection(store, project, id)
            })
            .await?;
        self.release(released).await;
        Ok(DeleteCollectionResponse { status: true })
    }

    async fn publish_collection(
        &self,
        ctx: RequestContext,
        request: PublishCollectionRequest,
    ) -> Result<PublishCollectionResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let id = request.collection_id;
        let recursive = request.recursive.unwrap_or(false);
        let collection = self
            .run(&ctx, move |store| {
                collections::set_collection_private(store, project, id, false, recursive)
            })
            .await?;
        Ok(PublishCollectionResponse {
            collection: self.with_uris(collection),
        })
    }

    async fn unpublish_collection(
        &self,
        ctx: RequestContext,
        request: UnpublishCollectionRequest,
    ) -> Result<UnpublishCollectionResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let id = request.collection_id;
        let collection = self
            .run(&ctx, move |store| {
                collections::set_collection_private(store, project, id, true, false)
            })
            .await?;
        Ok(UnpublishCollectionResponse {
            collection: self.with_uris(collection),
        })
    }

    async fn create_contract_collection(
        &self,
        ctx: RequestContext,
        request: CreateContractCollectionRequest,
    ) -> Result<CreateContractCollectionResponse, WebrpcError> {
        let project = project(&ctx, Some(request.project_id))?;
        let link = request.contract_collection;
        let chain_id = validate::non_zero("contractCollection.chainId", link.chain_id)?;
        let address = validate::contract_address(
            "contractCollection.contractAddress",
            &link.contract_address,
        )?;
        let collection_id =
            validate::non_zero("contractCollection.collectionId", link.collection_id)?;
        let created = self
            .run(&ctx, move |store| {
                collections::create_contract_collection(
                    store,
                    project,
                    chain_id,
                    address,
                    collection_id,
                )
            })
            .await?;
        Ok(CreateContractCollectionResponse {
            contract_collection: created,
        })
    }

    async fn get_contract_collection(
        &self,
        ctx: RequestContext,
        request: GetContractCollectionRequest,
    ) -> Result<GetContractCollectionResponse, WebrpcError> {
        let project = project(&ctx, Some(request.project_id))?;
        let chain_id = validate::non_zero("chainId", request.chain_id)?;
        let address = validate::contract_address("contractAddress", &request.contract_address)?;
        let link = self
            .run(&ctx, move |store| {
                collections::get_contract_collection(store, project, chain_id, &address)
            })
            .await?;
        Ok(GetContractCollectionResponse {
            contract_collection: link,
        })
    }

    async fn list_contract_collections(
        &self,
        ctx: RequestContext,
        request: ListContractCollectionsRequest,
    ) -> Result<ListContractCollectionsResponse, WebrpcError> {
        let project = project(&ctx, Some(request.project_id))?;
        let collection_id = request.collection_id.filter(|&id| id != 0);
        let page = PageRequest::from_page(request.page.as_ref());
        let (links, collections) = self
            .run(&ctx, move |store| {
                collections::list_contract_collections(store, project, collection_id, page)
            })
            .await?;
        Ok(ListContractCollectionsResponse {
            contract_collections: links.items,
            collections: collections.into_iter().map(|c| self.with_uris(c)).collect(),
            page: page.response(links.more, links.next),
        })
    }

    async fn update_contract_collection(
        &self,
        ctx: RequestContext,
        request: UpdateContractCollectionRequest,
    ) -> Result<UpdateContractCollectionResponse, WebrpcError> {
        let project = project(&ctx, Some(request.project_id))?;
        let link = request.contract_collection;
        let update = ContractUpdate {
            id: (link.id != 0).then_some(link.id),
            chain_id: validate::non_zero("contractCollection.chainId", link.chain_id)?,
            contract_address: validate::contract_address(
                "contractCollection.contractAddress",
                &link.contract_address,
            )?,
            collection_id: validate::non_zero(
                "contractCollection.collectionId",
                link.collection_id,
            )?,
        };
        self.run(&ctx, move |store| {
            collections::update_contract_collection(store, project, update)
        })
        .await?;
        Ok(UpdateContractCollectionResponse { ok: true })
    }

    async fn delete_contract_collection(
        &self,
        ctx: RequestContext,
        request: DeleteContractCollectionRequest,
    ) -> Result<DeleteContractCollectionResponse, WebrpcError> {
        let project = project(&ctx, Some(request.project_id))?;
        let chain_id = validate::non_zero("chainId", request.chain_id)?;
        let address = validate::contract_address("contractAddress", &request.contract_address)?;
        self.run(&ctx, move |store| {
            collections::delete_contract_collection(store, project, chain_id, &address)
        })
        .await?;
        Ok(DeleteContractCollectionResponse { ok: true })
    }

    async fn create_token(
        &self,
        ctx: RequestContext,
        request: CreateTokenRequest,
    ) -> Result<CreateTokenResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection_id = request.collection_id;
        let mut token = validate::token_fields(request.token)?;
        token.token_id = validate::token_id("token.tokenId", &token.token_id)?;
        let private = request.private;
        let created = self
            .run(&ctx, move |store| {
                collections::create_token(store, project, collection_id, token, private)
            })
            .await?;
        Ok(CreateTokenResponse {
            token: created,
            assets: Vec::new(),
        })
    }

    async fn get_token(
        &self,
        ctx: RequestContext,
        request: GetTokenRequest,
    ) -> Result<GetTokenResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection_id = request.collection_id;
        let token_id = validate::token_id("tokenId", &request.token_id)?;
        let (token, assets) = self
            .run(&ctx, move |store| {
                collections::get_token(store, project, collection_id, &token_id)
            })
            .await?;
        Ok(GetTokenResponse { token, assets })
    }

    async fn list_tokens(
        &self,
        ctx: RequestContext,
        request: ListTokensRequest,
    ) -> Result<ListTokensResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection_id = request.collection_id;
        let page = PageRequest::from_page(request.page.as_ref());
        let listed = self
            .run(&ctx, move |store| {
                collections::list_tokens(store, project, collection_id, page)
            })
            .await?;
        Ok(ListTokensResponse {
            page: page.response(listed.more, listed.next),
            tokens: listed.items,
        })
    }

    async fn update_token(
        &self,
        ctx: RequestContext,
        request: UpdateTokenRequest,
    ) -> Result<UpdateTokenResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection_id = request.collection_id;
        let token_id = validate::token_id("tokenId", &request.token_id)?;
        let mut token = validate::token_fields(request.token)?;
        if !token.token_id.is_empty()
            && validate::token_id("token.tokenId", &token.token_id)? != token_id
        {
            return Err(MetadataError::InvalidArgument.with_cause(format!(
                "token.tokenId {:?} does not match tokenId {token_id:?}; a token id cannot change",
                token.token_id
            )));
        }
        token.token_id.clone_from(&token_id);
        let private = request.private;
        let updated = self
            .run(&ctx, move |store| {
                collections::update_token(store, project, collection_id, &token_id, token, private)
            })
            .await?;
        Ok(UpdateTokenResponse { token: updated })
    }

    async fn delete_token(
        &self,
        ctx: RequestContext,
        request: DeleteTokenRequest,
    ) -> Result<DeleteTokenResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let collection_id = request.collection_id;
        let token_id = validate::token_id("tokenId", &request.token_id)?;
        let released = self
            .run(&ctx, move |store| {
                collections::delete_token(store, project, collection_id, &token_id)
            })
            .await?;
        self.release(released).await;
        Ok(DeleteTokenResponse { status: true })
    }

    async fn create_asset(
        &self,
        ctx: RequestContext,
        request: CreateAssetRequest,
    ) -> Result<CreateAssetResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let asset = validate::asset(request.asset)?;
        let created = self
            .run(&ctx, move |store| {
                collections::create_asset(store, project, asset)
            })
            .await?;
        Ok(CreateAssetResponse { asset: created })
    }

    async fn get_asset(
        &self,
        ctx: RequestContext,
        request: GetAssetRequest,
    ) -> Result<GetAssetResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let id = request.asset_id;
        let asset = self
            .run(&ctx, move |store| {
                collections::get_asset(store, project, id)
            })
            .await?;
        Ok(GetAssetResponse { asset })
    }

    async fn update_asset(
        &self,
        ctx: RequestContext,
        request: UpdateAssetRequest,
    ) -> Result<UpdateAssetResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        validate::non_zero("asset.id", request.asset.id)?;
        let asset = validate::asset(request.asset)?;
        let updated = self
            .run(&ctx, move |store| {
                collections::update_asset(store, project, asset)
            })
            .await?;
        Ok(UpdateAssetResponse { asset: updated })
    }

    async fn delete_asset(
        &self,
        ctx: RequestContext,
        request: DeleteAssetRequest,
    ) -> Result<DeleteAssetResponse, WebrpcError> {
        let project = project(&ctx, request.project_id)?;
        let id = request.asset_id;
        let released = self
            .run(&ctx, move |store| {
                collections::delete_asset(store, project, id)
            })
            .await?;
        self.release(released).await;
        Ok(DeleteAssetResponse { status: true })
    }
}

/// Appends the decimal digits of `n`.
fn push_decimal(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend(digits[i..].iter().map(|&d| char::from(d)));
}

#[cfg(test)]
mod uri_tests {
    #[test]
    fn push_decimal_writes_every_digit() {
        for n in [0u64, 7, 10, 30957, u64::MAX] {
            let mut s = String::from("x");
            super::push_decimal(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
    }
}
