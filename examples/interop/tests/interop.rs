//! webrpc's interop `TestApi`: the Rust client against the Rust server, in process and over
//! loopback, plus the reference's wire bytes pinned row by row, and the two binaries run
//! against each other.
//!
//! ```text
//! cargo test -p interop --test interop
//! ```
//!
//! The expected bodies below are copied from webrpc's reference server as it answers on the
//! wire (Go's `json.Marshal` of its fixtures and errors), independently of the tables in
//! the `interop` crate, so a slip in one is caught by the other.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tower::ServiceExt;
use webrpc_client::Client;
use webrpc_core::{BuiltinError, ErrorKind, RequestContext, WebrpcError, WebrpcHeader};
use webrpc_server::{serve, Router};

use interop::*;

/// Generous bound on anything that waits for another process or task.
const WAIT: Duration = Duration::from_secs(60);

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// `POST /rpc/TestApi/<method>` with `body`, straight into the router (no socket).
async fn post(method: &str, body: impl Into<String>) -> Answer {
    let request = Request::post(format!("/rpc/TestApi/{method}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.into())))
        .unwrap();
    send(request).await
}

async fn send(request: Request<Full<Bytes>>) -> Answer {
    let response = router().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8(bytes.to_vec()).unwrap(),
    }
}

fn in_process_client() -> TestApiClient<Client<Router>> {
    TestApiClient::new(
        Client::builder("http://localhost")
            .build_with(router())
            .unwrap(),
    )
}

fn assert_report_passed(report: &Report) {
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    assert!(
        failures.is_empty(),
        "failed checks:\n{}",
        failures.join("\n")
    );
    // Every reference check ran: 10 calls, 19 schema errors, and 2 of our own.
    assert_eq!(report.checks.len(), 31, "{:#?}", report.checks);
}

#[tokio::test]
async fn in_process_client_passes_every_check() {
    let report = run_checks(&in_process_client()).await;
    assert_report_passed(&report);
}

#[tokio::test]
async fn loopback_client_passes_every_check() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = serve(listener, router()).spawn();

    let client = TestApiClient::new(Client::new(&url).unwrap());
    wait_ready(&client, WAIT).await.unwrap();
    let report = run_checks(&client).await;

    tokio::time::timeout(WAIT, server.shutdown())
        .await
        .expect("server shuts down")
        .unwrap();
    assert_report_passed(&report);
}

#[tokio::test]
async fn the_server_implementation_passes_every_check_without_http() {
    assert_report_passed(&run_checks(&TestServer).await);
}

#[tokio::test]
async fn checks_catch_a_server_that_answers_wrongly() {
    // A server that is right about everything except GetOne and one schema error.
    struct Off;
    impl TestApi for Off {
        type Ctx = RequestContext;

        async fn get_empty(
            &self,
            c: RequestContext,
            r: GetEmptyRequest,
        ) -> Result<GetEmptyResponse, WebrpcError> {
            TestServer.get_empty(c, r).await
        }
        async fn get_error(
            &self,
            c: RequestContext,
            r: GetErrorRequest,
        ) -> Result<GetErrorResponse, WebrpcError> {
            TestServer.get_error(c, r).await
        }
        async fn get_one(
            &self,
            _: RequestContext,
            _: GetOneRequest,
        ) -> Result<GetOneResponse, WebrpcError> {
            Ok(GetOneResponse {
                one: Simple {
                    id: 7,
                    name: "one".into(),
                },
            })
        }
        async fn send_one(
            &self,
            c: RequestContext,
            r: SendOneRequest,
        ) -> Result<SendOneResponse, WebrpcError> {
            TestServer.send_one(c, r).await
        }
        async fn get_multi(
            &self,
            c: RequestContext,
            r: GetMultiRequest,
        ) -> Result<GetMultiResponse, WebrpcError> {
            TestServer.get_multi(c, r).await
        }
        async fn send_multi(
            &self,
            c: RequestContext,
            r: SendMultiRequest,
        ) -> Result<SendMultiResponse, WebrpcError> {
            TestServer.send_multi(c, r).await
        }
        async fn get_complex(
            &self,
            c: RequestContext,
            r: GetComplexRequest,
        ) -> Result<GetComplexResponse, WebrpcError> {
            TestServer.get_complex(c, r).await
        }
        async fn send_complex(
            &self,
            c: RequestContext,
            r: SendComplexRequest,
        ) -> Result<SendComplexResponse, WebrpcError> {
            TestServer.send_complex(c, r).await
        }
        async fn get_enum_list(
            &self,
            c: RequestContext,
            r: GetEnumListRequest,
        ) -> Result<GetEnumListResponse, WebrpcError> {
            TestServer.get_enum_list(c, r).await
        }
        async fn get_enum_map(
            &self,
            c: RequestContext,
            r: GetEnumMapRequest,
        ) -> Result<GetEnumMapResponse, WebrpcError> {
            TestServer.get_enum_map(c, r).await
        }
        async fn get_schema_error(
            &self,
            c: RequestContext,
            r: GetSchemaErrorRequest,
        ) -> Result<GetSchemaErrorResponse, WebrpcError> {
            if r.code == 2 {
                // Right error, but with a cause the reference does not send.
                return Err(TestApiError::ExpiredToken.with_cause("since yesterday"));
            }
            TestServer.get_schema_error(c, r).await
        }
    }

    let report = run_checks(&Off).await;
    let failed: Vec<&str> = report.failures().map(|c| c.name.as_str()).collect();
    assert_eq!(
        failed,
        ["GetOne", "SendOne", "GetSchemaError(2) ExpiredToken"]
    );
    let get_one = report.checks.iter().find(|c| c.name == "GetOne").unwrap();
    let reason = get_one.outcome.as_ref().unwrap_err();
    assert!(reason.contains(".id: expected 1, got 7"), "{reason}");
    let send_one = report.checks.iter().find(|c| c.name == "SendOne").unwrap();
    let reason = send_one.outcome.as_ref().unwrap_err();
    assert!(reason.contains("UnexpectedValue 8"), "{reason}");
}

/// The reference server's answer to `GetSchemaError(code)` for every code of its table,
/// as bytes on the wire.
const SCHEMA_ERROR_WIRE: [(i32, u16, &str); 19] = [
    (
        0,
        400,
        r#"{"error":"WebrpcEndpoint","code":0,"msg":"endpoint error","cause":"failed to read file: unexpected EOF","status":400}"#,
    ),
    (
        1,
        401,
        r#"{"error":"Unauthorized","code":1,"msg":"unauthorized","cause":"failed to verify JWT token","status":401}"#,
    ),
    (
        2,
        401,
        r#"{"error":"ExpiredToken","code":2,"msg":"expired token","status":401}"#,
    ),
    (
        3,
        401,
        r#"{"error":"InvalidToken","code":3,"msg":"invalid token","status":401}"#,
    ),
    (
        4,
        403,
        r#"{"error":"Deactivated","code":4,"msg":"account deactivated","status":403}"#,
    ),
    (
        5,
        403,
        r#"{"error":"ConfirmAccount","code":5,"msg":"confirm your email","status":403}"#,
    ),
    (
        6,
        403,
        r#"{"error":"AccessDenied","code":6,"msg":"access denied","status":403}"#,
    ),
    (
        7,
        400,
        r#"{"error":"MissingArgument","code":7,"msg":"missing argument","status":400}"#,
    ),
    (
        8,
        400,
        r#"{"error":"UnexpectedValue","code":8,"msg":"unexpected value","status":400}"#,
    ),
    (
        100,
        429,
        r#"{"error":"RateLimited","code":100,"msg":"too many requests","cause":"1000 req/min exceeded","status":429}"#,
    ),
    (
        101,
        503,
        r#"{"error":"DatabaseDown","code":101,"msg":"service outage","status":503}"#,
    ),
    (
        102,
        503,
        r#"{"error":"ElasticDown","code":102,"msg":"search is degraded","status":503}"#,
    ),
    (
        103,
        501,
        r#"{"error":"NotImplemented","code":103,"msg":"not implemented","status":501}"#,
    ),
    (
        200,
        400,
        r#"{"error":"UserNotFound","code":200,"msg":"user not found","status":400}"#,
    ),
    (
        201,
        400,
        r#"{"error":"UserBusy","code":201,"msg":"user busy","status":400}"#,
    ),
    (
        202,
        400,
        r#"{"error":"InvalidUsername","code":202,"msg":"invalid username","status":400}"#,
    ),
    (
        300,
        400,
        r#"{"error":"FileTooBig","code":300,"msg":"file is too big (max 1GB)","status":400}"#,
    ),
    (
        301,
        400,
        r#"{"error":"FileInfected","code":301,"msg":"file is infected","status":400}"#,
    ),
    (
        302,
        400,
        r#"{"error":"FileType","code":302,"msg":"unsupported file type","cause":".wav is not supported","status":400}"#,
    ),
];

#[tokio::test]
async fn schema_errors_are_the_reference_bytes_row_by_row() {
    for (code, status, body) in SCHEMA_ERROR_WIRE {
        let answer = post("GetSchemaError", format!("{{\"code\":{code}}}")).await;
        assert_eq!(answer.status.as_u16(), status, "code {code}");
        assert_eq!(answer.body, body, "code {code}");
        assert_eq!(
            answer.headers["content-type"], "application/json",
            "code {code}"
        );
    }
}

#[tokio::test]
async fn schema_errors_row_by_row_through_the_client() {
    let client = in_process_client();
    assert_eq!(SCHEMA_ERROR_CASES.len(), SCHEMA_ERROR_WIRE.len());
    for (case, (code, status, body)) in SCHEMA_ERROR_CASES.iter().zip(SCHEMA_ERROR_WIRE) {
        assert_eq!(case.code, code);
        let err = client
            .get_schema_error(
                Default::default(),
                GetSchemaErrorRequest {
                    code: i64::from(code),
                },
            )
            .await
            .expect_err("GetSchemaError fails for every code of the table");
        let wire: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(err.code(), code);
        assert_eq!(err.name(), wire["error"], "code {code}");
        assert_eq!(err.msg(), wire["msg"], "code {code}");
        assert_eq!(err.status(), status, "code {code}");
        assert_eq!(err.cause(), wire["cause"].as_str(), "code {code}");
        assert_eq!(
            (err.name(), err.msg(), err.status(), err.cause()),
            (case.name, case.msg, case.status, case.cause),
            "code {code}"
        );
        assert!(case.mismatches(&err).is_empty(), "code {code}");
        // Matching by code: code 0 is webrpc's own, the others the schema's.
        if code == 0 {
            assert_eq!(
                err.kind::<BuiltinError>(),
                Some(BuiltinError::WebrpcEndpoint)
            );
        } else {
            let kind = err.kind::<TestApiError>().expect("a TestApi error");
            assert_eq!((kind.code(), kind.name()), (code, case.name));
        }
    }
}

#[tokio::test]
async fn unknown_schema_error_code_succeeds_as_in_the_reference() {
    for code in ["9", "-1", "999", "1000000"] {
        let answer = post("GetSchemaError", format!("{{\"code\":{code}}}")).await;
        assert_eq!(answer.status, StatusCode::OK, "code {code}");
        assert_eq!(answer.body, "{}", "code {code}");
    }
    assert!(TestServer::schema_error(UNKNOWN_SCHEMA_ERROR_CODE).is_none());
}

#[test]
fn error_catalogue_pins_every_entry() {
    let expected: [(i32, &str, &str, u16); 18] = [
        (1, "Unauthorized", "unauthorized", 401),
        (2, "ExpiredToken", "expired token", 401),
        (3, "InvalidToken", "invalid token", 401),
        (4, "Deactivated", "account deactivated", 403),
        (5, "ConfirmAccount", "confirm your email", 403),
        (6, "AccessDenied", "access denied", 403),
        (7, "MissingArgument", "missing argument", 400),
        (8, "UnexpectedValue", "unexpected value", 400),
        (100, "RateLimited", "too many requests", 429),
        (101, "DatabaseDown", "service outage", 503),
        (102, "ElasticDown", "search is degraded", 503),
        (103, "NotImplemented", "not implemented", 501),
        (200, "UserNotFound", "user not found", 400),
        (201, "UserBusy", "user busy", 400),
        (202, "InvalidUsername", "invalid username", 400),
        (300, "FileTooBig", "file is too big (max 1GB)", 400),
        (301, "FileInfected", "file is infected", 400),
        (302, "FileType", "unsupported file type", 400),
    ];
    let table: Vec<_> = TestApiError::ALL
        .iter()
        .map(|e| (e.code(), e.name(), e.msg(), e.status()))
        .collect();
    assert_eq!(table, expected);
    for (code, name, _, _) in expected {
        assert_eq!(
            TestApiError::from_code(code).map(TestApiError::name),
            Some(name)
        );
    }
}

#[tokio::test]
async fn get_error_is_webrpc_endpoint_code_0_status_400() {
    let err = in_process_client()
        .get_error(Default::default(), GetErrorRequest {})
        .await
        .unwrap_err();
    assert_eq!(
        (err.name(), err.code(), err.msg(), err.status(), err.cause()),
        (
            "WebrpcEndpoint",
            0,
            "endpoint error",
            400,
            Some("internal error")
        )
    );
    let answer = post("GetError", "null").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.body,
        r#"{"error":"WebrpcEndpoint","code":0,"msg":"endpoint error","cause":"internal error","status":400}"#
    );
}

#[tokio::test]
async fn send_one_with_a_wrong_value_is_unexpected_value_with_a_cause() {
    let client = in_process_client();
    let wrong = Simple {
        id: 1,
        name: "uno".into(),
    };
    let err = client
        .send_one(Default::default(), SendOneRequest { one: wrong })
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<TestApiError>(),
        Some(TestApiError::UnexpectedValue)
    );
    assert_eq!(
        (err.name(), err.code(), err.msg(), err.status()),
        ("UnexpectedValue", 8, "unexpected value", 400)
    );
    assert_eq!(
        err.cause(),
        Some("\"one\":\n  .name: expected \"one\", got \"uno\"")
    );

    // The right value passes.
    client
        .send_one(Default::default(), SendOneRequest { one: fixture_one() })
        .await
        .unwrap();
}

#[tokio::test]
async fn send_multi_names_the_first_wrong_argument() {
    let client = in_process_client();
    let request = SendMultiRequest {
        one: fixture_one(),
        two: Simple {
            id: 2,
            name: "deux".into(),
        },
        three: fixture_one(),
    };
    let err = client
        .send_multi(Default::default(), request)
        .await
        .unwrap_err();
    assert!(err.is(TestApiError::UnexpectedValue), "{err}");
    // `three` is wrong too, but `two` is checked first, as in the reference.
    assert_eq!(
        err.cause(),
        Some("\"two\":\n  .name: expected \"two\", got \"deux\"")
    );
}

#[tokio::test]
async fn send_complex_compares_like_go() {
    // What the Go client sends back after GetComplex: meta "2" re-encoded from float64 24.
    let go_round_trip = r#"{"complex":{"meta":{"1":"23","2":24},"metaNestedExample":{"1":{"2":1}},"namesList":["John","Alice","Jakob"],"numsList":[1,2,3,4534643543],"doubleArray":[["testing"],["api"]],"listOfMaps":[{"Jakob":251,"alice":2,"john":1}],"listOfUsers":[{"id":1,"USERNAME":"John-Doe","role":"admin"}],"mapOfUsers":{"admin":{"id":1,"USERNAME":"John-Doe","role":"admin"}},"user":{"id":1,"USERNAME":"John-Doe","role":"admin"},"status":"AVAILABLE"}}"#;
    let answer = post("SendComplex", go_round_trip).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "{}")
    );

    // 24.0 is the same float64 to Go, so to us.
    let as_float = go_round_trip.replace(r#""2":24}"#, r#""2":24.0}"#);
    assert_ne!(as_float, go_round_trip);
    let answer = post("SendComplex", as_float).await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "{}")
    );

    // A string is not a number, and a truncated int64 is not the fixture.
    let wrong = go_round_trip
        .replace(r#""2":24}"#, r#""2":"24"}"#)
        .replace("4534643543", "239676247");
    let answer = post("SendComplex", wrong).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    let err: WebrpcError = serde_json::from_str(&answer.body).unwrap();
    assert!(err.is(TestApiError::UnexpectedValue), "{err}");
    let cause = err.cause().unwrap();
    assert!(cause.starts_with("\"complex\":\n"), "{cause}");
    assert!(
        cause.contains(".meta[\"2\"]: expected 24, got \"24\""),
        "{cause}"
    );
    assert!(
        cause.contains(".numsList[3]: expected 4534643543, got 239676247"),
        "{cause}"
    );
}

#[tokio::test]
async fn struct_fields_decode_like_go_arguments_are_required() {
    // A missing or null field is Go's zero value, so the comparison fails as in Go.
    for body in [r#"{"one":{"id":1}}"#, r#"{"one":{"id":1,"name":null}}"#] {
        let answer = post("SendOne", body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
        let err: WebrpcError = serde_json::from_str(&answer.body).unwrap();
        assert!(err.is(TestApiError::UnexpectedValue), "{body}: {err}");
        assert_eq!(
            err.cause(),
            Some("\"one\":\n  .name: expected \"one\", got \"\""),
            "{body}"
        );
    }
    // Unknown keys are ignored.
    let answer = post(
        "SendOne",
        r#"{"one":{"id":1,"name":"one","extra":[1]},"x":2}"#,
    )
    .await;
    assert_eq!(
        (answer.status, answer.body.as_str()),
        (StatusCode::OK, "{}")
    );

    // A missing argument is rejected before the handler (Go would compare nil and answer
    // UnexpectedValue; both are HTTP 400).
    for (method, body, arg) in [
        ("SendOne", "{}", "`one`"),
        ("SendOne", "null", "null"),
        ("SendComplex", "{}", "`complex`"),
        ("GetSchemaError", "", "EOF"),
        ("GetSchemaError", r#"{"code":null}"#, "null"),
    ] {
        let answer = post(method, body).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{method}");
        let err: WebrpcError = serde_json::from_str(&answer.body).unwrap();
        assert!(err.is(BuiltinError::WebrpcBadRequest), "{method}: {err}");
        let cause = err.cause().unwrap();
        assert!(
            cause.starts_with("failed to unmarshal request data: ") && cause.contains(arg),
            "{method}: {cause}"
        );
    }
}

#[tokio::test]
async fn enum_wire_shapes() {
    let answer = post("GetEnumMap", "null").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body, r#"{"map":{"READ":1,"WRITE":2}}"#);
    let answer = post("GetEnumList", "{}").await;
    assert_eq!(answer.body, r#"{"list":["AVAILABLE","NOT_AVAILABLE"]}"#);

    // Keys go out sorted by name, as Go writes them, not by number.
    let every = GetEnumMapResponse {
        map: Access::ALL
            .iter()
            .map(|a| (*a, u64::from(a.value())))
            .collect(),
    };
    assert_eq!(
        serde_json::to_string(&every).unwrap(),
        r#"{"map":{"ADMIN":3,"NONE":0,"OWNER":4,"READ":1,"WRITE":2}}"#
    );
    let data = EnumData {
        dict: every.map.clone(),
        list: Status::ALL.to_vec(),
    };
    assert_eq!(
        serde_json::to_value(&data).unwrap(),
        json!({"dict": {"ADMIN":3,"NONE":0,"OWNER":4,"READ":1,"WRITE":2}, "list": ["AVAILABLE", "NOT_AVAILABLE"]})
    );
    let decoded: GetEnumMapResponse =
        serde_json::from_str(r#"{"map":{"WRITE":2,"READ":1}}"#).unwrap();
    assert_eq!(decoded.map, fixture_enums().dict);
    for access in Access::ALL {
        assert_eq!(serde_json::to_value(access).unwrap(), json!(access.name()));
    }

    // Names only: a number is refused, as Go's `encoding/json` refuses one for a
    // `TextUnmarshaler`. An unknown name (a newer peer's, or a number as a map key) is the
    // first value, as gen-golang's `UnmarshalText` reads it.
    assert!(serde_json::from_str::<GetEnumListResponse>(r#"{"list":[0]}"#).is_err());
    let list: GetEnumListResponse = serde_json::from_str(r#"{"list":["BOGUS"]}"#).unwrap();
    assert_eq!(list.list, [Status::Available]);
    let map: GetEnumMapResponse = serde_json::from_str(r#"{"map":{"1":1}}"#).unwrap();
    assert_eq!(map.map, BTreeMap::from([(Access::None, 1)]));
}

#[tokio::test]
async fn responses_are_the_reference_bytes() {
    let cases = [
        ("GetEmpty", "{}"),
        ("GetOne", r#"{"one":{"id":1,"name":"one"}}"#),
        (
            "GetMulti",
            r#"{"one":{"id":1,"name":"one"},"two":{"id":2,"name":"two"},"three":{"id":3,"name":"three"}}"#,
        ),
        (
            "GetComplex",
            r#"{"complex":{"meta":{"1":"23","2":24},"metaNestedExample":{"1":{"2":1}},"namesList":["John","Alice","Jakob"],"numsList":[1,2,3,4534643543],"doubleArray":[["testing"],["api"]],"listOfMaps":[{"Jakob":251,"alice":2,"john":1}],"listOfUsers":[{"id":1,"USERNAME":"John-Doe","role":"admin"}],"mapOfUsers":{"admin":{"id":1,"USERNAME":"John-Doe","role":"admin"}},"user":{"id":1,"USERNAME":"John-Doe","role":"admin"},"status":"AVAILABLE"}}"#,
        ),
    ];
    // The Go client sends `null` for methods without arguments; the TS client `{}`.
    for body in ["null", "{}", ""] {
        for (method, expected) in cases {
            let answer = post(method, body).await;
            assert_eq!(answer.status, StatusCode::OK, "{method} with {body:?}");
            assert_eq!(answer.body, expected, "{method} with {body:?}");
        }
    }
    // And the Rust types read the reference's bytes back into the fixtures.
    let complex: GetComplexResponse = serde_json::from_str(cases[3].1).unwrap();
    assert_eq!(complex.complex, fixture_complex());
}

#[tokio::test]
async fn webrpc_header_names_the_test_schema() {
    let ok = post("GetEmpty", "null").await;
    let failed = post("GetError", "null").await;
    let bad_route = post("Nope", "null").await;
    assert_eq!(bad_route.status, StatusCode::NOT_FOUND);
    for answer in [ok, failed, bad_route] {
        let value = answer.headers["webrpc"].to_str().unwrap();
        let header = WebrpcHeader::parse(value).unwrap();
        assert_eq!(
            (header.schema_name.as_str(), header.schema_version.as_str()),
            ("Test", "v1.0.0"),
            "{value}"
        );
        assert_eq!(header.gen_name, "webrpc-rs");
    }
    assert!(<GetOne as webrpc_core::Method>::WEBRPC_HEADER.ends_with(";Test@v1.0.0"));
    assert_eq!(
        <GetOne as webrpc_core::Method>::INFO.path("/rpc/"),
        "/rpc/TestApi/GetOne"
    );
}

#[test]
fn every_method_is_mounted_at_the_reference_path() {
    let router = router();
    let mut paths: Vec<String> = router.methods().map(|m| m.path("/rpc/")).collect();
    paths.sort();
    let names = [
        "GetComplex",
        "GetEmpty",
        "GetEnumList",
        "GetEnumMap",
        "GetError",
        "GetMulti",
        "GetOne",
        "GetSchemaError",
        "SendComplex",
        "SendMulti",
        "SendOne",
    ];
    let expected: Vec<String> = names.iter().map(|n| format!("/rpc/TestApi/{n}")).collect();
    assert_eq!(paths, expected);
}

#[tokio::test]
async fn the_binaries_interoperate() {
    let mut server = Command::new(env!("CARGO_BIN_EXE_interop-server"))
        .args(["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let first_line = tokio::time::timeout(WAIT, BufReader::new(stdout).lines().next_line())
        .await
        .expect("the server prints its address")
        .unwrap()
        .expect("a line before EOF");
    let url = first_line.trim().to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(!url.ends_with(":0"), "{url}");

    let client = tokio::time::timeout(
        WAIT,
        Command::new(env!("CARGO_BIN_EXE_interop-client"))
            .args(["--url", &url, "--wait", "30"])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client finishes")
    .unwrap();
    let out = String::from_utf8_lossy(&client.stdout);
    let err = String::from_utf8_lossy(&client.stderr);

    // SIGTERM asks for a graceful shutdown, after which the server exits with status 0.
    // Without a `kill` program to send it, the server is killed outright.
    let pid = server.id().expect("server still running").to_string();
    let graceful = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .is_ok_and(|s| s.success());
    if !graceful {
        server.start_kill().unwrap();
    }
    let exit = tokio::time::timeout(WAIT, server.wait())
        .await
        .expect("the server exits once signalled")
        .unwrap();
    if graceful {
        assert!(exit.success(), "server exit after SIGTERM: {exit}");
    }

    assert!(client.status.success(), "stdout:\n{out}\nstderr:\n{err}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("ok   ")).count(),
        31,
        "{out}"
    );
    assert!(!out.contains("FAIL"), "{out}");
    assert!(out.contains("31 checks, 31 passed, 0 failed"), "{out}");
}

#[tokio::test]
async fn the_client_binary_fails_on_a_server_that_is_not_there() {
    // A port that was free a moment ago: nothing answers, every check fails, exit 1.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = tokio::time::timeout(
        WAIT,
        Command::new(env!("CARGO_BIN_EXE_interop-client"))
            .args(["--url", &url])
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client finishes")
    .unwrap();
    assert_eq!(client.status.code(), Some(1));
    let err = String::from_utf8_lossy(&client.stderr);
    assert!(err.starts_with("Failed tests:\n"), "{err}");
    assert!(
        err.contains("FAIL GetEmpty: call failed: WebrpcRequestFailed -1"),
        "{err}"
    );
}

#[tokio::test]
async fn the_server_binary_prints_its_schema() {
    let output = tokio::time::timeout(
        WAIT,
        Command::new(env!("CARGO_BIN_EXE_interop-server"))
            .arg("--print-schema")
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("prints and exits")
    .unwrap();
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text, SCHEMA_RIDL);
    assert!(text.contains("name = Test\nversion = v1.0.0\n"));
    assert!(text.contains("error 302 FileType        \"unsupported file type\""));
}

#[test]
fn interop_generated_code_is_up_to_date() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = webrpc_build::parse_file(dir.join("schema/interop.ridl"))
        .unwrap_or_else(|err| panic!("schema/interop.ridl does not parse:\n{err}"));
    let options = webrpc_build::rust::Options::new()
        .error_type("TestApiError")
        .source("interop.ridl");
    let expected = webrpc_build::rust::generate(&schema, &options).unwrap();
    let path = dir.join("src/interop.gen.rs");
    if std::env::var_os("WEBRPC_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap();
    assert!(
        checked_in == expected,
        "src/interop.gen.rs is out of date with schema/interop.ridl; regenerate it with:\n    \
         WEBRPC_BLESS=1 cargo test -p interop --test interop interop_generated_code_is_up_to_date\n    \
         or: cargo run -p webrpc-build -- rust examples/interop/schema/interop.ridl \
         --error-type TestApiError --out examples/interop/src/interop.gen.rs"
    );
}
