//! From a `.ridl` to a running service: the PetStore API of `schema/petstore.ridl`, generated
//! by `build.rs`, implemented here, served, called through its generated client, then mounted
//! in an axum application next to an ordinary route.
//!
//! ```text
//! cargo run -p petstore
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use petstore::{
    mount_pet_store, AddPetRequest, AddPetResponse, AdoptRequest, AdoptResponse, GetPetRequest,
    GetPetResponse, ListPetsRequest, ListPetsResponse, Owner, Pet, PetStatus, PetStore,
    PetStoreClient, PetstoreError, PET_STORE_SERVICE,
};
use webrpc_client::Client;
use webrpc_core::{RequestContext, Timestamp, WebrpcError};
use webrpc_server::{serve, Router};

/// The store, in memory.
#[derive(Default)]
struct Store {
    pets: Mutex<BTreeMap<u64, Pet>>,
}

impl PetStore for Store {
    type Ctx = RequestContext;

    async fn add_pet(
        &self,
        _: RequestContext,
        req: AddPetRequest,
    ) -> Result<AddPetResponse, WebrpcError> {
        let mut pets = self.pets.lock().unwrap_or_else(|e| e.into_inner());
        let id = pets.keys().next_back().map_or(1, |last| last + 1);
        let pet = Pet { id, ..req.pet };
        pets.insert(id, pet.clone());
        Ok(AddPetResponse { pet })
    }

    async fn get_pet(
        &self,
        _: RequestContext,
        req: GetPetRequest,
    ) -> Result<GetPetResponse, WebrpcError> {
        let pets = self.pets.lock().unwrap_or_else(|e| e.into_inner());
        match pets.get(&req.id) {
            Some(pet) => Ok(GetPetResponse { pet: pet.clone() }),
            None => Err(PetstoreError::PetNotFound.with_cause(format!("pet {}", req.id))),
        }
    }

    async fn list_pets(
        &self,
        _: RequestContext,
        req: ListPetsRequest,
    ) -> Result<ListPetsResponse, WebrpcError> {
        let pets = self.pets.lock().unwrap_or_else(|e| e.into_inner());
        let pets = pets
            .values()
            .filter(|pet| req.status.is_none_or(|status| pet.status == status))
            .cloned()
            .collect();
        Ok(ListPetsResponse { pets })
    }

    async fn adopt(
        &self,
        _: RequestContext,
        req: AdoptRequest,
    ) -> Result<AdoptResponse, WebrpcError> {
        let mut pets = self.pets.lock().unwrap_or_else(|e| e.into_inner());
        let Some(pet) = pets.get_mut(&req.id) else {
            return Err(PetstoreError::PetNotFound.with_cause(format!("pet {}", req.id)));
        };
        if pet.status == PetStatus::Adopted {
            return Err(PetstoreError::AlreadyAdopted.err());
        }
        pet.status = PetStatus::Adopted;
        pet.labels.insert("owner".into(), req.owner.name);
        Ok(AdoptResponse { pet: pet.clone() })
    }
}

/// Adds, reads, lists and adopts through any implementation of the trait: here the
/// generated client over HTTP.
async fn tour(store: &impl PetStore) -> Result<(), WebrpcError> {
    let rex = Pet {
        name: "Rex".into(),
        previous_owner: Some(Owner {
            name: "Ana".into(),
            email: None,
        }),
        arrived_at: Timestamp::now(),
        labels: [("color".to_owned(), "brown".to_owned())].into(),
        ..Pet::default()
    };
    let added = store
        .add_pet(Default::default(), AddPetRequest { pet: rex })
        .await?
        .pet;
    println!("added {} as pet {}", added.name, added.id);

    let got = store
        .get_pet(Default::default(), GetPetRequest { id: added.id })
        .await?;
    println!("{} is {}", got.pet.name, got.pet.status);

    let adopted = store
        .adopt(
            Default::default(),
            AdoptRequest {
                id: added.id,
                owner: Owner {
                    name: "Bo".into(),
                    email: Some("bo@example.com".into()),
                },
            },
        )
        .await?;
    println!(
        "{} is {} by {}",
        adopted.pet.name, adopted.pet.status, adopted.pet.labels["owner"]
    );

    let available = store
        .list_pets(
            Default::default(),
            ListPetsRequest {
                status: Some(PetStatus::Available),
            },
        )
        .await?;
    println!("{} pets available", available.pets.len());

    // Errors of the schema's catalogue come back typed.
    let err = store
        .get_pet(Default::default(), GetPetRequest { id: 999 })
        .await
        .unwrap_err();
    assert_eq!(
        err.kind::<PetstoreError>(),
        Some(PetstoreError::PetNotFound)
    );
    println!("GetPet(999): {err}");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(Store::default());
    println!(
        "{} methods: {:?}",
        PET_STORE_SERVICE.name,
        PET_STORE_SERVICE.method_names().collect::<Vec<_>>()
    );

    // 1. The webrpc router alone: POST /rpc/PetStore/{Method}.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let router = mount_pet_store(Arc::clone(&store), Router::new());
    let server = serve(listener, router).spawn();
    tour(&PetStoreClient::new(Client::new(&url)?)).await?;
    server.shutdown().await?;

    // 2. The same service inside an axum application. `nest_service` strips the `/rpc`
    // prefix, so the router below it has the basepath `/`.
    let app = axum::Router::new()
        .route("/health", axum::routing::get(|| async { "ok" }))
        .nest_service("/rpc", mount_pet_store(store, Router::with_basepath("/")));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = serve(listener, app).spawn();
    let client = PetStoreClient::new(Client::new(&url)?);
    let pets = client
        .list_pets(Default::default(), ListPetsRequest { status: None })
        .await?;
    println!("through axum: {} pets", pets.pets.len());
    server.shutdown().await?;
    Ok(())
}
