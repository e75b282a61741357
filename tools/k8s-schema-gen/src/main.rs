//! Writes `schemas/k8s.json`: strict JSON Schemas (draft 7) for the core Kubernetes kinds that
//! gitops-lint validates, generated from k8s-openapi's schemars output and rewritten so that
//! they mean what the API server accepts:
//!
//! - every object with `properties` gets `additionalProperties: false` (unknown fields rejected,
//!   like `kubectl --validate=strict` and kubeconform `-strict`);
//! - every typed node also accepts `null` (Go's JSON decoder ignores `null` for any field);
//! - `Quantity` accepts strings and numbers (`cpu: 1`), `IntOrString` strings and integers;
//! - `status` is open (controllers own it; manifests rarely carry it);
//! - descriptions, formats, `required` and other keywords are dropped: the linter checks only
//!   field names and JSON types.
//!
//! Run from the repository root: `cargo run --manifest-path tools/k8s-schema-gen/Cargo.toml`.

use k8s_openapi::api;
use k8s_openapi::schemars::JsonSchema;
use serde_json::{json, Map, Value};

struct Kinds {
    generator: schemars::SchemaGenerator,
    kinds: Map<String, Value>,
}

impl Kinds {
    fn add<T: JsonSchema + k8s_openapi::Resource>(&mut self) {
        let schema = self.generator.subschema_for::<T>();
        let reference = schema
            .get("$ref")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} has no $ref", T::KIND));
        let name = reference.trim_start_matches("#/definitions/").to_string();
        self.kinds.insert(
            format!("{}/{}", T::API_VERSION, T::KIND),
            Value::String(name),
        );
    }
}

/// Rewrites one schema node (see the module docs).
fn rewrite(name: Option<&str>, node: &Value) -> Value {
    let Some(obj) = node.as_object() else {
        return node.clone();
    };
    if let Some(r) = obj.get("$ref") {
        return json!({ "$ref": r });
    }
    let mut out = Map::new();
    match name {
        Some("io.k8s.apimachinery.pkg.api.resource.Quantity") => {
            return json!({ "type": ["string", "number", "null"] });
        }
        Some("io.k8s.apimachinery.pkg.util.intstr.IntOrString") => {
            return json!({ "type": ["string", "integer", "null"] });
        }
        _ => {}
    }
    if obj.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        return json!({ "type": ["string", "integer", "null"] });
    }
    match obj.get("type") {
        Some(Value::String(t)) => {
            out.insert("type".into(), json!([t, "null"]));
        }
        Some(Value::Array(ts)) => {
            let mut ts = ts.clone();
            if !ts.contains(&json!("null")) {
                ts.push(json!("null"));
            }
            out.insert("type".into(), Value::Array(ts));
        }
        _ => {}
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        let mut rewritten = Map::new();
        for (k, v) in props {
            let v = if k == "status" {
                json!({})
            } else {
                rewrite(None, v)
            };
            rewritten.insert(k.clone(), v);
        }
        out.insert("properties".into(), Value::Object(rewritten));
        if !obj.contains_key("additionalProperties") {
            out.insert("additionalProperties".into(), Value::Bool(false));
        }
    }
    if let Some(ap) = obj.get("additionalProperties") {
        out.insert("additionalProperties".into(), rewrite(None, ap));
    }
    if let Some(items) = obj.get("items") {
        out.insert("items".into(), rewrite(None, items));
    }
    for unknown in ["allOf", "anyOf", "oneOf"] {
        if obj.contains_key(unknown) {
            panic!("{name:?}: `{unknown}` is not handled");
        }
    }
    Value::Object(out)
}

fn main() {
    let settings = schemars::generate::SchemaSettings::draft07();
    let mut k = Kinds {
        generator: settings.into_generator(),
        kinds: Map::new(),
    };
    k.add::<api::core::v1::Pod>();
    k.add::<api::core::v1::Service>();
    k.add::<api::core::v1::ConfigMap>();
    k.add::<api::core::v1::Secret>();
    k.add::<api::core::v1::ServiceAccount>();
    k.add::<api::core::v1::Namespace>();
    k.add::<api::core::v1::PersistentVolumeClaim>();
    k.add::<api::core::v1::PersistentVolume>();
    k.add::<api::core::v1::LimitRange>();
    k.add::<api::core::v1::ResourceQuota>();
    k.add::<api::apps::v1::Deployment>();
    k.add::<api::apps::v1::StatefulSet>();
    k.add::<api::apps::v1::DaemonSet>();
    k.add::<api::apps::v1::ReplicaSet>();
    k.add::<api::batch::v1::Job>();
    k.add::<api::batch::v1::CronJob>();
    k.add::<api::networking::v1::Ingress>();
    k.add::<api::networking::v1::IngressClass>();
    k.add::<api::networking::v1::NetworkPolicy>();
    k.add::<api::rbac::v1::Role>();
    k.add::<api::rbac::v1::RoleBinding>();
    k.add::<api::rbac::v1::ClusterRole>();
    k.add::<api::rbac::v1::ClusterRoleBinding>();
    k.add::<api::autoscaling::v2::HorizontalPodAutoscaler>();
    k.add::<api::policy::v1::PodDisruptionBudget>();
    k.add::<api::scheduling::v1::PriorityClass>();
    k.add::<api::storage::v1::StorageClass>();
    let mut definitions = Map::new();
    let mut names: Vec<(String, Value)> = k
        .generator
        .definitions()
        .iter()
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, schema) in names {
        let rewritten = rewrite(Some(&name), &schema);
        definitions.insert(name, rewritten);
    }
    let out = json!({
        "$comment": "Generated by tools/k8s-schema-gen from k8s-openapi 0.29 (Kubernetes 1.37). Do not edit.",
        "kinds": Value::Object(k.kinds),
        "definitions": Value::Object(definitions),
    });
    let text = serde_json::to_string(&out).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write("schemas/k8s.json", text + "\n").unwrap_or_else(|e| panic!("{e}"));
}
