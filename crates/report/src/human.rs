//! Human output through codespan-reporting: header with the rule id, the source line with
//! carets, related places as secondary labels, and a `help:` line.
//!
//! A source line longer than the display budget (`limits.sourceLineChars`) is shown as a
//! window of that many characters around the label, with `…` where it was cut: a minified
//! file's one line of a megabyte would otherwise be printed again for each of its findings.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor::WriteColor, Config};
use gitops_lint_core::escape;
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;

/// Adapts the World's files to codespan's `Files`, copying only the few texts (and names) that
/// hold control characters, which are shown as `?` (`escape::terminal_source`). Ids past the
/// World's files are [`Window`]s.
struct WorldFiles<'w> {
    world: &'w World,
    /// File id -> its text with control characters replaced, when it has any.
    cleaned: HashMap<usize, String>,
    /// File id -> its name with control characters escaped, when it has any.
    names: HashMap<usize, String>,
    /// Windows into long lines, by id minus the number of files.
    windows: Vec<Window>,
    /// The windows already made, by (file, first byte, last byte): labels share them.
    window_ids: HashMap<(usize, usize, usize), usize>,
}

/// Part of one long source line, shown as a one-line file of its own: the same name, the real
/// line number, real columns.
struct Window {
    /// The real file.
    file: usize,
    /// Its 0-based line.
    line: usize,
    /// What is shown: `…`, the cut text, `…`.
    text: String,
    /// Real byte offset of the cut text's first byte.
    start: usize,
    /// Bytes of the leading mark (0 when the line is shown from its start).
    lead: usize,
}

/// The leading and trailing mark of a cut line.
const CUT: &str = "…";

/// Whether `line` has at most `max` characters (counting no further than that).
fn fits(line: &str, max: usize) -> bool {
    line.len() <= max || line.chars().nth(max).is_none()
}

/// Byte offset `n` characters before `at` in `text`, not before `floor`.
fn back(text: &str, at: usize, floor: usize, n: usize) -> usize {
    text[floor..at]
        .char_indices()
        .rev()
        .take(n)
        .last()
        .map_or(at, |(i, _)| floor + i)
}

/// Byte offset `n` characters after `at` in `text`, not past `ceiling`, and how many
/// characters that is.
fn forward(text: &str, at: usize, ceiling: usize, n: usize) -> (usize, usize) {
    let mut moved = 0;
    let mut end = at;
    for c in text[at..ceiling].chars().take(n) {
        end += c.len_utf8();
        moved += 1;
    }
    (end, moved)
}

impl<'w> WorldFiles<'w> {
    fn new(world: &'w World, findings: &[Finding]) -> Self {
        let mut cleaned = HashMap::new();
        let mut names = HashMap::new();
        // Each file once: scanning a file's text for every one of its findings is quadratic.
        let ids: BTreeSet<usize> = findings
            .iter()
            .flat_map(|f| {
                std::iter::once(f.primary.resolved_span().file.0 as usize).chain(
                    f.related
                        .iter()
                        .map(|r| r.location.resolved_span().file.0 as usize),
                )
            })
            .collect();
        for id in ids {
            let Some(file) = world.files.get(id) else {
                continue;
            };
            if let Cow::Owned(text) = escape::terminal_source(&file.text) {
                cleaned.entry(id).or_insert(text);
            }
            if let Cow::Owned(name) = escape::terminal_path(&file.display) {
                names.entry(id).or_insert(name);
            }
        }
        WorldFiles {
            world,
            cleaned,
            names,
            windows: Vec::new(),
            window_ids: HashMap::new(),
        }
    }

    /// Where a label goes: the real file and range when every line it shows is at most `max`
    /// characters, else a window of `max` characters around its start on its first line. The
    /// work is bounded by `max`, never by the line's length.
    fn place(&mut self, id: usize, range: Range<usize>, max: usize) -> (usize, Range<usize>) {
        let max = max.max(1);
        let Some(file) = self.world.files.get(id) else {
            return (id, range);
        };
        let text: &str = self.cleaned.get(&id).map_or(&file.text, |t| t);
        let start = range.start.min(text.len());
        let end = range.end.clamp(start, text.len());
        // A line's bytes, without its line break.
        let line_end = |l: usize| {
            let from = file.line_start(l);
            let to = file.line_start(l + 1).min(text.len());
            from + text[from..to].trim_end_matches(['\n', '\r']).len()
        };
        let (line, last) = (file.line_index(start), file.line_index(end));
        // A multi-line label shows its lines: kept when there are few and all are short.
        let whole = last - line <= 50
            && (line..=last).all(|l| fits(&text[file.line_start(l)..line_end(l)], max));
        if whole {
            return (id, range);
        }
        let (ls, le) = (file.line_start(line), line_end(line));
        let (a, b) = (start.min(le), end.min(le));
        // The span as far as it fits, then the room left as context around it, half before;
        // what the end of the line leaves unused goes before too.
        let (span_end, span_chars) = forward(text, a, b, max);
        let room = max - span_chars;
        let from = back(text, a, ls, room / 2);
        let left = text[from..a].chars().count();
        let (to, right) = forward(text, span_end, le, room - left);
        let from = back(text, from, ls, room - left - right);
        let index = match self.window_ids.get(&(id, from, to)) {
            Some(index) => *index,
            None => {
                let lead = if from > ls { CUT.len() } else { 0 };
                let mut shown = String::with_capacity(to - from + 2 * CUT.len());
                if lead > 0 {
                    shown.push_str(CUT);
                }
                shown.push_str(&text[from..to]);
                if to < le {
                    shown.push_str(CUT);
                }
                self.windows.push(Window {
                    file: id,
                    line,
                    text: shown,
                    start: from,
                    lead,
                });
                self.window_ids
                    .insert((id, from, to), self.windows.len() - 1);
                self.windows.len() - 1
            }
        };
        let lead = self.windows[index].lead;
        (
            self.world.files.len() + index,
            lead + (a - from)..lead + (b.clamp(a, to) - from),
        )
    }

    fn window(&self, id: usize) -> Option<&Window> {
        id.checked_sub(self.world.files.len())
            .and_then(|i| self.windows.get(i))
    }
}

impl<'w> Files<'w> for WorldFiles<'w> {
    type FileId = usize;
    type Name = &'w str;
    type Source = &'w str;

    fn name(&'w self, id: usize) -> Result<&'w str, FilesError> {
        let id = self.window(id).map_or(id, |w| w.file);
        if let Some(name) = self.names.get(&id) {
            return Ok(name);
        }
        self.world
            .files
            .get(id)
            .map(|f| f.display.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'w self, id: usize) -> Result<&'w str, FilesError> {
        if let Some(w) = self.window(id) {
            return Ok(&w.text);
        }
        if let Some(text) = self.cleaned.get(&id) {
            return Ok(text);
        }
        self.world
            .files
            .get(id)
            .map(|f| f.text.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'w self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        if self.window(id).is_some() {
            return Ok(0);
        }
        let f = self.world.files.get(id).ok_or(FilesError::FileMissing)?;
        Ok(f.line_index(byte_index))
    }

    fn line_number(&'w self, id: usize, line_index: usize) -> Result<usize, FilesError> {
        Ok(self.window(id).map_or(line_index, |w| w.line) + 1)
    }

    /// Columns count characters of the real line (`SourceFile::line_col`, indexed), also in a
    /// window.
    fn column_number(
        &'w self,
        id: usize,
        _line_index: usize,
        byte_index: usize,
    ) -> Result<usize, FilesError> {
        let (file, byte) = match self.window(id) {
            Some(w) => (w.file, w.start + byte_index.saturating_sub(w.lead)),
            None => (id, byte_index),
        };
        let f = self.world.files.get(file).ok_or(FilesError::FileMissing)?;
        Ok(f.line_col(byte).1)
    }

    fn line_range(&'w self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        if let Some(w) = self.window(id) {
            return match line_index {
                0 => Ok(0..w.text.len()),
                _ => Err(FilesError::LineTooLarge {
                    given: line_index,
                    max: 0,
                }),
            };
        }
        let f = self.world.files.get(id).ok_or(FilesError::FileMissing)?;
        let starts = f.line_starts();
        if line_index >= starts.len() {
            return Err(FilesError::LineTooLarge {
                given: line_index,
                max: starts.len() - 1,
            });
        }
        let end = starts.get(line_index + 1).copied().unwrap_or(f.text.len());
        Ok(starts[line_index]..end)
    }
}

fn severity(level: Level) -> Severity {
    match level {
        Level::Error => Severity::Error,
        Level::Warning => Severity::Warning,
        Level::Info => Severity::Note,
    }
}

/// Writes every finding, then a one-line summary. A source line of more than `line_chars`
/// characters is shown cut to a window of that many around the label.
pub fn render(
    world: &World,
    findings: &[Finding],
    line_chars: usize,
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let mut files = WorldFiles::new(world, findings);
    let config = Config::default();
    for f in findings {
        let primary = f.primary.resolved_span();
        let (id, range) = files.place(
            primary.file.0 as usize,
            primary.start..primary.end,
            line_chars,
        );
        let mut labels = vec![Label::primary(id, range)];
        for r in &f.related {
            let s = r.location.resolved_span();
            let (id, range) = files.place(s.file.0 as usize, s.start..s.end, line_chars);
            labels.push(Label::secondary(id, range).with_message(escape::terminal(&r.message)));
        }
        // Messages quote the input (keys, values, names): escaped, so none starts a new line
        // that the Actions runner would read as a workflow command.
        let mut diagnostic = Diagnostic::new(severity(f.level))
            .with_code(&f.rule)
            .with_message(escape::terminal(&f.message))
            .with_labels(labels);
        if let Some(help) = &f.help {
            diagnostic = diagnostic.with_notes(vec![format!("help: {}", escape::terminal(help))]);
        }
        term::emit_to_write_style(out, &config, &files, &diagnostic)
            .map_err(std::io::Error::other)?;
    }
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let (e, w, i) = (
        count(Level::Error),
        count(Level::Warning),
        count(Level::Info),
    );
    if let Some(line) = not_checked_line(world, findings) {
        writeln!(out, "{line}")?;
    }
    if findings.is_empty() {
        writeln!(
            out,
            "gitops-lint: {} files checked, no findings",
            world.files.len()
        )
    } else {
        writeln!(
            out,
            "gitops-lint: {} files checked: {e} error{}, {w} warning{}, {i} info",
            world.files.len(),
            if e == 1 { "" } else { "s" },
            if w == 1 { "" } else { "s" },
        )
    }
}

/// How many kind names the summary line spells out before it says "and N more".
const NOT_CHECKED_NAMES: usize = 8;

/// One line that says which kinds went unchecked for want of a schema, gathered from the
/// `schema/kind-not-checked` notes (one per kind): a reader who skips info notes still learns
/// that part of the tree was not validated. `None` when every kind had a schema (or the rule
/// is off).
fn not_checked_line(world: &World, findings: &[Finding]) -> Option<String> {
    let names: Vec<String> = findings
        .iter()
        .filter(|f| f.rule == RuleId::SCHEMA_KIND_NOT_CHECKED)
        .map(|f| {
            // The note points at the document's `kind` value: its text is the kind's name.
            let s = f.primary.resolved_span();
            world
                .files
                .get(s.file.0 as usize)
                .and_then(|file| file.text.get(s.start..s.end))
                .map(|t| escape::terminal(t.trim_matches(|c| c == '"' || c == '\'')).into_owned())
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "?".to_string())
        })
        .collect();
    if names.is_empty() {
        return None;
    }
    let shown = names.len().min(NOT_CHECKED_NAMES);
    let mut list = names[..shown].join(", ");
    if names.len() > shown {
        list.push_str(&format!(" and {} more", names.len() - shown));
    }
    Some(format!(
        "gitops-lint: {} kind{} not checked against a schema: {list} (the schema/kind-not-checked notes say how to check {})",
        names.len(),
        if names.len() == 1 { " was" } else { "s were" },
        if names.len() == 1 { "it" } else { "them" },
    ))
}
