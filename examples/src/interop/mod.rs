//! webrpc's interoperability `TestApi` (work in progress).
