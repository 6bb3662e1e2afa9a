//! The parser on hostile input (the invariants the `ridl_parser` fuzz target checks, kept in
//! the normal suite): it never panics, whatever the text, and a schema it accepts prints JSON
//! that reads back to the same JSON.

use proptest::prelude::*;
use webrpc_build::{parse_str, Schema};

const PETSTORE: &str = include_str!("schemas/petstore.ridl");

/// Parses; if that succeeds, the JSON form must read back and print identically.
fn parse_and_round_trip(src: &str) {
    let Ok(schema) = parse_str(src, "fuzz.ridl") else {
        return;
    };
    let json = schema.to_json();
    let again = Schema::from_json(&json)
        .unwrap_or_else(|err| panic!("accepted schema's JSON does not read back: {err}\n{json}"));
    assert_eq!(again.to_json(), json);
}

/// Pieces of RIDL, put together at random into lines.
fn ridl_line() -> impl Strategy<Value = String> {
    let word = prop::sample::select(vec![
        "webrpc",
        "v1",
        "name",
        "version",
        "basepath",
        "import",
        "enum",
        "struct",
        "error",
        "service",
        "stream",
        "map",
        "HTTP",
        "Pet",
        "Status",
        "id",
        "uint32",
        "string",
        "any",
        "[]",
        "<",
        ">",
        ",",
        ":",
        "?",
        "=",
        "=>",
        "(",
        ")",
        "-",
        "+",
        "@",
        "#",
        "#!",
        "\"",
        "\\",
        "json",
        "go.tag.db",
        "404",
        "-1",
        "1000",
        "A",
        "deprecated",
        " ",
        "\t",
        "é",
        "\u{2028}",
        "\r",
    ]);
    prop::collection::vec(word, 0..12).prop_map(|words| words.concat())
}

proptest! {
    // 512 cases per property by default; PROPTEST_CASES=… for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        parse_and_round_trip(&text);
    }

    #[test]
    fn ridl_like_text_never_panics(lines in prop::collection::vec(ridl_line(), 0..30)) {
        parse_and_round_trip(&lines.join("\n"));
    }

    #[test]
    fn a_valid_schema_edited_at_random_never_panics(
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..4, ridl_line()), 1..6)
    ) {
        let mut lines: Vec<String> = PETSTORE.lines().map(str::to_string).collect();
        for (at, op, text) in edits {
            let i = at.index(lines.len().max(1));
            match op {
                0 if !lines.is_empty() => { lines.remove(i); }
                1 => lines.insert(i.min(lines.len()), text),
                2 if !lines.is_empty() => { let copy = lines[i].clone(); lines.insert(i, copy); }
                _ if !lines.is_empty() => lines[i].push_str(&text),
                _ => {}
            }
        }
        parse_and_round_trip(&lines.join("\n"));
    }

    #[test]
    fn arbitrary_json_never_panics(text in any::<String>()) {
        let _ = Schema::from_json(&text);
        let _ = Schema::from_json(&format!("{{\"webrpc\":\"v1\",\"name\":{text:?},\"types\":[{{\"kind\":\"struct\",\"name\":{text:?}}}]}}"));
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let deep = format!(
        "webrpc = v1\nstruct A\n  - a: {}int{}\n",
        "map<string,".repeat(10_000),
        ">".repeat(10_000)
    );
    assert!(parse_str(&deep, "deep.ridl").is_err());
    let deep = format!(
        "webrpc = v1\nstruct A\n  - a: {}int\n",
        "[]".repeat(100_000)
    );
    assert!(parse_str(&deep, "deep.ridl").is_err());
    let json = format!(
        "{{\"webrpc\":\"v1\",\"name\":\"x\",\"types\":[{{\"kind\":\"struct\",\"name\":\"A\",\"fields\":[{{\"name\":\"a\",\"type\":\"{}int\"}}]}}]}}",
        "[]".repeat(100_000)
    );
    assert!(Schema::from_json(&json).is_err());
}

#[test]
fn the_unedited_schema_round_trips() {
    parse_and_round_trip(PETSTORE);
    assert!(parse_str(PETSTORE, "petstore.ridl").is_ok());
}

#[test]
fn crlf_line_endings_parse_like_lf() {
    let crlf = PETSTORE.replace('\n', "\r\n");
    let a = parse_str(PETSTORE, "p.ridl").unwrap();
    let b = parse_str(&crlf, "p.ridl").unwrap();
    assert_eq!(a, b);
}
