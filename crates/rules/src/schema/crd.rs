//! CustomResourceDefinitions committed in the linted repositories, as schemas for their custom
//! resources: each served version's `openAPIV3Schema`, turned into the strict draft-07 form the
//! built-in schemas use.
//!
//! The API server prunes, and with field validation `Strict` (kubectl's default since 1.25,
//! and Argo CD's and Flux's server-side applies) refuses, fields a structural schema does not
//! declare, unless the node says `x-kubernetes-preserve-unknown-fields: true`
//! (k8s.io/apiextensions-apiserver `pkg/apiserver/schema/pruning`). So an object node that
//! declares `properties` gets `additionalProperties: false`; `x-kubernetes-int-or-string`
//! becomes "integer or string"; `null` is accepted everywhere, because the API server drops
//! null fields of non-nullable nodes instead of refusing them. Value validations (`enum`,
//! `pattern`, `anyOf`) are not carried over: only unknown fields and wrong types are
//! reported, as for built-in kinds. The CEL rules (`x-kubernetes-validations`) are collected
//! and compiled here, once per run, into [`CrdSchema::cel`], and evaluated by `cel.rs`: any
//! CRD schema converted through [`convert_version`] gets its rules evaluated.

use gitops_lint_model::World;
use serde_json::{json, Map, Value};

/// The definition every custom resource's `metadata` is checked against.
const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// Schemas nested deeper than this are taken as "anything": real CRDs stay far below it, and
/// it bounds the conversion's recursion on a hostile file.
pub(crate) const MAX_DEPTH: usize = 128;

/// One served version of a CRD, converted.
#[derive(Debug)]
pub(crate) struct CrdSchema {
    /// `group/version/Kind`, the registry's key for a document's `apiVersion` and `kind`.
    pub key: String,
    /// The definition name (`crd.group.version.Kind`: a `$ref` is a JSON pointer, so no `/`).
    pub def: String,
    /// The converted schema.
    pub schema: Value,
    /// The version's CEL rules, compiled.
    pub cel: Vec<super::cel::Validation>,
}

/// The schemas of the CRDs in the World whose custom resources the World holds, in file order,
/// then those of the config's `schemas:` files (for a kind defined twice, the first wins).
pub(crate) fn schemas(world: &World) -> Vec<CrdSchema> {
    let mut out: Vec<CrdSchema> = Vec::new();
    let mut rules = 0;
    let committed = world
        .kind("CustomResourceDefinition")
        .iter()
        .filter_map(|at| world.doc(*at).map(|d| &d.value));
    for crd in committed.chain(&world.schema_crds) {
        if crd.get("apiVersion").and_then(Value::as_str) != Some("apiextensions.k8s.io/v1") {
            continue;
        }
        let spec = &crd["spec"];
        let (Some(group), Some(kind)) = (
            spec.get("group").and_then(Value::as_str),
            spec["names"].get("kind").and_then(Value::as_str),
        ) else {
            continue;
        };
        for version in spec["versions"].as_array().into_iter().flatten() {
            let Some(name) = version.get("name").and_then(Value::as_str) else {
                continue;
            };
            let served = version.get("served").and_then(Value::as_bool) != Some(false);
            let Some(schema) = version["schema"].get("openAPIV3Schema") else {
                continue;
            };
            let api_version = format!("{group}/{name}");
            let key = format!("{api_version}/{kind}");
            if !served
                || !has_resources(world, &api_version, kind)
                || out.iter().any(|c| c.key == key)
            {
                continue;
            }
            let crd_name = crd["metadata"]["name"].as_str().unwrap_or(kind);
            let mut converted = convert_version(group, name, kind, crd_name, schema, &mut rules);
            // With the status subresource, the API server ignores `status` on create (the
            // strategy drops it: apiextensions-apiserver `pkg/registry/customresource/strategy.go`,
            // `PrepareForCreate`), so its rules never run there.
            if version["subresources"].get("status").is_some() {
                converted.cel.retain(|v| !v.under_status());
            }
            out.push(converted);
        }
    }
    out
}

/// One version of a CRD (`group`, version `name`, `kind`, the CRD's `metadata.name`) with its
/// `openAPIV3Schema`, converted, its CEL rules compiled; `rules` counts the rules compiled in
/// this run (the budget `cel::MAX_RULES`).
pub(crate) fn convert_version(
    group: &str,
    name: &str,
    kind: &str,
    crd_name: &str,
    schema: &Value,
    rules: &mut usize,
) -> CrdSchema {
    CrdSchema {
        key: format!("{group}/{name}/{kind}"),
        def: format!("crd.{group}.{name}.{kind}"),
        schema: root(schema),
        cel: super::cel::collect(schema, crd_name, MAX_DEPTH, rules),
    }
}

/// Whether some document is a `kind` of `api_version` (so a CRD nobody uses is not converted).
fn has_resources(world: &World, api_version: &str, kind: &str) -> bool {
    world.kind(kind).iter().any(|at| {
        world
            .doc(*at)
            .and_then(|d| d.value.get("apiVersion"))
            .and_then(Value::as_str)
            == Some(api_version)
    })
}

/// The schema of a whole custom resource: its own, plus the fields every object has (also the
/// conversion of the embedded catalog's schemas, `catalog.rs`).
pub(crate) fn root(schema: &Value) -> Value {
    let mut out = convert(schema, 0);
    if let Value::Object(map) = &mut out {
        if let Some(Value::Object(props)) = map.get_mut("properties") {
            props.insert("apiVersion".into(), json!({"type": ["string", "null"]}));
            props.insert("kind".into(), json!({"type": ["string", "null"]}));
            props.insert(
                "metadata".into(),
                json!({"$ref": format!("#/definitions/{OBJECT_META}")}),
            );
        }
    }
    out
}

/// One schema node, converted (see the module comment).
fn convert(schema: &Value, depth: usize) -> Value {
    let Value::Object(node) = schema else {
        return json!({});
    };
    if depth > MAX_DEPTH {
        return json!({});
    }
    let flag = |name: &str| node.get(name).and_then(Value::as_bool) == Some(true);
    let mut out = Map::new();
    if flag("x-kubernetes-int-or-string") {
        out.insert("type".into(), json!(["integer", "string", "null"]));
    } else if let Some(Value::String(t)) = node.get("type") {
        out.insert("type".into(), json!([t, "null"]));
    }
    let properties = node.get("properties").and_then(Value::as_object);
    if let Some(props) = properties {
        let mut converted: Map<String, Value> = props
            .iter()
            .map(|(k, v)| (k.clone(), convert(v, depth + 1)))
            .collect();
        // An embedded object (a Pod template in a CR, say) has the fields of any object.
        if flag("x-kubernetes-embedded-resource") {
            for field in ["apiVersion", "kind", "metadata"] {
                converted.entry(field).or_insert_with(|| json!({}));
            }
        }
        out.insert("properties".into(), Value::Object(converted));
    }
    match node.get("additionalProperties") {
        Some(s @ Value::Object(_)) => {
            out.insert("additionalProperties".into(), convert(s, depth + 1));
        }
        Some(Value::Bool(b)) => {
            out.insert("additionalProperties".into(), Value::Bool(*b));
        }
        _ if properties.is_some() && !flag("x-kubernetes-preserve-unknown-fields") => {
            out.insert("additionalProperties".into(), Value::Bool(false));
        }
        _ => {}
    }
    if let Some(items) = node.get("items") {
        out.insert("items".into(), convert(items, depth + 1));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_schemas_become_strict_where_the_api_server_prunes() {
        let schema = json!({
            "type": "object",
            "properties": {
                "spec": {
                    "type": "object",
                    "properties": {
                        "port": {"x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                        "config": {"type": "object", "x-kubernetes-preserve-unknown-fields": true, "properties": {"mode": {"type": "string"}}},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "items": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string", "pattern": "^[a-z]+$"}}}}
                    }
                }
            }
        });
        let out = root(&schema);
        let spec = &out["properties"]["spec"];
        assert_eq!(spec["additionalProperties"], json!(false));
        assert_eq!(
            spec["properties"]["port"],
            json!({"type": ["integer", "string", "null"]})
        );
        // Preserved: declared fields typed, others allowed.
        assert!(spec["properties"]["config"]
            .get("additionalProperties")
            .is_none());
        assert_eq!(
            spec["properties"]["labels"]["additionalProperties"],
            json!({"type": ["string", "null"]})
        );
        let item = &spec["properties"]["items"]["items"];
        assert_eq!(item["additionalProperties"], json!(false));
        assert!(item["properties"]["name"].get("pattern").is_none());
        assert_eq!(
            out["properties"]["metadata"],
            json!({"$ref": format!("#/definitions/{OBJECT_META}")})
        );
    }

    #[test]
    fn a_hostile_depth_is_cut_off() {
        // Deeper than MAX_DEPTH (the YAML loader itself stops at 1000 levels, about 500 of
        // schema); not so deep that building the test value needs a big stack.
        let mut schema = json!({"type": "string"});
        for _ in 0..2 * MAX_DEPTH {
            schema = json!({"type": "object", "properties": {"a": schema}});
        }
        let out = convert(&schema, 0);
        let mut levels = 0;
        let mut node = &out;
        while let Some(next) = node.get("properties").and_then(|p| p.get("a")) {
            levels += 1;
            node = next;
        }
        // Converted down to MAX_DEPTH; below, one node that takes anything.
        assert_eq!(levels, MAX_DEPTH + 1);
        assert_eq!(node, &json!({}));
    }
}
