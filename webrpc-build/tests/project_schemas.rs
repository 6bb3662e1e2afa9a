//! The schemas the rest of the workspace is built from parse and check, with the shape their
//! READMEs describe: Sequence's Metadata API (sequence-metadata/schema/metadata.ridl) and the
//! interop and streaming-chat examples (examples/interop/schema/, examples/chat/schema/).

use std::path::{Path, PathBuf};

use webrpc_build::{parse_file, Schema};

fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn parse(relative: &str) -> Schema {
    let path = workspace_file(relative);
    parse_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(service, number of methods)` in declaration order.
fn services(schema: &Schema) -> Vec<(&str, usize)> {
    schema
        .services
        .iter()
        .map(|s| (s.name.as_str(), s.methods.len()))
        .collect()
}

fn kinds(schema: &Schema) -> (usize, usize) {
    let enums = schema.types.iter().filter(|t| t.is_enum()).count();
    (enums, schema.types.len() - enums)
}

#[test]
fn sequence_metadata_schema_has_its_three_services_30_types_and_19_errors() {
    let schema = parse("sequence-metadata/schema/metadata.ridl");
    assert_eq!(
        (
            schema.webrpc.as_str(),
            schema.name.as_str(),
            schema.version.as_str()
        ),
        ("v1", "sequence-metadata", "v0.4.0")
    );
    assert_eq!(
        services(&schema),
        [("Metadata", 37), ("Collections", 21), ("Admin", 17)]
    );
    assert_eq!(schema.types.len(), 30);
    assert_eq!(kinds(&schema), (6, 24));
    assert_eq!(schema.errors.len(), 19);
    let first = &schema.errors[0];
    assert_eq!(
        (first.code, first.name.as_str(), first.http_status),
        (1000, "Unauthorized", 401)
    );
    // Source's values are hex in go-sequence and stay as written.
    let source = schema.type_by_name("Source").unwrap();
    assert_eq!(source.fields.len(), 17);
    assert_eq!(
        source.field("FETCHER").unwrap().value,
        "0x10",
        "enum values keep their hex spelling"
    );
    assert!(schema.to_json().contains("\"value\": \"0x83\""));
}

#[test]
fn interop_schema_has_webrpcs_test_api_shape() {
    let schema = parse("examples/interop/schema/interop.ridl");
    assert_eq!(
        (schema.name.as_str(), schema.version.as_str()),
        ("Test", "v1.0.0")
    );
    assert_eq!(services(&schema), [("TestApi", 11)]);
    let types: Vec<&str> = schema.types.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        types,
        ["Status", "Access", "Simple", "User", "Complex", "EnumData"]
    );
    assert_eq!(schema.errors.len(), 18);
    let codes: Vec<i64> = schema.errors.iter().map(|e| e.code).collect();
    assert_eq!(
        codes,
        [1, 2, 3, 4, 5, 6, 7, 8, 100, 101, 102, 103, 200, 201, 202, 300, 301, 302]
    );
    let api = schema.service("TestApi").unwrap();
    assert!(api.method("GetSchemaError").is_some());
}

#[test]
fn chat_schema_streams_its_subscription() {
    let schema = parse("examples/chat/schema/chat.ridl");
    assert_eq!(schema.name, "webrpc-sse-chat");
    assert_eq!(services(&schema), [("Chat", 2)]);
    assert_eq!(kinds(&schema), (0, 1));
    assert_eq!(schema.errors.len(), 1);
    let chat = schema.service("Chat").unwrap();
    assert!(!chat.method("SendMessage").unwrap().stream_output);
    let subscribe = chat.method("SubscribeMessages").unwrap();
    assert!(subscribe.stream_output);
    assert!(subscribe
        .inputs
        .iter()
        .any(|a| a.name == "lastMessageId" && a.optional));
}
