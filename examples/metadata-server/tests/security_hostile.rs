//! Hostile input to the Metadata server, on both stores: quotes, SQL fragments, NUL and
//! control characters, markup and 1 MB strings are stored and returned byte for byte (by
//! the API and by the public metadata URLs); `properties` and `attributes` up to 64 levels
//! deep are stored and listed, deeper ones refused by validation; bodies over the 4 MiB
//! limit, JSON nested beyond serde_json's recursion limit (up to a million levels) and
//! malformed ids are rejected with a clean envelope; and the database is intact afterwards (every table there,
//! `PRAGMA integrity_check` ok).
//!
//! ```text
//! cargo test -p metadata-server --test security_hostile
//! ```

mod metadata_common;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use metadata_common::*;
use sequence_metadata::*;
use serde_json::{json, Map, Value};

use metadata_server::Store;

/// `assert_eq!` that does not print the values (one of them may be 1 MB).
macro_rules! same {
    ($left:expr, $right:expr, $($what:tt)+) => {
        assert!($left == $right, $($what)+)
    };
}

/// An empty call context: the client's `CallOptions::new()` (nothing but the client's own
/// headers is sent), or an empty `RequestContext` for a service called in process.
fn ctx<C: Default>() -> C {
    C::default()
}

/// Strings an attacker (or an unlucky user) might send.
fn hostile() -> Vec<String> {
    [
        "quote \" double",
        "quote ' single",
        "back\\slash \\\" \\u0000",
        "'); DROP TABLE collections;--",
        "\" OR \"1\"=\"1",
        "1; DELETE FROM tokens WHERE 1=1; --",
        "Robert'); UPDATE collections SET private = 0; --",
        "nul\u{0}inside",
        "\u{0}",
        "%00%27%22",
        "<script>alert(1)</script>",
        "{{7*7}} ${jndi:ldap://x} $(id) `id`",
        "../../etc/passwd",
        "line\nbreak\r\ntab\tbell\u{7}escape\u{1b}[31m",
        "bom \u{feff} rtl \u{202e} zwj \u{200d} 🦀 \u{10ffff}",
        "   ",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// A 1 MB string of hostile characters.
fn one_megabyte() -> String {
    let unit = "'\"\\\u{0}é🦀<>%;-- ";
    let mut s = String::with_capacity(1024 * 1024 + unit.len());
    while s.len() < 1024 * 1024 {
        s.push_str(unit);
    }
    s
}

/// The reveal key stored with a value (not the 1 MB one: the body limit).
fn reveal_key(value: &str) -> String {
    if value.len() > 64 * 1024 {
        String::new()
    } else {
        value.to_owned()
    }
}

fn properties(value: &str) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert(value.to_owned(), json!(value));
    map.insert("nested".into(), json!({ value: [value, null, 1.5, true] }));
    map
}

fn rich_metadata(name: &str, value: &str) -> CollectionMetadata {
    if value.len() > 64 * 1024 {
        // The 1 MB value once per object, to stay within the 4 MiB body limit.
        return CollectionMetadata {
            name: name.to_owned(),
            ..Default::default()
        };
    }
    CollectionMetadata {
        name: name.to_owned(),
        description: value.to_owned(),
        image: value.to_owned(),
        external_link: value.to_owned(),
        properties: properties(value),
        attributes: vec![properties(value)],
    }
}

/// What [`store_hostile_values`] created for one value.
type Created = (u64, String, CollectionMetadata, TokenMetadata, Asset);

/// One collection (a token, an asset) per hostile value and the 1 MB one, each published:
/// project 1's client, the values, and (id, name, metadata, token, asset) per value.
async fn store_hostile_values<S: Store>(
    h: &Harness<S>,
) -> (TestClient<S>, Vec<String>, Vec<Created>) {
    let client = h.client(1);
    let mut values = hostile();
    values.push(one_megabyte());
    let mut created = Vec::new();
    for (i, value) in values.iter().enumerate() {
        // A blank name is refused by validation; carry it in the other fields then.
        let name = if value.trim().is_empty() {
            format!("blank {i}")
        } else {
            value.clone()
        };
        let metadata = rich_metadata(&name, value);
        let collection = client
            .create_collection(
                ctx(),
                CreateCollectionRequest {
                    project_id: None,
                    collection: Collection {
                        metadata: Some(metadata.clone()),
                        reveal_key: reveal_key(value),
                        ..Default::default()
                    },
                },
            )
            .await
            .unwrap_or_else(|err| panic!("value {i}: {err}"))
            .collection;
        same!(collection.metadata.as_ref(), Some(&metadata), "value {i}");
        let token = if value.len() > 64 * 1024 {
            TokenMetadata {
                token_id: "1".into(),
                name: value.clone(),
                ..Default::default()
            }
        } else {
            TokenMetadata {
                token_id: "1".into(),
                source: value.clone(),
                name: value.clone(),
                description: value.clone(),
                image: value.clone(),
                video: value.clone(),
                audio: value.clone(),
                properties: properties(value),
                attributes: vec![properties(value)],
                image_data: value.clone(),
                external_url: value.clone(),
                background_color: value.clone(),
                animation_url: value.clone(),
                ..Default::default()
            }
        };
        client
            .create_token(
                ctx(),
                CreateTokenRequest {
                    project_id: None,
                    collection_id: collection.id,
                    token: token.clone(),
                    private: None,
                },
            )
            .await
            .unwrap_or_else(|err| panic!("token {i}: {err}"));
        let asset = client
            .create_asset(
                ctx(),
                CreateAssetRequest {
                    project_id: None,
                    asset: if value.len() > 64 * 1024 {
                        Asset {
                            collection_id: collection.id,
                            token_id: Some("1".into()),
                            url: value.clone(),
                            ..Default::default()
                        }
                    } else {
                        Asset {
                            collection_id: collection.id,
                            token_id: Some("1".into()),
                            url: value.clone(),
                            metadata_field: value.clone(),
                            name: value.clone(),
                            mime_type: value.clone(),
                            ..Default::default()
                        }
                    },
                },
            )
            .await
            .unwrap_or_else(|err| panic!("asset {i}: {err}"))
            .asset;
        client
            .publish_collection(
                ctx(),
                PublishCollectionRequest {
                    project_id: None,
                    collection_id: collection.id,
                    recursive: Some(true),
                },
            )
            .await
            .unwrap();
        created.push((collection.id, name, metadata, token, asset));
    }
    (client, values, created)
}

async fn hostile_strings_are_read_back_intact_by_the_api<S: Store>(h: &Harness<S>) {
    let (client, values, created) = store_hostile_values(h).await;
    for (i, (id, _name, metadata, token, asset)) in created.iter().enumerate() {
        let value = &values[i];
        let got = client
            .get_collection(
                ctx(),
                GetCollectionRequest {
                    project_id: None,
                    collection_id: *id,
                },
            )
            .await
            .unwrap()
            .collection;
        same!(got.metadata.as_ref(), Some(metadata), "value {i}");
        same!(got.reveal_key, reveal_key(value), "value {i}");
        let read = client
            .get_token(
                ctx(),
                GetTokenRequest {
                    project_id: None,
                    collection_id: *id,
                    token_id: "1".into(),
                },
            )
            .await
            .unwrap();
        let mut expected = token.clone();
        expected.updated_at = read.token.updated_at;
        expected.status = read.token.status;
        expected.assets = read.token.assets.clone();
        same!(read.token, expected, "token {i}");
        same!(read.assets, vec![asset.clone()], "asset {i}");
    }
}
both_stores!(hostile_strings_are_read_back_intact_by_the_api);

async fn hostile_strings_are_served_intact_by_the_public_urls<S: Store>(h: &Harness<S>) {
    let (_client, values, created) = store_hostile_values(h).await;
    for (i, (id, name, metadata, token, _asset)) in created.iter().enumerate() {
        let value = &values[i];
        let (status, public) = h.get(&format!("/projects/1/collections/{id}.json")).await;
        same!(status, StatusCode::OK, "public status {i}");
        same!(public["name"], json!(name), "public name {i}");
        same!(public["description"], json!(metadata.description), "{i}");
        if !metadata.properties.is_empty() {
            same!(public["properties"], json!(metadata.properties), "{i}");
        }
        let (status, public) = h
            .get(&format!("/projects/1/collections/{id}/tokens/1"))
            .await;
        same!(status, StatusCode::OK, "public status {i}");
        same!(public["name"], json!(value), "public token name {i}");
        same!(public["attributes"], json!(token.attributes), "{i}");
    }
}
both_stores!(hostile_strings_are_served_intact_by_the_public_urls);

async fn hostile_strings_execute_nothing_and_every_collection_is_listed_with_its_token<S: Store>(
    h: &Harness<S>,
) {
    let (client, _values, created) = store_hostile_values(h).await;
    // Nothing was executed: every collection is there, each with its one token.
    let mut listed = Vec::new();
    for page in 1..=10 {
        let out = client
            .list_collections(
                ctx(),
                ListCollectionsRequest {
                    project_id: None,
                    page: Some(Page {
                        page: Some(page),
                        page_size: Some(5),
                        ..Default::default()
                    }),
                },
            )
            .await
            .unwrap();
        listed.extend(out.collections);
        if out.page.more != Some(true) {
            break;
        }
    }
    same!(listed.len(), created.len(), "{} listed", listed.len());
    for (c, (id, name, ..)) in listed.iter().zip(&created) {
        same!(
            (c.id, &c.metadata.as_ref().unwrap().name),
            (*id, name),
            "row {id}"
        );
        same!(c.token_count, Some(1), "token count of {id}");
        assert!(!c.private);
    }
    assert_schema_intact(h);
}
both_stores!(hostile_strings_execute_nothing_and_every_collection_is_listed_with_its_token);

/// A raw `POST /rpc/Collections/{method}` into the app: status and envelope.
async fn post<S: Store>(h: &Harness<S>, method: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let request = Request::post(format!("/rpc/Collections/{method}"))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", token(2)))
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let (status, _, text) = h.http(request).await;
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, json)
}

/// `{"collection":{"metadata":{"name":"deep","properties":{"k": <depth levels>}}}}`.
fn deep_body(depth: usize, open: &str, close: &str) -> Vec<u8> {
    let mut body = br#"{"collection":{"metadata":{"name":"deep","properties":{"k":"#.to_vec();
    body.extend(open.repeat(depth).into_bytes());
    body.extend(b"1");
    body.extend(close.repeat(depth).into_bytes());
    body.extend(b"}}}}");
    body
}

/// `{"k": [[…[1]…]]}` with `levels` arrays: `levels + 1` levels, the object counting as one.
fn nested(levels: usize) -> Map<String, Value> {
    let mut value = json!(1);
    for _ in 0..levels {
        value = json!([value]);
    }
    let mut props = Map::new();
    props.insert("k".into(), value);
    props
}

/// Project 2's client (its own project, so that its lists hold only its rows).
fn project_2<S: Store>(h: &Harness<S>) -> TestClient<S> {
    h.client(2)
}

/// A collection "deep" with properties and attributes 64 levels deep, and its token 1 with
/// the same.
async fn create_deepest<C: Collections>(client: &C) -> u64 {
    let deepest = nested(63);
    let deep = client
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection {
                    metadata: Some(CollectionMetadata {
                        name: "deep".into(),
                        properties: deepest.clone(),
                        attributes: vec![deepest.clone()],
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap()
        .collection;
    client
        .create_token(
            ctx(),
            CreateTokenRequest {
                project_id: None,
                collection_id: deep.id,
                token: TokenMetadata {
                    token_id: "1".into(),
                    properties: deepest.clone(),
                    attributes: vec![deepest],
                    ..Default::default()
                },
                private: None,
            },
        )
        .await
        .unwrap();
    deep.id
}

/// The store is intact: exactly the collections `names` are listed, one more can be
/// written, and (SQLite) the schema passes its checks.
async fn assert_store_intact<S: Store>(h: &Harness<S>, client: &TestClient<S>, names: &[&str]) {
    let listed = client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .unwrap()
        .collections;
    let listed: Vec<_> = listed
        .iter()
        .map(|c| c.metadata.as_ref().unwrap().name.as_str())
        .collect();
    assert_eq!(listed, names);
    create_collection(client, "after").await;
    assert_schema_intact(h);
}

async fn properties_64_levels_deep_are_stored_and_returned_by_every_answer<S: Store>(
    h: &Harness<S>,
) {
    // Deep enough for any metadata, shallow enough that even a list answer stays within the
    // 127 levels a serde_json client decodes.
    let client = project_2(h);
    let deep = create_deepest(&client).await;
    let deepest = nested(63);
    let got = client
        .get_collection(
            ctx(),
            GetCollectionRequest {
                project_id: None,
                collection_id: deep,
            },
        )
        .await
        .unwrap()
        .collection
        .metadata
        .unwrap();
    assert_eq!(
        (got.properties, got.attributes),
        (deepest.clone(), vec![deepest.clone()])
    );
    let listed = client
        .list_collections(ctx(), ListCollectionsRequest::default())
        .await
        .expect("a list holding the deepest properties decodes");
    assert_eq!(
        listed.collections[0].metadata.as_ref().unwrap().properties,
        deepest
    );
    let tokens = client
        .list_tokens(
            ctx(),
            ListTokensRequest {
                project_id: None,
                collection_id: deep,
                page: None,
            },
        )
        .await
        .expect("a token list holding the deepest attributes decodes")
        .tokens;
    assert_eq!(tokens[0].attributes, vec![deepest.clone()]);
    assert_store_intact(h, &client, &["deep"]).await;
}
both_stores!(properties_64_levels_deep_are_stored_and_returned_by_every_answer);

async fn metadata_65_levels_deep_is_refused_by_validation_naming_the_field<S: Store>(
    h: &Harness<S>,
) {
    let client = project_2(h);
    let deep = create_deepest(&client).await;
    let too_deep = nested(64);
    let err = client
        .create_collection(
            ctx(),
            CreateCollectionRequest {
                project_id: None,
                collection: Collection {
                    metadata: Some(CollectionMetadata {
                        name: "too deep".into(),
                        properties: too_deep.clone(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::ValidationFailed),
        "collection.metadata.properties is nested 65 levels deep; at most 64 are allowed"
    );
    let err = client
        .update_token(
            ctx(),
            UpdateTokenRequest {
                project_id: None,
                collection_id: deep,
                token_id: "1".into(),
                token: TokenMetadata {
                    token_id: "1".into(),
                    attributes: vec![too_deep],
                    ..Default::default()
                },
                private: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::ValidationFailed),
        "token.attributes is nested 65 levels deep; at most 64 are allowed"
    );
    // Still within the parser's limit (123 levels inside `properties`, 127 in the request):
    // the same validation error.
    let (status, v) = post(h, "CreateCollection", deep_body(123, "[", "]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "ValidationFailed", "{v}");
    assert_store_intact(h, &client, &["deep"]).await;
}
both_stores!(metadata_65_levels_deep_is_refused_by_validation_naming_the_field);

async fn json_nested_beyond_the_parser_s_limit_is_a_bad_request_not_a_crash<S: Store>(
    h: &Harness<S>,
) {
    // A million levels is a 2 MB body, within the body limit, that would overflow the stack
    // of a recursive parser without a limit.
    for (depth, open, close) in [
        (124, "[", "]"),
        (200, "[", "]"),
        (10_000, "{\"a\":", "}"),
        (1_000_000, "[", "]"),
    ] {
        let (status, v) = post(h, "CreateCollection", deep_body(depth, open, close)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "depth {depth}: {v}");
        assert_eq!(v["error"], "WebrpcBadRequest", "{v}");
        assert_eq!(v["code"], -4, "{v}");
        let cause = v["cause"].as_str().unwrap();
        assert!(
            cause.starts_with("failed to unmarshal request data: recursion limit exceeded"),
            "depth {depth}: {cause}"
        );
    }
    assert_store_intact(h, &project_2(h), &[]).await;
}
both_stores!(json_nested_beyond_the_parser_s_limit_is_a_bad_request_not_a_crash);

async fn a_body_over_the_4_mib_limit_is_answered_413_whatever_it_holds<S: Store>(h: &Harness<S>) {
    let huge = "x".repeat(5 * 1024 * 1024);
    let body = serde_json::to_vec(&json!({"collection": {"metadata": {"name": huge}}})).unwrap();
    let (status, v) = post(h, "CreateCollection", body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["error"], "WebrpcBadRequest");
    assert_eq!(
        v["cause"],
        "failed to read request data: body exceeds the limit of 4194304 bytes"
    );
    assert_store_intact(h, &project_2(h), &[]).await;
}
both_stores!(a_body_over_the_4_mib_limit_is_answered_413_whatever_it_holds);

async fn invalid_json_or_invalid_text_is_a_bad_request<S: Store>(h: &Harness<S>) {
    for body in [
        b"{\"collection\":{\"metadata\":{\"name\":\"\xff\xfe\"}}}".to_vec(),
        br#"{"collection":{"metadata":{"name":"\ud800"}}}"#.to_vec(),
        br#"{"collection":{"metadata":{"name":"a"}}"#.to_vec(),
        b"\0\0\0\0".to_vec(),
    ] {
        let (status, v) = post(h, "CreateCollection", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["error"], "WebrpcBadRequest", "{v}");
    }
    assert_store_intact(h, &project_2(h), &[]).await;
}
both_stores!(invalid_json_or_invalid_text_is_a_bad_request);

async fn ids_and_addresses_carrying_sql_are_refused_by_validation_naming_the_field<S: Store>(
    h: &Harness<S>,
) {
    let client = project_2(h);
    let c = create_collection(&client, "target").await.id;
    for token_id in [
        "1 OR 1=1",
        "1'; DROP TABLE tokens;--",
        "1\u{0}",
        "-1",
        "0x10",
    ] {
        let err = client
            .get_token(
                ctx(),
                GetTokenRequest {
                    project_id: None,
                    collection_id: c,
                    token_id: token_id.into(),
                },
            )
            .await
            .unwrap_err();
        let cause = assert_kind(&err, MetadataError::InvalidArgument);
        assert!(
            cause.starts_with("tokenId must be a decimal uint256"),
            "{cause}"
        );
        let err = client
            .create_token(
                ctx(),
                CreateTokenRequest {
                    project_id: None,
                    collection_id: c,
                    token: TokenMetadata {
                        token_id: token_id.into(),
                        ..Default::default()
                    },
                    private: None,
                },
            )
            .await
            .unwrap_err();
        assert_kind(&err, MetadataError::InvalidArgument);
    }
    for address in [
        "0x' OR '1'='1",
        "0x00000000000000000000000000000000000000aa'; --",
        "'); DROP TABLE contract_collections;--",
    ] {
        let err = client
            .get_contract_collection(
                ctx(),
                GetContractCollectionRequest {
                    project_id: 2,
                    chain_id: 1,
                    contract_address: address.into(),
                },
            )
            .await
            .unwrap_err();
        let cause = assert_kind(&err, MetadataError::InvalidArgument);
        assert!(
            cause.starts_with("contractAddress must be 0x followed by 40 hex digits"),
            "{cause}"
        );
    }
    assert_store_intact(h, &client, &["target"]).await;
}
both_stores!(ids_and_addresses_carrying_sql_are_refused_by_validation_naming_the_field);

async fn hostile_public_paths_are_404_never_an_error_page_or_a_crash<S: Store>(h: &Harness<S>) {
    let client = project_2(h);
    let c = create_collection(&client, "target").await.id;
    for path in [
        format!("/projects/2/collections/{c}'%20OR%20'1'='1.json"),
        format!("/projects/2/collections/{c}.json%00"),
        format!("/projects/2/collections/{c}/tokens/1%20OR%201=1"),
        format!("/projects/2/collections/{c}/tokens/1;DROP%20TABLE%20tokens"),
        "/projects/2%27/collections/1.json".to_owned(),
        format!("/projects/2/collections/{c}/tokens/{}", "9".repeat(100)),
    ] {
        let (status, _) = h.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    assert_store_intact(h, &client, &["target"]).await;
}
both_stores!(hostile_public_paths_are_404_never_an_error_page_or_a_crash);

/// On the SQLite store: every table is still there and the database passes
/// `PRAGMA integrity_check`.
fn assert_schema_intact<S: Store>(h: &Harness<S>) {
    let Some(db) = &h.db else {
        return;
    };
    let conn = rusqlite::Connection::open(db.path().join(metadata_common::DB_FILE)).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap();
    let tables: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        tables,
        [
            "assets",
            "collections",
            "contract_collections",
            "settings",
            "sqlite_sequence",
            "tokens"
        ]
    );
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
}
