//! Hostile trees: what the file walk lists (what git deploys, whatever ignore files say), and
//! entries that must neither block nor exhaust the run (FIFOs, links to devices, huge files,
//! folders nested past `PATH_MAX`, names with a backslash or bytes that are not UTF-8), and a
//! config that points out of the repository.
//!
//! Every run here is bounded: it must finish within [`DEADLINE`] under a virtual memory limit
//! of [`MEMORY_KIB`], or the test fails (instead of hanging the suite or the machine).

mod common;

use common::{json_findings as findings, scratch, stderr, stdout, write};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// How long one run may take (a debug build on a busy machine; a blocked run never ends).
const DEADLINE: Duration = Duration::from_secs(60);
/// The address space one run may use (`ulimit -v`), so that reading `/dev/zero` would fail
/// instead of swallowing the machine.
const MEMORY_KIB: u64 = 4 << 20;

/// A manifest with a defect every run reports: a duplicate key (`yaml/duplicate-key`, line 7).
const DEFECT: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n  a: \"2\"\n";

/// Runs the binary in `dir` with a deadline and a memory limit; output goes through files, so a
/// full pipe cannot stall it.
fn run(dir: &Path, args: &[&str]) -> Output {
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file =
        |name: &str| std::fs::File::create(out.path().join(name)).unwrap_or_else(|e| panic!("{e}"));
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_gitops-lint"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(file("stdout"))
        .stderr(file("stderr"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run gitops-lint: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap_or_else(|e| panic!("{e}")) {
            break status;
        }
        if start.elapsed() > DEADLINE {
            child.kill().unwrap_or_default();
            let _ = child.wait();
            panic!("gitops-lint {args:?} did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |name: &str| std::fs::read(out.path().join(name)).unwrap_or_default();
    let output = Output {
        status,
        stdout: read("stdout"),
        stderr: read("stderr"),
    };
    assert!(
        !stderr(&output).contains("panicked"),
        "{args:?}: {}",
        stderr(&output)
    );
    output
}

/// The message of the first finding of `rule`.
fn message(o: &Output, rule: &str) -> String {
    let doc: Value = serde_json::from_str(&stdout(o)).unwrap_or_default();
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == rule)
        .and_then(|f| f["message"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// Runs git in `dir`; it must succeed.
fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

/// `git init` in `dir`, quietly.
fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "."]);
}

/// Whether permission bits stop this process (they do not stop root).
#[cfg(unix)]
fn permissions_apply(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    std::fs::create_dir_all(&probe).unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o000))
        .unwrap_or_else(|e| panic!("{e}"));
    let applies = std::fs::read_dir(&probe).is_err();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o755))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_dir(&probe).unwrap_or_default();
    applies
}

#[test]
fn a_gitignore_does_not_hide_a_tracked_manifest() {
    let dir = scratch(&[
        (".gitignore", "secret/\n*.local.yaml\n"),
        ("secret/app.yaml", DEFECT),
        ("secret/scratch.yaml", DEFECT),
        ("dev.local.yaml", DEFECT),
        (
            "ok.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ok\n",
        ),
    ]);
    let d = dir.path();
    git_init(d);
    git(d, &["add", ".gitignore", "ok.yaml"]);
    // Forced in, as a pull request can: Argo CD deploys it whatever .gitignore says.
    git(d, &["add", "-f", "secret/app.yaml"]);
    let o = run(d, &["--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // The untracked files .gitignore lists are still left out.
    assert_eq!(
        findings(&o),
        vec!["yaml/duplicate-key secret/app.yaml:7"],
        "{}",
        stdout(&o)
    );
    // A tracked file deleted in the work tree is not listed (nothing to read).
    std::fs::remove_file(d.join("secret/app.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let o = run(d, &["--format", "json", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(findings(&o), Vec::<String>::new());
}

#[test]
fn a_submodule_is_another_repository() {
    let dir = scratch(&[("app.yaml", DEFECT), ("vendor/lib/bad.yaml", DEFECT)]);
    let d = dir.path();
    let lib = d.join("vendor/lib");
    git_init(&lib);
    git(&lib, &["add", "."]);
    git(&lib, &["commit", "-q", "-m", "lib"]);
    git_init(d);
    // `vendor/lib` is recorded as a gitlink (a commit of another repository), not as files.
    git(d, &["add", "app.yaml", "vendor/lib"]);
    let o = run(d, &["--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec!["yaml/duplicate-key app.yaml:7"],
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_gitignore_in_a_parent_folder_does_not_hide_a_tracked_manifest_of_a_subfolder_path() {
    let dir = scratch(&[
        (".gitignore", "*.yaml\n"),
        ("gitops/app.yaml", DEFECT),
        ("gitops/scratch.yaml", DEFECT),
    ]);
    let d = dir.path();
    git_init(d);
    git(d, &["add", ".gitignore"]);
    git(d, &["add", "-f", "gitops/app.yaml"]);
    let o = run(d, &["--format", "json", "gitops"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec!["yaml/duplicate-key gitops/app.yaml:7"],
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_dot_ignore_hides_only_untracked_files_and_only_when_opted_in() {
    let dir = scratch(&[
        (".ignore", "hidden/\n"),
        ("hidden/tracked.yaml", DEFECT),
        ("hidden/untracked.yaml", DEFECT),
    ]);
    let d = dir.path();
    let both = vec![
        "yaml/duplicate-key hidden/tracked.yaml:7",
        "yaml/duplicate-key hidden/untracked.yaml:7",
    ];
    // Outside git: `.ignore` is a ripgrep convention, off by default.
    let o = run(d, &["--format", "json", "."]);
    assert_eq!(findings(&o), both, "{}", stderr(&o));
    write(d, "opted-in.yaml", "dotIgnore: true\n");
    let o = run(d, &["--format", "json", "--config", "opted-in.yaml", "."]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert_eq!(findings(&o), Vec::<String>::new());
    // In a checkout: the tracked file is linted whatever `.ignore` says; the untracked one
    // only when `.ignore` is not opted in.
    git_init(d);
    git(d, &["add", ".ignore", "hidden/tracked.yaml"]);
    let o = run(d, &["--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(findings(&o), both, "{}", stdout(&o));
    let o = run(d, &["--format", "json", "--config", "opted-in.yaml", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec!["yaml/duplicate-key hidden/tracked.yaml:7"],
        "{}",
        stdout(&o)
    );
}

#[cfg(unix)]
#[test]
fn fifos_are_reported_never_opened() {
    use common::walk::mkfifo;
    let dir = scratch(&[("repo/ok.yaml", DEFECT)]);
    let repo = dir.path().join("repo");
    for name in [
        ".gitignore",
        ".ignore",
        ".git",
        "x.yaml",
        ".gitops-lint.yaml",
    ] {
        mkfifo(&repo.join(name));
    }
    // The config is a FIFO: refused by name, at once.
    let o = run(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(".gitops-lint.yaml") && stderr(&o).contains("FIFO"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_file(repo.join(".gitops-lint.yaml")).unwrap_or_else(|e| panic!("{e}"));
    write(dir.path(), "c.yaml", "dotIgnore: true\n");
    let o = run(
        dir.path(),
        &["--format", "json", "--config", "c.yaml", "repo"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec![
            // A FIFO named `.git` is neither a checkout nor listed.
            "gitops/special-file repo/.gitignore:1",
            "gitops/special-file repo/.ignore:1",
            "yaml/duplicate-key repo/ok.yaml:7",
            "gitops/special-file repo/x.yaml:1",
        ],
        "{}",
        stdout(&o)
    );
    assert!(message(&o, "gitops/special-file").contains("FIFO"));

    // In a checkout: a tracked manifest replaced by a FIFO in the work tree.
    let dir = scratch(&[("a.yaml", DEFECT), ("b.yaml", DEFECT)]);
    let d = dir.path();
    git_init(d);
    git(d, &["add", "."]);
    std::fs::remove_file(d.join("b.yaml")).unwrap_or_else(|e| panic!("{e}"));
    mkfifo(&d.join("b.yaml"));
    let o = run(d, &["--format", "json", "."]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec![
            "yaml/duplicate-key a.yaml:7",
            "gitops/special-file b.yaml:1"
        ]
    );
}

#[cfg(unix)]
#[test]
fn ignore_files_linked_to_dev_zero_are_not_followed() {
    let dir = scratch(&[
        ("repo/ok.yaml", DEFECT),
        ("repo/sub/also.yaml", DEFECT),
        ("c.yaml", "dotIgnore: true\n"),
    ]);
    let repo = dir.path().join("repo");
    for link in [".gitignore", ".ignore", "sub/.gitignore", "zero.yaml"] {
        std::os::unix::fs::symlink("/dev/zero", repo.join(link)).unwrap_or_else(|e| panic!("{e}"));
    }
    let want = vec![
        "yaml/duplicate-key repo/ok.yaml:7",
        "yaml/duplicate-key repo/sub/also.yaml:7",
    ];
    let o = run(
        dir.path(),
        &["--format", "json", "--config", "c.yaml", "repo"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(findings(&o), want, "{}", stdout(&o));
    // The same as a checkout (git keeps the links as links).
    git_init(&repo);
    git(&repo, &["add", "."]);
    let o = run(
        dir.path(),
        &["--format", "json", "--config", "c.yaml", "repo"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(findings(&o), want, "{}", stdout(&o));
    // A `.git` that is a link to a device is no checkout either.
    std::fs::remove_dir_all(repo.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("/dev/zero", repo.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    let o = run(
        dir.path(),
        &["--format", "json", "--config", "c.yaml", "repo"],
    );
    assert_eq!(findings(&o), want, "{}", stdout(&o));
}

#[test]
fn a_file_over_the_budget_is_reported_not_read() {
    let mut big = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n");
    for i in 0..300 {
        big.push_str(&format!("  key-{i}: value\n"));
    }
    big.push_str("  key-0: again\n"); // a defect no one reads: the file is not parsed
    let dir = scratch(&[
        ("repo/big.yaml", &big),
        ("repo/small.yaml", DEFECT),
        ("repo/.gitops-lint.yaml", "limits:\n  fileBytes: 4KiB\n"),
    ]);
    assert!(big.len() > 4096);
    let o = run(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec![
            "gitops/budget-exceeded repo/big.yaml:1",
            "yaml/duplicate-key repo/small.yaml:7",
        ],
        "{}",
        stdout(&o)
    );
    let text = message(&o, "gitops/budget-exceeded");
    assert!(text.contains("`limits.fileBytes`"), "{text}");
    // A sparse file far over the default budget (32 MiB): reported from its size, never read.
    let huge =
        std::fs::File::create(dir.path().join("repo/huge.yaml")).unwrap_or_else(|e| panic!("{e}"));
    huge.set_len(64 << 30).unwrap_or_else(|e| panic!("{e}"));
    std::fs::remove_file(dir.path().join("repo/.gitops-lint.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let o = run(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(
        findings(&o),
        vec![
            "yaml/duplicate-key repo/big.yaml:306",
            "gitops/budget-exceeded repo/huge.yaml:1",
            "yaml/duplicate-key repo/small.yaml:7",
        ],
        "{}",
        stdout(&o)
    );
}

#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_an_error_and_the_run_goes_on() {
    let dir = scratch(&[("repo/ok.yaml", DEFECT)]);
    let deepest = common::walk::nest_past_path_max(&dir.path().join("repo/deep"));
    // The walker itself cannot open it (as root too): the path is too long for the kernel.
    assert!(dir.path().join("repo/deep").is_dir() && !deepest.exists());
    let o = run(dir.path(), &["--format", "json", "repo"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let got = findings(&o);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(
        got[0].starts_with("gitops/unreadable-path repo/deep/ddd") && got[0].ends_with(":1"),
        "{got:?}"
    );
    assert_eq!(got[1], "yaml/duplicate-key repo/ok.yaml:7");
    let text = message(&o, "gitops/unreadable-path");
    assert!(text.contains("File name too long"), "{text}");

    // Permission bits, where they apply (not as root): a folder and a file, in a checkout.
    let dir = scratch(&[("locked/app.yaml", DEFECT), ("closed.yaml", DEFECT)]);
    let d = dir.path();
    if !permissions_apply(d) {
        eprintln!("running as root: permission bits do not stop reads; skipped that part");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    git_init(d);
    git(d, &["add", "."]);
    let set = |rel: &str, mode| {
        std::fs::set_permissions(d.join(rel), std::fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("{e}"));
    };
    set("locked", 0o000);
    set("closed.yaml", 0o000);
    let o = run(d, &["--format", "json", "."]);
    set("locked", 0o755);
    set("closed.yaml", 0o644);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(
        findings(&o),
        vec![
            "gitops/unreadable-path closed.yaml:1",
            "gitops/unreadable-path locked:1"
        ],
        "{}",
        stdout(&o)
    );
    assert!(message(&o, "gitops/unreadable-path").contains("Permission denied"));
}

#[cfg(unix)]
#[test]
fn a_backslash_is_part_of_a_unix_file_name() {
    let dir = scratch(&[("repo/a\\b.yaml", DEFECT)]);
    let repo = dir.path().join("repo");
    for checkout in [false, true] {
        if checkout {
            git_init(&repo);
            git(&repo, &["add", "."]);
        }
        let o = run(dir.path(), &["--format", "json", "repo"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        // Linted once, under its own name (not as `a/b.yaml`).
        assert_eq!(findings(&o), vec!["yaml/duplicate-key repo/a\\b.yaml:7"]);
        // The terminal shows it quoted, the way git does, so it cannot pass for another name.
        let o = run(dir.path(), &["--no-color", "repo"]);
        assert!(
            stdout(&o).contains("\"repo/a\\\\b.yaml\":7:"),
            "{}",
            stdout(&o)
        );
    }
}

#[cfg(unix)]
#[test]
fn a_name_that_is_not_utf8_does_not_stop_the_run() {
    use std::os::unix::ffi::OsStrExt;
    let dir = scratch(&[("repo/ok.yaml", DEFECT)]);
    let repo = dir.path().join("repo");
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
    std::fs::write(repo.join(name), DEFECT).unwrap_or_else(|e| panic!("{e}"));
    for checkout in [false, true] {
        if checkout {
            git_init(&repo);
            git(&repo, &["add", "."]);
        }
        let o = run(dir.path(), &["--format", "json", "repo"]);
        assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
        assert_eq!(
            findings(&o),
            vec![
                "yaml/duplicate-key repo/caf\u{fffd}.yaml:7",
                "yaml/duplicate-key repo/ok.yaml:7",
            ],
            "checkout: {checkout}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_config_linked_out_of_the_repository_is_refused() {
    let secret = format!("TOPSECRET: {}\n", "s3cr3t".repeat(50));
    let dir = scratch(&[("outside/secret.yaml", &secret), ("repo/ok.yaml", DEFECT)]);
    let d = dir.path();
    std::os::unix::fs::symlink(
        d.join("outside/secret.yaml"),
        d.join("repo/.gitops-lint.yaml"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let o = run(d, &["repo"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("repo/.gitops-lint.yaml") && err.contains("symbolic link"),
        "{err}"
    );
    assert!(
        !err.contains("TOPSECRET") && !err.contains("s3cr3t"),
        "{err}"
    );
    // Named on the command line, the same file is the user's choice: read (and its unknown
    // key quoted, cut short, without the value).
    let o = run(d, &["--config", "repo/.gitops-lint.yaml", "repo"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`TOPSECRET`: unknown key"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("s3cr3t"), "{}", stderr(&o));
}

#[test]
fn config_errors_are_bounded_and_quote_no_content() {
    // Over 1 MiB: refused before parsing.
    let big = format!("# {}\n", "x".repeat(1 << 20));
    let dir = scratch(&[("repo/.gitops-lint.yaml", &big), ("repo/ok.yaml", DEFECT)]);
    let o = run(dir.path(), &["repo"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("larger than 1024 KiB"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).len() < 1000, "{}", stderr(&o).len());
    // A long key, a long value, a syntax error on a long line: a short message each.
    let long = "k".repeat(5000);
    for text in [
        format!("{long}: 1\n"),
        format!("tiers:\n  gold:\n    apps:\n      api: {long}\n"),
        format!("tiers: [{long}\n"),
        format!("pools: {long}: x\n"),
    ] {
        write(dir.path(), "repo/.gitops-lint.yaml", &text);
        let o = run(dir.path(), &["repo"]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let err = stderr(&o);
        assert!(err.len() < 1000, "{} bytes: {err}", err.len());
        assert!(!err.contains(&"k".repeat(200)), "{err}");
    }
}
