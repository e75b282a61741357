//! The CI-gate stage after linting: suppressions, baselines, PR-aware filtering, and writing
//! one or more formats to stdout or files.
//!
//! Order matters: suppressions first (an unused one is itself a finding), then the baseline
//! (fingerprints count occurrences over the whole system), then `--changed-from`/`--staged`.

use crate::{Error, Outcome};
use clap::Args;
use codespan_reporting::term::termcolor::{BufferedStandardStream, ColorChoice, NoColor};
use gitops_lint_config::Config;
use gitops_lint_core::finding::Level;
use gitops_lint_core::RuleId;
use gitops_lint_gate::baseline;
use gitops_lint_gate::changes::{self, Since};
use gitops_lint_gate::suppress;
use gitops_lint_report::{self as report, Format};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// Command-line options of the gate stage.
#[derive(Args, Debug, Default, Clone)]
pub struct GateArgs {
    /// Write a format to a file instead of stdout: `FORMAT=FILE` (e.g. `sarif=results.sarif`,
    /// which also turns that format on), or just `FILE` for the first --format. Repeatable.
    #[arg(long = "output", short = 'o', value_name = "[FORMAT=]FILE")]
    pub outputs: Vec<String>,

    /// Append a Markdown summary (tables by rule and by tenant) to FILE. With `--format github`
    /// it defaults to `$GITHUB_STEP_SUMMARY` when that is set.
    #[arg(long, value_name = "FILE")]
    pub summary: Option<PathBuf>,

    /// Lint everything, but report only findings in files changed since the merge base of REV
    /// and HEAD (committed, staged, unstaged or untracked), with a related place in one, or
    /// caused by one (a tier template change reports every tenant of that tier).
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    pub changed_from: Option<String>,

    /// Like --changed-from, for the staged files (`git diff --cached`): the pre-commit mode.
    #[arg(long)]
    pub staged: bool,

    /// Do not report findings recorded in this baseline file (see --write-baseline).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Record every current finding in FILE and exit 0, so that later runs with
    /// `--baseline FILE` fail only on new findings.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

/// Where each format goes: `None` is stdout.
fn destinations(
    formats: &[Format],
    outputs: &[String],
) -> Result<Vec<(Format, Option<PathBuf>)>, Error> {
    let mut out: Vec<(Format, Option<PathBuf>)> = Vec::new();
    for f in formats {
        if !out.iter().any(|(g, _)| g == f) {
            out.push((*f, None));
        }
    }
    for o in outputs {
        let routed = o
            .split_once('=')
            .and_then(|(name, file)| Format::parse(name).map(|f| (f, file)));
        match routed {
            Some((f, file)) => match out.iter_mut().find(|(g, _)| *g == f) {
                Some(slot) => slot.1 = Some(PathBuf::from(file)),
                None => out.push((f, Some(PathBuf::from(file)))),
            },
            None => match out.iter_mut().find(|(_, dest)| dest.is_none()) {
                Some(slot) => slot.1 = Some(PathBuf::from(o)),
                None => {
                    return Err(Error::Usage(format!(
                        "--output `{o}`: every format already has a file; write `FORMAT=FILE`"
                    )))
                }
            },
        }
    }
    let to_stdout = out.iter().filter(|(_, d)| d.is_none()).count();
    if to_stdout > 1 {
        let names: Vec<&str> = out
            .iter()
            .filter(|(_, d)| d.is_none())
            .map(|(f, _)| f.name())
            .collect();
        return Err(Error::Usage(format!(
            "formats {} would all go to stdout; send all but one to files with --output FORMAT=FILE",
            names.join(", ")
        )));
    }
    Ok(out)
}

fn write_file(path: &Path, text: &str, append: bool) -> Result<(), Error> {
    write_output(path, text, append).map_err(Error::Usage)
}

/// Writes a file the tool produces (a report, the summary, a baseline, a config), never
/// through a symbolic link: a link planted in the checkout would make a run on a pull request
/// overwrite whatever it points at. A new or replaced file is written to a temporary file
/// beside it and renamed over it (atomic); appending (the job summary) opens the file only
/// after checking that it is not a link.
pub fn write_output(path: &Path, text: &str, append: bool) -> Result<(), String> {
    let shown = gitops_lint_core::escape::terminal(&path.display().to_string()).into_owned();
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(format!(
            "refusing to write `{shown}`: it is a symbolic link, and the tool never writes through one"
        ));
    }
    let result = if append {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
    } else {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        let name = path.file_name().map_or_else(
            || "output".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let tmp = dir
            .unwrap_or_else(|| Path::new("."))
            .join(format!(".{name}.gitops-lint-{}.tmp", std::process::id()));
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .and_then(|()| std::fs::rename(&tmp, path))
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
    };
    result.map_err(|e| format!("cannot write `{shown}`: {e}"))
}

/// Runs the gate stage on a lint outcome and writes the reports; returns the exit code.
/// The last step of a CLI run: the outcome's memory is left for the process exit to reclaim.
pub fn finish(
    mut outcome: Outcome,
    config: &Config,
    gate: &GateArgs,
    formats: &[Format],
    fail_on: Level,
    no_color: bool,
) -> Result<u8, Error> {
    let dests = destinations(formats, &gate.outputs)?;
    let findings = std::mem::take(&mut outcome.findings);
    let policy_rules = std::mem::take(&mut outcome.policy_rules);
    let known = |id: &str| RuleId::known(id).is_some() || policy_rules.contains(id);
    let findings = suppress::apply(
        &mut outcome.world,
        config,
        findings,
        &suppress::today(),
        &known,
    );
    let mut findings = report::resolve(&outcome.world, findings);

    if let Some(path) = &gate.write_baseline {
        write_file(path, &baseline::render(&outcome.world, &findings), false)?;
        eprintln!(
            "gitops-lint: wrote {} finding{} to the baseline `{}`",
            findings.len(),
            if findings.len() == 1 { "" } else { "s" },
            path.display()
        );
        return Ok(0);
    }
    if let Some(path) = &gate.baseline {
        let known = baseline::read(path).map_err(Error::Usage)?;
        let (kept, dropped) = baseline::filter(&outcome.world, findings, &known);
        findings = kept;
        if dropped > 0 {
            eprintln!(
                "gitops-lint: {dropped} finding{} matched the baseline `{}` and {} not reported",
                if dropped == 1 { "" } else { "s" },
                path.display(),
                if dropped == 1 { "is" } else { "are" }
            );
        }
    }
    let since = match (&gate.changed_from, gate.staged) {
        (Some(rev), _) => Some(Since::Rev(rev.clone())),
        (None, true) => Some(Since::Staged),
        (None, false) => None,
    };
    if let Some(since) = since {
        let (changed, config_changed) =
            changes::changed_files(&outcome.world, config, &since).map_err(Error::Usage)?;
        findings = changes::filter(&outcome.world, findings, &changed, config_changed);
    }

    let world = &outcome.world;
    let line_chars = usize::try_from(config.limits.source_line_chars).unwrap_or(usize::MAX);
    for (format, dest) in &dests {
        let text = match format {
            Format::Json if dest.is_none() => {
                // In pieces: the document is tens of megabytes with many findings, and joining
                // them first was a copy of all of it.
                let mut out = std::io::stdout().lock();
                for piece in report::json::render_pieces(world, &findings) {
                    let _ = out.write_all(piece.as_bytes());
                }
                continue;
            }
            Format::Json => report::json::render(world, &findings),
            Format::Sarif => report::sarif::render(world, &findings),
            Format::Github => report::github::render(world, &findings),
            Format::Junit => report::junit::render(world, &findings),
            Format::Human => {
                if dest.is_none() {
                    let color = if no_color || !std::io::stdout().is_terminal() {
                        ColorChoice::Never
                    } else {
                        ColorChoice::Auto
                    };
                    // Buffered: unbuffered, every label and source line was a write of its
                    // own (777,424 `write` calls for 23,403 findings, a second of system time).
                    let mut out = BufferedStandardStream::stdout(color);
                    let _ = report::human::render(world, &findings, line_chars, &mut out);
                    let _ = out.flush();
                    continue;
                }
                let mut buf = NoColor::new(Vec::new());
                let _ = report::human::render(world, &findings, line_chars, &mut buf);
                String::from_utf8_lossy(&buf.into_inner()).into_owned()
            }
        };
        match dest {
            Some(path) => write_file(path, &text, false)?,
            None => {
                let _ = std::io::stdout().lock().write_all(text.as_bytes());
            }
        }
    }
    let summary = gate.summary.clone().or_else(|| {
        dests
            .iter()
            .any(|(f, _)| *f == Format::Github)
            .then(|| std::env::var_os("GITHUB_STEP_SUMMARY"))
            .flatten()
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(path) = summary {
        write_file(&path, &report::summary::render(world, &findings), true)?;
    }
    let failed = findings.iter().any(|f| f.level >= fail_on);
    // The process exits next: freeing every parsed document one by one would only delay the
    // exit (about 0.1 s on 10,000 tenants); the operating system reclaims the memory at once.
    std::mem::forget(outcome);
    Ok(u8::from(failed))
}
