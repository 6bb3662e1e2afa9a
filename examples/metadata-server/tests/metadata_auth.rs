//! Every outcome of the Metadata server's JWT auth layer, in process through the whole app.
//!
//! ```text
//! cargo test -p metadata-server --test metadata_auth
//! ```

mod metadata_common;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{Request, StatusCode};
use http_body_util::Full;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use metadata_common::*;
use sequence_metadata::*;
use serde_json::{json, Value};
use webrpc_client::CallOptions;

use metadata_server::{Claims, JwtAuth};

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Base64url without padding (RFC 7515), for hand-made tokens.
fn b64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// A token with any header and claims, signed with HS256 by `secret` (or unsigned).
fn hand_made(header: &Value, claims: &Value, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

fn signed(claims: &Value, secret: &[u8], alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(secret)).unwrap()
}

/// Calls ListCollections with exactly this `Authorization` value (or none).
async fn list_with(
    h: &Harness<metadata_server::MemoryStore>,
    authorization: Option<&str>,
) -> Result<ListCollectionsResponse, WebrpcError> {
    let mut options = CallOptions::new();
    if let Some(value) = authorization {
        options = options.header(AUTHORIZATION, value.parse().unwrap());
    }
    h.anonymous()
        .call_with::<ListCollections>(&ListCollectionsRequest::default(), options)
        .await
}

#[test]
fn b64url_matches_rfc_4648_vectors() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg"),
        ("fo", "Zm8"),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg"),
        ("fooba", "Zm9vYmE"),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(b64url(input.as_bytes()), expected);
    }
}

#[tokio::test]
async fn valid_tokens_are_accepted_in_any_scheme_case() {
    let h = Harness::memory();
    let jwt = token(42);
    for scheme in ["Bearer", "BEARER", "bearer"] {
        let out = list_with(&h, Some(&format!("{scheme} {jwt}")))
            .await
            .unwrap();
        assert_eq!(out.page.more, Some(false), "{scheme}");
    }
    // The seed's token shape: project, account, iat, no exp.
    let seed_like = signed(
        &json!({"account": "0xabc", "iat": 1741687488, "project": 16815}),
        SECRET,
        Algorithm::HS256,
    );
    list_with(&h, Some(&format!("Bearer {seed_like}")))
        .await
        .unwrap();
    // A token that expires in the future, and unknown claims, are fine.
    let later = signed(
        &json!({"project": 1, "exp": now() as f64 + 3600.5, "iat": 1741687488.25, "aud": "x", "role": "admin"}),
        SECRET,
        Algorithm::HS256,
    );
    list_with(&h, Some(&format!("Bearer {later}")))
        .await
        .unwrap();
}

#[tokio::test]
async fn missing_or_malformed_credentials_are_unauthorized() {
    let h = Harness::memory();
    let jwt = token(1);
    let cases: [(Option<String>, &str); 6] = [
        (None, "missing Authorization header"),
        (
            Some("Bearer".into()),
            "Authorization header must be \"Bearer <JWT>\"",
        ),
        (
            Some(format!("Basic {jwt}")),
            "Authorization header must be \"Bearer <JWT>\"",
        ),
        (Some("Bearer not-a-jwt".into()), "malformed JWT"),
        (Some("Bearer a.b.c".into()), "malformed JWT"),
        (
            Some(format!("Bearer {}", &jwt[..jwt.len() - 4])),
            "invalid JWT signature",
        ),
    ];
    for (header, cause) in cases {
        let err = list_with(&h, header.as_deref()).await.unwrap_err();
        assert_eq!(
            assert_kind(&err, MetadataError::Unauthorized),
            cause,
            "{header:?}"
        );
        assert_eq!(err.msg(), "Unauthorized access");
    }
}

#[tokio::test]
async fn bad_signatures_and_algorithms_are_unauthorized() {
    let h = Harness::memory();
    let claims = json!({"project": 1, "iat": now()});
    let wrong_secret = signed(&claims, b"another secret", Algorithm::HS256);
    let hs512 = signed(&claims, SECRET, Algorithm::HS512);
    let none = hand_made(&json!({"alg": "none", "typ": "JWT"}), &claims, "");
    let none_upper = hand_made(&json!({"alg": "NONE", "typ": "JWT"}), &claims, "");
    let cases = [
        (wrong_secret, "invalid JWT signature"),
        (hs512, "JWT must be signed with HS256"),
        (none, "malformed JWT: invalid header or claims"),
        (none_upper, "malformed JWT: invalid header or claims"),
    ];
    for (jwt, cause) in cases {
        let err = list_with(&h, Some(&format!("Bearer {jwt}")))
            .await
            .unwrap_err();
        assert_eq!(
            assert_kind(&err, MetadataError::Unauthorized),
            cause,
            "{jwt}"
        );
    }
}

#[tokio::test]
async fn claims_are_checked() {
    let h = Harness::memory();
    let expired = signed(
        &json!({"project": 1, "exp": now() - 60}),
        SECRET,
        Algorithm::HS256,
    );
    let err = list_with(&h, Some(&format!("Bearer {expired}")))
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::SessionExpired),
        "JWT has expired"
    );
    assert_eq!(err.status(), 403);

    let early = signed(
        &json!({"project": 1, "nbf": now() + 3600}),
        SECRET,
        Algorithm::HS256,
    );
    let err = list_with(&h, Some(&format!("Bearer {early}")))
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::Unauthorized),
        "JWT is not valid yet (nbf)"
    );

    for claims in [
        json!({"account": "0x1"}),
        json!({"project": 0}),
        json!({"project": "1"}),
        json!({"project": -1}),
    ] {
        let jwt = signed(&claims, SECRET, Algorithm::HS256);
        let err = list_with(&h, Some(&format!("Bearer {jwt}")))
            .await
            .unwrap_err();
        assert_kind(&err, MetadataError::Unauthorized);
    }
}

#[tokio::test]
async fn project_argument_must_match_the_token() {
    let h = Harness::memory();
    let client = h.client(11);
    // Absent projectId: the token's project.
    let created = create_collection(&client, "Mine").await;
    assert_eq!(created.project_id, 11);
    // The same project, named: fine.
    let got = client
        .get_collection(
            Default::default(),
            GetCollectionRequest {
                project_id: Some(11),
                collection_id: created.id,
            },
        )
        .await
        .unwrap();
    assert_eq!(got.collection.id, created.id);
    // Another project: PermissionDenied, for optional and required projectId alike.
    let err = client
        .list_collections(
            Default::default(),
            ListCollectionsRequest {
                project_id: Some(12),
                page: None,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(
        assert_kind(&err, MetadataError::PermissionDenied),
        "the token grants access to project 11, not project 12"
    );
    let err = client
        .list_contract_collections(
            Default::default(),
            ListContractCollectionsRequest {
                project_id: 12,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap_err();
    assert_kind(&err, MetadataError::PermissionDenied);
    let ok = client
        .list_contract_collections(
            Default::default(),
            ListContractCollectionsRequest {
                project_id: 11,
                collection_id: None,
                page: None,
            },
        )
        .await
        .unwrap();
    assert!(ok.contract_collections.is_empty());
}

#[tokio::test]
async fn auth_answers_are_webrpc_envelopes_on_the_wire() {
    let h = Harness::memory();
    let request = Request::post("/rpc/Collections/ListCollections")
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let (status, headers, body) = h.http(request).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["webrpc"], WEBRPC_HEADER);
    assert_eq!(
        body,
        r#"{"error":"Unauthorized","code":1000,"msg":"Unauthorized access","cause":"missing Authorization header","status":401}"#
    );
    // The token is never echoed back.
    let jwt = signed(&json!({"project": 1, "exp": 1}), SECRET, Algorithm::HS256);
    let request = Request::post("/rpc/Collections/ListCollections")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {jwt}"))
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    let (status, _, body) = h.http(request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!body.contains(&jwt[..20]), "{body}");
    // Paths outside /rpc/ and /projects/ go to the router, which names the bad route.
    let request = Request::post("/elsewhere")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (status, _, body) = h.http(request).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("WebrpcBadRoute"), "{body}");
    // The public routes need no token.
    assert_eq!(
        h.get("/projects/1/collections/1.json").await.0,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn issued_tokens_carry_the_documented_claims() {
    let auth = JwtAuth::new(SECRET);
    let jwt = auth.dev_token(3, "0xabc");
    let payload = jwt.split('.').nth(1).unwrap();
    // Decode through the library with the key, to read the claims back.
    let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(
        &jwt,
        &jsonwebtoken::DecodingKey::from_secret(SECRET),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims.project, Some(3));
    assert_eq!(data.claims.account.as_deref(), Some("0xabc"));
    assert!(data.claims.iat.unwrap() >= now() - 60);
    assert_eq!(data.claims.exp, None);
    assert!(!payload.is_empty());
    assert_eq!(data.header.alg, Algorithm::HS256);
}
