//! Generates the Rust code of `schema/petstore.ridl` into `$OUT_DIR/petstore.rs`, included by
//! `src/lib.rs`. Cargo reruns this when the schema changes.

fn main() {
    if let Err(err) = webrpc_build::compile("schema/petstore.ridl") {
        // The error points at the schema's line and column.
        eprintln!("{err}");
        std::process::exit(1);
    }
}
