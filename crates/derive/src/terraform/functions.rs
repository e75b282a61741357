//! The Terraform built-in functions tenant modules use. A function given an unknown argument
//! returns unknown (except where Terraform's own result would not depend on it); a function we
//! do not implement returns unknown.

use super::eval::Scope;
use gitops_lint_model::infra::value::Value;
use hcl::edit::expr::Expression;
use std::collections::BTreeMap;

fn all_known(args: &[Value]) -> bool {
    !args.iter().any(Value::has_unknown)
}

fn string_arg(args: &[Value], i: usize) -> Option<String> {
    args.get(i).and_then(Value::to_str)
}

/// Calls `name` (written as `expr`) with evaluated arguments.
pub fn call(scope: &Scope, expr: &Expression, name: &str, args: Vec<Value>) -> Value {
    call_known(scope, expr, name, args).unwrap_or(Value::Unknown)
}

/// Terraform's `range(max)`, `range(start, limit)`, `range(start, limit, step)` (go-cty
/// `function/stdlib/sequence.go`, `RangeFunc`): more than 1024 numbers is an error there, so
/// unknown here. The numbers are paid for before the list is built.
fn range(scope: &Scope, expr: &Expression, args: &[Value]) -> Option<Value> {
    let n: Vec<f64> = args.iter().map(Value::to_number).collect::<Option<_>>()?;
    let (start, end, step) = match n.as_slice() {
        [end] => (0.0, *end, if *end < 0.0 { -1.0 } else { 1.0 }),
        [start, end] => (*start, *end, if end < start { -1.0 } else { 1.0 }),
        [start, end, step] => (*start, *end, *step),
        _ => return None,
    };
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
        return None;
    }
    // RangeFunc refuses an end on the wrong side of the start.
    if (step < 0.0 && end > start) || (step > 0.0 && end < start) {
        return None;
    }
    let count = ((end - start) / step).ceil().max(0.0);
    if count > 1024.0 {
        return None;
    }
    // The list and its numbers (the caller does not charge `range` again).
    if !scope.pay(count as u64 + 1, expr) {
        return None;
    }
    Some(Value::List(
        (0..count as usize)
            .map(|i| Value::Number(start + step * i as f64))
            .collect(),
    ))
}

fn call_known(scope: &Scope, expr: &Expression, name: &str, args: Vec<Value>) -> Option<Value> {
    // `try` and `coalesce` may succeed with some arguments unknown, so they come first.
    match name {
        "try" => {
            // Only reached with an expanded final argument (`try(list...)`); the evaluator
            // handles the usual form, telling certain errors apart. An unknown first
            // argument may be an error (the next one wins) or a computed value: we cannot tell.
            return match args.first() {
                Some(v) if !v.has_unknown() => Some(v.clone()),
                _ => None,
            };
        }
        "can" => return None,
        "coalesce" => {
            for a in &args {
                match a {
                    Value::Unknown => return None,
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    other => return Some(other.clone()),
                }
            }
            return None;
        }
        _ => {}
    }
    if !all_known(&args) {
        return None;
    }
    let s = |i| string_arg(&args, i);
    Some(match name {
        "range" => return range(scope, expr, &args),
        "file" => Value::String(scope.read_file(&s(0)?)?.to_string()),
        "jsondecode" => Value::from_json(&serde_json::from_str(&s(0)?).ok()?),
        "jsonencode" => Value::String(args.first()?.to_json()?.to_string()),
        "tostring" => match args.first()? {
            Value::Null => Value::Null,
            v => Value::String(v.to_str()?),
        },
        "tonumber" => Value::Number(args.first()?.to_number()?),
        "tobool" => Value::Bool(args.first()?.to_bool()?),
        "tolist" | "tuple" => match args.first()? {
            Value::List(l) => Value::List(l.clone()),
            _ => return None,
        },
        "toset" => match args.first()? {
            Value::List(l) => {
                let mut items = l.clone();
                items.sort_by_key(|v| v.to_str().unwrap_or_default());
                items.dedup();
                Value::List(items)
            }
            _ => return None,
        },
        "tomap" => match args.first()? {
            Value::Map(m) => Value::Map(m.clone()),
            _ => return None,
        },
        "lower" => Value::String(s(0)?.to_lowercase()),
        "upper" => Value::String(s(0)?.to_uppercase()),
        "trimspace" => Value::String(s(0)?.trim().to_string()),
        "trimprefix" => {
            let (a, p) = (s(0)?, s(1)?);
            Value::String(a.strip_prefix(p.as_str()).unwrap_or(&a).to_string())
        }
        "trimsuffix" => {
            let (a, p) = (s(0)?, s(1)?);
            Value::String(a.strip_suffix(p.as_str()).unwrap_or(&a).to_string())
        }
        "startswith" => Value::Bool(s(0)?.starts_with(&s(1)?)),
        "endswith" => Value::Bool(s(0)?.ends_with(&s(1)?)),
        "replace" => {
            let (a, from, to) = (s(0)?, s(1)?, s(2)?);
            if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
                return None; // a regular expression: not evaluated
            }
            // The result can be far larger than the text (an empty `from` matches between
            // every character): paid for before it is built.
            let matches = if from.is_empty() {
                a.chars().count() + 1
            } else {
                a.matches(from.as_str()).count()
            };
            let size =
                (a.len() as u64).saturating_add((matches as u64).saturating_mul(to.len() as u64));
            if !scope.pay(size / 16, expr) {
                return None;
            }
            Value::String(a.replace(&from, &to))
        }
        "format" => Value::String(format(&s(0)?, &args[1..])?),
        "join" => {
            let sep = s(0)?;
            let mut parts = Vec::new();
            for list in &args[1..] {
                let Value::List(items) = list else {
                    return None;
                };
                for item in items {
                    parts.push(item.to_str()?);
                }
            }
            Value::String(parts.join(&sep))
        }
        "split" => Value::List(
            s(1)?
                .split(s(0)?.as_str())
                .map(|p| Value::String(p.to_string()))
                .collect(),
        ),
        "substr" => {
            let text = s(0)?;
            let offset = args.get(1)?.to_number()? as usize;
            let length = args.get(2)?.to_number()?;
            let chars = text.chars().skip(offset);
            Value::String(if length < 0.0 {
                chars.collect()
            } else {
                chars.take(length as usize).collect()
            })
        }
        "length" => Value::Number(match args.first()? {
            Value::List(l) => l.len() as f64,
            Value::Map(m) => m.len() as f64,
            Value::String(s) => s.chars().count() as f64,
            _ => return None,
        }),
        "contains" => {
            let Value::List(items) = args.first()? else {
                return None;
            };
            Value::Bool(items.contains(args.get(1)?))
        }
        "lookup" => {
            let Value::Map(m) = args.first()? else {
                return None;
            };
            match m.get(&s(1)?) {
                Some(v) => v.clone(),
                None => args.get(2)?.clone(),
            }
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for a in &args {
                match a {
                    Value::Map(m) => out.extend(m.clone()),
                    Value::Null => {}
                    _ => return None,
                }
            }
            Value::Map(out)
        }
        "concat" => {
            let mut out = Vec::new();
            for a in &args {
                let Value::List(l) = a else { return None };
                out.extend(l.iter().cloned());
            }
            Value::List(out)
        }
        "flatten" => {
            fn flat(v: &Value, out: &mut Vec<Value>) {
                match v {
                    Value::List(l) => l.iter().for_each(|i| flat(i, out)),
                    other => out.push(other.clone()),
                }
            }
            let mut out = Vec::new();
            flat(args.first()?, &mut out);
            Value::List(out)
        }
        "distinct" => {
            let Value::List(l) = args.first()? else {
                return None;
            };
            let mut out: Vec<Value> = Vec::new();
            for v in l {
                if !out.contains(v) {
                    out.push(v.clone());
                }
            }
            Value::List(out)
        }
        "keys" => {
            let Value::Map(m) = args.first()? else {
                return None;
            };
            Value::List(m.keys().map(|k| Value::String(k.clone())).collect())
        }
        "values" => {
            let Value::Map(m) = args.first()? else {
                return None;
            };
            Value::List(m.values().cloned().collect())
        }
        "element" => {
            let Value::List(l) = args.first()? else {
                return None;
            };
            let i = args.get(1)?.to_number()? as usize;
            l.get(i % l.len().max(1))?.clone()
        }
        "zipmap" => {
            let (Value::List(k), Value::List(v)) = (args.first()?, args.get(1)?) else {
                return None;
            };
            let mut out = BTreeMap::new();
            for (k, v) in k.iter().zip(v) {
                out.insert(k.to_str()?, v.clone());
            }
            Value::Map(out)
        }
        _ => return None,
    })
}

/// `format`: `%s`, `%d`, `%v`, `%q`, `%%` (the verbs configs use for names).
fn format(spec: &str, args: &[Value]) -> Option<String> {
    let mut out = String::new();
    let mut next = args.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '%' => out.push('%'),
            's' | 'v' => out.push_str(&next.next()?.to_str()?),
            'd' => out.push_str(&gitops_lint_model::infra::value::number_to_string(
                next.next()?.to_number()?.trunc(),
            )),
            'q' => out.push_str(&format!("{:?}", next.next()?.to_str()?)),
            _ => return None,
        }
    }
    Some(out)
}
