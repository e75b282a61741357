//! The wording of `schema/*` findings on their fail fixtures: the hint, the columns to move,
//! what YAML made of a value. (`tests/fixtures.rs` checks only rule, file and line.)

use gitops_lint::{lint, Options};
use gitops_lint_config::Config;
use gitops_lint_core::finding::Finding;
use std::path::Path;

fn findings(case: &str) -> Vec<Finding> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(case);
    let options = Options {
        paths: vec![root.join("apps-repo")],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    lint(&options, &Config::default())
        .unwrap_or_else(|e| panic!("{case}: {e}"))
        .findings
}

fn find<'a>(all: &'a [Finding], needle: &str) -> &'a Finding {
    all.iter()
        .find(|f| f.message.contains(needle))
        .unwrap_or_else(|| {
            let messages: Vec<&str> = all.iter().map(|f| f.message.as_str()).collect();
            panic!("no finding says {needle:?}; got {messages:#?}")
        })
}

#[test]
fn unknown_field_messages_say_where_the_field_belongs() {
    let all = findings("fixtures/rules/schema/unknown-field/fail");
    let requests = find(
        &all,
        "`requests` is not a field of `spec.template.spec.containers[0]` (a Container); probably mis-indented: `requests` belongs under `resources` (a ResourceRequirements)",
    );
    assert_eq!(
        requests.help.as_deref(),
        Some("indent `requests` (and its block) by 2 columns, to line up with the fields under `resources:`")
    );
    assert_eq!(requests.related.len(), 1);
    let volumes = find(
        &all,
        "`volumes` belongs one level up, in `spec.template.spec` (a PodSpec)",
    );
    assert!(volumes
        .help
        .as_deref()
        .unwrap_or("")
        .contains("outdent `volumes` (and its block) by 4 columns"));
    find(&all, "did you mean `imagePullPolicy`?");
    let heal = find(
        &all,
        "`selfHeal` belongs under `syncPolicy.automated` (a SyncPolicyAutomated)",
    );
    assert!(heal.help.as_deref().unwrap_or("").contains("by 4 columns"));
}

#[test]
fn invalid_type_messages_say_what_yaml_made_of_the_value() {
    let all = findings("fixtures/rules/schema/invalid-type/fail");
    find(
        &all,
        "annotation `argocd.argoproj.io/sync-wave` must be a string, but YAML reads `5` as an integer; quote it: \"5\"",
    );
    find(
        &all,
        "label `canary` must be a string, but YAML reads `true` as a boolean; quote it: \"true\"",
    );
    let replicas = find(&all, "`replicas` in `spec` (a DeploymentSpec) must be an integer, but YAML reads `\"3\"` as a string");
    assert_eq!(replicas.help.as_deref(), Some("remove the quotes: 3"));
    find(&all, "`targetRevision` in `spec.source` (an ApplicationSource) must be a string, but YAML reads `1.10` as a number");
}

#[test]
fn custom_resources_get_the_same_typo_and_indentation_help_from_their_crd() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("apps-repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    std::fs::write(
        repo.join("crd.yaml"),
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                replicas: {type: integer}
                template:
                  type: object
                  properties:
                    image: {type: string}
",
    )
    .expect("write");
    std::fs::write(
        repo.join("widget.yaml"),
        "apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  replica: 3
  template:
    image: web
  image: api
",
    )
    .expect("write");
    let options = Options {
        paths: vec![repo],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let all = lint(&options, &Config::default()).expect("lint").findings;
    let typo = find(
        &all,
        "`replica` is not a field of `spec`; did you mean `replicas`?",
    );
    assert_eq!(typo.help.as_deref(), Some("rename it to `replicas`"));
    let indent = find(
        &all,
        "probably mis-indented: `image` belongs under `template`",
    );
    assert!(indent
        .help
        .as_deref()
        .unwrap_or("")
        .contains("indent `image` (and its block) by 2 columns"));
    assert_eq!(all.len(), 2, "{all:#?}");
}

// ---------------------------------------------------------------- the embedded CRD catalog

#[test]
fn catalog_findings_name_the_release_and_how_to_override_it() {
    let all = findings("fixtures/schema-catalog/karpenter/fail");
    let typo = find(&all, "did you mean `expireAfter`?");
    let help = typo.help.as_deref().unwrap_or("");
    assert!(help.contains("Karpenter (AWS provider) v1.14.1"), "{help}");
    assert!(
        help.contains("https://github.com/aws/karpenter-provider-aws/tree/v1.14.1/pkg/apis/crds"),
        "{help}"
    );
    assert!(
        help.contains("list the CRD file under `schemas:`"),
        "{help}"
    );
    let moved = find(&all, "`consolidationPolicy`");
    assert!(
        moved.message.contains("belongs under `disruption`"),
        "{}",
        moved.message
    );
    // A committed CRD's findings carry no catalog note.
    let own = findings("fixtures/schema-catalog/schemas-key/fail");
    assert!(own
        .iter()
        .all(|f| !f.help.as_deref().unwrap_or("").contains("catalog")));
}

fn lint_with_config(paths: Vec<std::path::PathBuf>, config: &Path) -> Result<Vec<Finding>, String> {
    let config = Config::from_file(config).map_err(|e| e.to_string())?;
    let options = Options {
        paths,
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    lint(&options, &config)
        .map(|o| o.findings)
        .map_err(|e| e.to_string())
}

#[test]
fn schemas_key_reads_vendored_crds_outside_the_linted_paths() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/schema-catalog/schemas-key/fail/apps-repo");
    // Only `apps/` is linted; the CRD in `vendor/crds` comes from `schemas:`.
    let all = lint_with_config(vec![repo.join("apps")], &repo.join(".gitops-lint.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    find(&all, "did you mean `maxInFlight`?");
    assert_eq!(all.len(), 1, "{all:#?}");
    // Without the key the kind is not checked, and said so.
    let bare = std::env::temp_dir().join(format!(
        "gitops-lint-no-schemas-{}.yaml",
        std::process::id()
    ));
    std::fs::write(&bare, "rules: {}\n").unwrap_or_else(|e| panic!("{e}"));
    let all = lint_with_config(vec![repo.join("apps")], &bare).unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_file(&bare);
    find(&all, "no schema for `Queue`");
}

#[test]
fn schemas_key_paths_must_stay_inside_the_repository() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let repo = dir.path().join("repo");
    let outside = dir.path().join("outside");
    for d in [&repo, &outside] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(outside.join("crd.yaml"), "kind: CustomResourceDefinition\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let config = repo.join(".gitops-lint.yaml");
    let run = |text: &str| {
        std::fs::write(&config, text).unwrap_or_else(|e| panic!("{e}"));
        lint_with_config(vec![repo.clone()], &config)
    };
    let err = run("schemas:\n  - ../outside\n").expect_err("`..` is refused");
    assert!(
        err.contains(":2: `schemas[0]`") && err.contains("leaves the repository root"),
        "{err}"
    );
    let err = run("schemas:\n  - /etc\n").expect_err("an absolute path is refused");
    assert!(
        err.contains("`schemas[0]`") && err.contains("is absolute"),
        "{err}"
    );
    let err = run("schemas:\n  - vendor\n").expect_err("a missing path is refused");
    assert!(
        err.contains("`schemas[0]`") && err.contains("`vendor`"),
        "{err}"
    );
    let err = run("schemas: vendor\n").expect_err("not a list");
    assert!(
        err.contains("`schemas`") && err.contains("expected a list"),
        "{err}"
    );
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, repo.join("linked")).unwrap_or_else(|e| panic!("{e}"));
        let err = run("schemas:\n  - linked\n").expect_err("a link leaving the root is refused");
        assert!(
            err.contains("`schemas[0]`") && err.contains("symbolic link"),
            "{err}"
        );
        std::fs::create_dir_all(repo.join("vendor")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(outside.join("crd.yaml"), repo.join("vendor/crd.yaml"))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = run("schemas:\n  - vendor\n").expect_err("a linked file leaving the root");
        assert!(
            err.contains("`schemas[0]`") && err.contains("outside the repository root"),
            "{err}"
        );
        std::fs::remove_file(repo.join("vendor/crd.yaml")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(repo.join("vendor/bad.yaml"), "a: [\n").unwrap_or_else(|e| panic!("{e}"));
        let err = run("schemas:\n  - vendor\n").expect_err("a broken YAML file");
        assert!(
            err.contains("`schemas[0]`") && err.contains("not valid YAML"),
            "{err}"
        );
    }
}
