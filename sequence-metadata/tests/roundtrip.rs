//! Every Collections method called in process through `CollectionsClient` against canned
//! handlers: the JSON each side saw on the wire, the request the handler decoded and the
//! answer the client decoded; plus argument decoding (missing required, `null` optional).

mod common;

use std::sync::Arc;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use sequence_metadata::*;
use serde_json::{json, Value};
use tower::ServiceExt;

use common::{clock, recorded_client, Canned, Exchange, Recording, DEFAULT_PROJECT};

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

type Api = CollectionsClient<webrpc_client::Client<Recording<webrpc_server::Router>>>;

/// A client, the canned service behind it and the wire recording between them.
fn setup() -> (Arc<Canned>, Api, Recording<webrpc_server::Router>) {
    let canned = Canned::new();
    let (api, wire) = recorded_client(Arc::clone(&canned));
    (canned, api, wire)
}

fn ctx<C: Default>() -> C {
    C::default()
}

fn collection_json(id: u64, name: &str, private: bool) -> Value {
    json!({
        "id": id, "projectId": 30957,
        "metadata": {"name": name, "description": "A collection", "properties": {"maxNfts": 1000}},
        "private": private, "tokenCount": 0, "createdAt": NOW, "updatedAt": NOW,
    })
}

const NOW: &str = "2024-10-23T07:10:45.118089Z";
const ADDRESS: &str = "0xabcdef0000000000000000000000000000000001";

fn token_json(status: &str, updated: &str) -> Value {
    json!({
        "tokenId": "1", "source": "", "name": "Token One", "description": "",
        "image": "https://example.com/1.png", "properties": {}, "attributes": [],
        "updatedAt": updated, "status": status, "queuedAt": null,
    })
}

fn token_one() -> TokenMetadata {
    TokenMetadata {
        token_id: "1".into(),
        name: "Token One".into(),
        image: "https://example.com/1.png".into(),
        ..TokenMetadata::default()
    }
}

fn asset_json() -> Value {
    json!({
        "id": 7, "collectionId": 1, "tokenId": "1",
        "url": "https://metadata.sequence.app/projects/30957/collections/1/assets/7",
        "metadataField": "image", "filename": "1.png", "filesize": 1024,
        "mimeType": "image/png", "width": 512, "height": 512, "updatedAt": NOW,
    })
}

#[tokio::test]
async fn create_collection_leaves_out_an_absent_project_and_decodes_the_collection() {
    let (canned, api, wire) = setup();
    let answer = json!({"collection": collection_json(1, "Sandbox", true)});
    canned.answer("CreateCollection", answer.clone());
    let request = CreateCollectionRequest {
        project_id: None,
        collection: Collection {
            metadata: Some(metadata("Sandbox")),
            ..Collection::default()
        },
    };
    let created = api
        .create_collection(ctx(), request.clone())
        .await
        .unwrap()
        .collection;
    assert_eq!((created.id, created.project_id), (1, DEFAULT_PROJECT));
    assert!(created.private);
    assert_eq!(created.token_count, Some(0));
    assert_eq!(created.created_at, clock());
    assert_eq!(
        canned.received::<CreateCollectionRequest>("CreateCollection"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "CreateCollection",
        json!({"collection": {
            "metadata": {"name": "Sandbox", "description": "A collection", "properties": {"maxNfts": 1000}},
            "private": false, "createdAt": ZERO, "updatedAt": ZERO,
        }}),
        answer,
    );
}

#[tokio::test]
async fn get_collection_sends_a_given_project() {
    let (canned, api, wire) = setup();
    let answer = json!({"collection": collection_json(1, "Sandbox", true)});
    canned.answer("GetCollection", answer.clone());
    let request = GetCollectionRequest {
        project_id: Some(DEFAULT_PROJECT),
        collection_id: 1,
    };
    let got = api.get_collection(ctx(), request.clone()).await.unwrap();
    assert_eq!(got.collection.metadata.unwrap().name, "Sandbox");
    assert_eq!(
        canned.received::<GetCollectionRequest>("GetCollection"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "GetCollection",
        json!({"projectId": 30957, "collectionId": 1}),
        answer,
    );
}

#[tokio::test]
async fn list_collections_sends_no_arguments_as_an_empty_object_and_a_page_when_given() {
    let (canned, api, wire) = setup();
    let first = json!({"page": {"pageSize": 30, "more": false},
        "collections": [collection_json(1, "Sandbox", true)]});
    canned.answer("ListCollections", first.clone());
    let listed = api
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(listed.collections.len(), 1);
    assert_eq!(listed.page.more, Some(false));
    assert_eq!(
        canned.received::<ListCollectionsRequest>("ListCollections"),
        ListCollectionsRequest::default()
    );
    assert_exchange(&wire.take_one(), "ListCollections", json!({}), first);

    let second = json!({"page": {"page": 1, "after": 1, "pageSize": 1, "more": true},
        "collections": [collection_json(1, "Sandbox", true)]});
    canned.answer("ListCollections", second.clone());
    let request = ListCollectionsRequest {
        project_id: None,
        page: Some(Page {
            page: Some(1),
            page_size: Some(1),
            ..Page::default()
        }),
    };
    let listed = api.list_collections(ctx(), request.clone()).await.unwrap();
    assert_eq!(listed.page.more, Some(true));
    assert_eq!(listed.page.after, Some(json!(1)));
    assert_eq!(
        canned.received::<ListCollectionsRequest>("ListCollections"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "ListCollections",
        json!({"page": {"page": 1, "pageSize": 1}}),
        second,
    );
}

#[tokio::test]
async fn update_collection_sends_snake_case_metadata_keys_and_the_reveal_key() {
    let (canned, api, wire) = setup();
    let mut answer = json!({"collection": collection_json(1, "Sandbox Modified", true)});
    answer["collection"]["metadata"]["external_link"] = json!("https://example.com");
    canned.answer("UpdateCollection", answer.clone());
    let request = UpdateCollectionRequest {
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
    };
    let updated = api.update_collection(ctx(), request.clone()).await.unwrap();
    assert_eq!(
        updated.collection.metadata.unwrap().external_link,
        "https://example.com"
    );
    assert_eq!(
        canned.received::<UpdateCollectionRequest>("UpdateCollection"),
        request
    );
    let exchange = wire.take_one();
    assert_eq!(
        exchange.request["collection"]["metadata"]["external_link"],
        "https://example.com"
    );
    assert_eq!(exchange.request["collection"]["revealKey"], "k");
    assert_eq!(exchange.request["collection"]["id"], 1);
    assert_exchange(
        &exchange,
        "UpdateCollection",
        exchange.request.clone(),
        answer,
    );
}

#[tokio::test]
async fn publish_and_unpublish_carry_recursive_and_base_uris_only_when_set() {
    let (canned, api, wire) = setup();
    let mut published = json!({"collection": collection_json(1, "Sandbox", false)});
    published["collection"]["baseURIs"] = json!({
        "contractMetadataURI": "https://metadata.sequence.app/projects/30957/collections/1.json",
        "tokenMetadataURI": "https://metadata.sequence.app/projects/30957/collections/1/tokens/",
    });
    canned.answer("PublishCollection", published.clone());
    let request = PublishCollectionRequest {
        project_id: Some(DEFAULT_PROJECT),
        collection_id: 1,
        recursive: Some(true),
    };
    let got = api
        .publish_collection(ctx(), request.clone())
        .await
        .unwrap()
        .collection;
    assert!(!got.private);
    assert_eq!(
        got.base_uris.unwrap().token_metadata_uri,
        "https://metadata.sequence.app/projects/30957/collections/1/tokens/"
    );
    assert_eq!(
        canned.received::<PublishCollectionRequest>("PublishCollection"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "PublishCollection",
        json!({"projectId": 30957, "collectionId": 1, "recursive": true}),
        published,
    );

    let unpublished = json!({"collection": collection_json(1, "Sandbox", true)});
    canned.answer("UnpublishCollection", unpublished.clone());
    let got = api
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
    assert!(got.private && got.base_uris.is_none());
    let exchange = wire.take_one();
    assert!(exchange.response["collection"].get("baseURIs").is_none());
    assert_exchange(
        &exchange,
        "UnpublishCollection",
        json!({"collectionId": 1}),
        unpublished,
    );
}

#[tokio::test]
async fn contract_collection_calls_always_send_the_project() {
    let (canned, api, wire) = setup();
    let link = json!({"id": 3, "chainId": 137, "contractAddress": ADDRESS, "collectionId": 1});
    canned.answer(
        "CreateContractCollection",
        json!({"contractCollection": link}),
    );
    let request = CreateContractCollectionRequest {
        project_id: DEFAULT_PROJECT,
        contract_collection: ContractCollection {
            chain_id: 137,
            contract_address: "0xABCDEF0000000000000000000000000000000001".into(),
            collection_id: 1,
            ..ContractCollection::default()
        },
    };
    let created = api
        .create_contract_collection(ctx(), request.clone())
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(
        (created.id, created.contract_address.as_str()),
        (3, ADDRESS)
    );
    assert_eq!(
        canned.received::<CreateContractCollectionRequest>("CreateContractCollection"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "CreateContractCollection",
        json!({"projectId": 30957, "contractCollection": {
            "chainId": 137, "contractAddress": "0xABCDEF0000000000000000000000000000000001", "collectionId": 1,
        }}),
        json!({"contractCollection": link}),
    );

    canned.answer("GetContractCollection", json!({"contractCollection": link}));
    api.get_contract_collection(
        ctx(),
        GetContractCollectionRequest {
            project_id: DEFAULT_PROJECT,
            chain_id: 137,
            contract_address: ADDRESS.into(),
        },
    )
    .await
    .unwrap();
    assert_exchange(
        &wire.take_one(),
        "GetContractCollection",
        json!({"projectId": 30957, "chainId": 137, "contractAddress": ADDRESS}),
        json!({"contractCollection": link}),
    );

    let updated = json!({"id": 3, "chainId": 137, "contractAddress": ADDRESS, "collectionId": 2});
    canned.answer("UpdateContractCollection", json!({"ok": true}));
    let ok = api
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: DEFAULT_PROJECT,
                contract_collection: ContractCollection {
                    collection_id: 2,
                    ..created.clone()
                },
            },
        )
        .await
        .unwrap();
    assert!(ok.ok);
    assert_exchange(
        &wire.take_one(),
        "UpdateContractCollection",
        json!({"projectId": 30957, "contractCollection": updated}),
        json!({"ok": true}),
    );

    canned.answer("DeleteContractCollection", json!({"ok": true}));
    let deleted = api
        .delete_contract_collection(
            ctx(),
            DeleteContractCollectionRequest {
                project_id: DEFAULT_PROJECT,
                chain_id: 137,
                contract_address: ADDRESS.into(),
            },
        )
        .await
        .unwrap();
    assert!(deleted.ok);
    assert_exchange(
        &wire.take_one(),
        "DeleteContractCollection",
        json!({"projectId": 30957, "chainId": 137, "contractAddress": ADDRESS}),
        json!({"ok": true}),
    );
}

#[tokio::test]
async fn list_contract_collections_leaves_out_absent_filters_and_decodes_all_three_lists() {
    let (canned, api, wire) = setup();
    let link = json!({"id": 3, "chainId": 137, "contractAddress": ADDRESS, "collectionId": 1});
    let answer = json!({
        "collections": [collection_json(1, "Sandbox", true)],
        "contractCollections": [link],
        "page": {"pageSize": 30, "more": false},
    });
    canned.answer("ListContractCollections", answer.clone());
    let request = ListContractCollectionsRequest {
        project_id: DEFAULT_PROJECT,
        collection_id: None,
        page: None,
    };
    let links = api
        .list_contract_collections(ctx(), request.clone())
        .await
        .unwrap();
    assert_eq!(links.contract_collections.len(), 1);
    assert_eq!(links.collections.len(), 1);
    assert_eq!(
        canned.received::<ListContractCollectionsRequest>("ListContractCollections"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "ListContractCollections",
        json!({"projectId": 30957}),
        answer,
    );
}

#[tokio::test]
async fn create_token_writes_server_owned_fields_and_decodes_an_empty_asset_list() {
    let (canned, api, wire) = setup();
    let answer = json!({"token": token_json("AVAILABLE", NOW), "assets": []});
    canned.answer("CreateToken", answer.clone());
    let request = CreateTokenRequest {
        project_id: None,
        collection_id: 1,
        token: token_one(),
        private: None,
    };
    let created = api.create_token(ctx(), request.clone()).await.unwrap();
    assert_eq!(created.token.status, ResourceStatus::Available);
    assert!(created.assets.is_empty());
    assert_eq!(
        canned.received::<CreateTokenRequest>("CreateToken"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "CreateToken",
        json!({"collectionId": 1, "token": token_json("NOT_AVAILABLE", ZERO)}),
        answer,
    );
}

#[tokio::test]
async fn get_and_list_tokens_decode_tokens_with_their_assets() {
    let (canned, api, wire) = setup();
    let answer = json!({"token": token_json("AVAILABLE", NOW), "assets": [asset_json()]});
    canned.answer("GetToken", answer.clone());
    let got = api
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
    assert_eq!(got.assets.len(), 1);
    assert_eq!(got.assets[0].token_id.as_deref(), Some("1"));
    assert_exchange(
        &wire.take_one(),
        "GetToken",
        json!({"collectionId": 1, "tokenId": "1"}),
        answer,
    );

    let answer =
        json!({"page": {"pageSize": 30, "more": false}, "tokens": [token_json("AVAILABLE", NOW)]});
    canned.answer("ListTokens", answer.clone());
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
        answer,
    );
}

#[tokio::test]
async fn update_token_sends_private_and_snake_case_token_keys() {
    let (canned, api, wire) = setup();
    let mut token = token_json("REFRESHING", NOW);
    token["external_url"] = json!("https://example.com/t/1");
    token["animation_url"] = json!("https://example.com/1.mp4");
    canned.answer("UpdateToken", json!({"token": token}));
    let request = UpdateTokenRequest {
        project_id: None,
        collection_id: 1,
        token_id: "1".into(),
        token: TokenMetadata {
            external_url: "https://example.com/t/1".into(),
            animation_url: "https://example.com/1.mp4".into(),
            status: ResourceStatus::Refreshing,
            ..token_one()
        },
        private: Some(false),
    };
    let updated = api
        .update_token(ctx(), request.clone())
        .await
        .unwrap()
        .token;
    assert_eq!(updated.status, ResourceStatus::Refreshing);
    assert_eq!(updated.animation_url, "https://example.com/1.mp4");
    assert_eq!(
        canned.received::<UpdateTokenRequest>("UpdateToken"),
        request
    );
    let exchange = wire.take_one();
    assert_eq!(exchange.request["private"], json!(false));
    assert_eq!(exchange.request["tokenId"], json!("1"));
    assert_eq!(
        exchange.request["token"]["external_url"],
        "https://example.com/t/1"
    );
    assert_exchange(
        &exchange,
        "UpdateToken",
        exchange.request.clone(),
        json!({"token": token}),
    );
}

#[tokio::test]
async fn asset_calls_write_an_unset_token_id_as_null_and_leave_out_unset_sizes() {
    let (canned, api, wire) = setup();
    canned.answer("CreateAsset", json!({"asset": asset_json()}));
    let request = CreateAssetRequest {
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
    };
    let asset = api
        .create_asset(ctx(), request.clone())
        .await
        .unwrap()
        .asset;
    assert_eq!((asset.id, asset.width), (7, Some(512)));
    assert_eq!(
        canned.received::<CreateAssetRequest>("CreateAsset"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "CreateAsset",
        json!({"asset": {
            "id": 0, "collectionId": 1, "tokenId": "1", "url": "",
            "metadataField": "image", "filename": "1.png", "filesize": 1024,
            "mimeType": "image/png", "width": 512, "height": 512, "updatedAt": ZERO,
        }}),
        json!({"asset": asset_json()}),
    );

    canned.answer("GetAsset", json!({"asset": asset_json()}));
    let got = api
        .get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id: 7,
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(got, asset);
    assert_exchange(
        &wire.take_one(),
        "GetAsset",
        json!({"assetId": 7}),
        json!({"asset": asset_json()}),
    );

    let mut renamed = asset_json();
    renamed["tokenId"] = Value::Null;
    renamed["filename"] = json!("renamed.png");
    renamed.as_object_mut().unwrap().remove("width");
    renamed.as_object_mut().unwrap().remove("height");
    canned.answer("UpdateAsset", json!({"asset": renamed}));
    let updated = api
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
    assert_eq!((updated.token_id, updated.width), (None, None));
    let exchange = wire.take_one();
    assert_eq!(exchange.request["projectId"], json!(30957));
    assert_eq!(exchange.request["asset"]["tokenId"], Value::Null);
    assert!(exchange.request["asset"].get("width").is_none());
    assert_eq!(exchange.response, json!({"asset": renamed}));
}

#[tokio::test]
async fn deletes_send_their_keys_and_decode_the_status() {
    let (canned, api, wire) = setup();
    canned.answer("DeleteAsset", json!({"status": true}));
    assert!(
        api.delete_asset(
            ctx(),
            DeleteAssetRequest {
                project_id: None,
                asset_id: 7,
            },
        )
        .await
        .unwrap()
        .status
    );
    assert_eq!(
        canned
            .received::<DeleteAssetRequest>("DeleteAsset")
            .asset_id,
        7
    );
    assert_exchange(
        &wire.take_one(),
        "DeleteAsset",
        json!({"assetId": 7}),
        json!({"status": true}),
    );
    canned.answer("DeleteToken", json!({"status": true}));
    let request = DeleteTokenRequest {
        project_id: None,
        collection_id: 1,
        token_id: "1".into(),
    };
    assert!(
        api.delete_token(ctx(), request.clone())
            .await
            .unwrap()
            .status
    );
    assert_eq!(
        canned.received::<DeleteTokenRequest>("DeleteToken"),
        request
    );
    assert_exchange(
        &wire.take_one(),
        "DeleteToken",
        json!({"collectionId": 1, "tokenId": "1"}),
        json!({"status": true}),
    );
    canned.answer("DeleteCollection", json!({"status": false}));
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
    assert!(!deleted.status);
    assert_exchange(
        &wire.take_one(),
        "DeleteCollection",
        json!({"collectionId": 1}),
        json!({"status": false}),
    );
}

#[tokio::test]
async fn a_handler_s_not_found_reaches_the_client_typed_with_its_cause() {
    let (canned, api, wire) = setup();
    canned.fail(
        "GetCollection",
        MetadataError::NotFound.with_cause("collection 1"),
    );
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
    mount_collections(Canned::new(), webrpc_server::Router::new())
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
    let canned = Canned::new();
    let router = mount_collections(Arc::clone(&canned), webrpc_server::Router::new());
    let (status, json) = post(
        router.clone(),
        "CreateCollection",
        r#"{"projectId":null,"collection":{"metadata":{"name":"N"}}}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    let create = canned.received::<CreateCollectionRequest>("CreateCollection");
    assert_eq!(create.project_id, None);
    assert_eq!(create.collection.metadata.unwrap().name, "N");
    let (status, json) = post(
        router.clone(),
        "PublishCollection",
        r#"{"projectId":null,"collectionId":1,"recursive":null}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        canned.received::<PublishCollectionRequest>("PublishCollection"),
        PublishCollectionRequest {
            project_id: None,
            collection_id: 1,
            recursive: None,
        }
    );
    // No arguments at all: `null`, `{}` and an empty body all list.
    for body in ["null", "{}", ""] {
        let (status, json) = post(router.clone(), "ListCollections", body).await;
        assert_eq!(status, 200, "{body:?}: {json}");
        assert_eq!(
            canned.received::<ListCollectionsRequest>("ListCollections"),
            ListCollectionsRequest::default()
        );
    }
    // Unknown fields are ignored.
    let (status, json) = post(
        router,
        "GetCollection",
        r#"{"projectId":30957,"collectionId":1,"bogus":[1,2]}"#,
    )
    .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(
        canned.received::<GetCollectionRequest>("GetCollection"),
        GetCollectionRequest {
            project_id: Some(30957),
            collection_id: 1,
        }
    );
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
    let (api, _wire) = recorded_client(Canned::new());
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
    let router = sequence_metadata::router(Canned::new());
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
