//! The schemas: the built-in Kubernetes kinds of the configured version (generated from
//! k8s-openapi into `schemas/k8s.deflate`, read lazily by `builtin.rs`) and Argo CD / Flux kinds
//! (hand-written `schemas/argocd.json`, `schemas/flux.json`), embedded in the binary; a CRD
//! schema's `$ref` to the core `ObjectMeta` resolves to the built-in definition. Validators are
//! compiled lazily, once per kind, and only for kinds present.

use super::builtin;
use jsonschema::Validator;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

const SOURCES: &[(&str, &str)] = &[
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
    /// The built-in kinds of the configured Kubernetes version (looked up after `kinds` of the
    /// embedded registry, before those of the run's CRDs).
    builtin: builtin::Version,
    /// `apiVersion/kind` -> definition name.
    kinds: BTreeMap<String, String>,
    /// Definition name -> schema.
    definitions: Map<String, Value>,
    /// One lazily compiled validator per definition name of a kind (`None`: did not compile).
    validators: HashMap<String, OnceLock<Option<Validator>>>,
}

/// The registry for the newest Kubernetes version, parsed on first use.
#[cfg(test)]
pub fn registry() -> &'static Registry {
    registry_for(gitops_lint_config::NEWEST_KUBERNETES_MINOR)
}

/// The registry for Kubernetes `1.minor` (`kubernetesVersion`), parsed on first use; one per
/// generated version, so a validator compiled once serves every later run.
pub fn registry_for(minor: u32) -> &'static Registry {
    static REGISTRIES: [OnceLock<Registry>; builtin::MINORS.len()] =
        [const { OnceLock::new() }; builtin::MINORS.len()];
    let version = builtin::Version::for_minor(minor);
    REGISTRIES[builtin::index_for(minor)].get_or_init(|| Registry::load(version))
}

impl Registry {
    fn load(builtin: builtin::Version) -> Registry {
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
            builtin,
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
            if base.kind_by_key(&crd.key).is_some() {
                continue;
            }
            validators.insert(crd.def.clone(), OnceLock::new());
            definitions.insert(crd.def.clone(), crd.schema);
            kinds.insert(crd.key, crd.def);
        }
        Registry {
            base: Some(base),
            builtin: base.builtin,
            kinds,
            definitions,
            validators,
        }
    }

    /// The definition name for a document's `apiVersion` and `kind`, if the kind is known.
    pub fn kind(&self, api_version: &str, kind: &str) -> Option<&str> {
        self.kind_by_key(&format!("{api_version}/{kind}"))
    }

    /// [`Registry::kind`] by `apiVersion/kind`.
    fn kind_by_key(&self, key: &str) -> Option<&str> {
        match self.base {
            Some(base) => base
                .kind_by_key(key)
                .or_else(|| self.kinds.get(key).map(String::as_str)),
            None => self.kinds.get(key).map(String::as_str).or_else(|| {
                let (api, kind) = key.rsplit_once('/')?;
                self.builtin.kind(api, kind)
            }),
        }
    }

    /// The Kubernetes minor version whose built-in schemas this registry uses.
    pub fn kubernetes_minor(&self) -> u32 {
        self.builtin.minor()
    }

    /// A definition by name.
    pub fn definition(&self, name: &str) -> Option<&Value> {
        self.definitions.get(name).or_else(|| match self.base {
            Some(base) => base.definition(name),
            None => self.builtin.definition(name),
        })
    }

    /// The validator of one kind's definition, compiled on first use.
    pub fn validator(&self, name: &str) -> Option<&Validator> {
        match self.validators.get(name) {
            Some(cell) => cell
                .get_or_init(|| compile(name, &|n| self.definition(n)))
                .as_ref(),
            None => match self.base {
                Some(base) => base.validator(name),
                None => self.builtin.validator(name),
            },
        }
    }
}

/// Compiles `{"$ref": name}` with only the definitions reachable from it, looked up by `lookup`.
pub(crate) fn compile<'a>(
    name: &str,
    lookup: &dyn Fn(&str) -> Option<&'a Value>,
) -> Option<Validator> {
    let mut reachable = BTreeSet::new();
    reach(name, lookup, &mut reachable);
    let definitions: Map<String, Value> = reachable
        .into_iter()
        .filter_map(|n| Some((n.clone(), lookup(&n)?.clone())))
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

fn reach<'a>(name: &str, lookup: &dyn Fn(&str) -> Option<&'a Value>, seen: &mut BTreeSet<String>) {
    if !seen.insert(name.to_string()) {
        return;
    }
    if let Some(schema) = lookup(name) {
        let mut refs = Vec::new();
        collect_refs(schema, &mut refs);
        for r in refs {
            reach(r, lookup, seen);
        }
    }
}

/// The definition name a `$ref` points to.
pub(crate) fn ref_name(reference: &str) -> &str {
    reference
        .strip_prefix("#/definitions/")
        .unwrap_or(reference)
}

pub(crate) fn collect_refs<'a>(schema: &'a Value, out: &mut Vec<&'a str>) {
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
            // Argo CD and Flux schemas use the built-in `ObjectMeta`.
            assert!(reg.definition(r).is_some(), "dangling $ref {r}");
        }
    }
}
