//! Walks each repository once (honouring `.gitignore`, skipping `.git`, never following
//! symlinks) and classifies every file by its path.

use gitops_lint_core::source::FileKind;
use ignore::WalkBuilder;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// One file found by the walk.
#[derive(Clone, Debug)]
pub struct FoundFile {
    /// Absolute (or as-given) path to read.
    pub path: PathBuf,
    /// Path relative to the repository root, `/`-separated.
    pub rel_path: String,
    /// Its classification.
    pub kind: FileKind,
}

/// What the walk of one repository yields.
#[derive(Clone, Debug, Default)]
pub struct Walked {
    /// Every file, sorted by relative path.
    pub files: Vec<FoundFile>,
    /// Every directory below the root (relative, `/`-separated, root excluded), sorted.
    pub dirs: BTreeSet<String>,
}

/// Walks `root`. Errors on single entries (permissions, races) are skipped, not fatal.
pub fn walk(root: &Path) -> Walked {
    let mut paths = Vec::new();
    let mut dirs = BTreeSet::new();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .follow_links(false)
        .require_git(false)
        .git_global(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker.flatten() {
        let Some(ft) = entry.file_type() else {
            continue;
        };
        let rel = match entry.path().strip_prefix(root) {
            Ok(r) => r.to_string_lossy().replace('\\', "/"),
            Err(_) => continue,
        };
        if rel.is_empty() {
            continue;
        }
        if ft.is_dir() {
            dirs.insert(rel);
        } else if ft.is_file() {
            paths.push((entry.path().to_path_buf(), rel));
        }
        // Symlinks are neither followed nor read: they could point out of the repository.
    }
    paths.sort_by(|a, b| a.1.cmp(&b.1));
    let chart_dirs: HashSet<String> = paths
        .iter()
        .filter_map(|(_, rel)| {
            let (dir, name) = split_dir(rel);
            (name == "Chart.yaml").then(|| dir.to_string())
        })
        .collect();
    let files = paths
        .into_iter()
        .map(|(path, rel_path)| FoundFile {
            kind: classify(&rel_path, &chart_dirs),
            path,
            rel_path,
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
