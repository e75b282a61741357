//! YAML 1.1 scalar resolution, as Kubernetes, Argo CD and Helm read YAML (go-yaml v2 through
//! `sigs.k8s.io/yaml`; go-yaml v2 `resolve.go`, `resolve`). Rules see the value those tools see.

use serde_json::{Number, Value};

/// Resolves a plain (unquoted) scalar the way go-yaml v2 does.
pub fn resolve_plain(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    if let Some(i) = parse_int(s) {
        return Value::Number(i.into());
    }
    if is_yaml_float(s) {
        if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

/// Go's `strconv.ParseInt(s, 0, 64)` after removing `_`: `0x1F`, `0o17`, `017` (octal), `0b101`.
fn parse_int(s: &str) -> Option<i64> {
    let first = s.as_bytes().first()?;
    if !(first.is_ascii_digit() || *first == b'-' || *first == b'+') {
        return None;
    }
    let cleaned: String = s.chars().filter(|c| *c != '_').collect();
    let (neg, body) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    if body.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(o) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (o, 8)
    } else if let Some(b) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (b, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i64::from_str_radix(digits, radix).ok()?;
    Some(if neg { -magnitude } else { magnitude })
}

/// go-yaml v2's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let b = s.trim_start_matches(['-', '+']).as_bytes();
    if s.len() - b.len() > 1 {
        return false;
    }
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

/// Resolves a plain scalar by the YAML 1.2 core schema (go-yaml v3 / kustomize, yq, ruamel,
/// most editors): only `true`/`false` are booleans, integers are decimal unless `0o`/`0x`.
pub(crate) fn resolve_core(s: &str) -> Value {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    let (neg, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let radix_int = |digits: &str, radix| {
        (!digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)))
            .then(|| i64::from_str_radix(digits, radix).ok())
            .flatten()
    };
    let int = if let Some(o) = s.strip_prefix("0o") {
        radix_int(o, 8)
    } else if let Some(h) = s.strip_prefix("0x") {
        radix_int(h, 16)
    } else {
        radix_int(body, 10).map(|m| if neg { -m } else { m })
    };
    if let Some(i) = int {
        return Value::Number(i.into());
    }
    if is_yaml_float(s) {
        if let Some(n) = s.parse::<f64>().ok().and_then(Number::from_f64) {
            return Value::Number(n);
        }
    }
    Value::String(s.to_string())
}

/// The string a mapping key becomes after `sigs.k8s.io/yaml` converts it to JSON (`on:` -> `"true"`).
/// Takes the value, so that a string key (nearly all of them) is moved, not copied.
pub(crate) fn key_string(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => "null".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn yaml_1_1_booleans_and_nulls() {
        assert_eq!(resolve_plain("yes"), json!(true));
        assert_eq!(resolve_plain("Off"), json!(false));
        assert_eq!(resolve_plain("~"), Value::Null);
        assert_eq!(resolve_plain("maybe"), json!("maybe"));
    }

    #[test]
    fn yaml_1_2_core_differs_where_it_should() {
        assert_eq!(resolve_core("yes"), json!("yes"));
        assert_eq!(resolve_core("True"), json!(true));
        assert_eq!(resolve_core("017"), json!(17));
        assert_eq!(resolve_core("0o17"), json!(15));
        assert_eq!(resolve_core("0b101"), json!("0b101"));
        assert_eq!(resolve_core("1_000"), json!("1_000"));
        assert_eq!(resolve_core("1e3"), resolve_plain("1e3"));
        assert_eq!(resolve_core("-12"), json!(-12));
        assert_eq!(resolve_core("tenant-1"), json!("tenant-1"));
    }

    #[test]
    fn go_integers_and_floats() {
        assert_eq!(resolve_plain("017"), json!(15));
        assert_eq!(resolve_plain("0x1F"), json!(31));
        assert_eq!(resolve_plain("1_000"), json!(1000));
        assert_eq!(resolve_plain("08"), json!(8.0));
        assert_eq!(resolve_plain("1.10"), json!(1.1));
        assert_eq!(resolve_plain("1e3"), json!(1000.0));
        assert_eq!(resolve_plain("1.2.3"), json!("1.2.3"));
        assert_eq!(resolve_plain("v1"), json!("v1"));
        assert_eq!(resolve_plain("-"), json!("-"));
        assert_eq!(resolve_plain("tenant-1"), json!("tenant-1"));
    }
}
