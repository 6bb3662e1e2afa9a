//! The Rust generated for `tests/rust/petstore.ridl` (checked in as
//! `tests/rust/petstore.rs`): it compiles with every lint of the workspace, its JSON is
//! Go's, and it serves and calls itself in process through `webrpc-server` and
//! `webrpc-client`.

mod common;

/// The generated code, as a user's crate includes it.
pub mod petstore {
    include!("rust/petstore.rs");
}

use std::sync::{Arc, Mutex};

use petstore::*;
use serde_json::json;
use webrpc_build::rust::Options;
use webrpc_core::{
    BuiltinError, Method, MethodVisitor, RequestContext, StreamMethod, Timestamp, WebrpcError,
};

#[test]
fn checked_in_code_is_what_the_generator_makes() {
    let fresh = common::regenerate("petstore.ridl", Options::new());
    common::assert_no_drift("petstore.rs", &fresh);
}

#[test]
fn generated_code_is_rustfmt_clean() {
    common::assert_rustfmt_clean("petstore.rs");
}

fn sample_pet() -> Pet {
    Pet {
        id: 7,
        name: "Rex".into(),
        species: Species::Dog,
        status: PetStatus::Sold,
        tags: vec!["good".into()],
        owner: None,
        attributes: json!({"color": "brown"}).as_object().unwrap().clone(),
        born_at: "2024-05-01T12:00:00Z".parse().unwrap(),
        weight: 12.5,
        chip_id: "123456789012345678901234567890".parse().unwrap(),
        secret: "never sent".into(),
        nickname: String::new(),
        vaccinated_at: None,
        counts: [(Species::Cat, 2)].into_iter().collect(),
        r#type: "mammal".into(),
    }
}

#[test]
fn struct_json_has_the_schema_names_and_omission_rules() {
    assert_eq!(
        serde_json::to_value(sample_pet()).unwrap(),
        json!({
            "id": 7,
            "name": "Rex",
            "species": "DOG",
            "status": "SOLD",
            "tags": ["good"],
            "attributes": {"color": "brown"},
            "bornAt": "2024-05-01T12:00:00Z",
            "weight": 12.5,
            "chip_id": "123456789012345678901234567890",
            // An unset optional field is null, as Go writes a nil pointer...
            "owner": null,
            // ...unless its `go.tag.json` says omitempty (`vaccinatedAt`).
            "counts": {"CAT": 2},
            "type": "mammal",
        })
    );
    // omitempty leaves out the zero value of an enum and an empty string; `json = -` is
    // never written.
    let pet = Pet {
        status: PetStatus::Available,
        ..sample_pet()
    };
    let value = serde_json::to_value(pet).unwrap();
    assert!(value.get("status").is_none());
    assert!(value.get("nickname").is_none());
    assert!(value.get("secret").is_none());
    assert!(value.get("vaccinatedAt").is_none());
}

#[test]
fn struct_decoding_is_go_lenient() {
    // Missing and null fields take their zero values; unknown fields are ignored.
    for text in [
        r#"{}"#,
        r#"{"id":null,"name":null,"species":null,"attributes":null,"bornAt":null,"counts":null,"tags":null,"newField":1}"#,
    ] {
        let pet: Pet = serde_json::from_str(text).unwrap();
        assert_eq!(pet, Pet::default(), "{text}");
    }
    assert_eq!(Pet::default().born_at, Timestamp::ZERO);
    // `json = -` is not read either.
    let pet: Pet = serde_json::from_str(r#"{"secret":"x"}"#).unwrap();
    assert_eq!(pet.secret, "");
    // A wrong type is still an error.
    assert!(serde_json::from_str::<Pet>(r#"{"id":"seven"}"#).is_err());
    // Round trip.
    let pet = sample_pet();
    let back: Pet = serde_json::from_str(&serde_json::to_string(&pet).unwrap()).unwrap();
    assert_eq!(
        back,
        Pet {
            secret: String::new(),
            ..pet
        }
    );
}

#[test]
fn enums_are_sent_by_name_and_unknown_names_become_the_zero_value() {
    assert_eq!(
        serde_json::to_string(&PetStatus::Pending).unwrap(),
        r#""PENDING""#
    );
    assert_eq!(serde_json::to_string(&Species::Cat).unwrap(), r#""CAT""#);
    let from_newer_peer: PetStatus = serde_json::from_str(r#""ADOPTED""#).unwrap();
    assert_eq!(from_newer_peer, PetStatus::Available);
    assert_eq!(
        serde_json::from_str::<Species>(r#""BIRD""#).unwrap(),
        Species::Dog
    );
    // Numbers are not names.
    assert!(serde_json::from_str::<PetStatus>("1").is_err());
    assert_eq!(PetStatus::Sold.value(), 2);
    assert_eq!(PetStatus::from_value(1), Some(PetStatus::Pending));
    assert_eq!(PetStatus::from_name("SOLD"), Some(PetStatus::Sold));
    assert_eq!(PetStatus::ALL.len(), 3);
    assert_eq!(Species::Cat.to_string(), "CAT");
    // As map keys, by name too.
    let counts: std::collections::BTreeMap<Species, u32> =
        serde_json::from_str(r#"{"DOG":1,"CAT":2}"#).unwrap();
    assert_eq!(counts[&Species::Cat], 2);
}

#[test]
fn enum_keyed_maps_are_written_sorted_by_name_as_go_writes_them() {
    // Schema order is DOG, CAT and AVAILABLE, PENDING, SOLD; Go's `encoding/json` sorts map
    // keys by their text, and so does a `BTreeMap` of generated enums.
    let counts = std::collections::BTreeMap::from([(Species::Dog, 1), (Species::Cat, 2)]);
    assert_eq!(
        serde_json::to_string(&counts).unwrap(),
        r#"{"CAT":2,"DOG":1}"#
    );
    let by_status = std::collections::BTreeMap::from([
        (PetStatus::Sold, 3),
        (PetStatus::Available, 1),
        (PetStatus::Pending, 2),
    ]);
    assert_eq!(
        serde_json::to_string(&by_status).unwrap(),
        r#"{"AVAILABLE":1,"PENDING":2,"SOLD":3}"#
    );
    assert!(PetStatus::Sold > PetStatus::Pending && Species::Cat < Species::Dog);
}

#[test]
fn recursive_structs_are_boxed() {
    let owner = Owner {
        name: "Ana".into(),
        best: Some(Box::new(sample_pet())),
        ..Owner::default()
    };
    let pet = Pet {
        owner: Some(Box::new(owner)),
        ..Pet::default()
    };
    let text = serde_json::to_string(&pet).unwrap();
    let back: Pet = serde_json::from_str(&text).unwrap();
    assert_eq!(back.owner.unwrap().best.unwrap().name, "Rex");
}

#[test]
fn requests_enforce_required_arguments_and_omit_unset_optional_ones() {
    assert_eq!(
        serde_json::to_value(ListPetsRequest::default()).unwrap(),
        json!({})
    );
    assert_eq!(
        serde_json::to_value(ListPetsRequest {
            status: Some(PetStatus::Pending),
            page_size: Some(10),
        })
        .unwrap(),
        json!({"status": "PENDING", "pageSize": 10})
    );
    let missing = serde_json::from_str::<GetPetRequest>("{}").unwrap_err();
    assert!(
        missing.to_string().contains("missing field `id`"),
        "{missing}"
    );
    // Responses tolerate what Go servers send: null lists, missing results.
    let out: ListPetsResponse = serde_json::from_str(r#"{"pets":null}"#).unwrap();
    assert_eq!(out, ListPetsResponse::default());
}

#[test]
fn errors_are_the_schema_catalogue() {
    let err = PetstoreError::PetNotFound.with_cause("pet 9");
    assert_eq!(
        (err.name(), err.code(), err.msg(), err.status()),
        ("PetNotFound", 1000, "pet not found", 404)
    );
    assert_eq!(PetstoreError::Unauthorized.msg(), r#"you "cannot""#);
}

#[test]
fn method_table_lists_every_method_in_schema_order() {
    assert_eq!(PET_STORE_SERVICE.name, "PetStore");
    assert_eq!(
        PET_STORE_SERVICE.method_names().collect::<Vec<_>>(),
        ["GetPet", "ListPets", "Ping", "AddPet"]
    );
    assert_eq!(PET_STORE_SERVICE.schema, "petstore");
    assert_eq!(PET_STORE_SERVICE.schema_version, "v1.2.0");
    assert_eq!(
        PET_STORE_SERVICE.webrpc_header,
        "webrpc@v0.31.0;webrpc-rs@v0.1.0;petstore@v1.2.0"
    );
    assert_eq!(<GetPet as Method>::WEBRPC_HEADER, WEBRPC_HEADER);
    assert_eq!(
        PET_STORE_SERVICE.method("AddPet").unwrap().path(BASEPATH),
        "/rpc/PetStore/AddPet"
    );

    struct Names(Vec<&'static str>);
    impl MethodVisitor for Names {
        fn visit<M: Method>(&mut self) {
            self.0.push(M::NAME);
        }
        fn visit_stream<M: StreamMethod>(&mut self) {
            self.0.push(M::NAME);
        }
    }
    let mut names = Names(Vec::new());
    for_each_pet_store_method(&mut names);
    assert_eq!(
        names.0,
        PET_STORE_SERVICE.method_names().collect::<Vec<_>>()
    );
}

/// A pet store in memory.
#[derive(Default)]
struct Shop {
    pets: Mutex<Vec<Pet>>,
}

impl PetStore for Shop {
    type Ctx = RequestContext;

    async fn get_pet(
        &self,
        _ctx: RequestContext,
        req: GetPetRequest,
    ) -> Result<GetPetResponse, WebrpcError> {
        let pets = self.pets.lock().unwrap();
        let pet = pets.iter().find(|p| p.id == req.id).cloned();
        match pet {
            Some(pet) => Ok(GetPetResponse { pet }),
            None => Err(PetstoreError::PetNotFound.with_cause(format!("pet {}", req.id))),
        }
    }

    async fn list_pets(
        &self,
        _ctx: RequestContext,
        req: ListPetsRequest,
    ) -> Result<ListPetsResponse, WebrpcError> {
        let pets = self.pets.lock().unwrap();
        Ok(ListPetsResponse {
            pets: pets
                .iter()
                .filter(|p| req.status.is_none_or(|s| p.status == s))
                .cloned()
                .collect(),
            next: None,
        })
    }

    async fn ping(
        &self,
        _ctx: RequestContext,
        _req: PingRequest,
    ) -> Result<PingResponse, WebrpcError> {
        Ok(PingResponse {})
    }

    async fn add_pet(&self, _ctx: RequestContext, pet: Pet) -> Result<Owner, WebrpcError> {
        let mut pets = self.pets.lock().unwrap();
        pets.push(pet);
        Ok(Owner {
            name: "shop".into(),
            pets: pets.clone(),
            best: None,
        })
    }
}

fn client() -> PetStoreClient<webrpc_client::Client<webrpc_server::Router>> {
    let router = mount_pet_store(Arc::new(Shop::default()), webrpc_server::Router::new());
    let client = webrpc_client::Client::builder("http://localhost")
        .build_with(router)
        .unwrap();
    PetStoreClient::new(client)
}

#[tokio::test]
async fn generated_client_calls_generated_server_in_process() {
    let shop = client();
    let owner = shop
        .add_pet(Default::default(), sample_pet())
        .await
        .unwrap();
    assert_eq!(owner.pets.len(), 1);
    // The secret never travelled.
    assert_eq!(owner.pets[0].secret, "");

    let got = shop
        .get_pet(Default::default(), GetPetRequest { id: 7 })
        .await
        .unwrap();
    assert_eq!(got.pet.chip_id.as_str(), "123456789012345678901234567890");
    assert_eq!(got.pet.counts[&Species::Cat], 2);

    let sold = shop
        .list_pets(
            Default::default(),
            ListPetsRequest {
                status: Some(PetStatus::Sold),
                page_size: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(sold.pets.len(), 1);
    let pending = shop
        .list_pets(
            Default::default(),
            ListPetsRequest {
                status: Some(PetStatus::Pending),
                page_size: None,
            },
        )
        .await
        .unwrap();
    assert!(pending.pets.is_empty());
}

#[tokio::test]
async fn schema_errors_reach_the_client_typed() {
    let err = client()
        .get_pet(Default::default(), GetPetRequest { id: 99 })
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<PetstoreError>(),
        Some(PetstoreError::PetNotFound)
    );
    assert_eq!((err.status(), err.cause()), (404, Some("pet 99")));
}

#[tokio::test]
async fn deprecated_methods_still_work() {
    #[allow(deprecated)]
    let out = client()
        .ping(Default::default(), PingRequest {})
        .await
        .unwrap();
    assert_eq!(out, PingResponse {});
}

#[tokio::test]
async fn a_missing_required_argument_is_a_bad_request() {
    let router = mount_pet_store(Arc::new(Shop::default()), webrpc_server::Router::new());
    let client = webrpc_client::Client::builder("http://localhost")
        .build_with(router)
        .unwrap();
    // `ListPets`' request type sent to `GetPet`: no `id`.
    struct WrongBody;
    impl Method for WrongBody {
        const SERVICE: &'static str = "PetStore";
        const NAME: &'static str = "GetPet";
        const SCHEMA: &'static str = SCHEMA_NAME;
        const SCHEMA_VERSION: &'static str = SCHEMA_VERSION;
        const WEBRPC_HEADER: &'static str = WEBRPC_HEADER;
        type Request = ListPetsRequest;
        type Response = GetPetResponse;
    }
    let err = client
        .call::<WrongBody>(&ListPetsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<BuiltinError>(),
        Some(BuiltinError::WebrpcBadRequest)
    );
    assert!(err.cause().unwrap_or("").contains("id"), "{err}");
}
