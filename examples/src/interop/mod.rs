//! webrpc's interoperability `TestApi`, served and called from Rust.
//!
//! webrpc publishes a test schema (`tests/schema/test.ridl`, [`SCHEMA_RIDL`]) with a
//! reference server and client (`webrpc-test`) that every generator is checked against.
//! This module is that schema on the generic layer, with nothing generated:
//!
//! - [`TestApi`] and its types, enums and [`TestApiError`] table, declared with
//!   `webrpc_core::service!` and `error_catalogue!`; JSON names and shapes are the
//!   reference's exactly (`USERNAME`, enums as names, `{"READ":1,"WRITE":2}`);
//! - [`TestServer`], answering as the reference server: same fixtures, same errors and
//!   causes, `UnexpectedValue` when a `Send*` argument differs from the fixture;
//! - [`run_checks`], the reference client's checks (and a few stricter ones) over any
//!   [`TestApi`], returning a [`Report`].
//!
//! ## Running it
//!
//! ```text
//! cargo run -p examples --bin interop-server -- --addr 127.0.0.1:9988
//! cargo run -p examples --bin interop-client -- --url http://127.0.0.1:9988
//! ```
//!
//! The two binaries interoperate with webrpc's own: `webrpc-test -client
//! -url=http://127.0.0.1:9988` checks the Rust server, and `interop-client` checks
//! `webrpc-test -server -port=9988`.
//!
//! ## In process
//!
//! ```
//! use examples::interop::{router, run_checks, TestApiClient};
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let client = webrpc_client::Client::builder("http://localhost").build_with(router()).unwrap();
//! let report = run_checks(&TestApiClient::new(client)).await;
//! assert!(report.passed(), "{:?}", report.failures().collect::<Vec<_>>());
//! # });
//! ```
//!
//! ## Go behaviours, and where we differ
//!
//! - **Numbers in `any`.** Go decodes every `any` number as float64, so the reference server
//!   accepts `meta["2"]` as `24` or `24.0`; comparisons here do the same
//!   ([`values_match`]). We send it as `24`, as Go writes float64(24).
//! - **Key order.** Maps are `BTreeMap`s and enum-keyed maps are written sorted by name, so
//!   responses are byte-for-byte the reference's.
//! - **Missing and `null` struct fields** decode to zero values, as in Go, so a wrong value
//!   is `UnexpectedValue` on both servers. **Missing method arguments** are
//!   `WebrpcBadRequest` here (the webrpc spec wants required arguments enforced); the Go
//!   server decodes them as nil and answers `UnexpectedValue`. Both are HTTP 400.
//! - **Unknown enum names** (`"status":"BOGUS"`) are `WebrpcBadRequest` here; Go's
//!   generated code silently reads them as the first value.
//! - **Key case.** Go matches JSON keys case-insensitively (`"Name"` fills `name`); serde
//!   does not, so such a key is ignored here (and the value then differs).
//! - **`UnexpectedValue` causes** start like the reference's (`"one":` and a newline) but the
//!   diff after it is ours (one line per differing path), not go-cmp's Go-syntax text.
//! - **The `Webrpc` header** names this implementation
//!   (`webrpc@v0.31.0;webrpc-rs@v…;Test@v1.0.0`); the reference never checks it.
//! - The file methods of the newest `webrpc-test` (`UploadFile`, … added in webrpc v0.46.0,
//!   multipart bodies) and the REST service `TestApiRest` are not implemented.

mod checks;
mod compare;
mod fixtures;
mod schema;
mod server;

pub use checks::{
    run_checks, wait_ready, Check, ExpectedError, Report, GET_ERROR, SCHEMA_ERROR_CASES,
    UNKNOWN_SCHEMA_ERROR_CODE,
};
pub use compare::{value_diff, values_match};
pub use fixtures::{
    fixture_complex, fixture_enums, fixture_one, fixture_three, fixture_two, fixture_user,
};
pub use schema::*;
pub use server::{router, TestServer};

/// The default address of `interop-server`, and of `interop-client`'s server: webrpc-test's
/// port, 9988.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9988";

/// The schema's text, as webrpc's `tests/schema/test.ridl` at `Test@v1.0.0` (printed by
/// `interop-server --print-schema`, like `webrpc-test -print-schema`).
pub const SCHEMA_RIDL: &str = r#"webrpc = v1

name = Test
version = v1.0.0
basepath = /rpc

service TestApi
  - GetEmpty()
  - GetError()

  - GetOne() => (one: Simple)
  - SendOne(one: Simple)

  - GetMulti() => (one: Simple, two: Simple, three: Simple)
  - SendMulti(one: Simple, two: Simple, three: Simple)

  - GetComplex() => (complex: Complex)
  - SendComplex(complex: Complex)

  - GetEnumList() => (list: []Status)
  - GetEnumMap() => (map: map<Access, uint64>)

  # added in v0.11.0
  - GetSchemaError(code: int)

struct Simple
  - id: int
  - name: string

struct User
  - id: uint64
    + json = id
    + go.field.name = ID
    + go.tag.db = id

  - username: string
    + json = USERNAME
    + go.tag.db = username

  - role: string
    + go.tag.db = -

enum Status: uint32
  - AVAILABLE
  - NOT_AVAILABLE

enum Access: uint32
  - NONE
  - READ
  - WRITE
  - ADMIN
  - OWNER

struct Complex
  - meta: map<string,any>
  - metaNestedExample: map<string,map<string,uint32>>
  - namesList: []string
  - numsList: []int64
  - doubleArray: [][]string
  - listOfMaps: []map<string,uint32>
  - listOfUsers: []User
  - mapOfUsers: map<string,User>
  - user: User
  - status: Status

struct EnumData
  - dict: map<Access,uint64>
  - list: []Status

error   1 Unauthorized    "unauthorized"        HTTP 401
error   2 ExpiredToken    "expired token"       HTTP 401
error   3 InvalidToken    "invalid token"       HTTP 401
error   4 Deactivated     "account deactivated" HTTP 403
error   5 ConfirmAccount  "confirm your email"  HTTP 403
error   6 AccessDenied    "access denied"       HTTP 403
error   7 MissingArgument "missing argument"    HTTP 400
error   8 UnexpectedValue "unexpected value"    HTTP 400
error 100 RateLimited     "too many requests"   HTTP 429
error 101 DatabaseDown    "service outage"      HTTP 503
error 102 ElasticDown     "search is degraded"  HTTP 503
error 103 NotImplemented  "not implemented"     HTTP 501
error 200 UserNotFound    "user not found"
error 201 UserBusy        "user busy"
error 202 InvalidUsername "invalid username"
error 300 FileTooBig      "file is too big (max 1GB)"
error 301 FileInfected    "file is infected"
error 302 FileType        "unsupported file type"
"#;
