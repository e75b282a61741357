//! Human output through codespan-reporting: header with the rule id, the source line with
//! carets, related places as secondary labels, and a `help:` line.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::{Error as FilesError, Files};
use codespan_reporting::term::{self, termcolor::WriteColor, Config};
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use std::ops::Range;

/// Adapts the World's files to codespan's `Files` without copying any text.
struct WorldFiles<'w>(&'w World);

impl<'w> Files<'w> for WorldFiles<'w> {
    type FileId = usize;
    type Name = &'w str;
    type Source = &'w str;

    fn name(&'w self, id: usize) -> Result<&'w str, FilesError> {
        self.0
            .files
            .get(id)
            .map(|f| f.display.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn source(&'w self, id: usize) -> Result<&'w str, FilesError> {
        self.0
            .files
            .get(id)
            .map(|f| f.text.as_str())
            .ok_or(FilesError::FileMissing)
    }

    fn line_index(&'w self, id: usize, byte_index: usize) -> Result<usize, FilesError> {
        let f = self.0.files.get(id).ok_or(FilesError::FileMissing)?;
        Ok(f.line_index(byte_index))
    }

    fn line_range(&'w self, id: usize, line_index: usize) -> Result<Range<usize>, FilesError> {
        let f = self.0.files.get(id).ok_or(FilesError::FileMissing)?;
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
    let files = WorldFiles(world);
    let config = Config::default();
    for f in findings {
        let primary = f.primary.resolved_span();
        let mut labels = vec![Label::primary(
            primary.file.0 as usize,
            primary.start..primary.end,
        )];
        for r in &f.related {
            let s = r.location.resolved_span();
            labels
                .push(Label::secondary(s.file.0 as usize, s.start..s.end).with_message(&r.message));
        }
        let mut diagnostic = Diagnostic::new(severity(f.level))
            .with_code(&f.rule)
            .with_message(&f.message)
            .with_labels(labels);
        if let Some(help) = &f.help {
            diagnostic = diagnostic.with_notes(vec![format!("help: {help}")]);
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
