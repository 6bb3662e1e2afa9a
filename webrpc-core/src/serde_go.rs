//! Serde helpers for Go-compatible JSON, used by the code `webrpc-build` generates (and
//! usable by hand-written types).
//!
//! Go's `encoding/json` decodes a missing field or a `null` as the field's zero value, and a
//! Go server sends `null` for an empty (nil) list or map. Serde, by default, rejects both for
//! a non-`Option` field. With these helpers a field behaves as in Go:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use webrpc_core::serde_go::{is_zero, null_as_default};
//!
//! #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
//! struct Page {
//!     // Missing or `null`: an empty list.
//!     #[serde(default, deserialize_with = "null_as_default")]
//!     items: Vec<String>,
//!     // `omitempty`: left out when 0.
//!     #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "is_zero")]
//!     total: u32,
//! }
//!
//! let page: Page = serde_json::from_str(r#"{"items":null}"#).unwrap();
//! assert_eq!(page, Page::default());
//! assert_eq!(serde_json::to_string(&page).unwrap(), r#"{"items":[]}"#);
//! ```

use serde::{Deserialize, Deserializer};

/// Whether a value is its type's zero value ([`Default`]), for `skip_serializing_if`: what
/// Go's `omitempty` leaves out for numbers, booleans and strings.
pub fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Decodes `null` as the type's default (for `deserialize_with`, together with
/// `#[serde(default)]` for a missing field). Go servers send `null` for empty lists and maps
/// (a nil slice or map) and Go decoders accept `null` for any field, leaving its zero value.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
