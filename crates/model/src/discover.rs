//! Walks each repository once and classifies every file by its path.
//!
//! The gate sees what git deploys: Argo CD and Flux read a commit, so in a git checkout every
//! tracked file is listed whatever `.gitignore` says (a `.gitignore` cannot hide a manifest
//! from the gate). Ignore rules (`.gitignore`, the checkout's `info/exclude`, and `.ignore`
//! when `dotIgnore` is on) only hide untracked files. Outside a checkout, or when `git` cannot
//! run, every file but `.git` is listed, less what `.gitignore` (and, opted in, `.ignore`)
//! hides. Symbolic links are never followed; FIFOs, sockets and devices are never opened; a
//! directory that cannot be listed is reported, and the walk goes on. Ignore files are read
//! only when they are regular files within `limits.fileBytes`.

use gitops_lint_core::read::{self, ReadError};
use gitops_lint_core::source::FileKind;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::rc::Rc;

/// How to walk a repository (from the config).
#[derive(Clone, Copy, Debug)]
pub struct WalkOptions {
    /// `dotIgnore`: `.ignore` files hide untracked files too.
    pub dot_ignore: bool,
    /// `limits.fileBytes`: the largest ignore file read.
    pub file_bytes: u64,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            dot_ignore: false,
            file_bytes: gitops_lint_config::Limits::default().file_bytes,
        }
    }
}

impl WalkOptions {
    /// The options a config sets.
    pub fn from_config(config: &gitops_lint_config::Config) -> Self {
        WalkOptions {
            dot_ignore: config.dot_ignore,
            file_bytes: config.limits.file_bytes,
        }
    }
}

/// Why an entry of the tree is not read like a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A FIFO, socket or device (what it is): never opened.
    Special(&'static str),
    /// What cannot be read (`directory`, or `entry` when even its type cannot be read), and
    /// the OS error.
    Unreadable(&'static str, String),
    /// An ignore file larger than `limits.fileBytes` (its size): not read, so its rules do not
    /// apply.
    IgnoreFileTooBig(u64),
}

/// One file found by the walk.
#[derive(Clone, Debug)]
pub struct FoundFile {
    /// Absolute (or as-given) path to read.
    pub path: PathBuf,
    /// Path relative to the repository root, `/`-separated.
    pub rel_path: String,
    /// Its classification (`Other` for an entry with a [`Problem::Special`] or
    /// [`Problem::Unreadable`]).
    pub kind: FileKind,
    /// Why it is not read like a file, if so.
    pub problem: Option<Problem>,
}

impl FoundFile {
    /// Whether this is a file of the tree (a regular file, read or not), as opposed to an
    /// entry that is only reported (a FIFO, a directory that cannot be listed).
    pub fn is_file(&self) -> bool {
        !matches!(
            self.problem,
            Some(Problem::Special(_) | Problem::Unreadable(..))
        )
    }
}

/// What the walk of one repository yields.
#[derive(Clone, Debug, Default)]
pub struct Walked {
    /// Every file, and every entry reported instead of read, sorted by relative path.
    pub files: Vec<FoundFile>,
    /// Every directory below the root (relative, `/`-separated, root excluded), sorted.
    pub dirs: BTreeSet<String>,
}

/// The paths git tracks below a root, relative to it (git's bytes, `/`-separated).
struct Tracked {
    files: HashSet<Vec<u8>>,
    /// Every folder that holds a tracked path (the root is `b""`).
    dirs: HashSet<Vec<u8>>,
}

impl Tracked {
    /// Parses `git ls-files -z` output.
    fn parse(listed: &[u8]) -> Tracked {
        let mut files = HashSet::new();
        let mut dirs = HashSet::new();
        dirs.insert(Vec::new());
        for path in listed.split(|b| *b == 0).filter(|p| !p.is_empty()) {
            let mut end = path.len();
            while let Some(slash) = path[..end].iter().rposition(|b| *b == b'/') {
                if !dirs.insert(path[..slash].to_vec()) {
                    break;
                }
                end = slash;
            }
            // Unmerged paths are listed once per stage; the set keeps one.
            files.insert(path.to_vec());
        }
        Tracked { files, dirs }
    }
}

/// What git tracks, asked in the background: `git ls-files` runs while the walk lists folders,
/// and the walk waits for it only when an ignore rule matches or a folder holds a `.git` (a
/// checkout where nothing is ignored never waits).
enum Git {
    /// Not in a checkout, or git could not say: nothing is tracked.
    Absent,
    Asking(std::thread::JoinHandle<Option<Tracked>>),
    Known(Tracked),
}

impl Git {
    /// Starts `git -C root ls-files -z --cached`, with the file-system monitor off (a
    /// repository's config must not make the linter run a program).
    fn ask(root: &Path) -> Git {
        let child = Command::new("git")
            .arg("-C")
            .arg(root)
            .args(["-c", "core.fsmonitor=false", "ls-files", "-z", "--cached"])
            .env("GIT_OPTIONAL_LOCKS", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let Ok(child) = child else {
            return Git::Absent;
        };
        // A thread drains the output, so git never waits on a full pipe.
        Git::Asking(std::thread::spawn(move || {
            let out = child.wait_with_output().ok()?;
            // Git fails outside a work tree, or in a repository it refuses (`safe.directory`).
            out.status.success().then(|| Tracked::parse(&out.stdout))
        }))
    }

    fn tracked(&mut self) -> Option<&Tracked> {
        if matches!(self, Git::Asking(_)) {
            let Git::Asking(handle) = std::mem::replace(self, Git::Absent) else {
                return None;
            };
            if let Ok(Some(tracked)) = handle.join() {
                *self = Git::Known(tracked);
            }
        }
        match self {
            Git::Known(tracked) => Some(tracked),
            _ => None,
        }
    }

    /// Whether git tracks the file (or gitlink) `rel`.
    fn tracks(&mut self, rel: &[u8]) -> bool {
        self.tracked().is_some_and(|t| t.files.contains(rel))
    }

    /// Whether git tracks something below the folder `rel`.
    fn tracks_below(&mut self, rel: &[u8]) -> bool {
        self.tracked().is_some_and(|t| t.dirs.contains(rel))
    }
}

/// The rules of one ignore file, and how to make a walk-relative path relative to its folder.
struct Rules {
    matcher: Gitignore,
    /// Bytes of the walk-relative path to drop (the folder's own path and its `/`).
    strip: usize,
    /// Bytes to put before it (for a folder above the root: the root's path from there).
    prepend: Vec<u8>,
}

impl Rules {
    fn matched(&self, rel: &[u8], is_dir: bool) -> Match<()> {
        let own: Vec<u8>;
        let path = if self.prepend.is_empty() {
            rel.get(self.strip..).unwrap_or_default()
        } else {
            own = [self.prepend.as_slice(), rel].concat();
            &own
        };
        match self.matcher.matched(read::bytes_path(path), is_dir) {
            Match::None => Match::None,
            Match::Ignore(_) => Match::Ignore(()),
            Match::Whitelist(_) => Match::Whitelist(()),
        }
    }
}

/// The ignore rules in force in one folder: deepest first, `.ignore` before `.gitignore`
/// (ripgrep's `ignore` crate gives `.ignore` precedence the same way).
#[derive(Default)]
struct Chain {
    dot_ignore: Vec<Rc<Rules>>,
    git_ignore: Vec<Rc<Rules>>,
}

impl Chain {
    fn is_ignored(&self, rel: &[u8], is_dir: bool) -> bool {
        for rules in self.dot_ignore.iter().chain(&self.git_ignore) {
            match rules.matched(rel, is_dir) {
                Match::None => continue,
                Match::Ignore(()) => return true,
                Match::Whitelist(()) => return false,
            }
        }
        false
    }

    fn is_empty(&self) -> bool {
        self.dot_ignore.is_empty() && self.git_ignore.is_empty()
    }
}

/// Builds the rules of an ignore file's bytes.
fn rules_of(text: &[u8], strip: usize, prepend: Vec<u8>) -> Option<Rc<Rules>> {
    // Rooted at `.` so that the matcher does not strip anything: paths are given relative to
    // the ignore file's folder (see `Rules::matched`).
    let mut builder = GitignoreBuilder::new(".");
    for line in String::from_utf8_lossy(text).lines() {
        let _ = builder.add_line(None, line);
    }
    let matcher = builder.build().ok()?;
    (!matcher.is_empty()).then(|| {
        Rc::new(Rules {
            matcher,
            strip,
            prepend,
        })
    })
}

/// Reads an ignore file if it is a regular file within the budget. Git itself does not follow
/// a symbolic link for `.gitignore` (git `dir.c`, `add_patterns`, since 2.32), and a FIFO is
/// never opened.
fn read_ignore_file(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, u64> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        _ => return Ok(None),
    }
    match read::regular_file(path, limit) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ReadError::TooBig(size)) => Err(size),
        Err(_) => Ok(None),
    }
}

/// The top of the git checkout `root` lies in (the nearest folder, `root` included, holding a
/// `.git`), and the rules from above the root: each folder's `.gitignore` from the root's
/// parent up to the top (deepest first), then the checkout's `info/exclude`. Only stats and
/// small regular-file reads: git is not run for this.
fn checkout_rules(root: &Path, options: &WalkOptions) -> Option<Vec<Rc<Rules>>> {
    let canonical = std::fs::canonicalize(root).ok()?;
    let top = canonical.ancestors().find(|d| d.join(".git").exists())?;
    let inside: Vec<Vec<u8>> = canonical
        .strip_prefix(top)
        .map(|r| {
            r.components()
                .map(|c| read::name_bytes(c.as_os_str()).into_owned())
                .collect()
        })
        .unwrap_or_default();
    let mut outer = Vec::new();
    for depth in (0..inside.len()).rev() {
        let folder = inside[..depth]
            .iter()
            .fold(top.to_path_buf(), |p, c| p.join(read::bytes_path(c)));
        let mut prepend = inside[depth..].join(&b'/');
        prepend.push(b'/');
        if let Ok(Some(text)) = read_ignore_file(&folder.join(".gitignore"), options.file_bytes) {
            outer.extend(rules_of(&text, 0, prepend));
        }
    }
    let exclude = crate::repo_urls::git_dir(top).map(|d| d.join("info/exclude"));
    if let Some(Ok(Some(text))) = exclude.map(|e| read_ignore_file(&e, options.file_bytes)) {
        let mut prepend = inside.join(&b'/');
        if !prepend.is_empty() {
            prepend.push(b'/');
        }
        outer.extend(rules_of(&text, 0, prepend));
    }
    Some(outer)
}

/// A folder waiting to be listed.
struct Pending {
    path: PathBuf,
    /// Relative to the root, `/`-separated bytes (empty for the root).
    rel: Vec<u8>,
    chain: Rc<Chain>,
    /// The folder is ignored: only what git tracks below it is listed.
    ignored: bool,
}

/// Turns a walk-relative byte path into the text every later stage uses.
fn rel_text(rel: &[u8]) -> String {
    String::from_utf8_lossy(rel).into_owned()
}

/// Walks `root`. Nothing in the tree stops the walk: what cannot be read is listed with its
/// [`Problem`].
pub fn walk(root: &Path, options: &WalkOptions) -> Walked {
    // In a checkout, ask git what it tracks (in the background) while the walk starts.
    let outer = checkout_rules(root, options);
    let mut git = match outer {
        Some(_) => Git::ask(root),
        None => Git::Absent,
    };
    let outer = Chain {
        dot_ignore: Vec::new(),
        git_ignore: outer.unwrap_or_default(),
    };
    let mut found: Vec<(PathBuf, Vec<u8>, Option<Problem>)> = Vec::new();
    let mut dirs = BTreeSet::new();
    let mut stack = vec![Pending {
        path: root.to_path_buf(),
        rel: Vec::new(),
        chain: Rc::new(outer),
        ignored: false,
    }];
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir.path) {
            Ok(entries) => entries,
            Err(e) => {
                let problem = Problem::Unreadable("directory", e.to_string());
                found.push((dir.path, dir.rel, Some(problem)));
                continue;
            }
        };
        let mut listed = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => listed.push(entry),
                Err(e) => {
                    found.push((
                        dir.path.clone(),
                        dir.rel.clone(),
                        Some(Problem::Unreadable("directory", e.to_string())),
                    ));
                    break;
                }
            }
        }
        // A folder holding a `.git` that git tracks is a gitlink: a submodule's checkout, which
        // is another repository.
        if !dir.rel.is_empty()
            && listed.iter().any(|e| e.file_name() == ".git")
            && git.tracks(&dir.rel)
        {
            continue;
        }
        let join = |name: &[u8]| -> Vec<u8> {
            if dir.rel.is_empty() {
                name.to_vec()
            } else {
                [dir.rel.as_slice(), b"/", name].concat()
            }
        };
        // This folder's own ignore files come first: they rule on its other entries.
        let mut chain = Rc::clone(&dir.chain);
        let mut ignore_file_problems = Vec::new();
        if !dir.ignored {
            let strip = if dir.rel.is_empty() {
                0
            } else {
                dir.rel.len() + 1
            };
            let mut own = Chain::default();
            for (name, wanted) in [(".ignore", options.dot_ignore), (".gitignore", true)] {
                if !wanted || !listed.iter().any(|e| e.file_name() == name) {
                    continue;
                }
                match read_ignore_file(&dir.path.join(name), options.file_bytes) {
                    Ok(Some(text)) => {
                        let rules = rules_of(&text, strip, Vec::new());
                        if name == ".ignore" {
                            own.dot_ignore.extend(rules);
                        } else {
                            own.git_ignore.extend(rules);
                        }
                    }
                    Ok(None) => {}
                    Err(size) => ignore_file_problems.push((join(name.as_bytes()), size)),
                }
            }
            if !own.is_empty() {
                own.dot_ignore.extend(chain.dot_ignore.iter().cloned());
                own.git_ignore.extend(chain.git_ignore.iter().cloned());
                chain = Rc::new(own);
            }
        }
        for entry in listed {
            let name = entry.file_name();
            if name == ".git" {
                continue;
            }
            let rel = join(&read::name_bytes(&name));
            let path = entry.path();
            let file_type = match entry.file_type() {
                Ok(t) => t,
                Err(e) => {
                    let problem = Problem::Unreadable("entry", e.to_string());
                    found.push((path, rel, Some(problem)));
                    continue;
                }
            };
            // Ignore rules hide only what git does not track (git is asked only then).
            if file_type.is_dir() {
                let ignored = dir.ignored || chain.is_ignored(&rel, true);
                if ignored && !git.tracks_below(&rel) {
                    continue;
                }
                dirs.insert(rel_text(&rel));
                stack.push(Pending {
                    path,
                    rel,
                    chain: Rc::clone(&chain),
                    ignored,
                });
                continue;
            }
            if file_type.is_symlink() {
                // Never followed nor read: it could point out of the repository.
                continue;
            }
            if (dir.ignored || chain.is_ignored(&rel, false)) && !git.tracks(&rel) {
                continue;
            }
            let problem = match read::special_kind(&file_type) {
                Some(what) => Some(Problem::Special(what)),
                None => ignore_file_problems
                    .iter()
                    .find(|(r, _)| *r == rel)
                    .map(|(_, size)| Problem::IgnoreFileTooBig(*size)),
            };
            found.push((path, rel, problem));
        }
    }
    // An answer never needed is not waited for: the thread reaps git when it ends.
    drop(git);
    found.sort_by(|a, b| a.1.cmp(&b.1));
    let paths: Vec<(PathBuf, String, Option<Problem>)> = found
        .into_iter()
        .map(|(path, rel, problem)| (path, rel_text(&rel), problem))
        .collect();
    let chart_dirs: HashSet<String> = paths
        .iter()
        .filter(|(_, _, problem)| problem.is_none())
        .filter_map(|(_, rel, _)| {
            let (dir, name) = split_dir(rel);
            (name == "Chart.yaml").then(|| dir.to_string())
        })
        .collect();
    let files = paths
        .into_iter()
        .map(|(path, rel_path, problem)| FoundFile {
            kind: match problem {
                Some(Problem::Special(_) | Problem::Unreadable(..)) => FileKind::Other,
                _ => classify(&rel_path, &chart_dirs),
            },
            path,
            rel_path,
            problem,
        })
        .collect();
    Walked { files, dirs }
}

/// `a/b/c.yaml` -> (`a/b`, `c.yaml`); `c.yaml` -> (``, `c.yaml`).
pub fn split_dir(rel: &str) -> (&str, &str) {
    match rel.rfind('/') {
        Some(i) => (&rel[..i], &rel[i + 1..]),
        None => ("", rel),
    }
}

/// Decides what a file is from its path and the set of Helm chart directories.
pub fn classify(rel: &str, chart_dirs: &HashSet<String>) -> FileKind {
    let (dir, name) = split_dir(rel);
    let ext = name.rsplit_once('.').map_or("", |(_, e)| e);
    if ext == "tf" {
        return FileKind::Terraform;
    }
    if name == "tenants.json" || name.ends_with(".tfvars.json") {
        return FileKind::Json;
    }
    // Our own config is read by `config`, with its own validation; linting it as a manifest
    // would flag its YAML 1.1 `off` values.
    if ext != "yaml" && ext != "yml" || name == gitops_lint_config::FILE_NAME {
        return FileKind::Other;
    }
    // Gitea and Forgejo Actions read the GitHub workflow syntax (nektos/act, go-yaml v3).
    let (parent, last) = split_dir(dir);
    if last == "workflows" && matches!(split_dir(parent).1, ".github" | ".gitea" | ".forgejo") {
        return FileKind::Workflow;
    }
    if is_tool_config(dir, name) {
        return FileKind::ToolConfig;
    }
    if in_chart_templates(dir, chart_dirs) {
        return FileKind::ChartTemplate;
    }
    if chart_dirs.contains(dir) && name.starts_with("values") {
        return FileKind::ChartValues;
    }
    if matches!(
        name,
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    ) {
        return FileKind::Kustomization;
    }
    // A `templates/` folder outside a chart holds what onboarding renders
    // (`sed ... templates/tenant.yaml > tenants/...`): templates, not deployed files.
    if dir == "tier-templates"
        || dir.ends_with("/tier-templates")
        || name.contains("_template.")
        || dir.split('/').any(|s| s == "templates")
    {
        return FileKind::TierTemplate;
    }
    FileKind::Manifest
}

/// Files other programs read, by their conventional names and folders: CI systems other than
/// the Actions family, and repository tools. Their YAML is not Kubernetes YAML.
fn is_tool_config(dir: &str, name: &str) -> bool {
    const NAMES: &[&str] = &[
        ".gitlab-ci.yml",
        ".gitlab-ci.yaml",
        ".drone.yml",
        ".drone.yaml",
        "codefresh.yml",
        "codefresh.yaml",
        "bitbucket-pipelines.yml",
        "azure-pipelines.yml",
        "azure-pipelines.yaml",
        ".travis.yml",
        "dependabot.yml",
        "dependabot.yaml",
        ".pre-commit-config.yaml",
        ".pre-commit-config.yml",
        ".pre-commit-hooks.yaml",
        "codecov.yml",
        "codecov.yaml",
        ".codecov.yml",
        "mkdocs.yml",
        "mkdocs.yaml",
        ".yamllint",
        ".yamllint.yml",
        ".yamllint.yaml",
        ".golangci.yml",
        ".golangci.yaml",
        ".goreleaser.yml",
        ".goreleaser.yaml",
        ".sops.yaml",
        ".sops.yml",
        "renovate.yaml",
        ".markdownlint.yaml",
        ".markdownlint.yml",
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yml",
        "compose.yaml",
        "action.yml",
        "action.yaml",
    ];
    const DIRS: &[&str] = &[
        ".gitlab",
        ".buildkite",
        ".circleci",
        ".github",
        ".woodpecker",
    ];
    NAMES.contains(&name) || dir.split('/').any(|segment| DIRS.contains(&segment))
}

/// Whether `dir` is a chart's `templates/` folder or below it.
fn in_chart_templates(dir: &str, chart_dirs: &HashSet<String>) -> bool {
    let mut rest = dir;
    loop {
        let (parent, name) = split_dir(rest);
        if name == "templates" && chart_dirs.contains(parent) {
            return true;
        }
        if parent.is_empty() {
            return false;
        }
        rest = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_the_seed_layout() {
        let charts: HashSet<String> = ["helm-charts/helm-tenant-chart".to_string()].into();
        let c = |p| classify(p, &charts);
        assert_eq!(c("tenants/premium/tenant-1.yaml"), FileKind::Manifest);
        assert_eq!(
            c("tier-templates/premium_tenant_template.yaml"),
            FileKind::TierTemplate
        );
        assert_eq!(
            c("helm-charts/helm-tenant-chart/templates/sa.yaml"),
            FileKind::ChartTemplate
        );
        assert_eq!(
            c("helm-charts/helm-tenant-chart/values.yaml"),
            FileKind::ChartValues
        );
        assert_eq!(c("tenants/kustomization.yaml"), FileKind::Kustomization);
        assert_eq!(c(".github/workflows/onboard.yml"), FileKind::Workflow);
        assert_eq!(c("svc/.gitea/workflows/build.yml"), FileKind::Workflow);
        assert_eq!(c(".forgejo/workflows/mirror.yaml"), FileKind::Workflow);
        assert_eq!(c(".gitlab-ci.yml"), FileKind::ToolConfig);
        assert_eq!(c("templates/tenant.yaml"), FileKind::TierTemplate);
        assert_eq!(c(".github/dependabot.yml"), FileKind::ToolConfig);
        assert_eq!(c("docs/mkdocs.yml"), FileKind::ToolConfig);
        assert_eq!(c(".buildkite/pipeline.yml"), FileKind::ToolConfig);
        assert_eq!(c("apps/codecov/deployment.yaml"), FileKind::Manifest);
        assert_eq!(c("envs/prd/main.tf"), FileKind::Terraform);
        assert_eq!(c("envs/prd/tenants.json"), FileKind::Json);
        assert_eq!(c("README.md"), FileKind::Other);
    }
}
