//! Names of the generated Applications: each must be a DNS-1123 subdomain (Kubernetes
//! apimachinery `pkg/api/validation/generic.go`, `NameIsDNSSubdomain`), and no two elements may
//! render the same name (Argo CD then skips every Application with it: Argo CD
//! `applicationset/controllers/applicationset_controller.go`, `validateGeneratedApplications`).

use super::{DUPLICATE_NAME, INVALID_NAME};
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::key_path;
use gitops_lint_matchers::k8s_names::{problem, NameKind};
use gitops_lint_model::DocRef;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

fn name_of(app: &Value) -> &str {
    app.get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Checks the names; returns the Applications Argo CD creates and the findings.
pub fn check(
    at: DocRef,
    set_name: &str,
    rendered: Vec<(Value, String)>,
) -> (Vec<(Value, String)>, Vec<Finding>) {
    let mut findings = Vec::new();
    let location = Location::value(
        at.file,
        at.doc,
        key_path(&["spec", "template", "metadata", "name"]),
    );
    // One pass: each name's problem (a verbatim `{{...}}` is reported by the rendering rules)
    // and how many elements render it.
    let names: Vec<&str> = rendered.iter().map(|(app, _)| name_of(app)).collect();
    let mut problems: Vec<Option<String>> = Vec::with_capacity(rendered.len());
    let mut count: HashMap<&str, usize> = HashMap::with_capacity(rendered.len());
    for name in &names {
        problems.push(problem(name, NameKind::Subdomain));
        *count.entry(name).or_insert(0) += 1;
    }
    // Invalid names: one finding per ApplicationSet (the first example, and how many).
    let invalid: Vec<usize> = (0..rendered.len())
        .filter(|&i| problems[i].is_some() && !names[i].contains("{{"))
        .collect();
    if let Some(&first) = invalid.first() {
        let element = &rendered[first].1;
        let name = names[first];
        let why = problems[first].clone().unwrap_or_default();
        let more = match invalid.len() {
            1 => String::new(),
            n => format!(" ({} more elements render invalid names)", n - 1),
        };
        let message = if name.is_empty() {
            format!("the template renders an empty name for {element}: Argo CD reports `ApplicationSet {set_name} contains an application with no name` and creates nothing for it{more}")
        } else {
            format!("the template renders the name `{name}` for {element}, which is not {}: {why}; the API server rejects that Application{more}", NameKind::Subdomain.describe())
        };
        findings.push(
            Finding::new(INVALID_NAME, message, location.clone())
                .with_help("wrap the parameter so it always gives a valid name: `{{path.basenameNormalized}}` (fasttemplate), or `{{.path.basename | normalize}}` (goTemplate)"),
        );
    }
    // Duplicates: every Application with a shared name is skipped. A name with a verbatim
    // `{{...}}` is invalid anyway and reported as such.
    let mut duplicated: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((_, element), name) in rendered.iter().zip(&names) {
        let name = *name;
        if count.get(name).copied().unwrap_or(0) > 1 && !name.is_empty() && !name.contains("{{") {
            duplicated
                .entry(name.to_string())
                .or_default()
                .push(element.clone());
        }
    }
    for (name, elements) in &duplicated {
        let shown: Vec<String> = elements.iter().take(3).cloned().collect();
        let more = if elements.len() > 3 {
            format!(" and {} more", elements.len() - 3)
        } else {
            String::new()
        };
        findings.push(
            Finding::new(
                DUPLICATE_NAME,
                format!("{} elements render the Application name `{name}` ({}{more}): Argo CD reports `ApplicationSet {set_name} contains applications with duplicate name: {name}` and creates or updates none of them", elements.len(), shown.join(", ")),
                location.clone(),
            )
            .with_help("make the name unique per element, e.g. include more of the path (`{{path[1]}}-{{path.basename}}`) or the cluster name"),
        );
    }
    let drop: Vec<bool> = names
        .iter()
        .zip(&problems)
        .map(|(n, p)| p.is_some() || duplicated.contains_key(*n))
        .collect();
    let kept = rendered
        .into_iter()
        .zip(drop)
        .filter(|(_, d)| !d)
        .map(|(pair, _)| pair)
        .collect();
    (kept, findings)
}
