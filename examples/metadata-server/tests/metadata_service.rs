//! The 21 `Collections` methods of the local Metadata server, happy paths and error paths,
//! each scenario run against both stores (`<scenario>::memory`, `<scenario>::sqlite`), in
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

// ---------------------------------------------------------------- collections

async fn collections_crud<S: Store>(h: &Harness<S>) {
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

    let mut changed = got.clone();
    changed.metadata = Some(CollectionMetadata {
        name: "Renamed".into(),
        description: "new".into(),
        image: "https://img.test/c.png".into(),
        external_link: "https://example.test".into(),
        properties: json!({"maxNfts": 1000}).as_object().unwrap().clone(),
        attributes: vec![],
    });
    changed.reveal_key = "secret-reveal".into();
    changed.private = false; // ignored: only Publish/Unpublish change it
    let updated = client
        .update_collection(
            ctx(),
            UpdateCollectionRequest {
                project_id: None,
                collection: changed.clone(),
            },
        )
        .await
        .unwrap()
        .collection;
    assert_eq!(updated.metadata, changed.metadata);
    assert_eq!(updated.reveal_key, "secret-reveal");
    assert!(updated.private);
    assert_eq!(updated.created_at, created.created_at);
    assert!(updated.updated_at > created.updated_at);

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

    let deleted = client
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
    let err = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        "collection 1 not found"
    );
    let err = client
        .delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: 1,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = client
        .update_collection(
            ctx(),
            UpdateCollectionRequest {
                project_id: None,
                collection: updated,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let listed = client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.collections.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![2]
    );
    let third = create_collection(&client, "Third").await;
    assert_eq!(third.id, 3, "ids are never reused");
}
both_stores!(collections_crud_, collections_crud);

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

async fn publish_and_public_routes<S: Store>(h: &Harness<S>) {
    let client = h.client(5);
    let collection = create_collection(&client, "Gallery").await;
    let id = collection.id;
    let contract_path = format!("/projects/5/collections/{id}.json");
    let token_path = |t: &str| format!("/projects/5/collections/{id}/tokens/{t}");

    // Private: nothing is served.
    let (status, body) = h.get(&contract_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "NotFound");
    assert_eq!(body["status"], 404);

    let early = create_token(&client, id, "1", None).await.unwrap();
    assert_eq!(early.status, ResourceStatus::Available);
    let hidden = create_token(&client, id, "2", Some(true)).await.unwrap();
    assert_eq!(hidden.token_id, "2");

    // Publish without recursion: the collection is public, the earlier (private) token not.
    let published = client
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: id,
                recursive: None,
            },
        )
        .await
        .unwrap()
        .collection;
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
    assert_eq!(h.get(&token_path("1")).await.0, StatusCode::NOT_FOUND);

    // A token created in a published collection is public.
    create_token(&client, id, "3", None).await.unwrap();
    let (status, body) = h.get(&token_path("3")).await;
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

    // Recursive publish makes every token public.
    client
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: id,
                recursive: Some(true),
            },
        )
        .await
        .unwrap();
    for t in ["1", "2", "3", "2.json"] {
        assert_eq!(h.get(&token_path(t)).await.0, StatusCode::OK, "token {t}");
    }
    // Canonical ids only: one URL per document.
    for t in ["99", "0001.json", "01"] {
        assert_eq!(
            h.get(&token_path(t)).await.0,
            StatusCode::NOT_FOUND,
            "token {t}"
        );
    }

    // Rich token metadata comes out in ERC-721/1155 shape.
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
    let (status, body) = h.get(&token_path("10")).await;
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

    // A private token, a deleted token, another project's URL: 404.
    client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: id,
                token_id: "2".into(),
                token: token_meta("2", "hidden again"),
                private: Some(true),
            },
        )
        .await
        .unwrap();
    assert_eq!(h.get(&token_path("2")).await.0, StatusCode::NOT_FOUND);
    client
        .delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: None,
                collection_id: id,
                token_id: "3".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(h.get(&token_path("3")).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        h.get(&format!("/projects/6/collections/{id}.json")).await.0,
        StatusCode::NOT_FOUND
    );

    // HEAD is GET without a body; other methods are refused.
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

    // Unpublish hides everything again.
    let unpublished = client
        .unpublish_collection(
            ctx(),
            UnpublishCollectionRequest {
                project_id: None,
                collection_id: id,
            },
        )
        .await
        .unwrap()
        .collection;
    assert!(unpublished.private);
    assert!(unpublished.updated_at > published.updated_at);
    assert_eq!(h.get(&contract_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.get(&token_path("1")).await.0, StatusCode::NOT_FOUND);

    // A deleted collection is not served even after publishing.
    client
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: id,
                recursive: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(h.get(&contract_path).await.0, StatusCode::OK);
    client
        .delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: id,
            },
        )
        .await
        .unwrap();
    assert_eq!(h.get(&contract_path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(h.get(&token_path("1")).await.0, StatusCode::NOT_FOUND);

    for err in [
        client
            .publish_collection(
                ctx(),
                PublishCollectionRequest {
                    project_id: None,
                    collection_id: id,
                    recursive: None,
                },
            )
            .await
            .unwrap_err(),
        client
            .unpublish_collection(
                ctx(),
                UnpublishCollectionRequest {
                    project_id: None,
                    collection_id: 999,
                },
            )
            .await
            .unwrap_err(),
    ] {
        assert_kind(&err, MetadataError::NotFound);
    }
}
both_stores!(publish_and_public_routes_, publish_and_public_routes);

// ---------------------------------------------------------------- tokens

async fn tokens<S: Store>(h: &Harness<S>) {
    let client = h.client(3);
    let c = create_collection(&client, "Tokens").await.id;
    let created = create_token(&client, c, "007", None).await.unwrap();
    assert_eq!(created.token_id, "7", "token ids are canonical decimals");
    assert_eq!(created.name, "token 007");
    assert!(!created.updated_at.is_zero());
    assert_eq!(created.status, ResourceStatus::Available);

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
    let big = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
    assert_eq!(
        create_token(&client, c, big, None).await.unwrap().token_id,
        big
    );

    let got = client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "7".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(got.token, created);
    assert!(got.assets.is_empty());
    let err = client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "8".into(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        format!("token 8 of collection {c} not found")
    );
    let err = client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "x1".into(),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::InvalidArgument);

    let mut change = token_meta("", "Seven");
    change.properties = json!({"level": 2}).as_object().unwrap().clone();
    let updated = client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "7".into(),
                token: change,
                private: None,
            },
        )
        .await
        .unwrap()
        .token;
    assert_eq!(updated.token_id, "7");
    assert_eq!(updated.name, "Seven");
    assert_eq!(updated.properties["level"], 2);
    assert!(updated.updated_at > created.updated_at);
    let err = client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "7".into(),
                token: token_meta("8", "renamed id"),
                private: None,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::InvalidArgument);
    let err = client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "12345".into(),
                token: token_meta("", "ghost"),
                private: None,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);

    let listed = client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id: c,
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.tokens.len(), 2);
    assert_eq!(listed.tokens[0], updated);
    let counted = client
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
    assert_eq!(counted.token_count, Some(2));
    let err = client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id: 999,
                page: None,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);

    let deleted = client
        .delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "7".into(),
            },
        )
        .await
        .unwrap();
    assert!(deleted.status);
    let err = client
        .delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "7".into(),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "7".into(),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    // The id is free again once the token is deleted.
    let again = create_token(&client, c, "7", None).await.unwrap();
    assert_eq!(again.name, "token 7");
}
both_stores!(tokens_, tokens);

// ---------------------------------------------------------------- contract collections

async fn contract_collections<S: Store>(h: &Harness<S>) {
    let client = h.client(4);
    let c1 = create_collection(&client, "One").await.id;
    let c2 = create_collection(&client, "Two").await.id;
    let mixed = "0xAbCdEf0123456789aBcDeF0123456789ABCDEF01";
    let lower = mixed.to_lowercase();
    let link = |chain_id: u64, address: &str, collection_id: u64| ContractCollection {
        id: 0,
        chain_id,
        contract_address: address.to_owned(),
        collection_id,
    };

    let created = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(137, mixed, c1),
            },
        )
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(
        created,
        ContractCollection {
            id: 1,
            chain_id: 137,
            contract_address: lower.clone(),
            collection_id: c1
        }
    );

    let err = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(137, &lower, c2),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequestConflict);
    let err = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(137, "0x1234", c2),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::InvalidArgument),
        "contractCollection.contractAddress must be 0x followed by 40 hex digits, got \"0x1234\""
    );
    let err = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(0, &lower, c2),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequiredArgument);
    let err = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(1, &lower, 999),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    // The same address on another chain is another contract.
    let other_chain = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(1, mixed, c2),
            },
        )
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(other_chain.id, 2);

    let got = client
        .get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: 4,
                chain_id: 137,
                contract_address: mixed.to_owned(),
            },
        )
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(got, created);
    let err = client
        .get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: 4,
                chain_id: 10,
                contract_address: mixed.to_owned(),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);

    let all = client
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: 4,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        all.contract_collections,
        vec![created.clone(), other_chain.clone()]
    );
    assert_eq!(
        all.collections.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![c1, c2]
    );
    assert_eq!(all.page.more, Some(false));
    let of_two = client
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: 4,
                collection_id: Some(c2),
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(of_two.contract_collections, vec![other_chain.clone()]);
    let err = client
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: 4,
                collection_id: Some(999),
                page: None,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);

    // Update by (chain, address): point the contract at another collection.
    let ok = client
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(137, mixed, c2),
            },
        )
        .await
        .unwrap();
    assert!(ok.ok);
    let moved = client
        .get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: 4,
                chain_id: 137,
                contract_address: lower.clone(),
            },
        )
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(moved.collection_id, c2);
    // Update by id onto a key another link holds: conflict.
    let err = client
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: 4,
                contract_collection: ContractCollection {
                    id: other_chain.id,
                    ..link(137, &lower, c2)
                },
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequestConflict);
    let err = client
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(5, &lower, c2),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);

    let ok = client
        .delete_contract_collection(
            ctx(),
            DeleteContractCollectionRequest {
                project_id: 4,
                chain_id: 137,
                contract_address: mixed.to_owned(),
            },
        )
        .await
        .unwrap();
    assert!(ok.ok);
    let err = client
        .delete_contract_collection(
            ctx(),
            DeleteContractCollectionRequest {
                project_id: 4,
                chain_id: 137,
                contract_address: lower.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    // Deleting frees the key.
    let relinked = client
        .create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 4,
                contract_collection: link(137, &lower, c1),
            },
        )
        .await
        .unwrap()
        .contract_collection;
    assert_eq!(relinked.id, 3);

    // Deleting a collection deletes its contract links.
    client
        .delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: c2,
            },
        )
        .await
        .unwrap();
    let err = client
        .get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: 4,
                chain_id: 1,
                contract_address: lower.clone(),
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let all = client
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: 0,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.contract_collections, vec![relinked]);
}
both_stores!(contract_collections_, contract_collections);

// ---------------------------------------------------------------- assets

async fn assets<S: Store>(h: &Harness<S>) {
    let client = h.client(8);
    let c = create_collection(&client, "Assets").await.id;
    create_token(&client, c, "5", None).await.unwrap();
    let asset = |token: Option<u64>, url: &str| Asset {
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
    };

    let collection_level = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: asset(None, "https://cdn.test/c.png"),
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(collection_level.id, 1);
    assert_eq!(collection_level.token_id, None);
    assert!(!collection_level.updated_at.is_zero());
    let token_level = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: asset(Some(5), "https://cdn.test/5.png"),
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(token_level.id, 2);
    assert_eq!(token_level.token_id.as_deref(), Some("5"));
    assert_eq!(
        (token_level.width, token_level.height, token_level.filesize),
        (Some(64), Some(32), 1234)
    );

    let err = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: asset(Some(6), "x"),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        format!("token 6 of collection {c} not found")
    );
    let err = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: 999,
                    ..asset(None, "x")
                },
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: 0,
                    ..asset(None, "x")
                },
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::RequiredArgument);
    let negative = Asset {
        token_id: Some("-1".parse().unwrap()),
        ..asset(None, "x")
    };
    let err = client
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: negative,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::InvalidArgument);

    let got = client
        .get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id: 2,
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(got, token_level);
    let with_assets = client
        .get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "5".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(with_assets.assets, vec![token_level.clone()]);

    let updated = client
        .update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: None,
                asset: Asset {
                    id: 1,
                    url: "https://cdn.test/c2.png".into(),
                    ..asset(None, "")
                },
            },
        )
        .await
        .unwrap()
        .asset;
    assert_eq!(updated.url, "https://cdn.test/c2.png");
    assert!(updated.updated_at > collection_level.updated_at);
    assert_eq!(
        client
            .get_asset(
                ctx(),
                GetAssetRequest {
                    project_id: None,
                    asset_id: 1
                }
            )
            .await
            .unwrap()
            .asset,
        updated
    );
    let err = client
        .update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: None,
                asset: Asset {
                    id: 77,
                    ..asset(None, "")
                },
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    let err = client
        .update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: None,
                asset: asset(None, ""),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::RequiredArgument),
        "asset.id is required"
    );

    assert!(
        client
            .delete_asset(
                ctx(),
                DeleteAssetRequest {
                    project_id: None,
                    asset_id: 1
                }
            )
            .await
            .unwrap()
            .status
    );
    let err = client
        .get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id: 1,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::NotFound),
        "asset 1 not found"
    );
    let err = client
        .delete_asset(
            ctx(),
            DeleteAssetRequest {
                project_id: None,
                asset_id: 1,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);

    // Deleting a token deletes its assets.
    client
        .delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: None,
                collection_id: c,
                token_id: "5".into(),
            },
        )
        .await
        .unwrap();
    let err = client
        .get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id: 2,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
}
both_stores!(assets_, assets);

// ---------------------------------------------------------------- project isolation

async fn project_isolation<S: Store>(h: &Harness<S>) {
    let alice = h.client(100);
    let bob = h.client(200);
    let a = create_collection(&alice, "Alice's").await.id;
    create_token(&alice, a, "1", None).await.unwrap();
    let asset = alice
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: a,
                    url: "u".into(),
                    ..Asset::default()
                },
            },
        )
        .await
        .unwrap()
        .asset;
    let b = create_collection(&bob, "Bob's").await.id;

    let listed = bob
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap();
    assert_eq!(
        listed.collections.iter().map(|c| c.id).collect::<Vec<_>>(),
        vec![b]
    );

    let errors = [
        bob.get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: a,
            },
        )
        .await
        .unwrap_err(),
        bob.publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: a,
                recursive: Some(true),
            },
        )
        .await
        .unwrap_err(),
        bob.delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: None,
                collection_id: a,
            },
        )
        .await
        .unwrap_err(),
        bob.get_token(
            ctx(),
            GetTokenRequest {
                project_id: None,
                collection_id: a,
                token_id: "1".into(),
            },
        )
        .await
        .unwrap_err(),
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
        bob.get_asset(
            ctx(),
            GetAssetRequest {
                project_id: None,
                asset_id: asset.id,
            },
        )
        .await
        .unwrap_err(),
        bob.create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: 200,
                contract_collection: ContractCollection {
                    id: 0,
                    chain_id: 1,
                    contract_address: "0x00000000000000000000000000000000000000ff".into(),
                    collection_id: a,
                },
            },
        )
        .await
        .unwrap_err(),
    ];
    for err in &errors {
        assert_kind(err, MetadataError::NotFound);
    }
    // Naming Alice's project with Bob's token is refused outright.
    let err = bob
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: Some(100),
                collection_id: a,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::PermissionDenied),
        "the token grants access to project 200, not project 100"
    );
    // Alice's data is untouched.
    let still = alice
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: a,
            },
        )
        .await
        .unwrap()
        .collection;
    assert!(still.private);
    assert_eq!(still.token_count, Some(1));
    // The public URL is per project too.
    alice
        .publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: a,
                recursive: None,
            },
        )
        .await
        .unwrap();
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
    // The same contract may be linked by two projects.
    for (client, project, collection) in [(&alice, 100, a), (&bob, 200, b)] {
        client
            .create_contract_collection(
                ctx(),
                CreateContractCollectionRequest {
                    project_id: project,
                    contract_collection: ContractCollection {
                        id: 0,
                        chain_id: 1,
                        contract_address: "0x00000000000000000000000000000000000000ff".into(),
                        collection_id: collection,
                    },
                },
            )
            .await
            .unwrap();
    }
}
both_stores!(project_isolation_, project_isolation);

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
