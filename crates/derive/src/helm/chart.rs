//! Helm charts found in the repositories: `Chart.yaml`, default `values.yaml` and the templates,
//! parsed once into a template set shared by every release of the chart.

use gitops_lint_core::source::{FileId, FileKind};
use gitops_lint_gotemplate::{helm_funcs, Error, Funcs, Options, Templates};
use gitops_lint_model::World;
use serde_json::{Map, Value};

/// One chart directory.
pub struct Chart {
    /// Repo-relative directory (`helm-charts/helm-tenant-chart`).
    pub dir: String,
    /// `Chart.yaml` as Helm exposes it in `.Chart` (`Name`, `Version`, ...).
    pub meta: Value,
    /// The chart's `name`.
    pub name: String,
    /// Default values (`values.yaml`), numbers as float64 like Helm.
    pub values: Value,
    /// The templates, or the first one that is not understood.
    pub templates: Result<Templates, Error>,
    /// Template files, in name order.
    pub files: Vec<TemplateFile>,
}

/// The API group of tf-controller's `Terraform` resource.
pub(crate) const TF_CONTROLLER_GROUP: &str = "infra.contrib.fluxcd.io";

/// One file of a chart's `templates/`.
pub(crate) struct TemplateFile {
    /// Repo-relative path: its name in the template set.
    pub name: String,
    /// Its id when the World holds its text (helpers `.tpl` files are read from disk only).
    pub file: Option<FileId>,
    /// Whether it writes `kind: ServiceAccount` or a `serviceAccountName` (rendered for the
    /// accounts).
    pub accounts: bool,
    /// Whether it writes a tf-controller `Terraform` resource (rendered for the module
    /// instances it creates).
    pub terraform: bool,
}

/// `Chart.yaml` keys as the `.Chart` object names them.
fn chart_object(doc: &Value) -> Value {
    let mut m = Map::new();
    if let Value::Object(o) = doc {
        for (k, v) in o {
            let mut key = k.clone();
            if let Some(first) = key.get(..1) {
                key = format!("{}{}", first.to_uppercase(), &k[1..]);
            }
            m.insert(key, v.clone());
        }
    }
    Value::Object(m)
}

/// Every chart in the World, in repository and path order; each template execution is bounded
/// by `limits`.
pub fn find(world: &World, limits: gitops_lint_gotemplate::Limits) -> Vec<Chart> {
    let mut charts = Vec::new();
    for file in &world.files {
        let Some(dir) = file.rel_path.strip_suffix("Chart.yaml") else {
            continue;
        };
        if !(dir.is_empty() || dir.ends_with('/')) {
            continue;
        }
        let dir = dir.trim_end_matches('/').to_string();
        let Some(doc) = world.yaml[file.id.0 as usize].first() else {
            continue;
        };
        let Some(name) = doc.value.get("name").and_then(Value::as_str) else {
            continue;
        };
        let repo = file.repo;
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let mut values = world
            .files
            .iter()
            .find(|f| {
                f.repo == repo
                    && f.kind == FileKind::ChartValues
                    && f.rel_path == format!("{prefix}values.yaml")
            })
            .and_then(|f| world.yaml[f.id.0 as usize].first())
            .map_or(Value::Object(Map::new()), |d| d.value.clone());
        if values.is_null() {
            values = Value::Object(Map::new());
        }
        gitops_lint_gotemplate::format::floats(&mut values);
        let (templates, files) =
            load_templates(world, repo, &format!("{prefix}templates/"), limits);
        charts.push(Chart {
            dir,
            meta: chart_object(&doc.value),
            name: name.to_string(),
            values,
            templates,
            files,
        });
    }
    charts
}

/// Parses a chart's templates (`*.yaml`, `*.yml`, `*.tpl`, `*.txt` under `templates/`).
#[allow(clippy::type_complexity)]
fn load_templates(
    world: &World,
    repo: usize,
    prefix: &str,
    limits: gitops_lint_gotemplate::Limits,
) -> (Result<Templates, Error>, Vec<TemplateFile>) {
    let mut funcs = Funcs::builtins();
    helm_funcs::register(&mut funcs);
    let options = Options {
        limits,
        ..Options::default()
    };
    let mut set = Templates::new(funcs, options);
    let mut files = Vec::new();
    let Some(r) = world.repos.get(repo) else {
        return (Ok(set), files);
    };
    // Helpers first, so a template's `define` of the same name wins as in Helm (sorted order).
    let mut names: Vec<&String> = r
        .files
        .iter()
        .filter(|p| p.starts_with(prefix))
        .filter(|p| {
            [".yaml", ".yml", ".tpl", ".txt"]
                .iter()
                .any(|e| p.ends_with(e))
        })
        .collect();
    names.sort();
    for rel in names {
        // Files of kind `Other` are in the World with no text.
        let loaded = world
            .files
            .iter()
            .find(|f| f.repo == repo && &f.rel_path == rel && f.kind != FileKind::Other);
        let text = match loaded {
            Some(f) => Some(f.text.to_string()),
            None => std::fs::read_to_string(r.root.join(rel)).ok(),
        };
        let Some(text) = text else { continue };
        let accounts = text.contains("kind: ServiceAccount") || text.contains("serviceAccountName");
        let terraform = text.contains(TF_CONTROLLER_GROUP);
        let helper =
            rel.ends_with(".tpl") || rel.rsplit('/').next().is_some_and(|b| b.starts_with('_'));
        files.push(TemplateFile {
            name: rel.clone(),
            file: loaded.map(|f| f.id),
            accounts,
            terraform,
        });
        if let Err(e) = set.add_file(rel, &text) {
            // A template that creates no ServiceAccount and defines nothing others use does
            // not matter here, whatever it contains.
            if accounts || terraform || helper {
                return (Err(e), files);
            }
            files.pop();
        }
    }
    (Ok(set), files)
}
