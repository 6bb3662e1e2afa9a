//! Checking and normalising the arguments of `Collections` calls before they reach a store.
//!
//! Errors name the offending field in their `cause`:
//!
//! | problem | error |
//! |---|---|
//! | a required argument is absent or zero (`collection.metadata`, `collection.id`, `asset.collectionId`, `chainId`…) | `RequiredArgument` (2002) |
//! | a value of the wrong shape (token id not a decimal `uint256`, contract address not `0x` + 40 hex digits) | `InvalidArgument` (2001) |
//! | an entity that does not validate (empty collection name, `properties` or `attributes` nested deeper than [`MAX_JSON_DEPTH`], JSON encoding larger than [`MAX_ENTITY_BYTES`]) | `ValidationFailed` (2004) |

use sequence_metadata::{
    Asset, BigInt, CollectionMetadata, MetadataError, Properties, TokenMetadata,
};
use serde::Serialize;
use serde_json::Value;
use webrpc_core::WebrpcError;

use super::store::{encoded_len, MAX_ENTITY_BYTES};

/// Checks that an entity to store encodes within [`MAX_ENTITY_BYTES`] (`extra`: bytes
/// stored beside it, such as a reveal key).
fn small_enough<T: Serialize>(field: &str, value: &T, extra: usize) -> Result<(), WebrpcError> {
    let size = encoded_len(value) + extra;
    if size > MAX_ENTITY_BYTES {
        return Err(MetadataError::ValidationFailed.with_cause(format!(
            "{field} is {size} bytes as JSON; at most {MAX_ENTITY_BYTES} bytes are allowed"
        )));
    }
    Ok(())
}

/// Checks a collection's size: its metadata and reveal key within [`MAX_ENTITY_BYTES`].
pub(crate) fn collection_size(
    metadata: &CollectionMetadata,
    reveal_key: &str,
) -> Result<(), WebrpcError> {
    small_enough("collection.metadata", metadata, reveal_key.len())
}

/// Deepest nesting of objects and arrays accepted in a `properties` object or an
/// `attributes` entry (the object itself is level 1). Deeper JSON could be stored, but not
/// listed: serde_json clients, this project's among them, refuse answers nested more than
/// 127 levels, and a list answer wraps a collection's `properties` in 5 levels of its own.
pub(crate) const MAX_JSON_DEPTH: usize = 64;

/// The nesting depth of a JSON value: 0 for a scalar, 1 for an array or object of scalars.
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Checks that a `properties` object (or `attributes` entry) nests at most
/// [`MAX_JSON_DEPTH`] levels.
fn shallow_enough(field: &str, object: &Properties) -> Result<(), WebrpcError> {
    let levels = 1 + object.values().map(depth).max().unwrap_or(0);
    if levels > MAX_JSON_DEPTH {
        return Err(MetadataError::ValidationFailed.with_cause(format!(
            "{field} is nested {levels} levels deep; at most {MAX_JSON_DEPTH} are allowed"
        )));
    }
    Ok(())
}

/// Checks `properties` and every `attributes` entry of a collection or token.
fn json_fields(
    prefix: &str,
    properties: &Properties,
    attributes: &[Properties],
) -> Result<(), WebrpcError> {
    shallow_enough(&format!("{prefix}.properties"), properties)?;
    for entry in attributes {
        shallow_enough(&format!("{prefix}.attributes"), entry)?;
    }
    Ok(())
}

/// `2^256 - 1`, the largest token id (`uint256`).
const MAX_UINT256: &str =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

/// A required argument is missing.
pub(crate) fn required(field: &str) -> WebrpcError {
    MetadataError::RequiredArgument.with_cause(format!("{field} is required"))
}

/// Checks a collection's metadata: present, with a non-blank name.
pub(crate) fn collection_metadata(
    metadata: Option<CollectionMetadata>,
) -> Result<CollectionMetadata, WebrpcError> {
    let metadata = metadata.ok_or_else(|| required("collection.metadata"))?;
    if metadata.name.trim().is_empty() {
        return Err(MetadataError::ValidationFailed
            .with_cause("collection.metadata.name must not be empty"));
    }
    json_fields(
        "collection.metadata",
        &metadata.properties,
        &metadata.attributes,
    )?;
    Ok(metadata)
}

/// A token id in canonical decimal (`"007"` is `"7"`), within `uint256`.
pub(crate) fn token_id(field: &str, text: &str) -> Result<String, WebrpcError> {
    let invalid = || {
        MetadataError::InvalidArgument.with_cause(format!(
            "{field} must be a decimal uint256, got {:?}",
            truncate(text)
        ))
    };
    if text.is_empty() {
        return Err(required(field));
    }
    if !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let id = BigInt::parse(text).map_err(|_| invalid())?;
    check_uint256(&id).map_err(|_| invalid())?;
    Ok(id.as_str().to_owned())
}

fn check_uint256(id: &BigInt) -> Result<(), ()> {
    let digits = id.as_str();
    let too_big = digits.len() > MAX_UINT256.len()
        || (digits.len() == MAX_UINT256.len() && digits > MAX_UINT256);
    if id.is_negative() || too_big {
        Err(())
    } else {
        Ok(())
    }
}

/// Long user input cut for an error cause.
fn truncate(text: &str) -> String {
    const MAX: usize = 80;
    if text.len() <= MAX {
        text.to_owned()
    } else {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &text[..end])
    }
}

/// A contract address: `0x` and 40 hex digits (any case), returned lower-cased.
pub(crate) fn contract_address(field: &str, text: &str) -> Result<String, WebrpcError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(required(field));
    }
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or("");
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(MetadataError::InvalidArgument.with_cause(format!(
            "{field} must be 0x followed by 40 hex digits, got {:?}",
            truncate(text)
        )));
    }
    Ok(format!("0x{}", hex.to_ascii_lowercase()))
}

/// A non-zero id or chain id.
pub(crate) fn non_zero(field: &str, value: u64) -> Result<u64, WebrpcError> {
    if value == 0 {
        Err(required(field))
    } else {
        Ok(value)
    }
}

/// Checks the client-set fields of a token: its optional contract address, the depth of
/// its `properties` and `attributes`, and its size ([`MAX_ENTITY_BYTES`]). The token id is checked by the caller, which knows
/// where it comes from.
pub(crate) fn token_fields(mut token: TokenMetadata) -> Result<TokenMetadata, WebrpcError> {
    json_fields("token", &token.properties, &token.attributes)?;
    small_enough("token", &token, 0)?;
    if !token.contract_address.is_empty() {
        token.contract_address =
            contract_address("token.contractAddress", &token.contract_address)?;
    }
    Ok(token)
}

/// Checks an asset: its collection is named, its token id (if any) is a decimal `uint256`,
/// made canonical (`"007"` is `"7"`).
pub(crate) fn asset(mut asset: Asset) -> Result<Asset, WebrpcError> {
    non_zero("asset.collectionId", asset.collection_id)?;
    small_enough("asset", &asset, 0)?;
    if let Some(id) = &asset.token_id {
        asset.token_id = Some(token_id("asset.tokenId", id)?);
    }
    Ok(asset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_ids() {
        assert_eq!(token_id("tokenId", "007").unwrap(), "7");
        assert_eq!(token_id("tokenId", "0").unwrap(), "0");
        assert_eq!(token_id("tokenId", MAX_UINT256).unwrap(), MAX_UINT256);
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        for bad in ["abc", "-1", "+1", "1.5", "0x10", " 1", over] {
            let err = token_id("tokenId", bad).unwrap_err();
            assert_eq!(err.code(), 2001, "{bad}");
            assert!(err.cause().unwrap().starts_with("tokenId must be"), "{bad}");
        }
        assert_eq!(token_id("tokenId", "").unwrap_err().code(), 2002);
    }

    #[test]
    fn addresses() {
        assert_eq!(
            contract_address("a", "0xABCDEFabcdef0123456789012345678901234567").unwrap(),
            "0xabcdefabcdef0123456789012345678901234567"
        );
        for bad in [
            "0x123",
            "abcdefabcdef0123456789012345678901234567",
            "0xZZCDEFabcdef0123456789012345678901234567",
        ] {
            assert_eq!(
                contract_address("a", bad).unwrap_err().code(),
                2001,
                "{bad}"
            );
        }
        assert_eq!(contract_address("a", "").unwrap_err().code(), 2002);
    }

    #[test]
    fn json_depth_is_capped() {
        let nested = |levels: usize| {
            let mut value = serde_json::json!(1);
            for _ in 0..levels {
                value = serde_json::json!([value]);
            }
            let mut properties = Properties::new();
            properties.insert("k".into(), value);
            properties
        };
        let metadata = |properties| CollectionMetadata {
            name: "n".into(),
            properties,
            ..Default::default()
        };
        assert!(collection_metadata(Some(metadata(nested(MAX_JSON_DEPTH - 1)))).is_ok());
        let err = collection_metadata(Some(metadata(nested(MAX_JSON_DEPTH)))).unwrap_err();
        assert_eq!(err.name(), "ValidationFailed");
        assert_eq!(
            err.cause(),
            Some("collection.metadata.properties is nested 65 levels deep; at most 64 are allowed")
        );
        let token = TokenMetadata {
            attributes: vec![nested(MAX_JSON_DEPTH)],
            ..Default::default()
        };
        assert_eq!(
            token_fields(token).unwrap_err().cause(),
            Some("token.attributes is nested 65 levels deep; at most 64 are allowed")
        );
    }

    #[test]
    fn collection_names() {
        assert_eq!(collection_metadata(None).unwrap_err().code(), 2002);
        let blank = CollectionMetadata {
            name: "  ".into(),
            ..Default::default()
        };
        let err = collection_metadata(Some(blank)).unwrap_err();
        assert_eq!(err.name(), "ValidationFailed");
        assert_eq!(
            err.cause(),
            Some("collection.metadata.name must not be empty")
        );
    }
}
