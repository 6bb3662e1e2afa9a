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

#[tokio::test]
async fn reference_exchanges_replayed() {
    let h = Harness::memory();
    let id = create_collection(&h.client(PROJECT), "Sandbox Chronicles Modified")
        .await
        .id;
    let publish = "/rpc/Collections/PublishCollection";
    let json = Some("application/json");

    // 1. good PublishCollection
    let (status, _, body) = replay(
        &h,
        post(
            publish,
            json,
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

    // 2. GET instead of POST
    let (status, headers, body) = replay(
        &h,
        Exchange {
            method: "GET",
            path: publish,
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

    // 3. unknown method
    let (status, _, body) = replay(&h, post("/rpc/Collections/Nope", json, "{}")).await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadRoute",
        -2,
        404,
        Some("no webrpc method defined for path /rpc/Collections/Nope"),
    );

    // 4. malformed JSON, 6. empty body, 10. wrong JSON type, 17. trailing garbage
    for bad in [
        r#"{"projectId":30957,"#,
        "",
        r#"{"projectId":30957,"collectionId":"888"}"#,
        r#"{"projectId":30957,"collectionId":888} x"#,
    ] {
        let (status, _, body) = replay(&h, post(publish, json, bad)).await;
        assert_envelope(status, &body, "WebrpcBadRequest", -4, 400, None);
        assert!(
            body["cause"]
                .as_str()
                .unwrap()
                .starts_with("failed to unmarshal request data: "),
            "{bad:?}: {body}"
        );
    }

    // 5. wrong content type, 9. none at all
    let (status, _, body) = replay(
        &h,
        post(
            publish,
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
        post(publish, None, r#"{"projectId":30957,"collectionId":888}"#),
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

    // 7. missing collection
    let (status, _, body) = replay(
        &h,
        post(
            publish,
            json,
            r#"{"projectId":30957,"collectionId":999999}"#,
        ),
    )
    .await;
    assert_envelope(status, &body, "NotFound", 3000, 400, None);
    assert_eq!(body["msg"], "Resource not found");

    // 8. content type with charset, recursive
    let (status, _, body) = replay(
        &h,
        post(
            publish,
            Some("application/json; charset=utf-8"),
            &format!(r#"{{"projectId":30957,"collectionId":{id},"recursive":true}}"#),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // 12. unknown fields are ignored
    let (status, _, body) = replay(
        &h,
        post(
            publish,
            json,
            &format!(r#"{{"projectId":30957,"collectionId":{id},"bogus":1}}"#),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // 13. another service's path
    let (status, _, body) = replay(&h, post("/rpc/Metadata/Ping", json, "{}")).await;
    assert_envelope(
        status,
        &body,
        "WebrpcBadRoute",
        -2,
        404,
        Some("no webrpc method defined for path /rpc/Metadata/Ping"),
    );

    // 14. GET on an unknown method: the route is checked first
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
