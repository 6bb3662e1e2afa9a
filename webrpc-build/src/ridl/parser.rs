//! The RIDL grammar: one file's text to its declarations, with positions.
//!
//! ```text
//! file        = { line }
//! line        = blank | comment | definition | import | enum | struct | error | service
//!             | list-item | meta | annotations
//! comment     = "#" text                       (a "#!" comment is internal: dropped)
//! definition  = ("webrpc" | "name" | "version" | "basepath") "=" value
//! import      = "import" [ path ]              then "- path" lines (no path given)
//!                                               or "- Member" lines (a path given)
//! enum        = "enum" Name ":" type           then "- NAME [= value]" lines
//! struct      = "struct" Name                  then "- name[?]: type" lines,
//!                                               each followed by "+ key = value" lines
//! error       = "error" code Name message [ "HTTP" status ]
//! service     = "service" Name                 then method lines, each after any
//!                                               "@name[:value] …" annotation lines
//! method      = "-" [ "stream" ] Name "(" args ")" [ "=>" [ "stream" ] "(" args ")" ]
//! args        = [ Struct ]                     (succinct form: one struct, no name)
//!             | arg { "," arg }
//! arg         = name [ "?" ] ":" type
//! type        = "[]" type | "map" "<" type "," type ">" | core-type | Name
//! ```
//!
//! Any line may end with a `# comment`. A declaration's comments are the `#` lines right
//! above it (a blank line in between detaches them) plus the comment on its own line, as in
//! webrpc. Comments between a struct line and its first field belong to that field.

use super::lexer::{comment_text, Cursor, PResult, Pos, Spanned, SyntaxError};
use crate::schema::{Annotation, CoreType, VarType, MAX_TYPE_DEPTH};

/// One file's declarations, in the order written within each kind.
#[derive(Debug, Default)]
pub(crate) struct Ast {
    pub(crate) definitions: Vec<Definition>,
    pub(crate) imports: Vec<Import>,
    pub(crate) enums: Vec<EnumDecl>,
    pub(crate) structs: Vec<StructDecl>,
    pub(crate) errors: Vec<ErrorDecl>,
    pub(crate) services: Vec<ServiceDecl>,
}

/// `key = value` (`webrpc`, `name`, `version`, `basepath`).
#[derive(Debug)]
pub(crate) struct Definition {
    pub(crate) key: Spanned<String>,
    pub(crate) value: Spanned<String>,
}

/// `import path`, with its member list (empty: everything).
#[derive(Debug)]
pub(crate) struct Import {
    pub(crate) path: Spanned<String>,
    pub(crate) members: Vec<Spanned<String>>,
}

#[derive(Debug)]
pub(crate) struct EnumDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) ty: Spanned<VarType>,
    pub(crate) comments: Vec<String>,
    pub(crate) values: Vec<EnumValueDecl>,
}

#[derive(Debug)]
pub(crate) struct EnumValueDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) value: Option<Spanned<String>>,
    pub(crate) comments: Vec<String>,
}

#[derive(Debug)]
pub(crate) struct StructDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) comments: Vec<String>,
    pub(crate) fields: Vec<FieldDecl>,
}

#[derive(Debug)]
pub(crate) struct FieldDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) optional: bool,
    pub(crate) ty: Spanned<VarType>,
    pub(crate) comments: Vec<String>,
    pub(crate) meta: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct ErrorDecl {
    pub(crate) code: Spanned<i64>,
    pub(crate) name: Spanned<String>,
    pub(crate) message: String,
    pub(crate) http_status: Option<i64>,
}

#[derive(Debug)]
pub(crate) struct ServiceDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) comments: Vec<String>,
    pub(crate) methods: Vec<MethodDecl>,
}

#[derive(Debug)]
pub(crate) struct MethodDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) comments: Vec<String>,
    pub(crate) annotations: Vec<Annotation>,
    pub(crate) stream_output: bool,
    pub(crate) inputs: Args,
    pub(crate) outputs: Args,
}

/// A method's inputs or outputs.
#[derive(Debug)]
pub(crate) enum Args {
    /// `(a: T, b?: U)`, perhaps empty.
    List(Vec<ArgDecl>),
    /// `(Struct)`: the succinct form.
    Succinct(Spanned<String>),
}

#[derive(Debug)]
pub(crate) struct ArgDecl {
    pub(crate) name: Spanned<String>,
    pub(crate) optional: bool,
    pub(crate) ty: Spanned<VarType>,
}

/// Which declaration `-`, `+` and `@` lines belong to.
enum Block {
    None,
    /// `import` alone: `- path` lines follow.
    ImportList,
    /// `import path`: `- Member` lines follow.
    ImportMembers,
    Enum,
    Struct,
    Service,
}

const TOP_LEVEL: &str = "webrpc, name, version, basepath, import, enum, struct, error or service";

/// Parses one file's text.
pub(crate) fn parse(src: &str) -> PResult<Ast> {
    let mut ast = Ast::default();
    let mut block = Block::None;
    let mut comments: Vec<String> = Vec::new();
    let mut annotations: Vec<Spanned<Annotation>> = Vec::new();

    for (index, raw) in src.split('\n').enumerate() {
        let line_no = index + 1;
        let mut c = Cursor::new(raw, line_no);
        c.skip_ws();
        let Some(first) = c.peek() else {
            // A blank line detaches the comments above it from what follows.
            comments.clear();
            continue;
        };
        if first == '#' {
            if let Some(text) = comment_text(raw.trim_start_matches([' ', '\t', '\r', '\u{feff}']))
            {
                comments.push(text);
            }
            continue;
        }
        // Annotations must be followed by a method of the same service.
        let annotations_pending = !annotations.is_empty();
        match first {
            '-' => {
                c.eat('-');
                match block {
                    Block::ImportList => {
                        comments.clear();
                        let path = import_path(&mut c)?;
                        c.end_of_line("end of line after the import path")?;
                        ast.imports.push(Import {
                            path,
                            members: Vec::new(),
                        });
                    }
                    Block::ImportMembers => {
                        comments.clear();
                        let member =
                            c.expect_ident("the name of a type, error or service to import")?;
                        c.end_of_line("end of line after the import member")?;
                        if let Some(import) = ast.imports.last_mut() {
                            import.members.push(member);
                        }
                    }
                    Block::Enum => {
                        let value = enum_value(&mut c, std::mem::take(&mut comments))?;
                        if let Some(e) = ast.enums.last_mut() {
                            e.values.push(value);
                        }
                    }
                    Block::Struct => {
                        let field = struct_field(&mut c, std::mem::take(&mut comments))?;
                        if let Some(s) = ast.structs.last_mut() {
                            s.fields.push(field);
                        }
                    }
                    Block::Service => {
                        let taken: Vec<Annotation> = std::mem::take(&mut annotations)
                            .into_iter()
                            .map(|a| a.value)
                            .collect();
                        let method = method(&mut c, std::mem::take(&mut comments), taken)?;
                        if let Some(s) = ast.services.last_mut() {
                            s.methods.push(method);
                        }
                    }
                    Block::None => {
                        return Err(SyntaxError {
                            pos: Pos { line: line_no, col: c.pos().col - 1 },
                            message: "unexpected '-': list items belong to an import, enum, struct or service".to_string(),
                        });
                    }
                }
                continue;
            }
            '+' => {
                let pos = c.pos();
                c.eat('+');
                let field = match (&block, ast.structs.last_mut()) {
                    (Block::Struct, Some(s)) => s.fields.last_mut(),
                    _ => None,
                };
                let Some(field) = field else {
                    return Err(SyntaxError {
                        pos,
                        message:
                            "unexpected '+': a meta line (+ key = value) must follow a struct field"
                                .to_string(),
                    });
                };
                // Comments above a meta line describe it, not the next field.
                comments.clear();
                let (key, value) = meta(&mut c)?;
                field.meta.push((key, value));
                continue;
            }
            '@' => {
                if !matches!(block, Block::Service) {
                    return Err(SyntaxError {
                        pos: c.pos(),
                        message: "unexpected '@': annotations belong to service methods"
                            .to_string(),
                    });
                }
                annotation_line(&mut c, &mut annotations)?;
                continue;
            }
            _ => {}
        }

        // A top-level declaration.
        if annotations_pending {
            return Err(SyntaxError {
                pos: annotations[0].pos,
                message: "annotation is not followed by a method: expected '- Method(…)' after it"
                    .to_string(),
            });
        }
        let Some(word) = c.ident() else {
            return c.unexpected(TOP_LEVEL);
        };
        let taken = std::mem::take(&mut comments);
        match word.value.as_str() {
            "webrpc" | "name" | "version" | "basepath" => {
                c.expect('=', &format!("'=' after '{}'", word.value))?;
                let Some(value) = c.value()? else {
                    return c.unexpected(&format!("the value of '{}'", word.value));
                };
                c.end_of_line("end of line after the value")?;
                ast.definitions.push(Definition { key: word, value });
                block = Block::None;
            }
            "import" => {
                if c.at_end() {
                    c.end_of_line("end of line")?;
                    block = Block::ImportList;
                } else {
                    let path = import_path(&mut c)?;
                    c.end_of_line("end of line after the import path")?;
                    ast.imports.push(Import {
                        path,
                        members: Vec::new(),
                    });
                    block = Block::ImportMembers;
                }
            }
            "enum" => {
                let name = c.expect_ident("the enum's name")?;
                c.expect(
                    ':',
                    "':' and the enum's type after its name, as in 'enum Kind: uint32'",
                )?;
                let ty = type_expr(&mut c, 0)?;
                let mut comments = taken;
                comments.extend(c.end_of_line("end of line after the enum's type")?);
                ast.enums.push(EnumDecl {
                    name,
                    ty,
                    comments,
                    values: Vec::new(),
                });
                block = Block::Enum;
            }
            "struct" => {
                let name = c.expect_ident("the struct's name")?;
                let mut comments = taken;
                comments.extend(c.end_of_line("end of line after the struct's name")?);
                ast.structs.push(StructDecl {
                    name,
                    comments,
                    fields: Vec::new(),
                });
                block = Block::Struct;
            }
            "error" => {
                ast.errors.push(error_line(&mut c)?);
                block = Block::None;
            }
            "service" => {
                let name = c.expect_ident("the service's name")?;
                let mut comments = taken;
                comments.extend(c.end_of_line("end of line after the service's name")?);
                ast.services.push(ServiceDecl {
                    name,
                    comments,
                    methods: Vec::new(),
                });
                block = Block::Service;
            }
            _ => {
                return Err(SyntaxError {
                    pos: word.pos,
                    message: format!("unexpected '{}', expected {TOP_LEVEL}", word.value),
                });
            }
        }
    }
    if let Some(first) = annotations.first() {
        return Err(SyntaxError {
            pos: first.pos,
            message: "annotation is not followed by a method: expected '- Method(…)' after it"
                .to_string(),
        });
    }
    Ok(ast)
}

fn import_path(c: &mut Cursor<'_>) -> PResult<Spanned<String>> {
    match c.value()? {
        Some(path) => Ok(path),
        None => c.unexpected("the path of a .ridl file to import"),
    }
}

/// `NAME [= value] [# comment]` after the `-`.
fn enum_value(c: &mut Cursor<'_>, mut comments: Vec<String>) -> PResult<EnumValueDecl> {
    let name = c.expect_ident("the name of an enum value")?;
    let value = if c.eat('=') {
        match c.value()? {
            Some(v) => Some(v),
            None => return c.unexpected("the enum value's value after '='"),
        }
    } else {
        None
    };
    comments.extend(c.end_of_line("'= value' or end of line after the enum value's name")?);
    Ok(EnumValueDecl {
        name,
        value,
        comments,
    })
}

/// `name[?]: type [# comment]` after the `-`.
fn struct_field(c: &mut Cursor<'_>, mut comments: Vec<String>) -> PResult<FieldDecl> {
    let name = c.expect_ident("a field name")?;
    let optional = c.eat('?');
    c.expect(
        ':',
        "':' and the field's type after its name, as in '- id: uint64'",
    )?;
    let ty = type_expr(c, 0)?;
    comments.extend(c.end_of_line("end of line after the field's type")?);
    Ok(FieldDecl {
        name,
        optional,
        ty,
        comments,
        meta: Vec::new(),
    })
}

/// `key = value [# comment]` after the `+`.
fn meta(c: &mut Cursor<'_>) -> PResult<(String, String)> {
    let Some(key) = c.key() else {
        return c.unexpected("a meta key, as in '+ go.tag.db = id'");
    };
    c.expect('=', "'=' after the meta key")?;
    let Some(value) = c.value()? else {
        return c.unexpected("the meta value after '='");
    };
    c.end_of_line("end of line after the meta value (quote a value that has spaces)")?;
    Ok((key.value, value.value))
}

/// `@name[:value] …` annotations on one line.
fn annotation_line(c: &mut Cursor<'_>, into: &mut Vec<Spanned<Annotation>>) -> PResult<()> {
    loop {
        c.skip_ws();
        if c.at_end() {
            c.end_of_line("end of line")?;
            return Ok(());
        }
        let pos = c.pos();
        if !c.eat('@') {
            return c.unexpected("'@' and another annotation, or end of line");
        }
        let Some(name) = c.key() else {
            return c.unexpected("an annotation name after '@', as in '@deprecated'");
        };
        let value = if c.peek() == Some(':') {
            c.eat(':');
            if c.peek() == Some('"') {
                c.quoted()?.value
            } else {
                match c.key_or_value() {
                    Some(v) => v,
                    None => return c.unexpected("the annotation's value after ':'"),
                }
            }
        } else {
            String::new()
        };
        match c.peek() {
            None | Some(' ' | '\t' | '\r' | '#') => {}
            Some(_) => return c.unexpected("whitespace or end of line after the annotation"),
        }
        into.push(Spanned {
            value: Annotation {
                name: name.value,
                value,
            },
            pos,
        });
    }
}

impl Cursor<'_> {
    /// An unquoted annotation value: everything up to whitespace.
    fn key_or_value(&mut self) -> Option<String> {
        match self.peek() {
            Some(c) if !c.is_whitespace() && c != '#' => {}
            _ => return None,
        }
        self.value().ok().flatten().map(|v| v.value)
    }
}

/// `code Name message [HTTP status] [# comment]` after `error`.
fn error_line(c: &mut Cursor<'_>) -> PResult<ErrorDecl> {
    let Some(code) = c.number() else {
        return c.unexpected("the error code, as in 'error 1000 NotFound \"not found\" HTTP 404'");
    };
    let code = Spanned {
        value: parse_int(&code, "error code")?,
        pos: code.pos,
    };
    let name = c.expect_ident("the error's name after its code")?;
    c.skip_ws();
    let message = if c.peek() == Some('"') {
        c.quoted()?.value
    } else {
        match c.ident() {
            Some(word) => word.value,
            None => return c.unexpected("the error's message, in double quotes"),
        }
    };
    let http_status = if c.at_end() {
        None
    } else {
        const EXPECTED: &str = "'HTTP <status>' or end of line after the message";
        match c.ident() {
            Some(word) if word.value == "HTTP" => {}
            Some(word) => {
                return Err(SyntaxError {
                    pos: word.pos,
                    message: format!("unexpected '{}', expected {EXPECTED}", word.value),
                })
            }
            None => return c.unexpected(EXPECTED),
        }
        let Some(status) = c.number() else {
            return c.unexpected("the HTTP status after 'HTTP', as in 'HTTP 404'");
        };
        Some(parse_int(&status, "HTTP status")?)
    };
    c.end_of_line("end of line after the error")?;
    Ok(ErrorDecl {
        code,
        name,
        message,
        http_status,
    })
}

fn parse_int(number: &Spanned<String>, what: &str) -> PResult<i64> {
    number.value.parse::<i64>().map_err(|_| SyntaxError {
        pos: number.pos,
        message: format!("{what} {} is out of range", number.value),
    })
}

/// `[stream] Name(args) [=> [stream] (args)] [# comment]` after the `-`.
fn method(
    c: &mut Cursor<'_>,
    mut comments: Vec<String>,
    annotations: Vec<Annotation>,
) -> PResult<MethodDecl> {
    let mut name = c.expect_ident("a method name, as in '- Ping() => (ok: bool)'")?;
    if name.value == "stream" {
        // webrpc reads `- stream Recv(…)` as one method name, `streamRecv` (it has no input
        // streams); do the same so that routes match a webrpc-gen server's.
        if let Some(rest) = c.ident() {
            name.value.push_str(&rest.value);
        }
    }
    c.expect('(', "'(' and the method's arguments after its name")?;
    let inputs = args(c)?;
    let mut stream_output = false;
    let outputs = if c.eat_str("=>") {
        c.skip_ws();
        let pos = c.pos();
        if let Some(word) = c.ident() {
            if word.value != "stream" {
                return Err(SyntaxError {
                    pos,
                    message: format!(
                        "unexpected '{}', expected '(' and the method's results (or 'stream (…)')",
                        word.value
                    ),
                });
            }
            stream_output = true;
        }
        c.expect('(', "'(' and the method's results after '=>'")?;
        args(c)?
    } else {
        Args::List(Vec::new())
    };
    comments.extend(c.end_of_line("'=> (results)' or end of line after the arguments")?);
    Ok(MethodDecl {
        name,
        comments,
        annotations,
        stream_output,
        inputs,
        outputs,
    })
}

/// The arguments after `(`, up to and including `)`.
fn args(c: &mut Cursor<'_>) -> PResult<Args> {
    let mut list = Vec::new();
    if c.eat(')') {
        return Ok(Args::List(list));
    }
    loop {
        let name = c.expect_ident("an argument name, or ')'")?;
        if list.is_empty() && c.eat(')') {
            return Ok(Args::Succinct(name));
        }
        let optional = c.eat('?');
        c.expect(':', "':' and the argument's type, as in 'id: uint64'")?;
        let ty = type_expr(c, 0)?;
        list.push(ArgDecl { name, optional, ty });
        if c.eat(')') {
            return Ok(Args::List(list));
        }
        c.expect(',', "',' or ')' after the argument")?;
    }
}

/// `[]T`, `map<K,V>`, a core type or a type name.
pub(crate) fn type_expr(c: &mut Cursor<'_>, depth: usize) -> PResult<Spanned<VarType>> {
    c.skip_ws();
    let pos = c.pos();
    if depth > MAX_TYPE_DEPTH {
        return Err(SyntaxError {
            pos,
            message: format!("type nests deeper than {MAX_TYPE_DEPTH} levels"),
        });
    }
    if c.eat('[') {
        if !c.eat(']') {
            return c.unexpected("']' after '[' (a list type is written []T)");
        }
        let elem = type_expr(c, depth + 1)?;
        return Ok(Spanned {
            value: VarType::List(Box::new(elem.value)),
            pos,
        });
    }
    let Some(word) = c.ident() else {
        return c.unexpected("a type");
    };
    if word.value == "map" && c.eat('<') {
        let key = type_expr(c, depth + 1)?;
        c.expect(',', "',' between the map's key and value types")?;
        let value = type_expr(c, depth + 1)?;
        c.expect('>', "'>' to close the map type")?;
        return Ok(Spanned {
            value: VarType::Map(Box::new(key.value), Box::new(value.value)),
            pos,
        });
    }
    let ty = match CoreType::from_name(&word.value) {
        Some(core) => VarType::Core(core),
        None => VarType::Struct(word.value),
    };
    Ok(Spanned { value: ty, pos })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_attach_to_the_next_declaration_unless_a_blank_line_intervenes() {
        let ast = parse(
            "# about Role\nstruct Role # trailing\n  # first field\n  - name: string # its name\n\n  # detached\n\n  - perms: []string\n",
        )
        .unwrap();
        let role = &ast.structs[0];
        assert_eq!(role.comments, ["about Role", "trailing"]);
        assert_eq!(role.fields[0].comments, ["first field", "its name"]);
        assert!(role.fields[1].comments.is_empty());
    }

    #[test]
    fn comments_above_import_items_and_meta_lines_go_nowhere() {
        let ast = parse(
            "import\n  # about the import\n  - a.ridl\nstruct A\n  - id: int\n    # about the meta\n    + json = id\n  - b: int\n",
        )
        .unwrap();
        assert!(ast.structs[0].comments.is_empty());
        assert!(ast.structs[0].fields[1].comments.is_empty());
    }

    #[test]
    fn methods_take_annotations_and_both_argument_forms() {
        let ast = parse(
            "service S\n  @deprecated @auth:\"ApiKeyAuth\"\n  - A(a: int, b?: []string) => stream (c: bool)\n  - B(Req) => (Resp)\n  - C()\n",
        )
        .unwrap();
        let methods = &ast.services[0].methods;
        assert_eq!(methods[0].annotations.len(), 2);
        assert_eq!(methods[0].annotations[1].value, "ApiKeyAuth");
        assert!(methods[0].stream_output);
        assert!(
            matches!(&methods[0].inputs, Args::List(list) if list.len() == 2 && list[1].optional)
        );
        assert!(matches!(&methods[1].inputs, Args::Succinct(name) if name.value == "Req"));
        assert!(matches!(&methods[2].outputs, Args::List(list) if list.is_empty()));
    }

    #[test]
    fn errors_default_to_no_status() {
        let ast = parse("error 1 A \"a\"\nerror 2 B \"b b\" HTTP 404 # c\n").unwrap();
        assert_eq!(ast.errors[0].http_status, None);
        assert_eq!(ast.errors[1].http_status, Some(404));
        assert_eq!(ast.errors[1].message, "b b");
    }

    #[test]
    fn syntax_errors_point_at_the_offending_character() {
        let err = parse("struct A\n  - id uint64\n").unwrap_err();
        assert_eq!(err.pos, Pos { line: 2, col: 8 });
        assert!(err.message.contains("expected ':'"), "{}", err.message);
    }
}
