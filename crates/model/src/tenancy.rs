//! Tenants and pools as the apps-repo declares them: one Argo CD Application or Flux HelmRelease
//! per tenant under `tenants/<tier>/`, and one per tier template. Helm values are read from
//! wherever the release keeps them (a `values: |` string, `valuesObject`, `spec.values`).

use super::World;
use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{path_below, FileId, FileKind, PathSeg, SourceFile, Span};
use gitops_lint_syntax::lints::YamlOptions;
use gitops_lint_syntax::pointer::Lookup;
use gitops_lint_syntax::yaml::{self, literal_to_outer};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::Value;

/// A tenant release (or a tier template, which is a tenant-to-be).
#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    /// The tenant id: `values.tenantId`, else the file name stem.
    pub id: String,
    /// The tier, from `tenants/<tier>/` or the template's file name.
    pub tier: String,
    /// Displayed file path.
    pub file: String,
    /// The file itself (not part of the policy input: policies see `file`).
    #[serde(skip)]
    pub file_id: FileId,
    /// Document index in the file.
    pub doc: usize,
    /// `Application` or `HelmRelease`.
    pub kind: String,
    /// `metadata.name`.
    pub name: Option<String>,
    /// Whether this is a tier template rather than a rendered tenant.
    pub template: bool,
    /// Where it deploys: `spec.destination.namespace` or `spec.targetNamespace`.
    pub namespace: Option<String>,
    /// Path of the namespace field.
    pub namespace_path: Vec<PathSeg>,
    /// The Helm values as the chart sees them.
    pub values: Value,
    /// Path of the values in the document (it may be a YAML string).
    pub values_path: Vec<PathSeg>,
    /// Path of `tenantId`, when the values set it.
    pub id_path: Option<Vec<PathSeg>>,
}

/// A pool environment: a shared release that pooled tenants point at with `envId`.
#[derive(Clone, Debug, Serialize)]
pub struct Pool {
    /// The pool name (`pool-1`).
    pub id: String,
    /// Displayed file path.
    pub file: String,
    /// The file itself (not part of the policy input).
    #[serde(skip)]
    pub file_id: FileId,
    /// Document index.
    pub doc: usize,
}

/// The tier of a tenant file (`.../tenants/<tier>/<file>`) or a template (`<tier>_tenant_template.yaml`).
fn tier_of(file: &SourceFile, config: &Config) -> Option<(String, bool)> {
    let segments: Vec<&str> = file.rel_path.split('/').collect();
    if file.kind == FileKind::TierTemplate {
        let name = segments.last()?;
        let tier = name.split_once("_tenant_template.")?.0;
        return config
            .tiers
            .contains_key(tier)
            .then(|| (tier.to_string(), true));
    }
    if file.kind != FileKind::Manifest || segments.len() < 3 {
        return None;
    }
    let n = segments.len();
    (segments[n - 3] == "tenants" && config.tiers.contains_key(segments[n - 2]))
        .then(|| (segments[n - 2].to_string(), false))
}

fn api_group(doc: &Value) -> &str {
    doc.get("apiVersion")
        .and_then(Value::as_str)
        .and_then(|v| v.split('/').next())
        .unwrap_or("")
}

fn keys(path: &[&str]) -> Vec<PathSeg> {
    gitops_lint_core::source::key_path(path)
}

/// The Helm values of a release and where they are. A values string is parsed here; its syntax
/// errors become findings at the right line inside the block.
pub fn values_of(
    file: &SourceFile,
    doc_index: usize,
    doc: &yaml::YamlDoc,
    findings: &mut Vec<Finding>,
) -> Option<(Value, Vec<PathSeg>)> {
    let v = &doc.value;
    match v.get("kind").and_then(Value::as_str) {
        Some("Application") if api_group(v) == "argoproj.io" => {
            let helm = v.lookup("/spec/source/helm")?;
            if let Some(obj) = helm.get("valuesObject").filter(|o| o.is_object()) {
                return Some((
                    obj.clone(),
                    keys(&["spec", "source", "helm", "valuesObject"]),
                ));
            }
            let path = keys(&["spec", "source", "helm", "values"]);
            match helm.get("values") {
                Some(Value::String(s)) => {
                    let literal = doc.literals.iter().find(|l| l.path == path);
                    // Lines and columns in messages are the file's, not the embedded text's.
                    let options = YamlOptions {
                        column_offset: literal.map_or(0, |l| l.column),
                        line_offset: literal.map_or(0, |l| l.line),
                        // Helm reads these values (Argo CD hands the string to Helm).
                        reader: gitops_lint_syntax::lints::Reader::Helm,
                        ..YamlOptions::default()
                    };
                    let inner = yaml::load_with(s, &options);
                    let place = |offset: usize| match literal {
                        Some(l) => Location::Span(Span {
                            file: file.id,
                            start: literal_to_outer(&file.text, l.start, s, offset),
                            end: literal_to_outer(&file.text, l.start, s, offset),
                        }),
                        None => Location::value(file.id, doc_index, path.clone()),
                    };
                    for issue in inner.issues {
                        let location = match (literal, place(issue.start)) {
                            (Some(l), Location::Span(span)) => Location::Span(Span {
                                end: literal_to_outer(&file.text, l.start, s, issue.end),
                                ..span
                            }),
                            (_, other) => other,
                        };
                        // Fixes are in the embedded text's offsets; `--fix` leaves them alone.
                        let mut f = Finding::new(issue.rule, issue.message, location);
                        f.help = issue.help;
                        for (start, end, message) in issue.related {
                            let related = match (literal, place(start)) {
                                (Some(l), Location::Span(span)) => Location::Span(Span {
                                    end: literal_to_outer(&file.text, l.start, s, end),
                                    ..span
                                }),
                                (_, other) => other,
                            };
                            f = f.with_related(related, message);
                        }
                        findings.push(f);
                    }
                    let value = inner.docs.into_iter().next().map(|d| d.value)?;
                    Some((value, path))
                }
                Some(obj @ Value::Object(_)) => Some((obj.clone(), path)),
                _ => None,
            }
        }
        Some("HelmRelease") if api_group(v) == "helm.toolkit.fluxcd.io" => {
            let values = v.lookup("/spec/values")?;
            Some((values.clone(), keys(&["spec", "values"])))
        }
        _ => None,
    }
}

/// The environment a pool release serves, as `envId` names it: the chart routes a pooled
/// tenant's `envId` to the pool whose `tenantId` (and namespace) it is, so that value is the
/// pool's identity, not the Application or release name (`pool-1-basic` serves `pool-1`).
/// `None` when the release sets neither, and its name stands in.
fn pool_id(doc: &Value, values: &Value) -> Option<String> {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    text(values.get("tenantId"))
        .or_else(|| text(doc.lookup("/spec/destination/namespace")))
        .or_else(|| text(doc.lookup("/spec/targetNamespace")))
}

/// What one file declares: findings inside its embedded values, its tenants, its pools.
type FileTenancy = (Vec<Finding>, Vec<Tenant>, Vec<Pool>);

/// Finds every tenant and pool in the World. Parse problems inside embedded values are returned.
pub fn collect(world: &mut World, config: &Config) -> Vec<Finding> {
    // Why parallel: each tenant's values string is parsed and linted here (10,000 at scale),
    // and that ran on one core. Files are independent; their results are joined in file
    // order, so tenants, pools and findings come out as the serial loop's did.
    // Batches of at most 64 files, for the reason `load` gives.
    let per_file: Vec<FileTenancy> = world
        .files
        .par_iter()
        .with_max_len(64)
        .map(|file| collect_file(world, file, config))
        .collect();
    // Why sized first: ten thousand tenants pushed into a growing list leave up to half of its
    // last allocation unused for the rest of the run.
    let mut findings = Vec::new();
    let mut tenants = Vec::with_capacity(per_file.iter().map(|(_, t, _)| t.len()).sum());
    let mut pools = Vec::with_capacity(per_file.iter().map(|(_, _, p)| p.len()).sum());
    for (f, t, p) in per_file {
        findings.extend(f);
        tenants.extend(t);
        pools.extend(p);
    }
    world.tenants = tenants;
    world.pools = pools;
    findings
}

/// The tenants and pools of one file.
fn collect_file(world: &World, file: &SourceFile, config: &Config) -> FileTenancy {
    let mut findings = Vec::new();
    let mut tenants = Vec::new();
    let mut pools = Vec::new();
    let in_pooled_envs = file.rel_path.split('/').any(|s| s == "pooled-envs");
    let tier = tier_of(file, config);
    if tier.is_none() && !in_pooled_envs {
        return (findings, tenants, pools);
    }
    for (d, doc) in world.yaml[file.id.0 as usize].iter().enumerate() {
        let Some((values, values_path)) = values_of(file, d, doc, &mut findings) else {
            continue;
        };
        let v = &doc.value;
        let name = v
            .lookup("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_string);
        let stem = file.stem().to_string();
        let is_pool = in_pooled_envs
            || config.is_pool_name(&stem)
            || name.as_deref().is_some_and(|n| config.is_pool_name(n));
        if is_pool {
            pools.push(Pool {
                id: pool_id(v, &values).or(name).unwrap_or(stem),
                file: file.display.clone(),
                file_id: file.id,
                doc: d,
            });
            continue;
        }
        let Some((tier, template)) = tier.clone() else {
            continue;
        };
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let namespace_path = if kind == "HelmRelease" {
            keys(&["spec", "targetNamespace"])
        } else {
            keys(&["spec", "destination", "namespace"])
        };
        let unmask = |s: &str| {
            if template {
                gitops_lint_syntax::placeholder::unmask(s)
            } else {
                s.to_string()
            }
        };
        let namespace = crate::view::value_at(v, &namespace_path)
            .and_then(Value::as_str)
            .map(unmask);
        let tenant_id = values
            .get("tenantId")
            .and_then(Value::as_str)
            .map(str::to_string);
        let id_path = tenant_id
            .as_ref()
            .map(|_| path_below(&values_path, &["tenantId"]));
        let id = tenant_id.unwrap_or(stem);
        tenants.push(Tenant {
            // Rules compare masked values with each other; people read the template's spelling.
            id: if template {
                gitops_lint_syntax::placeholder::unmask(&id)
            } else {
                id
            },
            tier,
            file: file.display.clone(),
            file_id: file.id,
            doc: d,
            kind,
            name,
            template,
            namespace,
            namespace_path,
            values,
            values_path,
            id_path,
        });
    }
    (findings, tenants, pools)
}
