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

use std::fmt;

use serde::{de, Deserialize, Deserializer};

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

/// Decodes an enum sent by name (an integer enum) or by value (a string enum), as Go's
/// generated code sends them. A name `from_name` does not know (from a newer peer) decodes as
/// the enum's [`Default`], its zero value, as Go's generated decoder does, rather than failing
/// the whole message. Anything but a string is an error naming `expecting`.
///
/// Generated enums call it from their `Deserialize` implementation:
///
/// ```
/// #[derive(Debug, Default, PartialEq)]
/// enum Kind { #[default] User, Admin }
///
/// impl<'de> serde::Deserialize<'de> for Kind {
///     fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
///         webrpc_core::serde_go::deserialize_enum(deserializer, "a Kind name", |name| match name {
///             "USER" => Some(Kind::User),
///             "ADMIN" => Some(Kind::Admin),
///             _ => None,
///         })
///     }
/// }
///
/// assert_eq!(serde_json::from_str::<Kind>(r#""ADMIN""#).unwrap(), Kind::Admin);
/// assert_eq!(serde_json::from_str::<Kind>(r#""OWNER""#).unwrap(), Kind::User);
/// assert!(serde_json::from_str::<Kind>("1").is_err());
/// ```
pub fn deserialize_enum<'de, D, E>(
    deserializer: D,
    expecting: &'static str,
    from_name: fn(&str) -> Option<E>,
) -> Result<E, D::Error>
where
    D: Deserializer<'de>,
    E: Default,
{
    struct Visitor<E> {
        expecting: &'static str,
        from_name: fn(&str) -> Option<E>,
    }
    impl<E: Default> de::Visitor<'_> for Visitor<E> {
        type Value = E;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.expecting)
        }
        fn visit_str<Err: de::Error>(self, name: &str) -> Result<E, Err> {
            Ok((self.from_name)(name).unwrap_or_default())
        }
    }
    deserializer.deserialize_str(Visitor {
        expecting,
        from_name,
    })
}
