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
use gitops_lint_model::{accounts, World};

/// Fills in the World's derived facts. The three derivations are independent, so they run side
/// by side; rules run after, on the complete World. Returns what the ApplicationSet expansion
/// and the Helm rendering could not do, as findings.
pub fn derive(world: &mut World, config: &Config) -> Vec<Finding> {
    let shared: &World = world;
    let ((generated, mut findings), (infra, helm)) = rayon::join(
        || appset::expand(shared, config),
        || {
            // A chart that renders tf-controller `Terraform` resources instantiates Terraform
            // modules per release: Helm first, then Terraform. Otherwise they run side by side.
            if helm::renders_terraform(shared) {
                let helm = helm::service_accounts(shared, config);
                (terraform::evaluate(shared, &helm.terraform), helm)
            } else {
                rayon::join(
                    || terraform::evaluate(shared, &[]),
                    || helm::service_accounts(shared, config),
                )
            }
        },
    );
    let mut service_accounts = accounts::from_manifests(world);
    service_accounts.extend(helm.accounts);
    let mut account_uses = accounts::uses_from_manifests(world);
    account_uses.extend(helm.uses);
    world.generated = generated;
    world.infra = infra;
    world.service_accounts = service_accounts;
    world.account_uses = account_uses;
    findings.extend(helm.findings);
    findings
}
