//! `--fix`: applies the fixes that YAML lints attach to their findings, one at a time, each
//! verified by re-parsing before it is kept, and writes files atomically.
//!
//! A [`FixKind::Preserving`] fix (re-indenting a block) must leave every document loading to
//! exactly the same value. A [`FixKind::Intended`] fix (a folded `- item` becomes its own item,
//! a mis-indented key joins its siblings) must make the file parse at least as well as before
//! and make its finding go away. Anything else is rejected and the finding stays.

use gitops_lint_config::Config;
use gitops_lint_core::source::{FileKind, SourceFile};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use gitops_lint_syntax::lints::YamlOptions;
use gitops_lint_syntax::{placeholder, yaml, Fix, FixKind, IssueEffect, ParseIssue};
use rayon::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// Most fixes tried on one file (each fix re-parses the file; this bounds the work).
const MAX_ATTEMPTS: usize = 200;

/// The change to one file.
#[derive(Debug)]
pub struct FileFix {
    /// Where it is on disk.
    pub path: PathBuf,
    /// The path shown to people.
    pub display: String,
    /// The text before.
    pub before: String,
    /// The text after every accepted fix.
    pub after: String,
    /// Fixes applied, per rule.
    pub applied: BTreeMap<RuleId, usize>,
}

impl FileFix {
    /// A unified diff of the change, with `a/` and `b/` headers like `git diff`.
    pub fn diff(&self) -> String {
        let mut diff = similar::TextDiff::from_lines(&self.before, &self.after)
            .unified_diff()
            .context_radius(3)
            .missing_newline_hint(true)
            .header(
                &format!("a/{}", self.display),
                &format!("b/{}", self.display),
            )
            .to_string();
        if !diff.ends_with('\n') {
            diff.push('\n');
        }
        diff
    }

    /// Writes the new text next to the file, then renames it over the file (keeping its
    /// permissions), so a crash never leaves a half-written manifest.
    pub fn write(&self) -> std::io::Result<()> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from);
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)?;
        tmp.write_all(self.after.as_bytes())?;
        tmp.flush()?;
        if let Ok(meta) = std::fs::metadata(&self.path) {
            std::fs::set_permissions(tmp.path(), meta.permissions())?;
        }
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// Plans the fixes for every YAML file of the World (in parallel); files without any accepted
/// fix are left out. Rules switched off in the config are not fixed.
pub fn plan(world: &World, config: &Config) -> Vec<FileFix> {
    let mut fixes: Vec<FileFix> = world
        .files
        .par_iter()
        .filter(|f| f.kind.is_yaml())
        .filter_map(|file| fix_file(world, file, config))
        .collect();
    fixes.sort_by(|a, b| a.display.cmp(&b.display));
    fixes
}

/// Plans the fixes for one file of the World (the language server's code action); `None` when
/// it is not YAML or no fix is accepted.
pub fn plan_file(
    world: &World,
    file: gitops_lint_core::source::FileId,
    config: &Config,
) -> Option<FileFix> {
    let file = world.files.get(file.0 as usize)?;
    if !file.kind.is_yaml() {
        return None;
    }
    fix_file(world, file, config)
}

fn options_for(kind: FileKind, config: &Config) -> YamlOptions {
    gitops_lint_model::load::yaml_options_for(kind, config)
}

/// What the parser makes of a text: documents and issues (placeholders masked for templates).
fn parse(text: &str, kind: FileKind, options: &YamlOptions) -> (Vec<Value>, Vec<ParseIssue>) {
    let loaded = if kind == FileKind::TierTemplate {
        yaml::load_with(&placeholder::mask(text), options)
    } else {
        yaml::load_with(text, options)
    };
    (
        loaded.docs.into_iter().map(|d| d.value).collect(),
        loaded.issues,
    )
}

/// Issues that mean the file does not parse.
fn breakage(issues: &[ParseIssue]) -> usize {
    issues
        .iter()
        .filter(|i| i.rule == RuleId::YAML_SYNTAX || i.effect == IssueEffect::StopsParsing)
        .count()
}

fn apply(text: &str, fix: &Fix) -> Option<String> {
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|e| (e.0, e.1));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, replacement) in &edits {
        if *start < at || *end < *start || *end > text.len() {
            return None;
        }
        out.push_str(text.get(at..*start)?);
        out.push_str(replacement);
        at = *end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

fn fix_file(world: &World, file: &SourceFile, config: &Config) -> Option<FileFix> {
    let options = options_for(file.kind, config);
    let enabled = |rule: &str| config.is_enabled(rule);
    let mut text = file.text.clone();
    let (mut docs, mut issues) = parse(&text, file.kind, &options);
    let mut applied: BTreeMap<RuleId, usize> = BTreeMap::new();
    // Fixes that failed verification, by (rule, line text): never retried.
    let mut rejected: Vec<(RuleId, String)> = Vec::new();
    for _ in 0..MAX_ATTEMPTS {
        let line_of = |text: &str, i: &ParseIssue| {
            let start = text[..i.start.min(text.len())]
                .rfind('\n')
                .map_or(0, |n| n + 1);
            let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
            text[start..end].to_string()
        };
        let candidate = issues.iter().find(|i| {
            i.fix.is_some()
                && enabled(&i.rule)
                && !rejected.contains(&(i.rule.clone(), line_of(&text, i)))
        });
        let Some(issue) = candidate else {
            break;
        };
        let (rule, key) = (issue.rule.clone(), line_of(&text, issue));
        let Some(new_text) = issue.fix.as_ref().and_then(|f| apply(&text, f)) else {
            rejected.push((rule, key));
            continue;
        };
        let kind = issue.fix.as_ref().map_or(FixKind::Preserving, |f| f.kind);
        let before_count = issues.iter().filter(|i| i.rule == rule).count();
        let (new_docs, new_issues) = parse(&new_text, file.kind, &options);
        let after_count = new_issues.iter().filter(|i| i.rule == rule).count();
        // Every fix must make its own rule report less and never break parsing; a
        // preserving one must also leave every document's value untouched.
        let ok = breakage(&new_issues) <= breakage(&issues)
            && after_count < before_count
            && (kind == FixKind::Intended || new_docs == docs);
        if !ok {
            rejected.push((rule, key));
            continue;
        }
        *applied.entry(rule.clone()).or_insert(0) += 1;
        text = new_text;
        docs = new_docs;
        issues = new_issues;
    }
    if applied.is_empty() {
        return None;
    }
    let repo = world.repos.get(file.repo)?;
    Some(FileFix {
        path: repo.root.join(&file.rel_path),
        display: file.display.clone(),
        before: file.text.clone(),
        after: text,
        applied,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_overlaps_are_refused() {
        let fix = Fix {
            kind: FixKind::Preserving,
            edits: vec![(4, 4, "  ".into()), (0, 0, "  ".into())],
        };
        assert_eq!(apply("abc\ndef\n", &fix).as_deref(), Some("  abc\n  def\n"));
        let overlapping = Fix {
            kind: FixKind::Preserving,
            edits: vec![(0, 3, String::new()), (1, 2, String::new())],
        };
        assert_eq!(apply("abc", &overlapping), None);
    }
}
