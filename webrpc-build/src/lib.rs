//! # webrpc-build
//!
//! The [webrpc](https://github.com/webrpc/webrpc) schema toolchain for Rust: reads a `.ridl`
//! schema (or webrpc-gen's JSON form of one), checks it the way webrpc does, and prints it as
//! `webrpc-gen -target=json` would, so that the `.ridl` file can be the single source of truth
//! for a Rust service as it is for Go and TypeScript ones. No Go tooling is needed.
//!
//! ## Architecture
//!
//! A pipeline with a model in the middle, like webrpc's own `schema` package:
//! parse → check → model → render.
//!
//! - The RIDL front end (lexer, parser, imports) turns `.ridl` files into the model and
//!   points every error at its line: `file:line:col: message`, the line, a caret.
//! - [`schema`]: the model, [`Schema`] and its parts; its JSON form is webrpc-gen's, byte for
//!   byte ([`Schema::to_json`], [`Schema::from_json`]).
//! - [`check`]: webrpc's semantic checks (unknown types, duplicate names, error codes and
//!   statuses, …).
//! - [`Error`]: what went wrong and where.
//!
//! The crate's README lists the RIDL constructs supported (all of webrpc v0.31's) and the few
//! points where the JSON may differ from webrpc-gen's, and why.
//!
//! ## Example
//!
//! ```
//! let schema = webrpc_build::parse_str(
//!     r#"
//! webrpc = v1
//! name = petstore
//! version = v1.0.0
//!
//! ## A pet in the store.
//! struct Pet
//!   - id: uint64
//!   - name: string
//!   - tags?: []string
//!
//! service PetStore
//!   - GetPet(id: uint64) => (pet: Pet)
//! "#,
//!     "petstore.ridl",
//! )?;
//!
//! let json = schema.to_json();
//! assert!(json.starts_with("{\n \"webrpc\": \"v1\",\n \"name\": \"petstore\","));
//! print!("{json}");
//! # Ok::<(), webrpc_build::Error>(())
//! ```
//!
//! Errors say where and what was expected:
//!
//! ```
//! let err = webrpc_build::parse_str("webrpc = v1\nstruct Pet\n  - id uint64\n", "pet.ridl")
//!     .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "pet.ridl:3:8: unexpected 'u', expected ':' and the field's type after its name, as in '- id: uint64'\n \
//!      3 |   - id uint64\n   \
//!        |        ^"
//! );
//! ```

use std::path::{Path, PathBuf};

mod builder;
pub mod check;
mod error;
mod json;
mod ridl;
pub mod rust;
pub mod schema;

pub use builder::{compile, BuildError, Builder};
pub use error::{Diagnostic, Error, Location};
pub use ridl::{MAX_FILES, MAX_FILE_BYTES};
pub use schema::Schema;

/// A schema and the files it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The checked schema.
    pub schema: Schema,
    /// The schema file and every file it imports, each once, in the order first read; what a
    /// `build.rs` prints as `cargo:rerun-if-changed`.
    pub files: Vec<PathBuf>,
}

/// Reads and checks the schema at `path`: RIDL, or webrpc's JSON form when the file name ends
/// in `.json` or the text starts with `{`. Imports are resolved from the schema's directory.
pub fn parse_file(path: impl AsRef<Path>) -> Result<Schema, Error> {
    load(path).map(|parsed| parsed.schema)
}

/// Like [`parse_file`], and also lists every file read.
pub fn load(path: impl AsRef<Path>) -> Result<Parsed, Error> {
    let path = path.as_ref();
    if is_json_path(path) {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let schema = json::from_json(&text, &path.display().to_string())?;
        return Ok(Parsed {
            schema,
            files: vec![path.to_path_buf()],
        });
    }
    let mut loader = ridl::Loader::default();
    match loader.load_file(path) {
        Ok(schema) => Ok(Parsed {
            schema,
            files: loader.files,
        }),
        // A `.ridl`-named file holding JSON is read as JSON, as webrpc-gen does by content.
        Err(Error::Syntax(_)) if starts_like_json(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let schema = json::from_json(&text, &path.display().to_string())?;
            Ok(Parsed {
                schema,
                files: vec![path.to_path_buf()],
            })
        }
        Err(err) => Err(err),
    }
}

/// Reads and checks a schema given as text: RIDL, or JSON when it starts with `{`. `name`
/// names it in error messages, and its directory is where imports are looked for.
pub fn parse_str(src: &str, name: &str) -> Result<Schema, Error> {
    if src.trim_start().starts_with('{') {
        return json::from_json(src, name);
    }
    ridl::Loader::default().load_str(src, name)
}

fn is_json_path(path: &Path) -> bool {
    path.extension()
        .is_some_and(|ext| ext.eq_ignore_ascii_case("json"))
}

fn starts_like_json(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 256];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let n = file.read(&mut head).unwrap_or(0);
    head[..n]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{')
}

/// The crate's README, whose Rust snippets rustdoc compiles and runs as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
