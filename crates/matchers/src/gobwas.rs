//! A port of the matching semantics of `github.com/gobwas/glob`, which Argo CD uses for
//! AppProject `sourceRepos` (separator `/`) and `destinations` (no separator).
//!
//! `*` is any run of characters except a separator; `**` is any run at all; `?` is one
//! character except a separator; `[abc]`, `[a-z]`, `[!x]` are classes; `{a,b}` are
//! alternatives (which may hold patterns); `\` escapes. A pattern that does not compile matches
//! nothing (Argo CD logs the error and treats it as no match).

#[derive(Clone, Debug)]
enum Tok {
    Lit(char),
    Any,
    Super,
    Single,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Upper bound on expanded alternatives, so a hostile pattern cannot blow up.
const MAX_ALTERNATIVES: usize = 256;

/// Parses from `chars[*i]` until the end or (inside `{}`) a `,` or `}`; returns the flat
/// alternatives of this sequence.
fn parse_seq(chars: &[char], i: &mut usize, nested: bool) -> Option<Vec<Vec<Tok>>> {
    let mut alts: Vec<Vec<Tok>> = vec![Vec::new()];
    let push = |alts: &mut Vec<Vec<Tok>>, t: Tok| {
        for a in alts.iter_mut() {
            a.push(t.clone());
        }
    };
    while *i < chars.len() {
        let c = chars[*i];
        match c {
            ',' | '}' if nested => return Some(alts),
            '\\' => {
                *i += 1;
                let lit = *chars.get(*i)?;
                push(&mut alts, Tok::Lit(lit));
                *i += 1;
            }
            '*' => {
                if chars.get(*i + 1) == Some(&'*') {
                    push(&mut alts, Tok::Super);
                    *i += 2;
                } else {
                    push(&mut alts, Tok::Any);
                    *i += 1;
                }
            }
            '?' => {
                push(&mut alts, Tok::Single);
                *i += 1;
            }
            '[' => {
                *i += 1;
                let negated = chars.get(*i) == Some(&'!');
                if negated {
                    *i += 1;
                }
                let mut ranges = Vec::new();
                loop {
                    let lo = *chars.get(*i)?;
                    if lo == ']' {
                        *i += 1;
                        break;
                    }
                    if chars.get(*i + 1) == Some(&'-')
                        && chars.get(*i + 2).is_some_and(|c| *c != ']')
                    {
                        ranges.push((lo, chars[*i + 2]));
                        *i += 3;
                    } else {
                        ranges.push((lo, lo));
                        *i += 1;
                    }
                }
                push(&mut alts, Tok::Class { negated, ranges });
            }
            '{' => {
                *i += 1;
                let mut options: Vec<Vec<Tok>> = Vec::new();
                loop {
                    options.extend(parse_seq(chars, i, true)?);
                    match chars.get(*i)? {
                        ',' => *i += 1,
                        _ => {
                            *i += 1;
                            break;
                        }
                    }
                }
                let mut next = Vec::new();
                for a in &alts {
                    for o in &options {
                        let mut joined = a.clone();
                        joined.extend(o.iter().cloned());
                        next.push(joined);
                    }
                }
                if next.len() > MAX_ALTERNATIVES {
                    return None;
                }
                alts = next;
            }
            _ => {
                push(&mut alts, Tok::Lit(c));
                *i += 1;
            }
        }
    }
    if nested {
        None
    } else {
        Some(alts)
    }
}

fn match_toks(toks: &[Tok], s: &[char], sep: Option<char>) -> bool {
    let Some((first, rest)) = toks.split_first() else {
        return s.is_empty();
    };
    match first {
        Tok::Lit(c) => s.first() == Some(c) && match_toks(rest, &s[1..], sep),
        Tok::Single => s.first().is_some_and(|c| Some(*c) != sep) && match_toks(rest, &s[1..], sep),
        Tok::Class { negated, ranges } => s.first().is_some_and(|c| {
            let inside = ranges.iter().any(|(lo, hi)| lo <= c && c <= hi);
            inside != *negated && match_toks(rest, &s[1..], sep)
        }),
        Tok::Super => (0..=s.len()).any(|n| match_toks(rest, &s[n..], sep)),
        Tok::Any => {
            for n in 0..=s.len() {
                if match_toks(rest, &s[n..], sep) {
                    return true;
                }
                if n < s.len() && Some(s[n]) == sep {
                    break;
                }
            }
            false
        }
    }
}

/// Whether `value` matches `pattern` (gobwas semantics, `sep` the separator if any). A pattern
/// that does not compile matches nothing.
pub fn glob_match(pattern: &str, value: &str, sep: Option<char>) -> bool {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let Some(alts) = parse_seq(&chars, &mut i, false) else {
        return false;
    };
    let s: Vec<char> = value.chars().collect();
    alts.iter().any(|a| match_toks(a, &s, sep))
}

/// Argo CD's `globMatch(pattern, val, allowNegation=true, sep)`: `!p` matches what `p` does
/// not; the exact pattern `*` matches everything.
pub fn argo_glob(pattern: &str, value: &str, sep: Option<char>) -> bool {
    if let Some(p) = pattern.strip_prefix('!') {
        return !glob_match(p, value, sep);
    }
    if pattern == "*" {
        return true;
    }
    glob_match(pattern, value, sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_respects_separator_super_does_not() {
        assert!(glob_match(
            "https://github.com/acme/*",
            "https://github.com/acme/r",
            Some('/')
        ));
        assert!(!glob_match(
            "https://github.com/acme/*",
            "https://github.com/acme/a/b",
            Some('/')
        ));
        assert!(glob_match(
            "https://github.com/acme/**",
            "https://github.com/acme/a/b",
            Some('/')
        ));
        assert!(glob_match("*", "https://x:443", None));
        assert!(glob_match("tenant-*", "tenant-1", None));
        assert!(!glob_match("", "x", None));
        assert!(glob_match("", "", None));
    }

    #[test]
    fn classes_alternatives_escapes() {
        assert!(glob_match("tenant-[0-9]", "tenant-7", None));
        assert!(!glob_match("tenant-[!0-9]", "tenant-7", None));
        assert!(glob_match("{dev,prd}-*", "prd-x", None));
        assert!(glob_match("a\\*", "a*", None));
        assert!(!glob_match("a[", "a[", None));
        assert!(argo_glob("!kube-system", "default", None));
        assert!(!argo_glob("!kube-*", "kube-system", None));
    }
}
