//! Flux references: a HelmRelease's chart source and a Kustomization's `sourceRef` name a source
//! object defined in these repositories, a Kustomization's `path` (and a HelmRelease's chart path
//! in a Git source) exists when the source is this repository, and `dependsOn` targets exist.
//!
//! Only objects of the Flux API groups (`*.toolkit.fluxcd.io`) count, so a kustomize
//! `kustomization.yaml` is never taken for a Flux Kustomization. A reference without a namespace
//! means the referrer's namespace; an object whose namespace is not written matches any.

use gitops_lint_core::finding::Finding;
use gitops_lint_core::source::PathSeg;
use gitops_lint_core::RuleId;
use gitops_lint_matchers::paths::secure_join;
use gitops_lint_model::repo_urls::RepoUrls;
use gitops_lint_model::view::Doc;
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
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
    doc: Doc<'w>,
    kind: &'w str,
    name: &'w str,
    namespace: Option<&'w str>,
}

fn objects<'w>(world: &'w World, kinds: &[&str]) -> Vec<Obj<'w>> {
    let mut out = Vec::new();
    for kind in kinds {
        for doc in world.docs_of_kind(kind) {
            let api = doc.str(&["apiVersion"]).unwrap_or("");
            if !api
                .split('/')
                .next()
                .unwrap_or("")
                .ends_with(".toolkit.fluxcd.io")
            {
                continue;
            }
            let Some(name) = doc.str(&["metadata", "name"]) else {
                continue;
            };
            out.push(Obj {
                doc,
                kind: doc.str(&["kind"]).unwrap_or(""),
                name,
                namespace: doc.str(&["metadata", "namespace"]),
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
        if let Some(src) = reference(&sources, k, &["spec", "sourceRef"], &mut out) {
            local_path(
                world,
                urls,
                k,
                src,
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
        if let Some(src) = src.filter(|s| s.kind == "GitRepository" || s.kind == "Bucket") {
            local_path(
                world,
                urls,
                r,
                src,
                &["spec", "chart", "spec", "chart"],
                "chart path",
                &mut out,
            );
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
    let r = from.doc.get(at)?;
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
    out.push(
        Finding::new(
            RuleId::FLUX_SOURCE_MISSING,
            format!(
                "{} `{}` references {kind} `{}{name}`, which is not defined in these repositories, so Flux reports the source as not found and never reconciles it",
                from.kind,
                from.name,
                ns.map(|n| format!("{n}/")).unwrap_or_default()
            ),
            from.doc.locate_below(at, &[PathSeg::Key("name".into())]),
        )
        .with_help(format!("{kind}s defined here: {} (a reference without `namespace` means the referrer's namespace)", same_kind.join(", "))),
    );
    None
}

/// Checks that the path field `at` of `from` names a directory of `src`, when `src` is this
/// repository at the checked-out revision.
fn local_path(
    world: &World,
    urls: &RepoUrls,
    from: &Obj,
    src: &Obj,
    at: &[&str],
    what: &str,
    out: &mut Vec<Finding>,
) {
    let Some(path) = from.doc.str(at) else {
        return;
    };
    if src.kind != "GitRepository" || path.contains("${") {
        return;
    }
    // A tag, semver range or commit may hold other paths than this checkout.
    let reference = src.doc.get(&["spec", "ref"]);
    let pinned = ["tag", "semver", "commit", "name"]
        .iter()
        .any(|k| reference.and_then(|r| r.get(*k)).is_some());
    let branch = reference
        .and_then(|r| r.get("branch"))
        .and_then(Value::as_str);
    if pinned || !super::argocd::tracks_checkout(branch) {
        return;
    }
    let Some(repo_at) = src.doc.str(&["spec", "url"]).and_then(|u| urls.local(u)) else {
        return;
    };
    let repo = &world.repos[repo_at];
    let resolved = secure_join(path);
    if resolved.is_empty() || repo.dirs.contains(&resolved) || included(src.doc.value, &resolved) {
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
            from.doc.locate(at),
        )
        .with_help("the path is relative to the source's root (this repository's root), usually written `./clusters/prod`; fix it or create the directory"),
    );
}

/// Whether `path` lies in a directory another GitRepository is copied into by `spec.include`
/// (`toPath`, by default the included GitRepository's name): that content is not in this
/// checkout, so the path cannot be judged.
fn included(git_repo: &Value, path: &str) -> bool {
    let Some(list) = git_repo.lookup("/spec/include").and_then(Value::as_array) else {
        return false;
    };
    list.iter().any(|inc| {
        let to = inc
            .get("toPath")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .or_else(|| inc.lookup("/repository/name").and_then(Value::as_str));
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
    const DEPENDS_ON: &[&str] = &["spec", "dependsOn"];
    let Some(list) = from.doc.list(DEPENDS_ON) else {
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
                from.doc.locate_below(DEPENDS_ON, &[PathSeg::Index(i), PathSeg::Key("name".into())]),
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
