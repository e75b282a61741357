//! Helm releases of the World's tenants and pools: name, namespace, values, and which chart.

use crate::model::World;
use crate::source::{FileId, PathSeg};
use serde_json::Value;

/// Which chart a release installs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChartRef {
    /// A chart directory in the same repository (`spec.source.path`, a Flux `./path`).
    Path(String),
    /// A chart by name from a Helm or OCI repository (`spec.source.chart`).
    Name(String),
}

/// One tenant or pool release.
#[derive(Clone, Debug)]
pub struct Release {
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
    /// The release's own values.
    pub values: Value,
    /// Where the values are in the document.
    pub values_path: Vec<PathSeg>,
    /// The tenant id, for a tenant release (not a pool).
    pub tenant: Option<String>,
    /// The chart.
    pub chart: Option<ChartRef>,
}

fn keys(k: &[&str]) -> Vec<PathSeg> {
    crate::source::key_path(k)
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Name, name path, namespace and chart of a release document.
#[allow(clippy::type_complexity)]
fn describe(doc: &Value) -> Option<(String, Vec<PathSeg>, Option<String>, Option<ChartRef>)> {
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
            Some((name.to_string(), path, ns, chart))
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
            let ns = target.or(own_ns).map(str::to_string);
            Some((name, path, ns, chart))
        }
        _ => None,
    }
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./").trim_end_matches('/').to_string()
}

/// Every rendered tenant release and every pool release, in file order.
pub fn collect(world: &World) -> Vec<Release> {
    let mut out = Vec::new();
    let by_display = |display: &str| world.files.iter().find(|f| f.display == display);
    for t in world.tenants.iter().filter(|t| !t.template) {
        let Some(file) = by_display(&t.file) else {
            continue;
        };
        let Some(doc) = world.yaml[file.id.0 as usize].get(t.doc) else {
            continue;
        };
        let Some((name, name_path, namespace, chart)) = describe(&doc.value) else {
            continue;
        };
        out.push(Release {
            file: file.id,
            doc: t.doc,
            name,
            name_path,
            namespace,
            values: t.values.clone(),
            values_path: t.values_path.clone(),
            tenant: Some(t.id.clone()),
            chart,
        });
    }
    for p in &world.pools {
        let Some(file) = by_display(&p.file) else {
            continue;
        };
        let Some(doc) = world.yaml[file.id.0 as usize].get(p.doc) else {
            continue;
        };
        let Some((name, name_path, namespace, chart)) = describe(&doc.value) else {
            continue;
        };
        // The values were parsed (and their problems reported) when the pool was collected.
        let mut scratch = Vec::new();
        let Some((values, values_path)) =
            crate::model::tenancy::values_of(file, p.doc, doc, &mut scratch)
        else {
            continue;
        };
        out.push(Release {
            file: file.id,
            doc: p.doc,
            name,
            name_path,
            namespace,
            values,
            values_path,
            tenant: None,
            chart,
        });
    }
    out.sort_by_key(|r| (r.file, r.doc));
    out
}
