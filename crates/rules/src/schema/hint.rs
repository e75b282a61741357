//! Why a field may be unknown: it belongs one level deeper (under a sibling, as in `requests`
//! beside `resources`), one level shallower (in the enclosing object), or it is misspelt.

use super::nav::Node;
use super::registry::Registry;
use serde_json::{Map, Value};

/// What probably went wrong with an unknown field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Hint {
    /// The field belongs under `under`, a field of the same object. `present` says whether the
    /// object has that field already; `list` whether it is a list (the field goes in an item).
    Deeper {
        /// The field it belongs under: one field of this object, or a field of one of its
        /// fields (`["syncPolicy", "automated"]`).
        under: Vec<String>,
        /// How that field's type is called (`a ResourceRequirements`).
        what: String,
        /// The object already has the whole `under` path.
        present: bool,
        /// `under` is a list of objects.
        list: bool,
    },
    /// The field belongs to the enclosing object (`what` describes it).
    Shallower {
        /// How the enclosing object's type is called.
        what: String,
    },
    /// A near spelling of a real field.
    Spelling(String),
}

/// Finds the most likely reason for `key` being unknown in `object` (whose schema is `node`);
/// `parent` is the schema of the enclosing object, if any.
pub fn hint(
    reg: &Registry,
    node: &Node,
    parent: Option<&Node>,
    object: &Map<String, Value>,
    key: &str,
) -> Option<Hint> {
    // A sibling that is there beats the enclosing object, which beats a field that is not
    // there at all: the first is what a mis-indented line most often looks like.
    deeper(reg, node, object, key, true)
        .or_else(|| shallower(reg, parent, key))
        .or_else(|| two_deeper(reg, node, object, key))
        .or_else(|| deeper(reg, node, object, key, false))
        .or_else(|| spelling(node, key).map(Hint::Spelling))
}

/// The object schema a field's value would have to match: itself, or its list's items.
fn object_schema<'a>(reg: &'a Registry, node: &Node<'a>) -> Option<(Node<'a>, bool)> {
    if node.types().contains(&"array") {
        return node.items(reg).map(|i| (i, true));
    }
    Some((*node, false))
}

fn deeper(
    reg: &Registry,
    node: &Node,
    object: &Map<String, Value>,
    key: &str,
    is_present: bool,
) -> Option<Hint> {
    // Present siblings in document order, or absent fields in schema order.
    let fields: Vec<&str> = if is_present {
        object.keys().map(String::as_str).collect()
    } else {
        node.field_names()
            .into_iter()
            .filter(|f| !object.contains_key(*f))
            .collect()
    };
    for field in fields {
        let Some(child) = node.declared(reg, field) else {
            continue;
        };
        let Some((target, list)) = object_schema(reg, &child) else {
            continue;
        };
        if target.declared(reg, key).is_some() {
            return Some(Hint::Deeper {
                under: vec![field.to_string()],
                what: child.describe(reg),
                present: is_present,
                list,
            });
        }
    }
    None
}

/// Two levels down, through a field that is there: `selfHeal` in an Application's `spec`
/// belongs under `syncPolicy.automated`.
fn two_deeper(reg: &Registry, node: &Node, object: &Map<String, Value>, key: &str) -> Option<Hint> {
    for (field, value) in object {
        let Some(child) = node.declared(reg, field) else {
            continue;
        };
        let Some(inner) = value.as_object() else {
            continue;
        };
        if child.type_name().is_none() {
            continue;
        }
        // Fields that are there first, then the others in schema order.
        let mut names: Vec<&str> = inner.keys().map(String::as_str).collect();
        names.extend(
            child
                .field_names()
                .into_iter()
                .filter(|f| !inner.contains_key(*f)),
        );
        for name in names {
            let Some(grandchild) = child.declared(reg, name) else {
                continue;
            };
            let Some((target, list)) = object_schema(reg, &grandchild) else {
                continue;
            };
            if target.type_name().is_some() && target.declared(reg, key).is_some() {
                return Some(Hint::Deeper {
                    under: vec![field.clone(), name.to_string()],
                    what: grandchild.describe(reg),
                    present: inner.contains_key(name),
                    list,
                });
            }
        }
    }
    None
}

fn shallower(reg: &Registry, parent: Option<&Node>, key: &str) -> Option<Hint> {
    let parent = parent?;
    parent.declared(reg, key)?;
    Some(Hint::Shallower {
        what: parent.describe(reg),
    })
}

/// The closest field name within edit distance 2 (case-insensitive match counts as 0).
pub fn spelling(node: &Node, key: &str) -> Option<String> {
    let lower = key.to_ascii_lowercase();
    node.field_names()
        .into_iter()
        .map(|f| (distance(&lower, &f.to_ascii_lowercase()), f))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f.to_string())
}

/// Levenshtein distance, with adjacent transpositions counting as one edit.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
        }
        prev2 = std::mem::replace(&mut prev, cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::super::registry::registry;
    use super::*;
    use serde_json::json;

    fn container() -> Node<'static> {
        Node::of(registry(), "io.k8s.api.core.v1.Container").unwrap_or_else(|| panic!("Container"))
    }

    fn pod_spec() -> Node<'static> {
        Node::of(registry(), "io.k8s.api.core.v1.PodSpec").unwrap_or_else(|| panic!("PodSpec"))
    }

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn requests_beside_resources_belongs_under_resources() {
        let c = obj(json!({"name": "app", "resources": {}, "requests": {"cpu": 1}}));
        let h = hint(registry(), &container(), Some(&pod_spec()), &c, "requests");
        assert_eq!(
            h,
            Some(Hint::Deeper {
                under: vec!["resources".into()],
                what: "a ResourceRequirements".into(),
                present: true,
                list: false
            })
        );
    }

    #[test]
    fn requests_without_resources_still_points_at_resources() {
        let c = obj(json!({"name": "app", "limits": {"cpu": 1}}));
        let h = hint(registry(), &container(), Some(&pod_spec()), &c, "limits");
        assert!(
            matches!(h, Some(Hint::Deeper { ref under, present: false, .. }) if under == &["resources"])
        );
    }

    #[test]
    fn container_port_belongs_in_a_ports_item() {
        let c = obj(json!({"name": "app", "ports": [{"name": "http"}], "containerPort": 80}));
        let h = hint(
            registry(),
            &container(),
            Some(&pod_spec()),
            &c,
            "containerPort",
        );
        assert!(
            matches!(h, Some(Hint::Deeper { ref under, list: true, .. }) if under == &["ports"])
        );
    }

    #[test]
    fn self_heal_in_an_application_spec_belongs_two_levels_down() {
        let spec = Node::of(registry(), "argocd.ApplicationSpec").unwrap_or_else(|| panic!("spec"));
        let s = obj(
            json!({"project": "p", "syncPolicy": {"automated": {"prune": true}}, "selfHeal": true}),
        );
        let h = hint(registry(), &spec, None, &s, "selfHeal");
        assert!(
            matches!(h, Some(Hint::Deeper { ref under, present: true, .. }) if under == &["syncPolicy", "automated"]),
            "{h:?}"
        );
    }

    #[test]
    fn volumes_in_a_container_belong_one_level_up() {
        let c = obj(json!({"name": "app", "volumes": []}));
        let h = hint(registry(), &container(), Some(&pod_spec()), &c, "volumes");
        assert_eq!(
            h,
            Some(Hint::Shallower {
                what: "a PodSpec".into()
            })
        );
    }

    #[test]
    fn typo_gets_a_spelling_suggestion() {
        let c = obj(json!({"name": "app", "imagePulPolicy": "Always"}));
        let h = hint(
            registry(),
            &container(),
            Some(&pod_spec()),
            &c,
            "imagePulPolicy",
        );
        assert_eq!(h, Some(Hint::Spelling("imagePullPolicy".into())));
        assert_eq!(spelling(&container(), "Image"), Some("image".into()));
        assert_eq!(spelling(&container(), "zzzzzzzz"), None);
    }

    #[test]
    fn distance_counts_edits_and_transpositions() {
        assert_eq!(distance("abc", "abc"), 0);
        assert_eq!(distance("abc", "acb"), 1);
        assert_eq!(distance("imagepulpolicy", "imagepullpolicy"), 1);
        assert_eq!(distance("a", "abcdef"), 3);
    }
}
