//! Runs every fixture case through the real binary and compares its findings with the case's
//! `expected.txt` exactly (rule, file, line). A case is any folder under `fixtures/` that holds
//! an `expected.txt`; the linter gets every sub-directory of the case as a PATH.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    if dir.join("expected.txt").is_file() {
        out.push(dir.to_path_buf());
        return;
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    entries.sort();
    for e in entries {
        cases(&e, out);
    }
}

/// All fixture cases, relative to the crate root.
pub fn all_cases() -> Vec<PathBuf> {
    let mut out = Vec::new();
    cases(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut out,
    );
    out
}

/// Counts of `rule file:line` lines in `expected.txt`.
fn expected(case: &Path) -> BTreeMap<String, usize> {
    let text = std::fs::read_to_string(case.join("expected.txt")).unwrap_or_default();
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if !line.is_empty() {
            let normalized = line.split_whitespace().collect::<Vec<_>>().join(" ");
            *map.entry(normalized).or_insert(0) += 1;
        }
    }
    map
}

/// Runs the linter on a case and returns (`rule file:line` counts, exit code, json).
fn actual(case: &Path) -> (BTreeMap<String, usize>, i32, serde_json::Value) {
    let mut repos: Vec<String> = std::fs::read_dir(case)
        .map(|r| {
            r.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    repos.sort();
    let output = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .current_dir(case)
        .arg("--format")
        .arg("json")
        .args(&repos)
        .output()
        .unwrap_or_else(|e| panic!("cannot run gitops-lint: {e}"));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: output is not JSON ({e}); stderr: {}",
            case.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let mut map = BTreeMap::new();
    for f in json["findings"].as_array().into_iter().flatten() {
        let key = format!(
            "{} {}:{}",
            f["rule"].as_str().unwrap_or(""),
            f["file"].as_str().unwrap_or(""),
            f["line"]
        );
        *map.entry(key).or_insert(0) += 1;
    }
    (map, output.status.code().unwrap_or(-1), json)
}

#[test]
fn every_fixture_produces_exactly_its_expected_findings() {
    let cases = all_cases();
    assert!(
        cases.len() >= 10,
        "expected fixture cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let want = expected(case);
        let (got, code, json) = actual(case);
        let want_code = i32::from(json["summary"]["error"].as_u64().unwrap_or(0) > 0);
        if got != want || code != want_code {
            let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
            let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
            failures.push(format!(
                "{}\n  missing: {missing:#?}\n  unexpected: {extra:#?}\n  exit code {code}, want {want_code}",
                case.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn output_is_deterministic() {
    for case in all_cases().iter().take(6) {
        let (_, _, a) = actual(case);
        let (_, _, b) = actual(case);
        assert_eq!(a, b, "{}", case.display());
    }
}
