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
