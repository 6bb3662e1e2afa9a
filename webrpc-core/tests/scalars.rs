//! The scalar types' JSON: [`Timestamp`] as Go writes RFC 3339, [`BigInt`] digit for digit;
//! and the Go-compatible serde helpers.

use serde_json::{json, Value};
use webrpc_core::serde_go::{is_zero, null_as_default};
use webrpc_core::{BigInt, Bytes, Timestamp};

#[test]
fn timestamps() {
    let cases = [
        // (input, encoded)
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-10-23T07:02:00.905283Z", "2024-10-23T07:02:00.905283Z"),
        (
            "2026-11-25T11:46:32.372180112Z",
            "2026-11-25T11:46:32.372180112Z",
        ),
        // Trailing zeros of the fraction are trimmed, a zero fraction disappears.
        ("2024-05-01T12:00:00.500000000Z", "2024-05-01T12:00:00.5Z"),
        ("2024-05-01T12:00:00.000Z", "2024-05-01T12:00:00Z"),
        // Offsets are preserved, as Go preserves them.
        ("2024-05-01T14:00:00+02:00", "2024-05-01T14:00:00+02:00"),
        (
            "2024-05-01T08:30:00.25-03:30",
            "2024-05-01T08:30:00.25-03:30",
        ),
        ("2024-05-01T12:00:00+00:00", "2024-05-01T12:00:00Z"),
        // RFC 3339 also allows a space or lower case `t`/`z`; we write Go's form.
        ("2024-05-01 12:00:00Z", "2024-05-01T12:00:00Z"),
        ("2024-05-01t12:00:00z", "2024-05-01T12:00:00Z"),
    ];
    for (input, encoded) in cases {
        let t: Timestamp = serde_json::from_value(json!(input)).unwrap();
        assert_eq!(serde_json::to_value(t).unwrap(), json!(encoded), "{input}");
        assert_eq!(t.to_string(), encoded);
        assert_eq!(input.parse::<Timestamp>().unwrap(), t);
    }
    // An offset is the same instant: equal, and `to_utc` normalises the text.
    let paris: Timestamp = "2024-05-01T14:00:00+02:00".parse().unwrap();
    let utc: Timestamp = "2024-05-01T12:00:00Z".parse().unwrap();
    assert_eq!(paris, utc);
    assert_eq!(paris.to_utc().to_string(), "2024-05-01T12:00:00Z");

    // The zero time is the default and what a missing createdAt becomes.
    assert_eq!(Timestamp::default(), Timestamp::ZERO);
    assert!(Timestamp::ZERO.is_zero());
    assert_eq!(Timestamp::ZERO.get().year(), 1);

    // now() is UTC and round-trips through its text exactly.
    let now = Timestamp::now();
    assert!(now.to_string().ends_with('Z'));
    assert_eq!(now.to_string().parse::<Timestamp>().unwrap(), now);
    assert!(!now.is_zero());

    // Conversions.
    let odt: time::OffsetDateTime = utc.into();
    assert_eq!(Timestamp::from(odt), utc);
    assert_eq!(Timestamp::new(odt).get(), odt);
    let from_system = Timestamp::from(std::time::UNIX_EPOCH);
    assert_eq!(from_system.to_string(), "1970-01-01T00:00:00Z");

    // Not timestamps.
    for bad in [
        json!("2024-05-01"),
        json!("2024-13-01T12:00:00Z"),
        json!(""),
        json!(1714564800),
    ] {
        assert!(
            serde_json::from_value::<Timestamp>(bad.clone()).is_err(),
            "{bad}"
        );
    }
    // A year Go cannot encode is an encoding error, not garbage.
    let ancient = Timestamp::new(time::macros::datetime!(-0001-01-01 0:00 UTC));
    assert!(serde_json::to_string(&ancient).is_err());
}

#[test]
fn bigints_keep_every_digit() {
    let huge = "123456789012345678901234567890";
    // A decimal string, a number, a number larger than u64 and u128: digit for digit.
    for (text, expected) in [
        (r#""42""#, "42"),
        ("42", "42"),
        (&format!("\"{huge}\""), huge),
        (huge, huge),
        (
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
            "115792089237316195423570985008687907853269984665640564039457584007913129639935",
        ),
        (r#""007""#, "7"),
        ("0", "0"),
        ("-12", "-12"),
    ] {
        let value: BigInt = serde_json::from_str(text).unwrap();
        assert_eq!(value.as_str(), expected, "{text}");
        // Always encoded as a string.
        assert_eq!(serde_json::to_value(&value).unwrap(), json!(expected));
    }
    for bad in [
        r#""""#, r#""12a""#, "1.5", "1e3", "true", r#""-""#, "[1]", "null",
    ] {
        assert!(serde_json::from_str::<BigInt>(bad).is_err(), "{bad}");
    }
    // Through serde_json::Value too serde_json::Value (for numbers that fit).
    let token_id: BigInt = serde_json::from_value(json!(12345678901234567u64)).unwrap();
    assert_eq!(token_id.to_u64(), Some(12345678901234567));
    assert_eq!(BigInt::from(u128::MAX).to_u128(), Some(u128::MAX));
    assert_eq!(BigInt::from(-5i64).as_str(), "-5");
    assert!(BigInt::parse("-0").unwrap().is_zero());
    assert!(BigInt::parse("-12").unwrap().is_negative());
    assert_eq!(BigInt::default(), BigInt::zero());
    assert_eq!(huge.parse::<BigInt>().unwrap().to_u64(), None);
}

#[test]
fn bytes_are_base64_as_go_writes_them() {
    // RFC 4648's test vectors.
    for (raw, text) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        let bytes = Bytes::from(raw.as_bytes());
        assert_eq!(serde_json::to_value(&bytes).unwrap(), json!(text), "{raw}");
        assert_eq!(serde_json::from_value::<Bytes>(json!(text)).unwrap(), bytes);
    }
    let all: Vec<u8> = (0..=255).collect();
    let text = Bytes::from(all.clone()).to_base64();
    assert!(text.contains('+') && text.contains('/'));
    assert_eq!(Bytes::from_base64(&text).unwrap().0, all);
    // Go's decoder skips line breaks, and reads null as empty.
    assert_eq!(Bytes::from_base64("Zm9v\r\nYmFy").unwrap().0, b"foobar");
    assert!(serde_json::from_str::<Bytes>("null").unwrap().is_empty());
    for bad in [
        json!("Zg="),
        json!("Z==="),
        json!("Zg==Zg=="),
        json!("Zm9v!"),
        json!([1, 2]),
    ] {
        assert!(
            serde_json::from_value::<Bytes>(bad.clone()).is_err(),
            "{bad}"
        );
    }
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct GoShaped {
    #[serde(default, deserialize_with = "null_as_default")]
    list: Vec<u32>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "is_zero"
    )]
    count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    at: Timestamp,
}

#[test]
fn null_and_missing_fields_decode_as_zero_values() {
    for text in [r#"{}"#, r#"{"list":null,"count":null,"at":null}"#] {
        let v: GoShaped = serde_json::from_str(text).unwrap();
        assert_eq!(v, GoShaped::default(), "{text}");
    }
    let v: GoShaped = serde_json::from_str(r#"{"list":[1],"count":2}"#).unwrap();
    assert_eq!((v.list, v.count), (vec![1], 2));
    // A wrong type is still an error.
    assert!(serde_json::from_str::<GoShaped>(r#"{"count":"2"}"#).is_err());
}

#[test]
fn is_zero_omits_only_zero_values() {
    let v = GoShaped::default();
    assert_eq!(
        serde_json::to_value(&v).unwrap(),
        json!({"list": [], "at": "0001-01-01T00:00:00Z"})
    );
    let v = GoShaped {
        count: 3,
        ..GoShaped::default()
    };
    assert_eq!(serde_json::to_value(&v).unwrap()["count"], json!(3));
    assert!(is_zero(&0u8) && is_zero(&String::new()) && is_zero(&false));
    assert!(!is_zero(&Value::Bool(true)));
}
