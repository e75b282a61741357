//! Rendering a template value (an Application template, a `templatePatch`, a matrix child
//! generator) against one parameter set, in either mode, recording what Argo CD would leave
//! unresolved or fail on, by the path of the string in the template.

use super::fasttemplate;
use super::gotmpl::{self, GoError};
use super::params::Params;
use crate::source::PathSeg;
use serde_json::{Map, Value};

/// The rendering mode of an ApplicationSet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode {
    /// `goTemplate: true`.
    pub go: bool,
    /// `goTemplateOptions: ["missingkey=error"]`.
    pub missingkey_error: bool,
}

/// Something one string of the template did not render cleanly.
#[derive(Clone, Debug)]
pub enum Issue {
    /// A tag no parameter answers. fasttemplate leaves `{{tag}}`; goTemplate prints
    /// `<no value>`. Neither fails.
    Unknown {
        /// The tag (fasttemplate) or the missing key (goTemplate).
        tag: String,
        /// Path of the string in the rendered value.
        path: Vec<PathSeg>,
    },
    /// Argo CD fails to render (goTemplate parse or execution error, `missingkey=error`).
    Failed {
        /// Argo CD's error, or ours in its words.
        message: String,
        /// The failing key when the error is a missing key (for the rule choice).
        missing: Option<String>,
        /// Path of the string.
        path: Vec<PathSeg>,
    },
    /// A goTemplate construct this tool does not evaluate: the value is unknown, never guessed.
    NotUnderstood {
        /// What was not understood.
        message: String,
        /// Path of the string.
        path: Vec<PathSeg>,
    },
}

/// One parameter set as templates see it; the goTemplate data (`.`) is built once, on first use.
pub struct Scope<'a> {
    /// The parameters.
    pub params: &'a Params,
    data: std::cell::OnceCell<Value>,
}

impl<'a> Scope<'a> {
    /// A scope over one parameter set.
    pub fn new(params: &'a Params) -> Self {
        Scope {
            params,
            data: std::cell::OnceCell::new(),
        }
    }

    fn data(&self) -> &Value {
        self.data.get_or_init(|| Value::Object(self.params.clone()))
    }
}

/// Renders one string.
pub fn render_str(
    text: &str,
    scope: &Scope,
    mode: Mode,
    path: &[PathSeg],
    issues: &mut Vec<Issue>,
) -> String {
    if !text.contains("{{") {
        return text.to_string();
    }
    if !mode.go {
        let r = fasttemplate::render(text, scope.params);
        for tag in r.unknown {
            issues.push(Issue::Unknown {
                tag,
                path: path.to_vec(),
            });
        }
        return r.text;
    }
    match gotmpl::render(text, scope.data(), mode.missingkey_error) {
        Ok(r) => {
            for tag in r.missing {
                issues.push(Issue::Unknown {
                    tag,
                    path: path.to_vec(),
                });
            }
            r.text
        }
        Err(GoError::Failed { message, missing }) => {
            issues.push(Issue::Failed {
                message,
                missing,
                path: path.to_vec(),
            });
            text.to_string()
        }
        Err(GoError::NotUnderstood(message)) => {
            issues.push(Issue::NotUnderstood {
                message,
                path: path.to_vec(),
            });
            text.to_string()
        }
    }
}

/// Renders every string (values and mapping keys) of a value.
pub fn render_value(
    v: &Value,
    scope: &Scope,
    mode: Mode,
    path: &mut Vec<PathSeg>,
    issues: &mut Vec<Issue>,
) -> Value {
    match v {
        Value::String(s) => Value::String(render_str(s, scope, mode, path, issues)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    path.push(PathSeg::Index(i));
                    let r = render_value(item, scope, mode, path, issues);
                    path.pop();
                    r
                })
                .collect(),
        ),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, child) in map {
                path.push(PathSeg::Key(k.clone()));
                let key = render_str(k, scope, mode, path, issues);
                let r = render_value(child, scope, mode, path, issues);
                path.pop();
                out.insert(key, r);
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Whether any string of the value holds a `{{`.
pub fn has_template(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("{{"),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map
            .iter()
            .any(|(k, child)| k.contains("{{") || has_template(child)),
        _ => false,
    }
}

/// Deep merge of `patch` over `base` (mappings merge key by key; anything else is replaced):
/// mergo `WithOverride`, and the strategic merge patch for the fields templates use.
pub fn merge_over(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, pv) in p {
                match b.get_mut(k) {
                    Some(bv) if bv.is_object() && pv.is_object() => merge_over(bv, pv),
                    _ => {
                        b.insert(k.clone(), pv.clone());
                    }
                }
            }
        }
        (b, p) => *b = p.clone(),
    }
}
