//! Go's view of JSON values: how `fmt` prints them, what is true, type names, numbers.

use serde_json::{Number, Value};

/// Prints a value as Go's `fmt.Sprint` does in a template (`<no value>` for nil).
pub fn print(v: &Value) -> String {
    match v {
        Value::Null => "<no value>".to_string(),
        other => sprint(other),
    }
}

/// `fmt.Sprint` of a value nested in a list or map (`<nil>` for nil).
pub fn sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number(n),
        Value::String(s) => s.clone(),
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(sprint).collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", m.get(*k).map_or_else(String::new, sprint)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// A number as Go prints it: integers as integers, floats as [`go_float`].
pub fn number(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        i.to_string()
    } else if let Some(u) = n.as_u64() {
        u.to_string()
    } else {
        go_float(n.as_f64().unwrap_or(0.0))
    }
}

/// `fmt.Sprint(float64)`: the shortest digits that round-trip; `%e` form (two-digit exponent)
/// when the decimal exponent is below -4 or at least 6 (`strconv` `'g'` with the shortest
/// precision), so a Helm value `123456789012` prints as `1.23456789012e+11`.
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{f:e}");
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{f}")
    }
}

/// Go's truth: false, 0, nil, and empty strings, lists and maps are false.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(m) => !m.is_empty(),
    }
}

/// The Go type a value would have after JSON/YAML decoding into `interface{}`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Converts every number to a float64, as Helm's values decoding does (YAML -> JSON -> Go).
pub fn floats(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                if let Some(x) = Number::from_f64(f) {
                    *n = x;
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(floats),
        Value::Object(m) => m.values_mut().for_each(floats),
        _ => {}
    }
}
