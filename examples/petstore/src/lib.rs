//! The PetStore API, generated at build time from `schema/petstore.ridl` by `build.rs`:
//! [`Pet`], [`Owner`], [`PetStatus`], the [`PetstoreError`] catalogue, the [`PetStore`]
//! trait, [`PetStoreClient`], [`mount_pet_store`] and the [`PET_STORE_SERVICE`] method table.
//!
//! The `petstore` program (`src/main.rs`, `cargo run -p petstore`) implements, serves and
//! calls it, then mounts it in an axum application.

webrpc_core::include_schema!("petstore");
