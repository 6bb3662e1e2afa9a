//! The `TestApi` schema (webrpc `tests/schema/test.ridl`, `Test@v1.0.0`) in Rust: its types,
//! enums, error table and service.
//!
//! Wire names are the reference's exactly: `camelCase` struct keys (`metaNestedExample`),
//! `User`'s `id`/`USERNAME`/`role`, enums as their names (`"AVAILABLE"`), also as map keys
//! (`{"READ":1,"WRITE":2}`).
//!
//! Decoding of the schema's structs follows Go's `encoding/json`, which is what the reference
//! server and client run on: a missing key or a `null` value leaves the field at its zero
//! value (`0`, `""`, empty list or map, the enum's first value). The reference then compares
//! values, so a client that drops a field gets `UnexpectedValue` from both servers rather
//! than a decoding error from one and not the other. Method *arguments* are stricter than
//! Go's: a missing `one`, `complex` or `code` is `WebrpcBadRequest` (the webrpc spec asks
//! servers to reject missing required arguments; the Go server lets them through as nil and
//! then fails the comparison, still with HTTP 400).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use webrpc_core::{error_catalogue, service};

/// `Simple`: `{"id": int, "name": string}`. Go's `int` is 64 bits, so `id` is an `i64`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Simple {
    /// `id`.
    #[serde(deserialize_with = "null_as_default")]
    pub id: i64,
    /// `name`.
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
}

/// `User`: `{"id": uint64, "USERNAME": string, "role": string}` (the schema's `+ json =
/// USERNAME` annotation gives the upper-case key).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct User {
    /// `id`.
    #[serde(deserialize_with = "null_as_default")]
    pub id: u64,
    /// `USERNAME`.
    #[serde(rename = "USERNAME", deserialize_with = "null_as_default")]
    pub username: String,
    /// `role`.
    #[serde(deserialize_with = "null_as_default")]
    pub role: String,
}

/// `Complex`: every JSON shape the schema language has, in one struct.
///
/// Maps are `BTreeMap`s, so keys go out in byte order as Go's `json.Marshal` sorts them, and
/// a response is byte-for-byte the reference server's.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Complex {
    /// `meta: map<string,any>`. Go decodes an `any` number as a float64, so `24` and `24.0`
    /// are the same value there; [`values_match`](super::values_match) compares them so.
    #[serde(deserialize_with = "null_as_default")]
    pub meta: BTreeMap<String, serde_json::Value>,
    /// `metaNestedExample: map<string,map<string,uint32>>`.
    #[serde(deserialize_with = "null_as_default")]
    pub meta_nested_example: BTreeMap<String, BTreeMap<String, u32>>,
    /// `namesList: []string`.
    #[serde(deserialize_with = "null_as_default")]
    pub names_list: Vec<String>,
    /// `numsList: []int64`.
    #[serde(deserialize_with = "null_as_default")]
    pub nums_list: Vec<i64>,
    /// `doubleArray: [][]string`.
    #[serde(deserialize_with = "null_as_default")]
    pub double_array: Vec<Vec<String>>,
    /// `listOfMaps: []map<string,uint32>`.
    #[serde(deserialize_with = "null_as_default")]
    pub list_of_maps: Vec<BTreeMap<String, u32>>,
    /// `listOfUsers: []User`.
    #[serde(deserialize_with = "null_as_default")]
    pub list_of_users: Vec<User>,
    /// `mapOfUsers: map<string,User>`.
    #[serde(deserialize_with = "null_as_default")]
    pub map_of_users: BTreeMap<String, User>,
    /// `user: User`.
    #[serde(deserialize_with = "null_as_default")]
    pub user: User,
    /// `status: Status`.
    #[serde(deserialize_with = "null_as_default")]
    pub status: Status,
}

/// `enum Status: uint32`. On the wire: the name, `"AVAILABLE"` or `"NOT_AVAILABLE"`.
///
/// An unknown name is rejected (Go's generated `UnmarshalText` silently turns it into
/// `AVAILABLE`; we prefer an error that names the bad value).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// `AVAILABLE` (0).
    #[default]
    Available,
    /// `NOT_AVAILABLE` (1).
    NotAvailable,
}

impl Status {
    /// Every value, in schema order.
    pub const ALL: [Status; 2] = [Status::Available, Status::NotAvailable];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Status::Available => "AVAILABLE",
            Status::NotAvailable => "NOT_AVAILABLE",
        }
    }

    /// The schema's number (never on the wire).
    pub const fn value(self) -> u32 {
        self as u32
    }
}

/// `enum Access: uint32`. On the wire: the name, also as a map key (`{"READ":1}`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Access {
    /// `NONE` (0).
    #[default]
    None,
    /// `READ` (1).
    Read,
    /// `WRITE` (2).
    Write,
    /// `ADMIN` (3).
    Admin,
    /// `OWNER` (4).
    Owner,
}

impl Access {
    /// Every value, in schema order.
    pub const ALL: [Access; 5] = [
        Access::None,
        Access::Read,
        Access::Write,
        Access::Admin,
        Access::Owner,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Access::None => "NONE",
            Access::Read => "READ",
            Access::Write => "WRITE",
            Access::Admin => "ADMIN",
            Access::Owner => "OWNER",
        }
    }

    /// The schema's number (never on the wire).
    pub const fn value(self) -> u32 {
        self as u32
    }
}

/// `EnumData`: used by no method; it holds the reference server's fixtures for
/// `GetEnumList` and `GetEnumMap`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct EnumData {
    /// `dict: map<Access,uint64>`.
    #[serde(
        serialize_with = "serialize_access_map",
        deserialize_with = "null_as_default"
    )]
    pub dict: BTreeMap<Access, u64>,
    /// `list: []Status`.
    #[serde(deserialize_with = "null_as_default")]
    pub list: Vec<Status>,
}

/// Go's `encoding/json` decoding of a field: `null` leaves the zero value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Serializes a `map<Access, _>` with its keys in the order Go writes them: sorted by name
/// (`ADMIN` before `READ`), not by number. The `BTreeMap` itself is ordered by number.
fn serialize_access_map<S, V>(map: &BTreeMap<Access, V>, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    V: Serialize,
{
    let mut entries: Vec<(&'static str, &V)> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    entries.sort_unstable_by_key(|(name, _)| *name);
    serializer.collect_map(entries)
}

error_catalogue! {
    /// The `TestApi` schema's errors, with the reference codes, names, messages and HTTP
    /// statuses (errors without `HTTP nnn` in the RIDL are 400).
    pub enum TestApiError {
        /// `error 1 Unauthorized "unauthorized" HTTP 401`.
        Unauthorized = (1, "unauthorized", 401),
        /// `error 2 ExpiredToken "expired token" HTTP 401`.
        ExpiredToken = (2, "expired token", 401),
        /// `error 3 InvalidToken "invalid token" HTTP 401`.
        InvalidToken = (3, "invalid token", 401),
        /// `error 4 Deactivated "account deactivated" HTTP 403`.
        Deactivated = (4, "account deactivated", 403),
        /// `error 5 ConfirmAccount "confirm your email" HTTP 403`.
        ConfirmAccount = (5, "confirm your email", 403),
        /// `error 6 AccessDenied "access denied" HTTP 403`.
        AccessDenied = (6, "access denied", 403),
        /// `error 7 MissingArgument "missing argument" HTTP 400`.
        MissingArgument = (7, "missing argument", 400),
        /// `error 8 UnexpectedValue "unexpected value" HTTP 400`: a `Send*` argument that
        /// differs from the fixture.
        UnexpectedValue = (8, "unexpected value", 400),
        /// `error 100 RateLimited "too many requests" HTTP 429`.
        RateLimited = (100, "too many requests", 429),
        /// `error 101 DatabaseDown "service outage" HTTP 503`.
        DatabaseDown = (101, "service outage", 503),
        /// `error 102 ElasticDown "search is degraded" HTTP 503`.
        ElasticDown = (102, "search is degraded", 503),
        /// `error 103 NotImplemented "not implemented" HTTP 501`.
        NotImplemented = (103, "not implemented", 501),
        /// `error 200 UserNotFound "user not found"`.
        UserNotFound = (200, "user not found", 400),
        /// `error 201 UserBusy "user busy"`.
        UserBusy = (201, "user busy", 400),
        /// `error 202 InvalidUsername "invalid username"`.
        InvalidUsername = (202, "invalid username", 400),
        /// `error 300 FileTooBig "file is too big (max 1GB)"`.
        FileTooBig = (300, "file is too big (max 1GB)", 400),
        /// `error 301 FileInfected "file is infected"`.
        FileInfected = (301, "file is infected", 400),
        /// `error 302 FileType "unsupported file type"`.
        FileType = (302, "unsupported file type", 400),
    }
}

service! {
    /// webrpc's interoperability service, `TestApi` (schema `Test@v1.0.0`, the classic 11
    /// methods). [`TestServer`](super::TestServer) implements it as the reference server
    /// does; [`TestApiClient`] implements it over the network.
    pub trait TestApi;
    /// Client of [`TestApi`]: wrap a `webrpc_client::Client` and call the trait's methods.
    client TestApiClient;
    /// Mounts a [`TestApi`] implementation on a router, at `/rpc/TestApi/<Method>`.
    mount mount_test_api;
    name "TestApi";
    schema "Test" "v1.0.0";

    /// `GetEmpty()`: answers `{}`.
    GetEmpty => get_empty(GetEmptyRequest {}) -> GetEmptyResponse {};

    /// `GetError()`: always fails; the reference answers `WebrpcEndpoint` with cause
    /// `internal error`.
    GetError => get_error(GetErrorRequest {}) -> GetErrorResponse {};

    /// `GetOne() => (one: Simple)`.
    GetOne => get_one(GetOneRequest {}) -> GetOneResponse {
        /// `one`.
        pub one: Simple,
    };

    /// `SendOne(one: Simple)`: the server checks `one` against its fixture.
    SendOne => send_one(SendOneRequest {
        /// `one`.
        pub one: Simple,
    }) -> SendOneResponse {};

    /// `GetMulti() => (one: Simple, two: Simple, three: Simple)`.
    GetMulti => get_multi(GetMultiRequest {}) -> GetMultiResponse {
        /// `one`.
        pub one: Simple,
        /// `two`.
        pub two: Simple,
        /// `three`.
        pub three: Simple,
    };

    /// `SendMulti(one: Simple, two: Simple, three: Simple)`: checked in that order.
    SendMulti => send_multi(SendMultiRequest {
        /// `one`.
        pub one: Simple,
        /// `two`.
        pub two: Simple,
        /// `three`.
        pub three: Simple,
    }) -> SendMultiResponse {};

    /// `GetComplex() => (complex: Complex)`.
    GetComplex => get_complex(GetComplexRequest {}) -> GetComplexResponse {
        /// `complex`.
        pub complex: Complex,
    };

    /// `SendComplex(complex: Complex)`: the server checks `complex` against its fixture.
    SendComplex => send_complex(SendComplexRequest {
        /// `complex`.
        pub complex: Complex,
    }) -> SendComplexResponse {};

    /// `GetEnumList() => (list: []Status)`.
    GetEnumList => get_enum_list(GetEnumListRequest {}) -> GetEnumListResponse {
        /// `list`.
        pub list: Vec<Status>,
    };

    /// `GetEnumMap() => (map: map<Access, uint64>)`, on the wire `{"map":{"READ":1,"WRITE":2}}`.
    GetEnumMap => get_enum_map(GetEnumMapRequest {}) -> GetEnumMapResponse {
        /// `map`.
        #[serde(serialize_with = "serialize_access_map")]
        pub map: BTreeMap<Access, u64>,
    };

    /// `GetSchemaError(code: int)`: fails with the schema error of that code (0 gives
    /// `WebrpcEndpoint`); an unknown code succeeds, as in the reference.
    GetSchemaError => get_schema_error(GetSchemaErrorRequest {
        /// `code`; Go's `int` is 64 bits.
        pub code: i64,
    }) -> GetSchemaErrorResponse {};
}
