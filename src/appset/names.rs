//! Names of the generated Applications (facts.md §1.7): each must be a DNS-1123 subdomain, and
//! no two elements may render the same name (Argo CD then skips every Application with it).

use super::{DUPLICATE_NAME, INVALID_NAME};
use crate::checks::names::{problem, NameKind};
use crate::finding::{Finding, Location};
use crate::model::DocRef;
use crate::source::key_path;
use serde_json::Value;
use std::collections::BTreeMap;

fn name_of(app: &Value) -> &str {
    app.pointer("/metadata/name")
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
    // Invalid names: one finding per ApplicationSet (the first example, and how many).
    let invalid: Vec<(&str, &str, String)> = rendered
        .iter()
        .filter(|(app, _)| !name_of(app).contains("{{"))
        .filter_map(|(app, element)| {
            problem(name_of(app), NameKind::Subdomain)
                .map(|why| (name_of(app), element.as_str(), why))
        })
        .collect();
    if let Some((name, element, why)) = invalid.first() {
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
    // Duplicates: every Application with a shared name is skipped.
    let mut by_name: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (app, element) in &rendered {
        by_name.entry(name_of(app)).or_default().push(element);
    }
    let duplicated: Vec<(String, Vec<String>)> = by_name
        .into_iter()
        // A name with a verbatim `{{...}}` is invalid anyway and reported as such.
        .filter(|(n, e)| e.len() > 1 && !n.is_empty() && !n.contains("{{"))
        .map(|(n, e)| (n.to_string(), e.iter().map(|s| s.to_string()).collect()))
        .collect();
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
    let kept = rendered
        .into_iter()
        .filter(|(app, _)| {
            let n = name_of(app);
            !duplicated.iter().any(|(d, _)| *d == n) && problem(n, NameKind::Subdomain).is_none()
        })
        .collect();
    (kept, findings)
}
