//! `service!` declarations with a mistake fail to compile with the error at the mistake:
//! each case is compiled as a crate of its own (`cargo check --offline`, the workspace's
//! lock file, a target directory under `target/tmp`), and the first error's `file:line`
//! must be the line of the mistake. Only the position is checked, not rustc's wording,
//! which changes between toolchains.

use std::path::Path;
use std::process::Command;

/// The header every case starts with (lines 1 to 9 of the case's `lib.rs`).
const HEADER: &str = "webrpc_core::service! {
    /// T.
    pub trait T;
    /// C.
    client C;
    /// M.
    mount mount_t;
    name \"T\";
    schema \"t\" \"v1\";
";

/// Compiles `source` as `src/lib.rs` of a crate depending on this webrpc-core, and answers
/// the line of the first error (`None` if it compiled), with the compiler's output.
fn first_error_line(name: &str, source: &str) -> (Option<usize>, String) {
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("service_macro_errors");
    let dir = root.join(name);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let core = env!("CARGO_MANIFEST_DIR");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"case_{name}\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
             publish = false\n\n[dependencies]\nwebrpc-core = {{ path = {core:?} }}\n\n\
             [workspace]\n"
        ),
    )
    .unwrap();
    // The workspace's lock file: the same dependency versions, all already downloaded.
    let lock = Path::new(core).join("../Cargo.lock");
    std::fs::copy(&lock, dir.join("Cargo.lock")).unwrap();
    std::fs::write(dir.join("src/lib.rs"), source).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["check", "--offline", "--quiet", "--message-format=short"])
        .env("CARGO_TARGET_DIR", root.join("target"))
        .env_remove("RUSTFLAGS")
        .current_dir(&dir)
        .output()
        .expect("run cargo check");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if output.status.success() {
        return (None, stderr);
    }
    // `src/lib.rs:LINE:COL: error…`
    let line = stderr
        .lines()
        .filter(|l| l.contains(": error"))
        .find_map(|l| l.strip_prefix("src/lib.rs:"))
        .and_then(|rest| rest.split(':').next())
        .and_then(|n| n.parse().ok());
    (line, stderr)
}

/// Asserts that `body` (after [`HEADER`], closed by `}`) fails with its first error on the
/// line of `body` that contains `mistake`.
fn assert_error_at(name: &str, body: &str, mistake: &str) {
    let source = format!("{HEADER}{body}}}\n");
    let expected = source
        .lines()
        .position(|l| l.contains(mistake))
        .expect("the mistake is in the source")
        + 1;
    let (line, stderr) = first_error_line(name, &source);
    assert_eq!(
        line,
        Some(expected),
        "the first error should be on line {expected} ({mistake:?}):\n{source}\n{stderr}"
    );
}

#[test]
fn the_cases_compile_without_their_mistake() {
    // The harness itself: a correct declaration compiles (so an error below is the
    // mistake's, not the set-up's). Its one-letter names also show that the macro's own
    // generic parameters cannot clash with a service's names (they once were `C`, `R`
    // and `T`, so a trait `T` or a client `C` did not compile).
    let source = format!("{HEADER}    /// Ping.\n    Ping => ping() -> ();\n}}\n");
    let (line, stderr) = first_error_line("correct", &source);
    assert_eq!(line, None, "{stderr}");
}

#[test]
fn a_method_without_its_response_is_an_error_at_the_end_of_the_method() {
    assert_error_at(
        "no_response",
        "    /// Missing `-> Response`.\n    Ping => ping();\n",
        "Ping => ping();",
    );
}

#[test]
fn a_method_with_an_unknown_arrow_is_an_error_at_the_arrow() {
    assert_error_at(
        "bad_arrow",
        "    /// `->` where `=>` belongs.\n    Ping -> ping() -> ();\n",
        "Ping -> ping()",
    );
}
