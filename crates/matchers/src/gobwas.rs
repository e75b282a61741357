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
                    if options.len() > MAX_ALTERNATIVES {
                        return None;
                    }
                    match chars.get(*i)? {
                        ',' => *i += 1,
                        _ => {
                            *i += 1;
                            break;
                        }
                    }
                }
                // Checked before building, so a hostile pattern costs nothing to refuse.
                if alts.len() * options.len() > MAX_ALTERNATIVES {
                    return None;
                }
                let mut next = Vec::new();
                for a in &alts {
                    for o in &options {
                        let mut joined = a.clone();
                        joined.extend(o.iter().cloned());
                        next.push(joined);
                    }
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

/// Runs the tokens as a nondeterministic automaton over `s`: state `i` is "before token `i`",
/// and every state reachable after each character is kept at once. `*` and `**` loop on their
/// state, so no choice is ever retried: `tokens x characters` steps at worst, where trying each
/// split of the text for each star (as gobwas' compiled matchers do) is exponential in the
/// number of stars on an adversarial text (`**a*a*a*...*b` against `aaaa...`).
fn match_toks(toks: &[Tok], s: &[char], sep: Option<char>) -> bool {
    let n = toks.len();
    let mut current = vec![false; n + 1];
    let mut next = vec![false; n + 1];
    current[0] = true;
    close(toks, &mut current);
    for &c in s {
        next.iter_mut().for_each(|b| *b = false);
        let mut any = false;
        for (i, tok) in toks.iter().enumerate() {
            if !current[i] {
                continue;
            }
            let (stay, advance) = match tok {
                Tok::Lit(l) => (false, *l == c),
                Tok::Single => (false, Some(c) != sep),
                Tok::Class { negated, ranges } => (
                    false,
                    ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated,
                ),
                Tok::Any => (Some(c) != sep, false),
                Tok::Super => (true, false),
            };
            next[i] |= stay;
            next[i + 1] |= advance;
            any |= stay || advance;
        }
        if !any {
            return false;
        }
        close(toks, &mut next);
        std::mem::swap(&mut current, &mut next);
    }
    current[n]
}

/// Adds the states reachable without reading a character: a `*` or `**` may match nothing.
fn close(toks: &[Tok], states: &mut [bool]) {
    for (i, tok) in toks.iter().enumerate() {
        if states[i] && matches!(tok, Tok::Any | Tok::Super) {
            states[i + 1] = true;
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

    /// The split search this module used to run (gobwas' reading, one star at a time).
    fn reference(toks: &[Tok], s: &[char], sep: Option<char>) -> bool {
        let Some((first, rest)) = toks.split_first() else {
            return s.is_empty();
        };
        let one = |ok: bool| ok && reference(rest, &s[1..], sep);
        match first {
            Tok::Lit(c) => one(s.first() == Some(c)),
            Tok::Single => one(s.first().is_some_and(|c| Some(*c) != sep)),
            Tok::Class { negated, ranges } => one(s
                .first()
                .is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)),
            Tok::Super => (0..=s.len()).any(|n| reference(rest, &s[n..], sep)),
            Tok::Any => (0..=s.len())
                .take_while(|n| *n == 0 || Some(s[n - 1]) != sep)
                .any(|n| reference(rest, &s[n..], sep)),
        }
    }

    /// Every string over `alphabet` up to `len` characters.
    fn strings(alphabet: &[&str], len: usize) -> Vec<String> {
        let mut out = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last
                .iter()
                .flat_map(|p| alphabet.iter().map(move |a| format!("{p}{a}")))
                .collect();
            out.extend(last.iter().cloned());
        }
        out
    }

    #[test]
    fn the_automaton_agrees_with_the_split_search() {
        let patterns = strings(&["a", "/", "*", "?", "[!a]", "{a,/b}"], 4);
        let values = strings(&["a", "b", "/"], 4);
        for sep in [Some('/'), None] {
            for p in &patterns {
                let chars: Vec<char> = p.chars().collect();
                let Some(alts) = parse_seq(&chars, &mut 0, false) else {
                    continue;
                };
                for v in &values {
                    let s: Vec<char> = v.chars().collect();
                    let expected = alts.iter().any(|a| reference(a, &s, sep));
                    assert_eq!(glob_match(p, v, sep), expected, "{p:?} {v:?} {sep:?}");
                }
            }
        }
    }

    #[test]
    fn many_stars_against_a_long_text_do_not_backtrack() {
        // Exponential for the split search: each `*` retries every split of the `a`s.
        let pattern = format!("**{}b", "a*".repeat(12));
        let url = format!("https://github.com/{}/repo", "a".repeat(200));
        assert!(!glob_match(&pattern, &url, Some('/')));
        let matching = format!("https://github.com/x/{}b", "a".repeat(200));
        assert!(glob_match(&pattern, &matching, Some('/')));
        // `*` does not cross the separator: the `a`s must sit in the last segment.
        let few = format!("**/{}b", "a*".repeat(12));
        assert!(!glob_match(
            &few,
            &format!("x/{}/b", "a".repeat(12)),
            Some('/')
        ));
        assert!(glob_match(
            &few,
            &format!("x/{}b", "a".repeat(12)),
            Some('/')
        ));
        assert!(!glob_match(
            &few,
            &format!("x/{}b", "a".repeat(11)),
            Some('/')
        ));
    }

    #[test]
    fn alternatives_are_refused_before_they_are_built() {
        let wide = format!("{}{{{}}}", "{a,b}".repeat(8), vec!["x"; 10_000].join(","));
        assert!(!glob_match(&wide, "aaaaaaaax", None));
        assert!(glob_match(&"{a,b}".repeat(8), "abababab", None));
    }
}
