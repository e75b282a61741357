//! Tier contracts for the policy input: each tenant's document beside its tier template
//! rendered with that tenant's id, so `policies/tier.rego` can compare them field by field.
//!
//! A template is rendered at the value level, the way onboarding's `sed` renders its text:
//! `{TENANT_ID}` becomes the tenant's id. Every other placeholder (`{ACCOUNT_ID}`,
//! `{RELEASE_VERSION}`, ...) is per-installation, so a field that holds one becomes a pattern
//! (a regular expression) the tenant's value must match instead of a fixed value.

use crate::model::{Tenant, World};
use crate::parse::placeholder::unmask;
use crate::source::PathSeg;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// A tenant's document with its Helm values as a mapping in place of the values string (so one
/// path addresses a field in both the tenant and its template).
pub fn document(world: &World, t: &Tenant) -> Option<Value> {
    let file = world.files.iter().find(|f| f.display == t.file)?;
    let doc = world.yaml.get(file.id.0 as usize)?.get(t.doc)?;
    let mut v = doc.value.clone();
    set(&mut v, &t.values_path, t.values.clone());
    if t.template {
        unmask_all(&mut v);
    }
    Some(v)
}

fn set(v: &mut Value, path: &[PathSeg], new: Value) {
    let Some((last, parents)) = path.split_last() else {
        *v = new;
        return;
    };
    let mut node = v;
    for seg in parents {
        node = match (node, seg) {
            (Value::Object(m), PathSeg::Key(k)) => match m.get_mut(k) {
                Some(n) => n,
                None => return,
            },
            (Value::Array(a), PathSeg::Index(i)) => match a.get_mut(*i) {
                Some(n) => n,
                None => return,
            },
            _ => return,
        };
    }
    match (node, last) {
        (Value::Object(m), PathSeg::Key(k)) => {
            m.insert(k.clone(), new);
        }
        (Value::Array(a), PathSeg::Index(i)) => {
            if let Some(slot) = a.get_mut(*i) {
                *slot = new;
            }
        }
        _ => {}
    }
}

fn unmask_all(v: &mut Value) {
    match v {
        Value::String(s) => *s = unmask(s),
        Value::Array(a) => a.iter_mut().for_each(unmask_all),
        Value::Object(m) => {
            let old = std::mem::take(m);
            *m = old
                .into_iter()
                .map(|(k, mut x)| {
                    unmask_all(&mut x);
                    (unmask(&k), x)
                })
                .collect::<Map<String, Value>>();
        }
        _ => {}
    }
}

/// The template document rendered for `tenant_id`, and the patterns of fields that keep
/// other placeholders, keyed by the JSON text of their path.
pub fn render(template: &Value, tenant_id: &str) -> (Value, BTreeMap<String, String>) {
    let mut patterns = BTreeMap::new();
    let mut out = template.clone();
    let mut path = Vec::new();
    walk(&mut out, tenant_id, &mut path, &mut patterns);
    (out, patterns)
}

fn walk(v: &mut Value, id: &str, path: &mut Vec<Value>, patterns: &mut BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            *s = s.replace("{TENANT_ID}", id);
            if let Some(p) = pattern(s) {
                patterns.insert(Value::Array(path.clone()).to_string(), p);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                path.push(json!(i));
                walk(x, id, path, patterns);
                path.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                path.push(json!(k));
                walk(x, id, path, patterns);
                path.pop();
            }
        }
        _ => {}
    }
}

/// `{NAME}` tokens become `.+`, the rest is matched literally; `None` without tokens.
fn pattern(s: &str) -> Option<String> {
    let tokens = crate::parse::placeholder::scan(s);
    if tokens.is_empty() {
        return None;
    }
    let mut out = String::from("^");
    let mut at = 0;
    for t in tokens {
        out.push_str(&escape(&s[at..t.start]));
        out.push_str(".+");
        at = t.end;
    }
    out.push_str(&escape(s.get(at..).unwrap_or("")));
    out.push('$');
    Some(out)
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The fields of a document, for comparing in Rego: every leaf reached through mappings only
/// (a list is one leaf), and the JSON text of every path to a mapping or leaf (a set: each maps
/// to `true`).
pub fn fields(v: &Value) -> (Vec<Value>, Map<String, Value>) {
    fn go(
        v: &Value,
        path: &mut Vec<String>,
        leaves: &mut Vec<Value>,
        paths: &mut Map<String, Value>,
    ) {
        if !path.is_empty() {
            paths.insert(json!(path).to_string(), Value::Bool(true));
        }
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    path.push(k.clone());
                    go(x, path, leaves, paths);
                    path.pop();
                }
            }
            leaf => {
                if !path.is_empty() {
                    leaves.push(json!({"path": path, "value": leaf}));
                }
            }
        }
    }
    let (mut leaves, mut paths) = (Vec::new(), Map::new());
    go(v, &mut Vec::new(), &mut leaves, &mut paths);
    (leaves, paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_tenant_id_and_patterns_the_rest() {
        let t = json!({"a": "{TENANT_ID}-premium", "b": ["x", "oci://{ACCOUNT_ID}.dkr"]});
        let (v, p) = render(&t, "tenant-1");
        assert_eq!(v["a"], "tenant-1-premium");
        assert_eq!(
            p.get("[\"b\",1]").map(String::as_str),
            Some("^oci://.+\\.dkr$")
        );
    }
}
