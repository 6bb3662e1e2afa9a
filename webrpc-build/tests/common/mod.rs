//! Shared by the generator tests: regenerating a checked-in file and comparing.

use std::path::{Path, PathBuf};

use webrpc_build::rust::{generate, Options};

/// `webrpc-build/tests/rust/<name>`.
pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rust")
        .join(name)
}

/// The Rust generated now for the schema `tests/rust/<schema>`, as `webrpc-build rust` and
/// `compile` name it.
pub(crate) fn regenerate(schema: &str, options: Options) -> String {
    let parsed = webrpc_build::parse_file(fixture(schema)).unwrap();
    generate(&parsed, &options.source(schema)).unwrap()
}

/// Fails, with the first differing line, when the checked-in `tests/rust/<generated>` is not
/// what the generator makes now. `WEBRPC_BLESS=1` rewrites it instead.
pub(crate) fn assert_no_drift(generated: &str, fresh: &str) {
    let path = fixture(generated);
    if std::env::var_os("WEBRPC_BLESS").is_some() {
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap();
    if checked_in != fresh {
        let line = checked_in
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .map_or(checked_in.lines().count().min(fresh.lines().count()), |i| i);
        panic!(
            "{} is out of date from line {}: regenerate it with WEBRPC_BLESS=1 cargo test -p webrpc-build",
            path.display(),
            line + 1
        );
    }
}

/// Fails when rustfmt would change the file.
pub(crate) fn assert_rustfmt_clean(generated: &str) {
    let path = fixture(generated);
    let out = std::process::Command::new("rustfmt")
        .args(["--edition", "2021", "--check"])
        .arg(&path)
        .output()
        .expect("rustfmt must be installed to check the generated code");
    assert!(
        out.status.success(),
        "rustfmt would change {}:\n{}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}
