//! The `Webrpc` header: `webrpc@<version>;<generator>@<version>;<schema>@<version>`.
//!
//! Clients send it with every call and servers set it on every response. The reference
//! implementations only require three `;`-separated parts, each split on `@`, and enforce no
//! version match; this module does the same.

use std::fmt;

/// The header's *name*, `Webrpc` (lowercase, as `http` stores header names).
///
/// Not to be confused with [`Method::WEBRPC_HEADER`](crate::Method::WEBRPC_HEADER) and a
/// generated crate's `WEBRPC_HEADER`, which are header *values*.
pub const WEBRPC_HEADER_NAME: &str = "webrpc";

/// The header's name: the former name of [`WEBRPC_HEADER_NAME`].
#[deprecated(
    since = "0.1.1",
    note = "a header name, renamed WEBRPC_HEADER_NAME (`Method::WEBRPC_HEADER` is a value)"
)]
pub const WEBRPC_HEADER: &str = WEBRPC_HEADER_NAME;

/// The webrpc protocol version this implementation speaks, as it appears in the header.
pub const WEBRPC_VERSION: &str = "v0.31.0";

/// The generator name and version this implementation announces.
pub const GENERATOR: (&str, &str) = ("webrpc-rs", concat!("v", env!("CARGO_PKG_VERSION")));

/// A parsed (or to-be-sent) `Webrpc` header value.
///
/// ```
/// use webrpc_core::WebrpcHeader;
///
/// let h = WebrpcHeader::parse("webrpc@v0.31.0;gen-golang@v0.23.1;sequence-metadata@v0.4.0").unwrap();
/// assert_eq!(h.schema_name, "sequence-metadata");
/// assert_eq!(h.schema_version, "v0.4.0");
/// assert_eq!(h.to_string(), "webrpc@v0.31.0;gen-golang@v0.23.1;sequence-metadata@v0.4.0");
///
/// let ours = WebrpcHeader::for_schema("sequence-metadata", "v0.4.0");
/// assert!(ours.to_string().starts_with("webrpc@v0.31.0;webrpc-rs@v"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebrpcHeader {
    /// The webrpc version, such as `v0.31.0`.
    pub webrpc_version: String,
    /// The generator's name, such as `gen-golang`.
    pub gen_name: String,
    /// The generator's version.
    pub gen_version: String,
    /// The schema's name, such as `sequence-metadata`.
    pub schema_name: String,
    /// The schema's version, such as `v0.4.0`.
    pub schema_version: String,
}

/// Why a `Webrpc` header value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderParseError {
    /// Fewer than three `;`-separated parts.
    #[error("webrpc header has {0} part(s), expected at least 3")]
    TooFewParts(usize),
    /// A part without `@`.
    #[error("webrpc header part {0:?} is not name@version")]
    BadPart(String),
    /// The first part does not name `webrpc`.
    #[error("webrpc header must start with webrpc@, found {0:?}")]
    NotWebrpc(String),
}

impl WebrpcHeader {
    /// The header this implementation sends for a schema.
    pub fn for_schema(schema_name: &str, schema_version: &str) -> Self {
        WebrpcHeader {
            webrpc_version: WEBRPC_VERSION.to_owned(),
            gen_name: GENERATOR.0.to_owned(),
            gen_version: GENERATOR.1.to_owned(),
            schema_name: schema_name.to_owned(),
            schema_version: schema_version.to_owned(),
        }
    }

    /// Parses a header value. Extra parts after the third are ignored, as by the reference.
    pub fn parse(value: &str) -> Result<Self, HeaderParseError> {
        let parts: Vec<&str> = value.split(';').map(str::trim).collect();
        if parts.len() < 3 {
            return Err(HeaderParseError::TooFewParts(parts.len()));
        }
        let split = |part: &str| -> Result<(String, String), HeaderParseError> {
            match part.split_once('@') {
                Some((name, version)) if !name.is_empty() && !version.is_empty() => {
                    Ok((name.to_owned(), version.to_owned()))
                }
                _ => Err(HeaderParseError::BadPart(part.to_owned())),
            }
        };
        let (webrpc, webrpc_version) = split(parts[0])?;
        if webrpc != "webrpc" {
            return Err(HeaderParseError::NotWebrpc(parts[0].to_owned()));
        }
        let (gen_name, gen_version) = split(parts[1])?;
        let (schema_name, schema_version) = split(parts[2])?;
        Ok(WebrpcHeader {
            webrpc_version,
            gen_name,
            gen_version,
            schema_name,
            schema_version,
        })
    }

    /// The value as an [`http::HeaderValue`](https://docs.rs/http/1/http/header/struct.HeaderValue.html). Fails only if a part holds bytes that are not
    /// allowed in a header.
    pub fn to_header_value(&self) -> Result<http::HeaderValue, http::header::InvalidHeaderValue> {
        http::HeaderValue::try_from(self.to_string())
    }
}

impl fmt::Display for WebrpcHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "webrpc@{};{}@{};{}@{}",
            self.webrpc_version,
            self.gen_name,
            self.gen_version,
            self.schema_name,
            self.schema_version
        )
    }
}

impl std::str::FromStr for WebrpcHeader {
    type Err = HeaderParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
