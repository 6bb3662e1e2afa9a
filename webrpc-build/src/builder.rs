//! Generating Rust from `build.rs`: [`compile`] and [`Builder`], in the manner of
//! tonic-build and prost-build.

use std::path::{Path, PathBuf};

use crate::rust::{self, GenerateError, Options};

/// Generates the Rust code of a schema into `$OUT_DIR/<file stem>.rs` with the default
/// options, and tells Cargo to rerun the build script when the schema or any file it imports
/// changes. Returns the path written.
///
/// ```no_run
/// // build.rs, in `main`:
/// webrpc_build::compile("schema/petstore.ridl").unwrap();
/// ```
///
/// and in the crate, one line includes it:
///
/// ```ignore
/// webrpc_core::include_schema!("petstore");
/// ```
pub fn compile(schema: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
    Builder::new().compile(schema)
}

/// [`compile`] with options: which side and which services to generate, methods to leave
/// out, the runtime's crate path, where to write.
///
/// ```no_run
/// // build.rs, in `main`:
/// webrpc_build::Builder::new()
///     .client_only()
///     .ignore("@deprecated")
///     .crate_path("::my_sdk::webrpc")
///     .compile("schema/api.ridl")
///     .unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    options: Options,
    out_dir: Option<PathBuf>,
    rerun_if_changed: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Everything generated, with the default options of [`rust::Options`].
    pub fn new() -> Self {
        Builder {
            options: Options::new(),
            out_dir: None,
            rerun_if_changed: true,
        }
    }

    /// The path the generated code reaches webrpc-core by (see
    /// [`rust::Options::crate_path`]). Default: `::webrpc_core`.
    pub fn crate_path(mut self, path: impl Into<String>) -> Self {
        self.options = self.options.crate_path(path);
        self
    }

    /// Generates the client side only (no mount functions).
    pub fn client_only(mut self) -> Self {
        self.options = self.options.client_only();
        self
    }

    /// Generates the server side only (no clients).
    pub fn server_only(mut self) -> Self {
        self.options = self.options.server_only();
        self
    }

    /// Generates only this service; may be called several times. Default: every service.
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.options = self.options.service(name);
        self
    }

    /// Leaves out methods carrying this annotation (`@deprecated`, `@internal`,
    /// `@auth:"key"`); may be called several times.
    pub fn ignore(mut self, annotation: impl Into<String>) -> Self {
        self.options = self.options.ignore(annotation);
        self
    }

    /// The name of the error catalogue enum. Default: `<SchemaName>Error`.
    pub fn error_type(mut self, name: impl Into<String>) -> Self {
        self.options = self.options.error_type(name);
        self
    }

    /// Leaves unset optional fields out of the JSON instead of writing `null` as Go does (see
    /// [`rust::Options::omit_none`]).
    pub fn omit_none(mut self) -> Self {
        self.options = self.options.omit_none();
        self
    }

    /// Writes into this directory instead of `$OUT_DIR`.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Whether to print `cargo:rerun-if-changed` for the schema and its imports (what a
    /// `build.rs` wants). Default: `true`.
    pub fn emit_rerun_if_changed(mut self, yes: bool) -> Self {
        self.rerun_if_changed = yes;
        self
    }

    /// Reads the schema (RIDL or webrpc JSON), generates its Rust code and writes it to
    /// `<out dir>/<file stem>.rs` (`schema/api.ridl` → `api.rs`). The file is rewritten only
    /// when its content changes. Returns the path written.
    pub fn compile(&self, schema: impl AsRef<Path>) -> Result<PathBuf, BuildError> {
        let path = schema.as_ref();
        let parsed = crate::load(path).map_err(BuildError::Schema)?;
        if self.rerun_if_changed {
            for file in &parsed.files {
                println!("cargo:rerun-if-changed={}", file.display());
            }
        }
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| BuildError::Path(path.to_path_buf()))?;
        let source = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let code = rust::generate(&parsed.schema, &self.options.clone().source(source))
            .map_err(BuildError::Generate)?;
        let dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(BuildError::NoOutDir)?,
        };
        let out = dir.join(format!("{stem}.rs"));
        let unchanged = std::fs::read(&out).is_ok_and(|old| old == code.as_bytes());
        if !unchanged {
            std::fs::write(&out, code).map_err(|source| BuildError::Io {
                path: out.clone(),
                source,
            })?;
        }
        Ok(out)
    }
}

/// Why [`compile`] failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The schema could not be read or is not valid.
    #[error("{0}")]
    Schema(crate::Error),
    /// The schema is valid but cannot be generated (a stream method, a name clash…).
    #[error("{0}")]
    Generate(GenerateError),
    /// `OUT_DIR` is not set (not running in a build script) and no [`Builder::out_dir`] was
    /// given.
    #[error("OUT_DIR is not set: call compile from build.rs, or set Builder::out_dir")]
    NoOutDir,
    /// A schema path without a file name to name the output after.
    #[error("{}: not a schema file name", .0.display())]
    Path(PathBuf),
    /// The output could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The output file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}
