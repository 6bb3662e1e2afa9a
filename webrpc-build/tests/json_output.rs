//! The JSON form of parsed schemas, against expected files written to match what webrpc-gen
//! v0.31 `-target=json` prints for the same schema (see tests/schemas/README.md).

use std::path::{Path, PathBuf};

use webrpc_build::{load, parse_file, parse_str, Schema};

fn schemas() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas")
}

fn expected(name: &str) -> String {
    std::fs::read_to_string(schemas().join(name)).unwrap()
}

#[test]
fn petstore_prints_as_webrpc_gen_json() {
    let schema = parse_file(schemas().join("petstore.ridl")).unwrap();
    assert_eq!(schema.to_json(), expected("petstore.json"));
}

#[test]
fn imports_print_as_webrpc_gen_json() {
    let schema = parse_file(schemas().join("imports/main.ridl")).unwrap();
    assert_eq!(schema.to_json(), expected("imports/main.json"));
}

#[test]
fn imported_types_come_first_and_once_then_enums_then_structs() {
    let schema = parse_file(schemas().join("imports/main.ridl")).unwrap();
    let types: Vec<&str> = schema.types.iter().map(|t| t.name.as_str()).collect();
    // deep.ridl is imported by both types.ridl and errors.ridl: Deep and Level come once.
    // errors.ridl's member list brings Shared but not NotImported.
    assert_eq!(
        types,
        ["Level", "Deep", "Role", "Account", "Shared", "Local"]
    );
    let errors: Vec<&str> = schema.errors.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(errors, ["NotFound"]);
    let services: Vec<&str> = schema.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(services, ["Helper", "Main"]);
}

#[test]
fn load_lists_every_file_read_once() {
    let parsed = load(schemas().join("imports/main.ridl")).unwrap();
    let names: Vec<String> = parsed
        .files
        .iter()
        .map(|p| {
            p.strip_prefix(schemas())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    assert_eq!(
        names,
        [
            "imports/main.ridl",
            "imports/lib/types.ridl",
            "imports/lib/nested/deep.ridl",
            "imports/lib/empty.ridl",
            "imports/lib/errors.ridl",
        ]
    );
    for file in &parsed.files {
        assert!(file.exists(), "{}", file.display());
    }
}

#[test]
fn json_schemas_round_trip_byte_for_byte() {
    for name in ["petstore.json", "imports/main.json"] {
        let text = expected(name);
        let from_file = parse_file(schemas().join(name)).unwrap();
        assert_eq!(from_file.to_json(), text, "{name} via parse_file");
        let from_str = Schema::from_json(&text).unwrap();
        assert_eq!(from_str.to_json(), text, "{name} via from_json");
        assert_eq!(parse_str(&text, name).unwrap().to_json(), text);
    }
}

#[test]
fn a_json_schema_reads_back_into_the_same_model_except_enum_comments() {
    let mut from_ridl = parse_file(schemas().join("petstore.ridl")).unwrap();
    let from_json = Schema::from_json(&from_ridl.to_json()).unwrap();
    // webrpc's JSON has no enum comments; everything else survives.
    for ty in from_ridl.types.iter_mut().filter(|t| t.is_enum()) {
        ty.comments.clear();
    }
    assert_eq!(from_json, from_ridl);
}

#[test]
fn the_model_is_resolved_for_generators() {
    use webrpc_build::schema::{CoreType, VarType};
    let schema = parse_file(schemas().join("petstore.ridl")).unwrap();
    let pet = schema.type_by_name("Pet").unwrap();
    let counters = pet.field("counters").unwrap().ty.clone().unwrap();
    assert_eq!(
        counters,
        VarType::Map(
            Box::new(VarType::Enum("Status".into())),
            Box::new(VarType::Map(
                Box::new(VarType::Core(CoreType::Int64)),
                Box::new(VarType::Core(CoreType::Float64))
            ))
        )
    );
    assert_eq!(pet.field("id").unwrap().json_name(), "id");
    assert_eq!(pet.field("birthday").unwrap().json_name(), "birth_day");
    assert!(pet.field("internalNote").unwrap().json_ignored());
    let status = schema.type_by_name("Status").unwrap();
    assert_eq!(status.enum_type(), Some(CoreType::Uint32));
    assert_eq!(status.comments, ["How a pet is doing."]);
    let store = schema.service("PetStore").unwrap();
    let get = store.method("GetPet").unwrap();
    assert!(get.succinct);
    assert_eq!(get.annotation("auth").unwrap().value, "ApiKeyAuth");
    assert!(store.method("ListPets").unwrap().is_deprecated());
    assert!(store.method("WatchPets").unwrap().stream_output);
}

#[test]
fn schema_hash_is_the_sha1_of_the_json() {
    let schema = parse_file(schemas().join("petstore.ridl")).unwrap();
    let hash = schema.schema_hash();
    assert_eq!(hash.len(), 40);
    assert!(hash
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
    // The hash changes with the schema and nothing else.
    assert_eq!(
        parse_file(schemas().join("petstore.ridl"))
            .unwrap()
            .schema_hash(),
        hash
    );
    // The SHA-1 of the expected JSON file, as `sha1sum tests/schemas/petstore.json` prints it.
    assert_eq!(hash, "7454f70407e11c8d28be884790fda2f4e0e52ed1");
    let other = parse_str("webrpc = v1\nname = x\n", "x.ridl").unwrap();
    assert_ne!(other.schema_hash(), hash);
    // sha1 of `{"webrpc": "v1", "name": "x", "version": "", "types": [], …}` as printed.
    assert_eq!(
        other.schema_hash(),
        "35a7a7630df7b90f828a75721e587a2b42dc48b7"
    );
}

#[test]
fn stream_before_a_method_name_joins_it_as_in_webrpc() {
    // webrpc has no input streams: `- stream Recv(…)` is a method named `streamRecv`.
    let schema = parse_str(
        "webrpc = v1\nname = s\nservice S\n  - stream Recv(req: string)\n  - stream Both(req: string) => stream (resp: string)\n",
        "s.ridl",
    )
    .unwrap();
    let methods = &schema.services[0].methods;
    assert_eq!(methods[0].name, "streamRecv");
    assert!(!methods[0].stream_input && !methods[0].stream_output);
    assert_eq!(methods[1].name, "streamBoth");
    assert!(methods[1].stream_output);
}

#[test]
fn a_json_schema_is_recognised_by_content_whatever_its_name() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("json-by-content");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("schema.ridl");
    std::fs::write(&file, expected("petstore.json")).unwrap();
    let parsed = load(&file).unwrap();
    assert_eq!(parsed.schema.to_json(), expected("petstore.json"));
    assert_eq!(parsed.files, [file]);
}

#[test]
fn base_prefixed_enum_values_print_as_written() {
    // webrpc keeps an enum value's text (gen-golang prints `Source = 0x10`); only the range
    // is checked here, against the enum's type.
    let src = "webrpc = v1\nname = e\nversion = v1\n\nenum Source: uint8\n  - UNKNOWN = 0x00\n  - FETCHER = 0X10\n  - OCTAL = 0o21\n  - BINARY = 0b10010\n  - TOP = 0xff\n\nenum Delta: int16\n  - DOWN = -0x8000\n  - UP = 0x7fff\n";
    let schema = parse_str(src, "e.ridl").unwrap();
    let values = |name: &str| -> Vec<String> {
        let ty = schema.type_by_name(name).unwrap();
        ty.fields.iter().map(|f| f.value.clone()).collect()
    };
    assert_eq!(
        values("Source"),
        ["0x00", "0X10", "0o21", "0b10010", "0xff"]
    );
    assert_eq!(values("Delta"), ["-0x8000", "0x7fff"]);
    let json = schema.to_json();
    assert!(json.contains("\"name\": \"FETCHER\",\n     \"value\": \"0X10\"\n"));
    assert!(json.contains("\"name\": \"DOWN\",\n     \"value\": \"-0x8000\"\n"));
    // The JSON form reads back with the values untouched, and is checked the same way.
    assert_eq!(Schema::from_json(&json).unwrap(), schema);
    let too_big = json.replace("\"0xff\"", "\"0x100\"");
    let err = Schema::from_json(&too_big).unwrap_err().to_string();
    assert!(
        err.contains("enum 'Source' value 'TOP' = 0x100 is out of range for uint8 (0 to 255)"),
        "{err}"
    );
}
