//! `input.repos`: the tenants each repository knows, keyed by tenant id, for
//! `policies/repos.rego` (and the IRSA policy, which asks whether the infra-repo knows a
//! ServiceAccount's tenant). Lists keep the order of the files, so a policy can tell the first
//! listing of a tenant from a second one.

use super::Builder;
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

/// `input.repos` (the shape is documented in `super`).
pub(super) fn facts(world: &World) -> V {
    // Why owned: a tenant's location is built here, not borrowed from the World.
    let locations: Vec<Location> = world.tenants.iter().map(tenant_location).collect();
    let mut b = Builder::new(world);
    let mut apps: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    let mut first_of_tier = BTreeMap::new();
    for (t, here) in world.tenants.iter().zip(&locations) {
        if t.template {
            continue;
        }
        let at = b.location(here);
        let tier = b.word(&t.tier);
        first_of_tier
            .entry(tier.clone())
            .or_insert_with(|| at.clone());
        let fields = [("tier", tier), ("at", at)];
        apps.entry(t.id.as_str())
            .or_default()
            .push(b.object(fields));
    }
    let mut infra: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    for t in &world.infra.tenants {
        let fields = [
            (
                "tier",
                t.tier.as_deref().map_or(V::Null, |tier| b.word(tier)),
            ),
            ("source", b.word(source_name(t.source))),
            ("at", b.location(&t.location)),
            (
                "tier_at",
                b.location(t.tier_location.as_ref().unwrap_or(&t.location)),
            ),
        ];
        infra
            .entry(t.id.as_str())
            .or_default()
            .push(b.object(fields));
    }
    let first_listing = match world.infra.tenants.first() {
        None => V::Null,
        Some(t) => {
            let fields = [
                ("source", b.word(source_name(t.source))),
                ("at", b.location(&t.location)),
            ];
            b.object(fields)
        }
    };
    // Tenants the Terraform evaluation instantiates by hand (`module "tenant_9" { tenant_id =
    // "tenant-9" }`) rather than through tenants.json: known to the infra-repo all the same.
    let mut instances = BTreeMap::new();
    for i in &world.infra.instances {
        if let Some(t) = i.tenant.as_deref() {
            if !instances.contains_key(t) {
                instances.insert(t, b.location(&i.location));
            }
        }
    }
    let instances: BTreeMap<V, V> = instances.into_iter().map(|(k, v)| (b.word(k), v)).collect();
    // Files under `tenants/<folder>/` by stem: a tenant in a folder that is no known tier is not
    // among the tenants (tier/unknown-tier reports the folder), but it is not missing either.
    let file_stems: BTreeMap<V, V> = world
        .files
        .iter()
        .filter_map(|f| {
            let segs: Vec<&str> = f.rel_path.split('/').collect();
            let n = segs.len();
            (n >= 3 && segs[n - 3] == "tenants").then(|| (b.word(f.stem()), V::from(true)))
        })
        .collect();
    let fields = [
        ("apps", b.lists(apps)),
        ("infra", b.lists(infra)),
        ("first_listing", first_listing),
        ("instances", V::from(instances)),
        ("first_of_tier", V::from(first_of_tier)),
        ("file_stems", V::from(file_stems)),
    ];
    b.object(fields)
}
