//! SARIF 2.1.0 (`schemas/sarif-schema-2.1.0.json`), the format GitHub code scanning uploads.
//!
//! `tool.driver.rules` is the rule catalog: each rule's summary, its page as help, and its
//! default level. Each result has the finding's real region (1-based lines, columns counted in
//! characters, end column exclusive, as in the human output), `relatedLocations` for the other
//! files a cross-file finding involves, and the baseline fingerprint as a partial fingerprint so
//! code scanning tracks a finding across unrelated edits.

use super::{place, Place};
use gitops_lint_core::catalog;
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The `$schema` URI written into every log.
pub(crate) const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// SARIF's name for a level.
fn level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "note",
    }
}

/// Percent-encodes a relative path for `artifactLocation.uri` (keeps `/` and unreserved bytes).
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn physical(p: &Place) -> Value {
    json!({
        "artifactLocation": {"uri": uri(&p.file)},
        "region": {
            "startLine": p.line,
            "startColumn": p.column,
            "endLine": p.end_line,
            "endColumn": p.end_column,
        }
    })
}

/// A page's Markdown without its front matter.
fn page_body(text: &str) -> &str {
    text.strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n").map(|end| &rest[end + 5..]))
        .unwrap_or(text)
        .trim_start()
}

/// Renders findings as one SARIF log with a single run.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    for page in catalog::pages() {
        let body = page_body(page.text);
        rules.insert(
            page.id.clone(),
            json!({
                "id": page.id,
                "shortDescription": {"text": page.summary},
                "help": {"text": body, "markdown": body},
                "defaultConfiguration": {"level": level(page.level)},
                "properties": {"tags": ["gitops"]},
            }),
        );
    }
    for f in findings {
        rules.entry(f.rule.to_string()).or_insert_with(|| {
            json!({
                "id": f.rule,
                "shortDescription": {"text": format!("User policy rule {}", f.rule)},
                "defaultConfiguration": {"level": level(f.level)},
            })
        });
    }
    let index: BTreeMap<&str, usize> = rules
        .keys()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let fingerprints = gitops_lint_gate::baseline::fingerprints(world, findings);
    let results: Vec<Value> = findings
        .iter()
        .zip(fingerprints)
        .map(|(f, fp)| {
            let mut text = f.message.clone();
            if let Some(help) = &f.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            let related: Vec<Value> = f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    json!({
                        "id": i + 1,
                        "physicalLocation": physical(&place(world, &r.location)),
                        "message": {"text": r.message},
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": index.get(f.rule.as_str()).copied().unwrap_or(0),
                "level": level(f.level),
                "message": {"text": text},
                "locations": [{"physicalLocation": physical(&place(world, &f.primary))}],
                "partialFingerprints": {"gitopsLint/v1": fp},
            });
            if !related.is_empty() {
                result["relatedLocations"] = Value::Array(related);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gitops-lint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(uri("a b/c%.yaml"), "a%20b/c%25.yaml");
        assert_eq!(page_body("---\nid: x\n---\n\n## What"), "## What");
    }
}
