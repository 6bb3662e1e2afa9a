//! Shared code of the example programs: webrpc's interop `TestApi` ([`interop`]) and the
//! local Sequence Metadata server ([`metadata`]), and the hand-written hyper baseline of the
//! benchmarks ([`baseline`]) with the load generator they use ([`load`]); and [`petstore`],
//! an API generated from a `.ridl` schema at build time.

pub mod baseline;
pub mod interop;
pub mod load;
pub mod metadata;
pub mod petstore;
