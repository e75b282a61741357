//! Baselines: a legacy repository records today's findings once (`--write-baseline FILE`) and
//! from then on fails only on new ones (`--baseline FILE`).
//!
//! A finding's fingerprint is the rule, the displayed file, a hash of the primary line's trimmed
//! text, and the finding's index among findings with those same three: not the line number, so
//! that editing lines above a known finding does not turn it into a "new" one.

use gitops_lint_core::finding::Finding;
use gitops_lint_core::RuleId;
use gitops_lint_model::World;

use gitops_lint_core::source::FileId;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// FNV-1a, 64 bits: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// The fingerprint of every finding, in the same order.
pub fn fingerprints(world: &World, findings: &[Finding]) -> Vec<String> {
    let mut seen: BTreeMap<(RuleId, String, u64), usize> = BTreeMap::new();
    // Each line is hashed once: a minified line of a megabyte may carry 100,000 findings.
    let mut hashes: HashMap<(FileId, usize), u64> = HashMap::new();
    findings
        .iter()
        .map(|f| {
            let span = f.primary.resolved_span();
            let file = world.file(span.file);
            let line = file.line_index(span.start);
            let hash = *hashes.entry((span.file, line)).or_insert_with(|| {
                let start = file.line_start(line);
                let end = file.line_start(line + 1).min(file.text.len());
                fnv1a(file.text.get(start..end).unwrap_or("").trim())
            });
            let key = (f.rule.clone(), file.display.clone(), hash);
            let n = seen.entry(key.clone()).or_insert(0);
            let fp = format!("{}:{}:{:016x}:{}", key.0, key.1, key.2, n);
            *n += 1;
            fp
        })
        .collect()
}

/// The baseline document for these findings.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let set: BTreeSet<String> = fingerprints(world, findings).into_iter().collect();
    let doc = json!({
        "version": 1,
        "tool": "gitops-lint",
        "fingerprints": set.into_iter().collect::<Vec<_>>(),
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

/// The largest baseline read: a million fingerprints of 64 characters fit in 80 MiB; a bigger
/// file is not one `--write-baseline` wrote.
const MAX_BASELINE_BYTES: u64 = 128 << 20;

/// Reads a baseline file: the set of fingerprints it holds. The file may be a link (the user
/// named it), but what it leads to must be a regular file: a FIFO would block the run, and a
/// device such as `/dev/zero` never ends.
pub fn read(path: &Path) -> Result<BTreeSet<String>, String> {
    use gitops_lint_core::read::{regular_file, special_kind, ReadError};
    let cannot = |why: String| format!("cannot read the baseline `{}`: {why}", path.display());
    let meta = std::fs::metadata(path).map_err(|e| cannot(e.to_string()))?;
    if let Some(what) = special_kind(&meta.file_type()) {
        return Err(cannot(format!("it is {what}, not a file")));
    }
    let bytes = regular_file(path, MAX_BASELINE_BYTES).map_err(|e| {
        cannot(match e {
            ReadError::NotAFile(what) => format!("it is {what}, not a file"),
            ReadError::TooBig(size) => {
                format!("it holds {size} bytes, more than a baseline can ({MAX_BASELINE_BYTES})")
            }
            ReadError::Io(e) => e.to_string(),
        })
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "the baseline `{}` is not JSON ({e}); write one with --write-baseline",
            path.display()
        )
    })?;
    let list = doc
        .get("fingerprints")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            format!(
                "the baseline `{}` has no `fingerprints` list; write one with --write-baseline",
                path.display()
            )
        })?;
    Ok(list
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect())
}

/// Drops findings recorded in the baseline; returns the rest and how many were dropped.
pub fn filter(
    world: &World,
    findings: Vec<Finding>,
    baseline: &BTreeSet<String>,
) -> (Vec<Finding>, usize) {
    let fps = fingerprints(world, &findings);
    let before = findings.len();
    let kept: Vec<Finding> = findings
        .into_iter()
        .zip(fps)
        .filter(|(_, fp)| !baseline.contains(fp))
        .map(|(f, _)| f)
        .collect();
    let dropped = before - kept.len();
    (kept, dropped)
}
