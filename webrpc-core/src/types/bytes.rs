//! [`Bytes`]: webrpc's `[]byte`, as base64 text the way Go writes it.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A byte string as webrpc's `[]byte` (and `[]uint8`) carries it between Go peers: Go's
/// `encoding/json` writes a `[]byte` as standard, padded base64 text (`"aGk="`), not as a
/// list of numbers, and reads `null` as empty.
///
/// ```
/// use webrpc_core::Bytes;
///
/// let b = Bytes::from(b"hi".to_vec());
/// assert_eq!(serde_json::to_string(&b).unwrap(), r#""aGk=""#);
/// assert_eq!(serde_json::from_str::<Bytes>(r#""aGk=""#).unwrap(), b);
/// assert!(serde_json::from_str::<Bytes>("null").unwrap().is_empty());
/// assert!(serde_json::from_str::<Bytes>(r#""not base64!""#).is_err());
/// ```
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub Vec<u8>);

impl Bytes {
    /// The bytes as base64 text (standard alphabet, padded), as sent.
    pub fn to_base64(&self) -> String {
        let mut out = String::with_capacity(self.0.len().div_ceil(3) * 4);
        for chunk in self.0.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    /// Decodes base64 text (standard alphabet, padded; line breaks are ignored, as Go's
    /// decoder ignores them). `None` when it is not valid base64.
    pub fn from_base64(text: &str) -> Option<Bytes> {
        let digits: Vec<u8> = text.bytes().filter(|&c| c != b'\n' && c != b'\r').collect();
        if digits.len() % 4 != 0 {
            return None;
        }
        let mut out = Vec::with_capacity(digits.len() / 4 * 3);
        let quads = digits.len() / 4;
        for (q, quad) in digits.chunks(4).enumerate() {
            let padding = quad.iter().rev().take_while(|&&c| c == b'=').count();
            if padding > 2 || (padding > 0 && q + 1 != quads) {
                return None;
            }
            let mut n = 0u32;
            for &c in &quad[..4 - padding] {
                let v = match c {
                    b'A'..=b'Z' => c - b'A',
                    b'a'..=b'z' => c - b'a' + 26,
                    b'0'..=b'9' => c - b'0' + 52,
                    b'+' => 62,
                    b'/' => 63,
                    _ => return None,
                };
                n = (n << 6) | u32::from(v);
            }
            n <<= 6 * padding as u32;
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..3 - padding]);
        }
        Some(Bytes(out))
    }
}

impl Deref for Bytes {
    type Target = Vec<u8>;

    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes(bytes)
    }
}

impl From<&[u8]> for Bytes {
    fn from(bytes: &[u8]) -> Self {
        Bytes(bytes.to_vec())
    }
}

impl From<Bytes> for Vec<u8> {
    fn from(bytes: Bytes) -> Self {
        bytes.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bytes({:?})", self.to_base64())
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Bytes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("base64 text or null")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Bytes, E> {
                Bytes::from_base64(text).ok_or_else(|| E::custom("invalid base64 for []byte"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Bytes, E> {
                Ok(Bytes::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Bytes, E> {
                Ok(Bytes::default())
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}
