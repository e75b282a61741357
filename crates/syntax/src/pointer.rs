//! JSON Pointer lookups (RFC 6901) into parsed documents: what `serde_json::Value::pointer`
//! finds, without its cost.
//!
//! Why not that method: it unescapes every segment into two new strings (`~1`, then `~0`) and
//! hashes every key with the map's SipHash. Every reader of a document asks a few pointers of
//! it (`/metadata/name`, `/spec/source/helm/releaseName`, ...), for every tenant, release and
//! manifest, and those lookups were 4.4% of the CPU samples of a clean 10,000-tenant run. Here
//! a segment is borrowed unless it holds a `~`, and a small mapping (most of them) is scanned
//! in order rather than hashed. `clippy.toml` disallows the serde_json method, so new code
//! uses this one.

use serde_json::{Map, Value};
use std::borrow::Cow;

/// Up to this many entries, a mapping is scanned rather than hashed: comparing a handful of
/// short keys costs less than one SipHash of the key looked up.
const SCANNED_UP_TO: usize = 8;

/// JSON Pointer lookups on a parsed document.
pub trait Lookup {
    /// The value `pointer` names, exactly as `serde_json::Value::pointer` finds it: `""` is
    /// the whole document, a pointer must start with `/`, `~1` and `~0` are unescaped, and an
    /// array index is decimal without a sign or a leading zero.
    fn lookup(&self, pointer: &str) -> Option<&Value>;
}

impl Lookup for Value {
    fn lookup(&self, pointer: &str) -> Option<&Value> {
        if pointer.is_empty() {
            return Some(self);
        }
        pointer
            .strip_prefix('/')?
            .split('/')
            .try_fold(self, |target, segment| {
                let token = unescape(segment);
                match target {
                    Value::Object(map) => entry(map, &token),
                    Value::Array(list) => index(&token).and_then(|i| list.get(i)),
                    _ => None,
                }
            })
    }
}

/// The value of `key` in `map`. Keys are unique, so a scan finds what the hash finds.
pub fn entry<'m>(map: &'m Map<String, Value>, key: &str) -> Option<&'m Value> {
    if map.len() <= SCANNED_UP_TO {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// A pointer segment with `~1` and `~0` unescaped, in that order (RFC 6901 §4).
fn unescape(segment: &str) -> Cow<'_, str> {
    if segment.contains('~') {
        Cow::Owned(segment.replace("~1", "/").replace("~0", "~"))
    } else {
        Cow::Borrowed(segment)
    }
}

/// An array index as serde_json's `parse_index` reads it: no `+`, no leading zero.
fn index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every pointer below, looked up both ways.
    #[allow(clippy::disallowed_methods)]
    fn agrees(doc: &Value, pointer: &str) {
        assert_eq!(
            doc.lookup(pointer),
            doc.pointer(pointer),
            "pointer {pointer:?}"
        );
    }

    #[test]
    fn finds_what_serde_json_finds() {
        let mut big = Map::new();
        for i in 0..20 {
            big.insert(format!("k{i}"), json!(i));
        }
        let doc = json!({
            "metadata": {"name": "tenant-1", "annotations": {"eks.amazonaws.com/role-arn": "arn"}},
            "a/b": 1, "m~n": 2, "~1": 3, "": {"": 4},
            "list": [10, 11, {"x": [12]}],
            "big": Value::Object(big),
        });
        for pointer in [
            "",
            "/",
            "//",
            "/metadata",
            "/metadata/name",
            "/metadata/missing",
            "/metadata/annotations/eks.amazonaws.com~1role-arn",
            "/a~1b",
            "/m~0n",
            "/~01",
            "/list/0",
            "/list/2/x/0",
            "/list/02",
            "/list/+1",
            "/list/-1",
            "/list/3",
            "/list/",
            "/list/0/deeper",
            "/big/k0",
            "/big/k19",
            "/big/k20",
            "metadata",
            "/metadata/name/x",
        ] {
            agrees(&doc, pointer);
        }
        assert_eq!(doc.lookup("/metadata/name"), Some(&json!("tenant-1")));
        assert_eq!(doc.lookup("/~01"), Some(&json!(3)));
        assert_eq!(doc.lookup("/big/k19"), Some(&json!(19)));
    }

    #[test]
    fn a_long_mapping_and_a_short_one_find_the_same_entry() {
        let mut m = Map::new();
        for i in 0..=SCANNED_UP_TO * 2 {
            m.insert(format!("key-{i}"), json!(i));
            for j in 0..=i {
                assert_eq!(entry(&m, &format!("key-{j}")), Some(&json!(j)));
            }
            assert_eq!(entry(&m, "key-none"), None);
        }
    }
}
