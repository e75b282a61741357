//! The two matchers of the git `files` generator (Argo CD `util/git/client.go`, `LsFiles`): the
//! legacy git pathspec (`git ls-files -- <pattern>`: fnmatch without FNM_PATHNAME, so `*` crosses
//! `/`, plus a literal directory matching everything below it; git's gitglossary(7), "pathspec")
//! and the opt-in doublestar globbing (`bmatcuk/doublestar` v4 `FilepathGlob`: `*` stays inside
//! one segment, `**` is zero or more directories, `{a,b}` alternation).

/// Whether a pattern has a glob character (a pathspec without one is a literal path).
fn has_wildcard(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '\\'])
}

/// `git ls-files -- <pattern>` for one tracked file path.
pub fn pathspec_match(pattern: &str, name: &str) -> bool {
    let literal = pattern.trim_end_matches('/');
    if name == literal
        || (!literal.is_empty()
            && name.len() > literal.len()
            && name.starts_with(literal)
            && name.as_bytes()[literal.len()] == b'/')
    {
        return true;
    }
    has_wildcard(pattern) && fnmatch(pattern.as_bytes(), name.as_bytes(), false)
}

/// doublestar `Match` for one file path: `**` as a whole segment spans any number of
/// directories, other wildcards stay inside one segment, `{a,b}` alternates.
pub fn doublestar_match(pattern: &str, name: &str) -> bool {
    expand_braces(pattern, 0).iter().any(|p| {
        let pats: Vec<&str> = p.split('/').collect();
        let names: Vec<&str> = name.split('/').collect();
        segments_match(&pats, &names)
    })
}

fn segments_match(pats: &[&str], names: &[&str]) -> bool {
    crate::paths::segments_match(pats, names, |p, n| {
        fnmatch(p.as_bytes(), n.as_bytes(), true)
    })
}

/// Expands `{a,b}` alternations (nested ones too); at most 64 results, to stay bounded.
fn expand_braces(pattern: &str, depth: usize) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'{' => {
                let mut level = 0;
                let mut parts = Vec::new();
                let mut start = i + 1;
                let mut j = i;
                while j < bytes.len() {
                    match bytes[j] {
                        b'\\' => j += 1,
                        b'{' => level += 1,
                        b'}' => {
                            level -= 1;
                            if level == 0 {
                                parts.push(&pattern[start..j]);
                                break;
                            }
                        }
                        b',' if level == 1 => {
                            parts.push(&pattern[start..j]);
                            start = j + 1;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                if j >= bytes.len() || depth > 8 {
                    return vec![pattern.to_string()];
                }
                let mut out = Vec::new();
                for part in parts {
                    let joined = format!("{}{}{}", &pattern[..i], part, &pattern[j + 1..]);
                    out.extend(expand_braces(&joined, depth + 1));
                    if out.len() >= 64 {
                        break;
                    }
                }
                return out;
            }
            _ => {}
        }
        i += 1;
    }
    vec![pattern.to_string()]
}

/// fnmatch over bytes. `segment`: wildcards never match `/` (FNM_PATHNAME); otherwise they do.
fn fnmatch(p: &[u8], s: &[u8], segment: bool) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() {
            match p[pi] {
                b'*' => {
                    while pi < p.len() && p[pi] == b'*' {
                        pi += 1;
                    }
                    star = Some((pi, si));
                    continue;
                }
                b'?' if !(segment && s[si] == b'/') => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                b'[' => {
                    if let Some((ok, next)) = class(p, pi, s[si]) {
                        if ok && !(segment && s[si] == b'/') {
                            pi = next;
                            si += 1;
                            continue;
                        }
                    } else if s[si] == b'[' {
                        pi += 1;
                        si += 1;
                        continue;
                    }
                }
                b'\\' if pi + 1 < p.len() && p[pi + 1] == s[si] => {
                    pi += 2;
                    si += 1;
                    continue;
                }
                b'\\' if pi + 1 < p.len() => {}
                c if c != b'?' && c != b'[' && c == s[si] => {
                    pi += 1;
                    si += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, ss)) if !(segment && s[ss] == b'/') => {
                star = Some((sp, ss + 1));
                pi = sp;
                si = ss + 1;
            }
            _ => return false,
        }
    }
    p[pi..].iter().all(|c| *c == b'*')
}

/// Matches one byte against the class starting at `p[at] == '['`: (matched, index after `]`),
/// or `None` when the class is not closed (then `[` is literal).
fn class(p: &[u8], at: usize, c: u8) -> Option<(bool, usize)> {
    let mut i = at + 1;
    let negated = matches!(p.get(i), Some(b'!' | b'^'));
    if negated {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == b']' && !first {
            return Some((matched != negated, i + 1));
        }
        first = false;
        let mut lo = p[i];
        if lo == b'\\' && i + 1 < p.len() {
            i += 1;
            lo = p[i];
        }
        if i + 2 < p.len() && p[i + 1] == b'-' && p[i + 2] != b']' {
            let hi = p[i + 2];
            if lo <= c && c <= hi {
                matched = true;
            }
            i += 3;
        } else {
            if lo == c {
                matched = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_pathspec_crosses_slashes() {
        assert!(pathspec_match("apps/*.json", "apps/a/b/c.json"));
        assert!(pathspec_match("a/*/config.json", "a/b/c/config.json"));
        assert!(pathspec_match("**/config.json", "a/config.json"));
        assert!(!pathspec_match("**/config.json", "config.json"));
        assert!(pathspec_match("cluster-config", "cluster-config/x/y.json"));
        assert!(!pathspec_match("cluster-config", "cluster-configs/y.json"));
        assert!(pathspec_match("apps/[ab].json", "apps/a.json"));
    }

    #[test]
    fn doublestar_stays_in_segments() {
        assert!(!doublestar_match("apps/*.json", "apps/a/b.json"));
        assert!(doublestar_match("apps/*.json", "apps/b.json"));
        assert!(doublestar_match("apps/**/*.json", "apps/b.json"));
        assert!(doublestar_match("apps/**/*.json", "apps/a/b/c.json"));
        assert!(doublestar_match("**/config.json", "config.json"));
        assert!(doublestar_match("apps/{a,b}/c.yaml", "apps/b/c.yaml"));
        assert!(!doublestar_match("apps/{a,b}/c.yaml", "apps/d/c.yaml"));
    }

    #[test]
    fn many_double_stars_against_a_deep_path() {
        let deep = format!("{}/c.json", vec!["d"; 40].join("/"));
        assert!(!doublestar_match(
            &format!("{}x.json", "**/".repeat(30)),
            &deep
        ));
        assert!(doublestar_match(
            &format!("{}*.json", "**/".repeat(30)),
            &deep
        ));
    }
}
