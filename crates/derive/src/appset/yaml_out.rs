//! A small, deterministic YAML emitter for JSON values (block style, lists flush under their
//! key as kubectl and `argocd appset generate` print them). Strings that YAML 1.1 would read as
//! something else (`yes`, `0400`, `1.10`, `~`) or that hold indicators are quoted.

use serde_json::Value;

/// The value as a YAML document (no `---`), ending with a newline.
pub fn to_yaml(v: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::RuleId;

    #[test]
    fn emits_block_yaml_that_round_trips() {
        let v = serde_json::json!({
            "metadata": {"name": "t1", "labels": {"a": "yes", "b": "0400", "c": "x: y"}},
            "spec": {"list": ["a", {"k": "v", "n": 3}], "empty": {}, "none": [], "flag": true,
                     "text": "line 1\nline 2\n", "dash": "--foo", "star": "*"}
        });
        let text = to_yaml(&v);
        let back = gitops_lint_syntax::yaml::load(&text);
        assert!(
            back.issues.iter().all(|i| i.rule != RuleId::YAML_SYNTAX),
            "{text}"
        );
        assert_eq!(back.docs[0].value, v, "{text}");
        assert!(text.contains("  name: t1\n"));
        assert!(text.contains("    a: \"yes\"\n"), "{text}");
        assert!(text.contains("    c: 'x: y'\n"), "{text}");
    }
}
