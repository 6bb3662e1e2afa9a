//! Small serde helpers for Go-compatible JSON: zero values are omitted where the schema says
//! so, and `null` decodes as the zero value, as Go's `encoding/json` does.

use serde::{Deserialize, Deserializer};

/// Whether a value is its type's zero value (for `skip_serializing_if`).
pub(crate) fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Decodes `null` as the type's default. Go servers send `null` for empty lists and maps
/// (a nil slice or map) and Go decoders accept `null` for any field, leaving its zero value.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
