//! The RIDL front end: reading files and their imports, turning declarations into the
//! [`Schema`] model the way webrpc's `ridl` package does, and pointing errors at the line
//! that caused them.
//!
//! webrpc's rules, kept here:
//! - Each file is parsed and checked on its own, imports first, and imported once however
//!   many files import it (a cycle is an error).
//! - An import adds the imported file's types, errors and services (all of them, or those in
//!   its member list), after the ones already there; a type or error reached through two
//!   imports is added once.
//! - Then come the file's own enums, then its own structs, each in file order; its errors
//!   after the imported ones; its services after the imported ones.
//! - An integer enum value without `= value` is its position in the list (0, 1, 2, …); a
//!   string enum value without one is its own name.
//! - An error without `HTTP status` has status 400.
//! - A succinct method `- M(Req) => (Resp)` has one input named `req` of type `Req` and one
//!   output named `resp` of type `Resp` (the type name with its first letter lower-cased).

mod lexer;
mod parser;

use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use crate::error::{Diagnostic, Error, Location};
use crate::schema::{
    Annotations, Argument, CoreType, ErrorDef, Field, Meta, Method, Schema, Service, Type,
    TypeKind, TypeRef, VarType,
};
use lexer::{Pos, Spanned, SyntaxError};
use parser::Args;

/// The largest schema file read, in bytes: bounds memory on hostile input. Real schemas are a
/// few hundred kilobytes at most.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The most files one schema may pull in through imports.
pub const MAX_FILES: usize = 512;

/// A file's text and the name it is shown under in messages.
#[derive(Debug)]
struct SourceFile {
    display: String,
    text: String,
}

/// Where an item was declared.
#[derive(Debug, Clone)]
struct Src {
    file: Rc<SourceFile>,
    pos: Pos,
}

impl Src {
    fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::at(
            self.file.display.clone(),
            Location::in_source(&self.file.text, self.pos.line, self.pos.col),
            message,
        )
    }
}

/// Which file and which declaration in it an item comes from: a type or error reached
/// through two imports is the same item, added once (webrpc compares pointers).
type ItemId = (usize, usize);

/// Declaration sites, index for index with the schema's vectors.
#[derive(Debug, Default, Clone)]
struct Spans {
    header: Option<Src>,
    /// Each type's name, and (enums) its underlying type.
    types: Vec<(Src, Option<Src>)>,
    /// Each field's name, and (struct fields) its type.
    fields: Vec<Vec<(Src, Option<Src>)>>,
    errors: Vec<Src>,
    services: Vec<Src>,
    methods: Vec<Vec<Src>>,
    inputs: Vec<Vec<Vec<(Src, Src)>>>,
    outputs: Vec<Vec<Vec<(Src, Src)>>>,
}

impl Spans {
    /// The name position of an item.
    fn name_of(&self, at: TypeRef) -> Option<&Src> {
        match at {
            TypeRef::Header => self.header.as_ref(),
            TypeRef::Type(i) => self.types.get(i).map(|t| &t.0),
            TypeRef::Field(i, j) => self.fields.get(i)?.get(j).map(|f| &f.0),
            TypeRef::Error(i) => self.errors.get(i),
            TypeRef::Service(i) => self.services.get(i),
            TypeRef::Method(i, j) => self.methods.get(i)?.get(j),
            TypeRef::Input(i, j, k) => self.inputs.get(i)?.get(j)?.get(k).map(|a| &a.0),
            TypeRef::Output(i, j, k) => self.outputs.get(i)?.get(j)?.get(k).map(|a| &a.0),
        }
    }

    /// The position of an item's type expression, falling back to its name.
    fn type_of(&self, at: TypeRef) -> Option<&Src> {
        let ty = match at {
            TypeRef::Type(i) => self.types.get(i).and_then(|t| t.1.as_ref()),
            TypeRef::Field(i, j) => self.fields.get(i).and_then(|f| f.get(j)?.1.as_ref()),
            TypeRef::Input(i, j, k) => self
                .inputs
                .get(i)
                .and_then(|m| m.get(j)?.get(k))
                .map(|a| &a.1),
            TypeRef::Output(i, j, k) => self
                .outputs
                .get(i)
                .and_then(|m| m.get(j)?.get(k))
                .map(|a| &a.1),
            _ => None,
        };
        ty.or_else(|| self.name_of(at))
    }
}

/// A parsed and checked file, its imports merged in.
#[derive(Debug)]
struct Unit {
    schema: Schema,
    spans: Spans,
    type_ids: Vec<ItemId>,
    error_ids: Vec<ItemId>,
}

/// Reads a root file and everything it imports.
#[derive(Debug, Default)]
pub(crate) struct Loader {
    cache: HashMap<PathBuf, Rc<Unit>>,
    /// Files being parsed, outermost first: an import of one of them is a cycle.
    stack: Vec<PathBuf>,
    /// Every file read, in the order first read.
    pub(crate) files: Vec<PathBuf>,
}

impl Loader {
    /// Parses the file at `path` (shown as given), its imports resolved from its directory.
    pub(crate) fn load_file(&mut self, path: &Path) -> Result<Schema, Error> {
        let text = read_source(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let unit = self.load_text(path, path.display().to_string(), text)?;
        Ok(unit.schema.clone())
    }

    /// Parses `text` as the file `name` (imports resolved from `name`'s directory).
    pub(crate) fn load_str(&mut self, text: &str, name: &str) -> Result<Schema, Error> {
        let unit = self.load_text(Path::new(name), name.to_string(), text.to_string())?;
        Ok(unit.schema.clone())
    }

    fn load_text(&mut self, path: &Path, display: String, text: String) -> Result<Rc<Unit>, Error> {
        let key = cache_key(path);
        if let Some(unit) = self.cache.get(&key) {
            return Ok(unit.clone());
        }
        self.files.push(path.to_path_buf());
        self.stack.push(key.clone());
        let file = Rc::new(SourceFile { display, text });
        let result = self.build_unit(path, file);
        self.stack.pop();
        let unit = Rc::new(result?);
        self.cache.insert(key, unit.clone());
        Ok(unit)
    }

    fn build_unit(&mut self, path: &Path, file: Rc<SourceFile>) -> Result<Unit, Error> {
        let src = |pos: Pos| Src {
            file: file.clone(),
            pos,
        };
        let ast = parser::parse(&file.text).map_err(|SyntaxError { pos, message }| {
            Error::Syntax(Box::new(src(pos).diagnostic(message)))
        })?;
        let file_id = self.files.len() - 1;

        let mut schema = Schema::new("");
        schema.webrpc = String::new();
        let mut spans = Spans::default();
        let mut type_ids = Vec::new();
        let mut error_ids = Vec::new();
        // The same ids as sets, so that deduplicating imports stays linear.
        let mut type_seen: HashSet<ItemId> = HashSet::new();
        let mut error_seen: HashSet<ItemId> = HashSet::new();

        // Definitions.
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for def in &ast.definitions {
            if let Some(line) = seen.insert(def.key.value.as_str(), def.key.pos.line) {
                return Err(syntax(
                    src(def.key.pos),
                    format!("'{}' was already declared on line {line}", def.key.value),
                ));
            }
            let value = def.value.value.clone();
            match def.key.value.as_str() {
                "webrpc" => {
                    schema.webrpc = value;
                    spans.header = Some(src(def.value.pos));
                }
                "name" => schema.name = value,
                "version" => schema.version = value,
                _ => schema.basepath = value,
            }
        }

        // Imports, in order.
        for import in &ast.imports {
            let site = src(import.path.pos);
            let target = resolve_import(path, &import.path.value);
            let display = resolve_import(Path::new(&file.display), &import.path.value)
                .display()
                .to_string();
            let unit = self.import(&target, display, &site)?;
            let declared: HashSet<&str> = unit
                .schema
                .types
                .iter()
                .map(|t| t.name.as_str())
                .chain(unit.schema.errors.iter().map(|e| e.name.as_str()))
                .chain(unit.schema.services.iter().map(|s| s.name.as_str()))
                .collect();
            let members: HashSet<&str> = import.members.iter().map(|m| m.value.as_str()).collect();
            for member in &import.members {
                let name = member.value.as_str();
                if !declared.contains(name) {
                    return Err(syntax(
                        src(member.pos),
                        format!(
                            "'{name}' is not a type, error or service of '{}'",
                            import.path.value
                        ),
                    ));
                }
            }
            let allowed = |name: &str| members.is_empty() || members.contains(name);
            for (i, ty) in unit.schema.types.iter().enumerate() {
                if allowed(&ty.name) && type_seen.insert(unit.type_ids[i]) {
                    type_ids.push(unit.type_ids[i]);
                    schema.types.push(ty.clone());
                    spans.types.push(unit.spans.types[i].clone());
                    spans.fields.push(unit.spans.fields[i].clone());
                }
            }
            for (i, err) in unit.schema.errors.iter().enumerate() {
                if allowed(&err.name) && error_seen.insert(unit.error_ids[i]) {
                    error_ids.push(unit.error_ids[i]);
                    schema.errors.push(err.clone());
                    spans.errors.push(unit.spans.errors[i].clone());
                }
            }
            for (i, service) in unit.schema.services.iter().enumerate() {
                if allowed(&service.name) {
                    schema.services.push(service.clone());
                    spans.services.push(unit.spans.services[i].clone());
                    spans.methods.push(unit.spans.methods[i].clone());
                    spans.inputs.push(unit.spans.inputs[i].clone());
                    spans.outputs.push(unit.spans.outputs[i].clone());
                }
            }
        }

        // This file's enums, then its structs.
        for (local, decl) in ast.enums.iter().enumerate() {
            let string_enum = decl.ty.value == VarType::Core(CoreType::String);
            let mut fields = Vec::new();
            let mut field_spans = Vec::new();
            for (i, v) in decl.values.iter().enumerate() {
                let value = match &v.value {
                    Some(value) => value.value.clone(),
                    None if string_enum => v.name.value.clone(),
                    None => i.to_string(),
                };
                fields.push(Field {
                    comments: v.comments.clone(),
                    name: v.name.value.clone(),
                    ty: None,
                    optional: false,
                    value,
                    meta: Vec::new(),
                });
                field_spans.push((src(v.name.pos), None));
            }
            schema.types.push(Type {
                kind: TypeKind::Enum,
                name: decl.name.value.clone(),
                ty: Some(decl.ty.value.clone()),
                fields,
                meta: Vec::new(),
                comments: decl.comments.clone(),
            });
            spans
                .types
                .push((src(decl.name.pos), Some(src(decl.ty.pos))));
            spans.fields.push(field_spans);
            type_ids.push((file_id, local));
        }
        for (local, decl) in ast.structs.iter().enumerate() {
            let mut fields = Vec::new();
            let mut field_spans = Vec::new();
            for f in &decl.fields {
                fields.push(Field {
                    comments: f.comments.clone(),
                    name: f.name.value.clone(),
                    ty: Some(f.ty.value.clone()),
                    optional: f.optional,
                    value: String::new(),
                    meta: f
                        .meta
                        .iter()
                        .map(|(k, v)| Meta::new(k.clone(), v.clone()))
                        .collect(),
                });
                field_spans.push((src(f.name.pos), Some(src(f.ty.pos))));
            }
            schema.types.push(Type {
                kind: TypeKind::Struct,
                name: decl.name.value.clone(),
                ty: None,
                fields,
                meta: Vec::new(),
                comments: decl.comments.clone(),
            });
            spans.types.push((src(decl.name.pos), None));
            spans.fields.push(field_spans);
            type_ids.push((file_id, ast.enums.len() + local));
        }

        // This file's errors.
        for (local, decl) in ast.errors.iter().enumerate() {
            schema.errors.push(ErrorDef {
                code: decl.code.value,
                name: decl.name.value.clone(),
                message: decl.message.clone(),
                http_status: decl.http_status.unwrap_or(400),
            });
            spans.errors.push(src(decl.name.pos));
            error_ids.push((file_id, local));
        }

        // This file's services. Succinct arguments name a type, looked up ignoring case.
        let mut by_lower_name: HashMap<String, usize> = HashMap::new();
        for (i, ty) in schema.types.iter().enumerate() {
            by_lower_name.entry(ty.name.to_lowercase()).or_insert(i);
        }
        for decl in &ast.services {
            let mut methods = Vec::new();
            let mut method_spans = Vec::new();
            let mut input_spans = Vec::new();
            let mut output_spans = Vec::new();
            for m in &decl.methods {
                let (inputs, in_spans, in_succinct) =
                    arguments(&schema, &by_lower_name, &m.inputs, &src, &m.name)?;
                let (outputs, out_spans, out_succinct) =
                    arguments(&schema, &by_lower_name, &m.outputs, &src, &m.name)?;
                if in_succinct != out_succinct {
                    return Err(syntax(
                        src(m.name.pos),
                        format!(
                            "method '{}' must use the succinct form for both its input and its output, as in '- {}(Request) => (Response)'",
                            m.name.value, m.name.value
                        ),
                    ));
                }
                methods.push(Method {
                    name: m.name.value.clone(),
                    annotations: m.annotations.iter().cloned().collect::<Annotations>(),
                    comments: m.comments.clone(),
                    stream_input: false,
                    stream_output: m.stream_output,
                    succinct: in_succinct && out_succinct,
                    inputs,
                    outputs,
                });
                method_spans.push(src(m.name.pos));
                input_spans.push(in_spans);
                output_spans.push(out_spans);
            }
            schema.services.push(Service {
                name: decl.name.value.clone(),
                methods,
                comments: decl.comments.clone(),
            });
            spans.services.push(src(decl.name.pos));
            spans.methods.push(method_spans);
            spans.inputs.push(input_spans);
            spans.outputs.push(output_spans);
        }

        // Every named type must exist; then webrpc's checks.
        if let Err((at, err)) = schema.resolve_types() {
            let site = spans.type_of(at).cloned();
            let message = format!("{err} (in {})", crate::check::describe(&schema, at));
            return Err(schema_error(&file, site, message));
        }
        if let Err(err) = crate::check::check(&schema) {
            let site = spans.name_of(err.at).cloned();
            return Err(schema_error(&file, site, err.message));
        }

        Ok(Unit {
            schema,
            spans,
            type_ids,
            error_ids,
        })
    }

    fn import(&mut self, target: &Path, display: String, site: &Src) -> Result<Rc<Unit>, Error> {
        let key = cache_key(target);
        if let Some(unit) = self.cache.get(&key) {
            return Ok(unit.clone());
        }
        if let Some(start) = self.stack.iter().position(|k| *k == key) {
            let chain: Vec<String> = self.stack[start..]
                .iter()
                .chain(std::iter::once(&key))
                .map(|p| file_name(p))
                .collect();
            return Err(syntax(
                site.clone(),
                format!("circular import: {}", chain.join(" imports ")),
            ));
        }
        if self.files.len() >= MAX_FILES {
            return Err(syntax(
                site.clone(),
                format!("too many imported files (more than {MAX_FILES})"),
            ));
        }
        let text = read_source(target).map_err(|err| {
            syntax(
                site.clone(),
                format!("cannot read imported file '{display}': {err}"),
            )
        })?;
        self.load_text(target, display, text)
    }
}

/// A method's inputs or outputs: the arguments, their name and type positions, and whether
/// the succinct form was used.
type ArgList = (Vec<Argument>, Vec<(Src, Src)>, bool);

/// Converts a method's inputs or outputs; see [`ArgList`].
fn arguments(
    schema: &Schema,
    by_lower_name: &HashMap<String, usize>,
    args: &Args,
    src: &dyn Fn(Pos) -> Src,
    method: &Spanned<String>,
) -> Result<ArgList, Error> {
    match args {
        Args::List(list) => Ok((
            list.iter()
                .map(|a| Argument {
                    name: a.name.value.clone(),
                    ty: a.ty.value.clone(),
                    optional: a.optional,
                    meta: Vec::new(),
                })
                .collect(),
            list.iter()
                .map(|a| (src(a.name.pos), src(a.ty.pos)))
                .collect(),
            false,
        )),
        Args::Succinct(name) => {
            // webrpc looks the type up ignoring case and uses its declared name.
            let found = by_lower_name.get(&name.value.to_lowercase());
            let Some(ty) = found.and_then(|&i| schema.types.get(i)) else {
                return Err(Error::Schema(Box::new(src(name.pos).diagnostic(format!(
                    "unknown type '{}' in the succinct form of method '{}'",
                    name.value, method.value
                )))));
            };
            if !ty.is_struct() {
                return Err(Error::Schema(Box::new(src(name.pos).diagnostic(format!(
                    "the succinct form of method '{}' needs a struct, and '{}' is an enum",
                    method.value, ty.name
                )))));
            }
            let arg = Argument {
                name: lower_first(&ty.name),
                ty: VarType::Struct(ty.name.clone()),
                optional: false,
                meta: Vec::new(),
            };
            Ok((vec![arg], vec![(src(name.pos), src(name.pos))], true))
        }
    }
}

fn lower_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn syntax(site: Src, message: impl Into<String>) -> Error {
    Error::Syntax(Box::new(site.diagnostic(message)))
}

fn schema_error(file: &SourceFile, site: Option<Src>, message: String) -> Error {
    Error::Schema(Box::new(match site {
        Some(site) => site.diagnostic(message),
        None => Diagnostic::in_file(file.display.clone(), message),
    }))
}

/// Reads a source file, refusing ones larger than [`MAX_FILE_BYTES`].
fn read_source(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    let read = file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if read as u64 > MAX_FILE_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("file is larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(text)
}

/// `import` paths are relative to the importing file's directory.
fn resolve_import(importer: &Path, import: &str) -> PathBuf {
    let dir = importer.parent().unwrap_or(Path::new(""));
    normalize(&dir.join(import))
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn cache_key(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalize_lexically() {
        assert_eq!(
            normalize(Path::new("a/./b/../c.ridl")),
            PathBuf::from("a/c.ridl")
        );
        assert_eq!(
            normalize(Path::new("../x.ridl")),
            PathBuf::from("../x.ridl")
        );
        assert_eq!(
            resolve_import(Path::new("dir/api.ridl"), "./lib/t.ridl"),
            PathBuf::from("dir/lib/t.ridl")
        );
    }

    #[test]
    fn lower_first_lowers_only_the_first_letter() {
        assert_eq!(lower_first("GetUserRequest"), "getUserRequest");
        assert_eq!(lower_first("ID"), "iD");
    }
}
