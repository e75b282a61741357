//! The crate graph is the architecture (see `ARCHITECTURE.md`): data flows one way, from the
//! core types up to the command line. These tests fail on a back-edge, on a rule id spelled out
//! in code instead of taken from the generated `RuleId`, and on rule tables that disagree with
//! the rule pages.

use gitops_lint_core::catalog;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The layers, bottom first. A crate may depend only on crates listed before it.
const LAYERS: &[&str] = &[
    "gitops-lint-core",
    "gitops-lint-matchers",
    "gitops-lint-gotemplate",
    "gitops-lint-syntax",
    "gitops-lint-config",
    "gitops-lint-model",
    "gitops-lint-derive",
    "gitops-lint-nav",
    "gitops-lint-rules",
    "gitops-lint-gate",
    "gitops-lint-report",
    "gitops-lint",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every workspace package with the workspace packages it depends on (any kind).
fn workspace_graph() -> BTreeMap<String, Vec<String>> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cargo metadata: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    let packages = meta["packages"].as_array().cloned().unwrap_or_default();
    let names: Vec<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_string))
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .map(|d| {
                    d.iter()
                        .filter_map(|d| d["name"].as_str())
                        .filter(|n| names.iter().any(|m| m == n))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            (p["name"].as_str().unwrap_or("").to_string(), deps)
        })
        .collect()
}

#[test]
fn the_crate_graph_has_no_back_edge() {
    let graph = workspace_graph();
    let mut listed: Vec<&str> = LAYERS.to_vec();
    listed.sort_unstable();
    let mut found: Vec<&str> = graph.keys().map(String::as_str).collect();
    found.sort_unstable();
    assert_eq!(found, listed, "every workspace crate has a place in LAYERS");
    for (name, deps) in &graph {
        let at = LAYERS.iter().position(|l| l == name).unwrap_or(usize::MAX);
        for dep in deps {
            let dep_at = LAYERS.iter().position(|l| l == dep).unwrap_or(usize::MAX);
            assert!(
                dep_at < at,
                "`{name}` depends on `{dep}`, which sits above it: data flows one way (ARCHITECTURE.md)"
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_rule_id_is_spelled_out_in_code() {
    let ids: Vec<String> = catalog::pages()
        .into_iter()
        .map(|p| format!("\"{}\"", p.id))
        .collect();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    rust_files(&root().join("crates"), &mut files);
    assert!(files.len() > 50);
    let mut offenders = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if let Some(id) = ids.iter().find(|id| line.contains(id.as_str())) {
                offenders.push(format!("{}:{}: {id}", f.display(), n + 1));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "use the generated RuleId constants instead of string literals:\n{}",
        offenders.join("\n")
    );
}

/// `(id, level)` of each row of the first Markdown table whose header starts `| id | level |`.
fn table_rows(markdown: &str) -> Vec<(String, String)> {
    markdown
        .lines()
        .skip_while(|l| !l.starts_with("| id | level |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let id = cells.get(1)?.split('`').nth(1)?.to_string();
            Some((id, cells.get(2)?.to_string()))
        })
        .collect()
}

#[test]
fn the_rule_tables_match_the_pages() {
    let mut pages: Vec<(String, String)> = catalog::pages()
        .into_iter()
        .map(|p| {
            // A preset rule is off by default: its row says so and names the preset.
            let level = match &p.preset {
                Some(preset) => format!("off ({preset})"),
                None => p.level.to_string(),
            };
            (p.id, level)
        })
        .collect();
    pages.sort();
    for doc in ["README.md", "rules/README.md"] {
        let text = std::fs::read_to_string(root().join(doc)).unwrap_or_default();
        let mut rows = table_rows(&text);
        rows.sort();
        assert_eq!(
            rows, pages,
            "the rule table in {doc} must list every page under rules/ with its level"
        );
    }
}
