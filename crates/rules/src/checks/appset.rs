//! Static checks of an ApplicationSet's git generator items against the checkout, before any
//! rendering: items that match nothing (`argocd/appset-path-matches-nothing`), a leading `/`
//! (`argocd/appset-leading-slash`), and includes every match of which an exclude removes
//! (`argocd/appset-exclude-shadows-include`). Argo CD's matching is reproduced by the
//! `gitops-lint-derive` expansion (`applicationset/generators/git.go`), whose pieces this reuses.

use gitops_lint_config::Config;
use gitops_lint_core::finding::{Finding, Level, Location};
use gitops_lint_core::source::PathSeg;
use gitops_lint_core::RuleId;
use gitops_lint_derive::appset::git::{dirs_matching, files_matching, items, visible_dir, Item};
use gitops_lint_derive::appset::git_specs::{git_generators, GitSpec};
use gitops_lint_derive::appset::repo_for;
use gitops_lint_matchers::go_path::path_match;
use gitops_lint_model::{DocRef, Repo, World};
use serde_json::Value;

/// Checks the git generator items of every ApplicationSet whose repository is linted here (a
/// generator on another repository is not judged: the expansion says so, once).
pub fn check(world: &World, config: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    for at in world.kind("ApplicationSet") {
        let Some(spec) = world.doc(*at).and_then(|d| d.value.get("spec")) else {
            continue;
        };
        let Some(generators) = spec.get("generators") else {
            continue;
        };
        let mut gits = Vec::new();
        let path = vec![
            PathSeg::Key("spec".into()),
            PathSeg::Key("generators".into()),
        ];
        git_generators(generators, path, &mut gits);
        let own_repo = world.file(at.file).repo;
        let doublestar = config.new_git_file_globbing;
        let mut per_git = Vec::new();
        for git in &gits {
            let url = git.spec.get("repoURL").and_then(Value::as_str);
            if let Some(target) = repo_for(world, config, &world.repo_urls, own_repo, url) {
                per_git.push(check_git(*at, target, git, doublestar));
            }
        }
        // A generator that matches nothing while a sibling generates Applications is waiting for
        // its first match (argocd-autopilot writes a `config.json` and a `config_dir.json`
        // generator per project, and one stays empty until an app of that type exists): Argo CD
        // generates the sibling's Applications, so this is said (info), not an error.
        let some_generate = per_git.iter().any(|(_, g)| *g);
        for (findings, generates) in per_git {
            for f in findings {
                if some_generate
                    && !generates
                    && f.rule == RuleId::ARGOCD_APPSET_PATH_MATCHES_NOTHING
                {
                    let mut f = f.with_level(Level::Info);
                    f.message.push_str("; another generator of this ApplicationSet generates Applications, so this one may be waiting for its first match");
                    out.push(f);
                } else {
                    out.push(f);
                }
            }
        }
    }
    out
}

fn item_path(git: &GitSpec, list: &str, item: &Item) -> Vec<PathSeg> {
    let mut path = git.path.clone();
    path.extend([
        PathSeg::Key(list.into()),
        PathSeg::Index(item.index),
        PathSeg::Key("path".into()),
    ]);
    path
}

fn quoted_list(paths: &[&str], limit: usize) -> String {
    let mut s: Vec<String> = paths.iter().take(limit).map(|p| format!("`{p}`")).collect();
    if paths.len() > limit {
        s.push(format!("and {} more", paths.len() - limit));
    }
    s.join(", ")
}

/// Checks every item of one git generator; also says whether some include item matches
/// anything in the checkout (the generator generates Applications).
fn check_git(at: DocRef, repo: &Repo, git: &GitSpec, doublestar: bool) -> (Vec<Finding>, bool) {
    let mut out = Vec::new();
    let mut generates = false;
    // As git.go: a non-empty `directories` list wins over `files`.
    let dirs_set = git
        .spec
        .get("directories")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty());
    let (list, is_dirs) = if dirs_set {
        ("directories", true)
    } else {
        ("files", false)
    };
    let all = items(git.spec.get(list));
    for item in &all {
        if item.pattern.contains("{{") {
            // Interpolated from a matrix sibling: known only per element, so taken as matching.
            generates |= !item.exclude;
            continue;
        }
        let location = Location::value(at.file, at.doc, item_path(git, list, item));
        if item.pattern.starts_with('/') {
            let fixed = item.pattern.trim_start_matches('/');
            let message = if !is_dirs && !item.exclude {
                format!("`{}` starts with `/`: git refuses it (`'{}' is outside repository`), so the files generator fails and Argo CD generates nothing for this ApplicationSet", item.pattern, item.pattern)
            } else if item.exclude {
                format!("`{}` starts with `/`: Argo CD matches repo-relative paths (`{fixed}`), so this exclude never excludes anything", item.pattern)
            } else {
                format!("`{}` starts with `/`: Argo CD matches repo-relative directory paths with no leading `/`, so this item never matches and generates no Applications", item.pattern)
            };
            out.push(
                Finding::new(RuleId::ARGOCD_APPSET_LEADING_SLASH, message, location)
                    .with_help(format!("write `{fixed}`")),
            );
            continue;
        }
        if item.exclude {
            continue;
        }
        let matches: Vec<&str> = if is_dirs {
            if let Some(f) = check_dir_item(repo, item, location.clone()) {
                out.push(f);
                continue;
            }
            dirs_matching(repo, item.pattern)
        } else {
            let matched = files_matching(repo, item.pattern, doublestar);
            if matched.is_empty() {
                let how = if doublestar {
                    "with doublestar globbing (`newGitFileGlobbing: true`), `*` stays inside one directory and `**` spans directories"
                } else {
                    "as a git pathspec, `*` also crosses `/`, and a directory name matches every file below it"
                };
                out.push(
                    Finding::new(
                        RuleId::ARGOCD_APPSET_PATH_MATCHES_NOTHING,
                        format!("`{}` matches no file of this repository, so this files generator item produces no Applications", item.pattern),
                        location.clone(),
                    )
                    .with_help(format!("files paths are repo-relative file paths such as `tenants/*/config.json`; {how}")),
                );
                continue;
            }
            matched
        };
        if matches.is_empty() {
            continue;
        }
        generates = true;
        let excluders: Vec<&Item> = all
            .iter()
            .filter(|x| {
                x.exclude
                    && matches.iter().any(|m| {
                        if is_dirs {
                            path_match(x.pattern, m).unwrap_or(false)
                        } else if doublestar {
                            gitops_lint_matchers::git_files::doublestar_match(x.pattern, m)
                        } else {
                            gitops_lint_matchers::git_files::pathspec_match(x.pattern, m)
                        }
                    })
            })
            .collect();
        let all_excluded = matches.iter().all(|m| {
            excluders.iter().any(|x| {
                if is_dirs {
                    path_match(x.pattern, m).unwrap_or(false)
                } else if doublestar {
                    gitops_lint_matchers::git_files::doublestar_match(x.pattern, m)
                } else {
                    gitops_lint_matchers::git_files::pathspec_match(x.pattern, m)
                }
            })
        });
        if all_excluded {
            let by = excluders
                .iter()
                .map(|x| format!("`{}` ({list}[{}])", x.pattern, x.index))
                .collect::<Vec<_>>()
                .join(", ");
            let kind = if is_dirs { "directory" } else { "file" };
            let mut f = Finding::new(
                RuleId::ARGOCD_APPSET_EXCLUDE_SHADOWS_INCLUDE,
                format!(
                    "every {kind} `{}` matches ({}) is excluded by {by}; exclude wins regardless of order, so this item generates no Applications",
                    item.pattern,
                    quoted_list(&matches, 3)
                ),
                location,
            )
            .with_help("narrow the exclude pattern to the entries you mean to skip (e.g. `apps/[fg]`), or remove the include item if nothing of it should be generated");
            for x in excluders.iter().take(3) {
                f = f.with_related(
                    Location::value(at.file, at.doc, item_path(git, list, x)),
                    "the exclude item",
                );
            }
            out.push(f);
        }
    }
    (out, generates)
}

fn check_dir_item(repo: &Repo, item: &Item, location: Location) -> Option<Finding> {
    let pattern = item.pattern;
    let mut matched = false;
    for dir in repo.dirs.iter().filter(|d| visible_dir(d)) {
        match path_match(pattern, dir) {
            Ok(true) => {
                matched = true;
                break;
            }
            Ok(false) => {}
            Err(_) => {
                return Some(
                    Finding::new(
                        RuleId::ARGOCD_APPSET_PATH_MATCHES_NOTHING,
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
    if pattern.ends_with('/') {
        message.push_str(": Argo CD matches repo-relative paths with no leading or trailing `/`");
        help = format!("write `{}`", pattern.trim_matches('/'));
    } else {
        let files: Vec<&str> = repo
            .files
            .iter()
            .filter(|f| visible_dir(f) && path_match(pattern, f).unwrap_or(false))
            .take(2)
            .map(String::as_str)
            .collect();
        if let Some(first) = files.first() {
            message.push_str(&format!(
                "; it matches files such as `{first}`, but a `directories` generator only ever lists directories"
            ));
            help = format!(
                "to generate one Application per file, use a `files` generator (`files: [{{path: \"{pattern}\"}}]`; note that a files generator reads each file's content as parameters), or deploy the folder with one Application and `directory.recurse: true`"
            );
        } else {
            let same_depth: Vec<&str> = repo
                .dirs
                .iter()
                .filter(|d| visible_dir(d) && d.split('/').count() == depth)
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
    Some(
        Finding::new(
            RuleId::ARGOCD_APPSET_PATH_MATCHES_NOTHING,
            message,
            location,
        )
        .with_help(help),
    )
}
