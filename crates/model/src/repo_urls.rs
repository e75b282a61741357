//! Which repository URLs name a repository being linted ("same-repo"), so that paths in
//! Applications and Flux Kustomizations can be checked against the checkout.
//!
//! With `repoURLs:` in the config, exactly the configured URLs map to their directories. Without
//! it, a URL is a linted repository when it is one of the git remotes of a PATH that is itself a
//! git checkout's root (read from `.git/config`, no git binary needed), or else when its last path
//! segment (without `.git`) equals the name of exactly one linted repository's directory
//! (`https://github.com/acme/apps-repo` and `./apps-repo`; in CI the checkout directory carries
//! the repository's name). Anything else is remote and never checked, so an unknown URL can never
//! produce a finding.

use crate::World;
use gitops_lint_config::Config;
use gitops_lint_matchers::git_url::same_repo_key;
use std::path::{Path, PathBuf};

/// Resolves repository URLs to linted repositories (indexes into `world.repos`). Built once,
/// when the World is loaded ([`World::repo_urls`]).
#[derive(Debug, Default)]
pub struct RepoUrls {
    /// Configured URL keys -> repository index (None: configured, but not one of the PATHs).
    configured: Vec<(String, Option<usize>)>,
    /// The directory name of each linted repository (for the heuristic).
    names: Vec<Option<String>>,
    /// The git remote URL keys of each linted repository that is a checkout's root.
    remotes: Vec<Vec<String>>,
}

/// The git directory of a checkout whose root is `root`: `root/.git`, or where a `.git` file
/// points (worktrees, submodules). Only a root counts: in a subfolder of a checkout, repository
/// paths are relative to the checkout's root, not to the PATH.
pub(crate) fn git_dir(root: &Path) -> Option<PathBuf> {
    let dot = root.join(".git");
    if dot.is_dir() {
        return Some(dot);
    }
    let text = read_small(&dot)?;
    let target = text.lines().find_map(|l| l.strip_prefix("gitdir:"))?.trim();
    let dir = root.join(target);
    // A linked worktree keeps its config in the common directory.
    match read_small(&dir.join("commondir")) {
        Some(common) => Some(dir.join(common.trim())),
        None => Some(dir),
    }
}

/// A file of git's own (`.git`, `commondir`, `config`) as text: only a regular file (a `.git`
/// that is a FIFO or a link to `/dev/zero` is not git's), and at most 1 MiB.
fn read_small(path: &Path) -> Option<String> {
    if !std::fs::metadata(path).is_ok_and(|m| m.is_file()) {
        return None;
    }
    let bytes = gitops_lint_core::read::regular_file(path, 1 << 20).ok()?;
    String::from_utf8(bytes).ok()
}

/// The `url` of every `[remote "..."]` section of a git config file, as [`same_repo_key`]s.
fn remote_keys(config: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut in_remote = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_remote = line.starts_with("[remote ");
            continue;
        }
        if !in_remote {
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            if name.trim() == "url" {
                let key = same_repo_key(value.trim().trim_matches('"'));
                if !key.is_empty() {
                    keys.push(key);
                }
            }
        }
    }
    keys
}

/// The remote keys of the checkout rooted at `root` (none when it is not a checkout's root).
fn remotes_of(root: &Path) -> Vec<String> {
    git_dir(root)
        .and_then(|d| read_small(&d.join("config")))
        .map(|c| remote_keys(&c))
        .unwrap_or_default()
}

fn canonical(p: &PathBuf) -> Option<PathBuf> {
    std::fs::canonicalize(p).ok()
}

impl RepoUrls {
    /// Prepares the lookup for this World and config.
    pub fn new(world: &World, config: &Config) -> Self {
        let roots: Vec<Option<PathBuf>> = world.repos.iter().map(|r| canonical(&r.root)).collect();
        let configured = config
            .repo_urls
            .iter()
            .map(|(key, dir)| {
                let dir = canonical(dir);
                let at = roots
                    .iter()
                    .position(|r| r.is_some() && dir.is_some() && *r == dir);
                (key.clone(), at)
            })
            .collect();
        let names = roots
            .iter()
            .map(|r| {
                r.as_ref()
                    .and_then(|p| p.file_name())
                    .map(|n| n.to_string_lossy().to_ascii_lowercase())
            })
            .collect();
        let remotes = roots
            .iter()
            .map(|r| r.as_deref().map(remotes_of).unwrap_or_default())
            .collect();
        RepoUrls {
            configured,
            names,
            remotes,
        }
    }

    /// The linted repository `url` names, if it names one.
    pub fn local(&self, url: &str) -> Option<usize> {
        if url.contains("{{") {
            return None;
        }
        let key = same_repo_key(url);
        if key.is_empty() {
            return None;
        }
        if !self.configured.is_empty() {
            return self
                .configured
                .iter()
                .find(|(k, _)| *k == key)
                .and_then(|(_, at)| *at);
        }
        if let Some(at) = self.remotes.iter().position(|keys| keys.contains(&key)) {
            return Some(at);
        }
        let last = key.rsplit('/').next()?;
        let mut hits = self
            .names
            .iter()
            .enumerate()
            .filter(|(_, n)| n.as_deref() == Some(last));
        let first = hits.next()?.0;
        hits.next().is_none().then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_remotes_of_a_checkout_root_only() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path().join("checkout");
        std::fs::create_dir_all(root.join(".git")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(root.join("sub")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            root.join(".git/config"),
            "[core]\n\turl = https://nowhere/x\n[remote \"origin\"]\n\turl = git@github.com:Acme/gitops.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[remote \"mirror\"]\n\turl = https://gitlab.example.com/acme/gitops\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            remotes_of(&root),
            vec!["github.com/acme/gitops", "gitlab.example.com/acme/gitops"]
        );
        // A subfolder's paths are relative to the checkout root, not to the subfolder.
        assert!(remotes_of(&root.join("sub")).is_empty());
        // A worktree's `.git` file points at its git dir, whose config is in the common dir.
        let wt = dir.path().join("wt");
        std::fs::create_dir_all(root.join(".git/worktrees/wt")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(root.join(".git/worktrees/wt/commondir"), "../..\n")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir_all(&wt).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            wt.join(".git"),
            format!("gitdir: {}\n", root.join(".git/worktrees/wt").display()),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(remotes_of(&wt).len(), 2);
    }
}
