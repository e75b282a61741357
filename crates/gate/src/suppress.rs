//! Suppressions: inline `# gitops-lint: ignore[rule-id] reason` comments and the config's
//! `ignore:` entries. A suppression must say why; one that matches nothing, lacks a reason or
//! has expired is itself reported, so suppressions cannot silently rot.

use gitops_lint_config::{names_a_rule, Config, IgnoreEntry};
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, FileKind, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_matchers::go_path::{glob_path, path_match};
use gitops_lint_model::World;

/// A suppression without a reason.
const MISSING_REASON: RuleId = RuleId::SUPPRESS_MISSING_REASON;
/// An inline suppression or config entry that matched no finding.
const UNUSED: RuleId = RuleId::SUPPRESS_UNUSED;
/// A config `ignore:` entry past its `until` date.
const EXPIRED: RuleId = RuleId::SUPPRESS_EXPIRED;

/// One inline suppression comment.
#[derive(Debug)]
struct Inline {
    /// The comment, from `#` to the end of the line.
    span: Span,
    /// 1-based line of the comment.
    line: usize,
    /// Rule ids (or globs) it names, each with whether it was used.
    rules: Vec<(String, bool)>,
}

/// What parsing one comment gave: a suppression, or what is wrong with it.
enum Parsed {
    Ok(Vec<String>),
    Bad(String),
}

/// Finds a `# gitops-lint: ...` directive on one line: the byte offset of its `#` and the
/// parse. Lines without the marker in a comment give `None`.
fn parse_line(line: &str) -> Option<(usize, Parsed)> {
    let marker = "gitops-lint:";
    let mut from = 0;
    while let Some(found) = line[from..].find(marker) {
        let at = from + found;
        from = at + marker.len();
        let before = line[..at].trim_end();
        let Some(hash) = before.strip_suffix('#') else {
            continue;
        };
        // A `#` is a comment only at the start of a line or after whitespace.
        if !(hash.is_empty() || hash.ends_with(char::is_whitespace)) {
            continue;
        }
        let rest = line[from..].trim_start();
        let Some(rest) = rest.strip_prefix("ignore") else {
            return Some((
                hash.len(),
                Parsed::Bad("unknown directive; the only one is `ignore[rule-id] reason`".into()),
            ));
        };
        let Some(rest) = rest.strip_prefix('[') else {
            return Some((
                hash.len(),
                Parsed::Bad("no rule ids: write `# gitops-lint: ignore[rule-id] reason`".into()),
            ));
        };
        let Some((ids, reason)) = rest.split_once(']') else {
            return Some((
                hash.len(),
                Parsed::Bad(
                    "the `[` is never closed: write `# gitops-lint: ignore[rule-id] reason`".into(),
                ),
            ));
        };
        let ids: Vec<String> = ids
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        if ids.is_empty() {
            return Some((
                hash.len(),
                Parsed::Bad("no rule ids between `[` and `]`".into()),
            ));
        }
        if reason.trim().is_empty() {
            return Some((
                hash.len(),
                Parsed::Bad(format!(
                    "the suppression of `{}` gives no reason, so it does not apply",
                    ids.join(", ")
                )),
            ));
        }
        return Some((hash.len(), Parsed::Ok(ids)));
    }
    None
}

/// Whether `pattern` (an id, or a glob like `tier/*`) names `rule`.
fn rule_matches(pattern: &str, rule: &str) -> bool {
    pattern == rule || path_match(pattern, rule).unwrap_or(false)
}

/// Today's date (UTC) as `YYYY-MM-DD`, for `until:` expiry.
pub fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_date((secs / 86_400) as i64)
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_date(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Collects every inline suppression, and findings for the malformed ones.
fn collect_inline(world: &World) -> (Vec<Inline>, Vec<Finding>) {
    let mut inline = Vec::new();
    let mut bad = Vec::new();
    for file in &world.files {
        if !(file.kind.is_yaml() || file.kind == FileKind::Terraform) {
            continue;
        }
        if !file.text.contains("gitops-lint:") {
            continue;
        }
        for (n, line) in file.text.split('\n').enumerate() {
            let Some((hash, parsed)) = parse_line(line) else {
                continue;
            };
            let start = file.line_start(n) + hash;
            let span = Span {
                file: file.id,
                start,
                end: file.line_start(n) + line.trim_end_matches('\r').len(),
            };
            match parsed {
                Parsed::Ok(rules) => inline.push(Inline {
                    span,
                    line: n + 1,
                    rules: rules.into_iter().map(|r| (r, false)).collect(),
                }),
                Parsed::Bad(message) => bad.push(
                    Finding::new(MISSING_REASON, message, Location::Span(span)).with_help(
                        "write `# gitops-lint: ignore[rule-id] why this is acceptable` on the line or the line above",
                    ),
                ),
            }
        }
    }
    (inline, bad)
}

/// The config file as a World file, so findings can point into it (added if not loaded).
fn config_file(world: &mut World, config: &Config) -> Option<FileId> {
    let path = config.source.as_ref()?;
    let canon = std::fs::canonicalize(path).ok();
    for f in &world.files {
        if let Some(repo) = world.repos.get(f.repo) {
            if canon.is_some()
                && !f.text.is_empty()
                && std::fs::canonicalize(repo.root.join(&f.rel_path)).ok() == canon
            {
                return Some(f.id);
            }
        }
    }
    let text = std::fs::read_to_string(path).ok()?;
    let id = FileId(world.files.len() as u32);
    let display = gitops_lint_core::read::slash_path(path);
    let display = display.trim_start_matches("./").to_string();
    world.files.push(SourceFile::new(
        id,
        0,
        display.clone(),
        display,
        FileKind::Other,
        text,
    ));
    world.yaml.push(Vec::new());
    Some(id)
}

/// Whether an `ignore:` entry still applies `today` (no `until`, or not past it).
fn is_live(e: &IgnoreEntry, today: &str) -> bool {
    e.until.as_deref().is_none_or(|u| today <= u)
}

/// Whether a suppression matches `f` in `file`: an inline comment on its line or the line
/// above, or an `ignore:` entry of the config, live `today`, whose paths (if any) match the
/// file. Marks each matching suppression used.
fn is_suppressed(
    f: &Finding,
    file: &SourceFile,
    inline: &mut [Inline],
    ignore: &[IgnoreEntry],
    used_entries: &mut [bool],
    today: &str,
) -> bool {
    let span = f.primary.resolved_span();
    // Why only when the file has a suppression comment: the line index of a file is built
    // on first use, and built here for every file with a finding it was 10 ms of a run with
    // 23,000 findings, on one core; the reports build it in parallel.
    let mut line = None;
    let mut suppressed = false;
    for s in inline.iter_mut().filter(|s| s.span.file == span.file) {
        let line = *line.get_or_insert_with(|| file.line_col(span.start).0);
        if s.line == line || s.line + 1 == line {
            for (rule, used) in &mut s.rules {
                if rule_matches(rule, &f.rule) {
                    *used = true;
                    suppressed = true;
                }
            }
        }
    }
    for (i, e) in ignore.iter().enumerate() {
        let path_ok = e.paths.is_empty()
            || e.paths
                .iter()
                .any(|p| glob_path(p, &file.display) || glob_path(p, &file.rel_path));
        if is_live(e, today) && rule_matches(&e.rule, &f.rule) && path_ok {
            used_entries[i] = true;
            suppressed = true;
        }
    }
    suppressed
}

/// Drops suppressed findings (letting out what was folded into each, judged on its own) and
/// adds findings about the suppressions themselves
/// (`suppress/missing-reason`, `suppress/unused`, `suppress/expired`). `findings` must be
/// resolved (spans); the returned new findings are resolved too.
pub fn apply(
    world: &mut World,
    config: &Config,
    findings: Vec<Finding>,
    today: &str,
    known_rule: &dyn Fn(&str) -> bool,
) -> Vec<Finding> {
    let (mut inline, mut extra) = collect_inline(world);
    let mut used_entries = vec![false; config.ignore.len()];
    let mut kept = Vec::new();
    // Why a queue: a suppressed finding lets out what was folded into it (`Finding::folded`),
    // each then judged on its own. The user suppressed the root cause's rule there (a tenant's
    // namespace that differs from its id on purpose), not what else breaks at that place
    // (roles that still do not trust the namespace).
    let mut queue: std::collections::VecDeque<Finding> = findings.into();
    while let Some(mut f) = queue.pop_front() {
        if f.rule.starts_with("suppress/") {
            kept.push(f);
            continue;
        }
        let mut matches = |f: &Finding| {
            is_suppressed(
                f,
                world.file(f.primary.resolved_span().file),
                &mut inline,
                &config.ignore,
                &mut used_entries,
                today,
            )
        };
        let suppressed = matches(&f);
        // A suppression of what was folded here matches a finding that exists (this one says
        // what it is), and is used.
        if !suppressed {
            for folded in &f.folded {
                matches(folded);
            }
        }
        if suppressed {
            for (k, folded) in std::mem::take(&mut f.folded).into_iter().enumerate() {
                queue.insert(k, folded);
            }
        } else {
            kept.push(f);
        }
    }
    for s in &inline {
        for (rule, used) in &s.rules {
            if !used && !names_a_rule(rule, known_rule) {
                let suggestion = RuleId::closest(rule)
                    .map(|r| format!("; did you mean `{r}`?"))
                    .unwrap_or_default();
                extra.push(
                    Finding::new(
                        UNUSED,
                        format!("the suppression names `{rule}`, which is not a rule id{suggestion}"),
                        Location::Span(s.span),
                    )
                    .with_help("write the id as `gitops-lint rules` lists it: a misspelt id suppresses nothing"),
                );
            } else if !used {
                extra.push(
                    Finding::new(
                        UNUSED,
                        format!(
                            "the suppression of `{rule}` matches no finding on line {} or {}",
                            s.line,
                            s.line + 1
                        ),
                        Location::Span(s.span),
                    )
                    .with_help(
                        "remove it (the problem is fixed), or move it to the finding's line",
                    ),
                );
            }
        }
    }
    if !config.ignore.is_empty() {
        if let Some(cfg) = config_file(world, config) {
            let text = &world.file(cfg).text;
            for (i, e) in config.ignore.iter().enumerate() {
                let start = world.file(cfg).line_start(e.line.saturating_sub(1));
                let end = start + text[start..].find('\n').unwrap_or(text.len() - start);
                let span = Location::Span(Span {
                    file: cfg,
                    start,
                    end,
                });
                if !is_live(e, today) {
                    extra.push(
                        Finding::new(
                            EXPIRED,
                            format!(
                                "the ignore entry for `{}` expired on {}; its findings are reported again",
                                e.rule,
                                e.until.as_deref().unwrap_or_default()
                            ),
                            span,
                        )
                        .with_help("fix the findings and remove the entry, or move `until` to a later date with a reason"),
                    );
                } else if !used_entries[i] {
                    extra.push(
                        Finding::new(
                            UNUSED,
                            format!("the ignore entry for `{}` matches no finding", e.rule),
                            span,
                        )
                        .with_help("remove the entry, or fix its `rule` or `paths`"),
                    );
                }
            }
        }
    }
    let extra = crate::levels::apply_levels(extra, config);
    kept.extend(extra);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_comments() {
        assert!(matches!(
            parse_line("  - x # gitops-lint: ignore[a/b, c/d] legacy tenant"),
            Some((6, Parsed::Ok(ids))) if ids == ["a/b", "c/d"]
        ));
        assert!(matches!(
            parse_line("# gitops-lint: ignore[a/b]"),
            Some((0, Parsed::Bad(_)))
        ));
        assert!(parse_line("url: http://x#gitops-lint: ignore[a/b] r").is_none());
        assert!(parse_line("name: gitops-lint: x").is_none());
    }

    #[test]
    fn rule_globs() {
        assert!(rule_matches("tier/*", RuleId::TIER_APP_ENABLEMENT.as_str()));
        assert!(!rule_matches(
            "tier/*",
            RuleId::TENANT_NAMESPACE_MISMATCH.as_str()
        ));
    }

    #[test]
    fn dates() {
        assert_eq!(civil_date(0), "1970-01-01");
        assert_eq!(civil_date(19_723), "2024-01-01");
        assert_eq!(civil_date(11_016), "2000-02-29");
    }
}
