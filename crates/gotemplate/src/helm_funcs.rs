//! Helm's template functions (its own plus the sprig functions charts commonly use), with
//! sprig's semantics: `include tpl required fail default empty coalesce ternary quote squote
//! toString toYaml toJson nindent indent replace trim trimAll trimSuffix trimPrefix upper lower
//! title trunc contains hasPrefix hasSuffix list dict get hasKey keys values join splitList
//! first last has uniq sortAlpha cat int int64 float64 add add1 sub mul div mod max min kindIs
//! typeOf b64enc`. Not here (so a chart using them is "not understood"): `lookup` (needs a
//! cluster), crypto and random functions, `.Files` methods.

use super::builtins::quote_go;
use super::format::{sprint, truthy, type_name};
use super::yaml_out::{to_json, to_yaml};
use super::{Ctx, Error, Funcs};
use serde_json::{Map, Value};

/// Adds Helm's functions: the sprig ones below plus Helm's own (`include`, `tpl`, `required`,
/// `toYaml`).
pub fn register(f: &mut Funcs) {
    register_sprig(f);
    let table: &[(&'static str, super::Func)] = &[("required", required), ("toYaml", to_yaml_f)];
    for (name, func) in table {
        f.insert(name, *func);
    }
    f.insert_with_context("include", include, include_in);
    f.insert_with_context("tpl", tpl, tpl_in);
}

/// Adds the sprig functions implemented here (shared by Helm and Argo CD's `goTemplate`).
pub(crate) fn register_sprig(f: &mut Funcs) {
    let table: &[(&'static str, super::Func)] = &[
        ("fail", fail),
        ("default", default),
        ("empty", empty),
        ("coalesce", coalesce),
        ("ternary", ternary),
        ("quote", quote),
        ("squote", squote),
        ("toString", to_string),
        ("toJson", to_json_f),
        ("nindent", nindent),
        ("indent", indent),
        ("replace", replace),
        ("trim", trim),
        ("trimAll", trim_all),
        ("trimSuffix", trim_suffix),
        ("trimPrefix", trim_prefix),
        ("upper", upper),
        ("lower", lower),
        ("title", title),
        ("trunc", trunc),
        ("contains", contains),
        ("hasPrefix", has_prefix),
        ("hasSuffix", has_suffix),
        ("list", list),
        ("dict", dict),
        ("get", get),
        ("hasKey", has_key),
        ("keys", keys),
        ("values", values),
        ("join", join),
        ("splitList", split_list),
        ("first", first),
        ("last", last),
        ("has", has),
        ("uniq", uniq),
        ("sortAlpha", sort_alpha),
        ("cat", cat),
        ("int", int),
        ("int64", int),
        ("float64", float64),
        ("add", add),
        ("add1", add1),
        ("sub", sub),
        ("mul", mul),
        ("div", div),
        ("mod", modulo),
        ("max", max),
        ("min", min),
        ("kindIs", kind_is),
        ("typeOf", type_of),
        ("b64enc", b64enc),
    ];
    for (name, func) in table {
        f.insert(name, *func);
    }
}

fn n_args(name: &str, a: &[Value], n: usize) -> Result<(), Error> {
    super::builtins::arity(name, a, n)
}

/// sprig's `strval`: strings as they are, anything else as `fmt.Sprint` prints it.
pub(crate) fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => sprint(other),
    }
}

/// sprig's `empty`: nil, false, 0, "" and empty lists and maps.
pub fn is_empty(v: &Value) -> bool {
    !truthy(v)
}

fn s(v: &Value) -> String {
    strval(v)
}

fn int_of(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n
            .as_i64()
            .unwrap_or_else(|| n.as_f64().map_or(0, |f| f.trunc() as i64)),
        Value::String(t) => t
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| t.trim().parse::<f64>().ok().map(|f| f.trunc() as i64))
            .unwrap_or(0),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

fn include(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("include", a, 2)?;
    include_in(c, &a[..1], &a[1])
}

/// `include NAME CONTEXT`, the context apart (see [`super::ContextFunc`]).
fn include_in(c: &Ctx<'_>, before: &[Value], context: &Value) -> Result<Value, Error> {
    let [name] = before else {
        return Err(super::builtins::wrong_args("include", before.len() + 1, 2));
    };
    let Value::String(name) = name else {
        return Err(Error::func("include: the template name must be a string"));
    };
    Ok(Value::String(c.include(name, context)?))
}

fn tpl(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("tpl", a, 2)?;
    tpl_in(c, &a[..1], &a[1])
}

/// `tpl TEXT CONTEXT`, the context apart (see [`super::ContextFunc`]).
fn tpl_in(c: &Ctx<'_>, before: &[Value], context: &Value) -> Result<Value, Error> {
    let [text] = before else {
        return Err(super::builtins::wrong_args("tpl", before.len() + 1, 2));
    };
    Ok(Value::String(c.tpl(&s(text), context)?))
}

fn required(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("required", a, 2)?;
    match &a[1] {
        Value::Null => Err(Error::func(s(&a[0]))),
        Value::String(t) if t.is_empty() => Err(Error::func(s(&a[0]))),
        v => Ok(v.clone()),
    }
}

fn fail(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("fail", a, 1)?;
    Err(Error::func(s(&a[0])))
}

fn default(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    match a {
        [d] => Ok(d.clone()),
        [d, given] => Ok(if is_empty(given) { d } else { given }.clone()),
        _ => Err(Error::func("wrong number of args for default")),
    }
}

fn empty(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("empty", a, 1)?;
    Ok(Value::Bool(is_empty(&a[0])))
}

fn coalesce(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    Ok(a.iter()
        .find(|v| !is_empty(v))
        .cloned()
        .unwrap_or(Value::Null))
}

fn ternary(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("ternary", a, 3)?;
    Ok(if truthy(&a[2]) { &a[0] } else { &a[1] }.clone())
}

fn quote(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| quote_go(&s(v)))
        .collect();
    Ok(Value::String(parts.join(" ")))
}

fn squote(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !v.is_null())
        .map(|v| format!("'{}'", s(v)))
        .collect();
    Ok(Value::String(parts.join(" ")))
}

fn to_string(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("toString", a, 1)?;
    Ok(Value::String(s(&a[0])))
}

fn to_yaml_f(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("toYaml", a, 1)?;
    Ok(Value::String(to_yaml(&a[0])))
}

fn to_json_f(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("toJson", a, 1)?;
    Ok(Value::String(to_json(&a[0])))
}

/// Indents every line of `text` by `n` spaces; the result, up to `n + 1` times the text, is
/// paid for before it is built.
fn indent_text(c: &Ctx<'_>, n: i64, text: &str) -> Result<String, Error> {
    let n = n.clamp(0, 1024) as usize;
    let lines = text.bytes().filter(|b| *b == b'\n').count() + 1;
    c.check_size((text.len() as u64).saturating_add((n as u64).saturating_mul(lines as u64)))?;
    let pad = " ".repeat(n);
    Ok(format!("{pad}{}", text.replace('\n', &format!("\n{pad}"))))
}

fn nindent(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("nindent", a, 2)?;
    Ok(Value::String(format!(
        "\n{}",
        indent_text(c, int_of(&a[0]), &s(&a[1]))?
    )))
}

fn indent(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("indent", a, 2)?;
    Ok(Value::String(indent_text(c, int_of(&a[0]), &s(&a[1]))?))
}

fn replace(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("replace", a, 3)?;
    let (from, to, text) = (s(&a[0]), s(&a[1]), s(&a[2]));
    // An empty `from` matches between every character: the result can be far larger than
    // the text, so its size is paid for before it is built.
    let matches = if from.is_empty() {
        text.chars().count() + 1
    } else {
        text.matches(from.as_str()).count()
    };
    c.check_size(
        (text.len() as u64).saturating_add((matches as u64).saturating_mul(to.len() as u64)),
    )?;
    Ok(Value::String(text.replace(&from, &to)))
}

fn trim(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("trim", a, 1)?;
    Ok(Value::String(s(&a[0]).trim().to_string()))
}

fn trim_all(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("trimAll", a, 2)?;
    let cut = s(&a[0]);
    Ok(Value::String(
        s(&a[1]).trim_matches(|c| cut.contains(c)).to_string(),
    ))
}

fn trim_suffix(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("trimSuffix", a, 2)?;
    let (suffix, text) = (s(&a[0]), s(&a[1]));
    Ok(Value::String(
        text.strip_suffix(suffix.as_str())
            .unwrap_or(&text)
            .to_string(),
    ))
}

fn trim_prefix(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("trimPrefix", a, 2)?;
    let (prefix, text) = (s(&a[0]), s(&a[1]));
    Ok(Value::String(
        text.strip_prefix(prefix.as_str())
            .unwrap_or(&text)
            .to_string(),
    ))
}

fn upper(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("upper", a, 1)?;
    Ok(Value::String(s(&a[0]).to_uppercase()))
}

fn lower(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("lower", a, 1)?;
    Ok(Value::String(s(&a[0]).to_lowercase()))
}

fn title(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("title", a, 1)?;
    let mut out = String::new();
    let mut start = true;
    for c in s(&a[0]).chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = c.is_whitespace();
    }
    Ok(Value::String(out))
}

fn trunc(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("trunc", a, 2)?;
    let n = int_of(&a[0]);
    let text = s(&a[1]);
    let len = text.len() as i64;
    let cut = if n >= 0 && len > n {
        text.get(..n as usize)
    } else if n < 0 && len + n > 0 {
        text.get((len + n) as usize..)
    } else {
        Some(text.as_str())
    };
    Ok(Value::String(cut.unwrap_or(&text).to_string()))
}

fn contains(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("contains", a, 2)?;
    Ok(Value::Bool(s(&a[1]).contains(&s(&a[0]))))
}

fn has_prefix(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("hasPrefix", a, 2)?;
    Ok(Value::Bool(s(&a[1]).starts_with(&s(&a[0]))))
}

fn has_suffix(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("hasSuffix", a, 2)?;
    Ok(Value::Bool(s(&a[1]).ends_with(&s(&a[0]))))
}

fn list(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    Ok(Value::Array(a.to_vec()))
}

fn dict(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let mut m = Map::new();
    for pair in a.chunks(2) {
        let value = pair.get(1).cloned().unwrap_or(Value::String(String::new()));
        m.insert(s(&pair[0]), value);
    }
    Ok(Value::Object(m))
}

fn get(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("get", a, 2)?;
    Ok(a[0]
        .get(s(&a[1]))
        .cloned()
        .unwrap_or(Value::String(String::new())))
}

fn has_key(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("hasKey", a, 2)?;
    Ok(Value::Bool(
        a[0].as_object().is_some_and(|m| m.contains_key(&s(&a[1]))),
    ))
}

fn keys(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    // Go's map order is random; sorted keeps the output deterministic.
    let mut out: Vec<String> = a
        .iter()
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys().cloned())
        .collect();
    out.sort();
    Ok(Value::Array(out.into_iter().map(Value::String).collect()))
}

fn values(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("values", a, 1)?;
    let Some(m) = a[0].as_object() else {
        return Err(Error::func("values: not a map"));
    };
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|x, y| x.0.cmp(y.0));
    Ok(Value::Array(
        entries.into_iter().map(|(_, v)| v.clone()).collect(),
    ))
}

fn as_list(name: &str, v: &Value) -> Result<Vec<Value>, Error> {
    match v {
        Value::Array(a) => Ok(a.clone()),
        Value::Null => Ok(Vec::new()),
        other => Err(Error::func(format!(
            "{name}: cannot use type {} as a list",
            type_name(other)
        ))),
    }
}

fn join(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("join", a, 2)?;
    let parts: Vec<String> = match &a[1] {
        Value::Array(x) => x.iter().filter(|v| !v.is_null()).map(s).collect(),
        other => vec![s(other)],
    };
    Ok(Value::String(parts.join(&s(&a[0]))))
}

fn split_list(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("splitList", a, 2)?;
    let (sep, text) = (s(&a[0]), s(&a[1]));
    c.check_size(list_size(&text, &sep))?;
    Ok(Value::Array(
        text.split(sep.as_str())
            .map(|p| Value::String(p.to_string()))
            .collect(),
    ))
}

/// What splitting `text` at `sep` builds, in bytes: the text, and each piece's own value
/// (an empty separator splits between every character).
pub(crate) fn list_size(text: &str, sep: &str) -> u64 {
    let pieces = if sep.is_empty() {
        text.chars().count() + 2
    } else {
        text.matches(sep).count() + 1
    };
    (text.len() as u64).saturating_add((pieces as u64).saturating_mul(PIECE_BYTES))
}

/// What one element of a built list costs besides its text (its value and allocation).
pub(crate) const PIECE_BYTES: u64 = 32;

fn first(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("first", a, 1)?;
    Ok(as_list("first", &a[0])?
        .into_iter()
        .next()
        .unwrap_or(Value::Null))
}

fn last(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("last", a, 1)?;
    Ok(as_list("last", &a[0])?.pop().unwrap_or(Value::Null))
}

fn has(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("has", a, 2)?;
    Ok(Value::Bool(as_list("has", &a[1])?.contains(&a[0])))
}

fn uniq(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("uniq", a, 1)?;
    let mut out: Vec<Value> = Vec::new();
    for v in as_list("uniq", &a[0])? {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(Value::Array(out))
}

fn sort_alpha(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("sortAlpha", a, 1)?;
    let mut out: Vec<String> = as_list("sortAlpha", &a[0])?.iter().map(s).collect();
    out.sort();
    Ok(Value::Array(out.into_iter().map(Value::String).collect()))
}

fn cat(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let parts: Vec<String> = a.iter().filter(|v| !v.is_null()).map(s).collect();
    Ok(Value::String(parts.join(" ")))
}

fn int(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("int", a, 1)?;
    Ok(Value::from(int_of(&a[0])))
}

fn float64(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("float64", a, 1)?;
    let f = match &a[0] {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::String(t) => t.trim().parse().unwrap_or(0.0),
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    };
    Ok(serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number))
}

fn fold(a: &[Value], init: i64, op: fn(i64, i64) -> Option<i64>) -> Result<Value, Error> {
    let mut acc = init;
    for v in a {
        acc = op(acc, int_of(v)).ok_or_else(|| Error::func("integer overflow"))?;
    }
    Ok(Value::from(acc))
}

fn add(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    fold(a, 0, i64::checked_add)
}

fn add1(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("add1", a, 1)?;
    fold(a, 1, i64::checked_add)
}

fn mul(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    fold(a, 1, i64::checked_mul)
}

fn binary(name: &str, a: &[Value], op: fn(i64, i64) -> Option<i64>) -> Result<Value, Error> {
    n_args(name, a, 2)?;
    op(int_of(&a[0]), int_of(&a[1]))
        .map(Value::from)
        .ok_or_else(|| Error::func(format!("{name}: integer divide by zero or overflow")))
}

fn sub(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    binary("sub", a, i64::checked_sub)
}

fn div(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    binary("div", a, i64::checked_div)
}

fn modulo(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    binary("mod", a, i64::checked_rem)
}

fn max(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let Some(first) = a.first() else {
        return Err(Error::func("max: needs arguments"));
    };
    fold(&a[1..], int_of(first), |x, y| Some(x.max(y)))
}

fn min(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let Some(first) = a.first() else {
        return Err(Error::func("min: needs arguments"));
    };
    fold(&a[1..], int_of(first), |x, y| Some(x.min(y)))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "invalid",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        Value::Array(_) => "slice",
        Value::Object(_) => "map",
    }
}

fn kind_is(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("kindIs", a, 2)?;
    Ok(Value::Bool(s(&a[0]) == kind_of(&a[1])))
}

fn type_of(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("typeOf", a, 1)?;
    Ok(Value::String(type_name(&a[0]).to_string()))
}

fn b64enc(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    n_args("b64enc", a, 1)?;
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let bytes = s(&a[0]).into_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    Ok(Value::String(out))
}
