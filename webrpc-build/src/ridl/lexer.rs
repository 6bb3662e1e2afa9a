//! Scanning one line of RIDL.
//!
//! RIDL is line-oriented: every declaration, list item, meta line and annotation line fits on
//! one line, so the parser hands each line to a [`Cursor`], which reads identifiers, numbers,
//! values, quoted strings and punctuation from it and knows the column of everything it reads.

/// A position in a file: 1-based line and column (columns count characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: usize,
    pub(crate) col: usize,
}

/// Something read from the source, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spanned<T> {
    pub(crate) value: T,
    pub(crate) pos: Pos,
}

/// A syntax error at a position; the parser adds the file name and the line's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

pub(crate) type PResult<T> = Result<T, SyntaxError>;

/// Reads one line.
pub(crate) struct Cursor<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
    /// Its 1-based column, kept in step with `at` so positions cost nothing.
    col: usize,
    line: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str, line: usize) -> Self {
        Cursor {
            text,
            at: 0,
            col: 1,
            line,
        }
    }

    /// The position of the next character.
    pub(crate) fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    pub(crate) fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn rest(&self) -> &'a str {
        &self.text[self.at..]
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        self.col += 1;
        Some(c)
    }

    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\r' | '\u{feff}')) {
            self.bump();
        }
    }

    /// Whether only whitespace and perhaps a comment are left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.skip_ws();
        matches!(self.peek(), None | Some('#'))
    }

    /// Consumes `c` if it is next (after whitespace).
    pub(crate) fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Consumes `s` if it is next (after whitespace).
    pub(crate) fn eat_str(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(s) {
            self.at += s.len();
            self.col += s.chars().count();
            true
        } else {
            false
        }
    }

    /// An error at the next character: "unexpected X, expected <what>".
    pub(crate) fn unexpected<T>(&mut self, expected: &str) -> PResult<T> {
        self.skip_ws();
        let found = match self.peek() {
            None | Some('#') => "end of line".to_string(),
            Some(c) => format!("'{}'", c.escape_debug()),
        };
        Err(SyntaxError {
            pos: self.pos(),
            message: format!("unexpected {found}, expected {expected}"),
        })
    }

    /// Consumes `c` or fails with "expected <what>".
    pub(crate) fn expect(&mut self, c: char, expected: &str) -> PResult<()> {
        if self.eat(c) {
            Ok(())
        } else {
            self.unexpected(expected)
        }
    }

    /// An identifier: a letter or `_`, then letters, digits and `_`.
    pub(crate) fn ident(&mut self) -> Option<Spanned<String>> {
        self.skip_ws();
        let pos = self.pos();
        let start = self.at;
        match self.peek() {
            Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
            _ => return None,
        }
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_') {
            self.bump();
        }
        Some(Spanned {
            value: self.text[start..self.at].to_string(),
            pos,
        })
    }

    /// An identifier, or "unexpected X, expected <what>".
    pub(crate) fn expect_ident(&mut self, expected: &str) -> PResult<Spanned<String>> {
        match self.ident() {
            Some(ident) => Ok(ident),
            None => self.unexpected(expected),
        }
    }

    /// A run of characters up to whitespace or `#`-after-whitespace: an unquoted value such
    /// as `v0.1.0`, `/rpc`, `created_at,omitempty`, `-` or `./lib/types.ridl`; or a quoted
    /// string.
    pub(crate) fn value(&mut self) -> PResult<Option<Spanned<String>>> {
        self.skip_ws();
        if self.peek() == Some('"') {
            return self.quoted().map(Some);
        }
        let pos = self.pos();
        let start = self.at;
        while matches!(self.peek(), Some(c) if !c.is_whitespace()) {
            self.bump();
        }
        if self.at == start {
            return Ok(None);
        }
        Ok(Some(Spanned {
            value: self.text[start..self.at].to_string(),
            pos,
        }))
    }

    /// A run of characters allowed in a meta key (`go.tag.db`, `json`) or an annotation
    /// name (`deprecated`, `x-internal`): letters, digits, `_`, `.`, `-`.
    pub(crate) fn key(&mut self) -> Option<Spanned<String>> {
        self.skip_ws();
        let pos = self.pos();
        let start = self.at;
        while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            self.bump();
        }
        (self.at > start).then(|| Spanned {
            value: self.text[start..self.at].to_string(),
            pos,
        })
    }

    /// An optionally signed decimal integer, as written.
    pub(crate) fn number(&mut self) -> Option<Spanned<String>> {
        self.skip_ws();
        let pos = self.pos();
        let start = (self.at, self.col);
        if self.peek() == Some('-') {
            self.bump();
        }
        let digits = self.at;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
            self.bump();
        }
        if self.at == digits
            || matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == '_')
        {
            (self.at, self.col) = start;
            return None;
        }
        Some(Spanned {
            value: self.text[start.0..self.at].to_string(),
            pos,
        })
    }

    /// A double-quoted string with backslash escapes (`\"`, `\\`, `\n`, `\t`, `\r`, `\/`,
    /// `\uXXXX`), on one line.
    pub(crate) fn quoted(&mut self) -> PResult<Spanned<String>> {
        self.skip_ws();
        let pos = self.pos();
        let start = (self.at, self.col);
        if self.bump() != Some('"') {
            (self.at, self.col) = start;
            return Err(SyntaxError {
                pos,
                message: "expected a quoted string".to_string(),
            });
        }
        let mut value = String::new();
        loop {
            let here = self.pos();
            match self.bump() {
                None => {
                    return Err(SyntaxError {
                        pos,
                        message: "unterminated string: the closing '\"' is missing on this line"
                            .to_string(),
                    })
                }
                Some('"') => break,
                Some('\\') => {
                    let escaped = match self.bump() {
                        Some('"') => '"',
                        Some('\\') => '\\',
                        Some('/') => '/',
                        Some('n') => '\n',
                        Some('t') => '\t',
                        Some('r') => '\r',
                        Some('u') => {
                            let hex: String = self.rest().chars().take(4).collect();
                            let code = (hex.len() == 4)
                                .then(|| u32::from_str_radix(&hex, 16).ok())
                                .flatten()
                                .and_then(char::from_u32);
                            match code {
                                Some(c) => {
                                    self.at += 4;
                                    self.col += 4;
                                    c
                                }
                                None => {
                                    return Err(SyntaxError {
                                        pos: here,
                                        message: "invalid \\u escape: expected four hex digits of a character".to_string(),
                                    })
                                }
                            }
                        }
                        _ => {
                            return Err(SyntaxError {
                                pos: here,
                                message: "invalid escape in string: expected one of \\\" \\\\ \\/ \\n \\t \\r \\uXXXX".to_string(),
                            })
                        }
                    };
                    value.push(escaped);
                }
                Some(c) => value.push(c),
            }
        }
        Ok(Spanned { value, pos })
    }

    /// What is left on the line must be whitespace and perhaps a `# comment`; returns the
    /// comment's text (`None` for none, and for `#!` internal comments).
    pub(crate) fn end_of_line(&mut self, expected: &str) -> PResult<Option<String>> {
        self.skip_ws();
        match self.peek() {
            None => Ok(None),
            Some('#') => Ok(comment_text(self.rest())),
            Some(_) => self.unexpected(expected),
        }
    }
}

/// The text of a `# comment` (the `#` and surrounding whitespace removed), or `None` for a
/// `#!` comment, which webrpc treats as internal and leaves out of the schema.
pub(crate) fn comment_text(comment: &str) -> Option<String> {
    let body = comment.strip_prefix('#')?;
    if body.starts_with('!') {
        return None;
    }
    Some(body.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tokens_with_their_columns() {
        let mut c = Cursor::new("  - name?: []string # the name", 3);
        assert!(c.eat('-'));
        let name = c.ident().unwrap();
        assert_eq!(name.value, "name");
        assert_eq!(name.pos, Pos { line: 3, col: 5 });
        assert!(c.eat('?'));
        assert!(c.eat(':'));
        assert!(c.eat_str("[]"));
        assert_eq!(c.ident().unwrap().value, "string");
        assert_eq!(c.end_of_line("end").unwrap().as_deref(), Some("the name"));
    }

    #[test]
    fn quoted_strings_unescape_and_must_be_closed() {
        let mut c = Cursor::new(r#""a \"b\" \u00e9\n" rest"#, 1);
        assert_eq!(c.quoted().unwrap().value, "a \"b\" é\n");
        let mut c = Cursor::new(r#""open"#, 1);
        assert!(c
            .quoted()
            .unwrap_err()
            .message
            .starts_with("unterminated string"));
        let mut c = Cursor::new(r#""bad \q""#, 1);
        assert_eq!(c.quoted().unwrap_err().pos.col, 6);
    }

    #[test]
    fn internal_comments_are_dropped() {
        assert_eq!(comment_text("#! internal"), None);
        assert_eq!(comment_text("#   spaced  ").as_deref(), Some("spaced"));
        assert_eq!(comment_text("#").as_deref(), Some(""));
    }

    #[test]
    fn numbers_do_not_swallow_identifiers() {
        let mut c = Cursor::new("1000 Name", 1);
        assert_eq!(c.number().unwrap().value, "1000");
        let mut c = Cursor::new("10abc", 1);
        assert!(c.number().is_none());
        let mut c = Cursor::new("-5", 1);
        assert_eq!(c.number().unwrap().value, "-5");
    }
}
