//! Native checks: what Rego does badly (Kustomize
//! references against the tree, raw-text placeholder tokens, rendering tier templates;
//! token-level YAML traps are reported by the loader). Each family has its own module.

pub mod argocd;
pub mod flux;
pub mod gobwas;
pub mod gomatch;
pub mod image_updater;
pub mod kustomize;
pub mod names;
pub mod repo_url;
pub mod template;
pub mod unrendered;
pub mod workflow;

use crate::config::Config;
use crate::finding::Finding;
use crate::model::World;

/// Runs every native check over the World.
pub fn run(world: &World, config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(kustomize::check(world));
    findings.extend(unrendered::check(world));
    findings.extend(template::check(world));
    findings.extend(workflow::check(world));
    findings.extend(crate::schema::check(world));
    findings.extend(argocd::check(world, config));
    findings.extend(image_updater::check(world));
    findings.extend(flux::check(world, config));
    findings
}
