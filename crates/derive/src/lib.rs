//! Derivation: what is not written down but follows from what is. ApplicationSets are expanded
//! into the Applications Argo CD would generate ([`appset`]), Terraform is evaluated statically
//! into the roles and tenants it creates ([`terraform`]), and Helm releases are rendered into
//! the ServiceAccounts Kubernetes will see ([`helm`]). The results are stored in the World as
//! facts, with a reason wherever a fact cannot be known.

pub mod appset;
pub mod helm;
pub mod terraform;

use gitops_lint_config::Config;
use gitops_lint_core::finding::Finding;
use gitops_lint_gotemplate::Budget;
use gitops_lint_model::{accounts, World};

/// The budgets of one Go template execution (Helm charts, `goTemplate` ApplicationSets), from
/// the config's `limits:`.
pub(crate) fn template_limits(config: &Config) -> gitops_lint_gotemplate::Limits {
    gitops_lint_gotemplate::Limits {
        steps: config.limits.template_steps,
        output_bytes: config.limits.template_output_bytes,
    }
}

/// A template budget that ran out, in the config's words: the key, its value, and what it
/// counts (for `gitops/budget-exceeded` messages).
pub(crate) fn template_budget(config: &Config, budget: Budget) -> String {
    match budget {
        Budget::Steps => format!(
            "more than {} steps (`limits.templateSteps`: actions, iterations, calls)",
            config.limits.template_steps
        ),
        Budget::OutputBytes => format!(
            "more than {} bytes of output or of one value (`limits.templateOutputBytes`)",
            config.limits.template_output_bytes
        ),
    }
}

/// How to raise a budget, for the help of a `gitops/budget-exceeded` finding.
pub(crate) fn raise_help(key: &str) -> String {
    format!("if this input is legitimate, raise `{key}` under `limits:` in .gitops-lint.yaml; otherwise this is a hostile or runaway input: what lies beyond the budget was not checked")
}

/// Fills in the World's derived facts. The three derivations are independent, so they run side
/// by side; rules run after, on the complete World. Returns what the ApplicationSet expansion
/// and the Helm rendering could not do, and the budgets any derivation ran out of, as
/// findings.
pub fn derive(world: &mut World, config: &Config) -> Vec<Finding> {
    let shared: &World = world;
    let limits = &config.limits;
    // Why the plain manifests' accounts in the first branch: after the join, on one core, they
    // held up the next stage with the other core idle; they read only what was loaded.
    let (
        ((generated, mut findings), (manifest_accounts, manifest_uses)),
        ((infra, infra_findings), helm),
    ) = rayon::join(
        || {
            (
                appset::expand(shared, config),
                (
                    accounts::from_manifests(shared),
                    accounts::uses_from_manifests(shared),
                ),
            )
        },
        || {
            // A chart that renders tf-controller `Terraform` resources instantiates Terraform
            // modules per release: Helm first, then Terraform. Otherwise they run side by side.
            if helm::renders_terraform(shared) {
                let helm = helm::service_accounts(shared, config);
                (terraform::evaluate(shared, &helm.terraform, limits), helm)
            } else {
                rayon::join(
                    || terraform::evaluate(shared, &[], limits),
                    || helm::service_accounts(shared, config),
                )
            }
        },
    );
    findings.extend(infra_findings);
    let mut service_accounts = manifest_accounts;
    service_accounts.extend(helm.accounts);
    let mut account_uses = manifest_uses;
    account_uses.extend(helm.uses);
    world.generated = generated;
    world.infra = infra;
    // Why: both grew by doubling and are kept for the whole run.
    service_accounts.shrink_to_fit();
    account_uses.shrink_to_fit();
    world.service_accounts = service_accounts;
    world.account_uses = account_uses;
    findings.extend(helm.findings);
    findings
}
