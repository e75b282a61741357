//! JSON values into the policy engine's values, each distinct string allocated once.

use foldhash::HashSet;
use regorus::{Rc, Value as V};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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
#[derive(Default)]
pub(super) struct Converter {
    strings: HashSet<Rc<str>>,
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
        match v {
            Value::Null => V::Null,
            Value::Bool(b) => V::from(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    V::from(u)
                } else if let Some(i) = n.as_i64() {
                    V::from(i)
                } else {
                    // serde_json holds only finite floats, which regorus keeps as they are.
                    V::from(n.as_f64().unwrap_or_default())
                }
            }
            Value::String(s) => self.string(s),
            Value::Array(items) => V::from(items.iter().map(|i| self.value(i)).collect::<Vec<_>>()),
            Value::Object(m) => self.object(m, None),
        }
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
        let mut out = BTreeMap::new();
        if let Some(apps) = values.get("apps") {
            let apps = match apps {
                Value::Object(apps) => {
                    let mut by_name = BTreeMap::new();
                    for (name, app) in apps {
                        let name = self.string(name);
                        by_name.insert(name, self.switches(app));
                    }
                    V::from(by_name)
                }
                Value::Array(apps) => V::from(
                    apps.iter()
                        .map(|app| self.switches(app))
                        .collect::<Vec<_>>(),
                ),
                other => self.value(other),
            };
            out.insert(self.string("apps"), apps);
        }
        V::from(out)
    }

    /// One app's `enabled` and `envId` (see [`Converter::app_switches`]).
    fn switches(&mut self, app: &Value) -> V {
        let Value::Object(fields) = app else {
            return self.value(app);
        };
        let mut out = BTreeMap::new();
        for key in ["enabled", "envId"] {
            if let Some(v) = fields.get(key) {
                let key = self.string(key);
                out.insert(key, self.value(v));
            }
        }
        V::from(out)
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
