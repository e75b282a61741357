//! The embedded CRD catalog: the CustomResourceDefinitions of the GitOps stack (Argo CD,
//! Rollouts, Workflows, Events, Image Updater, the Flux controllers, Flux Operator,
//! tofu-controller, Karpenter, External Secrets), pinned to one release each, for custom
//! resources whose CRD the linted repositories do not commit.
//!
//! `schemas/catalog/` is written by `tools/crd-catalog-gen` (see `SOURCES.md` there for each
//! source's tag, commit and URL): `catalog.bin` holds one deflated block per CRD, inflating to
//! `{"group/version/Kind": openAPIV3Schema}` for every served version; `index.json` maps each
//! `group/version/Kind` to its block. Nothing is parsed at startup: the index is read the first
//! time a document's kind has no other schema, and a block is inflated and converted (by
//! `crd.rs`, so catalog kinds are as strict as a committed CRD) only for the kinds a run uses.
//!
//! Precedence: the hand-written Argo CD / Flux schemas first (they accept template syntax),
//! then the repository's own CRDs (and `schemas:` files), then the catalog.

use super::crd::{self, CrdSchema};
use super::registry::Registry;
use gitops_lint_model::World;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

/// The deflated blocks, back to back.
static BLOCKS: &[u8] = include_bytes!("../../../../schemas/catalog/catalog.bin");
/// The index (uncompressed, a few kilobytes).
static INDEX: &str = include_str!("../../../../schemas/catalog/index.json");

/// Prefix of a catalog kind's definition name (a committed CRD's is `crd.`).
const DEF_PREFIX: &str = "catalog.";

/// Where one upstream CRD set came from.
#[derive(Debug, Deserialize)]
pub(crate) struct Source {
    /// The project (`Argo Workflows`).
    pub project: String,
    /// Its release tag (`v4.1.2`).
    pub tag: String,
    /// The folder of CRDs at that tag, on GitHub.
    pub url: String,
}

/// `index.json`.
#[derive(Debug, Deserialize)]
struct Index {
    sources: Vec<Source>,
    /// `[source, offset, length]` of each block in `catalog.bin`.
    blocks: Vec<(usize, usize, usize)>,
    /// `group/version/Kind` -> block.
    kinds: HashMap<String, usize>,
    /// `Kind` -> its `group/version/Kind` keys (built after parsing).
    #[serde(skip)]
    by_name: HashMap<String, Vec<String>>,
}

/// The index, parsed on first use: a few kilobytes of JSON, tens of microseconds (`None`: it
/// did not parse, which a unit test rules out).
fn index() -> Option<&'static Index> {
    static PARSED: OnceLock<Option<Index>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            let mut index: Index = serde_json::from_str(INDEX).ok()?;
            for key in index.kinds.keys() {
                if let Some((_, kind)) = key.rsplit_once('/') {
                    index
                        .by_name
                        .entry(kind.to_string())
                        .or_default()
                        .push(key.clone());
                }
            }
            Some(index)
        })
        .as_ref()
}

/// Whether `base` describes a `group/version/Kind` key.
fn in_base(base: &Registry, key: &str) -> bool {
    key.rsplit_once('/')
        .is_some_and(|(api, kind)| base.kind(api, kind).is_some())
}

/// Catalog schemas for the kinds the World uses that neither `base` (the embedded hand-written
/// schemas) nor `crds` (the repositories' own CRDs, which override the catalog) describe.
pub(crate) fn schemas(world: &World, base: &Registry, crds: &[CrdSchema]) -> Vec<CrdSchema> {
    let Some(index) = index() else {
        return Vec::new();
    };
    let mut wanted: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for (kind, docs) in &world.by_kind {
        // Only kind names the catalog has, and not those whose every catalog version the
        // hand-written schemas already describe (Argo CD's Application, Flux's HelmRelease):
        // the documents of the commonest kinds are not even looked at.
        let Some(keys) = index.by_name.get(kind) else {
            continue;
        };
        if keys.iter().all(|k| in_base(base, k)) {
            continue;
        }
        let mut versions: BTreeSet<&str> = BTreeSet::new();
        for at in docs {
            if let Some(api) = world
                .doc(*at)
                .and_then(|d| d.value.get("apiVersion"))
                .and_then(Value::as_str)
            {
                versions.insert(api);
            }
        }
        for api in versions {
            let key = format!("{api}/{kind}");
            let Some(&block) = index.kinds.get(&key) else {
                continue;
            };
            if base.kind(api, kind).is_some() || crds.iter().any(|c| c.key == key) {
                continue;
            }
            wanted.entry(block).or_default().insert(key);
        }
    }
    let mut out = Vec::new();
    // The catalog's own count against `cel::MAX_RULES` (its rules are ours, not the
    // repository's; the budget guards against a hostile committed CRD).
    let mut rules = 0;
    // Blocks in index order and keys sorted: the output does not depend on hash order.
    for (block, keys) in wanted {
        let Some(schemas) = inflate(index, block) else {
            continue;
        };
        for key in keys {
            let Some(schema) = schemas.get(&key) else {
                continue;
            };
            let Some((api, kind)) = key.rsplit_once('/') else {
                continue;
            };
            let def = format!("{DEF_PREFIX}{}.{kind}", api.replace('/', "."));
            // Catalog CRDs carry the CEL rules the API server enforces, as committed ones do;
            // the rule's findings name the release they come from.
            let label = match source_of(&def) {
                Some(s) => format!(
                    "{kind} ({api}) of {} {} in the embedded catalog",
                    s.project, s.tag
                ),
                None => format!("{kind} ({api}) in the embedded catalog"),
            };
            out.push(CrdSchema {
                cel: super::cel::collect(schema, &label, crd::MAX_DEPTH, &mut rules)
                    .into_iter()
                    .map(super::cel::Validation::quiet)
                    .collect(),
                schema: crd::root(schema),
                def,
                key,
            });
        }
    }
    out
}

/// One block, inflated and parsed (`None`: out of range or corrupt; a unit test inflates all).
fn inflate(index: &Index, block: usize) -> Option<Map<String, Value>> {
    let &(_, offset, len) = index.blocks.get(block)?;
    let bytes = BLOCKS.get(offset..offset.checked_add(len)?)?;
    let json = miniz_oxide::inflate::decompress_to_vec(bytes).ok()?;
    match serde_json::from_slice(&json).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The catalog source a definition came from, if it is a catalog kind's.
pub(crate) fn source_of(def: &str) -> Option<&'static Source> {
    let rest = def.strip_prefix(DEF_PREFIX)?;
    // `catalog.<group>.<version>.<Kind>` back to `group/version/Kind`.
    let (api, kind) = rest.rsplit_once('.')?;
    let (group, version) = api.rsplit_once('.')?;
    let index = index()?;
    let block = index.kinds.get(&format!("{group}/{version}/{kind}"))?;
    index.sources.get(index.blocks.get(*block)?.0)
}

/// What a finding from a catalog schema adds: which release the schema is from, and how to use
/// the cluster's own CRD instead (the user's controller may be older or newer than the pin).
pub(crate) fn provenance(def: &str) -> Option<String> {
    let s = source_of(def)?;
    Some(format!(
        "checked against the CRD of {} {} from gitops-lint's embedded catalog ({}); if your cluster runs another version, commit its CustomResourceDefinition in a linted folder or list the CRD file under `schemas:` in .gitops-lint.yaml, and that one is used instead",
        s.project, s.tag, s.url
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_inflates_and_every_kind_converts_and_compiles() {
        let index = index().expect("index.json parses");
        assert!(index.kinds.len() >= 70, "{}", index.kinds.len());
        let mut defs = Vec::new();
        for (block, &(source, offset, len)) in index.blocks.iter().enumerate() {
            assert!(source < index.sources.len());
            assert!(offset + len <= BLOCKS.len());
            let schemas = inflate(index, block).expect("inflates");
            for (key, schema) in schemas {
                assert_eq!(index.kinds.get(&key), Some(&block), "{key}");
                let (api, kind) = key.rsplit_once('/').expect("key");
                let mut rules = 0;
                defs.push(CrdSchema {
                    def: format!("{DEF_PREFIX}{}.{kind}", api.replace('/', ".")),
                    // Every catalog CEL rule goes through the parser once here.
                    cel: super::super::cel::collect(&schema, &key, crd::MAX_DEPTH, &mut rules),
                    schema: crd::root(&schema),
                    key,
                });
            }
        }
        assert_eq!(defs.len(), index.kinds.len());
        let names: Vec<(String, String)> = defs
            .iter()
            .map(|d| (d.key.clone(), d.def.clone()))
            .collect();
        let reg = Registry::with_crds(super::super::registry::registry(), defs);
        for (key, def) in names {
            let (api, kind) = key.rsplit_once('/').expect("key");
            // Kinds the hand-written schemas cover resolve to those; the rest to the catalog.
            let name = reg.kind(api, kind).expect("known");
            assert!(reg.validator(name).is_some(), "{key} does not compile");
            if name == def {
                let note = provenance(&def).expect("a source");
                assert!(note.contains("https://github.com/"), "{note}");
            }
        }
    }

    #[test]
    fn provenance_names_the_release() {
        let note = provenance("catalog.karpenter.sh.v1.NodePool").expect("in the catalog");
        assert!(note.contains("Karpenter"), "{note}");
        assert!(note.contains("`schemas:`"), "{note}");
        assert_eq!(provenance("crd.karpenter.sh.v1.NodePool"), None);
        assert_eq!(provenance("catalog.example.com.v1.Widget"), None);
    }
}
