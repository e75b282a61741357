//! SARIF 2.1.0 (`schemas/sarif-schema-2.1.0.json`), the format GitHub code scanning uploads.
//!
//! `tool.driver.rules` is the rule catalog: each rule's summary, its page as help, and its
//! default level. Each result has the finding's real region (1-based lines, columns counted in
//! characters, end column exclusive, as in the human output), `relatedLocations` for the other
//! files a cross-file finding involves, and the baseline fingerprint as a partial fingerprint so
//! code scanning tracks a finding across unrelated edits.

use super::{place, Place};
use gitops_lint_core::catalog::{self, RuleId};
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use serde::Serialize;
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

// Why structs that borrow for the results, not a `serde_json::Value` tree: with 23,000
// findings the tree (a map per object, a copy of every string) took more time and memory than
// writing it. The fields serialize in declaration order, the order the tree had.

/// `physicalLocation`: the file and the region.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Physical {
    artifact_location: Artifact,
    region: Region,
}

/// `artifactLocation`.
#[derive(Serialize)]
struct Artifact {
    uri: String,
}

/// `region`: 1-based, end column exclusive.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
}

/// A `message` object.
#[derive(Serialize)]
struct Message<'a> {
    text: &'a str,
}

/// One entry of `locations`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Located {
    physical_location: Physical,
}

/// One entry of `relatedLocations`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RelatedLocation<'a> {
    id: usize,
    physical_location: Physical,
    message: Message<'a>,
}

/// `partialFingerprints`.
#[derive(Serialize)]
struct Fingerprints {
    #[serde(rename = "gitopsLint/v1")]
    v1: String,
}

/// One result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'a RuleId,
    rule_index: usize,
    level: &'static str,
    message: Message<'a>,
    locations: [Located; 1],
    partial_fingerprints: Fingerprints,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<RelatedLocation<'a>>,
}

/// The log: one run.
#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

/// The run: the tool with its rule catalog, and the results.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
}

/// `tool`.
#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

/// `tool.driver`: the rules are a few dozen, kept as values.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    rules: Vec<Value>,
}

fn physical(p: &Place) -> Physical {
    Physical {
        artifact_location: Artifact { uri: uri(p.file) },
        region: Region {
            start_line: p.line,
            start_column: p.column,
            end_line: p.end_line,
            end_column: p.end_column,
        },
    }
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
    // The message and its help line, owned per finding; the results borrow them.
    let texts: Vec<String> = findings
        .iter()
        .map(|f| match &f.help {
            Some(help) => format!("{}\nhelp: {help}", f.message),
            None => f.message.clone(),
        })
        .collect();
    let results: Vec<SarifResult> = findings
        .iter()
        .zip(fingerprints)
        .zip(&texts)
        .map(|((f, fp), text)| SarifResult {
            rule_id: &f.rule,
            rule_index: index.get(f.rule.as_str()).copied().unwrap_or(0),
            level: level(f.level),
            message: Message { text },
            locations: [Located {
                physical_location: physical(&place(world, &f.primary)),
            }],
            partial_fingerprints: Fingerprints { v1: fp },
            related_locations: f
                .related
                .iter()
                .enumerate()
                .map(|(i, r)| RelatedLocation {
                    id: i + 1,
                    physical_location: physical(&place(world, &r.location)),
                    message: Message { text: &r.message },
                })
                .collect(),
        })
        .collect();
    let log = Log {
        schema: SCHEMA_URI,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "gitops-lint",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    rules: rules.into_values().collect(),
                },
            },
            column_kind: "unicodeCodePoints",
            results,
        }],
    };
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
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
