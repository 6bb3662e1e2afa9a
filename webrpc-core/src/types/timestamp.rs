//! [`Timestamp`]: webrpc's `timestamp`, as RFC 3339 text the way Go writes it.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use time::format_description::well_known::Rfc3339;
use time::macros::datetime;
use time::OffsetDateTime;

/// A point in time as webrpc's `timestamp` type carries it: RFC 3339 text in JSON.
///
/// **Encoding** follows Go's `time.Time` (`RFC3339Nano`), which is what Go servers
/// send: `2024-10-23T07:02:00.905283Z`, `2024-05-01T12:00:00Z`. The fraction has up to nine
/// digits with trailing zeros trimmed, and disappears when it is zero; a zero UTC offset is
/// written `Z`.
///
/// **Offsets are preserved**, as Go preserves them: `2024-05-01T14:00:00+02:00` decodes to a
/// value that encodes back to exactly that text. Equality, ordering and hashing compare the
/// instant, so it is equal to `2024-05-01T12:00:00Z`; call [`to_utc`](Self::to_utc) to
/// normalise. (An offset with a seconds part, which RFC 3339 cannot express, is written in
/// UTC instead of being truncated.)
///
/// **Decoding** accepts any RFC 3339 date-time (also with a space or lower-case `t`/`z`,
/// which RFC 3339 allows and Go's stricter parser does not), including Go's zero time
/// `0001-01-01T00:00:00Z`, which is also this type's [`Default`] (the value of a timestamp
/// Go never set).
///
/// ```
/// use webrpc_core::Timestamp;
///
/// let t: Timestamp = "2024-10-23T07:02:00.905283000Z".parse().unwrap();
/// assert_eq!(t.to_string(), "2024-10-23T07:02:00.905283Z");
/// assert_eq!(serde_json::to_string(&t).unwrap(), r#""2024-10-23T07:02:00.905283Z""#);
/// assert!(Timestamp::default().is_zero());
/// assert_eq!(Timestamp::default().to_string(), "0001-01-01T00:00:00Z");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// Go's zero `time.Time`, `0001-01-01T00:00:00Z`: what an unset timestamp holds.
    pub const ZERO: Timestamp = Timestamp(datetime!(0001-01-01 0:00 UTC));

    /// The current time, in UTC.
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc())
    }

    /// Wraps a date-time.
    pub const fn new(datetime: OffsetDateTime) -> Self {
        Timestamp(datetime)
    }

    /// The wrapped date-time.
    pub const fn get(self) -> OffsetDateTime {
        self.0
    }

    /// The same instant with a zero offset (encoded with `Z`).
    #[must_use]
    pub fn to_utc(self) -> Self {
        Timestamp(self.0.to_offset(time::UtcOffset::UTC))
    }

    /// Whether this is Go's zero time ([`Timestamp::ZERO`]), the value of a timestamp never set.
    pub fn is_zero(&self) -> bool {
        *self == Self::ZERO
    }

    /// Parses RFC 3339 text (`2024-10-23T07:02:00.905283Z`, `2024-05-01T14:00:00+02:00`).
    pub fn parse(text: &str) -> Result<Self, time::error::Parse> {
        OffsetDateTime::parse(text, &Rfc3339).map(Timestamp)
    }

    /// Writes the RFC 3339 text into a stack buffer (no allocation: timestamps are encoded
    /// in every response), or `None` for a year Go cannot encode either (before year 0).
    fn rfc3339(&self) -> Option<Rfc3339Text> {
        let mut dt = self.0;
        if dt.offset().seconds_past_minute() != 0 {
            dt = dt.to_offset(time::UtcOffset::UTC);
        }
        let year = u32::try_from(dt.year()).ok()?;
        let mut out = Rfc3339Text::default();
        // Years past 9999 are written with all their digits, as Go's formatter does.
        if year > 9999 {
            out.number(year, 5 + usize::from(year > 99_999));
        } else {
            out.number(year, 4);
        }
        out.byte(b'-');
        out.number(u32::from(u8::from(dt.month())), 2);
        out.byte(b'-');
        out.number(u32::from(dt.day()), 2);
        out.byte(b'T');
        out.number(u32::from(dt.hour()), 2);
        out.byte(b':');
        out.number(u32::from(dt.minute()), 2);
        out.byte(b':');
        out.number(u32::from(dt.second()), 2);
        let mut nanos = dt.nanosecond();
        if nanos != 0 {
            let mut width = 9;
            while nanos % 10 == 0 {
                nanos /= 10;
                width -= 1;
            }
            out.byte(b'.');
            out.number(nanos, width);
        }
        let offset = dt.offset();
        if offset.is_utc() {
            out.byte(b'Z');
        } else {
            out.byte(if offset.is_negative() { b'-' } else { b'+' });
            out.number(u32::from(offset.whole_hours().unsigned_abs()), 2);
            out.byte(b':');
            out.number(u32::from(offset.minutes_past_hour().unsigned_abs()), 2);
        }
        Some(out)
    }
}

/// The text of a timestamp, built on the stack: at most 38 bytes (a six-digit year, nine
/// fraction digits and an offset).
struct Rfc3339Text {
    buf: [u8; 40],
    len: usize,
}

impl Default for Rfc3339Text {
    fn default() -> Self {
        Rfc3339Text {
            buf: [0; 40],
            len: 0,
        }
    }
}

impl Rfc3339Text {
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// Writes `value` zero-padded to `width` digits.
    fn number(&mut self, mut value: u32, width: usize) {
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

impl Default for Timestamp {
    /// Go's zero time, `0001-01-01T00:00:00Z`.
    fn default() -> Self {
        Self::ZERO
    }
}

impl From<OffsetDateTime> for Timestamp {
    fn from(datetime: OffsetDateTime) -> Self {
        Timestamp(datetime)
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(timestamp: Timestamp) -> Self {
        timestamp.0
    }
}

impl From<std::time::SystemTime> for Timestamp {
    fn from(time: std::time::SystemTime) -> Self {
        Timestamp(time.into())
    }
}

impl FromStr for Timestamp {
    type Err = time::error::Parse;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl fmt::Display for Timestamp {
    /// The RFC 3339 text as sent on the wire. A year before 0 (which Go refuses to encode
    /// too) is displayed in the `time` crate's own notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.rfc3339() {
            Some(text) => f.write_str(text.as_str()),
            None => write!(f, "{}", self.0),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.rfc3339() {
            Some(text) => serializer.serialize_str(text.as_str()),
            None => Err(serde::ser::Error::custom(format!(
                "Timestamp: year {} outside of range [0,9999]",
                self.0.year()
            ))),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Timestamp, E> {
                Timestamp::parse(text)
                    .map_err(|err| E::custom(format_args!("invalid timestamp {text:?}: {err}")))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}
