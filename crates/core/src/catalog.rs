//! The rule catalog: one Markdown page per rule under `rules/`, embedded at build time.
//! `rules` and `explain` read it, and it holds each rule's default level.

use crate::finding::Level;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

/// A rule id, `family/name`. The code names rules only through the generated constants
/// (`RuleId::YAML_SYNTAX`), one per page under `rules/`, so a misspelt id does not compile.
/// User policies (`--policy DIR`) may bring ids of their own ([`RuleId::custom`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(Cow<'static, str>);

mod embedded {
    use super::RuleId;
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

impl RuleId {
    /// The id as written: `family/name`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The catalog's id with this spelling, if there is one.
    pub fn known(id: &str) -> Option<RuleId> {
        // Why a binary search: every policy finding's `rule` (and `follows`) is looked up here,
        // 23,000 times on a tree with many findings, and a scan compared about half of the
        // catalog's ids each time. `ALL` is sorted by the build script.
        let all = embedded::ALL;
        all.binary_search_by(|r| r.as_str().cmp(id))
            .ok()
            .map(|i| all[i].clone())
    }

    /// An id from a user policy: the catalog's own when it names one, else taken as written.
    pub fn custom(id: &str) -> RuleId {
        RuleId::known(id).unwrap_or_else(|| RuleId(Cow::Owned(id.to_string())))
    }

    /// Every rule id that has a page, sorted.
    pub fn all() -> &'static [RuleId] {
        embedded::ALL
    }

    /// The known id closest to `id` (edit distance), to suggest for a misspelling.
    pub fn closest(id: &str) -> Option<&'static RuleId> {
        embedded::ALL
            .iter()
            .map(|r| (edit_distance(id, r.as_str()), r))
            .filter(|(d, r)| *d <= r.as_str().len() / 3 + 1)
            .min_by_key(|(d, _)| *d)
            .map(|(_, r)| r)
    }

    /// The page of this rule, when it has one.
    pub fn page(&self) -> Option<RulePage> {
        page(self.as_str())
    }
}

/// A rule id reads as the string it is (`f.rule.starts_with("suppress/")`).
impl std::ops::Deref for RuleId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for RuleId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for RuleId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Tests and callers outside the rule code compare with a spelled-out id.
impl PartialEq<&str> for RuleId {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<str> for RuleId {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Levenshtein distance over characters (ids are short).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(cur).min(row[j])
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// One rule page.
#[derive(Clone, Debug)]
pub struct RulePage {
    /// `family/name`.
    pub id: String,
    /// Default level.
    pub level: Level,
    /// One-line summary.
    pub summary: String,
    /// The preset that turns the rule on (`preset: style` in the front matter); `None` for
    /// rules that are on by default. A preset rule is off unless the config names its preset
    /// in `presets:` or sets the rule in `rules:`.
    pub preset: Option<String>,
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
    let mut preset = None;
    for line in body[..end].lines() {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim() {
            "id" => id = Some(v),
            "level" => level = Level::parse(&v),
            "summary" => summary = Some(v),
            "preset" => preset = Some(v),
            _ => {}
        }
    }
    Some(RulePage {
        id: id?,
        level: level?,
        summary: summary?,
        preset,
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

/// The preset a rule belongs to (`style`), when its page names one. Cached: the level of every
/// finding asks.
pub fn preset_of(id: &str) -> Option<&'static str> {
    use std::collections::HashMap;
    use std::sync::OnceLock;
    static PRESETS: OnceLock<HashMap<String, String>> = OnceLock::new();
    PRESETS
        .get_or_init(|| {
            pages()
                .into_iter()
                .filter_map(|p| Some((p.id, p.preset?)))
                .collect()
        })
        .get(id)
        .map(String::as_str)
}

/// The presets the catalog's pages name (`style`), sorted and deduplicated.
pub fn presets() -> Vec<String> {
    let mut names: Vec<String> = pages().into_iter().filter_map(|p| p.preset).collect();
    names.sort();
    names.dedup();
    names
}

/// Embedded page paths whose front matter does not parse (for the catalog test).
pub fn broken_pages() -> Vec<&'static str> {
    embedded::PAGES
        .iter()
        .filter(|(src, text)| parse_page(src, text).is_none())
        .map(|(src, _)| *src)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::RuleId;

    #[test]
    fn every_id_is_known_by_its_spelling_and_no_other() {
        let all = RuleId::all();
        assert!(all.windows(2).all(|w| w[0].as_str() < w[1].as_str()));
        for id in all {
            assert_eq!(RuleId::known(id.as_str()).as_ref(), Some(id));
        }
        for near in [
            "",
            "tier/",
            "tier/app-enablemen",
            "zzz/zzz",
            "Tier/app-enablement",
        ] {
            assert_eq!(RuleId::known(near), None, "{near}");
        }
        assert_eq!(
            RuleId::custom("acme/x").as_str(),
            "acme/x",
            "an id from a user policy is taken as written"
        );
    }
}
