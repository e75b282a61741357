//! Native checks: what Rego does badly (Kustomize
//! references against the tree, raw-text placeholder tokens, rendering tier templates;
//! token-level YAML traps are reported by the loader). Each family has its own module.

pub mod gomatch;
pub mod kustomize;
pub mod names;
pub mod template;
pub mod unrendered;

use crate::finding::Finding;
use crate::model::World;

/// Runs every native check over the World.
pub fn run(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(kustomize::check(world));
    findings.extend(unrendered::check(world));
    findings.extend(template::check(world));
    findings.extend(crate::schema::check(world));
    findings
}
