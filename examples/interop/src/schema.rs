//! The `TestApi` schema (webrpc `tests/schema/test.ridl`, `Test@v1.0.0`) in Rust, generated
//! from `schema/interop.ridl` into the checked-in `interop.gen.rs` (`webrpc-build rust
//! schema/interop.ridl --error-type TestApiError`; the `interop_generated_code_is_up_to_date`
//! test fails when it drifts from the schema): its types ([`Simple`], [`User`],
//! [`Complex`], [`EnumData`]), enums ([`Status`], [`Access`]), the [`TestApiError`] catalogue,
//! the [`TestApi`] trait, [`TestApiClient`], [`mount_test_api`] and the [`TEST_API_SERVICE`]
//! method table.
//!
//! Wire names are the reference's exactly: `camelCase` struct keys (`metaNestedExample`),
//! `User`'s `id`/`USERNAME`/`role`, enums as their names (`"AVAILABLE"`), also as map keys,
//! sorted by name as Go writes them (`{"ADMIN":3,"NONE":0,…}`).
//!
//! Decoding of the schema's structs follows Go's `encoding/json`, which is what the reference
//! server and client run on: a missing key or a `null` value leaves the field at its zero
//! value (`0`, `""`, empty list or map, the enum's first value), and an unknown enum name
//! is the enum's first value, as gen-golang reads it. The reference then compares values,
//! so a client that drops a field gets `UnexpectedValue` from both servers rather than a
//! decoding error from one and not the other. Method *arguments* are stricter than Go's: a
//! missing `one`, `complex` or `code` is `WebrpcBadRequest` (the webrpc spec asks servers to
//! reject missing required arguments; the Go server lets them through as nil and then fails
//! the comparison, still with HTTP 400).

include!("interop.gen.rs");
