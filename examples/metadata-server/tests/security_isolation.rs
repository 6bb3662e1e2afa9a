//! Project isolation, method by method: with a token for project A, every one of the 21
//! `Collections` methods is tried against project B's collections, tokens, assets and
//! contract links, twice: naming project B (`PermissionDenied`), and through A's own project
//! with B's ids (`NotFound`, or a list without B's rows). B's data is compared before and
//! after, and the public metadata URLs are checked to serve only published data. On both
//! stores.
//!
//! ```text
//! cargo test -p metadata-server --test security_isolation
//! ```

mod metadata_common;

use http::StatusCode;
use metadata_common::*;
use sequence_metadata::*;

use metadata_server::Store;

const A: u64 = 100;
const B: u64 = 200;
const B_ADDRESS: &str = "0x00000000000000000000000000000000000000b0";
const A_ADDRESS: &str = "0x00000000000000000000000000000000000000a0";

/// An empty call context: the client's `CallOptions::new()` (nothing but the client's own
/// headers is sent), or an empty `RequestContext` for a service called in process.
fn ctx<C: Default>() -> C {
    C::default()
}

fn token_meta(id: &str, name: &str) -> TokenMetadata {
    TokenMetadata {
        token_id: id.into(),
        name: name.into(),
        description: format!("{name} description"),
        ..Default::default()
    }
}

/// What project B owns.
struct Bs {
    /// A private collection with tokens 1 and 2, an asset on the collection and one on
    /// token 1, and a contract link.
    private: u64,
    /// A published collection with public token 7 and private token 8.
    public: u64,
    collection_asset: u64,
    token_asset: u64,
}

/// Everything project B can see of its data, to compare before and after the attacks.
#[derive(Debug, PartialEq)]
struct Snapshot {
    collections: Vec<Collection>,
    tokens: Vec<(u64, Vec<TokenMetadata>)>,
    assets: Vec<Asset>,
    links: Vec<ContractCollection>,
}

async fn setup_b<C: Collections>(b: &C) -> Bs {
    let private = create_collection(b, "B private").await.id;
    for id in ["1", "2"] {
        b.create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: private,
                token: token_meta(id, "B token"),
                private: None,
            },
        )
        .await
        .unwrap();
    }
    let asset = |token_id: Option<u64>| Asset {
        collection_id: private,
        token_id: token_id.map(|id| id.to_string()),
        url: "https://cdn.test/b.png".into(),
        ..Default::default()
    };
    let collection_asset = b
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: asset(None),
            },
        )
        .await
        .unwrap()
        .asset
        .id;
    let token_asset = b
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: asset(Some(1)),
            },
        )
        .await
        .unwrap()
        .asset
        .id;
    b.create_contract_collection(
        ctx(),
        CreateContractCollectionRequest {
            project_id: B,
            contract_collection: ContractCollection {
                id: 0,
                chain_id: 137,
                contract_address: B_ADDRESS.into(),
                collection_id: private,
            },
        },
    )
    .await
    .unwrap();
    let public = create_collection(b, "B public").await.id;
    for (id, private) in [("7", None), ("8", Some(true))] {
        b.create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: public,
                token: token_meta(id, "B public token"),
                private,
            },
        )
        .await
        .unwrap();
    }
    b.publish_collection(
        ctx(),
        PublishCollectionRequest {
            project_id: None,
            collection_id: public,
            recursive: Some(false),
        },
    )
    .await
    .unwrap();
    // Token 7 public, token 8 kept private.
    b.update_token(
        ctx(),
        UpdateTokenRequest {
            project_id: None,
            collection_id: public,
            token_id: "7".into(),
            token: token_meta("7", "B public token"),
            private: Some(false),
        },
    )
    .await
    .unwrap();
    Bs {
        private,
        public,
        collection_asset,
        token_asset,
    }
}

async fn snapshot<C: Collections>(b: &C, bs: &Bs) -> Snapshot {
    let collections = b
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap()
        .collections;
    let mut tokens = Vec::new();
    for c in [bs.private, bs.public] {
        let listed = b
            .list_tokens(
                ctx(),
                ListTokensRequest {
                    project_id: None,
                    collection_id: c,
                    page: None,
                },
            )
            .await
            .unwrap()
            .tokens;
        tokens.push((c, listed));
    }
    let mut assets = Vec::new();
    for id in [bs.collection_asset, bs.token_asset] {
        assets.push(
            b.get_asset(
                ctx(),
                GetAssetRequest {
                    project_id: None,
                    asset_id: id,
                },
            )
            .await
            .unwrap()
            .asset,
        );
    }
    let links = b
        .list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: B,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap()
        .contract_collections;
    Snapshot {
        collections,
        tokens,
        assets,
        links,
    }
}

/// Each of the 21 methods, aimed at B's data, with `project` as the `projectId` argument
/// (`None`: absent for the methods where it is optional, A's own id where it is required).
/// Returns (method, outcome) for every call.
async fn every_method<C: Collections>(
    a: &C,
    bs: &Bs,
    project: Option<u64>,
) -> Vec<(&'static str, Result<String, WebrpcError>)> {
    let required = project.unwrap_or(A);
    let b_collection = |id: u64| Collection {
        id,
        metadata: Some(metadata("taken over")),
        ..Default::default()
    };
    let link = ContractCollection {
        id: 0,
        chain_id: 137,
        contract_address: B_ADDRESS.into(),
        collection_id: bs.private,
    };
    let b_asset = Asset {
        id: bs.collection_asset,
        collection_id: bs.private,
        url: "https://evil.test/x.png".into(),
        ..Default::default()
    };
    let p = project;
    let c = bs.private;
    let mut out: Vec<(&'static str, Result<String, WebrpcError>)> = Vec::new();
    macro_rules! call {
        ($name:literal, $call:expr, |$r:ident| $show:expr) => {
            out.push(($name, $call.await.map(|$r| $show)));
        };
    }
    call!(
        "CreateCollection",
        a.create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: p,
                collection: Collection {
                    metadata: Some(metadata("planted")),
                    ..Default::default()
                },
            }
        ),
        |r| format!(
            "created {} in project {}",
            r.collection.id, r.collection.project_id
        )
    );
    call!(
        "GetCollection",
        a.get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: p,
                collection_id: c
            }
        ),
        |r| format!("{:?}", r.collection)
    );
    call!(
        "ListCollections",
        a.list_collections(
            ctx(),
            ListCollectionsRequest {
                project_id: p,
                page: None
            }
        ),
        |r| format!(
            "{:?}",
            r.collections
                .iter()
                .map(|c| c.project_id)
                .collect::<Vec<_>>()
        )
    );
    call!(
        "UpdateCollection",
        a.update_collection(
            ctx(),
            UpdateCollectionRequest {
                project_id: p,
                collection: b_collection(c)
            }
        ),
        |r| format!("{:?}", r.collection)
    );
    call!(
        "DeleteCollection",
        a.delete_collection(
            ctx(),
            DeleteCollectionRequest {
                project_id: p,
                collection_id: c
            }
        ),
        |r| format!("deleted: {}", r.status)
    );
    call!(
        "PublishCollection",
        a.publish_collection(
            ctx(),
            PublishCollectionRequest {
                project_id: p,
                collection_id: c,
                recursive: Some(true)
            }
        ),
        |r| format!("{:?}", r.collection)
    );
    call!(
        "UnpublishCollection",
        a.unpublish_collection(
            ctx(),
            UnpublishCollectionRequest {
                project_id: p,
                collection_id: bs.public
            }
        ),
        |r| format!("{:?}", r.collection)
    );
    call!(
        "CreateContractCollection",
        a.create_contract_collection(
            ctx(),
            CreateContractCollectionRequest {
                project_id: required,
                contract_collection: ContractCollection {
                    contract_address: A_ADDRESS.into(),
                    ..link.clone()
                },
            }
        ),
        |r| format!("{:?}", r.contract_collection)
    );
    call!(
        "GetContractCollection",
        a.get_contract_collection(
            ctx(),
            GetContractCollectionRequest {
                project_id: required,
                chain_id: 137,
                contract_address: B_ADDRESS.into(),
            }
        ),
        |r| format!("{:?}", r.contract_collection)
    );
    call!(
        "ListContractCollections",
        a.list_contract_collections(
            ctx(),
            ListContractCollectionsRequest {
                project_id: required,
                collection_id: Some(c),
                page: None,
            }
        ),
        |r| format!("{:?}", r.contract_collections)
    );
    call!(
        "UpdateContractCollection",
        a.update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: required,
                contract_collection: link.clone(),
            }
        ),
        |r| format!("ok: {}", r.ok)
    );
    call!(
        "DeleteContractCollection",
        a.delete_contract_collection(
            ctx(),
            DeleteContractCollectionRequest {
                project_id: required,
                chain_id: 137,
                contract_address: B_ADDRESS.into(),
            }
        ),
        |r| format!("ok: {}", r.ok)
    );
    call!(
        "CreateToken",
        a.create_token(
            ctx(),
            CreateTokenRequest {
                project_id: p,
                collection_id: c,
                token: token_meta("3", "planted"),
                private: Some(false),
            }
        ),
        |r| format!("{:?}", r.token)
    );
    call!(
        "GetToken",
        a.get_token(
            ctx(),
            GetTokenRequest {
                project_id: p,
                collection_id: c,
                token_id: "1".into(),
            }
        ),
        |r| format!("{:?}", r.token)
    );
    call!(
        "ListTokens",
        a.list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: p,
                collection_id: c,
                page: None,
            }
        ),
        |r| format!("{:?}", r.tokens)
    );
    call!(
        "UpdateToken",
        a.update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: p,
                collection_id: c,
                token_id: "1".into(),
                token: token_meta("1", "taken over"),
                private: Some(false),
            }
        ),
        |r| format!("{:?}", r.token)
    );
    call!(
        "DeleteToken",
        a.delete_token(
            ctx(),
            DeleteTokenRequest {
                project_id: p,
                collection_id: c,
                token_id: "1".into(),
            }
        ),
        |r| format!("deleted: {}", r.status)
    );
    call!(
        "CreateAsset",
        a.create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: p,
                asset: Asset {
                    id: 0,
                    ..b_asset.clone()
                },
            }
        ),
        |r| format!("{:?}", r.asset)
    );
    call!(
        "GetAsset",
        a.get_asset(
            ctx(),
            GetAssetRequest {
                project_id: p,
                asset_id: bs.token_asset,
            }
        ),
        |r| format!("{:?}", r.asset)
    );
    call!(
        "UpdateAsset",
        a.update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: p,
                asset: b_asset.clone(),
            }
        ),
        |r| format!("{:?}", r.asset)
    );
    call!(
        "DeleteAsset",
        a.delete_asset(
            ctx(),
            DeleteAssetRequest {
                project_id: p,
                asset_id: bs.collection_asset,
            }
        ),
        |r| format!("deleted: {}", r.status)
    );
    out
}

/// Project A with a collection of its own, project B with its data ([`setup_b`]), and a
/// snapshot of B's data to compare with after the attacks.
struct World<S: Store> {
    a: TestClient<S>,
    b: TestClient<S>,
    own: u64,
    bs: Bs,
    before: Snapshot,
}

async fn world<S: Store>(h: &Harness<S>) -> World<S> {
    let a = h.client(A);
    let b = h.client(B);
    let own = create_collection(&a, "A's own").await.id;
    let bs = setup_b(&b).await;
    let before = snapshot(&b, &bs).await;
    World {
        a,
        b,
        own,
        bs,
        before,
    }
}

impl<S: Store> World<S> {
    /// B's data is exactly as it was.
    async fn assert_b_untouched(&self) {
        assert_eq!(snapshot(&self.b, &self.bs).await, self.before);
    }
}

async fn every_method_naming_another_project_is_permission_denied<S: Store>(h: &Harness<S>) {
    let w = world(h).await;
    // Refused before anything is looked up.
    let named = every_method(&w.a, &w.bs, Some(B)).await;
    assert_eq!(named.len(), 21);
    let methods: Vec<&str> = named.iter().map(|(m, _)| *m).collect();
    assert_eq!(
        methods,
        COLLECTIONS_SERVICE.method_names().collect::<Vec<_>>(),
        "every method, in schema order"
    );
    for (method, outcome) in &named {
        let err = outcome
            .as_ref()
            .err()
            .unwrap_or_else(|| panic!("{method} naming project {B}: {outcome:?}"));
        assert_eq!(
            assert_kind(err, MetadataError::PermissionDenied),
            format!("the token grants access to project {A}, not project {B}"),
            "{method}"
        );
    }
    w.assert_b_untouched().await;
}
both_stores!(every_method_naming_another_project_is_permission_denied);

async fn every_method_finds_nothing_of_another_project_through_the_token_s_own<S: Store>(
    h: &Harness<S>,
) {
    let w = world(h).await;
    // Through A's own project, with B's ids: B's rows do not exist for A.
    let implicit = every_method(&w.a, &w.bs, None).await;
    assert_eq!(implicit.len(), 21);
    for (method, outcome) in &implicit {
        match *method {
            // Creates a collection in A, not in B.
            "CreateCollection" => {
                let text = outcome.as_ref().unwrap();
                assert!(text.ends_with(&format!("in project {A}")), "{text}");
            }
            // A's own list: A's collections only.
            "ListCollections" => {
                let projects = outcome.as_ref().unwrap();
                assert_eq!(projects, &format!("[{A}, {A}]"), "{method}");
            }
            _ => {
                let err = outcome
                    .as_ref()
                    .err()
                    .unwrap_or_else(|| panic!("{method} on B's data through A: {outcome:?}"));
                assert_kind(err, MetadataError::NotFound);
            }
        }
    }
    w.assert_b_untouched().await;
}
both_stores!(every_method_finds_nothing_of_another_project_through_the_token_s_own);

async fn a_collection_argument_naming_another_project_is_permission_denied<S: Store>(
    h: &Harness<S>,
) {
    let w = world(h).await;
    let a = &w.a;
    // Object arguments naming B (`collection.projectId`) are refused too.
    for (method, result) in [
        (
            "CreateCollection",
            a.create_collection(
                ctx(),
                CreateCollectionRequest {
                    project_id: None,
                    collection: Collection {
                        project_id: B,
                        metadata: Some(metadata("planted")),
                        ..Default::default()
                    },
                },
            )
            .await
            .map(drop),
        ),
        (
            "UpdateCollection",
            a.update_collection(
                ctx(),
                UpdateCollectionRequest {
                    project_id: None,
                    collection: Collection {
                        id: w.bs.private,
                        project_id: B,
                        metadata: Some(metadata("taken over")),
                        ..Default::default()
                    },
                },
            )
            .await
            .map(drop),
        ),
    ] {
        let err = result.unwrap_err();
        assert_eq!(
            assert_kind(&err, MetadataError::PermissionDenied),
            format!("collection.projectId is {B}, but the call is for project {A}"),
            "{method}"
        );
    }
    w.assert_b_untouched().await;
}
both_stores!(a_collection_argument_naming_another_project_is_permission_denied);

async fn an_own_asset_or_contract_link_cannot_move_into_another_project_s_collection<S: Store>(
    h: &Harness<S>,
) {
    let w = world(h).await;
    let (a, own) = (&w.a, w.own);
    // Moving A's asset or A's contract link into B's collection is NotFound.
    let a_asset = a
        .create_asset(
            ctx(),
            CreateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: own,
                    url: "https://cdn.test/a.png".into(),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap()
        .asset;
    let err = a
        .update_asset(
            ctx(),
            UpdateAssetRequest {
                project_id: None,
                asset: Asset {
                    collection_id: w.bs.private,
                    ..a_asset.clone()
                },
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    a.create_contract_collection(
        ctx(),
        CreateContractCollectionRequest {
            project_id: A,
            contract_collection: ContractCollection {
                id: 0,
                chain_id: 137,
                contract_address: A_ADDRESS.into(),
                collection_id: own,
            },
        },
    )
    .await
    .unwrap();
    let err = a
        .update_contract_collection(
            ctx(),
            UpdateContractCollectionRequest {
                project_id: A,
                contract_collection: ContractCollection {
                    id: 0,
                    chain_id: 137,
                    contract_address: A_ADDRESS.into(),
                    collection_id: w.bs.private,
                },
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::NotFound);
    w.assert_b_untouched().await;
}
both_stores!(an_own_asset_or_contract_link_cannot_move_into_another_project_s_collection);

async fn public_urls_serve_only_published_data_and_only_under_its_project<S: Store>(
    h: &Harness<S>,
) {
    let w = world(h).await;
    let own = w.own;
    let p = w.bs.private;
    let q = w.bs.public;
    for (path, status) in [
        (
            format!("/projects/{B}/collections/{p}.json"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{p}/tokens/1"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{p}/tokens/1.json"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{q}.json"),
            StatusCode::OK,
        ),
        (
            format!("/projects/{B}/collections/{q}/tokens/7"),
            StatusCode::OK,
        ),
        (
            format!("/projects/{B}/collections/{q}/tokens/8"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{q}/tokens/9"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{A}/collections/{q}.json"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{A}/collections/{q}/tokens/7"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{own}.json"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{A}/collections/{own}.json"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/0/collections/{q}.json"),
            StatusCode::NOT_FOUND,
        ),
        // Canonical ids only: a zero-padded token id names no document.
        (
            format!("/projects/{B}/collections/{q}/tokens/07"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{q}.json/tokens/7"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/{p}%2Ejson"),
            StatusCode::NOT_FOUND,
        ),
        (
            format!("/projects/{B}/collections/../collections/{p}.json"),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, body) = h.get(&path).await;
        assert_eq!(got, status, "GET {path}: {body}");
        if status == StatusCode::NOT_FOUND {
            assert!(!body.to_string().contains("B private"), "{path}: {body}");
            assert!(!body.to_string().contains("B token"), "{path}: {body}");
        }
    }
    let (_, body) = h.get(&format!("/projects/{B}/collections/{q}.json")).await;
    assert_eq!(body["name"], "B public");
}
both_stores!(public_urls_serve_only_published_data_and_only_under_its_project);

async fn once_unpublished_a_collection_s_public_urls_are_gone<S: Store>(h: &Harness<S>) {
    let w = world(h).await;
    let q = w.bs.public;
    assert_eq!(
        h.get(&format!("/projects/{B}/collections/{q}.json"))
            .await
            .0,
        StatusCode::OK
    );
    w.b.unpublish_collection(
        ctx(),
        UnpublishCollectionRequest {
            project_id: None,
            collection_id: q,
        },
    )
    .await
    .unwrap();
    for path in [
        format!("/projects/{B}/collections/{q}.json"),
        format!("/projects/{B}/collections/{q}/tokens/7"),
    ] {
        assert_eq!(h.get(&path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}
both_stores!(once_unpublished_a_collection_s_public_urls_are_gone);
