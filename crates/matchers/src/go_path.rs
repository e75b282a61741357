//! Go's `path.Match`, ported line for line: the matcher Argo CD's git `directories` generator
//! uses (Go `path/match.go` `Match`, called from Argo CD `applicationset/generators/git.go`
//! `filterApps`). `*` and `?` never cross `/`; `**` is just `*`; `\` escapes.

/// A malformed pattern (Go's `path.ErrBadPattern`); Argo CD logs it and skips the item.
#[derive(Debug, PartialEq, Eq)]
pub struct BadPattern;

/// Reports whether `name` matches the shell pattern `pattern`, exactly as Go's `path.Match`.
pub fn path_match(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let mut pattern = pattern;
    let mut name = name;
    'outer: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains('/'));
        }
        let (t, ok) = match_chunk(chunk, name)?;
        if ok && (t.is_empty() || !pattern.is_empty()) {
            name = t;
            continue;
        }
        if star {
            for (i, c) in name.char_indices() {
                if c == '/' {
                    break;
                }
                let (t, ok) = match_chunk(chunk, &name[i + c.len_utf8()..])?;
                if ok {
                    if pattern.is_empty() && !t.is_empty() {
                        continue;
                    }
                    name = t;
                    continue 'outer;
                }
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, "")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let trimmed = pattern.trim_start_matches('*');
    let star = trimmed.len() != pattern.len();
    let bytes = trimmed.as_bytes();
    let mut in_range = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &trimmed[..i], &trimmed[i..])
}

fn first_char(s: &str) -> (char, &str) {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => (c, chars.as_str()),
        None => ('\u{FFFD}', s),
    }
}

fn match_chunk<'n>(chunk: &str, s: &'n str) -> Result<(&'n str, bool), BadPattern> {
    let mut chunk = chunk;
    let mut s = s;
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        let (c, after) = first_char(chunk);
        match c {
            '[' => {
                let mut r = '\u{0}';
                if !failed {
                    let (rc, rest) = first_char(s);
                    r = rc;
                    s = rest;
                }
                chunk = after;
                let mut negated = false;
                if let Some(rest) = chunk.strip_prefix('^') {
                    negated = true;
                    chunk = rest;
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if nrange > 0 {
                        if let Some(rest) = chunk.strip_prefix(']') {
                            chunk = rest;
                            break;
                        }
                    }
                    let (lo, rest) = get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if let Some(rest) = chunk.strip_prefix('-') {
                        let (h, rest) = get_esc(rest)?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            '?' => {
                if !failed {
                    let (sc, rest) = first_char(s);
                    if sc == '/' {
                        failed = true;
                    }
                    s = rest;
                }
                chunk = after;
            }
            _ => {
                let (lit, rest) = if c == '\\' {
                    if after.is_empty() {
                        return Err(BadPattern);
                    }
                    first_char(after)
                } else {
                    (c, after)
                };
                if !failed {
                    let (sc, srest) = first_char(s);
                    if sc != lit {
                        failed = true;
                    }
                    s = srest;
                }
                chunk = rest;
            }
        }
    }
    if failed {
        Ok(("", false))
    } else {
        Ok((s, true))
    }
}

fn get_esc(chunk: &str) -> Result<(char, &str), BadPattern> {
    if chunk.is_empty() || chunk.starts_with('-') || chunk.starts_with(']') {
        return Err(BadPattern);
    }
    let chunk = match chunk.strip_prefix('\\') {
        Some("") => return Err(BadPattern),
        Some(rest) => rest,
        None => chunk,
    };
    let (c, rest) = first_char(chunk);
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((c, rest))
}

/// Matches a `/`-separated path against a glob where `**` spans any number of directories and
/// other segments use Go `path.Match`.
pub fn glob_path(pattern: &str, path: &str) -> bool {
    let pat: Vec<&str> = pattern.trim_start_matches("./").split('/').collect();
    let segs: Vec<&str> = path.trim_start_matches("./").split('/').collect();
    glob_segments(&pat, &segs)
}

fn glob_segments(pat: &[&str], segs: &[&str]) -> bool {
    crate::paths::segments_match(pat, segs, |p, s| path_match(p, s).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::{glob_path, path_match};

    fn m(p: &str, n: &str) -> bool {
        path_match(p, n).unwrap_or(false)
    }

    #[test]
    fn go_path_match_semantics() {
        assert!(m("tenants/*", "tenants/premium"));
        assert!(!m("tenants/*", "tenants/premium/t1"));
        assert!(m("tenants/*/*", "tenants/premium/t1"));
        assert!(m("apps/**", "apps/x"));
        assert!(!m("apps/**", "apps/x/y"));
        assert!(m("*", "apps"));
        assert!(!m("/apps/*", "apps/x"));
        assert!(!m("apps/*/", "apps/x"));
        assert!(m("apps/[fg]", "apps/f"));
        assert!(!m("apps/[^fg]", "apps/f"));
        assert!(m("apps/[a-c]x", "apps/bx"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "a/c"));
        assert!(m("a\\*b", "a*b"));
        assert!(m("a*b*c", "axxbyyc"));
    }

    #[test]
    fn malformed_patterns_are_errors() {
        assert!(path_match("[", "a").is_err());
        assert!(path_match("a[", "a").is_err());
        assert!(path_match("a\\", "a").is_err());
        // Go checks the rest of the pattern even after a mismatch.
        assert!(path_match("x*[", "ab").is_err());
    }

    #[test]
    fn double_star_spans_directories() {
        assert!(glob_path("tenants/**", "tenants/premium/t.yaml"));
        assert!(glob_path("**/t.yaml", "a/b/t.yaml"));
        assert!(glob_path("**/t.yaml", "t.yaml"));
        assert!(!glob_path("tenants/*", "tenants/premium/t.yaml"));
    }

    #[test]
    fn many_double_stars_against_a_deep_path() {
        let pattern = format!("{}nomatch.yaml", "**/".repeat(30));
        let deep = format!("{}/cm.yaml", vec!["d"; 40].join("/"));
        assert!(!glob_path(&pattern, &deep));
        assert!(glob_path(&format!("{}cm.yaml", "**/".repeat(30)), &deep));
        assert!(glob_path(&format!("{}d/*.yaml", "**/".repeat(30)), &deep));
    }
}
