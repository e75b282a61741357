//! A port of the matching semantics of `github.com/gobwas/glob`, which Argo CD uses for
//! AppProject `sourceRepos` (separator `/`) and `destinations` (no separator).
//!
//! `*` is any run of characters except a separator; `**` is any run at all; `?` is one
//! character except a separator; `[abc]`, `[a-z]`, `[!x]` are classes; `{a,b}` are
//! alternatives (which may hold patterns); `\` escapes. A pattern that does not compile matches
//! nothing (Argo CD logs the error and treats it as no match).

use std::collections::HashMap;

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
/// and every state reachable after each character is kept at once, as a bit set (64 states a
/// machine word). `*` and `**` loop on their state, so no choice is ever retried:
/// `characters x tokens / 64` steps, where trying each split of the text for each star (as
/// gobwas' compiled matchers do) is exponential in the number of stars on an adversarial text
/// (`**a*a*...*b` against `aaaa...`).
fn match_toks(toks: &[Tok], s: &[char], sep: Option<char>) -> bool {
    let toks = collapse_stars(toks);
    let n = toks.len();
    let words = n / 64 + 1;
    let bit = |set: &mut [u64], i: usize| set[i / 64] |= 1 << (i % 64);
    let mut single = vec![0u64; words];
    let mut any = vec![0u64; words];
    let mut sup = vec![0u64; words];
    let mut classes = Vec::new();
    let mut literals: HashMap<char, Vec<usize>> = HashMap::new();
    for (i, tok) in toks.iter().enumerate() {
        match tok {
            Tok::Lit(c) => literals.entry(*c).or_default().push(i),
            Tok::Single => bit(&mut single, i),
            Tok::Any => bit(&mut any, i),
            Tok::Super => bit(&mut sup, i),
            Tok::Class { negated, ranges } => classes.push((i, *negated, ranges)),
        }
    }
    // The most frequent literal characters get a ready mask (at most 8 MiB of them); each
    // other one occurs at most `tokens / cached` times, so setting its bits stays cheap.
    let cached = literals.len().min(((1 << 20) / words).max(1));
    let mut by_count: Vec<(char, Vec<usize>)> = literals.into_iter().collect();
    by_count.sort_unstable_by_key(|(c, at)| (std::cmp::Reverse(at.len()), *c));
    let rare: HashMap<char, Vec<usize>> = by_count.split_off(cached).into_iter().collect();
    let masks: HashMap<char, Vec<u64>> = by_count
        .into_iter()
        .map(|(c, at)| {
            let mut m = vec![0u64; words];
            at.into_iter().for_each(|i| bit(&mut m, i));
            (c, m)
        })
        .collect();
    let stars: Vec<u64> = any.iter().zip(&sup).map(|(a, b)| a | b).collect();
    // A star may match nothing: its state also reaches the next one (stars are never
    // adjacent after `collapse_stars`, so one step is the whole closure).
    let close = |set: &mut [u64]| {
        let mut carry = 0;
        for (w, star) in set.iter_mut().zip(&stars) {
            let from = *w & star;
            *w |= (from << 1) | carry;
            carry = from >> 63;
        }
    };
    let mut current = vec![0u64; words];
    current[0] = 1;
    close(&mut current);
    let mut next = vec![0u64; words];
    let mut step = vec![0u64; words];
    for &c in s {
        let crosses = Some(c) == sep;
        // The tokens that consume `c`.
        if crosses {
            step.iter_mut().for_each(|w| *w = 0);
        } else {
            step.copy_from_slice(&single);
        }
        if let Some(m) = masks.get(&c) {
            step.iter_mut().zip(m).for_each(|(w, m)| *w |= m);
        } else if let Some(at) = rare.get(&c) {
            at.iter().for_each(|i| bit(&mut step, *i));
        }
        for (i, negated, ranges) in &classes {
            if ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) != *negated {
                bit(&mut step, *i);
            }
        }
        // Stay on `**` (and on `*` unless `c` is the separator), or advance past a token
        // that consumes `c`.
        let mut carry = 0;
        let mut alive = 0;
        for w in 0..words {
            let loops = if crosses { sup[w] } else { stars[w] };
            let advance = current[w] & step[w];
            next[w] = (current[w] & loops) | (advance << 1) | carry;
            carry = advance >> 63;
            alive |= next[w];
        }
        if alive == 0 {
            return false;
        }
        close(&mut next);
        std::mem::swap(&mut current, &mut next);
    }
    current[n / 64] & (1 << (n % 64)) != 0
}

/// Merges each run of adjacent stars into one: `*` then `*` is `*`, and a run with a `**` in it
/// matches anything, as `**` alone does.
fn collapse_stars(toks: &[Tok]) -> Vec<Tok> {
    let mut out: Vec<Tok> = Vec::with_capacity(toks.len());
    for tok in toks {
        match (out.last_mut(), tok) {
            (Some(last @ Tok::Any), Tok::Super) => *last = Tok::Super,
            (Some(Tok::Any | Tok::Super), Tok::Any | Tok::Super) => {}
            _ => out.push(tok.clone()),
        }
    }
    out
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
        let mut patterns = strings(&["a", "/", "*", "?", "[!a]", "{a,/b}"], 3);
        patterns.extend(strings(&["a", "/", "*", "?"], 4));
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
    fn long_patterns_span_several_words_of_states() {
        // Deterministic pseudo-random patterns of 70 to 200 tokens (2 to 4 machine words of
        // states) and texts built from them, some changed, against the split search.
        let mut seed: u64 = 7;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        let mut outcomes = [0; 2];
        for round in 0..300 {
            let len = 70 + next(130);
            let (mut pattern, mut text) = (String::new(), String::new());
            let mut stars = 0;
            for _ in 0..len {
                match next(12) {
                    0 if stars < 3 => {
                        stars += 1;
                        pattern.push('*');
                        text.push_str(["", "x", "xy", "/"][next(4) as usize]);
                    }
                    1 => {
                        pattern.push('?');
                        text.push(['q', '/'][usize::from(next(8) == 0)]);
                    }
                    2 => {
                        pattern.push_str("[a-c]");
                        text.push(['b', 'z'][usize::from(next(8) == 0)]);
                    }
                    _ => {
                        let c = ['a', 'b', '/', 'x'][next(4) as usize];
                        pattern.push(c);
                        text.push(c);
                    }
                }
            }
            if round % 3 == 0 && !text.is_empty() {
                let at = next(text.len() as u64) as usize;
                if text.is_char_boundary(at) {
                    text.insert(at, 'z');
                }
            }
            let chars: Vec<char> = pattern.chars().collect();
            let toks = parse_seq(&chars, &mut 0, false).unwrap_or_default();
            let s: Vec<char> = text.chars().collect();
            for sep in [Some('/'), None] {
                let expected = toks.iter().any(|a| reference(a, &s, sep));
                assert_eq!(
                    glob_match(&pattern, &text, sep),
                    expected,
                    "{pattern:?} {text:?} {sep:?}"
                );
                outcomes[usize::from(expected)] += 1;
            }
        }
        assert!(outcomes[0] > 50 && outcomes[1] > 50, "{outcomes:?}");
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
