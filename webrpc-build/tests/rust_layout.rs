//! The generated code is in rustfmt's layout whatever the lengths of the schema's names and
//! types, within reason: a schema with field names from 1 to 70 characters, method and enum
//! value names up to 40 (Sequence's longest method name has 36), types nested to several
//! levels, long messages and comments, through three crate paths (`::webrpc_core`,
//! `crate::webrpc`, `rt`), is run through `rustfmt --check`. (Longer method names or crate
//! paths still give valid code, not always in rustfmt's layout: past some width rustfmt
//! itself leaves lines unformatted.)

use std::fmt::Write as _;

use webrpc_build::rust::{generate, Options};

/// A name of `len` characters starting with `first` (`Aaaa…`), unique per length.
fn name(first: char, len: usize) -> String {
    let mut out = String::with_capacity(len);
    out.push(first);
    for i in 1..len {
        out.push(if i % 7 == 0 { 'X' } else { 'a' });
    }
    out
}

fn schema() -> String {
    let types = [
        "uint64",
        "[]string",
        "map<string,any>",
        "map<string,map<string,uint32>>",
        "map<int64,[]map<string,[]Item>>",
        "[][]map<string,bigint>",
        "[]byte",
        "timestamp",
        "Kind",
        "map<Kind,[]Item>",
    ];
    let mut s = String::from("webrpc = v1\nname = layout\nversion = v1.0.0\n\n");
    s.push_str("enum Kind: uint16\n");
    for len in [1, 10, 25, 40] {
        let _ = writeln!(s, "  - {}", name('V', len).to_uppercase());
    }
    s.push_str("\nstruct Item\n  - id: uint64\n\nstruct Wide\n");
    for len in (1..=70).step_by(3) {
        let ty = types[len % types.len()];
        let field = name('f', len);
        let optional = if len % 2 == 0 { "?" } else { "" };
        let _ = writeln!(
            s,
            "  # The field {field}, of a type among many: see https://example.com/{len}."
        );
        let _ = writeln!(s, "  - {field}{optional}: {ty}");
        if len % 5 == 0 {
            let _ = writeln!(s, "    + go.tag.json = {field},omitempty");
        }
    }
    s.push('\n');
    for (i, len) in [1, 20, 60].into_iter().enumerate() {
        let _ = writeln!(
            s,
            "error {} {} \"{}\" HTTP 4{:02}",
            1000 + i,
            name('E', len),
            "a message that goes on ".repeat(len / 10 + 1).trim_end(),
            i
        );
    }
    s.push_str("\nservice Layout\n");
    for len in [1, 8, 16, 24, 28, 32, 36, 40] {
        let method = name('M', len);
        let ty = types[len % types.len()];
        let arg = name('a', len);
        let _ = writeln!(
            s,
            "  - {method}({arg}: {ty}, other?: {ty}) => ({arg}: {ty}, more?: Wide)"
        );
    }
    s.push_str("  - Succinct(Item) => (Wide)\n");
    s
}

fn assert_rustfmt_clean(code: &str, what: &str) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("rust-layout");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{what}.rs"));
    std::fs::write(&path, code).unwrap();
    let out = std::process::Command::new("rustfmt")
        .args(["--edition", "2021", "--check"])
        .arg(&path)
        .output()
        .expect("rustfmt must be installed to check the generated code");
    assert!(
        out.status.success(),
        "rustfmt would change the code generated with {what}:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn names_and_types_of_every_length_are_laid_out_as_rustfmt_would() {
    let schema = webrpc_build::parse_str(&schema(), "layout.ridl").unwrap();
    for (what, options) in [
        ("default", Options::new()),
        ("re-export", Options::new().crate_path("crate::webrpc")),
        ("short-crate-path", Options::new().crate_path("rt")),
    ] {
        let code = generate(&schema, &options).unwrap();
        assert!(code.contains("pub struct Wide {"));
        assert_rustfmt_clean(&code, what);
    }
}
