//! The command line as users meet it: exit codes, help, config and policy errors, user policies.

mod common;

use common::{root, run, scratch, stderr, stdout, write};

const PREMIUM_TENANT: &str = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: tenant-1
spec:
  project: default
  source:
    repoURL: https://example.com/apps.git
    chart: helm-tenant-chart
    helm:
      values: |
        tenantId: tenant-1
        apps:
          producer:
            enabled: true
          consumer:
            enabled: true
  destination:
    server: https://kubernetes.default.svc
    namespace: tenant-1
";

#[test]
fn help_teaches_with_examples() {
    let o = run(root(), &["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for needle in [
        "Examples:",
        "gitops-lint apps-repo infra-repo",
        "--fail-on",
        "--policy",
        "Exit status",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn rules_and_explain() {
    let o = run(root(), &["rules"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("tier/app-enablement"));
    let o = run(root(), &["explain", "yaml/continued-list-item"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("## Why it matters"));
    let o = run(root(), &["explain", "no/such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("gitops-lint rules"));
}

#[test]
fn exit_codes_clean_findings_and_usage() {
    let dir = scratch(&[("tenants/premium/tenant-1.yaml", PREMIUM_TENANT)]);
    let o = run(dir.path(), &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("no findings"));

    write(
        dir.path(),
        "tenants/premium/tenant-1.yaml",
        &PREMIUM_TENANT.replace("namespace: tenant-1", "namespace: tenant-11"),
    );
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains("tenants/premium/tenant-1.yaml:20:16"),
        "{}",
        stdout(&o)
    );

    let o = run(dir.path(), &["does-not-exist"]);
    assert_eq!(o.status.code(), Some(2));
    let o = run(dir.path(), &["--format", "xml"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_bad_config_names_file_line_and_key() {
    let dir = scratch(&[(".gitops-lint.yaml", "rules:\n  tier/app-enablement: loud\n")]);
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(".gitops-lint.yaml:2: `rules.tier/app-enablement`"),
        "{err}"
    );
}

#[test]
fn an_unknown_rule_id_in_the_config_exits_2_with_a_suggestion() {
    let dir = scratch(&[(
        ".gitops-lint.yaml",
        "rules:\n  tier/app-enablement: warning\n  argocd/app-path-mising: off\n",
    )]);
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(2), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(
        err.contains(".gitops-lint.yaml:3: `rules.argocd/app-path-mising`"),
        "{err}"
    );
    assert!(
        err.contains("did you mean `argocd/app-path-missing`?"),
        "{err}"
    );

    // `ignore:` entries too, globs included: a glob must name at least one rule.
    write(
        dir.path(),
        ".gitops-lint.yaml",
        "ignore:\n  - rule: tier/*\n    reason: migrating\n  - rule: teir/*\n    reason: typo\n",
    );
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(".gitops-lint.yaml:4: `ignore[1].rule`: `teir/*` matches no rule id"),
        "{}",
        stderr(&o)
    );

    // A rule of the user's own policies is a rule.
    write(
        dir.path(),
        ".gitops-lint.yaml",
        "rules:\n  acme/tenant-prefix: off\n",
    );
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(2), "without the policy it is unknown");
    write(
        dir.path(),
        "policies/naming.rego",
        "package gitops_lint.naming\nimport rego.v1\n\nwarn contains f if {\n  some t in input.tenants\n  f := {\"rule\": \"acme/tenant-prefix\", \"file\": t.file, \"doc\": t.doc, \"path\": t.id_path, \"msg\": \"x\"}\n}\n",
    );
    let o = run(dir.path(), &["--policy", "policies", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_inline_suppression_of_an_unknown_rule_is_a_finding() {
    let tenant = PREMIUM_TENANT.replace(
        "namespace: tenant-1",
        "namespace: x # gitops-lint: ignore[tenant/namespace-mismatsh] moving",
    );
    let dir = scratch(&[("tenants/premium/tenant-1.yaml", &tenant)]);
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(
        out.contains("error[tenant/namespace-mismatch]"),
        "still reported: {out}"
    );
    assert!(
        out.contains("the suppression names `tenant/namespace-mismatsh`, which is not a rule id; did you mean `tenant/namespace-mismatch`?"),
        "{out}"
    );
}

#[test]
fn config_changes_levels_and_turns_rules_off() {
    let tenant = PREMIUM_TENANT.replace("namespace: tenant-1", "namespace: x");
    let dir = scratch(&[
        ("tenants/premium/tenant-1.yaml", &tenant),
        (
            ".gitops-lint.yaml",
            "rules:\n  tenant/namespace-mismatch: warning\n",
        ),
    ]);
    let o = run(dir.path(), &["."]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "a warning does not fail by default"
    );
    assert!(stdout(&o).contains("warning[tenant/namespace-mismatch]"));
    let o = run(dir.path(), &["--fail-on", "warning", "."]);
    assert_eq!(o.status.code(), Some(1));
    write(
        dir.path(),
        ".gitops-lint.yaml",
        "rules:\n  tenant/namespace-mismatch: off\n",
    );
    let o = run(dir.path(), &["."]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("no findings"));
}

#[test]
fn user_policies_add_rules_and_broken_ones_exit_2() {
    let dir = scratch(&[("repo/tenants/premium/tenant-1.yaml", PREMIUM_TENANT)]);
    write(
        dir.path(),
        "policies/naming.rego",
        "package gitops_lint.naming\nimport rego.v1\n\nwarn contains f if {\n  some t in input.tenants\n  not startswith(t.id, \"acme-\")\n  f := {\"rule\": \"acme/tenant-prefix\", \"file\": t.file, \"doc\": t.doc, \"path\": t.id_path, \"msg\": sprintf(\"tenant `%s` lacks the `acme-` prefix\", [t.id])}\n}\n",
    );
    let o = run(
        dir.path(),
        &["--policy", "policies", "--format", "json", "repo"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let f = &json["findings"][0];
    assert_eq!(f["rule"], "acme/tenant-prefix");
    assert_eq!(f["level"], "warning");
    assert_eq!(f["file"], "repo/tenants/premium/tenant-1.yaml");
    assert_eq!(
        f["line"], 12,
        "points inside the helm values block at tenantId"
    );

    write(
        dir.path(),
        "policies/naming.rego",
        "package gitops_lint.naming\n\ndeny contains f if {\n",
    );
    let o = run(dir.path(), &["--policy", "policies", "repo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("naming.rego"), "{}", stderr(&o));
}

/// `input.resources` is built only when a loaded policy reads it: every document with a
/// `kind`, its name, namespace and whole object, converted to the engine's values.
#[test]
fn user_policies_read_input_resources() {
    let dir = scratch(&[(
        "repo/platform/debug.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: team-a\ndata:\n  mode: debug\n  replicas: \"3\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: quiet\ndata:\n  mode: release\n",
    )]);
    write(
        dir.path(),
        "policies/debug.rego",
        "package gitops_lint.debug\nimport rego.v1\n\nwarn contains f if {\n  some r in input.resources\n  r.object.data.mode == \"debug\"\n  f := {\"rule\": \"acme/debug-mode\", \"file\": r.file, \"doc\": r.doc, \"path\": [\"data\", \"mode\"], \"msg\": sprintf(\"%s %s/%s (%s, doc %d, %d keys) runs in debug mode\", [r.kind, r.namespace, r.name, r.apiVersion, r.doc, count(r.object.data)])}\n}\n",
    );
    let o = run(
        dir.path(),
        &["--policy", "policies", "--format", "json", "repo"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let findings = json["findings"].as_array().cloned().unwrap_or_default();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["rule"], "acme/debug-mode");
    assert_eq!(f["file"], "repo/platform/debug.yaml");
    assert_eq!(f["line"], 7, "at the `mode` value of the first document");
    assert_eq!(
        f["message"], "ConfigMap team-a/flags (v1, doc 0, 2 keys) runs in debug mode",
        "{f}"
    );
}

/// The findings of `rule` in a `--format json` report.
fn findings_of<'j>(json: &'j serde_json::Value, rule: &str) -> Vec<&'j serde_json::Value> {
    json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == rule)
        .collect()
}

/// The embedded policies read two keys of a tenant's values (`apps.<app>.enabled` and
/// `envId`), so the input carries only those unless a `--policy` package reads
/// `input.tenants`: then the values are whole.
#[test]
fn user_policies_read_whole_tenant_values() {
    let tenant = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: tenant-1-premium\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: oci://123456789012.dkr.ecr.ap-northeast-2.amazonaws.com\n    chart: helm-tenant-chart\n    targetRevision: \"0.2.x\"\n    helm:\n      releaseName: tenant-1-premium\n      values: |\n        tenantId: tenant-1\n        region: us-east-1\n        apps:\n          producer:\n            enabled: true\n            replicas: 3\n          consumer:\n            enabled: true\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: tenant-1\n";
    let dir = scratch(&[("apps-repo/tenants/premium/tenant-1.yaml", tenant)]);
    write(
        dir.path(),
        "policies/region.rego",
        "package gitops_lint.region\nimport rego.v1\n\nwarn contains f if {\n  some t in input.tenants\n  t.values.region != \"eu-west-1\"\n  f := {\"rule\": \"acme/region\", \"file\": t.file, \"doc\": t.doc, \"path\": array.concat(t.values_path, [\"region\"]), \"msg\": sprintf(\"tenant `%s` runs in %s with %d producer replicas\", [t.id, t.values.region, t.values.apps.producer.replicas])}\n}\n",
    );
    let o = run(
        dir.path(),
        &["--policy", "policies", "--format", "json", "apps-repo"],
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let findings = findings_of(&json, "acme/region");
    assert_eq!(findings.len(), 1, "{}: {json}", stderr(&o));
    assert_eq!(
        findings[0]["message"],
        "tenant `tenant-1` runs in us-east-1 with 3 producer replicas"
    );
    assert_eq!(
        findings[0]["line"], 16,
        "at the `region` line inside `values: |`"
    );
}

/// The messages of `rule`'s findings when the `--policy` package `rego` (one file) runs on
/// the apps-repo and infra-repo of fixture `case`, and the command's standard error.
fn user_policy_messages(case: &str, rego: &str, rule: &str) -> (Vec<String>, String) {
    let dir = scratch(&[]);
    write(dir.path(), "policies/user.rego", rego);
    let policies = dir.path().join("policies");
    let o = run(
        &root().join(case),
        &[
            "--policy",
            &policies.display().to_string(),
            "--format",
            "json",
            "apps-repo",
            "infra-repo",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let messages = findings_of(&json, rule)
        .iter()
        .map(|f| f["message"].as_str().unwrap_or_default().to_string())
        .collect();
    (messages, stderr(&o))
}

/// A user policy's finding that `follows` a rule is folded into that rule's finding at the same
/// place (the README's contract), and stands on its own where that rule has none.
#[test]
fn a_user_finding_that_follows_a_rule_is_folded_into_its_finding_at_that_place() {
    let rego = "package gitops_lint.follow\nimport rego.v1\n\nwarn contains f if {\n  some t in input.tenants\n  not t.template\n  t.tier == \"premium\"\n  t.namespace != null\n  f := {\"rule\": \"acme/namespace-owner\", \"file\": t.file, \"doc\": t.doc, \"path\": t.namespace_path, \"msg\": sprintf(\"namespace `%s` has no owner\", [t.namespace]), \"follows\": \"tenant/namespace-mismatch\"}\n}\n";
    let (alone, stderr) = user_policy_messages("fixtures/example", rego, "acme/namespace-owner");
    // tenant-1 and tenant-4 deploy to their own namespaces: no root there.
    assert_eq!(
        alone,
        [
            "namespace `tenant-1` has no owner",
            "namespace `tenant-4` has no owner"
        ],
        "{stderr}"
    );
    let (roots, _) = user_policy_messages("fixtures/example", rego, "tenant/namespace-mismatch");
    assert_eq!(roots.len(), 1, "{roots:?}");
    assert!(
        roots[0].contains("; the same fix resolves 1 finding of acme/namespace-owner here: namespace `tenant-5` has no owner; the same fix resolves 2 findings of irsa/trust-mismatch here: "),
        "{}",
        roots[0]
    );
    // Said once, though the gate resolves the findings a second time after the suppressions
    // (with the two followers above still on their own).
    assert_eq!(
        roots[0].matches("the same fix resolves").count(),
        2,
        "{}",
        roots[0]
    );
}

/// A ServiceAccount its role's trust does not admit keeps `trusted` (what the roles of its
/// name trust) and `exact_wildcard` in `input.irsa`, as documented in `policy/input.rs`,
/// although the embedded policy now reads the finding's words the host makes from them.
#[test]
fn user_policies_read_what_a_role_trusts() {
    let (messages, stderr) = user_policy_messages(
        "fixtures/chain/terraform/module-trust-details",
        "package gitops_lint.trusted\nimport rego.v1\n\nwarn contains f if {\n  some sa in input.irsa.service_accounts\n  sa.admitted == false\n  f := {\"rule\": \"acme/trusted\", \"at\": sa.named_at, \"msg\": sprintf(\"%s:%s trusted %s, exact wildcard %v\", [sa.namespace, sa.name, sa.trusted, object.get(sa, \"exact_wildcard\", false)])}\n}\n",
        "acme/trusted",
    );
    assert!(
        messages.contains(&"t2:t2-consumer trusted `t2:*`, exact wildcard true".to_string()),
        "{messages:?}: {stderr}"
    );
}

/// `input.infra.roles` is left out for the embedded policies alone (none reads it), and built
/// for a `--policy` package that reads `input.infra`.
#[test]
fn user_policies_read_the_infra_roles() {
    let (messages, stderr) = user_policy_messages(
        "fixtures/example",
        "package gitops_lint.roles\nimport rego.v1\n\nwarn contains f if {\n  names := sort([r.name | some r in input.infra.roles])\n  count(names) > 0\n  some t in input.tenants\n  t.id == \"tenant-1\"\n  not t.template\n  f := {\"rule\": \"acme/roles\", \"file\": t.file, \"doc\": t.doc, \"path\": t.name_path, \"msg\": sprintf(\"%d roles, the first %s\", [count(names), names[0]])}\n}\n",
        "acme/roles",
    );
    // The seven roles the example's Terraform creates for its tenants, as the policy sees them.
    assert_eq!(
        messages,
        ["7 roles, the first consumer-role-tenant-1"],
        "{stderr}"
    );
}

#[test]
fn json_output_shape_is_stable() {
    let case = root().join("fixtures/rules/tenant/namespace-mismatch/fail");
    let o = run(&case, &["--format", "json", "apps-repo"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(json["version"], 1);
    let f = &json["findings"][0];
    for key in [
        "rule",
        "level",
        "message",
        "help",
        "file",
        "line",
        "column",
        "end_line",
        "end_column",
        "related",
    ] {
        assert!(f.get(key).is_some(), "finding lacks `{key}`");
    }
    assert!(json["summary"]["error"].as_u64().unwrap_or(0) > 0);
}

/// The JSON document byte for byte: the key order the format documents, two-space
/// indentation, a finding with a related place, and the summary. The renderer serializes
/// borrowed structs, so a reordered field would change these bytes.
#[test]
fn json_output_bytes_are_pinned() {
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: team-a\ndata:\n  mode: fast\n  mode: slow\n";
    let dir = scratch(&[("repo/cm.yaml", cm)]);
    let out = run(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let want = r#"{
  "version": 1,
  "findings": [
    {
      "rule": "yaml/duplicate-key",
      "level": "error",
      "message": "`mode` is set twice in this mapping (first on line 7); kubectl and Argo CD silently keep this last value and drop the first, kustomize refuses the file",
      "help": "keep one of the two (merge their contents if both matter)",
      "file": "repo/cm.yaml",
      "line": 8,
      "column": 3,
      "end_line": 8,
      "end_column": 7,
      "related": [
        {
          "file": "repo/cm.yaml",
          "line": 7,
          "column": 3,
          "end_line": 7,
          "end_column": 7,
          "message": "first set here"
        }
      ]
    }
  ],
  "summary": {
    "files": 1,
    "findings": 1,
    "error": 1,
    "warning": 0,
    "info": 0
  }
}
"#;
    assert_eq!(stdout(&out), want);
}

#[test]
fn a_duplicate_key_in_embedded_helm_values_is_told_in_the_files_lines_and_helms_terms() {
    let tenant = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: tenant-1-premium\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/charts\n    chart: tenant\n    targetRevision: 1.0.0\n    helm:\n      values: |\n        tenantId: tenant-1\n        replicas: 2\n        replicas: 3\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: tenant-1\n";
    let dir = scratch(&[("repo/tenants/premium/tenant-1.yaml", tenant)]);
    let out = run(dir.path(), &["--format", "json", "repo"]);
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{e}"));
    let dup = json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "yaml/duplicate-key")
        .unwrap_or_else(|| panic!("no duplicate-key finding: {json}"));
    assert_eq!(dup["line"], 16);
    let message = dup["message"].as_str().unwrap_or("");
    // The first `replicas` is on the file's line 15, and Helm (not kustomize) reads the values.
    assert!(message.contains("first on line 15"), "{message}");
    assert!(message.contains("Helm silently keeps"), "{message}");
    assert!(!message.contains("kustomize"), "{message}");
}

#[test]
fn kinds_without_a_schema_get_one_summary_line_in_the_human_output() {
    let widget = |name: &str| {
        format!("apiVersion: widgets.example.com/v1\nkind: Widget\nmetadata:\n  name: {name}\nspec:\n  size: 3\n")
    };
    let dir = scratch(&[
        ("apps/a.yaml", &widget("a")),
        ("apps/b.yaml", &widget("b")),
        (
            "apps/gadget.yaml",
            "apiVersion: gadgets.example.com/v1\nkind: \"Gadget\"\nmetadata:\n  name: g\n",
        ),
    ]);
    let o = run(dir.path(), &["--no-color", "."]);
    let text = stdout(&o);
    // Two kinds, each named once however many documents it has, in the order of their notes;
    // quotes are not part of a name.
    assert!(
        text.contains("gitops-lint: 2 kinds were not checked against a schema: Widget, Gadget (the schema/kind-not-checked notes say how to check them)"),
        "{text}"
    );
    assert_eq!(
        text.matches("not checked against a schema:").count(),
        1,
        "{text}"
    );

    // Off: no note, so no line.
    write(
        dir.path(),
        ".gitops-lint.yaml",
        "rules:\n  schema/kind-not-checked: off\n",
    );
    let text = stdout(&run(dir.path(), &["--no-color", "."]));
    assert!(!text.contains("not checked against a schema"), "{text}");
}
