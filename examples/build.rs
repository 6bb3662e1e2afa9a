//! Generates the Rust code of the example schemas into `$OUT_DIR`: `schema/petstore.ridl`
//! into `petstore.rs` (included by `src/petstore.rs`) and `schema/interop.ridl`, webrpc's
//! interop `TestApi`, into `interop.rs` (included by `src/interop/schema.rs`, with its
//! error catalogue named `TestApiError`). Cargo reruns this when a schema changes.

fn main() {
    let built = webrpc_build::compile("schema/petstore.ridl").and_then(|_| {
        webrpc_build::Builder::new()
            .error_type("TestApiError")
            .compile("schema/interop.ridl")
    });
    if let Err(err) = built {
        // The error points at the schema's line and column.
        eprintln!("{err}");
        std::process::exit(1);
    }
}
