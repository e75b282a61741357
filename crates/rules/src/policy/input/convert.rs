//! JSON values into the policy engine's values, each distinct string allocated once.

use foldhash::HashSet;
use regorus::{Rc, Value as V};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// The most entries an array or object may have to be shared ([`Converter::share`]).
const SMALL: usize = 8;

/// Converts JSON values to the engine's values, equal to what `regorus::Value::deserialize`
/// gives, but with one allocation per distinct string (object keys and string values alike).
///
/// Why: the tenants' part of the input is ten thousand objects of the same twenty keys, with
/// values that repeat across tenants (tiers, image repositories, regions) or within one (a
/// tenant's id is its namespace and the start of its names). The deserializer allocates every
/// one of them anew (regorus only interns keys inside `Value::from_json_str`), and at that
/// count the strings were most of the input's memory. A shared string costs a counter
/// increment. One converter per worker, and one in the facts' `Builder` for its words: the
/// table is dropped with it.
///
/// The table hashes with foldhash (seeded per process, as hashbrown's default) rather than the
/// standard SipHash: it is asked once for every string of the input, and `string` went from
/// 2.7% to 1.6% of the CPU samples of a clean 10,000-tenant run.
///
/// Small arrays and objects are shared the same way ([`Converter::share`]).
#[derive(Default)]
pub(super) struct Converter {
    strings: HashSet<Rc<str>>,
    /// Small arrays and objects made so far, each once.
    shared: HashSet<Shared>,
}

/// A small array or object, hashed and compared by what it holds, as a key of the shared
/// table. It holds no floating-point number: the engine compares `1` and `1.0` equal, and
/// sharing must not change a number's kind underneath a policy.
#[derive(PartialEq, Eq)]
struct Shared(V);

impl Hash for Shared {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

/// Hashes a small array or object by its entries, each by [`hash_entry`].
fn hash_value<H: Hasher>(v: &V, state: &mut H) {
    std::mem::discriminant(v).hash(state);
    match v {
        V::Array(items) => {
            items.len().hash(state);
            items.iter().for_each(|i| hash_entry(i, state));
        }
        V::Object(fields) => {
            fields.len().hash(state);
            for (k, v) in fields.iter() {
                hash_entry(k, state);
                hash_entry(v, state);
            }
        }
        other => hash_entry(other, state),
    }
}

/// Hashes an entry of a small value: a scalar by its value, a string, array or object by its
/// address. Equal ones are one allocation: every string comes from the converter's table
/// ([`Converter::string`]) and every array or object inside a small value was shared before
/// it ([`Converter::share`]). One made elsewhere would only go unshared (`Eq` still compares
/// what they hold). Why: hashing the text and the nested entries again was 0.5% of the
/// instructions of a run with many findings.
fn hash_entry<H: Hasher>(v: &V, state: &mut H) {
    std::mem::discriminant(v).hash(state);
    match v {
        V::Bool(b) => b.hash(state),
        V::Number(n) => n.as_u64().hash(state),
        V::String(s) => Rc::as_ptr(s).cast::<u8>().hash(state),
        V::Array(items) => Rc::as_ptr(items).cast::<u8>().hash(state),
        V::Object(fields) => Rc::as_ptr(fields).cast::<u8>().hash(state),
        _ => {}
    }
}

impl Converter {
    /// A string value, shared with every equal one this converter has made.
    pub(super) fn string(&mut self, s: &str) -> V {
        if let Some(shared) = self.strings.get(s) {
            return V::String(Rc::clone(shared));
        }
        let shared: Rc<str> = Rc::from(s);
        self.strings.insert(Rc::clone(&shared));
        V::String(shared)
    }

    /// One JSON value, converted as the deserializer converts it: integers stay integers
    /// (`u64` first, as serde_json visits a non-negative one), objects are sorted by key.
    pub(super) fn value(&mut self, v: &Value) -> V {
        self.small_value(v).0
    }

    /// [`Converter::value`], and whether the value is small: a scalar other than a
    /// floating-point number, or a shared array or object ([`Converter::share`]).
    fn small_value(&mut self, v: &Value) -> (V, bool) {
        match v {
            Value::Null => (V::Null, true),
            Value::Bool(b) => (V::from(*b), true),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    (V::from(u), true)
                } else if let Some(i) = n.as_i64() {
                    (V::from(i), true)
                } else {
                    // serde_json holds only finite floats, which regorus keeps as they are.
                    (V::from(n.as_f64().unwrap_or_default()), false)
                }
            }
            Value::String(s) => (self.string(s), true),
            Value::Array(items) => self.list(items, Self::small_value),
            Value::Object(m) => self.map(m, Self::small_value),
        }
    }

    /// An array of `items`, each converted by `each`, shared when small ([`Converter::share`]).
    fn list(&mut self, items: &[Value], each: fn(&mut Self, &Value) -> (V, bool)) -> (V, bool) {
        let mut small = items.len() <= SMALL;
        let items: Vec<V> = items
            .iter()
            .map(|i| {
                let (v, s) = each(self, i);
                small &= s;
                v
            })
            .collect();
        self.share(V::from(items), small)
    }

    /// An object of `m`'s entries, each value converted by `each`, shared when small.
    fn map(
        &mut self,
        m: &Map<String, Value>,
        each: fn(&mut Self, &Value) -> (V, bool),
    ) -> (V, bool) {
        let mut small = m.len() <= SMALL;
        let mut out = BTreeMap::new();
        for (k, v) in m {
            let key = self.string(k);
            let (value, s) = each(self, v);
            small &= s;
            out.insert(key, value);
        }
        self.share(V::from(out), small)
    }

    /// `v` itself, or an equal value made before, when `small` (it has at most [`SMALL`]
    /// entries, each small itself): then the returned value is shared with every equal one
    /// this converter makes. Why: a tenant's node paths (`["spec", "destination",
    /// "namespace"]`) and its apps' switches (`{"enabled": true}`) are the same for most
    /// tenants, and each was an allocation of its own (about 1 KiB per tenant). A value is
    /// reference-counted and never changed in place, so a shared one reads as a copy would.
    fn share(&mut self, v: V, small: bool) -> (V, bool) {
        if !small {
            return (v, false);
        }
        let key = Shared(v);
        if let Some(Shared(shared)) = self.shared.get(&key) {
            return (shared.clone(), true);
        }
        let v = key.0.clone();
        self.shared.insert(key);
        (v, true)
    }

    /// An object's entries, plus `extra` (a key and a value, already converted, kept apart
    /// from the object, which replaces an entry of the same key). Why here rather than
    /// inserted afterwards: the engine keeps a finished object in a compact sorted slice, and
    /// inserting a new key turns it back into a `BTreeMap` for good.
    pub(super) fn object(&mut self, m: &Map<String, Value>, extra: Option<(&str, V)>) -> V {
        let mut out = BTreeMap::new();
        for (k, v) in m {
            let key = self.string(k);
            let value = self.value(v);
            out.insert(key, value);
        }
        if let Some((k, v)) = extra {
            out.insert(self.string(k), v);
        }
        // Not shared: the objects made here are the input's records (a tenant, the input
        // itself), each one of a kind, and the input is changed in place once built.
        V::from(out)
    }

    /// A tenant's Helm values as far as the embedded policies read them: `apps`, and of each
    /// app (an entry of `apps`, a map or a list) its `enabled` and `envId`. Anything that is
    /// not a map where one is expected is kept whole, so a rule that tests its type sees it.
    /// Why: the values converted whole were 29 MiB of the clean 10,000-tenant run's heap at its
    /// peak, and the embedded policies read two keys of them (`policies/tier.rego`).
    pub(super) fn app_switches(&mut self, values: &Value) -> V {
        let Value::Object(values) = values else {
            return self.value(values);
        };
        let Some(apps) = values.get("apps") else {
            return V::from(BTreeMap::new());
        };
        let (apps, small) = match apps {
            Value::Object(apps) => self.map(apps, Self::switches),
            Value::Array(apps) => self.list(apps, Self::switches),
            other => self.small_value(other),
        };
        let out = BTreeMap::from([(self.string("apps"), apps)]);
        self.share(V::from(out), small).0
    }

    /// One app's `enabled` and `envId` (see [`Converter::app_switches`]), and whether it is
    /// small ([`Converter::small_value`]).
    fn switches(&mut self, app: &Value) -> (V, bool) {
        let Value::Object(fields) = app else {
            return self.small_value(app);
        };
        let mut out = BTreeMap::new();
        let mut small = true;
        for key in ["enabled", "envId"] {
            if let Some(v) = fields.get(key) {
                let key = self.string(key);
                let (value, s) = self.small_value(v);
                small &= s;
                out.insert(key, value);
            }
        }
        self.share(V::from(out), small)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    fn deserialized(v: &Value) -> V {
        V::deserialize(v).unwrap_or(V::Undefined)
    }

    #[test]
    fn converts_as_the_deserializer_does() {
        let v = json!({
            "tenantId": "tenant-1", "replicas": 3, "offset": -2, "big": u64::MAX,
            "ratio": 0.5, "on": true, "off": false, "none": null,
            "apps": {"producer": {"enabled": true, "tag": "1.4.1"}, "consumer": {}},
            "list": [1, "a", [], {"z": 1, "a": 2}],
            "": "empty key",
        });
        let converted = Converter::default().value(&v);
        assert_eq!(converted, deserialized(&v));
        // Equal is not enough for a map key: the order of the keys must match too.
        assert_eq!(
            serde_json::to_string(&converted).ok(),
            serde_json::to_string(&deserialized(&v)).ok()
        );
    }

    #[test]
    fn equal_strings_share_one_allocation() {
        let mut c = Converter::default();
        let v = json!([{"tier": "premium"}, {"tier": "premium"}]);
        let converted = c.value(&v);
        let tiers: Vec<Rc<str>> = (0u64..2)
            .filter_map(|i| match &converted[i][&V::from("tier")] {
                V::String(s) => Some(Rc::clone(s)),
                _ => None,
            })
            .collect();
        assert_eq!(tiers.len(), 2);
        assert!(Rc::ptr_eq(&tiers[0], &tiers[1]));
        let keys: Vec<&V> = (0u64..2)
            .filter_map(|i| converted[i].as_object().ok())
            .flat_map(|o| o.keys())
            .collect();
        match (keys.first(), keys.get(1)) {
            (Some(V::String(a)), Some(V::String(b))) => assert!(Rc::ptr_eq(a, b)),
            other => panic!("expected two string keys, got {other:?}"),
        }
    }

    /// The shared array or object at `key` of the `i`-th element of `v`.
    fn composite(v: &V, i: u64, key: &str) -> *const () {
        match &v[i][&V::from(key)] {
            V::Array(a) => Rc::as_ptr(a).cast(),
            V::Object(o) => Rc::as_ptr(o).cast(),
            other => panic!("`{key}` is not an array or object: {other:?}"),
        }
    }

    #[test]
    fn equal_small_arrays_and_objects_share_one_allocation() {
        let mut c = Converter::default();
        let path = json!(["spec", "destination", "namespace"]);
        let nine = json!([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        let v = json!([
            {"path": path, "switch": {"enabled": true}, "long": nine, "float": [0.5]},
            {"path": path, "switch": {"enabled": true}, "long": nine, "float": [0.5]},
        ]);
        let converted = c.value(&v);
        assert_eq!(converted, deserialized(&v));
        // Longer than `SMALL`, or holding a float: each its own.
        for (key, shared) in [
            ("path", true),
            ("switch", true),
            ("long", false),
            ("float", false),
        ] {
            let same = composite(&converted, 0, key) == composite(&converted, 1, key);
            assert_eq!(same, shared, "`{key}` shared");
        }
        // Equal apps' switches are one value, across the tenants a converter sees.
        let a = c.app_switches(&json!({"apps": {"producer": {"enabled": true, "replicas": 1}}}));
        let b = c.app_switches(&json!({"apps": {"producer": {"enabled": true, "replicas": 3}}}));
        match (&a, &b) {
            (V::Object(a), V::Object(b)) => assert!(Rc::ptr_eq(a, b)),
            other => panic!("expected two objects, got {other:?}"),
        }
    }

    #[test]
    fn an_extra_entry_joins_and_replaces() {
        let m = json!({"id": "t", "values": "old"});
        let Value::Object(m) = m else {
            panic!("an object")
        };
        let mut c = Converter::default();
        let values = c.value(&json!({"tier": "basic"}));
        let converted = c.object(&m, Some(("values", values)));
        assert_eq!(
            converted,
            deserialized(&json!({"id": "t", "values": {"tier": "basic"}}))
        );
    }

    #[test]
    fn app_switches_keep_what_the_embedded_policies_read() {
        let mut c = Converter::default();
        let values = json!({
            "tenantId": "t", "region": "r",
            "apps": {
                "producer": {"enabled": true, "envId": "pool-1", "replicas": 2, "image": {"tag": "1"}},
                "consumer": {"enabled": "true"},
                "worker": {},
                "odd": "not a map",
            },
        });
        assert_eq!(
            c.app_switches(&values),
            deserialized(&json!({"apps": {
                "producer": {"enabled": true, "envId": "pool-1"},
                "consumer": {"enabled": "true"},
                "worker": {},
                "odd": "not a map",
            }}))
        );
        // A list of apps keeps its indices; values or apps that are not maps stay whole.
        assert_eq!(
            c.app_switches(&json!({"apps": [{"envId": null, "x": 1}, 3]})),
            deserialized(&json!({"apps": [{"envId": null}, 3]}))
        );
        assert_eq!(
            c.app_switches(&json!({"apps": "all"})),
            deserialized(&json!({"apps": "all"}))
        );
        assert_eq!(
            c.app_switches(&json!({"region": "r"})),
            deserialized(&json!({}))
        );
        assert_eq!(c.app_switches(&json!("text")), deserialized(&json!("text")));
    }
}
