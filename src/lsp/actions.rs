//! Code actions: the safe fixes `--fix` would apply to a file, and an inline suppression
//! (`# gitops-lint: ignore[rule-id] reason`, the syntax `gitops_lint_gate::suppress` reads)
//! above a finding's line.

use super::convert;
use gitops_lint_config::Config;
use gitops_lint_core::finding::Finding;
use gitops_lint_core::source::{FileId, FileKind, SourceFile};
use gitops_lint_model::World;
use lsp_types::{
    CodeAction, CodeActionKind, Diagnostic, NumberOrString, TextEdit, Uri, WorkspaceEdit,
};
use std::collections::HashMap;

/// The reason written into a new suppression: a placeholder the user replaces (a suppression
/// must say why; `suppress/missing-reason` reports one that does not).
pub const REASON_PLACEHOLDER: &str = "TODO: say why this is acceptable";

/// The one edit that turns `before` into `after`: the changed middle, between the longest
/// common prefix and suffix (on character boundaries), so the editor keeps the cursor and
/// folds outside it.
pub fn minimal_edit(file: &SourceFile, after: &str) -> TextEdit {
    let before = file.text.as_str();
    let mut prefix = before
        .bytes()
        .zip(after.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !before.is_char_boundary(prefix) || !after.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = (before.len() - prefix).min(after.len() - prefix);
    let mut suffix = before
        .bytes()
        .rev()
        .zip(after.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !before.is_char_boundary(before.len() - suffix)
        || !after.is_char_boundary(after.len() - suffix)
    {
        suffix -= 1;
    }
    TextEdit::new(
        convert::range(file, prefix, before.len() - suffix),
        after[prefix..after.len() - suffix].to_string(),
    )
}

fn edit(uri: &Uri, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..WorkspaceEdit::default()
    }
}

/// Whether a diagnostic is one of ours for `rule`.
fn is_rule(d: &Diagnostic, rule: &str) -> bool {
    d.source.as_deref() == Some("gitops-lint")
        && matches!(&d.code, Some(NumberOrString::String(c)) if c == rule)
}

/// The safe fixes of the file, as one quick fix (the `--fix` plan, each fix verified by
/// re-parsing); `None` when the plan is empty. `diagnostics` are the request's, so the client
/// can tie the action to those it resolves.
pub fn fix_action(
    world: &World,
    config: &Config,
    file: FileId,
    uri: &Uri,
    diagnostics: &[Diagnostic],
) -> Option<CodeAction> {
    let plan = crate::fix::plan_file(world, file, config)?;
    let source = world.files.get(file.0 as usize)?;
    let rules: Vec<String> = plan
        .applied
        .iter()
        .map(|(rule, n)| format!("{rule} x{n}"))
        .collect();
    let resolved: Vec<Diagnostic> = diagnostics
        .iter()
        .filter(|d| plan.applied.keys().any(|rule| is_rule(d, rule)))
        .cloned()
        .collect();
    Some(CodeAction {
        title: format!(
            "gitops-lint: apply the safe fixes in this file ({})",
            rules.join(", ")
        ),
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: (!resolved.is_empty()).then_some(resolved),
        edit: Some(edit(uri, vec![minimal_edit(source, &plan.after)])),
        is_preferred: Some(true),
        ..CodeAction::default()
    })
}

/// One "ignore this rule here" action per rule with a finding whose primary line lies in the
/// byte range `start..=end` of the file: a comment line above it, indented like it. Only YAML
/// and Terraform files have comments the suppression reader looks at (JSON has none).
pub fn ignore_actions(
    world: &World,
    findings: &[Finding],
    file: FileId,
    uri: &Uri,
    (start, end): (usize, usize),
    diagnostics: &[Diagnostic],
) -> Vec<CodeAction> {
    let Some(source) = world.files.get(file.0 as usize) else {
        return Vec::new();
    };
    if !(source.kind.is_yaml() || source.kind == FileKind::Terraform) {
        return Vec::new();
    }
    let first_line = source.line_index(start);
    let last_line = source.line_index(end);
    let mut actions: Vec<CodeAction> = Vec::new();
    let mut seen: Vec<(String, usize)> = Vec::new();
    for f in findings {
        let span = f.primary.resolved_span();
        // Findings about suppressions are fixed by editing the suppression, not by another.
        if span.file != file || f.rule.starts_with("suppress/") {
            continue;
        }
        let line = source.line_index(span.start);
        if line < first_line || line > last_line || seen.contains(&(f.rule.to_string(), line)) {
            continue;
        }
        seen.push((f.rule.to_string(), line));
        let line_start = source.line_start(line);
        let indent: String = source.text[line_start..]
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        let text = format!(
            "{indent}# gitops-lint: ignore[{}] {REASON_PLACEHOLDER}\n",
            f.rule
        );
        let at = convert::range(source, line_start, line_start);
        let resolved: Vec<Diagnostic> = diagnostics
            .iter()
            .filter(|d| is_rule(d, &f.rule) && d.range.start.line as usize == line)
            .cloned()
            .collect();
        actions.push(CodeAction {
            title: format!("gitops-lint: ignore {} on this line", f.rule),
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: (!resolved.is_empty()).then_some(resolved),
            edit: Some(edit(uri, vec![TextEdit::new(at, text)])),
            ..CodeAction::default()
        });
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::source::FileKind;

    #[test]
    fn the_edit_covers_only_the_change() {
        let file = SourceFile::new(
            FileId(0),
            0,
            "a.yaml".into(),
            "a.yaml".into(),
            FileKind::Manifest,
            "a:\n   b: 1\nc: é\n".into(),
        );
        let e = minimal_edit(&file, "a:\n  b: 1\nc: é\n");
        assert_eq!(e.new_text, "");
        assert_eq!((e.range.start.line, e.range.start.character), (1, 2));
        assert_eq!((e.range.end.line, e.range.end.character), (1, 3));
        let e = minimal_edit(&file, "a:\n   b: 1\nc: è\n");
        assert_eq!(e.new_text, "è");
        assert_eq!((e.range.start.character, e.range.end.character), (3, 4));
    }
}
