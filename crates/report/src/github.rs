//! GitHub Actions workflow commands: `::error file=...,line=...,col=...,endLine=...,endColumn=...,title=<rule>::<message>`.
//!
//! GitHub shows at most 10 error and 10 warning annotations per step (and 10 notices), so the
//! most important findings are annotated: errors first, then rules by importance (a file that
//! does not parse hides every other problem in it; a broken tenant breaks production; a stale
//! suppression breaks nothing), then file order. The job summary says how many more there are.

use super::place;
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;

/// How many annotations of each level GitHub shows per step.
pub(crate) const PER_LEVEL_CAP: usize = 10;

/// Lower is more important.
pub(crate) fn importance(rule: &str) -> u8 {
    match rule {
        r if r.ends_with("/syntax") => 0,
        r if r.starts_with("suppress/") => 3,
        r if r.starts_with("tenant/") || r.starts_with("tier/") => 1,
        _ => 2,
    }
}

/// The findings to annotate, in order, and how many of each level are left out
/// (`[error, warning, info]`).
pub(crate) fn select(findings: &[Finding]) -> (Vec<&Finding>, [usize; 3]) {
    let mut order: Vec<(usize, &Finding)> = findings.iter().enumerate().collect();
    order.sort_by_key(|(i, f)| (std::cmp::Reverse(f.level), importance(&f.rule), *i));
    let mut shown = [0usize; 3];
    let mut hidden = [0usize; 3];
    let mut out = Vec::new();
    for (_, f) in order {
        let slot = slot(f.level);
        if shown[slot] < PER_LEVEL_CAP {
            shown[slot] += 1;
            out.push(f);
        } else {
            hidden[slot] += 1;
        }
    }
    (out, hidden)
}

/// Index of a level in the `[error, warning, info]` arrays.
pub fn slot(level: Level) -> usize {
    match level {
        Level::Error => 0,
        Level::Warning => 1,
        Level::Info => 2,
    }
}

/// Escapes a command's message (GitHub's `escapeData`).
pub(crate) fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property value (GitHub's `escapeProperty`).
pub(crate) fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders the annotation lines, then one plain line saying how many were left out.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let (shown, hidden) = select(findings);
    let mut out = String::new();
    for f in shown {
        let p = place(world, &f.primary);
        let command = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "notice",
        };
        let mut message = f.message.clone();
        if let Some(help) = &f.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(p.file),
            p.line,
            p.column,
            p.end_line,
            p.end_column,
            escape_property(&f.rule),
            escape_data(&message)
        ));
    }
    let more: usize = hidden.iter().sum();
    if more > 0 {
        out.push_str(&format!(
            "gitops-lint: {more} more finding{} not annotated (GitHub shows 10 per level and step); the job summary counts them all\n",
            if more == 1 { " is" } else { "s are" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape_data("a%b\nc"), "a%25b%0Ac");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
