//! The `appset` view: the Applications each ApplicationSet generates from this checkout, as YAML
//! documents, like `argocd appset generate` but offline; findings about the expansion are
//! listed as comments so the output alone explains an empty or partial result.

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::RuleId;
use gitops_lint_gotemplate::yaml_out::to_yaml_document as to_yaml;
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Renders the generated Applications of the ApplicationSets in files whose repository-relative
/// or displayed path is in `only` (every ApplicationSet when `only` is empty).
pub fn render(world: &World, findings: &[Finding], only: &[String]) -> String {
    let mut out = String::new();
    for at in world.kind("ApplicationSet") {
        let file = world.file(at.file);
        if !only.is_empty()
            && !only
                .iter()
                .any(|p| *p == file.rel_path || *p == file.display)
        {
            continue;
        }
        let name = world
            .doc(*at)
            .and_then(|d| d.value.lookup("/metadata/name"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let apps: Vec<_> = world.generated.iter().filter(|g| g.appset == *at).collect();
        let _ = writeln!(
            out,
            "# ApplicationSet `{name}` ({}): {} Application{}",
            file.display,
            apps.len(),
            if apps.len() == 1 { "" } else { "s" }
        );
        let doc_end = world
            .yaml
            .get(at.file.0 as usize)
            .and_then(|docs| docs.get(at.doc + 1))
            .map_or(usize::MAX, |d| d.start);
        let doc_start = world.doc(*at).map_or(0, |d| d.start);
        for f in findings {
            let Location::Span(span) = f.primary else {
                continue;
            };
            if span.file != at.file
                || span.start < doc_start
                || span.start >= doc_end
                || !about_expansion(f)
            {
                continue;
            }
            let (line, _) = file.line_col(span.start);
            let _ = writeln!(out, "# {}[{}] line {line}: {}", f.level, f.rule, f.message);
        }
        for app in apps {
            let _ = writeln!(out, "---\n# generated for {}", app.element);
            out.push_str(&to_yaml(&app.value));
        }
        out.push('\n');
    }
    if out.is_empty() {
        let what = if only.is_empty() {
            "these repositories".to_string()
        } else {
            only.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(out, "# no ApplicationSet in {what}");
    }
    out
}

/// Whether a finding is about an expansion: an `argocd/appset-*` rule, or a budget the
/// expansion ran out of (then the set is not expanded).
fn about_expansion(f: &Finding) -> bool {
    f.rule.starts_with("argocd/appset-") || f.rule == RuleId::GITOPS_BUDGET_EXCEEDED
}

/// Whether an error-level finding about the expansion concerns the shown ApplicationSets (the
/// set is refused, or generates nothing or not what was meant, or was not expanded).
pub fn has_errors(world: &World, findings: &[Finding], only: &[String]) -> bool {
    findings.iter().any(|f| {
        let file = world.file(f.primary.file());
        f.level == gitops_lint_core::finding::Level::Error
            && about_expansion(f)
            && world
                .kind("ApplicationSet")
                .iter()
                .any(|a| a.file == file.id)
            && (only.is_empty() || only.contains(&file.rel_path))
    })
}

/// The repository root for `appset FILE`: the nearest directory above the first file named like
/// a `repoURL` in it, else the nearest holding `.git` or `.gitops-lint.yaml`.
pub fn guess_root(files: &[PathBuf]) -> Result<PathBuf, crate::Error> {
    let first = files
        .first()
        .ok_or_else(|| crate::Error::Usage("give an ApplicationSet file".into()))?;
    let text = std::fs::read_to_string(first)
        .map_err(|e| crate::Error::Usage(format!("cannot read `{}`: {e}", first.display())))?;
    let names: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").strip_prefix("repoURL:"))
        .filter_map(|u| {
            let u = u.trim().trim_matches(['"', '\'']);
            let u = u.trim_end_matches('/').trim_end_matches(".git");
            u.rsplit(['/', ':']).next().map(str::to_string)
        })
        .filter(|n| !n.is_empty())
        .collect();
    let absolute = std::fs::canonicalize(first)
        .map_err(|e| crate::Error::Usage(format!("cannot read `{}`: {e}", first.display())))?;
    let relative_parent = |dir: &Path| -> PathBuf {
        // Keep the user's spelling: climb `first` as many levels as `dir` is above it.
        let up = absolute.ancestors().position(|a| a == dir).unwrap_or(1);
        let mut p = first.clone();
        for _ in 0..up {
            p = p.parent().map(Path::to_path_buf).unwrap_or_default();
        }
        if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p
        }
    };
    for dir in absolute.ancestors().skip(1) {
        if dir
            .file_name()
            .is_some_and(|n| names.iter().any(|x| n == x.as_str()))
        {
            return Ok(relative_parent(dir));
        }
    }
    for dir in absolute.ancestors().skip(1) {
        if dir.join(".git").exists() || dir.join(gitops_lint_config::FILE_NAME).is_file() {
            return Ok(relative_parent(dir));
        }
    }
    Err(crate::Error::Usage(format!(
        "cannot tell which repository `{}` belongs to; give it with `--root DIR`",
        first.display()
    )))
}

/// The files as repository-relative paths below `root`.
pub fn relative_to(root: &Path, files: &[PathBuf]) -> Result<Vec<String>, crate::Error> {
    let root = std::fs::canonicalize(root)
        .map_err(|e| crate::Error::Usage(format!("cannot read `{}`: {e}", root.display())))?;
    files
        .iter()
        .map(|f| {
            let abs = std::fs::canonicalize(f)
                .map_err(|e| crate::Error::Usage(format!("cannot read `{}`: {e}", f.display())))?;
            abs.strip_prefix(&root)
                .map(gitops_lint_core::read::slash_path)
                .map_err(|_| {
                    crate::Error::Usage(format!(
                        "`{}` is not inside the repository root `{}`",
                        f.display(),
                        root.display()
                    ))
                })
        })
        .collect()
}
