//! The raw HTTP exchanges recorded against the reference Go server
//! (`reference-exchanges.md` of the project's specs), replayed against the local Metadata
//! server in process: same status, same headers, same envelope (`cause` texts of decode errors
//! are serde's words rather than Go's, as the spec allows).

mod metadata_common;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use metadata_common::{create_collection, token, Harness};
use serde_json::Value;

const PROJECT: u64 = 30957;

struct Exchange {
    method: &'static str,
    path: &'static str,
    content_type: Option<&'static str>,
    body: String,
}

async fn replay(
    h: &Harness<metadata_server::MemoryStore>,
    x: Exchange,
) -> (u16, http::HeaderMap, Value) {
    let mut builder = Request::builder()
        .method(x.method)
        .uri(x.path)
        .header("authorization", format!("Bearer {}", token(PROJECT)));
    if let Some(ct) = x.content_type {
        builder = builder.header("content-type", ct);
    }
    let (status, headers, body) = h
        .http(builder.body(Full::new(Bytes::from(x.body))).unwrap())
        .await;
    let json = serde_json::from_str(&body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(headers["content-type"], "application/json");
    let webrpc = headers["webrpc"].to_str().unwrap();
    assert!(
        webrpc.starts_with("webrpc@v0.31.0;webrpc-rs@v")
            && webrpc.ends_with(";sequence-metadata@v0.4.0"),
        "{webrpc}"
    );
    (status.as_u16(), headers, json)
}

fn post(path: &'static str, content_type: Option<&'static str>, body: &str) -> Exchange {
    Exchange {
        method: "POST",
        path,
        content_type,
        body: body.to_owned(),
    }
}

#[track_caller]
fn assert_envelope(
    status: u16,
    json: &Value,
    name: &str,
    code: i64,
    http: u16,
    cause: Option<&str>,
) {
    assert_eq!(status, http, "{json}");
    assert_eq!(json["error"], name, "{json}");
    assert_eq!(json["code"], code, "{json}");
    assert_eq!(json["status"], http, "{json}");
    if let Some(cause) = cause {
        assert_eq!(json["cause"], cause, "{json}");
    }
}

/// A memory store holding the project's collection "Sandbox Chronicles Modified" (its id).
async fn sandbox() -> (Harness<metadata_server::MemoryStore>, u64) {
    let h = Harness::memory();
    let id = create_collection(&h.client(PROJECT), "Sandbox Chronicles Modified")
        .await
        .id;
    (h, id)
}

const PUBLISH: &str = "/rpc/Collections/PublishCollection";
const JSON: Option<&str> = Some("application/json");

/// Exchange 1 of `reference-exchanges.md`: good PublishCollection.
#[tokio::test]
async fn exchange_1_a_good_publish_collection_is_answered_200_with_the_published_collection() {
    let (h, id) = sandbox().await;
    let (status, _, body) = replay(
        &h,
        post(
            PUBLISH,
            JSON,
            &format!(r#"{{"projectId":30957,"collectionId":{id}}}"#),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["collection"]["id"], id);
    assert_eq!(body["collection"]["projectId"], PROJECT);
    assert_eq!(body["collection"]["private"], false);
    assert!(body["collection"]["updatedAt"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
}

/// Exchange 2 of `reference-exchanges.md`: GET instead of POST.
#[tokio::test]
async fn exchange_2_get_instead_of_post_is_answered_405_bad_method_allowing_post() {
    let (h, _) = sandbox().await;
    let (status, headers, body) = replay(
        &h,
        Exchange {
            method: "GET",
            path: PUBLISH,
            content_type: None,
            body: String::new(),
        },
    )
    .await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadMethod",
        -3,
        405,
        Some("unsupported HTTP method GET (only POST is allowed)"),
    );
    assert_eq!(headers["allow"], "POST");
}

/// Exchange 3 of `reference-exchanges.md`: unknown method.
#[tokio::test]
async fn exchange_3_an_unknown_method_is_answered_404_bad_route() {
    let (h, _) = sandbox().await;
    let (status, _, body) = replay(&h, post("/rpc/Collections/Nope", JSON, "{}")).await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadRoute",
        -2,
        404,
        Some("no webrpc method defined for path /rpc/Collections/Nope"),
    );
}

/// Exchanges 4, 6, 10 and 17 of `reference-exchanges.md`: malformed JSON, an empty body, a
/// wrong JSON type, trailing garbage.
#[tokio::test]
async fn exchanges_4_6_10_17_malformed_empty_mistyped_or_trailing_json_is_a_400_bad_request() {
    let (h, _) = sandbox().await;
    for bad in [
        r#"{"projectId":30957,"#,
        "",
        r#"{"projectId":30957,"collectionId":"888"}"#,
        r#"{"projectId":30957,"collectionId":888} x"#,
    ] {
        let (status, _, body) = replay(&h, post(PUBLISH, JSON, bad)).await;
        assert_envelope(status, &body, "WebrpcBadRequest", -4, 400, None);
        assert!(
            body["cause"]
                .as_str()
                .unwrap()
                .starts_with("failed to unmarshal request data: "),
            "{bad:?}: {body}"
        );
    }
}

/// Exchanges 5 and 9 of `reference-exchanges.md`: a wrong content type, none at all.
#[tokio::test]
async fn exchanges_5_9_a_wrong_or_missing_content_type_is_a_400_bad_request() {
    let (h, _) = sandbox().await;
    let (status, _, body) = replay(
        &h,
        post(
            PUBLISH,
            Some("text/plain"),
            r#"{"projectId":30957,"collectionId":888}"#,
        ),
    )
    .await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadRequest",
        -4,
        400,
        Some(r#"unsupported Content-Type "text/plain" (only application/json is allowed)"#),
    );
    let (status, _, body) = replay(
        &h,
        post(PUBLISH, None, r#"{"projectId":30957,"collectionId":888}"#),
    )
    .await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadRequest",
        -4,
        400,
        Some(r#"unsupported Content-Type "" (only application/json is allowed)"#),
    );
}

/// Exchange 7 of `reference-exchanges.md`: missing collection.
#[tokio::test]
async fn exchange_7_a_missing_collection_is_answered_not_found_with_the_schema_s_msg() {
    let (h, _) = sandbox().await;
    let (status, _, body) = replay(
        &h,
        post(
            PUBLISH,
            JSON,
            r#"{"projectId":30957,"collectionId":999999}"#,
        ),
    )
    .await;
    assert_envelope(status, &body, "NotFound", 3000, 400, None);
    assert_eq!(body["msg"], "Resource not found");
}

/// Exchange 8 of `reference-exchanges.md`: content type with charset, recursive.
#[tokio::test]
async fn exchange_8_a_content_type_with_a_charset_is_accepted() {
    let (h, id) = sandbox().await;
    let (status, _, body) = replay(
        &h,
        post(
            PUBLISH,
            Some("application/json; charset=utf-8"),
            &format!(r#"{{"projectId":30957,"collectionId":{id},"recursive":true}}"#),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Exchange 12 of `reference-exchanges.md`: unknown fields are ignored.
#[tokio::test]
async fn exchange_12_unknown_fields_are_ignored() {
    let (h, id) = sandbox().await;
    let (status, _, body) = replay(
        &h,
        post(
            PUBLISH,
            JSON,
            &format!(r#"{{"projectId":30957,"collectionId":{id},"bogus":1}}"#),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

/// Exchange 13 of `reference-exchanges.md`: another service's path.
#[tokio::test]
async fn exchange_13_another_service_s_path_is_answered_404_bad_route() {
    let (h, _) = sandbox().await;
    let (status, _, body) = replay(&h, post("/rpc/Metadata/Ping", JSON, "{}")).await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadRoute",
        -2,
        404,
        Some("no webrpc method defined for path /rpc/Metadata/Ping"),
    );
}

/// Exchange 14 of `reference-exchanges.md`: GET on an unknown method (the route is checked
/// first).
#[tokio::test]
async fn exchange_14_get_on_an_unknown_method_is_404_bad_route_the_route_checked_first() {
    let (h, _) = sandbox().await;
    let (status, _, body) = replay(
        &h,
        Exchange {
            method: "GET",
            path: "/rpc/Collections/Nope",
            content_type: None,
            body: String::new(),
        },
    )
    .await;
    assert_envelope(status, &body, "WebrpcBadRoute", -2, 404, None);
}
