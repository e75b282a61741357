//! Reporting: resolve every finding's place to exact bytes, order findings deterministically,
//! and print them in the chosen format.

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, Span};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use gitops_lint_syntax::locate::SpanIndex;
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Diagnostics with the source line, carets and a `help:` line.
    Human,
    /// One stable JSON object (documented in the README).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands (`::error file=...`), the 10+10 most important.
    Github,
    /// JUnit XML, for CI systems that show test reports.
    Junit,
}

impl Format {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Junit => "junit",
        }
    }

    /// Parses a name used on the command line.
    pub fn parse(name: &str) -> Option<Format> {
        [
            Format::Human,
            Format::Json,
            Format::Sarif,
            Format::Github,
            Format::Junit,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }
}

/// A resolved place, as people count: file, 1-based line and column (characters), and the
/// position just past the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place<'w> {
    /// Displayed file path (borrowed from the World: thousands of findings share a few files).
    pub file: &'w str,
    /// 1-based start line.
    pub line: usize,
    /// 1-based start column, in characters.
    pub column: usize,
    /// 1-based end line.
    pub end_line: usize,
    /// 1-based column just past the last character.
    pub end_column: usize,
}

/// The place of a resolved location.
pub fn place<'w>(world: &'w World, location: &Location) -> Place<'w> {
    let span = location.resolved_span();
    let file = world.file(span.file);
    let (line, column) = file.line_col(span.start);
    let (end_line, end_column) = file.line_col(span.end);
    Place {
        file: &file.display,
        line,
        column,
        end_line,
        end_column,
    }
}

/// Resolves node paths to spans, over the span trees of the files that have findings.
struct Resolver<'w> {
    world: &'w World,
    indexes: HashMap<FileId, SpanIndex>,
}

impl<'w> Resolver<'w> {
    fn span(&self, location: &Location) -> Span {
        match location {
            Location::Span(s) => *s,
            Location::File(file) => Span {
                file: *file,
                start: 0,
                end: 0,
            },
            Location::Path {
                file,
                doc,
                path,
                key,
            } => {
                let world = self.world;
                let text = &world.file(*file).text;
                // Every file a path names was indexed by `resolve`.
                match self.indexes.get(file).and_then(|i| i.locate(*doc, path)) {
                    Some(l) => {
                        let (start, end) = match (l.key, *key || !l.exact) {
                            (Some(k), true) => k,
                            _ => (l.start, l.end),
                        };
                        // A multi-line node is shown by its first line only.
                        let end = text[start.min(text.len())..]
                            .find('\n')
                            .map_or(end, |n| end.min(start + n));
                        Span {
                            file: *file,
                            start,
                            end: end.max(start),
                        }
                    }
                    None => Span {
                        file: *file,
                        start: 0,
                        end: 0,
                    },
                }
            }
        }
    }
}

/// Turns every location into a span and sorts findings by file, position, rule and message.
pub fn resolve(world: &World, findings: Vec<Finding>) -> Vec<Finding> {
    // Why the files first, in parallel: each file with a node-path finding is parsed once more
    // into its span tree, and with a finding in most tenant files (25,000 findings at 10,000
    // tenants) those parses were most of this stage, on one core.
    let files: BTreeSet<FileId> = findings
        .iter()
        .flat_map(|f| std::iter::once(&f.primary).chain(f.related.iter().map(|r| &r.location)))
        .filter_map(|l| match l {
            Location::Path { file, .. } => Some(*file),
            _ => None,
        })
        .collect();
    let indexes: HashMap<FileId, SpanIndex> = files
        .into_par_iter()
        .map(|id| {
            let index = SpanIndex::new(&gitops_lint_syntax::parse_text(world.file(id)));
            (id, index)
        })
        .collect();
    let resolver = Resolver { world, indexes };
    let mut out: Vec<Finding> = findings
        .into_par_iter()
        .map(|mut f| {
            f.primary = Location::Span(resolver.span(&f.primary));
            for r in &mut f.related {
                r.location = Location::Span(resolver.span(&r.location));
            }
            f
        })
        .collect();
    // Why the span trees are freed in the background, not waited for: with a finding in most
    // files they are tens of thousands of small trees. Freed after the sort, on one core, they
    // were most of what this stage did on its own thread (0.7% of the many-findings run's CPU
    // samples); freed beside the sort (a join), they still held up what follows by about 20 ms
    // while the other core waited, the sort being the shorter of the two.
    let Resolver { indexes, .. } = resolver;
    gitops_lint_core::background::drop_in_background(indexes);
    out.sort_by(|a, b| sort_key(world, a).cmp(&sort_key(world, b)));
    out.dedup();
    merge_same_place(drop_subsumed(out))
}

/// One root cause, one finding: findings of one rule at exactly the same place (two
/// ServiceAccounts whose role ARNs are both rendered from one empty `accountId`) have one thing
/// to change. The first (in sorted order) stays, says how many more there are and what they
/// are, and carries their related places. Input is sorted, so a group is consecutive.
fn merge_same_place(findings: Vec<Finding>) -> Vec<Finding> {
    const SHOWN: usize = 3;
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut extra: Vec<String> = Vec::new();
    let mut count = 0;
    let flush = |out: &mut Vec<Finding>, extra: &mut Vec<String>, count: &mut usize| {
        if let Some(last) = out.last_mut() {
            if *count > 0 {
                let more = *count - extra.len();
                last.message.push_str(&format!(
                    "; the same place also gives {} more finding{} of this rule: {}{}",
                    count,
                    if *count == 1 { "" } else { "s" },
                    extra.join("; "),
                    if more > 0 {
                        format!("; and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
        }
        extra.clear();
        *count = 0;
    };
    for f in findings {
        let same = out.last().is_some_and(|last| {
            last.rule == f.rule && last.primary.resolved_span() == f.primary.resolved_span()
        });
        if same {
            if let Some(last) = out.last_mut() {
                for r in f.related {
                    if !last.related.contains(&r) {
                        last.related.push(r);
                    }
                }
            }
            count += 1;
            if extra.len() < SHOWN {
                extra.push(f.message);
            }
            continue;
        }
        flush(&mut out, &mut extra, &mut count);
        out.push(f);
    }
    flush(&mut out, &mut extra, &mut count);
    out
}

/// One mistake, one finding: where a field's schema says it must be a string, the schema's
/// finding on that value ("must be a string, YAML reads `yes` as a boolean; quote it") says
/// everything the generic YAML 1.1-vs-1.2 finding on the same value would.
fn drop_subsumed(findings: Vec<Finding>) -> Vec<Finding> {
    let typed: HashSet<Span> = findings
        .iter()
        .filter(|f| f.rule == RuleId::SCHEMA_INVALID_TYPE)
        .map(|f| f.primary.resolved_span())
        .collect();
    if typed.is_empty() {
        return findings;
    }
    findings
        .into_iter()
        .filter(|f| {
            f.rule != RuleId::YAML_AMBIGUOUS_SCALAR || !typed.contains(&f.primary.resolved_span())
        })
        .collect()
}

fn sort_key<'a>(world: &'a World, f: &'a Finding) -> (&'a str, usize, &'a str, &'a str) {
    let (file, start) = match &f.primary {
        Location::Span(s) => (world.file(s.file).display.as_str(), s.start),
        other => (world.file(other.file()).display.as_str(), 0),
    };
    (file, start, f.rule.as_str(), f.message.as_str())
}
