//! Serialises values the way Go programs print them: `toJson` as Go's `encoding/json` does,
//! and YAML as `sigs.k8s.io/yaml` over go-yaml v2 does (Helm's `toYaml`, Argo CD's `toYaml` and
//! `argocd appset generate`): block style, lists flush under their key, strings that YAML 1.1
//! would read as something else (`yes`, `0400`, `1.10`, `~`) or that hold indicators quoted.
//! One emitter for all of them, so a value prints the same wherever it is rendered.

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

/// Helm's `toYaml`: [`canonical`], then the document without the trailing newline, which Helm
/// trims.
pub fn to_yaml(v: &Value) -> String {
    let mut out = to_yaml_document(&canonical(v));
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// The value as a YAML document (no `---`), ending with a newline.
pub fn to_yaml_document(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => emit_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => emit_seq(a, 0, &mut out),
        other => {
            out.push_str(&scalar(other, 0));
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn emit_map(m: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    let mut first = true;
    for (k, v) in m {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str(&string(k, indent));
        out.push(':');
        match v {
            Value::Object(child) if !child.is_empty() => {
                out.push('\n');
                pad(out, indent + 2);
                emit_map(child, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                pad(out, indent);
                emit_seq(items, indent, out);
            }
            other => {
                out.push(' ');
                out.push_str(&scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

/// Emits a sequence whose first `- ` is already indented by the caller.
fn emit_seq(items: &[Value], indent: usize, out: &mut String) {
    let mut first = true;
    for item in items {
        if !first {
            pad(out, indent);
        }
        first = false;
        out.push_str("- ");
        match item {
            Value::Object(child) if !child.is_empty() => emit_map(child, indent + 2, out),
            Value::Array(inner) if !inner.is_empty() => emit_seq(inner, indent + 2, out),
            other => {
                out.push_str(&scalar(other, indent + 2));
                out.push('\n');
            }
        }
    }
}

fn scalar(v: &Value, indent: usize) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, indent),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
    }
}

/// Whether YAML 1.1 (go-yaml v2) or 1.2 would read the plain text as a non-string.
fn looks_typed(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
        ".inf", ".Inf", ".INF", "-.inf", "+.inf", ".nan", ".NaN", ".NAN",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let first = s.as_bytes()[0];
    (first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.'))
        && s.bytes().all(|b| {
            b.is_ascii_hexdigit()
                || matches!(
                    b,
                    b'+' | b'-' | b'.' | b'_' | b':' | b'x' | b'X' | b'o' | b'O'
                )
        })
}

fn string(s: &str, indent: usize) -> String {
    if s.contains('\n') {
        let clean = !s.starts_with([' ', '\t'])
            && !s.ends_with("\n\n")
            && s.chars().all(|c| c == '\n' || !c.is_control());
        if clean {
            let header = if s.ends_with('\n') { "|" } else { "|-" };
            let mut out = header.to_string();
            for line in s.trim_end_matches('\n').split('\n') {
                out.push('\n');
                if !line.is_empty() {
                    out.push_str(&" ".repeat(indent));
                    out.push_str(line);
                }
            }
            return out;
        }
        return serde_json::to_string(s).unwrap_or_default();
    }
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` \t".contains(c))
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.chars().any(char::is_control)
        && !looks_typed(s);
    // `- x` and `-x` are fine as strings only when the dash is not followed by a space.
    let dash_ok = s.starts_with('-') && !s.starts_with("- ") && s.len() > 1 && !looks_typed(s);
    if plain || (dash_ok && !s.contains(": ") && !s.contains(" #") && !s.ends_with(':')) {
        s.to_string()
    } else if s.is_empty() || looks_typed(s) || s.chars().any(char::is_control) {
        // go-yaml v2 (kubectl, `argocd appset generate`, sigs.k8s.io/yaml) double-quotes a
        // string that would read back as another type; other strings that cannot be plain get
        // the emitter's fallback, single quotes.
        serde_json::to_string(s).unwrap_or_default()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}
