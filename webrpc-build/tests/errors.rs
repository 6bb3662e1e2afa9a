//! Malformed schemas: each error names the file, line and column, shows the line with a
//! caret under the culprit, and says what was expected.

use std::path::{Path, PathBuf};

use webrpc_build::{parse_file, parse_str, Error};

/// (case, schema text, the whole error message).
const CASES: &[(&str, &str, &str)] = &[
    (
        "missing_colon",
        "webrpc = v1\nstruct Pet\n  - id uint64\n",
        "schema.ridl:3:8: unexpected 'u', expected ':' and the field's type after its name, as in '- id: uint64'\n 3 |   - id uint64\n   |        ^",
    ),
    (
        "unknown_type",
        "webrpc = v1\nstruct Pet\n  - owner: Person\n",
        "schema.ridl:3:12: unknown type 'Person' (in type 'Pet' field 'owner')\n 3 |   - owner: Person\n   |            ^",
    ),
    (
        "unknown_type_in_arg",
        "webrpc = v1\nservice S\n  - Get(id: []Ident) => ()\n",
        "schema.ridl:3:13: unknown type 'Ident' (in service 'S' method 'Get' argument 'id')\n 3 |   - Get(id: []Ident) => ()\n   |             ^",
    ),
    (
        "unterminated_string",
        "webrpc = v1\nerror 1000 NotFound \"not found HTTP 404\n",
        "schema.ridl:2:21: unterminated string: the closing '\"' is missing on this line\n 2 | error 1000 NotFound \"not found HTTP 404\n   |                     ^",
    ),
    (
        "duplicate_type",
        "webrpc = v1\nstruct Pet\n  - id: int\nstruct pet\n  - id: int\n",
        "schema.ridl:4:8: duplicate type 'pet' (already declared as 'Pet')\n 4 | struct pet\n   |        ^",
    ),
    (
        "duplicate_field",
        "webrpc = v1\nstruct Pet\n  - id: int\n  - ID: string\n",
        "schema.ridl:4:5: duplicate field 'ID' in type 'Pet' (already declared as 'id')\n 4 |   - ID: string\n   |     ^",
    ),
    (
        "duplicate_json_name",
        "webrpc = v1\nstruct Pet\n  - id: int\n  - key: string\n    + json = id\n",
        "schema.ridl:4:5: duplicate JSON name 'id' of field 'key' in type 'Pet' (field 'id' has it too)\n 4 |   - key: string\n   |     ^",
    ),
    (
        "duplicate_method",
        "webrpc = v1\nservice S\n  - Get()\n  - get()\n",
        "schema.ridl:4:5: duplicate method 'get' in service 'S' (already declared as 'Get')\n 4 |   - get()\n   |     ^",
    ),
    (
        "duplicate_service",
        "webrpc = v1\nservice S\n  - A()\nservice S\n  - B()\n",
        "schema.ridl:4:9: duplicate service 'S'\n 4 | service S\n   |         ^",
    ),
    (
        "duplicate_error_code",
        "webrpc = v1\nerror 1000 A \"a\"\nerror 1000 B \"b\"\n",
        "schema.ridl:3:12: duplicate error code 1000 of 'B' (already used by 'A')\n 3 | error 1000 B \"b\"\n   |            ^",
    ),
    (
        "error_code_zero",
        "webrpc = v1\nerror 0 Zero \"zero\"\n",
        "schema.ridl:2:9: error code 0 of 'Zero' must be a positive number\n 2 | error 0 Zero \"zero\"\n   |         ^",
    ),
    (
        "http_status_range",
        "webrpc = v1\nerror 1000 Teapot \"teapot\" HTTP 200\n",
        "schema.ridl:2:12: invalid HTTP status 200 for error 'Teapot': must be a number from 400 to 599\n 2 | error 1000 Teapot \"teapot\" HTTP 200\n   |            ^",
    ),
    (
        "webrpc_error_name",
        "webrpc = v1\nerror 1000 WebrpcCustom \"mine\"\n",
        "schema.ridl:2:12: error name 'WebrpcCustom' is reserved: names starting with 'Webrpc' are webrpc's own errors\n 2 | error 1000 WebrpcCustom \"mine\"\n   |            ^",
    ),
    (
        "wrong_version",
        "webrpc = v2\nname = x\n",
        "schema.ridl:1:10: webrpc schema version 'v2' is invalid, try 'v1'\n 1 | webrpc = v2\n   |          ^",
    ),
    (
        "no_version",
        "name = x\nstruct A\n  - a: int\n",
        "schema.ridl: the schema format is not declared: add the line `webrpc = v1`",
    ),
    (
        "enum_float",
        "webrpc = v1\nenum Kind: float64\n  - A\n",
        "schema.ridl:2:6: enum 'Kind' has type 'float64': an enum must be an integer type or string\n 2 | enum Kind: float64\n   |      ^",
    ),
    (
        "enum_bad_value",
        "webrpc = v1\nenum Kind: uint8\n  - A = 300\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = 300 is out of range for uint8 (0 to 255)\n 3 |   - A = 300\n   |     ^",
    ),
    (
        "enum_hex_out_of_range",
        "webrpc = v1\nenum Kind: uint8\n  - A = 0x100\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = 0x100 is out of range for uint8 (0 to 255)\n 3 |   - A = 0x100\n   |     ^",
    ),
    (
        "enum_negative_hex_in_unsigned",
        "webrpc = v1\nenum Kind: uint16\n  - A = -0x1\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = -0x1 is out of range for uint16 (0 to 65535)\n 3 |   - A = -0x1\n   |     ^",
    ),
    (
        "enum_negative_hex_below_int8",
        "webrpc = v1\nenum Kind: int8\n  - A = -0x81\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = -0x81 is out of range for int8 (-128 to 127)\n 3 |   - A = -0x81\n   |     ^",
    ),
    (
        "enum_hex_bad_digit",
        "webrpc = v1\nenum Kind: uint32\n  - A = 0x1g\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = 0x1g is not an integer: write it in decimal or with a 0x, 0o or 0b prefix\n 3 |   - A = 0x1g\n   |     ^",
    ),
    (
        "enum_prefix_without_digits",
        "webrpc = v1\nenum Kind: uint32\n  - A = 0b\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = 0b is not an integer: write it in decimal or with a 0x, 0o or 0b prefix\n 3 |   - A = 0b\n   |     ^",
    ),
    (
        "enum_digit_separator",
        "webrpc = v1\nenum Kind: uint32\n  - A = 1_000\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = 1_000 is not an integer: write it in decimal or with a 0x, 0o or 0b prefix\n 3 |   - A = 1_000\n   |     ^",
    ),
    (
        "enum_leading_zero_decimal",
        "webrpc = v1\nenum Kind: uint32\n  - A = 010\n",
        "schema.ridl:3:5: enum 'Kind' value 'A' = 010 has a leading 0, which Go reads as octal and TypeScript refuses: write 10 or an 0o-prefixed octal\n 3 |   - A = 010\n   |     ^",
    ),
    (
        "enum_hex_and_decimal_same_number",
        "webrpc = v1\nenum Kind: uint32\n  - A = 16\n  - B = 0x10\n",
        "schema.ridl:4:5: enum 'Kind' values 'A' = 16 and 'B' = 0x10 are the same number\n 4 |   - B = 0x10\n   |     ^",
    ),
    (
        "map_key_struct",
        "webrpc = v1\nstruct K\n  - a: int\nstruct V\n  - m: map<K,string>\n",
        "schema.ridl:5:8: invalid map key type 'K': must be string, an integer type or an enum (in type 'V' field 'm')\n 5 |   - m: map<K,string>\n   |        ^",
    ),
    (
        "map_unclosed",
        "webrpc = v1\nstruct V\n  - m: map<string,int\n",
        "schema.ridl:3:22: unexpected end of line, expected '>' to close the map type\n 3 |   - m: map<string,int\n   |                      ^",
    ),
    (
        "succinct_half",
        "webrpc = v1\nstruct Req\n  - a: int\nservice S\n  - Get(Req) => (ok: bool)\n",
        "schema.ridl:5:5: method 'Get' must use the succinct form for both its input and its output, as in '- Get(Request) => (Response)'\n 5 |   - Get(Req) => (ok: bool)\n   |     ^",
    ),
    (
        "succinct_enum",
        "webrpc = v1\nenum Req: uint32\n  - A\nstruct Resp\n  - a: int\nservice S\n  - Get(Req) => (Resp)\n",
        "schema.ridl:7:9: the succinct form of method 'Get' needs a struct, and 'Req' is an enum\n 7 |   - Get(Req) => (Resp)\n   |         ^",
    ),
    (
        "annotation_dangling",
        "webrpc = v1\nservice S\n  - A()\n  @deprecated\n\nstruct X\n  - a: int\n",
        "schema.ridl:4:3: annotation is not followed by a method: expected '- Method(…)' after it\n 4 |   @deprecated\n   |   ^",
    ),
    (
        "meta_outside_struct",
        "webrpc = v1\n+ json = id\n",
        "schema.ridl:2:1: unexpected '+': a meta line (+ key = value) must follow a struct field\n 2 | + json = id\n   | ^",
    ),
    (
        "dash_outside_block",
        "webrpc = v1\n  - id: int\n",
        "schema.ridl:2:3: unexpected '-': list items belong to an import, enum, struct or service\n 2 |   - id: int\n   |   ^",
    ),
    (
        "unknown_keyword",
        "webrpc = v1\nmessage Pet\n  - id: int\n",
        "schema.ridl:2:1: unexpected 'message', expected webrpc, name, version, basepath, import, enum, struct, error or service\n 2 | message Pet\n   | ^",
    ),
    (
        "redeclared_name",
        "webrpc = v1\nname = a\nname = b\n",
        "schema.ridl:3:1: 'name' was already declared on line 2\n 3 | name = b\n   | ^",
    ),
    (
        "service_no_methods",
        "webrpc = v1\nservice Empty\n",
        "schema.ridl:2:9: service 'Empty' has no methods\n 2 | service Empty\n   |         ^",
    ),
    (
        "missing_paren",
        "webrpc = v1\nservice S\n  - Get(id: int => (ok: bool)\n",
        "schema.ridl:3:17: unexpected '=', expected ',' or ')' after the argument\n 3 |   - Get(id: int => (ok: bool)\n   |                 ^",
    ),
    (
        "bad_arrow_word",
        "webrpc = v1\nservice S\n  - Get() => streaming (ok: bool)\n",
        "schema.ridl:3:14: unexpected 'streaming', expected '(' and the method's results (or 'stream (…)')\n 3 |   - Get() => streaming (ok: bool)\n   |              ^",
    ),
    (
        "lowercase_type",
        "webrpc = v1\nstruct pet\n  - id: int\n",
        "schema.ridl:2:8: type name 'pet' must start with an upper-case letter\n 2 | struct pet\n   |        ^",
    ),
    (
        "dup_arg",
        "webrpc = v1\nservice S\n  - Get(a: int, a: string)\n",
        "schema.ridl:3:17: duplicate argument name 'a'\n 3 |   - Get(a: int, a: string)\n   |                 ^",
    ),
    (
        "http_word",
        "webrpc = v1\nerror 1000 A \"a\" STATUS 404\n",
        "schema.ridl:2:18: unexpected 'STATUS', expected 'HTTP <status>' or end of line after the message\n 2 | error 1000 A \"a\" STATUS 404\n   |                  ^",
    ),
    (
        "tab_caret",
        "webrpc = v1\nstruct A\n\t- a int\n",
        "schema.ridl:3:6: unexpected 'i', expected ':' and the field's type after its name, as in '- id: uint64'\n 3 |  - a int\n   |      ^",
    ),
    (
        "enum_dup_values",
        "webrpc = v1\nenum E: uint32\n  - A = 1\n  - B\n",
        "schema.ridl:4:5: enum 'E' values 'A' and 'B' have the same value 1\n 4 |   - B\n   |     ^",
    ),
];

#[test]
fn malformed_schemas_get_exact_messages() {
    assert!(CASES.len() >= 15);
    for (case, src, expected) in CASES {
        let err = parse_str(src, "schema.ridl").expect_err(case);
        assert_eq!(err.to_string(), *expected, "case {case}");
    }
}

#[test]
fn syntax_and_schema_errors_are_told_apart() {
    let syntax = parse_str("webrpc = v1\nstruct A\n  - a int\n", "a.ridl").unwrap_err();
    assert!(matches!(syntax, Error::Syntax(_)), "{syntax:?}");
    let schema = parse_str("webrpc = v1\nstruct A\n  - a: B\n", "a.ridl").unwrap_err();
    assert!(matches!(schema, Error::Schema(_)), "{schema:?}");
    let d = schema.diagnostic().unwrap();
    assert_eq!(d.file, "a.ridl");
    let loc = d.location.as_ref().unwrap();
    assert_eq!(
        (loc.line, loc.col, loc.line_text.as_str()),
        (3, 8, "  - a: B")
    );
}

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

#[test]
fn an_import_cycle_is_an_error_at_the_import_that_closes_it() {
    let err = parse_file(schemas().join("cycle/a.ridl")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Syntax(_)));
    assert!(
        text.ends_with(
            "cycle/c.ridl:2:8: circular import: a.ridl imports b.ridl imports c.ridl imports a.ridl\n 2 | import a.ridl\n   |        ^"
        ),
        "{text}"
    );
}

#[test]
fn a_missing_import_is_an_error_at_the_import() {
    let root = schemas().join("missing.ridl");
    let err = parse_str(
        "webrpc = v1\nimport ./nowhere/x.ridl\n",
        &root.to_string_lossy(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains(":2:8: cannot read imported file '"), "{text}");
    assert!(text.contains("nowhere/x.ridl'"), "{text}");
}

#[test]
fn an_unknown_import_member_is_an_error_at_the_member() {
    let root = schemas().join("imports/virtual.ridl");
    let err = parse_str(
        "webrpc = v1\nimport ./lib/nested/deep.ridl\n  - Deep\n  - Deeper\n",
        &root.to_string_lossy(),
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.ends_with(
            ":4:5: 'Deeper' is not a type, error or service of './lib/nested/deep.ridl'\n 4 |   - Deeper\n   |     ^"
        ),
        "{text}"
    );
}

#[test]
fn an_error_in_an_imported_file_points_into_that_file() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("imported-error");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bad.ridl"),
        "webrpc = v1\nstruct Bad\n  - x: Nope\n",
    )
    .unwrap();
    std::fs::write(dir.join("main.ridl"), "webrpc = v1\nimport bad.ridl\n").unwrap();
    let err = parse_file(dir.join("main.ridl")).unwrap_err();
    let d = err.diagnostic().unwrap();
    assert!(d.file.ends_with("bad.ridl"), "{}", d.file);
    assert_eq!(d.location.as_ref().unwrap().line, 3);
    assert!(
        d.message.starts_with("unknown type 'Nope'"),
        "{}",
        d.message
    );
}

#[test]
fn json_schemas_get_positions_and_checks_too() {
    let err = parse_str("{\n \"webrpc\": \"v1\",\n \"name\": 5\n}", "bad.json").unwrap_err();
    assert!(matches!(err, Error::Json(_)));
    assert_eq!(
        err.to_string(),
        "bad.json:3:10: invalid type: integer `5`, expected a string\n 3 |  \"name\": 5\n   |          ^"
    );
    let err = parse_str(
        r#"{"webrpc":"v1","name":"x","types":[{"kind":"struct","name":"A","fields":[{"name":"b","type":"Missing"}]}]}"#,
        "bad.json",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "bad.json: type 'A' field 'b': unknown type 'Missing'"
    );
    let err = parse_str(r#"{"webrpc":"v1","name":"x","messages":[{}]}"#, "old.json").unwrap_err();
    assert_eq!(
        err.to_string(),
        "old.json: field \"messages\" was renamed to \"types\" in webrpc v0.9.0"
    );
}

#[test]
fn unreadable_files_are_io_errors() {
    let err = parse_file(schemas().join("does-not-exist.ridl")).unwrap_err();
    assert!(matches!(err, Error::Io { .. }), "{err:?}");
    assert!(err.diagnostic().is_none());
}

/// Rules a RIDL file cannot break but a JSON schema can.
#[test]
fn json_only_rule_breaks_are_reported() {
    let wrap = |types: &str, services: &str| {
        format!(
            r#"{{"webrpc":"v1","name":"x","version":"","types":[{types}],"errors":[],"services":[{services}]}}"#
        )
    };
    let cases = [
        (
            wrap(r#"{"kind":"enum","name":"E","type":"uint32","fields":[{"name":"A","type":"int","value":"1"}]}"#, ""),
            "x.json: type 'E' field 'A': enum 'E' value 'A' must not have a type",
        ),
        (
            wrap(r#"{"kind":"enum","name":"E","type":"uint32","fields":[{"name":"A"}]}"#, ""),
            "x.json: type 'E' field 'A': enum 'E' value 'A' has no value",
        ),
        (
            wrap(r#"{"kind":"struct","name":"S","fields":[{"name":"a","type":"int","value":"1"}]}"#, ""),
            "x.json: type 'S' field 'a': field 'a' of struct 'S' cannot have a value",
        ),
        (
            wrap(r#"{"kind":"struct","name":"S","fields":[{"name":"a"}]}"#, ""),
            "x.json: type 'S' field 'a': field 'a' of struct 'S' has no type",
        ),
        (
            wrap(r#"{"kind":"struct","name":"S","fields":[{"name":"a","type":"int","meta":[{"json":5}]}]}"#, ""),
            "x.json: type 'S' field 'a': invalid json meta 5 on field 'a' in type 'S': must be a string",
        ),
        (
            wrap(r#"{"kind":"struct","name":"S","fields":[{"name":"a","type":"int","meta":[{"json":"not valid"}]}]}"#, ""),
            "x.json: type 'S' field 'a': invalid JSON name 'not valid' on field 'a' in type 'S'",
        ),
        (
            wrap(
                r#"{"kind":"struct","name":"S"}"#,
                r#"{"name":"Svc","methods":[{"name":"M","succinct":true,"inputs":[{"name":"a","type":"S"},{"name":"b","type":"S"}],"outputs":[{"name":"c","type":"S"}]}]}"#,
            ),
            "x.json: service 'Svc' method 'M': succinct method 'M' must have exactly one struct input",
        ),
        (
            wrap("", r#"{"name":"Svc","methods":[{"name":"M","inputs":[{"name":"","type":"int"}]}]}"#),
            "x.json: service 'Svc' method 'M' argument '': empty argument name",
        ),
        (
            wrap(r#"{"kind":"alias","name":"A","type":"string"}"#, ""),
            "x.json:1:63: unknown variant `alias`, expected `enum` or `struct`\n 1 | {\"webrpc\":\"v1\",\"name\":\"x\",\"version\":\"\",\"types\":[{\"kind\":\"alias\",\"name\":\"A\",\"type\":\"string\"}],\"errors\":[],\"services\":[]}\n   |                                                               ^",
        ),
    ];
    for (json, expected) in cases {
        let err = parse_str(&json, "x.json").unwrap_err();
        assert_eq!(err.to_string(), expected, "{json}");
    }
}

#[test]
fn annotations_read_from_json_in_either_form() {
    let schema = |annotations: &str| {
        format!(
            r#"{{"webrpc":"v1","name":"x","services":[{{"name":"S","methods":[{{"name":"M","annotations":{annotations},"inputs":[],"outputs":[]}}]}}]}}"#
        )
    };
    let map = parse_str(
        &schema(r#"{"auth":{"annotationType":"auth","value":"Key"}}"#),
        "a.json",
    )
    .unwrap();
    let list = parse_str(
        &schema(r#"[{"annotationType":"auth","value":"Key"}]"#),
        "b.json",
    )
    .unwrap();
    let null = parse_str(&schema("null"), "c.json").unwrap();
    assert_eq!(
        map.services[0].methods[0].annotation("auth").unwrap().value,
        "Key"
    );
    assert_eq!(map, list);
    assert!(null.services[0].methods[0].annotations.is_empty());
}
