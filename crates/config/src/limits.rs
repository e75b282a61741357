//! `limits:` the resource budgets that keep a run bounded on hostile input. A pull request
//! controls every byte the linter reads, so each place where input can multiply work (alias
//! expansion, generator products, template execution, Terraform expansion, policy evaluation,
//! output) has a budget. When one is hit, the run reports `gitops/budget-exceeded` at the place
//! that hit it and goes on without that part.

use gitops_lint_core::source::PathSeg;
use serde_json::Value;

use crate::ConfigError;

/// Every budget, with its default. All are per unit named in the field's doc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// `fileBytes`: the largest file read, in bytes (default 32 MiB). A larger file is reported
    /// and not parsed.
    pub file_bytes: u64,
    /// `aliasNodes`: nodes YAML alias expansion may add to one file (default 1,000,000).
    pub alias_nodes: u64,
    /// `aliasBytes`: scalar bytes YAML alias expansion may add to one file (default 16 MiB).
    pub alias_bytes: u64,
    /// `generatorProducts`: parameter sets one ApplicationSet generator (a matrix or merge
    /// product included) may produce (default 100,000).
    pub generator_products: u64,
    /// `templateSteps`: actions one Go template execution may run (default 1,000,000).
    pub template_steps: u64,
    /// `templateOutputBytes`: bytes one Go template execution may write (default 16 MiB).
    pub template_output_bytes: u64,
    /// `terraformInstances`: instances one Terraform `count` or `for_each` may create, modules
    /// nested in expanded modules multiplied in (default 100,000).
    pub terraform_instances: u64,
    /// `terraformValues`: value elements the Terraform evaluator may build for one
    /// configuration, `for` expressions and functions included (default 10,000,000).
    pub terraform_values: u64,
    /// `regoMemoryBytes`: memory Rego evaluation may allocate beyond what the run held when it
    /// started (default 2 GiB).
    pub rego_memory_bytes: u64,
    /// `regoSeconds`: wall time of each policy package's evaluation (default 20).
    pub rego_seconds: u64,
    /// `sourceLineChars`: characters of a source line the human output shows around a
    /// finding; longer lines are cut around the span (default 200).
    pub source_line_chars: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            file_bytes: 32 << 20,
            alias_nodes: 1_000_000,
            alias_bytes: 16 << 20,
            generator_products: 100_000,
            template_steps: 1_000_000,
            template_output_bytes: 16 << 20,
            terraform_instances: 100_000,
            terraform_values: 10_000_000,
            rego_memory_bytes: 2 << 30,
            rego_seconds: 20,
            source_line_chars: 200,
        }
    }
}

/// The keys of `limits:`, in the order the docs list them.
pub const LIMIT_KEYS: &[&str] = &[
    "fileBytes",
    "aliasNodes",
    "aliasBytes",
    "generatorProducts",
    "templateSteps",
    "templateOutputBytes",
    "terraformInstances",
    "terraformValues",
    "regoMemoryBytes",
    "regoSeconds",
    "sourceLineChars",
];

impl Limits {
    /// The field a `limits:` key sets.
    fn slot(&mut self, key: &str) -> Option<&mut u64> {
        Some(match key {
            "fileBytes" => &mut self.file_bytes,
            "aliasNodes" => &mut self.alias_nodes,
            "aliasBytes" => &mut self.alias_bytes,
            "generatorProducts" => &mut self.generator_products,
            "templateSteps" => &mut self.template_steps,
            "templateOutputBytes" => &mut self.template_output_bytes,
            "terraformInstances" => &mut self.terraform_instances,
            "terraformValues" => &mut self.terraform_values,
            "regoMemoryBytes" => &mut self.rego_memory_bytes,
            "regoSeconds" => &mut self.rego_seconds,
            "sourceLineChars" => &mut self.source_line_chars,
            _ => return None,
        })
    }

    /// Whether `key` takes a size (so `16MiB` is accepted).
    fn is_size(key: &str) -> bool {
        key.ends_with("Bytes")
    }
}

/// Reads `limits: {aliasBytes: 16MiB, templateSteps: 2000000, ...}`.
pub(crate) fn parse_limits(
    value: &Value,
    err: &dyn Fn(&[PathSeg], String) -> ConfigError,
) -> Result<Limits, ConfigError> {
    let k = |s: &str| PathSeg::Key(s.into());
    let Value::Object(map) = value else {
        return Err(err(
            &[k("limits")],
            format!(
                "expected a mapping of budget to a positive number, with keys `{}`",
                LIMIT_KEYS.join("`, `")
            ),
        ));
    };
    let mut limits = Limits::default();
    for (key, v) in map {
        let at = [k("limits"), k(key)];
        let is_size = Limits::is_size(key);
        let Some(slot) = limits.slot(key) else {
            return Err(err(
                &at,
                format!(
                    "unknown budget; `limits` knows `{}`",
                    LIMIT_KEYS.join("`, `")
                ),
            ));
        };
        let parsed = match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if is_size => parse_size(s),
            _ => None,
        };
        let what = if is_size {
            "a positive number of bytes (`16777216`, or with a unit: `16MiB`, `512KiB`, `2GiB`)"
        } else {
            "a positive whole number"
        };
        match parsed.filter(|n| *n > 0) {
            Some(n) => *slot = n,
            None => return Err(err(&at, format!("expected {what}, found `{v}`"))),
        }
    }
    Ok(limits)
}

/// `16MiB` -> 16777216. Units are binary (`KiB`, `MiB`, `GiB`), as Kubernetes writes them.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use std::path::Path;

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("16MiB"), Some(16 << 20));
        assert_eq!(parse_size("512 KiB"), Some(512 << 10));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("16MB"), None);
        assert_eq!(parse_size("99999999999GiB"), None);
    }

    #[test]
    fn limits_are_read_and_validated() {
        let c = Config::from_text(
            "limits:\n  aliasBytes: 1MiB\n  templateSteps: 5000\n",
            Path::new("c.yaml"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.limits.alias_bytes, 1 << 20);
        assert_eq!(c.limits.template_steps, 5000);
        assert_eq!(c.limits.generator_products, 100_000);

        let e = Config::from_text("limits:\n  templateSteps: 5MiB\n", Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("a step count has no unit"));
        assert_eq!(e.key, "limits.templateSteps");
        assert_eq!(e.line, 2);
        let e = Config::from_text("limits:\n  aliasByte: 5\n", Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("a misspelt budget fails"));
        assert!(e.message.contains("aliasBytes"), "{e}");
        let e = Config::from_text("limits:\n  regoSeconds: 0\n", Path::new("c.yaml"))
            .err()
            .unwrap_or_else(|| panic!("zero is no budget"));
        assert_eq!(e.key, "limits.regoSeconds");
    }
}
