//! Hostile pull requests: output that cannot carry GitHub workflow commands or terminal escapes,
//! and files the tool writes that are never written through a symlink planted in the checkout.

mod common;

use common::{run, scratch, stderr, stdout};
use std::path::Path;

/// A manifest whose key holds a line break followed by a workflow command.
const INJECTING_KEY: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  \"a\\n::add-mask::secret\": 1\n  \"a\\n::add-mask::secret\": 2\n";

fn no_line_starts_a_workflow_command(text: &str) {
    for line in text.lines() {
        // `--format github` writes its own annotations, and only those.
        let own = ["::error ", "::warning ", "::notice "]
            .iter()
            .any(|p| line.starts_with(p));
        assert!(
            own || !line.trim_start().starts_with("::"),
            "a line starts a workflow command: {line:?}\n{text}"
        );
        assert!(!line.contains('\u{1b}'), "an escape sequence: {line:?}");
    }
}

#[test]
fn input_text_never_starts_a_line_of_output() {
    let dir = scratch(&[("repo/cm.yaml", INJECTING_KEY)]);
    for format in ["human", "junit", "github"] {
        let out = run(dir.path(), &["--format", format, "--no-color", "repo"]);
        assert_eq!(out.status.code(), Some(1), "{format}: {}", stderr(&out));
        no_line_starts_a_workflow_command(&stdout(&out));
        no_line_starts_a_workflow_command(&stderr(&out));
    }
}

#[test]
fn a_config_error_does_not_echo_a_command_to_stderr() {
    let dir = scratch(&[
        (
            "repo/.gitops-lint.yaml",
            "rules:\n  \"x/y\\n::stop-commands::T\": off\n",
        ),
        (
            "repo/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        ),
    ]);
    let out = run(dir.path(), &["repo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("stop-commands"), "{}", stderr(&out));
    no_line_starts_a_workflow_command(&stderr(&out));
}

#[test]
fn terminal_escapes_in_a_file_are_not_replayed() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"\u{1b}[2J\"\n  a: \"\u{1b}]0;pwned\u{7}\"\n";
    let dir = scratch(&[("repo/cm.yaml", text)]);
    let out = run(dir.path(), &["--no-color", "repo"]);
    assert_eq!(out.status.code(), Some(1));
    no_line_starts_a_workflow_command(&stdout(&out));
    assert!(!stdout(&out).contains('\u{7}'));
}

#[test]
fn the_job_summary_escapes_names_and_ids() {
    // A file name with backticks and HTML, and a tenant id with a carriage return.
    let name = "repo/tenants/premium/a`<img src=x>`.yaml";
    let tenant = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: t\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/charts\n    chart: tenant\n    targetRevision: 1.0.0\n    helm:\n      valuesObject:\n        tenantId: \"t\\r# forged heading\"\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: other\n";
    let dir = scratch(&[(name, tenant)]);
    let out = run(
        dir.path(),
        &["--format", "json", "--summary", "summary.md", "repo"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary =
        std::fs::read_to_string(dir.path().join("summary.md")).unwrap_or_else(|e| panic!("{e}"));
    assert!(!summary.contains("<img"), "{summary}");
    assert!(
        !summary.lines().any(|l| l.starts_with("# forged")),
        "{summary}"
    );
    assert!(summary.contains("&lt;img src=x&gt;"), "{summary}");
}

#[cfg(unix)]
fn planted_link(dir: &Path, link: &str) -> std::path::PathBuf {
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "precious\n").unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&victim, dir.join(link)).unwrap_or_else(|e| panic!("{e}"));
    victim
}

#[cfg(unix)]
#[test]
fn outputs_are_never_written_through_a_planted_symlink() {
    let manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: 1\n  a: 2\n";
    for args in [
        vec![
            "--format",
            "sarif",
            "--output",
            "sarif=repo/out.sarif",
            "repo",
        ],
        vec!["--summary", "repo/out.sarif", "repo"],
        vec!["--write-baseline", "repo/out.sarif", "repo"],
    ] {
        let dir = scratch(&[("repo/cm.yaml", manifest)]);
        let victim = planted_link(&dir.path().join("repo"), "out.sarif");
        let out = run(dir.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap_or_default(),
            "precious\n",
            "{args:?}"
        );
    }
    // `init` too.
    let dir = scratch(&[("repo/cm.yaml", manifest)]);
    let victim = planted_link(&dir.path().join("repo"), ".gitops-lint.yaml");
    let out = run(dir.path(), &["init", "repo", "--force"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap_or_default(),
        "precious\n"
    );
}

#[test]
fn a_report_file_is_replaced_whole() {
    let dir = scratch(&[(
        "repo/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )]);
    std::fs::write(dir.path().join("out.json"), "x".repeat(100_000))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = run(
        dir.path(),
        &["--format", "json", "--output", "json=out.json", "repo"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("out.json")).unwrap_or_default();
    assert!(
        written.starts_with('{') && !written.contains("xxx"),
        "{written}"
    );
}

/// A baseline that is a FIFO, or a link to `/dev/zero`, ends the run at once with a usage error
/// naming the file, instead of blocking on the pipe or reading without end.
#[cfg(unix)]
#[test]
fn a_baseline_that_is_not_a_file_is_refused_at_once() {
    let dir = scratch(&[(
        "repo/ok.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
    )]);
    common::walk::mkfifo(&dir.path().join("fifo.json"));
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    for (baseline, what) in [("fifo.json", "a FIFO"), ("zero.json", "a character device")] {
        let started = std::time::Instant::now();
        let o = run(dir.path(), &["--baseline", baseline, "repo"]);
        assert_eq!(o.status.code(), Some(2), "{baseline}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(baseline) && err.contains(what), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
    }
}
