//! Snapshot tests of the exact human output (no colour: stdout is a pipe).

use std::process::Command;

fn human(case: &str, repos: &[&str]) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(case);
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .current_dir(dir)
        .args(repos)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gitops-lint: {e}"));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn example_pair() {
    insta::assert_snapshot!(human("fixtures/example", &["apps-repo", "infra-repo"]));
}

#[test]
fn continued_list_items() {
    insta::assert_snapshot!(human(
        "fixtures/rules/yaml/continued-list-item/fail",
        &["apps-repo"]
    ));
}

#[test]
fn tier_app_enablement() {
    insta::assert_snapshot!(human(
        "fixtures/rules/tier/app-enablement/fail",
        &["apps-repo"]
    ));
}

#[test]
fn yaml_syntax_keeps_linting_other_files() {
    insta::assert_snapshot!(human("fixtures/rules/yaml/syntax/fail", &["apps-repo"]));
}

/// The YAML emitter (Helm's and Argo CD's `toYaml`, the `appset` view) writes documents that read
/// back as the same value, quoting what YAML 1.1 would read as another type.
#[test]
fn emitted_yaml_round_trips() {
    use gitops_lint_gotemplate::yaml_out::to_yaml_document;
    let v = serde_json::json!({
        "metadata": {"name": "t1", "labels": {"a": "yes", "b": "0400", "c": "x: y"}},
        "spec": {"list": ["a", {"k": "v", "n": 3}], "empty": {}, "none": [], "flag": true,
                 "text": "line 1\nline 2\n", "dash": "--foo", "star": "*"}
    });
    let text = to_yaml_document(&v);
    let back = gitops_lint_syntax::yaml::load(&text);
    assert!(
        back.issues.iter().all(|i| i.rule != "yaml/syntax"),
        "{text}"
    );
    assert_eq!(back.docs[0].value, v, "{text}");
    assert!(text.contains("  name: t1\n"));
    assert!(text.contains("    a: \"yes\"\n"), "{text}");
    assert!(text.contains("    c: 'x: y'\n"), "{text}");
}
