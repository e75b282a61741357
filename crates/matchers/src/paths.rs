//! `/`-separated repository paths, resolved the way each program that reads them does. Every
//! path join and normaliser of the linter lives here, so two rules never disagree about where a
//! path points.

/// Folds the segments of `path`: empty and `.` segments go, `..` removes the segment before it.
/// `None` when `..` climbs above the start (Argo CD refuses such paths: `util/io/path`
/// `ResolveFilePath`; Terraform refuses a module source outside the configuration).
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// `rel` resolved against the directory `base`, both repository-relative; a `rel` that starts
/// with `/` starts at the repository root (Argo CD `valueFiles` and source paths). `None` when it
/// climbs above the root.
pub fn join(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        normalize(rel)
    } else {
        normalize(&format!("{base}/{rel}"))
    }
}

/// `rel` resolved against `base` as a directory on disk, where a path may not be absolute and
/// may not climb above the root (Kustomize resources, Terraform module sources): `None` for
/// either.
pub fn join_relative(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        None
    } else {
        normalize(&format!("{base}/{rel}"))
    }
}

/// `filepath-securejoin`'s `SecureJoin(root, path)` (Flux source-controller): `.` and `..` are
/// resolved, `..` stops at the root instead of climbing above it, and a leading `/` is the root.
pub fn secure_join(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// Go's `path.Clean` (`path/path.go`: `Clean`): the shortest equivalent path, keeping leading
/// `..` of a relative path and dropping those of a rooted one; `.` for an empty result.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Whether the path segments `segs` match the pattern segments `pats`, where a `**` pattern
/// segment matches any number of path segments (none included) and any other pattern segment
/// matches one path segment when `one(pattern, segment)` says so.
///
/// A table over (pattern prefix, path prefix) rather than trying every split for each `**`:
/// `patterns x segments` calls of `one` at most, where the split search is exponential in the
/// number of `**` (`**/**/.../x` against a deep path that does not end in `x`).
pub(crate) fn segments_match(
    pats: &[&str],
    segs: &[&str],
    one: impl Fn(&str, &str) -> bool,
) -> bool {
    // reach[j]: the pattern segments seen so far match exactly `segs[..j]`.
    let mut reach = vec![false; segs.len() + 1];
    reach[0] = true;
    for p in pats {
        if *p == "**" {
            let mut any = false;
            for r in reach.iter_mut() {
                any |= *r;
                *r = any;
            }
        } else {
            for j in (0..segs.len()).rev() {
                reach[j + 1] = reach[j] && one(p, segs[j]);
            }
            reach[0] = false;
        }
        if !reach.contains(&true) {
            return false;
        }
    }
    reach[segs.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn double_star_segments_are_polynomial() {
        let eq = |p: &str, s: &str| p == s;
        assert!(segments_match(&["**", "b"], &["a", "a", "b"], eq));
        assert!(segments_match(&["**"], &[], eq));
        assert!(segments_match(&["a", "**", "**", "b"], &["a", "b"], eq));
        assert!(!segments_match(&["a", "**", "c"], &["a", "b"], eq));
        assert!(!segments_match(&["a"], &[], eq));
        // 30 `**` against 200 segments that never end in `x`: the split search never returns.
        let pats: Vec<&str> = std::iter::repeat_n("**", 30).chain(["x"]).collect();
        let segs = vec!["d"; 200];
        let calls = std::cell::Cell::new(0);
        let counted = |p: &str, s: &str| {
            calls.set(calls.get() + 1);
            p == s
        };
        assert!(!segments_match(&pats, &segs, counted));
        assert!(calls.get() <= 200, "{} calls", calls.get());
    }

    #[test]
    fn joins_like_argo() {
        assert_eq!(
            join("charts/app", "values-prd.yaml").as_deref(),
            Some("charts/app/values-prd.yaml")
        );
        assert_eq!(
            join("charts/app", "../common/v.yaml").as_deref(),
            Some("charts/common/v.yaml")
        );
        assert_eq!(
            join("charts/app", "/envs/v.yaml").as_deref(),
            Some("envs/v.yaml")
        );
        assert_eq!(join("./apps/", "").as_deref(), Some("apps"));
        assert_eq!(join("a", "../../x"), None);
    }

    #[test]
    fn relative_joins_refuse_absolute_and_escaping_paths() {
        assert_eq!(
            join_relative("base", "../x.yaml").as_deref(),
            Some("x.yaml")
        );
        assert_eq!(join_relative("", "a/./b").as_deref(), Some("a/b"));
        assert_eq!(join_relative("base", "/etc/x"), None);
        assert_eq!(join_relative("base", "../../x"), None);
    }

    #[test]
    fn secure_join_stays_at_the_root() {
        assert_eq!(secure_join("./clusters/../../prod"), "prod");
        assert_eq!(secure_join("/a/./b"), "a/b");
    }

    #[test]
    fn clean_is_go_path_clean() {
        assert_eq!(clean("a//b/../c/."), "a/c");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean(""), ".");
    }
}
