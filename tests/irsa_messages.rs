//! The words of the IRSA findings whose policy paths aggregate ServiceAccounts or read facts
//! the input precomputes (`policies/irsa.rego`: `namespace_mismatches`, `name_mismatches`,
//! `trust_words` and its branches; a subject's `text` and `wildcard`, a role's `namespaces` and
//! `namespace_key`, `trusted_namespace_key`, a ServiceAccount's `trusted` and `exact_wildcard`).
//! The fixture tests pin where each finding is; these pin what it says (and, where the words
//! were once wrong, its help), so that a rewrite of the policy for speed cannot change a
//! message unnoticed.

mod common;

use gitops_lint::{lint, Options};
use gitops_lint_config::Config;

/// The `irsa/trust-mismatch` messages of a fixture case, by the case's two repositories.
fn trust_messages(case: &str) -> Vec<String> {
    trust_findings(case)
        .into_iter()
        .map(|(message, _)| message)
        .collect()
}

/// The `irsa/trust-mismatch` findings of a fixture case as (message, help) pairs, by the case's
/// two repositories.
fn trust_findings(case: &str) -> Vec<(String, String)> {
    let dir = common::root().join(case);
    let options = Options {
        paths: vec![dir.join("apps-repo"), dir.join("infra-repo")],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let outcome = lint(&options, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    outcome
        .findings
        .iter()
        .filter(|f| f.rule.as_str() == "irsa/trust-mismatch")
        .map(|f| (f.message.clone(), f.help.clone().unwrap_or_default()))
        .collect()
}

/// The one finding of `findings` whose message contains `needle`.
fn the_one<'a>(findings: &'a [(String, String)], needle: &str) -> &'a (String, String) {
    let found: Vec<&(String, String)> = findings
        .iter()
        .filter(|(m, _)| m.contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "{findings:?}");
    found[0]
}

#[test]
fn an_entry_that_repeats_the_prefix_the_module_adds_is_explained_and_fixed_there() {
    let findings = trust_findings("fixtures/chain/terraform/module-trust-details");
    let (message, help) = the_one(&findings, "t1-producer");
    assert_eq!(
        message,
        "ServiceAccount `t1:t1-producer` uses role `producer-role-t1`, but the role trusts `system:serviceaccount:system:serviceaccount:t1:t1-producer`, which no ServiceAccount can be (the module puts `system:serviceaccount:` before each entry of `namespace_service_accounts`, and the entry `system:serviceaccount:t1:t1-producer` has it already): AssumeRoleWithWebIdentity is denied at run time"
    );
    // Not "run the ServiceAccount as `serviceaccount:t1:t1-producer` in namespace `system`".
    assert_eq!(
        help,
        "write the entry as `t1:t1-producer`, without `system:serviceaccount:` (the module adds it)"
    );
}

#[test]
fn a_star_under_string_equals_is_helped_with_the_modules_condition_test() {
    let findings = trust_findings("fixtures/chain/terraform/module-trust-details");
    let (_, help) = the_one(&findings, "t2-consumer");
    // Not "run the ServiceAccount as `*`": no ServiceAccount is named `*`.
    assert_eq!(
        help,
        "trust `t2:t2-consumer` in the role's `namespace_service_accounts`, or set the module's `assume_role_condition_test` to `StringLike` so that `*` in `t2:*` matches any characters"
    );
}

#[test]
fn a_sub_value_that_says_the_prefix_twice_is_fixed_in_the_condition() {
    let findings = trust_findings("fixtures/chain/terraform/trust-sub-doubled");
    // The near misses (the prefix once; a namespace called `system`) give nothing.
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(
        findings[0],
        (
            "ServiceAccount `t1:t1-consumer` uses role `consumer-role-t1`, but the role's `:sub` condition says `system:serviceaccount:` twice (`system:serviceaccount:system:serviceaccount:t1:t1-consumer`), which no ServiceAccount can be: AssumeRoleWithWebIdentity is denied at run time".to_string(),
            "write `system:serviceaccount:t1:t1-consumer` in the role's `:sub` condition, with `system:serviceaccount:` once".to_string(),
        )
    );
}

#[test]
fn a_shared_trust_line_that_repeats_the_prefix_is_told_to_drop_it() {
    let findings = trust_findings("fixtures/chain/argocd/shared-trust-prefix");
    assert_eq!(findings.len(), 1, "{findings:?}");
    let (message, help) = &findings[0];
    assert!(
        message.starts_with("the trust written here admits only namespace `system`, but the ServiceAccounts that use its roles run in 3 other namespaces"),
        "{message}"
    );
    // Not "deploy the releases into the trusted namespace": that namespace is `system`.
    assert_eq!(
        help,
        "write the entries here without `system:serviceaccount:`: the module puts it before each entry of `namespace_service_accounts`, so with it written here they trust namespace `system`"
    );
    // A wrong namespace that is a namespace keeps its help.
    let findings = trust_findings("fixtures/chain/argocd/shared-trust-namespace");
    assert_eq!(
        findings[0].1,
        "trust each ServiceAccount's own namespace here (the tenant's namespace, e.g. `${var.tenant_id}:...`), or deploy the releases into the trusted namespace"
    );
}

#[test]
fn one_trust_line_that_admits_one_wrong_namespace_is_one_finding_naming_every_account() {
    let messages = trust_messages("fixtures/chain/argocd/shared-trust-namespace");
    assert_eq!(
        messages,
        ["the trust written here admits only namespace `pool-1`, but the ServiceAccounts that use its roles run in 2 other namespaces (`tenant-1:tenant-1-consumer`, `tenant-3:tenant-3-consumer`; `tenant-1:tenant-1-consumer` uses role `consumer-role-tenant-1`, which trusts only `pool-1:tenant-1-consumer`): AssumeRoleWithWebIdentity is denied for all of them"]
    );
}

#[test]
fn one_trust_line_that_names_every_account_wrongly_is_one_finding() {
    let messages = trust_messages("fixtures/chain/terraform/trust-document-mismatch");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].starts_with("the trust written here does not admit the ServiceAccounts that use its roles, for 2 ServiceAccounts (`t1:t1-consumer`, `t2:t2-consumer`)"),
        "{}",
        messages[0]
    );
}

#[test]
fn a_star_under_string_equals_is_called_a_plain_character() {
    let messages = trust_messages("fixtures/chain/terraform/module-trust-details");
    let star: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("t2-consumer"))
        .collect();
    assert_eq!(star.len(), 1, "{messages:?}");
    assert!(
        star[0].contains("but the role trusts only `t2:*` (compared with `StringEquals`, where `*` is a plain character; wildcards need `StringLike`)"),
        "{}",
        star[0]
    );
    // The other finding of the case has no `*` in its trust: no note.
    assert!(
        messages
            .iter()
            .filter(|m| m.contains("StringEquals"))
            .count()
            == 1
    );
}

#[test]
fn what_a_role_trusts_is_listed_once_sorted_or_said_to_be_pod_identity_or_nothing() {
    let messages = trust_messages("fixtures/chain/terraform/trust-words");
    assert_eq!(
        messages,
        [
            // `t3:api` is trusted by both clusters: named once, and before `t3:worker`.
            "ServiceAccount `t3:t3-consumer` uses role `consumer-role-t3`, but the role trusts only `t3:api`, `t3:worker`: AssumeRoleWithWebIdentity is denied at run time",
            "ServiceAccount `t3:t3-payments` uses role `payments-role-t3` through IRSA, but the role trusts only EKS Pod Identity (`pods.eks.amazonaws.com`), not the cluster's OIDC provider: AssumeRoleWithWebIdentity is denied",
            "ServiceAccount `t3:t3-reader` uses role `reader-role-t3`, whose trust policy admits no ServiceAccount",
        ]
    );
}
