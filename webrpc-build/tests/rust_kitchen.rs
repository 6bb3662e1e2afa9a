//! The Rust generated for `tests/rust/kitchen.ridl` (every core type, nested containers,
//! enum and integer map keys, recursion, keywords as names, an unversioned schema with a
//! basepath), through a re-exported runtime (`--crate-path crate::rt`), checked in as
//! `tests/rust/kitchen.rs`.

mod common;

/// The runtime under another name, as a crate re-exporting webrpc-core would have it.
pub use webrpc_core as rt;

/// The generated code.
pub mod kitchen {
    include!("rust/kitchen.rs");
}

use std::sync::Arc;

use kitchen::*;
use serde_json::json;
use webrpc_build::rust::Options;
use webrpc_core::{Bytes, RequestContext, WebrpcError};

#[test]
fn checked_in_code_is_what_the_generator_makes() {
    let fresh = common::regenerate("kitchen.ridl", Options::new().crate_path("crate::rt"));
    common::assert_no_drift("kitchen.rs", &fresh);
}

#[test]
fn generated_code_is_rustfmt_clean() {
    common::assert_rustfmt_clean("kitchen.rs");
}

fn scalars() -> Scalars {
    Scalars {
        b: true,
        u: u64::MAX,
        u8: 255,
        u16: 65535,
        u32: 7,
        u64: 1 << 60,
        i: i64::MIN,
        i8: -8,
        i16: -16,
        i32: -32,
        i64: -64,
        f32: 1.5,
        f64: 0.1,
        s: "é\"\n".into(),
        by: 9,
        big: "-123456789012345678901234567890".parse().unwrap(),
        at: "2024-10-23T07:02:00.905283+02:00".parse().unwrap(),
        any: json!({"k": [1, null]}),
        nothing: (),
        raw: Bytes::from(b"hi".to_vec()),
    }
}

#[test]
fn every_core_type_has_gos_json() {
    let value = serde_json::to_value(scalars()).unwrap();
    assert_eq!(
        value,
        json!({
            "b": true,
            "u": u64::MAX,
            "u8": 255,
            "u16": 65535,
            "u32": 7,
            "u64": 1u64 << 60,
            "i": i64::MIN,
            "i8": -8,
            "i16": -16,
            "i32": -32,
            "i64": -64,
            "f32": 1.5,
            "f64": 0.1,
            "s": "é\"\n",
            "by": 9,
            "big": "-123456789012345678901234567890",
            "at": "2024-10-23T07:02:00.905283+02:00",
            "any": {"k": [1, null]},
            "nothing": null,
            "raw": "aGk=",
        })
    );
    let back: Scalars = serde_json::from_value(value).unwrap();
    assert_eq!(back, scalars());
    // Out-of-range numbers are errors, not wrapped values.
    assert!(serde_json::from_value::<Scalars>(json!({"u8": 256})).is_err());
    assert!(serde_json::from_value::<Scalars>(json!({"i8": -129})).is_err());
}

#[test]
fn containers_nest_and_key_maps_as_go_does() {
    let containers = Containers {
        matrix: vec![vec![1.0, 2.5], vec![]],
        by_level: [(Level::High, vec!["a".into()]), (Level::Low, vec![])]
            .into_iter()
            .collect(),
        by_id: [(-3, Scalars::default())].into_iter().collect(),
        nested: [(
            "outer".to_owned(),
            json!({"inner": true}).as_object().unwrap().clone(),
        )]
        .into_iter()
        .collect(),
        blobs: [("b".to_owned(), Bytes::from(&b"\x00\xff"[..]))]
            .into_iter()
            .collect(),
        counts_by_category_name: [("c".to_owned(), [("n".to_owned(), 1)].into())].into(),
        tree: None,
        level: Level::Low,
        count: 0,
    };
    let value = serde_json::to_value(&containers).unwrap();
    assert_eq!(value["byLevel"], json!({"HIGH": ["a"], "LOW": []}));
    assert_eq!(value["byId"]["-3"]["at"], json!("0001-01-01T00:00:00Z"));
    assert_eq!(value["nested"], json!({"outer": {"inner": true}}));
    assert_eq!(value["blobs"], json!({"b": "AP8="}));
    assert_eq!(value["countsByCategoryName"], json!({"c": {"n": 1}}));
    // omitempty: a zero count is left out; Level has no zero value, so it always stays.
    assert!(value.get("count").is_none());
    assert_eq!(value["level"], json!("LOW"));
    let back: Containers = serde_json::from_value(value).unwrap();
    assert_eq!(back, containers);
}

#[test]
fn enums_without_a_zero_value_default_to_their_first() {
    assert_eq!(Level::default(), Level::Low);
    assert_eq!(Level::Low.value(), -1);
    assert_eq!(Level::from_value(2), Some(Level::High));
    assert_eq!(
        serde_json::from_str::<Level>(r#""EXTREME""#).unwrap(),
        Level::Low
    );
}

#[test]
fn recursive_trees_round_trip() {
    let tree = Node {
        value: 1,
        children: vec![Node {
            value: 2,
            ..Node::default()
        }],
        next: Some(Box::new(Node {
            value: 3,
            ..Node::default()
        })),
    };
    let text = serde_json::to_string(&tree).unwrap();
    assert_eq!(
        text,
        // An unset optional field is `null`, as Go writes a nil pointer.
        r#"{"value":1,"children":[{"value":2,"children":[],"next":null}],"next":{"value":3,"children":[],"next":null}}"#
    );
    assert_eq!(serde_json::from_str::<Node>(&text).unwrap(), tree);
}

#[test]
fn unversioned_schema_with_a_basepath() {
    assert_eq!(SCHEMA_NAME, "kitchen-sink");
    assert!(SCHEMA_VERSION.starts_with("v0.0.0-"));
    assert_eq!(BASEPATH, "/api/");
    assert_eq!(
        KITCHEN_SERVICE.method("Type").unwrap().path(BASEPATH),
        "/api/Kitchen/Type"
    );
}

struct Echoer;

impl Kitchen for Echoer {
    type Ctx = RequestContext;

    async fn echo(
        &self,
        _ctx: RequestContext,
        req: EchoRequest,
    ) -> Result<EchoResponse, WebrpcError> {
        Ok(EchoResponse {
            scalars: req.scalars,
            containers: req.containers.unwrap_or_default(),
        })
    }

    async fn empty(&self, _ctx: RequestContext, _req: Nothing) -> Result<Nothing, WebrpcError> {
        Ok(Nothing {})
    }

    async fn get_every_thing_with_its_quantities_and_prices(
        &self,
        _ctx: RequestContext,
        req: GetEveryThingWithItsQuantitiesAndPricesRequest,
    ) -> Result<GetEveryThingWithItsQuantitiesAndPricesResponse, WebrpcError> {
        Ok(GetEveryThingWithItsQuantitiesAndPricesResponse {
            count: u64::from(req.fresh.unwrap_or(false)),
        })
    }

    async fn r#type(
        &self,
        _ctx: RequestContext,
        req: TypeRequest,
    ) -> Result<TypeResponse, WebrpcError> {
        Ok(TypeResponse {
            r#loop: vec![req.r#type, format!("{:?}", req.r#match)],
        })
    }
}

fn client() -> KitchenClient<webrpc_client::Client<webrpc_server::Router>> {
    let router = mount_kitchen(
        Arc::new(Echoer),
        webrpc_server::Router::with_basepath(BASEPATH),
    );
    let client = webrpc_client::Client::builder("http://localhost")
        .basepath(BASEPATH)
        .build_with(router)
        .unwrap();
    KitchenClient::new(client)
}

#[tokio::test]
async fn every_type_survives_a_call() {
    let kitchen = client();
    let out = kitchen
        .echo(
            Default::default(),
            EchoRequest {
                scalars: scalars(),
                containers: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(out.scalars, scalars());
    assert_eq!(out.containers, Containers::default());
    assert_eq!(
        kitchen.empty(Default::default(), Nothing {}).await.unwrap(),
        Nothing {}
    );
}

#[tokio::test]
async fn keyword_names_keep_their_json_names() {
    let req = TypeRequest {
        r#type: "t".into(),
        r#match: Some(true),
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        json!({"type": "t", "match": true})
    );
    let out = client().r#type(Default::default(), req).await.unwrap();
    assert_eq!(out.r#loop, ["t", "Some(true)"]);
}

#[tokio::test]
async fn long_method_names_work_too() {
    let out = client()
        .get_every_thing_with_its_quantities_and_prices(
            Default::default(),
            GetEveryThingWithItsQuantitiesAndPricesRequest { fresh: Some(true) },
        )
        .await
        .unwrap();
    assert_eq!(out.count, 1);
}
