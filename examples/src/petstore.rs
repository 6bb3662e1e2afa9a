//! The PetStore API, generated at build time from `schema/petstore.ridl` by `build.rs`:
//! [`Pet`], [`Owner`], [`PetStatus`], the [`PetstoreError`] catalogue, the [`PetStore`]
//! trait, [`PetStoreClient`], [`mount_pet_store`] and the [`PET_STORE_SERVICE`] method table.

webrpc_core::include_schema!("petstore");
