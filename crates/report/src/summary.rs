//! The Markdown job summary (`$GITHUB_STEP_SUMMARY`): totals, a table by rule, a table by tenant,
//! how many findings the annotations left out, and the findings themselves.

use super::github::{select, slot};
use super::place;
use gitops_lint_core::finding::{Finding, Level};
use gitops_lint_model::World;
use std::collections::BTreeMap;

/// Escapes text from the input for Markdown: no HTML, no inline code, one line.
fn cell(s: &str) -> String {
    gitops_lint_core::escape::markdown(s)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// Renders the summary.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let mut out = String::from("## gitops-lint\n\n");
    if findings.is_empty() {
        out.push_str(&format!("No findings in {} files.\n", world.files.len()));
        return out;
    }
    out.push_str(&format!(
        "{}, {}, {} info in {} files.\n\n",
        plural(count(Level::Error), "error"),
        plural(count(Level::Warning), "warning"),
        count(Level::Info),
        world.files.len()
    ));
    let (_, hidden) = select(findings);
    let more: usize = hidden.iter().sum();
    if more > 0 {
        out.push_str(&format!(
            "> **{more} more not annotated:** GitHub shows 10 annotations per level and step; {} more errors, {} more warnings and {} more info are listed below and in the log.\n\n",
            hidden[0], hidden[1], hidden[2]
        ));
    }

    // By rule: [error, warning, info] counts.
    let mut by_rule: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for f in findings {
        by_rule.entry(f.rule.as_str()).or_default()[slot(f.level)] += 1;
    }
    out.push_str("### By rule\n\n| Rule | Errors | Warnings | Info |\n|---|---:|---:|---:|\n");
    for (rule, c) in &by_rule {
        out.push_str(&format!("| `{rule}` | {} | {} | {} |\n", c[0], c[1], c[2]));
    }

    // By tenant: a finding belongs to the tenant whose file it is in.
    let mut tenant_of: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
    for t in &world.tenants {
        let name = if t.template {
            "(tier template)"
        } else {
            t.id.as_str()
        };
        tenant_of
            .entry(t.file.as_str())
            .or_insert((name, t.tier.as_str()));
    }
    let mut by_tenant: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    let mut outside = [0usize; 3];
    for f in findings {
        let file = place(world, &f.primary).file;
        match tenant_of.get(file) {
            Some(&(id, tier)) => by_tenant.entry((tier, id)).or_default()[slot(f.level)] += 1,
            None => outside[slot(f.level)] += 1,
        }
    }
    out.push_str("\n### By tenant\n\n| Tenant | Tier | Errors | Warnings | Info |\n|---|---|---:|---:|---:|\n");
    for ((tier, id), c) in &by_tenant {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            cell(id),
            cell(tier),
            c[0],
            c[1],
            c[2]
        ));
    }
    if outside.iter().sum::<usize>() > 0 {
        out.push_str(&format!(
            "| (not in a tenant file) | | {} | {} | {} |\n",
            outside[0], outside[1], outside[2]
        ));
    }

    out.push_str("\n<details><summary>All findings</summary>\n\n| Level | Rule | Where | Message |\n|---|---|---|---|\n");
    for f in findings {
        let p = place(world, &f.primary);
        out.push_str(&format!(
            "| {} | `{}` | {}:{}:{} | {} |\n",
            f.level,
            f.rule,
            cell(p.file),
            p.line,
            p.column,
            cell(&f.message)
        ));
    }
    out.push_str("\n</details>\n");
    out
}
