//! Tier contracts for the policy input: each tenant's document beside its tier template
//! rendered with that tenant's id, so `policies/tier_contract.rego` can compare them field by
//! field.
//!
//! A template is rendered at the value level, the way onboarding's `sed` renders its text:
//! `{TENANT_ID}` becomes the tenant's id. Every other placeholder (`{ACCOUNT_ID}`,
//! `{RELEASE_VERSION}`, ...) is per-installation, so a field that holds one becomes a pattern
//! (a regular expression) the tenant's value must match instead of a fixed value.

use gitops_lint_core::source::PathSeg;
use gitops_lint_model::{DocRef, Tenant, World};
use gitops_lint_syntax::placeholder::unmask;
use gitops_lint_syntax::pointer;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// A tenant's document with its Helm values as a mapping in place of the values string (so one
/// path addresses a field in both the tenant and its template).
pub fn document(world: &World, t: &Tenant) -> Option<Value> {
    let doc = world.doc(DocRef {
        file: t.file_id,
        doc: t.doc,
    })?;
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
            (Value::Object(m), PathSeg::Key(k)) => match m.get_mut(k.as_str()) {
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
            m.insert(k.to_string(), new);
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

/// The differences between a tenant's document and its tier template rendered for
/// `tenant_id`: `{kind: "changed", path, want, got}`, `{kind: "missing", path, leaves}` (the
/// topmost key the tenant lacks) and `{kind: "extra", path, leaves}` (the topmost key the
/// template lacks). `leaves` are the field paths inside, so a policy can tell whether any of
/// them is its business. Mappings are compared key by key; a list is one value. A template
/// string that still holds a placeholder other than `{TENANT_ID}` is a pattern: each token
/// matches any non-empty text.
pub fn drift(template: &Value, tenant: &Value, tenant_id: &str) -> Vec<Value> {
    let mut out = Vec::new();
    compare(template, tenant, tenant_id, None, &mut Vec::new(), &mut out);
    out
}

/// [`drift`] of a tenant that is not a template, against its document as [`document`] builds
/// it, without building it: the file's document is read where it is, and the values (parsed
/// from their string) are read in place of the node at `values_path`. Why: a copy of every
/// tenant's document (10,000 at scale) was most of the cost of the comparison. `None` when the
/// values sit inside a list (`spec.sources[1].helm`): a list compares as one value, so that
/// document is built after all ([`document`]).
pub fn tenant_drift(world: &World, t: &Tenant, template: &Value) -> Option<Vec<Value>> {
    let doc = world.doc(DocRef {
        file: t.file_id,
        doc: t.doc,
    })?;
    let mut keys = Vec::with_capacity(t.values_path.len());
    for seg in &t.values_path {
        match seg {
            PathSeg::Key(k) => keys.push(k.as_str()),
            PathSeg::Index(_) => {
                let built = document(world, t)?;
                return Some(drift(template, &built, &t.id));
            }
        }
    }
    let mut out = Vec::new();
    let overlay = Overlay {
        path: &keys,
        value: &t.values,
    };
    compare(
        template,
        &doc.value,
        &t.id,
        Some(&overlay),
        &mut Vec::new(),
        &mut out,
    );
    Some(out)
}

/// A value read in place of the node at `path` (see [`tenant_drift`]).
struct Overlay<'a> {
    path: &'a [&'a str],
    value: &'a Value,
}

impl Overlay<'_> {
    /// Whether the node at `path` is the overlaid one.
    fn covers(&self, path: &[&str]) -> bool {
        path.len() == self.path.len() && path.iter().zip(self.path).all(|(a, b)| a == b)
    }
}

/// A mapping's child at `path` (which already ends in its key), as the document with the
/// overlay set reads it: `found` is the child as written, if the key is there.
fn child<'a>(
    found: Option<&'a Value>,
    path: &[&str],
    overlay: Option<&Overlay<'a>>,
) -> Option<&'a Value> {
    match overlay {
        Some(o) if o.covers(path) && found.is_some() => Some(o.value),
        _ => found,
    }
}

/// The value of key `k` in `m`, looked at first in `here`, the entry at the same place as `k`
/// in the other mapping. Why: a tenant is written from its template, so its keys are mostly in
/// the template's order, and an entry found in place needs no hash of its key (the map's hash
/// is SipHash, and this runs for every field of every tenant).
fn entry_here_first<'a>(
    m: &'a Map<String, Value>,
    here: Option<(&'a String, &'a Value)>,
    k: &str,
) -> Option<&'a Value> {
    match here {
        Some((key, value)) if key == k => Some(value),
        _ => pointer::entry(m, k),
    }
}

/// Why the path borrows its keys: this runs over every field of every tenant (10,000 at
/// scale), and only a difference needs the path as owned text.
fn compare<'a>(
    want: &'a Value,
    got: &'a Value,
    id: &str,
    overlay: Option<&Overlay<'a>>,
    path: &mut Vec<&'a str>,
    out: &mut Vec<Value>,
) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            let mut g_in_order = g.iter();
            for (k, wv) in w {
                let found = entry_here_first(g, g_in_order.next(), k);
                path.push(k);
                match child(found, path, overlay).filter(|v| !v.is_null()) {
                    Some(gv) => compare(wv, gv, id, overlay, path, out),
                    None => out
                        .push(json!({"kind": "missing", "path": path, "leaves": leaves(wv, path)})),
                }
                path.pop();
            }
            let mut w_in_order = w.iter();
            for (k, gv) in g {
                if entry_here_first(w, w_in_order.next(), k).is_some() {
                    continue;
                }
                path.push(k);
                if let Some(gv) = child(Some(gv), path, overlay).filter(|v| !v.is_null()) {
                    out.push(json!({"kind": "extra", "path": path, "leaves": leaves(gv, path)}));
                }
                path.pop();
            }
        }
        _ => {
            let rendered = render_leaf(want, id);
            if !agrees(&rendered, got) {
                out.push(json!({"kind": "changed", "path": path, "want": rendered, "got": got}));
            }
        }
    }
}

/// [`render`], borrowing a scalar that holds no `{TENANT_ID}` (most of them) instead of
/// copying it.
fn render_leaf<'v>(v: &'v Value, id: &str) -> Cow<'v, Value> {
    match v {
        Value::String(s) if !s.contains("{TENANT_ID}") => Cow::Borrowed(v),
        Value::Null | Value::Bool(_) | Value::Number(_) => Cow::Borrowed(v),
        _ => Cow::Owned(render(v, id)),
    }
}

/// The template value as onboarding renders it for this tenant (`{TENANT_ID}` replaced).
fn render(v: &Value, id: &str) -> Value {
    match v {
        Value::String(s) => Value::String(s.replace("{TENANT_ID}", id)),
        Value::Array(a) => Value::Array(a.iter().map(|x| render(x, id)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), render(x, id)))
                .collect::<Map<String, Value>>(),
        ),
        other => other.clone(),
    }
}

fn agrees(want: &Value, got: &Value) -> bool {
    if want == got {
        return true;
    }
    let Value::String(w) = want else {
        return false;
    };
    let tokens = gitops_lint_syntax::placeholder::scan(w);
    if tokens.is_empty() {
        return false;
    }
    let text = match got {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => return false,
    };
    // Each token becomes "one character, then any run": a glob of `?*`.
    let mut glob: Vec<Option<char>> = Vec::new();
    let mut at = 0;
    for t in tokens {
        glob.extend(w[at..t.start].chars().map(Some));
        glob.push(Some('\0'));
        glob.push(None);
        at = t.end;
    }
    glob.extend(w.get(at..).unwrap_or("").chars().map(Some));
    token_pattern_match(&glob, &text.chars().collect::<Vec<_>>())
}

/// Glob matching with `Some('\0')` as "any one character" and `None` as "any run", in
/// O(pattern x text) at worst (the classic two-pointer backtracking).
fn token_pattern_match(p: &[Option<char>], t: &[char]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(None) => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(Some(c)) if *c == '\0' || *c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(Option::is_none)
}

/// The field paths inside a value (itself, when it is not a mapping).
fn leaves<'a>(v: &'a Value, path: &[&'a str]) -> Vec<Vec<&'a str>> {
    match v {
        Value::Object(m) if !m.is_empty() => {
            let mut out = Vec::new();
            for (k, x) in m {
                let mut p = path.to_vec();
                p.push(k);
                out.extend(leaves(x, &p));
            }
            out
        }
        _ => vec![path.to_vec()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changed_missing_and_extra_fields() {
        let template = json!({"spec": {"name": "{TENANT_ID}-premium", "repo": "oci://{ACCOUNT_ID}.dkr",
                               "sync": {"selfHeal": true, "opts": ["a"]}}});
        let tenant = json!({"spec": {"name": "tenant-1-premium", "repo": "oci://1234.dkr",
                             "sync": {"selfHeal": false}, "extra": {"x": 1}}});
        let d = drift(&template, &tenant, "tenant-1");
        let kinds: Vec<String> = d
            .iter()
            .map(|x| format!("{} {}", x["kind"].as_str().unwrap_or(""), x["path"]))
            .collect();
        assert_eq!(
            kinds,
            vec![
                "changed [\"spec\",\"sync\",\"selfHeal\"]",
                "missing [\"spec\",\"sync\",\"opts\"]",
                "extra [\"spec\",\"extra\"]",
            ]
        );
        assert_eq!(d[2]["leaves"], json!([["spec", "extra", "x"]]));
    }

    #[test]
    fn placeholders_match_any_non_empty_text() {
        let w = |s: &str| Value::String(s.to_string());
        assert!(agrees(
            &w("oci://{ACCOUNT_ID}.dkr.ecr.{REGION}.x"),
            &w("oci://1.dkr.ecr.eu-1.x")
        ));
        assert!(!agrees(&w("oci://{ACCOUNT_ID}.dkr"), &w("oci://.dkr")));
        assert!(agrees(&w("\"{RELEASE_VERSION}.x\""), &w("\"0.2.x\"")));
        assert!(!agrees(&w("{A}-premium"), &w("t-basic")));
    }
}
