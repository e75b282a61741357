//! Tenants as the infra-repo lists them in `tenants.json` (`[{"id": ..., "tier": ...}]`).

use gitops_lint_core::finding::Location;
use gitops_lint_core::source::PathSeg;
use gitops_lint_model::infra::{InfraTenant, TenantSource};
use gitops_lint_model::World;
use serde_json::Value;

/// Every entry of every `tenants.json`, in file order.
pub(crate) fn from_tenants_json(world: &World) -> Vec<InfraTenant> {
    // Only an infra-repo's (a repository with Terraform): an apps-repo may keep a tenants.json
    // of its own (an ApplicationSet files generator's input), which is not the infra's list.
    let tf_repos: std::collections::HashSet<usize> = world
        .files
        .iter()
        .filter(|f| f.kind == gitops_lint_core::source::FileKind::Terraform)
        .map(|f| f.repo)
        .collect();
    let mut files: Vec<_> = world
        .json
        .iter()
        .filter(|(id, _)| {
            let f = world.file(**id);
            tf_repos.contains(&f.repo)
                && (f.rel_path == "tenants.json" || f.rel_path.ends_with("/tenants.json"))
        })
        .collect();
    files.sort_by_key(|(id, _)| **id);
    let mut out = Vec::new();
    for (file, value) in files {
        // Either a list of entries or a map keyed by id.
        let entries: Vec<(PathSeg, Option<&str>, &Value)> = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, e)| (PathSeg::Index(i), None, e))
                .collect(),
            Value::Object(map) => map
                .iter()
                .map(|(k, e)| (PathSeg::Key(k.as_str().into()), Some(k.as_str()), e))
                .collect(),
            _ => continue,
        };
        for (seg, key, entry) in entries {
            let id_field = ["id", "tenant_id", "tenantId"]
                .into_iter()
                .find(|k| entry.get(k).and_then(Value::as_str).is_some());
            let (id, id_path) = match (id_field, key) {
                (Some(f), _) => (
                    entry.get(f).and_then(Value::as_str).unwrap_or_default(),
                    vec![seg.clone(), PathSeg::Key(f.into())],
                ),
                (None, Some(k)) => (k, vec![seg.clone()]),
                (None, None) => continue,
            };
            let tier = entry.get("tier").and_then(Value::as_str);
            out.push(InfraTenant {
                id: id.to_string(),
                tier: tier.map(str::to_string),
                location: if key.is_some() && id_field.is_none() {
                    Location::key(*file, 0, id_path)
                } else {
                    Location::value(*file, 0, id_path)
                },
                tier_location: tier.map(|_| {
                    Location::value(*file, 0, vec![seg.clone(), PathSeg::Key("tier".into())])
                }),
                source: TenantSource::TenantsJson,
            });
        }
    }
    out
}
