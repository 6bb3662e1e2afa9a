//! Every Collections method called in process through `CollectionsClient`, with the JSON each
//! side saw on the wire checked, plus argument decoding (missing required, `null` optional).

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use sequence_metadata::*;
use serde_json::{json, Value};
use tower::ServiceExt;
use webrpc_client::CallOptions;

use common::{clock, recorded_client, Exchange, Memory, DEFAULT_PROJECT};

const ZERO: &str = "0001-01-01T00:00:00Z";

fn assert_exchange(exchange: &Exchange, method: &str, request: Value, response: Value) {
    assert_eq!(exchange.path, format!("/rpc/Collections/{method}"));
    assert_eq!(exchange.status, 200, "{exchange:?}");
    assert_eq!(exchange.request, request, "request of {method}");
    assert_eq!(exchange.response, response, "response of {method}");
}

fn metadata(name: &str) -> CollectionMetadata {
    let mut properties = Properties::new();
    properties.insert("maxNfts".into(), json!(1000));
    CollectionMetadata {
        name: name.into(),
        description: "A collection".into(),
        properties,
        ..CollectionMetadata::default()
    }
}

#[tokio::test]
async fn every_method_round_trips_with_the_expected_json() {
    let now = clock().to_string();
    let (api, wire) = recorded_client(Arc::new(Memory::new(clock())));
    let ctx = CallOptions::new;

    // CreateCollection: projectId absent, the collection as a client builds it.
    let created = api
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection {
                    metadata: Some(metadata("Sandbox")),
                    ..Collection::default()
                },
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!((created.id, created.project_id), (1, DEFAULT_PROJECT));
    assert!(created.private);
    assert_exchange(
        &wire.take_one(),
        "CreateCollection",
        json!({"collection": {
            "metadata": {"name": "Sandbox", "description": "A collection", "properties": {"maxNfts": 1000}},
            "private": false, "createdAt": ZERO, "updatedAt": ZERO,
        }}),
        json!({"collection": {
            "id": 1, "projectId": 30957,
            "metadata": {"name": "Sandbox", "description": "A collection", "properties": {"maxNfts": 1000}},
            "private": true, "createdAt": now, "updatedAt": now,
        }}),
    );

    // GetCollection: projectId present.
    let got = api
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: Some(DEFAULT_PROJECT),
                collection_id: 1,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got.token_count, Some(0));
    assert_exchange(
        &wire.take_one(),
        "GetCollection",
        json!({"projectId": 30957, "collectionId": 1}),
        json!({"collection": {
            "id": 1, "projectId": 30957,
            "metadata": {"name": "Sandbox", "description": "A collection", "properties": {"maxNfts": 1000}},
            "private": true, "tokenCount": 0, "createdAt": now, "updatedAt": now,
        }}),
    );

    // ListCollections: no arguments at all, then with a page.
    let listed = api
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.collections.len(), 1);
    assert_eq!(listed.page.more, Some(false));
    let exchange = wire.take_one();
    assert_eq!(exchange.request, json!({}));
    assert_eq!(
        exchange.response["page"],
        json!({"pageSize": 30, "more": false})
    );
    assert_eq!(exchange.response["collections"][0]["id"], json!(1));

    api.create_collection(
        ctx(),
        CreateCollectionRequest {
            project_id: Some(DEFAULT_PROJECT),
            collection: Collection {
                metadata: Some(metadata("Second")),
                ..Collection::default()
            },
        },
    )
    .await
    .unwrap();
    wire.take();
    let page = Page {
        page: Some(1),
        page_size: Some(1),
        ..Page::default()
    };
    let listed = api
        .list_collections(
            ctx(),
            ListCollectionsRequest {
                project_id: None,
                page: Some(page),
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.page.more, Some(true));
    assert_eq!(listed.collections.len(), 1);
    let exchange = wire.take_one();
    assert_eq!(
        exchange.request,
        json!({"page": {"page": 1, "pageSize": 1}})
    );
    assert_eq!(
        exchange.response["page"],
        json!({"page": 1, "pageSize": 1, "more": true})
    );

    // UpdateCollection.
    let updated = api
        .update_collection(
            ctx(),
            UpdateCollectionRequest {
                project_id: None,
                collection: Collection {
                    id: 1,
                    metadata: Some(CollectionMetadata {
                        external_link: "https://example.com".into(),
                        ..metadata("Sandbox Modified")
                    }),
                    reveal_key: "k".into(),
                    ..Collection::default()
                },
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(updated.metadata.unwrap().name, "Sandbox Modified");
    let exchange = wire.take_one();
    assert_eq!(
        exchange.request["collection"]["metadata"]["external_link"],
        "https://example.com"
    );
    assert_eq!(exchange.request["collection"]["revealKey"], "k");
    assert_eq!(exchange.request["collection"]["id"], 1);
    assert_eq!(
        exchange.response["collection"]["metadata"]["external_link"],
        "https://example.com"
    );

    // PublishCollection, recursive.
    let published = api
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: Some(DEFAULT_PROJECT),
                collection_id: 1,
                recursive: Some(true),
            },
        )
        .await
        .unwrap()
        .collection;
    assert!(!published.private);
    let exchange = wire.take_one();
    assert_eq!(exchange.path, "/rpc/Collections/PublishCollection");
    assert_eq!(
        exchange.request,
        json!({"projectId": 30957, "collectionId": 1, "recursive": true})
    );
    assert_eq!(exchange.response["collection"]["private"], json!(false));
    assert_eq!(
        exchange.response["collection"]["baseURIs"],
        json!({
            "contractMetadataURI": "https://metadata.sequence.app/projects/30957/collections/1.json",
            "tokenMetadataURI": "https://metadata.sequence.app/projects/30957/collections/1/tokens/",
        })
    );

    // UnpublishCollection: no projectId.
    let unpublished = api
        .unpublish_collection(
            ctx(),
            UnpublishCollectionRequest {
                project_id: None,
                collection_id: 1,
            },
        )
        .await
        .unwrap()
        .collection;
    assert!(unpublished.private && unpublished.base_uris.is_none());
    let exchange = wire.take_one();
    assert_eq!(exchange.request, json!({"collectionId": 1}));
    assert_eq!(exchange.response["collection"]["private"], json!(true));
    assert!(exchange.response["collection"].get("baseURIs").is_none());

    // CreateContractCollection: projectId is required, so always sent.
    let link = api
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: DEFAULT_PROJECT,
                contract_collection: ContractCollection {
                    chain_id: 137,
                    contract_address: "0xABCDEF0000000000000000000000000000000001".into(),
                    collection_id: 1,
                    ..ContractCollection::default()
                },
            },
        )
        .await
        .unwrap()
        .contract_collection;
    let address = "0xabcdef0000000000000000000000000000000001";
    assert_eq!(link.contract_address, address);
    assert_exchange(
        &wire.take_one(),
        "CreateContractCollection",
        json!({"projectId": 30957, "contractCollection": {
            "chainId": 137, "contractAddress": "0xABCDEF0000000000000000000000000000000001", "collectionId": 1,
        }}),
        json!({"contractCollection": {
            "id": link.id, "chainId": 137, "contractAddress": address, "collectionId": 1,
        }}),
    );

    // GetContractCollection.
    api.get_contract_collection(
        ctx(),
        GetContractCollectionRequest {
            project_id: DEFAULT_PROJECT,
            chain_id: 137,
            contract_address: address.into(),
        },
    )
    .await
    .unwrap();
    assert_exchange(
        &wire.take_one(),
        "GetContractCollection",
        json!({"projectId": 30957, "chainId": 137, "contractAddress": address}),
        json!({"contractCollection": {
            "id": link.id, "chainId": 137, "contractAddress": address, "collectionId": 1,
        }}),
    );

    // ListContractCollections: collectionId and page absent.
    let links = api
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: DEFAULT_PROJECT,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(links.contract_collections, vec![link.clone()]);
    assert_eq!(links.collections.len(), 1);
    let exchange = wire.take_one();
    assert_eq!(exchange.request, json!({"projectId": 30957}));
    let keys: Vec<&String> = exchange.response.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["collections", "contractCollections", "page"]); // sorted by Value
    assert_eq!(exchange.response["collections"][0]["id"], json!(1));

    // UpdateContractCollection.
    let ok = api
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: DEFAULT_PROJECT,
                contract_collection: ContractCollection {
                    collection_id: 2,
                    ..link.clone()
                },
            },
        )
        .await
        .unwrap();
    assert!(ok.ok);
    assert_exchange(
        &wire.take_one(),
        "UpdateContractCollection",
        json!({"projectId": 30957, "contractCollection": {
            "id": link.id, "chainId": 137, "contractAddress": address, "collectionId": 2,
        }}),
        json!({"ok": true}),
    );

    // CreateToken: private absent; the answer writes properties/attributes/queuedAt anyway.
    let token = TokenMetadata {
        token_id: "1".into(),
        name: "Token One".into(),
        image: "https://example.com/1.png".into(),
        ..TokenMetadata::default()
    };
    let created_token = api
        .create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: 1,
                token: token.clone(),
                private: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(created_token.token.status, ResourceStatus::Available);
    assert!(created_token.assets.is_empty());
    let token_json = |status: &str, updated: &str| {
        json!({
            "tokenId": "1", "source": "", "name": "Token One", "description": "",
            "image": "https://example.com/1.png", "properties": {}, "attributes": [],
            "updatedAt": updated, "status": status, "queuedAt": null,
        })
    };
    assert_exchange(
        &wire.take_one(),
        "CreateToken",
        json!({"collectionId": 1, "token": token_json("NOT_AVAILABLE", ZERO)}),
        json!({"token": token_json("AVAILABLE", &now), "assets": []}),
    );

    // CreateAsset for that token.
    let asset = api
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: 1,
                    token_id: Some("1".into()),
                    metadata_field: "image".into(),
                    name: "1.png".into(),
                    filesize: 1024,
                    mime_type: "image/png".into(),
                    width: Some(512),
                    height: Some(512),
                    ..Asset::default()
                },
            },
        )
        .await
        .unwrap()
        .asset;
    let asset_url = format!(
        "https://metadata.sequence.app/projects/30957/collections/1/assets/{}",
        asset.id
    );
    let asset_json = json!({
        "id": asset.id, "collectionId": 1, "tokenId": "1", "url": asset_url,
        "metadataField": "image", "filename": "1.png", "filesize": 1024,
        "mimeType": "image/png", "width": 512, "height": 512, "updatedAt": now,
    });
    assert_exchange(
        &wire.take_one(),
        "CreateAsset",
        json!({"asset": {
            "id": 0, "collectionId": 1, "tokenId": "1", "url": "",
            "metadataField": "image", "filename": "1.png", "filesize": 1024,
            "mimeType": "image/png", "width": 512, "height": 512, "updatedAt": ZERO,
        }}),
        json!({"asset": asset_json}),
    );

    // GetToken: the asset is listed with the token.
    let got_token = api
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: 1,
                token_id: "1".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(got_token.assets, vec![asset.clone()]);
    assert_exchange(
        &wire.take_one(),
        "GetToken",
        json!({"collectionId": 1, "tokenId": "1"}),
        json!({"token": token_json("AVAILABLE", &now), "assets": [asset_json.clone()]}),
    );

    // ListTokens.
    let tokens = api
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: Some(DEFAULT_PROJECT),
                collection_id: 1,
                page: Some(Page::default()),
            },
        )
        .await
        .unwrap();
    assert_eq!(tokens.tokens.len(), 1);
    assert_exchange(
        &wire.take_one(),
        "ListTokens",
        json!({"projectId": 30957, "collectionId": 1, "page": {}}),
        json!({"page": {"pageSize": 30, "more": false}, "tokens": [token_json("AVAILABLE", &now)]}),
    );

    // UpdateToken with private set, and snake_case token keys.
    let new_token = TokenMetadata {
        external_url: "https://example.com/t/1".into(),
        animation_url: "https://example.com/1.mp4".into(),
        status: ResourceStatus::Refreshing,
        ..token.clone()
    };
    let updated_token = api
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: 1,
                token_id: "1".into(),
                token: new_token,
                private: Some(false),
            },
        )
        .await
        .unwrap()
        .token;
    assert_eq!(updated_token.status, ResourceStatus::Refreshing);
    let exchange = wire.take_one();
    assert_eq!(exchange.path, "/rpc/Collections/UpdateToken");
    assert_eq!(exchange.request["private"], json!(false));
    assert_eq!(exchange.request["tokenId"], json!("1"));
    assert_eq!(
        exchange.request["token"]["external_url"],
        "https://example.com/t/1"
    );
    assert_eq!(
        exchange.response["token"]["animation_url"],
        "https://example.com/1.mp4"
    );
    assert_eq!(exchange.response["token"]["status"], "REFRESHING");
    assert_eq!(
        exchange
            .response
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["token"]
    );

    // GetAsset, UpdateAsset.
    let got_asset = api
        .get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id: asset.id,
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(got_asset, asset);
    assert_exchange(
        &wire.take_one(),
        "GetAsset",
        json!({"assetId": asset.id}),
        json!({"asset": asset_json}),
    );
    let updated_asset = api
        .update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: Some(DEFAULT_PROJECT),
                asset: Asset {
                    token_id: None,
                    name: "renamed.png".into(),
                    width: None,
                    height: None,
                    ..asset.clone()
                },
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(updated_asset.name, "renamed.png");
    let exchange = wire.take_one();
    assert_eq!(exchange.request["projectId"], json!(30957));
    // An unset tokenId is written as null; unset width/height are left out.
    assert_eq!(exchange.request["asset"]["tokenId"], Value::Null);
    assert!(exchange.request["asset"].get("width").is_none());
    assert_eq!(exchange.response["asset"]["tokenId"], Value::Null);
    assert_eq!(exchange.response["asset"]["filename"], "renamed.png");

    // The deletes.
    let deleted = api
        .delete_asset(
            ctx(),
            DeleteAssetRequest {
                project_id: None,
                asset_id: asset.id,
            },
        )
        .await
        .unwrap();
    assert!(deleted.status);
    assert_exchange(
        &wire.take_one(),
        "DeleteAsset",
        json!({"assetId": asset.id}),
        json!({"status": true}),
    );

    let deleted = api
        .delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: None,
                collection_id: 1,
                token_id: "1".into(),
            },
        )
        .await
        .unwrap();
    assert!(deleted.status);
    assert_exchange(
        &wire.take_one(),
        "DeleteToken",
        json!({"collectionId": 1, "tokenId": "1"}),
        json!({"status": true}),
    );

    let deleted = api
        .delete_contract_collection(
            ctx(),
            DeleteContractCollectionRequest {
                project_id: DEFAULT_PROJECT,
                chain_id: 137,
                contract_address: address.into(),
            },
        )
        .await
        .unwrap();
    assert!(deleted.ok);
    assert_exchange(
        &wire.take_one(),
        "DeleteContractCollection",
        json!({"projectId": 30957, "chainId": 137, "contractAddress": address}),
        json!({"ok": true}),
    );

    let deleted = api
        .delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: 1,
            },
        )
        .await
        .unwrap();
    assert!(deleted.status);
    assert_exchange(
        &wire.take_one(),
        "DeleteCollection",
        json!({"collectionId": 1}),
        json!({"status": true}),
    );

    // The collection is gone: the store's NotFound reaches the client typed.
    let err = api
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind::<MetadataError>(), Some(MetadataError::NotFound));
    let exchange = wire.take_one();
    assert_eq!(exchange.status, 400);
    assert_eq!(
        exchange.response,
        json!({"error": "NotFound", "code": 3000, "msg": "Resource not found", "cause": "collection 1", "status": 400})
    );
}

fn router() -> webrpc_server::Router {
    mount_collections(Arc::new(Memory::new(clock())), webrpc_server::Router::new())
}

async fn post(router: webrpc_server::Router, method: &str, body: &str) -> (u16, Value) {
    let request = Request::post(format!("/rpc/Collections/{method}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let header = response.headers()["webrpc"].to_str().unwrap().to_owned();
    assert_eq!(header, WEBRPC_HEADER);
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn all_21_methods_are_mounted_at_their_paths() {
    let router = router();
    let mut mounted: Vec<String> = router
        .methods()
        .map(|m| {
            assert_eq!(m.service, "Collections");
            m.path("/rpc/")
        })
        .collect();
    mounted.sort();
    let mut expected: Vec<String> = COLLECTIONS_SERVICE
        .methods
        .iter()
        .map(|m| m.path("/rpc/"))
        .collect();
    expected.sort();
    assert_eq!(mounted.len(), 21);
    assert_eq!(mounted, expected);
    assert_eq!(SCHEMA_NAME, "sequence-metadata");
    assert_eq!(SCHEMA_VERSION, "v0.4.0");
    assert!(WEBRPC_HEADER.ends_with(";sequence-metadata@v0.4.0"));
}

#[tokio::test]
async fn missing_required_argument_is_a_bad_request_naming_it() {
    let cases = [
        (
            "PublishCollection",
            r#"{"projectId":30957}"#,
            "collectionId",
        ),
        ("GetCollection", "{}", "collectionId"),
        ("CreateCollection", r#"{"projectId":1}"#, "collection"),
        (
            "GetContractCollection",
            r#"{"chainId":1,"contractAddress":"0x1"}"#,
            "projectId",
        ),
        ("GetToken", r#"{"collectionId":1}"#, "tokenId"),
        ("DeleteAsset", r#"{"projectId":1}"#, "assetId"),
    ];
    for (method, body, missing) in cases {
        let (status, json) = post(router(), method, body).await;
        assert_eq!(status, 400, "{method}");
        assert_eq!(json["error"], "WebrpcBadRequest");
        assert_eq!(json["code"], -4);
        assert_eq!(json["status"], 400);
        let cause = json["cause"].as_str().unwrap();
        assert!(
            cause.starts_with("failed to unmarshal request data: ") && cause.contains(missing),
            "{method}: {cause}"
        );
    }
    // A required argument sent as null is rejected too.
    let (status, json) = post(
        router(),
        "PublishCollection",
        r#"{"projectId":30957,"collectionId":null}"#,
    )
    .await;
    assert_eq!((status, json["code"].as_i64()), (400, Some(-4)));
}

#[tokio::test]
async fn optional_arguments_accept_null_and_absence() {
    let router = router();
    let (status, json) = post(
        router.clone(),
        "CreateCollection",
        r#"{"projectId":null,"collection":{"metadata":{"name":"N"}}}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["collection"]["projectId"], 30957);
    let (status, json) = post(
        router.clone(),
        "PublishCollection",
        r#"{"projectId":null,"collectionId":1,"recursive":null}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["collection"]["private"], false);
    // No arguments at all: `null`, `{}` and an empty body all list.
    for body in ["null", "{}", ""] {
        let (status, json) = post(router.clone(), "ListCollections", body).await;
        assert_eq!(status, 200, "{body:?}: {json}");
        assert_eq!(json["collections"].as_array().unwrap().len(), 1);
    }
    // Unknown fields are ignored.
    let (status, json) = post(
        router,
        "GetCollection",
        r#"{"projectId":30957,"collectionId":1,"bogus":[1,2]}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["collection"]["id"], 1);
}

#[tokio::test]
async fn responses_from_go_with_null_lists_decode_as_empty() {
    // A Go server answers an empty list with `null` and may leave out a zero page.
    let transport = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        assert_eq!(request.uri().path(), "/rpc/Collections/ListTokens");
        let body = r#"{"page":null,"tokens":null}"#;
        Ok::<_, std::convert::Infallible>(
            http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap(),
        )
    });
    let client = webrpc_client::Client::builder("http://localhost")
        .build_with(transport)
        .unwrap();
    let out = CollectionsClient::new(client)
        .list_tokens(
            Default::default(),
            ListTokensRequest {
                collection_id: 1,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(out, ListTokensResponse::default());
}

#[test]
fn client_futures_are_send() {
    fn is_send<T: Send>(_: &T) {}
    let (api, _wire) = recorded_client(Arc::new(Memory::new(clock())));
    is_send(&api.publish_collection(Default::default(), PublishCollectionRequest::default()));
    is_send(&api.list_contract_collections(Default::default(), Default::default()));
}

#[cfg(feature = "client")]
#[test]
fn network_constructors_validate_the_base_url() {
    assert_eq!(DEFAULT_BASE_URL, "https://metadata.sequence.app");
    CollectionsClient::hosted("jwt").unwrap();
    CollectionsClient::connect("http://127.0.0.1:4242/prefix", "", Some("key")).unwrap();
    let err = CollectionsClient::connect("metadata.sequence.app", "jwt", None).unwrap_err();
    assert!(
        matches!(err, webrpc_client::ConfigError::BaseUrl(_)),
        "{err}"
    );
    let err = CollectionsClient::connect(DEFAULT_BASE_URL, "bad\njwt", None).unwrap_err();
    assert!(
        matches!(err, webrpc_client::ConfigError::HeaderValue(_)),
        "{err}"
    );
}

#[cfg(feature = "client")]
#[tokio::test]
async fn client_builder_sends_the_credentials() {
    let transport = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        let headers = request.headers();
        assert_eq!(headers["authorization"], "Bearer secret.jwt.token");
        assert_eq!(headers["x-access-key"], "project-key");
        assert_eq!(headers["webrpc"], WEBRPC_HEADER);
        assert_eq!(
            request.uri().to_string(),
            "https://metadata.sequence.app/rpc/Collections/DeleteAsset"
        );
        Ok::<_, std::convert::Infallible>(
            http::Response::builder()
                .status(200)
                .body(Full::new(Bytes::from_static(br#"{"status":true}"#)))
                .unwrap(),
        )
    });
    let client = client_builder(DEFAULT_BASE_URL, "secret.jwt.token", Some("project-key"))
        .build_with(transport)
        .unwrap();
    let out = CollectionsClient::new(client)
        .delete_asset(
            Default::default(),
            DeleteAssetRequest {
                project_id: None,
                asset_id: 5,
            },
        )
        .await
        .unwrap();
    assert!(out.status);

    // An empty JWT sends no Authorization header (a local server without auth).
    let transport = tower::service_fn(|request: Request<Full<Bytes>>| async move {
        assert!(request.headers().get("authorization").is_none());
        assert!(request.headers().get("x-access-key").is_none());
        Ok::<_, std::convert::Infallible>(
            http::Response::builder()
                .status(200)
                .body(Full::new(Bytes::from_static(br#"{"status":false}"#)))
                .unwrap(),
        )
    });
    let client = client_builder("http://127.0.0.1:1", "", None)
        .build_with(transport)
        .unwrap();
    let out = CollectionsClient::new(client)
        .delete_asset(Default::default(), DeleteAssetRequest::default())
        .await
        .unwrap();
    assert!(!out.status);
}

#[cfg(feature = "server")]
#[tokio::test]
async fn router_serves_an_implementation() {
    let router = sequence_metadata::router(Arc::new(Memory::new(clock())));
    assert_eq!(router.basepath(), "/rpc/");
    assert_eq!(router.methods().count(), 21);
    let (status, json) = post(
        router.clone(),
        "CreateCollection",
        r#"{"collection":{"metadata":{"name":"N"}}}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let (status, json) = post(router, "PublishCollection", r#"{"collectionId":1}"#).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["collection"]["private"], false);
}
