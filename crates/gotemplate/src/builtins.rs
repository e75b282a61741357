//! Go `text/template`'s predefined functions (`and`/`or` short-circuit in the executor):
//! `not len index slice eq ne lt le gt ge print println printf`.

use super::format::{number, sprint, truthy, type_name};
use super::{Cause, Ctx, Error, Funcs};
use serde_json::Value;
use std::cmp::Ordering;

/// Adds the builtins to a table.
pub fn register(f: &mut Funcs) {
    f.insert("not", not);
    f.insert("len", len);
    f.insert("index", index);
    f.insert("slice", slice);
    f.insert("eq", eq);
    f.insert("ne", ne);
    f.insert("lt", lt);
    f.insert("le", le);
    f.insert("gt", gt);
    f.insert("ge", ge);
    f.insert("print", print);
    f.insert("println", println);
    f.insert("printf", printf);
}

/// Checks the argument count.
pub(crate) fn arity(name: &str, args: &[Value], n: usize) -> Result<(), Error> {
    if args.len() == n {
        Ok(())
    } else {
        Err(wrong_args(name, args.len(), n))
    }
}

/// Go's error for a call of `name` with `got` arguments instead of `n`.
pub(crate) fn wrong_args(name: &str, got: usize, n: usize) -> Error {
    Error::func(format!(
        "wrong number of args for {name}: want {n} got {got}"
    ))
}

fn not(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    arity("not", a, 1)?;
    Ok(Value::Bool(!truthy(&a[0])))
}

fn len(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    arity("len", a, 1)?;
    match &a[0] {
        Value::String(s) => Ok(Value::from(s.len())),
        Value::Array(x) => Ok(Value::from(x.len())),
        Value::Object(m) => Ok(Value::from(m.len())),
        other => Err(Error::func(format!("len of type {}", type_name(other)))),
    }
}

/// An integer index argument.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        _ => None,
    }
}

fn index(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let Some((first, keys)) = a.split_first() else {
        return Err(Error::func(
            "wrong number of args for index: want at least 1 got 0",
        ));
    };
    let mut v = first.clone();
    for k in keys {
        v = match (v, k) {
            (Value::Object(mut m), Value::String(key)) => m.remove(key).unwrap_or(Value::Null),
            (Value::Array(mut x), i) => {
                let Some(i) = as_int(i) else {
                    return Err(Error::func(format!(
                        "cannot index slice with {}",
                        sprint(i)
                    )));
                };
                if i < 0 || i as usize >= x.len() {
                    return Err(Error::func(format!("index out of range: {i}"))
                        .with_cause(Cause::IndexOutOfRange));
                }
                x.swap_remove(i as usize)
            }
            (Value::Null, _) => return Err(Error::func("index of untyped nil")),
            (other, k) => {
                return Err(Error::func(format!(
                    "can't index item of type {} with {}",
                    type_name(&other),
                    sprint(k)
                )))
            }
        };
    }
    Ok(v)
}

fn slice(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let Some((first, idx)) = a.split_first() else {
        return Err(Error::func("wrong number of args for slice"));
    };
    let len = match first {
        Value::String(s) => s.len(),
        Value::Array(x) => x.len(),
        other => {
            return Err(Error::func(format!(
                "can't slice item of type {}",
                type_name(other)
            )))
        }
    };
    let bounds: Vec<usize> = idx
        .iter()
        .map(|v| as_int(v).filter(|i| *i >= 0).map(|i| i as usize))
        .collect::<Option<_>>()
        .ok_or_else(|| Error::func("slice: bad index"))?;
    let (lo, hi) = match bounds.as_slice() {
        [] => (0, len),
        [lo] => (*lo, len),
        [lo, hi] => (*lo, *hi),
        _ => return Err(Error::func("slice: too many indexes")),
    };
    if lo > hi || hi > len {
        return Err(
            Error::func(format!("slice: index out of range [{lo}:{hi}]"))
                .with_cause(Cause::IndexOutOfRange),
        );
    }
    Ok(match first {
        Value::String(s) => Value::String(
            s.get(lo..hi)
                .ok_or_else(|| Error::func("slice: not at a character boundary"))?
                .to_string(),
        ),
        Value::Array(x) => Value::Array(x[lo..hi].to_vec()),
        _ => Value::Null,
    })
}

/// Go's basic comparison: same basic kind or an error (`int` vs `float64` is an error in Go).
pub fn compare(a: &Value, b: &Value) -> Result<Option<Ordering>, Error> {
    match (a, b) {
        (Value::Null, Value::Null) => Ok(Some(Ordering::Equal)),
        (Value::Bool(x), Value::Bool(y)) => Ok(Some(x.cmp(y))),
        (Value::String(x), Value::String(y)) => Ok(Some(x.cmp(y))),
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() != y.is_f64() {
                return Err(Error::func("incompatible types for comparison"));
            }
            match (x.as_i64(), y.as_i64()) {
                (Some(i), Some(j)) => Ok(Some(i.cmp(&j))),
                _ => Ok(x
                    .as_f64()
                    .zip(y.as_f64())
                    .and_then(|(f, g)| f.partial_cmp(&g))),
            }
        }
        (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => {
            Err(Error::func("non-comparable type"))
        }
        (Value::Null, _) | (_, Value::Null) => Ok(None),
        _ => Err(Error::func("incompatible types for comparison")),
    }
}

fn eq(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let Some((first, rest)) = a.split_first() else {
        return Err(Error::func("missing argument for comparison"));
    };
    if rest.is_empty() {
        return Err(Error::func("missing argument for comparison"));
    }
    for b in rest {
        if compare(first, b)? == Some(Ordering::Equal) {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn ne(c: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    arity("ne", a, 2)?;
    Ok(Value::Bool(!truthy(&eq(c, a)?)))
}

fn ordered(name: &str, a: &[Value], ok: fn(Ordering) -> bool) -> Result<Value, Error> {
    arity(name, a, 2)?;
    if matches!(a[0], Value::Bool(_) | Value::Null) {
        return Err(Error::func("invalid type for comparison"));
    }
    match compare(&a[0], &a[1])? {
        Some(o) => Ok(Value::Bool(ok(o))),
        None => Err(Error::func("invalid type for comparison")),
    }
}

fn lt(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    ordered("lt", a, |o| o == Ordering::Less)
}

fn le(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    ordered("le", a, |o| o != Ordering::Greater)
}

fn gt(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    ordered("gt", a, |o| o == Ordering::Greater)
}

fn ge(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    ordered("ge", a, |o| o != Ordering::Less)
}

/// `fmt.Sprint`: spaces between operands when neither is a string.
pub(crate) fn sprint_args(a: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in a.iter().enumerate() {
        if i > 0 && !matches!(v, Value::String(_)) && !matches!(a[i - 1], Value::String(_)) {
            out.push(' ');
        }
        out.push_str(&sprint(v));
    }
    out
}

fn print(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    Ok(Value::String(sprint_args(a)))
}

fn println(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let parts: Vec<String> = a.iter().map(sprint).collect();
    Ok(Value::String(format!("{}\n", parts.join(" "))))
}

fn printf(_: &Ctx<'_>, a: &[Value]) -> Result<Value, Error> {
    let Some((Value::String(f), args)) = a.split_first() else {
        return Err(Error::func("printf: the format must be a string"));
    };
    Ok(Value::String(sprintf(f, args)))
}

/// Go's `fmt.Sprintf` for the verbs templates use: `%s %v %d %q %t %f %x %%`, with Go's
/// `%!v(MISSING)` / `%!(EXTRA ...)` markers for argument mismatches.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        // Flags and width are accepted and ignored except for a precision on %f.
        let mut spec = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || matches!(d, '.' | '-' | '+' | '#' | ' ' | '0') {
                spec.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(arg) = next.next() else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        let text = match (verb, arg) {
            ('s' | 'v', v) => sprint(v),
            ('d', Value::Number(n)) if n.as_i64().is_some() => number(n),
            ('q', Value::String(s)) => quote_go(s),
            ('t', Value::Bool(b)) => b.to_string(),
            ('f' | 'g' | 'e', Value::Number(n)) => {
                let f = n.as_f64().unwrap_or(0.0);
                match (verb, spec.split_once('.')) {
                    ('f', Some((_, p))) => format!("{f:.*}", p.parse().unwrap_or(6).min(64)),
                    ('f', None) => format!("{f:.6}"),
                    _ => super::format::go_float(f),
                }
            }
            ('x', Value::Number(n)) if n.as_i64().is_some() => {
                format!("{:x}", n.as_i64().unwrap_or(0))
            }
            ('x', Value::String(s)) => s.bytes().map(|b| format!("{b:02x}")).collect(),
            (v, arg) => format!("%!{v}({}={})", type_name(arg), sprint(arg)),
        };
        out.push_str(&text);
    }
    let extra: Vec<String> = next
        .map(|v| format!("{}={}", type_name(v), sprint(v)))
        .collect();
    if !extra.is_empty() {
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// Go's `strconv.Quote`: double quotes, backslash escapes.
pub(crate) fn quote_go(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
