//! The rule catalog: one Markdown page per rule under `rules/`, embedded at build time.
//! `rules` and `explain` read it, and it holds each rule's default level.

use crate::finding::Level;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

pub use embedded::POLICIES;

/// One rule page.
#[derive(Clone, Debug)]
pub struct RulePage {
    /// `family/name`.
    pub id: String,
    /// Default level.
    pub level: Level,
    /// One-line summary.
    pub summary: String,
    /// The whole page (front matter included).
    pub text: &'static str,
    /// Where the page lives in the repo (`rules/tier/app-enablement.md`).
    pub source: &'static str,
}

/// Parses a page's front matter; `None` when it is missing or incomplete.
fn parse_page(source: &'static str, text: &'static str) -> Option<RulePage> {
    let body = text.strip_prefix("---\n")?;
    let end = body.find("\n---")?;
    let mut id = None;
    let mut level = None;
    let mut summary = None;
    for line in body[..end].lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "id" => id = Some(v),
            "level" => level = Level::parse(&v),
            "summary" => summary = Some(v),
            _ => {}
        }
    }
    Some(RulePage {
        id: id?,
        level: level?,
        summary: summary?,
        text,
        source,
    })
}

/// Every rule page, sorted by id. Pages with broken front matter are skipped (a test catches them).
pub fn pages() -> Vec<RulePage> {
    let mut pages: Vec<RulePage> = embedded::PAGES
        .iter()
        .filter_map(|(src, text)| parse_page(src, text))
        .collect();
    pages.sort_by(|a, b| a.id.cmp(&b.id));
    pages
}

/// The page of one rule.
pub fn page(id: &str) -> Option<RulePage> {
    pages().into_iter().find(|p| p.id == id)
}

/// Embedded page paths whose front matter does not parse (for the catalog test).
pub fn broken_pages() -> Vec<&'static str> {
    embedded::PAGES
        .iter()
        .filter(|(src, text)| parse_page(src, text).is_none())
        .map(|(src, _)| *src)
        .collect()
}

/// Every rule id a native check can emit. Rego rules are found by scanning the policies.
pub const NATIVE_RULES: &[&str] = &[
    "yaml/syntax",
    "yaml/continued-list-item",
    "yaml/continued-mapping-value",
    "yaml/indentation",
    "yaml/duplicate-key",
    "yaml/ambiguous-scalar",
    "yaml/tab",
    "yaml/bom-or-encoding",
    "json/syntax",
    "terraform/syntax",
    "argocd/appset-path-matches-nothing",
    "argocd/app-source-xor-sources",
    "argocd/app-destination-server-xor-name",
    "argocd/app-path-missing",
    "argocd/app-sync-option-unknown",
    "argocd/app-value-file-missing",
    "argocd/app-project-missing",
    "argocd/sync-option-wrong-place",
    "argocd/project-source-not-permitted",
    "argocd/project-destination-not-permitted",
    "argocd/project-kind-not-permitted",
    "argocd/annotation-sync-wave",
    "argocd/annotation-hook",
    "argocd/annotation-sync-options",
    "image-updater/image-list",
    "image-updater/update-strategy",
    "image-updater/write-back-method",
    "image-updater/empty-image-part",
    "flux/source-missing",
    "flux/path-missing",
    "flux/depends-on-missing",
    "argocd/appset-exclude-shadows-include",
    "argocd/appset-leading-slash",
    "argocd/appset-param-unknown",
    "argocd/appset-path-index-out-of-range",
    "argocd/appset-duplicate-name",
    "argocd/appset-invalid-name",
    "argocd/appset-not-expandable",
    "argocd/appset-generator-error",
    "kustomize/missing-resource",
    "kustomize/unlisted-file",
    "yaml/unrendered-placeholder",
    "schema/unknown-field",
    "schema/invalid-type",
    crate::suppress::MISSING_REASON,
    crate::suppress::UNUSED,
    crate::suppress::EXPIRED,
    crate::helm::NOT_UNDERSTOOD,
    crate::checks::workflow::TIER_OPTIONS,
    crate::checks::workflow::UNVALIDATED_TENANT_ID,
];

/// Rule ids that the embedded Rego policies can emit (`"rule": "family/name"` literals).
pub fn policy_rules() -> Vec<String> {
    let mut ids = Vec::new();
    for (_, text) in POLICIES {
        for part in text.split("\"rule\":").skip(1) {
            if let Some(id) = part
                .trim_start()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
            {
                ids.push(id.to_string());
            }
        }
    }
    ids.sort();
    ids.dedup();
    ids
}
