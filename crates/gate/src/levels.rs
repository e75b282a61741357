//! Each finding's level: the rule's own choice, else the catalog's default, and the config's
//! `rules:` over both.

use gitops_lint_config::{Config, RuleSetting};
use gitops_lint_core::catalog;
use gitops_lint_core::finding::Finding;

/// Applies default levels from the rule catalog and the config's overrides; drops rules set to off.
pub fn apply_levels(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    let pages = catalog::pages();
    findings
        .into_iter()
        .filter_map(|mut f| {
            match config.rules.get(f.rule.as_str()) {
                Some(RuleSetting::Off) => return None,
                Some(RuleSetting::Level(l)) => f.level = *l,
                None if f.level_chosen => {}
                None => {
                    if let Some(page) = pages.iter().find(|p| p.id == f.rule.as_str()) {
                        f.level = page.level;
                    }
                }
            }
            Some(f)
        })
        .collect()
}
