//! The benchmarks' own code: the hand-written hyper baseline ([`baseline`]) that the webrpc
//! stack is measured against, and the closed-loop load generator ([`load`]) of the
//! `bench-load` program.
//!
//! The crate's programs are `baseline-server` (the baseline as a server) and `bench-load`
//! (loopback load, `--compare`, `--suite`); `benches/publish.rs` compares both stacks in
//! process. The figures and how to reproduce them are in `docs/benchmarks.md`.

pub mod baseline;
pub mod load;
