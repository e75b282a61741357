//! The CI gate: output formats (SARIF against the 2.1.0 schema, GitHub annotations and the job
//! summary, JUnit), several formats in one run, suppressions, baselines, `--changed-from` /
//! `--staged`, `init`, config discovery and the config's JSON Schema.

mod common;

use common::{
    copy_dir, json_findings as findings, read, root, run, scratch, stderr, stdout, write,
};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// A premium tenant; `consumer` is the consumer's `enabled` value and `ns` the namespace.
fn premium(id: &str, consumer: &str, ns: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {id}
spec:
  project: default
  source:
    repoURL: https://example.com/apps.git
    chart: helm-tenant-chart
    helm:
      values: |
        tenantId: {id}
        apps:
          producer:
            enabled: true
          consumer:
            enabled: {consumer}
  destination:
    server: https://kubernetes.default.svc
    namespace: {ns}
"
    )
}

const PREMIUM_TEMPLATE: &str = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {TENANT_ID}-premium
spec:
  project: default
  source:
    repoURL: https://example.com/apps.git
    chart: helm-tenant-chart
    helm:
      values: |
        tenantId: {TENANT_ID}
        apps:
          producer:
            enabled: true
          consumer:
            enabled: true
  destination:
    server: https://kubernetes.default.svc
    namespace: {TENANT_ID}
";

const EXAMPLE: [&str; 2] = ["fixtures/example/apps-repo", "fixtures/example/infra-repo"];

/// How many findings the example pair has: the entries of its `expected.txt` (which the fixture
/// test pins one by one).
fn example_findings() -> usize {
    std::fs::read_to_string(root().join("fixtures/example/expected.txt"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.split('#').next().unwrap_or("").trim().is_empty())
        .count()
}

#[test]
fn help_documents_the_gate_options() {
    let o = run(root(), &["--help"]);
    let text = stdout(&o);
    for needle in [
        "--output <[FORMAT=]FILE>",
        "--output sarif=results.sarif",
        "--summary <FILE>",
        "--changed-from <REV>",
        "--staged",
        "--baseline <FILE>",
        "--write-baseline <FILE>",
        "sarif:",
        "github:",
        "junit:",
        "gitops-lint init",
        "# gitops-lint: ignore[rule-id] reason",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}

// ---------------------------------------------------------------- SARIF

/// The stray-`]` pattern of the official schema (`language` properties) and its exact
/// equivalent: ECMA-262 (which JSON Schema patterns follow) reads an unmatched `]` as a literal,
/// Rust's regex engines reject it, so the test escapes it; the file in the repo stays verbatim.
const STRAY: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
const ESCAPED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$";

fn sarif_validator(schema: &Value) -> jsonschema::Validator {
    let text = serde_json::to_string(schema).unwrap_or_default();
    let stray = serde_json::to_string(STRAY).unwrap_or_default();
    assert_eq!(text.matches(&stray).count(), 2, "the schema changed");
    let fixed = json(&text.replace(&stray, &serde_json::to_string(ESCAPED).unwrap_or_default()));
    jsonschema::draft7::new(&fixed)
        .unwrap_or_else(|e| panic!("the SARIF schema does not compile: {e}"))
}

#[test]
fn sarif_of_the_example_validates_and_has_real_regions() {
    let schema = json(&read(&root().join("schemas/sarif-schema-2.1.0.json")));
    let validator = sarif_validator(&schema);
    let sarif = run(root(), &["--format", "sarif", EXAMPLE[0], EXAMPLE[1]]);
    assert_eq!(sarif.status.code(), Some(1));
    let log = json(&stdout(&sarif));
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF is not valid 2.1.0: {errors:#?}");

    // Each result's region is the finding's real place, as the JSON output gives it.
    let plain = json(&stdout(&run(
        root(),
        &["--format", "json", EXAMPLE[0], EXAMPLE[1]],
    )));
    let expected = plain["findings"].as_array().cloned().unwrap_or_default();
    let run0 = &log["runs"][0];
    let results = run0["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(results.len(), example_findings());
    assert_eq!(results.len(), expected.len());
    for (r, f) in results.iter().zip(&expected) {
        assert_eq!(r["ruleId"], f["rule"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], f["file"]);
        assert_eq!(loc["region"]["startLine"], f["line"]);
        assert_eq!(loc["region"]["startColumn"], f["column"]);
        assert_eq!(loc["region"]["endLine"], f["end_line"]);
        assert_eq!(loc["region"]["endColumn"], f["end_column"]);
        let rules = run0["tool"]["driver"]["rules"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let index = r["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(
            rules[index]["id"], r["ruleId"],
            "ruleIndex points at the rule"
        );
        let related = r["relatedLocations"].as_array().map_or(0, Vec::len);
        assert_eq!(related, f["related"].as_array().map_or(0, Vec::len));
    }
    // The line the example's README shows: tenant-55.yaml:37:16.
    let ns = results
        .iter()
        .find(|r| r["ruleId"] == "tenant/namespace-mismatch")
        .unwrap_or_else(|| panic!("no namespace finding"));
    let region = &ns["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(37), Some(16))
    );
    assert_eq!(
        ns["relatedLocations"][0]["physicalLocation"]["region"]["startLine"].as_u64(),
        Some(23),
        "the tenantId line is a related location"
    );
    // Rules come from the catalog, with help text and default levels.
    let rules = run0["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules.len(), gitops_lint_core::catalog::pages().len());
    let page = rules
        .iter()
        .find(|r| r["id"] == "yaml/continued-list-item")
        .unwrap_or_else(|| panic!("rule missing"));
    assert!(page["help"]["markdown"]
        .as_str()
        .unwrap_or("")
        .starts_with("## What it checks"));
    assert_eq!(page["defaultConfiguration"]["level"], "error");
}

#[test]
fn the_sarif_schema_is_the_real_one() {
    let schema = json(&read(&root().join("schemas/sarif-schema-2.1.0.json")));
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    // A log with a wrong version or a string line number is rejected.
    let validator = sarif_validator(&schema);
    assert!(!validator.is_valid(&json(r#"{"version": "2.0.0", "runs": []}"#)));
    assert!(!validator.is_valid(&json(
        r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}},
            "results": [{"message": {"text": "m"}, "locations": [{"physicalLocation":
            {"region": {"startLine": "3"}}}]}]}]}"#
    )));
}

// ---------------------------------------------------------------- GitHub annotations + summary

/// A kustomization with `n` identical over-indented items: `n` yaml/continued-list-item errors
/// on lines 5, 7, 9, ...
fn many_errors(n: usize) -> String {
    let mut s = String::from(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n",
    );
    for _ in 0..n {
        s.push_str("  - a.yaml\n   - b.yaml\n");
    }
    s
}

#[test]
fn github_annotations_are_capped_and_the_summary_counts_the_rest() {
    let dir = scratch(&[
        ("repo/platform/kustomization.yaml", &many_errors(12)),
        (
            "repo/tenants/premium/tenant-1.yaml",
            &format!(
                "{}# gitops-lint: ignore[tier/app-enablement] unused on purpose\n",
                premium("tenant-1", "true", "tenant-1")
            ),
        ),
        (
            "repo/tenants/premium/tenant-4.yaml",
            &premium("tenant-4", "false", "tenant-4"),
        ),
    ]);
    let summary = dir.path().join("summary.md");
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .current_dir(dir.path())
        .args(["--format", "github", "repo"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("::error ")).collect();
    let warnings: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("::warning "))
        .collect();
    assert_eq!(errors.len(), 10, "{out}");
    assert_eq!(warnings.len(), 1, "{out}");
    // The tenant's error (tier rules rank above layout rules) is among the ten shown.
    assert!(
        errors[0].starts_with(
            "::error file=repo/tenants/premium/tenant-4.yaml,line=17,col=22,endLine=17,endColumn=27,title=tier/app-enablement::tenant `tenant-4` is premium"
        ),
        "{}",
        errors[0]
    );
    // 25 errors (12 folded items, each reported as its cause and as the missing resource it
    // makes, plus tenant-4) and one warning: 15 errors are not annotated.
    assert!(out.contains("15 more findings are not annotated"), "{out}");
    let md = read(&summary);
    assert!(md.contains("25 errors, 1 warning, 0 info"), "{md}");
    assert!(md.contains("**15 more not annotated:**"), "{md}");
    assert!(md.contains("15 more errors, 0 more warnings"), "{md}");
    assert!(
        md.contains("| `yaml/continued-list-item` | 12 | 0 | 0 |"),
        "{md}"
    );
    assert!(
        md.contains("| `kustomize/missing-resource` | 12 | 0 | 0 |"),
        "{md}"
    );
    assert!(md.contains("| `suppress/unused` | 0 | 1 | 0 |"), "{md}");
    assert!(md.contains("| tenant-4 | premium | 1 | 0 | 0 |"), "{md}");
    assert!(md.contains("| tenant-1 | premium | 0 | 1 | 0 |"), "{md}");
    assert!(
        md.contains("| (not in a tenant file) | | 24 | 0 | 0 |"),
        "{md}"
    );
}

#[test]
fn github_escapes_commas_and_colons_in_properties() {
    let dir = scratch(&[("a,b:c/platform/kustomization.yaml", &many_errors(1))]);
    let o = run(dir.path(), &["--format", "github", "a,b:c"]);
    assert!(
        stdout(&o).starts_with("::error file=a%2Cb%3Ac/platform/kustomization.yaml,line=4,"),
        "{}",
        stdout(&o)
    );
}

// ---------------------------------------------------------------- JUnit

/// A minimal XML well-formedness check: balanced tags, quoted attributes, known entities,
/// no raw `<` or `&` in text.
fn well_formed(xml: &str) -> Result<usize, String> {
    let body = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        .ok_or("no XML declaration")?;
    let mut stack: Vec<String> = Vec::new();
    let mut rest = body;
    let mut elements = 0;
    let check_text = |t: &str| -> Result<(), String> {
        let mut s = t;
        while let Some(i) = s.find('&') {
            let after = &s[i..];
            // The five named entities, or a decimal character reference (`&#10;`).
            let numeric = after
                .strip_prefix("&#")
                .and_then(|r| r.split_once(';'))
                .is_some_and(|(n, _)| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            if !numeric
                && !["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"]
                    .iter()
                    .any(|e| after.starts_with(e))
            {
                return Err(format!("bad entity at {after:.20}"));
            }
            s = &s[i + 1..];
        }
        if t.contains('>') && t.contains('<') {
            return Err(format!("raw markup in text: {t:.40}"));
        }
        Ok(())
    };
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open])?;
        let close = rest[open..].find('>').ok_or("unclosed tag")? + open;
        let tag = &rest[open + 1..close];
        if tag.contains('<') {
            return Err(format!("`<` inside a tag: {tag:.40}"));
        }
        if let Some(name) = tag.strip_prefix('/') {
            let top = stack.pop().ok_or("close without open")?;
            if top != name {
                return Err(format!("</{name}> closes <{top}>"));
            }
        } else {
            elements += 1;
            let self_closing = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag
                .split_whitespace()
                .next()
                .ok_or("empty tag")?
                .to_string();
            // Attributes: name="value" with no raw `"`, `<` in values.
            let mut attrs = tag[name.len()..].trim();
            while !attrs.is_empty() {
                let eq = attrs
                    .find("=\"")
                    .ok_or(format!("bad attribute in <{name}>"))?;
                let end = attrs[eq + 2..].find('"').ok_or("unterminated attribute")? + eq + 2;
                check_text(&attrs[eq + 2..end])?;
                attrs = attrs[end + 1..].trim_start();
            }
            if !self_closing {
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    check_text(rest)?;
    if !stack.is_empty() {
        return Err(format!("unclosed elements: {stack:?}"));
    }
    Ok(elements)
}

#[test]
fn junit_is_well_formed_with_special_characters() {
    let dir = scratch(&[(
        "repo/tenants/premium/tenant-1.yaml",
        &premium("t<&>\"'x", "true", "tenant-1")
            .replace("tenantId: t<&>\"'x", "tenantId: \"t<&>\\\"'x\""),
    )]);
    let o = run(dir.path(), &["--format", "junit", "repo"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let xml = stdout(&o);
    assert!(xml.contains("t&lt;&amp;&gt;&quot;&apos;x"), "{xml}");
    let elements = well_formed(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    assert!(elements >= 4);
    // The odd tenantId also disagrees with the file name (tier/name-mismatch).
    assert!(xml.contains("tests=\"2\" failures=\"2\""), "{xml}");
    assert!(xml.contains("<failure type=\"error\""), "{xml}");
    // The checker itself rejects broken XML.
    assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a><b></a>").is_err());
    assert!(well_formed("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<a>x & y</a>").is_err());
}

#[test]
fn junit_of_the_example_lists_clean_files_as_passing() {
    let o = run(root(), &["--format", "junit", EXAMPLE[0], EXAMPLE[1]]);
    let xml = stdout(&o);
    well_formed(&xml).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(xml.matches("<failure ").count(), example_findings());
    assert!(xml.contains(
        "<testcase classname=\"fixtures/example/apps-repo/tenants/premium/tenant-1.yaml\" name=\"no findings\"/>"
    ));
}

// ---------------------------------------------------------------- several formats

#[test]
fn several_formats_in_one_run() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let sarif = dir.path().join("r.sarif");
    let junit = dir.path().join("r.xml");
    let human = dir.path().join("r.txt");
    let args = [
        "--format".to_string(),
        "json".to_string(),
        "--output".to_string(),
        format!("sarif={}", sarif.display()),
        "--output".to_string(),
        format!("junit={}", junit.display()),
        "--format".to_string(),
        "human".to_string(),
        "--output".to_string(),
        format!("human={}", human.display()),
        EXAMPLE[0].to_string(),
        EXAMPLE[1].to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(root(), &args);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        json(&stdout(&o))["findings"].as_array().map(Vec::len),
        Some(example_findings())
    );
    assert_eq!(json(&read(&sarif))["version"], "2.1.0");
    assert!(read(&junit).contains(&format!("failures=\"{}\"", example_findings())));
    let text = read(&human);
    assert!(text.contains("error[tenant/namespace-mismatch]"));
    assert!(!text.contains('\u{1b}'), "no colour codes in files");

    // `--output FILE` alone names the file of the (only) format.
    let file = dir.path().join("only.json");
    let fs = file.display().to_string();
    let o = run(root(), &["--format", "json", "--output", &fs, EXAMPLE[0]]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(json(&read(&file))["findings"].is_array());

    // Two formats on stdout is a usage error.
    let o = run(
        root(),
        &["--format", "json", "--format", "sarif", EXAMPLE[0]],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("would all go to stdout"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------- suppressions

#[test]
fn inline_suppressions_cover_exactly_their_rule_and_lines() {
    // tenant-4: consumer enabled: false (tier/app-enablement, line 17) and namespace typo
    // (tenant/namespace-mismatch, line 20).
    let bad = premium("tenant-4", "false", "tenant-44");
    let lines: Vec<&str> = bad.lines().collect();
    let with = |at: usize, comment: &str| {
        let mut l = lines.clone();
        l.insert(at, comment);
        l.join("\n") + "\n"
    };
    let cases = [
        // Line above, right rule: only the namespace finding is left (shifted one line down).
        (
            with(16, "            # gitops-lint: ignore[tier/app-enablement] migrating"),
            vec!["tenant/namespace-mismatch repo/tenants/premium/tenant-4.yaml:21"],
        ),
        // Same line as a trailing comment, two ids.
        (
            bad.replace(
                "namespace: tenant-44",
                "namespace: tenant-44  # gitops-lint: ignore[tenant/namespace-mismatch, tier/app-enablement] renamed",
            ),
            vec![
                "tier/app-enablement repo/tenants/premium/tenant-4.yaml:17",
                "suppress/unused repo/tenants/premium/tenant-4.yaml:20",
            ],
        ),
        // Two lines above: too far, so it suppresses nothing and is unused.
        (
            with(15, "            # gitops-lint: ignore[tier/app-enablement] migrating"),
            vec![
                "suppress/unused repo/tenants/premium/tenant-4.yaml:16",
                "tier/app-enablement repo/tenants/premium/tenant-4.yaml:18",
                "tenant/namespace-mismatch repo/tenants/premium/tenant-4.yaml:21",
            ],
        ),
        // A family glob.
        (
            with(16, "            # gitops-lint: ignore[tier/*] migrating"),
            vec!["tenant/namespace-mismatch repo/tenants/premium/tenant-4.yaml:21"],
        ),
    ];
    for (text, expected) in cases {
        let dir = scratch(&[("repo/tenants/premium/tenant-4.yaml", &text)]);
        let o = run(dir.path(), &["--format", "json", "repo"]);
        let mut got = findings(&o);
        got.sort();
        let mut expected: Vec<String> = expected.into_iter().map(String::from).collect();
        expected.sort();
        assert_eq!(got, expected, "{text}");
    }
}

#[test]
fn config_ignore_entries_match_rule_and_paths() {
    let tenants = [
        (
            "repo/tenants/premium/tenant-4.yaml",
            premium("tenant-4", "false", "tenant-4"),
        ),
        (
            "repo/tenants/premium/tenant-5.yaml",
            premium("tenant-5", "false", "tenant-55"),
        ),
    ];
    let config = "ignore:
  - rule: tier/app-enablement
    paths: [\"tenants/premium/tenant-4.yaml\"]
    until: \"2999-01-01\"
    reason: tenant-4 moves its consumer next sprint
";
    let mut files: Vec<(&str, &str)> = tenants.iter().map(|(p, t)| (*p, t.as_str())).collect();
    files.push(("repo/.gitops-lint.yaml", config));
    let dir = scratch(&files);
    let o = run(dir.path(), &["--format", "json", "repo"]);
    let mut got = findings(&o);
    got.sort();
    assert_eq!(
        got,
        vec![
            "tenant/namespace-mismatch repo/tenants/premium/tenant-5.yaml:20",
            "tier/app-enablement repo/tenants/premium/tenant-5.yaml:17",
        ]
    );
    // A bad entry is a config error naming the key and line.
    write(
        dir.path(),
        "repo/.gitops-lint.yaml",
        "ignore:\n  - rule: tier/app-enablement\n    until: 2025-13-01\n    reason: x\n",
    );
    let o = run(dir.path(), &["repo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(".gitops-lint.yaml:3: `ignore[0].until`"),
        "{}",
        stderr(&o)
    );
    write(
        dir.path(),
        "repo/.gitops-lint.yaml",
        "ignore:\n  - rule: tier/app-enablement\n",
    );
    let o = run(dir.path(), &["repo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing `reason`"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- baseline

#[test]
fn baseline_reports_only_new_findings_and_survives_unrelated_edits() {
    let dir = scratch(&[
        (
            "repo/tenants/premium/tenant-4.yaml",
            &premium("tenant-4", "false", "tenant-4"),
        ),
        ("repo/platform/kustomization.yaml", &many_errors(2)),
    ]);
    let o = run(dir.path(), &["--write-baseline", "base.json", "repo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // tenant-4, and two folded items reported as cause and as missing resource each.
    assert!(stderr(&o).contains("wrote 5 findings"), "{}", stderr(&o));
    let base = json(&read(&dir.path().join("base.json")));
    assert_eq!(base["fingerprints"].as_array().map(Vec::len), Some(5));

    let o = run(
        dir.path(),
        &["--baseline", "base.json", "--format", "json", "repo"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(findings(&o).is_empty());
    assert!(
        stderr(&o).contains("5 findings matched the baseline"),
        "{}",
        stderr(&o)
    );

    // Lines inserted above the known findings: still known.
    let shifted = format!(
        "# owner: team-a\n# reviewed\n{}",
        premium("tenant-4", "false", "tenant-4")
    );
    write(dir.path(), "repo/tenants/premium/tenant-4.yaml", &shifted);
    let o = run(
        dir.path(),
        &["--baseline", "base.json", "--format", "json", "repo"],
    );
    assert_eq!(findings(&o), Vec::<String>::new());

    // A new finding of a known rule in a known file, and a third `- b.yaml` line identical to
    // the two known ones (the occurrence index tells them apart): exactly these are reported.
    write(
        dir.path(),
        "repo/platform/kustomization.yaml",
        &many_errors(3),
    );
    write(
        dir.path(),
        "repo/tenants/premium/tenant-4.yaml",
        &premium("tenant-4", "false", "tenant-40"),
    );
    let o = run(
        dir.path(),
        &["--baseline", "base.json", "--format", "json", "repo"],
    );
    assert_eq!(o.status.code(), Some(1));
    let mut got = findings(&o);
    got.sort();
    assert_eq!(
        got,
        vec![
            "kustomize/missing-resource repo/platform/kustomization.yaml:8",
            "tenant/namespace-mismatch repo/tenants/premium/tenant-4.yaml:20",
            "yaml/continued-list-item repo/platform/kustomization.yaml:9",
        ]
    );

    // A missing or broken baseline is a usage error.
    let o = run(dir.path(), &["--baseline", "nope.json", "repo"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read the baseline"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------- --changed-from / --staged

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

/// A git repo whose first commit (tagged `base`) has one known problem (tenant-4).
fn repo_with_history() -> tempfile::TempDir {
    let dir = scratch(&[
        (
            "tier-templates/premium_tenant_template.yaml",
            PREMIUM_TEMPLATE,
        ),
        (
            "tenants/premium/tenant-1.yaml",
            &premium("tenant-1", "true", "tenant-1"),
        ),
        (
            "tenants/premium/tenant-4.yaml",
            &premium("tenant-4", "false", "tenant-4"),
        ),
        (
            "tenants/premium/tenant-7.yaml",
            &premium("tenant-7", "true", "tenant-7"),
        ),
        ("platform/kustomization.yaml", &many_errors(0)),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-q", "-m", "base"]);
    git(dir.path(), &["tag", "base"]);
    dir
}

#[test]
fn changed_from_reports_only_what_the_change_touches() {
    let dir = repo_with_history();
    let d = dir.path();
    // Nothing changed: the known problem is not reported.
    let o = run(d, &["--changed-from", "base", "--format", "json", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(findings(&o).is_empty());

    // A committed change to tenant-1, an unstaged one to the kustomization, an untracked file.
    write(
        d,
        "tenants/premium/tenant-1.yaml",
        &premium("tenant-1", "true", "tenant-11"),
    );
    git(d, &["commit", "-qam", "tenant-1"]);
    write(d, "platform/kustomization.yaml", &many_errors(1));
    write(
        d,
        "tenants/premium/tenant-9.yaml",
        &premium("tenant-9", "false", "tenant-9"),
    );
    let o = run(d, &["--changed-from", "base", "--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1));
    let mut got = findings(&o);
    got.sort();
    assert_eq!(
        got,
        vec![
            "kustomize/missing-resource platform/kustomization.yaml:4",
            "tenant/namespace-mismatch tenants/premium/tenant-1.yaml:20",
            "tier/app-enablement tenants/premium/tenant-9.yaml:17",
            "yaml/continued-list-item platform/kustomization.yaml:5",
        ]
    );
    // The full run sees tenant-4's old problem as well.
    let all = run(d, &["--format", "json", "."]);
    assert_eq!(findings(&all).len(), 5);

    // --staged: only what is in the index.
    git(d, &["add", "tenants/premium/tenant-9.yaml"]);
    let o = run(d, &["--staged", "--format", "json", "."]);
    assert_eq!(
        findings(&o),
        vec!["tier/app-enablement tenants/premium/tenant-9.yaml:17"]
    );
}

#[test]
fn a_tier_template_change_reports_every_tenant_of_the_tier() {
    let dir = repo_with_history();
    let d = dir.path();
    let template =
        PREMIUM_TEMPLATE.replace("chart: helm-tenant-chart", "chart: helm-tenant-chart-v2");
    write(d, "tier-templates/premium_tenant_template.yaml", &template);
    let o = run(d, &["--changed-from", "HEAD", "--format", "json", "."]);
    assert_eq!(
        findings(&o),
        vec![
            // every premium tenant now differs from the changed template...
            "tier/contract-drift tenants/premium/tenant-1.yaml:9",
            "tier/contract-drift tenants/premium/tenant-4.yaml:9",
            // ...and tenant-4's old problem is now the change's business
            "tier/app-enablement tenants/premium/tenant-4.yaml:17",
            "tier/contract-drift tenants/premium/tenant-7.yaml:9",
        ],
        "every tenant of the tier is the change's business"
    );
    // The same run from a subdirectory PATH maps git's paths correctly.
    let o = run(
        d.parent().unwrap_or(d),
        &[
            "--changed-from",
            "HEAD",
            "--format",
            "json",
            &d.display().to_string(),
        ],
    );
    assert_eq!(findings(&o).len(), 4, "{}", stdout(&o));
}

/// A user policy with a cross-file finding: tenant-1 is reported, with tenant-7 as related.
const PAIR_POLICY: &str = r#"package gitops_lint.pair
import rego.v1

deny contains f if {
  some a in input.tenants
  a.id == "tenant-1"
  some b in input.tenants
  b.id == "tenant-7"
  f := {"rule": "acme/pair", "file": a.file, "doc": a.doc, "path": a.id_path,
        "msg": "tenant-1 and tenant-7 share a database",
        "related": [{"file": b.file, "doc": b.doc, "path": b.id_path, "msg": "tenant-7 is here"}]}
}
"#;

#[test]
fn changed_from_reports_a_cross_file_finding_when_its_related_file_changed() {
    let dir = repo_with_history();
    let d = dir.path();
    let policies = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(policies.path(), "pair.rego", PAIR_POLICY);
    let pol = policies.path().display().to_string();
    let args = [
        "--policy",
        pol.as_str(),
        "--changed-from",
        "HEAD",
        "--format",
        "json",
        ".",
    ];
    // Only tenant-4 changes: the pair finding is not this change's business.
    write(
        d,
        "tenants/premium/tenant-4.yaml",
        &format!("# owner: a\n{}", premium("tenant-4", "false", "tenant-4")),
    );
    let o = run(d, &args);
    assert_eq!(
        findings(&o),
        vec!["tier/app-enablement tenants/premium/tenant-4.yaml:18"],
        "{}",
        stderr(&o)
    );
    // tenant-7 (only the related place) changes: the finding on tenant-1 is reported.
    git(d, &["checkout", "-q", "--", "."]);
    write(
        d,
        "tenants/premium/tenant-7.yaml",
        &format!("# owner: b\n{}", premium("tenant-7", "true", "tenant-7")),
    );
    let o = run(d, &args);
    assert_eq!(
        findings(&o),
        vec!["acme/pair tenants/premium/tenant-1.yaml:12"],
        "{}",
        stderr(&o)
    );
}

#[test]
fn changed_from_errors_are_usage_errors() {
    let dir = repo_with_history();
    let o = run(dir.path(), &["--changed-from", "no-such-rev", "."]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-rev"), "{}", stderr(&o));
    let plain = scratch(&[(
        "tenants/premium/tenant-1.yaml",
        &premium("tenant-1", "true", "tenant-1"),
    )]);
    let o = Command::new(env!("CARGO_BIN_EXE_gitops-lint"))
        .current_dir(plain.path())
        .args(["--changed-from", "HEAD", "."])
        .env(
            "GIT_CEILING_DIRECTORIES",
            plain.path().parent().unwrap_or(plain.path()),
        )
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not in a git repository"),
        "{}",
        stderr(&o)
    );
}

// ---------------------------------------------------------------- init + config discovery + schema

#[test]
fn init_writes_a_config_that_loads_back() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let apps = dir.path().join("apps-repo");
    copy_dir(&root().join("fixtures/example/apps-repo"), &apps);
    let o = run(dir.path(), &["init", "apps-repo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let path = apps.join(".gitops-lint.yaml");
    let text = read(&path);
    let config =
        gitops_lint_config::Config::from_file(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        config.tiers.keys().cloned().collect::<Vec<_>>(),
        vec!["advanced", "basic", "premium"]
    );
    assert_eq!(
        config.tiers,
        gitops_lint_config::Config::default().tiers,
        "{text}"
    );
    assert!(
        text.contains("tier-templates/premium_tenant_template.yaml"),
        "{text}"
    );
    assert!(text.contains("#   pools:          pool-1"), "{text}");
    assert!(
        text.contains("  premium:   # from template tier-templates/premium_tenant_template.yaml"),
        "{text}"
    );
    validate_config(&text).unwrap_or_else(|e| panic!("{e}"));
    // The run with it finds the same problems as without (six findings for five mistakes).
    let lint = run(dir.path(), &["--format", "json", "apps-repo"]);
    assert_eq!(findings(&lint).len(), 10, "{}", stderr(&lint));

    let again = run(dir.path(), &["init", "apps-repo"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists; use --force"));
    let forced = run(dir.path(), &["init", "--force", "apps-repo"]);
    assert_eq!(forced.status.code(), Some(0));
}

#[test]
fn init_reads_a_custom_tier_from_its_template() {
    let gold = PREMIUM_TEMPLATE.replace(
        "consumer:\n            enabled: true",
        "consumer:\n            enabled: false\n            envId: pool-1",
    );
    let dir = scratch(&[("tier-templates/gold_tenant_template.yaml", &gold)]);
    let o = run(dir.path(), &["init"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let config = gitops_lint_config::Config::from_file(&dir.path().join(".gitops-lint.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.tiers.len(), 1);
    assert_eq!(
        config.tiers["gold"]["consumer"],
        gitops_lint_config::AppMode::Pool
    );
}

fn config_schema() -> Value {
    json(&read(&root().join("schemas/gitops-lint.schema.json")))
}

/// Validates config YAML text against the published JSON Schema.
fn validate_config(text: &str) -> Result<(), String> {
    let loaded = gitops_lint_syntax::yaml::load(text);
    let value = loaded
        .docs
        .first()
        .map(|d| d.value.clone())
        .unwrap_or(Value::Null);
    let validator = jsonschema::draft7::new(&config_schema()).map_err(|e| e.to_string())?;
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

#[test]
fn the_config_schema_matches_the_validator() {
    let schema = config_schema();
    assert!(jsonschema::draft7::meta::is_valid(&schema));
    let mut keys: Vec<String> = schema["properties"]
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    keys.sort();
    let mut accepted: Vec<String> = gitops_lint_config::KEYS
        .iter()
        .map(|s| s.to_string())
        .collect();
    accepted.sort();
    assert_eq!(
        keys, accepted,
        "schema and Rust validator accept different top-level keys"
    );
    // Every config in the repo's fixtures is valid for both.
    let mut configs = Vec::new();
    find_configs(&root().join("fixtures"), &mut configs);
    assert!(configs.len() >= 3);
    for path in configs {
        let text = read(&path);
        gitops_lint_config::Config::from_text(&text, &path).unwrap_or_else(|e| panic!("{e}"));
        validate_config(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let good = "tiers:\n  gold:\n    apps: {api: silo, worker: pool}\npools: [shared-*]\nrules:\n  tier/app-enablement: warning\n  yaml/syntax: off\nignore:\n  - rule: tier/*\n    paths: [\"tenants/**\"]\n    until: \"2030-01-01\"\n    reason: migrating\n";
    validate_config(good).unwrap_or_else(|e| panic!("{e}"));
    for bad in [
        "tier: {}\n",
        "tiers:\n  gold:\n    apps: {api: shared}\n",
        "rules:\n  syntax: off\n",
        "ignore:\n  - rule: tier/*\n",
        "ignore:\n  - rule: tier/*\n    reason: r\n    until: \"2030-13-01\"\n",
        "schemas: vendor/crds\n",
        "schemas:\n  - ../shared/crds\n",
        "schemas:\n  - vendor/../../crds\n",
        "schemas:\n  - /etc/crds\n",
        "schemas:\n  - \"\"\n",
    ] {
        assert!(validate_config(bad).is_err(), "schema accepts {bad}");
        assert!(
            gitops_lint_config::Config::from_text(bad, Path::new("c.yaml")).is_err(),
            "validator accepts {bad}"
        );
    }
}

fn find_configs(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            find_configs(&p, out);
        } else if p.file_name().is_some_and(|n| n == ".gitops-lint.yaml") {
            out.push(p);
        }
    }
}

#[test]
fn config_is_found_upward_to_the_git_root() {
    let dir = scratch(&[
        (".gitops-lint.yaml", "rules:\n  tier/app-enablement: off\n"),
        (
            "apps/repo/tenants/premium/tenant-4.yaml",
            &premium("tenant-4", "false", "tenant-4"),
        ),
    ]);
    std::fs::create_dir_all(dir.path().join(".git")).unwrap_or_default();
    let o = run(dir.path(), &["apps/repo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // A git root below the config stops the search.
    std::fs::create_dir_all(dir.path().join("apps/.git")).unwrap_or_default();
    let o = run(dir.path(), &["apps/repo"]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
}

#[test]
fn changed_from_sees_a_file_whose_name_git_would_quote() {
    // Without `-z`, git prints `"bad-\303\251.yaml"`, which names no file: the change was lost.
    let dir = repo_with_history();
    let d = dir.path();
    write(
        d,
        "platform/bad-é.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n  a: \"2\"\n",
    );
    let o = run(d, &["--changed-from", "base", "--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        findings(&o)
            .iter()
            .any(|f| f == "yaml/duplicate-key platform/bad-é.yaml:7"),
        "{:?}",
        findings(&o)
    );
}
