//! Sequence's published npm package `@0xsequence/metadata`, unchanged, against the real
//! `metadata-server` binary: in Node (`tests/js/sdk.test.mjs`: collections, tokens, assets,
//! upload, publish, list, typed errors) and in headless Chromium (`tests/js/browser.test.mjs`:
//! a page on another origin creating a collection, uploading an image, publishing, showing
//! the public metadata and the image, with a screenshot).
//!
//! Each test starts the server (memory store, port 0, a known JWT secret, dev project 7),
//! runs `node --test` on its script with `METADATA_URL`, `METADATA_JWT` (the dev JWT the
//! server printed) and `METADATA_JWT_SECRET` set, and checks the exit status and node's TAP
//! summary. Without `node`, `tests/js/node_modules` (`npm ci` there) or `/usr/bin/chromium`
//! (or `$CHROMIUM`) a test says it is skipped and why, and passes, unless
//! `METADATA_REQUIRE_JS=1` (as `.ci/run` sets), where it fails.
//!
//! ```text
//! (cd examples/metadata-server/tests/js && npm ci)
//! cargo test -p metadata-server --test sdk_js -- --nocapture
//! ```

mod reliability_common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reliability_common::{eventually, ServerProcess, SECRET, WAIT};
use tokio::process::Command;

/// The project of the dev JWT the server prints.
const PROJECT: &str = "7";

/// Bound on one `node --test` run (Chromium's start included).
const NODE_WAIT: Duration = Duration::from_secs(300);

fn js_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Why the JS tests cannot run here, if they cannot.
fn missing(needs_chromium: bool) -> Option<String> {
    let node = std::process::Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(node, Ok(status) if status.success()) {
        return Some("`node` is not on PATH".into());
    }
    for package in ["@0xsequence/metadata", "esbuild", "playwright-core"] {
        let dir = js_dir().join("node_modules").join(package);
        if !dir.join("package.json").is_file() {
            return Some(format!(
                "{} is missing (run `npm ci` in {})",
                dir.display(),
                js_dir().display()
            ));
        }
    }
    if needs_chromium && !chromium().is_file() {
        return Some(format!(
            "{} is missing (`apt-get install chromium`, or set CHROMIUM)",
            chromium().display()
        ));
    }
    None
}

/// `true` when the test should go on; prints why not and passes, or fails under
/// `METADATA_REQUIRE_JS=1`.
fn can_run(test: &str, needs_chromium: bool) -> bool {
    let Some(why) = missing(needs_chromium) else {
        return true;
    };
    if std::env::var("METADATA_REQUIRE_JS").as_deref() == Ok("1") {
        panic!("{test}: METADATA_REQUIRE_JS=1 but {why}");
    }
    // Straight to stderr, past the test harness's capture, so the skip shows in any run.
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {why} (METADATA_REQUIRE_JS=1 makes this a failure)"
    );
    false
}

/// The counts of node's TAP summary (`# tests N`, `# pass N`, …).
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    tests: u32,
    pass: u32,
    fail: u32,
    cancelled: u32,
    skipped: u32,
    todo: u32,
}

fn parse_summary(tap: &str) -> Summary {
    let mut summary = Summary::default();
    let mut seen = 0;
    for line in tap.lines() {
        let Some((key, value)) = line.strip_prefix("# ").and_then(|l| l.split_once(' ')) else {
            continue;
        };
        let Ok(value) = value.trim().parse() else {
            continue;
        };
        let slot = match key {
            "tests" => &mut summary.tests,
            "pass" => &mut summary.pass,
            "fail" => &mut summary.fail,
            "cancelled" => &mut summary.cancelled,
            "skipped" => &mut summary.skipped,
            "todo" => &mut summary.todo,
            _ => continue,
        };
        *slot = value;
        seen += 1;
    }
    assert!(seen >= 6, "no TAP summary in node's output:\n{tap}");
    summary
}

/// The dev JWT in the server's startup text (waited for: the text after the first line is
/// read in the background).
async fn printed_jwt(server: &ServerProcess) -> String {
    let find = || {
        server
            .printed()
            .lines()
            .find_map(|l| l.trim().strip_prefix("export METADATA_JWT="))
            .map(str::to_owned)
    };
    eventually(WAIT, || find().is_some()).await;
    find().unwrap_or_else(|| panic!("no dev JWT printed:\n{}", server.printed()))
}

/// Runs `node --test` on `script` against `server`; returns its output after checking that
/// it passed `expected_tests` tests and nothing else.
async fn run_node(
    server: &ServerProcess,
    script: &str,
    extra_env: &[(&str, &Path)],
    expected_tests: u32,
) -> String {
    let mut command = Command::new("node");
    command
        .args(["--test", "--test-reporter=tap", script])
        .current_dir(js_dir())
        .env("METADATA_URL", &server.base_url)
        .env("METADATA_JWT", printed_jwt(server).await)
        .env("METADATA_JWT_SECRET", SECRET)
        .env("CHROMIUM", chromium())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (key, value) in extra_env {
        command.env(key, value);
    }
    let output = tokio::time::timeout(NODE_WAIT, command.output())
        .await
        .unwrap_or_else(|_| panic!("node --test {script} did not finish in {NODE_WAIT:?}"))
        .expect("run node");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("node --test {script}:\n{stdout}{stderr}");
    assert!(
        output.status.success(),
        "node --test {script} failed ({}):\n{stdout}\n{stderr}\nserver log:\n{}",
        output.status,
        server.log()
    );
    assert_eq!(
        parse_summary(&stdout),
        Summary {
            tests: expected_tests,
            pass: expected_tests,
            ..Summary::default()
        },
        "{script}: every test ran and passed"
    );
    stdout
}

async fn start_server() -> ServerProcess {
    ServerProcess::start(&["--store", "memory", "--dev-project", PROJECT], "info").await
}

#[test]
fn node_s_tap_summary_is_parsed() {
    let tap = "ok 1 - a\n1..1\n# tests 9\n# suites 1\n# pass 8\n# fail 1\n# cancelled 0\n\
               # skipped 0\n# todo 0\n# duration_ms 12.5\n";
    assert_eq!(
        parse_summary(tap),
        Summary {
            tests: 9,
            pass: 8,
            fail: 1,
            ..Summary::default()
        }
    );
}

#[tokio::test]
async fn the_npm_sdk_works_against_the_server_in_node() {
    if !can_run("the_npm_sdk_works_against_the_server_in_node", false) {
        return;
    }
    let server = start_server().await;
    // The `it(…)` cases of sdk.test.mjs.
    run_node(&server, "sdk.test.mjs", &[], 9).await;
}

#[tokio::test]
async fn the_npm_sdk_works_in_headless_chromium_from_another_origin() {
    if !can_run(
        "the_npm_sdk_works_in_headless_chromium_from_another_origin",
        true,
    ) {
        return;
    }
    let mut server = start_server().await;
    let screenshot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("metadata-sdk-browser.png");
    let _ = std::fs::remove_file(&screenshot);
    let out = run_node(
        &server,
        "browser.test.mjs",
        &[("METADATA_SCREENSHOT", &screenshot)],
        1,
    )
    .await;
    assert!(
        out.contains(&format!("screenshot: {}", screenshot.display())),
        "{out}"
    );
    let png = std::fs::read(&screenshot).expect("the screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "the screenshot is a PNG"
    );
    println!("screenshot: {}", screenshot.display());

    // The browser's own CORS preflights reached the server and were granted without a token.
    // Stop the server first, so that its log is complete.
    server.terminate();
    assert!(server.wait().await.success(), "graceful exit");
    let log = server.log();
    for path in [
        "/rpc/Collections/CreateCollection".to_owned(),
        "/rpc/Collections/PublishCollection".to_owned(),
    ] {
        assert!(
            log.contains(&format!("method=OPTIONS path={path} status=200")),
            "a preflight for {path} in the log:\n{log}"
        );
    }
    assert!(
        log.lines()
            .any(|l| l.contains("method=OPTIONS path=/projects/")
                && l.contains("/upload status=200")),
        "a preflight for the upload in the log:\n{log}"
    );
}
