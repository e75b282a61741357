//! Terraform evaluated statically, as far as the checks need: module instances, the IRSA roles
//! and Pod Identity associations they create, and the tenants the infra-repo knows.
//!
//! ```text
//! .tf files -> modules (one per directory) -> root modules and tf-controller `Terraform` CRs
//!   -> instances (for_each / count expanded, arguments passed into local modules)
//!   -> roles (IRSA module v5/v6, aws_iam_role trust policies), Pod Identity associations
//! tenants.json + `Terraform` CR vars -> infra tenants
//! ```
//!
//! Whatever cannot be known before apply is [`Value::Unknown`](gitops_lint_model::infra::value::Value::Unknown); the checks never report
//! on an unknown value, and a module whose instances cannot be known marks the model
//! incomplete ([`Infra::incomplete`]), which silences "missing" rules.

pub mod eval;
mod functions;
pub mod irsa;
pub mod modules;
mod tenants;
mod types;

use gitops_lint_core::finding::Finding;
use gitops_lint_model::infra::Infra;
use gitops_lint_model::World;

/// Evaluates every Terraform root module and tf-controller `Terraform` resource of the World,
/// and those a chart renders for its releases (`rendered`), each configuration within the
/// budgets of `limits` (`terraformInstances`, `terraformValues`). Returns the model and the
/// `gitops/budget-exceeded` findings of the configurations that ran out (whose model is then
/// incomplete: what lies beyond is unknown, never guessed).
pub fn evaluate(
    world: &World,
    rendered: &[crate::helm::RenderedResource],
    limits: &gitops_lint_config::Limits,
) -> (Infra, Vec<Finding>) {
    let mut infra = Infra {
        tenants: tenants::from_tenants_json(world),
        ..Infra::default()
    };
    let findings = modules::evaluate(world, rendered, &mut infra, limits);
    // Why: these lists grow by doubling, one item per tenant, and are kept for the whole run:
    // at 10,000 tenants about a third of their room (4 MiB) was spare.
    infra.instances.shrink_to_fit();
    infra.roles.shrink_to_fit();
    infra.tenants.shrink_to_fit();
    (infra, findings)
}
