//! `input.repos`: the tenants each repository knows, keyed by tenant id, for
//! `policies/repos.rego` (and the IRSA policy, which asks whether the infra-repo knows a
//! ServiceAccount's tenant). Lists keep the order of the files, so a policy can tell the first
//! listing of a tenant from a second one.

use super::{location, object};
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::key_path;
use gitops_lint_model::infra::TenantSource;
use gitops_lint_model::{Tenant, World};
use regorus::Value as V;
use std::collections::BTreeMap;

/// Where a finding about an apps-repo tenant points: its `tenantId` value, else the name of its
/// release.
fn tenant_location(t: &Tenant) -> Location {
    match &t.id_path {
        Some(p) => Location::value(t.file_id, t.doc, p.clone()),
        None => Location::key(t.file_id, t.doc, key_path(&["metadata", "name"])),
    }
}

fn source_name(source: TenantSource) -> &'static str {
    match source {
        TenantSource::TenantsJson => "tenants.json",
        TenantSource::TerraformResource => "a tf-controller `Terraform` resource",
    }
}

fn lists(map: BTreeMap<&str, Vec<V>>) -> V {
    V::from(
        map.into_iter()
            .map(|(k, v)| (V::from(k), V::from(v)))
            .collect::<BTreeMap<_, _>>(),
    )
}

/// `input.repos` (the shape is documented in `super`).
pub(super) fn facts(world: &World) -> V {
    let mut apps: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    let mut first_of_tier = BTreeMap::new();
    for t in world.tenants.iter().filter(|t| !t.template) {
        let at = location(world, &tenant_location(t));
        first_of_tier
            .entry(V::from(t.tier.as_str()))
            .or_insert_with(|| at.clone());
        apps.entry(t.id.as_str()).or_default().push(object([
            ("tier", V::from(t.tier.as_str())),
            ("file", V::from(t.file.as_str())),
            ("at", at),
        ]));
    }
    let mut infra: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    for t in &world.infra.tenants {
        infra.entry(t.id.as_str()).or_default().push(object([
            ("tier", t.tier.as_deref().map_or(V::Null, V::from)),
            ("source", V::from(source_name(t.source))),
            (
                "file",
                V::from(world.file(t.location.file()).display.as_str()),
            ),
            ("at", location(world, &t.location)),
            (
                "tier_at",
                location(world, t.tier_location.as_ref().unwrap_or(&t.location)),
            ),
        ]));
    }
    let first_listing = world.infra.tenants.first().map_or(V::Null, |t| {
        object([
            ("source", V::from(source_name(t.source))),
            ("at", location(world, &t.location)),
        ])
    });
    // Tenants the Terraform evaluation instantiates by hand (`module "tenant_9" { tenant_id =
    // "tenant-9" }`) rather than through tenants.json: known to the infra-repo all the same.
    let mut instances = BTreeMap::new();
    for i in &world.infra.instances {
        if let Some(t) = i.tenant.as_deref() {
            instances
                .entry(V::from(t))
                .or_insert_with(|| location(world, &i.location));
        }
    }
    // Files under `tenants/<folder>/` by stem: a tenant in a folder that is no known tier is not
    // among the tenants (tier/unknown-tier reports the folder), but it is not missing either.
    let file_stems: BTreeMap<V, V> = world
        .files
        .iter()
        .filter_map(|f| {
            let segs: Vec<&str> = f.rel_path.split('/').collect();
            let n = segs.len();
            (n >= 3 && segs[n - 3] == "tenants").then(|| (V::from(f.stem()), V::from(true)))
        })
        .collect();
    object([
        ("apps", lists(apps)),
        ("infra", lists(infra)),
        ("first_listing", first_listing),
        ("instances", V::from(instances)),
        ("first_of_tier", V::from(first_of_tier)),
        ("file_stems", V::from(file_stems)),
    ])
}
