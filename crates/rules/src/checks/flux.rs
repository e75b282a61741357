//! Flux references: a HelmRelease's chart source and a Kustomization's `sourceRef` name a source
//! object defined in these repositories, a Kustomization's `path` (and a HelmRelease's chart path
//! in a Git source) exists when the source is this repository, and `dependsOn` targets exist.
//!
//! Only objects of the Flux API groups (`*.toolkit.fluxcd.io`) count, so a kustomize
//! `kustomization.yaml` is never taken for a Flux Kustomization. A reference without a namespace
//! means the referrer's namespace; an object whose namespace is not written matches any.

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{key_path, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_matchers::paths::secure_join;
use gitops_lint_model::repo_urls::RepoUrls;
use gitops_lint_model::{DocRef, World};
use serde_json::Value;

const SOURCE_KINDS: &[&str] = &[
    "GitRepository",
    "HelmRepository",
    "OCIRepository",
    "Bucket",
    "HelmChart",
];

/// One Flux object.
struct Obj<'w> {
    at: DocRef,
    kind: &'w str,
    name: &'w str,
    namespace: Option<&'w str>,
    value: &'w Value,
}

fn objects<'w>(world: &'w World, kinds: &[&str]) -> Vec<Obj<'w>> {
    let mut out = Vec::new();
    for kind in kinds {
        for at in world.kind(kind) {
            let Some(v) = world.doc(*at).map(|d| &d.value) else {
                continue;
            };
            let api = v.get("apiVersion").and_then(Value::as_str).unwrap_or("");
            if !api
                .split('/')
                .next()
                .unwrap_or("")
                .ends_with(".toolkit.fluxcd.io")
            {
                continue;
            }
            let Some(name) = v.pointer("/metadata/name").and_then(Value::as_str) else {
                continue;
            };
            out.push(Obj {
                at: *at,
                kind: v.get("kind").and_then(Value::as_str).unwrap_or(""),
                name,
                namespace: v.pointer("/metadata/namespace").and_then(Value::as_str),
                value: v,
            });
        }
    }
    out
}

fn find<'a, 'w>(
    objs: &'a [Obj<'w>],
    kind: &str,
    name: &str,
    ns: Option<&str>,
) -> Option<&'a Obj<'w>> {
    objs.iter().find(|o| {
        o.kind == kind
            && o.name == name
            && (ns.is_none() || o.namespace.is_none() || o.namespace == ns)
    })
}

/// Runs the Flux checks.
pub fn check(world: &World) -> Vec<Finding> {
    let urls = &world.repo_urls;
    let sources = objects(world, SOURCE_KINDS);
    let kustomizations = objects(world, &["Kustomization"]);
    let releases = objects(world, &["HelmRelease"]);
    let mut out = Vec::new();
    for k in &kustomizations {
        let src = reference(&sources, k, &["spec", "sourceRef"], &mut out);
        if let (Some(src), Some(path)) =
            (src, k.value.pointer("/spec/path").and_then(Value::as_str))
        {
            local_path(
                world,
                urls,
                k,
                src,
                path,
                &["spec", "path"],
                "Kustomization path",
                &mut out,
            );
        }
        depends_on(&kustomizations, k, &mut out);
    }
    for r in &releases {
        let src = reference(
            &sources,
            r,
            &["spec", "chart", "spec", "sourceRef"],
            &mut out,
        );
        if let (Some(src), Some(chart)) = (
            src,
            r.value
                .pointer("/spec/chart/spec/chart")
                .and_then(Value::as_str),
        ) {
            if src.kind == "GitRepository" || src.kind == "Bucket" {
                local_path(
                    world,
                    urls,
                    r,
                    src,
                    chart,
                    &["spec", "chart", "spec", "chart"],
                    "chart path",
                    &mut out,
                );
            }
        }
        reference(&sources, r, &["spec", "chartRef"], &mut out);
        depends_on(&releases, r, &mut out);
    }
    out
}

/// Checks a `{kind, name, namespace}` reference to a source; returns the source when found.
fn reference<'a, 'w>(
    sources: &'a [Obj<'w>],
    from: &Obj,
    at: &[&str],
    out: &mut Vec<Finding>,
) -> Option<&'a Obj<'w>> {
    let ptr = format!("/{}", at.join("/"));
    let r = from.value.pointer(&ptr)?;
    let kind = r.get("kind").and_then(Value::as_str)?;
    let name = r.get("name").and_then(Value::as_str)?;
    let ns = r
        .get("namespace")
        .and_then(Value::as_str)
        .or(from.namespace);
    if let Some(found) = find(sources, kind, name, ns) {
        return Some(found);
    }
    // Sources may be managed elsewhere: only judge when sources of this kind live here, and
    // never the `flux-system` GitRepository that `flux bootstrap` creates.
    let same_kind: Vec<String> = sources
        .iter()
        .filter(|s| s.kind == kind)
        .take(4)
        .map(|s| match s.namespace {
            Some(n) => format!("`{n}/{}`", s.name),
            None => format!("`{}`", s.name),
        })
        .collect();
    if same_kind.is_empty() || name == "flux-system" || name.contains("${") {
        return None;
    }
    let mut path = key_path(at);
    path.push(PathSeg::Key("name".into()));
    out.push(
        Finding::new(
            RuleId::FLUX_SOURCE_MISSING,
            format!(
                "{} `{}` references {kind} `{}{name}`, which is not defined in these repositories, so Flux reports the source as not found and never reconciles it",
                from.kind,
                from.name,
                ns.map(|n| format!("{n}/")).unwrap_or_default()
            ),
            Location::value(from.at.file, from.at.doc, path),
        )
        .with_help(format!("{kind}s defined here: {} (a reference without `namespace` means the referrer's namespace)", same_kind.join(", "))),
    );
    None
}

#[allow(clippy::too_many_arguments)]
fn local_path(
    world: &World,
    urls: &RepoUrls,
    from: &Obj,
    src: &Obj,
    path: &str,
    at: &[&str],
    what: &str,
    out: &mut Vec<Finding>,
) {
    if src.kind != "GitRepository" || path.contains("${") {
        return;
    }
    // A tag, semver range or commit may hold other paths than this checkout.
    let reference = src.value.pointer("/spec/ref");
    let pinned = ["tag", "semver", "commit", "name"]
        .iter()
        .any(|k| reference.and_then(|r| r.get(*k)).is_some());
    let branch = reference
        .and_then(|r| r.get("branch"))
        .and_then(Value::as_str);
    if pinned || !super::argocd::tracks_checkout(branch) {
        return;
    }
    let Some(repo_at) = src
        .value
        .pointer("/spec/url")
        .and_then(Value::as_str)
        .and_then(|u| urls.local(u))
    else {
        return;
    };
    let repo = &world.repos[repo_at];
    let resolved = secure_join(path);
    if resolved.is_empty() || repo.dirs.contains(&resolved) || included(src.value, &resolved) {
        return;
    }
    let is_file = repo.files.contains(&resolved);
    out.push(
        Finding::new(
            RuleId::FLUX_PATH_MISSING,
            format!(
                "{what} `{path}` of {} `{}` {} in this repository (the root of GitRepository `{}`), so {}",
                from.kind,
                from.name,
                if is_file { "is a file, not a directory," } else { "does not exist" },
                src.name,
                if from.kind == "Kustomization" { "Flux fails to build it (`kustomization path not found`)" } else { "the source-controller cannot build the chart" }
            ),
            Location::value(from.at.file, from.at.doc, key_path(at)),
        )
        .with_help("the path is relative to the source's root (this repository's root), usually written `./clusters/prod`; fix it or create the directory"),
    );
}

/// Whether `path` lies in a directory another GitRepository is copied into by `spec.include`
/// (`toPath`, by default the included GitRepository's name): that content is not in this
/// checkout, so the path cannot be judged.
fn included(git_repo: &Value, path: &str) -> bool {
    let Some(list) = git_repo.pointer("/spec/include").and_then(Value::as_array) else {
        return false;
    };
    list.iter().any(|inc| {
        let to = inc
            .get("toPath")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .or_else(|| inc.pointer("/repository/name").and_then(Value::as_str));
        match to.map(secure_join) {
            // an include into the root (or a templated one) may hold anything
            Some(to) if !to.is_empty() && !to.contains("${") => {
                path == to || path.starts_with(&format!("{to}/"))
            }
            _ => true,
        }
    })
}

fn depends_on(peers: &[Obj], from: &Obj, out: &mut Vec<Finding>) {
    let Some(list) = from
        .value
        .pointer("/spec/dependsOn")
        .and_then(Value::as_array)
    else {
        return;
    };
    for (i, dep) in list.iter().enumerate() {
        let Some(name) = dep.get("name").and_then(Value::as_str) else {
            continue;
        };
        // `flux-system` is the Kustomization `flux bootstrap` creates, possibly outside these
        // repositories (as for `sourceRef`).
        if name.contains("${") || name == "flux-system" {
            continue;
        }
        let ns = dep
            .get("namespace")
            .and_then(Value::as_str)
            .or(from.namespace);
        if find(peers, from.kind, name, ns).is_some() {
            continue;
        }
        let names: Vec<String> = peers
            .iter()
            .filter(|p| p.name != from.name)
            .take(4)
            .map(|p| format!("`{}`", p.name))
            .collect();
        out.push(
            Finding::new(
                RuleId::FLUX_DEPENDS_ON_MISSING,
                format!(
                    "{} `{}` depends on {} `{}{name}`, which is not defined in these repositories, so the dependency never becomes ready and Flux never applies this one",
                    from.kind,
                    from.name,
                    from.kind,
                    ns.map(|n| format!("{n}/")).unwrap_or_default()
                ),
                Location::value(from.at.file, from.at.doc, vec![PathSeg::Key("spec".into()), PathSeg::Key("dependsOn".into()), PathSeg::Index(i), PathSeg::Key("name".into())]),
            )
            .with_help(if names.is_empty() {
                format!("no other {} is defined here; fix the name or remove the dependency", from.kind)
            } else {
                format!("{}s defined here: {} (without `namespace`, the dependency is looked up in this object's namespace)", from.kind, names.join(", "))
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_resolve_like_securejoin() {
        assert_eq!(secure_join("./clusters/prod/"), "clusters/prod");
        assert_eq!(secure_join("/clusters/prod"), "clusters/prod");
        assert_eq!(secure_join("./"), "");
        assert_eq!(secure_join("../../apps"), "apps");
        assert_eq!(secure_join("a/../../b"), "b");
    }

    #[test]
    fn included_paths_are_not_judged() {
        let repo = json!({"spec": {"include": [
            {"repository": {"name": "shared"}, "toPath": "./vendor/shared"},
            {"repository": {"name": "other"}}
        ]}});
        assert!(included(&repo, "vendor/shared/overlays/prod"));
        assert!(included(&repo, "vendor/shared"));
        assert!(included(&repo, "other/base"));
        assert!(!included(&repo, "vendor/sharedx"));
        assert!(!included(&repo, "apps"));
        assert!(!included(&json!({"spec": {}}), "apps"));
        let root = json!({"spec": {"include": [{"repository": {"name": "x"}, "toPath": "./"}]}});
        assert!(included(&root, "anything"));
    }
}
