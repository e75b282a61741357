//! Human output through codespan-reporting: header with the rule id, the source line with
//! carets, related places as secondary labels, and a `help:` line.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor::WriteColor, Config};
use gitops_lint_core::escape;
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

/// Adapts the World's files to codespan's `Files`, copying only the few texts (and names) that
/// hold control characters, which are shown as `?` (`escape::terminal_source`).
struct WorldFiles<'w> {
    world: &'w World,
    /// File id -> its text with control characters replaced, when it has any.
    cleaned: HashMap<usize, String>,
    /// File id -> its name with control characters escaped, when it has any.
    names: HashMap<usize, String>,
}

impl<'w> WorldFiles<'w> {
    fn new(world: &'w World, findings: &[Finding]) -> Self {
        let mut cleaned = HashMap::new();
        let mut names = HashMap::new();
        let ids = findings.iter().flat_map(|f| {
            std::iter::once(f.primary.resolved_span().file.0 as usize).chain(
                f.related
                    .iter()
                    .map(|r| r.location.resolved_span().file.0 as usize),
            )
        });
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
        }
    }
}

impl<'w> Files<'w> for WorldFiles<'w> {
    type FileId = usize;
    type Name = &'w str;
    type Source = &'w str;

    fn name(&'w self, id: usize) -> Result<&'w str, FilesError> {
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
        let f = self.world.files.get(id).ok_or(FilesError::FileMissing)?;
        Ok(f.line_index(byte_index))
    }

    fn line_range(&'w self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
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

/// Writes every finding, then a one-line summary.
pub fn render(
    world: &World,
    findings: &[Finding],
    out: &mut dyn WriteColor,
) -> std::io::Result<()> {
    let files = WorldFiles::new(world, findings);
    let config = Config::default();
    for f in findings {
        let primary = f.primary.resolved_span();
        let mut labels = vec![Label::primary(
            primary.file.0 as usize,
            primary.start..primary.end,
        )];
        for r in &f.related {
            let s = r.location.resolved_span();
            labels.push(
                Label::secondary(s.file.0 as usize, s.start..s.end)
                    .with_message(escape::terminal(&r.message)),
            );
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
