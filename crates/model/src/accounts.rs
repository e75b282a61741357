//! Kubernetes ServiceAccounts as the cluster will see them, from plain manifests here and from
//! rendered Helm releases (`gitops_lint_derive::helm`). The IRSA checks join these with the roles Terraform
//! creates (`gitops_lint_derive::terraform`).

use super::World;
use crate::discover::split_dir;
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::{FileId, FileKind, PathSeg};
use gitops_lint_matchers::paths::join_relative;
use gitops_lint_syntax::pointer::Lookup;
use gitops_lint_syntax::yaml::Keep;
use serde_json::Value;
use std::collections::HashMap;

/// The namespace a kustomization gives the files it lists: repo -> file path -> the namespace
/// and where it is written. Kustomize's namespace transformer sets it on every resource of the
/// build, over any `metadata.namespace` they carry, and Argo CD and Flux apply the build, not
/// the files. Only files listed in `resources:` are covered (not those of a base it lists).
type KustomizeNamespaces = HashMap<usize, HashMap<String, (String, Location)>>;

fn kustomize_namespaces(world: &World) -> KustomizeNamespaces {
    let mut out: KustomizeNamespaces = HashMap::new();
    for file in world
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Kustomization)
    {
        let (dir, _) = split_dir(&file.rel_path);
        for (d, doc) in world.yaml[file.id.0 as usize].iter().enumerate() {
            let Some(namespace) = doc.value.get("namespace").and_then(Value::as_str) else {
                continue;
            };
            let location = Location::value(file.id, d, vec![PathSeg::Key("namespace".into())]);
            let resources = doc
                .value
                .get("resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .filter(|entry| !entry.contains("://"));
            for path in resources.filter_map(|entry| join_relative(dir, entry)) {
                out.entry(file.repo)
                    .or_default()
                    .insert(path, (namespace.to_string(), location.clone()));
            }
        }
    }
    out
}

/// The namespace of a manifest document: its kustomization's, else its `metadata.namespace`,
/// with where it is written.
fn namespace_of(
    world: &World,
    by_kustomize: &KustomizeNamespaces,
    file: FileId,
    doc_index: usize,
    doc: &Value,
) -> (Option<String>, Option<Location>) {
    let f = world.file(file);
    if let Some((ns, at)) = by_kustomize
        .get(&f.repo)
        .and_then(|paths| paths.get(f.rel_path.as_str()))
    {
        return (Some(ns.clone()), Some(at.clone()));
    }
    let written = doc.lookup("/metadata/namespace");
    (
        written.and_then(Value::as_str).map(str::to_string),
        written.map(|_| {
            Location::value(
                file,
                doc_index,
                vec![
                    PathSeg::Key("metadata".into()),
                    PathSeg::Key("namespace".into()),
                ],
            )
        }),
    )
}

/// The annotation that binds a ServiceAccount to an IAM role (IRSA).
pub const ROLE_ARN_ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// Where a ServiceAccount definition comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountSource {
    /// A `kind: ServiceAccount` manifest.
    Manifest,
    /// Rendered from a Helm chart for one release.
    Helm {
        /// The release name.
        release: String,
        /// The chart directory, repo-relative.
        chart: String,
    },
    /// Declared by the config's naming convention (`serviceAccount: "{tenant}-{app}"`).
    Convention,
    /// Named in the values of a release whose chart is not in the linted repositories
    /// (`serviceAccount.name`, the convention of `helm create`'s scaffold).
    Values,
}

/// One ServiceAccount.
#[derive(Clone, Debug)]
pub struct ServiceAccount {
    /// The namespace it lives in (`None` when it cannot be known statically).
    pub namespace: Option<String>,
    /// Where that namespace is decided (`metadata.namespace`, a release's destination
    /// namespace), when it is written down.
    pub namespace_location: Option<Location>,
    /// `metadata.name`.
    pub name: String,
    /// The `eks.amazonaws.com/role-arn` annotation, when set.
    pub role_arn: Option<String>,
    /// The tenant it belongs to, when known (a tenant release's `tenantId`).
    pub tenant: Option<String>,
    /// Where it comes from.
    pub source: AccountSource,
    /// Where its name is written (for a Helm release: the value that decides it, else the
    /// release).
    pub location: Location,
    /// Where the role ARN is written, when set.
    pub role_location: Option<Location>,
}

/// A workload's pods run as a ServiceAccount (`serviceAccountName`, else `default`): the last
/// link of the IRSA chain.
#[derive(Clone, Debug)]
pub struct AccountUse {
    /// The namespace the pods run in (`None` when it cannot be known statically).
    pub namespace: Option<String>,
    /// The ServiceAccount name.
    pub account: String,
    /// Whether the name is written (`serviceAccountName`) rather than Kubernetes' `default`.
    pub explicit: bool,
    /// `Kind/name` of the workload.
    pub workload: String,
    /// The tenant it belongs to, when known.
    pub tenant: Option<String>,
    /// Where it comes from.
    pub source: AccountSource,
    /// Where the name is written (for a Helm release: the value that decides it).
    pub location: Location,
}

/// Where a workload kind keeps its pod spec.
pub(crate) fn pod_spec_pointer(kind: &str) -> Option<&'static str> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => {
            Some("/spec/template/spec")
        }
        "CronJob" => Some("/spec/jobTemplate/spec/template/spec"),
        "Pod" => Some("/spec"),
        _ => None,
    }
}

/// The account fields of a pod spec, as [`account_of`] reads them.
const POD_SPEC_ACCOUNT: Keep = Keep::Keys(&[
    ("serviceAccountName", Keep::Whole),
    ("serviceAccount", Keep::Whole),
]);

/// What of a rendered manifest [`account_of`] and a ServiceAccount's facts read: `kind`,
/// `apiVersion`, `metadata.name`, `metadata.namespace`, `metadata.annotations`, and the account
/// fields of the pod spec at each place [`pod_spec_pointer`] names. For
/// `gitops_lint_syntax::yaml::load_docs_keeping`: the Helm output rendered per release is
/// loaded with only these keys built.
pub const ACCOUNT_KEYS: Keep = Keep::Keys(&[
    ("kind", Keep::Whole),
    ("apiVersion", Keep::Whole),
    (
        "metadata",
        Keep::Keys(&[
            ("name", Keep::Whole),
            ("namespace", Keep::Whole),
            ("annotations", Keep::Whole),
        ]),
    ),
    (
        "spec",
        Keep::Keys(&[
            // `Pod`
            ("serviceAccountName", Keep::Whole),
            ("serviceAccount", Keep::Whole),
            // `Deployment`, `StatefulSet`, `DaemonSet`, `ReplicaSet`, `Job`
            ("template", Keep::Keys(&[("spec", POD_SPEC_ACCOUNT)])),
            // `CronJob`
            (
                "jobTemplate",
                Keep::Keys(&[(
                    "spec",
                    Keep::Keys(&[("template", Keep::Keys(&[("spec", POD_SPEC_ACCOUNT)]))]),
                )]),
            ),
        ]),
    ),
]);

/// The ServiceAccount a workload document runs as, with whether it is written and the path
/// of the field (or of the pod spec when it is not written).
pub fn account_of(doc: &Value) -> Option<(String, bool, Vec<PathSeg>)> {
    let kind = doc.get("kind").and_then(Value::as_str)?;
    let pointer = pod_spec_pointer(kind)?;
    let spec = doc.lookup(pointer)?;
    let mut path: Vec<PathSeg> = pointer
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| PathSeg::Key(s.into()))
        .collect();
    // `serviceAccount` is the deprecated alias Kubernetes still honours.
    for field in ["serviceAccountName", "serviceAccount"] {
        if let Some(name) = spec.get(field).and_then(Value::as_str) {
            path.push(PathSeg::Key(field.into()));
            return Some((name.to_string(), true, path));
        }
    }
    Some(("default".to_string(), false, path))
}

/// Workloads written as plain manifests and the accounts they run as, in file order.
pub fn uses_from_manifests(world: &World) -> Vec<AccountUse> {
    let by_kustomize = kustomize_namespaces(world);
    let mut out = Vec::new();
    for kind in [
        "Deployment",
        "StatefulSet",
        "DaemonSet",
        "ReplicaSet",
        "Job",
        "CronJob",
        "Pod",
    ] {
        for at in world.kind(kind) {
            let Some(doc) = world.doc(*at) else { continue };
            let Some((account, explicit, path)) = account_of(&doc.value) else {
                continue;
            };
            let name = doc
                .value
                .lookup("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            let (namespace, _) = namespace_of(world, &by_kustomize, at.file, at.doc, &doc.value);
            out.push(AccountUse {
                namespace,
                account,
                explicit,
                workload: format!("{kind}/{name}"),
                tenant: None,
                source: AccountSource::Manifest,
                location: Location::value(at.file, at.doc, path),
            });
        }
    }
    out.sort_by_key(|u| match &u.location {
        Location::Path { file, doc, .. } => (file.0, *doc),
        _ => (u32::MAX, 0),
    });
    out
}

/// ServiceAccounts written as plain manifests, in file order.
pub fn from_manifests(world: &World) -> Vec<ServiceAccount> {
    let by_kustomize = kustomize_namespaces(world);
    let mut out = Vec::new();
    for at in world.kind("ServiceAccount") {
        let Some(doc) = world.doc(*at) else { continue };
        let Some(name) = doc.value.lookup("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let key = |k: &str| PathSeg::Key(k.into());
        let role_arn = doc
            .value
            .lookup("/metadata/annotations")
            .and_then(|a| a.get(ROLE_ARN_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_string);
        let (namespace, namespace_location) =
            namespace_of(world, &by_kustomize, at.file, at.doc, &doc.value);
        out.push(ServiceAccount {
            namespace_location,
            namespace,
            name: name.to_string(),
            role_location: role_arn.as_ref().map(|_| {
                Location::value(
                    at.file,
                    at.doc,
                    vec![
                        key("metadata"),
                        key("annotations"),
                        key(ROLE_ARN_ANNOTATION),
                    ],
                )
            }),
            role_arn,
            tenant: None,
            source: AccountSource::Manifest,
            location: Location::value(at.file, at.doc, vec![key("metadata"), key("name")]),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_syntax::yaml::{load_docs, load_docs_keeping};

    #[test]
    fn account_keys_keep_what_account_of_reads_for_every_workload_kind() {
        let pod = "serviceAccountName: runner\n      containers: [{name: c, image: i}]";
        let texts = [
            format!("kind: Pod\nmetadata: {{name: p}}\nspec:\n      {pod}\n"),
            "kind: Pod\nmetadata: {name: p}\nspec:\n      serviceAccount: old\n      containers: []\n".to_string(),
            format!("kind: CronJob\nmetadata: {{name: c}}\nspec:\n  schedule: x\n  jobTemplate:\n    spec:\n      template:\n        spec:\n      {pod}\n"),
            "kind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers: []\n".to_string(),
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: ns\n  labels: {a: b}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/r\n".to_string(),
        ];
        let kinds = [
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "ReplicaSet",
            "Job",
        ];
        let texts = texts.into_iter().chain(kinds.iter().map(|k| {
            format!("kind: {k}\nmetadata: {{name: w, namespace: n}}\nspec:\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec:\n      {pod}\n")
        }));
        for text in texts {
            let full = &load_docs(&text)[0].value;
            let kept = &load_docs_keeping(&text, &ACCOUNT_KEYS)[0].value;
            assert_ne!(full, kept, "something is left out of {text}");
            assert_eq!(account_of(kept), account_of(full), "{text}");
            for pointer in [
                "/kind",
                "/apiVersion",
                "/metadata/name",
                "/metadata/namespace",
                "/metadata/annotations",
            ] {
                assert_eq!(
                    kept.lookup(pointer),
                    full.lookup(pointer),
                    "{pointer} in {text}"
                );
            }
        }
    }
}
