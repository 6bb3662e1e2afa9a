//! `src/metadata.gen.rs` is what `webrpc-build` makes of `schema/metadata.ridl` today.

use std::path::Path;

/// The command that regenerates the file, from the workspace root.
const REGENERATE: &str =
    "cargo run -p webrpc-build -- rust sequence-metadata/schema/metadata.ridl \
    --error-type MetadataError --out sequence-metadata/src/metadata.gen.rs";

#[test]
fn generated_code_is_up_to_date_with_the_schema() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema = webrpc_build::parse_file(dir.join("schema/metadata.ridl"))
        .unwrap_or_else(|err| panic!("schema/metadata.ridl does not parse:\n{err}"));
    let options = webrpc_build::rust::Options::new()
        .error_type("MetadataError")
        .source("metadata.ridl");
    let expected = webrpc_build::rust::generate(&schema, &options).unwrap();
    let path = dir.join("src/metadata.gen.rs");
    if std::env::var_os("WEBRPC_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap();
    if checked_in != expected {
        let line = checked_in
            .lines()
            .zip(expected.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || checked_in.lines().count().min(expected.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "src/metadata.gen.rs is out of date with schema/metadata.ridl (first difference at \
             line {line}); regenerate it with:\n    {REGENERATE}"
        );
    }
}

#[test]
fn generated_code_has_the_three_services_of_the_schema() {
    use sequence_metadata::{ADMIN_SERVICE, COLLECTIONS_SERVICE, METADATA_SERVICE};
    let counts = [&METADATA_SERVICE, &COLLECTIONS_SERVICE, &ADMIN_SERVICE]
        .map(|service| (service.name, service.methods.len()));
    assert_eq!(
        counts,
        [("Metadata", 37), ("Collections", 21), ("Admin", 17)]
    );
    for service in [&METADATA_SERVICE, &COLLECTIONS_SERVICE, &ADMIN_SERVICE] {
        assert_eq!(service.schema, "sequence-metadata");
        assert_eq!(service.schema_version, "v0.4.0");
        assert_eq!(service.webrpc_header, sequence_metadata::WEBRPC_HEADER);
        for method in service.methods {
            assert_eq!(method.service, service.name);
        }
    }
}
