//! Findings to LSP diagnostics: byte offsets to UTF-16 positions (the protocol's default
//! encoding, the only one every client supports), levels to severities, rule pages to links.

use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_core::source::{FileId, SourceFile};
use gitops_lint_model::World;
use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, Uri,
};
use std::path::PathBuf;
use std::str::FromStr;

/// Where rule pages are published: the repository's `rules/<family>/<name>.md` on GitHub, on
/// the main branch (a page's path is its rule id, so the link stays stable as long as the id).
pub const RULE_PAGE_BASE: &str = "https://github.com/acme/gitops-lint/blob/main/";

/// The link to a rule's page (`codeDescription.href`); `None` for a rule without a page (one
/// from a `--policy` package).
pub fn rule_url(rule: &str) -> Option<Uri> {
    let page = gitops_lint_core::catalog::page(rule)?;
    Uri::from_str(&format!("{RULE_PAGE_BASE}{}", page.source)).ok()
}

/// The position of a byte offset in a text whose lines start at `line_starts`: the line, and
/// the UTF-16 code units before the offset on it. An offset inside a character counts from the
/// character's start; one past the end is clamped.
pub fn position(text: &str, line_starts: &[usize], byte: usize) -> Position {
    let mut byte = byte.min(text.len());
    while !text.is_char_boundary(byte) {
        byte -= 1;
    }
    let line = match line_starts.binary_search(&byte) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    };
    let start = line_starts.get(line).copied().unwrap_or(0).min(byte);
    let character = text[start..byte].encode_utf16().count();
    Position::new(line as u32, character as u32)
}

/// The byte offset of an LSP position in `text`: a line past the end is the end of the text, a
/// character past the end of its line is the end of the line (the protocol's rule), and a
/// position inside a surrogate pair is the start of that character.
pub fn offset(text: &str, pos: Position) -> usize {
    let mut start = 0;
    for _ in 0..pos.line {
        match text[start..].find('\n') {
            Some(n) => start += n + 1,
            None => return text.len(),
        }
    }
    let line_end = text[start..].find('\n').map_or(text.len(), |n| start + n);
    let mut units = 0u32;
    for (i, c) in text[start..line_end].char_indices() {
        let next = units + c.len_utf16() as u32;
        if next > pos.character {
            return start + i;
        }
        units = next;
    }
    line_end
}

/// The range of a byte span of a file.
pub fn range(file: &SourceFile, start: usize, end: usize) -> Range {
    Range::new(
        position(&file.text, file.line_starts(), start),
        position(&file.text, file.line_starts(), end.max(start)),
    )
}

/// The path on disk of a World file: its repository root joined with its relative path (the
/// config file, added for suppression findings, carries its own path).
pub fn file_path(world: &World, id: FileId) -> Option<PathBuf> {
    let file = world.files.get(id.0 as usize)?;
    let rel = std::path::Path::new(&file.rel_path);
    if rel.is_absolute() {
        return Some(rel.to_path_buf());
    }
    Some(world.repos.get(file.repo)?.root.join(rel))
}

/// The severity of a level.
pub fn severity(level: Level) -> DiagnosticSeverity {
    match level {
        Level::Error => DiagnosticSeverity::ERROR,
        Level::Warning => DiagnosticSeverity::WARNING,
        Level::Info => DiagnosticSeverity::INFORMATION,
    }
}

/// A resolved finding as a diagnostic of the file its primary location is in, with the URI of
/// that file. Related places (in any file, the other repository included) become related
/// information; the help text follows the message, as in the terminal report.
pub fn diagnostic(world: &World, finding: &Finding) -> Option<(Uri, Diagnostic)> {
    let span = finding.primary.resolved_span();
    let file = world.files.get(span.file.0 as usize)?;
    let uri = super::documents::path_to_uri(&file_path(world, span.file)?)?;
    let related: Vec<DiagnosticRelatedInformation> = finding
        .related
        .iter()
        .filter_map(|r| {
            let s = r.location.resolved_span();
            let f = world.files.get(s.file.0 as usize)?;
            Some(DiagnosticRelatedInformation {
                location: Location::new(
                    super::documents::path_to_uri(&file_path(world, s.file)?)?,
                    range(f, s.start, s.end),
                ),
                message: r.message.clone(),
            })
        })
        .collect();
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let diagnostic = Diagnostic {
        range: range(file, span.start, span.end),
        severity: Some(severity(finding.level)),
        code: Some(NumberOrString::String(finding.rule.to_string())),
        code_description: rule_url(&finding.rule).map(|href| CodeDescription { href }),
        source: Some("gitops-lint".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    };
    Some((uri, diagnostic))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::source::line_starts;

    #[test]
    fn positions_count_utf16_units() {
        // `é` is 2 bytes and 1 unit; `😀` is 4 bytes and 2 units.
        let text = "a: é😀x\nb: 1\n";
        let starts = line_starts(text);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(position(text, &starts, x), Position::new(0, 6));
        assert_eq!(offset(text, Position::new(0, 6)), x);
        // Inside the surrogate pair: the start of the emoji.
        assert_eq!(
            offset(text, Position::new(0, 5)),
            text.find('😀').unwrap_or(0)
        );
        let b = text.find('b').unwrap_or(0);
        assert_eq!(position(text, &starts, b), Position::new(1, 0));
        // Past the end of a line, past the last line.
        assert_eq!(offset(text, Position::new(1, 99)), text.len() - 1);
        assert_eq!(offset(text, Position::new(9, 0)), text.len());
        assert_eq!(position(text, &starts, 999), Position::new(2, 0));
    }

    #[test]
    fn rule_pages_link_to_the_repository() {
        let url = rule_url(gitops_lint_core::RuleId::IRSA_TRUST_MISMATCH.as_str())
            .map(|u| u.as_str().to_string());
        assert_eq!(
            url.as_deref(),
            Some("https://github.com/acme/gitops-lint/blob/main/rules/irsa/trust-mismatch.md")
        );
        assert!(rule_url("acme/custom").is_none());
    }
}
