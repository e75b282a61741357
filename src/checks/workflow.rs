//! GitHub Actions onboarding workflows.

use crate::finding::Finding;
use crate::model::World;

/// The workflow's tier choices differ from the tier templates.
pub const TIER_OPTIONS: &str = "workflow/tier-options";
/// `${{ inputs.tenant_id }}` used in `run:` without validation.
pub const UNVALIDATED_TENANT_ID: &str = "workflow/unvalidated-tenant-id";

/// Runs the workflow checks.
pub fn check(world: &World) -> Vec<Finding> {
    let _ = world;
    Vec::new()
}
