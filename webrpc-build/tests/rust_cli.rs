//! `webrpc-build rust`: the generated code on stdout or in `--out`, the options as flags, and
//! a schema that cannot be generated is a non-zero exit naming why.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_webrpc-build"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/rust")
        .join(name)
}

#[test]
fn rust_prints_the_checked_in_code() {
    let out = bin()
        .arg("rust")
        .arg(fixture("petstore.ridl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = std::fs::read_to_string(fixture("petstore.rs")).unwrap();
    assert!(
        String::from_utf8(out.stdout).unwrap() == expected,
        "stdout is not tests/rust/petstore.rs"
    );
}

#[test]
fn rust_flags_are_the_generator_options() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-rust");
    std::fs::create_dir_all(&dir).unwrap();
    let out_file = dir.join("kitchen.rs");
    let status = bin()
        .arg("rust")
        .arg(fixture("kitchen.ridl"))
        .args(["--crate-path", "crate::rt", "--out"])
        .arg(&out_file)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        std::fs::read_to_string(&out_file).unwrap()
            == std::fs::read_to_string(fixture("kitchen.rs")).unwrap(),
        "--out is not tests/rust/kitchen.rs"
    );

    let out = bin()
        .arg("rust")
        .arg(fixture("petstore.ridl"))
        .args([
            "--client",
            "--ignore",
            "@deprecated",
            "--error-type",
            "ShopError",
        ])
        .output()
        .unwrap();
    let code = String::from_utf8(out.stdout).unwrap();
    assert!(code.contains("pub struct PetStoreClient<C>"));
    assert!(code.contains("pub enum ShopError {"));
    assert!(!code.contains("pub fn mount_pet_store"));
    assert!(!code.contains("Ping"));

    let out = bin()
        .arg("rust")
        .arg(fixture("petstore.ridl"))
        .arg("--server")
        .output()
        .unwrap();
    let code = String::from_utf8(out.stdout).unwrap();
    assert!(code.contains("pub fn mount_pet_store"));
    assert!(!code.contains("PetStoreClient<C>"));
}

#[test]
fn rust_generates_stream_methods_and_refuses_input_streams() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-rust-stream");
    std::fs::create_dir_all(&dir).unwrap();
    let schema = dir.join("feed.ridl");
    std::fs::write(
        &schema,
        "webrpc = v1\nname = feed\nversion = v1\nservice Feed\n  - Watch(topic: string) => stream (event: string)\n",
    )
    .unwrap();
    let out = bin().arg("rust").arg(&schema).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let code = String::from_utf8(out.stdout).unwrap();
    assert!(
        code.contains("impl ::webrpc_core::StreamMethod for Watch"),
        "{code}"
    );
    assert!(
        code.contains(".call_stream::<Watch>(ctx, request)"),
        "{code}"
    );
    assert!(
        code.contains("routes.add_stream_route::<Watch, _, _, _>"),
        "{code}"
    );

    // An input stream can only come from a JSON schema; webrpc has none, so it is refused.
    let json = dir.join("feed.json");
    std::fs::write(
        &json,
        r#"{"webrpc":"v1","name":"feed","version":"v1","types":[],"errors":[],"services":[{"name":"Feed","methods":[{"name":"Push","annotations":{},"comments":[],"streamInput":true,"inputs":[],"outputs":[]}]}]}"#,
    )
    .unwrap();
    let out = bin().arg("rust").arg(&json).output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("method Feed.Push streams its input"),
        "{stderr}"
    );
}

#[test]
fn rust_refuses_an_unknown_service() {
    let out = bin()
        .arg("rust")
        .arg(fixture("petstore.ridl"))
        .args(["--service", "Nope"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown service 'Nope'"));
}
