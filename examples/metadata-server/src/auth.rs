//! JWT authentication as a tower layer.
//!
//! Sequence's secret endpoints take `Authorization: Bearer <JWT>`, an HS256 token whose
//! claims name the project (`{"project": 16815, "account": "0x…", "iat": …}`). [`AuthLayer`]
//! checks that header in front of any service (here, the webrpc router) and either answers
//! with the webrpc error envelope itself or passes the request on with the authenticated
//! [`AuthProject`] in its extensions, where handlers find it (`ctx.extensions`).
//!
//! | request | answer |
//! |---|---|
//! | no `Authorization` header, not `Bearer …` (scheme compared case-insensitively, then one or more spaces — a tab is not a separator, RFC 7235 `1*SP` — then the token, which holds no whitespace), not a JWT | `Unauthorized` (1000, 401) |
//! | bad signature, algorithm other than HS256 (including `none`), `nbf` in the future, no `project` claim | `Unauthorized` (1000, 401) |
//! | `exp` in the past | `SessionExpired` (1002, 403) |
//! | valid | passed on, with [`AuthProject`] in the extensions |
//!
//! Tokens without `exp` never expire (like the seed's example token). Neither the token nor
//! the header nor the secret is ever logged or echoed in an error.

use std::convert::Infallible;
use std::fmt;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use base64::Engine as _;
use futures_util::future::Either;
use http::header::{HeaderValue, AUTHORIZATION};
use http::{Request, Response};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sequence_metadata::MetadataError;
use serde::{Deserialize, Serialize};
use webrpc_core::WebrpcError;
use webrpc_server::ResponseBody;

use super::jwt_cache::{token_key, JwtCache};

/// The authenticated caller of a request: what [`AuthLayer`] puts in the request's
/// extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthProject {
    /// The token's `project` claim: every call is scoped to this project.
    pub project_id: u64,
    /// The token's `account` claim, if any (a wallet address).
    pub account: Option<String>,
}

/// The claims of a token this server issues and accepts.
///
/// Unknown claims are ignored. `exp` and `nbf` are NumericDates (seconds since the epoch,
/// possibly fractional).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    /// The project the token grants access to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<u64>,
    /// The account (wallet address) the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Issued at (informational: not checked). A fractional value is accepted and
    /// truncated.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_seconds"
    )]
    pub iat: Option<u64>,
    /// Expiry; absent means the token does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<f64>,
    /// Not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<f64>,
}

/// A NumericDate as whole seconds: any JSON number (fractions truncated, negatives 0).
fn whole_seconds<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<u64>, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.map(|seconds| seconds as u64))
}

/// Signs and verifies HS256 tokens with one secret.
///
/// `Debug` does not show the secret.
#[derive(Clone)]
pub struct JwtAuth {
    inner: Arc<JwtKeys>,
    cache: Option<Arc<JwtCache>>,
    clock: Clock,
}

/// The current time as a NumericDate (seconds since the Unix epoch), for the `exp` and
/// `nbf` checks; [`JwtAuth::with_clock`] replaces the system clock (tests).
pub type Clock = Arc<dyn Fn() -> f64 + Send + Sync>;

struct JwtKeys {
    encoding: EncodingKey,
    /// The HMAC key, its inner and outer pads computed once (see [`verify_hs256`]).
    hmac: ring::hmac::Key,
}

impl fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("algorithm", &"HS256")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

fn unauthorized(cause: &str) -> WebrpcError {
    MetadataError::Unauthorized.with_cause(cause)
}

/// Seconds since the Unix epoch, as a float (NumericDate).
fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

impl JwtAuth {
    /// Keys for `secret` (the raw bytes of the HS256 secret).
    pub fn new(secret: &[u8]) -> Self {
        JwtAuth {
            inner: Arc::new(JwtKeys {
                encoding: EncodingKey::from_secret(secret),
                hmac: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
            }),
            cache: None,
            clock: Arc::new(now_seconds),
        }
    }

    /// Caches up to `capacity` verified tokens ([`JwtCache`]); 0 turns the cache off. The
    /// cache belongs to this `JwtAuth` and its clones.
    #[must_use]
    pub fn with_cache(mut self, capacity: usize) -> Self {
        self.cache = (capacity > 0).then(|| Arc::new(JwtCache::new(capacity)));
        self
    }

    /// Uses `clock` instead of the system clock for the time claims (and the cache).
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The cache of verified tokens, if on.
    pub fn cache(&self) -> Option<&JwtCache> {
        self.cache.as_deref()
    }

    /// Signs `claims` with HS256.
    pub fn issue(&self, claims: &Claims) -> String {
        // HMAC signing of serialisable claims cannot fail.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.inner.encoding)
            .unwrap_or_default()
    }

    /// A development token for `project`: claims `{"project", "account", "iat": now}`, no
    /// expiry.
    pub fn dev_token(&self, project: u64, account: &str) -> String {
        self.issue(&Claims {
            project: Some(project),
            account: Some(account.to_owned()),
            iat: Some(now_seconds() as u64),
            exp: None,
            nbf: None,
        })
    }

    /// Verifies a token (without the `Bearer ` prefix). With a cache, a token verified
    /// before and still inside its `nbf`..`exp` window is answered from the cache.
    pub fn verify_token(&self, token: &str) -> Result<AuthProject, WebrpcError> {
        // The clock is read only when something needs it: the cache, or a time claim.
        let mut now = None;
        let mut now = || *now.get_or_insert_with(|| (self.clock)());
        let cached = self.cache.as_deref().map(|cache| (cache, token_key(token)));
        if let Some((cache, key)) = &cached {
            if let Some(project) = cache.get(key, now()) {
                return Ok(project);
            }
        }
        let claims =
            verify_hs256(token, &self.inner.hmac).map_err(|err| unauthorized(err.cause()))?;
        if claims.exp.is_some_and(|exp| exp <= now()) {
            return Err(MetadataError::SessionExpired.with_cause("JWT has expired"));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now()) {
            return Err(unauthorized("JWT is not valid yet (nbf)"));
        }
        if let (Some((cache, key)), Some(project_id)) =
            (cached, claims.project.filter(|&project| project > 0))
        {
            let project = AuthProject {
                project_id,
                account: claims.account.clone(),
            };
            cache.insert(key, project, claims.exp, claims.nbf);
        }
        match claims.project {
            Some(project_id) if project_id > 0 => Ok(AuthProject {
                project_id,
                account: claims.account,
            }),
            _ => Err(unauthorized("JWT has no project claim")),
        }
    }

    /// Verifies an `Authorization` header value: `Bearer <JWT>`, the scheme in any case.
    pub fn verify_header(
        &self,
        authorization: Option<&HeaderValue>,
    ) -> Result<AuthProject, WebrpcError> {
        let Some(value) = authorization else {
            return Err(unauthorized("missing Authorization header"));
        };
        if let Some(token) = plain_bearer_token(value.as_bytes()) {
            return self.verify_token(token);
        }
        // Anything else (extra spaces, tabs, obs-text, another scheme) gets the checks below,
        // each with its own error.
        let value = value
            .to_str()
            .map_err(|_| unauthorized("Authorization header is not valid text"))?;
        // RFC 7235: `credentials = auth-scheme [ 1*SP token68 ]`. Only spaces separate the
        // scheme from the token (a tab does not), and a token68 holds no whitespace. The
        // value's own leading and trailing whitespace is not part of the field value
        // (RFC 9110 5.5) and is dropped.
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        let scheme_end = value.find([' ', '\t']).unwrap_or(value.len());
        let (scheme, rest) = value.split_at(scheme_end);
        if rest.is_empty() || !scheme.eq_ignore_ascii_case("bearer") {
            return Err(unauthorized(
                "Authorization header must be \"Bearer <JWT>\"",
            ));
        }
        let token = rest.trim_start_matches(' ');
        if rest.starts_with('\t') || token.contains([' ', '\t']) {
            return Err(unauthorized(
                "Authorization header must be \"Bearer <JWT>\": scheme and token separated by spaces, the token without whitespace",
            ));
        }
        self.verify_token(token)
    }
}

/// Why a token failed [`verify_hs256`]; [`cause`](Self::cause) is the error's fixed text (never
/// a part of the token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenError {
    /// Not three base64url parts separated by dots.
    Malformed,
    /// The header or the claims are not the JSON they must be (an unknown `alg` included).
    Json,
    /// A known algorithm other than HS256.
    Algorithm,
    /// The signature does not match.
    Signature,
}

impl TokenError {
    fn cause(self) -> &'static str {
        match self {
            TokenError::Malformed => "malformed JWT",
            TokenError::Json => "malformed JWT: invalid header or claims",
            TokenError::Algorithm => "JWT must be signed with HS256",
            TokenError::Signature => "invalid JWT signature",
        }
    }
}

/// The algorithm names `jsonwebtoken` knows (RFC 7518): any other `alg`, `none` included, is a
/// malformed header rather than another algorithm.
const KNOWN_ALGORITHMS: [&str; 12] = [
    "HS256", "HS384", "HS512", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384",
    "PS512", "EdDSA",
];

/// The JOSE header, a JSON object: only `alg` is read; other members are ignored.
#[derive(Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: std::borrow::Cow<'a, str>,
}

/// Base64url without padding (RFC 7515 §2), canonical: `=` and non-zero trailing bits are
/// refused.
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Decodes one base64url part into `stack` when it fits, else into a new vector.
fn decode_part<'a>(
    part: &str,
    stack: &'a mut [u8],
    heap: &'a mut Vec<u8>,
) -> Result<&'a [u8], base64::DecodeSliceError> {
    if base64::decoded_len_estimate(part.len()) <= stack.len() {
        let n = B64.decode_slice(part, stack)?;
        Ok(&stack[..n])
    } else {
        B64.decode_vec(part, heap)?;
        Ok(heap)
    }
}

/// Verifies a JWS compact token signed with HS256 (RFC 7515, RFC 7518 §3.2) and decodes its
/// claims, with the checks of `jsonwebtoken::decode` and the same outcome for every token
/// (its decoder is the oracle of the tests): three parts; a header that is a JSON object
/// whose `alg` is one known algorithm name, and exactly `HS256`; the HMAC-SHA256 of
/// `header.claims` equal to the signature (compared in constant time); claims that decode.
///
/// Why not `jsonwebtoken::decode`: it derives the HMAC key from the secret, encodes its
/// own signature to compare strings, parses the whole header and the claims twice on every
/// call; with `key` prepared once this is a third of the server's instructions per call less.
fn verify_hs256(token: &str, key: &ring::hmac::Key) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    let (mut stack, mut heap) = ([0u8; 256], Vec::new());
    let header_json =
        decode_part(header, &mut stack, &mut heap).map_err(|_| TokenError::Malformed)?;
    let jose: JoseHeader<'_> = json_object(header_json)?;
    if !KNOWN_ALGORITHMS.contains(&&*jose.alg) {
        return Err(TokenError::Json);
    }
    if jose.alg != "HS256" {
        return Err(TokenError::Algorithm);
    }
    let mut tag = [0u8; 64];
    let tag = match B64.decode_slice(signature, &mut tag) {
        Ok(n) => &tag[..n],
        Err(_) => return Err(TokenError::Signature),
    };
    let signed = &token[..header.len() + 1 + claims.len()];
    ring::hmac::verify(key, signed.as_bytes(), tag).map_err(|_| TokenError::Signature)?;
    let (mut stack, mut heap) = ([0u8; 1024], Vec::new());
    let claims_json =
        decode_part(claims, &mut stack, &mut heap).map_err(|_| TokenError::Malformed)?;
    json_object(claims_json)
}

/// `json` decoded as `T` when it is a JSON object (serde's derived structs would also take an
/// array of their fields, `["HS256"]`).
fn json_object<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, TokenError> {
    let first = json
        .iter()
        .find(|byte| !matches!(byte, b' ' | b'\t' | b'\n' | b'\r'));
    if first != Some(&b'{') {
        return Err(TokenError::Json);
    }
    serde_json::from_slice(json).map_err(|_| TokenError::Json)
}

/// The token of the usual form of the header, `Bearer <token>` (the scheme in any case, one
/// space, a token of visible ASCII without spaces), in one pass over its bytes; `None` for
/// any other form, which [`JwtAuth::verify_header`] then checks part by part. Both accept the
/// same token from such a header.
fn plain_bearer_token(value: &[u8]) -> Option<&str> {
    let (scheme, token) = value.split_at_checked(7)?;
    if !scheme[..6].eq_ignore_ascii_case(b"bearer") || scheme[6] != b' ' || token.is_empty() {
        return None;
    }
    // No early exit, so the loop is vectorised.
    let visible = token
        .iter()
        .fold(true, |all, &byte| all & (byte > b' ') & (byte < 0x7f));
    if !visible {
        return None;
    }
    std::str::from_utf8(token).ok()
}

/// A fresh random secret: 32 random bytes, hex-encoded (64 characters).
pub fn generate_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Tower layer that authenticates every request with a [`JwtAuth`] (see the module docs).
#[derive(Debug, Clone)]
pub struct AuthLayer {
    auth: JwtAuth,
    webrpc_header: HeaderValue,
}

impl AuthLayer {
    /// A layer checking tokens with `auth`; its error answers carry `webrpc_header` (the
    /// `Webrpc` header of the service behind it).
    pub fn new(auth: JwtAuth, webrpc_header: &'static str) -> Self {
        AuthLayer {
            auth,
            webrpc_header: HeaderValue::from_static(webrpc_header),
        }
    }

    /// Authenticates `request`: `None` when the caller is authenticated (its [`AuthProject`]
    /// is then in the request's extensions), else the answer to send, the error envelope
    /// (what [`Auth`] sends without calling its inner service).
    pub fn authorize<B>(&self, request: &mut Request<B>) -> Option<Response<ResponseBody>> {
        match self
            .auth
            .verify_header(request.headers().get(AUTHORIZATION))
        {
            Ok(project) => {
                request.extensions_mut().insert(project);
                None
            }
            Err(err) => {
                tracing::info!(
                    path = request.uri().path(),
                    error = %err,
                    "request rejected by auth"
                );
                Some(
                    err.into_http_response_with_header(self.webrpc_header.clone())
                        .map(ResponseBody::full),
                )
            }
        }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    layer: AuthLayer,
}

impl<S, B> tower::Service<Request<B>> for Auth<S>
where
    S: tower::Service<Request<B>, Response = Response<ResponseBody>, Error = Infallible>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Either<S::Future, std::future::Ready<Result<Self::Response, Infallible>>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        match self.layer.authorize(&mut request) {
            None => Either::Left(self.inner.call(request)),
            Some(answer) => Either::Right(std::future::ready(Ok(answer))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_token_round_trips() {
        let auth = JwtAuth::new(b"secret");
        let token = auth.dev_token(7, "0xabc");
        let project = auth.verify_token(&token).unwrap();
        assert_eq!(project.project_id, 7);
        assert_eq!(project.account.as_deref(), Some("0xabc"));
        let other = JwtAuth::new(b"other");
        let err = other.verify_token(&token).unwrap_err();
        assert_eq!(err.code(), 1000);
        assert_eq!(err.cause(), Some("invalid JWT signature"));
    }

    #[test]
    fn header_scheme_is_case_insensitive() {
        let auth = JwtAuth::new(b"secret");
        let token = auth.dev_token(3, "0x1");
        for scheme in ["Bearer", "BEARER", "bearer"] {
            let value = HeaderValue::from_str(&format!("{scheme} {token}")).unwrap();
            assert_eq!(auth.verify_header(Some(&value)).unwrap().project_id, 3);
        }
        for spaced in [format!("Bearer   {token}"), format!(" Bearer {token} ")] {
            let value = HeaderValue::from_str(&spaced).unwrap();
            assert_eq!(auth.verify_header(Some(&value)).unwrap().project_id, 3);
        }
        for tabbed in [
            format!("Bearer\t{token}"),
            format!("Bearer \t{token}"),
            format!("Bearer\t {token}"),
            format!("Bearer {token}\tx"),
            format!("Bearer {token} x"),
        ] {
            let value = HeaderValue::from_str(&tabbed).unwrap();
            let err = auth.verify_header(Some(&value)).unwrap_err();
            assert_eq!(err.code(), 1000);
            assert!(
                err.cause().unwrap().contains("separated by spaces"),
                "{err}"
            );
        }
        let basic = HeaderValue::from_static("Basic dXNlcjpwYXNz");
        assert_eq!(auth.verify_header(Some(&basic)).unwrap_err().code(), 1000);
        // Bytes a header may carry but text may not (obs-text), wherever they are.
        for bytes in [
            format!("Bearer {token}\u{e9}").into_bytes(),
            [b"Bearer ".as_slice(), &[0xff], token.as_bytes()].concat(),
            [b"Be\x80arer ".as_slice(), token.as_bytes()].concat(),
        ] {
            let value = HeaderValue::from_bytes(&bytes).unwrap();
            let err = auth.verify_header(Some(&value)).unwrap_err();
            assert_eq!(err.code(), 1000);
            assert_eq!(err.cause(), Some("Authorization header is not valid text"));
        }
    }

    /// `header.claims.signature`, each part base64url-encoded as given; the signature is the
    /// HMAC-SHA256 of the first two with `secret` unless `signature` says otherwise.
    fn hand_token(header: &[u8], claims: &[u8], secret: &[u8], signature: Option<&str>) -> String {
        let input = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let signature = match signature {
            Some(text) => text.to_owned(),
            None => B64.encode(ring::hmac::sign(
                &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
                input.as_bytes(),
            )),
        };
        format!("{input}.{signature}")
    }

    /// What `jsonwebtoken::decode` says of `token`, as a [`TokenError`].
    fn oracle(token: &str, secret: &[u8]) -> Result<Claims, TokenError> {
        use jsonwebtoken::errors::ErrorKind;
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let key = jsonwebtoken::DecodingKey::from_secret(secret);
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|err| match err.kind() {
                ErrorKind::InvalidSignature => TokenError::Signature,
                ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                    TokenError::Algorithm
                }
                ErrorKind::Json(_) => TokenError::Json,
                _ => TokenError::Malformed,
            })
    }

    #[test]
    fn hs256_verification_agrees_with_jsonwebtoken_on_every_kind_of_token() {
        let secret = b"the secret";
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let hs256 = br#"{"alg":"HS256","typ":"JWT"}"#.as_slice();
        let claims = br#"{"project":7,"account":"0xabc","iat":1700000000.5,"exp":2e9}"#.as_slice();
        let valid = hand_token(hs256, claims, secret, None);
        let signature = valid.rsplit('.').next().unwrap().to_owned();
        let mut flipped = valid.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == 'A' { 'Q' } else { 'A' });
        let long_claims = format!(r#"{{"project":1,"account":"0x{}"}}"#, "ab".repeat(1500));
        let long_header = format!(r#"{{"alg":"HS256","kid":"{}"}}"#, "k".repeat(600));
        let jsonwebtoken_signed = |alg: Algorithm| {
            jsonwebtoken::encode(
                &Header::new(alg),
                &serde_json::json!({"project": 7}),
                &EncodingKey::from_secret(secret),
            )
            .unwrap()
        };
        let tokens: Vec<(&str, String)> = vec![
            ("valid", valid.clone()),
            (
                "valid, by jsonwebtoken",
                jsonwebtoken_signed(Algorithm::HS256),
            ),
            ("HS384", jsonwebtoken_signed(Algorithm::HS384)),
            ("HS512", jsonwebtoken_signed(Algorithm::HS512)),
            ("other secret", hand_token(hs256, claims, b"other", None)),
            ("signature altered", flipped),
            ("signature cut", valid[..valid.len() - 4].to_owned()),
            ("signature padded", format!("{valid}=")),
            (
                "signature empty",
                hand_token(hs256, claims, secret, Some("")),
            ),
            ("signature too long", format!("{valid}{}", "A".repeat(100))),
            (
                "signature of other claims",
                hand_token(hs256, br#"{"project":8}"#, secret, Some(&signature)),
            ),
            (
                "alg none",
                hand_token(br#"{"alg":"none"}"#, claims, secret, Some("")),
            ),
            (
                "alg None",
                hand_token(br#"{"alg":"None"}"#, claims, secret, None),
            ),
            (
                "alg hs256",
                hand_token(br#"{"alg":"hs256"}"#, claims, secret, None),
            ),
            (
                "alg RS256",
                hand_token(br#"{"alg":"RS256"}"#, claims, secret, None),
            ),
            (
                "alg EdDSA",
                hand_token(br#"{"alg":"EdDSA"}"#, claims, secret, None),
            ),
            (
                "alg missing",
                hand_token(br#"{"typ":"JWT"}"#, claims, secret, None),
            ),
            (
                "alg a number",
                hand_token(br#"{"alg":256}"#, claims, secret, None),
            ),
            (
                "alg twice",
                hand_token(br#"{"alg":"HS256","alg":"none"}"#, claims, secret, None),
            ),
            (
                "alg escaped",
                hand_token(br#"{"alg":"HS256"}"#, claims, secret, None),
            ),
            (
                "header an array",
                hand_token(br#"["HS256"]"#, claims, secret, None),
            ),
            (
                "header not JSON",
                hand_token(b"alg=HS256", claims, secret, None),
            ),
            ("header empty", hand_token(b"", claims, secret, None)),
            (
                "header long",
                hand_token(long_header.as_bytes(), claims, secret, None),
            ),
            (
                "claims long",
                hand_token(hs256, long_claims.as_bytes(), secret, None),
            ),
            (
                "claims not JSON",
                hand_token(hs256, b"project=7", secret, None),
            ),
            ("claims an array", hand_token(hs256, b"[7]", secret, None)),
            (
                "claims project a string",
                hand_token(hs256, br#"{"project":"7"}"#, secret, None),
            ),
            (
                "claims empty object",
                hand_token(hs256, b"{}", secret, None),
            ),
            (
                "header not base64",
                format!("{{}}.{}", &valid[valid.find('.').unwrap() + 1..]),
            ),
            ("claims not base64", {
                let mut parts: Vec<&str> = valid.split('.').collect();
                parts[1] = "e30*";
                parts.join(".")
            }),
            ("two parts", valid[..valid.rfind('.').unwrap()].to_owned()),
            ("four parts", format!("{valid}.{signature}")),
            ("dots only", "..".to_owned()),
            ("empty", String::new()),
            ("one word", "not-a-jwt".to_owned()),
            ("a.b.c", "a.b.c".to_owned()),
        ];
        for (name, token) in &tokens {
            let ours = verify_hs256(token, &key);
            let theirs = oracle(token, secret);
            assert_eq!(ours, theirs, "{name}: {token}");
        }
        let outcomes: Vec<_> = tokens.iter().map(|(_, t)| verify_hs256(t, &key)).collect();
        for wanted in [
            TokenError::Malformed,
            TokenError::Json,
            TokenError::Algorithm,
            TokenError::Signature,
        ] {
            assert!(outcomes.contains(&Err(wanted)), "no case gave {wanted:?}");
        }
        assert_eq!(verify_hs256(&valid, &key).unwrap().project, Some(7));
    }

    #[test]
    fn header_members_other_than_alg_are_not_read() {
        // The one place the two decoders part: jsonwebtoken types every registered header
        // member and refuses a token whose `typ` is not a string; no member but `alg` means
        // anything to this server, so it is not read.
        let secret = b"the secret";
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
        let token = hand_token(
            br#"{"alg":"HS256","typ":5}"#,
            br#"{"project":3}"#,
            secret,
            None,
        );
        assert_eq!(verify_hs256(&token, &key).unwrap().project, Some(3));
        assert_eq!(oracle(&token, secret).unwrap_err(), TokenError::Json);
    }

    #[test]
    fn the_one_pass_header_check_takes_only_what_the_full_check_takes() {
        let auth = JwtAuth::new(b"secret");
        let token = auth.dev_token(3, "0x1");
        // (header, taken by the one-pass check, accepted in the end)
        let cases = [
            (format!("Bearer {token}"), true, true),
            (format!("bEaReR {token}"), true, true),
            (format!("Bearer  {token}"), false, true),
            (format!(" Bearer {token}"), false, true),
            (format!("Bearer {token} "), false, true),
            (format!("Bearer\t{token}"), false, false),
            (format!("Bearer {token}\tx"), false, false),
            (format!("Bearer {token} x"), false, false),
            (format!("Bearer {token}\u{e9}"), false, false),
            (format!("Basic  {token}"), false, false),
            (format!("Bearers {token}"), false, false),
            ("Bearer ".to_owned(), false, false),
            ("Bearer".to_owned(), false, false),
        ];
        for (value, one_pass, accepted) in cases {
            let header = HeaderValue::from_bytes(value.as_bytes()).unwrap();
            let fast = plain_bearer_token(header.as_bytes());
            assert_eq!(fast.is_some(), one_pass, "{value:?}");
            if let Some(fast) = fast {
                assert_eq!(fast, token, "{value:?}");
            }
            let verified = auth.verify_header(Some(&header));
            assert_eq!(verified.is_ok(), accepted, "{value:?}: {verified:?}");
        }
    }

    #[test]
    fn secret_is_random_hex() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    /// A clock the test sets: seconds since the epoch.
    fn test_clock(start: f64) -> (Clock, Arc<std::sync::atomic::AtomicU64>) {
        let now = Arc::new(std::sync::atomic::AtomicU64::new(start.to_bits()));
        let read = Arc::clone(&now);
        let clock: Clock =
            Arc::new(move || f64::from_bits(read.load(std::sync::atomic::Ordering::SeqCst)));
        (clock, now)
    }

    fn set(now: &std::sync::atomic::AtomicU64, seconds: f64) {
        now.store(seconds.to_bits(), std::sync::atomic::Ordering::SeqCst);
    }

    fn claims(project: u64, exp: Option<f64>, nbf: Option<f64>) -> Claims {
        Claims {
            project: Some(project),
            account: Some("0xabc".into()),
            iat: None,
            exp,
            nbf,
        }
    }

    #[test]
    fn cached_token_is_not_accepted_from_its_exp_on() {
        let (clock, now) = test_clock(1000.0);
        let auth = JwtAuth::new(b"secret").with_cache(8).with_clock(clock);
        let token = auth.issue(&claims(5, Some(1010.0), None));
        assert_eq!(auth.verify_token(&token).unwrap().project_id, 5);
        set(&now, 1009.5);
        let cached = auth.verify_token(&token).unwrap();
        assert_eq!(cached.project_id, 5);
        assert_eq!(cached.account.as_deref(), Some("0xabc"));
        let cache = auth.cache().unwrap();
        assert_eq!(cache.hits(), 1, "the second call was answered by the cache");
        set(&now, 1010.0);
        let err = auth.verify_token(&token).unwrap_err();
        assert_eq!((err.code(), err.cause()), (1002, Some("JWT has expired")));
        assert!(cache.is_empty(), "the expired entry is gone");
        assert_eq!(cache.hits(), 1);
    }

    #[test]
    fn cached_token_is_not_accepted_before_its_nbf() {
        let (clock, now) = test_clock(2000.0);
        let auth = JwtAuth::new(b"secret").with_cache(8).with_clock(clock);
        let token = auth.issue(&claims(5, None, Some(1990.0)));
        assert!(auth.verify_token(&token).is_ok());
        // The clock steps back before the token's nbf: the cached entry must not answer.
        set(&now, 1980.0);
        let err = auth.verify_token(&token).unwrap_err();
        assert_eq!(
            (err.code(), err.cause()),
            (1000, Some("JWT is not valid yet (nbf)"))
        );
        assert_eq!(auth.cache().unwrap().hits(), 0);
    }

    #[test]
    fn failures_are_never_cached_as_successes() {
        let (clock, now) = test_clock(3000.0);
        let auth = JwtAuth::new(b"secret").with_cache(8).with_clock(clock);
        let cache = auth.cache().unwrap();
        let forged = JwtAuth::new(b"other").issue(&claims(5, None, None));
        let no_project = auth.issue(&Claims {
            project: None,
            ..claims(5, None, None)
        });
        let expired = auth.issue(&claims(5, Some(2999.0), None));
        let early = auth.issue(&claims(5, None, Some(3100.0)));
        for _ in 0..2 {
            assert_eq!(auth.verify_token(&forged).unwrap_err().code(), 1000);
            assert_eq!(auth.verify_token(&no_project).unwrap_err().code(), 1000);
            assert_eq!(auth.verify_token(&expired).unwrap_err().code(), 1002);
            assert_eq!(auth.verify_token(&early).unwrap_err().code(), 1000);
        }
        assert!(cache.is_empty());
        // A good token cached, then a copy with its signature altered: still rejected.
        let good = auth.issue(&claims(5, None, None));
        assert!(auth.verify_token(&good).is_ok());
        let mut tampered = good.clone();
        let last = tampered.pop().unwrap();
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert_eq!(auth.verify_token(&tampered).unwrap_err().code(), 1000);
        // Once its nbf has passed, the early token verifies: by the full check.
        set(&now, 3100.0);
        assert!(auth.verify_token(&early).is_ok());
        assert_eq!(cache.hits(), 0);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn cache_holds_at_most_its_capacity() {
        let auth = JwtAuth::new(b"secret").with_cache(3);
        let tokens: Vec<String> = (1..=10)
            .map(|project| auth.issue(&claims(project, None, None)))
            .collect();
        for (i, token) in tokens.iter().enumerate() {
            assert_eq!(auth.verify_token(token).unwrap().project_id, i as u64 + 1);
            assert!(auth.cache().unwrap().len() <= 3);
        }
        assert_eq!(auth.cache().unwrap().len(), 3);
        // An evicted token is verified again, and answers its own project.
        assert_eq!(auth.verify_token(&tokens[0]).unwrap().project_id, 1);
        assert_eq!(auth.cache().unwrap().len(), 3);
    }

    #[test]
    fn a_token_cached_under_one_secret_is_rejected_under_another() {
        let auth = JwtAuth::new(b"secret").with_cache(8);
        let token = auth.issue(&claims(5, None, None));
        assert!(auth.verify_token(&token).is_ok());
        assert!(auth.clone().verify_token(&token).is_ok());
        assert_eq!(auth.cache().unwrap().hits(), 1, "clones share the cache");
        let rotated = JwtAuth::new(b"rotated").with_cache(8);
        let err = rotated.verify_token(&token).unwrap_err();
        assert_eq!(err.cause(), Some("invalid JWT signature"));
    }

    #[test]
    fn zero_capacity_means_no_cache() {
        assert!(JwtAuth::new(b"s").with_cache(0).cache().is_none());
        assert!(JwtAuth::new(b"s").cache().is_none());
    }
}
