//! `--fix` round trips through the real binary: `--dry-run` shows a diff and changes nothing;
//! `--fix` changes exactly the fixable lines (comments and everything else byte for byte),
//! the re-lint reports no finding of the fixed rules, and a second `--fix` changes nothing.
//! Ambiguous cases are left alone.

mod common;

use common::{run, scratch, stdout};
use std::path::Path;

/// A kustomization with a folded item, a mis-indented block, a list in the other style and a
/// comment that must survive.
const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# tenants are appended by the onboarding workflow
resources:
  - tenant-1.yaml
  - tenant-4.yaml
   - tenant-7.yaml   # appended one space too deep
";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
        containers:           # four spaces: the file uses two
          - name: api
            image: api:1.0
            args:
              - --port=80
            env:
            - name: MODE      # flush list: the file indents lists
              value: |
                  keep   this  text
";

const TIER_TEMPLATE: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {TENANT_ID}
spec:
  project: default
  destination:
     namespace: {TENANT_ID}
     server: https://kubernetes.default.svc
";

#[test]
fn dry_run_shows_the_diff_and_changes_nothing() {
    let dir = scratch(&[("repo/kustomization.yaml", KUSTOMIZATION)]);
    let out = run(dir.path(), &["--fix", "--dry-run", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let diff = stdout(&out);
    assert!(diff.contains("--- a/repo/kustomization.yaml"), "{diff}");
    assert!(
        diff.contains("-   - tenant-7.yaml   # appended one space too deep"),
        "{diff}"
    );
    assert!(
        diff.contains("+  - tenant-7.yaml   # appended one space too deep"),
        "{diff}"
    );
    assert_eq!(
        read_in(dir.path(), "repo/kustomization.yaml"),
        KUSTOMIZATION
    );
}

#[test]
fn fix_round_trip_keeps_everything_else_and_is_idempotent() {
    let dir = scratch(&[
        // The width and list-style fixes belong to the opt-in style rules.
        ("repo/.gitops-lint.yaml", "presets: [style]\n"),
        ("repo/kustomization.yaml", KUSTOMIZATION),
        ("repo/deployment.yaml", DEPLOYMENT),
        (
            "repo/tier-templates/premium_tenant_template.yaml",
            TIER_TEMPLATE,
        ),
    ]);
    let before = run(dir.path(), &["--format", "json", "repo"]);
    let before = stdout(&before);
    for rule in [
        "yaml/continued-list-item",
        "yaml/indent-width",
        "yaml/list-style",
    ] {
        assert!(before.contains(rule), "{rule} not found before: {before}");
    }

    let out = run(dir.path(), &["--fix", "--format", "json", "repo"]);
    let after = stdout(&out);
    for rule in [
        "yaml/continued-list-item",
        "yaml/indent-width",
        "yaml/list-style",
    ] {
        assert!(!after.contains(rule), "{rule} still reported: {after}");
    }
    assert_eq!(
        read_in(dir.path(), "repo/kustomization.yaml"),
        KUSTOMIZATION.replace("   - tenant-7", "  - tenant-7")
    );
    let deployment = read_in(dir.path(), "repo/deployment.yaml");
    let expected = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:           # four spaces: the file uses two
        - name: api
          image: api:1.0
          args:
            - --port=80
          env:
            - name: MODE      # flush list: the file indents lists
              value: |
                  keep   this  text
";
    assert_eq!(deployment, expected);
    assert_eq!(
        read_in(
            dir.path(),
            "repo/tier-templates/premium_tenant_template.yaml"
        ),
        TIER_TEMPLATE
            .replace("     namespace", "    namespace")
            .replace("     server", "    server"),
        "placeholders survive and the template is re-indented"
    );

    // A second run has nothing left to do.
    let again = run(dir.path(), &["--fix", "--dry-run", "repo"]);
    assert_eq!(again.status.code(), Some(0), "{}", stdout(&again));
    assert!(stdout(&again).is_empty());
}

#[test]
fn ambiguous_indentation_is_never_fixed() {
    // `c` sits between `a` (column 1) and `b` (column 3): which level was meant is unknown.
    let text = "a:\n  b: 1\n c: 2\n";
    let dir = scratch(&[("repo/x.yaml", text)]);
    let out = run(dir.path(), &["--fix", "repo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("yaml/indentation"));
    assert_eq!(read_in(dir.path(), "repo/x.yaml"), text);
}

#[test]
fn fixes_of_rules_switched_off_are_not_applied() {
    let dir = scratch(&[
        ("repo/kustomization.yaml", KUSTOMIZATION),
        (
            "repo/.gitops-lint.yaml",
            "rules:\n  yaml/continued-list-item: off\n",
        ),
    ]);
    run(dir.path(), &["--fix", "repo"]);
    assert_eq!(
        read_in(dir.path(), "repo/kustomization.yaml"),
        KUSTOMIZATION
    );
}

#[test]
fn style_is_neither_reported_nor_fixed_without_the_preset() {
    // Mixed widths and list styles read the same to every YAML reader: opt-in only.
    let dir = scratch(&[("repo/deployment.yaml", DEPLOYMENT)]);
    let out = run(dir.path(), &["--fix", "--format", "json", "repo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(!stdout(&out).contains("yaml/"), "{}", stdout(&out));
    assert_eq!(read_in(dir.path(), "repo/deployment.yaml"), DEPLOYMENT);
}

fn read_in(dir: &Path, rel: &str) -> String {
    common::read(&dir.join(rel))
}
