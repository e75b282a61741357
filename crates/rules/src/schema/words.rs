//! Turning validator problems into findings people can act on: the field's type by name, where
//! a mis-indented field belongs and by how many columns to move it, what YAML made of a value.

use super::hint::{hint, Hint};
use super::nav::{describe_types, Node};
use super::registry::Registry;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{display_path, PathSeg, SourceFile};
use gitops_lint_core::RuleId;
use gitops_lint_syntax::locate::SpanIndex;
use gitops_lint_syntax::pointer::Lookup;
use serde_json::Value;

/// What wording needs: the schemas, the file and its span tree.
pub(crate) struct Context<'a> {
    /// The schemas.
    pub reg: &'a Registry,
    /// The file the problems are in.
    pub file: &'a SourceFile,
    /// The file's span tree, built because it has problems.
    pub index: &'a SpanIndex,
}

/// The path of the object that holds the object at `path` (list indexes skipped).
fn enclosing(path: &[PathSeg]) -> Option<&[PathSeg]> {
    let mut end = path.len();
    while end > 0 && matches!(path[end - 1], PathSeg::Index(_)) {
        end -= 1;
    }
    if end == 0 {
        return None;
    }
    Some(&path[..end - 1])
}

fn join(path: &[PathSeg], key: &str) -> Vec<PathSeg> {
    let mut p = path.to_vec();
    p.push(PathSeg::Key(key.into()));
    p
}

/// What YAML made of a value.
fn reading(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
        Value::Null => "null",
    }
}

impl Context<'_> {
    /// 1-based column of a byte offset.
    fn column(&self, byte: usize) -> usize {
        self.file.line_col(byte).1
    }

    /// Column of the key at `path` (its last step must be a key).
    fn key_column(&self, doc: usize, path: &[PathSeg]) -> Option<usize> {
        let at = self.index.locate(doc, path)?;
        at.exact.then_some(())?;
        Some(self.column(at.key?.0))
    }

    /// Column of the first key of the block mapping at `path` (or inside its first list item).
    fn block_column(&self, doc: usize, path: &[PathSeg], value: &Value) -> Option<usize> {
        let first = match value {
            Value::Object(m) => join(path, m.keys().next()?),
            Value::Array(items) => {
                let mut p = path.to_vec();
                p.push(PathSeg::Index(0));
                join(&p, items.first()?.as_object()?.keys().next()?)
            }
            _ => return None,
        };
        self.key_column(doc, &first)
    }

    /// `requests` is not a field of `spec.template.spec.containers[0]` (a Container); ...
    pub(crate) fn unknown_field(
        &self,
        doc: usize,
        value: &Value,
        def: &str,
        path: &[PathSeg],
        key: &str,
    ) -> Option<Finding> {
        let reg = self.reg;
        let root = Node::of(reg, def)?;
        let node = root.at(reg, path)?;
        let object = value.lookup(&pointer(path))?.as_object()?;
        let parent_path = enclosing(path);
        let parent = parent_path.and_then(|p| root.at(reg, p));
        let file = self.file.id;
        let here = join(path, key);
        let mut message = if path.is_empty() {
            format!("`{key}` is not a top-level field of {}", node.describe(reg))
        } else if node.type_name().is_some() {
            format!(
                "`{key}` is not a field of `{}` ({})",
                display_path(path),
                node.describe(reg)
            )
        } else {
            format!("`{key}` is not a field of `{}`", display_path(path))
        };
        let key_col = self.key_column(doc, &here);
        let mut finding_related = Vec::new();
        let help = match hint(reg, &node, parent.as_ref(), object, key) {
            Some(Hint::Deeper {
                under,
                what,
                present,
                list,
            }) if present || under.len() > 1 => {
                let name = under.join(".");
                let last = under.last().cloned().unwrap_or_default();
                let mut under_path = path.to_vec();
                under_path.extend(under.iter().map(|u| PathSeg::Key(u.as_str().into())));
                let target = if list {
                    format!("in an item of `{name}` ({what})")
                } else {
                    format!("under `{name}` ({what})")
                };
                message.push_str(&format!(
                    "; probably mis-indented: `{key}` belongs {target}"
                ));
                let shown = if present {
                    under_path.clone()
                } else {
                    join(path, &under[0])
                };
                finding_related.push((
                    Location::key(file, doc, shown),
                    format!("`{key}` belongs {target}"),
                ));
                let block = value
                    .lookup(&pointer(&under_path))
                    .and_then(|v| self.block_column(doc, &under_path, v));
                let under_col = self.key_column(doc, &under_path);
                match (key_col, block, under_col) {
                    _ if !present => format!("add `{last}:` under `{}:` and move `{key}` (and its block) under it", under[0]),
                    (Some(k), Some(b), _) if b > k => format!(
                        "indent `{key}` (and its block) by {} columns, to line up with the fields under `{last}:`",
                        b - k
                    ),
                    (Some(k), None, Some(u)) if u + 2 > k && !list => format!(
                        "indent `{key}` (and its block) by {} columns, so it sits under `{last}:`",
                        u + 2 - k
                    ),
                    _ if list => format!("move `{key}` into an item of `{last}:` (`- {key}: ...`)"),
                    _ => format!("move `{key}` under `{last}:`, one level deeper"),
                }
            }
            Some(Hint::Shallower { what }) => {
                let up = parent_path.unwrap_or(&[]);
                let place = if up.is_empty() {
                    "the top level".to_string()
                } else {
                    format!("`{}`", display_path(up))
                };
                message.push_str(&format!(
                    "; probably mis-indented: `{key}` belongs one level up, in {place} ({what})"
                ));
                let up_value = value.lookup(&pointer(up));
                if let Some(first) = up_value
                    .and_then(Value::as_object)
                    .and_then(|m| m.keys().next())
                {
                    finding_related.push((
                        Location::key(file, doc, join(up, first)),
                        format!("`{key}` belongs at this level, beside `{first}`"),
                    ));
                }
                let up_col = up_value.and_then(|v| self.block_column(doc, up, v));
                match (key_col, up_col) {
                    (Some(k), Some(u)) if k > u => format!(
                        "outdent `{key}` (and its block) by {} columns, to line up with the fields of {place}",
                        k - u
                    ),
                    _ => format!("move `{key}` one level up, into {place}"),
                }
            }
            Some(Hint::Deeper {
                under, what, list, ..
            }) => {
                let under = under.join(".");
                message.push_str(&format!(
                    "; probably a missing level: `{key}` is a field of `{under}` ({what}), which is not there"
                ));
                if list {
                    format!("add `{under}:` and put `{key}` in an item under it (`- {key}: ...`)")
                } else {
                    format!("add `{under}:` and indent `{key}` (and its block) under it")
                }
            }
            Some(Hint::Spelling(near)) => {
                message.push_str(&format!("; did you mean `{near}`?"));
                format!("rename it to `{near}`")
            }
            None => {
                let fields = node.field_names();
                message.push_str(
                    "; strict validation (`kubectl apply --validate=strict`, kubeconform -strict) rejects it, and without it the API server drops it silently",
                );
                if fields.len() <= 12 && !fields.is_empty() {
                    format!(
                        "remove it; the fields here are {}",
                        fields
                            .iter()
                            .map(|f| format!("`{f}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                } else {
                    "remove it, or check its name and indentation against the API reference"
                        .to_string()
                }
            }
        };
        let mut finding = Finding::new(
            RuleId::SCHEMA_UNKNOWN_FIELD,
            message,
            Location::key(file, doc, here),
        )
        .with_help(help);
        for (loc, msg) in finding_related {
            finding = finding.with_related(loc, msg);
        }
        Some(finding)
    }

    /// The value's source text (first line, trimmed), for quoting it back.
    fn source_text(&self, doc: usize, path: &[PathSeg]) -> Option<String> {
        let at = self.index.locate(doc, path)?;
        at.exact.then_some(())?;
        let text = self.file.text.get(at.start..at.end)?;
        let first = text.lines().next()?.trim();
        (!first.is_empty() && first.len() <= 60).then(|| first.to_string())
    }

    /// `replicas` in `spec` must be an integer, but YAML reads `"3"` as a string.
    pub(crate) fn invalid_type(
        &self,
        doc: usize,
        value: &Value,
        def: &str,
        path: &[PathSeg],
    ) -> Option<Finding> {
        let reg = self.reg;
        let node = Node::of(reg, def)?.at(reg, path)?;
        let actual = value.lookup(&pointer(path))?;
        let expected = describe_types(&node.types());
        let wanted = node.types();
        let text = self
            .source_text(doc, path)
            .unwrap_or_else(|| actual.to_string());
        let read = reading(actual);
        let n = path.len();
        let meta_map = match (n >= 3).then(|| (&path[n - 3], &path[n - 2], &path[n - 1])) {
            Some((PathSeg::Key(m), PathSeg::Key(kind), PathSeg::Key(name)))
                if m == "metadata" && (kind == "labels" || kind == "annotations") =>
            {
                Some((kind.trim_end_matches('s'), name.as_str()))
            }
            _ => None,
        };
        let scalar = matches!(actual, Value::Bool(_) | Value::Number(_));
        let quoted = format!("\"{}\"", text.trim_matches('\'').trim_matches('"'));
        let (message, help) = if let Some((what, name)) = meta_map {
            let mut m = format!(
                "{what} `{name}` must be a string, but YAML reads `{text}` as {read}; quote it: {quoted}"
            );
            if what == "annotation" {
                m.push_str(". While any annotation value is not a string, Argo CD sees none of this object's annotations (sync waves, hooks and sync options are ignored) until the apply fails");
            }
            (m, format!("write `{name}: {quoted}`"))
        } else {
            let place = match path.split_last() {
                Some((PathSeg::Key(k), rest)) if !rest.is_empty() => {
                    let parent = Node::of(reg, def)?.at(reg, rest)?;
                    match parent.type_name() {
                        Some(_) => format!(
                            "`{k}` in `{}` ({})",
                            display_path(rest),
                            parent.describe(reg)
                        ),
                        None => format!("`{k}` in `{}`", display_path(rest)),
                    }
                }
                _ => format!("`{}`", display_path(path)),
            };
            let message = format!("{place} must be {expected}, but YAML reads `{text}` as {read}");
            let help = if wanted == ["string"] && scalar {
                format!("quote it: {quoted}")
            } else if let Value::String(s) = actual {
                let unquoted_fits = (wanted.contains(&"integer")
                    && s.trim().parse::<i64>().is_ok())
                    || (wanted.contains(&"number") && s.trim().parse::<f64>().is_ok())
                    || (wanted.contains(&"boolean") && matches!(s.trim(), "true" | "false"));
                if unquoted_fits {
                    format!("remove the quotes: {}", s.trim())
                } else {
                    format!("write {expected} here")
                }
            } else {
                format!("write {expected} here; if the value is right, check the indentation of the lines around it")
            };
            (message, help)
        };
        Some(
            Finding::new(
                RuleId::SCHEMA_INVALID_TYPE,
                message,
                Location::value(self.file.id, doc, path.to_vec()),
            )
            .with_help(help),
        )
    }
}

/// A JSON pointer for a path (`~` and `/` escaped).
fn pointer(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        out.push('/');
        match seg {
            PathSeg::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            PathSeg::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}
