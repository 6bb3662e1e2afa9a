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
//! | no `Authorization` header, not `Bearer …` (scheme compared case-insensitively), not a JWT | `Unauthorized` (1000, 401) |
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

use bytes::Bytes;
use futures_util::future::Either;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Request, Response};
use http_body_util::Full;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use sequence_metadata::MetadataError;
use serde::{Deserialize, Serialize};
use webrpc_core::{codec, WebrpcError};
use webrpc_server::ResponseBody;

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
}

struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("algorithm", &"HS256")
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
        let mut validation = Validation::new(Algorithm::HS256);
        // Time claims are checked here, below, so that a fractional `exp` is honoured and a
        // token without `exp` (like the seed's) is accepted.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        JwtAuth {
            inner: Arc::new(JwtKeys {
                encoding: EncodingKey::from_secret(secret),
                decoding: DecodingKey::from_secret(secret),
                validation,
            }),
        }
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

    /// Verifies a token (without the `Bearer ` prefix).
    pub fn verify_token(&self, token: &str) -> Result<AuthProject, WebrpcError> {
        let data =
            jsonwebtoken::decode::<Claims>(token, &self.inner.decoding, &self.inner.validation)
                .map_err(|err| {
                    // Fixed texts: the library's messages may quote parts of the token.
                    unauthorized(match err.kind() {
                        JwtErrorKind::InvalidSignature => "invalid JWT signature",
                        JwtErrorKind::InvalidAlgorithm | JwtErrorKind::InvalidAlgorithmName => {
                            "JWT must be signed with HS256"
                        }
                        JwtErrorKind::Json(_) => "malformed JWT: invalid header or claims",
                        _ => "malformed JWT",
                    })
                })?;
        let claims = data.claims;
        let now = now_seconds();
        if claims.exp.is_some_and(|exp| exp <= now) {
            return Err(MetadataError::SessionExpired.with_cause("JWT has expired"));
        }
        if claims.nbf.is_some_and(|nbf| nbf > now) {
            return Err(unauthorized("JWT is not valid yet (nbf)"));
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
        let value = value
            .to_str()
            .map_err(|_| unauthorized("Authorization header is not valid text"))?;
        let (scheme, token) = value
            .trim()
            .split_once(' ')
            .ok_or_else(|| unauthorized("Authorization header must be \"Bearer <JWT>\""))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(unauthorized(
                "Authorization header must be \"Bearer <JWT>\"",
            ));
        }
        let token = token.trim();
        if token.is_empty() {
            return Err(unauthorized("Authorization header has an empty token"));
        }
        self.verify_token(token)
    }
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
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = Auth<S>;

    fn layer(&self, inner: S) -> Auth<S> {
        Auth {
            inner,
            auth: self.auth.clone(),
            webrpc_header: self.webrpc_header.clone(),
        }
    }
}

/// The service made by [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct Auth<S> {
    inner: S,
    auth: JwtAuth,
    webrpc_header: HeaderValue,
}

/// The response of a webrpc error, with `Content-Type: application/json` and the `Webrpc`
/// header; HTTP status = the envelope's status.
pub(crate) fn envelope_response(
    err: &WebrpcError,
    webrpc_header: &HeaderValue,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(codec::encode_error(err)));
    *response.status_mut() = err.http_status();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(codec::JSON_CONTENT_TYPE),
    );
    response
        .headers_mut()
        .insert(webrpc_core::WEBRPC_HEADER, webrpc_header.clone());
    response
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
        match self
            .auth
            .verify_header(request.headers().get(AUTHORIZATION))
        {
            Ok(project) => {
                request.extensions_mut().insert(project);
                Either::Left(self.inner.call(request))
            }
            Err(err) => {
                tracing::info!(
                    path = request.uri().path(),
                    error = %err,
                    "request rejected by auth"
                );
                Either::Right(std::future::ready(Ok(envelope_response(
                    &err,
                    &self.webrpc_header,
                )
                .map(ResponseBody::from))))
            }
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
        let basic = HeaderValue::from_static("Basic dXNlcjpwYXNz");
        assert_eq!(auth.verify_header(Some(&basic)).unwrap_err().code(), 1000);
    }

    #[test]
    fn secret_is_random_hex() {
        let a = generate_secret().unwrap();
        let b = generate_secret().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
