//! Tenants across the two repositories: every tenant file of the apps-repo against the tenants
//! the infra-repo lists (`tenants.json`, tf-controller `Terraform` resources), by id and tier.
//! Onboarding opens one PR in each repository; merging one without the other leaves them
//! disagreeing. Hash-indexed: linear in tenants.

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{key_path, FileId};
use gitops_lint_core::RuleId;
use gitops_lint_model::infra::{InfraTenant, TenantSource};
use gitops_lint_model::{Tenant, World};
use std::collections::{HashMap, HashSet};

fn tenant_location(t: &Tenant) -> Location {
    match &t.id_path {
        Some(p) => Location::value(t.file_id, t.doc, p.clone()),
        None => Location::key(t.file_id, t.doc, key_path(&["metadata", "name"])),
    }
}

fn source_name(t: &InfraTenant) -> &'static str {
    match t.source {
        TenantSource::TenantsJson => "tenants.json",
        TenantSource::TerraformResource => "a tf-controller `Terraform` resource",
    }
}

/// Runs the cross-repository tenant checks.
pub fn check(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    let apps: Vec<&Tenant> = world.tenants.iter().filter(|t| !t.template).collect();
    let infra = &world.infra.tenants;

    // Duplicates on each side.
    let mut first_app: HashMap<&str, &Tenant> = HashMap::new();
    for t in &apps {
        match first_app.get(t.id.as_str()) {
            None => {
                first_app.insert(&t.id, t);
            }
            Some(first) => findings.push(
                Finding::new(
                    RuleId::REPOS_DUPLICATE_TENANT,
                    format!("tenant `{}` is deployed twice: here ({}) and in `{}` ({}); both releases fight over one namespace and one set of IAM roles", t.id, t.tier, first.file, first.tier),
                    tenant_location(t),
                )
                .with_help("keep one tenant file per tenant, under its tier's folder")
                .with_related(tenant_location(first), "the tenant is also deployed here"),
            ),
        }
    }
    // Per file: two environments (envs/dev, envs/prd) may each list a tenant once.
    let mut first_infra: HashMap<(&str, TenantSource, FileId), &InfraTenant> = HashMap::new();
    for t in infra {
        let key = (t.id.as_str(), t.source, t.location.file());
        match first_infra.get(&key) {
            None => {
                first_infra.insert(key, t);
            }
            Some(first) => findings.push(
                Finding::new(
                    RuleId::REPOS_DUPLICATE_TENANT,
                    format!("tenant `{}` is listed twice in {}: `for_each` over it fails with a duplicate key, so `terraform plan` fails for every tenant", t.id, source_name(t)),
                    t.location.clone(),
                )
                .with_help("remove the second entry")
                .with_related(first.location.clone(), "first listed here"),
            ),
        }
    }

    if apps.is_empty() || infra.is_empty() {
        return findings;
    }
    let infra_by_id: HashMap<&str, &InfraTenant> =
        infra.iter().rev().map(|t| (t.id.as_str(), t)).collect();
    let pools: HashSet<&str> = world.pools.iter().map(|p| p.id.as_str()).collect();
    let first_listing = &infra[0];
    let mut by_tier: HashMap<&str, &Tenant> = HashMap::new();
    for t in &apps {
        by_tier.entry(t.tier.as_str()).or_insert(t);
    }
    // Tenants the Terraform evaluation instantiates by hand (`module "tenant_9" { tenant_id =
    // "tenant-9" }`) rather than through tenants.json: known to the infra-repo all the same.
    let instantiated: HashSet<&str> = world
        .infra
        .instances
        .iter()
        .filter_map(|i| i.tenant.as_deref())
        .collect();
    for t in first_app.values() {
        let here = tenant_location(t);
        match infra_by_id.get(t.id.as_str()) {
            None if instantiated.contains(t.id.as_str()) => {}
            None => findings.push(
                Finding::new(
                    RuleId::REPOS_TENANT_MISSING_IN_INFRA,
                    format!("tenant `{}` ({}) is deployed by the apps-repo, but the infra-repo does not list it: Terraform creates none of its queues, tables or IAM roles, so its pods get no AWS credentials", t.id, t.tier),
                    here,
                )
                .with_help(format!("add `{{\"id\": \"{}\", \"tier\": \"{}\"}}` to the infra-repo's tenants.json (the onboarding PR for the infra-repo was not merged?)", t.id, t.tier))
                .with_related(first_listing.location.clone(), format!("the infra-repo lists its tenants in {}", source_name(first_listing))),
            ),
            Some(it) => {
                let Some(tier) = it.tier.as_deref() else { continue };
                if tier == t.tier {
                    continue;
                }
                findings.push(
                    Finding::new(
                        RuleId::REPOS_TIER_MISMATCH,
                        format!("tenant `{}` is deployed as `{}` (its file is under tenants/{}/), but the infra-repo's {} says `{tier}`: Terraform creates the `{tier}` resources and IAM roles", t.id, t.tier, t.tier, source_name(it)),
                        here,
                    )
                    .with_help(format!("move the tenant file to tenants/{tier}/ (rendered from the {tier} template), or change its tier in the infra-repo to `{}`", t.tier))
                    .with_related(it.tier_location.clone().unwrap_or_else(|| it.location.clone()), format!("the infra-repo says `{tier}` here")),
                );
            }
        }
    }
    // Files under `tenants/<folder>/` by stem: a tenant in a folder that is no known tier is not
    // in `world.tenants` (tier/unknown-tier reports the folder), but it is not missing either.
    let tenant_files: HashSet<&str> = world
        .files
        .iter()
        .filter_map(|f| {
            let segs: Vec<&str> = f.rel_path.split('/').collect();
            let n = segs.len();
            (n >= 3 && segs[n - 3] == "tenants").then(|| f.stem())
        })
        .collect();
    let mut reported = HashSet::new();
    for it in infra {
        if first_app.contains_key(it.id.as_str())
            || tenant_files.contains(it.id.as_str())
            || pools.contains(it.id.as_str())
            || !reported.insert(it.id.as_str())
        {
            continue;
        }
        let tier = it.tier.as_deref().unwrap_or("<tier>");
        let mut f = Finding::new(
            RuleId::REPOS_TENANT_MISSING_IN_APPS,
            format!("tenant `{}` is listed by the infra-repo ({}), but no tenant file in the apps-repo deploys it: Terraform keeps creating its resources for nothing", it.id, source_name(it)),
            it.location.clone(),
        )
        .with_help(format!("add tenants/{tier}/{}.yaml (rendered from the {tier} template) to the apps-repo, or remove the tenant from the infra-repo if it was offboarded", it.id));
        if let Some(sibling) = it
            .tier
            .as_deref()
            .and_then(|tier| by_tier.get(tier))
            .map(|s| tenant_location(s))
        {
            f = f.with_related(
                sibling,
                format!("the {tier} tenants of the apps-repo live beside this one"),
            );
        }
        findings.push(f);
    }
    findings
}
