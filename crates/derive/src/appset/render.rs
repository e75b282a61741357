//! Rendering a template value (an Application template, a `templatePatch`, a matrix child
//! generator) against one parameter set, in either mode, recording what Argo CD would leave
//! unresolved or fail on, by the path of the string in the template.

use super::fasttemplate;
use super::gotmpl::{self, Failure, GoError};
use super::params::Params;
use gitops_lint_core::source::PathSeg;
use serde_json::{Map, Value};

/// The rendering mode of an ApplicationSet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mode {
    /// `goTemplate: true`.
    pub go: bool,
    /// `goTemplateOptions: ["missingkey=error"]`.
    pub missingkey_error: bool,
    /// The budgets of each goTemplate execution (`limits.templateSteps`,
    /// `limits.templateOutputBytes`).
    pub limits: gitops_lint_gotemplate::Limits,
}

/// Something one string of the template did not render cleanly.
#[derive(Clone, Debug)]
pub(crate) enum Issue {
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
        /// Why (for the rule choice).
        cause: Failure,
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
pub(crate) fn render_str(
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
        if let Some(message) = r.error {
            issues.push(Issue::Failed {
                message,
                cause: Failure::Other,
                path: path.to_vec(),
            });
            return r.text;
        }
        for tag in r.unknown {
            issues.push(Issue::Unknown {
                tag,
                path: path.to_vec(),
            });
        }
        return r.text;
    }
    match gotmpl::render(text, scope.data(), mode.missingkey_error, mode.limits) {
        Ok(r) => {
            for tag in r.missing {
                issues.push(Issue::Unknown {
                    tag,
                    path: path.to_vec(),
                });
            }
            r.text
        }
        Err(GoError::Failed { message, cause }) => {
            issues.push(Issue::Failed {
                message,
                cause,
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
pub(crate) fn render_value(
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
                path.push(PathSeg::Key(k.as_str().into()));
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
pub(crate) fn has_template(v: &Value) -> bool {
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
pub(crate) fn merge_over(base: &mut Value, patch: &Value) {
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

/// Whether mergo counts a value as empty (and so lets the other side fill it): null, `""`,
/// `false`, `0`, an empty list. Objects are merged field by field instead.
fn mergo_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Array(a) => a.is_empty(),
        Value::Object(_) => false,
    }
}

/// A generator-level `template` merged with `spec.template` as Argo CD's
/// `mergeGeneratorTemplate` does (`mergo.Merge(generatorTemplate, specTemplate)`, no override):
/// the generator's non-empty fields win, its empty or missing fields come from `spec.template`.
pub(crate) fn merge_generator_template(generator: &Value, base: &Value) -> Value {
    match (generator, base) {
        (Value::Object(g), Value::Object(b)) => {
            let mut out = g.clone();
            for (k, bv) in b {
                match out.get_mut(k) {
                    Some(gv @ Value::Object(_)) if bv.is_object() => {
                        *gv = merge_generator_template(gv, bv);
                    }
                    Some(gv) if !mergo_empty(gv) => {}
                    _ => {
                        out.insert(k.clone(), bv.clone());
                    }
                }
            }
            Value::Object(out)
        }
        (g, b) if mergo_empty(g) => b.clone(),
        (g, _) => g.clone(),
    }
}

/// A `templatePatch` applied as the Kubernetes strategic merge patch Argo CD uses
/// (`strategicpatch.StrategicMergePatch(app, patch, Application{})`): mappings merge, a `null`
/// deletes the key, lists are replaced, except `metadata.finalizers` (`patchStrategy: merge`
/// in ObjectMeta), whose items are added to the existing ones: the existing items first, then
/// the patch's new ones.
pub(crate) fn strategic_merge(base: &mut Value, patch: &Value) {
    fn walk(base: &mut Value, patch: &Value, depth: usize, in_metadata: bool) {
        let (Value::Object(b), Value::Object(p)) = (&mut *base, patch) else {
            *base = patch.clone();
            return;
        };
        for (k, pv) in p {
            if pv.is_null() {
                b.shift_remove(k);
                continue;
            }
            let finalizers = in_metadata && k == "finalizers";
            match b.get_mut(k) {
                Some(Value::Array(existing)) if finalizers => {
                    if let Value::Array(new) = pv {
                        let mut merged: Vec<Value> = existing
                            .iter()
                            .filter(|v| !new.contains(v))
                            .cloned()
                            .collect();
                        for v in new {
                            if !merged.contains(v) {
                                merged.push(v.clone());
                            }
                        }
                        *existing = merged;
                    } else {
                        b.insert(k.clone(), pv.clone());
                    }
                }
                Some(bv) if bv.is_object() && pv.is_object() => {
                    walk(bv, pv, depth + 1, depth == 0 && k == "metadata");
                }
                _ => {
                    b.insert(k.clone(), pv.clone());
                }
            }
        }
    }
    walk(base, patch, 0, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn generator_template_wins_where_it_is_set() {
        let g = json!({"metadata": {}, "spec": {"destination": {"namespace": "x-override", "server": ""}, "project": "p"}});
        let b = json!({"metadata": {"name": "n"}, "spec": {"destination": {"namespace": "x", "server": "s"}, "project": "default"}});
        assert_eq!(
            merge_generator_template(&g, &b),
            json!({"metadata": {"name": "n"}, "spec": {"destination": {"namespace": "x-override", "server": "s"}, "project": "p"}})
        );
    }

    #[test]
    fn template_patch_adds_finalizers_and_null_deletes() {
        let mut app = json!({"metadata": {"name": "a", "finalizers": ["resources-finalizer.argocd.argoproj.io"]}, "spec": {"syncPolicy": {"syncOptions": ["A=true"]}, "info": [1]}});
        let patch = json!({"metadata": {"finalizers": ["example.com/cleanup"]}, "spec": {"syncPolicy": {"syncOptions": ["B=true"]}, "info": null}});
        strategic_merge(&mut app, &patch);
        assert_eq!(
            app,
            json!({"metadata": {"name": "a", "finalizers": ["resources-finalizer.argocd.argoproj.io", "example.com/cleanup"]}, "spec": {"syncPolicy": {"syncOptions": ["B=true"]}}})
        );
    }
}
