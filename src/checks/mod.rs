//! Native checks: what Rego does badly (glob matching against the directory tree, token-level
//! YAML traps, which the loader reports). Each family has its own module.

pub mod appset;
pub mod gomatch;

use crate::finding::Finding;
use crate::model::World;

/// Runs every native check over the World.
pub fn run(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    findings.extend(appset::check(world));
    findings.extend(crate::schema::check(world));
    findings
}
