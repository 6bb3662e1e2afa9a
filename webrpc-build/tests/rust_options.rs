//! The generator's options and refusals: client or server only, a subset of services,
//! annotation filters, the crate path, the error type's name; stream methods, name clashes
//! and names Rust cannot use are clear errors. And `compile` for `build.rs`.

use webrpc_build::rust::{generate, GenerateError, Options};
use webrpc_build::{parse_str, Builder, Schema};

const SHOP: &str = r#"
webrpc = v1
name = shop
version = v0.1.0

struct Item
  - id: uint64

error 500 OutOfStock "out of stock" HTTP 409

service Catalog
  - GetItem(id: uint64) => (item: Item)
  @deprecated:"use GetItem"
  - FetchItem(id: uint64) => (item: Item)
  @internal
  - Reindex()

service Orders
  - Order(itemId: uint64) => (ok: bool)
"#;

fn shop() -> Schema {
    parse_str(SHOP, "shop.ridl").unwrap()
}

fn gen(options: Options) -> String {
    generate(&shop(), &options).unwrap()
}

#[test]
fn everything_by_default() {
    let code = gen(Options::new());
    for item in [
        "pub struct Item {",
        "pub enum ShopError {",
        "pub trait Catalog:",
        "pub struct CatalogClient<C>",
        "pub fn mount_catalog<R, T>",
        "pub const CATALOG_SERVICE:",
        "pub fn for_each_catalog_method<",
        "pub trait Orders:",
        "pub struct OrderRequest {",
        "pub fn mount_orders<R, T>",
    ] {
        assert!(code.contains(item), "missing {item}");
    }
    assert!(code.contains(
        "#[deprecated(note = \"use GetItem\")]\n#[derive(Debug, Clone, Copy, Default)]\npub struct FetchItem;"
    ));
    assert!(code.contains("    #[deprecated(note = \"use GetItem\")]\n    fn fetch_item("));
}

#[test]
fn client_only_leaves_out_mount_functions() {
    let code = gen(Options::new().client_only());
    assert!(code.contains("pub struct CatalogClient<C>"));
    assert!(code.contains("pub trait Catalog:"));
    assert!(!code.contains("pub fn mount_"), "{code}");
}

#[test]
fn server_only_leaves_out_clients() {
    let code = gen(Options::new().server_only());
    assert!(code.contains("pub fn mount_catalog<R, T>"));
    assert!(!code.contains("Client<C>"));
    // The trait's documentation links only to what exists.
    assert!(!code.contains("[`CatalogClient`]"));
}

#[test]
fn a_service_subset_leaves_out_the_others() {
    let code = gen(Options::new().service("Orders"));
    assert!(code.contains("pub trait Orders:"));
    assert!(!code.contains("Catalog"));
    // Types and errors are the whole schema's.
    assert!(code.contains("pub struct Item {") && code.contains("OutOfStock"));
    let err = generate(&shop(), &Options::new().service("Billing")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown service 'Billing'; the schema has: Catalog, Orders"
    );
}

#[test]
fn ignored_annotations_leave_methods_out() {
    let code = gen(Options::new().ignore("@deprecated").ignore("internal"));
    assert!(code.contains("GetItem"));
    assert!(!code.contains("FetchItem"));
    assert!(!code.contains("Reindex"));
    assert!(!code.contains("#[allow(deprecated)]"));
    // With a value, only that value matches.
    let code = gen(Options::new().ignore("@deprecated:\"something else\""));
    assert!(code.contains("FetchItem"));
    let code = gen(Options::new().ignore("@deprecated:\"use GetItem\""));
    assert!(!code.contains("FetchItem"));
}

#[test]
fn crate_path_is_used_for_every_runtime_path() {
    let code = gen(Options::new().crate_path("crate::rt"));
    assert!(!code.contains("webrpc_core"), "{code}");
    assert!(code.contains("#[serde(crate = \"crate::rt::__private::serde\")]"));
    assert!(code.contains("crate::rt::error_catalogue! {"));
    let err = generate(&shop(), &Options::new().crate_path("not a path")).unwrap_err();
    assert!(matches!(err, GenerateError::InvalidOption(_)), "{err}");
}

#[test]
fn error_type_name_is_configurable() {
    assert!(gen(Options::new().error_type("CatalogError")).contains("pub enum CatalogError {"));
}

#[test]
fn stream_methods_are_generated_and_can_be_left_out() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nservice Feed\n  - Ping()\n  - Watch(topic: string) => stream (event: string)\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    assert!(code.contains("impl ::webrpc_core::StreamMethod for Watch {"));
    assert!(code.contains("impl ::webrpc_core::Method for Ping {"));
    assert!(code.contains("visitor.visit_stream::<Watch>();"));
    // Left out, it is no error.
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nservice Feed\n  - Ping()\n  @internal\n  - Watch(topic: string) => stream (event: string)\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new().ignore("@internal")).unwrap();
    assert!(code.contains("pub struct Ping;") && !code.contains("Watch"));
}

#[test]
fn a_method_name_shared_by_services_is_prefixed_with_the_service() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nservice Catalog\n  - Ping()\n  - List()\nservice Orders\n  - Ping()\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    for item in [
        "pub struct CatalogPing;",
        "pub struct CatalogPingRequest {}",
        "pub struct OrdersPing;",
        "pub struct OrdersPingResponse {}",
        "pub struct List;",
    ] {
        assert!(code.contains(item), "missing {item}");
    }
    // The wire name stays the method's.
    assert!(code.contains("impl ::webrpc_core::Method for OrdersPing {\n    const SERVICE: &'static str = \"Orders\";\n    const NAME: &'static str = \"Ping\";"));
    // With one of the services only, there is nothing to tell apart.
    let code = generate(&schema, &Options::new().service("Orders")).unwrap();
    assert!(code.contains("pub struct Ping;"));
}

#[test]
fn method_items_step_aside_for_schema_types_of_their_name() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Version\n  - v: string\nstruct GetItemRequest\n  - id: uint64\nservice Meta\n  - Version() => (version: Version)\n  - GetItem(req: GetItemRequest) => (ok: bool)\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    for item in [
        // A method named like a type: prefixed with its service.
        "pub struct MetaVersion;",
        "pub struct MetaVersionRequest {}",
        // A schema struct named like the request: gen-typescript's Args and Return.
        "pub struct GetItemArgs {",
        "pub struct GetItemReturn {",
        "    type Request = GetItemArgs;",
    ] {
        assert!(code.contains(item), "missing {item}");
    }
}

#[test]
fn generated_names_that_still_clash_are_refused() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Catalog\n  - id: uint64\nservice Catalog\n  - GetItem(id: uint64)\n",
        "s.ridl",
    )
    .unwrap();
    assert_eq!(
        generate(&schema, &Options::new()).unwrap_err().to_string(),
        "two generated items are named 'Catalog': struct Catalog and service Catalog"
    );
}

#[test]
fn unset_optional_fields_are_null_as_in_go_unless_omitted() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Item\n  - a?: string\n  - b?: string\n    + go.tag.json = b,omitempty\nservice S\n  - M(x?: uint32) => (y?: uint32)\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    let skip = "#[serde(default, skip_serializing_if = \"Option::is_none\")]";
    assert!(code.contains("    #[serde(default)]\n    pub a: Option<String>,"));
    assert!(code.contains(&format!("    {skip}\n    pub b: Option<String>,")));
    // Requests leave unset optional arguments out; responses write null, as Go servers do.
    assert!(code.contains(&format!("    {skip}\n    pub x: Option<u32>,")));
    assert!(code.contains("    #[serde(default)]\n    pub y: Option<u32>,"));
    let code = generate(&schema, &Options::new().omit_none()).unwrap();
    assert!(code.contains(&format!("    {skip}\n    pub a: Option<String>,")));
    assert!(code.contains(&format!("    {skip}\n    pub y: Option<u32>,")));
}

#[test]
fn a_go_value_type_makes_an_optional_field_a_plain_value() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Asset\n  - url?: string\n    + go.field.type = string\n  - size?: uint32\n    + go.field.type = uint32\n    + go.tag.json = size,omitempty\n  - token?: string\n    + go.field.type = *prototyp.BigInt\n  - payload: []byte\n    + go.field.type = json.RawMessage\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    let zero = "default, deserialize_with = \"::webrpc_core::serde_go::null_as_default\"";
    // Go's `string`: never null, "" when unset.
    assert!(
        code.contains(&format!("    #[serde({zero})]\n    pub url: String,")),
        "{code}"
    );
    // Go's `uint32` with omitempty: left out when 0.
    assert!(code.contains(
        "skip_serializing_if = \"::webrpc_core::serde_go::is_zero\"\n    )]\n    pub size: u32,"
    ));
    // A Go pointer stays an Option.
    assert!(code.contains("    #[serde(default)]\n    pub token: Option<String>,"));
    // json.RawMessage is raw JSON, not base64.
    assert!(code.contains("    pub payload: ::webrpc_core::types::Value,"));
}

#[test]
fn optional_lists_and_maps_are_plain_as_in_go() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Item\n  - tags?: []string\n  - props?: map<string,any>\n  - note?: string\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    assert!(code.contains("    pub tags: Vec<String>,"));
    assert!(code.contains(
        "    pub props: ::webrpc_core::types::Map<String, ::webrpc_core::types::Value>,"
    ));
    assert!(code.contains("    pub note: Option<String>,"));
}

#[test]
fn a_required_struct_field_with_omitempty_is_an_option_as_gos_pointer() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Meta\n  - name: string\nstruct Item\n  - meta: Meta\n    + go.tag.json = meta,omitempty\n  - other: Meta\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    assert!(code.contains(
        "    #[serde(default, skip_serializing_if = \"Option::is_none\")]\n    pub meta: Option<Meta>,"
    ));
    assert!(code.contains("    pub other: Meta,"));
}

#[test]
fn fields_with_the_same_rust_name_are_refused() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Item\n  - fooBar: uint64\n  - foo_bar: string\n",
        "s.ridl",
    )
    .unwrap();
    assert_eq!(
        generate(&schema, &Options::new()).unwrap_err().to_string(),
        "two generated items are named 'foo_bar': struct Item.fooBar and struct Item.foo_bar"
    );
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nservice S\n  - M(pageSize: uint32, page_size: uint32)\n",
        "s.ridl",
    )
    .unwrap();
    assert!(matches!(
        generate(&schema, &Options::new()),
        Err(GenerateError::NameClash { .. })
    ));
}

#[test]
fn type_names_that_would_shadow_the_prelude_are_refused() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Box\n  - id: uint64\n",
        "s.ridl",
    )
    .unwrap();
    assert_eq!(
        generate(&schema, &Options::new()).unwrap_err().to_string(),
        "two generated items are named 'Box': the Rust prelude, which the generated code uses and struct Box"
    );
}

#[test]
fn names_rust_cannot_use_are_refused() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nversion = v1\nstruct Item\n  - self: uint64\n",
        "s.ridl",
    )
    .unwrap();
    let err = generate(&schema, &Options::new()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "struct Item.self 'self' cannot be a Rust identifier"
    );
}

#[test]
fn a_schema_without_version_uses_webrpc_gens_hash_version() {
    let schema = parse_str(
        "webrpc = v1\nname = s\nstruct Item\n  - id: uint64\n",
        "s.ridl",
    )
    .unwrap();
    let code = generate(&schema, &Options::new()).unwrap();
    let expected = format!(
        "pub const SCHEMA_VERSION: &str = \"v0.0.0-{}\";",
        schema.schema_hash()
    );
    assert!(code.contains(&expected), "{code}");
}

#[test]
fn a_json_schema_generates_what_its_ridl_generates() {
    let ridl = shop();
    let json = Schema::from_json(&ridl.to_json()).unwrap();
    assert_eq!(
        generate(&json, &Options::new()).unwrap(),
        generate(&ridl, &Options::new()).unwrap()
    );
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("webrpc-build-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn builder_writes_the_file_named_after_the_schema() {
    let dir = temp_dir("builder");
    std::fs::write(
        dir.join("common.ridl"),
        "webrpc = v1\nname = common\nversion = v1\nstruct Item\n  - id: uint64\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("api.ridl"),
        "webrpc = v1\nname = api\nversion = v1.0.0\nimport ./common.ridl\nservice Catalog\n  - GetItem(id: uint64) => (item: Item)\n",
    )
    .unwrap();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let written = Builder::new()
        .out_dir(&out)
        .emit_rerun_if_changed(false)
        .client_only()
        .compile(dir.join("api.ridl"))
        .unwrap();
    assert_eq!(written, out.join("api.rs"));
    let code = std::fs::read_to_string(&written).unwrap();
    assert!(code.starts_with("// Code generated by webrpc-build v"));
    assert!(code.contains("from api.ridl: schema `api` v1.0.0"));
    // The imported struct is part of the schema.
    assert!(code.contains("pub struct Item {"));
    assert!(!code.contains("pub fn mount_"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn builder_reports_schema_errors_and_a_missing_out_dir() {
    let dir = temp_dir("errors");
    std::fs::write(dir.join("bad.ridl"), "webrpc = v1\nname = bad\nstruct\n").unwrap();
    let err = Builder::new()
        .out_dir(&dir)
        .emit_rerun_if_changed(false)
        .compile(dir.join("bad.ridl"))
        .unwrap_err();
    assert!(err.to_string().contains("bad.ridl:3:"), "{err}");
    let err = Builder::new()
        .out_dir(&dir)
        .emit_rerun_if_changed(false)
        .compile(dir.join("missing.ridl"))
        .unwrap_err();
    assert!(err.to_string().contains("missing.ridl"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
