//! Shared code of the example programs: the hand-written hyper baseline of the benchmarks
//! ([`baseline`]) with the load generator they use ([`load`]). The local Sequence Metadata
//! server is its own crate, `examples/metadata-server`; webrpc's interop `TestApi` is
//! `examples/interop` and the PetStore example `examples/petstore`.

pub mod baseline;
pub mod load;
