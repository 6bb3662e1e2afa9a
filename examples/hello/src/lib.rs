//! The README's first example, "Declare a service, serve it, call it", as a program: the
//! `hello` binary (`src/main.rs`) declares a service with `service!`, serves it and calls it
//! through the generated client.
//!
//! ```text
//! cargo run -p hello
//! ```
//!
//! The library itself has no code. It is where the repository's README is compiled: its Rust
//! snippets are doctests of this crate, and `tests/readme.rs` checks that the README's first
//! example is `src/main.rs`, word for word.

/// The repository's README, whose Rust snippets rustdoc compiles (and runs, unless marked
/// `no_run`) as doctests of this crate; the excerpts marked `ignore` are checked against the
/// compiled sources by the `petstore` crate's `tests/petstore.rs`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
