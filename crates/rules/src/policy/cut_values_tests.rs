//! The input cut to what the embedded policies read (`input::build_for`: the tenants' `values`
//! cut, `input.infra.roles` left out) gives the same findings as the whole input, on every
//! fixture case. Why a test over the fixtures: a rule that starts reading another key of the
//! values (`t.values.region`) or the roles as `input.infra.roles` would find nothing on the cut
//! input; this test fails then, on the cases that have such a tenant or role.

use super::{input, PolicyLimits, PolicySet};
use gitops_lint_config::Config;
use gitops_lint_model::load::{self, RepoInput};
use std::path::{Path, PathBuf};

/// The fixture cases (folders with an `expected.txt`) below `dir`, except those whose
/// `setup.txt` makes files at run time (FIFOs, paths past `PATH_MAX`).
fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("expected.txt").is_file() {
        if !dir.join("setup.txt").exists() {
            out.push(dir.to_path_buf());
        }
        return;
    }
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            cases(&entry.path(), out);
        }
    }
}

/// The case's repositories as the fixture test gives them: each sub-folder, or the case.
fn repos(case: &Path) -> Vec<RepoInput> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(case)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        dirs.push(case.to_path_buf());
    }
    dirs.into_iter()
        .map(|root| RepoInput {
            display: root.display().to_string(),
            root,
        })
        .collect()
}

#[test]
fn the_cut_input_gives_the_findings_the_whole_input_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut all = Vec::new();
    cases(&root, &mut all);
    all.sort();
    assert!(all.len() > 100, "fixture cases under {}", root.display());
    let set = PolicySet::load(&[], PolicyLimits::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!set.input_reads().whole_values());
    assert!(!set.input_reads().infra_roles());
    let tenants = regorus::Value::from("tenants");
    let infra = regorus::Value::from("infra");
    let roles = regorus::Value::from("roles");
    let mut cut_cases = 0;
    let mut role_cases = 0;
    for case in &all {
        let config = Config::from_file(&case.join(".gitops-lint.yaml")).unwrap_or_default();
        let (mut world, _) = load::load(&repos(case), &config);
        gitops_lint_derive::derive(&mut world, &config);
        let cut = input::build_for(&world, &config, set.input_reads());
        let whole = input::build(&world, &config);
        if cut[&tenants] != whole[&tenants] {
            cut_cases += 1;
        }
        if whole[&infra][&roles]
            .as_array()
            .is_ok_and(|r| !r.is_empty())
        {
            role_cases += 1;
        }
        assert_eq!(cut[&infra][&roles], regorus::Value::Undefined);
        let found = |input| {
            set.evaluate_input(input, &world, None)
                .map(|e| format!("{:?}", e.findings))
                .unwrap_or_else(|e| panic!("{}: {e}", case.display()))
        };
        assert_eq!(found(cut), found(whole), "{}", case.display());
    }
    // Not vacuous: many cases have tenants whose values were cut.
    assert!(cut_cases >= 20, "only {cut_cases} cases had values cut");
    assert!(
        role_cases >= 20,
        "only {role_cases} cases had roles left out"
    );
}
