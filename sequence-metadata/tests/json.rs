//! The JSON of the types: the seed document's and the reference exchanges' bodies decode and
//! encode back unchanged; timestamps, bigints, enums, omission rules and lenient decoding.

use sequence_metadata::*;
use serde_json::{json, Value};

const SEED_DESCRIPTION: &str = "A collection of test cases designed to push the boundaries of your API. Whether you’re validating edge cases, simulating real-world scenarios, or just experimenting with wild inputs, this suite ensures your endpoints are battle-tested and ready for anything. Perfect for developers who embrace the unexpected and thrive on precision.";

/// Decodes `text` as `T`, encodes it again, and checks the JSON is the same value.
fn round_trip<T>(text: &str) -> T
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let value: T = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let original: Value = serde_json::from_str(text).unwrap();
    assert_eq!(serde_json::to_value(&value).unwrap(), original, "{text}");
    value
}

#[test]
fn seed_publish_collection_request() {
    let req: PublishCollectionRequest = round_trip(r#"{"projectId":30957,"collectionId":888}"#);
    assert_eq!(
        req,
        PublishCollectionRequest {
            project_id: Some(30957),
            collection_id: 888,
            recursive: None,
        }
    );
    assert_eq!(
        serde_json::to_string(&req).unwrap(),
        r#"{"projectId":30957,"collectionId":888}"#
    );
    let req: PublishCollectionRequest =
        round_trip(r#"{"projectId":30957,"collectionId":888,"recursive":true}"#);
    assert_eq!(req.recursive, Some(true));
}

#[test]
fn seed_publish_collection_response() {
    let body = json!({
        "collection": {
            "id": 888,
            "projectId": 30957,
            "metadata": {
                "name": "Sandbox Chronicles Modified",
                "description": SEED_DESCRIPTION,
                "properties": {"funCollection": false, "maxNfts": 1000, "minNfts": 1}
            },
            "private": false,
            "createdAt": "2024-10-23T07:02:00.905283Z",
            "updatedAt": "2024-10-23T07:10:45.118089Z"
        }
    })
    .to_string();
    let resp: PublishCollectionResponse = round_trip(&body);
    let c = &resp.collection;
    assert_eq!((c.id, c.project_id, c.private), (888, 30957, false));
    let m = c.metadata.as_ref().unwrap();
    assert_eq!(m.name, "Sandbox Chronicles Modified");
    assert_eq!(m.description, SEED_DESCRIPTION);
    assert_eq!(m.properties["maxNfts"], json!(1000));
    assert_eq!(m.properties["funCollection"], json!(false));
    assert_eq!(c.created_at.to_string(), "2024-10-23T07:02:00.905283Z");
    assert_eq!(c.updated_at.to_string(), "2024-10-23T07:10:45.118089Z");
    assert_eq!(c.created_at.get().nanosecond(), 905_283_000);
    assert!(c.created_at < c.updated_at);
    assert_eq!(
        (c.token_count, c.deleted_at, &c.base_uris),
        (None, None, &None)
    );
}

#[test]
fn reference_exchange_bodies() {
    // Exchanges 1, 8 and 12: the good answers.
    for (updated, nanos) in [
        ("2026-11-25T11:46:32.372180112Z", 372_180_112),
        ("2026-11-25T11:46:32.463901684Z", 463_901_684),
        ("2026-11-25T11:46:32.504143215Z", 504_143_215),
    ] {
        let body = format!(
            r#"{{"collection":{{"id":888,"projectId":30957,"metadata":{{"name":"Sandbox Chronicles Modified","description":"A collection of test cases...","properties":{{"funCollection":false,"maxNfts":1000,"minNfts":1}}}},"private":false,"createdAt":"2024-05-01T12:00:00Z","updatedAt":"{updated}"}}}}"#
        );
        let resp: PublishCollectionResponse = round_trip(&body);
        // Byte for byte: same key order, same number and time formats as Go.
        assert_eq!(serde_json::to_string(&resp).unwrap(), body);
        assert_eq!(resp.collection.updated_at.get().nanosecond(), nanos);
        assert_eq!(
            resp.collection.created_at.to_string(),
            "2024-05-01T12:00:00Z"
        );
    }
    // The requests of exchanges 1, 8, 12 (the unknown `bogus` is ignored).
    let req: PublishCollectionRequest =
        serde_json::from_str(r#"{"projectId":30957,"collectionId":888,"bogus":1}"#).unwrap();
    assert_eq!((req.project_id, req.collection_id), (Some(30957), 888));
    // The error bodies decode as envelopes.
    let err = webrpc_core::codec::decode_error_response(
        400,
        br#"{"error":"NotFound","code":3000,"msg":"Resource not found","status":400}"#,
    );
    assert_eq!(err.kind::<MetadataError>(), Some(MetadataError::NotFound));
    assert_eq!(err.cause(), None);
    let err = webrpc_core::codec::decode_error_response(
        405,
        br#"{"error":"WebrpcBadMethod","code":-3,"msg":"bad method","cause":"unsupported HTTP method GET (only POST is allowed)","status":405}"#,
    );
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcBadMethod)
    );
}

#[test]
fn missing_timestamps_are_the_zero_time() {
    let c: Collection = serde_json::from_str(r#"{"id":1}"#).unwrap();
    assert!(c.created_at.is_zero() && c.updated_at.is_zero());
    assert_eq!(
        serde_json::to_value(&c).unwrap(),
        json!({"id": 1, "private": false, "createdAt": "0001-01-01T00:00:00Z", "updatedAt": "0001-01-01T00:00:00Z"})
    );
}

#[test]
fn asset_token_ids() {
    let huge = "123456789012345678901234567890";
    let asset_with = |token_id: &str| {
        serde_json::from_str::<Asset>(&format!(
            r#"{{"id":1,"collectionId":2,"tokenId":{token_id}}}"#
        ))
    };
    // A decimal string, a number, a number larger than u64 and u128: digit for digit.
    for (json_value, expected) in [
        (r#""42""#, "42"),
        ("42", "42"),
        (&format!("\"{huge}\""), huge),
        (huge, huge),
        (
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        ),
        (r#""007""#, "7"),
        ("0", "0"),
    ] {
        let asset = asset_with(json_value).unwrap();
        let token_id = asset.token_id.clone().unwrap();
        assert_eq!(token_id.as_str(), expected, "{json_value}");
        // Always encoded as a string.
        assert_eq!(
            serde_json::to_value(&asset).unwrap()["tokenId"],
            json!(expected)
        );
    }
    let asset = asset_with("null").unwrap();
    assert_eq!(asset.token_id, None);
    assert_eq!(
        serde_json::to_value(&asset).unwrap()["tokenId"],
        Value::Null
    );
    let asset: Asset = serde_json::from_str(r#"{"id":1}"#).unwrap();
    assert_eq!(asset.token_id, None);
    for bad in [r#""""#, r#""12a""#, "1.5", "1e3", "true", r#""-""#, "[1]"] {
        assert!(asset_with(bad).is_err(), "{bad}");
    }
}

#[test]
fn resource_status_by_name() {
    for (status, name, value) in [
        (ResourceStatus::NotAvailable, "NOT_AVAILABLE", 0),
        (ResourceStatus::Refreshing, "REFRESHING", 1),
        (ResourceStatus::Available, "AVAILABLE", 2),
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), json!(name));
        assert_eq!(
            serde_json::from_value::<ResourceStatus>(json!(name)).unwrap(),
            status
        );
        assert_eq!((status.name(), status.value()), (name, value));
        assert_eq!(status.to_string(), name);
    }
    assert_eq!(ResourceStatus::default(), ResourceStatus::NotAvailable);
    // An unknown name from a newer server is NOT_AVAILABLE, as in Go; numbers are rejected.
    assert_eq!(
        serde_json::from_value::<ResourceStatus>(json!("ARCHIVED")).unwrap(),
        ResourceStatus::NotAvailable
    );
    assert!(serde_json::from_value::<ResourceStatus>(json!(2)).is_err());
    let token: TokenMetadata = serde_json::from_str(r#"{"tokenId":"1","status":null}"#).unwrap();
    assert_eq!(token.status, ResourceStatus::NotAvailable);
}

#[test]
fn omission_rules() {
    // An empty collection: only the fields that are never omitted.
    assert_eq!(
        serde_json::to_value(Collection::default()).unwrap(),
        json!({"private": false, "createdAt": "0001-01-01T00:00:00Z", "updatedAt": "0001-01-01T00:00:00Z"})
    );
    // Empty metadata: name and description stay.
    assert_eq!(
        serde_json::to_value(CollectionMetadata::default()).unwrap(),
        json!({"name": "", "description": ""})
    );
    assert_eq!(
        serde_json::to_value(CollectionBaseURIs::default()).unwrap(),
        json!({"contractMetadataURI": "", "tokenMetadataURI": ""})
    );
    assert_eq!(
        serde_json::to_value(ContractCollection::default()).unwrap(),
        json!({"chainId": 0, "contractAddress": "", "collectionId": 0})
    );
    assert_eq!(
        serde_json::to_value(Asset::default()).unwrap(),
        json!({"id": 0, "collectionId": 0, "tokenId": null, "url": "", "updatedAt": "0001-01-01T00:00:00Z"})
    );
    assert_eq!(
        serde_json::to_value(TokenMetadata::default()).unwrap(),
        json!({
            "tokenId": "", "source": "", "name": "", "description": "", "image": "",
            "properties": {}, "attributes": [], "updatedAt": "0001-01-01T00:00:00Z",
            "status": "NOT_AVAILABLE", "queuedAt": null,
        })
    );
    assert_eq!(serde_json::to_value(Page::default()).unwrap(), json!({}));

    // Everything set: every key, with the schema's exact names.
    let full = json!({
        "id": 888, "projectId": 30957,
        "metadata": {
            "name": "N", "description": "D", "image": "https://x/i.png",
            "external_link": "https://x", "properties": {"a": [1, {"b": null}]},
            "attributes": [{"trait_type": "Eyes", "value": "blue"}]
        },
        "private": true, "revealKey": "rk", "tokenCount": 0,
        "createdAt": "2024-05-01T12:00:00Z", "updatedAt": "2024-05-01T12:00:00.1Z",
        "deletedAt": "2024-05-02T12:00:00Z",
        "baseURIs": {"contractMetadataURI": "c", "tokenMetadataURI": "t"},
        "assets": [{
            "id": 1, "collectionId": 888, "tokenId": "5", "url": "u", "metadataField": "image",
            "filename": "f.png", "filesize": 10, "mimeType": "image/png", "width": 0, "height": 65535,
            "updatedAt": "2024-05-01T12:00:00Z"
        }]
    });
    let c: Collection = round_trip(&full.to_string());
    assert_eq!(c.token_count, Some(0));
    assert_eq!(c.assets[0].width, Some(0));
    assert_eq!(
        c.metadata.as_ref().unwrap().attributes[0]["trait_type"],
        "Eyes"
    );

    let token = json!({
        "chainId": 137, "contractAddress": "0xabc", "tokenId": "1", "source": "s",
        "name": "n", "description": "d", "image": "i", "video": "v", "audio": "a",
        "properties": {"k": "v"}, "attributes": [{"k": 1}], "image_data": "<svg/>",
        "external_url": "e", "background_color": "ffffff", "animation_url": "au",
        "decimals": 0, "updatedAt": "2024-05-01T12:00:00Z", "assets": [],
        "status": "AVAILABLE", "queuedAt": "2024-05-01T12:00:00Z",
        "lastFetched": "2024-05-01T12:00:01Z"
    });
    let t: TokenMetadata = serde_json::from_value(token.clone()).unwrap();
    let mut expected = token;
    // `assets` is omitted when empty.
    expected.as_object_mut().unwrap().remove("assets");
    assert_eq!(serde_json::to_value(&t).unwrap(), expected);

    let page: Page = round_trip(
        r#"{"page":2,"column":"id","before":{"id":5},"after":"opaque","pageSize":30,"more":true}"#,
    );
    assert_eq!(page.after, Some(json!("opaque")));
    assert_eq!(page.before, Some(json!({"id": 5})));
}

#[test]
fn lenient_decoding() {
    // Unknown fields are ignored everywhere.
    let c: Collection = serde_json::from_str(
        r#"{"id":1,"newField":{"x":1},"metadata":{"name":"n","futureKey":[]},"baseURIs":{"contractMetadataURI":"c","tokenMetadataURI":"t","v2":true}}"#,
    )
    .unwrap();
    assert_eq!(c.id, 1);
    assert_eq!(c.metadata.unwrap().name, "n");
    assert_eq!(c.base_uris.unwrap().token_metadata_uri, "t");

    // `externalLink` (the OpenAPI document's name) is accepted; `external_link` is written.
    let m: CollectionMetadata =
        serde_json::from_str(r#"{"name":"n","externalLink":"https://x"}"#).unwrap();
    assert_eq!(m.external_link, "https://x");
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({"name": "n", "description": "", "external_link": "https://x"})
    );

    // Go's nil slices and maps (`null`) and nulls in general decode as zero values.
    let t: TokenMetadata = serde_json::from_str(
        r#"{"tokenId":"1","properties":null,"attributes":null,"assets":null,"name":null,"updatedAt":null,"queuedAt":null,"lastFetched":null}"#,
    )
    .unwrap();
    assert!(t.properties.is_empty() && t.attributes.is_empty() && t.assets.is_empty());
    assert!(t.updated_at.is_zero());
    assert_eq!((t.queued_at, t.last_fetched), (None, None));
    let resp: ListCollectionsResponse =
        serde_json::from_str(r#"{"page":{"pageSize":30,"more":false},"collections":null}"#)
            .unwrap();
    assert!(resp.collections.is_empty());
    assert_eq!(resp.page.page_size, Some(30));

    // But wrong types are still errors.
    assert!(serde_json::from_str::<Collection>(r#"{"id":"1"}"#).is_err());
    assert!(serde_json::from_str::<Asset>(r#"{"width":70000}"#).is_err());
    assert!(serde_json::from_str::<PublishCollectionRequest>(r#"{"collectionId":"888"}"#).is_err());
}
