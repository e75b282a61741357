//! Helm releases rendered in-process as far as the checks need: the ServiceAccounts a chart
//! creates for each tenant and pool release, and the accounts its workloads run as (only the
//! `templates/*` that write `kind: ServiceAccount` or a `serviceAccountName` are rendered),
//! with the release's values merged over the chart's `values.yaml`, its name and namespace.
//! A template outside the engine's subset (`gitops_lint_gotemplate`) makes the chart "not
//! understood" for that release: an info finding, never a guessed ServiceAccount. The config
//! can declare the naming convention instead (`serviceAccount: "{tenant}-{app}"`).

mod chart;
mod release;

use chart::Chart;
use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{path_below, PathSeg, Span};
use gitops_lint_core::RuleId;
use gitops_lint_gotemplate::{format::floats, Budget, Cause, Error, ErrorKind};
use gitops_lint_model::accounts::{
    account_of, AccountSource, AccountUse, ServiceAccount, ROLE_ARN_ANNOTATION,
};
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
use rayon::prelude::*;
use release::{ChartRef, Release};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The rule for charts that cannot be rendered.
pub(crate) const NOT_UNDERSTOOD: RuleId = RuleId::HELM_TEMPLATE_NOT_UNDERSTOOD;

/// What rendering the World's Helm releases yields.
#[derive(Debug, Default)]
pub struct Rendered {
    /// The ServiceAccounts the releases create.
    pub accounts: Vec<ServiceAccount>,
    /// The accounts the releases' workloads run as.
    pub uses: Vec<AccountUse>,
    /// Charts that could not be rendered (`helm/template-not-understood`).
    pub findings: Vec<Finding>,
    /// The tf-controller `Terraform` resources the releases create (the EKS SaaS workshop's
    /// tenant chart instantiates the tenant's Terraform module this way).
    pub terraform: Vec<RenderedResource>,
}

/// A tf-controller `Terraform` resource rendered from a chart for one release.
#[derive(Clone, Debug)]
pub struct RenderedResource {
    /// The rendered document.
    pub doc: Value,
    /// The release's values, where the resource's variables come from.
    pub values_location: Location,
    /// The release, where the resource is created.
    pub release_location: Location,
}

/// Whether some chart of the World renders tf-controller `Terraform` resources (then Terraform
/// evaluation needs Helm's output first).
pub fn renders_terraform(world: &World) -> bool {
    world.files.iter().any(|f| {
        f.kind == gitops_lint_core::source::FileKind::ChartTemplate
            && f.text.contains(chart::TF_CONTROLLER_GROUP)
    })
}

/// The ServiceAccounts that the World's Helm releases create, and those their workloads use.
pub fn service_accounts(world: &World, config: &Config) -> Rendered {
    let releases = release::collect(world);
    let from_values = remote_chart_accounts(world, &releases);
    if let Some(pattern) = &config.service_account {
        // The convention names the accounts; which workloads run as them is not known.
        let mut accounts = by_convention(&releases, pattern);
        accounts.extend(from_values);
        return Rendered {
            accounts,
            ..Rendered::default()
        };
    }
    let charts = chart::find(world, crate::template_limits(config));
    // Why parallel: each release renders on its own (10,000 at scale); the results are then
    // taken in release order, so the accounts and findings come out as a serial loop's would.
    // Batches of at most 64 releases: larger ones left a core rendering on its own at the end.
    let rendered: Vec<_> = releases
        .par_iter()
        .with_max_len(64)
        .map(|r| pick_chart(&charts, r).map(|chart| (chart, render(chart, r))))
        .collect();
    let mut out = Rendered {
        accounts: from_values,
        ..Rendered::default()
    };
    let mut reported = BTreeSet::new();
    let mut budgets = BTreeSet::new();
    for (r, rendered) in releases.iter().zip(rendered) {
        let Some((chart, result)) = rendered else {
            continue;
        };
        match result {
            Ok((accounts, uses, terraform)) => {
                out.accounts.extend(accounts);
                out.uses.extend(uses);
                out.terraform.extend(terraform);
            }
            Err(e) => {
                if let Cause::Budget(budget) = e.cause {
                    // One finding per chart and budget: releases with other values may run
                    // out at another action of the same chart.
                    if budgets.insert((chart.dir.clone(), budget)) {
                        out.findings
                            .push(budget_exceeded(world, config, chart, r, &e, budget));
                    }
                    continue;
                }
                // One finding per place in the chart: every release hits the same construct.
                if reported.insert((
                    chart.dir.clone(),
                    e.template.clone(),
                    e.offset,
                    e.kind.clone(),
                )) {
                    out.findings.push(not_understood(world, chart, r, &e));
                }
            }
        }
    }
    out
}

/// ServiceAccounts of charts that are not in the linted repositories (a chart from a Helm
/// repository: `external-dns`, `aws-load-balancer-controller`), named in the release's values
/// by the `serviceAccount.create` / `serviceAccount.name` convention of `helm create`'s
/// scaffold, which nearly every public chart follows. Tenant and pool releases are rendered
/// instead. An account whose name the values leave to the chart is not known, so not listed.
fn remote_chart_accounts(world: &World, releases: &[Release]) -> Vec<ServiceAccount> {
    let rendered: BTreeSet<(gitops_lint_core::source::FileId, usize)> =
        releases.iter().map(|r| (r.file, r.doc)).collect();
    let key = |k: &str| PathSeg::Key(k.into());
    let mut out = Vec::new();
    for kind in ["Application", "HelmRelease"] {
        for at in world.kind(kind) {
            if rendered.contains(&(at.file, at.doc)) {
                continue;
            }
            let Some(doc) = world.doc(*at) else { continue };
            let v = &doc.value;
            // (values, where they are, release name, chart name, namespace, its path)
            let mut sources: Vec<(Value, Vec<PathSeg>, Option<Vec<PathSeg>>)> = Vec::new();
            let namespace_path;
            if kind == "Application" {
                namespace_path = vec![key("spec"), key("destination"), key("namespace")];
                let mut helm_of = |src: &Value, base: Vec<PathSeg>| {
                    if src.get("chart").and_then(Value::as_str).is_none() {
                        return;
                    }
                    let Some(helm) = src.get("helm") else { return };
                    let mut path = base;
                    path.push(key("helm"));
                    if let Some(obj) = helm.get("valuesObject").filter(|o| o.is_object()) {
                        let mut p = path.clone();
                        p.push(key("valuesObject"));
                        sources.push((obj.clone(), p, None));
                    } else if let Some(text) = helm.get("values").and_then(Value::as_str) {
                        let mut p = path.clone();
                        p.push(key("values"));
                        if let Some(d) =
                            gitops_lint_syntax::yaml::load_docs(text).into_iter().next()
                        {
                            // A string: its inner lines are located at the string itself.
                            sources.push((d.value, p.clone(), Some(p)));
                        }
                    }
                };
                if let Some(src) = v.lookup("/spec/source") {
                    helm_of(src, vec![key("spec"), key("source")]);
                }
                for (i, src) in v
                    .lookup("/spec/sources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    helm_of(src, vec![key("spec"), key("sources"), PathSeg::Index(i)]);
                }
            } else {
                namespace_path = if v.lookup("/spec/targetNamespace").is_some() {
                    vec![key("spec"), key("targetNamespace")]
                } else {
                    vec![key("metadata"), key("namespace")]
                };
                let remote = v
                    .lookup("/spec/chart/spec/chart")
                    .and_then(Value::as_str)
                    .is_some_and(|c| !c.contains('/'));
                if let (true, Some(values)) = (remote, v.lookup("/spec/values")) {
                    sources.push((values.clone(), vec![key("spec"), key("values")], None));
                }
            }
            let namespace =
                gitops_lint_model::view::value_at(v, &namespace_path).and_then(Value::as_str);
            for (values, path, whole) in sources {
                let Some(sa) = values.get("serviceAccount").filter(|s| s.is_object()) else {
                    continue;
                };
                if sa.get("create") == Some(&Value::Bool(false)) {
                    continue;
                }
                let Some(name) = sa
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|n| !n.is_empty() && !n.contains("{{"))
                else {
                    continue;
                };
                let at_value = |keys: &[&str]| {
                    whole.clone().unwrap_or_else(|| {
                        let mut p = path.clone();
                        p.extend(keys.iter().map(|k| key(k)));
                        p
                    })
                };
                let role_arn = sa
                    .lookup("/annotations")
                    .and_then(|a| a.get(ROLE_ARN_ANNOTATION))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                out.push(ServiceAccount {
                    namespace: namespace.map(str::to_string),
                    namespace_location: namespace
                        .map(|_| Location::value(at.file, at.doc, namespace_path.clone())),
                    name: name.to_string(),
                    role_location: role_arn.as_ref().map(|_| {
                        Location::value(
                            at.file,
                            at.doc,
                            at_value(&["serviceAccount", "annotations", ROLE_ARN_ANNOTATION]),
                        )
                    }),
                    role_arn,
                    tenant: None,
                    source: AccountSource::Values,
                    location: Location::value(
                        at.file,
                        at.doc,
                        at_value(&["serviceAccount", "name"]),
                    ),
                });
            }
        }
    }
    out
}

/// The chart a release installs, when it is in the linted repositories.
fn pick_chart<'a>(charts: &'a [Chart], r: &Release) -> Option<&'a Chart> {
    match r.chart.as_ref()? {
        ChartRef::Path(p) => charts.iter().find(|c| &c.dir == p),
        ChartRef::Name(n) => charts.iter().find(|c| &c.name == n),
    }
}

/// Helm's value coalescing: the release's values over the chart's, maps merged deeply, a
/// `null` deleting the default.
pub fn merge(base: &Value, over: &Value) -> Value {
    let mut merged = base.clone();
    merge_into(&mut merged, over, false);
    merged
}

/// [`merge`] in place: `over` merged into `base`, copying only what `over` sets. With
/// `floats`, the copied numbers become float64 as Helm reads them ([`floats`]). Why in place:
/// one copy per release of the chart's values and of the release's own, where building a new
/// map at every level, and copying the release's values first to convert their numbers,
/// copied each twice or more (10,000 releases at scale).
fn merge_into(base: &mut Value, over: &Value, to_floats: bool) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                if v.is_null() {
                    b.remove(k);
                    continue;
                }
                match b.get_mut(k) {
                    Some(old) => merge_into(old, v, to_floats),
                    None => {
                        b.insert(k.clone(), copied(v, to_floats));
                    }
                }
            }
        }
        (b, o) => *b = copied(o, to_floats),
    }
}

/// A copy of `v`, its numbers float64 when `to_floats`.
fn copied(v: &Value, to_floats: bool) -> Value {
    let mut v = v.clone();
    if to_floats {
        floats(&mut v);
    }
    v
}

/// The `.` a chart's templates see for one release. Built by moving its parts in: `json!`
/// serializes a `Value` operand into a fresh copy.
fn dot(chart: &Chart, r: &Release) -> Value {
    let mut values = chart.values.clone();
    merge_into(&mut values, &r.values, true);
    let mut m = Map::new();
    m.insert("Values".into(), values);
    m.insert(
        "Release".into(),
        json!({
            "Name": r.name, "Namespace": r.namespace.clone().unwrap_or_else(|| "default".into()),
            "Service": "Helm", "IsInstall": true, "IsUpgrade": false, "Revision": 1,
        }),
    );
    m.insert("Chart".into(), chart.meta.clone());
    m.insert(
        "Capabilities".into(),
        json!({
            "KubeVersion": {"Version": "v1.30.0", "Major": "1", "Minor": "30", "GitVersion": "v1.30.0"},
            "APIVersions": [],
        }),
    );
    m.insert(
        "Template".into(),
        json!({"BasePath": format!("{}/templates", chart.name)}),
    );
    Value::Object(m)
}

/// Renders the templates that mention ServiceAccounts and collects the accounts and the
/// accounts workloads run as.
/// What one release renders: its ServiceAccounts, the accounts its workloads use, and its
/// tf-controller resources.
type ReleaseOutput = (Vec<ServiceAccount>, Vec<AccountUse>, Vec<RenderedResource>);

fn render(chart: &Chart, r: &Release) -> Result<ReleaseOutput, Error> {
    let set = chart.templates.as_ref().map_err(Clone::clone)?;
    let data = dot(chart, r);
    let mut out = Vec::new();
    let mut uses = Vec::new();
    let mut terraform = Vec::new();
    for f in chart.files.iter().filter(|f| f.accounts || f.terraform) {
        let name = &f.name;
        let base = name.rsplit('/').next().unwrap_or(name);
        if base.starts_with('_') || base.ends_with(".tpl") || base.ends_with(".txt") {
            continue;
        }
        let text = set.execute(name, &data)?;
        // Helm (without --strict) prints a missing value as nothing.
        let text = if text.contains("<no value>") {
            text.replace("<no value>", "")
        } else {
            text
        };
        if f.terraform {
            for doc in gitops_lint_syntax::yaml::load_docs(&text) {
                let api = doc
                    .value
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                if api.starts_with(chart::TF_CONTROLLER_GROUP)
                    && doc.value.get("kind").and_then(Value::as_str) == Some("Terraform")
                {
                    terraform.push(RenderedResource {
                        doc: doc.value,
                        values_location: Location::value(r.file, r.doc, r.values_path.to_vec()),
                        release_location: Location::value(r.file, r.doc, r.name_path.clone()),
                    });
                }
            }
        }
        if !f.accounts || (!text.contains("ServiceAccount") && !text.contains("serviceAccount")) {
            continue;
        }
        // Only the documents matter here: rendered text has no file to report lints in. And of
        // them only what `account_of` and the lines below read.
        for doc in gitops_lint_syntax::yaml::load_docs_keeping(
            &text,
            &gitops_lint_model::accounts::ACCOUNT_KEYS,
        ) {
            let namespace_of = |v: &Value| {
                v.lookup("/metadata/namespace")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| r.namespace.clone())
            };
            if let Some((account, explicit, _)) = account_of(&doc.value) {
                let kind = doc.value.get("kind").and_then(Value::as_str).unwrap_or("");
                let name = doc
                    .value
                    .lookup("/metadata/name")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                uses.push(AccountUse {
                    namespace: namespace_of(&doc.value),
                    location: deciding_value(r, &account),
                    account,
                    explicit,
                    workload: format!("{kind}/{name}"),
                    tenant: r.tenant.clone(),
                    source: AccountSource::Helm {
                        release: r.name.clone(),
                        chart: chart.dir.clone(),
                    },
                });
                continue;
            }
            if doc.value.get("kind").and_then(Value::as_str) != Some("ServiceAccount") {
                continue;
            }
            let Some(sa_name) = doc.value.lookup("/metadata/name").and_then(Value::as_str) else {
                continue;
            };
            let role_arn = doc
                .value
                .lookup("/metadata/annotations")
                .and_then(|a| a.get(ROLE_ARN_ANNOTATION))
                .and_then(Value::as_str)
                .map(str::to_string);
            let own_namespace = doc
                .value
                .lookup("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_string);
            // A namespace the template writes itself (not `.Release.Namespace`) has no place in
            // the repo to point at.
            let namespace_location = match &own_namespace {
                Some(ns) if Some(ns) != r.namespace.as_ref() => None,
                _ => release_namespace_location(r),
            };
            let namespace = own_namespace.or_else(|| r.namespace.clone());
            let location = deciding_value(r, sa_name);
            out.push(ServiceAccount {
                namespace,
                namespace_location,
                name: sa_name.to_string(),
                role_location: role_arn.as_ref().map(|_| {
                    if r.values.get("accountId").is_some() {
                        value_location(r, &["accountId"])
                    } else {
                        location.clone()
                    }
                }),
                role_arn,
                tenant: r.tenant.clone(),
                source: AccountSource::Helm {
                    release: r.name.clone(),
                    chart: chart.dir.clone(),
                },
                location,
            });
        }
    }
    Ok((out, uses, terraform))
}

/// Where the release's namespace is written, when it is.
fn release_namespace_location(r: &Release) -> Option<Location> {
    r.namespace_path
        .as_ref()
        .map(|p| Location::value(r.file, r.doc, p.clone()))
}

fn value_location(r: &Release, keys: &[&str]) -> Location {
    Location::value(r.file, r.doc, path_below(&r.values_path, keys))
}

/// The release value that decides an account: `apps.<app>` when the name ends in `-<app>` and
/// the release sets that app, else `tenantId`, else the release name.
fn deciding_value(r: &Release, sa_name: &str) -> Location {
    if let Some(apps) = r.values.get("apps").and_then(Value::as_object) {
        for app in apps.keys() {
            if sa_name.ends_with(&format!("-{app}")) || sa_name == app {
                return value_location(r, &["apps", app]);
            }
        }
    }
    if r.values.get("tenantId").is_some() {
        return value_location(r, &["tenantId"]);
    }
    Location::value(r.file, r.doc, r.name_path.clone())
}

/// Accounts named by the config's convention: one per app the release enables.
fn by_convention(releases: &[Release], pattern: &str) -> Vec<ServiceAccount> {
    let mut out = Vec::new();
    for r in releases {
        let id = r
            .values
            .get("tenantId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| r.tenant.clone())
            .unwrap_or_else(|| r.name.clone());
        let Some(apps) = r.values.get("apps").and_then(Value::as_object) else {
            continue;
        };
        for (app, spec) in apps {
            if spec.get("enabled") == Some(&Value::Bool(false)) {
                continue;
            }
            let name = pattern
                .replace("{tenant}", &id)
                .replace("{app}", app)
                .replace("{release}", &r.name)
                .replace("{namespace}", r.namespace.as_deref().unwrap_or(""));
            out.push(ServiceAccount {
                namespace: r.namespace.clone(),
                namespace_location: release_namespace_location(r),
                name,
                role_arn: None,
                tenant: r.tenant.clone(),
                source: AccountSource::Convention,
                location: value_location(r, &["apps", app]),
                role_location: None,
            });
        }
    }
    out
}

/// Where a template error happened: the action (up to its `}}`), else the template file, else
/// the release.
fn error_location(world: &World, chart: &Chart, r: &Release, e: &Error) -> Location {
    let file = chart
        .files
        .iter()
        .find(|f| f.name == e.template)
        .and_then(|f| f.file);
    match file {
        Some(id) if e.offset != usize::MAX && e.offset <= world.file(id).text.len() => {
            let text = &world.file(id).text;
            let end = text
                .get(e.offset..)
                .and_then(|rest| rest.find("}}"))
                .map_or(e.offset, |n| e.offset + n + 2);
            Location::Span(Span {
                file: id,
                start: e.offset,
                end,
            })
        }
        Some(id) => Location::File(id),
        None => Location::value(r.file, r.doc, r.name_path.clone()),
    }
}

/// The `gitops/budget-exceeded` finding for a chart whose rendering ran out of a template
/// budget for a release: reported at the action that ran out, the release related.
fn budget_exceeded(
    world: &World,
    config: &Config,
    chart: &Chart,
    r: &Release,
    e: &Error,
    budget: Budget,
) -> Finding {
    let key = match budget {
        Budget::Steps => "limits.templateSteps",
        Budget::OutputBytes => "limits.templateOutputBytes",
    };
    Finding::new(
        RuleId::GITOPS_BUDGET_EXCEEDED,
        format!(
            "rendering chart `{}` for release `{}`, template `{}` ran {}; it was stopped, so the ServiceAccounts of the release are not known and the IRSA checks skip it",
            chart.name,
            r.name,
            e.template,
            crate::template_budget(config, budget)
        ),
        error_location(world, chart, r, e),
    )
    .with_related(
        Location::value(r.file, r.doc, r.name_path.clone()),
        format!("release `{}` installs chart `{}`", r.name, chart.name),
    )
    .with_help(crate::raise_help(key))
}

/// The info finding for a chart that cannot be rendered for a release.
fn not_understood(world: &World, chart: &Chart, r: &Release, e: &Error) -> Finding {
    let primary = error_location(world, chart, r, e);
    let what = match &e.kind {
        ErrorKind::Unsupported(c) => format!("uses {c}, which gitops-lint does not evaluate"),
        ErrorKind::Parse => format!("does not parse as a Go template ({})", e.message),
        ErrorKind::Exec => format!("fails to render ({})", e.message),
    };
    Finding::new(
        NOT_UNDERSTOOD,
        format!(
            "chart `{}` template `{}` {what}, so the ServiceAccounts of release `{}` are not known and the IRSA checks skip it",
            chart.name, e.template, r.name
        ),
        primary,
    )
    .with_related(
        Location::value(r.file, r.doc, r.name_path.clone()),
        format!("release `{}` installs chart `{}`", r.name, chart.name),
    )
    .with_help("declare the naming convention in .gitops-lint.yaml (`serviceAccount: \"{tenant}-{app}\"`), or simplify the template")
}
