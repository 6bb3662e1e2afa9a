//! [`TestServer`]: `TestApi` answering as webrpc's reference server (`tests/server/server.go`)
//! does, and [`router`] to serve it.

use std::sync::Arc;

use serde::Serialize;
use webrpc_core::{BuiltinError, RequestContext, WebrpcError};
use webrpc_server::Router;

use super::compare::{value_diff, values_match};
use super::fixtures::{fixture_complex, fixture_enums, fixture_one, fixture_three, fixture_two};
use super::schema::*;

/// The text of Go's `io.ErrUnexpectedEOF`, which the reference wraps in the cause of
/// `GetSchemaError(0)`: `failed to read file: unexpected EOF`.
const GO_UNEXPECTED_EOF: &str = "unexpected EOF";

/// The reference `TestApi` server: fixed answers, and `Send*` methods that check their
/// arguments against the fixtures.
///
/// | method | answer |
/// |---|---|
/// | `GetEmpty` | `{}` |
/// | `GetError` | `WebrpcEndpoint` (0, HTTP 400), cause `internal error` |
/// | `GetOne`, `GetMulti`, `GetComplex`, `GetEnumList`, `GetEnumMap` | the fixtures ([`fixture_complex`](super::fixture_complex) …) |
/// | `SendOne`, `SendMulti`, `SendComplex` | `{}` when the arguments equal the fixtures, else `UnexpectedValue` (8, HTTP 400) with cause `"<arg>":\n<diff>` |
/// | `GetSchemaError(code)` | the error of that code, causes as the reference (see [`TestServer::schema_error`]); `{}` for an unknown code |
///
/// The `Send*` cause names the argument as the reference does (`"one":` then a newline);
/// the diff that follows is one line per differing path (`  .name: expected "one", got
/// "uno"`) rather than go-cmp's Go-syntax diff, whose text is no contract.
#[derive(Debug, Clone, Copy, Default)]
pub struct TestServer;

impl TestServer {
    /// What `GetSchemaError(code)` answers: `Some(error)` for the codes of the reference
    /// table, `None` (success) for any other code, as the reference's `switch` falls through
    /// to `return nil`.
    ///
    /// Code 0 is the reference's plain Go error `failed to read file: unexpected EOF`,
    /// which its server wraps as `WebrpcEndpoint`; codes 1, 100 and 302 carry causes
    /// (`failed to verify JWT token`, `1000 req/min exceeded`, `.wav is not supported`); the
    /// others have none.
    pub fn schema_error(code: i64) -> Option<WebrpcError> {
        use TestApiError as E;
        let err = match code {
            0 => endpoint_error(format!("failed to read file: {GO_UNEXPECTED_EOF}")),
            1 => E::Unauthorized.with_cause("failed to verify JWT token"),
            2 => E::ExpiredToken.err(),
            3 => E::InvalidToken.err(),
            4 => E::Deactivated.err(),
            5 => E::ConfirmAccount.err(),
            6 => E::AccessDenied.err(),
            7 => E::MissingArgument.err(),
            8 => E::UnexpectedValue.err(),
            100 => E::RateLimited.with_cause("1000 req/min exceeded"),
            101 => E::DatabaseDown.err(),
            102 => E::ElasticDown.err(),
            103 => E::NotImplemented.err(),
            200 => E::UserNotFound.err(),
            201 => E::UserBusy.err(),
            202 => E::InvalidUsername.err(),
            300 => E::FileTooBig.err(),
            301 => E::FileInfected.err(),
            302 => E::FileType.with_cause(".wav is not supported"),
            _ => return None,
        };
        Some(err)
    }
}

/// A handler error that is no webrpc error, as the reference server wraps it:
/// `WebrpcEndpoint` with the error's text as the cause.
fn endpoint_error(text: String) -> WebrpcError {
    BuiltinError::WebrpcEndpoint.with_cause(text)
}

/// `Ok` when `got` equals `expected`, else `UnexpectedValue` with cause `"<arg>":\n<diff>`.
fn expect_value<T: Serialize>(arg: &str, expected: &T, got: &T) -> Result<(), WebrpcError> {
    if values_match(expected, got) {
        return Ok(());
    }
    let diff = value_diff(expected, got).join("\n");
    Err(TestApiError::UnexpectedValue.with_cause(format!("{arg:?}:\n{diff}")))
}

impl TestApi for TestServer {
    type Ctx = RequestContext;

    async fn get_empty(
        &self,
        _ctx: RequestContext,
        _request: GetEmptyRequest,
    ) -> Result<GetEmptyResponse, WebrpcError> {
        Ok(GetEmptyResponse {})
    }

    async fn get_error(
        &self,
        _ctx: RequestContext,
        _request: GetErrorRequest,
    ) -> Result<GetErrorResponse, WebrpcError> {
        // The reference returns `fmt.Errorf("internal error")`, a plain Go error.
        Err(endpoint_error("internal error".to_owned()))
    }

    async fn get_one(
        &self,
        _ctx: RequestContext,
        _request: GetOneRequest,
    ) -> Result<GetOneResponse, WebrpcError> {
        Ok(GetOneResponse { one: fixture_one() })
    }

    async fn send_one(
        &self,
        _ctx: RequestContext,
        request: SendOneRequest,
    ) -> Result<SendOneResponse, WebrpcError> {
        expect_value("one", &fixture_one(), &request.one)?;
        Ok(SendOneResponse {})
    }

    async fn get_multi(
        &self,
        _ctx: RequestContext,
        _request: GetMultiRequest,
    ) -> Result<GetMultiResponse, WebrpcError> {
        Ok(GetMultiResponse {
            one: fixture_one(),
            two: fixture_two(),
            three: fixture_three(),
        })
    }

    async fn send_multi(
        &self,
        _ctx: RequestContext,
        request: SendMultiRequest,
    ) -> Result<SendMultiResponse, WebrpcError> {
        expect_value("one", &fixture_one(), &request.one)?;
        expect_value("two", &fixture_two(), &request.two)?;
        expect_value("three", &fixture_three(), &request.three)?;
        Ok(SendMultiResponse {})
    }

    async fn get_complex(
        &self,
        _ctx: RequestContext,
        _request: GetComplexRequest,
    ) -> Result<GetComplexResponse, WebrpcError> {
        Ok(GetComplexResponse {
            complex: fixture_complex(),
        })
    }

    async fn send_complex(
        &self,
        _ctx: RequestContext,
        request: SendComplexRequest,
    ) -> Result<SendComplexResponse, WebrpcError> {
        expect_value("complex", &fixture_complex(), &request.complex)?;
        Ok(SendComplexResponse {})
    }

    async fn get_enum_list(
        &self,
        _ctx: RequestContext,
        _request: GetEnumListRequest,
    ) -> Result<GetEnumListResponse, WebrpcError> {
        Ok(GetEnumListResponse {
            list: fixture_enums().list,
        })
    }

    async fn get_enum_map(
        &self,
        _ctx: RequestContext,
        _request: GetEnumMapRequest,
    ) -> Result<GetEnumMapResponse, WebrpcError> {
        Ok(GetEnumMapResponse {
            map: fixture_enums().dict,
        })
    }

    async fn get_schema_error(
        &self,
        _ctx: RequestContext,
        request: GetSchemaErrorRequest,
    ) -> Result<GetSchemaErrorResponse, WebrpcError> {
        match TestServer::schema_error(request.code) {
            Some(err) => Err(err),
            None => Ok(GetSchemaErrorResponse {}),
        }
    }
}

/// A router serving [`TestServer`] at `/rpc/TestApi/<Method>`; every response carries
/// `Webrpc: webrpc@v0.31.0;webrpc-rs@v…;Test@v1.0.0`.
pub fn router() -> Router {
    mount_test_api(Arc::new(TestServer), Router::new())
}
