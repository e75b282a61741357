//! Hostile pull requests against the YAML loader, locations, the human output and the pattern
//! matchers: inputs generated at run time, each run bounded in time and in what it prints.

mod common;

use common::{run, scratch, stderr, stdout};
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

/// Runs the binary and checks it finished well within the time a hostile input could stretch.
fn bounded(dir: &Path, args: &[&str]) -> Output {
    let started = Instant::now();
    let out = run(dir, args);
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "took {took:?}; stderr: {}",
        stderr(&out)
    );
    out
}

/// The findings of a `--format json` run: (rule, file, line, column, message).
fn findings(out: &Output) -> Vec<(String, String, u64, u64, String)> {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}); stderr: {}", stderr(out)));
    json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["column"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

const CONFIGMAP: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: tenant-1\n";

#[test]
fn an_alias_cannot_reach_into_another_document() {
    let text = format!("{CONFIGMAP}data:\n  a: &n one\n---\n{CONFIGMAP}data:\n  b: *n\n");
    let dir = scratch(&[("repo/cm.yaml", &text)]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, file, line, column, message) = &found[0];
    assert_eq!(
        (rule.as_str(), file.as_str(), *line, *column),
        ("yaml/syntax", "repo/cm.yaml", 15, 6)
    );
    assert!(message.contains("unknown anchor"), "{message}");
}

/// A scalar of a megabyte, anchored and aliased 10,000 times (one alias per line): 10 GB if
/// every alias were copied.
fn byte_bomb() -> String {
    let mut text = format!(
        "{CONFIGMAP}data:\n  big: &big {}\nlist:\n",
        "x".repeat(1 << 20)
    );
    for _ in 0..10_000 {
        text.push_str("  - *big\n");
    }
    text
}

#[test]
fn a_megabyte_aliased_ten_thousand_times_stops_at_the_byte_budget() {
    let text = byte_bomb();
    let dir = scratch(&[("repo/cm.yaml", &text)]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, file, line, column, message) = &found[0];
    // 16 MiB by default: the anchor's copy and 15 aliases fit, the 16th alias goes over.
    assert_eq!(
        (rule.as_str(), file.as_str(), *line, *column),
        ("gitops/budget-exceeded", "repo/cm.yaml", 8 + 16, 5)
    );
    assert!(message.contains("`limits.aliasBytes`"), "{message}");
}

#[test]
fn alias_budgets_come_from_the_config() {
    let text = byte_bomb();
    let dir = scratch(&[
        ("repo/cm.yaml", &text),
        ("repo/.gitops-lint.yaml", "limits:\n  aliasBytes: 4MiB\n"),
    ]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "gitops/budget-exceeded");
    assert_eq!(found[0].2, 8 + 4, "the 4th alias passes 4 MiB");

    // Nodes: a billion-node "billion laughs", stopped by `aliasNodes`.
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let prev = format!("*a{}", i - 1);
        laughs.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    let dir = scratch(&[
        ("repo/laughs.yaml", &laughs),
        ("repo/.gitops-lint.yaml", "limits:\n  aliasNodes: 1000\n"),
    ]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out);
    assert_eq!(found.len(), 1, "{found:?}");
    let (rule, _, line, _, message) = &found[0];
    assert_eq!((rule.as_str(), *line), ("gitops/budget-exceeded", 3));
    assert!(message.contains("`limits.aliasNodes`"), "{message}");
}

/// A ConfigMap whose `data` is one flow mapping on one line, with `k` set `n` times.
fn duplicate_keys_on_one_line(n: usize) -> String {
    let keys: Vec<String> = (0..n).map(|i| format!("k: \"{i:05}\"")).collect();
    format!("{CONFIGMAP}data: {{{}}}\n", keys.join(", "))
}

#[test]
fn thirty_thousand_findings_on_one_line_are_located_in_linear_time() {
    // 450 KB on one line; columns used to be counted from the line's start for each finding.
    let n = 30_000;
    let text = duplicate_keys_on_one_line(n);
    let dir = scratch(&[("repo/cm.yaml", &text)]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let found = findings(&out);
    assert_eq!(found.len(), n - 1);
    // `data: {` then 12 characters a key: the last key starts at column 8 + 12 x (n - 1).
    let (rule, _, line, column, _) = found.last().cloned().unwrap_or_default();
    assert_eq!(
        (rule.as_str(), line, column),
        ("yaml/duplicate-key", 6, 8 + 12 * (n as u64 - 1))
    );
}

#[test]
fn ten_thousand_findings_on_one_line_print_in_bounded_space() {
    // 150 KB on one line: 1.5 GB of human output when the line was printed for each finding.
    let n = 10_000;
    let text = duplicate_keys_on_one_line(n);
    let dir = scratch(&[("repo/cm.yaml", &text)]);
    let out = bounded(dir.path(), &["--no-color", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.len() < 10_000_000, "{} bytes", printed.len());
    let last = format!("repo/cm.yaml:6:{}\n", 8 + 12 * (n - 1));
    assert!(printed.contains(&last), "no finding at the last key");
}

/// Display width in a terminal of the characters these tests use (CJK ideographs are wide).
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            if ('\u{4e00}'..='\u{9fff}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn long_lines_are_cut_around_the_span_in_human_output() {
    // 2,000 findings on a 21 KB line: 62 MB when the line was printed whole for each.
    let text = duplicate_keys_on_one_line(2000);
    assert!(text.len() > 20_000);
    let dir = scratch(&[("repo/cm.yaml", &text)]);
    let out = bounded(dir.path(), &["--no-color", "repo"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.len() < 2_000_000, "{} bytes", printed.len());
    assert_eq!(printed.matches("error[yaml/duplicate-key]").count(), 1999);
    // The 1,000th key: its line is cut on both sides, and the caret is under its `k`.
    let at = printed
        .find(&format!("repo/cm.yaml:6:{}\n", 8 + 12 * 999))
        .unwrap_or_else(|| panic!("no finding at the 1000th key:\n{}", &printed[..3000]));
    let lines: Vec<&str> = printed[at..].lines().take(4).collect();
    let source = lines[2].split_once(" │ ").map_or("", |(_, s)| s);
    let carets = lines[3].split_once(" │ ").map_or("", |(_, s)| s);
    assert!(source.starts_with('…') && source.ends_with('…'), "{source}");
    assert!(source.chars().count() <= 202, "{}", source.chars().count());
    let caret = carets
        .find('^')
        .unwrap_or_else(|| panic!("no caret: {carets}"));
    assert!(source.contains("k: \"00999\""), "{source}");
    let under: String = source.chars().skip(caret).take(10).collect();
    assert_eq!(under, "k: \"00999\"", "caret at {caret} in {source}");
}

#[test]
fn carets_stay_under_the_span_with_wide_and_multibyte_characters() {
    // Each value holds two-byte and three-byte characters, two columns wide for the latter.
    let keys: Vec<String> = (0..300).map(|i| format!("k: \"é日本{i:03}\"")).collect();
    let text = format!("{CONFIGMAP}data: {{{}}}\n", keys.join(", "));
    let dir = scratch(&[("repo/cm.yaml", &text)]);
    let out = bounded(dir.path(), &["--no-color", "repo"]);
    let printed = stdout(&out);
    let mut checked = 0;
    for block in printed.split("error[yaml/duplicate-key]").skip(1) {
        let lines: Vec<&str> = block.lines().take(5).collect();
        let source = lines[3].split_once(" │ ").map_or("", |(_, s)| s);
        let carets = lines[4].split_once(" │ ").map_or("", |(_, s)| s);
        assert!(source.chars().count() <= 202, "{source}");
        let caret = carets
            .find('^')
            .map(|i| carets[..i].chars().count())
            .unwrap_or_else(|| panic!("{block}"));
        // The caret's column is the display width of what precedes the key.
        let mut col = 0;
        let mut under = None;
        for (i, c) in source.char_indices() {
            if col == caret {
                under = Some(&source[i..]);
                break;
            }
            col += width(&c.to_string());
        }
        assert!(
            under.is_some_and(|u| u.starts_with("k: \"é日本")),
            "caret at {caret} of {source}\n{carets}"
        );
        checked += 1;
    }
    assert_eq!(checked, 299);
}

#[test]
fn many_stars_in_a_source_repos_glob_do_not_backtrack() {
    let pattern = format!("**{}b", "a*".repeat(12));
    let url = format!("https://github.com/{}/repo", "a".repeat(200));
    let project = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata:\n  name: p\n  namespace: argocd\nspec:\n  sourceRepos:\n    - \"{pattern}\"\n  destinations:\n    - namespace: \"*\"\n      server: https://kubernetes.default.svc\n"
    );
    let app = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\n  namespace: argocd\nspec:\n  project: p\n  source:\n    repoURL: {url}\n    path: x\n    targetRevision: main\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: x\n"
    );
    let dir = scratch(&[("repo/project.yaml", &project), ("repo/app.yaml", &app)]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    let found = findings(&out);
    // `*` does not cross `/`, and no segment holds twelve `a` then `b`: not permitted.
    assert!(
        found.iter().any(
            |(rule, file, line, _, _)| rule == "argocd/project-source-not-permitted"
                && file == "repo/app.yaml"
                && *line == 9
        ),
        "{found:?}"
    );
}

#[test]
fn many_double_stars_in_ignore_paths_do_not_backtrack() {
    let deep = format!("repo/{}/cm.yaml", vec!["d"; 40].join("/"));
    let cm = format!("{CONFIGMAP}data:\n  a: \"1\"\n  a: \"2\"\n");
    let config = |tail: &str| {
        format!(
            "ignore:\n  - rule: yaml/duplicate-key\n    reason: hostile\n    paths: [\"{}{tail}\"]\n",
            "**/".repeat(30)
        )
    };
    // A glob that does not match: the finding stays (and the entry is unused).
    let dir = scratch(&[
        (deep.as_str(), cm.as_str()),
        ("repo/.gitops-lint.yaml", &config("nomatch.yaml")),
    ]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    let rules: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
    assert!(
        rules.contains(&"yaml/duplicate-key".to_string()),
        "{rules:?}"
    );
    // One that does: the finding is ignored.
    let dir = scratch(&[
        (deep.as_str(), cm.as_str()),
        ("repo/.gitops-lint.yaml", &config("cm.yaml")),
    ]);
    let out = bounded(dir.path(), &["--format", "json", "repo"]);
    let rules: Vec<String> = findings(&out).into_iter().map(|f| f.0).collect();
    assert!(
        !rules.contains(&"yaml/duplicate-key".to_string()),
        "{rules:?}"
    );
}
