//! Shared code of the example programs: webrpc's interop `TestApi` ([`interop`]), the
//! hand-written hyper baseline of the benchmarks ([`baseline`]) with the load generator they
//! use ([`load`]), and [`petstore`], an API generated from a `.ridl` schema at build time.
//! The local Sequence Metadata server is its own crate, `examples/metadata-server`.

pub mod baseline;
pub mod interop;
pub mod load;
pub mod petstore;
