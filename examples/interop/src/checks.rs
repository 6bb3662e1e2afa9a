//! The reference client's checks (webrpc `tests/client/client.go`, `RunTests`), as
//! [`run_checks`] over any [`TestApi`]: a `TestApiClient` over the network or in process,
//! or a server implementation called directly.

use std::fmt;
use std::time::Duration;

use webrpc_core::WebrpcError;

use super::compare::{value_diff, values_match};
use super::fixtures::{fixture_complex, fixture_enums, fixture_one, fixture_three, fixture_two};
use super::schema::*;

/// An error as a check expects it: the wire fields of the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedError {
    /// `code`; for [`SCHEMA_ERROR_CASES`] also the argument of `GetSchemaError`.
    pub code: i32,
    /// `error`.
    pub name: &'static str,
    /// `msg`.
    pub msg: &'static str,
    /// `status`.
    pub status: u16,
    /// `cause`; `None` when the envelope must have none.
    pub cause: Option<&'static str>,
}

impl ExpectedError {
    /// The fields of `err` that differ from these, as `field: expected …, got …` phrases.
    pub fn mismatches(&self, err: &WebrpcError) -> Vec<String> {
        let mut out = Vec::new();
        if err.code() != self.code {
            out.push(format!("code: expected {}, got {}", self.code, err.code()));
        }
        if err.name() != self.name {
            out.push(format!(
                "name: expected {:?}, got {:?}",
                self.name,
                err.name()
            ));
        }
        if err.msg() != self.msg {
            out.push(format!("msg: expected {:?}, got {:?}", self.msg, err.msg()));
        }
        if err.status() != self.status {
            out.push(format!(
                "status: expected {}, got {}",
                self.status,
                err.status()
            ));
        }
        if err.cause() != self.cause {
            out.push(format!(
                "cause: expected {:?}, got {:?}",
                self.cause,
                err.cause()
            ));
        }
        out
    }
}

const fn case(
    code: i32,
    name: &'static str,
    msg: &'static str,
    status: u16,
    cause: Option<&'static str>,
) -> ExpectedError {
    ExpectedError {
        code,
        name,
        msg,
        status,
        cause,
    }
}

/// The reference client's `testSchemaErrors` table: `GetSchemaError(code)` must fail with
/// exactly this error.
pub const SCHEMA_ERROR_CASES: [ExpectedError; 19] = [
    case(
        0,
        "WebrpcEndpoint",
        "endpoint error",
        400,
        Some("failed to read file: unexpected EOF"),
    ),
    case(
        1,
        "Unauthorized",
        "unauthorized",
        401,
        Some("failed to verify JWT token"),
    ),
    case(2, "ExpiredToken", "expired token", 401, None),
    case(3, "InvalidToken", "invalid token", 401, None),
    case(4, "Deactivated", "account deactivated", 403, None),
    case(5, "ConfirmAccount", "confirm your email", 403, None),
    case(6, "AccessDenied", "access denied", 403, None),
    case(7, "MissingArgument", "missing argument", 400, None),
    case(8, "UnexpectedValue", "unexpected value", 400, None),
    case(
        100,
        "RateLimited",
        "too many requests",
        429,
        Some("1000 req/min exceeded"),
    ),
    case(101, "DatabaseDown", "service outage", 503, None),
    case(102, "ElasticDown", "search is degraded", 503, None),
    case(103, "NotImplemented", "not implemented", 501, None),
    case(200, "UserNotFound", "user not found", 400, None),
    case(201, "UserBusy", "user busy", 400, None),
    case(202, "InvalidUsername", "invalid username", 400, None),
    case(300, "FileTooBig", "file is too big (max 1GB)", 400, None),
    case(301, "FileInfected", "file is infected", 400, None),
    case(
        302,
        "FileType",
        "unsupported file type",
        400,
        Some(".wav is not supported"),
    ),
];

/// What `GetError` must answer (the reference server's plain `internal error`).
pub const GET_ERROR: ExpectedError = case(
    0,
    "WebrpcEndpoint",
    "endpoint error",
    400,
    Some("internal error"),
);

/// A `GetSchemaError` code that no row uses: the reference answers it with success.
pub const UNKNOWN_SCHEMA_ERROR_CODE: i64 = 999;

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, such as `GetOne` or `GetSchemaError(1) Unauthorized`.
    pub name: String,
    /// `Err(reason)` when the check failed.
    pub outcome: Result<(), String>,
}

impl Check {
    /// Whether the check passed.
    pub fn passed(&self) -> bool {
        self.outcome.is_ok()
    }
}

impl fmt::Display for Check {
    /// `ok   GetOne`, or `FAIL GetOne: <reason>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.outcome {
            Ok(()) => write!(f, "ok   {}", self.name),
            Err(reason) => write!(f, "FAIL {}: {reason}", self.name),
        }
    }
}

/// Every check of a run, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The checks, passed and failed, in the order they ran.
    pub checks: Vec<Check>,
}

impl Report {
    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> + '_ {
        self.checks.iter().filter(|c| !c.passed())
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.checks.iter().all(Check::passed)
    }

    fn record(&mut self, name: impl Into<String>, outcome: Result<(), String>) {
        self.checks.push(Check {
            name: name.into(),
            outcome,
        });
    }
}

fn call_failed(err: WebrpcError) -> String {
    format!("call failed: {err}")
}

/// `Ok` when `got` equals `expected` (by [`values_match`]), else the diff as the reason.
fn expect_value<T: serde::Serialize>(what: &str, expected: &T, got: &T) -> Result<(), String> {
    if values_match(expected, got) {
        Ok(())
    } else {
        Err(format!(
            "{what} differs from the fixture:\n{}",
            value_diff(expected, got).join("\n")
        ))
    }
}

fn expect_error<R: fmt::Debug>(
    result: Result<R, WebrpcError>,
    expected: &ExpectedError,
) -> Result<(), String> {
    match result {
        Ok(response) => Err(format!("expected an error, got success: {response:?}")),
        Err(err) => {
            let mismatches = expected.mismatches(&err);
            if mismatches.is_empty() {
                Ok(())
            } else {
                Err(format!("{} (error was: {err})", mismatches.join("; ")))
            }
        }
    }
}

fn not_run(input: &str) -> Result<(), String> {
    Err(format!("not run: {input} failed"))
}

/// Runs every check against `api` and reports each one. Never stops early: a failed call
/// is one failed check and the run goes on.
///
/// Every check of the reference runs, in its order, and a few are stricter:
///
/// | check | reference | here, in addition |
/// |---|---|---|
/// | `GetEmpty` | no error | |
/// | `GetError` | an error | it is `WebrpcEndpoint` (0, HTTP 400, `endpoint error`) with cause `internal error` |
/// | `GetOne`, `GetMulti`, `GetComplex` | no error | the values equal the fixtures ([`fixture_one`](super::fixture_one) …) (`meta["2"]` by number: `24` = `24.0`) |
/// | `SendOne`, `SendMulti`, `SendComplex` | sending back what the `Get*` returned succeeds | |
/// | `GetEnumList`, `GetEnumMap` | two entries | the entries are the fixtures' |
/// | `GetSchemaError(code)` per [`SCHEMA_ERROR_CASES`] row | code, name, msg, status; the cause when one is sent | the cause exactly (absent when the row has none), as the gen-typescript test checks it |
/// | `GetSchemaError(999)` | | succeeds, as the reference's `switch` falls through |
/// | `SendOne` with a wrong value | | `UnexpectedValue` (8, HTTP 400) with a cause starting `"one":` |
///
/// A check whose input comes from a failed call (`SendOne` after `GetOne` failed) fails
/// too, saying so.
pub async fn run_checks<T: TestApi>(api: &T) -> Report {
    let mut report = Report::default();
    let ctx = T::Ctx::default;

    let result = api.get_empty(ctx(), GetEmptyRequest {}).await;
    report.record("GetEmpty", result.map(drop).map_err(call_failed));

    let result = api.get_error(ctx(), GetErrorRequest {}).await;
    report.record("GetError", expect_error(result, &GET_ERROR));

    // GetOne, then SendOne with what came back.
    match api.get_one(ctx(), GetOneRequest {}).await {
        Ok(GetOneResponse { one }) => {
            report.record("GetOne", expect_value("one", &fixture_one(), &one));
            let result = api.send_one(ctx(), SendOneRequest { one }).await;
            report.record("SendOne", result.map(drop).map_err(call_failed));
        }
        Err(err) => {
            report.record("GetOne", Err(call_failed(err)));
            report.record("SendOne", not_run("GetOne"));
        }
    }

    match api.get_multi(ctx(), GetMultiRequest {}).await {
        Ok(GetMultiResponse { one, two, three }) => {
            let values = expect_value("one", &fixture_one(), &one)
                .and_then(|()| expect_value("two", &fixture_two(), &two))
                .and_then(|()| expect_value("three", &fixture_three(), &three));
            report.record("GetMulti", values);
            let result = api
                .send_multi(ctx(), SendMultiRequest { one, two, three })
                .await;
            report.record("SendMulti", result.map(drop).map_err(call_failed));
        }
        Err(err) => {
            report.record("GetMulti", Err(call_failed(err)));
            report.record("SendMulti", not_run("GetMulti"));
        }
    }

    match api.get_complex(ctx(), GetComplexRequest {}).await {
        Ok(GetComplexResponse { complex }) => {
            report.record(
                "GetComplex",
                expect_value("complex", &fixture_complex(), &complex),
            );
            let result = api
                .send_complex(ctx(), SendComplexRequest { complex })
                .await;
            report.record("SendComplex", result.map(drop).map_err(call_failed));
        }
        Err(err) => {
            report.record("GetComplex", Err(call_failed(err)));
            report.record("SendComplex", not_run("GetComplex"));
        }
    }

    let fixtures = fixture_enums();
    let outcome = match api.get_enum_list(ctx(), GetEnumListRequest {}).await {
        Ok(GetEnumListResponse { list }) if list.len() != 2 => {
            Err(format!("expected 2 entries, got {}: {list:?}", list.len()))
        }
        Ok(GetEnumListResponse { list }) => expect_value("list", &fixtures.list, &list),
        Err(err) => Err(call_failed(err)),
    };
    report.record("GetEnumList", outcome);

    let outcome = match api.get_enum_map(ctx(), GetEnumMapRequest {}).await {
        Ok(GetEnumMapResponse { map }) if map.len() != 2 => {
            Err(format!("expected 2 entries, got {}: {map:?}", map.len()))
        }
        Ok(GetEnumMapResponse { map }) if map != fixtures.dict => {
            Err(format!("expected {:?}, got {map:?}", fixtures.dict))
        }
        Ok(_) => Ok(()),
        Err(err) => Err(call_failed(err)),
    };
    report.record("GetEnumMap", outcome);

    for expected in &SCHEMA_ERROR_CASES {
        let request = GetSchemaErrorRequest {
            code: i64::from(expected.code),
        };
        let result = api.get_schema_error(ctx(), request).await;
        report.record(
            format!("GetSchemaError({}) {}", expected.code, expected.name),
            expect_error(result, expected),
        );
    }

    let request = GetSchemaErrorRequest {
        code: UNKNOWN_SCHEMA_ERROR_CODE,
    };
    let result = api.get_schema_error(ctx(), request).await;
    report.record(
        format!("GetSchemaError({UNKNOWN_SCHEMA_ERROR_CODE}) unknown code succeeds"),
        result.map(drop).map_err(call_failed),
    );

    let wrong = Simple {
        name: "uno".to_owned(),
        ..fixture_one()
    };
    let outcome = match api.send_one(ctx(), SendOneRequest { one: wrong }).await {
        Ok(_) => Err("expected UnexpectedValue, got success".to_owned()),
        Err(err) => {
            let expected = TestApiError::UnexpectedValue;
            let cause_ok = err.cause().is_some_and(|c| c.starts_with("\"one\":"));
            if err.is(expected)
                && err.name() == expected.name()
                && err.status() == expected.status()
                && cause_ok
            {
                Ok(())
            } else {
                Err(format!(
                    "expected UnexpectedValue 8 (HTTP 400) with a cause starting \"one\":, got {err} (status {})",
                    err.status()
                ))
            }
        }
    };
    report.record("SendOne(wrong value) is UnexpectedValue", outcome);

    report
}

/// Calls `GetEmpty` every 100 ms until it succeeds or `timeout` has passed (the reference
/// client's `Wait`), for a server that is still starting. Returns the last error on timeout.
pub async fn wait_ready<T: TestApi>(api: &T, timeout: Duration) -> Result<(), WebrpcError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match api.get_empty(Default::default(), GetEmptyRequest {}).await {
            Ok(_) => return Ok(()),
            Err(err) if tokio::time::Instant::now() >= deadline => return Err(err),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}
