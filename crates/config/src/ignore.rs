//! The config's `ignore:` list: validated here, applied by the gate.

use crate::IgnoreEntry;
use gitops_lint_core::source::PathSeg;
use gitops_lint_syntax::locate::SpanIndex;
use serde_json::Value;

/// Whether `s` is a plausible `YYYY-MM-DD` date.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|t| t.parse::<u32>().ok());
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d))
}

/// Validates the config's `ignore:` list. Errors give the path below `ignore` and a message.
pub(crate) fn parse_ignore(
    value: &Value,
    text: &str,
) -> Result<Vec<IgnoreEntry>, (Vec<PathSeg>, String)> {
    let k = |s: &str| PathSeg::Key(s.into());
    let Value::Array(items) = value else {
        return Err((
            vec![],
            "expected a list of `{rule, paths, until, reason}` entries".into(),
        ));
    };
    let mut index: Option<SpanIndex> = None;
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = |key: &str| vec![PathSeg::Index(i), k(key)];
        let Value::Object(map) = item else {
            return Err((
                vec![PathSeg::Index(i)],
                "expected a mapping with `rule`, `reason` and optionally `paths` and `until`"
                    .into(),
            ));
        };
        for key in map.keys() {
            if !["rule", "paths", "until", "reason"].contains(&key.as_str()) {
                return Err((
                    at(key),
                    "unknown key; an ignore entry knows `rule`, `paths`, `until` and `reason`"
                        .into(),
                ));
            }
        }
        let rule =
            match map.get("rule") {
                Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
                Some(_) => return Err((
                    at("rule"),
                    "expected a rule id such as `tier/app-enablement` or a glob such as `tier/*`"
                        .into(),
                )),
                None => {
                    return Err((
                        vec![PathSeg::Index(i)],
                        "missing `rule`: which rule's findings to ignore".into(),
                    ))
                }
            };
        let reason = match map.get("reason") {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(_) => {
                return Err((
                    at("reason"),
                    "expected a non-empty text saying why the findings are accepted".into(),
                ))
            }
            None => {
                return Err((
                    vec![PathSeg::Index(i)],
                    "missing `reason`: say why these findings are accepted".into(),
                ))
            }
        };
        let paths = match map.get("paths") {
            None => Vec::new(),
            Some(Value::Array(a)) => {
                let mut paths = Vec::new();
                for (j, p) in a.iter().enumerate() {
                    match p.as_str() {
                        Some(s) => paths.push(s.to_string()),
                        None => {
                            return Err((
                                vec![PathSeg::Index(i), k("paths"), PathSeg::Index(j)],
                                "expected a path glob such as `tenants/legacy/**`".into(),
                            ))
                        }
                    }
                }
                paths
            }
            Some(_) => {
                return Err((
                    at("paths"),
                    "expected a list of path globs such as `[\"tenants/legacy/**\"]`".into(),
                ))
            }
        };
        let until = match map.get("until") {
            None => None,
            Some(Value::String(s)) if is_date(s) => Some(s.clone()),
            Some(other) => {
                return Err((
                    at("until"),
                    format!("expected a date `YYYY-MM-DD` (quote it), found `{other}`"),
                ))
            }
        };
        let index = index.get_or_insert_with(|| SpanIndex::new(text));
        let line = index
            .locate(0, &[k("ignore"), PathSeg::Index(i)])
            .map_or(0, |l| {
                text[..l.start.min(text.len())].matches('\n').count() + 1
            });
        out.push(IgnoreEntry {
            rule,
            paths,
            until,
            reason,
            line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2025-12-31"));
        assert!(!is_date("2025-13-01"));
        assert!(!is_date("2025-1-01"));
    }
}
