//! ApplicationSet git `directories` generators, matched against the repository's directories
//! exactly as Argo CD's repo-server does (facts.md §1.1).

use super::gomatch::path_match;
use crate::finding::{Finding, Location};
use crate::model::{DocRef, Repo, World};
use crate::source::PathSeg;
use serde_json::Value;

/// A git `directories` item found in an ApplicationSet, with its path in the document.
struct DirItem<'a> {
    pattern: &'a str,
    path: Vec<PathSeg>,
}

/// Collects `git.directories` items from a generator list, descending into matrix and merge.
fn collect_items<'a>(generators: &'a Value, at: Vec<PathSeg>, out: &mut Vec<DirItem<'a>>) {
    let Some(list) = generators.as_array() else {
        return;
    };
    for (i, generator) in list.iter().enumerate() {
        let mut here = at.clone();
        here.push(PathSeg::Index(i));
        if let Some(dirs) = generator
            .pointer("/git/directories")
            .and_then(Value::as_array)
        {
            for (j, item) in dirs.iter().enumerate() {
                let excluded = item.get("exclude").and_then(Value::as_bool) == Some(true);
                if let (Some(pattern), false) = (item.get("path").and_then(Value::as_str), excluded)
                {
                    let mut path = here.clone();
                    path.extend([
                        PathSeg::Key("git".into()),
                        PathSeg::Key("directories".into()),
                        PathSeg::Index(j),
                        PathSeg::Key("path".into()),
                    ]);
                    out.push(DirItem { pattern, path });
                }
            }
        }
        for nested in ["matrix", "merge"] {
            if let Some(children) = generator.get(nested).and_then(|n| n.get("generators")) {
                let mut path = here.clone();
                path.extend([
                    PathSeg::Key(nested.into()),
                    PathSeg::Key("generators".into()),
                ]);
                collect_items(children, path, out);
            }
        }
    }
}

/// Whether Argo CD lists this directory at all: dot-directories are skipped with their subtrees.
fn visible(dir: &str) -> bool {
    !dir.split('/').any(|s| s.starts_with('.'))
}

fn first_matches<'r>(
    pattern: &str,
    names: impl Iterator<Item = &'r String>,
    limit: usize,
) -> Vec<&'r str> {
    names
        .filter(|n| path_match(pattern, n).unwrap_or(false))
        .take(limit)
        .map(String::as_str)
        .collect()
}

fn check_item(at: DocRef, repo: &Repo, item: &DirItem) -> Option<Finding> {
    let location = Location::value(at.file, at.doc, item.path.clone());
    let pattern = item.pattern;
    let mut matched = false;
    for dir in repo.dirs.iter().filter(|d| visible(d)) {
        match path_match(pattern, dir) {
            Ok(true) => {
                matched = true;
                break;
            }
            Ok(false) => {}
            Err(_) => {
                return Some(
                    Finding::new(
                        "argocd/appset-path-matches-nothing",
                        format!("`{pattern}` is not a valid pattern, so Argo CD logs `syntax error in pattern` and skips this item: it generates nothing"),
                        location,
                    )
                    .with_help("close every `[` with `]` and escape a literal `\\`, `*`, `?` or `[` with `\\`"),
                );
            }
        }
    }
    if matched {
        return None;
    }
    let depth = pattern.split('/').count();
    let mut message = format!("`{pattern}` matches no directory of this repository, so this generator produces no Applications");
    let help;
    if pattern.starts_with('/') || pattern.ends_with('/') {
        message.push_str(": Argo CD matches repo-relative paths with no leading or trailing `/`");
        help = format!("write `{}`", pattern.trim_matches('/'));
    } else {
        let files = first_matches(pattern, repo.files.iter().filter(|f| visible(f)), 2);
        if !files.is_empty() {
            message.push_str(&format!(
                "; it matches files such as `{}`, but a `directories` generator only ever lists directories",
                files[0]
            ));
            help = format!(
                "to generate one Application per file, use a `files` generator (`files: [{{path: \"{pattern}\"}}]`; note that a files generator reads each file's content as parameters), or deploy the folder with one Application and `directory.recurse: true`"
            );
        } else {
            let same_depth: Vec<&str> = repo
                .dirs
                .iter()
                .filter(|d| visible(d) && d.split('/').count() == depth)
                .take(3)
                .map(String::as_str)
                .collect();
            help = if same_depth.is_empty() {
                format!("no directory of this repository is {depth} levels deep; `*` never crosses `/` and `**` acts like `*`")
            } else {
                format!(
                    "directories at this depth include {}; `*` never crosses `/` and `**` acts like `*`",
                    same_depth.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")
                )
            };
        }
    }
    Some(Finding::new("argocd/appset-path-matches-nothing", message, location).with_help(help))
}

/// Checks every ApplicationSet.
pub fn check(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    for at in world.kind("ApplicationSet") {
        let Some(doc) = world.doc(*at) else { continue };
        let Some(generators) = doc.value.pointer("/spec/generators") else {
            continue;
        };
        let mut items = Vec::new();
        collect_items(
            generators,
            vec![
                PathSeg::Key("spec".into()),
                PathSeg::Key("generators".into()),
            ],
            &mut items,
        );
        let repo = &world.repos[world.file(at.file).repo];
        for item in &items {
            findings.extend(check_item(*at, repo, item));
        }
    }
    findings
}
