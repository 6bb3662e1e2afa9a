//! Constructors for network clients of the three services, [`CollectionsClient`],
//! [`MetadataClient`] and [`AdminClient`] (feature `client`).

use webrpc_client::{Client, ClientBuilder, ConfigError};

use crate::{AdminClient, CollectionsClient, MetadataClient};

/// Sequence's hosted Metadata API, `https://metadata.sequence.app`.
pub const DEFAULT_BASE_URL: &str = "https://metadata.sequence.app";

/// A client builder for a Metadata server at `base_url`, with the credentials set: the
/// secret JWT as `Authorization: Bearer <jwt>` (not sent when `jwt` is empty, for a local
/// server without auth) and, if given, the project access key as `X-Access-Key`. Both values
/// are marked sensitive and never printed.
///
/// Set other options (timeout, response limit, transport) on the builder, then wrap what
/// it builds in [`CollectionsClient::new`] (or [`MetadataClient::new`], [`AdminClient::new`]); [`ClientBuilder::build_with`] puts any tower
/// service (a layered stack, a mock, an in-process router) under the client.
///
/// ```
/// use std::time::Duration;
/// use sequence_metadata::{client_builder, CollectionsClient, DEFAULT_BASE_URL};
///
/// let client = client_builder(DEFAULT_BASE_URL, "eyJhbGciOi…", Some("AQAAAAAAAHj…"))
///     .timeout(Some(Duration::from_secs(10)))
///     .build()
///     .unwrap();
/// let collections = CollectionsClient::new(client);
/// # let _ = collections;
/// ```
pub fn client_builder(base_url: &str, jwt: &str, access_key: Option<&str>) -> ClientBuilder {
    let mut builder = Client::builder(base_url);
    if !jwt.is_empty() {
        builder = builder.bearer_token(jwt);
    }
    if let Some(key) = access_key {
        builder = builder.access_key(key);
    }
    builder
}

/// `hosted` and `connect` for each service's client.
macro_rules! network_constructors {
    ($($client:ident: $service:literal),* $(,)?) => {$(
        impl $client<Client> {
            #[doc = concat!(
                "A client of the `", $service, "` service of Sequence's hosted API ",
                "([`DEFAULT_BASE_URL`]) authenticated with a secret JWT (a Sequence service ",
                "token from Sequence Builder), over the default pooled HTTPS transport ",
                "(feature `rustls`, on by default).\n\n```no_run\n",
                "let client = sequence_metadata::", stringify!($client), "::hosted(\"eyJhbGciOi…\")?;\n",
                "# Ok::<(), webrpc_client::ConfigError>(())\n```"
            )]
            pub fn hosted(jwt: &str) -> Result<Self, ConfigError> {
                Self::connect(DEFAULT_BASE_URL, jwt, None)
            }

            #[doc = concat!(
                "A client of the `", $service, "` service at `base_url` (`https://…` or ",
                "`http://host:port`, optionally with a path prefix) with the credentials of ",
                "[`client_builder`] and default options."
            )]
            pub fn connect(
                base_url: &str,
                jwt: &str,
                access_key: Option<&str>,
            ) -> Result<Self, ConfigError> {
                Ok(Self::new(client_builder(base_url, jwt, access_key).build()?))
            }
        }
    )*};
}

network_constructors!(
    CollectionsClient: "Collections",
    MetadataClient: "Metadata",
    AdminClient: "Admin",
);
