//! Helm releases of the World's tenants and pools: name, namespace, values, and which chart.

use gitops_lint_core::source::{FileId, PathSeg, SourceFile};
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
use serde_json::Value;
use std::borrow::Cow;

/// Which chart a release installs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ChartRef {
    /// A chart directory in the same repository (`spec.source.path`, a Flux `./path`).
    Path(String),
    /// A chart by name from a Helm or OCI repository (`spec.source.chart`).
    Name(String),
}

/// One tenant or pool release. Why borrowed: a tenant's values are the World's (10,000
/// releases at scale, each a deep copy before); a pool's are parsed here, so owned.
#[derive(Clone, Debug)]
pub struct Release<'w> {
    /// The file and document.
    pub file: FileId,
    /// Document index.
    pub doc: usize,
    /// The Helm release name (`helm.releaseName`, Flux `releaseName`, else derived).
    pub name: String,
    /// Where the release name is written.
    pub name_path: Vec<PathSeg>,
    /// The namespace it installs into.
    pub namespace: Option<String>,
    /// Where that namespace is written.
    pub namespace_path: Option<Vec<PathSeg>>,
    /// The release's own values.
    pub values: Cow<'w, Value>,
    /// Where the values are in the document.
    pub values_path: Cow<'w, [PathSeg]>,
    /// The tenant id, for a tenant release (not a pool).
    pub tenant: Option<String>,
    /// The chart.
    pub chart: Option<ChartRef>,
}

fn keys(k: &[&str]) -> Vec<PathSeg> {
    gitops_lint_core::source::key_path(k)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.lookup(pointer).and_then(Value::as_str)
}

/// What [`describe`] reads off a release document.
struct Described {
    name: String,
    name_path: Vec<PathSeg>,
    namespace: Option<String>,
    namespace_path: Option<Vec<PathSeg>>,
    chart: Option<ChartRef>,
}

/// Name, name path, namespace and chart of a release document.
fn describe(doc: &Value) -> Option<Described> {
    let meta_name = str_at(doc, "/metadata/name")?;
    match doc.get("kind").and_then(Value::as_str)? {
        "Application" => {
            let (name, path) = match str_at(doc, "/spec/source/helm/releaseName") {
                Some(n) => (n, keys(&["spec", "source", "helm", "releaseName"])),
                None => (meta_name, keys(&["metadata", "name"])),
            };
            let chart = match (
                str_at(doc, "/spec/source/path"),
                str_at(doc, "/spec/source/chart"),
            ) {
                (_, Some(c)) => Some(ChartRef::Name(c.to_string())),
                (Some(p), None) => Some(ChartRef::Path(clean(p))),
                _ => None,
            };
            let ns = str_at(doc, "/spec/destination/namespace").map(str::to_string);
            Some(Described {
                name: name.to_string(),
                name_path: path,
                namespace_path: ns
                    .as_ref()
                    .map(|_| keys(&["spec", "destination", "namespace"])),
                namespace: ns,
                chart,
            })
        }
        "HelmRelease" => {
            let target = str_at(doc, "/spec/targetNamespace");
            let own_ns = str_at(doc, "/metadata/namespace");
            let (name, path) = match str_at(doc, "/spec/releaseName") {
                Some(n) => (n.to_string(), keys(&["spec", "releaseName"])),
                // Flux: `<targetNamespace>-<name>` when a target namespace is set.
                None => match target {
                    Some(t) => (format!("{t}-{meta_name}"), keys(&["metadata", "name"])),
                    None => (meta_name.to_string(), keys(&["metadata", "name"])),
                },
            };
            let chart = str_at(doc, "/spec/chart/spec/chart").map(|c| {
                if c.contains('/') {
                    ChartRef::Path(clean(c))
                } else {
                    ChartRef::Name(c.to_string())
                }
            });
            let namespace_path = match (target, own_ns) {
                (Some(_), _) => Some(keys(&["spec", "targetNamespace"])),
                (None, Some(_)) => Some(keys(&["metadata", "namespace"])),
                (None, None) => None,
            };
            Some(Described {
                name,
                name_path: path,
                namespace: target.or(own_ns).map(str::to_string),
                namespace_path,
                chart,
            })
        }
        _ => None,
    }
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./").trim_end_matches('/').to_string()
}

/// Every rendered tenant release and every pool release, in file order.
pub fn collect(world: &World) -> Vec<Release<'_>> {
    let mut out = Vec::new();
    // A release of this document with these values, when the document names a release.
    let release = |file: &SourceFile, doc: usize, values, values_path, tenant| {
        let value = &world.yaml[file.id.0 as usize].get(doc)?.value;
        let d = describe(value)?;
        Some(Release {
            file: file.id,
            doc,
            name: d.name,
            name_path: d.name_path,
            namespace: d.namespace,
            namespace_path: d.namespace_path,
            values,
            values_path,
            tenant,
            chart: d.chart,
        })
    };
    for t in world.tenants.iter().filter(|t| !t.template) {
        out.extend(release(
            world.file(t.file_id),
            t.doc,
            Cow::Borrowed(&t.values),
            Cow::Borrowed(t.values_path.as_slice()),
            Some(t.id.clone()),
        ));
    }
    for p in &world.pools {
        let file = world.file(p.file_id);
        let Some(doc) = world.yaml[file.id.0 as usize].get(p.doc) else {
            continue;
        };
        // The values were parsed (and their problems reported) when the pool was collected.
        let mut scratch = Vec::new();
        let Some((values, values_path)) =
            gitops_lint_model::tenancy::values_of(file, p.doc, doc, &mut scratch)
        else {
            continue;
        };
        out.extend(release(
            file,
            p.doc,
            Cow::Owned(values),
            Cow::Owned(values_path),
            None,
        ));
    }
    out.sort_by_key(|r| (r.file, r.doc));
    out
}
