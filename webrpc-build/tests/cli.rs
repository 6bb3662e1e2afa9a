//! The `webrpc-build` binary: `json` prints what the library prints, to stdout or `--out`,
//! and a bad schema is a non-zero exit with the diagnostic on stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_webrpc-build"))
}

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

#[test]
fn json_prints_the_schema_to_stdout() {
    let out = bin()
        .arg("json")
        .arg(schemas().join("petstore.ridl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read_to_string(schemas().join("petstore.json")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn json_writes_to_out_and_reads_json_back() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-json");
    std::fs::create_dir_all(&dir).unwrap();
    let first = dir.join("imports.json");
    let status = bin()
        .arg("json")
        .arg(schemas().join("imports/main.ridl"))
        .arg("--out")
        .arg(&first)
        .status()
        .unwrap();
    assert!(status.success());
    let expected = std::fs::read_to_string(schemas().join("imports/main.json")).unwrap();
    assert_eq!(std::fs::read_to_string(&first).unwrap(), expected);

    // A JSON schema in, the same JSON out.
    let out = bin().arg("json").arg(&first).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}

#[test]
fn a_bad_schema_exits_with_the_diagnostic() {
    let out = bin()
        .arg("json")
        .arg(schemas().join("cycle/a.ridl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains("circular import: a.ridl imports b.ridl imports c.ridl imports a.ridl"),
        "{stderr}"
    );
    assert!(stderr.contains(" 2 | import a.ridl\n"), "{stderr}");
}

#[test]
fn usage_errors_are_reported_by_clap() {
    let out = bin().arg("json").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("<SCHEMA>"));
}
