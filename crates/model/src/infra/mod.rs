//! What the infra-repo's Terraform creates, as facts: module instances, IAM roles with their
//! trusted subjects, Pod Identity associations, the tenants it knows, and where each is
//! written. Filled in by the derive crate's static Terraform evaluation.

pub mod value;

use gitops_lint_core::finding::Location;
use gitops_lint_matchers::iam::string_like;
use std::collections::{BTreeMap, BTreeSet};
use value::Value;

/// One instance of a module: a root module, one `for_each` key or `count` index of a `module`
/// block, or one tf-controller `Terraform` custom resource.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Its address: `module.tenant_apps["tenant-1"]`, `envs/prd`, `Terraform flux-system/tenant-1`.
    pub address: String,
    /// The module directory, repo-relative.
    pub dir: String,
    /// The repository the module lives in.
    pub repo: usize,
    /// The tenant it serves: `var.tenant_id` when known, else the `for_each` key.
    pub tenant: Option<String>,
    /// Where it is instantiated (the `module` block, or the custom resource).
    pub location: Location,
}

/// Which Terraform construct creates a role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleKind {
    /// `terraform-aws-modules/iam` `iam-role-for-service-accounts-eks` (v5).
    IrsaModuleV5,
    /// `terraform-aws-modules/iam` `iam-role-for-service-accounts` (v6).
    IrsaModuleV6,
    /// A plain `aws_iam_role` resource.
    IamRole,
}

/// A `namespace:serviceaccount` a role trusts (`*` allowed with `StringLike`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Subject {
    /// The namespace.
    pub namespace: String,
    /// The ServiceAccount name.
    pub service_account: String,
    /// Compared with `StringEquals`: `*` and `?` are plain characters, not wildcards.
    pub exact: bool,
}

impl Subject {
    /// Parses `ns:sa` or `system:serviceaccount:ns:sa`.
    pub fn parse(s: &str) -> Option<Subject> {
        let s = s.strip_prefix("system:serviceaccount:").unwrap_or(s);
        let (namespace, service_account) = s.split_once(':')?;
        Some(Subject {
            namespace: namespace.to_string(),
            service_account: service_account.to_string(),
            exact: false,
        })
    }

    /// Parses one value of a trust policy's `:sub` condition as IAM compares it: `exact` for
    /// `StringEquals`, else `StringLike`. A value without `system:serviceaccount:` admits no
    /// ServiceAccount, unless it is a pattern we cannot split (`system:serviceaccount:*`, `*`),
    /// which is taken to admit any (the lenient reading: fewer findings, never a false one).
    pub fn parse_condition(value: &str, exact: bool) -> Option<Subject> {
        let split = value
            .strip_prefix("system:serviceaccount:")
            .and_then(|rest| rest.split_once(':'));
        match split {
            Some((namespace, service_account)) => Some(Subject {
                namespace: namespace.to_string(),
                service_account: service_account.to_string(),
                exact,
            }),
            None if !exact && value.contains(['*', '?']) => Some(Subject::any()),
            None => None,
        }
    }

    /// Any ServiceAccount of any namespace (a Federated trust with no `:sub` condition).
    pub fn any() -> Subject {
        Subject {
            namespace: "*".to_string(),
            service_account: "*".to_string(),
            exact: false,
        }
    }

    /// Whether the subject is written with a `*` or `?`: a wildcard under `StringLike`, a
    /// plain character under `StringEquals` (`exact`).
    pub fn has_wildcard(&self) -> bool {
        self.namespace.contains(['*', '?']) || self.service_account.contains(['*', '?'])
    }

    /// Whether this subject admits `namespace:name` (`*` matches any run of characters).
    pub fn admits(&self, namespace: &str, name: &str) -> bool {
        if self.exact {
            return self.namespace == namespace && self.service_account == name;
        }
        string_like(&self.namespace, namespace) && string_like(&self.service_account, name)
    }
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.namespace, self.service_account)
    }
}

/// A value and where it is written: for a module variable, the caller's argument.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The value, as far as it is known.
    pub value: Value,
    /// The expression's source text (`data.aws_eks_cluster.this.identity[0].oidc[0].issuer`).
    pub text: String,
    /// Where it is written.
    pub location: Location,
}

/// An IAM role Terraform creates.
#[derive(Clone, Debug)]
pub struct Role {
    /// The role name; `None` when it is not known statically.
    pub name: Option<String>,
    /// The real name is `name` plus a random suffix (v6 `use_name_prefix`, `name_prefix`).
    pub prefixed: bool,
    /// The IAM path (`/` by default).
    pub path: String,
    /// What creates it.
    pub kind: RoleKind,
    /// The `namespace:serviceaccount` pairs its trust policy admits; `None` when unknown.
    pub subjects: Option<Vec<Subject>>,
    /// Entries of its trust that name no ServiceAccount, as written (a module entry
    /// `t1/t1-producer`, a `:sub` value `t1:t1-consumer` without `system:serviceaccount:`):
    /// they admit nothing, and are kept to tell what was meant.
    pub malformed: Vec<String>,
    /// Whether it trusts `pods.eks.amazonaws.com` (EKS Pod Identity).
    pub pod_identity: bool,
    /// The OIDC provider the trust names (`provider_arn`, or the `Federated` principal).
    pub provider_arn: Option<Origin>,
    /// Index into [`Infra::instances`].
    pub instance: usize,
    /// Where the name is written.
    pub location: Location,
    /// Where the trusted subjects are written: the IRSA module's `namespace_service_accounts`,
    /// the values of the trust policy's one `:sub` condition, or, when there are several or
    /// some cannot be seen, the whole `assume_role_policy`; for a module's `var.NAME`, the
    /// caller's argument.
    pub trust_location: Location,
}

/// A role that an instance does not create because its `count` is 0 (or `for_each` is empty).
#[derive(Clone, Debug)]
pub struct SkippedRole {
    /// The name it would have.
    pub name: Option<String>,
    /// Index into [`Infra::instances`].
    pub instance: usize,
    /// The `count` / `for_each` line (or the module's `create_role` / `create` argument).
    pub count_location: Location,
    /// What switches it off: `count`, `for_each`, `create_role` or `create`.
    pub switch: String,
    /// The variable the count depends on and where the instance sets it.
    pub cause: Option<(String, Origin)>,
}

/// An `aws_eks_pod_identity_association`.
#[derive(Clone, Debug)]
pub struct PodIdentity {
    /// `namespace`, when known.
    pub namespace: Option<String>,
    /// `service_account`, when known.
    pub service_account: Option<String>,
    /// The role's name (from a known ARN or an `aws_iam_role` reference), when known.
    pub role_name: Option<String>,
    /// Index into [`Infra::instances`].
    pub instance: usize,
    /// Where `service_account` is written (else the resource block).
    /// Where the association's `namespace` is written.
    pub namespace_location: Location,
    pub location: Location,
    /// Where `role_arn` is written.
    pub role_location: Location,
}

/// Where the infra-repo names a tenant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TenantSource {
    /// An entry of `tenants.json`.
    TenantsJson,
    /// A tf-controller `Terraform` custom resource's `tenant_id` var.
    TerraformResource,
}

/// A tenant as the infra-repo knows it.
#[derive(Clone, Debug)]
pub struct InfraTenant {
    /// The tenant id.
    pub id: String,
    /// Its tier, when given.
    pub tier: Option<String>,
    /// Where the id is written.
    pub location: Location,
    /// Where the tier is written.
    pub tier_location: Option<Location>,
    /// Which kind of place.
    pub source: TenantSource,
}

/// What the infra-repo creates, as far as it can be known without running Terraform.
#[derive(Debug, Default)]
pub struct Infra {
    /// Whether any Terraform was found (the IRSA checks need the infra side).
    pub has_terraform: bool,
    /// Module instances, in evaluation order.
    pub instances: Vec<Instance>,
    /// Roles created.
    pub roles: Vec<Role>,
    /// Roles not created because of `count = 0`.
    pub skipped: Vec<SkippedRole>,
    /// Pod Identity associations.
    pub pod_identities: Vec<PodIdentity>,
    /// Tenants named by `tenants.json` or `Terraform` custom resources.
    pub tenants: Vec<InfraTenant>,
    /// AWS account ids the infra uses (`allowed_account_ids`, account variables, known ARNs).
    pub accounts: BTreeMap<String, Location>,
    /// Places whose value decides which roles exist but cannot be known statically.
    pub incomplete: Vec<(Location, String)>,
    /// Role names something we do not model may create: the string arguments of registry
    /// modules other than the IRSA submodule (`iam-assumable-role-with-oidc`, an addons
    /// module...), and `aws_iam_role`s whose trust is not for ServiceAccounts. A
    /// ServiceAccount naming one of these is never reported as naming a missing role.
    pub other_role_names: BTreeSet<String>,
    /// Namespaces Terraform deploys into itself (`helm_release`, `kubernetes_service_account`):
    /// their ServiceAccounts are not in the apps-repo, so a role trusting one is not unused.
    pub terraform_namespaces: BTreeSet<String>,
    /// Terraform deploys Kubernetes objects into namespaces not known statically (an unknown
    /// `namespace`, `kubernetes_manifest`, `kubectl_manifest`): no role is reported unused.
    pub terraform_deploys_anywhere: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_parse_and_match() {
        let s = Subject::parse("system:serviceaccount:t-1:t-1-consumer");
        assert_eq!(
            s.as_ref().map(ToString::to_string).as_deref(),
            Some("t-1:t-1-consumer")
        );
        let wild = Subject::parse("t-1:*").unwrap_or_else(|| panic!("parses"));
        assert!(wild.admits("t-1", "anything"));
        assert!(!wild.admits("t-2", "anything"));
    }
}
