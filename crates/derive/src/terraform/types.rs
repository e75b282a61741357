//! Variable type constraints applied to the values a module is given, as Terraform converts
//! them: `optional(type, default)` attributes filled in (Terraform 1.3+), attributes an object
//! type does not declare dropped, primitives converted (`"true"` to `true` for `type = bool`).
//! Without this, `try(each.value.enabled, true)` would see a missing attribute where Terraform
//! sees the declared default, and evaluate to the wrong value.

use super::eval::Scope;
use gitops_lint_model::infra::value::Value;
use hcl::edit::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

/// Deepest type nesting followed; deeper values are kept as they are.
const MAX_DEPTH: usize = 16;

/// Converts `value` to the type `ty` (a `variable` block's `type` expression). Defaults are
/// evaluated in `scope` (they are constants). Anything not understood is left unchanged.
pub(crate) fn conform(scope: &Scope, value: Value, ty: &Expression, depth: usize) -> Value {
    if depth > MAX_DEPTH || matches!(value, Value::Unknown | Value::Null) {
        return value;
    }
    match ty {
        Expression::Variable(v) => primitive(value, v.value().as_str()),
        Expression::FuncCall(call) if call.name.namespace.is_empty() => {
            let args: Vec<&Expression> = call.args.iter().collect();
            match (call.name.name.value().as_str(), args.as_slice(), value) {
                ("object", [Expression::Object(fields)], Value::Map(mut given)) => {
                    let mut out = BTreeMap::new();
                    for (k, field) in fields.iter() {
                        let key = match k {
                            ObjectKey::Ident(i) => i.value().as_str().to_string(),
                            ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
                            _ => return Value::Map(given), // not a type we can read
                        };
                        let (inner, default) = match field.expr() {
                            Expression::FuncCall(o)
                                if o.name.name.value().as_str() == "optional" =>
                            {
                                let mut a = o.args.iter();
                                match a.next() {
                                    Some(t) => (t, Some(a.next())),
                                    None => return Value::Map(given),
                                }
                            }
                            t => (t, None),
                        };
                        let present = given.remove(&key).filter(|v| *v != Value::Null);
                        let v = match (present, default) {
                            (Some(v), _) => conform(scope, v, inner, depth + 1),
                            (None, Some(Some(d))) => {
                                conform(scope, scope.eval(d), inner, depth + 1)
                            }
                            (None, Some(None)) => Value::Null,
                            // A required attribute missing: Terraform rejects the call; keep
                            // it missing (which reads as unknown).
                            (None, None) => continue,
                        };
                        out.insert(key, v);
                    }
                    // Attributes the type does not declare are discarded by the conversion.
                    Value::Map(out)
                }
                ("map", [t], Value::Map(m)) => Value::Map(
                    m.into_iter()
                        .map(|(k, v)| (k, conform(scope, v, t, depth + 1)))
                        .collect(),
                ),
                ("list" | "set", [t], Value::List(l)) => Value::List(
                    l.into_iter()
                        .map(|v| conform(scope, v, t, depth + 1))
                        .collect(),
                ),
                (_, _, v) => v,
            }
        }
        _ => value,
    }
}

/// `string`, `bool`, `number`: Terraform's automatic conversions; unchanged when impossible.
fn primitive(value: Value, ty: &str) -> Value {
    let converted = match ty {
        "string" => value.to_str().map(Value::String),
        "bool" => value.to_bool().map(Value::Bool),
        "number" => value.to_number().map(Value::Number),
        _ => None,
    };
    converted.unwrap_or(value)
}
