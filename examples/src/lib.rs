//! Shared code of the example programs: webrpc's interop `TestApi` ([`interop`]) and the
//! local Sequence Metadata server ([`metadata`]).

pub mod interop;
pub mod metadata;
