//! Serialises values the way Helm's `toYaml`/`toJson` do (Go `encoding/json`, then
//! `sigs.k8s.io/yaml`): keys sorted, integral floats as integers, YAML block style with lists
//! flush under their key (as go-yaml writes them), strings quoted when YAML would read them
//! as something else.

use serde_json::{Map, Number, Value};

/// A copy with sorted keys and integral floats as integers (how Go's JSON encoder writes them).
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(json_number(n)),
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                if let Some(x) = m.get(k) {
                    out.insert(k.clone(), canonical(x));
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

fn json_number(n: &Number) -> Number {
    match n.as_f64() {
        Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => {
            if f.abs() < 9.0e15 {
                Number::from(f as i64)
            } else {
                n.clone()
            }
        }
        _ => n.clone(),
    }
}

/// Go's `json.Marshal`: sorted keys, `<`, `>`, `&` escaped.
pub fn to_json(v: &Value) -> String {
    let text = serde_json::to_string(&canonical(v)).unwrap_or_default();
    text.replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// Helm's `toYaml` (without the trailing newline, which Helm trims).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    let v = canonical(v);
    match &v {
        Value::Object(m) if m.is_empty() => out.push_str("{}"),
        Value::Array(a) if a.is_empty() => out.push_str("[]"),
        Value::Object(_) | Value::Array(_) => block(&v, 0, &mut out),
        scalar => out.push_str(&scalar_text(scalar)),
    }
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn block(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                out.push_str(&pad);
                out.push_str(&string_text(k));
                out.push(':');
                nested(x, indent, false, out);
            }
        }
        Value::Array(a) => {
            for x in a {
                out.push_str(&pad);
                out.push('-');
                nested(x, indent, true, out);
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// The value after `key:` or `-`.
fn nested(x: &Value, indent: usize, in_list: bool, out: &mut String) {
    match x {
        Value::Object(m) if !m.is_empty() => {
            if in_list {
                // `- a: 1` then the other keys aligned under `a`.
                let mut first = true;
                for (k, y) in m {
                    if first {
                        out.push(' ');
                        first = false;
                    } else {
                        out.push_str(&" ".repeat(indent + 2));
                    }
                    out.push_str(&string_text(k));
                    out.push(':');
                    nested(y, indent + 2, false, out);
                }
            } else {
                out.push('\n');
                block(x, indent + 2, out);
            }
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            // go-yaml writes a list under a key at the key's column, nested lists deeper.
            block(x, if in_list { indent + 2 } else { indent }, out);
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        _ => String::new(),
    }
}

/// A string as a plain scalar when YAML reads it back as the same string, else double-quoted.
pub(crate) fn string_text(s: &str) -> String {
    if plain_ok(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn plain_ok(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.chars().any(|c| c.is_control())
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    ) {
        return false;
    }
    // Anything that starts like a number (or .inf/.nan) might resolve to one.
    let numeric_start = first.is_ascii_digit()
        || ((first == '+' || first == '-' || first == '.')
            && s[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == 'i'));
    !(numeric_start || lower.starts_with(".inf") || lower.starts_with(".nan"))
}
