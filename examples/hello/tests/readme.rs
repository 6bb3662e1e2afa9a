//! The README's first example is `src/main.rs`, word for word, so the program the
//! README shows is the one that is built (and, as a doctest of this crate, run).

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

#[test]
fn the_readme_first_example_is_the_hello_program() {
    let readme = read("../../README.md");
    let section = &readme[readme
        .find("## Declare a service, serve it, call it")
        .expect("the README has the section")..];
    let open = section.find("```rust\n").expect("a Rust block") + "```rust\n".len();
    let block = &section[open..open + section[open..].find("```").unwrap()];

    let hello = read("src/main.rs");
    let code = &hello[hello
        .find("use std::sync::Arc;")
        .expect("main.rs's first use")..];
    assert_eq!(block, code, "README block and src/main.rs differ");
    // Pasteable: its imports, its own listener, and a shutdown.
    for needed in [
        "use webrpc_server::",
        "TcpListener::bind(\"127.0.0.1:0\")",
        ".shutdown()",
    ] {
        assert!(block.contains(needed), "the example has {needed}");
    }
    assert!(!block.contains("4242"), "not the Metadata server's port");
}
