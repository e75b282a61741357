//! `gitops-lint init [PATH]`: writes a commented `.gitops-lint.yaml` describing the layout it
//! finds: tiers (from `tier-templates/<tier>_tenant_template.yaml` and `tenants/<tier>/`), each
//! tier's app modes (read from the tier's template, else its tenants, else the defaults), pools,
//! tenants directories and infra paths.

use gitops_lint_config::{AppMode, Config, FILE_NAME};
use gitops_lint_model::load::{self, RepoInput};
use gitops_lint_model::World;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What `init` found.
#[derive(Debug, Default)]
pub struct Layout {
    /// Tier -> app -> mode.
    pub tiers: BTreeMap<String, BTreeMap<String, AppMode>>,
    /// Where each tier's modes came from (`template ...`, `tenant ...`, `defaults`).
    pub tier_source: BTreeMap<String, String>,
    /// Tier template files.
    pub templates: Vec<String>,
    /// `tenants/` directories.
    pub tenant_dirs: Vec<String>,
    /// Pool release names found.
    pub pools: Vec<String>,
    /// Directories holding Terraform or `tenants.json`.
    pub infra: Vec<String>,
}

/// The app modes a tenant's values imply: `apps.<app>.enabled` true = silo, false = pool.
fn modes(values: &Value) -> BTreeMap<String, AppMode> {
    values
        .get("apps")
        .and_then(Value::as_object)
        .map(|apps| {
            apps.iter()
                .filter_map(|(app, v)| {
                    let enabled = v.get("enabled")?.as_bool()?;
                    Some((
                        app.clone(),
                        if enabled {
                            AppMode::Silo
                        } else {
                            AppMode::Pool
                        },
                    ))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Detects the layout below `root`.
pub fn detect(root: &Path) -> Layout {
    let input = RepoInput {
        root: root.to_path_buf(),
        display: String::new(),
    };
    let defaults = Config::default();
    // Tiers the defaults do not know are only read as tiers when the config names them, so
    // name every tier the file layout shows before loading.
    let mut config = defaults.clone();
    let walked = gitops_lint_model::discover::walk(
        root,
        &gitops_lint_model::discover::WalkOptions::default(),
    );
    let from_templates = walked.files.iter().filter_map(|f| {
        let name = f.rel_path.rsplit('/').next()?;
        let dir = f.rel_path.rsplit('/').nth(1)?;
        (dir == "tier-templates")
            .then(|| name.strip_suffix("_tenant_template.yaml"))
            .flatten()
    });
    let from_dirs = walked.dirs.iter().filter_map(|d| {
        let (parent, name) = d.rsplit_once('/')?;
        (parent.rsplit('/').next() == Some("tenants") && !name.starts_with('.')).then_some(name)
    });
    for tier in from_templates.chain(from_dirs) {
        config.tiers.entry(tier.to_string()).or_default();
    }
    let (world, _) = load::load(&[input], &config);
    layout(&world, &defaults)
}

fn layout(world: &World, defaults: &Config) -> Layout {
    let mut out = Layout::default();
    let mut tier_names = BTreeSet::new();
    for t in &world.tenants {
        tier_names.insert(t.tier.clone());
        if t.template {
            out.templates.push(t.file.clone());
        }
    }
    if let Some(repo) = world.repos.first() {
        for dir in &repo.dirs {
            let name = dir.rsplit('/').next().unwrap_or(dir);
            if name == "tenants" {
                out.tenant_dirs.push(dir.clone());
            }
            if let Some(parent) = dir.rsplit_once('/').map(|(p, _)| p) {
                if parent.rsplit('/').next() == Some("tenants") && !name.starts_with('.') {
                    tier_names.insert(name.to_string());
                }
            }
        }
        let mut infra = BTreeSet::new();
        for file in &repo.files {
            if file.ends_with(".tf") || file.ends_with("/tenants.json") || file == "tenants.json" {
                let dir = file.rsplit_once('/').map_or(".", |(d, _)| d);
                infra.insert(dir.to_string());
            }
        }
        out.infra = infra.into_iter().collect();
    }
    for tier in tier_names {
        let from_template = world
            .tenants
            .iter()
            .filter(|t| t.tier == tier && t.template)
            .map(|t| (modes(&t.values), format!("template {}", t.file)))
            .find(|(m, _)| !m.is_empty());
        let from_tenant = || {
            world
                .tenants
                .iter()
                .filter(|t| t.tier == tier && !t.template)
                .map(|t| (modes(&t.values), format!("tenant {}", t.file)))
                .find(|(m, _)| !m.is_empty())
        };
        let (m, source) = from_template
            .or_else(from_tenant)
            .or_else(|| {
                defaults
                    .tiers
                    .get(&tier)
                    .map(|m| (m.clone(), "gitops-lint's defaults".to_string()))
            })
            .unwrap_or_else(|| (BTreeMap::new(), "nothing found: fill in".to_string()));
        out.tier_source.insert(tier.clone(), source);
        out.tiers.insert(tier, m);
    }
    out.pools = world.pools.iter().map(|p| p.id.clone()).collect();
    out.pools.sort();
    out.pools.dedup();
    out.templates.sort();
    out
}

fn mode_name(m: AppMode) -> &'static str {
    match m {
        AppMode::Silo => "silo",
        AppMode::Pool => "pool",
    }
}

/// Renders the config text for a layout.
pub fn render(layout: &Layout) -> String {
    let mut s = String::new();
    let list = |v: &[String]| {
        if v.is_empty() {
            "(none found)".to_string()
        } else {
            v.join(", ")
        }
    };
    let _ = writeln!(
        s,
        "# gitops-lint configuration, written by `gitops-lint init`."
    );
    let _ = writeln!(
        s,
        "# Every key is documented in the README; the JSON Schema for editor completion is"
    );
    let _ = writeln!(
        s,
        "# schemas/gitops-lint.schema.json in the gitops-lint repository."
    );
    let _ = writeln!(s, "#");
    let _ = writeln!(
        s,
        "# Detected layout (gitops-lint finds these by itself; listed so you can check them):"
    );
    let _ = writeln!(s, "#   tier templates: {}", list(&layout.templates));
    let _ = writeln!(s, "#   tenants dirs:   {}", list(&layout.tenant_dirs));
    let _ = writeln!(s, "#   pools:          {}", list(&layout.pools));
    let _ = writeln!(s, "#   infra paths:    {}", list(&layout.infra));
    if layout.infra.is_empty() {
        let _ = writeln!(
            s,
            "#   (lint the infra-repo together with this one: `gitops-lint . ../infra-repo`)"
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "# The tier contract: for each tier, whether each app runs in the tenant's own namespace"
    );
    let _ = writeln!(
        s,
        "# (silo: `enabled: true`) or is shared (pool: `enabled: false` plus `envId`)."
    );
    if layout.tiers.is_empty() {
        let _ = writeln!(s, "# No tiers found; these are gitops-lint's defaults.");
        let _ = writeln!(s, "tiers:");
        for (tier, apps) in &Config::default().tiers {
            write_tier(&mut s, tier, apps, "gitops-lint's defaults");
        }
    } else {
        let _ = writeln!(s, "tiers:");
        for (tier, apps) in &layout.tiers {
            let source = layout.tier_source.get(tier).map_or("", String::as_str);
            write_tier(&mut s, tier, apps, source);
        }
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "# Name patterns (Go path.Match) of pool releases, which are not tenants."
    );
    let _ = writeln!(s, "pools:");
    let _ = writeln!(s, "  - pool-*");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "# Per-rule level: error | warning | info | off (`gitops-lint rules` lists the ids)."
    );
    let _ = writeln!(s, "rules: {{}}");
    let _ = writeln!(s, "#  tier/app-enablement: warning");
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "# Accepted findings: a rule id or glob, path globs, an optional expiry date and a reason."
    );
    let _ = writeln!(s, "ignore: []");
    let _ = writeln!(s, "#  - rule: tier/app-enablement");
    let _ = writeln!(s, "#    paths: [\"tenants/legacy/**\"]");
    let _ = writeln!(s, "#    until: \"2030-01-31\"");
    let _ = writeln!(
        s,
        "#    reason: legacy tenants move to the new tier contract next quarter"
    );
    s
}

fn write_tier(s: &mut String, tier: &str, apps: &BTreeMap<String, AppMode>, source: &str) {
    let _ = writeln!(s, "  {tier}:   # from {source}");
    if apps.is_empty() {
        let _ = writeln!(s, "    apps: {{}}");
        return;
    }
    let _ = writeln!(s, "    apps:");
    for (app, mode) in apps {
        let _ = writeln!(s, "      {app}: {}", mode_name(*mode));
    }
}

/// Writes `PATH/.gitops-lint.yaml`; refuses to overwrite unless `force`. Returns the path.
pub fn run(root: &Path, force: bool) -> Result<PathBuf, String> {
    if !root.is_dir() {
        return Err(format!("`{}` is not a directory", root.display()));
    }
    let target = root.join(FILE_NAME);
    if target.exists() && !force {
        return Err(format!(
            "`{}` already exists; use --force to overwrite it",
            target.display()
        ));
    }
    let text = render(&detect(root));
    crate::gate::write_output(&target, &text, false)?;
    Ok(target)
}
