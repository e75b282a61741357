//! Generators evaluated offline (Argo CD `applicationset/generators/`: `list.go`, `cluster.go`,
//! `matrix.go`, `merge.go`, `generator_spec_processor.go`): list, clusters (from the config),
//! git (see [`super::git`]), matrix and merge, plus the generic `selector` post-filter.
//! Generators that need a live system are reported, never guessed.

use super::params::{flatten_into, go_string, sanitize_name, ParamSet, Params};
use super::render::{has_template, render_str, render_value, Mode, Scope};
use gitops_lint_config::Config;
use gitops_lint_core::source::PathSeg;
use gitops_lint_core::RuleId;
use gitops_lint_model::{Repo, World};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Every generator type Argo CD knows.
pub(crate) const KINDS: &[&str] = &[
    "list",
    "clusters",
    "git",
    "matrix",
    "merge",
    "scmProvider",
    "pullRequest",
    "clusterDecisionResource",
    "plugin",
];

/// The label of every Argo CD cluster Secret (`argocd.argoproj.io/secret-type: cluster`).
pub(crate) const SECRET_TYPE_LABEL: &str = "argocd.argoproj.io/secret-type";

/// The local cluster Argo CD always knows.
pub const IN_CLUSTER_SERVER: &str = "https://kubernetes.default.svc";

/// Why a generator gave no parameter sets.
#[derive(Clone, Debug)]
pub(crate) enum GenError {
    /// It needs a live system (`scmProvider`, ...): its output is unknown offline.
    NotExpandable {
        /// The generator type.
        kind: String,
        /// Where it is in the ApplicationSet.
        path: Vec<PathSeg>,
    },
    /// Argo CD refuses it, and a static check of the item already reports why (a files path
    /// with a leading `/`): the set generates nothing, with no second finding.
    Reported,
    /// Argo CD refuses it; the message is Argo CD's error.
    Failed {
        /// The error.
        message: String,
        /// Where.
        path: Vec<PathSeg>,
    },
    /// It ran out of a budget (`limits:`): the ApplicationSet is not expanded.
    Budget {
        /// What ran out, naming the budget key.
        message: String,
        /// The budget key (`limits.generatorProducts`).
        key: &'static str,
        /// The generator (or generator part) that ran out.
        path: Vec<PathSeg>,
    },
}

/// The budget key of [`GenError::Budget`] for parameter sets.
pub(crate) const PRODUCTS_KEY: &str = "limits.generatorProducts";

/// The error for a generator at `path` that would produce `count` parameter sets (`how`
/// says how they multiply), more than `limits.generatorProducts`.
fn too_many(ctx: &Ctx, count: u128, how: &str, path: &[PathSeg]) -> GenError {
    GenError::Budget {
        message: format!(
            "this generator produces {}{how}, more than {} parameter sets (`limits.generatorProducts`)",
            if count > u128::from(u64::MAX) {
                "an astronomical number of parameter sets".to_string()
            } else {
                format!("{count} parameter sets")
            },
            ctx.config.limits.generator_products
        ),
        key: PRODUCTS_KEY,
        path: path.to_vec(),
    }
}

/// `Err` when `count` parameter sets are more than the budget allows.
fn within(ctx: &Ctx, count: u128, how: &str, path: &[PathSeg]) -> Result<(), GenError> {
    if count > u128::from(ctx.config.limits.generator_products) {
        Err(too_many(ctx, count, how, path))
    } else {
        Ok(())
    }
}

/// What every generator needs: the World, the config, the rendering mode, and the repository
/// the ApplicationSet lives in.
pub struct Ctx<'w> {
    /// Everything loaded.
    pub world: &'w World,
    /// The config (clusters, file globbing).
    pub config: &'w Config,
    /// fasttemplate or goTemplate.
    pub mode: Mode,
    /// Index of the ApplicationSet's own repository.
    pub own_repo: usize,
    /// Files of the World by (repo, relative path), for the files generator.
    pub files: &'w HashMap<(usize, &'w str), usize>,
    /// Which linted repository a `repoURL` names.
    pub urls: &'w gitops_lint_model::repo_urls::RepoUrls,
    /// The cluster Secrets the linted repositories declare.
    pub cluster_secrets: &'w super::ClusterSecrets<'w>,
}

impl<'w> Ctx<'w> {
    /// The checkout a `repoURL` points to, if it is one of the linted repositories (as the
    /// Application checks map it: `repoURLs:`, else the directory name). Another repository's
    /// content is unknown offline.
    pub(crate) fn repo_for(&self, url: Option<&str>) -> Option<&'w Repo> {
        repo_for(self.world, self.config, self.urls, self.own_repo, url)
    }

    /// The objects a files-generator file holds: one object, a list of objects, or none for an
    /// empty file. `Err` is Argo CD's parse error.
    pub(crate) fn file_objects(&self, repo: &Repo, rel: &str) -> Result<Vec<Value>, String> {
        let repo_index = self
            .world
            .repos
            .iter()
            .position(|r| std::ptr::eq(r, repo))
            .unwrap_or(self.own_repo);
        let loaded;
        let value = match self.files.get(&(repo_index, rel)) {
            Some(&id) if self.world.yaml.get(id).is_some_and(|d| !d.is_empty()) => {
                self.world.yaml[id].first().map(|d| d.value.clone())
            }
            _ => {
                let text = std::fs::read_to_string(repo.root.join(rel))
                    .map_err(|e| format!("unable to read file: {e}"))?;
                loaded = gitops_lint_syntax::yaml::load(&text);
                if let Some(issue) = loaded.issues.iter().find(|i| i.rule == RuleId::YAML_SYNTAX) {
                    return Err(format!("unable to parse file: {}", issue.message));
                }
                loaded.docs.first().map(|d| d.value.clone())
            }
        };
        // git.go: unmarshal into a list of objects first (a `null` item is an empty object, and
        // an empty list, like an empty file, still gives one set with the path parameters only),
        // else into one object.
        match value {
            None | Some(Value::Null) => Ok(vec![Value::Object(Map::new())]),
            Some(Value::Object(m)) => Ok(vec![Value::Object(m)]),
            Some(Value::Array(items)) if items.is_empty() => Ok(vec![Value::Object(Map::new())]),
            Some(Value::Array(items)) if items.iter().all(|i| i.is_object() || i.is_null()) => {
                Ok(items
                    .into_iter()
                    .map(|i| match i {
                        Value::Null => Value::Object(Map::new()),
                        other => other,
                    })
                    .collect())
            }
            Some(_) => Err(
                "unable to parse file: the content is neither an object nor a list of objects"
                    .into(),
            ),
        }
    }
}

/// The checkout a git generator's `repoURL` reads: a linted repository it names, else (only in
/// the `appset` view, whose root the user gave) the ApplicationSet's own repository.
pub fn repo_for<'w>(
    world: &'w World,
    config: &Config,
    urls: &gitops_lint_model::repo_urls::RepoUrls,
    own_repo: usize,
    url: Option<&str>,
) -> Option<&'w Repo> {
    match urls.local(url.unwrap_or("")) {
        Some(i) => world.repos.get(i),
        None if config.appset_root_fallback => world.repos.get(own_repo),
        None => None,
    }
}

/// Renders a generator's `values:` against its parameters and stores them as `values.<k>`
/// (fasttemplate) or `.values.<k>` (goTemplate). A value cannot use another value.
pub(crate) fn values_into(
    ctx: &Ctx,
    values: Option<&Value>,
    params: &mut Params,
    at: &[PathSeg],
) -> Result<(), GenError> {
    let Some(Value::Object(values)) = values else {
        return Ok(());
    };
    let mut rendered = Map::new();
    let scope = Scope::new(params);
    for (k, v) in values {
        let Some(s) = v.as_str() else {
            return Err(GenError::Failed {
                message: format!("`values.{k}` must be a string"),
                path: at.to_vec(),
            });
        };
        let mut issues = Vec::new();
        let r = render_str(s, &scope, ctx.mode, at, &mut issues);
        budget_failure(ctx, &issues, at)?;
        // A value that fails to render fails the generator (`appendTemplatedValues`).
        if let Some(message) = failure(&issues) {
            return Err(GenError::Failed {
                message: format!("failed to append templated values: {message}"),
                path: at.to_vec(),
            });
        }
        rendered.insert(k.clone(), Value::String(r));
    }
    // Argo CD sets `values` only when there is at least one.
    if rendered.is_empty() {
        return Ok(());
    }
    if ctx.mode.go {
        params.insert("values".into(), Value::Object(rendered));
    } else {
        for (k, v) in rendered {
            params.insert(format!("values.{k}"), v);
        }
    }
    Ok(())
}

/// A goTemplate execution among the issues that ran out of a budget, as the generator's
/// error at `at`.
fn budget_failure(
    ctx: &Ctx,
    issues: &[super::render::Issue],
    at: &[PathSeg],
) -> Result<(), GenError> {
    for i in issues {
        if let super::render::Issue::Failed {
            cause: super::gotmpl::Failure::Budget(b),
            ..
        } = i
        {
            let key = match b {
                gitops_lint_gotemplate::Budget::Steps => "limits.templateSteps",
                gitops_lint_gotemplate::Budget::OutputBytes => "limits.templateOutputBytes",
            };
            return Err(GenError::Budget {
                message: format!(
                    "rendering this generator's goTemplate ran {}",
                    crate::template_budget(ctx.config, *b)
                ),
                key,
                path: at.to_vec(),
            });
        }
    }
    Ok(())
}

/// The first rendering failure among the issues (a goTemplate parse or execution error, an
/// unclosed fasttemplate tag): Argo CD's error for it.
fn failure(issues: &[super::render::Issue]) -> Option<&str> {
    issues.iter().find_map(|i| match i {
        super::render::Issue::Failed { message, .. } => Some(message.as_str()),
        _ => None,
    })
}

/// Parameters decoded from JSON or YAML into Go's `map[string]interface{}`: every number is a
/// float64, so `{{ .n }}` prints `1e+06` for 1000000 as in Argo CD.
pub(crate) fn go_decoded(map: &Map<String, Value>) -> Params {
    let mut v = Value::Object(map.clone());
    gitops_lint_gotemplate::format::floats(&mut v);
    match v {
        Value::Object(m) => m,
        _ => Params::new(),
    }
}

/// The generator types present in one generator entry.
pub(crate) fn kinds_of(g: &Value) -> Vec<&'static str> {
    KINDS
        .iter()
        .copied()
        .filter(|k| g.get(*k).is_some_and(|v| !v.is_null()))
        .collect()
}

/// Expands one generator entry. `depth` 0 is `spec.generators[i]`; matrix and merge children
/// are depth 1, their children depth 2 (the deepest Argo CD decodes).
pub fn expand(
    ctx: &Ctx,
    g: &Value,
    at: &mut Vec<PathSeg>,
    depth: usize,
) -> Result<Vec<ParamSet>, GenError> {
    let kinds = kinds_of(g);
    if depth > 0 && kinds.len() > 1 {
        return Err(GenError::Failed {
            message: "found more than one generator in matrix.Generators".into(),
            path: at.clone(),
        });
    }
    if kinds.is_empty() {
        return Err(GenError::Failed {
            message: if depth > 0 {
                "child generator generated no parameters".into()
            } else {
                "no generator Argo CD knows (list, clusters, git, matrix, merge, scmProvider, pullRequest, clusterDecisionResource, plugin)".into()
            },
            path: at.clone(),
        });
    }
    let mut out = Vec::new();
    for kind in kinds {
        at.push(PathSeg::Key(kind.into()));
        let spec = &g[kind];
        let sets = match kind {
            "list" => list(ctx, spec, at),
            "clusters" => clusters(ctx, spec, at),
            "git" => super::git::expand(ctx, spec, at),
            "matrix" | "merge" if depth >= 2 => Err(GenError::Failed {
                message: "child generator generated no parameters (a third level of matrix/merge is dropped by Argo CD)".into(),
                path: at.clone(),
            }),
            "matrix" => matrix(ctx, spec, at, depth),
            "merge" => merge(ctx, spec, at, depth),
            live => Err(GenError::NotExpandable {
                kind: live.to_string(),
                path: at.clone(),
            }),
        };
        let sets = sets?;
        within(ctx, out.len() as u128 + sets.len() as u128, "", at)?;
        at.pop();
        out.extend(sets);
    }
    if let Some(selector) = g.get("selector") {
        // Transform matches the selector against the flattened parameters in both modes (a
        // fasttemplate set may hold nested values too: `elementsYaml`, `flatList`).
        out.retain(|set| {
            let mut flat = Params::new();
            flatten_into("", &Value::Object(set.params.clone()), &mut flat);
            selector_matches(selector, &|k| {
                flat.get(k).and_then(Value::as_str).map(str::to_string)
            })
        });
    }
    Ok(out)
}

fn list(ctx: &Ctx, spec: &Value, at: &[PathSeg]) -> Result<Vec<ParamSet>, GenError> {
    let mut out = Vec::new();
    let failed = |message: String, keys: &[PathSeg]| {
        let mut path = at.to_vec();
        path.extend_from_slice(keys);
        GenError::Failed { message, path }
    };
    let k = |s: &str| PathSeg::Key(s.into());
    let elements = spec.get("elements").and_then(Value::as_array);
    within(
        ctx,
        elements.map_or(0, Vec::len) as u128,
        " (one per element)",
        at,
    )?;
    for (i, element) in elements.into_iter().flatten().enumerate() {
        let here = [k("elements"), PathSeg::Index(i)];
        let Value::Object(map) = element else {
            return Err(failed(format!("list element {i} is not an object"), &here));
        };
        let params = if ctx.mode.go {
            go_decoded(map)
        } else {
            let mut params = Params::new();
            for (key, v) in map {
                let mut at_key = here.to_vec();
                at_key.push(k(key));
                if key == "values" {
                    let Value::Object(values) = v else {
                        return Err(failed("error parsing values map".into(), &at_key));
                    };
                    for (vk, vv) in values {
                        let Value::String(s) = vv else {
                            at_key.push(k(vk));
                            return Err(failed(format!("error parsing value as string: `values.{vk}` of list element {i} is `{vv}`, and fasttemplate needs strings: quote it"), &at_key));
                        };
                        params.insert(format!("values.{vk}"), Value::String(s.clone()));
                    }
                } else {
                    let Value::String(_) = v else {
                        return Err(failed(format!("error parsing value as string: `{key}` of list element {i} is `{v}`, and fasttemplate needs strings: quote it"), &at_key));
                    };
                    params.insert(key.clone(), v.clone());
                }
            }
            params
        };
        out.push(ParamSet {
            params,
            element: format!("list element {i}"),
        });
    }
    if let Some(text) = spec.get("elementsYaml").and_then(Value::as_str) {
        let loaded = gitops_lint_syntax::yaml::load(text);
        let items = loaded.docs.first().map(|d| d.value.clone());
        match items {
            Some(Value::Array(items)) => {
                within(
                    ctx,
                    out.len() as u128 + items.len() as u128,
                    " (one per element)",
                    at,
                )?;
                for (j, item) in items.into_iter().enumerate() {
                    if let Value::Object(map) = item {
                        out.push(ParamSet {
                            params: go_decoded(&map),
                            element: format!("elementsYaml item {j}"),
                        });
                    }
                }
            }
            None | Some(Value::Null) => {}
            Some(_) => {
                return Err(failed(
                    "error unmarshling decoded ElementsYaml: not a list".into(),
                    &[k("elementsYaml")],
                ))
            }
        }
    }
    Ok(out)
}

fn clusters(ctx: &Ctx, spec: &Value, at: &[PathSeg]) -> Result<Vec<ParamSet>, GenError> {
    // The repositories create cluster Secrets and the config describes none: which clusters
    // Argo CD holds (and their labels and annotations) is not known, so nothing is guessed.
    if ctx.config.clusters.is_empty() && ctx.cluster_secrets.unknown.is_some() {
        return Err(GenError::NotExpandable {
            kind: "clusters".into(),
            path: at.to_vec(),
        });
    }
    let selector = spec.get("selector").filter(|s| {
        s.as_object().is_some_and(|m| {
            m.values().any(|v| match v {
                Value::Object(o) => !o.is_empty(),
                Value::Array(a) => !a.is_empty(),
                _ => false,
            })
        })
    });
    // (cluster, whether it is the local cluster Argo CD adds without a Secret)
    let mut candidates: Vec<(gitops_lint_config::Cluster, bool)> = Vec::new();
    // The config's clusters, else those the repositories declare as Secret manifests.
    let known: &[gitops_lint_config::Cluster] = if ctx.config.clusters.is_empty() {
        &ctx.cluster_secrets.clusters
    } else {
        &ctx.config.clusters
    };
    let declared_local = known.iter().any(|c| c.server == IN_CLUSTER_SERVER);
    if selector.is_none() && !declared_local {
        candidates.push((
            gitops_lint_config::Cluster {
                name: "in-cluster".into(),
                server: IN_CLUSTER_SERVER.into(),
                ..Default::default()
            },
            true,
        ));
    }
    candidates.extend(
        known
            .iter()
            .map(|c| {
                // A cluster Secret always carries the label the generator lists Secrets by.
                let mut c = c.clone();
                c.labels
                    .entry(SECRET_TYPE_LABEL.into())
                    .or_insert_with(|| "cluster".into());
                c
            })
            .filter(|c| selector.is_none_or(|s| selector_matches(s, &|k| c.labels.get(k).cloned())))
            .map(|c| (c, false)),
    );
    let mut out = Vec::new();
    let mut flat_list = Vec::new();
    for (c, local) in &candidates {
        let mut params = Params::new();
        let s = |v: &str| Value::String(v.to_string());
        params.insert("name".into(), s(&c.name));
        params.insert("nameNormalized".into(), s(&sanitize_name(&c.name)));
        params.insert("server".into(), s(&c.server));
        params.insert("project".into(), s(&c.project));
        if ctx.mode.go {
            let mut meta = Map::new();
            let to_map = |m: &std::collections::BTreeMap<String, String>| {
                Value::Object(m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
            };
            if !c.labels.is_empty() {
                meta.insert("labels".into(), to_map(&c.labels));
            }
            if !c.annotations.is_empty() {
                meta.insert("annotations".into(), to_map(&c.annotations));
            }
            // A cluster Secret always gives `metadata` (maybe empty); the local cluster none.
            if !local {
                params.insert("metadata".into(), Value::Object(meta));
            }
        } else {
            for (k, v) in &c.labels {
                params.insert(format!("metadata.labels.{k}"), s(v));
            }
            for (k, v) in &c.annotations {
                params.insert(format!("metadata.annotations.{k}"), s(v));
            }
        }
        values_into(ctx, spec.get("values"), &mut params, at)?;
        if spec.get("flatList").and_then(Value::as_bool) == Some(true) {
            flat_list.push(Value::Object(params));
        } else {
            out.push(ParamSet {
                params,
                element: format!("cluster {}", c.name),
            });
        }
    }
    if spec.get("flatList").and_then(Value::as_bool) == Some(true) {
        let mut params = Params::new();
        params.insert("clusters".into(), Value::Array(flat_list));
        out.push(ParamSet {
            params,
            element: "the flat cluster list".into(),
        });
    }
    Ok(out)
}

/// The children of a matrix or merge.
fn children(spec: &Value) -> &[Value] {
    spec.get("generators")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn matrix(
    ctx: &Ctx,
    spec: &Value,
    at: &mut Vec<PathSeg>,
    depth: usize,
) -> Result<Vec<ParamSet>, GenError> {
    let kids = children(spec);
    if kids.len() != 2 {
        return Err(GenError::Failed {
            message: if kids.len() < 2 {
                "found less than two generators, Matrix support only two".into()
            } else {
                "found more than two generators, Matrix support only two".into()
            },
            path: at.clone(),
        });
    }
    at.extend([PathSeg::Key("generators".into()), PathSeg::Index(0)]);
    let first = expand(ctx, &kids[0], at, depth + 1);
    at.pop();
    at.push(PathSeg::Index(1));
    let result = (|| {
        let first = first?;
        let static_second = if has_template(&kids[1]) {
            None
        } else {
            Some(expand(ctx, &kids[1], at, depth + 1)?)
        };
        // The product is bounded before it is built (Argo CD's `matrix.go` builds it whole).
        let matrix_at = at[..at.len() - 2].to_vec();
        if let Some(second) = &static_second {
            within(
                ctx,
                first.len() as u128 * second.len() as u128,
                &format!(" ({} × {})", first.len(), second.len()),
                &matrix_at,
            )?;
        }
        let mut out = Vec::new();
        for a in &first {
            let second = match &static_second {
                Some(s) => s.clone(),
                // Transform interpolates only with a non-empty parameter set.
                None if a.params.is_empty() => expand(ctx, &kids[1], at, depth + 1)?,
                None => {
                    let mut issues = Vec::new();
                    let mut p = Vec::new();
                    let child = render_value(
                        &kids[1],
                        &Scope::new(&a.params),
                        ctx.mode,
                        &mut p,
                        &mut issues,
                    );
                    budget_failure(ctx, &issues, at)?;
                    // InterpolateGenerator: a render error fails the matrix.
                    if let Some(message) = failure(&issues) {
                        return Err(GenError::Failed {
                            message: format!("error interpolating generator with other generator's parameter: {message}"),
                            path: at.clone(),
                        });
                    }
                    expand(ctx, &child, at, depth + 1)?
                }
            };
            within(
                ctx,
                out.len() as u128 + second.len() as u128,
                "",
                &matrix_at,
            )?;
            for b in &second {
                out.push(ParamSet {
                    params: combine(ctx.mode.go, &a.params, &b.params).map_err(|message| {
                        GenError::Failed {
                            message,
                            path: at.clone(),
                        }
                    })?,
                    element: format!("{} and {}", a.element, b.element),
                });
            }
        }
        Ok(out)
    })();
    at.truncate(at.len() - 2);
    result
}

/// Combines a matrix pair: fasttemplate unions and refuses a key with two values; goTemplate
/// merges with the first child winning.
fn combine(go: bool, a: &Params, b: &Params) -> Result<Params, String> {
    if go {
        let mut merged = Value::Object(b.clone());
        super::render::merge_over(&mut merged, &Value::Object(a.clone()));
        return Ok(match merged {
            Value::Object(m) => m,
            _ => Params::new(),
        });
    }
    // CombineStringMaps: both sides are printed with `%v` first, so a nested or non-string
    // value (from `elementsYaml`) becomes a string parameter here.
    let mut out = stringified(a);
    for (k, v) in stringified(b) {
        match out.get(&k) {
            Some(existing) if *existing != v => {
                return Err(format!(
                    "found duplicate key {k} with different value, a: {} ,b: {}",
                    go_string(existing),
                    go_string(&v)
                ));
            }
            _ => {
                out.insert(k, v);
            }
        }
    }
    Ok(out)
}

/// Argo CD's `ConvertToMapStringString`: every value printed with Go's `%v`.
fn stringified(p: &Params) -> Params {
    p.iter()
        .map(|(k, v)| (k.clone(), Value::String(go_string(v))))
        .collect()
}

fn merge(
    ctx: &Ctx,
    spec: &Value,
    at: &mut Vec<PathSeg>,
    depth: usize,
) -> Result<Vec<ParamSet>, GenError> {
    let kids = children(spec);
    let keys: Vec<&str> = spec
        .get("mergeKeys")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let failed = |message: &str, at: &[PathSeg]| GenError::Failed {
        message: message.into(),
        path: at.to_vec(),
    };
    if kids.len() < 2 {
        return Err(failed(
            "found less than two generators, Merge requires two or more",
            at,
        ));
    }
    if keys.is_empty() {
        return Err(failed(
            "no merge keys were specified, Merge requires at least one",
            at,
        ));
    }
    // The JSON of `{mergeKey: value}`: Go marshals a map with sorted, distinct keys.
    let identity = |p: &Params| {
        let m: std::collections::BTreeMap<&str, Value> = keys
            .iter()
            .map(|k| (*k, p.get(*k).cloned().unwrap_or(Value::Null)))
            .collect();
        serde_json::to_string(&m).unwrap_or_default()
    };
    at.push(PathSeg::Key("generators".into()));
    let result = (|| {
        let mut base: Vec<ParamSet> = Vec::new();
        for (i, kid) in kids.iter().enumerate() {
            at.push(PathSeg::Index(i));
            let sets = expand(ctx, kid, at, depth + 1);
            at.pop();
            let sets = sets?;
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (j, s) in sets.iter().enumerate() {
                if seen.insert(identity(&s.params), j).is_some() {
                    return Err(GenError::Failed {
                        message: format!("the parameters from a generator were not unique by the given mergeKeys, Merge requires all param sets to be unique. Duplicate key was {}", identity(&s.params)),
                        path: at.clone(),
                    });
                }
            }
            if i == 0 {
                base = sets;
                continue;
            }
            let by_id: HashMap<String, &ParamSet> =
                sets.iter().map(|s| (identity(&s.params), s)).collect();
            for b in &mut base {
                if let Some(over) = by_id.get(&identity(&b.params)) {
                    if ctx.mode.go {
                        let mut merged = Value::Object(std::mem::take(&mut b.params));
                        super::render::merge_over(&mut merged, &Value::Object(over.params.clone()));
                        if let Value::Object(m) = merged {
                            b.params = m;
                        }
                    } else {
                        // CombineStringMapsAllowDuplicates: both printed with `%v`, the later
                        // child's value wins.
                        let mut merged = stringified(&b.params);
                        merged.extend(stringified(&over.params));
                        b.params = merged;
                    }
                    b.element = format!("{} merged with {}", b.element, over.element);
                }
            }
        }
        Ok(base)
    })();
    at.pop();
    result
}

/// A Kubernetes label selector (`matchLabels`, `matchExpressions` with `In`, `NotIn`,
/// `Exists`, `DoesNotExist`) against a label lookup.
pub(crate) fn selector_matches(selector: &Value, get: &dyn Fn(&str) -> Option<String>) -> bool {
    if let Some(labels) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in labels {
            if get(k).as_deref() != Some(&go_string(v)) {
                return false;
            }
        }
    }
    for expr in selector
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = expr.get("key").and_then(Value::as_str).unwrap_or("");
        let values: Vec<String> = expr
            .get("values")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(go_string).collect())
            .unwrap_or_default();
        let got = get(key);
        let ok = match expr.get("operator").and_then(Value::as_str).unwrap_or("") {
            "In" => got.is_some_and(|g| values.contains(&g)),
            "NotIn" => got.is_none_or(|g| !values.contains(&g)),
            "Exists" => got.is_some(),
            "DoesNotExist" => got.is_none(),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(v: Value) -> Params {
        match v {
            Value::Object(m) => m,
            _ => Params::new(),
        }
    }

    #[test]
    fn fasttemplate_matrix_pairs_are_printed_with_percent_v() {
        // elementsYaml keeps numbers and objects; CombineStringMaps prints them, so after a
        // matrix they are string parameters fasttemplate substitutes.
        let a = params(json!({"replicas": 3, "cfg": {"b": 1, "a": "x"}}));
        let b = params(json!({"path": "apps/x"}));
        let out = combine(false, &a, &b).unwrap_or_default();
        assert_eq!(out["replicas"], "3");
        assert_eq!(out["cfg"], "map[a:x b:1]");
        assert_eq!(out["path"], "apps/x");
        // The same key, printed equal on both sides, is not a conflict.
        let c = params(json!({"replicas": "3"}));
        assert!(combine(false, &a, &c).is_ok());
        let d = params(json!({"replicas": "4"}));
        assert_eq!(
            combine(false, &a, &d).err().unwrap_or_default(),
            "found duplicate key replicas with different value, a: 3 ,b: 4"
        );
        // goTemplate: JSON/YAML numbers are float64 (`{{ .n }}` prints 1e+06).
        let n = go_decoded(&params(json!({"n": 1000000, "l": [2]})));
        assert_eq!(gitops_lint_gotemplate::format::sprint(&n["n"]), "1e+06");
        assert!(n["l"][0].is_f64());
        // goTemplate: mergo, the first child wins, values keep their types.
        let out = combine(true, &a, &d).unwrap_or_default();
        assert_eq!(out["replicas"], 3);
    }
}
