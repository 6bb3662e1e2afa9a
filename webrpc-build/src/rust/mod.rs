//! The Rust generator: a checked [`Schema`] becomes one Rust file of types, the error
//! catalogue, and per service a trait, a client, a mount function and a method table.
//!
//! The output reads like careful hand-written code (one item per schema item, in schema
//! order, doc comments from the schema's comments) and is already in rustfmt's layout. It is
//! meant to be `include!`d (so it has no inner attributes and no `use` items) and refers to
//! the runtime only through the configurable crate path (default `::webrpc_core`), including
//! serde (`#[serde(crate = "…::__private::serde")]`), so the including crate needs neither a
//! direct `webrpc-core` nor a `serde` dependency under those names.
//!
//! # Conventions of the generated code
//!
//! **Types.** `bool`; `byte` and `uint8` → `u8`; `uint16`…`uint64` → `u16`…`u64`; `uint` →
//! `u64` and `int` → `i64` (Go's `int` is 64-bit on every platform webrpc servers run on);
//! `int8`…`int64` → `i8`…`i64`; `float32`/`float64` → `f32`/`f64`; `string` → `String`;
//! `timestamp` → `Timestamp` and `bigint` → `BigInt` (webrpc-core's scalars); `[]byte` (and
//! `[]uint8`, the same Go type) → `Bytes`, base64 text as Go's `encoding/json` writes it; `any` →
//! `types::Value` (`serde_json::Value`); `null` → `()` (encodes as `null`); `[]T` → `Vec<T>`;
//! `map<string,any>` → `types::Map<String, Value>` (a JSON object); any other `map<K,V>` →
//! `BTreeMap<K, V>`: sorted by key, as Go's `encoding/json` writes maps, so the bytes match a
//! Go peer's and are deterministic. A struct field that would contain its own struct inline
//! (`next?: Node` in `Node`) is boxed.
//!
//! **JSON names** are the schema's (or `+ json = name`, or the name part of
//! `+ go.tag.json = name,omitempty`), with `#[serde(rename)]` wherever the Rust field name
//! (snake_case) differs; `+ json = -` fields are `#[serde(skip)]`.
//!
//! **Struct fields.** A non-optional field decodes like Go: missing or `null` gives the zero
//! value (`#[serde(default, deserialize_with = null_as_default)]`); it is always written,
//! unless its `go.tag.json` says `omitempty`, which leaves out what Go leaves out (0, false,
//! "", an empty list or map, a null `any`, the zero value of an enum that has one; Go never
//! omits a struct, a timestamp or a bigint). An optional field (`name?: T`) is an `Option<T>`
//! exactly where gen-golang's Go field is a pointer (scalars, enums, structs, `any`); optional
//! lists and maps are plain `Vec`s and maps, as they are plain slices and maps in Go; and a
//! required struct field whose `go.tag.json` says `omitempty` is an `Option` too (Go's
//! pointer, left out when nil). `None`
//! is written as `null`, as gen-golang's nil pointer is, unless `go.tag.json` says
//! `omitempty` (then it is left out). [`Options::omit_none`] leaves every `None` out instead.
//! Missing and `null` both decode as `None`. Where `+ go.field.type` gives an optional field
//! a Go value type (`name?: string` with `+ go.field.type = string`: optional for TypeScript,
//! a plain `string` in Go), the field is a plain value, as on the wire of Go peers; with
//! `+ go.field.type = json.RawMessage` it is raw JSON (`types::Value`).
//!
//! **Enums** are sent by name, integer and string enums alike (as gen-golang does). A name
//! the generated code does not know (a newer peer's) decodes as the enum's zero value (its
//! `Default`: the value 0, or the first value when there is no 0), as gen-golang's integer
//! enums do; gen-golang's string enums keep the unknown text instead, which a Rust enum
//! cannot. Each enum gets `ALL`, `name()`, `from_name()`, `Display`, and for integer enums
//! `value()` and `from_value()`.
//!
//! **Derives.** `Debug`, `Clone`, `PartialEq`, `Default` on every struct; `Eq` unless a
//! float is inside; `Hash` unless a float, `any` or `map<string,any>` is inside. Enums derive
//! `Copy`, `Eq` and `Hash` too, and implement `Ord` by wire name (so they can key maps, and a
//! `BTreeMap` keyed by an enum is written sorted by name, as Go's `encoding/json` sorts
//! map keys).
//!
//! **Methods.** Per method: a unit marker type implementing `Method` (named after the method,
//! or `{Service}{Method}` when several services have a method of that name or a schema type
//! has it), a `{Method}Request` with one field per argument (a required argument is plain and
//! must be present: the server answers `WebrpcBadRequest` naming it; an optional one is an
//! `Option` left out when `None`, as TypeScript clients send it), and a `{Method}Response`
//! with one field per result
//! (missing or `null` results decode as zero values, as Go servers send `null` for empty
//! lists; an unset optional result is written as `null`, as Go servers write it). When a
//! schema struct is already named `{Method}Request` or `{Method}Response`, the method's are
//! named `{Method}Args` and `{Method}Return`, as gen-typescript names them. A succinct method
//! (`- M(Req) => (Resp)`) uses the schema's structs directly. `@deprecated` (and
//! `@deprecated:"note"`) becomes `#[deprecated]` on the marker and the trait method.
//!
//! **Services.** Per service: the trait (an associated `type Ctx: Default + Send` and
//! `fn m(&self, ctx: Self::Ctx, request: MRequest) -> impl CallFuture<MResponse>`,
//! implemented with plain `async fn`s), the `{Service}Client<C: Caller>` implementing it with
//! `Ctx = C::Options` (the client's `CallOptions`, which start empty), `mount_{service}`
//! adding an implementation with `Ctx = RequestContext` to any `Routes`, the method table
//! `{SERVICE}_SERVICE: ServiceInfo`, and `for_each_{service}_method` calling a
//! `MethodVisitor` with every method type. One trait for both sides keeps code generic over
//! it (`async fn f<S: Service>(s: &S)`, passing `Default::default()` as the context) running
//! against an implementation in process and against the client; the two contexts have no
//! conversion between them, so a handler calling another service forwards nothing of its
//! caller's request unless it copies a header by name.
//!
//! **Options** ([`Options`]): client side only or server side only, a subset of services,
//! methods left out by annotation (`@deprecated`, `@internal`, `@auth:"key"`), the crate
//! path, the error enum's name, and [`Options::omit_none`].
//!
//! # What differs from gen-golang, and why
//!
//! - Structs are values, not pointers: a non-optional struct field is a `T` (Go: `*T`), so a
//!   `null` from Go decodes as `T::default()`, and Rust always writes the object. Optional
//!   fields are the `Option`s.
//! - Unset optional *arguments* are left out of requests (gen-golang's client sends `null`,
//!   gen-typescript's leaves them out); every webrpc server accepts both.
//! - A string enum's unknown value decodes as the zero value (Go keeps the text): a Rust enum
//!   has no room for it.
//! - A `stream` method (`=> stream (…)`) gets a `StreamMethod` marker, a trait method
//!   returning `impl StreamFuture<Message>` (the open `MessageStream`, or the error before
//!   it), a client method calling `Caller::call_stream` and a mount through
//!   `Routes::add_stream_route`; its "response" struct is one message. A method whose
//!   *input* streams (expressible in JSON schemas only) is refused with an error naming it.
//! - Go-specific meta (`go.field.name`, `go.tag.db`, `go.type.import`, …) has no Rust
//!   meaning and is ignored; `go.tag.json` is honoured as the JSON name and `omitempty`, and
//!   `go.field.type` for what it changes on the wire (a value type never `null`, raw JSON).
//! - Names Rust cannot hold are errors, not silent renames: two fields whose snake_case names
//!   collide, type names that shadow the prelude (`Box`, `String`, …), `self`.
//! - A schema read from webrpc-gen's JSON has no comments on enum types (the JSON form does
//!   not carry them), so those enums get a generic doc comment.
//!
//! The layout is rustfmt's for the names real schemas use (checked for field names up to 70
//! characters and method names up to 40); past that the code is still valid, though rustfmt
//! would lay a few lines out differently.

mod names;
mod writer;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::schema::{Argument, CoreType, Field, Method, Schema, Service, Type, VarType};
use names::{doc_lines, ident, screaming_snake, snake_case, string_literal, upper_camel};
use writer::Writer;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    crate_path: String,
    client: bool,
    server: bool,
    services: Vec<String>,
    ignore: Vec<String>,
    error_type: Option<String>,
    source: Option<String>,
    omit_none: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            crate_path: "::webrpc_core".to_owned(),
            client: true,
            server: true,
            services: Vec::new(),
            ignore: Vec::new(),
            error_type: None,
            source: None,
            omit_none: false,
        }
    }
}

impl Options {
    /// Everything, with the defaults: client and server, every service, every method,
    /// `::webrpc_core` as the runtime's path.
    pub fn new() -> Self {
        Self::default()
    }

    /// The path the generated code reaches webrpc-core by, such as `crate::webrpc` when the
    /// including crate re-exports it (`pub use webrpc_core as webrpc;`). Default:
    /// `::webrpc_core`.
    pub fn crate_path(mut self, path: impl Into<String>) -> Self {
        self.crate_path = path.into();
        self
    }

    /// Generates the client side only: the service traits and clients, no mount functions.
    pub fn client_only(mut self) -> Self {
        self.client = true;
        self.server = false;
        self
    }

    /// Generates the server side only: the service traits and mount functions, no clients.
    pub fn server_only(mut self) -> Self {
        self.client = false;
        self.server = true;
        self
    }

    /// Generates only this service (may be given several times; default: every service).
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.services.push(name.into());
        self
    }

    /// Leaves out the methods carrying this annotation: `@deprecated`, or `@auth:"key"` for
    /// one value only (as webrpc-gen's `-ignore=@deprecated`). May be given several times.
    pub fn ignore(mut self, annotation: impl Into<String>) -> Self {
        self.ignore.push(annotation.into());
        self
    }

    /// The name of the error catalogue enum. Default: the schema name in UpperCamelCase
    /// followed by `Error` (`petstore` → `PetstoreError`).
    pub fn error_type(mut self, name: impl Into<String>) -> Self {
        self.error_type = Some(name.into());
        self
    }

    /// Leaves unset optional struct fields and results out of the JSON instead of writing
    /// `null`, as Go does for a nil pointer without `omitempty`. Either way decodes on every
    /// webrpc peer; the default is Go's bytes.
    pub fn omit_none(mut self) -> Self {
        self.omit_none = true;
        self
    }

    /// The schema file's name, for the header comment of the generated file.
    pub fn source(mut self, name: impl Into<String>) -> Self {
        self.source = Some(name.into());
        self
    }
}

/// Why a schema could not be turned into Rust.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenerateError {
    /// A method whose input streams (possible in a JSON schema, not in RIDL or webrpc):
    /// webrpc streams outputs only.
    #[error(
        "method {service}.{method} streams its input, which webrpc does not support (only \
         outputs stream: `=> stream (…)`); leave it out with --ignore or --service"
    )]
    Streaming {
        /// The service.
        service: String,
        /// The method.
        method: String,
    },
    /// A name Rust cannot use (`self`, `Self`, `super`, `crate`, `_`) or one that is not an
    /// identifier.
    #[error("{what} '{name}' cannot be a Rust identifier")]
    InvalidName {
        /// What carries the name (`struct`, `field Pet.self`, …).
        what: String,
        /// The name.
        name: String,
    },
    /// Two generated items would have the same name.
    #[error("two generated items are named '{name}': {first} and {second}")]
    NameClash {
        /// The Rust name.
        name: String,
        /// What generates it first.
        first: String,
        /// What generates it second.
        second: String,
    },
    /// `--service` named a service the schema does not have.
    #[error("unknown service '{name}'; the schema has: {known}")]
    UnknownService {
        /// The name asked for.
        name: String,
        /// The schema's services, comma-separated.
        known: String,
    },
    /// An error code outside of what webrpc-core's catalogue holds (`i32`).
    #[error("error {name}: code {code} does not fit in 32 bits")]
    ErrorCode {
        /// The error's name.
        name: String,
        /// Its code.
        code: i64,
    },
    /// An option that is not usable, such as a crate path that is not a path.
    #[error("invalid option: {0}")]
    InvalidOption(String),
}

/// Generates the Rust code for a schema.
pub fn generate(schema: &Schema, options: &Options) -> Result<String, GenerateError> {
    Generator::new(schema, options)?.run()
}

/// What the derives of a struct may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Derivable {
    eq: bool,
    hash: bool,
}

struct Generator<'a> {
    schema: &'a Schema,
    options: &'a Options,
    /// The crate path, such as `::webrpc_core`.
    cp: String,
    derivable: HashMap<&'a str, Derivable>,
    /// For each struct, the fields that must be boxed (they contain the struct inline).
    boxed: BTreeSet<(&'a str, &'a str)>,
    /// The services to generate, with the methods kept.
    services: Vec<(&'a Service, Vec<&'a Method>)>,
    error_type: String,
    /// How methods' items are named around clashes.
    shared: Naming,
    w: Writer,
}

impl<'a> Generator<'a> {
    fn new(schema: &'a Schema, options: &'a Options) -> Result<Self, GenerateError> {
        let cp = options.crate_path.trim().to_owned();
        let valid_path = !cp.is_empty()
            && cp
                .trim_start_matches("::")
                .split("::")
                .all(|seg| crate::schema::is_identifier(seg) || seg.starts_with("r#"));
        if !valid_path {
            return Err(GenerateError::InvalidOption(format!(
                "crate path '{cp}' is not a Rust path"
            )));
        }
        for name in &options.services {
            if schema.service(name).is_none() {
                let known: Vec<&str> = schema.services.iter().map(|s| s.name.as_str()).collect();
                return Err(GenerateError::UnknownService {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
        let mut services = Vec::new();
        for service in &schema.services {
            if !options.services.is_empty() && !options.services.contains(&service.name) {
                continue;
            }
            let methods: Vec<&Method> = service
                .methods
                .iter()
                .filter(|m| !ignored(m, &options.ignore))
                .collect();
            for m in &methods {
                if m.stream_input {
                    return Err(GenerateError::Streaming {
                        service: service.name.clone(),
                        method: m.name.clone(),
                    });
                }
            }
            services.push((service, methods));
        }
        let error_type = options
            .error_type
            .clone()
            .unwrap_or_else(|| format!("{}Error", upper_camel(&schema.name)));
        let mut seen = BTreeSet::new();
        let mut shared = BTreeSet::new();
        for (_, methods) in &services {
            for m in methods {
                if !seen.insert(m.name.as_str()) {
                    shared.insert(m.name.clone());
                }
            }
        }
        let shared = Naming {
            shared,
            types: schema.types.iter().map(|t| t.name.clone()).collect(),
        };
        let mut generator = Generator {
            schema,
            options,
            cp,
            derivable: HashMap::new(),
            boxed: BTreeSet::new(),
            services,
            error_type,
            shared,
            w: Writer::default(),
        };
        generator.analyse();
        generator.check_names()?;
        Ok(generator)
    }

    /// Which derives every struct supports, and which fields need a `Box`.
    fn analyse(&mut self) {
        let schema = self.schema;
        for t in schema.types.iter().filter(|t| t.is_struct()) {
            self.derivable.insert(
                &t.name,
                Derivable {
                    eq: true,
                    hash: true,
                },
            );
        }
        // Only ever turns `true` into `false`, so this reaches a fixpoint.
        loop {
            let mut changed = false;
            for t in schema.types.iter().filter(|t| t.is_struct()) {
                let mut d = Derivable {
                    eq: true,
                    hash: true,
                };
                for f in &t.fields {
                    if let Some((ty, _)) = field_shape(f) {
                        let fd = self.derivable_of(&ty);
                        d.eq &= fd.eq;
                        d.hash &= fd.hash;
                    }
                }
                if self.derivable[t.name.as_str()] != d {
                    self.derivable.insert(&t.name, d);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        for t in schema.types.iter().filter(|t| t.is_struct()) {
            for f in &t.fields {
                if let Some(VarType::Struct(inner)) = &f.ty {
                    let mut seen = BTreeSet::new();
                    if inner == &t.name || self.reaches_inline(inner, &t.name, &mut seen) {
                        self.boxed.insert((&t.name, &f.name));
                    }
                }
            }
        }
    }

    fn derivable_of(&self, ty: &VarType) -> Derivable {
        let all = Derivable {
            eq: true,
            hash: true,
        };
        match ty {
            VarType::Core(CoreType::Float32 | CoreType::Float64) => Derivable {
                eq: false,
                hash: false,
            },
            VarType::Core(CoreType::Any) => Derivable {
                eq: true,
                hash: false,
            },
            VarType::Core(_) | VarType::Enum(_) => all,
            VarType::List(elem) => self.derivable_of(elem),
            VarType::Map(key, value) => {
                if is_json_object(key, value) {
                    return Derivable {
                        eq: true,
                        hash: false,
                    };
                }
                let k = self.derivable_of(key);
                let v = self.derivable_of(value);
                Derivable {
                    eq: k.eq && v.eq,
                    hash: k.hash && v.hash,
                }
            }
            VarType::Struct(name) => self.derivable.get(name.as_str()).copied().unwrap_or(all),
        }
    }

    /// Whether struct `from` contains struct `target` inline (through fields that are not
    /// lists or maps).
    fn reaches_inline(&self, from: &'a str, target: &str, seen: &mut BTreeSet<&'a str>) -> bool {
        if !seen.insert(from) {
            return false;
        }
        let Some(t) = self.schema.type_by_name(from) else {
            return false;
        };
        t.fields.iter().any(|f| match &f.ty {
            Some(VarType::Struct(inner)) => {
                inner == target || self.reaches_inline(inner, target, seen)
            }
            _ => false,
        })
    }

    /// Every generated type-namespace name is a usable identifier and unique.
    fn check_names(&self) -> Result<(), GenerateError> {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut claim = |name: String, what: String| -> Result<(), GenerateError> {
            if ident(&name).is_none() || !crate::schema::is_identifier(&name) {
                return Err(GenerateError::InvalidName { what, name });
            }
            if PRELUDE_NAMES.contains(&name.as_str()) {
                return Err(GenerateError::NameClash {
                    name,
                    first: "the Rust prelude, which the generated code uses".to_owned(),
                    second: what,
                });
            }
            if let Some(first) = names.get(&name) {
                return Err(GenerateError::NameClash {
                    name,
                    first: first.clone(),
                    second: what,
                });
            }
            names.insert(name, what);
            Ok(())
        };
        for t in &self.schema.types {
            claim(t.name.clone(), format!("{} {}", t.kind.as_str(), t.name))?;
            let members = t.fields.iter().map(|f| {
                let rust = if t.is_enum() {
                    upper_camel(&f.name)
                } else {
                    snake_case(&f.name)
                };
                (rust, format!("{} {}.{}", t.kind.as_str(), t.name, f.name))
            });
            unique_members(members)?;
        }
        if !self.schema.errors.is_empty() {
            claim(self.error_type.clone(), "the error catalogue".to_owned())?;
        }
        for e in &self.schema.errors {
            if ident(&e.name).as_deref() != Some(e.name.as_str()) {
                return Err(GenerateError::InvalidName {
                    what: "error".to_owned(),
                    name: e.name.clone(),
                });
            }
            if i32::try_from(e.code).is_err() {
                return Err(GenerateError::ErrorCode {
                    name: e.name.clone(),
                    code: e.code,
                });
            }
        }
        for (service, methods) in &self.services {
            claim(service.name.clone(), format!("service {}", service.name))?;
            claim(
                format!("{}Client", service.name),
                format!("the client of service {}", service.name),
            )?;
            for m in methods {
                let marker = marker_name(&self.shared, service, m);
                let what = format!("method {}.{}", service.name, m.name);
                claim(marker.clone(), what.clone())?;
                if ident(&snake_case(&m.name)).is_none() {
                    return Err(GenerateError::InvalidName {
                        what,
                        name: snake_case(&m.name),
                    });
                }
                if !m.succinct {
                    let (request, response) = Self::io_types(&self.shared, service, m);
                    claim(request, format!("the request of {what}"))?;
                    claim(response, format!("the response of {what}"))?;
                }
                if !m.succinct {
                    for (args, kind) in [(&m.inputs, "argument"), (&m.outputs, "result")] {
                        unique_members(args.iter().map(|a| {
                            (
                                snake_case(&a.name),
                                format!("{kind} {}.{}({})", service.name, m.name, a.name),
                            )
                        }))?;
                    }
                }
            }
        }
        Ok(())
    }

    fn run(mut self) -> Result<String, GenerateError> {
        self.header();
        for t in &self.schema.types {
            self.w.blank();
            if t.is_enum() {
                self.enum_type(t);
            } else {
                self.struct_type(t);
            }
        }
        self.errors();
        let services = std::mem::take(&mut self.services);
        for (service, methods) in &services {
            self.service(service, methods);
        }
        Ok(self.w.finish())
    }

    fn header(&mut self) {
        let schema = self.schema;
        let version = self.schema_version();
        let from = match &self.options.source {
            Some(source) => format!(" from {source}"),
            None => String::new(),
        };
        self.w.line(
            0,
            &format!(
                "// Code generated by webrpc-build v{}{from}: schema `{}` {version}. DO NOT EDIT.",
                env!("CARGO_PKG_VERSION"),
                schema.name
            ),
        );
        self.w.blank();
        self.w.doc(0, &["The schema's name.".to_owned()]);
        self.w.line(
            0,
            &format!(
                "pub const SCHEMA_NAME: &str = {};",
                string_literal(&schema.name)
            ),
        );
        self.w.blank();
        self.w.doc(0, &["The schema's version.".to_owned()]);
        self.w.line(
            0,
            &format!(
                "pub const SCHEMA_VERSION: &str = {};",
                string_literal(&version)
            ),
        );
        self.w.blank();
        self.w.prose(
            0,
            &[
                "The `Webrpc` header value sent with every call of this schema and set on its \
               responses."
                    .to_owned(),
            ],
        );
        let header_call = format!(
            "{}::webrpc_header!({}, {});",
            self.cp,
            string_literal(&schema.name),
            string_literal(&version)
        );
        // rustfmt's fn_call_width: arguments wider than 60 columns go one per line.
        let args_width = string_literal(&schema.name).len() + 2 + string_literal(&version).len();
        if args_width > 60 {
            self.w.call(
                0,
                &format!(
                    "pub const WEBRPC_HEADER: &str = {}::webrpc_header!",
                    self.cp
                ),
                &[string_literal(&schema.name), string_literal(&version)],
                ";",
            );
        } else if "pub const WEBRPC_HEADER: &str = ".len() + header_call.len() <= 100 {
            self.w
                .line(0, &format!("pub const WEBRPC_HEADER: &str = {header_call}"));
        } else if 4 + header_call.len() <= 100 {
            self.w.line(0, "pub const WEBRPC_HEADER: &str =");
            self.w.line(1, &header_call);
        } else {
            self.w.call(
                0,
                &format!(
                    "pub const WEBRPC_HEADER: &str = {}::webrpc_header!",
                    self.cp
                ),
                &[string_literal(&schema.name), string_literal(&version)],
                ";",
            );
        }
        self.w.blank();
        self.w.doc(
            0,
            &["The path prefix of the schema's routes (webrpc's default is `/rpc/`).".to_owned()],
        );
        let basepath = if schema.basepath.is_empty() {
            "/rpc/".to_owned()
        } else {
            let trimmed = schema.basepath.trim_matches('/');
            if trimmed.is_empty() {
                "/".to_owned()
            } else {
                format!("/{trimmed}/")
            }
        };
        self.w.line(
            0,
            &format!("pub const BASEPATH: &str = {};", string_literal(&basepath)),
        );
    }

    /// The version in the `Webrpc` header: the schema's, or webrpc-gen's `v0.0.0-<hash>`
    /// when it has none.
    fn schema_version(&self) -> String {
        if self.schema.version.is_empty() {
            format!("v0.0.0-{}", self.schema.schema_hash())
        } else {
            self.schema.version.clone()
        }
    }

    fn serde_derives(&self) -> [String; 2] {
        [
            format!("{}::__private::serde::Serialize", self.cp),
            format!("{}::__private::serde::Deserialize", self.cp),
        ]
    }

    fn serde_crate_attr(&mut self, indent: usize) {
        let attr = format!("crate = \"{}::__private::serde\"", self.cp);
        self.w.attr(indent, "serde", &[attr]);
    }

    fn enum_type(&mut self, t: &Type) {
        let name = t.name.clone();
        let integer = t.enum_type().is_some_and(CoreType::is_integer);
        let repr = t
            .enum_type()
            .map(rust_core_type)
            .unwrap_or("u32")
            .to_owned();
        let variants: Vec<(String, &Field)> =
            t.fields.iter().map(|f| (upper_camel(&f.name), f)).collect();
        let default_index = if integer {
            t.fields
                .iter()
                .position(|f| is_zero_literal(&f.value))
                .unwrap_or(0)
        } else {
            0
        };
        let mut doc = doc_lines(&t.comments);
        if doc.is_empty() {
            doc.push(format!("The schema's `{name}` enum."));
        }
        self.w.doc(0, &doc);
        if let Some((default, _)) = variants.get(default_index) {
            self.w.line(0, "///");
            self.w.prose(
                0,
                &[format!(
                    "Sent as its name. A name this code does not know (from a newer peer) decodes \
                     as [`{name}::{default}`], the zero value."
                )],
            );
        }
        let derives: Vec<String> = [
            "Debug",
            "Clone",
            "Copy",
            "PartialEq",
            "Eq",
            "Hash",
            "Default",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        self.w.attr(0, "derive", &derives);
        if variants.is_empty() {
            // An enum without values still needs a zero value to decode into.
            self.w.line(0, &format!("pub enum {name} {{"));
            self.w.doc(
                1,
                &["The only value of an enum declared without values.".to_owned()],
            );
            self.w.line(1, "#[default]");
            self.w.line(1, "Unset,");
            self.w.line(0, "}");
            self.enum_impls(
                t,
                &[("Unset".to_owned(), "".to_owned(), "0".to_owned())],
                integer,
                &repr,
            );
            return;
        }
        self.w.line(0, &format!("pub enum {name} {{"));
        let mut rows = Vec::new();
        for (i, (variant, field)) in variants.iter().enumerate() {
            let mut vdoc = doc_lines(&field.comments);
            if vdoc.is_empty() {
                if integer {
                    vdoc.push(format!("`{}` ({}).", field.name, field.value.trim()));
                } else {
                    vdoc.push(format!("`{}`.", field.name));
                }
            }
            self.w.doc(1, &vdoc);
            if i == default_index {
                self.w.line(1, "#[default]");
            }
            self.w.line(1, &format!("{variant},"));
            rows.push((
                variant.clone(),
                field.name.clone(),
                field.value.trim().to_owned(),
            ));
        }
        self.w.line(0, "}");
        self.enum_impls(t, &rows, integer, &repr);
    }

    /// The inherent methods, `Display` and serde of an enum; `rows` are (variant, wire name,
    /// value).
    fn enum_impls(
        &mut self,
        t: &Type,
        rows: &[(String, String, String)],
        integer: bool,
        repr: &str,
    ) {
        let name = &t.name;
        let cp = self.cp.clone();
        let w = &mut self.w;
        w.blank();
        w.line(0, &format!("impl {name} {{"));
        w.doc(1, &["Every value, in schema order.".to_owned()]);
        let all: Vec<String> = rows
            .iter()
            .map(|(v, _, _)| format!("{name}::{v}"))
            .collect();
        w.array(
            1,
            &format!("pub const ALL: [{name}; {}] = ", rows.len()),
            &all,
            ";",
        );
        w.blank();
        w.doc(1, &["The name sent on the wire.".to_owned()]);
        w.line(1, "pub const fn name(self) -> &'static str {");
        w.line(2, "match self {");
        for (variant, wire, _) in rows {
            w.arm(3, &format!("{name}::{variant}"), &string_literal(wire));
        }
        w.line(2, "}");
        w.line(1, "}");
        w.blank();
        w.doc(1, &["The value with this wire name.".to_owned()]);
        w.line(1, "pub fn from_name(name: &str) -> Option<Self> {");
        w.line(2, "match name {");
        for (variant, wire, _) in rows {
            w.arm(
                3,
                &string_literal(wire),
                &format!("Some({name}::{variant})"),
            );
        }
        w.line(3, "_ => None,");
        w.line(2, "}");
        w.line(1, "}");
        if integer {
            w.blank();
            w.doc(
                1,
                &["The schema's number for this value (never sent: the name is).".to_owned()],
            );
            w.line(1, &format!("pub const fn value(self) -> {repr} {{"));
            w.line(2, "match self {");
            for (variant, _, value) in rows {
                w.arm(3, &format!("{name}::{variant}"), value);
            }
            w.line(2, "}");
            w.line(1, "}");
            w.blank();
            w.doc(1, &["The value with this number.".to_owned()]);
            w.line(
                1,
                &format!("pub fn from_value(value: {repr}) -> Option<Self> {{"),
            );
            w.line(2, "match value {");
            for (variant, _, value) in rows {
                w.arm(3, value, &format!("Some({name}::{variant})"));
            }
            w.line(3, "_ => None,");
            w.line(2, "}");
            w.line(1, "}");
        }
        w.line(0, "}");
        w.blank();
        w.doc(
            0,
            &[
                "Ordered by wire name, as Go's `encoding/json` sorts map keys: a `BTreeMap` keyed \
               by this enum is written in a Go peer's order."
                    .to_owned(),
            ],
        );
        w.line(0, &format!("impl ::std::cmp::Ord for {name} {{"));
        w.line(1, "fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {");
        w.line(2, "self.name().cmp(other.name())");
        w.line(1, "}");
        w.line(0, "}");
        w.blank();
        w.line(0, &format!("impl ::std::cmp::PartialOrd for {name} {{"));
        w.line(
            1,
            "fn partial_cmp(&self, other: &Self) -> Option<::std::cmp::Ordering> {",
        );
        w.line(2, "Some(self.cmp(other))");
        w.line(1, "}");
        w.line(0, "}");
        w.blank();
        w.line(0, &format!("impl ::std::fmt::Display for {name} {{"));
        w.line(
            1,
            "fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {",
        );
        w.line(2, "f.write_str(self.name())");
        w.line(1, "}");
        w.line(0, "}");
        w.blank();
        w.line(
            0,
            &format!("impl {cp}::__private::serde::Serialize for {name} {{"),
        );
        w.line(
            1,
            "fn serialize<S>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error>",
        );
        w.line(1, "where");
        w.line(2, &format!("S: {cp}::__private::serde::Serializer,"));
        w.line(1, "{");
        w.line(2, "serializer.serialize_str(self.name())");
        w.line(1, "}");
        w.line(0, "}");
        w.blank();
        w.line(
            0,
            &format!("impl<'de> {cp}::__private::serde::Deserialize<'de> for {name} {{"),
        );
        w.line(
            1,
            "fn deserialize<D>(deserializer: D) -> ::std::result::Result<Self, D::Error>",
        );
        w.line(1, "where");
        w.line(2, &format!("D: {cp}::__private::serde::Deserializer<'de>,"));
        w.line(1, "{");
        w.call(
            2,
            &format!("{cp}::serde_go::deserialize_enum"),
            &[
                "deserializer".to_owned(),
                string_literal(&format!("a {name} name")),
                "Self::from_name".to_owned(),
            ],
            "",
        );
        w.line(1, "}");
        w.line(0, "}");
    }

    fn struct_derives(&self, d: Derivable) -> Vec<String> {
        let mut derives = vec!["Debug", "Clone", "PartialEq"];
        if d.eq {
            derives.push("Eq");
        }
        if d.hash {
            derives.push("Hash");
        }
        derives.push("Default");
        let mut out: Vec<String> = derives.iter().map(|s| s.to_string()).collect();
        out.extend(self.serde_derives());
        out
    }

    fn struct_type(&mut self, t: &Type) {
        let d = self.derivable[t.name.as_str()];
        let mut doc = doc_lines(&t.comments);
        if doc.is_empty() {
            doc.push(format!("The schema's `{}` struct.", t.name));
        }
        self.w.doc(0, &doc);
        let derives = self.struct_derives(d);
        self.w.attr(0, "derive", &derives);
        self.serde_crate_attr(0);
        if t.fields.is_empty() {
            self.w.line(0, &format!("pub struct {} {{}}", t.name));
            return;
        }
        self.w.line(0, &format!("pub struct {} {{", t.name));
        for f in &t.fields {
            self.struct_field(t, f);
        }
        self.w.line(0, "}");
    }

    fn struct_field(&mut self, t: &Type, f: &Field) {
        let Some((effective, optional)) = field_shape(f) else {
            return;
        };
        let ty = &effective;
        let schema_ty = f.ty.as_ref().unwrap_or(ty);
        let rust_name = ident(&snake_case(&f.name)).unwrap_or_default();
        let tag = GoJsonTag::of(f);
        let json_name = tag
            .as_ref()
            .and_then(|tag| tag.name.clone())
            .unwrap_or_else(|| f.json_name().to_owned());
        let mut rust_ty = self.rust_type(ty);
        if self.boxed.contains(&(t.name.as_str(), f.name.as_str())) {
            rust_ty = format!("Box<{rust_ty}>");
        }
        let mut doc = doc_lines(&f.comments);
        if doc.is_empty() {
            doc.push(format!(
                "`{json_name}`: `{schema_ty}`{}.",
                if f.optional { ", optional" } else { "" }
            ));
        }
        self.w.doc(1, &doc);
        let mut serde = Vec::new();
        if f.json_ignored() || tag.as_ref().is_some_and(|t| t.skip) {
            serde.push("skip".to_owned());
        } else {
            if rust_name.trim_start_matches("r#") != json_name {
                serde.push(format!("rename = {}", string_literal(&json_name)));
            }
            if optional {
                serde.push("default".to_owned());
                let omit = match &tag {
                    Some(tag) => tag.omitempty,
                    None => self.options.omit_none,
                };
                if omit {
                    serde.push("skip_serializing_if = \"Option::is_none\"".to_owned());
                }
            } else {
                serde.push("default".to_owned());
                serde.push(format!(
                    "deserialize_with = \"{}::serde_go::null_as_default\"",
                    self.cp
                ));
                if tag.as_ref().is_some_and(|t| t.omitempty) {
                    if let Some(check) = self.zero_check(ty) {
                        serde.push(format!("skip_serializing_if = \"{check}\""));
                    }
                }
            }
        }
        self.w.attr(1, "serde", &serde);
        let rust_ty = if optional {
            format!("Option<{rust_ty}>")
        } else {
            rust_ty
        };
        self.w
            .typed(1, &format!("pub {rust_name}: "), &rust_ty, ",");
    }

    /// The `skip_serializing_if` function for Go's `omitempty` on a type, if Go ever omits it.
    fn zero_check(&self, ty: &VarType) -> Option<String> {
        match ty {
            VarType::Core(CoreType::String) => Some("String::is_empty".to_owned()),
            VarType::Core(CoreType::Any) => Some(format!("{}::types::Value::is_null", self.cp)),
            VarType::Core(CoreType::Timestamp | CoreType::BigInt | CoreType::Null) => None,
            VarType::Core(_) => Some(format!("{}::serde_go::is_zero", self.cp)),
            VarType::List(elem) if is_byte(elem) => Some(format!("{}::serde_go::is_zero", self.cp)),
            VarType::List(_) => Some("Vec::is_empty".to_owned()),
            VarType::Map(key, value) if is_json_object(key, value) => {
                Some(format!("{}::types::Map::is_empty", self.cp))
            }
            VarType::Map(..) => Some("::std::collections::BTreeMap::is_empty".to_owned()),
            VarType::Enum(name) => {
                let t = self.schema.type_by_name(name)?;
                let integer = t.enum_type().is_some_and(CoreType::is_integer);
                let has_zero = t.fields.iter().any(|f| is_zero_literal(&f.value));
                (integer && has_zero).then(|| format!("{}::serde_go::is_zero", self.cp))
            }
            VarType::Struct(_) => None,
        }
    }

    fn rust_type(&self, ty: &VarType) -> String {
        match ty {
            VarType::Core(CoreType::Null) => "()".to_owned(),
            VarType::Core(CoreType::Any) => format!("{}::types::Value", self.cp),
            VarType::Core(CoreType::Timestamp) => format!("{}::Timestamp", self.cp),
            VarType::Core(CoreType::BigInt) => format!("{}::BigInt", self.cp),
            VarType::Core(core) => rust_core_type(*core).to_owned(),
            VarType::List(elem) if is_byte(elem) => format!("{}::Bytes", self.cp),
            VarType::List(elem) => format!("Vec<{}>", self.rust_type(elem)),
            VarType::Map(key, value) if is_json_object(key, value) => {
                format!("{cp}::types::Map<String, {cp}::types::Value>", cp = self.cp)
            }
            VarType::Map(key, value) => format!(
                "::std::collections::BTreeMap<{}, {}>",
                self.rust_type(key),
                self.rust_type(value)
            ),
            VarType::Struct(name) | VarType::Enum(name) => name.clone(),
        }
    }

    fn errors(&mut self) {
        let schema = self.schema;
        if schema.errors.is_empty() {
            return;
        }
        let cp = self.cp.clone();
        let name = self.error_type.clone();
        let w = &mut self.w;
        w.blank();
        w.line(0, &format!("{cp}::error_catalogue! {{"));
        w.prose(
            1,
            &[
                format!(
                    "The errors of schema `{}`, besides webrpc's built-in ones.",
                    schema.name
                ),
                format!(
                    "Errors travel as `WebrpcError`; match one with `err.kind::<{name}>()`, by code \
                     as webrpc's clients do."
                ),
            ],
        );
        w.line(1, &format!("pub enum {name} {{"));
        for e in &schema.errors {
            w.doc(
                2,
                &[format!(
                    "`{}` ({}, HTTP {}): {}.",
                    e.name,
                    e.code,
                    e.http_status,
                    e.message.trim_end_matches('.')
                )],
            );
            w.line(
                2,
                &format!(
                    "{} = ({}, {}, {}),",
                    e.name,
                    e.code,
                    string_literal(&e.message),
                    e.http_status
                ),
            );
        }
        w.line(1, "}");
        w.line(0, "}");
    }

    fn service(&mut self, service: &Service, methods: &[&Method]) {
        for m in methods {
            self.method_items(service, m);
        }
        self.service_trait(service, methods);
        if self.options.client {
            self.client(service, methods);
        }
        if self.options.server {
            self.mount(service, methods);
        }
        self.method_table(service, methods);
    }

    /// The request and response type names of a method.
    fn io_types(shared: &Naming, service: &Service, m: &Method) -> (String, String) {
        let marker = marker_name(shared, service, m);
        if m.succinct {
            let input = m.inputs.first().map(|a| a.ty.to_string());
            let output = m.outputs.first().map(|a| a.ty.to_string());
            (
                input.unwrap_or_else(|| "()".to_owned()),
                output.unwrap_or_else(|| "()".to_owned()),
            )
        } else {
            let (request, response) = (format!("{marker}Request"), format!("{marker}Response"));
            if shared.types.contains(&request) || shared.types.contains(&response) {
                (format!("{marker}Args"), format!("{marker}Return"))
            } else {
                (request, response)
            }
        }
    }

    fn deprecated_attr(m: &Method) -> Option<String> {
        let a = m.annotation("deprecated")?;
        if a.value.is_empty() {
            Some("#[deprecated]".to_owned())
        } else {
            Some(format!(
                "#[deprecated(note = {})]",
                string_literal(&a.value)
            ))
        }
    }

    fn method_doc(service: &Service, m: &Method) -> Vec<String> {
        let mut doc = doc_lines(&m.comments);
        if doc.is_empty() {
            doc.push(format!("`{}.{}`.", service.name, m.name));
        }
        doc
    }

    fn method_items(&mut self, service: &Service, m: &Method) {
        let cp = self.cp.clone();
        let marker = marker_name(&self.shared, service, m);
        let (request, response) = Self::io_types(&self.shared, service, m);
        self.w.blank();
        let doc = Self::method_doc(service, m);
        self.w.doc(0, &doc);
        self.w.line(0, "///");
        self.w.prose(
            0,
            &[format!(
                "The method `POST {{basepath}}{}/{}` as a type, for {} and middleware.",
                service.name,
                m.name,
                if m.stream_output {
                    "`Client::call_stream`, `Router::route_stream`"
                } else {
                    "`Client::call`, `Router::route`"
                }
            )],
        );
        if let Some(attr) = Self::deprecated_attr(m) {
            self.w.line(0, &attr);
        }
        self.w.attr(
            0,
            "derive",
            &["Debug", "Clone", "Copy", "Default"].map(String::from),
        );
        self.w.line(0, &format!("pub struct {marker};"));
        self.w.blank();
        if m.is_deprecated() {
            self.w.line(0, "#[allow(deprecated)]");
        }
        let descriptor = if m.stream_output {
            "StreamMethod"
        } else {
            "Method"
        };
        self.w
            .line(0, &format!("impl {cp}::{descriptor} for {marker} {{"));
        self.w.assign(
            1,
            "const SERVICE: &'static str =",
            &string_literal(&service.name),
        );
        self.w
            .assign(1, "const NAME: &'static str =", &string_literal(&m.name));
        self.w.line(1, "const SCHEMA: &'static str = SCHEMA_NAME;");
        self.w
            .line(1, "const SCHEMA_VERSION: &'static str = SCHEMA_VERSION;");
        self.w
            .line(1, "const WEBRPC_HEADER: &'static str = WEBRPC_HEADER;");
        self.w.line(1, &format!("type Request = {request};"));
        if m.stream_output {
            self.w.line(1, &format!("type Message = {response};"));
        } else {
            self.w.line(1, &format!("type Response = {response};"));
        }
        self.w.line(0, "}");
        if m.succinct {
            return;
        }
        self.io_struct(service, m, &request, &m.inputs, true);
        self.io_struct(service, m, &response, &m.outputs, false);
    }

    fn io_struct(
        &mut self,
        service: &Service,
        m: &Method,
        name: &str,
        args: &[Argument],
        request: bool,
    ) {
        self.w.blank();
        let (what, each) = if request {
            ("Request object", "argument")
        } else if m.stream_output {
            ("One message of the stream", "output")
        } else {
            ("Response object", "result")
        };
        self.w.doc(
            0,
            &[format!(
                "{what} of `{}.{}`: one field per {each}.",
                service.name, m.name
            )],
        );
        let mut d = Derivable {
            eq: true,
            hash: true,
        };
        for a in args {
            let ad = self.derivable_of(&a.ty);
            d.eq &= ad.eq;
            d.hash &= ad.hash;
        }
        let derives = self.struct_derives(d);
        self.w.attr(0, "derive", &derives);
        self.serde_crate_attr(0);
        if args.is_empty() {
            self.w.line(0, &format!("pub struct {name} {{}}"));
            return;
        }
        self.w.line(0, &format!("pub struct {name} {{"));
        for a in args {
            let rust_name = ident(&snake_case(&a.name)).unwrap_or_default();
            let rust_ty = self.rust_type(&a.ty);
            let mut doc = vec![format!(
                "`{}`: `{}`{}.",
                a.name,
                a.ty,
                if a.optional { ", optional" } else { "" }
            )];
            if request && !a.optional {
                doc.push(String::new());
                doc.push("Required: a request without it is a `WebrpcBadRequest`.".to_owned());
            }
            self.w.doc(1, &doc);
            let mut serde = Vec::new();
            if rust_name.trim_start_matches("r#") != a.name {
                serde.push(format!("rename = {}", string_literal(&a.name)));
            }
            if a.optional {
                serde.push("default".to_owned());
                // Requests leave unset optional arguments out (as TypeScript clients do; Go
                // servers accept both); responses write `null`, as Go servers do.
                if request || self.options.omit_none {
                    serde.push("skip_serializing_if = \"Option::is_none\"".to_owned());
                }
            } else if !request {
                serde.push("default".to_owned());
                serde.push(format!(
                    "deserialize_with = \"{}::serde_go::null_as_default\"",
                    self.cp
                ));
            }
            if !serde.is_empty() {
                self.w.attr(1, "serde", &serde);
            }
            let rust_ty = if a.optional {
                format!("Option<{rust_ty}>")
            } else {
                rust_ty
            };
            self.w
                .typed(1, &format!("pub {rust_name}: "), &rust_ty, ",");
        }
        self.w.line(0, "}");
    }

    fn trait_fn_signature(&mut self, indent: usize, service: &Service, m: &Method, body: bool) {
        let cp = self.cp.clone();
        let (request, response) = Self::io_types(&self.shared, service, m);
        let fn_name = ident(&snake_case(&m.name)).unwrap_or_default();
        self.w.fn_signature(
            indent,
            &format!("fn {fn_name}"),
            &[
                "&self".to_owned(),
                "ctx: Self::Ctx".to_owned(),
                format!("request: {request}"),
            ],
            &if m.stream_output {
                format!("impl {cp}::StreamFuture<{response}>")
            } else {
                format!("impl {cp}::CallFuture<{response}>")
            },
            body,
        );
    }

    fn service_trait(&mut self, service: &Service, methods: &[&Method]) {
        let name = &service.name;
        self.w.blank();
        let mut doc = doc_lines(&service.comments);
        if doc.is_empty() {
            doc.push(format!("The `{name}` service."));
        }
        self.w.doc(0, &doc);
        self.w.line(0, "///");
        let mut prose = "One method per RPC, taking the call's `Ctx` and the request object. An \
                         implementation that serves has `type Ctx = RequestContext` (the \
                         incoming request, read-only); the client's is its caller's per-call \
                         options, which start empty."
            .to_owned();
        if self.options.server {
            prose.push_str(&format!(
                " Implement it (with `async fn`s) to serve the API and add it to a router with \
                 [`mount_{}`].",
                snake_case(name)
            ));
        }
        if self.options.client {
            prose.push_str(&format!(
                " [`{name}Client`] implements it by calling a server."
            ));
        }
        self.w.prose(0, &[prose]);
        self.w
            .line(0, &format!("pub trait {name}: Send + Sync + 'static {{"));
        self.w.doc(
            1,
            &[
                "What each call takes besides its request: `RequestContext` where the service"
                    .to_owned(),
                "is served, the caller's options (`webrpc_client::CallOptions`) in the client."
                    .to_owned(),
            ],
        );
        self.w.line(1, "type Ctx: Default + Send + 'static;");
        for m in methods.iter() {
            self.w.blank();
            let doc = Self::method_doc(service, m);
            self.w.doc(1, &doc);
            if let Some(attr) = Self::deprecated_attr(m) {
                self.w.line(1, &attr);
            }
            self.trait_fn_signature(1, service, m, false);
        }
        self.w.line(0, "}");
    }

    fn any_deprecated(methods: &[&Method]) -> bool {
        methods.iter().any(|m| m.is_deprecated())
    }

    fn client(&mut self, service: &Service, methods: &[&Method]) {
        let cp = self.cp.clone();
        let name = &service.name;
        let client = format!("{name}Client");
        let w = &mut self.w;
        w.blank();
        w.prose(
            0,
            &[format!(
                "The [`{name}`] service over webrpc calls: wraps any `Caller`, usually a \
                 `webrpc_client::Client`."
            )],
        );
        w.attr(0, "derive", &["Debug", "Clone"].map(String::from));
        w.line(0, &format!("pub struct {client}<C> {{"));
        w.line(1, "caller: C,");
        w.line(0, "}");
        w.blank();
        w.line(0, &format!("impl<C: {cp}::Caller> {client}<C> {{"));
        w.doc(
            1,
            &["Wraps a caller (usually a `webrpc_client::Client`).".to_owned()],
        );
        w.line(1, "pub fn new(caller: C) -> Self {");
        w.line(2, "Self { caller }");
        w.line(1, "}");
        w.blank();
        w.doc(1, &["The wrapped caller.".to_owned()]);
        w.line(1, "pub fn caller(&self) -> &C {");
        w.line(2, "&self.caller");
        w.line(1, "}");
        w.line(0, "}");
        w.blank();
        if Self::any_deprecated(methods) {
            w.line(0, "#[allow(deprecated)]");
        }
        w.line(
            0,
            &format!("impl<C: {cp}::Caller> {name} for {client}<C> {{"),
        );
        w.line(1, "type Ctx = C::Options;");
        for m in methods.iter() {
            self.w.blank();
            self.trait_fn_signature(1, service, m, true);
            let call = format!(
                ".{}::<{}>(ctx, request)",
                if m.stream_output {
                    "call_stream"
                } else {
                    "call"
                },
                marker_name(&self.shared, service, m)
            );
            self.w.chain(2, "self.caller", &[call], "");
            self.w.line(1, "}");
        }
        self.w.line(0, "}");
    }

    fn mount(&mut self, service: &Service, methods: &[&Method]) {
        let cp = self.cp.clone();
        let name = &service.name;
        let snake = snake_case(name);
        let w = &mut self.w;
        w.blank();
        w.prose(
            0,
            &[format!(
                "Adds every method of a [`{name}`] implementation to a router (any `Routes`, such \
                 as `webrpc_server::Router`) at `{{basepath}}{name}/{{Method}}`."
            )],
        );
        if Self::any_deprecated(methods) {
            w.line(0, "#[allow(deprecated)]");
        }
        w.line(
            0,
            &format!("pub fn mount_{snake}<R, T>(service: ::std::sync::Arc<T>, routes: R) -> R"),
        );
        w.line(0, "where");
        w.line(1, &format!("R: {cp}::Routes,"));
        w.line(1, &format!("T: {name}<Ctx = {cp}::RequestContext>,"));
        w.line(0, "{");
        if methods.is_empty() {
            w.line(1, "drop(service);");
            w.line(1, "routes");
        }
        for (i, m) in methods.iter().enumerate() {
            let last = i + 1 == methods.len();
            let fn_name = ident(&snake_case(&m.name)).unwrap_or_default();
            let marker = marker_name(&self.shared, service, m);
            let indent = if last {
                1
            } else {
                w.line(1, "let routes = {");
                w.line(2, "let service = ::std::sync::Arc::clone(&service);");
                2
            };
            let add = if m.stream_output {
                format!("routes.add_stream_route::<{marker}, _, _, _>(move |ctx, request| {{")
            } else {
                format!("routes.add_route::<{marker}, _, _>(move |ctx, request| {{")
            };
            w.line(indent, &add);
            w.line(
                indent + 1,
                "let service = ::std::sync::Arc::clone(&service);",
            );
            w.async_block(
                indent + 1,
                "service",
                &[format!(".{fn_name}(ctx, request)"), ".await".to_owned()],
            );
            w.line(indent, "})");
            if !last {
                w.line(1, "};");
            }
        }
        w.line(0, "}");
    }

    fn method_table(&mut self, service: &Service, methods: &[&Method]) {
        let cp = self.cp.clone();
        let name = &service.name;
        let w = &mut self.w;
        w.blank();
        w.prose(
            0,
            &[format!(
                "The method table of [`{name}`]: its name, schema, `Webrpc` header and methods, \
                 in schema order."
            )],
        );
        if Self::any_deprecated(methods) {
            w.line(0, "#[allow(deprecated)]");
        }
        w.line(
            0,
            &format!(
                "pub const {}_SERVICE: {cp}::ServiceInfo = {cp}::ServiceInfo {{",
                screaming_snake(name)
            ),
        );
        w.line(1, &format!("name: {},", string_literal(name)));
        w.line(1, "schema: SCHEMA_NAME,");
        w.line(1, "schema_version: SCHEMA_VERSION,");
        w.line(1, "webrpc_header: WEBRPC_HEADER,");
        let infos: Vec<String> = methods
            .iter()
            .map(|m| {
                format!(
                    "<{} as {cp}::{}>::INFO",
                    marker_name(&self.shared, service, m),
                    if m.stream_output {
                        "StreamMethod"
                    } else {
                        "Method"
                    }
                )
            })
            .collect();
        w.array(1, "methods: &", &infos, ",");
        w.line(0, "};");
        w.blank();
        w.prose(
            0,
            &[format!(
                "Calls `visitor.visit::<M>()` for every method `M` of [`{name}`], in schema order."
            )],
        );
        if Self::any_deprecated(methods) {
            w.line(0, "#[allow(deprecated)]");
        }
        let visitor = if methods.is_empty() {
            "_visitor"
        } else {
            "visitor"
        };
        w.signature(
            0,
            &format!(
                "pub fn for_each_{}_method<V: {cp}::MethodVisitor>",
                snake_case(name)
            ),
            &[format!("{visitor}: &mut V")],
            " {",
        );
        for m in methods {
            let marker = marker_name(&self.shared, service, m);
            let visit = if m.stream_output {
                "visit_stream"
            } else {
                "visit"
            };
            w.chain(1, "visitor", &[format!(".{visit}::<{marker}>()")], ";");
        }
        w.line(0, "}");
    }
}

/// The Rust names of a struct's fields, an enum's values or a method's arguments are
/// identifiers Rust accepts, and distinct (`fooBar` and `foo_bar` would both be `foo_bar`).
fn unique_members(members: impl Iterator<Item = (String, String)>) -> Result<(), GenerateError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (rust, what) in members {
        if ident(&rust).is_none() || !crate::schema::is_identifier(&rust) {
            return Err(GenerateError::InvalidName { what, name: rust });
        }
        if let Some(first) = seen.get(&rust) {
            return Err(GenerateError::NameClash {
                name: rust,
                first: first.clone(),
                second: what,
            });
        }
        seen.insert(rust, what);
    }
    Ok(())
}

/// A struct field's type and optionality as Go's generated code has them, which is what the
/// wire carries: an optional field is an `Option` where gen-golang's field is a pointer
/// (optional scalars, enums, structs, `any`); optional lists and maps are plain, as in Go;
/// `+ go.field.type` naming a Go value type (`string`, `time.Time`, `prototyp.Hash`…) makes an
/// optional field a plain value (Go never writes `null` for it, and writes its zero value when
/// unset); `json.RawMessage` makes it raw JSON (`any`). `None` for an enum value.
fn field_shape(f: &Field) -> Option<(VarType, bool)> {
    let ty = f.ty.clone()?;
    let go_type = match f.meta("go.field.type") {
        Some(serde_json::Value::String(go)) => Some(go.trim()),
        _ => None,
    };
    if go_type == Some("json.RawMessage") {
        return Some((VarType::Core(CoreType::Any), false));
    }
    let nil_able = |go: &str| {
        go.starts_with('*')
            || go.starts_with("[]")
            || go.starts_with("map[")
            || go.starts_with("interface")
            || go == "any"
    };
    // gen-golang gives optional scalars, enums and structs a pointer, but optional lists and
    // maps stay plain slices and maps (nil-able already): plain values here too.
    let go_pointer =
        !matches!(ty, VarType::List(_) | VarType::Map(..)) && go_type.is_none_or(nil_able);
    // A struct field is a pointer in Go even when required; with `omitempty` a nil one is
    // left out, which only an `Option` can say.
    let omitted_struct = matches!(ty, VarType::Struct(_))
        && go_type.is_none_or(nil_able)
        && GoJsonTag::of(f).is_some_and(|tag| tag.omitempty);
    Some((ty, (f.optional && go_pointer) || omitted_struct))
}

/// Whether an enum value's literal (`0`, `0x00`, `0o0`, `0b0`) is zero.
fn is_zero_literal(value: &str) -> bool {
    let v = value.trim().replace('_', "");
    let digits = ["0x", "0X", "0o", "0O", "0b", "0B"]
        .iter()
        .find_map(|p| v.strip_prefix(p))
        .unwrap_or(&v);
    !digits.is_empty() && digits.bytes().all(|b| b == b'0')
}

/// `byte` or `uint8`: a list of them is Go's `[]byte`, sent as base64.
fn is_byte(ty: &VarType) -> bool {
    matches!(ty, VarType::Core(CoreType::Byte | CoreType::Uint8))
}

/// `map<string,any>`: a JSON object.
fn is_json_object(key: &VarType, value: &VarType) -> bool {
    matches!(
        (key, value),
        (
            VarType::Core(CoreType::String),
            VarType::Core(CoreType::Any)
        )
    )
}

/// The Rust type of a core type that maps to a Rust primitive or `String`.
fn rust_core_type(core: CoreType) -> &'static str {
    match core {
        CoreType::Null => "()",
        CoreType::Bool => "bool",
        CoreType::Byte | CoreType::Uint8 => "u8",
        CoreType::Uint16 => "u16",
        CoreType::Uint32 => "u32",
        CoreType::Uint | CoreType::Uint64 => "u64",
        CoreType::Int8 => "i8",
        CoreType::Int16 => "i16",
        CoreType::Int32 => "i32",
        CoreType::Int | CoreType::Int64 => "i64",
        CoreType::Float32 => "f32",
        CoreType::Float64 => "f64",
        CoreType::String | CoreType::Timestamp | CoreType::BigInt | CoreType::Any => "String",
    }
}

/// Prelude names the generated code uses unqualified; a schema type of that name would
/// shadow them.
const PRELUDE_NAMES: &[&str] = &[
    "Option", "Some", "None", "Vec", "String", "Box", "Send", "Sync",
];

/// What method items are named around: names that would clash.
struct Naming {
    /// Method names found in more than one generated service.
    shared: BTreeSet<String>,
    /// The schema's type names.
    types: BTreeSet<String>,
}

/// The name of a method's marker type (and the stem of its request and response types): the
/// method's name, prefixed with the service's (`AdminGetStats`) when several services have a
/// method of that name or a schema type has it (a `Version` method returning a `Version`).
fn marker_name(shared: &Naming, service: &Service, m: &Method) -> String {
    if shared.shared.contains(&m.name) || shared.types.contains(&upper_first(&m.name)) {
        format!("{}{}", service.name, upper_first(&m.name))
    } else {
        upper_first(&m.name)
    }
}

fn upper_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Whether a method carries one of the annotations to ignore (`@deprecated`,
/// `@auth:"ApiKey"`, or the same without `@` or quotes).
fn ignored(m: &Method, ignore: &[String]) -> bool {
    ignore.iter().any(|filter| {
        let filter = filter.trim().trim_start_matches('@');
        let (name, value) = match filter.split_once(':') {
            Some((name, value)) => (name, Some(value.trim_matches('"'))),
            None => (filter, None),
        };
        m.annotation(name)
            .is_some_and(|a| value.is_none_or(|v| a.value == v))
    })
}

/// A field's `+ go.tag.json = name,omitempty` meta.
struct GoJsonTag {
    /// The name part, when not empty.
    name: Option<String>,
    /// `-`: never in JSON.
    skip: bool,
    omitempty: bool,
}

impl GoJsonTag {
    fn of(f: &Field) -> Option<GoJsonTag> {
        let text = f
            .meta
            .iter()
            .rev()
            .find_map(|m| match m.get("go.tag.json") {
                Some(serde_json::Value::String(s)) => Some(s.clone()),
                _ => None,
            })?;
        let mut parts = text.split(',');
        let name = parts.next().unwrap_or("").trim().to_owned();
        let omitempty = parts.any(|p| p.trim() == "omitempty");
        Some(GoJsonTag {
            skip: name == "-" && !text.starts_with("-,"),
            name: (!name.is_empty() && name != "-").then_some(name),
            omitempty,
        })
    }
}
