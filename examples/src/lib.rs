//! Shared code of the example programs: the hand-written hyper baseline of the benchmarks
//! ([`baseline`]) with the load generator they use ([`load`]), and [`petstore`], an API
//! generated from a `.ridl` schema at build time. The local Sequence Metadata server is its
//! own crate, `examples/metadata-server`, and webrpc's interop `TestApi` is `examples/interop`.

pub mod baseline;
pub mod load;
pub mod petstore;
