//! The World: one model of everything loaded from every repository, with the indexes rules
//! need so that no rule scans all resources inside a loop over all resources.

pub mod tenancy;

use crate::parse::yaml::YamlDoc;
use crate::source::{FileId, SourceFile};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

pub use tenancy::{Pool, Tenant};

/// One repository root given on the command line.
#[derive(Debug)]
pub struct Repo {
    /// Where it is on disk.
    pub root: PathBuf,
    /// How the user wrote it (prefix of every displayed path).
    pub display: String,
    /// Every directory below the root, relative and `/`-separated.
    pub dirs: BTreeSet<String>,
    /// Every file below the root, relative and `/`-separated (the files Argo CD would see).
    pub files: BTreeSet<String>,
}

/// A reference to one YAML document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocRef {
    /// The file.
    pub file: FileId,
    /// Its index among the file's documents.
    pub doc: usize,
}

/// Everything the checks look at. Built once; checks only read it.
#[derive(Debug, Default)]
pub struct World {
    /// The repositories.
    pub repos: Vec<Repo>,
    /// Every file read, indexed by [`FileId`].
    pub files: Vec<SourceFile>,
    /// YAML documents per file (empty for files that are not YAML or did not parse).
    pub yaml: Vec<Vec<YamlDoc>>,
    /// JSON data files (`tenants.json`) that parsed.
    pub json: HashMap<FileId, Value>,
    /// Documents by `kind` (`Application`, `ApplicationSet`, `HelmRelease`, ...).
    pub by_kind: HashMap<String, Vec<DocRef>>,
    /// Tenants found in the apps-repo (tenant files and tier templates).
    pub tenants: Vec<Tenant>,
    /// Pool environments (shared releases), by name.
    pub pools: Vec<Pool>,
}

impl World {
    /// The file with this id.
    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    /// The document a reference points to.
    pub fn doc(&self, r: DocRef) -> Option<&YamlDoc> {
        self.yaml.get(r.file.0 as usize)?.get(r.doc)
    }

    /// Documents of one kind, in file order.
    pub fn kind(&self, kind: &str) -> &[DocRef] {
        self.by_kind.get(kind).map_or(&[], Vec::as_slice)
    }

    /// Indexes documents by kind. Called once after loading.
    pub fn index_kinds(&mut self) {
        let mut by_kind: HashMap<String, Vec<DocRef>> = HashMap::new();
        for (i, docs) in self.yaml.iter().enumerate() {
            for (d, doc) in docs.iter().enumerate() {
                if let Some(kind) = doc.value.get("kind").and_then(Value::as_str) {
                    by_kind.entry(kind.to_string()).or_default().push(DocRef {
                        file: FileId(i as u32),
                        doc: d,
                    });
                }
            }
        }
        self.by_kind = by_kind;
    }
}
