//! Hover on a diagnostic: the finding's message and its rule's page (the catalog embeds every
//! `rules/**/*.md`), so the why and the fix are one mouse move away.

use gitops_lint_core::catalog;
use gitops_lint_core::finding::Finding;
use gitops_lint_core::source::FileId;

/// The Markdown for the findings whose primary span in `file` covers byte `at` (an empty
/// span covers its own offset), and the byte range of the first one; `None` when there is
/// none. Each rule's page is shown once, without its front matter.
pub fn rule_hover(
    findings: &[Finding],
    file: FileId,
    at: usize,
) -> Option<(String, std::ops::Range<usize>)> {
    let here: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            let s = f.primary.resolved_span();
            s.file == file && s.start <= at && (at < s.end || at == s.start)
        })
        .collect();
    let first = here.first()?.primary.resolved_span();
    let mut out = String::new();
    let mut shown: Vec<&str> = Vec::new();
    for f in &here {
        if !out.is_empty() {
            out.push_str("\n\n---\n\n");
        }
        out.push_str(&format!("**{}** ({}): {}", f.rule, f.level, f.message));
        if shown.contains(&f.rule.as_str()) {
            continue;
        }
        shown.push(f.rule.as_str());
        if let Some(page) = catalog::page(&f.rule) {
            out.push_str("\n\n");
            out.push_str(body(page.text).trim());
        }
    }
    Some((out, first.start..first.end))
}

/// A page without its `---` front matter.
fn body(page: &str) -> &str {
    page.strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|end| &rest[end + 5..]))
        .unwrap_or(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::finding::Location;
    use gitops_lint_core::source::Span;
    use gitops_lint_core::RuleId;

    #[test]
    fn hover_shows_the_page_once_without_front_matter() {
        let at = |start, end| {
            Location::Span(Span {
                file: FileId(0),
                start,
                end,
            })
        };
        let findings = vec![
            Finding::new(RuleId::IRSA_TRUST_MISMATCH, "first", at(10, 20)),
            Finding::new(RuleId::IRSA_TRUST_MISMATCH, "second", at(12, 14)),
        ];
        let (md, range) = rule_hover(&findings, FileId(0), 13).unwrap_or_default();
        assert_eq!(range, 10..20);
        assert!(md.starts_with("**irsa/trust-mismatch** (error): first"));
        assert!(md.contains("second"));
        assert_eq!(md.matches("## What it checks").count(), 1);
        assert!(!md.contains("since:"));
        assert!(rule_hover(&findings, FileId(0), 20).is_none());
        assert!(rule_hover(&findings, FileId(1), 13).is_none());
    }
}
