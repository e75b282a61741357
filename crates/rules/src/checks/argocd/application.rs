//! Application spec checks: one kind of source, one way to name the destination, same-repo paths
//! and Helm value files that exist, sync options Argo CD knows, and a project that exists
//! (Argo CD `util/argo/argo.go`: `ValidatePermissions`, `validateSourcePermissions`,
//! `GetDestinationServer`; `pkg/apis/application/v1alpha1/types.go`).

use super::options::{classify, known, Place, Verdict};
use super::{sources, templated, AppFindings, Source};
use gitops_lint_core::finding::Finding;
use gitops_lint_core::source::{key_path, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_matchers::paths::join as join_repo_path;
use gitops_lint_model::apps::AppRef;
use gitops_lint_model::repo_urls::RepoUrls;
use gitops_lint_model::{Repo, World};
use gitops_lint_syntax::pointer::Lookup;
use serde_json::Value;
use std::collections::BTreeSet;

/// Runs the Application checks.
pub fn check(world: &World, urls: &RepoUrls, found: &mut AppFindings) {
    let projects: BTreeSet<&str> = world
        .kind("AppProject")
        .iter()
        .filter_map(|at| world.doc(*at))
        .filter_map(|d| d.value.lookup("/metadata/name").and_then(Value::as_str))
        .collect();
    for app in world.applications() {
        found.about(&app, |findings| {
            source_xor_sources(&app, findings);
            destination_xor(&app, findings);
            for source in sources(app.value) {
                paths(world, urls, &app, &source, findings);
            }
            sync_options(&app, findings);
            project(&app, &projects, findings);
        });
    }
}

fn non_empty(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(_) => true,
    }
}

fn source_xor_sources(app: &AppRef, out: &mut Vec<Finding>) {
    let Some(spec) = app.value.get("spec").and_then(Value::as_object) else {
        return;
    };
    let has_source = spec.get("source").is_some_and(|s| !s.is_null());
    let has_sources = non_empty(spec.get("sources"));
    if spec.contains_key("sourceHydrator") {
        return;
    }
    let rule = RuleId::ARGOCD_APP_SOURCE_XOR_SOURCES;
    if has_source && has_sources {
        out.push(
            Finding::new(
                rule,
                format!(
                    "Application `{}` sets both `source` and `sources`: Argo CD uses only `sources` and silently ignores `source`{}",
                    app.name(),
                    app.context()
                ),
                app.key_location(&key_path(&["spec", "source"])),
            )
            .with_related(app.key_location(&key_path(&["spec", "sources"])), "`sources` is used instead")
            .with_help("keep one: move this source into the `sources` list, or delete `sources`"),
        );
    } else if !has_source && !has_sources {
        out.push(
            Finding::new(
                rule,
                format!(
                    "Application `{}` has neither `source` nor `sources`, so Argo CD has nothing to deploy{}",
                    app.name(),
                    app.context()
                ),
                app.key_location(&key_path(&["spec"])),
            )
            .with_help("add `spec.source` (repoURL with path or chart) or a non-empty `spec.sources` list"),
        );
    }
}

fn destination_xor(app: &AppRef, out: &mut Vec<Finding>) {
    let Some(dest) = app
        .value
        .lookup("/spec/destination")
        .and_then(Value::as_object)
    else {
        return;
    };
    let field = |k: &str| {
        dest.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let rule = RuleId::ARGOCD_APP_DESTINATION_SERVER_XOR_NAME;
    match (field("server"), field("name")) {
        (Some(server), Some(name)) => out.push(
            Finding::new(
                rule,
                format!(
                    "Application `{}` sets both `destination.server` and `destination.name`: Argo CD refuses it (`application destination can't have both name and server defined: {name} {server}`){}",
                    app.name(),
                    app.context()
                ),
                app.key_location(&key_path(&["spec", "destination", "name"])),
            )
            .with_related(app.key_location(&key_path(&["spec", "destination", "server"])), "`server` is set here too")
            .with_help("keep one: `server` (the API URL) or `name` (the cluster's name in Argo CD)"),
        ),
        (None, None) => out.push(
            Finding::new(
                rule,
                format!(
                    "Application `{}` names no cluster: `destination` has neither `server` nor `name` (Argo CD: `Destination server missing from app spec`){}",
                    app.name(),
                    app.context()
                ),
                app.key_location(&key_path(&["spec", "destination"])),
            )
            .with_help("add `server: https://kubernetes.default.svc` (or `name: in-cluster`) for the cluster Argo CD runs in"),
        ),
        _ => {}
    }
}

fn is_dir(repo: &Repo, rel: &str) -> bool {
    rel.is_empty() || repo.dirs.contains(rel)
}

/// A `path` (directory) in the same repository, and the Helm value files relative to it.
fn paths(world: &World, urls: &RepoUrls, app: &AppRef, source: &Source, out: &mut Vec<Finding>) {
    let local = source.local_repo(urls);
    if let (Some(at), Some(path)) = (local, source.str("path")) {
        if !templated(path) {
            let repo = &world.repos[at];
            let resolved = join_repo_path("", path);
            let problem = match resolved.as_deref() {
                None => Some("leaves the repository".to_string()),
                Some(r) if is_dir(repo, r) => None,
                Some(r) if repo.files.contains(r) => Some(
                    "is a file; Argo CD needs a directory (`app path is not a directory`)"
                        .to_string(),
                ),
                Some(_) => Some(
                    "does not exist in this repository (`app path does not exist`)".to_string(),
                ),
            };
            if let Some(problem) = problem {
                out.push(
                    Finding::new(
                        RuleId::ARGOCD_APP_PATH_MISSING,
                        format!(
                            "`path: {path}` of Application `{}` {problem}, so manifest generation fails{}",
                            app.name(),
                            app.context()
                        ),
                        app.location(&source.at(&["path"])),
                    )
                    .with_help(near_dirs(repo, resolved.as_deref().unwrap_or(path))),
                );
            }
        }
    }
    value_files(world, urls, app, source, local, out);
}

/// Names up to three existing directories that share the missing path's parent, for the help.
fn near_dirs(repo: &Repo, missing: &str) -> String {
    let parent = missing.rsplit_once('/').map_or("", |(p, _)| p);
    let depth = missing.split('/').count();
    let near: Vec<String> = repo
        .dirs
        .iter()
        .filter(|d| d.split('/').count() == depth && d.starts_with(parent))
        .take(3)
        .map(|d| format!("`{d}`"))
        .collect();
    if near.is_empty() {
        "the path is relative to the repository root, with no leading `/`; fix it or create the directory".to_string()
    } else {
        format!(
            "the path is relative to the repository root; directories there include {}",
            near.join(", ")
        )
    }
}

fn value_files(
    world: &World,
    urls: &RepoUrls,
    app: &AppRef,
    source: &Source,
    local: Option<usize>,
    out: &mut Vec<Finding>,
) {
    let Some(files) = source
        .value
        .lookup("/helm/valueFiles")
        .and_then(Value::as_array)
    else {
        return;
    };
    if source
        .value
        .lookup("/helm/ignoreMissingValueFiles")
        .and_then(Value::as_bool)
        == Some(true)
    {
        return;
    }
    let all = sources(app.value);
    for (i, file) in files.iter().enumerate() {
        let Some(file) = file.as_str() else { continue };
        let mut at = source.at(&["helm", "valueFiles"]);
        at.push(PathSeg::Index(i));
        let location = app.location(&at);
        if file.contains("://") || templated(file) || file.contains(['*', '?', '[']) {
            continue;
        }
        let (repo_at, base, rest, origin) = if let Some(r) = file.strip_prefix('$') {
            let (name, rest) = r.split_once('/').unwrap_or((r, ""));
            if name.starts_with("ARGOCD_") || name.starts_with("KUBE_") || name.starts_with('{') {
                continue; // build environment variables, substituted by Argo CD
            }
            let Some(ref_source) = all.iter().find(|s| s.str("ref") == Some(name)) else {
                let refs: Vec<String> = all
                    .iter()
                    .filter_map(|s| s.str("ref"))
                    .map(|r| format!("`${r}`"))
                    .collect();
                out.push(
                    Finding::new(
                        RuleId::ARGOCD_APP_VALUE_FILE_MISSING,
                        format!(
                            "value file `{file}` of Application `{}` refers to `${name}`, which is not the `ref` of any of its sources, so Argo CD fails (`source referenced \"${name}\", which is not one of the available sources`){}",
                            app.name(),
                            app.context()
                        ),
                        location,
                    )
                    .with_help(if refs.is_empty() {
                        format!("add a source with `ref: {name}` (the repository that holds the file) to `spec.sources`")
                    } else {
                        format!("the sources' refs are {}", refs.join(", "))
                    }),
                );
                continue;
            };
            let Some(repo_at) = ref_source.local_repo(urls) else {
                continue;
            };
            (
                repo_at,
                String::new(),
                rest.to_string(),
                format!("the root of the `{name}` source"),
            )
        } else {
            let (Some(repo_at), Some(path)) = (local, source.str("path")) else {
                continue;
            };
            if templated(path) {
                continue;
            }
            (
                repo_at,
                path.to_string(),
                file.to_string(),
                format!("`{path}`"),
            )
        };
        let repo = &world.repos[repo_at];
        let resolved = join_repo_path(&base, &rest);
        let exists = resolved.as_deref().is_some_and(|r| repo.files.contains(r));
        if exists {
            continue;
        }
        let shown = resolved.clone().unwrap_or_else(|| rest.clone());
        let siblings: Vec<String> = repo
            .files
            .iter()
            .filter(|f| {
                let dir = f.rsplit_once('/').map_or("", |(d, _)| d);
                let want = shown.rsplit_once('/').map_or("", |(d, _)| d);
                dir == want
                    && (f.ends_with(".yaml") || f.ends_with(".yml"))
                    && !f.ends_with("Chart.yaml")
            })
            .take(3)
            .map(|f| format!("`{f}`"))
            .collect();
        out.push(
            Finding::new(
                RuleId::ARGOCD_APP_VALUE_FILE_MISSING,
                format!(
                    "value file `{file}` of Application `{}` resolves to `{shown}` (relative to {origin}), which {}, so Helm fails and the Application cannot be generated{}",
                    app.name(),
                    if resolved.is_none() { "leaves the repository" } else { "does not exist" },
                    app.context()
                ),
                location,
            )
            .with_help(if siblings.is_empty() {
                "value files are relative to the source's `path` (a leading `/` starts at the repository root); fix the name, or set `helm.ignoreMissingValueFiles: true` if the file is optional".to_string()
            } else {
                format!("this resolves relative to {origin}; files there include {}", siblings.join(", "))
            }),
        );
    }
}

/// `allowEmpty=true` in `syncOptions` next to `automated.allowEmpty: true`, as argocd-autopilot
/// writes every Application (`cmd/commands/common.go`): Argo CD ignores the option, but the
/// field it restates does what it says, so nothing is lost.
fn restates_automated_allow_empty(app: &Value, option: &str) -> bool {
    option == "allowEmpty=true"
        && app.lookup("/spec/syncPolicy/automated/allowEmpty") == Some(&Value::Bool(true))
}

fn sync_options(app: &AppRef, out: &mut Vec<Finding>) {
    let Some(list) = app
        .value
        .lookup("/spec/syncPolicy/syncOptions")
        .and_then(Value::as_array)
    else {
        return;
    };
    for (i, item) in list.iter().enumerate() {
        let Some(option) = item.as_str() else {
            continue;
        };
        if templated(option) || restates_automated_allow_empty(app.value, option) {
            continue;
        }
        let location = app.location(&[
            PathSeg::Key("spec".into()),
            PathSeg::Key("syncPolicy".into()),
            PathSeg::Key("syncOptions".into()),
            PathSeg::Index(i),
        ]);
        match classify(option, Place::App) {
            Verdict::Ok => {}
            Verdict::WrongPlace => out.push(
                Finding::new(
                    RuleId::ARGOCD_SYNC_OPTION_WRONG_PLACE,
                    format!(
                        "`{option}` has no effect in an Application's `syncOptions`: Argo CD reads it only from a resource's `argocd.argoproj.io/sync-options` annotation{}",
                        app.context()
                    ),
                    location,
                )
                .with_help("put it on the resources that need it as `argocd.argoproj.io/sync-options: \"".to_string() + option + "\"`"),
            ),
            Verdict::Unknown(suggestion) => out.push(
                Finding::new(
                    RuleId::ARGOCD_APP_SYNC_OPTION_UNKNOWN,
                    format!(
                        "`{option}` is not a sync option Argo CD knows; options are exact, case-sensitive strings and an unknown one is silently ignored{}{}",
                        suggestion.as_ref().map(|s| format!(": write `{s}`")).unwrap_or_default(),
                        app.context()
                    ),
                    location,
                )
                .with_help(format!("Application sync options: {}", known(Place::App))),
            ),
        }
    }
}

fn project(app: &AppRef, projects: &BTreeSet<&str>, out: &mut Vec<Finding>) {
    if projects.is_empty() {
        return; // no AppProject is managed in these repositories: they live elsewhere
    }
    let name = match app.value.lookup("/spec/project") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => "",
        Some(_) => return,
    };
    let name = if name.is_empty() { "default" } else { name };
    if name == "default" || templated(name) || projects.contains(name) {
        return;
    }
    let list: Vec<String> = projects.iter().map(|p| format!("`{p}`")).collect();
    out.push(
        Finding::new(
            RuleId::ARGOCD_APP_PROJECT_MISSING,
            format!(
                "Application `{}` uses project `{name}`, which no AppProject in these repositories defines; Argo CD refuses to sync it (`application references project {name} which does not exist`){}",
                app.name(),
                app.context()
            ),
            app.location(&key_path(&["spec", "project"])),
        )
        .with_help(format!("the AppProjects defined here are {}, plus the built-in `default`", list.join(", "))),
    );
}
