//! Kustomize references, checked against the repository tree (never the disk):
//! `kustomize/missing-resource` (an entry that names nothing) and `kustomize/unlisted-file`
//! (a manifest beside a kustomization that nothing lists, so it is never applied).
//!
//! One mistake gets one finding: an entry that folds two items into one (`a.yaml - b.yaml`,
//! see `yaml/continued-list-item`) or a typo'd entry (`tenant-3.yml` for `tenant-3.yaml`) is
//! reported once, by `missing-resource`; the files it evidently meant count as listed.

use gitops_lint_core::finding::{Finding, Level, Location};
use gitops_lint_core::source::{FileId, FileKind, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_matchers::go_path::path_match;
use gitops_lint_matchers::paths::join_relative;
use gitops_lint_model::discover::split_dir;
use gitops_lint_model::{Repo, World};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// File names Kustomize accepts as a directory's kustomization.
pub(crate) const KUSTOMIZATION_NAMES: [&str; 3] =
    ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// One path-valued entry of a kustomization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry<'a> {
    /// The field it is listed under (`resources`, `patches`, ...).
    pub field: &'static str,
    /// The path as written (a generator's `key=` prefix removed).
    pub value: &'a str,
    /// Where it is in the document.
    pub path: Vec<PathSeg>,
}

fn key(k: &str) -> PathSeg {
    PathSeg::Key(k.into())
}

/// The items of a list field, with their indexes (nothing if the field is absent or not a list).
fn items<'a>(v: &'a Value, field: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    v.get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

/// Every path-valued entry of a kustomization document.
pub fn entries(doc: &Value) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    for field in [
        "resources",
        "bases",
        "components",
        "crds",
        "patchesStrategicMerge",
    ] {
        for (i, item) in items(doc, field) {
            // patchesStrategicMerge may hold inline patches instead of paths.
            if let Some(s) = item.as_str().filter(|s| !s.contains('\n')) {
                out.push(Entry {
                    field,
                    value: s,
                    path: vec![key(field), PathSeg::Index(i)],
                });
            }
        }
    }
    for field in ["patches", "patchesJson6902"] {
        for (i, item) in items(doc, field) {
            if let Some(s) = item.get("path").and_then(Value::as_str) {
                out.push(Entry {
                    field,
                    value: s,
                    path: vec![key(field), PathSeg::Index(i), key("path")],
                });
            }
        }
    }
    for field in ["configMapGenerator", "secretGenerator"] {
        for (i, gen) in items(doc, field) {
            for list in ["files", "envs"] {
                for (j, item) in items(gen, list) {
                    if let Some(s) = item.as_str() {
                        // `files: [key=path]` names the key; the path follows the `=`.
                        let value = s.split_once('=').map_or(s, |(_, p)| p);
                        out.push(Entry {
                            field,
                            value,
                            path: vec![key(field), PathSeg::Index(i), key(list), PathSeg::Index(j)],
                        });
                    }
                }
            }
            if let Some(s) = gen.get("env").and_then(Value::as_str) {
                out.push(Entry {
                    field,
                    value: s,
                    path: vec![key(field), PathSeg::Index(i), key("env")],
                });
            }
        }
    }
    out
}

/// Whether an entry names something outside this repository: a URL or a git remote.
pub(crate) fn is_remote(entry: &str) -> bool {
    let first = entry.split('/').next().unwrap_or("");
    entry.contains("://")
        || entry.starts_with("git@")
        || entry.starts_with("git::")
        || entry.contains("?ref=")
        || entry.contains("?version=")
        || matches!(
            first,
            "github.com" | "gitlab.com" | "bitbucket.org" | "dev.azure.com"
        )
}

/// Whether an entry is a pattern rather than one path.
fn is_glob(entry: &str) -> bool {
    entry.contains(['*', '?', '['])
}

/// An entry resolved against the kustomization's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// A repository-relative, normalized path (`""` is the root).
    Path(String),
    /// The path climbs above the repository root, or is absolute.
    Escapes,
}

/// Resolves `entry` relative to `dir` (both `/`-separated, `dir` repo-relative), folding `.`
/// and `..` the way the filesystem would.
pub fn resolve(dir: &str, entry: &str) -> Resolved {
    match join_relative(dir, entry) {
        Some(path) => Resolved::Path(path),
        None => Resolved::Escapes,
    }
}

/// `a/b` + `c` -> `a/b/c`; `` + `c` -> `c`.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// The kustomization file of a directory, if it has one.
fn kustomization_in(repo: &Repo, dir: &str) -> Option<String> {
    KUSTOMIZATION_NAMES
        .iter()
        .map(|n| join(dir, n))
        .find(|p| repo.files.contains(p))
}

/// The digits of a name, in order: `tenant-3.yml` -> `3`. Two names that differ in their
/// digits name different tenants, so they are never "close".
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn normalize(name: &str) -> String {
    let lower = name.to_ascii_lowercase().replace('_', "-");
    match lower.strip_suffix(".yml") {
        Some(stem) => format!("{stem}.yaml"),
        None => lower,
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The existing name closest to `wanted` among `names`: the same after ignoring case, `_`/`-`
/// and `.yml`/`.yaml`, or one or two typos away with the same digits.
pub fn closest<'n>(wanted: &str, names: impl Iterator<Item = &'n str>) -> Option<&'n str> {
    let want = normalize(wanted);
    let budget = if want.chars().count() > 12 { 2 } else { 1 };
    names
        .filter(|n| *n != wanted && digits(n) == digits(wanted))
        .map(|n| (edit_distance(&normalize(n), &want), n))
        .filter(|(d, _)| *d <= budget)
        .min()
        .map(|(_, n)| n)
}

/// Names directly inside `dir` (files and directories).
fn names_in<'r>(repo: &'r Repo, dir: &str) -> Vec<&'r str> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let direct = |p: &'r String| {
        p.strip_prefix(prefix.as_str())
            .filter(|rest| !rest.is_empty() && !rest.contains('/'))
    };
    let range_files = repo
        .files
        .range(prefix.clone()..)
        .take_while(|p| p.starts_with(&prefix));
    let range_dirs = repo
        .dirs
        .range(prefix.clone()..)
        .take_while(|p| p.starts_with(&prefix));
    range_files.chain(range_dirs).filter_map(direct).collect()
}

/// What checking one entry found.
enum Outcome {
    /// It names an existing file or a directory with a kustomization; these paths are used.
    Found(Vec<String>),
    /// A problem, and the paths the entry evidently meant (counted as listed). Boxed: a
    /// finding is ten times the size of the other variant.
    Problem(Box<Finding>, Vec<String>),
}

impl Outcome {
    /// [`Outcome::Problem`].
    fn problem(finding: Finding, meant: Vec<String>) -> Self {
        Outcome::Problem(Box::new(finding), meant)
    }
}

struct Kust<'w> {
    file: FileId,
    doc: usize,
    dir: &'w str,
    repo: &'w Repo,
}

fn check_entry(k: &Kust, entry: &Entry) -> Option<Outcome> {
    let value = entry.value.trim();
    if value.is_empty() || is_remote(value) {
        return None;
    }
    let location = Location::value(k.file, k.doc, entry.path.clone());
    let field = entry.field;
    let rule = RuleId::KUSTOMIZE_MISSING_RESOURCE;
    let resolved = match resolve(k.dir, value) {
        Resolved::Escapes => {
            return Some(Outcome::problem(
                Finding::new(
                    rule,
                    format!("`{value}` under `{field}` points outside the repository, so `kustomize build` in Flux or Argo CD, which see only a checkout of this repository, cannot find it"),
                    location,
                )
                .with_help("keep every file a kustomization uses inside the repository, and use a relative path from the kustomization's folder"),
                Vec::new(),
            ))
        }
        Resolved::Path(p) => p,
    };
    if is_glob(value) && !k.repo.files.contains(&resolved) {
        // Kustomize dropped glob expansion in v1.0.6 (kubernetes-sigs/kustomize#332): the
        // entry is looked up as a literal file name and the build fails. The files the
        // pattern covers count as meant, so they are not also reported as unlisted.
        let meant: Vec<String> = k
            .repo
            .files
            .iter()
            .filter(|f| path_match(&resolved, f).unwrap_or(false))
            .cloned()
            .collect();
        let covers = match meant.len() {
            0 => "it would match no file anyway".to_string(),
            1 => format!("it would match `{}`", meant[0]),
            n => format!("it would match {n} files such as `{}`", meant[0]),
        };
        return Some(Outcome::problem(
            Finding::new(
                rule,
                format!("`{value}` under `{field}` is a pattern, but Kustomize does not expand patterns: it looks for a file literally named `{resolved}`, so `kustomize build` fails ({covers})"),
                location,
            )
            .with_help("list each file by name; `kustomize edit add resource 'dir/*.yaml'` expands a pattern into entries once"),
            meant,
        ));
    }
    if k.repo.files.contains(&resolved) {
        return Some(Outcome::Found(vec![resolved]));
    }
    if k.repo.dirs.contains(&resolved) || resolved.is_empty() {
        if kustomization_in(k.repo, &resolved).is_some() {
            return Some(Outcome::Found(vec![resolved]));
        }
        let shown = if resolved.is_empty() {
            ".".to_string()
        } else {
            format!("{resolved}/")
        };
        return Some(Outcome::problem(
            Finding::new(
                rule,
                format!("`{value}` under `{field}` is the directory `{shown}`, which has no kustomization.yaml, so `kustomize build` fails and nothing from this kustomization is applied"),
                location,
            )
            .with_help(format!("add `{}` listing the directory's manifests, or list the files themselves", join(&resolved, "kustomization.yaml"))),
            Vec::new(),
        ));
    }
    let (parent, name) = split_dir(&resolved);
    // `a.yaml - b.yaml`: an over-indented `- b.yaml` line folded into the previous item.
    if value.contains(" - ") {
        let parts: Vec<&str> = value.split(" - ").map(str::trim).collect();
        let meant: Vec<String> = parts
            .iter()
            .filter_map(|p| match resolve(k.dir, p) {
                Resolved::Path(r) if k.repo.files.contains(&r) || k.repo.dirs.contains(&r) => {
                    Some(r)
                }
                _ => None,
            })
            .collect();
        let items = parts
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(" and ");
        return Some(Outcome::problem(
            Finding::new(
                rule,
                format!("`{field}` entry `{value}` names no file: it looks like {} items folded into one ({items}) by an over-indented `- ` line (see yaml/continued-list-item), so `kustomize build` fails and nothing from this kustomization is applied", parts.len()),
                location,
            )
            .with_help(format!("put each of {items} on its own `- ` line, at the same indentation as the other items")),
            meant,
        ));
    }
    if let Some(gitignore) = gitignored(k.repo, &resolved) {
        return Some(Outcome::problem(
            Finding::new(
                rule,
                format!("`{value}` under `{field}` is not in the repository, but `{gitignore}` lists it: it is generated before `kustomize build` runs (by a config management plugin or a CI step), so it was not checked"),
                location,
            )
            .with_level(Level::Info)
            .with_help("nothing to fix if the file is generated; lint a checkout where it exists to check it"),
            Vec::new(),
        ));
    }
    let near = closest(name, names_in(k.repo, parent).into_iter());
    let mut message = format!("`{value}` under `{field}` does not exist (there is no `{resolved}`), so `kustomize build` fails and nothing from this kustomization is applied");
    let (help, meant) = match near {
        Some(n) => {
            message.push_str(&format!("; `{n}` exists beside it"));
            let fixed = match value.rsplit_once('/') {
                Some((d, _)) => format!("{d}/{n}"),
                None => n.to_string(),
            };
            (format!("did you mean `{fixed}`? write `- {fixed}`"), vec![join(parent, n)])
        }
        None => (
            format!("add `{resolved}`, or remove the entry (offboarding must delete both the file and its line here)"),
            Vec::new(),
        ),
    };
    Some(Outcome::problem(
        Finding::new(rule, message, location).with_help(help),
        meant,
    ))
}

/// The `.gitignore` (repository-relative) that lists `path`, looking in its folder and each
/// folder above it, as git does. A file git ignores is never committed: whoever builds the
/// kustomization generates it first (an Argo CD config management plugin's `helm template >
/// all.yaml`). Only regular files under 1 MiB are read, so a planted link cannot stall the run.
fn gitignored(repo: &Repo, path: &str) -> Option<String> {
    let mut dir = split_dir(path).0;
    loop {
        let candidate = join(dir, ".gitignore");
        if repo.files.contains(&candidate) {
            let on_disk = repo.root.join(&candidate);
            let readable =
                std::fs::symlink_metadata(&on_disk).is_ok_and(|m| m.is_file() && m.len() < 1 << 20);
            let text = readable
                .then(|| std::fs::read_to_string(&on_disk).ok())
                .flatten()
                .unwrap_or_default();
            let mut builder = ignore::gitignore::GitignoreBuilder::new(repo.root.join(dir));
            for line in text.lines() {
                let _ = builder.add_line(None, line);
            }
            if let Ok(matcher) = builder.build() {
                if matcher
                    .matched_path_or_any_parents(repo.root.join(path), false)
                    .is_ignore()
                {
                    return Some(candidate);
                }
            }
        }
        if dir.is_empty() {
            return None;
        }
        dir = split_dir(dir).0;
    }
}

/// Label and annotation values a kustomization sets must be strings: kustomize decodes the file
/// into its `Kustomization` type (sigs.k8s.io/kustomize `api/types`), where `commonLabels`,
/// `commonAnnotations` and `labels[].pairs` are `map[string]string`, so a boolean or a number
/// there fails `kustomize build` (`cannot unmarshal bool into ... of type string`).
fn non_string_labels(file: FileId, doc: usize, value: &Value) -> Vec<Finding> {
    let key = |k: &str| PathSeg::Key(k.into());
    let mut maps: Vec<(Vec<PathSeg>, &serde_json::Map<String, Value>)> = Vec::new();
    for field in ["commonLabels", "commonAnnotations"] {
        if let Some(m) = value.get(field).and_then(Value::as_object) {
            maps.push((vec![key(field)], m));
        }
    }
    for (i, entry) in value
        .get("labels")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Some(m) = entry.get("pairs").and_then(Value::as_object) {
            maps.push((vec![key("labels"), PathSeg::Index(i), key("pairs")], m));
        }
    }
    let mut out = Vec::new();
    for (path, map) in maps {
        for (name, v) in map {
            if v.is_string() {
                continue;
            }
            let shown = gitops_lint_core::source::display_path(&path);
            let mut at = path.clone();
            at.push(key(name));
            // `includeSelectors`/`includeTemplates` are options of a `labels` entry: indented
            // into `pairs`, they became a label.
            let option =
                path.len() == 3 && matches!(name.as_str(), "includeSelectors" | "includeTemplates");
            let help = if option {
                format!("`{name}` is an option of the `labels` entry: move it out of `pairs`, to the column of `pairs:`")
            } else {
                format!("quote the value (`{name}: \"{v}\"`)")
            };
            out.push(
                Finding::new(
                    RuleId::SCHEMA_INVALID_TYPE,
                    format!("`{name}: {v}` under `{shown}` is not a string, but kustomize reads label and annotation values as strings, so `kustomize build` fails and nothing from this kustomization is applied"),
                    Location::value(file, doc, at),
                )
                .with_help(help),
            );
        }
    }
    out
}

/// Whether a document is a Kubernetes object (has `apiVersion` and `kind`), not a Kustomize one.
fn is_object(doc: &Value) -> bool {
    let api = doc.get("apiVersion").and_then(Value::as_str);
    let kind = doc.get("kind").and_then(Value::as_str);
    match (api, kind) {
        (Some(api), Some(_)) => !api.starts_with("kustomize.config.k8s.io/"),
        _ => false,
    }
}

/// Runs both Kustomize rules.
pub fn check(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    // (repo, dir) -> the kustomization there; (repo) -> every path some kustomization uses.
    let mut by_dir: BTreeMap<(usize, &str), (FileId, &str)> = BTreeMap::new();
    let mut used: BTreeSet<(usize, String)> = BTreeSet::new();
    for file in world
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Kustomization)
    {
        let repo = &world.repos[file.repo];
        let (dir, _) = split_dir(&file.rel_path);
        let docs = &world.yaml[file.id.0 as usize];
        if !docs.is_empty() {
            by_dir
                .entry((file.repo, dir))
                .or_insert((file.id, file.rel_path.as_str()));
        }
        for (d, doc) in docs.iter().enumerate() {
            let k = Kust {
                file: file.id,
                doc: d,
                dir,
                repo,
            };
            for entry in entries(&doc.value) {
                match check_entry(&k, &entry) {
                    Some(Outcome::Found(paths)) => {
                        used.extend(paths.into_iter().map(|p| (file.repo, p)));
                    }
                    Some(Outcome::Problem(f, meant)) => {
                        findings.push(*f);
                        used.extend(meant.into_iter().map(|p| (file.repo, p)));
                    }
                    None => {}
                }
            }
            findings.extend(non_string_labels(file.id, d, &doc.value));
        }
    }
    for file in world.files.iter().filter(|f| f.kind == FileKind::Manifest) {
        let (dir, name) = split_dir(&file.rel_path);
        let Some((kfile, krel)) = by_dir.get(&(file.repo, dir)) else {
            continue;
        };
        if used.contains(&(file.repo, file.rel_path.clone())) {
            continue;
        }
        let docs = &world.yaml[file.id.0 as usize];
        let Some(first) = docs.iter().position(|d| is_object(&d.value)) else {
            continue;
        };
        if docs.iter().any(|d| {
            d.value
                .get("apiVersion")
                .and_then(Value::as_str)
                .is_some_and(|a| a.starts_with("kustomize.config.k8s.io/"))
        }) {
            continue;
        }
        let kdocs = &world.yaml[kfile.0 as usize];
        let related = match kdocs
            .iter()
            .position(|d| d.value.get("resources").is_some())
        {
            Some(d) => Location::key(*kfile, d, vec![key("resources")]),
            None => Location::File(*kfile),
        };
        let shown_dir = if dir.is_empty() {
            "the repository root".to_string()
        } else {
            format!("`{dir}/`")
        };
        findings.push(
            Finding::new(
                RuleId::KUSTOMIZE_UNLISTED_FILE,
                format!("`{name}` is in {shown_dir} but `{krel}` does not list it under `resources`, so Flux/Kustomize never applies it"),
                Location::value(file.id, first, vec![key("kind")]),
            )
            .with_help(format!("add `- {name}` under `resources:` in `{krel}`; if the file is not meant to be applied, move it out of this folder"))
            .with_related(related, "Kustomize applies only what this list names"),
        );
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_relative_paths_inside_the_repo() {
        let p = |s: &str| Resolved::Path(s.to_string());
        assert_eq!(
            resolve("tenants/premium", "tenant-1.yaml"),
            p("tenants/premium/tenant-1.yaml")
        );
        assert_eq!(
            resolve("tenants/premium", "./tenant-1.yaml"),
            p("tenants/premium/tenant-1.yaml")
        );
        assert_eq!(resolve("tenants/premium", "../basic/"), p("tenants/basic"));
        assert_eq!(resolve("tenants/premium", "../../base"), p("base"));
        assert_eq!(resolve("", "base//x.yaml"), p("base/x.yaml"));
        assert_eq!(resolve("tenants", ".."), p(""));
        assert_eq!(resolve("tenants", "../../x"), Resolved::Escapes);
        assert_eq!(resolve("tenants", "/etc/passwd"), Resolved::Escapes);
    }

    #[test]
    fn recognises_remote_entries() {
        assert!(is_remote("https://github.com/org/repo//deploy?ref=v1"));
        assert!(is_remote(
            "github.com/kubernetes-sigs/kustomize/examples/multibases?ref=v1.0.6"
        ));
        assert!(is_remote("git@github.com:org/repo.git//base"));
        assert!(!is_remote("../base"));
        assert!(!is_remote("tenant-1.yaml"));
    }

    #[test]
    fn suggests_close_names_but_not_other_tenants() {
        let names = [
            "tenant-3.yaml",
            "tenant-7.yaml",
            "Pool-1.yaml",
            "kustomization.yaml",
        ];
        let c = |w| closest(w, names.iter().copied());
        assert_eq!(c("tenant-3.yml"), Some("tenant-3.yaml"));
        assert_eq!(c("tenat-3.yaml"), Some("tenant-3.yaml"));
        assert_eq!(c("pool-1.yaml"), Some("Pool-1.yaml"));
        assert_eq!(c("tenant-9.yaml"), None);
        assert_eq!(c("tenant-33.yaml"), None);
    }

    #[test]
    fn collects_entries_from_every_path_field() {
        let doc: Value = serde_json::json!({
            "resources": ["a.yaml", "../base"],
            "patches": [{"path": "p.yaml"}, {"patch": "inline"}],
            "patchesStrategicMerge": ["s.yaml", "apiVersion: v1\nkind: X\n"],
            "configMapGenerator": [{"name": "c", "files": ["k=f.txt", "g.txt"], "envs": ["e.env"]}],
            "components": ["../comp"],
        });
        let got: Vec<&str> = entries(&doc).iter().map(|e| e.value).collect();
        assert_eq!(
            got,
            ["a.yaml", "../base", "../comp", "s.yaml", "p.yaml", "f.txt", "g.txt", "e.env"]
        );
    }
}
