//! Each finding's level: the rule's own choice, else the catalog's default, and the config's
//! `rules:` and `presets:` over both.

use gitops_lint_config::Config;
use gitops_lint_core::catalog;
use gitops_lint_core::finding::Finding;
use std::collections::HashMap;

/// Applies default levels from the rule catalog and the config's overrides; drops findings of
/// rules that are off (set off, or in a preset the config does not turn on).
pub fn apply_levels(findings: Vec<Finding>, config: &Config) -> Vec<Finding> {
    let defaults: HashMap<String, _> = catalog::pages()
        .into_iter()
        .map(|p| (p.id, p.level))
        .collect();
    findings
        .into_iter()
        .filter_map(|mut f| {
            let default = match defaults.get(f.rule.as_str()) {
                Some(level) if !f.level_chosen => *level,
                _ => f.level,
            };
            f.level = config.level_of(&f.rule, default)?;
            Some(f)
        })
        .collect()
}
