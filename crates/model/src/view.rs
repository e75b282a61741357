//! Documents seen through field paths written once: the same path reads a field and locates it,
//! so a check never spells a path twice (once as `"/spec/path"` to read, once as
//! `["spec", "path"]` to point at it) and the two can never drift apart.

use crate::{DocRef, World};
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::{key_path, PathSeg};
use serde_json::Value;

/// One YAML document of the World, with where it is.
#[derive(Clone, Copy, Debug)]
pub struct Doc<'w> {
    /// Which document.
    pub at: DocRef,
    /// Its value.
    pub value: &'w Value,
}

impl<'w> Doc<'w> {
    /// The field at `path` (mapping keys from the document root).
    pub fn get(&self, path: &[&str]) -> Option<&'w Value> {
        path.iter().try_fold(self.value, |v, key| v.get(key))
    }

    /// The string field at `path`.
    pub fn str(&self, path: &[&str]) -> Option<&'w str> {
        self.get(path).and_then(Value::as_str)
    }

    /// The list field at `path`.
    pub fn list(&self, path: &[&str]) -> Option<&'w Vec<Value>> {
        self.get(path).and_then(Value::as_array)
    }

    /// Where the value at `path` is written.
    pub fn locate(&self, path: &[&str]) -> Location {
        Location::value(self.at.file, self.at.doc, key_path(path))
    }

    /// Where the value at `path` and then `rest` (list indexes, deeper keys) is written.
    pub fn locate_below(&self, path: &[&str], rest: &[PathSeg]) -> Location {
        let mut full = key_path(path);
        full.extend_from_slice(rest);
        Location::value(self.at.file, self.at.doc, full)
    }
}

impl World {
    /// The documents of one kind, in file order, as [`Doc`] views.
    pub fn docs_of_kind<'w>(&'w self, kind: &str) -> impl Iterator<Item = Doc<'w>> + 'w {
        self.kind(kind).iter().filter_map(move |at| {
            self.doc(*at).map(|d| Doc {
                at: *at,
                value: &d.value,
            })
        })
    }
}

/// The value at a node path of a document (`spec.sources[0].helm`), if there is one.
pub fn value_at<'v>(value: &'v Value, path: &[PathSeg]) -> Option<&'v Value> {
    path.iter().try_fold(value, |node, seg| match seg {
        PathSeg::Key(k) => node.get(k.as_str()),
        PathSeg::Index(i) => node.get(i),
    })
}
