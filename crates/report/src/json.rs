//! The JSON format, stable and versioned:
//!
//! ```json
//! {"version": 1,
//!  "findings": [{"rule", "level", "message", "help", "file", "line", "column",
//!                "end_line", "end_column", "related": [{"file", "line", "column",
//!                "end_line", "end_column", "message"}]}],
//!  "summary": {"files": n, "findings": n, "error": n, "warning": n, "info": n}}
//! ```
//! Lines and columns are 1-based; columns count characters; `end_*` is the position just past
//! the last character of the span.

use super::place;
use gitops_lint_core::catalog::RuleId;
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use serde::Serialize;

// Why structs that borrow, not a `serde_json::Value` tree: with 23,000 findings the tree cost
// a `String` copy of every message, help and file name and a map per finding before anything
// was written (5% of such a run). The fields serialize in declaration order, which is the
// documented order above.

/// The whole document.
#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<FindingOut<'a>>,
    summary: Summary,
}

/// One finding.
#[derive(Serialize)]
struct FindingOut<'a> {
    rule: &'a RuleId,
    level: Level,
    message: &'a str,
    help: Option<&'a str>,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    related: Vec<RelatedOut<'a>>,
}

/// One secondary place of a finding.
#[derive(Serialize)]
struct RelatedOut<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

/// The counts at the end.
#[derive(Serialize)]
struct Summary {
    files: usize,
    findings: usize,
    error: usize,
    warning: usize,
    info: usize,
}

/// Renders findings as the JSON document.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let items = findings
        .iter()
        .map(|f| {
            let at = place(world, &f.primary);
            let related = f
                .related
                .iter()
                .map(|r| {
                    let p = place(world, &r.location);
                    RelatedOut {
                        file: p.file,
                        line: p.line,
                        column: p.column,
                        end_line: p.end_line,
                        end_column: p.end_column,
                        message: &r.message,
                    }
                })
                .collect();
            FindingOut {
                rule: &f.rule,
                level: f.level,
                message: &f.message,
                help: f.help.as_deref(),
                file: at.file,
                line: at.line,
                column: at.column,
                end_line: at.end_line,
                end_column: at.end_column,
                related,
            }
        })
        .collect();
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let doc = Document {
        version: 1,
        findings: items,
        summary: Summary {
            files: world.files.len(),
            findings: findings.len(),
            error: count(Level::Error),
            warning: count(Level::Warning),
            info: count(Level::Info),
        },
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
