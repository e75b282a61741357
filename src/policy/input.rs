//! The Rego input: the World, pre-joined and indexed in Rust, so that policies stay O(n).
//!
//! ```text
//! input.config.tiers      {"premium": {"producer": "silo", "consumer": "silo"}, ...}
//! input.config.pools      ["pool-*"]
//! input.tenants[_]        {id, tier, file, doc, kind, name, template, namespace,
//!                          namespace_path, values, values_path, id_path}
//! input.pools[id]         {id, file, doc}
//! input.resources[_]      {file, doc, kind, apiVersion, name, namespace, object}
//! input.infra.tenants[_]  {id, tier, file, path}   (from tenants.json)
//! input.infra.roles[_]    {name, prefixed, path, kind, subjects, pod_identity, instance,
//!                          tenant, provider_arn}   (Terraform, evaluated statically; an
//!                          unknown name or subject list is null)
//! ```

use crate::config::Config;
use crate::model::World;
use serde_json::{json, Map, Value};

/// Builds the input document for the policies.
pub fn build(world: &World, config: &Config) -> Value {
    let pools: Map<String, Value> = world
        .pools
        .iter()
        .map(|p| (p.id.clone(), json!(p)))
        .collect();
    let mut resources = Vec::new();
    for (i, docs) in world.yaml.iter().enumerate() {
        let file = &world.files[i];
        for (d, doc) in docs.iter().enumerate() {
            let v = &doc.value;
            let Some(kind) = v.get("kind").and_then(Value::as_str) else {
                continue;
            };
            resources.push(json!({
                "file": file.display,
                "doc": d,
                "kind": kind,
                "apiVersion": v.get("apiVersion"),
                "name": v.pointer("/metadata/name"),
                "namespace": v.pointer("/metadata/namespace"),
                "object": v,
            }));
        }
    }
    let mut infra_tenants = Vec::new();
    let mut json_files: Vec<_> = world.json.iter().collect();
    json_files.sort_by_key(|(id, _)| **id);
    for (id, value) in json_files {
        let file = world.file(*id);
        if !file.rel_path.ends_with("tenants.json") {
            continue;
        }
        for (i, entry) in value.as_array().into_iter().flatten().enumerate() {
            infra_tenants.push(json!({
                "id": entry.get("id"),
                "tier": entry.get("tier"),
                "file": file.display,
                "path": [i],
            }));
        }
    }
    let roles: Vec<Value> = world
        .infra
        .roles
        .iter()
        .map(|r| {
            let instance = world.infra.instances.get(r.instance);
            json!({
                "name": r.name,
                "prefixed": r.prefixed,
                "path": r.path,
                "kind": format!("{:?}", r.kind),
                "subjects": r.subjects.as_ref().map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>()),
                "pod_identity": r.pod_identity,
                "instance": instance.map(|i| i.address.as_str()),
                "tenant": instance.and_then(|i| i.tenant.as_deref()),
                "provider_arn": r.provider_arn.as_ref().map(|o| o.text.as_str()),
            })
        })
        .collect();
    json!({
        "config": {
            "tiers": config.tiers,
            "pools": config.pools,
        },
        "tenants": world.tenants,
        "pools": pools,
        "resources": resources,
        "infra": { "tenants": infra_tenants, "roles": roles },
    })
}
