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
use rayon::prelude::*;
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
    render_pieces(world, findings).concat()
}

/// [`render`]'s text in pieces, in order. Why pieces: with 23,000 findings the document is
/// 31 MB, and copying the pieces into one string, on one core, was 15 ms of such a run; a
/// caller that writes them one after the other (to standard output) skips the copy.
pub fn render_pieces(world: &World, findings: &[Finding]) -> Vec<String> {
    let items: Vec<FindingOut<'_>> = findings.par_iter().map(|f| out(world, f)).collect();
    let doc = Document {
        version: 1,
        findings: Vec::new(),
        summary: summary(world, findings),
    };
    let envelope = serde_json::to_string_pretty(&doc).unwrap_or_default();
    // Why the findings apart, in parallel: serialized in one go, on one core, into a string
    // that grew by doubling, they were the last 40 ms of a run with 23,000 findings, with the
    // other core idle. Each chunk is the pretty array serde_json writes for it, one level less
    // deep than in the document; it is indented by one level more and put where the envelope's
    // empty array is (serde_json's own layout either way).
    let chunks: Vec<String> = items
        .par_chunks(CHUNK)
        .map(|chunk| indented_items(&serde_json::to_string_pretty(chunk).unwrap_or_default()))
        .collect();
    let mut pieces = Vec::with_capacity(chunks.len() * 2 + 2);
    match envelope.split_once(EMPTY_FINDINGS) {
        Some((before, after)) if !chunks.is_empty() => {
            pieces.push(format!("{before}\"findings\": [\n"));
            for (i, chunk) in chunks.into_iter().enumerate() {
                if i > 0 {
                    pieces.push(",\n".to_string());
                }
                pieces.push(chunk);
            }
            pieces.push(format!("\n  ]{after}\n"));
        }
        _ => pieces.push(format!("{envelope}\n")),
    }
    pieces
}

/// Findings serialized by one task. Large enough that a chunk's fixed cost is nothing, small
/// enough that the cores share the work evenly.
const CHUNK: usize = 512;

/// How serde_json writes the document's empty `findings` array (two spaces deep).
const EMPTY_FINDINGS: &str = "\"findings\": []";

/// The items of a pretty-printed top-level array (`[\n  {...},\n  {...}\n]`), each line two
/// spaces deeper, without the brackets: as they are written inside the document's `findings`.
/// Why line by line is safe: JSON strings escape their newlines, so every newline of the text
/// is serde_json's own.
fn indented_items(array: &str) -> String {
    let inner = array
        .strip_prefix("[\n")
        .and_then(|s| s.strip_suffix("\n]"))
        .unwrap_or("");
    let mut out = String::with_capacity(inner.len() + inner.len() / 16);
    for (i, line) in inner.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str("  ");
        out.push_str(line);
    }
    out
}

/// The counts at the end of the document.
fn summary(world: &World, findings: &[Finding]) -> Summary {
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    Summary {
        files: world.files.len(),
        findings: findings.len(),
        error: count(Level::Error),
        warning: count(Level::Warning),
        info: count(Level::Info),
    }
}

/// One finding as written.
fn out<'a>(world: &'a World, f: &'a Finding) -> FindingOut<'a> {
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::finding::Location;
    use gitops_lint_core::source::{FileId, FileKind, SourceFile, Span};

    /// The document as one serde_json call writes it, all findings in one array: what
    /// `render` wrote before it rendered the findings in chunks.
    fn in_one_go(world: &World, findings: &[Finding]) -> String {
        let doc = Document {
            version: 1,
            findings: findings.iter().map(|f| out(world, f)).collect(),
            summary: summary(world, findings),
        };
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }

    /// A World of one file, and `n` findings in it: levels, helps and related places vary, and
    /// the messages hold what JSON escapes (quotes, a newline, a backslash, non-ASCII).
    fn findings(n: usize) -> (World, Vec<Finding>) {
        let text = "a: 1\nb: \"zwei\"\nc: drei\n".to_string();
        let mut world = World::default();
        world.files.push(SourceFile::new(
            FileId(0),
            0,
            "f.yaml".into(),
            "repo/f.yaml".into(),
            FileKind::Other,
            text,
        ));
        let at = |start: usize, end: usize| {
            Location::Span(Span {
                file: FileId(0),
                start,
                end,
            })
        };
        let findings = (0..n)
            .map(|i| {
                let mut f = Finding::new(
                    RuleId::YAML_SYNTAX,
                    format!("finding {i}: \"quoted\"\nsecond line \\ ü"),
                    at(i % 20, i % 20 + 1),
                );
                f.level = [Level::Error, Level::Warning, Level::Info][i % 3];
                if i % 2 == 0 {
                    f = f.with_help(format!("help {i}"));
                }
                for r in 0..i % 3 {
                    f = f.with_related(at(r, r + 2), format!("related {r}"));
                }
                f
            })
            .collect();
        (world, findings)
    }

    #[test]
    fn the_chunked_document_is_the_one_serde_json_writes_in_one_go() {
        for n in [0, 1, 2, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 3] {
            let (world, findings) = findings(n);
            let expected = in_one_go(&world, &findings);
            assert_eq!(render(&world, &findings), expected, "{n} findings");
            assert_eq!(
                render_pieces(&world, &findings).concat(),
                expected,
                "{n} findings"
            );
        }
    }

    #[test]
    fn the_document_still_parses_and_counts_its_findings() {
        let (world, findings) = findings(CHUNK + 1);
        let doc: serde_json::Value =
            serde_json::from_str(&render(&world, &findings)).unwrap_or_default();
        assert_eq!(doc["findings"].as_array().map(Vec::len), Some(CHUNK + 1));
        assert_eq!(doc["summary"]["findings"], CHUNK + 1);
        assert_eq!(doc["findings"][CHUNK]["message"], findings[CHUNK].message);
    }
}
