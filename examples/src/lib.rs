//! Shared code of the example programs: webrpc's interop `TestApi` ([`interop`]), the
//! hand-written hyper baseline of the benchmarks ([`baseline`]) with the load generator they
//! use ([`load`]), and [`petstore`], an API generated from a `.ridl` schema at build time.
//! The local Sequence Metadata server is its own crate, `examples/metadata-server`.

pub mod baseline;
pub mod interop;
pub mod load;
pub mod petstore;

/// The repository's README, whose Rust snippets rustdoc compiles (and runs, unless marked
/// `no_run`) as doctests of this crate; the excerpts marked `ignore` are checked against the
/// compiled sources by `tests/petstore.rs`.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
