//! PR-aware runs: the whole system is always linted (cross-file rules need every file), but
//! only findings that touch a changed file, or that a change caused, are reported.
//!
//! The changed files come from `git`: `--changed-from REV` is everything that differs between
//! the merge base of REV and HEAD and the working tree, plus untracked files; `--staged` is the
//! index (what `git commit` would record), which is what a pre-commit hook wants.

use gitops_lint_config::Config;
use gitops_lint_core::finding::Finding;
use gitops_lint_model::World;

use gitops_lint_core::source::FileId;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Which changes to report on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Since {
    /// Changes since the merge base with this revision (committed, staged, unstaged, untracked).
    Rev(String),
    /// Staged changes only.
    Staged,
}

/// Runs git in `dir`; its stdout, or an error naming the command.
fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run `git` ({e}); --changed-from and --staged need git"))?;
    if !out.status.success() {
        return Err(format!(
            "`git {}` failed in `{}`: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Names from `git ... -z`: NUL-separated and never quoted, so a name such as `bad-é.yaml`
/// (which git would print as `"bad-\303\251.yaml"` without `-z`) arrives as it is.
fn nul_separated(out: &str) -> Vec<String> {
    out.split('\0')
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect()
}

/// Changed files, as absolute canonical paths, in the git repository holding `dir`.
fn changed_in(dir: &Path, since: &Since) -> Result<BTreeSet<PathBuf>, String> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?.trim());
    let mut names = Vec::new();
    match since {
        Since::Rev(rev) => {
            let base = git(dir, &["merge-base", rev, "HEAD"]).map_err(|e| {
                format!("cannot find the merge base of `{rev}` and HEAD (is `{rev}` fetched? in Actions use `fetch-depth: 0`): {e}")
            })?;
            let base = base.trim().to_string();
            names.extend(nul_separated(&git(
                dir,
                &["diff", "--name-only", "--no-renames", "-z", &base],
            )?));
            names.extend(nul_separated(&git(
                dir,
                &[
                    "ls-files",
                    "--others",
                    "--exclude-standard",
                    "--full-name",
                    "-z",
                ],
            )?));
        }
        Since::Staged => names.extend(nul_separated(&git(
            dir,
            &["diff", "--cached", "--name-only", "--no-renames", "-z"],
        )?)),
    }
    let top = std::fs::canonicalize(&top).unwrap_or(top);
    Ok(names
        .into_iter()
        .filter(|n| !n.is_empty())
        .map(|n| top.join(n))
        .collect())
}

/// The World files that changed, plus whether the config file changed.
pub fn changed_files(
    world: &World,
    config: &Config,
    since: &Since,
) -> Result<(BTreeSet<FileId>, bool), String> {
    let mut changed = BTreeSet::new();
    let mut by_top: HashMap<PathBuf, BTreeSet<PathBuf>> = HashMap::new();
    let mut roots = Vec::new();
    for repo in &world.repos {
        let root = std::fs::canonicalize(&repo.root).unwrap_or_else(|_| repo.root.clone());
        let top = git(&root, &["rev-parse", "--show-toplevel"])
            .map_err(|e| format!("`{}` is not in a git repository: {e}", repo.root.display()))?;
        let top = PathBuf::from(top.trim());
        if !by_top.contains_key(&top) {
            by_top.insert(top.clone(), changed_in(&root, since)?);
        }
        roots.push((root, top));
    }
    for f in &world.files {
        let Some((root, top)) = roots.get(f.repo) else {
            continue;
        };
        if by_top
            .get(top)
            .is_some_and(|set| set.contains(&root.join(&f.rel_path)))
        {
            changed.insert(f.id);
        }
    }
    let config_changed = match &config.source {
        Some(path) => {
            let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            by_top.values().any(|set| set.contains(&path))
        }
        None => false,
    };
    Ok((changed, config_changed))
}

/// Keeps the findings a change is responsible for: the primary or a related place is in a
/// changed file, or the finding is in a tenant whose tier template changed. When the config
/// changed, everything is reported.
pub fn filter(
    world: &World,
    findings: Vec<Finding>,
    changed: &BTreeSet<FileId>,
    config_changed: bool,
) -> Vec<Finding> {
    if config_changed {
        return findings;
    }
    let changed_display: BTreeSet<&str> = changed
        .iter()
        .map(|id| world.file(*id).display.as_str())
        .collect();
    let tiers: BTreeSet<&str> = world
        .tenants
        .iter()
        .filter(|t| t.template && changed_display.contains(t.file.as_str()))
        .map(|t| t.tier.as_str())
        .collect();
    let caused: BTreeSet<&str> = world
        .tenants
        .iter()
        .filter(|t| tiers.contains(t.tier.as_str()))
        .map(|t| t.file.as_str())
        .collect();
    findings
        .into_iter()
        .filter(|f| {
            let primary = f.primary.resolved_span().file;
            changed.contains(&primary)
                || f.related
                    .iter()
                    .any(|r| changed.contains(&r.location.resolved_span().file))
                || caused.contains(world.file(primary).display.as_str())
        })
        .collect()
}
