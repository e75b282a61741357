//! The `irsa` package evaluated in parts side by side (`PolicySet::evaluate_in_parts`; the CLI
//! does so from 2,000 suspect ServiceAccounts, one part per core) gives the whole package's
//! findings, in the same order: on every fixture case with an IRSA finding, among them the ones
//! whose single finding groups the ServiceAccounts of several tenants, and on a generated tree
//! with a finding for most tenants.

mod common;

use gitops_lint::{find_config, repo_inputs};
use gitops_lint_model::load;
use gitops_lint_rules::policy::{input, PolicyLimits, PolicySet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The policy findings of `paths` with `irsa` in `parts` parts, each as its debug text (rule,
/// place, message, help, related places); `None` for a case whose config does not load.
fn policy_findings(paths: &[PathBuf], parts: usize) -> Option<Vec<String>> {
    let config = find_config(None, paths).ok()?;
    let inputs = repo_inputs(paths).ok()?;
    let (mut world, _) = load::load(&inputs, &config);
    gitops_lint_derive::derive(&mut world, &config);
    let policies = PolicySet::load(&[], PolicyLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    let input = input::build_for(&world, &config, policies.input_reads());
    let evaluated = policies
        .evaluate_in_parts(input, &world, None, parts)
        .unwrap_or_else(|e| panic!("{e}"));
    Some(
        evaluated
            .findings
            .iter()
            .map(|f| format!("{f:?}"))
            .collect(),
    )
}

/// The repositories of a fixture case: its subfolders, else the case itself.
fn case_paths(case: &Path) -> Vec<PathBuf> {
    let mut subs: Vec<PathBuf> = std::fs::read_dir(case)
        .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subs.sort();
    if subs.is_empty() {
        subs.push(case.to_path_buf());
    }
    subs
}

#[test]
fn every_fixture_case_gets_the_same_findings_in_parts() {
    let mut with_irsa = Vec::new();
    for case in &common::fixture_cases() {
        let paths = case_paths(case);
        let Some(whole) = policy_findings(&paths, 1) else {
            continue;
        };
        if !whole.iter().any(|f| f.contains("irsa/")) {
            continue;
        }
        for parts in [2, 3] {
            let split = policy_findings(&paths, parts);
            assert_eq!(
                split.as_ref(),
                Some(&whole),
                "{} in {parts} parts",
                case.display()
            );
        }
        with_irsa.push(case.clone());
    }
    // The cases this is about: one finding for the accounts of several tenants, by name and by
    // namespace, must not be split between parts.
    for grouped in [
        "fixtures/chain/argocd/shared-trust-namespace",
        "fixtures/chain/terraform/trust-document-mismatch",
    ] {
        assert!(
            with_irsa.iter().any(|c| c.ends_with(grouped)),
            "{grouped} has no IRSA finding: {with_irsa:?}"
        );
    }
    assert!(with_irsa.len() >= 20, "{}", with_irsa.len());
}

#[test]
fn a_tree_with_a_finding_for_most_tenants_gets_the_same_findings_in_parts() {
    let generator = Path::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .parent()
        .map(|d| d.join("examples").join("gen_repo"))
        .unwrap_or_default();
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let status = Command::new(&generator)
        .args([
            "--tenants",
            "60",
            "--many-findings",
            "--service-accounts",
            "--out",
        ])
        .arg(dir.path())
        .status()
        .unwrap_or_else(|e| panic!("{}: {e}", generator.display()));
    assert!(status.success());
    let paths = [dir.path().join("apps-repo"), dir.path().join("infra-repo")];
    let whole = policy_findings(&paths, 1).unwrap_or_else(|| panic!("no config"));
    let irsa = whole.iter().filter(|f| f.contains("irsa/")).count();
    assert!(irsa >= 60, "{irsa} IRSA findings");
    for parts in [2, 5] {
        assert_eq!(
            policy_findings(&paths, parts).as_ref(),
            Some(&whole),
            "{parts} parts"
        );
    }
}
