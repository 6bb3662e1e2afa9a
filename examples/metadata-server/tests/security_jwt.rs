//! Attacks on the Metadata server's JWT auth, against the real binary over loopback with
//! every log level on (`RUST_LOG=trace`): `alg: none`, HS/RS confusion, other algorithms,
//! wrong keys, tampered claims, expired and not-yet-valid tokens, malformed and oversized
//! tokens. Each is rejected with the right error, none is echoed back, and afterwards the
//! server's whole log is searched for the tokens, the secret and `Bearer`.
//!
//! ```text
//! cargo test -p metadata-server --test security_jwt -- --nocapture
//! ```

mod reliability_common;

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reliability_common::*;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

use metadata_server::{JwtAuth, MemoryStore, MetadataApp};
use sequence_metadata::Collections;

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Base64url without padding (RFC 7515).
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

/// `header.claims` of a hand-made token.
fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    )
}

/// A token with any header, its signature an HMAC-SHA256 of the signing input with `key`
/// (whatever the header claims the algorithm is).
fn hmac_signed(header: &Value, claims: &Value, key: &[u8]) -> String {
    let input = signing_input(header, claims);
    let signature = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(key),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{signature}")
}

fn signed(claims: &Value, key: &[u8], alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), claims, &EncodingKey::from_secret(key)).unwrap()
}

/// A PEM public key, as an attacker would use for an HS/RS confusion (any public key
/// will do: the server has none).
const PUBLIC_KEY_PEM: &str = "-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n\
4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n\
+qKhbwKfBstIs+bMY2Zkp18gnTxKLxoS2tFczGkPLPgizskuemMghRniWaoLcyeh\n\
kd3qqGElvW/VDL5AaWTg0nLVkjRo9z+40RQzuVaE8AkAFmxZzow3x+VJYKdjykkJ\n\
0iT9wCS0DRTXu269V264Vf/3jvredZiKRkgwlL9xNAwxXFg0x/XFw005UWVRIkdg\n\
cKWTjpBP2dPwVZ4WWC+9aGVd+Gyn1o0CLelf4rEjGoXbAAEgAqeGUxrcIlbjXfbc\n\
mwIDAQAB\n\
-----END PUBLIC KEY-----\n";

/// One attack: the `Authorization` value sent, and the envelope expected back.
struct Attack {
    what: &'static str,
    authorization: Option<String>,
    error: &'static str,
    code: i64,
    status: u16,
    cause: &'static str,
}

fn attack(
    what: &'static str,
    authorization: Option<String>,
    error: &'static str,
    cause: &'static str,
) -> Attack {
    let (code, status) = match error {
        "Unauthorized" => (1000, 401),
        "SessionExpired" => (1002, 403),
        other => panic!("unexpected error kind {other}"),
    };
    Attack {
        what,
        authorization,
        error,
        code,
        status,
        cause,
    }
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

fn attacks() -> Vec<Attack> {
    let secret = SECRET.as_bytes();
    let claims = json!({"project": 1, "account": "0xabc", "iat": now() as u64});
    let hs256 = json!({"alg": "HS256", "typ": "JWT"});
    let valid = signed(&claims, secret, Algorithm::HS256);
    let mut tampered_parts: Vec<&str> = valid.split('.').collect();
    let other_project = b64url(
        json!({"project": 2, "account": "0xabc"})
            .to_string()
            .as_bytes(),
    );
    tampered_parts[1] = &other_project;
    let tampered = tampered_parts.join(".");
    let stripped = valid.rsplit_once('.').unwrap().0.to_owned() + ".";
    let big_claims = json!({"project": 1, "pad": "p".repeat(48 * 1024)});
    let big_forged = format!("{}.{}", signing_input(&hs256, &big_claims), "A".repeat(43));
    vec![
        attack(
            "no Authorization header",
            None,
            "Unauthorized",
            "missing Authorization header",
        ),
        attack(
            "scheme only",
            Some("Bearer".into()),
            "Unauthorized",
            "Authorization header must be \"Bearer <JWT>\"",
        ),
        attack(
            "empty token",
            Some("Bearer    ".into()),
            "Unauthorized",
            "Authorization header must be \"Bearer <JWT>\"",
        ),
        attack(
            "Basic scheme",
            Some(format!("Basic {valid}")),
            "Unauthorized",
            "Authorization header must be \"Bearer <JWT>\"",
        ),
        attack(
            "alg none, no signature",
            bearer(&format!(
                "{}.",
                signing_input(&json!({"alg": "none", "typ": "JWT"}), &claims)
            )),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "alg None with the valid signature",
            bearer(&format!(
                "{}.{}",
                signing_input(&json!({"alg": "None"}), &claims),
                valid.rsplit('.').next().unwrap()
            )),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "HS/RS confusion: RS256 header, HMAC with the server's own secret",
            bearer(&hmac_signed(
                &json!({"alg": "RS256", "typ": "JWT"}),
                &claims,
                secret,
            )),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "HS/RS confusion: RS256 header, HMAC keyed with a public key",
            bearer(&hmac_signed(
                &json!({"alg": "RS256", "typ": "JWT"}),
                &claims,
                PUBLIC_KEY_PEM.as_bytes(),
            )),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "HS256 keyed with a public key",
            bearer(&signed(
                &claims,
                PUBLIC_KEY_PEM.as_bytes(),
                Algorithm::HS256,
            )),
            "Unauthorized",
            "invalid JWT signature",
        ),
        attack(
            "ES256 header",
            bearer(&hmac_signed(&json!({"alg": "ES256"}), &claims, secret)),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "PS256 header",
            bearer(&hmac_signed(&json!({"alg": "PS256"}), &claims, secret)),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "EdDSA header",
            bearer(&hmac_signed(&json!({"alg": "EdDSA"}), &claims, secret)),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "HS512 with the right secret",
            bearer(&signed(&claims, secret, Algorithm::HS512)),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "HS384 with the right secret",
            bearer(&signed(&claims, secret, Algorithm::HS384)),
            "Unauthorized",
            "JWT must be signed with HS256",
        ),
        attack(
            "wrong key",
            bearer(&signed(&claims, b"not the secret", Algorithm::HS256)),
            "Unauthorized",
            "invalid JWT signature",
        ),
        attack(
            "empty key",
            bearer(&signed(&claims, b"", Algorithm::HS256)),
            "Unauthorized",
            "invalid JWT signature",
        ),
        attack(
            "claims changed to another project, signature kept",
            bearer(&tampered),
            "Unauthorized",
            "invalid JWT signature",
        ),
        attack(
            "signature stripped",
            bearer(&stripped),
            "Unauthorized",
            "invalid JWT signature",
        ),
        attack(
            "expired",
            bearer(&signed(
                &json!({"project": 1, "exp": now() - 60.0}),
                secret,
                Algorithm::HS256,
            )),
            "SessionExpired",
            "JWT has expired",
        ),
        attack(
            "expired a second ago",
            bearer(&signed(
                &json!({"project": 1, "exp": now() - 1.0}),
                secret,
                Algorithm::HS256,
            )),
            "SessionExpired",
            "JWT has expired",
        ),
        attack(
            "not valid yet",
            bearer(&signed(
                &json!({"project": 1, "nbf": now() + 3600.0}),
                secret,
                Algorithm::HS256,
            )),
            "Unauthorized",
            "JWT is not valid yet (nbf)",
        ),
        attack(
            "no project claim",
            bearer(&signed(
                &json!({"account": "0x1"}),
                secret,
                Algorithm::HS256,
            )),
            "Unauthorized",
            "JWT has no project claim",
        ),
        attack(
            "project 0",
            bearer(&signed(&json!({"project": 0}), secret, Algorithm::HS256)),
            "Unauthorized",
            "JWT has no project claim",
        ),
        attack(
            "project as a string",
            bearer(&signed(&json!({"project": "2"}), secret, Algorithm::HS256)),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "project as an array",
            bearer(&signed(
                &json!({"project": [1, 2]}),
                secret,
                Algorithm::HS256,
            )),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "not a JWT",
            bearer("not-a-jwt"),
            "Unauthorized",
            "malformed JWT",
        ),
        attack(
            "two parts",
            bearer("abc.def"),
            "Unauthorized",
            "malformed JWT",
        ),
        attack(
            "four parts",
            bearer(&format!("{valid}.abc")),
            "Unauthorized",
            "malformed JWT",
        ),
        attack(
            "only dots",
            bearer(".."),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "header not JSON",
            bearer(&format!("{}.{}.sig", b64url(b"{not json"), b64url(b"{}"))),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "header a JSON array",
            bearer(&format!("{}.{}.sig", b64url(b"[1,2]"), b64url(b"{}"))),
            "Unauthorized",
            "malformed JWT: invalid header or claims",
        ),
        attack(
            "not base64",
            bearer("!!!.$$$.%%%"),
            "Unauthorized",
            "malformed JWT",
        ),
        attack(
            "token followed by more text",
            Some(format!("Bearer {valid} extra")),
            "Unauthorized",
            "Authorization header must be \"Bearer <JWT>\": scheme and token separated by spaces, the token without whitespace",
        ),
        attack(
            "64 KB of garbage",
            bearer(&"x".repeat(64 * 1024)),
            "Unauthorized",
            "malformed JWT",
        ),
        attack(
            "64 KB forged token (valid header, huge claims, made-up signature)",
            bearer(&big_forged),
            "Unauthorized",
            "invalid JWT signature",
        ),
    ]
}

/// Status and JSON body of a raw HTTP/1.1 answer.
fn parse_answer(raw: &str) -> (u16, Value) {
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {raw:?}"));
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let json = serde_json::from_str(body).unwrap_or(Value::Null);
    (status, json)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_token_attack_is_rejected_and_nothing_secret_is_logged() {
    let mut server = ServerProcess::start(&["--store", "memory"], "trace").await;
    let attacks = attacks();
    let mut sent_tokens = Vec::new();
    for attack in &attacks {
        let raw = raw_exchange(
            server.addr,
            &rpc_request("ListCollections", attack.authorization.as_deref(), "{}"),
        )
        .await;
        let (status, v) = parse_answer(&raw);
        assert_eq!(status, attack.status, "{}: {raw}", attack.what);
        assert_eq!(v["error"], attack.error, "{}: {v}", attack.what);
        assert_eq!(v["code"], attack.code, "{}: {v}", attack.what);
        assert_eq!(v["status"], attack.status, "{}: {v}", attack.what);
        assert_eq!(v["cause"], attack.cause, "{}: {v}", attack.what);
        if let Some(value) = &attack.authorization {
            let token = value
                .split_once(' ')
                .map_or(value.as_str(), |(_, t)| t)
                .trim();
            if token.len() >= 16 {
                let body = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
                assert!(
                    !body.contains(&token[token.len() - 16..]),
                    "{}: the answer echoes the token",
                    attack.what
                );
                sent_tokens.push(token.to_owned());
            }
        }
    }
    // Valid calls are logged too; their tokens must not be.
    let valid = token(1);
    let client = server.client(1);
    client
        .create_collection(ctx(), create_request("logged"))
        .await
        .unwrap();
    let raw = raw_exchange(
        server.addr,
        &rpc_request("ListCollections", Some(&format!("bearer {valid}")), "{}"),
    )
    .await;
    assert!(raw.starts_with("HTTP/1.1 200 OK\r\n"), "{raw}");
    sent_tokens.push(valid);

    // A header too large for hyper (1 MB; its limit is ~400 KB): 431 and the connection
    // closed, or a reset if the client is still sending then. The server goes on.
    let oversized = format!("Bearer {}", "y".repeat(1024 * 1024));
    let outcome = send_oversized(&server, &oversized).await;
    assert!(
        outcome.starts_with("HTTP/1.1 431 ") || outcome.is_empty(),
        "{}",
        &outcome[..outcome.len().min(200)]
    );
    let raw = raw_exchange(server.addr, &rpc_request("ListCollections", None, "{}")).await;
    assert_eq!(parse_answer(&raw).0, 401, "the server still answers");

    // Stop the server, so that its log is complete, then search it.
    server.terminate();
    assert!(server.wait().await.success());
    let log = server.log();
    assert!(
        log.matches("request rejected by auth").count() >= attacks.len(),
        "the attacks were logged (at info): {log}"
    );
    assert!(!log.contains(SECRET), "the log holds the JWT secret");
    for token in &sent_tokens {
        let tail = &token[token.len() - 16..];
        assert!(
            !log.contains(tail),
            "the log holds (part of) a token: …{tail}"
        );
    }
    // "Bearer" may appear only in the fixed cause text naming the expected format.
    let lower = log
        .replace("must be \"Bearer <JWT>\"", "")
        .to_ascii_lowercase();
    assert!(
        !lower.contains("bearer"),
        "the log holds an Authorization value"
    );
    assert!(
        !lower.contains("authorization:"),
        "the log holds the header"
    );
    assert!(
        !log.contains("yyyyyyyyyyyyyyyy"),
        "the log holds the oversized header"
    );
    println!(
        "JWT attacks: {} rejected with the expected envelope (causes fixed texts, token never \
         echoed); 1 MB header: {}; log at trace: {} lines, no token, secret or Bearer in it",
        attacks.len(),
        if outcome.is_empty() {
            "connection closed or reset".to_owned()
        } else {
            outcome.lines().next().unwrap_or_default().to_owned()
        },
        log.lines().count()
    );
}

/// Sends a request with this `Authorization` value while reading; returns what was read.
async fn send_oversized(server: &ServerProcess, authorization: &str) -> String {
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let request = rpc_request("ListCollections", Some(authorization), "{}");
    let writing = tokio::spawn(async move {
        // The server may close (or reset) before all of it is sent.
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let read = async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("the server answers or closes");
    drop(tokio::time::timeout(WAIT, writing).await);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_1_mb_token_in_process_is_unauthorized() {
    // Without hyper's header limit in front (the app called in process, as behind another
    // HTTP stack), a 1 MB token reaches the auth layer, which rejects it.
    let auth = JwtAuth::new(SECRET.as_bytes());
    let app = MetadataApp::new(Arc::new(MemoryStore::new()), auth, "http://metadata.test");
    let claims = json!({"project": 1, "pad": "q".repeat(768 * 1024)});
    for token in [
        "z".repeat(1024 * 1024),
        format!(
            "{}.{}",
            signing_input(&json!({"alg": "HS256"}), &claims),
            "B".repeat(43)
        ),
    ] {
        let request = Request::post("/rpc/Collections/ListCollections")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Full::new(Bytes::from_static(b"{}")))
            .unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["error"], "Unauthorized");
        assert!(body.len() < 256, "the answer stays small: {}", body.len());
    }
    // A 1 MB token signed with the right secret is valid: size alone is not an attack.
    let big_valid = signed(&claims, SECRET.as_bytes(), Algorithm::HS256);
    let client = webrpc_client::Client::builder("http://metadata.test")
        .bearer_token(&big_valid)
        .build_with(app)
        .unwrap();
    client
        .call::<sequence_metadata::ListCollections>(&Default::default())
        .await
        .unwrap();
}
