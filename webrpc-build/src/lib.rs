//! # webrpc-build
//!
//! The webrpc schema toolchain for Rust: reads a `.ridl` schema (or webrpc-gen's JSON form of
//! one), checks it the way webrpc does, and prints it as webrpc-gen `-target=json` would.
//!
//! ## Architecture
//!
//! A pipeline with a model in the middle, like webrpc's own `schema` package:
//!
//! - [`schema`]: the model, [`Schema`] and its types; its JSON form is webrpc-gen's.
//! - [`check`]: webrpc's semantic checks on a model.
//! - [`Error`]: what went wrong, where (`file:line:col`, the line, a caret).

pub mod check;
mod error;
mod json;
pub mod rust;
pub mod schema;
mod sha1;

pub use error::{Diagnostic, Error, Location};
pub use schema::Schema;
