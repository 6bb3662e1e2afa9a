//! The 21 `Collections` methods of the local Metadata server, happy paths and error paths,
//! each test run against every store (`<test>::memory`, `::sqlite`, `::postgres`), in
//! process through the whole app (auth layer, webrpc router, service, store).
//!
//! ```text
//! cargo test -p metadata-server --test metadata_service
//! ```

mod metadata_common;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use metadata_common::*;
use sequence_metadata::*;
use serde_json::json;

use metadata_server::Store;

/// An empty call context: the client's `CallOptions::new()` (nothing but the client's own
/// headers is sent), or an empty `RequestContext` for a service called in process.
fn ctx<C: Default>() -> C {
    C::default()
}

fn page(page: u32, size: u32) -> Option<Page> {
    Some(Page {
        page: Some(page),
        page_size: Some(size),
        ..Page::default()
    })
}

fn token_meta(id: &str, name: &str) -> TokenMetadata {
    TokenMetadata {
        token_id: id.to_owned(),
        name: name.to_owned(),
        description: format!("{name} description"),
        image: format!("https://img.test/{id}.png"),
        ..TokenMetadata::default()
    }
}

async fn create_token<C: Collections>(
    client: &C,
    collection_id: u64,
    id: &str,
    private: Option<bool>,
) -> Result<TokenMetadata, WebrpcError> {
    client
        .create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id,
                token: token_meta(id, &format!("token {id}")),
                private,
            },
        )
        .await
        .map(|r| r.token)
}

async fn update_collection<C: Collections>(
    client: &C,
    collection: Collection,
) -> Result<Collection, WebrpcError> {
    client
        .update_collection(
            ctx(),
            UpdateCollectionRequest {
                project_id: None,
                collection,
            },
        )
        .await
        .map(|r| r.collection)
}

async fn delete_collection<C: Collections>(client: &C, id: u64) -> Result<bool, WebrpcError> {
    client
        .delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: id,
            },
        )
        .await
        .map(|r| r.status)
}

async fn listed_collection_ids<C: Collections>(client: &C) -> Vec<u64> {
    client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap()
        .collections
        .iter()
        .map(|c| c.id)
        .collect()
}

async fn publish<C: Collections>(
    client: &C,
    id: u64,
    recursive: Option<bool>,
) -> Result<Collection, WebrpcError> {
    client
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: id,
                recursive,
            },
        )
        .await
        .map(|r| r.collection)
}

async fn unpublish<C: Collections>(client: &C, id: u64) -> Result<Collection, WebrpcError> {
    client
        .unpublish_collection(
            ctx(),
            UnpublishCollectionRequest {
                project_id: None,
                collection_id: id,
            },
        )
        .await
        .map(|r| r.collection)
}

async fn get_token<C: Collections>(
    client: &C,
    collection_id: u64,
    token_id: &str,
) -> Result<GetTokenResponse, WebrpcError> {
    client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id,
                token_id: token_id.into(),
            },
        )
        .await
}

async fn update_token<C: Collections>(
    client: &C,
    collection_id: u64,
    token_id: &str,
    token: TokenMetadata,
    private: Option<bool>,
) -> Result<TokenMetadata, WebrpcError> {
    client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id,
                token_id: token_id.into(),
                token,
                private,
            },
        )
        .await
        .map(|r| r.token)
}

async fn delete_token<C: Collections>(
    client: &C,
    collection_id: u64,
    token_id: &str,
) -> Result<bool, WebrpcError> {
    client
        .delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: None,
                collection_id,
                token_id: token_id.into(),
            },
        )
        .await
        .map(|r| r.status)
}

async fn list_tokens<C: Collections>(
    client: &C,
    collection_id: u64,
) -> Result<ListTokensResponse, WebrpcError> {
    client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id,
                page: None,
            },
        )
        .await
}

// ---------------------------------------------------------------- collections

/// `created` with new metadata and a reveal key, and `private: false` (which an update
/// ignores: only Publish/Unpublish change it).
fn changed(created: &Collection) -> Collection {
    let mut changed = created.clone();
    changed.metadata = Some(CollectionMetadata {
        name: "Renamed".into(),
        description: "new".into(),
        image: "https://img.test/c.png".into(),
        external_link: "https://example.test".into(),
        properties: json!({"maxNfts": 1000}).as_object().unwrap().clone(),
        attributes: vec![],
    });
    changed.reveal_key = "secret-reveal".into();
    changed.private = false;
    changed
}

async fn a_created_collection_is_private_numbered_from_one_and_in_the_token_s_project<S: Store>(
    h: &Harness<S>,
) {
    let client = h.client(7);
    let created = create_collection(&client, "First").await;
    assert_eq!(created.id, 1);
    assert_eq!(created.project_id, 7, "projectId comes from the token");
    assert!(created.private, "collections are created private");
    assert_eq!(created.metadata, Some(metadata("First")));
    assert_eq!(created.token_count, Some(0));
    assert!(!created.created_at.is_zero());
    assert_eq!(created.created_at, created.updated_at);
    assert_eq!(created.deleted_at, None);
    let uris = created.base_uris.clone().expect("baseURIs");
    assert_eq!(
        uris.contract_metadata_uri,
        "http://metadata.test/projects/7/collections/1.json"
    );
    assert_eq!(
        uris.token_metadata_uri,
        "http://metadata.test/projects/7/collections/1/tokens/"
    );
}
both_stores!(a_created_collection_is_private_numbered_from_one_and_in_the_token_s_project);

async fn get_collection_returns_the_collection_as_created<S: Store>(h: &Harness<S>) {
    let client = h.client(7);
    let created = create_collection(&client, "First").await;
    let got = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: Some(7),
                collection_id: 1,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(got, created);
}
both_stores!(get_collection_returns_the_collection_as_created);

async fn update_collection_changes_metadata_and_reveal_key_but_not_privacy_or_creation<S: Store>(
    h: &Harness<S>,
) {
    let client = h.client(7);
    let created = create_collection(&client, "First").await;
    let changed = changed(&created);
    let updated = update_collection(&client, changed.clone()).await.unwrap();
    assert_eq!(updated.metadata, changed.metadata);
    assert_eq!(updated.reveal_key, "secret-reveal");
    assert!(updated.private);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);
}
both_stores!(update_collection_changes_metadata_and_reveal_key_but_not_privacy_or_creation);

async fn list_collections_lists_them_current_in_id_order_on_a_default_page_of_30<S: Store>(
    h: &Harness<S>,
) {
    let client = h.client(7);
    let created = create_collection(&client, "First").await;
    let updated = update_collection(&client, changed(&created)).await.unwrap();
    let second = create_collection(&client, "Second").await;
    assert_eq!(second.id, 2);
    let listed = client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.collections.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(listed.collections[0], updated);
    assert_eq!(listed.page.page_size, Some(30));
    assert_eq!(listed.page.more, Some(false));
}
both_stores!(list_collections_lists_them_current_in_id_order_on_a_default_page_of_30);

async fn a_deleted_collection_is_not_found_by_get_delete_or_update_and_leaves_the_list<S: Store>(
    h: &Harness<S>,
) {
    let client = h.client(7);
    let first = create_collection(&client, "First").await;
    create_collection(&client, "Second").await;
    assert!(delete_collection(&client, 1).await.unwrap());
    let err = get_collection(&client, 1).await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        "collection 1 not found"
    );
    let err = delete_collection(&client, 1).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = update_collection(&client, changed(&first))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    assert_eq!(listed_collection_ids(&client).await, vec![2]);
}
both_stores!(a_deleted_collection_is_not_found_by_get_delete_or_update_and_leaves_the_list);

async fn rows_updated_in_place_stay_listed_and_found_until_deleted<S: Store>(h: &Harness<S>) {
    // Updates that keep a row live under the same key leave the memory store's indexes as
    // they are; a later delete must still take the row out of them.
    let client = h.client(7);
    let first = create_collection(&client, "First").await;
    create_collection(&client, "Second").await;
    let updated = update_collection(&client, changed(&first)).await.unwrap();
    update_collection(&client, changed(&updated)).await.unwrap();
    publish(&client, 1, None).await.unwrap();
    publish(&client, 1, None).await.unwrap();
    assert_eq!(listed_collection_ids(&client).await, vec![1, 2]);
    create_token(&client, 1, "5", None).await.unwrap();
    update_token(&client, 1, "5", token_meta("5", "renamed"), None)
        .await
        .unwrap();
    update_token(&client, 1, "5", token_meta("5", "again"), Some(false))
        .await
        .unwrap();
    assert_eq!(
        get_token(&client, 1, "5").await.unwrap().token.name,
        "again"
    );
    assert!(delete_collection(&client, 1).await.unwrap());
    assert_eq!(listed_collection_ids(&client).await, vec![2]);
    assert_kind(
        &get_collection(&client, 1).await.unwrap_err(),
        MetadataError::NotFound,
    );
}
both_stores!(rows_updated_in_place_stay_listed_and_found_until_deleted);

async fn collection_ids_are_never_reused_after_a_delete<S: Store>(h: &Harness<S>) {
    let client = h.client(7);
    create_collection(&client, "First").await;
    create_collection(&client, "Second").await;
    assert!(delete_collection(&client, 1).await.unwrap());
    let third = create_collection(&client, "Third").await;
    assert_eq!(third.id, 3, "ids are never reused");
}
both_stores!(collection_ids_are_never_reused_after_a_delete);

async fn collection_validation<S: Store>(h: &Harness<S>) {
    let client = h.client(1);
    let blank = Collection {
        metadata: Some(CollectionMetadata {
            name: "  ".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let err = client
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: blank,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::ValidationFailed),
        "collection.metadata.name must not be empty"
    );
    let err = client
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection::default(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::RequiredArgument),
        "collection.metadata is required"
    );
    let other_project = Collection {
        project_id: 2,
        metadata: Some(metadata("x")),
        ..Default::default()
    };
    let err = client
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: other_project,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::PermissionDenied);

    let no_id = Collection {
        metadata: Some(metadata("x")),
        ..Default::default()
    };
    let err = client
        .update_collection(
            ctx(),
            UpdateCollectionRequest {
                project_id: None,
                collection: no_id,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::RequiredArgument),
        "collection.id is required"
    );

    // A missing required argument never reaches the service.
    let request = Request::post("/rpc/Collections/GetCollection")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", token(1)))
        .body(Full::new(Bytes::from_static(b"{\"projectId\":1}")))
        .unwrap();
    let (status, _, body) = h.http(request).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.contains("WebrpcBadRequest") && body.contains("collectionId"),
        "{body}"
    );
}

both_stores!(collection_validation_, collection_validation);

async fn pagination<S: Store>(h: &Harness<S>) {
    let client = h.client(1);
    for i in 1..=5 {
        create_collection(&client, &format!("c{i}")).await;
    }
    let mut seen = Vec::new();
    for (n, more) in [(1, true), (2, true), (3, false)] {
        let listed = client
            .list_collections(
                ctx(),
                ListCollectionsRequest {
                    project_id: None,
                    page: page(n, 2),
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.page.page, Some(n));
        assert_eq!(listed.page.page_size, Some(2));
        assert_eq!(listed.page.more, Some(more), "page {n}");
        seen.extend(listed.collections.iter().map(|c| c.id));
    }
    assert_eq!(seen, vec![1, 2, 3, 4, 5]);
    let beyond = client
        .list_collections(
            ctx(),
            ListCollectionsRequest {
                project_id: None,
                page: page(9, 2),
            },
        )
        .await
        .unwrap();
    assert!(beyond.collections.is_empty());
    assert_eq!(beyond.page.more, Some(false));
    let capped = client
        .list_collections(
            ctx(),
            ListCollectionsRequest {
                project_id: None,
                page: page(1, 5000),
            },
        )
        .await
        .unwrap();
    assert_eq!(capped.page.page_size, Some(100));
    assert_eq!(capped.collections.len(), 5);

    // Tokens paginate the same way.
    for i in 0..7 {
        create_token(&client, 1, &i.to_string(), None)
            .await
            .unwrap();
    }
    let first = client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id: 1,
                page: page(1, 3),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        first
            .tokens
            .iter()
            .map(|t| t.token_id.as_str())
            .collect::<Vec<_>>(),
        ["0", "1", "2"]
    );
    assert_eq!(first.page.more, Some(true));
    let last = client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id: 1,
                page: page(3, 3),
            },
        )
        .await
        .unwrap();
    assert_eq!(last.tokens.len(), 1);
    assert_eq!(last.page.more, Some(false));
    let exact = client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id: 1,
                page: page(1, 7),
            },
        )
        .await
        .unwrap();
    assert_eq!(exact.tokens.len(), 7);
    assert_eq!(
        exact.page.more,
        Some(false),
        "no more when the page ends exactly"
    );
}
both_stores!(pagination_, pagination);

// ---------------------------------------------------------------- publish and public routes

/// The path of token `t`'s public document in collection `id` of project 5.
fn token_path(id: u64, t: &str) -> String {
    format!("/projects/5/collections/{id}/tokens/{t}")
}

/// Project 5's private collection "Gallery" and the path of its public document.
async fn gallery<S: Store>(h: &Harness<S>) -> (TestClient<S>, Collection, String) {
    let client = h.client(5);
    let collection = create_collection(&client, "Gallery").await;
    let contract_path = format!("/projects/5/collections/{}.json", collection.id);
    (client, collection, contract_path)
}

async fn a_private_collection_s_public_document_is_404_not_found<S: Store>(h: &Harness<S>) {
    let (_client, _collection, contract_path) = gallery(h).await;
    let (status, body) = h.get(&contract_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "NotFound");
    assert_eq!(body["status"], 404);
}
both_stores!(a_private_collection_s_public_document_is_404_not_found);

async fn publishing_without_recursion_serves_the_collection_but_not_its_private_tokens<S: Store>(
    h: &Harness<S>,
) {
    let (client, collection, contract_path) = gallery(h).await;
    let id = collection.id;
    let early = create_token(&client, id, "1", None).await.unwrap();
    assert_eq!(early.status, ResourceStatus::Available);
    let hidden = create_token(&client, id, "2", Some(true)).await.unwrap();
    assert_eq!(hidden.token_id, "2");

    let published = publish(&client, id, None).await.unwrap();
    assert!(!published.private);
    assert!(published.updated_at > collection.updated_at);
    assert_eq!(
        published.base_uris.as_ref().unwrap().contract_metadata_uri,
        format!("http://metadata.test{contract_path}")
    );
    let (status, body) = h.get(&contract_path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"name": "Gallery", "description": "Gallery description"})
    );
    assert_eq!(h.get(&token_path(id, "1")).await.0, StatusCode::NOT_FOUND);
}
both_stores!(publishing_without_recursion_serves_the_collection_but_not_its_private_tokens);

async fn a_token_created_in_a_published_collection_is_public<S: Store>(h: &Harness<S>) {
    let (client, collection, _) = gallery(h).await;
    let id = collection.id;
    publish(&client, id, None).await.unwrap();
    create_token(&client, id, "3", None).await.unwrap();
    let (status, body) = h.get(&token_path(id, "3")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "tokenId": "3",
            "name": "token 3",
            "description": "token 3 description",
            "image": "https://img.test/3.png",
            "attributes": [],
            "properties": {}
        })
    );
}
both_stores!(a_token_created_in_a_published_collection_is_public);

async fn a_recursive_publish_serves_every_token_at_its_canonical_url_only<S: Store>(
    h: &Harness<S>,
) {
    let (client, collection, _) = gallery(h).await;
    let id = collection.id;
    create_token(&client, id, "1", None).await.unwrap();
    create_token(&client, id, "2", Some(true)).await.unwrap();
    publish(&client, id, None).await.unwrap();
    create_token(&client, id, "3", None).await.unwrap();
    publish(&client, id, Some(true)).await.unwrap();
    for t in ["1", "2", "3", "2.json"] {
        assert_eq!(
            h.get(&token_path(id, t)).await.0,
            StatusCode::OK,
            "token {t}"
        );
    }
    // Canonical ids only: one URL per document.
    for t in ["99", "0001.json", "01"] {
        assert_eq!(
            h.get(&token_path(id, t)).await.0,
            StatusCode::NOT_FOUND,
            "token {t}"
        );
    }
}
both_stores!(a_recursive_publish_serves_every_token_at_its_canonical_url_only);

async fn rich_token_metadata_is_served_in_erc721_and_erc1155_shape<S: Store>(h: &Harness<S>) {
    let (client, collection, _) = gallery(h).await;
    let id = collection.id;
    publish(&client, id, Some(true)).await.unwrap();
    let rich = TokenMetadata {
        token_id: "10".into(),
        name: "Sword".into(),
        description: "Sharp".into(),
        image: "https://img.test/sword.png".into(),
        animation_url: "https://img.test/sword.mp4".into(),
        external_url: "https://game.test/sword".into(),
        decimals: Some(0),
        attributes: vec![json!({"trait_type": "power", "value": 9})
            .as_object()
            .unwrap()
            .clone()],
        properties: json!({"rarity": "epic"}).as_object().unwrap().clone(),
        ..TokenMetadata::default()
    };
    client
        .create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: id,
                token: rich,
                private: None,
            },
        )
        .await
        .unwrap();
    let (status, body) = h.get(&token_path(id, "10")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "tokenId": "10",
            "name": "Sword",
            "description": "Sharp",
            "image": "https://img.test/sword.png",
            "external_url": "https://game.test/sword",
            "animation_url": "https://img.test/sword.mp4",
            "decimals": 0,
            "attributes": [{"trait_type": "power", "value": 9}],
            "properties": {"rarity": "epic"}
        })
    );
}
both_stores!(rich_token_metadata_is_served_in_erc721_and_erc1155_shape);

async fn a_private_or_deleted_token_and_another_project_s_url_are_404<S: Store>(h: &Harness<S>) {
    let (client, collection, _) = gallery(h).await;
    let id = collection.id;
    create_token(&client, id, "2", None).await.unwrap();
    create_token(&client, id, "3", None).await.unwrap();
    publish(&client, id, Some(true)).await.unwrap();
    assert_eq!(h.get(&token_path(id, "2")).await.0, StatusCode::OK);
    assert_eq!(h.get(&token_path(id, "3")).await.0, StatusCode::OK);

    update_token(
        &client,
        id,
        "2",
        token_meta("2", "hidden again"),
        Some(true),
    )
    .await
    .unwrap();
    assert_eq!(h.get(&token_path(id, "2")).await.0, StatusCode::NOT_FOUND);
    delete_token(&client, id, "3").await.unwrap();
    assert_eq!(h.get(&token_path(id, "3")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get(&format!("/projects/6/collections/{id}.json")).await.0,
        StatusCode::NOT_FOUND
    );
}
both_stores!(a_private_or_deleted_token_and_another_project_s_url_are_404);

async fn head_is_get_without_a_body_and_other_methods_are_405<S: Store>(h: &Harness<S>) {
    let (client, collection, contract_path) = gallery(h).await;
    publish(&client, collection.id, None).await.unwrap();
    let head = Request::head(contract_path.as_str())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, headers, body) = h.http(head).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(body.is_empty());
    let post = Request::post(contract_path.as_str())
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, headers, _) = h.http(post).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers["allow"], "GET, HEAD");
    assert_eq!(h.get("/projects/5/nothing").await.0, StatusCode::NOT_FOUND);
}
both_stores!(head_is_get_without_a_body_and_other_methods_are_405);

async fn unpublishing_hides_the_collection_and_its_tokens_again<S: Store>(h: &Harness<S>) {
    let (client, collection, contract_path) = gallery(h).await;
    let id = collection.id;
    create_token(&client, id, "1", None).await.unwrap();
    let published = publish(&client, id, Some(true)).await.unwrap();
    assert_eq!(h.get(&token_path(id, "1")).await.0, StatusCode::OK);
    let unpublished = unpublish(&client, id).await.unwrap();
    assert!(unpublished.private);
    assert!(unpublished.updated_at > published.updated_at);
    assert_eq!(h.get(&contract_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.get(&token_path(id, "1")).await.0, StatusCode::NOT_FOUND);
}
both_stores!(unpublishing_hides_the_collection_and_its_tokens_again);

async fn a_deleted_published_collection_is_not_served_nor_publishable<S: Store>(h: &Harness<S>) {
    let (client, collection, contract_path) = gallery(h).await;
    let id = collection.id;
    create_token(&client, id, "1", None).await.unwrap();
    publish(&client, id, Some(true)).await.unwrap();
    assert_eq!(h.get(&contract_path).await.0, StatusCode::OK);
    delete_collection(&client, id).await.unwrap();
    assert_eq!(h.get(&contract_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.get(&token_path(id, "1")).await.0, StatusCode::NOT_FOUND);
    let err = publish(&client, id, None).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(a_deleted_published_collection_is_not_served_nor_publishable);

async fn unpublishing_an_unknown_collection_is_not_found<S: Store>(h: &Harness<S>) {
    let (client, _, _) = gallery(h).await;
    let err = unpublish(&client, 999).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(unpublishing_an_unknown_collection_is_not_found);

// ---------------------------------------------------------------- tokens

const MAX_UINT256: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

/// Project 3's collection "Tokens".
async fn token_collection<S: Store>(h: &Harness<S>) -> (TestClient<S>, u64) {
    let client = h.client(3);
    let c = create_collection(&client, "Tokens").await.id;
    (client, c)
}

async fn a_created_token_has_a_canonical_decimal_id_and_is_available<S: Store>(h: &Harness<S>) {
    let (client, c) = token_collection(h).await;
    let created = create_token(&client, c, "007", None).await.unwrap();
    assert_eq!(created.token_id, "7", "token ids are canonical decimals");
    assert_eq!(created.name, "token 007");
    assert!(!created.updated_at.is_zero());
    assert_eq!(created.status, ResourceStatus::Available);
}
both_stores!(a_created_token_has_a_canonical_decimal_id_and_is_available);

async fn create_token_refuses_a_taken_non_decimal_or_empty_id_and_an_unknown_collection<
    S: Store,
>(
    h: &Harness<S>,
) {
    let (client, c) = token_collection(h).await;
    create_token(&client, c, "007", None).await.unwrap();
    let err = create_token(&client, c, "7", None).await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::RequestConflict),
        format!("token 7 already exists in collection {c}")
    );
    let err = create_token(&client, c, "abc", None).await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::InvalidArgument),
        "token.tokenId must be a decimal uint256, got \"abc\""
    );
    let err = create_token(&client, c, "", None).await.unwrap_err();
    assert_kind(&err, MetadataError::RequiredArgument);
    let err = create_token(&client, 999, "1", None).await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        "collection 999 not found"
    );
}
both_stores!(create_token_refuses_a_taken_non_decimal_or_empty_id_and_an_unknown_collection);

async fn a_token_id_may_be_the_largest_uint256<S: Store>(h: &Harness<S>) {
    let (client, c) = token_collection(h).await;
    assert_eq!(
        create_token(&client, c, MAX_UINT256, None)
            .await
            .unwrap()
            .token_id,
        MAX_UINT256
    );
}
both_stores!(a_token_id_may_be_the_largest_uint256);

async fn get_token_returns_the_token_and_refuses_unknown_or_invalid_ids<S: Store>(h: &Harness<S>) {
    let (client, c) = token_collection(h).await;
    let created = create_token(&client, c, "007", None).await.unwrap();
    let got = get_token(&client, c, "7").await.unwrap();
    assert_eq!(got.token, created);
    assert!(got.assets.is_empty());
    let err = get_token(&client, c, "8").await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        format!("token 8 of collection {c} not found")
    );
    let err = get_token(&client, c, "x1").await.unwrap_err();
    assert_kind(&err, MetadataError::InvalidArgument);
}
both_stores!(get_token_returns_the_token_and_refuses_unknown_or_invalid_ids);

/// Token 7's metadata renamed "Seven" with a property.
fn seven() -> TokenMetadata {
    let mut change = token_meta("", "Seven");
    change.properties = json!({"level": 2}).as_object().unwrap().clone();
    change
}

async fn update_token_changes_the_metadata_never_the_id_and_refuses_unknown_tokens<S: Store>(
    h: &Harness<S>,
) {
    let (client, c) = token_collection(h).await;
    let created = create_token(&client, c, "007", None).await.unwrap();
    let updated = update_token(&client, c, "7", seven(), None).await.unwrap();
    assert_eq!(updated.token_id, "7");
    assert_eq!(updated.name, "Seven");
    assert_eq!(updated.properties["level"], 2);
    assert!(updated.updated_at > created.updated_at);
    let err = update_token(&client, c, "7", token_meta("8", "renamed id"), None)
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::InvalidArgument);
    let err = update_token(&client, c, "12345", token_meta("", "ghost"), None)
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(update_token_changes_the_metadata_never_the_id_and_refuses_unknown_tokens);

async fn list_tokens_lists_them_current_and_the_collection_counts_them<S: Store>(h: &Harness<S>) {
    let (client, c) = token_collection(h).await;
    create_token(&client, c, "007", None).await.unwrap();
    create_token(&client, c, MAX_UINT256, None).await.unwrap();
    let updated = update_token(&client, c, "7", seven(), None).await.unwrap();
    let listed = list_tokens(&client, c).await.unwrap();
    assert_eq!(listed.tokens.len(), 2);
    assert_eq!(listed.tokens[0], updated);
    let counted = get_collection(&client, c).await.unwrap();
    assert_eq!(counted.token_count, Some(2));
    let err = list_tokens(&client, 999).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(list_tokens_lists_them_current_and_the_collection_counts_them);

async fn a_deleted_token_is_not_found_and_its_id_is_free_again<S: Store>(h: &Harness<S>) {
    let (client, c) = token_collection(h).await;
    create_token(&client, c, "007", None).await.unwrap();
    assert!(delete_token(&client, c, "7").await.unwrap());
    let err = delete_token(&client, c, "7").await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = get_token(&client, c, "7").await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    // The id is free again once the token is deleted.
    let again = create_token(&client, c, "7", None).await.unwrap();
    assert_eq!(again.name, "token 7");
}
both_stores!(a_deleted_token_is_not_found_and_its_id_is_free_again);

// ---------------------------------------------------------------- contract collections

const MIXED: &str = "0xAbCdEf0123456789aBcDeF0123456789ABCDEF01";

fn lower() -> String {
    MIXED.to_lowercase()
}

fn link(chain_id: u64, address: &str, collection_id: u64) -> ContractCollection {
    ContractCollection {
        id: 0,
        chain_id,
        contract_address: address.to_owned(),
        collection_id,
    }
}

/// Project 4's collections "One" and "Two".
async fn two_collections<S: Store>(h: &Harness<S>) -> (TestClient<S>, u64, u64) {
    let client = h.client(4);
    let c1 = create_collection(&client, "One").await.id;
    let c2 = create_collection(&client, "Two").await.id;
    (client, c1, c2)
}

async fn create_link<C: Collections>(
    client: &C,
    link: ContractCollection,
) -> Result<ContractCollection, WebrpcError> {
    client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link,
            },
        )
        .await
        .map(|r| r.contract_collection)
}

async fn get_link<C: Collections>(
    client: &C,
    chain_id: u64,
    address: &str,
) -> Result<ContractCollection, WebrpcError> {
    client
        .get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: 4,
                chain_id,
                contract_address: address.to_owned(),
            },
        )
        .await
        .map(|r| r.contract_collection)
}

async fn list_links<C: Collections>(
    client: &C,
    project_id: u64,
    collection_id: Option<u64>,
) -> Result<ListContractCollectionsResponse, WebrpcError> {
    client
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id,
                collection_id,
                page: None,
            },
        )
        .await
}

async fn update_link<C: Collections>(
    client: &C,
    link: ContractCollection,
) -> Result<bool, WebrpcError> {
    client
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: 4,
                contract_collection: link,
            },
        )
        .await
        .map(|r| r.ok)
}

async fn delete_link<C: Collections>(
    client: &C,
    chain_id: u64,
    address: &str,
) -> Result<bool, WebrpcError> {
    client
        .delete_contract_collection(
            ctx(),
            DeleteContractCollectionRequest {
                project_id: 4,
                chain_id,
                contract_address: address.to_owned(),
            },
        )
        .await
        .map(|r| r.ok)
}

async fn a_contract_link_is_created_with_its_address_lowercased<S: Store>(h: &Harness<S>) {
    let (client, c1, _) = two_collections(h).await;
    let created = create_link(&client, link(137, MIXED, c1)).await.unwrap();
    assert_eq!(
        created,
        ContractCollection {
            id: 1,
            chain_id: 137,
            contract_address: lower(),
            collection_id: c1
        }
    );
}
both_stores!(a_contract_link_is_created_with_its_address_lowercased);

async fn create_contract_link_refuses_a_taken_key_bad_address_no_chain_or_unknown_collection<
    S: Store,
>(
    h: &Harness<S>,
) {
    let (client, c1, c2) = two_collections(h).await;
    create_link(&client, link(137, MIXED, c1)).await.unwrap();
    let err = create_link(&client, link(137, &lower(), c2))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequestConflict);
    let err = create_link(&client, link(137, "0x1234", c2))
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::InvalidArgument),
        "contractCollection.contractAddress must be 0x followed by 40 hex digits, got \"0x1234\""
    );
    let err = create_link(&client, link(0, &lower(), c2))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequiredArgument);
    let err = create_link(&client, link(1, &lower(), 999))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(create_contract_link_refuses_a_taken_key_bad_address_no_chain_or_unknown_collection);

async fn the_same_address_on_another_chain_is_another_contract<S: Store>(h: &Harness<S>) {
    let (client, c1, c2) = two_collections(h).await;
    create_link(&client, link(137, MIXED, c1)).await.unwrap();
    let other_chain = create_link(&client, link(1, MIXED, c2)).await.unwrap();
    assert_eq!(other_chain.id, 2);
}
both_stores!(the_same_address_on_another_chain_is_another_contract);

async fn get_contract_link_finds_it_by_chain_and_address_in_any_case<S: Store>(h: &Harness<S>) {
    let (client, c1, _) = two_collections(h).await;
    let created = create_link(&client, link(137, MIXED, c1)).await.unwrap();
    assert_eq!(get_link(&client, 137, MIXED).await.unwrap(), created);
    let err = get_link(&client, 10, MIXED).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(get_contract_link_finds_it_by_chain_and_address_in_any_case);

async fn list_contract_links_lists_them_with_their_collections_or_those_of_one<S: Store>(
    h: &Harness<S>,
) {
    let (client, c1, c2) = two_collections(h).await;
    let created = create_link(&client, link(137, MIXED, c1)).await.unwrap();
    let other_chain = create_link(&client, link(1, MIXED, c2)).await.unwrap();
    let all = list_links(&client, 4, None).await.unwrap();
    assert_eq!(
        all.contract_collections,
        vec![created.clone(), other_chain.clone()]
    );
    assert_eq!(
        all.collections.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c1, c2]
    );
    assert_eq!(all.page.more, Some(false));
    let of_two = list_links(&client, 4, Some(c2)).await.unwrap();
    assert_eq!(of_two.contract_collections, vec![other_chain.clone()]);
    let err = list_links(&client, 4, Some(999)).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(list_contract_links_lists_them_with_their_collections_or_those_of_one);

async fn update_contract_link_repoints_it_and_refuses_a_taken_key_or_unknown_link<S: Store>(
    h: &Harness<S>,
) {
    let (client, c1, c2) = two_collections(h).await;
    create_link(&client, link(137, MIXED, c1)).await.unwrap();
    let other_chain = create_link(&client, link(1, MIXED, c2)).await.unwrap();
    // Update by (chain, address): point the contract at another collection.
    assert!(update_link(&client, link(137, MIXED, c2)).await.unwrap());
    let moved = get_link(&client, 137, &lower()).await.unwrap();
    assert_eq!(moved.collection_id, c2);
    // Update by id onto a key another link holds: conflict.
    let err = update_link(
        &client,
        ContractCollection {
            id: other_chain.id,
            ..link(137, &lower(), c2)
        },
    )
    .await
    .unwrap_err();
    assert_kind(&err, MetadataError::RequestConflict);
    let err = update_link(&client, link(5, &lower(), c2))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(update_contract_link_repoints_it_and_refuses_a_taken_key_or_unknown_link);

async fn a_deleted_contract_link_is_not_found_and_frees_its_key<S: Store>(h: &Harness<S>) {
    let (client, c1, c2) = two_collections(h).await;
    create_link(&client, link(137, MIXED, c1)).await.unwrap();
    create_link(&client, link(1, MIXED, c2)).await.unwrap();
    assert!(delete_link(&client, 137, MIXED).await.unwrap());
    let err = delete_link(&client, 137, &lower()).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    // Deleting frees the key.
    let relinked = create_link(&client, link(137, &lower(), c1)).await.unwrap();
    assert_eq!(relinked.id, 3);
}
both_stores!(a_deleted_contract_link_is_not_found_and_frees_its_key);

async fn deleting_a_collection_deletes_its_contract_links<S: Store>(h: &Harness<S>) {
    let (client, c1, c2) = two_collections(h).await;
    let kept = create_link(&client, link(137, MIXED, c1)).await.unwrap();
    create_link(&client, link(1, MIXED, c2)).await.unwrap();
    delete_collection(&client, c2).await.unwrap();
    let err = get_link(&client, 1, &lower()).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let all = list_links(&client, 0, None).await.unwrap();
    assert_eq!(all.contract_collections, vec![kept]);
}
both_stores!(deleting_a_collection_deletes_its_contract_links);

// ---------------------------------------------------------------- assets

/// A 64×32 PNG asset of collection `c` (of its token `token` if any) at `url`.
fn image(c: u64, token: Option<u64>, url: &str) -> Asset {
    Asset {
        collection_id: c,
        token_id: token.map(|id| id.to_string()),
        url: url.to_owned(),
        metadata_field: "image".into(),
        name: "a.png".into(),
        filesize: 1234,
        mime_type: "image/png".into(),
        width: Some(64),
        height: Some(32),
        ..Asset::default()
    }
}

/// Project 8's collection "Assets" with token 5.
async fn asset_collection<S: Store>(h: &Harness<S>) -> (TestClient<S>, u64) {
    let client = h.client(8);
    let c = create_collection(&client, "Assets").await.id;
    create_token(&client, c, "5", None).await.unwrap();
    (client, c)
}

async fn create_asset<C: Collections>(client: &C, asset: Asset) -> Result<Asset, WebrpcError> {
    client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset,
            },
        )
        .await
        .map(|r| r.asset)
}

async fn get_asset<C: Collections>(client: &C, asset_id: u64) -> Result<Asset, WebrpcError> {
    client
        .get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id,
            },
        )
        .await
        .map(|r| r.asset)
}

async fn update_asset<C: Collections>(client: &C, asset: Asset) -> Result<Asset, WebrpcError> {
    client
        .update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: None,
                asset,
            },
        )
        .await
        .map(|r| r.asset)
}

async fn delete_asset<C: Collections>(client: &C, asset_id: u64) -> Result<bool, WebrpcError> {
    client
        .delete_asset(
            ctx(),
            DeleteAssetRequest {
                project_id: None,
                asset_id,
            },
        )
        .await
        .map(|r| r.status)
}

async fn an_asset_belongs_to_a_collection_or_to_one_of_its_tokens<S: Store>(h: &Harness<S>) {
    let (client, c) = asset_collection(h).await;
    let collection_level = create_asset(&client, image(c, None, "https://cdn.test/c.png"))
        .await
        .unwrap();
    assert_eq!(collection_level.id, 1);
    assert_eq!(collection_level.token_id, None);
    assert!(!collection_level.updated_at.is_zero());
    let token_level = create_asset(&client, image(c, Some(5), "https://cdn.test/5.png"))
        .await
        .unwrap();
    assert_eq!(token_level.id, 2);
    assert_eq!(token_level.token_id.as_deref(), Some("5"));
    assert_eq!(
        (token_level.width, token_level.height, token_level.filesize),
        (Some(64), Some(32), 1234)
    );
}
both_stores!(an_asset_belongs_to_a_collection_or_to_one_of_its_tokens);

async fn create_asset_refuses_an_unknown_token_or_collection_none_and_a_negative_token_id<
    S: Store,
>(
    h: &Harness<S>,
) {
    let (client, c) = asset_collection(h).await;
    let err = create_asset(&client, image(c, Some(6), "x"))
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        format!("token 6 of collection {c} not found")
    );
    let err = create_asset(&client, image(999, None, "x"))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = create_asset(&client, image(0, None, "x"))
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequiredArgument);
    let negative = Asset {
        token_id: Some("-1".parse().unwrap()),
        ..image(c, None, "x")
    };
    let err = create_asset(&client, negative).await.unwrap_err();
    assert_kind(&err, MetadataError::InvalidArgument);
}
both_stores!(create_asset_refuses_an_unknown_token_or_collection_none_and_a_negative_token_id);

async fn get_asset_returns_it_and_get_token_returns_the_token_s_assets<S: Store>(h: &Harness<S>) {
    let (client, c) = asset_collection(h).await;
    create_asset(&client, image(c, None, "https://cdn.test/c.png"))
        .await
        .unwrap();
    let token_level = create_asset(&client, image(c, Some(5), "https://cdn.test/5.png"))
        .await
        .unwrap();
    assert_eq!(get_asset(&client, 2).await.unwrap(), token_level);
    let with_assets = get_token(&client, c, "5").await.unwrap();
    assert_eq!(with_assets.assets, vec![token_level.clone()]);
}
both_stores!(get_asset_returns_it_and_get_token_returns_the_token_s_assets);

async fn update_asset_changes_it_and_refuses_an_unknown_or_missing_id<S: Store>(h: &Harness<S>) {
    let (client, c) = asset_collection(h).await;
    let collection_level = create_asset(&client, image(c, None, "https://cdn.test/c.png"))
        .await
        .unwrap();
    let updated = update_asset(
        &client,
        Asset {
            id: 1,
            url: "https://cdn.test/c2.png".into(),
            ..image(c, None, "")
        },
    )
    .await
    .unwrap();
    assert_eq!(updated.url, "https://cdn.test/c2.png");
    assert!(updated.updated_at > collection_level.updated_at);
    assert_eq!(get_asset(&client, 1).await.unwrap(), updated);
    let err = update_asset(
        &client,
        Asset {
            id: 77,
            ..image(c, None, "")
        },
    )
    .await
    .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = update_asset(&client, image(c, None, "")).await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::RequiredArgument),
        "asset.id is required"
    );
}
both_stores!(update_asset_changes_it_and_refuses_an_unknown_or_missing_id);

async fn a_deleted_asset_is_not_found<S: Store>(h: &Harness<S>) {
    let (client, c) = asset_collection(h).await;
    create_asset(&client, image(c, None, "https://cdn.test/c.png"))
        .await
        .unwrap();
    assert!(delete_asset(&client, 1).await.unwrap());
    let err = get_asset(&client, 1).await.unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        "asset 1 not found"
    );
    let err = delete_asset(&client, 1).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(a_deleted_asset_is_not_found);

async fn deleting_a_token_deletes_its_assets<S: Store>(h: &Harness<S>) {
    let (client, c) = asset_collection(h).await;
    let token_level = create_asset(&client, image(c, Some(5), "https://cdn.test/5.png"))
        .await
        .unwrap();
    delete_token(&client, c, "5").await.unwrap();
    let err = get_asset(&client, token_level.id).await.unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(deleting_a_token_deletes_its_assets);

// ---------------------------------------------------------------- project isolation

const SHARED_CONTRACT: &str = "0x00000000000000000000000000000000000000ff";

/// Alice (project 100) with a collection `a`, its token 1 and an asset `asset`; Bob
/// (project 200) with a collection `b`.
struct AliceAndBob<S: Store> {
    alice: TestClient<S>,
    bob: TestClient<S>,
    a: u64,
    b: u64,
    asset: u64,
}

async fn alice_and_bob<S: Store>(h: &Harness<S>) -> AliceAndBob<S> {
    let alice = h.client(100);
    let bob = h.client(200);
    let a = create_collection(&alice, "Alice's").await.id;
    create_token(&alice, a, "1", None).await.unwrap();
    let asset = create_asset(
        &alice,
        Asset {
            collection_id: a,
            url: "u".into(),
            ..Asset::default()
        },
    )
    .await
    .unwrap()
    .id;
    let b = create_collection(&bob, "Bob's").await.id;
    AliceAndBob {
        alice,
        bob,
        a,
        b,
        asset,
    }
}

/// Bob's calls on Alice's collection, token and asset: their errors.
async fn bob_tries_alice_s_data<S: Store>(p: &AliceAndBob<S>) -> Vec<WebrpcError> {
    let (bob, a) = (&p.bob, p.a);
    vec![
        get_collection(bob, a).await.unwrap_err(),
        publish(bob, a, Some(true)).await.unwrap_err(),
        delete_collection(bob, a).await.unwrap_err(),
        get_token(bob, a, "1").await.unwrap_err(),
        bob.create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: a,
                token: token_meta("2", "x"),
                private: None,
            },
        )
        .await
        .unwrap_err(),
        get_asset(bob, p.asset).await.unwrap_err(),
        bob.create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 200,
                contract_collection: link(1, SHARED_CONTRACT, a),
            },
        )
        .await
        .unwrap_err(),
    ]
}

async fn a_project_lists_only_its_own_collections<S: Store>(h: &Harness<S>) {
    let p = alice_and_bob(h).await;
    assert_eq!(listed_collection_ids(&p.bob).await, vec![p.b]);
}
both_stores!(a_project_lists_only_its_own_collections);

async fn another_project_s_collections_tokens_and_assets_are_not_found<S: Store>(h: &Harness<S>) {
    let p = alice_and_bob(h).await;
    let errors = bob_tries_alice_s_data(&p).await;
    assert_eq!(errors.len(), 7);
    for err in &errors {
        assert_kind(err, MetadataError::NotFound);
    }
}
both_stores!(another_project_s_collections_tokens_and_assets_are_not_found);

async fn naming_another_project_than_the_token_s_is_permission_denied<S: Store>(h: &Harness<S>) {
    let p = alice_and_bob(h).await;
    let err = p
        .bob
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: Some(100),
                collection_id: p.a,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::PermissionDenied),
        "the token grants access to project 200, not project 100"
    );
}
both_stores!(naming_another_project_than_the_token_s_is_permission_denied);

async fn another_project_s_calls_leave_the_data_untouched<S: Store>(h: &Harness<S>) {
    let p = alice_and_bob(h).await;
    bob_tries_alice_s_data(&p).await;
    let still = get_collection(&p.alice, p.a).await.unwrap();
    assert!(still.private);
    assert_eq!(still.token_count, Some(1));
}
both_stores!(another_project_s_calls_leave_the_data_untouched);

async fn a_public_url_serves_only_the_collection_s_own_project<S: Store>(h: &Harness<S>) {
    let p = alice_and_bob(h).await;
    let a = p.a;
    publish(&p.alice, a, None).await.unwrap();
    assert_eq!(
        h.get(&format!("/projects/100/collections/{a}.json"))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        h.get(&format!("/projects/200/collections/{a}.json"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}
both_stores!(a_public_url_serves_only_the_collection_s_own_project);

async fn two_projects_may_link_the_same_contract<S: Store>(h: &Harness<S>) {
    let p = alice_and_bob(h).await;
    for (client, project, collection) in [(&p.alice, 100, p.a), (&p.bob, 200, p.b)] {
        client
            .create_contract_collection(
                ctx(),
                CreateContractCollectionRequest {
                    project_id: project,
                    contract_collection: link(1, SHARED_CONTRACT, collection),
                },
            )
            .await
            .unwrap();
    }
}
both_stores!(two_projects_may_link_the_same_contract);

// ---------------------------------------------------------------- concurrency

async fn parallel_writers<S: Store>(h: &Harness<S>) {
    const TASKS: u64 = 8;
    const PER_TASK: u64 = 25;
    let client = h.client(9);
    let c = create_collection(&client, "Busy").await.id;
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let client = h.client(9);
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let id = (task * 1000 + i).to_string();
                create_token(&client, c, &id, None).await.expect("create");
                client
                    .update_token(
                        ctx(),
                        UpdateTokenRequest {
                            project_id: None,
                            collection_id: c,
                            token_id: id.clone(),
                            token: token_meta(&id, &format!("updated {id}")),
                            private: None,
                        },
                    )
                    .await
                    .expect("update");
                if i % 5 == 0 {
                    client
                        .publish_collection(
                            ctx(),
                            PublishCollectionRequest {
                                project_id: None,
                                collection_id: c,
                                recursive: Some(true),
                            },
                        )
                        .await
                        .expect("publish");
                }
            }
        }));
    }
    for task in tasks {
        tokio::time::timeout(WAIT, task)
            .await
            .expect("writers finish in time")
            .expect("writer task");
    }

    let mut names = Vec::new();
    for n in 1.. {
        let listed = client
            .list_tokens(
                ctx(),
                ListTokensRequest {
                    project_id: None,
                    collection_id: c,
                    page: page(n, 100),
                },
            )
            .await
            .unwrap();
        names.extend(listed.tokens.into_iter().map(|t| (t.token_id, t.name)));
        if listed.page.more != Some(true) {
            break;
        }
    }
    assert_eq!(names.len() as u64, TASKS * PER_TASK, "no token lost");
    for (id, name) in &names {
        assert_eq!(name, &format!("updated {id}"), "no update lost");
    }
    let collection = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: c,
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(collection.token_count, Some(TASKS * PER_TASK));
    assert!(!collection.private);
}
both_stores!(parallel_writers_, parallel_writers);
