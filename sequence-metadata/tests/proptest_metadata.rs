//! Property tests of the Collections service's wire handling (the invariants of the
//! `metadata_args`, `router` and `client_response` fuzz targets, kept in the normal suite):
//!
//! - the arguments of all 21 methods decode from any body without panicking, a rejection is
//!   `WebrpcBadRequest`, and whatever decodes encodes and decodes back to an equal value;
//! - generated valid requests of several methods round-trip exactly;
//! - the Collections router answers any request with JSON, and every failure with a complete
//!   envelope of a known catalogue whose `status` is the HTTP status;
//! - a `PublishCollection` client turns any response into a value or a typed error.
//!
//! See docs/fuzzing.md.

mod common;

use std::convert::Infallible;
use std::fmt::Debug;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use proptest::prelude::*;
use sequence_metadata::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};
use time::{OffsetDateTime, UtcOffset};
use tower::ServiceExt;
use webrpc_core::{codec, ErrorKind, Method};

use common::Canned;

/// Decodes `body` as `R`; a success must encode, decode to an equal value and encode to the
/// same text again.
fn decode_round_trip<R>(body: &[u8]) -> Result<(), TestCaseError>
where
    R: Serialize + DeserializeOwned + PartialEq + Debug,
{
    match codec::decode_request::<R>(body) {
        Err(err) => {
            prop_assert_eq!(err.code(), -4);
            prop_assert_eq!(err.status(), 400);
            prop_assert!(err
                .cause()
                .unwrap()
                .starts_with("failed to unmarshal request data: "));
        }
        Ok(request) => {
            let encoded = codec::encode(&request).map_err(|err| {
                TestCaseError::fail(format!("{request:?} does not encode: {err}"))
            })?;
            let again: R = codec::decode_request(&encoded).map_err(|err| {
                TestCaseError::fail(format!("{err}: {:?}", String::from_utf8_lossy(&encoded)))
            })?;
            prop_assert_eq!(&again, &request);
            let re_encoded = codec::encode(&again)
                .map_err(|err| TestCaseError::fail(format!("{again:?} does not encode: {err}")))?;
            prop_assert_eq!(re_encoded, encoded);
        }
    }
    Ok(())
}

/// [`decode_round_trip`] for the request object of every method.
fn decode_every_method(body: &[u8]) -> Result<(), TestCaseError> {
    decode_round_trip::<CreateCollectionRequest>(body)?;
    decode_round_trip::<GetCollectionRequest>(body)?;
    decode_round_trip::<ListCollectionsRequest>(body)?;
    decode_round_trip::<UpdateCollectionRequest>(body)?;
    decode_round_trip::<DeleteCollectionRequest>(body)?;
    decode_round_trip::<PublishCollectionRequest>(body)?;
    decode_round_trip::<UnpublishCollectionRequest>(body)?;
    decode_round_trip::<CreateContractCollectionRequest>(body)?;
    decode_round_trip::<GetContractCollectionRequest>(body)?;
    decode_round_trip::<ListContractCollectionsRequest>(body)?;
    decode_round_trip::<UpdateContractCollectionRequest>(body)?;
    decode_round_trip::<DeleteContractCollectionRequest>(body)?;
    decode_round_trip::<CreateTokenRequest>(body)?;
    decode_round_trip::<GetTokenRequest>(body)?;
    decode_round_trip::<ListTokensRequest>(body)?;
    decode_round_trip::<UpdateTokenRequest>(body)?;
    decode_round_trip::<DeleteTokenRequest>(body)?;
    decode_round_trip::<CreateAssetRequest>(body)?;
    decode_round_trip::<GetAssetRequest>(body)?;
    decode_round_trip::<UpdateAssetRequest>(body)?;
    decode_round_trip::<DeleteAssetRequest>(body)
}

/// The keys of the schema's arguments and types, so generated objects hit real fields.
const KEYS: &[&str] = &[
    "projectId",
    "collectionId",
    "recursive",
    "page",
    "collection",
    "contractCollection",
    "chainId",
    "contractAddress",
    "token",
    "tokenId",
    "private",
    "asset",
    "assetId",
    "id",
    "metadata",
    "name",
    "description",
    "image",
    "external_link",
    "properties",
    "attributes",
    "revealKey",
    "tokenCount",
    "createdAt",
    "updatedAt",
    "deletedAt",
    "baseURIs",
    "contractMetadataURI",
    "assets",
    "url",
    "metadataField",
    "filesize",
    "width",
    "height",
    "status",
    "queuedAt",
    "lastFetched",
    "decimals",
    "pageSize",
    "more",
    "before",
    "after",
    "column",
    "image_data",
    "bogus",
];

/// JSON scalars that are (nearly) valid for the schema's fields.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u16>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::sample::select(vec![
            "2024-10-23T07:02:00.905283Z",
            "2024-05-01T14:00:00+02:00",
            "0001-01-01T00:00:00Z",
            "1990-12-31T23:59:60Z",
            "123456789012345678901234567890",
            "-0",
            "007",
            "AVAILABLE",
            "REFRESHING",
            "NOPE",
            "0xAbCdEf0123456789aBcDeF0123456789AbCdEf01",
            "",
        ])
        .prop_map(Value::from),
    ]
}

/// JSON values built from [`KEYS`] and [`scalar`], a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..6).prop_map(
                |m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            ),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), json_value(), 0..6)
        .prop_map(|m| serde_json::to_vec(&m).expect("encodes"))
}

/// Timestamps whose local date stays within the years RFC 3339 can write (1 to 9998).
fn timestamp() -> impl Strategy<Value = Timestamp> {
    (
        -62_104_060_800i64..=253_370_764_800i64,
        0u32..1_000_000_000,
        -23i8..=23,
        prop::sample::select(vec![0i8, 30, 45]),
    )
        .prop_map(|(secs, nanos, hours, minutes)| {
            let utc = OffsetDateTime::from_unix_timestamp(secs).unwrap()
                + time::Duration::nanoseconds(i64::from(nanos));
            let minutes = if hours < 0 { -minutes } else { minutes };
            let offset = UtcOffset::from_hms(hours, minutes, 0).unwrap();
            Timestamp::new(utc.to_offset(offset))
        })
}

fn page() -> impl Strategy<Value = Page> {
    (
        prop::option::of(any::<u32>()),
        prop::option::of(any::<String>()),
        prop::option::of(scalar()),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<bool>()),
    )
        .prop_map(|(page, column, cursor, page_size, more)| Page {
            page,
            column,
            // `null` is how an absent cursor reads back, so it is not a distinct value.
            after: cursor.filter(|c| !c.is_null()),
            before: None,
            page_size,
            more,
        })
}

fn big_int() -> impl Strategy<Value = BigInt> {
    prop_oneof![
        any::<u64>().prop_map(BigInt::from),
        any::<i128>().prop_map(BigInt::from),
        "[1-9][0-9]{0,80}".prop_map(|s| s.parse().unwrap()),
    ]
}

fn asset() -> impl Strategy<Value = Asset> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            prop::option::of(big_int().prop_map(|n| n.to_string())),
            any::<String>(),
        ),
        (
            any::<String>(),
            any::<u32>(),
            prop::option::of(any::<u16>()),
            timestamp(),
        ),
    )
        .prop_map(
            |((id, collection_id, token_id, url), (name, filesize, width, updated_at))| Asset {
                id,
                collection_id,
                token_id,
                url,
                name,
                filesize,
                width,
                updated_at,
                ..Asset::default()
            },
        )
}

fn http_status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        2 => prop::sample::select(vec![200u16, 201, 400, 401, 403, 404, 405, 429, 500, 502]),
        1 => 100u16..=999,
    ]
    .prop_map(|s| StatusCode::from_u16(s).unwrap())
}

/// Whether `body` is JSON text: UTF-8 in JSON's grammar. Number ranges are not checked (JSON
/// does not limit them, and a field the envelope ignores may hold `1e999`), so this is not
/// "`serde_json::Value` can hold it".
fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body)
        .is_ok_and(|text| serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok())
}

fn known_error(code: i64, name: &str) -> bool {
    let Ok(code) = i32::try_from(code) else {
        return false;
    };
    BuiltinError::from_code(code).map(BuiltinError::name) == Some(name)
        || <MetadataError as ErrorKind>::from_code(code).map(MetadataError::name) == Some(name)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arguments_of_every_method_decode_or_are_rejected(body in prop::collection::vec(any::<u8>(), 0..128)) {
        decode_every_method(&body)?;
    }

    #[test]
    fn schema_shaped_arguments_round_trip(body in json_object()) {
        decode_every_method(&body)?;
    }

    #[test]
    fn publish_requests_round_trip(
        project_id in prop::option::of(any::<u64>()),
        collection_id in any::<u64>(),
        recursive in prop::option::of(any::<bool>()),
    ) {
        let request = PublishCollectionRequest { project_id, collection_id, recursive };
        let body = codec::encode(&request).unwrap();
        prop_assert_eq!(codec::decode_request::<PublishCollectionRequest>(&body).unwrap(), request);
    }

    #[test]
    fn list_and_token_requests_round_trip(
        project_id in prop::option::of(any::<u64>()),
        page in prop::option::of(page()),
        collection_id in any::<u64>(),
        token_id in any::<String>(),
    ) {
        let list = ListCollectionsRequest { project_id, page: page.clone() };
        let body = codec::encode(&list).unwrap();
        prop_assert_eq!(codec::decode_request::<ListCollectionsRequest>(&body).unwrap(), list);
        let list = ListTokensRequest { project_id, collection_id, page };
        let body = codec::encode(&list).unwrap();
        prop_assert_eq!(codec::decode_request::<ListTokensRequest>(&body).unwrap(), list);
        let get = GetTokenRequest { project_id, collection_id, token_id };
        let body = codec::encode(&get).unwrap();
        prop_assert_eq!(codec::decode_request::<GetTokenRequest>(&body).unwrap(), get);
    }

    #[test]
    fn asset_and_collection_requests_round_trip(
        asset in asset(),
        created_at in timestamp(),
        deleted_at in prop::option::of(timestamp()),
        name in any::<String>(),
        max_nfts in any::<i64>(),
    ) {
        let request = CreateAssetRequest { project_id: None, asset: asset.clone() };
        let body = codec::encode(&request).unwrap();
        let back = codec::decode_request::<CreateAssetRequest>(&body).unwrap();
        prop_assert_eq!(&back, &request);
        // Timestamps keep their offset on the way back, not just the instant.
        prop_assert_eq!(back.asset.updated_at.to_string(), asset.updated_at.to_string());

        let mut properties = Properties::new();
        properties.insert("maxNfts".to_owned(), json!(max_nfts));
        let request = UpdateCollectionRequest {
            project_id: Some(30957),
            collection: Collection {
                id: 888,
                metadata: Some(CollectionMetadata { name, properties, ..Default::default() }),
                created_at,
                deleted_at,
                assets: vec![asset],
                ..Default::default()
            },
        };
        let body = codec::encode(&request).unwrap();
        prop_assert_eq!(codec::decode_request::<UpdateCollectionRequest>(&body).unwrap(), request);
    }

    #[test]
    fn the_router_answers_everything_with_json_and_envelopes(
        method in prop_oneof![4 => Just("POST"), 1 => Just("GET"), 1 => Just("PUT")],
        name in prop_oneof![
            6 => prop::sample::select(COLLECTIONS_SERVICE.method_names().collect::<Vec<_>>()).prop_map(str::to_owned),
            1 => "[A-Za-z]{0,12}",
        ],
        content_type in prop_oneof![
            5 => Just(Some("application/json")),
            1 => Just(Some("application/json; charset=utf-8")),
            1 => Just(Some("text/plain")),
            1 => Just(None),
        ],
        body in prop_oneof![json_object(), prop::collection::vec(any::<u8>(), 0..64)],
    ) {
        let router = mount_collections(Canned::new(), webrpc_server::Router::new());
        let path = format!("/rpc/Collections/{name}");
        let mut builder = Request::builder().method(method).uri(path.as_str());
        if let Some(ct) = content_type {
            builder = builder.header("content-type", ct);
        }
        let request = builder.body(Full::new(Bytes::from(body))).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (parts, body) = runtime.block_on(async {
            let (parts, body) = router.oneshot(request).await.unwrap().into_parts();
            (parts, body.collect().await.unwrap().to_bytes())
        });

        prop_assert_eq!(&parts.headers["content-type"], "application/json");
        prop_assert_eq!(&parts.headers["webrpc"], sequence_metadata::WEBRPC_HEADER);
        let v: Value = serde_json::from_slice(&body).unwrap();
        prop_assert!(v.is_object(), "{}", v);
        let known = COLLECTIONS_SERVICE.method(&name).is_some();
        if parts.status == StatusCode::OK {
            prop_assert!(known && method == "POST" && content_type.is_some_and(|ct| ct.starts_with("application/json")));
            return Ok(());
        }
        let status = parts.status.as_u16();
        prop_assert!((400..=599).contains(&status), "{}", status);
        prop_assert_eq!(v["status"].as_u64(), Some(u64::from(status)), "{}", v);
        prop_assert!(v["msg"].is_string(), "{}", v);
        prop_assert!(v.get("cause").is_none_or(Value::is_string), "{}", v);
        let (code, error) = (v["code"].as_i64().unwrap(), v["error"].as_str().unwrap());
        prop_assert!(known_error(code, error), "{}", v);
        if !known {
            prop_assert_eq!((status, code), (404, -2));
        } else if method != "POST" {
            prop_assert_eq!((status, code), (405, -3));
        } else if content_type.is_none_or(|ct| ct == "text/plain") {
            prop_assert_eq!((status, code), (400, -4));
        }
    }

    #[test]
    fn a_publish_client_reads_any_response(
        status in http_status(),
        body in prop_oneof![
            json_object(),
            prop::collection::vec(any::<u8>(), 0..64),
            Just(br#"{"error":"NotFound","code":3000,"msg":"Resource not found","status":400}"#.to_vec()),
            Just(br#"{"collection":{"id":888,"createdAt":"2024-05-01T12:00:00Z"}}"#.to_vec()),
        ],
    ) {
        let answer = Bytes::from(body.clone());
        let transport = tower::service_fn(move |_request: Request<Full<Bytes>>| {
            let mut response = Response::new(Full::new(answer.clone()));
            *response.status_mut() = status;
            async move { Ok::<_, Infallible>(response) }
        });
        let client = webrpc_client::Client::builder("http://127.0.0.1:1").build_with(transport).unwrap();
        let request = PublishCollectionRequest { project_id: Some(30957), collection_id: 888, recursive: None };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let result = runtime.block_on(client.call::<PublishCollection>(&request));
        match result {
            Ok(out) => {
                prop_assert!(status.is_success());
                let expected: <PublishCollection as Method>::Response = serde_json::from_slice(&body).unwrap();
                prop_assert_eq!(out, expected);
            }
            Err(err) if status.is_success() => prop_assert_eq!(err.code(), -5, "{:?}", err),
            Err(err) => {
                let expected = codec::decode_error_response(status.as_u16(), &body);
                prop_assert_eq!(
                    (err.name(), err.code(), err.cause(), err.status()),
                    (expected.name(), expected.code(), expected.cause(), expected.status())
                );
                if !is_json(&body) {
                    prop_assert_eq!((err.code(), err.status()), (-5, status.as_u16()));
                }
            }
        }
    }
}
