//! The git generators of an ApplicationSet as written: where each is in the document, and what
//! `{{path[N]}}` can reach given their directory patterns. The expansion and the
//! `argocd/appset-*` static checks (`gitops-lint-rules`) both read them.

use super::git::items;
use gitops_lint_core::source::PathSeg;
use serde_json::Value;

/// A git generator found in an ApplicationSet, with its path in the document.
pub struct GitSpec<'a> {
    /// The `git:` mapping.
    pub spec: &'a Value,
    /// Path of the `git:` mapping.
    pub path: Vec<PathSeg>,
}

/// Collects git generators, descending into matrix and merge.
pub fn git_generators<'a>(generators: &'a Value, at: Vec<PathSeg>, out: &mut Vec<GitSpec<'a>>) {
    let Some(list) = generators.as_array() else {
        return;
    };
    for (i, generator) in list.iter().enumerate() {
        let mut here = at.clone();
        here.push(PathSeg::Index(i));
        if let Some(git) = generator.get("git").filter(|g| g.is_object()) {
            let mut path = here.clone();
            path.push(PathSeg::Key("git".into()));
            out.push(GitSpec { spec: git, path });
        }
        for nested in ["matrix", "merge"] {
            if let Some(children) = generator.get(nested).and_then(|n| n.get("generators")) {
                let mut path = here.clone();
                path.extend([
                    PathSeg::Key(nested.into()),
                    PathSeg::Key("generators".into()),
                ]);
                git_generators(children, path, out);
            }
        }
    }
}

/// A `path[N]` reference in a template: fasttemplate `{{path[N]}}` / `{{p.path[N]}}`, or
/// goTemplate `index .path.segments N` / `index .p.path.segments N`. Returns (prefix, N).
pub fn path_index(tag: &str, go: bool) -> Option<(String, usize)> {
    if go {
        let words: Vec<&str> = tag.split_whitespace().collect();
        let i = words.iter().position(|w| *w == "index")?;
        let target = words.get(i + 1)?.strip_prefix('.')?;
        let n: usize = words.get(i + 2)?.parse().ok()?;
        let prefix = target.strip_suffix("path.segments")?;
        return Some((prefix.trim_end_matches('.').to_string(), n));
    }
    let open = tag.find("path[")?;
    let prefix = &tag[..open];
    if !(prefix.is_empty() || prefix.ends_with('.')) {
        return None;
    }
    let n: usize = tag[open + 5..].strip_suffix(']')?.parse().ok()?;
    Some((prefix.trim_end_matches('.').to_string(), n))
}

/// The deepest segment count of the `directories` include patterns of every git generator with
/// this `pathParamPrefix`, or `None` when one of them is a `files` generator or none exists
/// (then the depth is not known statically).
pub fn pattern_depth(gits: &[GitSpec], prefix: &str) -> Option<usize> {
    let mut depth = None;
    for g in gits {
        let p = g
            .spec
            .get("pathParamPrefix")
            .and_then(Value::as_str)
            .unwrap_or("");
        if p != prefix {
            continue;
        }
        g.spec
            .get("directories")
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())?;
        for item in items(g.spec.get("directories")) {
            if item.exclude || item.pattern.contains("{{") {
                continue;
            }
            let d = item.pattern.trim_matches('/').split('/').count();
            depth = Some(depth.map_or(d, |x: usize| x.max(d)));
        }
    }
    depth
}
