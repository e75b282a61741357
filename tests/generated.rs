//! A freshly generated repo pair (examples/gen_repo.rs): clean when generated clean, and exactly
//! the injected defects when generated with `--defects`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn generator() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_gitops-lint"));
    let path = bin
        .parent()
        .map(|d| d.join("examples").join("gen_repo"))
        .unwrap_or_default();
    assert!(
        path.is_file(),
        "{} is missing: `cargo test` builds examples",
        path.display()
    );
    path
}

fn generate(out: &Path, tenants: usize, defects: bool) -> BTreeSet<String> {
    generate_with(out, tenants, defects, &[])
}

fn generate_with(out: &Path, tenants: usize, defects: bool, extra: &[&str]) -> BTreeSet<String> {
    let mut cmd = Command::new(generator());
    cmd.args(["--tenants", &tenants.to_string(), "--out"])
        .arg(out)
        .args(extra);
    if defects {
        cmd.arg("--defects");
    }
    let o = cmd.output().unwrap_or_else(|e| panic!("gen_repo: {e}"));
    assert!(
        o.status.success(),
        "gen_repo failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn lint(dir: &Path) -> BTreeSet<String> {
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .current_dir(dir)
        .args(["--format", "json", "apps-repo", "infra-repo"])
        .output()
        .unwrap_or_else(|e| panic!("gitops-lint: {e}"));
    common::json_findings(&o).into_iter().collect()
}

#[test]
fn a_clean_generated_pair_has_no_findings() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let defects = generate(dir.path(), 300, false);
    assert!(defects.is_empty());
    let found = lint(dir.path());
    assert!(
        found.is_empty(),
        "false alarms on a clean generated repo: {found:#?}"
    );
}

#[test]
fn injected_defects_are_found_exactly() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let defects = generate(dir.path(), 400, true);
    assert!(defects.len() >= 5, "{defects:#?}");
    assert_eq!(lint(dir.path()), defects);
}

#[test]
fn service_accounts_join_the_terraform_roles() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clean = generate_with(dir.path(), 300, false, &["--service-accounts"]);
    assert!(clean.is_empty());
    let found = lint(dir.path());
    assert!(found.is_empty(), "false alarms: {found:#?}");
    let defects = generate_with(dir.path(), 400, true, &["--service-accounts"]);
    assert!(
        defects.iter().any(|d| d.starts_with("irsa/trust-mismatch")),
        "{defects:#?}"
    );
    assert_eq!(lint(dir.path()), defects);
}

#[test]
fn the_many_findings_tree_lists_its_findings_exactly() {
    // The benchmark's many-findings tree: every premium and advanced tenant misplaced.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let defects = generate_with(
        dir.path(),
        300,
        false,
        &["--many-findings", "--service-accounts"],
    );
    let misplaced = defects
        .iter()
        .filter(|d| d.starts_with("tenant/namespace-mismatch"))
        .count();
    assert_eq!(misplaced, 200, "{defects:#?}");
    assert_eq!(lint(dir.path()), defects);
}

#[test]
fn workshop_pool_naming_is_keyed_on_the_pool_environment() {
    // The pool Application and release are `pool-1-basic`, its values say `tenantId: pool-1`,
    // and tenants send `envId: pool-1`: the chart routes by the values, so this is one pool.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let clean = generate_with(dir.path(), 300, false, &["--workshop-naming"]);
    assert!(clean.is_empty());
    let found = lint(dir.path());
    assert!(found.is_empty(), "false alarms: {found:#?}");
    // The injected mistakes are still found, exactly (a true `tier/pool-missing` is pinned by
    // fixtures/rules/tier/pool-missing/fail).
    let defects = generate_with(dir.path(), 400, true, &["--workshop-naming"]);
    assert!(defects.len() >= 5, "{defects:#?}");
    assert_eq!(lint(dir.path()), defects);
}

#[test]
fn one_module_line_that_breaks_every_tenants_trust_is_one_finding() {
    // The module's trusted account name is misspelt once: every tenant's consumer role then
    // trusts `<ns>:<ns>-consumr`. One root cause, one finding, at the line to change.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    generate_with(dir.path(), 120, false, &["--service-accounts"]);
    let module = dir.path().join("infra-repo/modules/tenant-apps/main.tf");
    let text = std::fs::read_to_string(&module).unwrap_or_else(|e| panic!("{e}"));
    let line = text
        .lines()
        .position(|l| l.contains("}-consumer\"]"))
        .unwrap_or_else(|| panic!("no consumer trust line in {text}"))
        + 1;
    std::fs::write(&module, text.replace("}-consumer\"]", "}-consumr\"]"))
        .unwrap_or_else(|e| panic!("{e}"));
    let found = lint(dir.path());
    assert_eq!(
        found,
        BTreeSet::from([format!(
            "irsa/trust-mismatch infra-repo/modules/tenant-apps/main.tf:{line}"
        )]),
    );
}
