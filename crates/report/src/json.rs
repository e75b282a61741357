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

use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use serde_json::{json, Value};

fn place(
    world: &World,
    location: &gitops_lint_core::finding::Location,
) -> (String, usize, usize, usize, usize) {
    let span = location.resolved_span();
    let file = world.file(span.file);
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    (file.display.clone(), line, column, end_line, end_column)
}

/// Renders findings as the JSON document.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let items: Vec<Value> = findings
        .iter()
        .map(|f| {
            let (file, line, column, end_line, end_column) = place(world, &f.primary);
            let related: Vec<Value> = f
                .related
                .iter()
                .map(|r| {
                    let (file, line, column, end_line, end_column) = place(world, &r.location);
                    json!({"file": file, "line": line, "column": column,
                           "end_line": end_line, "end_column": end_column, "message": r.message})
                })
                .collect();
            json!({
                "rule": f.rule, "level": f.level, "message": f.message, "help": f.help,
                "file": file, "line": line, "column": column,
                "end_line": end_line, "end_column": end_column, "related": related,
            })
        })
        .collect();
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let doc = json!({
        "version": 1,
        "findings": items,
        "summary": {
            "files": world.files.len(),
            "findings": findings.len(),
            "error": count(Level::Error),
            "warning": count(Level::Warning),
            "info": count(Level::Info),
        }
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}
