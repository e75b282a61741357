//! Walking a schema alongside a document: which schema (and which named type) applies at a
//! node path. Used to word findings; the validator itself only says *that* something is wrong.

use super::registry::{ref_name, Registry};
use gitops_lint_core::source::PathSeg;
use serde_json::Value;

/// A schema node, with the name of the definition it came from (when it was a `$ref`).
#[derive(Clone, Copy, Debug)]
pub struct Node<'a> {
    /// The schema, `$ref`s already followed.
    pub schema: &'a Value,
    /// The definition name (`io.k8s.api.core.v1.Container`, `argocd.ApplicationSpec`).
    pub def: Option<&'a str>,
}

impl<'a> Node<'a> {
    /// The node of a definition.
    pub fn of(reg: &'a Registry, def: &'a str) -> Option<Node<'a>> {
        Node::resolve(
            reg,
            Node {
                schema: reg.definition(def)?,
                def: Some(def),
            },
        )
    }

    /// Follows `$ref`s (a few hops at most: refs to refs do not occur in our schemas).
    fn resolve(reg: &'a Registry, mut node: Node<'a>) -> Option<Node<'a>> {
        for _ in 0..8 {
            match node.schema.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = ref_name(r);
                    node = Node {
                        schema: reg.definition(name)?,
                        def: Some(name),
                    };
                }
                None => return Some(node),
            }
        }
        None
    }

    fn sub(reg: &'a Registry, schema: &'a Value) -> Option<Node<'a>> {
        Node::resolve(reg, Node { schema, def: None })
    }

    /// The schema of property `key`: a declared property, else the map's value schema.
    pub fn property(&self, reg: &'a Registry, key: &str) -> Option<Node<'a>> {
        if let Some(p) = self.declared(reg, key) {
            return Some(p);
        }
        match self.schema.get("additionalProperties") {
            Some(s @ Value::Object(_)) => Node::sub(reg, s),
            _ => None,
        }
    }

    /// The schema of a declared property only (not a map's value schema).
    pub fn declared(&self, reg: &'a Registry, key: &str) -> Option<Node<'a>> {
        Node::sub(reg, self.schema.get("properties")?.get(key)?)
    }

    /// The schema of a list's items.
    pub fn items(&self, reg: &'a Registry) -> Option<Node<'a>> {
        Node::sub(reg, self.schema.get("items")?)
    }

    /// One step along a document path.
    pub fn step(&self, reg: &'a Registry, seg: &PathSeg) -> Option<Node<'a>> {
        match seg {
            PathSeg::Key(k) => self.property(reg, k),
            PathSeg::Index(_) => self.items(reg),
        }
    }

    /// The node at `path` below this one.
    pub fn at(&self, reg: &'a Registry, path: &[PathSeg]) -> Option<Node<'a>> {
        path.iter().try_fold(*self, |node, seg| node.step(reg, seg))
    }

    /// Declared property names, in schema order.
    pub(crate) fn field_names(&self) -> Vec<&'a str> {
        self.schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// The JSON types allowed here, without `null` (empty: any).
    pub fn types(&self) -> Vec<&'a str> {
        match self.schema.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null")
                .collect(),
            _ => Vec::new(),
        }
    }

    /// How people call this type: `Container`, `ResourceRequirements`, `ApplicationSpec`.
    pub fn type_name(&self) -> Option<&'a str> {
        self.def.map(|d| d.rsplit('.').next().unwrap_or(d))
    }

    /// `a Container`, `a list of ContainerPort`, or `an object`: for messages.
    pub fn describe(&self, reg: &'a Registry) -> String {
        if let Some(name) = self.type_name() {
            return format!("{} {name}", article(name));
        }
        if self.types() == ["array"] {
            if let Some(name) = self.items(reg).and_then(|i| i.type_name()) {
                return format!("a list of {name}");
            }
        }
        describe_types(&self.types())
    }
}

/// `a` or `an`.
pub(crate) fn article(word: &str) -> &'static str {
    match word.chars().next().map(|c| c.to_ascii_lowercase()) {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

/// `a string`, `a string or a number`, ...
pub(crate) fn describe_types(types: &[&str]) -> String {
    if types.is_empty() {
        return "any value".to_string();
    }
    let words: Vec<&str> = types
        .iter()
        .map(|t| match *t {
            "string" => "a string",
            "integer" => "an integer",
            "number" => "a number",
            "boolean" => "a boolean (true or false)",
            "array" => "a list",
            "object" => "a mapping",
            _ => "a value",
        })
        .collect();
    words.join(" or ")
}
