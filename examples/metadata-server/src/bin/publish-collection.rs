//! Creates a collection and publishes it, with the typed `Collections` client.
//!
//! ```text
//! cargo run -p metadata-server --bin publish-collection -- --jwt "$METADATA_JWT" [--url http://127.0.0.1:4242]
//! ```
//!
//! Works against the local `metadata-server` (which prints a JWT at startup) or any server
//! speaking Sequence's Metadata API, such as `https://metadata.sequence.app` with a secret
//! JWT from Sequence Builder. Prints the published collection as JSON, then where its
//! metadata is served.

use clap::Parser;
use sequence_metadata::{
    Collection, CollectionMetadata, Collections, CollectionsClient, CreateCollectionRequest,
    PublishCollectionRequest,
};
use webrpc_client::CallOptions;

/// Creates a collection and publishes it.
#[derive(Debug, Parser)]
#[command(name = "publish-collection", version, about)]
struct Args {
    /// Base URL of the Metadata server.
    #[arg(long, default_value = "http://127.0.0.1:4242", env = "METADATA_URL")]
    url: String,
    /// Secret JWT (`Authorization: Bearer`); the local server prints one at startup.
    #[arg(long, env = "METADATA_JWT", hide_env_values = true)]
    jwt: String,
    /// Name of the new collection.
    #[arg(long, default_value = "My collection")]
    name: String,
    /// Description of the new collection.
    #[arg(long, default_value = "Published with webrpc-rs")]
    description: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let collections = CollectionsClient::connect(&args.url, &args.jwt, None)?;

    let created = collections
        .create_collection(
            CallOptions::new(),
            CreateCollectionRequest {
                project_id: None, // the JWT's project
                collection: Collection {
                    metadata: Some(CollectionMetadata {
                        name: args.name,
                        description: args.description,
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            },
        )
        .await?
        .collection;

    let published = collections
        .publish_collection(
            CallOptions::new(),
            PublishCollectionRequest {
                project_id: None,
                collection_id: created.id,
                recursive: Some(true),
            },
        )
        .await?
        .collection;

    println!("{}", serde_json::to_string_pretty(&published)?);
    if let Some(uris) = &published.base_uris {
        println!("contract metadata: {}", uris.contract_metadata_uri);
        println!("token metadata:    {}{{tokenId}}", uris.token_metadata_uri);
    }
    Ok(())
}
