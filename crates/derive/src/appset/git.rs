//! The git generator against this checkout: `directories` (Go `path.Match` on every visible
//! directory, exclude wins) and `files` (legacy pathspec or doublestar; each file's content
//! becomes parameter sets), with the path parameters Argo CD gives them. Upstream: Argo CD
//! `applicationset/generators/git.go` (`filterApps`, `generateParamsFromApps`,
//! `generateParamsFromGitFile`) and `reposerver/repository/repository.go` (`GetGitDirectories`).

use super::generators::{values_into, Ctx, GenError};
use super::params::{flatten_into, path_params, ParamSet, Params};
use gitops_lint_core::source::PathSeg;
use gitops_lint_matchers::git_files::{doublestar_match, pathspec_match};
use gitops_lint_matchers::go_path::path_match;
use gitops_lint_model::Repo;
use serde_json::Value;

/// Whether Argo CD lists this path at all: dot-directories are skipped with their subtrees.
pub fn visible_dir(dir: &str) -> bool {
    !dir.split('/').any(|s| s.starts_with('.'))
}

/// One `directories` or `files` item.
pub struct Item<'a> {
    /// The pattern.
    pub pattern: &'a str,
    /// `exclude: true`.
    pub exclude: bool,
    /// Its index in the list.
    pub index: usize,
}

/// The items of a `directories` or `files` list.
pub fn items(list: Option<&Value>) -> Vec<Item<'_>> {
    list.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .enumerate()
                .filter_map(|(index, item)| {
                    Some(Item {
                        pattern: item.get("path")?.as_str()?,
                        exclude: item.get("exclude").and_then(Value::as_bool) == Some(true),
                        index,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Directories of `repo` a directories item matches (`path.Match`; a bad pattern matches none).
pub fn dirs_matching<'r>(repo: &'r Repo, pattern: &str) -> Vec<&'r str> {
    repo.dirs
        .iter()
        .filter(|d| visible_dir(d) && path_match(pattern, d).unwrap_or(false))
        .map(String::as_str)
        .collect()
}

/// Files of `repo` a files item matches, with the configured matcher.
pub fn files_matching<'r>(repo: &'r Repo, pattern: &str, doublestar: bool) -> Vec<&'r str> {
    repo.files
        .iter()
        .filter(|f| {
            if doublestar {
                doublestar_match(pattern, f)
            } else {
                pathspec_match(pattern, f)
            }
        })
        .map(String::as_str)
        .collect()
}

/// Sorts paths as a directory walk visits them (segment by segment), which is Argo CD's order.
fn walk_order(paths: &mut [&str]) {
    paths.sort_by(|a, b| a.split('/').cmp(b.split('/')));
}

/// Expands one git generator.
pub(crate) fn expand(ctx: &Ctx, g: &Value, at: &[PathSeg]) -> Result<Vec<ParamSet>, GenError> {
    let Some(repo) = ctx.repo_for(g.get("repoURL").and_then(Value::as_str)) else {
        return Err(GenError::NotExpandable {
            kind: "git".into(),
            path: at.to_vec(),
        });
    };
    let prefix = g
        .get("pathParamPrefix")
        .and_then(Value::as_str)
        .unwrap_or("");
    let values = g.get("values");
    let mut out = Vec::new();
    // git.go: a non-empty `directories` wins, else a non-empty `files`, else the generator is
    // refused (`ErrEmptyAppSetGenerator`).
    let non_empty = |k: &str| {
        g.get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    if !non_empty("directories") && !non_empty("files") {
        return Err(GenError::Failed {
            message: "error generating params from git: ApplicationSet is empty (the git generator has neither `directories` nor `files`)".into(),
            path: at.to_vec(),
        });
    }
    if non_empty("directories") {
        let list = &g["directories"];
        let items = items(Some(list));
        let mut selected: Vec<&str> = repo
            .dirs
            .iter()
            .map(String::as_str)
            .filter(|d| {
                visible_dir(d)
                    && items
                        .iter()
                        .any(|i| !i.exclude && path_match(i.pattern, d).unwrap_or(false))
                    && !items
                        .iter()
                        .any(|i| i.exclude && path_match(i.pattern, d).unwrap_or(false))
            })
            .collect();
        walk_order(&mut selected);
        for dir in selected {
            let mut params = Params::new();
            path_params(&mut params, dir, None, prefix, ctx.mode.go);
            values_into(ctx, values, &mut params, at)?;
            out.push(ParamSet {
                params,
                element: format!("directory {dir}"),
            });
        }
        return Ok(out);
    }
    let items = items(g.get("files"));
    if items
        .iter()
        .any(|i| !i.exclude && i.pattern.starts_with('/'))
    {
        // git refuses the pathspec (`outside repository`); argocd/appset-leading-slash says so.
        return Err(GenError::Reported);
    }
    let doublestar = ctx.config.new_git_file_globbing;
    let mut selected: Vec<&str> = Vec::new();
    for item in items.iter().filter(|i| !i.exclude) {
        selected.extend(files_matching(repo, item.pattern, doublestar));
    }
    selected.sort_unstable();
    selected.dedup();
    selected.retain(|f| {
        !items.iter().any(|i| {
            i.exclude
                && if doublestar {
                    doublestar_match(i.pattern, f)
                } else {
                    pathspec_match(i.pattern, f)
                }
        })
    });
    for file in selected {
        let objects = ctx
            .file_objects(repo, file)
            .map_err(|message| GenError::Failed {
                message: format!(
                    "unable to process file '{file}' from repository '{}': {message}",
                    g.get("repoURL").and_then(Value::as_str).unwrap_or("")
                ),
                path: at.to_vec(),
            })?;
        let dir = match file.rfind('/') {
            Some(i) => &file[..i],
            None => ".",
        };
        let filename = file.rsplit('/').next().unwrap_or(file);
        let many = objects.len() > 1;
        for (i, object) in objects.iter().enumerate() {
            let mut params = Params::new();
            if ctx.mode.go {
                if let Value::Object(map) = object {
                    params.extend(super::generators::go_decoded(map));
                }
            } else {
                flatten_into("", object, &mut params);
            }
            path_params(&mut params, dir, Some(filename), prefix, ctx.mode.go);
            values_into(ctx, values, &mut params, at)?;
            out.push(ParamSet {
                params,
                element: if many {
                    format!("file {file} item {i}")
                } else {
                    format!("file {file}")
                },
            });
        }
    }
    Ok(out)
}
