//! Offline ApplicationSet expansion: generators evaluated against this checkout, templates
//! rendered the way Argo CD renders them, giving the Applications Argo CD would create (Argo CD
//! `applicationset/`: `generators/*.go`, `utils/utils.go`, `controllers/template/`), and the
//! `argocd/appset-*` findings about the expansion itself.
//!
//! - [`generators`] and [`git`]: parameter sets (list, clusters, git directories and files,
//!   matrix, merge); [`glob`] holds the files matchers, [`params`] Argo CD's parameter shapes.
//! - [`render`], [`fasttemplate`], [`gotmpl`]: the two template modes.
//! - [`lint`]: static checks of git items; [`names`]: names of the generated Applications.
//! - [`view`]: the `appset` subcommand's YAML output.

mod fasttemplate;
mod generators;
pub mod git;
pub mod git_specs;
mod gotmpl;
mod names;
mod params;
mod render;
mod sprig_extra;

pub use generators::repo_for;

use generators::{Ctx, GenError};
use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Level, Location};
use gitops_lint_core::source::{FileKind, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_model::apps::GeneratedApp;
use gitops_lint_model::{DocRef, World};
use gitops_lint_syntax::pointer::Lookup;
use gotmpl::Failure;
use rayon::prelude::*;
use render::{Issue, Mode};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Rule: a template parameter no generator provides.
pub(crate) const PARAM_UNKNOWN: RuleId = RuleId::ARGOCD_APPSET_PARAM_UNKNOWN;
/// Rule: `{{path[N]}}` beyond the path's segments.
pub(crate) const INDEX_OUT_OF_RANGE: RuleId = RuleId::ARGOCD_APPSET_PATH_INDEX_OUT_OF_RANGE;
/// Rule: two elements render one Application name.
pub(crate) const DUPLICATE_NAME: RuleId = RuleId::ARGOCD_APPSET_DUPLICATE_NAME;
/// Rule: a rendered name that is not a DNS-1123 subdomain.
pub(crate) const INVALID_NAME: RuleId = RuleId::ARGOCD_APPSET_INVALID_NAME;
/// Rule: a generator (or template construct) this tool cannot evaluate offline.
pub(crate) const NOT_EXPANDABLE: RuleId = RuleId::ARGOCD_APPSET_NOT_EXPANDABLE;
/// Rule: a generator or option Argo CD refuses, failing the whole ApplicationSet.
pub(crate) const GENERATOR_ERROR: RuleId = RuleId::ARGOCD_APPSET_GENERATOR_ERROR;

/// The Argo CD finalizer the controller adds unless `preserveResourcesOnDeletion` is set or the
/// template has finalizers.
const RESOURCES_FINALIZER: &str = "resources-finalizer.argocd.argoproj.io";

/// Expands every ApplicationSet of the World. Findings are about the expansion itself
/// (generators that cannot be expanded offline, templates that fail to render, names).
pub fn expand(world: &World, config: &Config) -> (Vec<GeneratedApp>, Vec<Finding>) {
    let mut files: HashMap<(usize, &str), usize> = HashMap::new();
    for f in &world.files {
        files.insert((f.repo, f.rel_path.as_str()), f.id.0 as usize);
    }
    // The same repoURL -> checkout mapping as the Application checks (`repoURLs:`, else the
    // directory name).
    let urls = &world.repo_urls;
    let mut apps = Vec::new();
    let mut findings = Vec::new();
    let cluster_secrets = if world.kind("ApplicationSet").is_empty() {
        ClusterSecrets::default()
    } else {
        cluster_secrets_declared(world)
    };
    for at in world.kind("ApplicationSet") {
        let (a, f) = expand_one(world, config, *at, &files, urls, &cluster_secrets);
        apps.extend(a);
        findings.extend(f);
    }
    (apps, findings)
}

/// The Argo CD cluster Secrets the linted repositories declare (label
/// `argocd.argoproj.io/secret-type: cluster`). Argo CD's cluster generator lists those Secrets
/// (`applicationset/generators/cluster.go`) and adds the local cluster only when none of them
/// is for it. A Secret manifest whose `stringData` gives its name and server is read as a
/// cluster; one whose values cannot be read here (only base64 `data`, or created by Terraform,
/// as gitops-bridge creates the hub's with `kubernetes_secret`) makes the cluster set unknown.
#[derive(Default)]
pub(crate) struct ClusterSecrets<'w> {
    /// The clusters read from Secret manifests.
    pub(crate) clusters: Vec<gitops_lint_config::Cluster>,
    /// The first file that declares a cluster Secret whose content is not known.
    pub(crate) unknown: Option<&'w str>,
}

fn cluster_secrets_declared(world: &World) -> ClusterSecrets<'_> {
    let mut out = ClusterSecrets::default();
    for at in world.kind("Secret") {
        let Some(doc) = world.doc(*at) else { continue };
        let v = &doc.value;
        let labels = v.lookup("/metadata/labels").and_then(Value::as_object);
        let is_cluster = labels
            .and_then(|l| l.get(generators::SECRET_TYPE_LABEL))
            .and_then(Value::as_str)
            == Some("cluster");
        if !is_cluster {
            continue;
        }
        let text = |k: &str| {
            v.lookup(&format!("/stringData/{k}"))
                .and_then(Value::as_str)
        };
        let strings = |m: Option<&serde_json::Map<String, Value>>| {
            m.into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect::<BTreeMap<String, String>>()
        };
        match (text("name"), text("server")) {
            (Some(name), Some(server)) if !name.contains("${") && !server.contains("${") => {
                out.clusters.push(gitops_lint_config::Cluster {
                    name: name.to_string(),
                    server: server.to_string(),
                    labels: strings(labels),
                    annotations: strings(
                        v.lookup("/metadata/annotations").and_then(Value::as_object),
                    ),
                    project: text("project").unwrap_or("").to_string(),
                });
            }
            _ => {
                out.unknown
                    .get_or_insert(world.file(at.file).display.as_str());
            }
        }
    }
    if out.unknown.is_none() {
        out.unknown = world
            .files
            .iter()
            .find(|f| {
                f.kind == FileKind::Terraform && f.text.contains(generators::SECRET_TYPE_LABEL)
            })
            .map(|f| f.display.as_str());
    }
    out
}

fn key(s: &str) -> PathSeg {
    PathSeg::Key(s.into())
}

/// Where a path of the rendered Application template is written in the ApplicationSet.
fn template_location(at: DocRef, path: &[PathSeg]) -> Location {
    let mut full = vec![key("spec")];
    if path.first() == Some(&key("templatePatch")) {
        full.push(key("templatePatch"));
    } else {
        full.push(key("template"));
        full.extend_from_slice(path);
    }
    Location::value(at.file, at.doc, full)
}

/// The ApplicationSet's rendering mode; `Err` is a `goTemplateOptions` entry Argo CD panics on.
fn mode_of(spec: &Value, config: &Config) -> Result<Mode, (usize, String)> {
    let go = spec.get("goTemplate").and_then(Value::as_bool) == Some(true);
    let mut missingkey_error = false;
    let limits = crate::template_limits(config);
    // fasttemplate never reads the options (Replace applies them to Go templates only).
    if !go {
        return Ok(Mode {
            go,
            missingkey_error,
            limits,
        });
    }
    for (i, opt) in spec
        .get("goTemplateOptions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        match opt.as_str().unwrap_or("") {
            "missingkey=error" => missingkey_error = true,
            "missingkey=default" | "missingkey=invalid" | "missingkey=zero" => {}
            other => return Err((i, other.to_string())),
        }
    }
    Ok(Mode {
        go,
        missingkey_error,
        limits,
    })
}

/// What went wrong while rendering, keyed so each template place is reported once.
#[derive(Default)]
struct Reports {
    by_place: BTreeMap<(RuleId, Vec<PathSeg>, String), Finding>,
    fatal: bool,
}

impl Reports {
    fn add(&mut self, place: Vec<PathSeg>, tag: &str, f: Finding) {
        // One index finding per template place: the static one (first) says the most.
        let tag = if f.rule == INDEX_OUT_OF_RANGE {
            ""
        } else {
            tag
        };
        self.by_place
            .entry((f.rule.clone(), place, tag.to_string()))
            .or_insert(f);
    }
}

fn expand_one(
    world: &World,
    config: &Config,
    at: DocRef,
    files: &HashMap<(usize, &str), usize>,
    urls: &gitops_lint_model::repo_urls::RepoUrls,
    cluster_secrets: &ClusterSecrets<'_>,
) -> (Vec<GeneratedApp>, Vec<Finding>) {
    let Some(doc) = world.doc(at) else {
        return (Vec::new(), Vec::new());
    };
    let value = &doc.value;
    let set_name = value
        .lookup("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    let set_namespace = value.lookup("/metadata/namespace").and_then(Value::as_str);
    let Some(spec) = value.get("spec") else {
        return (Vec::new(), Vec::new());
    };
    let own_repo = world.file(at.file).repo;
    let mut findings = Vec::new();
    // The git items as written; their static checks are rules (`checks::appset`).
    let mut gits = Vec::new();
    if let Some(g) = spec.get("generators") {
        git_specs::git_generators(g, vec![key("spec"), key("generators")], &mut gits);
    }
    let mode = match mode_of(spec, config) {
        Ok(m) => m,
        Err((i, opt)) => {
            findings.push(
                Finding::new(
                    GENERATOR_ERROR,
                    format!("`{opt}` is not a Go template option: Go's `Option` panics on it and the controller fails to reconcile ApplicationSet `{set_name}`, so no Application is generated or updated"),
                    Location::value(at.file, at.doc, vec![key("spec"), key("goTemplateOptions"), PathSeg::Index(i)]),
                )
                .with_help("the options are `missingkey=default`, `missingkey=zero` and `missingkey=error` (recommended)"),
            );
            return (Vec::new(), findings);
        }
    };
    let mut reports = Reports::default();
    static_index_checks(at, spec, mode, &gits, &mut reports);
    let Some(template) = spec.get("template").filter(|t| t.is_object()) else {
        findings.extend(reports.by_place.into_values());
        return (Vec::new(), findings);
    };
    let ctx = Ctx {
        world,
        config,
        mode,
        own_repo,
        files,
        urls,
        cluster_secrets,
    };
    let mut rendered: Vec<(Value, String)> = Vec::new();
    let mut produced = 0u64;
    for (i, entry) in spec
        .get("generators")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        // Each generator type set in one entry is its own generator with its own template, as in
        // Argo CD's `Transform` (the entry's `selector` applies to each).
        for (g, own) in split_entry(entry) {
            let g = &g;
            let mut path = vec![key("spec"), key("generators"), PathSeg::Index(i)];
            let sets = match generators::expand(&ctx, g, &mut path, 0) {
                Ok(sets) => sets,
                Err(GenError::NotExpandable { kind, path }) => {
                    let what = match kind.as_str() {
                        "scmProvider" => {
                            "the SCM provider's API (repositories of an organisation)".to_string()
                        }
                        "pullRequest" => "the SCM provider's open pull requests".to_string(),
                        "clusterDecisionResource" => "a custom resource in the cluster".to_string(),
                        "git" => "a Git repository that is not one of the linted repositories"
                            .to_string(),
                        "clusters" => "the cluster Secrets Argo CD holds".to_string(),
                        _ => "a plugin service".to_string(),
                    };
                    findings.push(
                    Finding::new(
                        NOT_EXPANDABLE,
                        format!(
                            "the `{kind}` generator asks {what} at run time, so the Applications it generates are not known offline and are not checked{}",
                            match (kind.as_str(), cluster_secrets.unknown) {
                                ("clusters", Some(file)) => format!(" (`{file}` creates a cluster Secret whose name, server, labels or annotations are not known here, and `clusters:` in the config does not describe the clusters)"),
                                _ => String::new(),
                            }
                        ),
                        Location::key(at.file, at.doc, path),
                    )
                    .with_help(if kind == "git" {
                        "if that repository is checked out here, map its URL to the checkout with `repoURLs:` in the config; the other generators of this ApplicationSet are still expanded and checked"
                    } else if kind == "clusters" {
                        "describe the clusters in `clusters:` in the config (name, server, labels, annotations) to expand this generator; the other generators of this ApplicationSet are still expanded and checked"
                    } else {
                        "nothing to fix; the other generators of this ApplicationSet are still expanded and checked"
                    }),
                );
                    continue;
                }
                Err(GenError::Reported) => {
                    findings.extend(reports.by_place.into_values());
                    return (Vec::new(), findings);
                }
                Err(GenError::Budget { message, key, path }) => {
                    findings.push(budget_finding(at, set_name, message, key, path));
                    findings.extend(reports.by_place.into_values());
                    return (Vec::new(), findings);
                }
                Err(GenError::Failed { message, path }) => {
                    findings.push(
                    Finding::new(
                        GENERATOR_ERROR,
                        format!("Argo CD refuses this generator: {message}; the controller fails to reconcile ApplicationSet `{set_name}`, so no Application is generated or updated"),
                        Location::key(at.file, at.doc, path),
                    )
                    .with_help("fix the generator as the message says; `gitops-lint appset <file>` shows what it then generates"),
                );
                    findings.extend(reports.by_place.into_values());
                    return (Vec::new(), findings);
                }
            };
            // The generators of one ApplicationSet add up: their sum is bounded too.
            produced = produced.saturating_add(sets.len() as u64);
            if produced > config.limits.generator_products {
                let message = format!(
                    "with this generator, the generators of this ApplicationSet produce more than {} parameter sets (`limits.generatorProducts`)",
                    config.limits.generator_products
                );
                findings.push(budget_finding(
                    at,
                    set_name,
                    message,
                    generators::PRODUCTS_KEY,
                    path,
                ));
                findings.extend(reports.by_place.into_values());
                return (Vec::new(), findings);
            }
            // A generator-level template (`list.template`, `git.template`, ...) is merged with
            // spec.template, the generator's fields winning (`mergeGeneratorTemplate`).
            let own_template;
            let template = match own.filter(|t| t.is_object()) {
                Some(over) => {
                    own_template = render::merge_generator_template(&over, template);
                    &own_template
                }
                None => template,
            };
            // Rendering is independent per set: in parallel, reported in generation order.
            let holes = holes(template);
            let results: Vec<RenderedSet> = sets
                .par_iter()
                .with_min_len(256)
                .map(|set| render_set(spec, template, holes.as_deref(), set, mode))
                .collect();
            for (set, result) in sets.into_iter().zip(results) {
                if let Some(app) =
                    finish_set(at, &set, result, mode, set_namespace, config, &mut reports)
                {
                    rendered.push((app, set.element));
                }
            }
        }
    }
    findings.extend(std::mem::take(&mut reports.by_place).into_values());
    if reports.fatal {
        return (Vec::new(), findings);
    }
    let (kept, name_findings) = names::check(at, set_name, rendered);
    findings.extend(name_findings);
    let apps = kept
        .into_iter()
        .map(|(value, element)| GeneratedApp {
            appset: at,
            element,
            value,
        })
        .collect();
    (apps, findings)
}

/// The `gitops/budget-exceeded` finding for an ApplicationSet that is not expanded because a
/// generator (or template) ran out of a budget, at `path`.
fn budget_finding(
    at: DocRef,
    set_name: &str,
    message: String,
    key: &str,
    path: Vec<PathSeg>,
) -> Finding {
    Finding::new(
        RuleId::GITOPS_BUDGET_EXCEEDED,
        format!("{message}; ApplicationSet `{set_name}` is not expanded, so the Applications it generates are not checked"),
        Location::key(at.file, at.doc, path),
    )
    .with_help(crate::raise_help(key))
}

/// The generators of one `spec.generators` entry, one per generator type set in it (normally
/// one), each with the entry's `selector` and the type's own `template` (its `GetTemplate`).
fn split_entry(entry: &Value) -> Vec<(Value, Option<Value>)> {
    let kinds = generators::kinds_of(entry);
    if kinds.len() <= 1 {
        let own = kinds
            .first()
            .and_then(|k| entry.get(*k))
            .and_then(|g| g.get("template"))
            .cloned();
        return vec![(entry.clone(), own)];
    }
    kinds
        .into_iter()
        .map(|k| {
            let mut one = Map::new();
            one.insert(k.to_string(), entry[k].clone());
            if let Some(sel) = entry.get("selector") {
                one.insert("selector".into(), sel.clone());
            }
            (Value::Object(one), entry[k].get("template").cloned())
        })
        .collect()
}

/// `{{path[N]}}` (or `index .path.segments N`) in the template, beyond the depth of every
/// directories pattern with that prefix.
fn static_index_checks(
    at: DocRef,
    spec: &Value,
    mode: Mode,
    gits: &[git_specs::GitSpec],
    reports: &mut Reports,
) {
    let mut strings = Vec::new();
    if let Some(t) = spec.get("template") {
        collect_strings(t, &mut Vec::new(), &mut strings);
    }
    if let Some(Value::String(p)) = spec.get("templatePatch") {
        strings.push((vec![key("templatePatch")], p.as_str()));
    }
    for (path, text) in strings {
        for tag in fasttemplate::tags(text) {
            let Some((prefix, n)) = git_specs::path_index(tag, mode.go) else {
                continue;
            };
            let Some(depth) = git_specs::pattern_depth(gits, &prefix) else {
                continue;
            };
            if n >= depth {
                let shown = format!("{{{{{tag}}}}}");
                let last = depth - 1;
                let message = if mode.go {
                    format!("`{shown}` asks for segment {n}, but the directories patterns have {depth} segments (0 to {last}): Go's `index` fails (`index out of range`), so the controller fails to render and generates no Application")
                } else {
                    format!("`{shown}` asks for segment {n}, but the directories patterns have {depth} segments (0 to {last}): no directory has that segment, so Argo CD leaves the text `{shown}` verbatim in every generated Application")
                };
                reports.add(
                    path.clone(),
                    tag,
                    Finding::new(INDEX_OUT_OF_RANGE, message, template_location(at, &path))
                        .with_help(format!("segments count from 0: the last one of a {depth}-segment pattern is `path[{}]` (also `path.basename`)", depth - 1)),
                );
                if mode.go {
                    reports.fatal = true;
                }
            }
        }
    }
}

fn collect_strings<'v>(
    v: &'v Value,
    path: &mut Vec<PathSeg>,
    out: &mut Vec<(Vec<PathSeg>, &'v str)>,
) {
    match v {
        Value::String(s) if s.contains("{{") => out.push((path.clone(), s)),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathSeg::Index(i));
                collect_strings(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, child) in map {
                path.push(PathSeg::Key(k.as_str().into()));
                collect_strings(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// What rendering one parameter set gave, before anything is reported.
struct RenderedSet {
    /// The rendered template (before the Application wrapper).
    app: Value,
    /// What did not render cleanly.
    issues: Vec<Issue>,
    /// The rendered `templatePatch` is not YAML.
    bad_patch: bool,
}

/// The places of a template that hold `{{`: the only strings rendering changes. `None` when a
/// mapping key is templated (then the whole value is walked).
fn holes(template: &Value) -> Option<Vec<(Vec<PathSeg>, &str)>> {
    fn keys_templated(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.iter().any(|(k, c)| k.contains("{{") || keys_templated(c)),
            Value::Array(a) => a.iter().any(keys_templated),
            _ => false,
        }
    }
    if keys_templated(template) {
        return None;
    }
    let mut out = Vec::new();
    collect_strings(template, &mut Vec::new(), &mut out);
    Some(out)
}

fn slot<'v>(v: &'v mut Value, path: &[PathSeg]) -> Option<&'v mut Value> {
    path.iter().try_fold(v, |v, seg| match seg {
        PathSeg::Key(k) => v.get_mut(k.as_str()),
        PathSeg::Index(i) => v.get_mut(*i),
    })
}

/// Renders the template (and `templatePatch`) for one parameter set.
fn render_set(
    spec: &Value,
    template: &Value,
    holes: Option<&[(Vec<PathSeg>, &str)]>,
    set: &params::ParamSet,
    mode: Mode,
) -> RenderedSet {
    let mut issues = Vec::new();
    let scope = render::Scope::new(&set.params);
    let mut app = template.clone();
    if !set.params.is_empty() {
        match holes {
            Some(holes) => {
                for (path, text) in holes {
                    let rendered = render::render_str(text, &scope, mode, path, &mut issues);
                    if let Some(place) = slot(&mut app, path) {
                        *place = Value::String(rendered);
                    }
                }
            }
            None => {
                app = render::render_value(template, &scope, mode, &mut Vec::new(), &mut issues)
            }
        }
    }
    // RenderTemplateParams adds the finalizer (an empty set returns the template as written);
    // the templatePatch comes after, so its finalizers are added to this one.
    if !set.params.is_empty() {
        add_resources_finalizer(&mut app, spec);
    }
    let mut bad_patch = false;
    if let Some(Value::String(patch)) = spec.get("templatePatch") {
        let text = render::render_str(patch, &scope, mode, &[key("templatePatch")], &mut issues);
        let stopped = issues.iter().any(|i| {
            matches!(
                i,
                Issue::Failed {
                    cause: Failure::Budget(_),
                    ..
                }
            )
        });
        let loaded = gitops_lint_syntax::yaml::load(&text);
        if stopped {
            // Stopped by a budget: the text is not Argo CD's, there is nothing to judge.
        } else if loaded.issues.iter().any(|i| i.rule == RuleId::YAML_SYNTAX) {
            bad_patch = true;
        } else if let Some(patch @ Value::Object(_)) = loaded.docs.first().map(|d| &d.value) {
            // Changes to spec.project are reverted by the controller.
            let project = app.lookup("/spec/project").cloned();
            render::strategic_merge(&mut app, patch);
            if let (Some(p), Some(Value::Object(m))) = (project, app.get_mut("spec")) {
                m.insert("project".into(), p);
            }
        }
    }
    RenderedSet {
        app,
        issues,
        bad_patch,
    }
}

/// Reports what rendering one set gave; `None` when Argo CD would not create the Application.
fn finish_set(
    at: DocRef,
    set: &params::ParamSet,
    rendered: RenderedSet,
    mode: Mode,
    namespace: Option<&str>,
    config: &Config,
    reports: &mut Reports,
) -> Option<Value> {
    if rendered.bad_patch {
        reports.fatal = true;
        reports.add(
            vec![key("templatePatch")],
            "",
            Finding::new(
                GENERATOR_ERROR,
                format!("the rendered `templatePatch` for {} is not valid YAML, so Argo CD fails with `invalid templatePatch` and generates no Application", set.element),
                template_location(at, &[key("templatePatch")]),
            )
            .with_help("render it with `gitops-lint appset <file>` and check the indentation of the inserted values (use `toYaml | nindent N`)"),
        );
    }
    let mut understood = true;
    for issue in rendered.issues {
        understood &= report_issue(at, set, mode, config, issue, reports);
    }
    understood.then(|| application(rendered.app, namespace))
}

/// Reports one rendering issue; returns false when the value is not known.
fn report_issue(
    at: DocRef,
    set: &params::ParamSet,
    mode: Mode,
    config: &Config,
    issue: Issue,
    reports: &mut Reports,
) -> bool {
    match issue {
        Issue::Unknown { tag, path } => {
            let location = template_location(at, &path);
            if let Some((_, n)) = git_specs::path_index(&tag, mode.go) {
                let f = Finding::new(
                    INDEX_OUT_OF_RANGE,
                    format!("`{{{{{tag}}}}}` asks for segment {n}, but the path of {} has fewer segments: Argo CD leaves the text verbatim in the generated Application", set.element),
                    location,
                )
                .with_help("segments count from 0; use `path.basename` for the last one");
                reports.add(path, &tag, f);
                return true;
            }
            // In the name, the verbatim text makes an invalid name: that Application is rejected.
            let in_name = path == [key("metadata"), key("name")];
            // fasttemplate passes other templating layers' tags through untouched (Helm values
            // with `{{ .Values.x }}`, Prometheus `{{ $labels.instance }}`): that is intended, not
            // a parameter mistake, unless it lands in the name.
            if !mode.go && !in_name && !fasttemplate::meant_as_parameter(&tag, &set.params) {
                return true;
            }
            let (mut message, help) = unknown_message(&tag, mode, set);
            if in_name {
                message.push_str(", and as the Application name that text is rejected by the API server: the Application is never created");
            }
            let level = if in_name {
                Level::Error
            } else {
                Level::Warning
            };
            let f = Finding::new(PARAM_UNKNOWN, message, location)
                .with_help(help)
                .with_level(level);
            reports.add(path, &tag, f);
            true
        }
        Issue::Failed {
            cause: Failure::Budget(budget),
            path,
            ..
        } => {
            reports.fatal = true;
            let key = match budget {
                gitops_lint_gotemplate::Budget::Steps => "limits.templateSteps",
                gitops_lint_gotemplate::Budget::OutputBytes => "limits.templateOutputBytes",
            };
            let f = Finding::new(
                RuleId::GITOPS_BUDGET_EXCEEDED,
                format!(
                    "rendering this goTemplate for {} ran {}; it was stopped, so the Applications of this ApplicationSet are not known and are not checked",
                    set.element,
                    crate::template_budget(config, budget)
                ),
                template_location(at, &path),
            )
            .with_help(crate::raise_help(key));
            reports.add(path, "", f);
            true
        }
        Issue::Failed {
            message,
            cause,
            path,
        } => {
            reports.fatal = true;
            let location = template_location(at, &path);
            let rule = match cause {
                Failure::IndexOutOfRange => INDEX_OUT_OF_RANGE,
                Failure::MissingKey(_) | Failure::UndefinedFunction => PARAM_UNKNOWN,
                Failure::Other | Failure::Budget(_) => GENERATOR_ERROR,
            };
            let hint = if cause == Failure::UndefinedFunction {
                "; this is fasttemplate syntax, and goTemplate needs `{{.path.basename}}`-style references"
            } else {
                ""
            };
            let f = Finding::new(
                rule,
                format!("Argo CD fails to render this for {}: `{message}`{hint}; the controller generates no Application for this ApplicationSet", set.element),
                location,
            )
            .with_help("`gitops-lint appset <file>` lists the parameters each generator provides");
            let missing = match &cause {
                Failure::MissingKey(key) => key.as_str(),
                _ => "",
            };
            reports.add(path, missing, f);
            true
        }
        Issue::NotUnderstood { message, path } => {
            let f = Finding::new(
                NOT_EXPANDABLE,
                format!("goTemplate construct not evaluated offline: {message}; the Applications of this ApplicationSet are not checked"),
                template_location(at, &path),
            )
            .with_help("nothing to fix; gitops-lint evaluates the functions Argo CD allows, this one not yet");
            reports.add(path, "", f);
            false
        }
    }
}

fn unknown_message(tag: &str, mode: Mode, set: &params::ParamSet) -> (String, String) {
    let mut known: Vec<&String> = set.params.keys().collect();
    known.sort();
    let listed = known
        .iter()
        .take(8)
        .map(|k| {
            if mode.go {
                format!("`.{k}`")
            } else {
                format!("`{{{{{k}}}}}`")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    if mode.go {
        (
            format!("`.{tag}` is not a parameter of {}: Go prints `<no value>` into the generated Application (with `goTemplateOptions: [\"missingkey=error\"]` Argo CD would fail instead)", set.element),
            format!("the parameters are {listed}; add `goTemplateOptions: [\"missingkey=error\"]` so such mistakes fail loudly"),
        )
    } else if tag.starts_with('.') || tag.contains(' ') {
        (
            format!("`{{{{{tag}}}}}` is goTemplate syntax but this ApplicationSet uses fasttemplate (no `goTemplate: true`): Argo CD leaves it verbatim in the Application generated for {}", set.element),
            format!("set `goTemplate: true` (and `goTemplateOptions: [\"missingkey=error\"]`), or write fasttemplate parameters: {listed}"),
        )
    } else {
        (
            format!("`{{{{{tag}}}}}` is not a parameter of {}: fasttemplate leaves the text verbatim in the generated Application", set.element),
            format!("the parameters are {listed}"),
        )
    }
}

/// Argo CD's `RenderTemplateParams`: the resources finalizer is added when the rendered
/// template has no finalizers, unless `syncPolicy.preserveResourcesOnDeletion` is true.
fn add_resources_finalizer(app: &mut Value, spec: &Value) {
    let preserve = spec
        .lookup("/syncPolicy/preserveResourcesOnDeletion")
        .and_then(Value::as_bool)
        == Some(true);
    let has_finalizers = app
        .lookup("/metadata/finalizers")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    if preserve || has_finalizers {
        return;
    }
    let Value::Object(root) = app else {
        return;
    };
    let metadata = root
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    if let Value::Object(m) = metadata {
        m.insert(
            "finalizers".into(),
            Value::Array(vec![Value::String(RESOURCES_FINALIZER.into())]),
        );
    }
}

/// The Application Argo CD creates from a rendered (and patched) template: kind, and the
/// ApplicationSet's namespace.
fn application(rendered: Value, namespace: Option<&str>) -> Value {
    let mut rendered = match rendered {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let mut metadata = match rendered.shift_remove("metadata") {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    // Printed as Argo CD's ObjectMeta orders them: the namespace before the finalizers.
    let finalizers = metadata.shift_remove("finalizers");
    if let Some(ns) = namespace {
        metadata.insert("namespace".into(), Value::String(ns.into()));
    }
    if let Some(f) = finalizers {
        metadata.insert("finalizers".into(), f);
    }
    let mut app = Map::new();
    app.insert(
        "apiVersion".into(),
        Value::String("argoproj.io/v1alpha1".into()),
    );
    app.insert("kind".into(), Value::String("Application".into()));
    app.insert("metadata".into(), Value::Object(metadata));
    app.insert(
        "spec".into(),
        rendered
            .shift_remove("spec")
            .unwrap_or(Value::Object(Map::new())),
    );
    Value::Object(app)
}
