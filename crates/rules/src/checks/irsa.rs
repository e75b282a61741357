//! The IRSA chain joined across the two repositories: each ServiceAccount's
//! `eks.amazonaws.com/role-arn` against the roles Terraform creates for its tenant, and each
//! role's trusted `namespace:serviceaccount` against the ServiceAccounts the releases create.
//! Every join goes through a hash index, so the checks stay linear in tenants. Upstream: Amazon
//! EKS User Guide, "Assign IAM roles to Kubernetes service accounts" (the trust condition
//! `<issuer>:sub` = `system:serviceaccount:<namespace>:<serviceaccount>`), and
//! `aws/amazon-eks-pod-identity-webhook` `pkg/cache/cache.go`, which reads the annotation.

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::RuleId;
use gitops_lint_derive::terraform::modules::is_account;
use gitops_lint_model::accounts::ServiceAccount;
use gitops_lint_model::infra::value::Value;
use gitops_lint_model::infra::{Infra, Role, RoleKind};
use gitops_lint_model::World;
use std::collections::{HashMap, HashSet};

/// A role ARN taken apart.
pub(crate) struct RoleArn<'a> {
    /// The 12-digit account id.
    pub account: &'a str,
    /// The role name (after the path).
    pub name: &'a str,
}

/// Parses a role ARN as IAM's ARN format defines it (AWS IAM User Guide, IAM identifiers: IAM
/// ARNs; IAM API Reference, CreateRole: `RoleName` `[\w+=,.@-]{1,64}`, `Path`
/// `/` or `/[\x21-\x7E]+/`):
/// `^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x7E]+/)?[\w+=,.@-]{1,64}$`.
/// This is stricter than the pod identity webhook's own check
/// (`aws/amazon-eks-pod-identity-webhook` `pkg/cache/cache.go`), which only logs a mismatch.
pub(crate) fn parse_role_arn(arn: &str) -> Result<RoleArn<'_>, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("`{arn}` is not an ARN (`arn:aws:iam::<12-digit account>:role/<name>`); the pod identity webhook needs the full ARN"));
    }
    let partition = parts[1];
    if !partition.starts_with("aws")
        || !partition[3..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
    {
        return Err(format!(
            "`{partition}` is not an AWS partition (`aws`, `aws-cn`, `aws-us-gov`)"
        ));
    }
    if parts[2] != "iam" || !parts[3].is_empty() {
        return Err(format!(
            "`{arn}` is not an IAM ARN: it must start `arn:{partition}:iam::` (IAM has no region)"
        ));
    }
    let account = parts[4];
    if account.is_empty() {
        return Err("the account id is empty (`arn:aws:iam::` is followed directly by `:role/`): the value it is rendered from is unset".to_string());
    }
    if !is_account(account) {
        return Err(format!("the account id `{account}` is not 12 digits"));
    }
    let Some(rest) = parts[5].strip_prefix("role/") else {
        return Err(format!("`{}` is not a role (`role/<name>`)", parts[5]));
    };
    let (path, name) = rest.rsplit_once('/').map_or(("", rest), |(p, n)| (p, n));
    if path.len() > 510 || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(format!(
            "the role path `/{path}/` has characters IAM does not allow"
        ));
    }
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "the role name `{name}` is {} characters; IAM allows 1 to 64",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
    {
        return Err(format!("the role name `{name}` has `{c}`, which IAM does not allow (letters, digits and `_+=,.@-` only)"));
    }
    Ok(RoleArn { account, name })
}

/// The indexes the joins use.
struct Index<'w> {
    roles_by_name: HashMap<&'w str, Vec<&'w Role>>,
    prefixed: HashMap<&'w str, Vec<&'w Role>>,
    skipped_by_name: HashMap<&'w str, Vec<usize>>,
    roles_by_tenant: HashMap<&'w str, Vec<&'w Role>>,
    infra_tenants: HashMap<&'w str, Location>,
    sa_by_subject: HashSet<(&'w str, &'w str)>,
    sa_by_role: HashSet<&'w str>,
    namespaces_with_sa: HashMap<&'w str, &'w ServiceAccount>,
}

impl<'w> Index<'w> {
    fn new(world: &'w World) -> Self {
        let infra = &world.infra;
        let mut ix = Index {
            roles_by_name: HashMap::new(),
            prefixed: HashMap::new(),
            skipped_by_name: HashMap::new(),
            roles_by_tenant: HashMap::new(),
            infra_tenants: HashMap::new(),
            sa_by_subject: HashSet::new(),
            sa_by_role: HashSet::new(),
            namespaces_with_sa: HashMap::new(),
        };
        for role in &infra.roles {
            if let Some(name) = role.name.as_deref() {
                let map = if role.prefixed {
                    &mut ix.prefixed
                } else {
                    &mut ix.roles_by_name
                };
                map.entry(name).or_default().push(role);
            }
            if let Some(t) = infra.instances[role.instance].tenant.as_deref() {
                ix.roles_by_tenant.entry(t).or_default().push(role);
            }
        }
        for (i, s) in infra.skipped.iter().enumerate() {
            if let Some(name) = s.name.as_deref() {
                ix.skipped_by_name.entry(name).or_default().push(i);
            }
        }
        for t in &infra.tenants {
            ix.infra_tenants
                .entry(t.id.as_str())
                .or_insert_with(|| t.location.clone());
        }
        for i in &infra.instances {
            if let Some(t) = i.tenant.as_deref() {
                ix.infra_tenants
                    .entry(t)
                    .or_insert_with(|| i.location.clone());
            }
        }
        for sa in &world.service_accounts {
            let role = sa
                .role_arn
                .as_deref()
                .and_then(gitops_lint_derive::terraform::irsa::role_name_of_arn);
            if let Some(ns) = sa.namespace.as_deref() {
                ix.sa_by_subject.insert((ns, sa.name.as_str()));
                // A namespace counts as described when one of its ServiceAccounts uses a role
                // Terraform creates: then its IRSA ServiceAccounts are where we look.
                if role.is_some_and(|r| ix.roles_by_name.contains_key(r)) {
                    ix.namespaces_with_sa.entry(ns).or_insert(sa);
                }
            }
            if let Some(name) = role {
                ix.sa_by_role.insert(name);
            }
        }
        ix
    }

    /// The tenant a ServiceAccount belongs to, if the infra-repo knows it.
    fn tenant_of(&self, sa: &'w ServiceAccount) -> Option<(&'w str, &Location)> {
        [sa.tenant.as_deref(), sa.namespace.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|t| self.infra_tenants.get(t).map(|l| (t, l)))
    }

    /// A prefixed role (`name-<random>`) an ARN's role name may have been meant for.
    fn prefixed_match(&self, name: &'w str) -> Option<&'w Role> {
        let mut cuts: Vec<usize> = name.match_indices('-').map(|(i, _)| i).collect();
        cuts.push(name.len());
        cuts.into_iter().find_map(|cut| {
            self.prefixed
                .get(&name[..cut])
                .and_then(|r| r.first().copied())
        })
    }
}

fn role_address(infra: &Infra, role: &Role) -> String {
    infra.instances[role.instance].address.clone()
}

fn kind_name(role: &Role) -> &'static str {
    match role.kind {
        RoleKind::IrsaModuleV5 => "iam-role-for-service-accounts-eks (v5)",
        RoleKind::IrsaModuleV6 => "iam-role-for-service-accounts (v6)",
        RoleKind::IamRole => "aws_iam_role",
    }
}

/// Checks every ServiceAccount, role and Pod Identity association.
pub fn check(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    let infra = &world.infra;
    let ix = Index::new(world);
    for sa in &world.service_accounts {
        let Some(arn) = sa.role_arn.as_deref() else {
            continue;
        };
        let at = sa
            .role_location
            .clone()
            .unwrap_or_else(|| sa.location.clone());
        // Unrendered `{ACCOUNT_ID}` / `{{ .Values.x }}` tokens are yaml/unrendered-placeholder's.
        if arn.contains('{') {
            continue;
        }
        let parsed = match parse_role_arn(arn) {
            Ok(p) => p,
            Err(problem) => {
                findings.push(
                    Finding::new(
                        RuleId::IRSA_INVALID_ROLE_ARN,
                        format!("ServiceAccount `{}`: the role ARN `{arn}` is invalid: {problem}", sa.name),
                        at,
                    )
                    .with_help("write `arn:aws:iam::<12-digit account id>:role/<role name>`; if it is rendered from values, set the account id (`accountId`) for this release"),
                );
                continue;
            }
        };
        if !infra.has_terraform {
            continue;
        }
        let tenant = ix.tenant_of(sa);
        let known_role = ix.roles_by_name.contains_key(parsed.name)
            || ix.skipped_by_name.contains_key(parsed.name);
        if !infra.accounts.is_empty()
            && !infra.accounts.contains_key(parsed.account)
            && (tenant.is_some() || known_role)
        {
            let (account, place) = infra
                .accounts
                .iter()
                .next()
                .map_or(("", None), |(a, l)| (a.as_str(), Some(l.clone())));
            let mut f = Finding::new(
                RuleId::IRSA_ACCOUNT_MISMATCH,
                format!(
                    "ServiceAccount `{}` names a role in account `{}`, but the infra-repo deploys to account `{account}`: the role `{}` does not exist there, so pods get no credentials",
                    sa.name, parsed.account, parsed.name
                ),
                at,
            )
            .with_help(format!("use `arn:aws:iam::{account}:role/{}` (check the `accountId` value of this release)", parsed.name));
            if let Some(place) = place {
                f = f.with_related(
                    place,
                    format!("the infra-repo's account `{account}` is set here"),
                );
            }
            findings.push(f);
            continue;
        }
        match ix.roles_by_name.get(parsed.name) {
            Some(roles) => findings.extend(trust_mismatch(world, sa, &at, parsed.name, roles)),
            None => findings.extend(role_missing(world, &ix, sa, &at, parsed.name, tenant)),
        }
    }
    if infra.has_terraform {
        findings.extend(unused_roles(world, &ix));
        findings.extend(pod_identity(world, &ix));
    }
    findings.extend(provider_arns(infra));
    findings
}

fn trust_mismatch(
    world: &World,
    sa: &ServiceAccount,
    at: &Location,
    name: &str,
    roles: &[&Role],
) -> Option<Finding> {
    let ns = sa.namespace.as_deref()?;
    if roles.iter().any(|r| r.subjects.is_none()) {
        return None;
    }
    if roles
        .iter()
        .flat_map(|r| r.subjects.iter().flatten())
        .any(|s| s.admits(ns, &sa.name))
    {
        return None;
    }
    let role = roles.first()?;
    // Sorted and deduplicated: two OIDC providers trusting the same subject list it twice.
    let trusted: Vec<String> = roles
        .iter()
        .flat_map(|r| r.subjects.iter().flatten())
        .map(|s| format!("`{s}`"))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let message = if trusted.is_empty() && role.pod_identity {
        format!("ServiceAccount `{ns}:{}` uses role `{name}` through IRSA, but the role trusts only EKS Pod Identity (`pods.eks.amazonaws.com`), not the cluster's OIDC provider: AssumeRoleWithWebIdentity is denied", sa.name)
    } else if trusted.is_empty() {
        format!("ServiceAccount `{ns}:{}` uses role `{name}`, whose trust policy admits no ServiceAccount", sa.name)
    } else {
        let literal_star = roles
            .iter()
            .flat_map(|r| r.subjects.iter().flatten())
            .any(|s| s.exact && s.to_string().contains(['*', '?']));
        format!(
            "ServiceAccount `{ns}:{}` uses role `{name}`, but the role trusts only {}{}: AssumeRoleWithWebIdentity is denied at run time",
            sa.name,
            trusted.join(", "),
            if literal_star {
                " (compared with `StringEquals`, where `*` is a plain character; wildcards need `StringLike`)"
            } else {
                ""
            }
        )
    };
    let help = match role.subjects.as_ref().and_then(|s| s.first()) {
        Some(s) => format!(
            "run the ServiceAccount as `{}` in namespace `{}`, or trust `{ns}:{}` in the role's `namespace_service_accounts`",
            s.service_account, s.namespace, sa.name
        ),
        None => format!("trust `{ns}:{}` in the role", sa.name),
    };
    // Point at the end that is wrong: the namespace when no trusted subject is in it, else the
    // place that names the account; the role ARN when neither is known.
    let namespace_trusted = roles
        .iter()
        .flat_map(|r| r.subjects.iter().flatten())
        .any(|s| s.admits(ns, &s.service_account));
    let primary = match (&sa.namespace_location, namespace_trusted) {
        (Some(place), false) => place.clone(),
        _ => at.clone(),
    };
    let mut finding = Finding::new(RuleId::IRSA_TRUST_MISMATCH, message, primary.clone());
    if primary != *at {
        finding = finding.with_related(at.clone(), "the role ARN comes from here");
    }
    Some(
        finding
            .with_help(help)
            .with_related(
                role.trust_location.clone(),
                format!(
                    "{} trusts this in {}",
                    kind_name(role),
                    role_address(&world.infra, role)
                ),
            )
            .with_related(sa.location.clone(), "the ServiceAccount is named here"),
    )
}

fn role_missing(
    world: &World,
    ix: &Index,
    sa: &ServiceAccount,
    at: &Location,
    name: &str,
    tenant: Option<(&str, &Location)>,
) -> Option<Finding> {
    let infra = &world.infra;
    let (tenant, tenant_at) = tenant?;
    if infra.other_role_names.contains(name) {
        return None; // created by something we do not model (a registry module, a non-IRSA role)
    }
    if let Some(role) = ix.prefixed_match(name) {
        let base = role.name.as_deref().unwrap_or_default();
        let why = match role.kind {
            RoleKind::IrsaModuleV6 => "the v6 IRSA module's `use_name_prefix` defaults to true",
            _ => "`name_prefix` is set",
        };
        return Some(
            Finding::new(
                RuleId::IRSA_ROLE_MISSING,
                format!("ServiceAccount `{}` names role `{name}`, but Terraform creates `{base}-<random suffix>` ({why}): its name is not known before apply, so no fixed ARN can match it", sa.name),
                at.clone(),
            )
            .with_help("set `use_name_prefix = false` (v6) or `name` instead of `name_prefix`, or pass the role's `arn` output to the release")
            .with_related(role.location.clone(), format!("the role is created here in {}", role_address(infra, role))),
        );
    }
    if !infra.incomplete.is_empty() {
        return None;
    }
    if let Some(skipped) = ix
        .skipped_by_name
        .get(name)
        .and_then(|v| v.first())
        .map(|i| &infra.skipped[*i])
    {
        let address = &infra.instances[skipped.instance].address;
        let off = match skipped.switch.as_str() {
            "count" => "its `count` is 0".to_string(),
            "for_each" => "its `for_each` is empty".to_string(),
            other => format!("its `{other}` is false"),
        };
        let mut f = Finding::new(
            RuleId::IRSA_ROLE_MISSING,
            match &skipped.cause {
                Some((var, origin)) => format!(
                    "ServiceAccount `{}` names role `{name}`, which Terraform does not create for {address}: {off} because `{var}` is {}",
                    sa.name,
                    match &origin.value { Value::Bool(b) => b.to_string(), v => gitops_lint_derive::terraform::eval::show(v) }
                ),
                None => format!("ServiceAccount `{}` names role `{name}`, which Terraform does not create for {address}: {off}", sa.name),
            },
            at.clone(),
        )
        .with_help(format!("enable the role for tenant `{tenant}` in the infra-repo, or disable the app (and its ServiceAccount) in this release"))
        .with_related(skipped.count_location.clone(), match skipped.switch.as_str() {
            "count" => "the role's `count` is 0 for this instance".to_string(),
            other => format!("the role's `{other}` switches it off for this instance"),
        });
        if let Some((var, origin)) = &skipped.cause {
            f = f.with_related(origin.location.clone(), format!("`{var}` is set here"));
        }
        return Some(f);
    }
    let mut f = Finding::new(
        RuleId::IRSA_ROLE_MISSING,
        format!("ServiceAccount `{}` names role `{name}`, which the infra-repo does not create for tenant `{tenant}`", sa.name),
        at.clone(),
    );
    let others: Vec<String> = ix
        .roles_by_tenant
        .get(tenant)
        .into_iter()
        .flatten()
        .filter_map(|r| r.name.as_deref())
        .take(4)
        .map(|n| format!("`{n}`"))
        .collect();
    f = f.with_help(if others.is_empty() {
        "create the role in the infra-repo, or fix the role name in the annotation".to_string()
    } else {
        format!("Terraform creates {} for this tenant; fix the role name in the annotation or create the role", others.join(", "))
    });
    Some(f.with_related(
        tenant_at.clone(),
        format!("the infra-repo knows tenant `{tenant}` here"),
    ))
}

fn unused_roles(world: &World, ix: &Index) -> Vec<Finding> {
    let infra = &world.infra;
    let mut findings = Vec::new();
    if infra.terraform_deploys_anywhere {
        return findings; // Terraform creates ServiceAccounts we cannot place
    }
    let mut seen: HashSet<(&str, String)> = HashSet::new();
    for role in &infra.roles {
        let (Some(name), Some(subjects)) = (role.name.as_deref(), role.subjects.as_ref()) else {
            continue;
        };
        if ix.sa_by_role.contains(name) {
            continue; // some ServiceAccount uses it; a wrong subject is irsa/trust-mismatch
        }
        for s in subjects {
            if s.namespace.contains(['*', '?']) || s.service_account.contains(['*', '?']) {
                continue;
            }
            if ix
                .sa_by_subject
                .contains(&(s.namespace.as_str(), s.service_account.as_str()))
                || !seen.insert((name, s.to_string()))
            {
                continue;
            }
            let Some(neighbour) = ix.namespaces_with_sa.get(s.namespace.as_str()) else {
                continue; // the apps side of this namespace is not known: say nothing
            };
            if infra.terraform_namespaces.contains(&s.namespace) {
                continue; // Terraform deploys into this namespace itself (helm_release, ...)
            }
            let instance = &infra.instances[role.instance];
            // A prefixed role is named `<prefix><random>` (v6 adds a `-` between them).
            let shown = match (role.prefixed, role.kind) {
                (false, _) => name.to_string(),
                (true, RoleKind::IrsaModuleV6) => format!("{name}-<random>"),
                (true, _) => format!("{name}<random>"),
            };
            findings.push(
                Finding::new(
                    RuleId::IRSA_UNUSED_ROLE,
                    format!(
                        "role `{shown}` ({}) trusts ServiceAccount `{s}`, which no release creates: namespace `{}` has IRSA ServiceAccounts, but not `{}`",
                        instance.address, s.namespace, s.service_account
                    ),
                    role.trust_location.clone(),
                )
                .with_help("enable the app for this tenant in the apps-repo, or stop creating the role (its `enable_*` flag) in the infra-repo")
                .with_related(instance.location.clone(), format!("{} is instantiated here", instance.address))
                .with_related(neighbour.location.clone(), format!("ServiceAccount `{}` of namespace `{}` uses a Terraform role; `{}` is not created", neighbour.name, s.namespace, s.service_account)),
            );
        }
    }
    findings
}

fn pod_identity(world: &World, ix: &Index) -> Vec<Finding> {
    let infra = &world.infra;
    let mut findings = Vec::new();
    for p in &infra.pod_identities {
        let address = &infra.instances[p.instance].address;
        let terraform_side = infra.terraform_deploys_anywhere
            || p.namespace
                .as_ref()
                .is_some_and(|ns| infra.terraform_namespaces.contains(ns));
        if let (Some(ns), Some(sa), false) = (
            p.namespace.as_deref(),
            p.service_account.as_deref(),
            terraform_side,
        ) {
            if let (Some(neighbour), false) = (
                ix.namespaces_with_sa.get(ns),
                ix.sa_by_subject.contains(&(ns, sa)),
            ) {
                findings.push(
                    Finding::new(
                        RuleId::IRSA_UNUSED_ROLE,
                        format!("Pod Identity association ({address}) gives ServiceAccount `{ns}:{sa}` a role, but no release creates that ServiceAccount"),
                        p.location.clone(),
                    )
                    .with_help("associate the ServiceAccount the release runs as, or create it")
                    .with_related(neighbour.location.clone(), format!("ServiceAccount `{}` of namespace `{ns}` uses a Terraform role; `{sa}` is not created", neighbour.name)),
                );
            }
        }
        let Some(name) = p.role_name.as_deref() else {
            continue;
        };
        let Some(roles) = ix.roles_by_name.get(name) else {
            continue;
        };
        if roles
            .iter()
            .all(|r| r.subjects.is_some() && !r.pod_identity)
        {
            let role = roles[0];
            findings.push(
                Finding::new(
                    RuleId::IRSA_TRUST_MISMATCH,
                    format!("Pod Identity association ({address}) uses role `{name}`, but the role does not trust `pods.eks.amazonaws.com`: the Pod Identity agent cannot assume it"),
                    p.role_location.clone(),
                )
                .with_help("trust `Service: pods.eks.amazonaws.com` with actions `sts:AssumeRole` and `sts:TagSession` in the role")
                .with_related(role.trust_location.clone(), "the role's trust policy"),
            );
        }
    }
    findings
}

/// Whether a provider expression is the issuer URL or host rather than the provider ARN.
fn issuer_expression(text: &str) -> bool {
    let t = text.trim();
    t.ends_with(".issuer")
        || t.ends_with("oidc_issuer_url")
        || t.ends_with("oidc_issuer")
        || (t.starts_with("module.") && t.ends_with(".oidc_provider"))
}

fn provider_arns(infra: &Infra) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    for role in &infra.roles {
        let Some(origin) = &role.provider_arn else {
            continue;
        };
        let bad = match &origin.value {
            Value::String(s) => !s.starts_with("arn:"),
            Value::Unknown => issuer_expression(&origin.text),
            _ => false,
        };
        if !bad || !seen.insert(format!("{:?}", origin.location)) {
            continue;
        }
        let what = match &origin.value {
            Value::String(s) => format!("`{s}`"),
            _ => format!("`{}`", origin.text),
        };
        let mut f = Finding::new(
            RuleId::IRSA_PROVIDER_ARN_NOT_ARN,
            format!("`provider_arn` is {what}, the cluster's OIDC issuer, not its IAM OIDC provider ARN (`arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>`): the trust policy's Federated principal and `:sub` condition key are wrong, so no ServiceAccount can assume the role"),
            origin.location.clone(),
        )
        .with_help("pass `module.eks.oidc_provider_arn`, or `data.aws_iam_openid_connect_provider.<name>.arn` (look the provider up by the issuer URL)");
        if origin.location != role.trust_location {
            f = f.with_related(
                role.trust_location.clone(),
                format!("the role's trust is built here ({})", kind_name(role)),
            );
        }
        findings.push(f);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::parse_role_arn;

    #[test]
    fn role_arns() {
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/consumer-role-t1").is_ok());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/team/ci/x").is_ok());
        assert!(parse_role_arn("arn:aws:iam:::role/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::12345:role/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/a b").is_err());
        assert!(parse_role_arn("consumer-role").is_err());
        let long = format!("arn:aws:iam::123456789012:role/{}", "a".repeat(65));
        assert!(parse_role_arn(&long).is_err());
    }
}
