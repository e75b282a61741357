//! `gitops/kind-not-understood`: GitOps kinds that create other GitOps objects, which
//! gitops-lint does not expand (Flux Operator's `ResourceSet` renders Flux objects from inputs,
//! `FluxInstance` installs and syncs Flux). What they create is not checked; one info finding
//! for the whole run says so, instead of silence.

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::RuleId;
use gitops_lint_model::{DocRef, World};
use serde_json::Value;

/// (API group, kind) of the kinds known to create objects that are not expanded here.
pub(crate) const NOT_EXPANDED: &[(&str, &str)] = &[
    ("fluxcd.controlplane.io", "ResourceSet"),
    ("fluxcd.controlplane.io", "ResourceSetInputProvider"),
    ("fluxcd.controlplane.io", "FluxInstance"),
];

/// One finding, at the first such document, counting them all by kind.
pub fn check(world: &World) -> Vec<Finding> {
    let mut found: Vec<(&str, Vec<DocRef>)> = Vec::new();
    for (group, kind) in NOT_EXPANDED {
        let docs: Vec<DocRef> = world
            .kind(kind)
            .iter()
            .copied()
            .filter(|at| {
                world
                    .doc(*at)
                    .and_then(|d| d.value.get("apiVersion"))
                    .and_then(Value::as_str)
                    .is_some_and(|api| api.split('/').next() == Some(group))
            })
            .collect();
        if !docs.is_empty() {
            found.push((kind, docs));
        }
    }
    let Some(first) = found.iter().flat_map(|(_, d)| d.iter()).min().copied() else {
        return Vec::new();
    };
    let total: usize = found.iter().map(|(_, d)| d.len()).sum();
    let kinds = found
        .iter()
        .map(|(k, d)| format!("`{k}` ×{}", d.len()))
        .collect::<Vec<_>>()
        .join(", ");
    vec![Finding::new(
        RuleId::GITOPS_KIND_NOT_UNDERSTOOD,
        format!("{total} document{} of kinds gitops-lint does not expand ({kinds}): the objects they create are not checked", if total == 1 { "" } else { "s" }),
        Location::key(first.file, first.doc, vec![gitops_lint_core::source::PathSeg::Key("kind".into())]),
    )
    .with_help("nothing to fix; check what they render with the tool that renders them (e.g. `flux-operator build rset`)")]
}
