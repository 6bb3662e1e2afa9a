//! The semantic checks webrpc makes on a schema (`schema.Validate` and the `Parse` methods of
//! its types, errors and services), plus a few that keep generated code sound.
//!
//! [`check`] returns the first problem found, with a [`TypeRef`] saying which item it is
//! about, so that the RIDL front end can point at the line that declared it. Names are
//! compared case-insensitively for duplicates, as webrpc does (two types `User` and `user`
//! would collide in generated code for case-insensitive file systems and languages).
//!
//! Checks beyond webrpc's, each because generated code would otherwise be wrong: an integer
//! enum's values must be integers that fit its type, and unique; a method's argument names
//! must be unique; a succinct method's single input and output must be structs.

use std::collections::HashMap;

use crate::schema::{Argument, CoreType, Field, Schema, Type, TypeKind, TypeRef, VarType};

/// A broken rule, and the item that breaks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckError {
    /// The item.
    pub at: TypeRef,
    /// What is wrong with it.
    pub message: String,
}

/// ` (already declared as 'X')` when a duplicate differs from the first only in case.
fn first_as(first: &str, this: &str) -> String {
    if first == this {
        String::new()
    } else {
        format!(" (already declared as '{first}')")
    }
}

fn fail<T>(at: TypeRef, message: impl Into<String>) -> Result<T, CheckError> {
    Err(CheckError {
        at,
        message: message.into(),
    })
}

/// Checks a schema whose types are resolved (see [`Schema::resolve_types`]).
pub fn check(schema: &Schema) -> Result<(), CheckError> {
    if schema.webrpc.is_empty() {
        return fail(
            TypeRef::Header,
            "the schema format is not declared: add the line `webrpc = v1`",
        );
    }
    if schema.webrpc != crate::schema::SCHEMA_VERSION {
        return fail(
            TypeRef::Header,
            format!(
                "webrpc schema version '{}' is invalid, try '{}'",
                schema.webrpc,
                crate::schema::SCHEMA_VERSION
            ),
        );
    }

    let mut type_names: HashMap<String, usize> = HashMap::new();
    for (ti, ty) in schema.types.iter().enumerate() {
        if let Some(first) = type_names.insert(ty.name.to_lowercase(), ti) {
            return fail(
                TypeRef::Type(ti),
                format!(
                    "duplicate type '{}'{}",
                    ty.name,
                    first_as(&schema.types[first].name, &ty.name)
                ),
            );
        }
        check_type(ti, ty)?;
    }

    let mut error_names: HashMap<String, usize> = HashMap::new();
    let mut error_codes: HashMap<i64, usize> = HashMap::new();
    for (ei, err) in schema.errors.iter().enumerate() {
        let at = TypeRef::Error(ei);
        let name = err.name.trim();
        if name.is_empty() {
            return fail(at, "error name cannot be empty");
        }
        if name.split_whitespace().count() > 1 {
            return fail(at, format!("error name '{name}' must be a single word"));
        }
        if !starts_with_upper(name) {
            return fail(
                at,
                format!("error name '{name}' must start with an upper-case letter"),
            );
        }
        if name.starts_with("Webrpc") {
            return fail(
                at,
                format!("error name '{name}' is reserved: names starting with 'Webrpc' are webrpc's own errors"),
            );
        }
        if err.code <= 0 {
            return fail(
                at,
                format!(
                    "error code {} of '{name}' must be a positive number",
                    err.code
                ),
            );
        }
        if err.message.is_empty() {
            return fail(at, format!("error message of '{name}' cannot be empty"));
        }
        if !(400..=599).contains(&err.http_status) {
            return fail(
                at,
                format!(
                    "invalid HTTP status {} for error '{name}': must be a number from 400 to 599",
                    err.http_status
                ),
            );
        }
        if let Some(first) = error_names.insert(name.to_lowercase(), ei) {
            return fail(
                at,
                format!(
                    "duplicate error name '{name}'{}",
                    first_as(&schema.errors[first].name, name)
                ),
            );
        }
        if let Some(first) = error_codes.insert(err.code, ei) {
            return fail(
                at,
                format!(
                    "duplicate error code {} of '{name}' (already used by '{}')",
                    err.code, schema.errors[first].name
                ),
            );
        }
    }

    let mut service_names: HashMap<String, usize> = HashMap::new();
    for (si, service) in schema.services.iter().enumerate() {
        let at = TypeRef::Service(si);
        if service.name.is_empty() {
            return fail(at, "service name cannot be empty");
        }
        if !crate::schema::is_identifier(&service.name) {
            return fail(at, format!("invalid service name '{}'", service.name));
        }
        if let Some(first) = service_names.insert(service.name.to_lowercase(), si) {
            return fail(
                at,
                format!(
                    "duplicate service '{}'{}",
                    service.name,
                    first_as(&schema.services[first].name, &service.name)
                ),
            );
        }
        if service.methods.is_empty() {
            return fail(at, format!("service '{}' has no methods", service.name));
        }
        let mut method_names: HashMap<String, usize> = HashMap::new();
        for (mi, method) in service.methods.iter().enumerate() {
            let at = TypeRef::Method(si, mi);
            if method.name.is_empty() {
                return fail(
                    at,
                    format!("empty method name in service '{}'", service.name),
                );
            }
            if !crate::schema::is_identifier(&method.name) {
                return fail(at, format!("invalid method name '{}'", method.name));
            }
            if let Some(first) = method_names.insert(method.name.to_lowercase(), mi) {
                return fail(
                    at,
                    format!(
                        "duplicate method '{}' in service '{}'{}",
                        method.name,
                        service.name,
                        first_as(&service.methods[first].name, &method.name)
                    ),
                );
            }
            check_arguments(&method.inputs, |ai| TypeRef::Input(si, mi, ai), "argument")?;
            check_arguments(&method.outputs, |ai| TypeRef::Output(si, mi, ai), "result")?;
            if method.succinct {
                for (args, what) in [(&method.inputs, "input"), (&method.outputs, "output")] {
                    let ok = args.len() == 1 && matches!(args[0].ty, VarType::Struct(_));
                    if !ok {
                        return fail(
                            at,
                            format!(
                                "succinct method '{}' must have exactly one struct {what}",
                                method.name
                            ),
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_type(ti: usize, ty: &Type) -> Result<(), CheckError> {
    let at = TypeRef::Type(ti);
    if ty.name.is_empty() {
        return fail(at, "type name cannot be empty");
    }
    if !crate::schema::is_identifier(&ty.name) || !starts_with_upper(&ty.name) {
        return fail(
            at,
            format!(
                "type name '{}' must start with an upper-case letter",
                ty.name
            ),
        );
    }
    if CoreType::from_name(&ty.name).is_some() || ty.name == "map" {
        return fail(at, format!("type name '{}' is a core type", ty.name));
    }

    let mut field_names: HashMap<String, usize> = HashMap::new();
    let mut json_names: HashMap<String, usize> = HashMap::new();
    for (fi, field) in ty.fields.iter().enumerate() {
        let at = TypeRef::Field(ti, fi);
        if field.name.is_empty() {
            return fail(at, format!("empty field name in type '{}'", ty.name));
        }
        if !is_valid_arg_name(&field.name) {
            return fail(
                at,
                format!("invalid field name '{}' in type '{}'", field.name, ty.name),
            );
        }
        if let Some(first) = field_names.insert(field.name.to_lowercase(), fi) {
            return fail(
                at,
                format!(
                    "duplicate field '{}' in type '{}'{}",
                    field.name,
                    ty.name,
                    first_as(&ty.fields[first].name, &field.name)
                ),
            );
        }
        let json_name = json_name_checked(ty, field, at)?;
        if let Some(first) = json_names.insert(json_name.to_lowercase(), fi) {
            return fail(
                at,
                format!(
                    "duplicate JSON name '{json_name}' of field '{}' in type '{}' (field '{}' has it too)",
                    field.name, ty.name, ty.fields[first].name
                ),
            );
        }
    }

    match ty.kind {
        TypeKind::Enum => {
            let Some(base) = ty.enum_type() else {
                let found = ty.ty.as_ref().map(|t| t.to_string()).unwrap_or_default();
                return fail(
                    at,
                    format!(
                        "enum '{}' has type '{found}': an enum must be an integer type or string",
                        ty.name
                    ),
                );
            };
            if !base.is_integer() && base != CoreType::String {
                return fail(
                    at,
                    format!(
                        "enum '{}' has type '{base}': an enum must be an integer type or string",
                        ty.name
                    ),
                );
            }
            // Keyed by the number for integer enums, so that `16` and `0x10` collide.
            let mut values: HashMap<EnumKey<'_>, usize> = HashMap::new();
            for (fi, field) in ty.fields.iter().enumerate() {
                let at = TypeRef::Field(ti, fi);
                if field.value.is_empty() {
                    return fail(
                        at,
                        format!("enum '{}' value '{}' has no value", ty.name, field.name),
                    );
                }
                if field.ty.is_some() {
                    return fail(
                        at,
                        format!(
                            "enum '{}' value '{}' must not have a type",
                            ty.name, field.name
                        ),
                    );
                }
                let key = if base.is_integer() {
                    match enum_integer(&field.value, base) {
                        Ok(n) => EnumKey::Number(n),
                        Err(why) => {
                            return fail(
                                at,
                                format!(
                                    "enum '{}' value '{}' = {} {why}",
                                    ty.name, field.name, field.value
                                ),
                            )
                        }
                    }
                } else {
                    EnumKey::Text(field.value.as_str())
                };
                if let Some(first) = values.insert(key, fi) {
                    let first = &ty.fields[first];
                    let message = if first.value == field.value {
                        format!(
                            "enum '{}' values '{}' and '{}' have the same value {}",
                            ty.name, first.name, field.name, field.value
                        )
                    } else {
                        format!(
                            "enum '{}' values '{}' = {} and '{}' = {} are the same number",
                            ty.name, first.name, first.value, field.name, field.value
                        )
                    };
                    return fail(at, message);
                }
            }
        }
        TypeKind::Struct => {
            if ty.ty.is_some() {
                return fail(at, format!("struct '{}' must not have a type", ty.name));
            }
            for (fi, field) in ty.fields.iter().enumerate() {
                let at = TypeRef::Field(ti, fi);
                if field.ty.is_none() {
                    return fail(
                        at,
                        format!("field '{}' of struct '{}' has no type", field.name, ty.name),
                    );
                }
                if !field.value.is_empty() {
                    return fail(
                        at,
                        format!(
                            "field '{}' of struct '{}' cannot have a value",
                            field.name, ty.name
                        ),
                    );
                }
            }
        }
    }
    Ok(())
}

/// The field's JSON name, checking its `json` meta as webrpc does: a string, and a valid name
/// unless it is `-`. A `-` field keeps its own name for the duplicate check, as in webrpc.
fn json_name_checked<'a>(ty: &Type, field: &'a Field, at: TypeRef) -> Result<&'a str, CheckError> {
    let mut name = field.name.as_str();
    for meta in &field.meta {
        let Some(value) = meta.get("json") else {
            continue;
        };
        let Some(value) = value.as_str() else {
            return fail(
                at,
                format!(
                    "invalid json meta {value} on field '{}' in type '{}': must be a string",
                    field.name, ty.name
                ),
            );
        };
        if value == "-" {
            continue;
        }
        if !is_valid_arg_name(value) {
            return fail(
                at,
                format!(
                    "invalid JSON name '{value}' on field '{}' in type '{}'",
                    field.name, ty.name
                ),
            );
        }
        name = value;
    }
    Ok(name)
}

fn check_arguments(
    args: &[Argument],
    at: impl Fn(usize) -> TypeRef,
    what: &str,
) -> Result<(), CheckError> {
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (ai, arg) in args.iter().enumerate() {
        if arg.name.is_empty() {
            return fail(at(ai), format!("empty {what} name"));
        }
        if !is_valid_arg_name(&arg.name) {
            return fail(at(ai), format!("invalid {what} name '{}'", arg.name));
        }
        if names.insert(arg.name.as_str(), ai).is_some() {
            return fail(at(ai), format!("duplicate {what} name '{}'", arg.name));
        }
    }
    Ok(())
}

/// webrpc's `IsValidArgName`: a letter, then letters, digits and `_`.
fn is_valid_arg_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn starts_with_upper(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
}

/// What tells two values of an enum apart: the number of an integer enum's value (however
/// it is written), the text of a string enum's.
#[derive(PartialEq, Eq, Hash)]
enum EnumKey<'a> {
    Number(i128),
    Text(&'a str),
}

/// The number an integer enum's value stands for, or why it is none of `ty`.
///
/// webrpc keeps the value as written (its JSON says `"value": "0x10"`) and gen-golang and
/// gen-typescript print it as written, so a value is accepted when it is an integer literal
/// Go and TypeScript both read as the same number: decimal, or `0x`/`0o`/`0b` followed by
/// digits of that base, either after an optional `-`. A decimal with a leading zero is
/// refused: Go reads `010` as octal 8, TypeScript refuses it. So are `_` separators, which
/// the two languages allow in different places.
fn enum_integer(value: &str, ty: CoreType) -> Result<i128, String> {
    let (negative, unsigned) = match value.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, value),
    };
    let prefix = unsigned.get(..2).map(str::to_ascii_lowercase);
    let (radix, digits) = match prefix.as_deref() {
        Some("0x") => (16, &unsigned[2..]),
        Some("0o") => (8, &unsigned[2..]),
        Some("0b") => (2, &unsigned[2..]),
        _ => (10, unsigned),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(
            "is not an integer: write it in decimal or with a 0x, 0o or 0b prefix".to_string(),
        );
    }
    if radix == 10 && digits.len() > 1 && digits.starts_with('0') {
        let decimal = match digits.trim_start_matches('0') {
            "" => "0",
            rest => rest,
        };
        return Err(format!(
            "has a leading 0, which Go reads as octal and TypeScript refuses: \
             write {decimal} or an 0o-prefixed octal"
        ));
    }
    let (min, max): (i128, i128) = match ty {
        CoreType::Uint8 => (0, u8::MAX.into()),
        CoreType::Uint16 => (0, u16::MAX.into()),
        CoreType::Uint32 => (0, u32::MAX.into()),
        CoreType::Uint | CoreType::Uint64 => (0, u64::MAX.into()),
        CoreType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        CoreType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        CoreType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        CoreType::Int | CoreType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        _ => return Err(format!("is not a {ty}")),
    };
    // Overflowing u128 means far outside every range; the digits were checked above, so
    // overflow is the only way this parse can fail.
    let magnitude = u128::from_str_radix(digits, radix)
        .ok()
        .and_then(|m| i128::try_from(m).ok());
    let n = magnitude.map(|m| if negative { -m } else { m });
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("is out of range for {ty} ({min} to {max})")),
    }
}

/// Names the item `at` refers to, for messages about a schema without source positions
/// (a JSON schema): `type 'User' field 'id'`, `service 'Api' method 'Ping'`, ….
pub fn describe(schema: &Schema, at: TypeRef) -> String {
    let ty = |i: usize| schema.types.get(i).map(|t| t.name.as_str()).unwrap_or("?");
    let field = |i: usize, j: usize| {
        schema
            .types
            .get(i)
            .and_then(|t| t.fields.get(j))
            .map(|f| f.name.as_str())
            .unwrap_or("?")
    };
    let service = |i: usize| {
        schema
            .services
            .get(i)
            .map(|s| s.name.as_str())
            .unwrap_or("?")
    };
    let method = |i: usize, j: usize| {
        schema
            .services
            .get(i)
            .and_then(|s| s.methods.get(j))
            .map(|m| m.name.as_str())
            .unwrap_or("?")
    };
    let arg = |i: usize, j: usize, k: usize, outputs: bool| {
        schema
            .services
            .get(i)
            .and_then(|s| s.methods.get(j))
            .and_then(|m| {
                if outputs {
                    m.outputs.get(k)
                } else {
                    m.inputs.get(k)
                }
            })
            .map(|a| a.name.as_str())
            .unwrap_or("?")
    };
    match at {
        TypeRef::Header => "schema".to_string(),
        TypeRef::Type(i) => format!("type '{}'", ty(i)),
        TypeRef::Field(i, j) => format!("type '{}' field '{}'", ty(i), field(i, j)),
        TypeRef::Error(i) => format!(
            "error '{}'",
            schema.errors.get(i).map(|e| e.name.as_str()).unwrap_or("?")
        ),
        TypeRef::Service(i) => format!("service '{}'", service(i)),
        TypeRef::Method(i, j) => format!("service '{}' method '{}'", service(i), method(i, j)),
        TypeRef::Input(i, j, k) => format!(
            "service '{}' method '{}' argument '{}'",
            service(i),
            method(i, j),
            arg(i, j, k, false)
        ),
        TypeRef::Output(i, j, k) => format!(
            "service '{}' method '{}' result '{}'",
            service(i),
            method(i, j),
            arg(i, j, k, true)
        ),
    }
}
