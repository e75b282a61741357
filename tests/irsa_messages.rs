//! The words of the IRSA findings whose policy paths aggregate ServiceAccounts or read facts
//! the input precomputes (`policies/irsa.rego`: `namespace_mismatches`, `name_mismatches`,
//! `trust_words` and its branches; a subject's `text` and `wildcard`, a role's `namespaces` and
//! `namespace_key`, `trusted_namespace_key`, a ServiceAccount's `trusted` and `exact_wildcard`).
//! The fixture tests pin where each finding is;
//! these pin what it says, so that a rewrite of the policy for speed cannot change a message
//! unnoticed.

mod common;

use gitops_lint::{lint, Options};
use gitops_lint_config::Config;

/// The `irsa/trust-mismatch` messages of a fixture case, by the case's two repositories.
fn trust_messages(case: &str) -> Vec<String> {
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
        .map(|f| f.message.clone())
        .collect()
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
