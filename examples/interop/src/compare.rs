//! Comparing values as the reference does (go-cmp over Go-decoded values), and describing
//! the difference readably.
//!
//! Values are compared as JSON, by their wire form, so a difference is reported with the
//! wire names (`.user.USERNAME`, `.meta["2"]`). Numbers compare exactly when both are
//! integers; otherwise they compare as float64, which is what Go does with `any` values
//! (`meta` holds `24` on the wire, and a Go client sends back float64 24: `24` and `24.0` are
//! the same value to the reference server, and so to ours). Typed fields are always
//! integers on both sides, so they compare exactly.

use serde::Serialize;
use serde_json::Value;

/// At most this many differing paths are listed in one description.
const MAX_DIFF_LINES: usize = 20;

/// Whether two values are equal in the reference's sense: equal JSON, where numbers that
/// are not both integers compare as float64 (`24 == 24.0`) and object key order is ignored.
pub fn values_match<T: Serialize + ?Sized>(expected: &T, got: &T) -> bool {
    match (serde_json::to_value(expected), serde_json::to_value(got)) {
        (Ok(expected), Ok(got)) => json_eq(&expected, &got),
        _ => false,
    }
}

/// The differences between two values, one line per differing path, such as
/// `  .name: expected "one", got "uno"`. Empty when they [match](values_match).
pub fn value_diff<T: Serialize + ?Sized>(expected: &T, got: &T) -> Vec<String> {
    match (serde_json::to_value(expected), serde_json::to_value(got)) {
        (Ok(expected), Ok(got)) => {
            let mut lines = Vec::new();
            let mut total = 0;
            diff_into(
                &expected,
                Some(&got),
                &mut String::new(),
                &mut lines,
                &mut total,
            );
            if total > lines.len() {
                lines.push(format!("  … and {} more", total - lines.len()));
            }
            lines
        }
        (Err(err), _) | (_, Err(err)) => vec![format!("  cannot encode the values: {err}")],
    }
}

pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => numbers_eq(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_eq(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, vx)| y.get(k).is_some_and(|vy| json_eq(vx, vy)))
        }
        _ => a == b,
    }
}

fn numbers_eq(x: &serde_json::Number, y: &serde_json::Number) -> bool {
    if let (Some(x), Some(y)) = (x.as_i64(), y.as_i64()) {
        return x == y;
    }
    if let (Some(x), Some(y)) = (x.as_u64(), y.as_u64()) {
        return x == y;
    }
    if x.is_f64() || y.is_f64() {
        return x.as_f64() == y.as_f64();
    }
    // Both integers, one negative and the other above i64::MAX.
    false
}

/// Appends the differing paths under `path`; `got` is `None` when the key is absent.
fn diff_into(
    expected: &Value,
    got: Option<&Value>,
    path: &mut String,
    lines: &mut Vec<String>,
    total: &mut usize,
) {
    let Some(got) = got else {
        push_line(lines, total, path, &compact(expected), "(missing)");
        return;
    };
    match (expected, got) {
        (Value::Object(x), Value::Object(y)) => {
            for (key, vx) in x {
                let len = path.len();
                push_key(path, key);
                diff_into(vx, y.get(key), path, lines, total);
                path.truncate(len);
            }
            for (key, vy) in y {
                if !x.contains_key(key) {
                    let len = path.len();
                    push_key(path, key);
                    push_line(lines, total, path, "(missing)", &compact(vy));
                    path.truncate(len);
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            for (i, vx) in x.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                diff_into(vx, y.get(i), path, lines, total);
                path.truncate(len);
            }
            for (i, vy) in y.iter().enumerate().skip(x.len()) {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                push_line(lines, total, path, "(missing)", &compact(vy));
                path.truncate(len);
            }
        }
        _ if json_eq(expected, got) => {}
        _ => push_line(lines, total, path, &compact(expected), &compact(got)),
    }
}

fn push_line(lines: &mut Vec<String>, total: &mut usize, path: &str, expected: &str, got: &str) {
    *total += 1;
    if lines.len() < MAX_DIFF_LINES {
        let path = if path.is_empty() { "(value)" } else { path };
        lines.push(format!("  {path}: expected {expected}, got {got}"));
    }
}

/// `.key` for identifier-like keys, `["key"]` for the others (`meta["2"]`).
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && !key.starts_with(|c: char| c.is_ascii_digit())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&compact(&Value::String(key.to_owned())));
        path.push(']');
    }
}

fn compact(value: &Value) -> String {
    const MAX: usize = 200;
    let text = value.to_string();
    if text.len() <= MAX {
        return text;
    }
    let mut cut = MAX;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}…", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_like_go_any() {
        assert!(values_match(&json!({"2": 24}), &json!({"2": 24.0})));
        assert!(!values_match(&json!({"2": 24}), &json!({"2": "24"})));
        assert!(!values_match(&json!([i64::MAX]), &json!([i64::MAX - 1])));
        assert!(!values_match(&json!(-1), &json!(u64::MAX)));
        assert!(values_match(
            &json!({"a": 1, "b": 2}),
            &json!({"b": 2, "a": 1})
        ));
    }

    #[test]
    fn diff_names_paths() {
        let lines = value_diff(
            &json!({"id": 1, "name": "one", "meta": {"2": 24}, "l": [1]}),
            &json!({"id": 2, "meta": {"2": "24"}, "l": [1, 5], "x": true}),
        );
        assert_eq!(
            lines,
            [
                "  .id: expected 1, got 2",
                "  .l[1]: expected (missing), got 5",
                "  .meta[\"2\"]: expected 24, got \"24\"",
                "  .name: expected \"one\", got (missing)",
                "  .x: expected (missing), got true",
            ]
        );
        assert!(value_diff(&json!({"2": 24}), &json!({"2": 24.0})).is_empty());
        assert_eq!(
            value_diff(&json!(1), &json!(2)),
            ["  (value): expected 1, got 2"]
        );
    }
}
