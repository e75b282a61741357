//! AppProject permissions: each Application's sources must be in its project's
//! `sourceRepos`, its destination must match `destinations`, and the kinds its plain manifests
//! deploy must pass the resource white/blacklists, with Argo CD's own matching rules (Argo CD
//! `pkg/apis/application/v1alpha1/app_project_types.go`: `IsSourcePermitted`,
//! `isDestinationMatched`, `IsGroupKindNamePermitted`; applied by `util/argo/argo.go`
//! `ValidatePermissions`).

use super::{sources, templated, AppFindings};
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{key_path, FileId, FileKind, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_matchers::git_url::normalize_git_url;
use gitops_lint_matchers::go_path::path_match;
use gitops_lint_matchers::gobwas::argo_glob;
use gitops_lint_matchers::paths::join as join_repo_path;
use gitops_lint_model::apps::AppRef;
use gitops_lint_model::repo_urls::RepoUrls;
use gitops_lint_model::{DocRef, World};
use gitops_lint_syntax::pointer::Lookup;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Runs the permission checks for Applications whose project is defined in these repositories.
pub fn check(world: &World, urls: &RepoUrls, found: &mut AppFindings) {
    let mut projects: BTreeMap<&str, DocRef> = BTreeMap::new();
    for at in world.kind("AppProject") {
        if let Some(name) = world
            .doc(*at)
            .and_then(|d| d.value.lookup("/metadata/name"))
            .and_then(Value::as_str)
        {
            projects.entry(name).or_insert(*at);
        }
    }
    if projects.is_empty() {
        return;
    }
    let scopes = Scopes::new(world);
    for app in world.applications() {
        let name = app
            .value
            .lookup("/spec/project")
            .and_then(Value::as_str)
            .unwrap_or("");
        let name = if name.is_empty() { "default" } else { name };
        let Some(at) = projects.get(name) else {
            continue;
        };
        let Some(spec) = world.doc(*at).and_then(|d| d.value.get("spec")) else {
            continue;
        };
        let project = Project {
            name,
            at: *at,
            spec,
        };
        found.about(&app, |findings| {
            check_sources(&app, &project, findings);
            check_destination(&app, &project, findings);
            check_kinds(world, urls, &scopes, &app, &project, findings);
        });
    }
}

struct Project<'a> {
    name: &'a str,
    at: DocRef,
    spec: &'a Value,
}

impl Project<'_> {
    fn location(&self, key: &str) -> Location {
        Location::key(self.at.file, self.at.doc, key_path(&["spec", key]))
    }

    fn strings(&self, key: &str) -> Vec<&str> {
        self.spec
            .get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

/// Argo CD's `IsSourcePermitted`.
fn source_permitted(repos: &[&str], url: &str) -> bool {
    let src = normalize_git_url(url);
    let mut any = false;
    for pattern in repos {
        let normalized = match pattern.strip_prefix('!') {
            Some(p) => format!("!{}", normalize_git_url(p)),
            None => normalize_git_url(pattern),
        };
        if argo_glob(&normalized, &src, Some('/')) {
            any = true;
        } else if normalized.starts_with('!') {
            return false;
        }
    }
    any
}

fn check_sources(app: &AppRef, project: &Project, out: &mut Vec<Finding>) {
    let repos = project.strings("sourceRepos");
    for source in sources(app.value) {
        let Some(url) = source.str("repoURL") else {
            continue;
        };
        if templated(url) || source_permitted(&repos, url) {
            continue;
        }
        let allowed = if repos.is_empty() {
            "the project lists no `sourceRepos`, so it permits no repository".to_string()
        } else {
            format!(
                "`sourceRepos` is {}",
                repos
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        out.push(
            Finding::new(
                RuleId::ARGOCD_PROJECT_SOURCE_NOT_PERMITTED,
                format!(
                    "repository `{url}` of Application `{}` is not permitted in project `{}` ({allowed}); Argo CD refuses the Application (`application repo {url} is not permitted in project '{}'`){}",
                    app.name(),
                    project.name,
                    project.name,
                    app.context()
                ),
                app.location(&source.at(&["repoURL"])),
            )
            .with_related(project.location("sourceRepos"), format!("project `{}` permits these repositories", project.name))
            .with_help(format!("add `{url}` (or a glob such as `{}/*`) to the project's `sourceRepos`, or use a project that permits it", url.rsplit_once('/').map_or(url, |(h, _)| h))),
        );
    }
}

/// What is known of one side of the destination: a value, or unknown (resolved from the cluster
/// registry, which is not in the repository).
fn known_pair(server: &str, name: &str) -> (Option<String>, Option<String>) {
    const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";
    let server = server.trim_end_matches('/');
    match (server.is_empty(), name.is_empty()) {
        (false, true) if server == IN_CLUSTER_SERVER => {
            (Some(server.into()), Some("in-cluster".into()))
        }
        (true, false) if name == "in-cluster" => {
            (Some(IN_CLUSTER_SERVER.into()), Some(name.into()))
        }
        (false, true) => (Some(server.into()), None),
        (true, false) => (None, Some(name.into())),
        _ => (Some(server.into()), Some(name.into())),
    }
}

/// Argo CD's `isDestinationMatched`, where an unknown side could match any non-empty pattern and
/// never triggers a deny: `false` only when no cluster resolution could permit the destination.
fn destination_possible(
    items: &[&Value],
    server: Option<&str>,
    name: Option<&str>,
    namespace: &str,
) -> bool {
    let mut any = false;
    for item in items {
        let field = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
        let (ps, pn, pns) = (field("server"), field("name"), field("namespace"));
        let side = |pattern: &str, value: Option<&str>| match value {
            Some(v) => (!v.is_empty() && argo_glob(pattern, v, None), true),
            None => (!pattern.is_empty(), false),
        };
        let (server_ok, server_known) = side(ps, server);
        let (name_ok, name_known) = side(pn, name);
        let ns_ok = argo_glob(pns, namespace, None);
        if (server_ok || name_ok) && ns_ok {
            any = true;
        } else if (name_known && !name_ok && pn.starts_with('!'))
            || (server_known && !server_ok && ps.starts_with('!'))
            || (!ns_ok && pns.starts_with('!'))
        {
            return false;
        }
    }
    any
}

fn check_destination(app: &AppRef, project: &Project, out: &mut Vec<Finding>) {
    let Some(dest) = app
        .value
        .lookup("/spec/destination")
        .and_then(Value::as_object)
    else {
        return;
    };
    let field = |k: &str| dest.get(k).and_then(Value::as_str).unwrap_or("");
    let (server, name, namespace) = (field("server"), field("name"), field("namespace"));
    if (server.is_empty() && name.is_empty())
        || [server, name, namespace].iter().any(|s| templated(s))
    {
        return;
    }
    let items: Vec<&Value> = project
        .spec
        .get("destinations")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let (ks, kn) = known_pair(server, name);
    if destination_possible(&items, ks.as_deref(), kn.as_deref(), namespace) {
        return;
    }
    let shown = if server.is_empty() {
        format!("cluster `{name}`")
    } else {
        format!("server `{server}`")
    };
    out.push(
        Finding::new(
            RuleId::ARGOCD_PROJECT_DESTINATION_NOT_PERMITTED,
            format!(
                "the destination of Application `{}` ({shown}, namespace `{namespace}`) matches none of the `destinations` of project `{}`; Argo CD refuses the Application (`application destination server '{}' and namespace '{namespace}' do not match any of the allowed destinations in project '{}'`){}",
                app.name(),
                project.name,
                ks.as_deref().unwrap_or(server),
                project.name,
                app.context()
            ),
            app.key_location(&key_path(&["spec", "destination"])),
        )
        .with_related(project.location("destinations"), format!("project `{}` allows these destinations", project.name))
        .with_help("add a `destinations` item with this server (or cluster name) and namespace (globs: `*` matches anything, `!` denies), or deploy to an allowed namespace"),
    );
}

/// Which kinds are cluster-scoped: built-in kinds, plus CustomResourceDefinitions in the repos.
struct Scopes {
    crds: BTreeMap<(String, String), bool>,
}

const CLUSTER_SCOPED: &[(&str, &str)] = &[
    ("", "Namespace"),
    ("", "Node"),
    ("", "PersistentVolume"),
    ("", "ComponentStatus"),
    ("rbac.authorization.k8s.io", "ClusterRole"),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "CustomResourceDefinition"),
    ("storage.k8s.io", "StorageClass"),
    ("storage.k8s.io", "CSIDriver"),
    ("storage.k8s.io", "CSINode"),
    ("storage.k8s.io", "VolumeAttachment"),
    ("scheduling.k8s.io", "PriorityClass"),
    ("networking.k8s.io", "IngressClass"),
    ("node.k8s.io", "RuntimeClass"),
    ("apiregistration.k8s.io", "APIService"),
    (
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
    ),
    ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
    (
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicyBinding",
    ),
    ("certificates.k8s.io", "CertificateSigningRequest"),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
];

const NAMESPACED: &[(&str, &str)] = &[
    ("", "ConfigMap"),
    ("", "Secret"),
    ("", "Service"),
    ("", "ServiceAccount"),
    ("", "Pod"),
    ("", "PersistentVolumeClaim"),
    ("", "Endpoints"),
    ("", "LimitRange"),
    ("", "ResourceQuota"),
    ("", "ReplicationController"),
    ("apps", "Deployment"),
    ("apps", "StatefulSet"),
    ("apps", "DaemonSet"),
    ("apps", "ReplicaSet"),
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("networking.k8s.io", "Ingress"),
    ("networking.k8s.io", "NetworkPolicy"),
    ("rbac.authorization.k8s.io", "Role"),
    ("rbac.authorization.k8s.io", "RoleBinding"),
    ("autoscaling", "HorizontalPodAutoscaler"),
    ("policy", "PodDisruptionBudget"),
    ("discovery.k8s.io", "EndpointSlice"),
    ("coordination.k8s.io", "Lease"),
    ("argoproj.io", "Application"),
    ("argoproj.io", "ApplicationSet"),
    ("argoproj.io", "AppProject"),
];

impl Scopes {
    fn new(world: &World) -> Self {
        let mut crds = BTreeMap::new();
        for at in world.kind("CustomResourceDefinition") {
            let Some(v) = world.doc(*at).map(|d| &d.value) else {
                continue;
            };
            let s = |p: &str| v.lookup(p).and_then(Value::as_str);
            if let (Some(g), Some(k), Some(scope)) =
                (s("/spec/group"), s("/spec/names/kind"), s("/spec/scope"))
            {
                crds.insert((g.to_string(), k.to_string()), scope == "Namespaced");
            }
        }
        Scopes { crds }
    }

    /// `Some(true)` namespaced, `Some(false)` cluster-scoped, `None` unknown.
    fn namespaced(&self, group: &str, kind: &str) -> Option<bool> {
        if CLUSTER_SCOPED.contains(&(group, kind)) {
            return Some(false);
        }
        if NAMESPACED.contains(&(group, kind)) {
            return Some(true);
        }
        self.crds
            .get(&(group.to_string(), kind.to_string()))
            .copied()
    }
}

/// `isResourceInList` / `isNamedResourceInList`: `filepath.Match` on kind and group (and name).
fn in_list(list: &[Value], group: &str, kind: &str, name: Option<&str>) -> bool {
    list.iter().any(|item| {
        let f = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("");
        let m = |p: &str, v: &str| path_match(p, v).unwrap_or(false);
        m(f("kind"), kind)
            && m(f("group"), group)
            && match (name, f("name")) {
                (Some(n), p) if !p.is_empty() => m(p, n),
                _ => true,
            }
    })
}

/// Why a group/kind is refused, or `None` when `IsGroupKindNamePermitted` allows it.
fn kind_refusal(
    spec: &Value,
    group: &str,
    kind: &str,
    name: &str,
    namespaced: bool,
) -> Option<&'static str> {
    let list = |k: &str| spec.get(k).and_then(Value::as_array);
    if namespaced {
        if let Some(white) = list("namespaceResourceWhitelist") {
            if !in_list(white, group, kind, None) {
                return Some("namespaceResourceWhitelist");
            }
        }
        if list("namespaceResourceBlacklist").is_some_and(|b| in_list(b, group, kind, None)) {
            return Some("namespaceResourceBlacklist");
        }
        return None;
    }
    let white = list("clusterResourceWhitelist")
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if white.is_empty() || !in_list(white, group, kind, Some(name)) {
        return Some("clusterResourceWhitelist");
    }
    if list("clusterResourceBlacklist").is_some_and(|b| in_list(b, group, kind, Some(name))) {
        return Some("clusterResourceBlacklist");
    }
    None
}

/// The manifest documents an Application deploys from a plain directory in this repository
/// (not Helm, not Kustomize, not a plugin; no include/exclude filters).
fn plain_manifests(world: &World, urls: &RepoUrls, app: &AppRef) -> Vec<DocRef> {
    let all = sources(app.value);
    let mut docs = Vec::new();
    for source in all {
        let v = source.value;
        if ["helm", "kustomize", "plugin", "chart"]
            .iter()
            .any(|k| v.get(k).is_some())
        {
            continue;
        }
        let dir_opts = v.get("directory");
        if dir_opts.is_some_and(|d| {
            d.get("include").is_some() || d.get("exclude").is_some() || d.get("jsonnet").is_some()
        }) {
            continue;
        }
        let recurse = dir_opts
            .and_then(|d| d.get("recurse"))
            .and_then(Value::as_bool)
            == Some(true);
        let (Some(at), Some(path)) = (source.local_repo(urls), source.str("path")) else {
            continue;
        };
        if templated(path) {
            continue;
        }
        let Some(dir) = join_repo_path("", path) else {
            continue;
        };
        let repo = &world.repos[at];
        let marker = |f: &str| {
            let p = if dir.is_empty() {
                f.to_string()
            } else {
                format!("{dir}/{f}")
            };
            repo.files.contains(&p)
        };
        if [
            "kustomization.yaml",
            "kustomization.yml",
            "Kustomization",
            "Chart.yaml",
        ]
        .iter()
        .any(|f| marker(f))
        {
            continue;
        }
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        for file in world
            .files
            .iter()
            .filter(|f| f.repo == at && f.kind == FileKind::Manifest)
        {
            let Some(rest) = file.rel_path.strip_prefix(&prefix) else {
                continue;
            };
            if (!recurse && rest.contains('/')) || rest.split('/').any(|s| s.starts_with('.')) {
                continue;
            }
            let n = world.yaml.get(file.id.0 as usize).map_or(0, Vec::len);
            docs.extend((0..n).map(|doc| DocRef { file: file.id, doc }));
        }
    }
    docs
}

fn check_kinds(
    world: &World,
    urls: &RepoUrls,
    scopes: &Scopes,
    app: &AppRef,
    project: &Project,
    out: &mut Vec<Finding>,
) {
    let mut reported: BTreeSet<(FileId, usize)> = BTreeSet::new();
    for at in plain_manifests(world, urls, app) {
        let Some(v) = world.doc(at).map(|d| &d.value) else {
            continue;
        };
        let s = |p: &str| v.lookup(p).and_then(Value::as_str);
        let (Some(api), Some(kind)) = (s("/apiVersion"), s("/kind")) else {
            continue;
        };
        let group = api.rsplit_once('/').map_or("", |(g, _)| g);
        let Some(namespaced) = scopes.namespaced(group, kind) else {
            continue;
        };
        let name = s("/metadata/name").unwrap_or("");
        let Some(list) = kind_refusal(project.spec, group, kind, name, namespaced) else {
            continue;
        };
        if !reported.insert((at.file, at.doc)) {
            continue;
        }
        let shown = if group.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}.{group}")
        };
        let why = match list {
            "clusterResourceWhitelist" if project.spec.get(list).and_then(Value::as_array).is_none_or(Vec::is_empty) => {
                "the project has no `clusterResourceWhitelist`, which permits no cluster-scoped kind".to_string()
            }
            l if l.ends_with("Blacklist") => format!("`{l}` denies it"),
            l => format!("`{l}` does not list it"),
        };
        out.push(
            Finding::new(
                RuleId::ARGOCD_PROJECT_KIND_NOT_PERMITTED,
                format!(
                    "{} `{shown}` `{name}` is deployed by Application `{}` in project `{}`, but {why}; Argo CD refuses to sync it{}",
                    if namespaced { "namespaced" } else { "cluster-scoped" },
                    app.name(),
                    project.name,
                    app.context()
                ),
                Location::value(at.file, at.doc, vec![PathSeg::Key("kind".into())]),
            )
            .with_related(
                project.location(list),
                if project.spec.get(list).is_some() {
                    format!("project `{}`'s `{list}`", project.name)
                } else {
                    format!("project `{}` has no `{list}`", project.name)
                },
            )
            .with_help(if list.ends_with("Blacklist") {
                format!("remove the matching entry from the project's `{list}`, or deploy it from an Application of a project that permits it")
            } else {
                format!("add `{{group: '{group}', kind: {kind}}}` to the project's `{list}`, or deploy it from an Application of a project that permits it")
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn source_repos_like_argo() {
        assert!(source_permitted(&["*"], "https://github.com/a/b"));
        assert!(source_permitted(
            &["https://github.com/acme/*"],
            "https://github.com/acme/apps.git"
        ));
        assert!(!source_permitted(
            &["https://github.com/acme/*"],
            "https://github.com/other/apps"
        ));
        assert!(source_permitted(
            &["git@github.com:acme/*"],
            "git@github.com:acme/apps.git"
        ));
        assert!(!source_permitted(
            &["*", "!https://github.com/acme/secret"],
            "https://github.com/acme/secret"
        ));
        assert!(source_permitted(
            &["!https://github.com/acme/secret"],
            "https://github.com/acme/x"
        ));
        assert!(!source_permitted(&[], "https://github.com/acme/x"));
    }

    #[test]
    fn destinations_with_unknown_sides() {
        let items = [json!({"server": "https://kubernetes.default.svc", "namespace": "tenant-*"})];
        let items: Vec<&Value> = items.iter().collect();
        let (s, n) = known_pair("https://kubernetes.default.svc", "");
        assert!(destination_possible(
            &items,
            s.as_deref(),
            n.as_deref(),
            "tenant-1"
        ));
        assert!(!destination_possible(
            &items,
            s.as_deref(),
            n.as_deref(),
            "kube-system"
        ));
        // a cluster written by name may resolve to any server
        let (s, n) = known_pair("", "prod");
        assert!(destination_possible(
            &items,
            s.as_deref(),
            n.as_deref(),
            "tenant-1"
        ));
        let deny = [
            json!({"server": "*", "namespace": "*"}),
            json!({"server": "*", "namespace": "!kube-system"}),
        ];
        let deny: Vec<&Value> = deny.iter().collect();
        let (s, n) = known_pair("https://x", "");
        assert!(!destination_possible(
            &deny,
            s.as_deref(),
            n.as_deref(),
            "kube-system"
        ));
        assert!(destination_possible(
            &deny,
            s.as_deref(),
            n.as_deref(),
            "apps"
        ));
    }

    #[test]
    fn kinds_like_argo() {
        let spec = json!({"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
                          "namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}]});
        assert_eq!(kind_refusal(&spec, "", "Namespace", "x", false), None);
        assert_eq!(
            kind_refusal(
                &spec,
                "rbac.authorization.k8s.io",
                "ClusterRole",
                "x",
                false
            ),
            Some("clusterResourceWhitelist")
        );
        assert_eq!(
            kind_refusal(&spec, "", "ResourceQuota", "x", true),
            Some("namespaceResourceBlacklist")
        );
        assert_eq!(kind_refusal(&spec, "apps", "Deployment", "x", true), None);
        assert_eq!(
            kind_refusal(&json!({}), "", "Namespace", "x", false),
            Some("clusterResourceWhitelist")
        );
        // the `default` project's `{group: '*', kind: '*'}` covers the core group ("")
        let open = json!({"clusterResourceWhitelist": [{"group": "*", "kind": "*"}]});
        assert_eq!(kind_refusal(&open, "", "Namespace", "x", false), None);
        assert_eq!(kind_refusal(&open, "", "ConfigMap", "x", true), None);
    }
}
