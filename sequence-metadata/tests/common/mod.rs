//! Shared test support: a `Collections` implementation with canned answers that records what
//! it received, and a recording transport that captures the JSON each side of a call saw.

#![allow(dead_code)]

use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use sequence_metadata::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tower::ServiceExt;

/// The project id the tests send where a call takes one.
pub(crate) const DEFAULT_PROJECT: u64 = 30957;

/// A `Collections` implementation that decides nothing: each method records the request it
/// decoded and answers what the test queued for it ([`Canned::answer`], [`Canned::fail`]),
/// or the response type's default when nothing is queued. The wire tests check encoding,
/// decoding, errors and routing, not semantics (those are the Metadata server's, tested in
/// `examples/metadata-server`).
#[derive(Default)]
pub(crate) struct Canned {
    answers: Mutex<HashMap<&'static str, VecDeque<Result<Value, WebrpcError>>>>,
    received: Mutex<Vec<(&'static str, Box<dyn Any + Send>)>>,
}

impl std::fmt::Debug for Canned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Canned").finish_non_exhaustive()
    }
}

impl Canned {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Canned::default())
    }

    /// Queues the answer (the response as JSON) of the next call of `method`.
    pub(crate) fn answer(&self, method: &'static str, response: Value) {
        self.queue(method, Ok(response));
    }

    /// Queues an error as the answer of the next call of `method`.
    pub(crate) fn fail(&self, method: &'static str, err: WebrpcError) {
        self.queue(method, Err(err));
    }

    fn queue(&self, method: &'static str, answer: Result<Value, WebrpcError>) {
        self.answers
            .lock()
            .unwrap()
            .entry(method)
            .or_default()
            .push_back(answer);
    }

    /// The only request received since the last call, as the handler decoded it.
    pub(crate) fn received<R: 'static>(&self, method: &str) -> R {
        let mut all = std::mem::take(&mut *self.received.lock().unwrap());
        assert_eq!(all.len(), 1, "expected exactly one call, got {}", all.len());
        let (name, request) = all.pop().unwrap();
        assert_eq!(name, method);
        *request
            .downcast::<R>()
            .expect("the request type of the method")
    }

    fn reply<Req, Resp>(&self, method: &'static str, request: Req) -> Result<Resp, WebrpcError>
    where
        Req: Send + 'static,
        Resp: DeserializeOwned + Default,
    {
        // A test that panicked while holding a lock fails anyway; the data stays usable.
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((method, Box::new(request)));
        let answer = self
            .answers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(method)
            .and_then(VecDeque::pop_front);
        match answer {
            None => Ok(Resp::default()),
            Some(Ok(json)) => serde_json::from_value(json).map_err(|e| {
                BuiltinError::WebrpcInternalError.with_cause(format!(
                    "the canned answer of {method} does not decode: {e}"
                ))
            }),
            Some(Err(err)) => Err(err),
        }
    }
}

impl Collections for Canned {
    type Ctx = RequestContext;

    async fn create_collection(
        &self,
        _ctx: RequestContext,
        request: CreateCollectionRequest,
    ) -> Result<CreateCollectionResponse, WebrpcError> {
        self.reply("CreateCollection", request)
    }

    async fn get_collection(
        &self,
        _ctx: RequestContext,
        request: GetCollectionRequest,
    ) -> Result<GetCollectionResponse, WebrpcError> {
        self.reply("GetCollection", request)
    }

    async fn list_collections(
        &self,
        _ctx: RequestContext,
        request: ListCollectionsRequest,
    ) -> Result<ListCollectionsResponse, WebrpcError> {
        self.reply("ListCollections", request)
    }

    async fn update_collection(
        &self,
        _ctx: RequestContext,
        request: UpdateCollectionRequest,
    ) -> Result<UpdateCollectionResponse, WebrpcError> {
        self.reply("UpdateCollection", request)
    }

    async fn delete_collection(
        &self,
        _ctx: RequestContext,
        request: DeleteCollectionRequest,
    ) -> Result<DeleteCollectionResponse, WebrpcError> {
        self.reply("DeleteCollection", request)
    }

    async fn publish_collection(
        &self,
        _ctx: RequestContext,
        request: PublishCollectionRequest,
    ) -> Result<PublishCollectionResponse, WebrpcError> {
        self.reply("PublishCollection", request)
    }

    async fn unpublish_collection(
        &self,
        _ctx: RequestContext,
        request: UnpublishCollectionRequest,
    ) -> Result<UnpublishCollectionResponse, WebrpcError> {
        self.reply("UnpublishCollection", request)
    }

    async fn create_contract_collection(
        &self,
        _ctx: RequestContext,
        request: CreateContractCollectionRequest,
    ) -> Result<CreateContractCollectionResponse, WebrpcError> {
        self.reply("CreateContractCollection", request)
    }

    async fn get_contract_collection(
        &self,
        _ctx: RequestContext,
        request: GetContractCollectionRequest,
    ) -> Result<GetContractCollectionResponse, WebrpcError> {
        self.reply("GetContractCollection", request)
    }

    async fn list_contract_collections(
        &self,
        _ctx: RequestContext,
        request: ListContractCollectionsRequest,
    ) -> Result<ListContractCollectionsResponse, WebrpcError> {
        self.reply("ListContractCollections", request)
    }

    async fn update_contract_collection(
        &self,
        _ctx: RequestContext,
        request: UpdateContractCollectionRequest,
    ) -> Result<UpdateContractCollectionResponse, WebrpcError> {
        self.reply("UpdateContractCollection", request)
    }

    async fn delete_contract_collection(
        &self,
        _ctx: RequestContext,
        request: DeleteContractCollectionRequest,
    ) -> Result<DeleteContractCollectionResponse, WebrpcError> {
        self.reply("DeleteContractCollection", request)
    }

    async fn create_token(
        &self,
        _ctx: RequestContext,
        request: CreateTokenRequest,
    ) -> Result<CreateTokenResponse, WebrpcError> {
        self.reply("CreateToken", request)
    }

    async fn get_token(
        &self,
        _ctx: RequestContext,
        request: GetTokenRequest,
    ) -> Result<GetTokenResponse, WebrpcError> {
        self.reply("GetToken", request)
    }

    async fn list_tokens(
        &self,
        _ctx: RequestContext,
        request: ListTokensRequest,
    ) -> Result<ListTokensResponse, WebrpcError> {
        self.reply("ListTokens", request)
    }

    async fn update_token(
        &self,
        _ctx: RequestContext,
        request: UpdateTokenRequest,
    ) -> Result<UpdateTokenResponse, WebrpcError> {
        self.reply("UpdateToken", request)
    }

    async fn delete_token(
        &self,
        _ctx: RequestContext,
        request: DeleteTokenRequest,
    ) -> Result<DeleteTokenResponse, WebrpcError> {
        self.reply("DeleteToken", request)
    }

    async fn create_asset(
        &self,
        _ctx: RequestContext,
        request: CreateAssetRequest,
    ) -> Result<CreateAssetResponse, WebrpcError> {
        self.reply("CreateAsset", request)
    }

    async fn get_asset(
        &self,
        _ctx: RequestContext,
        request: GetAssetRequest,
    ) -> Result<GetAssetResponse, WebrpcError> {
        self.reply("GetAsset", request)
    }

    async fn update_asset(
        &self,
        _ctx: RequestContext,
        request: UpdateAssetRequest,
    ) -> Result<UpdateAssetResponse, WebrpcError> {
        self.reply("UpdateAsset", request)
    }

    async fn delete_asset(
        &self,
        _ctx: RequestContext,
        request: DeleteAssetRequest,
    ) -> Result<DeleteAssetResponse, WebrpcError> {
        self.reply("DeleteAsset", request)
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

/// The fixed time the canned answers carry.
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
