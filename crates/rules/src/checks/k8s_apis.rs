//! `k8s/removed-api` and `k8s/deprecated-api`: manifests whose `apiVersion` the target
//! Kubernetes version (config `kubernetesVersion`) no longer serves, or will stop serving while
//! its replacement is already there. The API server answers an apply of a removed version with
//! `no matches for kind "X" in version "Y"` (kubectl, Argo CD's sync and Flux's
//! kustomize-controller all report it), so the sync fails after merge.
//!
//! The table is the "Removed APIs by release" list of the Kubernetes deprecation guide
//! (kubernetes/website, `content/en/docs/reference/using-api/deprecation-guide.md`), whose
//! newest removal is v1.32. Only built-in groups are listed, so a CRD's kind never matches.
//!
//! Checked: every YAML document of a manifest or tier template, and the literal
//! `apiVersion:`/`kind:` lines of Helm chart templates that Helm renders whatever the values
//! say: outside any `{{ if }}`, `{{ with }}`, `{{ range }}` or `{{ define }}` block. A guarded
//! document renders only for some values, and charts guard an old version exactly to support
//! older clusters (`podSecurityPolicy.enabled`); a template that consults `.Capabilities`
//! picks its version by cluster. Neither is judged.

use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileKind, PathSeg, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use serde_json::Value;

/// One API version of some kinds that a Kubernetes release stopped serving.
struct Removed {
    /// `group/version` (`v1beta1` alone for the core group, which has no removals here).
    api_version: &'static str,
    /// The kinds of that version the release stopped serving.
    kinds: &'static [&'static str],
    /// The minor version (1.x) that no longer serves them.
    removed_in: u32,
    /// What to use instead, newest first, with the minor version that first served it; empty
    /// when nothing replaces it.
    replacements: &'static [(&'static str, u32)],
    /// Said when nothing replaces it.
    instead: &'static str,
}

const APPS_V1: &[(&str, u32)] = &[("apps/v1", 9)];
const FLOWCONTROL: &[&str] = &["FlowSchema", "PriorityLevelConfiguration"];

/// The deprecation guide's removals, oldest first.
const REMOVED: &[Removed] = &[
    // v1.16
    Removed {
        api_version: "extensions/v1beta1",
        kinds: &["DaemonSet", "Deployment", "ReplicaSet"],
        removed_in: 16,
        replacements: APPS_V1,
        instead: "",
    },
    Removed {
        api_version: "extensions/v1beta1",
        kinds: &["NetworkPolicy"],
        removed_in: 16,
        replacements: &[("networking.k8s.io/v1", 8)],
        instead: "",
    },
    Removed {
        api_version: "extensions/v1beta1",
        kinds: &["PodSecurityPolicy"],
        removed_in: 16,
        replacements: &[],
        instead: "PodSecurityPolicy itself is gone since 1.25: use Pod Security Admission (namespace labels `pod-security.kubernetes.io/*`)",
    },
    Removed {
        api_version: "apps/v1beta1",
        kinds: &["Deployment", "StatefulSet"],
        removed_in: 16,
        replacements: APPS_V1,
        instead: "",
    },
    Removed {
        api_version: "apps/v1beta2",
        kinds: &["DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
        removed_in: 16,
        replacements: APPS_V1,
        instead: "",
    },
    // v1.22
    Removed {
        api_version: "admissionregistration.k8s.io/v1beta1",
        kinds: &[
            "MutatingWebhookConfiguration",
            "ValidatingWebhookConfiguration",
        ],
        removed_in: 22,
        replacements: &[("admissionregistration.k8s.io/v1", 16)],
        instead: "",
    },
    Removed {
        api_version: "apiextensions.k8s.io/v1beta1",
        kinds: &["CustomResourceDefinition"],
        removed_in: 22,
        replacements: &[("apiextensions.k8s.io/v1", 16)],
        instead: "",
    },
    Removed {
        api_version: "apiregistration.k8s.io/v1beta1",
        kinds: &["APIService"],
        removed_in: 22,
        replacements: &[("apiregistration.k8s.io/v1", 10)],
        instead: "",
    },
    Removed {
        api_version: "authentication.k8s.io/v1beta1",
        kinds: &["TokenReview"],
        removed_in: 22,
        replacements: &[("authentication.k8s.io/v1", 6)],
        instead: "",
    },
    Removed {
        api_version: "authorization.k8s.io/v1beta1",
        kinds: &[
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SubjectAccessReview",
        ],
        removed_in: 22,
        replacements: &[("authorization.k8s.io/v1", 6)],
        instead: "",
    },
    Removed {
        api_version: "certificates.k8s.io/v1beta1",
        kinds: &["CertificateSigningRequest"],
        removed_in: 22,
        replacements: &[("certificates.k8s.io/v1", 19)],
        instead: "",
    },
    Removed {
        api_version: "coordination.k8s.io/v1beta1",
        kinds: &["Lease"],
        removed_in: 22,
        replacements: &[("coordination.k8s.io/v1", 14)],
        instead: "",
    },
    Removed {
        api_version: "extensions/v1beta1",
        kinds: &["Ingress"],
        removed_in: 22,
        replacements: &[("networking.k8s.io/v1", 19)],
        instead: "",
    },
    Removed {
        api_version: "networking.k8s.io/v1beta1",
        kinds: &["Ingress", "IngressClass"],
        removed_in: 22,
        replacements: &[("networking.k8s.io/v1", 19)],
        instead: "",
    },
    Removed {
        api_version: "rbac.authorization.k8s.io/v1beta1",
        kinds: &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
        removed_in: 22,
        replacements: &[("rbac.authorization.k8s.io/v1", 8)],
        instead: "",
    },
    Removed {
        api_version: "scheduling.k8s.io/v1beta1",
        kinds: &["PriorityClass"],
        removed_in: 22,
        replacements: &[("scheduling.k8s.io/v1", 14)],
        instead: "",
    },
    Removed {
        api_version: "storage.k8s.io/v1beta1",
        kinds: &["CSIDriver"],
        removed_in: 22,
        replacements: &[("storage.k8s.io/v1", 19)],
        instead: "",
    },
    Removed {
        api_version: "storage.k8s.io/v1beta1",
        kinds: &["CSINode"],
        removed_in: 22,
        replacements: &[("storage.k8s.io/v1", 17)],
        instead: "",
    },
    Removed {
        api_version: "storage.k8s.io/v1beta1",
        kinds: &["StorageClass"],
        removed_in: 22,
        replacements: &[("storage.k8s.io/v1", 6)],
        instead: "",
    },
    Removed {
        api_version: "storage.k8s.io/v1beta1",
        kinds: &["VolumeAttachment"],
        removed_in: 22,
        replacements: &[("storage.k8s.io/v1", 13)],
        instead: "",
    },
    // v1.25
    Removed {
        api_version: "batch/v1beta1",
        kinds: &["CronJob"],
        removed_in: 25,
        replacements: &[("batch/v1", 21)],
        instead: "",
    },
    Removed {
        api_version: "discovery.k8s.io/v1beta1",
        kinds: &["EndpointSlice"],
        removed_in: 25,
        replacements: &[("discovery.k8s.io/v1", 21)],
        instead: "",
    },
    Removed {
        api_version: "events.k8s.io/v1beta1",
        kinds: &["Event"],
        removed_in: 25,
        replacements: &[("events.k8s.io/v1", 19)],
        instead: "",
    },
    Removed {
        api_version: "autoscaling/v2beta1",
        kinds: &["HorizontalPodAutoscaler"],
        removed_in: 25,
        replacements: &[("autoscaling/v2", 23)],
        instead: "",
    },
    Removed {
        api_version: "policy/v1beta1",
        kinds: &["PodDisruptionBudget"],
        removed_in: 25,
        replacements: &[("policy/v1", 21)],
        instead: "",
    },
    Removed {
        api_version: "policy/v1beta1",
        kinds: &["PodSecurityPolicy"],
        removed_in: 25,
        replacements: &[],
        instead: "nothing replaces PodSecurityPolicy: use Pod Security Admission (namespace labels `pod-security.kubernetes.io/*`) or a policy engine",
    },
    Removed {
        api_version: "node.k8s.io/v1beta1",
        kinds: &["RuntimeClass"],
        removed_in: 25,
        replacements: &[("node.k8s.io/v1", 20)],
        instead: "",
    },
    // v1.26
    Removed {
        api_version: "flowcontrol.apiserver.k8s.io/v1beta1",
        kinds: FLOWCONTROL,
        removed_in: 26,
        replacements: &[
            ("flowcontrol.apiserver.k8s.io/v1", 29),
            ("flowcontrol.apiserver.k8s.io/v1beta3", 26),
            ("flowcontrol.apiserver.k8s.io/v1beta2", 23),
        ],
        instead: "",
    },
    Removed {
        api_version: "autoscaling/v2beta2",
        kinds: &["HorizontalPodAutoscaler"],
        removed_in: 26,
        replacements: &[("autoscaling/v2", 23)],
        instead: "",
    },
    // v1.27
    Removed {
        api_version: "storage.k8s.io/v1beta1",
        kinds: &["CSIStorageCapacity"],
        removed_in: 27,
        replacements: &[("storage.k8s.io/v1", 24)],
        instead: "",
    },
    // v1.29
    Removed {
        api_version: "flowcontrol.apiserver.k8s.io/v1beta2",
        kinds: FLOWCONTROL,
        removed_in: 29,
        replacements: &[
            ("flowcontrol.apiserver.k8s.io/v1", 29),
            ("flowcontrol.apiserver.k8s.io/v1beta3", 26),
        ],
        instead: "",
    },
    // v1.32
    Removed {
        api_version: "flowcontrol.apiserver.k8s.io/v1beta3",
        kinds: FLOWCONTROL,
        removed_in: 32,
        replacements: &[("flowcontrol.apiserver.k8s.io/v1", 29)],
        instead: "",
    },
];

/// The removal entry for an `apiVersion` and `kind`, if the guide lists one.
fn removal(api_version: &str, kind: &str) -> Option<&'static Removed> {
    REMOVED
        .iter()
        .find(|r| r.api_version == api_version && r.kinds.contains(&kind))
}

/// Whether the deprecation guide lists this `apiVersion` and `kind` as removed in some release.
pub(crate) fn is_scheduled_for_removal(api_version: &str, kind: &str) -> bool {
    removal(api_version, kind).is_some()
}

/// Reports every document of a removed or deprecated API version.
pub fn check(world: &World, config: &Config) -> Vec<Finding> {
    let target = config.kubernetes_minor;
    let mut out = Vec::new();
    for file in &world.files {
        match file.kind {
            FileKind::Manifest | FileKind::TierTemplate => {
                let docs = world
                    .yaml
                    .get(file.id.0 as usize)
                    .map_or(&[][..], Vec::as_slice);
                for (d, doc) in docs.iter().enumerate() {
                    let field = |name: &str| doc.value.get(name).and_then(Value::as_str);
                    let (Some(api), Some(kind)) = (field("apiVersion"), field("kind")) else {
                        continue;
                    };
                    let at = Location::value(file.id, d, vec![PathSeg::Key("apiVersion".into())]);
                    out.extend(judge(api, kind, target, at));
                }
            }
            FileKind::ChartTemplate => {
                for (api, kind, span) in chart_template_apis(file) {
                    out.extend(judge(api, kind, target, Location::Span(span)));
                }
            }
            _ => {}
        }
    }
    out
}

/// The finding for one `apiVersion`/`kind` at `at`, if the target version has removed it, or
/// serves its replacement while the guide schedules it for removal.
fn judge(api: &str, kind: &str, target: u32, at: Location) -> Option<Finding> {
    let r = removal(api, kind)?;
    let replacement = r.replacements.iter().find(|(_, since)| *since <= target);
    let use_instead = match replacement {
        Some((version, _)) => format!("use `apiVersion: {version}`"),
        None if r.replacements.is_empty() => r.instead.to_string(),
        // Nothing that replaces it is served yet at the target version: no way to move now.
        None => return None,
    };
    if r.removed_in <= target {
        let message = format!(
            "`{api}` {kind} is not served since Kubernetes 1.{}: applying it to a 1.{target} cluster fails with `no matches for kind \"{kind}\" in version \"{api}\"`, so the sync fails",
            r.removed_in
        );
        let help = format!("{use_instead}; if the clusters run an older Kubernetes, set `kubernetesVersion` in .gitops-lint.yaml (now 1.{target})");
        return Some(Finding::new(RuleId::K8S_REMOVED_API, message, at).with_help(help));
    }
    let message = format!(
        "`{api}` {kind} is deprecated: Kubernetes 1.{} stops serving it, and its replacement is already served by 1.{target} (`kubernetesVersion`)",
        r.removed_in
    );
    let help = format!(
        "{use_instead} before the clusters move to 1.{}",
        r.removed_in
    );
    Some(Finding::new(RuleId::K8S_DEPRECATED_API, message, at).with_help(help))
}

/// The literal top-level `apiVersion:` and `kind:` of each document of a Helm chart template
/// that renders unconditionally, with the span of the `apiVersion` value. A value with a
/// template action is skipped, so is an `apiVersion:` line inside a block action, and so is
/// the whole file when it consults `.Capabilities` (it picks its version by cluster).
fn chart_template_apis(file: &SourceFile) -> Vec<(&str, &str, Span)> {
    let text = file.text.as_str();
    if text.contains(".Capabilities") {
        return Vec::new();
    }
    let mut out = Vec::new();
    // The current document's `apiVersion` value (with its offset) and `kind`.
    let mut api: Option<(&str, usize)> = None;
    let mut kind: Option<&str> = None;
    // How many block actions are open at the start of the line.
    let mut depth = 0usize;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let line = line.trim_end_matches(['\n', '\r']);
        if line.starts_with("---") {
            out.extend(literal_api(file, api.take(), kind.take()));
        } else if let Some(value) = top_level_value(line, "apiVersion") {
            if depth == 0 {
                let at = start + (value.as_ptr() as usize - line.as_ptr() as usize);
                api = Some((value, at));
            }
        } else if let Some(value) = top_level_value(line, "kind") {
            kind = Some(value);
        }
        depth = block_depth_after(line, depth);
    }
    out.extend(literal_api(file, api, kind));
    out
}

/// The number of open block actions after `line`, given `depth` before it: `if`, `with`,
/// `range`, `define` and `block` open one, `end` closes one (Go `text/template` syntax; a
/// comment `{{/* */}}` is neither).
fn block_depth_after(line: &str, mut depth: usize) -> usize {
    let mut rest = line;
    while let Some(open) = rest.find("{{") {
        let action = rest[open + 2..].trim_start_matches('-').trim_start();
        let word = action
            .split(|c: char| !c.is_ascii_alphabetic())
            .next()
            .unwrap_or("");
        match word {
            "if" | "with" | "range" | "define" | "block" => depth += 1,
            "end" => depth = depth.saturating_sub(1),
            _ => {}
        }
        rest = &rest[open + 2..];
    }
    depth
}

/// One document's literal `apiVersion` and `kind`, when it has both.
fn literal_api<'a>(
    file: &SourceFile,
    api: Option<(&'a str, usize)>,
    kind: Option<&'a str>,
) -> Option<(&'a str, &'a str, Span)> {
    let ((value, start), kind) = (api?, kind?);
    let span = Span {
        file: file.id,
        start,
        end: start + value.len(),
    };
    Some((value, kind, span))
}

/// The plain value of `key: value` at column 0, unquoted; `None` when the line is something
/// else or the value holds a template action (`{{`) or a comment.
fn top_level_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(key)?.strip_prefix(':')?;
    let value = rest.trim();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '/' | '-'));
    plain.then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_version_is_an_error_from_its_release_on() {
        let at = || Location::File(gitops_lint_core::source::FileId(0));
        let f = judge("autoscaling/v2beta2", "HorizontalPodAutoscaler", 26, at());
        assert_eq!(f.map(|f| f.rule), Some(RuleId::K8S_REMOVED_API));
        let f = judge("autoscaling/v2beta2", "HorizontalPodAutoscaler", 25, at());
        assert_eq!(f.map(|f| f.rule), Some(RuleId::K8S_DEPRECATED_API));
        // 1.22 does not serve autoscaling/v2 yet: nothing to move to, nothing reported.
        assert!(judge("autoscaling/v2beta2", "HorizontalPodAutoscaler", 22, at()).is_none());
        // The kind matters: policy/v1beta1 served only some kinds.
        assert!(judge("policy/v1beta1", "Eviction", 37, at()).is_none());
        assert!(judge("autoscaling/v2", "HorizontalPodAutoscaler", 37, at()).is_none());
    }

    #[test]
    fn the_newest_served_replacement_is_named() {
        let at = Location::File(gitops_lint_core::source::FileId(0));
        let f = judge("flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", 27, at);
        let help = f.and_then(|f| f.help).unwrap_or_default();
        assert!(
            help.contains("flowcontrol.apiserver.k8s.io/v1beta3"),
            "{help}"
        );
    }

    #[test]
    fn chart_templates_yield_literal_versions_only() {
        let file = |text: &str| {
            SourceFile::new(
                gitops_lint_core::source::FileId(3),
                0,
                "t.yaml".into(),
                "t.yaml".into(),
                FileKind::ChartTemplate,
                text.into(),
            )
        };
        let f = file("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\n---\napiVersion: {{ .Values.api }}\nkind: PodDisruptionBudget\n---\n{{- if .Values.psp.enabled }}\napiVersion: policy/v1beta1\nkind: PodSecurityPolicy\n{{- end }}\n");
        let found = chart_template_apis(&f);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].0, found[0].1),
            ("policy/v1beta1", "PodDisruptionBudget")
        );
        assert_eq!(&f.text[found[0].2.start..found[0].2.end], "policy/v1beta1");
        let f = file("{{- if .Capabilities.APIVersions.Has \"policy/v1\" }}\napiVersion: policy/v1\n{{- else }}\napiVersion: policy/v1beta1\n{{- end }}\nkind: PodDisruptionBudget\n");
        assert!(chart_template_apis(&f).is_empty());
        // After a closed block, the document renders again whatever the values say.
        let f = file(
            "{{- if .Values.x }}\n# x\n{{- end }}\napiVersion: batch/v1beta1\nkind: CronJob\n",
        );
        assert_eq!(chart_template_apis(&f).len(), 1);
    }
}
