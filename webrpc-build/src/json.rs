//! webrpc's JSON form of a schema: printing it exactly as webrpc-gen does, and reading it.
//!
//! webrpc-gen prints with Go's `json.Encoder`, `SetIndent("", " ")` and `SetEscapeHTML(false)`:
//! one space per level, `"key": value`, `[]` and `{}` for empty containers, a newline at the
//! end. Go escapes strings slightly differently from serde_json: it also escapes U+2028 and
//! U+2029; the formatter below does the same, so any schema text prints byte for byte alike.

use std::io;

use serde::Serialize;
use serde_json::ser::{CharEscape, Formatter, PrettyFormatter};

use crate::error::{Diagnostic, Error, Location};
use crate::schema::Schema;

/// Prints `value` as Go's `json.Encoder` with one-space indent and no HTML escaping would.
pub(crate) fn to_go_json<T: Serialize>(value: &T) -> String {
    let mut out = Vec::with_capacity(4096);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoFormatter::new());
    // The model has string keys and no floats, so serializing cannot fail; if it ever did,
    // a partial document would be worse than an empty one.
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

/// Reads a schema in webrpc's JSON form, resolves its types and checks it.
pub(crate) fn from_json(src: &str, file: &str) -> Result<Schema, Error> {
    #[derive(serde::Deserialize)]
    struct Probe {
        #[serde(default)]
        messages: Option<Vec<serde::de::IgnoredAny>>,
    }
    let json_error = |err: serde_json::Error| {
        let message = strip_position(&err.to_string());
        let diag = if err.line() > 0 {
            Diagnostic::at(
                file,
                Location::in_source(src, err.line(), err.column()),
                message,
            )
        } else {
            Diagnostic::in_file(file, message)
        };
        Error::Json(Box::new(diag))
    };
    let probe: Probe = serde_json::from_str(src).map_err(json_error)?;
    if probe.messages.is_some_and(|m| !m.is_empty()) {
        return Err(Error::Json(Box::new(Diagnostic::in_file(
            file,
            "field \"messages\" was renamed to \"types\" in webrpc v0.9.0",
        ))));
    }
    let mut schema: Schema = serde_json::from_str(src).map_err(json_error)?;
    if let Err((at, err)) = schema.resolve_types() {
        return Err(Error::Schema(Box::new(Diagnostic::in_file(
            file,
            format!("{}: {err}", crate::check::describe(&schema, at)),
        ))));
    }
    crate::check::check(&schema).map_err(|err| {
        Error::Schema(Box::new(Diagnostic::in_file(
            file,
            format!(
                "{}: {}",
                crate::check::describe(&schema, err.at),
                err.message
            ),
        )))
    })?;
    Ok(schema)
}

/// serde_json ends its messages with " at line L column C"; the diagnostic says that itself.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// serde_json's pretty printer with Go's indentation (one space) and Go's string escapes.
struct GoFormatter<'a> {
    pretty: PrettyFormatter<'a>,
}

impl GoFormatter<'_> {
    fn new() -> Self {
        GoFormatter {
            pretty: PrettyFormatter::with_indent(b" "),
        }
    }
}

impl Formatter for GoFormatter<'_> {
    fn begin_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_array(w)
    }
    fn end_array<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array(w)
    }
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_array_value(w)
    }
    fn begin_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object(w)
    }
    fn end_object<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object(w)
    }
    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.pretty.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.pretty.end_object_value(w)
    }

    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Go escapes the JavaScript line terminators U+2028 and U+2029 even with HTML
        // escaping off.
        let mut rest = fragment;
        while let Some(i) = rest.find(['\u{2028}', '\u{2029}']) {
            w.write_all(&rest.as_bytes()[..i])?;
            let c = rest[i..].chars().next().unwrap_or('\u{2028}');
            write!(w, "\\u{:04x}", c as u32)?;
            rest = &rest[i + c.len_utf8()..];
        }
        w.write_all(rest.as_bytes())
    }

    fn write_char_escape<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        escape: CharEscape,
    ) -> io::Result<()> {
        // Go writes \" \\ \n \r \t \b \f (Go 1.22 and later) and \u00XX, lower-case hex, for
        // the other control characters: the same as serde_json except for the hex case.
        let s: &[u8] = match escape {
            CharEscape::Quote => b"\\\"",
            CharEscape::ReverseSolidus => b"\\\\",
            CharEscape::Solidus => b"/",
            CharEscape::Backspace => b"\\b",
            CharEscape::FormFeed => b"\\f",
            CharEscape::LineFeed => b"\\n",
            CharEscape::CarriageReturn => b"\\r",
            CharEscape::Tab => b"\\t",
            CharEscape::AsciiControl(byte) => {
                return write!(w, "\\u{byte:04x}");
            }
        };
        w.write_all(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_by_one_space_and_ends_with_a_newline() {
        let value = serde_json::json!({"a": [1, {"b": []}], "c": {}});
        assert_eq!(
            to_go_json(&value),
            "{\n \"a\": [\n  1,\n  {\n   \"b\": []\n  }\n ],\n \"c\": {}\n}\n"
        );
    }

    #[test]
    fn escapes_strings_as_go_does() {
        let value = "<a&b>\u{2028}\u{1}\"\\\n";
        assert_eq!(to_go_json(&value), "\"<a&b>\\u2028\\u0001\\\"\\\\\\n\"\n");
    }
}
