//! Kubernetes ServiceAccounts as the cluster will see them, from plain manifests here and from
//! rendered Helm releases (`gitops_lint_derive::helm`). The IRSA checks join these with the roles Terraform
//! creates (`gitops_lint_derive::terraform`).

use super::World;
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::PathSeg;
use serde_json::Value;

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

/// The ServiceAccount a workload document runs as, with whether it is written and the path
/// of the field (or of the pod spec when it is not written).
pub fn account_of(doc: &Value) -> Option<(String, bool, Vec<PathSeg>)> {
    let kind = doc.get("kind").and_then(Value::as_str)?;
    let pointer = pod_spec_pointer(kind)?;
    let spec = doc.pointer(pointer)?;
    let mut path: Vec<PathSeg> = pointer
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| PathSeg::Key(s.to_string()))
        .collect();
    // `serviceAccount` is the deprecated alias Kubernetes still honours.
    for field in ["serviceAccountName", "serviceAccount"] {
        if let Some(name) = spec.get(field).and_then(Value::as_str) {
            path.push(PathSeg::Key(field.to_string()));
            return Some((name.to_string(), true, path));
        }
    }
    Some(("default".to_string(), false, path))
}

/// Workloads written as plain manifests and the accounts they run as, in file order.
pub fn uses_from_manifests(world: &World) -> Vec<AccountUse> {
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
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            out.push(AccountUse {
                namespace: doc
                    .value
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string),
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
    let mut out = Vec::new();
    for at in world.kind("ServiceAccount") {
        let Some(doc) = world.doc(*at) else { continue };
        let Some(name) = doc.value.pointer("/metadata/name").and_then(Value::as_str) else {
            continue;
        };
        let key = |k: &str| PathSeg::Key(k.to_string());
        let role_arn = doc
            .value
            .pointer("/metadata/annotations")
            .and_then(|a| a.get(ROLE_ARN_ANNOTATION))
            .and_then(Value::as_str)
            .map(str::to_string);
        let namespace_path = vec![key("metadata"), key("namespace")];
        out.push(ServiceAccount {
            namespace_location: doc
                .value
                .pointer("/metadata/namespace")
                .map(|_| Location::value(at.file, at.doc, namespace_path)),
            namespace: doc
                .value
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string),
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
