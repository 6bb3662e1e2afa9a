//! Errors: where in which file, what is wrong, what was expected.

use std::fmt;
use std::path::PathBuf;

/// Why a schema could not be read.
///
/// Every variant but [`Error::Io`] carries a [`Diagnostic`]: the file, and when known the
/// line, column and source line, printed as `file:line:col: message` followed by the line and
/// a caret under the column.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The RIDL text is not valid RIDL (a token out of place, an unterminated string, an
    /// import cycle, …).
    #[error("{0}")]
    Syntax(Box<Diagnostic>),
    /// The schema parses but breaks one of webrpc's rules (unknown type, duplicate name,
    /// error code ≤ 0, …).
    #[error("{0}")]
    Schema(Box<Diagnostic>),
    /// A JSON schema that is not valid JSON or not webrpc's JSON form.
    #[error("{0}")]
    Json(Box<Diagnostic>),
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The diagnostic, for every kind of error but I/O.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            Error::Syntax(d) | Error::Schema(d) | Error::Json(d) => Some(d),
            Error::Io { .. } => None,
        }
    }
}

/// A message about a place in a schema file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file, as it was named to the parser (or as an import resolved it).
    pub file: String,
    /// Line, column and text of the offending line, when the place is known.
    pub location: Option<Location>,
    /// What is wrong, and what was expected.
    pub message: String,
}

/// A place in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub col: usize,
    /// The text of that line, without its line ending.
    pub line_text: String,
}

impl Location {
    /// The location of 1-based `line` and `col` in `src`, with that line's text.
    pub fn in_source(src: &str, line: usize, col: usize) -> Location {
        let line_text = src
            .lines()
            .nth(line.saturating_sub(1))
            .unwrap_or("")
            .trim_end_matches('\r')
            .to_string();
        Location {
            line,
            col,
            line_text,
        }
    }
}

impl Diagnostic {
    /// A diagnostic at a place.
    pub fn at(file: impl Into<String>, location: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            location: Some(location),
            message: message.into(),
        }
    }

    /// A diagnostic about a file as a whole.
    pub fn in_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            file: file.into(),
            location: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    /// ```text
    /// api.ridl:7:14: unexpected ')', expected a type
    ///  7 |   - Ping(a: ) => ()
    ///    |             ^
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(loc) = &self.location else {
            return write!(f, "{}: {}", self.file, self.message);
        };
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, loc.line, loc.col, self.message
        )?;
        let number = loc.line.to_string();
        let gutter = " ".repeat(number.len());
        // Tabs are shown as one space so the caret lines up whatever the terminal's tab width.
        let text: String = loc
            .line_text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        write!(f, "\n {number} | {text}")?;
        let pad = " ".repeat(loc.col.saturating_sub(1));
        write!(f, "\n {gutter} | {pad}^")
    }
}
