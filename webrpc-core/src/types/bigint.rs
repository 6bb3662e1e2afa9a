//! [`BigInt`]: webrpc's `bigint`, a decimal integer of any size.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// An integer of any size, as webrpc's `bigint` type carries it (such as a `uint256` token
/// id): a decimal string in JSON, such as `"123456789012345678901234567890"`.
///
/// It holds the canonical decimal text (no leading zeros, no `+`, no `-0`) and never goes
/// through a float, so no digit is lost whatever the size. It decodes from a JSON string
/// (as Go servers send it) or from a JSON number written digit for digit (as some
/// clients send it); fractions, exponents and anything but decimal digits with an optional
/// sign are rejected. It always encodes as a string.
///
/// ```
/// use webrpc_core::BigInt;
///
/// let id: BigInt = serde_json::from_str("123456789012345678901234567890").unwrap();
/// assert_eq!(id.as_str(), "123456789012345678901234567890");
/// assert_eq!(serde_json::to_string(&id).unwrap(), r#""123456789012345678901234567890""#);
/// assert_eq!("007".parse::<BigInt>().unwrap(), BigInt::from(7u64));
/// assert!("1e3".parse::<BigInt>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct BigInt(String);

/// Text that is not a decimal integer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseBigIntError {
    text: String,
}

impl fmt::Display for ParseBigIntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid bigint {:?}: expected decimal digits", self.text)
    }
}

impl std::error::Error for ParseBigIntError {}

impl BigInt {
    /// Parses a decimal integer: an optional `+` or `-`, then one or more ASCII digits.
    pub fn parse(text: &str) -> Result<Self, ParseBigIntError> {
        let invalid = || ParseBigIntError {
            text: text.to_owned(),
        };
        let (negative, digits) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let significant = digits.trim_start_matches('0');
        if significant.is_empty() {
            return Ok(BigInt::zero());
        }
        let mut canonical = String::with_capacity(significant.len() + 1);
        if negative {
            canonical.push('-');
        }
        canonical.push_str(significant);
        Ok(BigInt(canonical))
    }

    /// Zero.
    pub fn zero() -> Self {
        BigInt("0".to_owned())
    }

    /// The canonical decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }

    /// Whether this is below zero.
    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    /// The value as a `u64`, if it fits.
    pub fn to_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    /// The value as a `u128`, if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        self.0.parse().ok()
    }
}

impl Default for BigInt {
    /// Zero.
    fn default() -> Self {
        BigInt::zero()
    }
}

impl fmt::Display for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInt({})", self.0)
    }
}

impl FromStr for BigInt {
    type Err = ParseBigIntError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        BigInt::parse(text)
    }
}

impl From<BigInt> for String {
    fn from(value: BigInt) -> Self {
        value.0
    }
}

impl TryFrom<String> for BigInt {
    type Error = ParseBigIntError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        BigInt::parse(&text)
    }
}

macro_rules! from_integer {
    ($($t:ty),*) => {
        $(
            impl From<$t> for BigInt {
                fn from(value: $t) -> Self {
                    BigInt(value.to_string())
                }
            }
        )*
    };
}

from_integer!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl Serialize for BigInt {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for BigInt {
    /// Reads the raw JSON text of the value, so a number larger than any machine integer is
    /// kept digit for digit instead of being rounded through `f64`. Works with
    /// `serde_json`'s deserializers (from bytes, text, readers and `Value`).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;

        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get().trim();
        if text.starts_with('"') {
            let inner: String = serde_json::from_str(text).map_err(D::Error::custom)?;
            BigInt::parse(&inner).map_err(D::Error::custom)
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            BigInt::parse(text).map_err(D::Error::custom)
        } else {
            Err(D::Error::custom(format_args!(
                "invalid type: {text}, expected a bigint as a decimal string or number"
            )))
        }
    }
}
