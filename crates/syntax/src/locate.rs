//! Turns a node path (`spec.destination.namespace`) into the exact bytes of a YAML file.
//!
//! Loading keeps no spans (it would double the cost of every file); a file that has findings is
//! parsed once more into a span tree, which is cheap because findings are rare. Paths that go
//! through a literal block scalar (`helm.values: |`) continue inside the embedded YAML.

use super::yaml::{drive, literal_to_outer, Flow, Sink};
use gitops_lint_core::source::PathSeg;
use saphyr_parser::{Event, ScalarStyle};
use std::sync::OnceLock;

/// A YAML node with its byte span.
#[derive(Debug)]
enum Node {
    Scalar {
        start: usize,
        end: usize,
        literal: Option<Box<Literal>>,
    },
    Seq {
        start: usize,
        end: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        end: usize,
        entries: Vec<(String, (usize, usize), Node)>,
    },
}

impl Node {
    fn span(&self) -> (usize, usize) {
        match self {
            Node::Scalar { start, end, .. }
            | Node::Seq { start, end, .. }
            | Node::Map { start, end, .. } => (*start, *end),
        }
    }
}

/// A literal block scalar (`values: |`): its text, and the span trees of the YAML inside it.
#[derive(Debug)]
struct Literal {
    text: String,
    /// Built when a path first goes inside, then reused. Why kept: a tenant file's findings
    /// (a ServiceAccount's account id, its namespace, a tier value) mostly point into its
    /// values, and parsing them again for each place was more of the many-findings run's
    /// resolving than parsing the files themselves.
    index: OnceLock<SpanIndex>,
}

/// The span trees of every document in one file.
#[derive(Debug)]
pub struct SpanIndex {
    text: String,
    docs: Vec<Node>,
}

/// Where a path landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Located {
    /// Byte span of the value.
    pub start: usize,
    /// End of the value (exclusive).
    pub end: usize,
    /// Byte span of the key that holds it, when the last step was a mapping key.
    pub key: Option<(usize, usize)>,
    /// Whether the whole path was found (false: this is the deepest ancestor that exists).
    pub exact: bool,
}

impl SpanIndex {
    /// Parses `text` into span trees.
    pub fn new(text: &str) -> Self {
        let mut builder = TreeBuilder::default();
        let mut issues = Vec::new();
        drive(text, &mut builder, &mut issues);
        SpanIndex {
            text: text.to_string(),
            docs: builder.docs,
        }
    }

    /// Finds `path` in document `doc`. Falls back to the deepest existing ancestor.
    pub fn locate(&self, doc: usize, path: &[PathSeg]) -> Option<Located> {
        let node = self.docs.get(doc)?;
        Some(locate_in(&self.text, node, path))
    }
}

fn locate_in(text: &str, root: &Node, path: &[PathSeg]) -> Located {
    let (start, end) = root.span();
    let mut here = Located {
        start,
        end,
        key: None,
        exact: true,
    };
    let mut node = root;
    for (i, seg) in path.iter().enumerate() {
        let next = match (node, seg) {
            (Node::Map { entries, .. }, PathSeg::Key(k)) => entries
                .iter()
                .rev()
                .find(|(name, _, _)| name == k)
                .map(|(_, key, n)| (Some(*key), n)),
            (Node::Seq { items, .. }, PathSeg::Index(ix)) => items.get(*ix).map(|n| (None, n)),
            (
                Node::Scalar {
                    start,
                    literal: Some(literal),
                    ..
                },
                _,
            ) => {
                let inner = literal.text.as_str();
                let index = literal.index.get_or_init(|| SpanIndex::new(inner));
                let found = index.locate(0, &path[i..]);
                return match found {
                    Some(l) => {
                        let map = |o| literal_to_outer(text, *start, inner, o);
                        Located {
                            start: map(l.start),
                            end: map(l.end).max(map(l.start)),
                            key: l.key.map(|(a, b)| (map(a), map(b))),
                            exact: l.exact,
                        }
                    }
                    None => Located {
                        exact: false,
                        ..here
                    },
                };
            }
            _ => None,
        };
        match next {
            Some((key, n)) => {
                let (start, end) = n.span();
                here = Located {
                    start,
                    end,
                    key,
                    exact: true,
                };
                node = n;
            }
            None => {
                here.exact = false;
                return here;
            }
        }
    }
    here
}

enum Open {
    Seq(usize, Vec<Node>),
    Map(
        usize,
        Vec<(String, (usize, usize), Node)>,
        Option<(String, (usize, usize))>,
    ),
}

#[derive(Default)]
struct TreeBuilder {
    stack: Vec<Open>,
    docs: Vec<Node>,
    root: Option<Node>,
}

impl TreeBuilder {
    /// Whether the next node is a mapping key. Why it matters: only a key needs its text as a
    /// `String`; resolving every scalar was most of the allocations of this builder.
    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(Open::Map(_, _, None)))
    }

    fn push(&mut self, node: Node, key_text: Option<String>) {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq(_, items)) => items.push(node),
            Some(Open::Map(_, entries, pending)) => match pending.take() {
                Some((k, span)) => entries.push((k, span, node)),
                None => *pending = Some((key_text.unwrap_or_default(), node.span())),
            },
        }
    }
}

impl<'a> Sink<'a> for TreeBuilder {
    fn event(&mut self, ev: Event<'a>, start: usize, end: usize) -> Flow {
        match ev {
            Event::DocumentStart(_) => self.root = None,
            Event::DocumentEnd => {
                self.stack.clear();
                self.docs.push(self.root.take().unwrap_or(Node::Scalar {
                    start,
                    end,
                    literal: None,
                }));
            }
            Event::Scalar(text, style, _, _) => {
                let literal = (style == ScalarStyle::Literal).then(|| {
                    Box::new(Literal {
                        text: text.to_string(),
                        index: OnceLock::new(),
                    })
                });
                // Keys are compared as the loader stores them: resolved, then stringified.
                let key = self.expecting_key().then(|| {
                    super::scalar::key_string(if style == ScalarStyle::Plain {
                        super::scalar::resolve_plain(&text)
                    } else {
                        serde_json::Value::String(text.into_owned())
                    })
                });
                self.push(
                    Node::Scalar {
                        start,
                        end,
                        literal,
                    },
                    key,
                );
            }
            Event::Alias(_) => self.push(
                Node::Scalar {
                    start,
                    end,
                    literal: None,
                },
                None,
            ),
            Event::SequenceStart(..) => {
                if self.stack.len() >= super::yaml::MAX_DEPTH {
                    return Flow::StopFile;
                }
                self.stack.push(Open::Seq(start, Vec::new()));
            }
            Event::MappingStart(..) => {
                if self.stack.len() >= super::yaml::MAX_DEPTH {
                    return Flow::StopFile;
                }
                self.stack.push(Open::Map(start, Vec::new(), None));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(s, items)) => Node::Seq {
                        start: s,
                        end,
                        items,
                    },
                    Some(Open::Map(s, entries, _)) => Node::Map {
                        start: s,
                        end,
                        entries,
                    },
                    None => return Flow::Continue,
                };
                let key = self.expecting_key().then(|| "<complex key>".to_string());
                self.push(node, key);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Flow::Continue
    }

    fn abort_document(&mut self) {
        self.stack.clear();
        self.root = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gitops_lint_core::source::key_path;

    #[test]
    fn locates_values_and_keys() {
        let text = "a: 1\n---\nspec:\n  destination:\n    namespace: tenant-3\n";
        let index = SpanIndex::new(text);
        let l = index
            .locate(1, &key_path(&["spec", "destination", "namespace"]))
            .unwrap_or_else(|| panic!("not found"));
        assert!(l.exact);
        assert_eq!(&text[l.start..l.end], "tenant-3");
        let (ks, ke) = l.key.unwrap_or_default();
        assert_eq!(&text[ks..ke], "namespace");
    }

    #[test]
    fn locates_inside_literal_values() {
        let text = "spec:\n  helm:\n    values: |\n      apps:\n        producer:\n          enabled: false\n";
        let index = SpanIndex::new(text);
        let l = index
            .locate(
                0,
                &key_path(&["spec", "helm", "values", "apps", "producer", "enabled"]),
            )
            .unwrap_or_else(|| panic!("not found"));
        assert!(l.exact);
        assert_eq!(&text[l.start..l.end], "false");
    }

    #[test]
    fn a_literal_is_parsed_once_for_every_path_inside_it() {
        let text = "spec:\n  helm:\n    values: |\n      accountId: \"123\"\n      apps:\n        producer:\n          enabled: false\n";
        let index = SpanIndex::new(text);
        // The literal's kept span trees, by address (none until a path went inside).
        let inner_index = |index: &SpanIndex| {
            let mut node = &index.docs[0];
            for key in ["spec", "helm", "values"] {
                node = match node {
                    Node::Map { entries, .. } => entries
                        .iter()
                        .find(|(name, _, _)| name == key)
                        .map(|(_, _, n)| n)
                        .unwrap_or_else(|| panic!("no `{key}`")),
                    other => panic!("not a mapping: {other:?}"),
                };
            }
            match node {
                Node::Scalar {
                    literal: Some(l), ..
                } => l.index.get().map(|i| i as *const SpanIndex),
                other => panic!("not a literal: {other:?}"),
            }
        };
        assert!(
            inner_index(&index).is_none(),
            "parsed before any path went inside"
        );
        let at = |keys: &[&str]| {
            let l = index
                .locate(0, &key_path(keys))
                .unwrap_or_else(|| panic!("{keys:?} not found"));
            assert!(l.exact, "{keys:?}");
            &text[l.start..l.end]
        };
        assert_eq!(at(&["spec", "helm", "values", "accountId"]), "\"123\"");
        let first = inner_index(&index);
        assert!(first.is_some(), "kept after the first path");
        assert_eq!(
            at(&["spec", "helm", "values", "apps", "producer", "enabled"]),
            "false"
        );
        assert_eq!(
            inner_index(&index),
            first,
            "the same span trees, not a new parse"
        );
    }

    #[test]
    fn missing_path_falls_back_to_deepest_ancestor() {
        let text = "spec:\n  project: x\n";
        let index = SpanIndex::new(text);
        let l = index
            .locate(0, &key_path(&["spec", "nothing", "here"]))
            .unwrap_or_else(|| panic!("not found"));
        assert!(!l.exact);
        assert!(text[l.start..l.end].contains("project"));
    }
}
