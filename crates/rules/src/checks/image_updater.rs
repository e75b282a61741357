//! Argo CD Image Updater annotations on Applications: the `image-list` grammar,
//! per-alias keys that name a listed alias, `update-strategy` and `write-back-method` values,
//! and image references with an empty part (`.dkr.ecr...` after an empty account id).
//! Upstream: `argoproj-labs/argocd-image-updater` `pkg/argocd/annotations.go`
//! (`getImagesFromAnnotations`), `registry-scanner/pkg/image/options.go` (`ParseUpdateStrategy`),
//! `pkg/argocd/argocd.go` and `pkg/argocd/gitcreds.go` (write-back method), and its
//! `docs/configuration/images.md`.

use crate::checks::argocd::AppFindings;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::PathSeg;
use gitops_lint_core::RuleId;
use gitops_lint_model::apps::AppRef;
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
use serde_json::Value;
use std::collections::BTreeSet;

const PREFIX: &str = "argocd-image-updater.argoproj.io/";
/// Per-image option suffixes (`<alias>.<option>`).
const ALIAS_OPTIONS: &[&str] = &[
    "update-strategy",
    "allow-tags",
    "ignore-tags",
    "force-update",
    "pull-secret",
    "platforms",
    "helm.image-name",
    "helm.image-tag",
    "helm.image-spec",
    "kustomize.image-name",
];
const STRATEGIES: &[&str] = &[
    "semver",
    "newest-build",
    "alphabetical",
    "digest",
    "latest",
    "name",
];

/// Runs the Image Updater checks over every Application.
pub fn check(world: &World) -> Vec<Finding> {
    let mut found = AppFindings::default();
    for app in world.applications() {
        found.about(&app, |out| check_app(&app, out));
    }
    found.collapse()
}

/// The checks for one Application.
fn check_app(app: &AppRef, out: &mut Vec<Finding>) {
    let Some(ann) = app
        .value
        .lookup("/metadata/annotations")
        .and_then(Value::as_object)
    else {
        return;
    };
    if !ann.keys().any(|k| k.starts_with(PREFIX)) {
        return;
    }
    let ann_path = |key: &str| {
        vec![
            PathSeg::Key("metadata".into()),
            PathSeg::Key("annotations".into()),
            PathSeg::Key(key.into()),
        ]
    };
    let place = |key: &str| app.location(&ann_path(key));
    let list_key = format!("{PREFIX}image-list");
    let aliases = match ann.get(&list_key) {
        Some(Value::String(list)) if !list.contains("{{") => {
            Some(image_list(app, list, &place(&list_key), out))
        }
        _ => None,
    };
    for (key, value) in ann {
        let Some(name) = key.strip_prefix(PREFIX) else {
            continue;
        };
        let Some(value) = value.as_str() else {
            continue;
        };
        if value.contains("{{") {
            continue;
        }
        let option = ALIAS_OPTIONS
            .iter()
            .find(|o| name.ends_with(&format!(".{o}")));
        if let (Some(option), Some(aliases)) = (option, &aliases) {
            let alias = &name[..name.len() - option.len() - 1];
            // Keys name an alias with each `/` written as `_` (`normalizedSymbolicName`).
            if !aliases
                .iter()
                .any(|a| a == alias || a.replace('/', "_") == alias)
            {
                let listed: Vec<String> = aliases.iter().map(|a| format!("`{a}`")).collect();
                out.push(
                        Finding::new(
                            RuleId::IMAGE_UPDATER_IMAGE_LIST,
                            format!("`{name}` configures alias `{alias}`, which `image-list` does not define, so Image Updater ignores it{}", app.context()),
                            app.key_location(&ann_path(key)),
                        )
                        .with_related(place(&list_key), "the aliases are defined here")
                        .with_help(if listed.is_empty() {
                            format!("give the image an alias in `image-list` (`{alias}=<image>`)")
                        } else {
                            format!("the aliases in `image-list` are {}", listed.join(", "))
                        }),
                    );
            }
        }
        if name == "update-strategy" || option == Some(&"update-strategy") {
            update_strategy(app, value, place(key), out);
        }
        if name == "write-back-method" {
            write_back(app, value, place(key), out);
        }
    }
}

/// Parses `image-list` like `getImagesFromAnnotations`; returns the aliases.
fn image_list(app: &AppRef, list: &str, at: &Location, out: &mut Vec<Finding>) -> BTreeSet<String> {
    let rule = RuleId::IMAGE_UPDATER_IMAGE_LIST;
    let mut aliases = BTreeSet::new();
    let items: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .collect();
    if items.is_empty() {
        out.push(
            Finding::new(rule.clone(), format!("`image-list` is empty, so Image Updater fails for Application `{}` (`annotation is empty`){}", app.name(), app.context()), at.clone())
                .with_help("list the images as `<alias>=<registry>/<repository>[:<constraint>]`, comma-separated"),
        );
    }
    for item in items {
        let (alias, image) = match item.split_once('=') {
            Some((a, i)) => (Some(a.trim()), i.trim()),
            None => (None, item),
        };
        if let Some(alias) = alias {
            let valid = alias
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
                && alias
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._/".contains(c));
            if !valid {
                out.push(
                    Finding::new(rule.clone(), format!("alias `{alias}` in `image-list` is not a valid alias: it must start with a letter or digit and use only letters, digits, `-`, `.`, `_`{}", app.context()), at.clone())
                        .with_help("name the image with a short alias such as `producer=`; per-image settings are keyed by it"),
                );
            } else if !aliases.insert(alias.to_string()) {
                out.push(
                    Finding::new(rule.clone(), format!("alias `{alias}` is defined twice in `image-list`: per-image settings cannot tell the images apart{}", app.context()), at.clone())
                        .with_help("give each image its own alias"),
                );
            }
        }
        if image.is_empty() {
            out.push(
                Finding::new(rule.clone(), format!("`{item}` in `image-list` has no image after `=`, so Image Updater fails for the whole Application{}", app.context()), at.clone())
                    .with_help("write `<alias>=<registry>/<repository>`"),
            );
            continue;
        }
        // A semver constraint after `:` may hold spaces (`web=repo/web:>=1.0 <2.0` is an AND
        // range for Masterminds semver); only the repository part must not, and no constraint
        // holds a line break (a list written one image per line without commas).
        if image.contains(['\n', '\r']) || repository(image).chars().any(char::is_whitespace) {
            out.push(
                Finding::new(rule.clone(), format!("image `{image}` in `image-list` contains whitespace; items are separated by `,`{}", app.context()), at.clone())
                    .with_help("separate images with commas: `a=repo/a, b=repo/b`"),
            );
            continue;
        }
        empty_part(app, image, at, out);
    }
    aliases
}

/// The repository part of an image reference (no `:constraint` / `@digest`).
fn repository(image: &str) -> &str {
    let no_digest = image.split('@').next().unwrap_or(image);
    let last_slash = no_digest.rfind('/').map_or(0, |i| i + 1);
    match no_digest[last_slash..].find(':') {
        Some(c) => &no_digest[..last_slash + c],
        None => no_digest,
    }
}

fn empty_part(app: &AppRef, image: &str, at: &Location, out: &mut Vec<Finding>) {
    let repo = repository(image);
    let components: Vec<&str> = repo.split('/').collect();
    let host = components.first().copied().unwrap_or("");
    let host_name = host.split(':').next().unwrap_or("");
    let empty_label = host_name.contains('.') && host_name.split('.').any(str::is_empty);
    let empty_component = components.iter().any(|c| c.is_empty());
    if !(empty_label || empty_component) {
        return;
    }
    let what = if host.starts_with('.') {
        format!("the registry host `{host}` starts with `.`: the part before it (for ECR, the 12-digit account id) is empty, typically a variable that rendered empty")
    } else if empty_label {
        format!(
            "the registry host `{host}` has an empty label (`..`): a variable in it rendered empty"
        )
    } else {
        format!("`{repo}` has an empty path component (`//`, or a leading or trailing `/`): a variable in it rendered empty")
    };
    out.push(
        Finding::new(
            RuleId::IMAGE_UPDATER_EMPTY_IMAGE_PART,
            format!("image `{image}` of Application `{}` is not a valid reference: {what}; Image Updater cannot query that registry{}", app.name(), app.context()),
            at.clone(),
        )
        .with_help("fill in the missing part, e.g. `123456789012.dkr.ecr.<region>.amazonaws.com/<repository>` for ECR"),
    );
}

fn update_strategy(app: &AppRef, value: &str, at: Location, out: &mut Vec<Finding>) {
    let v = value.trim().to_ascii_lowercase();
    if STRATEGIES.contains(&v.as_str()) {
        return;
    }
    let near = match v.as_str() {
        "newest" | "newestbuild" | "newest_build" | "build" => Some("newest-build"),
        "alpha" | "alphabetic" | "lexical" => Some("alphabetical"),
        "sha" | "sha256" => Some("digest"),
        "semantic" | "semver2" | "version" => Some("semver"),
        _ => None,
    };
    out.push(
        Finding::new(
            RuleId::IMAGE_UPDATER_UPDATE_STRATEGY,
            format!(
                "`{value}` is not an Image Updater update strategy, so it silently uses `semver` (the default){}{}",
                near.map(|n| format!("; did you mean `{n}`?")).unwrap_or_default(),
                app.context()
            ),
            at,
        )
        .with_help("strategies: `semver` (highest allowed version), `newest-build` (most recent build), `alphabetical` (last tag in lexical order), `digest` (follow a mutable tag's digest)"),
    );
}

/// `git:secret:<name>` or `git:secret:<namespace>/<name>`.
fn secret_ref(s: &str) -> bool {
    let ok = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
    };
    match s.split_once('/') {
        Some((ns, name)) => ok(ns) && ok(name),
        None => ok(s),
    }
}

fn write_back(app: &AppRef, value: &str, at: Location, out: &mut Vec<Finding>) {
    let v = value.trim();
    let (method, creds) = match v.split_once(':') {
        Some((m, c)) => (m.trim(), Some(c)),
        None => (v, None),
    };
    let problem = match (method, creds) {
        ("argocd", None) | ("git", None) | ("git", Some("repocreds")) => None,
        ("git", Some(c)) => match c.strip_prefix("secret:") {
            Some(s) if secret_ref(s) => None,
            _ => Some(format!("unexpected credentials `{c}`: Image Updater expects `repocreds`, `secret:<secret>` or `secret:<namespace>/<secret>`")),
        },
        (m, _) => Some(format!("`{m}` is not an update mechanism (`invalid update mechanism: {m}`)")),
    };
    if let Some(problem) = problem {
        out.push(
            Finding::new(
                RuleId::IMAGE_UPDATER_WRITE_BACK_METHOD,
                format!("write-back method `{value}` is invalid: {problem}; Image Updater skips the Application{}", app.context()),
                at,
            )
            .with_help("write `argocd` (the default), `git` (= `git:repocreds`), or `git:secret:<namespace>/<secret>`"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_strips_constraint_and_digest() {
        assert_eq!(repository("nginx:~1.26"), "nginx");
        assert_eq!(repository("registry:5000/a/b:1.x"), "registry:5000/a/b");
        assert_eq!(repository("a/b@sha256:abc"), "a/b");
    }

    #[test]
    fn spaces_only_matter_in_the_repository() {
        // `>=1.0 <2.0` is one semver range; the repository part has no space
        assert_eq!(
            repository("registry.example.com:5000/team/web:>=1.0 <2.0"),
            "registry.example.com:5000/team/web"
        );
        assert_eq!(
            repository("public.ecr.aws/a/b@sha256:00"),
            "public.ecr.aws/a/b"
        );
    }

    #[test]
    fn secrets() {
        assert!(secret_ref("argocd/git-creds"));
        assert!(secret_ref("git-creds"));
        assert!(!secret_ref(""));
        assert!(!secret_ref("a/b/c"));
    }
}
