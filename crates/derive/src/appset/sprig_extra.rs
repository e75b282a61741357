//! Sprig functions ApplicationSets use that the shared Go template engine does not implement
//! (it covers what Helm charts need): `dig`, the `path` helpers `base`, `dir`, `ext`, `clean`,
//! and the regular expression functions. Go's `regexp` is RE2, as is the `regex` crate, so the
//! syntax and `$1` expansion agree. Registered in Argo CD's table only (`super::gotmpl`).

use gitops_lint_gotemplate::{format::sprint, Ctx};
use gitops_lint_matchers::paths::clean as clean_path;
use serde_json::Value;

type Res = Result<Value, gitops_lint_gotemplate::Error>;

fn want(name: &str, a: &[Value], n: usize) -> Result<(), gitops_lint_gotemplate::Error> {
    if a.len() == n {
        Ok(())
    } else {
        Err(gitops_lint_gotemplate::Error::func(format!(
            "wrong number of args for {name}: want {n} got {}",
            a.len()
        )))
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => sprint(other),
    }
}

/// `dig "a" "b" default dict`: the value at keys a.b of dict, or default.
pub(crate) fn dig(_: &Ctx<'_>, a: &[Value]) -> Res {
    if a.len() < 3 {
        return Err(gitops_lint_gotemplate::Error::func(format!(
            "wrong number of args for dig: want at least 3 got {}",
            a.len()
        )));
    }
    let (keys, rest) = a.split_at(a.len() - 2);
    let default = &rest[0];
    let mut cur = &rest[1];
    for k in keys {
        match cur.get(text(k).as_str()) {
            Some(next) => cur = next,
            None => return Ok(default.clone()),
        }
    }
    Ok(cur.clone())
}

/// Go's `path.Base`.
pub(crate) fn base_path(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t.rsplit('/').next().unwrap_or(t).to_string()
}

/// Go's `path.Dir`: everything before the last `/`, cleaned.
pub(crate) fn dir_path(p: &str) -> String {
    let head = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean_path(head)
}

/// Go's `path.Ext`: from the last `.` of the last element.
pub(crate) fn ext_path(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        match c {
            '/' => break,
            '.' => return p[i..].to_string(),
            _ => {}
        }
    }
    String::new()
}

macro_rules! path_fn {
    ($name:ident, $go:literal, $f:ident) => {
        #[doc = concat!("Sprig `", $go, "`.")]
        pub fn $name(_: &Ctx<'_>, a: &[Value]) -> Res {
            want($go, a, 1)?;
            Ok(Value::String($f(&text(&a[0]))))
        }
    };
}
path_fn!(base, "base", base_path);
path_fn!(dir, "dir", dir_path);
path_fn!(ext, "ext", ext_path);
path_fn!(clean, "clean", clean_path);

fn compile(name: &str, pattern: &str) -> Result<regex::Regex, gitops_lint_gotemplate::Error> {
    regex::Regex::new(pattern).map_err(|e| {
        gitops_lint_gotemplate::Error::func(format!(
            "error calling {name}: error parsing regexp: {e}"
        ))
    })
}

/// What one element of a built list costs besides its text (its value and allocation).
const PIECE_BYTES: u64 = 32;

/// Pays, before building it, for a result of the text plus `per_match` bytes per match of
/// `re` in it: a replacement or a split can be far larger than its arguments.
fn pay_per_match(
    c: &Ctx<'_>,
    re: &regex::Regex,
    s: &str,
    per_match: u64,
) -> Result<(), gitops_lint_gotemplate::Error> {
    let matches = re.find_iter(s).count() as u64;
    c.check_size((s.len() as u64).saturating_add(matches.saturating_mul(per_match)))
}

/// `regexMatch regex s`.
pub(crate) fn regex_match(_: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexMatch", a, 2)?;
    Ok(Value::Bool(
        compile("regexMatch", &text(&a[0]))?.is_match(&text(&a[1])),
    ))
}

/// `regexFind regex s`: the first match, or "".
pub(crate) fn regex_find(_: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexFind", a, 2)?;
    let s = text(&a[1]);
    let found = compile("regexFind", &text(&a[0]))?
        .find(&s)
        .map(|m| m.as_str().to_string())
        .unwrap_or_default();
    Ok(Value::String(found))
}

/// `regexFindAll regex s n`: up to n matches (all when n < 0).
pub(crate) fn regex_find_all(c: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexFindAll", a, 3)?;
    let s = text(&a[1]);
    let n = a[2].as_f64().unwrap_or(-1.0);
    let re = compile("regexFindAll", &text(&a[0]))?;
    pay_per_match(c, &re, &s, PIECE_BYTES)?;
    let all = re
        .find_iter(&s)
        .map(|m| Value::String(m.as_str().to_string()));
    let found: Vec<Value> = if n < 0.0 {
        all.collect()
    } else {
        all.take(n as usize).collect()
    };
    Ok(Value::Array(found))
}

/// `regexReplaceAll regex s repl`: `$1`/`${name}` expand as in Go's `ReplaceAllString`.
pub(crate) fn regex_replace_all(c: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexReplaceAll", a, 3)?;
    let re = compile("regexReplaceAll", &text(&a[0]))?;
    let (s, repl) = (text(&a[1]), text(&a[2]));
    // Each `$` of the replacement may expand to a whole match.
    let dollars = repl.bytes().filter(|b| *b == b'$').count() as u64;
    let per_match = (repl.len() as u64).saturating_add(dollars.saturating_mul(s.len() as u64));
    pay_per_match(c, &re, &s, per_match)?;
    let out = re.replace_all(&s, repl.as_str()).into_owned();
    Ok(Value::String(out))
}

/// `regexReplaceAllLiteral regex s repl`: no `$` expansion.
pub(crate) fn regex_replace_all_literal(c: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexReplaceAllLiteral", a, 3)?;
    let repl = text(&a[2]);
    let re = compile("regexReplaceAllLiteral", &text(&a[0]))?;
    let s = text(&a[1]);
    pay_per_match(c, &re, &s, repl.len() as u64)?;
    let out = re.replace_all(&s, regex::NoExpand(&repl)).into_owned();
    Ok(Value::String(out))
}

/// `regexSplit regex s n`: Go's `Regexp.Split` (n < 0: all parts).
pub(crate) fn regex_split(c: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexSplit", a, 3)?;
    let s = text(&a[1]);
    let n = a[2].as_f64().unwrap_or(-1.0);
    let re = compile("regexSplit", &text(&a[0]))?;
    pay_per_match(c, &re, &s, PIECE_BYTES)?;
    let parts: Vec<Value> = if n == 0.0 {
        Vec::new()
    } else if n < 0.0 {
        re.split(&s).map(|p| Value::String(p.into())).collect()
    } else {
        re.splitn(&s, n as usize)
            .map(|p| Value::String(p.into()))
            .collect()
    };
    Ok(Value::Array(parts))
}

/// `regexQuoteMeta s`.
pub(crate) fn regex_quote_meta(_: &Ctx<'_>, a: &[Value]) -> Res {
    want("regexQuoteMeta", a, 1)?;
    Ok(Value::String(regex::escape(&text(&a[0]))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_path_functions() {
        assert_eq!(base_path("apps/a/"), "a");
        assert_eq!(base_path(""), ".");
        assert_eq!(dir_path("apps/a/values.yaml"), "apps/a");
        assert_eq!(dir_path("values.yaml"), ".");
        assert_eq!(ext_path("a/b.tar.gz"), ".gz");
        assert_eq!(ext_path("a.b/c"), "");
    }
}
