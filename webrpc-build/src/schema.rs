//! The schema model: what a `.ridl` file (or webrpc-gen's JSON) describes, once parsed and
//! checked.
//!
//! These structs mirror webrpc v0.31's Go `schema` package (`WebRPCSchema`, `Type`,
//! `TypeField`, `Error`, `Service`, `Method`, `MethodArgument`), field for field and in the
//! same order, so that [`Schema::to_json`] prints what `webrpc-gen -target=json` prints: the
//! same keys in the same order, with the same `omitempty` rules. Where Go keeps a key that is
//! empty (`"comments": []`, `"inputs": []`, `"optional": false` on arguments) so does this
//! model; where Go leaves it out (`fields`, `meta`, `value`, `streamInput`, …) so does this one.
//!
//! On top of the wire form, the model is *resolved*: a field's type is a [`VarType`] value
//! (`[]Foo` is `VarType::List(Box::new(VarType::Struct("Foo")))`), not a string, and a name
//! that refers to an enum is a [`VarType::Enum`]. In JSON a type is written as its expression
//! string (`"map<string,[]uint64>"`); [`VarType`]'s `Display` and [`VarType::parse`] convert.
//!
//! A `Schema` obtained from the RIDL parser or [`Schema::from_json`] has passed every check
//! in [`crate::check`]: every named type exists,
//! names are unique, enum values are set, and so on. Code generators may rely on that.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The version of the schema format this crate reads and writes: the `webrpc = v1` line.
pub const SCHEMA_VERSION: &str = "v1";

/// How deeply `[]` and `map<…>` may nest in one type expression. webrpc has no limit; a limit
/// keeps hostile input from exhausting the stack. No real schema comes close.
pub const MAX_TYPE_DEPTH: usize = 32;

/// A whole schema: webrpc's `WebRPCSchema`.
///
/// JSON keys, in order: `webrpc`, `name`, `version`, `basepath` (only when set), `types`,
/// `errors`, `services`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The schema format version, `v1` (the `webrpc = v1` line).
    #[serde(rename = "webrpc")]
    pub webrpc: String,
    /// The schema name (`name = …`), used in the `Webrpc` header.
    pub name: String,
    /// The schema's own version (`version = …`), may be empty.
    #[serde(default)]
    pub version: String,
    /// The route prefix (`basepath = …`); empty means webrpc's default `/rpc`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub basepath: String,
    /// Enums and structs, in webrpc's order: imported ones first, then this file's enums, then
    /// its structs (each group in file order).
    #[serde(default, deserialize_with = "null_as_default")]
    pub types: Vec<Type>,
    /// The schema's error catalogue, imported errors first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<ErrorDef>,
    /// Services, imported ones first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub services: Vec<Service>,
}

/// What a [`Type`] is: webrpc's `kind` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TypeKind {
    /// An `enum Name: T` with named values.
    Enum,
    /// A `struct Name` with fields.
    Struct,
}

impl TypeKind {
    /// The keyword, as written in RIDL and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            TypeKind::Enum => "enum",
            TypeKind::Struct => "struct",
        }
    }
}

/// An enum or a struct: webrpc's `Type`.
///
/// JSON keys, in order: `kind`, `name`, `type` (enums: the underlying type), `fields` (left
/// out when empty), `meta` (left out when empty), `comments` (structs only, left out when
/// empty).
///
/// An enum's own comments are kept for generated documentation but not printed: webrpc's RIDL
/// parser drops them, so its JSON never has them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Type {
    /// Enum or struct.
    pub kind: TypeKind,
    /// The type name, starting with an upper-case letter.
    pub name: String,
    /// For an enum, its underlying type (`uint32`, `string`, …); `None` for a struct.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<VarType>,
    /// A struct's fields, or an enum's values, in schema order.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub fields: Vec<Field>,
    /// Extra metadata on the type itself (webrpc's `TypeExtra.meta`); RIDL never sets it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub meta: Vec<Meta>,
    /// The `#` comment lines above the type (and a trailing `# …` on its line), without the
    /// `#`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub comments: Vec<String>,
}

impl Serialize for Type {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = serializer.serialize_struct("Type", 6)?;
        st.serialize_field("kind", &self.kind)?;
        st.serialize_field("name", &self.name)?;
        match &self.ty {
            Some(ty) => st.serialize_field("type", ty)?,
            None => st.skip_field("type")?,
        }
        if self.fields.is_empty() {
            st.skip_field("fields")?;
        } else {
            st.serialize_field("fields", &self.fields)?;
        }
        if self.meta.is_empty() {
            st.skip_field("meta")?;
        } else {
            st.serialize_field("meta", &self.meta)?;
        }
        if self.comments.is_empty() || self.is_enum() {
            st.skip_field("comments")?;
        } else {
            st.serialize_field("comments", &self.comments)?;
        }
        st.end()
    }
}

impl Type {
    /// Whether this is an enum.
    pub fn is_enum(&self) -> bool {
        self.kind == TypeKind::Enum
    }

    /// Whether this is a struct.
    pub fn is_struct(&self) -> bool {
        self.kind == TypeKind::Struct
    }

    /// For an enum, its underlying core type (`uint32`, `string`, …).
    pub fn enum_type(&self) -> Option<CoreType> {
        match (&self.kind, &self.ty) {
            (TypeKind::Enum, Some(VarType::Core(core))) => Some(*core),
            _ => None,
        }
    }

    /// The field (or enum value) of that name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// A struct field or an enum value: webrpc's `TypeField`.
///
/// JSON keys, in order: `comments` (left out when empty), `name`, `type` (struct fields only),
/// `optional` (only when true), `value` (enum values only), `meta` (left out when empty).
/// Comments come first because they are the first field of Go's struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The `#` comment lines above the field or value (and a trailing `# …` on its line).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub comments: Vec<String>,
    /// The field name as written in the schema (the JSON name unless `+ json = …` says
    /// otherwise; see [`Field::json_name`]).
    pub name: String,
    /// A struct field's type; `None` for an enum value.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ty: Option<VarType>,
    /// `name?: T`: the field may be absent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub optional: bool,
    /// An enum value's value: the number for an integer enum, the string for a string enum.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub value: String,
    /// The field's `+ key = value` lines, in order.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub meta: Vec<Meta>,
}

impl Field {
    /// The first value of meta key `key`, if any (`+ go.tag.db = id` → `meta("go.tag.db")`).
    pub fn meta(&self, key: &str) -> Option<&serde_json::Value> {
        self.meta.iter().find_map(|m| m.get(key))
    }

    /// The name the field has in JSON: the `+ json = name` meta if set (and not `-`), else
    /// the field name. webrpc's generators use the *last* `json` meta; so does this.
    pub fn json_name(&self) -> &str {
        let mut name = self.name.as_str();
        for m in &self.meta {
            if let Some(serde_json::Value::String(value)) = m.get("json") {
                if value != "-" {
                    name = value;
                }
            }
        }
        name
    }

    /// Whether `+ json = -` leaves the field out of JSON entirely.
    pub fn json_ignored(&self) -> bool {
        self.meta
            .iter()
            .any(|m| matches!(m.get("json"), Some(serde_json::Value::String(v)) if v == "-"))
    }
}

/// One `+ key = value` line: webrpc's `TypeFieldMeta`, a one-entry JSON object.
///
/// webrpc keeps each line as its own map, so a field's meta is a list of one-key objects
/// (`[{"json": "id"}, {"go.tag.db": "id"}]`), in schema order. Values from RIDL are strings; a
/// JSON schema may carry any JSON value. Keys inside one object print sorted, as Go does.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Meta(pub BTreeMap<String, serde_json::Value>);

impl Meta {
    /// A one-entry meta, as a RIDL `+ key = value` line makes.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        let mut map = BTreeMap::new();
        map.insert(key.into(), serde_json::Value::String(value.into()));
        Meta(map)
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&serde_json::Value> {
        self.0.get(key)
    }
}

/// One entry of the schema's error catalogue: webrpc's `Error`
/// (`error 1000 Unauthorized "access denied" HTTP 401`).
///
/// JSON keys, in order: `code`, `name`, `message`, `httpStatus` (always present; RIDL's default
/// is 400).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDef {
    /// The error code, a positive number unique in the schema.
    pub code: i64,
    /// The error name, unique, starting with an upper-case letter, not `Webrpc…`.
    pub name: String,
    /// The default message.
    pub message: String,
    /// The HTTP status the error is sent with, 400 to 599.
    #[serde(rename = "httpStatus", default)]
    pub http_status: i64,
}

/// A service: webrpc's `Service`.
///
/// JSON keys, in order: `name`, `methods`, `comments` (always present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Service {
    /// The service name, the `<Service>` in `POST /rpc/<Service>/<Method>`.
    pub name: String,
    /// Its methods, in schema order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub methods: Vec<Method>,
    /// The `#` comment lines above the service.
    #[serde(default, deserialize_with = "null_as_default")]
    pub comments: Vec<String>,
}

impl Service {
    /// The method of that name.
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods.iter().find(|m| m.name == name)
    }
}

/// A method: webrpc's `Method`.
///
/// JSON keys, in order: `name`, `annotations`, `comments` (both always present),
/// `streamInput`, `streamOutput`, `succinct` (each only when true), `inputs`, `outputs`
/// (always present).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Method {
    /// The method name.
    pub name: String,
    /// Its `@name` / `@name:"value"` annotations, sorted by name (webrpc keeps them in a map
    /// and prints them sorted).
    #[serde(default)]
    pub annotations: Annotations,
    /// The `#` comment lines above the method.
    #[serde(default, deserialize_with = "null_as_default")]
    pub comments: Vec<String>,
    /// Inputs are a stream (`stream` before the inputs; RIDL does not write it today).
    #[serde(rename = "streamInput", default, skip_serializing_if = "is_false")]
    pub stream_input: bool,
    /// Outputs are a stream: `- M(…) => stream (…)`.
    #[serde(rename = "streamOutput", default, skip_serializing_if = "is_false")]
    pub stream_output: bool,
    /// Written in the succinct form `- M(Request) => (Response)`: the single input and the
    /// single output are whole structs sent as the request and response bodies.
    #[serde(default, skip_serializing_if = "is_false")]
    pub succinct: bool,
    /// The arguments, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub inputs: Vec<Argument>,
    /// The results, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub outputs: Vec<Argument>,
}

impl Method {
    /// The annotation of that name (`"deprecated"` for `@deprecated`), if the method has it.
    pub fn annotation(&self, name: &str) -> Option<&Annotation> {
        self.annotations.get(name)
    }

    /// Whether the method is `@deprecated`.
    pub fn is_deprecated(&self) -> bool {
        self.annotation("deprecated").is_some()
    }
}

/// A method argument or result: webrpc's `MethodArgument`.
///
/// JSON keys, in order: `name`, `type`, `optional` (always present), `meta` (left out when
/// empty; RIDL never sets it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Argument {
    /// The argument name, the key in the JSON request or response object.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: VarType,
    /// `name?: T`: the argument may be absent.
    #[serde(default)]
    pub optional: bool,
    /// Extra metadata (webrpc's `TypeExtra.meta` on arguments).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub meta: Vec<Meta>,
}

/// A method's annotations (`@deprecated`, `@auth:"ApiKeyAuth"`), at most one per name, kept
/// sorted by name.
///
/// webrpc stores them in a Go map keyed by name, which Go prints as a JSON object with sorted
/// keys: `{"auth": {"annotationType": "auth", "value": "ApiKeyAuth"}}`. The name order kept
/// here is that order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Annotations(Vec<Annotation>);

impl Annotations {
    /// No annotations.
    pub fn new() -> Self {
        Annotations(Vec::new())
    }

    /// Adds an annotation, replacing one of the same name (the last one written wins, as it
    /// does in webrpc's map).
    pub fn insert(&mut self, annotation: Annotation) {
        match self.0.binary_search_by(|a| a.name.cmp(&annotation.name)) {
            Ok(i) => self.0[i] = annotation,
            Err(i) => self.0.insert(i, annotation),
        }
    }

    /// The annotation of that name.
    pub fn get(&self, name: &str) -> Option<&Annotation> {
        self.0
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.0[i])
    }

    /// The annotations, sorted by name.
    pub fn iter(&self) -> std::slice::Iter<'_, Annotation> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Annotations {
    type Item = &'a Annotation;
    type IntoIter = std::slice::Iter<'a, Annotation>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Annotation> for Annotations {
    fn from_iter<I: IntoIterator<Item = Annotation>>(iter: I) -> Self {
        // Through a map, so that many annotations cost n log n, the last of a name winning.
        let map: BTreeMap<String, Annotation> =
            iter.into_iter().map(|a| (a.name.clone(), a)).collect();
        Annotations(map.into_values().collect())
    }
}

impl Serialize for Annotations {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for a in &self.0 {
            map.serialize_entry(&a.name, a)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Annotations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // An object keyed by name (what webrpc-gen prints), `null`, or a list (what older
        // webrpc-gen versions printed) are all accepted.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Map(BTreeMap<String, Annotation>),
            List(Vec<Annotation>),
        }
        Ok(match Option::<Form>::deserialize(deserializer)? {
            None => Annotations::new(),
            Some(Form::List(list)) => list.into_iter().collect(),
            Some(Form::Map(map)) => map
                .into_iter()
                .map(|(name, a)| Annotation {
                    name,
                    value: a.value,
                })
                .collect(),
        })
    }
}

/// One method annotation: `@deprecated` is `{name: "deprecated", value: ""}`,
/// `@auth:"ApiKeyAuth"` is `{name: "auth", value: "ApiKeyAuth"}`.
///
/// JSON keys: `annotationType`, `value` (webrpc's `Annotation`; both always present).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// The name after `@`.
    #[serde(rename = "annotationType")]
    pub name: String,
    /// The quoted value after `:`, or empty when there is none.
    #[serde(default)]
    pub value: String,
}

/// The built-in scalar types of RIDL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoreType {
    /// `null`: always null (a placeholder type).
    Null,
    /// `any`: any JSON value.
    Any,
    /// `byte`: a single byte (JSON number).
    Byte,
    /// `bool`.
    Bool,
    /// `uint`: an unsigned integer of platform size (64 bits in practice).
    Uint,
    /// `uint8`.
    Uint8,
    /// `uint16`.
    Uint16,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `int`: a signed integer of platform size (64 bits in practice).
    Int,
    /// `int8`.
    Int8,
    /// `int16`.
    Int16,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `float32`.
    Float32,
    /// `float64`.
    Float64,
    /// `string`.
    String,
    /// `timestamp`: an RFC 3339 date-time string.
    Timestamp,
    /// `bigint`: an arbitrary-precision integer sent as a decimal string.
    BigInt,
}

impl CoreType {
    /// Every core type, in webrpc's order.
    pub const ALL: [CoreType; 19] = [
        CoreType::Null,
        CoreType::Any,
        CoreType::Byte,
        CoreType::Bool,
        CoreType::Uint,
        CoreType::Uint8,
        CoreType::Uint16,
        CoreType::Uint32,
        CoreType::Uint64,
        CoreType::Int,
        CoreType::Int8,
        CoreType::Int16,
        CoreType::Int32,
        CoreType::Int64,
        CoreType::Float32,
        CoreType::Float64,
        CoreType::String,
        CoreType::Timestamp,
        CoreType::BigInt,
    ];

    /// The RIDL keyword (`uint64`, `timestamp`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            CoreType::Null => "null",
            CoreType::Any => "any",
            CoreType::Byte => "byte",
            CoreType::Bool => "bool",
            CoreType::Uint => "uint",
            CoreType::Uint8 => "uint8",
            CoreType::Uint16 => "uint16",
            CoreType::Uint32 => "uint32",
            CoreType::Uint64 => "uint64",
            CoreType::Int => "int",
            CoreType::Int8 => "int8",
            CoreType::Int16 => "int16",
            CoreType::Int32 => "int32",
            CoreType::Int64 => "int64",
            CoreType::Float32 => "float32",
            CoreType::Float64 => "float64",
            CoreType::String => "string",
            CoreType::Timestamp => "timestamp",
            CoreType::BigInt => "bigint",
        }
    }

    /// The core type of that keyword.
    pub fn from_name(name: &str) -> Option<CoreType> {
        CoreType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether it is one of the integer types (`uint`…`uint64`, `int`…`int64`), the types an
    /// integer enum may be based on.
    pub fn is_integer(self) -> bool {
        matches!(
            self,
            CoreType::Uint
                | CoreType::Uint8
                | CoreType::Uint16
                | CoreType::Uint32
                | CoreType::Uint64
                | CoreType::Int
                | CoreType::Int8
                | CoreType::Int16
                | CoreType::Int32
                | CoreType::Int64
        )
    }

    /// Whether a map may be keyed by it: `string` and the integer types.
    pub fn is_map_key(self) -> bool {
        self == CoreType::String || self.is_integer()
    }
}

impl fmt::Display for CoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A type as used by a field, an argument or a container: webrpc's `VarType`, resolved.
///
/// In JSON (and RIDL) it is written as its expression: `uint64`, `[]User`,
/// `map<string,[]uint64>`; [`fmt::Display`] prints that canonical form (no spaces) and
/// [`VarType::parse`] reads it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VarType {
    /// A core type.
    Core(CoreType),
    /// `[]T`.
    List(Box<VarType>),
    /// `map<K,V>`; the key is a `string` or integer core type, or an enum.
    Map(Box<VarType>, Box<VarType>),
    /// A struct of the schema, by name.
    Struct(String),
    /// An enum of the schema, by name.
    Enum(String),
}

impl VarType {
    /// Parses a type expression. Names that are not core types come back as
    /// [`VarType::Struct`]; [`VarType::resolve`] turns those naming an enum into
    /// [`VarType::Enum`] and rejects unknown ones. Whitespace around the parts is allowed.
    pub fn parse(expr: &str) -> Result<VarType, TypeExprError> {
        parse_expr(expr, 0)
    }

    /// Resolves named types against the schema's types: `kind_of(name)` says what a name is
    /// (`None`: no such type). Returns the first unknown name, or a map key that cannot be one.
    pub fn resolve(
        &mut self,
        kind_of: &dyn Fn(&str) -> Option<TypeKind>,
    ) -> Result<(), TypeExprError> {
        match self {
            VarType::Core(_) => Ok(()),
            VarType::List(elem) => elem.resolve(kind_of),
            VarType::Map(key, value) => {
                key.resolve(kind_of)?;
                match &**key {
                    VarType::Core(core) if core.is_map_key() => {}
                    VarType::Enum(_) => {}
                    other => {
                        return Err(TypeExprError::InvalidMapKey(other.to_string()));
                    }
                }
                value.resolve(kind_of)
            }
            VarType::Struct(name) | VarType::Enum(name) => match kind_of(name) {
                Some(TypeKind::Struct) => {
                    *self = VarType::Struct(std::mem::take(name));
                    Ok(())
                }
                Some(TypeKind::Enum) => {
                    *self = VarType::Enum(std::mem::take(name));
                    Ok(())
                }
                None => Err(TypeExprError::UnknownType(name.clone())),
            },
        }
    }

    /// The core type, if this is one.
    pub fn as_core(&self) -> Option<CoreType> {
        match self {
            VarType::Core(core) => Some(*core),
            _ => None,
        }
    }

    /// The struct or enum name, if this is a named type.
    pub fn type_name(&self) -> Option<&str> {
        match self {
            VarType::Struct(name) | VarType::Enum(name) => Some(name),
            _ => None,
        }
    }

    /// Calls `f` on this type and every type inside it (list elements, map keys and values).
    pub fn walk(&self, f: &mut dyn FnMut(&VarType)) {
        f(self);
        match self {
            VarType::List(elem) => elem.walk(f),
            VarType::Map(key, value) => {
                key.walk(f);
                value.walk(f);
            }
            _ => {}
        }
    }
}

impl fmt::Display for VarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarType::Core(core) => f.write_str(core.as_str()),
            VarType::List(elem) => write!(f, "[]{elem}"),
            VarType::Map(key, value) => write!(f, "map<{key},{value}>"),
            VarType::Struct(name) | VarType::Enum(name) => f.write_str(name),
        }
    }
}

impl Serialize for VarType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for VarType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expr = String::deserialize(deserializer)?;
        VarType::parse(&expr).map_err(D::Error::custom)
    }
}

/// Why a type expression is not a type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypeExprError {
    /// Nothing where a type was expected.
    #[error("empty type expression")]
    Empty,
    /// Not `[]T`, `map<K,V>`, a core type or a type name.
    #[error("invalid type expression '{0}'")]
    Invalid(String),
    /// `map<…>` without the comma between key and value, or without the closing `>`.
    #[error("invalid map type '{0}': expected map<KeyType,ValueType>")]
    InvalidMap(String),
    /// A map keyed by something other than `string`, an integer type or an enum.
    #[error("invalid map key type '{0}': must be string, an integer type or an enum")]
    InvalidMapKey(String),
    /// More than [`MAX_TYPE_DEPTH`] nested containers.
    #[error("type expression nests deeper than {MAX_TYPE_DEPTH} levels")]
    TooDeep,
    /// A name that is no core type and no type of the schema.
    #[error("unknown type '{0}'")]
    UnknownType(String),
}

fn parse_expr(expr: &str, depth: usize) -> Result<VarType, TypeExprError> {
    if depth > MAX_TYPE_DEPTH {
        return Err(TypeExprError::TooDeep);
    }
    let expr = expr.trim();
    if expr.is_empty() {
        return Err(TypeExprError::Empty);
    }
    if let Some(elem) = expr.strip_prefix("[]") {
        return Ok(VarType::List(Box::new(parse_expr(elem, depth + 1)?)));
    }
    if let Some(rest) = expr.strip_prefix("map") {
        let rest = rest.trim_start();
        if let Some(inner) = rest.strip_prefix('<') {
            let inner = inner
                .strip_suffix('>')
                .ok_or_else(|| TypeExprError::InvalidMap(expr.to_string()))?;
            // The key is a scalar or an enum name, so the first comma ends it.
            let (key, value) = inner
                .split_once(',')
                .ok_or_else(|| TypeExprError::InvalidMap(expr.to_string()))?;
            let key = parse_expr(key, depth + 1)?;
            let value = parse_expr(value, depth + 1)?;
            return Ok(VarType::Map(Box::new(key), Box::new(value)));
        }
    }
    if let Some(core) = CoreType::from_name(expr) {
        return Ok(VarType::Core(core));
    }
    if is_identifier(expr) {
        return Ok(VarType::Struct(expr.to_string()));
    }
    Err(TypeExprError::Invalid(expr.to_string()))
}

/// Whether `s` is a RIDL identifier: a letter or `_`, then letters, digits or `_`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Schema {
    /// An empty `webrpc = v1` schema of that name.
    pub fn new(name: impl Into<String>) -> Self {
        Schema {
            webrpc: SCHEMA_VERSION.to_string(),
            name: name.into(),
            version: String::new(),
            basepath: String::new(),
            types: Vec::new(),
            errors: Vec::new(),
            services: Vec::new(),
        }
    }

    /// The type of that name.
    pub fn type_by_name(&self, name: &str) -> Option<&Type> {
        self.types.iter().find(|t| t.name == name)
    }

    /// The service of that name.
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.name == name)
    }

    /// The schema as webrpc-gen `-target=json` prints it: indented by one space, keys in
    /// webrpc's order, `<`, `>` and `&` not escaped, a trailing newline.
    pub fn to_json(&self) -> String {
        crate::json::to_go_json(self)
    }

    /// Reads a schema in webrpc's JSON form (what `webrpc-gen -target=json` prints, or a
    /// hand-written `.webrpc.json`), resolves its type names and checks it like a parsed RIDL.
    pub fn from_json(json: &str) -> Result<Schema, crate::Error> {
        crate::json::from_json(json, "<json>")
    }

    /// webrpc's schema hash: the hex SHA-1 of [`Schema::to_json`]. webrpc-gen puts it in the
    /// `Webrpc` header (`name@v0.0.0-<hash>`) when the schema has no version.
    pub fn schema_hash(&self) -> String {
        sha1_smol::Sha1::from(self.to_json()).digest().to_string()
    }

    /// Resolves every named type in the schema (struct or enum), failing on the first
    /// unknown one. Parsers call this once all types are known.
    pub fn resolve_types(&mut self) -> Result<(), (TypeRef, TypeExprError)> {
        let kinds: std::collections::HashMap<String, TypeKind> = self
            .types
            .iter()
            .map(|t| (t.name.clone(), t.kind))
            .collect();
        let kind_of = |name: &str| kinds.get(name).copied();
        for (ti, ty) in self.types.iter_mut().enumerate() {
            if let Some(t) = ty.ty.as_mut() {
                t.resolve(&kind_of).map_err(|e| (TypeRef::Type(ti), e))?;
            }
            for (fi, field) in ty.fields.iter_mut().enumerate() {
                if let Some(t) = field.ty.as_mut() {
                    t.resolve(&kind_of)
                        .map_err(|e| (TypeRef::Field(ti, fi), e))?;
                }
            }
        }
        for (si, service) in self.services.iter_mut().enumerate() {
            for (mi, method) in service.methods.iter_mut().enumerate() {
                for (ai, arg) in method.inputs.iter_mut().enumerate() {
                    arg.ty
                        .resolve(&kind_of)
                        .map_err(|e| (TypeRef::Input(si, mi, ai), e))?;
                }
                for (ai, arg) in method.outputs.iter_mut().enumerate() {
                    arg.ty
                        .resolve(&kind_of)
                        .map_err(|e| (TypeRef::Output(si, mi, ai), e))?;
                }
            }
        }
        Ok(())
    }
}

/// Where in a [`Schema`] something is, by index: used by checks to point at the offending
/// item, which a parser can then map back to a line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// The schema header (`webrpc`, `name`, `version`).
    Header,
    /// `types[i]` (for an enum, its underlying type).
    Type(usize),
    /// `types[i].fields[j]`.
    Field(usize, usize),
    /// `errors[i]`.
    Error(usize),
    /// `services[i]`.
    Service(usize),
    /// `services[i].methods[j]`.
    Method(usize, usize),
    /// `services[i].methods[j].inputs[k]`.
    Input(usize, usize, usize),
    /// `services[i].methods[j].outputs[k]`.
    Output(usize, usize, usize),
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Go decodes `null` into an empty slice; so does this.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_expressions_print_in_canonical_form() {
        for (input, printed) in [
            ("uint64", "uint64"),
            ("[]string", "[]string"),
            ("[][]User", "[][]User"),
            ("map<string,any>", "map<string,any>"),
            (
                "map< string , map<uint32, []User> >",
                "map<string,map<uint32,[]User>>",
            ),
            ("[]map<string,uint32>", "[]map<string,uint32>"),
        ] {
            assert_eq!(VarType::parse(input).unwrap().to_string(), printed);
        }
    }

    #[test]
    fn bad_type_expressions_are_errors() {
        assert_eq!(VarType::parse(""), Err(TypeExprError::Empty));
        assert_eq!(VarType::parse("[]"), Err(TypeExprError::Empty));
        assert!(matches!(
            VarType::parse("map<string>"),
            Err(TypeExprError::InvalidMap(_))
        ));
        assert!(matches!(
            VarType::parse("map<string,int"),
            Err(TypeExprError::InvalidMap(_))
        ));
        assert!(matches!(
            VarType::parse("9lives"),
            Err(TypeExprError::Invalid(_))
        ));
        let deep = format!("{}int", "[]".repeat(MAX_TYPE_DEPTH + 2));
        assert_eq!(VarType::parse(&deep), Err(TypeExprError::TooDeep));
    }

    #[test]
    fn resolving_tells_enums_from_structs_and_rejects_unknown_names() {
        let kind_of = |name: &str| match name {
            "Kind" => Some(TypeKind::Enum),
            "User" => Some(TypeKind::Struct),
            _ => None,
        };
        let mut t = VarType::parse("map<Kind,[]User>").unwrap();
        t.resolve(&kind_of).unwrap();
        assert_eq!(
            t,
            VarType::Map(
                Box::new(VarType::Enum("Kind".into())),
                Box::new(VarType::List(Box::new(VarType::Struct("User".into()))))
            )
        );
        let mut t = VarType::parse("[]Nope").unwrap();
        assert_eq!(
            t.resolve(&kind_of),
            Err(TypeExprError::UnknownType("Nope".into()))
        );
        let mut t = VarType::parse("map<User,string>").unwrap();
        assert_eq!(
            t.resolve(&kind_of),
            Err(TypeExprError::InvalidMapKey("User".into()))
        );
        let mut t = VarType::parse("map<float64,string>").unwrap();
        assert!(matches!(
            t.resolve(&kind_of),
            Err(TypeExprError::InvalidMapKey(_))
        ));
    }

    #[test]
    fn annotations_stay_sorted_and_unique() {
        let all: Annotations = [
            Annotation {
                name: "internal".into(),
                value: String::new(),
            },
            Annotation {
                name: "auth".into(),
                value: "ApiKeyAuth".into(),
            },
            Annotation {
                name: "internal".into(),
                value: "again".into(),
            },
        ]
        .into_iter()
        .collect();
        let names: Vec<_> = all.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["auth", "internal"]);
        assert_eq!(all.get("internal").unwrap().value, "again");
    }

    #[test]
    fn json_name_follows_the_json_meta() {
        let mut field = Field {
            comments: vec![],
            name: "ID".into(),
            ty: Some(VarType::Core(CoreType::Uint64)),
            optional: false,
            value: String::new(),
            meta: vec![Meta::new("json", "id"), Meta::new("go.tag.db", "id")],
        };
        assert_eq!(field.json_name(), "id");
        assert!(!field.json_ignored());
        field.meta = vec![Meta::new("json", "-")];
        assert_eq!(field.json_name(), "ID");
        assert!(field.json_ignored());
    }
}
