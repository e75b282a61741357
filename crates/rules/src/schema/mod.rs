//! `schema/unknown-field` and `schema/invalid-type`: every manifest of a known kind (core
//! Kubernetes, Argo CD, Flux, and the CRDs the repositories commit) is validated against a
//! strict JSON Schema, the way `kubectl apply --validate=strict` or kubeconform `-strict`
//! would, and each problem is explained: where a mis-indented field belongs, which field a
//! typo meant, what YAML made of an unquoted value. `schema/kind-not-checked` says once per
//! kind which kinds had no schema.

mod builtin;
mod catalog;
mod cel;
mod crd;
mod hint;
mod nav;
mod registry;
mod words;

use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, FileKind, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use gitops_lint_syntax::locate::SpanIndex;
use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use rayon::prelude::*;
use registry::{registry_for, Registry};
use serde_json::Value;
use std::collections::BTreeMap;

/// One problem the validator found, before it is worded.
#[derive(Debug)]
struct Problem<'r> {
    doc: usize,
    /// The kind's definition name.
    def: &'r str,
    /// For an unknown field: the object holding it; for a bad type: the value.
    path: Vec<PathSeg>,
    /// The unknown field's name (`None`: a bad type).
    unknown: Option<String>,
}

/// Validates every document of a known kind, in parallel by file: built-in, Argo CD and Flux
/// kinds, and the kinds of the CRDs the linted repositories commit; says once per kind which
/// kinds it could not validate. Built-in kinds are those of `kubernetesVersion`.
pub fn check(world: &World, config: &Config) -> Vec<Finding> {
    let base = registry_for(config.kubernetes_minor);
    let mut crds = crd::schemas(world);
    // The embedded catalog fills in what neither the hand-written schemas nor the
    // repositories' CRDs describe (`catalog.rs`); the repositories' CRDs come first and win.
    let from_catalog = catalog::schemas(world, base, &crds);
    crds.extend(from_catalog);
    let rules: cel::Rules = crds
        .iter_mut()
        .filter(|c| !c.cel.is_empty())
        .map(|c| (c.def.clone(), std::mem::take(&mut c.cel)))
        .collect();
    let with_crds;
    let reg: &Registry = if crds.is_empty() {
        base
    } else {
        with_crds = Registry::with_crds(base, crds);
        &with_crds
    };
    let files: Vec<usize> = world
        .files
        .iter()
        .enumerate()
        .filter(|(_, f)| matches!(f.kind, FileKind::Manifest | FileKind::TierTemplate))
        .map(|(i, _)| i)
        .filter(|i| world.yaml.get(*i).is_some_and(|docs| !docs.is_empty()))
        .collect();
    let mut findings: Vec<Finding> = files
        .par_iter()
        .flat_map_iter(|&i| check_file(world, reg, i))
        .collect();
    findings.extend(not_checked(world, reg, &files));
    findings.extend(cel::check(world, reg, &rules, &files));
    findings
}

/// `schema/kind-not-checked`: one info finding per `apiVersion` and `kind` that has no schema,
/// at its first document, counting its documents. Kinds another rule already reports
/// (removed API versions, kinds gitops-lint does not expand) and templated names are left out.
fn not_checked(world: &World, reg: &Registry, files: &[usize]) -> Vec<Finding> {
    let mut kinds: BTreeMap<(&str, &str), (FileId, usize, usize)> = BTreeMap::new();
    for &i in files {
        let file = &world.files[i];
        for (d, doc) in world.yaml[i].iter().enumerate() {
            let field = |name: &str| doc.value.get(name).and_then(Value::as_str);
            let (Some(api), Some(kind)) = (field("apiVersion"), field("kind")) else {
                continue;
            };
            if reg.kind(api, kind).is_some() || reported_elsewhere(api, kind) {
                continue;
            }
            kinds.entry((api, kind)).or_insert((file.id, d, 0)).2 += 1;
        }
    }
    kinds
        .into_iter()
        .map(|((api, kind), (file, doc, count))| {
            let documents = if count == 1 {
                "1 document".to_string()
            } else {
                format!("{count} documents")
            };
            Finding::new(
                RuleId::SCHEMA_KIND_NOT_CHECKED,
                format!("no schema for `{kind}` (`{api}`): its fields were not checked ({documents} of this kind); unknown fields and wrong types in them go unreported"),
                Location::value(file, doc, vec![PathSeg::Key("kind".into())]),
            )
            .with_help(if builtin::is_built_in_group(api) {
                format!("Kubernetes 1.{} (`kubernetesVersion`) has no such kind as far as k8s-openapi knows: an alpha or removed API, or a typo in `apiVersion` or `kind`; if the clusters run another version, set `kubernetesVersion`; `schema/kind-not-checked: off` under `rules:` silences this", reg.kubernetes_minor())
            } else {
                "commit the kind's CustomResourceDefinition (apiextensions.k8s.io/v1) in a linted folder, or list the CRD file or its folder under `schemas:` in .gitops-lint.yaml; or set `schema/kind-not-checked: off` under `rules:`".to_string()
            })
        })
        .collect()
}

/// Whether a kind without a schema is already the subject of another rule, is read another
/// way, or is not a kind yet.
fn reported_elsewhere(api: &str, kind: &str) -> bool {
    let group = api.split_once('/').map_or("", |(g, _)| g);
    // CRDs are read as the schemas of their kinds (`crd.rs`); they are generated or vendored
    // files, and a note on each would come with every repository that commits them.
    (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition")
        || crate::checks::k8s_apis::is_scheduled_for_removal(api, kind)
        || crate::checks::unknown_kinds::NOT_EXPANDED
            .iter()
            .any(|(g, k)| *g == group && *k == kind)
        // A template's `{{...}}`, or a tier template's masked `{PLACEHOLDER}`.
        || [api, kind].iter().any(|s| s.contains("{{") || is_placeholder(s))
}

fn check_file(world: &World, reg: &Registry, i: usize) -> Vec<Finding> {
    let file = &world.files[i];
    let template = file.kind == FileKind::TierTemplate;
    let mut problems = Vec::new();
    for (d, doc) in world.yaml[i].iter().enumerate() {
        problems.extend(validate(reg, d, &doc.value, template));
    }
    if problems.is_empty() {
        return Vec::new();
    }
    let index = SpanIndex::new(&gitops_lint_syntax::parse_text(file));
    let ctx = words::Context {
        reg,
        file,
        index: &index,
    };
    problems
        .iter()
        .filter_map(|p| {
            let doc = &world.yaml[i][p.doc].value;
            let finding = match &p.unknown {
                Some(key) => ctx.unknown_field(p.doc, doc, p.def, &p.path, key),
                None => ctx.invalid_type(p.doc, doc, p.def, &p.path),
            }?;
            Some(with_provenance(finding, p.def))
        })
        .collect()
}

/// A finding from a catalog schema says which pinned release judged it and how to override it.
fn with_provenance(mut finding: Finding, def: &str) -> Finding {
    if let Some(note) = catalog::provenance(def) {
        finding.help = Some(match finding.help.take() {
            Some(help) => format!("{help}; {note}"),
            None => note,
        });
    }
    finding
}

/// Validates one document; unknown kinds and documents without `apiVersion`/`kind` yield nothing.
fn validate<'r>(reg: &'r Registry, doc: usize, value: &Value, template: bool) -> Vec<Problem<'r>> {
    let (Some(api), Some(kind)) = (
        value.get("apiVersion").and_then(Value::as_str),
        value.get("kind").and_then(Value::as_str),
    ) else {
        return Vec::new();
    };
    let Some(def) = reg.kind(api, kind) else {
        return Vec::new();
    };
    let Some(validator) = reg.validator(def) else {
        return Vec::new();
    };
    if validator.is_valid(value) {
        return Vec::new();
    }
    // A SOPS-encrypted document: Flux's kustomize-controller (internal/decryptor,
    // `DecryptResource`), KSOPS and helm-secrets decrypt it before applying, and sops emits
    // only the data branches, so the top-level `sops:` metadata never reaches the API server
    // and the `ENC[...]` values are decrypted to their real types.
    let sops = value.get("sops").is_some_and(|m| m.get("mac").is_some());
    let mut out = Vec::new();
    for error in validator.iter_errors(value) {
        let path: Vec<PathSeg> = error
            .instance_path()
            .segments()
            .map(|s| match s {
                LocationSegment::Property(k) => PathSeg::Key(k.as_ref().into()),
                LocationSegment::Index(i) => PathSeg::Index(i),
            })
            .collect();
        match error.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                for key in unexpected {
                    // `$patch`, `$setElementOrder/...`, `$retainKeys`: strategic-merge-patch
                    // directives in a Kustomize patch file, not fields.
                    if key.starts_with('$')
                        || (template && is_placeholder(key))
                        || (sops && path.is_empty() && key == "sops")
                    {
                        continue;
                    }
                    out.push(Problem {
                        doc,
                        def,
                        path: path.clone(),
                        unknown: Some(key.clone()),
                    });
                }
            }
            ValidationErrorKind::Type { .. } => {
                if let Value::String(s) = error.instance().as_ref() {
                    // `{{...}}`: an ApplicationSet (or other) template fills it in later.
                    // A masked `{PLACEHOLDER}`: a tier template's `sed` fills it in later.
                    // A value that is wholly `${VAR}` is substituted before anything is
                    // applied (Flux post-build substitution: fluxcd/pkg kustomize_varsub.go
                    // renders to YAML, substitutes, and parses again, so `${REPLICAS}` arrives
                    // as a number; envsubst likewise): the raw template is not judged.
                    let substituted = s.starts_with("${") && s.ends_with('}');
                    if s.contains("{{")
                        || (template && is_placeholder(s))
                        || (sops && s.starts_with("ENC["))
                        || substituted
                    {
                        continue;
                    }
                }
                out.push(Problem {
                    doc,
                    def,
                    path,
                    unknown: None,
                });
            }
            _ => {}
        }
    }
    out
}

/// Whether a tier template's text held a `{PLACEHOLDER}` here (masked as `_PLACEHOLDER_`).
fn is_placeholder(s: &str) -> bool {
    gitops_lint_syntax::placeholder::unmask(s) != s
}

#[cfg(test)]
mod tests {
    use super::registry::registry;
    use super::*;
    use serde_json::json;

    fn problems(doc: Value) -> Vec<(String, Option<String>)> {
        validate(registry(), 0, &doc, false)
            .into_iter()
            .map(|p| (gitops_lint_core::source::display_path(&p.path), p.unknown))
            .collect()
    }

    fn deployment(container: Value) -> Value {
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": "web", "creationTimestamp": null,
                            "annotations": {"argocd.argoproj.io/sync-wave": "5"}},
               "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                        "template": {"metadata": {"labels": {"app": "web"}},
                                     "spec": {"containers": [container]}}},
               "status": {"whatever": 1}})
    }

    #[test]
    fn quantities_accept_numbers_and_int_or_string_accepts_both() {
        let c = json!({"name": "web", "image": "nginx",
                       "resources": {"requests": {"cpu": 1, "memory": 512}, "limits": {"cpu": 0.5, "memory": "1Gi"}},
                       "ports": [{"containerPort": 80}],
                       "livenessProbe": {"httpGet": {"port": "http", "path": "/"}},
                       "readinessProbe": {"httpGet": {"port": 8080}},
                       "env": null});
        assert_eq!(problems(deployment(c)), vec![]);
    }

    #[test]
    fn unknown_fields_and_bad_types_are_found() {
        let c = json!({"name": "web", "image": "nginx", "requests": {"cpu": 1},
                       "env": [{"name": "PORT", "value": 8080}]});
        let mut d = deployment(c);
        d["spec"]["replicas"] = json!("3");
        d["metadata"]["labels"] = json!({"team/x": true});
        let got = problems(d);
        assert!(got.contains(&(
            "spec.template.spec.containers[0]".into(),
            Some("requests".into())
        )));
        assert!(got.contains(&("spec.replicas".into(), None)));
        assert!(got.contains(&("spec.template.spec.containers[0].env[0].value".into(), None)));
        assert!(
            got.contains(&("metadata.labels.team/x".into(), None)),
            "{got:?}"
        );
        assert_eq!(got.len(), 4, "{got:?}");
    }

    #[test]
    fn argo_cd_application_is_strict_but_values_object_is_open() {
        let app = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "Application",
            "metadata": {"name": "a"},
            "spec": {"project": "default",
                     "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
                     "source": {"repoURL": "https://x", "chart": "c", "targetRevision": "1.0.0",
                                "helm": {"valuesObject": {"any": {"shape": [1, true]}}}},
                     "syncPolicy": {"automated": {"prune": true, "selfHeal": true}}}});
        assert_eq!(problems(app.clone()), vec![]);
        let mut bad = app;
        bad["spec"]["sourceRepo"] = json!("x");
        assert_eq!(
            problems(bad),
            vec![("spec".into(), Some("sourceRepo".into()))]
        );
    }

    #[test]
    fn built_in_kinds_follow_kubernetes_version() {
        // `hostnameOverride` joined the PodSpec in 1.34 (k8s-openapi v1_34).
        let mut d = deployment(json!({"name": "web", "image": "nginx"}));
        d["spec"]["template"]["spec"]["hostnameOverride"] = json!("web-0");
        let at = |minor: u32| -> Vec<Option<String>> {
            validate(registry_for(minor), 0, &d, false)
                .into_iter()
                .map(|p| p.unknown)
                .collect()
        };
        assert_eq!(at(33), vec![Some("hostnameOverride".to_string())]);
        // Older than the oldest generated version: checked as 1.33.
        assert_eq!(at(30), vec![Some("hostnameOverride".to_string())]);
        assert_eq!(at(34), vec![]);
        assert_eq!(at(37), vec![]);
        // A kind beyond the former 27 core ones, at the default version: the field is
        // `paramRef`.
        let binding = json!({"apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": "b"},
            "spec": {"policyName": "p", "validationActions": ["Deny"], "paramsRef": {"name": "x"}}});
        assert_eq!(
            problems(binding),
            vec![("spec".into(), Some("paramsRef".into()))]
        );
    }

    #[test]
    fn templates_and_unknown_kinds_are_not_flagged() {
        let set = json!({"apiVersion": "argoproj.io/v1alpha1", "kind": "ApplicationSet",
            "metadata": {"name": "s"},
            "spec": {"generators": [{"list": {"elements": [{"anything": 1}]}}],
                     "template": {"metadata": {"name": "{{path.basename}}"},
                                  "spec": {"project": "default",
                                           "source": {"repoURL": "x", "path": "{{path}}"},
                                           "destination": {"namespace": "{{path.basename}}"},
                                           "revisionHistoryLimit": "{{limit}}"}}}});
        assert_eq!(problems(set), vec![]);
        let crd = json!({"apiVersion": "example.com/v1", "kind": "Widget", "spec": {"x": 1}});
        assert_eq!(problems(crd), vec![]);
        let masked = json!({"apiVersion": "apps/v1", "kind": "Deployment",
                            "spec": {"replicas": "_REPLICAS_"}});
        assert_eq!(validate(registry(), 0, &masked, true).len(), 0);
        assert_eq!(validate(registry(), 0, &masked, false).len(), 1);
    }
}
