//! Runs every fixture case through the real binary and compares its findings with the case's
//! `expected.txt` exactly (rule, file, line). A case is any folder under `fixtures/` that holds
//! an `expected.txt`; the linter gets every sub-directory of the case as a PATH.
//!
//! What git cannot hold is made at run time from a case's `setup.txt`, one entry a line
//! (`#` starts a comment): `fifo <path>` makes a FIFO, `too-deep <folder>` nests folders below
//! `<folder>` past `PATH_MAX` (see `common::walk`). Such a case is copied to a temporary folder
//! (outside any git checkout), the entries are made in the copy, and the linter runs there. A
//! finding below a `too-deep` folder is compared as `<folder>/…`: its path is thousands of
//! characters long.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A case's `setup.txt` entries, as (directive, path).
fn setup(case: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(case.join("setup.txt")).unwrap_or_default();
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (directive, path) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("{}: `{l}`", case.display()));
            (directive.to_string(), path.trim().to_string())
        })
        .collect()
}

/// Where to run a case: the case itself, or a copy with its `setup.txt` entries made (kept
/// alive by the returned guard).
fn prepared(case: &Path) -> (PathBuf, Option<tempfile::TempDir>) {
    let entries = setup(case);
    if entries.is_empty() {
        return (case.to_path_buf(), None);
    }
    let copy = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    common::copy_dir(case, copy.path());
    for (directive, path) in &entries {
        let at = copy.path().join(path);
        match directive.as_str() {
            "fifo" => common::walk::mkfifo(&at),
            "too-deep" => {
                common::walk::nest_past_path_max(&at);
            }
            other => panic!("{}: unknown setup directive `{other}`", case.display()),
        }
    }
    (copy.path().to_path_buf(), Some(copy))
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
    let (dir, _guard) = prepared(case);
    let deep: Vec<String> = setup(case)
        .into_iter()
        .filter(|(directive, _)| directive == "too-deep")
        .map(|(_, path)| format!("{path}/"))
        .collect();
    let mut repos: Vec<String> = std::fs::read_dir(&dir)
        .map(|r| {
            r.flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    repos.sort();
    let output = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .current_dir(&dir)
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
        let mut file = f["file"].as_str().unwrap_or("").to_string();
        if let Some(folder) = deep.iter().find(|d| file.starts_with(d.as_str())) {
            file = format!("{folder}…");
        }
        let key = format!("{} {file}:{}", f["rule"].as_str().unwrap_or(""), f["line"]);
        *map.entry(key).or_insert(0) += 1;
    }
    (map, output.status.code().unwrap_or(-1), json)
}

#[test]
fn every_fixture_produces_exactly_its_expected_findings() {
    let cases = common::fixture_cases();
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
    for case in common::fixture_cases().iter().take(6) {
        let (_, _, a) = actual(case);
        let (_, _, b) = actual(case);
        assert_eq!(a, b, "{}", case.display());
    }
}
