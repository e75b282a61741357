//! The schemas: core Kubernetes kinds (generated from k8s-openapi into `schemas/k8s.json`) and
//! Argo CD / Flux kinds (hand-written `schemas/argocd.json`, `schemas/flux.json`), embedded in
//! the binary and merged into one `definitions` table so that a CRD schema can use the core
//! `ObjectMeta`. Validators are compiled lazily, once per kind, and only for kinds present.

use jsonschema::Validator;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

const SOURCES: &[(&str, &str)] = &[
    (
        "schemas/k8s.json",
        include_str!("../../../../schemas/k8s.json"),
    ),
    (
        "schemas/argocd.json",
        include_str!("../../../../schemas/argocd.json"),
    ),
    (
        "schemas/flux.json",
        include_str!("../../../../schemas/flux.json"),
    ),
];

/// Every known kind and every schema definition.
pub(crate) struct Registry {
    /// The embedded registry this one adds to (for the CRDs of one run), if any: its kinds win,
    /// and its definitions (`ObjectMeta`) are shared.
    base: Option<&'static Registry>,
    /// `apiVersion/kind` -> definition name.
    kinds: BTreeMap<String, String>,
    /// Definition name -> schema.
    definitions: Map<String, Value>,
    /// One lazily compiled validator per definition name of a kind (`None`: did not compile).
    validators: HashMap<String, OnceLock<Option<Validator>>>,
}

/// The registry, parsed on first use.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::load)
}

impl Registry {
    fn load() -> Registry {
        let mut kinds = BTreeMap::new();
        let mut definitions = Map::new();
        for (_, text) in SOURCES {
            // The files are ours and a unit test parses them; a broken one only disables itself.
            let Ok(Value::Object(mut file)) = serde_json::from_str::<Value>(text) else {
                continue;
            };
            if let Some(Value::Object(k)) = file.remove("kinds") {
                for (key, name) in k {
                    if let Value::String(name) = name {
                        kinds.insert(key, name);
                    }
                }
            }
            if let Some(Value::Object(d)) = file.remove("definitions") {
                definitions.extend(d);
            }
        }
        let validators = kinds
            .values()
            .map(|name| (name.clone(), OnceLock::new()))
            .collect();
        Registry {
            base: None,
            kinds,
            definitions,
            validators,
        }
    }

    /// The embedded registry plus the CRDs of the linted repositories. A CRD for a kind the
    /// embedded schemas already describe is left out: those are kept in step with what Argo CD,
    /// Flux and Kubernetes accept, including the template syntax they allow.
    pub fn with_crds(base: &'static Registry, crds: Vec<super::crd::CrdSchema>) -> Registry {
        let mut kinds = BTreeMap::new();
        let mut definitions = Map::new();
        let mut validators = HashMap::new();
        for crd in crds {
            if base.kinds.contains_key(&crd.key) {
                continue;
            }
            validators.insert(crd.def.clone(), OnceLock::new());
            definitions.insert(crd.def.clone(), crd.schema);
            kinds.insert(crd.key, crd.def);
        }
        Registry {
            base: Some(base),
            kinds,
            definitions,
            validators,
        }
    }

    /// The definition name for a document's `apiVersion` and `kind`, if the kind is known.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<&str> {
        let key = format!("{api_version}/{kind}");
        match self.base {
            Some(base) => base
                .kinds
                .get(&key)
                .or_else(|| self.kinds.get(&key))
                .map(String::as_str),
            None => self.kinds.get(&key).map(String::as_str),
        }
    }

    /// A definition by name.
    pub fn definition(&self, name: &str) -> Option<&Value> {
        self.definitions
            .get(name)
            .or_else(|| self.base?.definition(name))
    }

    /// The validator of one kind's definition, compiled on first use.
    pub fn validator(&self, name: &str) -> Option<&Validator> {
        match self.validators.get(name) {
            Some(cell) => cell.get_or_init(|| self.compile(name)).as_ref(),
            None => self.base?.validator(name),
        }
    }

    /// Compiles `{"$ref": name}` with only the definitions reachable from it.
    fn compile(&self, name: &str) -> Option<Validator> {
        let mut reachable = BTreeSet::new();
        self.reach(name, &mut reachable);
        let definitions: Map<String, Value> = reachable
            .into_iter()
            .filter_map(|n| Some((n.to_string(), self.definition(n)?.clone())))
            .collect();
        let schema = serde_json::json!({
            "$ref": format!("#/definitions/{name}"),
            "definitions": definitions,
        });
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(false)
            .build(&schema)
            .ok()
    }

    fn reach<'a>(&'a self, name: &'a str, seen: &mut BTreeSet<&'a str>) {
        if !seen.insert(name) {
            return;
        }
        if let Some(schema) = self.definition(name) {
            let mut refs = Vec::new();
            collect_refs(schema, &mut refs);
            for r in refs {
                self.reach(r, seen);
            }
        }
    }
}

/// The definition name a `$ref` points to.
pub(crate) fn ref_name(reference: &str) -> &str {
    reference
        .strip_prefix("#/definitions/")
        .unwrap_or(reference)
}

fn collect_refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
    match schema {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(ref_name(r)),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_file_parses_and_every_kind_compiles() {
        for (path, text) in SOURCES {
            let parsed: Result<Value, _> = serde_json::from_str(text);
            assert!(parsed.is_ok(), "{path} does not parse");
        }
        let reg = registry();
        for key in reg.kinds.keys() {
            let (api, kind) = key.rsplit_once('/').unwrap_or_else(|| panic!("{key}"));
            let name = reg.kind(api, kind).unwrap_or_else(|| panic!("{key}"));
            assert!(reg.validator(name).is_some(), "{key} does not compile");
        }
        let mut refs = Vec::new();
        for schema in reg.definitions.values() {
            collect_refs(schema, &mut refs);
        }
        for r in refs {
            assert!(reg.definitions.contains_key(r), "dangling $ref {r}");
        }
    }
}
