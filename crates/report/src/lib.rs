//! Reporting: resolve every finding's place to exact bytes, order findings deterministically,
//! and print them in the chosen format.

pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod summary;

use gitops_lint_core::finding::{Finding, Location, Related};
use gitops_lint_core::source::{FileId, Span};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use gitops_lint_syntax::locate::SpanIndex;
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

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
    merge_same_place(fold_consequences(drop_subsumed(out)))
}

/// One root cause, one finding, across rules: a finding that `follows` a rule with a finding
/// at exactly the same place (a tenant deployed to the wrong namespace, whose roles then do not
/// trust its ServiceAccounts there either) is folded into that finding, which says so in its
/// message and takes its related places; the root's help stands, or its `help_when_folded` when
/// it names which of its fixes resolves them too. A finding that
/// outranks its root is left on its own: a config that makes the root a warning must not hide
/// an error in it. Input is sorted, and so is what is folded into each root.
fn fold_consequences(findings: Vec<Finding>) -> Vec<Finding> {
    if findings.iter().all(|f| f.follows.is_none()) {
        return findings;
    }
    let roots: HashMap<(Span, &RuleId), usize> = findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.follows.is_none())
        .map(|(i, f)| ((f.primary.resolved_span(), &f.rule), i))
        .collect();
    let root_of: Vec<Option<usize>> = findings
        .iter()
        .map(|f| {
            let root = *roots.get(&(f.primary.resolved_span(), f.follows.as_ref()?))?;
            (findings[root].level >= f.level).then_some(root)
        })
        .collect();
    let mut slots: Vec<Option<Finding>> = findings.into_iter().map(Some).collect();
    // Per root, what this pass folds into it. Why not all its `folded`: the gate resolves the
    // findings again after the suppressions (`resolve` runs twice), and what an earlier pass
    // folded is already in the root's message.
    let mut added: BTreeMap<usize, Vec<Finding>> = BTreeMap::new();
    for (i, root) in root_of.iter().enumerate() {
        if let Some(root) = *root {
            added.entry(root).or_default().extend(slots[i].take());
        }
    }
    for (root, folded) in added {
        if let Some(r) = slots[root].as_mut() {
            describe_folded(r, &folded);
            r.folded.extend(folded);
        }
    }
    slots.into_iter().flatten().collect()
}

/// Says in a root finding's message what is folded into it, rule by rule (`folded` is sorted),
/// shows its `help_when_folded` (the one fix that resolves them too), and adds the folded
/// findings' related places it does not have.
fn describe_folded(root: &mut Finding, folded: &[Finding]) {
    let mut rules: Vec<&RuleId> = folded.iter().map(|f| &f.rule).collect();
    rules.dedup();
    let mut text = String::new();
    for rule in rules {
        let messages: Vec<&str> = folded
            .iter()
            .filter(|f| &f.rule == rule)
            .map(|f| f.message.as_str())
            .collect();
        let shown = &messages[..messages.len().min(SHOWN)];
        text.push_str(&format!(
            "; the same fix resolves {} finding{} of {rule} here: {}",
            messages.len(),
            plural(messages.len()),
            listed(shown, messages.len())
        ));
    }
    root.message.push_str(&text);
    if let Some(help) = root.help_when_folded.take() {
        root.help = Some(help);
    }
    let primary = root.primary.clone();
    add_related(
        root,
        folded
            .iter()
            .flat_map(|f| &f.related)
            .filter(|r| r.location != primary)
            .cloned(),
    );
}

/// How many messages of merged findings a message shows; the rest are counted.
const SHOWN: usize = 3;

/// The plural ending of `n` findings: none for one.
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The first messages of `total` merged findings, then how many more there are:
/// `a; b; c; and 2 more`.
fn listed(shown: &[impl AsRef<str>], total: usize) -> String {
    let mut text = shown
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<&str>>()
        .join("; ");
    if total > shown.len() {
        text.push_str(&format!("; and {} more", total - shown.len()));
    }
    text
}

/// Adds the related places `into` does not have yet, in order.
fn add_related(into: &mut Finding, related: impl IntoIterator<Item = Related>) {
    for r in related {
        if !into.related.contains(&r) {
            into.related.push(r);
        }
    }
}

/// One root cause, one finding: findings of one rule at exactly the same place (two
/// ServiceAccounts whose role ARNs are both rendered from one empty `accountId`) have one thing
/// to change. The first (in sorted order) stays, says how many more there are and what they
/// are, and carries their related places. Input is sorted, so a group is consecutive.
fn merge_same_place(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut extra: Vec<String> = Vec::new();
    let mut count = 0;
    let flush = |out: &mut Vec<Finding>, extra: &mut Vec<String>, count: &mut usize| {
        if let Some(last) = out.last_mut() {
            if *count > 0 {
                last.message.push_str(&format!(
                    "; the same place also gives {} more finding{} of this rule: {}",
                    count,
                    plural(*count),
                    listed(extra, *count)
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
                add_related(last, f.related);
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

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::finding::Level;

    fn at(start: usize) -> Location {
        Location::Span(Span {
            file: FileId(0),
            start,
            end: start + 4,
        })
    }

    fn root(start: usize) -> Finding {
        Finding::new(
            RuleId::TENANT_NAMESPACE_MISMATCH,
            "wrong namespace",
            at(start),
        )
        .with_help("deploy to namespace `t1`")
        .with_related(at(100), "tenantId `t1` is set here")
    }

    /// A root whose help offers two fixes, of which only one resolves its followers.
    fn root_of_two_fixes(start: usize) -> Finding {
        let mut f = root(start).with_help("deploy to namespace `t1`, or fix `tenantId`");
        f.help_when_folded = Some("deploy to namespace `t1`".into());
        f
    }

    fn follower(start: usize, account: &str) -> Finding {
        Finding::new(
            RuleId::IRSA_TRUST_MISMATCH,
            format!("`{account}` is not trusted"),
            at(start),
        )
        .with_help("trust it")
        .with_related(at(200), "the role ARN comes from here")
        .with_related(at(300 + account.len()), "the trust")
        .following(RuleId::TENANT_NAMESPACE_MISMATCH)
    }

    #[test]
    fn a_finding_that_follows_a_root_at_its_place_is_folded_into_it() {
        let out = fold_consequences(vec![follower(10, "a"), follower(10, "bb"), root(10)]);
        assert_eq!(out.len(), 1, "{out:#?}");
        let f = &out[0];
        assert_eq!(f.rule, RuleId::TENANT_NAMESPACE_MISMATCH);
        assert_eq!(
            f.message,
            "wrong namespace; the same fix resolves 2 findings of irsa/trust-mismatch here: `a` is not trusted; `bb` is not trusted"
        );
        // The root's fix stands; the followers' places are labels, each once.
        assert_eq!(f.help.as_deref(), Some("deploy to namespace `t1`"));
        let labels: Vec<&str> = f.related.iter().map(|r| r.message.as_str()).collect();
        assert_eq!(
            labels,
            [
                "tenantId `t1` is set here",
                "the role ARN comes from here",
                "the trust",
                "the trust"
            ]
        );
        assert_eq!(f.folded.len(), 2);
    }

    /// Once followers are folded in, a root that says which of its fixes resolves them too
    /// shows only that one; alone, or with its follower elsewhere, it keeps both.
    #[test]
    fn a_folded_root_shows_the_fix_that_resolves_its_followers_too() {
        let out = fold_consequences(vec![follower(10, "a"), root_of_two_fixes(10)]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].help.as_deref(), Some("deploy to namespace `t1`"));
        assert_eq!(out[0].help_when_folded, None);
        let two = Some("deploy to namespace `t1`, or fix `tenantId`");
        let out = fold_consequences(vec![follower(20, "a"), root_of_two_fixes(10)]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].help.as_deref(), two);
        let out = fold_consequences(vec![root_of_two_fixes(10)]);
        assert_eq!(out[0].help.as_deref(), two);
    }

    #[test]
    fn a_follower_stays_alone_elsewhere_without_its_root_or_above_it() {
        // At another place.
        let out = fold_consequences(vec![follower(20, "a"), root(10)]);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|f| f.folded.is_empty()));
        // Its root's rule has no finding (turned off, or not reported).
        let out = fold_consequences(vec![follower(10, "a")]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].message, "`a` is not trusted");
        // Its root is a warning (by the config): an error is not hidden in it.
        let mut warning = root(10);
        warning.level = Level::Warning;
        let out = fold_consequences(vec![follower(10, "a"), warning]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].message, "wrong namespace");
    }

    /// The gate resolves again after the suppressions: a root folded before is not described
    /// twice when another follower (its root off) is still on its own.
    #[test]
    fn folding_again_adds_nothing_to_what_was_folded() {
        let mut elsewhere = follower(20, "c");
        elsewhere.follows = Some(RuleId::TIER_SHARED_APP_MISSING_POOL);
        let once = fold_consequences(vec![follower(10, "a"), root(10), elsewhere]);
        assert_eq!(once.len(), 2, "{once:#?}");
        let twice = fold_consequences(once.clone());
        assert_eq!(twice, once);
    }

    #[test]
    fn many_followers_show_three_and_count_the_rest() {
        let mut findings: Vec<Finding> = ["a", "b", "c", "d", "e"]
            .iter()
            .map(|a| follower(10, a))
            .collect();
        findings.push(root(10));
        let out = fold_consequences(findings);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.ends_with(
                "resolves 5 findings of irsa/trust-mismatch here: `a` is not trusted; `b` is not trusted; `c` is not trusted; and 2 more"
            ),
            "{}",
            out[0].message
        );
        assert_eq!(out[0].folded.len(), 5);
    }
}
