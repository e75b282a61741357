//! Rego policies (regorus, Rego v1): the embedded ones from `policies/` and the user's
//! (`--policy DIR`), under one contract:
//!
//! ```rego
//! package gitops_lint.tier
//! deny contains finding if { ... finding := {"rule": "tier/app-enablement",
//!     "file": t.file, "doc": t.doc, "path": [...], "msg": "...", "help": "...",
//!     "related": [{"file": ..., "doc": ..., "path": [...], "msg": "..."}]} }
//! warn contains finding if { ... }
//! ```
//!
//! A place is a node (`doc`, `path`, and `"key": true` to point at its key), or, where there is
//! no document to walk (Terraform), `"span": [start, end]` (byte offsets into the file) or
//! `"whole_file": true`. The input's location objects (`input::location`) have exactly these
//! fields, so a policy builds a finding with `object.union(t.at, {"rule": ..., "msg": ...})`.
//!
//! Policies are compiled once; every package is evaluated on its own clone of the engine (the
//! input is shared, not copied), in parallel, under a time limit (`limits.regoSeconds`). A
//! package with a user's file (`--policy DIR`, which a pull request may write) is evaluated in
//! a child process ([`sandbox`]) whose address space is bounded (`limits.regoMemoryBytes`),
//! so that no policy can exhaust the runner's memory. A budget that runs out is a
//! `gitops/budget-exceeded` finding at the package's `package` line ([`BudgetHit`]); the other
//! packages' findings are still reported.

mod contract;
pub mod input;
pub mod sandbox;

use gitops_lint_core::finding::{Finding, Level, Location};
use gitops_lint_core::source::{FileId, PathSeg, Span};
use gitops_lint_core::source::{FileKind, SourceFile};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use rayon::prelude::*;
use regorus::utils::limits::ExecutionTimerConfig;
use regorus::Engine;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The budgets of policy evaluation, per package.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyLimits {
    /// How long one package may run before it is stopped (`limits.regoSeconds`).
    pub time: Duration,
    /// What a `--policy` package may allocate beyond what its evaluator held when the
    /// evaluation started (`limits.regoMemoryBytes`).
    pub memory_bytes: u64,
}

impl PolicyLimits {
    /// The budgets the config's `limits:` set.
    pub fn from_config(limits: &gitops_lint_config::Limits) -> PolicyLimits {
        PolicyLimits {
            time: Duration::from_secs(limits.rego_seconds),
            memory_bytes: limits.rego_memory_bytes,
        }
    }
}

impl Default for PolicyLimits {
    fn default() -> Self {
        PolicyLimits::from_config(&gitops_lint_config::Limits::default())
    }
}

/// Which budget a package ran out of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegoBudget {
    /// `limits.regoSeconds`.
    Time,
    /// `limits.regoMemoryBytes`.
    Memory,
}

/// A package that ran out of a budget: reported at its `package` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BudgetHit {
    /// The policy file, as loaded (a path, or `(embedded) policies/x.rego`).
    pub policy: String,
    /// Its text (the file may be outside the linted repositories).
    pub text: String,
    /// The package (`data.acme.x`).
    pub package: String,
    /// Which budget.
    pub budget: RegoBudget,
}

/// What evaluating the policies gave: findings, and the packages stopped by a budget.
#[derive(Debug, Default)]
pub struct Evaluated {
    /// The packages' findings.
    pub findings: Vec<Finding>,
    /// The packages that ran out of a budget (their findings are not known).
    pub budget_hits: Vec<BudgetHit>,
}

/// How one package's evaluation ended, short of its findings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Stop {
    /// A budget ran out.
    Budget(RegoBudget),
    /// The policy failed at run time (regorus' message).
    Failed(String),
}

/// A policy that cannot be used: the run stops with exit code 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    /// The policy file(s) concerned.
    pub policy: String,
    /// What went wrong (regorus' message carries the line).
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {}: {}", self.policy, self.message)
    }
}

/// The compiled policies.
#[derive(Clone)]
pub struct PolicySet {
    engine: Engine,
    /// The budgets of each package.
    limits: PolicyLimits,
    /// The `--policy` directories (a child process compiles the same policies).
    user_dirs: Vec<PathBuf>,
    /// The text of every policy file, by its name.
    texts: HashMap<String, String>,
    /// Package name (`data.gitops_lint.tier`) -> the files that declare it.
    packages: Vec<(String, Vec<String>)>,
    /// The `"rule"` literals of every loaded policy.
    rule_ids: BTreeSet<String>,
    /// The top-level `input` keys the loaded policies may read.
    reads: InputReads,
}

/// Which top-level keys of `input` the loaded policies may read, so that [`input::build_for`]
/// builds only those. Why: `input.resources` (every document of the World, converted) was a
/// third of building the input, and no embedded policy reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InputReads {
    /// A policy uses `input` other than as `input.<key>` or `input["<key>"]` (`x := input`,
    /// `input[k]`, `walk(input, ...)`): it may read anything.
    pub all: bool,
    /// The keys read as `input.<key>` or `input["<key>"]`.
    pub keys: BTreeSet<String>,
}

impl InputReads {
    /// Whether `input.<key>` may be read.
    pub fn reads(&self, key: &str) -> bool {
        self.all || self.keys.contains(key)
    }

    /// Adds what one policy's text reads. Comments and string literals are skipped (a string
    /// is only a key right after `input[`); any other use of the word `input` reads everything.
    fn scan(&mut self, text: &str) {
        let b = text.as_bytes();
        let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
        // The end of the string literal starting at `i` (a `"` or a backtick).
        let string_end = |i: usize| {
            let quote = b[i];
            let mut j = i + 1;
            while j < b.len() && b[j] != quote {
                j += if quote == b'"' && b[j] == b'\\' { 2 } else { 1 };
            }
            (j + 1).min(b.len())
        };
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'#' => {
                    while i < b.len() && b[i] != b'\n' {
                        i += 1;
                    }
                }
                b'"' | b'`' => i = string_end(i),
                c if ident(c) => {
                    let start = i;
                    while i < b.len() && ident(b[i]) {
                        i += 1;
                    }
                    if &text[start..i] != "input" {
                        continue;
                    }
                    let key = match b.get(i) {
                        Some(b'.') => {
                            let from = i + 1;
                            let mut to = from;
                            while to < b.len() && ident(b[to]) {
                                to += 1;
                            }
                            Some(&text[from..to]).filter(|k| !k.is_empty())
                        }
                        Some(b'[') if b.get(i + 1) == Some(&b'"') => {
                            let end = string_end(i + 1);
                            // `None` for an unclosed string (the policy does not compile).
                            text.get(i + 2..end.saturating_sub(1).max(i + 2))
                                .filter(|k| {
                                    b.get(end) == Some(&b']') && !k.contains('\\') && !k.is_empty()
                                })
                        }
                        _ => None,
                    };
                    match key {
                        Some(k) => {
                            self.keys.insert(k.to_string());
                        }
                        None => self.all = true,
                    }
                }
                _ => i += 1,
            }
        }
    }
}

/// How embedded policies are named (before their path under the workspace root).
const EMBEDDED: &str = "(embedded) ";

/// The `"rule": "family/name"` literals of a policy's text.
pub(crate) fn rule_literals(text: &str) -> impl Iterator<Item = &str> {
    text.split("\"rule\":").skip(1).filter_map(|part| {
        part.trim_start()
            .strip_prefix('"')
            .and_then(|r| r.split('"').next())
    })
}

impl PolicySet {
    /// Compiles the embedded policies plus every `*.rego` (not `*_test.rego`) in `user_dirs`.
    pub fn load(user_dirs: &[PathBuf], limits: PolicyLimits) -> Result<PolicySet, PolicyError> {
        let mut sources: Vec<(String, String)> = crate::POLICIES
            .iter()
            .filter(|(p, _)| !p.ends_with("_test.rego"))
            .map(|(p, t)| (format!("{EMBEDDED}{p}"), (*t).to_string()))
            .collect();
        for dir in user_dirs {
            sources.extend(read_policy_dir(dir)?);
        }
        let mut set = PolicySet::from_sources(sources, limits)?;
        set.user_dirs = user_dirs.to_vec();
        Ok(set)
    }

    /// Compiles policies given as (name, text) pairs.
    pub(crate) fn from_sources(
        sources: Vec<(String, String)>,
        limits: PolicyLimits,
    ) -> Result<PolicySet, PolicyError> {
        let mut engine = Engine::new();
        engine.set_execution_timer_config(ExecutionTimerConfig {
            limit: limits.time,
            check_interval: NonZeroU32::MIN.saturating_add(99),
        });
        let mut texts = HashMap::new();
        let mut packages: HashMap<String, Vec<String>> = HashMap::new();
        let mut rule_ids = BTreeSet::new();
        let mut reads = InputReads::default();
        for (name, text) in sources {
            reads.scan(&text);
            for id in rule_literals(&text) {
                // The embedded policies may only emit rules the catalog documents.
                if name.starts_with(EMBEDDED) && RuleId::known(id).is_none() {
                    return Err(PolicyError {
                        policy: name.clone(),
                        message: format!("emits rule `{id}`, which has no page under rules/"),
                    });
                }
                rule_ids.insert(id.to_string());
            }
            texts.insert(name.clone(), text.clone());
            let package = engine
                .add_policy(name.clone(), text)
                .map_err(|e| PolicyError {
                    policy: name.clone(),
                    message: e.to_string(),
                })?;
            packages.entry(package).or_default().push(name);
        }
        let mut packages: Vec<_> = packages.into_iter().collect();
        packages.sort();
        Ok(PolicySet {
            engine,
            limits,
            user_dirs: Vec::new(),
            texts,
            packages,
            rule_ids,
            reads,
        })
    }

    /// The rule ids the loaded policies write as `"rule": "family/name"` literals.
    pub fn rule_ids(&self) -> &BTreeSet<String> {
        &self.rule_ids
    }

    /// The top-level `input` keys the loaded policies may read.
    pub fn input_reads(&self) -> &InputReads {
        &self.reads
    }

    /// Evaluates every package against the World and returns their findings (and the
    /// packages stopped by a budget), every package in this process.
    pub fn evaluate(&self, input: Value, world: &World) -> Result<Evaluated, PolicyError> {
        self.evaluate_input(regorus::Value::from(input), world, None)
    }

    /// [`PolicySet::evaluate`] with the input already in the engine's values
    /// ([`input::build`]). With `sandbox` (an executable that runs [`sandbox::child_main`]
    /// for [`sandbox::SANDBOX_ARG`], the `gitops-lint` binary itself), each package with a
    /// `--policy` file is evaluated in a child process bounded in memory; the embedded ones
    /// stay in this process.
    pub fn evaluate_input(
        &self,
        input: regorus::Value,
        world: &World,
        sandbox: Option<&Path>,
    ) -> Result<Evaluated, PolicyError> {
        let by_display: HashMap<&str, FileId> = world
            .files
            .iter()
            .map(|f| (f.display.as_str(), f.id))
            .collect();
        // The input as JSON, for child processes: built once, only if one is needed.
        let json = std::sync::OnceLock::new();
        let input_json = || -> Result<&String, PolicyError> {
            match json.get_or_init(|| serde_json::to_string(&input).map_err(|e| e.to_string())) {
                Ok(text) => Ok(text),
                Err(e) => Err(PolicyError {
                    policy: "(input)".into(),
                    message: format!("the policy input is not JSON: {e}"),
                }),
            }
        };
        let mut engine = self.engine.clone();
        engine.set_input(input.clone());
        let results: Vec<Result<PackageResult, PolicyError>> = self
            .packages
            .par_iter()
            .map(|(package, files)| {
                let user = files.iter().any(|f| !f.starts_with(EMBEDDED));
                let outcome = match sandbox {
                    Some(exe) if user => sandbox::run_package(
                        exe,
                        &self.user_dirs,
                        package,
                        self.limits,
                        input_json()?,
                    ),
                    _ => eval_package(&mut engine.clone(), package),
                };
                let failed = |message: String| PolicyError {
                    policy: files.join(", "),
                    message,
                };
                match outcome {
                    Ok(items) => {
                        // In parallel for the reason `eval_package` converts in parallel;
                        // the first error in the items' order is the one reported.
                        let out = items
                            .par_iter()
                            .map(|(set, item)| {
                                let level = if *set == "deny" {
                                    Level::Error
                                } else {
                                    Level::Warning
                                };
                                to_finding(item, level, &by_display, world)
                                    .map_err(|m| failed(format!("a `{set}` finding {m}: {item}")))
                            })
                            .collect::<Vec<_>>()
                            .into_iter()
                            .collect::<Result<Vec<_>, _>>()?;
                        Ok(PackageResult::Findings(out))
                    }
                    Err(Stop::Budget(budget)) => {
                        let policy = files.first().cloned().unwrap_or_default();
                        Ok(PackageResult::Budget(BudgetHit {
                            text: self.texts.get(&policy).cloned().unwrap_or_default(),
                            policy,
                            package: package.clone(),
                            budget,
                        }))
                    }
                    Err(Stop::Failed(message)) => Err(failed(message)),
                }
            })
            .collect();
        let mut out = Evaluated::default();
        for r in results {
            match r? {
                PackageResult::Findings(f) => out.findings.extend(f),
                PackageResult::Budget(hit) => out.budget_hits.push(hit),
            }
        }
        Ok(out)
    }
}

/// One package's result.
enum PackageResult {
    Findings(Vec<Finding>),
    Budget(BudgetHit),
}

/// Evaluates one package's `deny` and `warn` sets: each item with the set it is in.
pub(crate) fn eval_package(
    engine: &mut Engine,
    package: &str,
) -> Result<Vec<(&'static str, Value)>, Stop> {
    let mut out: Vec<(&'static str, regorus::Value)> = Vec::new();
    for set in ["deny", "warn"] {
        let query = format!("{package}.{set}");
        let results = engine.eval_query(query, false).map_err(|e| {
            let limit = e
                .chain()
                .find_map(|c| c.downcast_ref::<regorus::LimitError>().copied());
            match limit {
                Some(regorus::LimitError::TimeLimitExceeded { .. }) => {
                    Stop::Budget(RegoBudget::Time)
                }
                Some(regorus::LimitError::MemoryLimitExceeded { .. }) => {
                    Stop::Budget(RegoBudget::Memory)
                }
                _ => Stop::Failed(e.to_string()),
            }
        })?;
        for result in results.result {
            for expr in result.expressions {
                // A set, or an array from a user policy: the items, as their JSON array had.
                match &expr.value {
                    regorus::Value::Set(items) => {
                        out.extend(items.iter().map(|i| (set, i.clone())))
                    }
                    regorus::Value::Array(items) => {
                        out.extend(items.iter().map(|i| (set, i.clone())))
                    }
                    _ => {}
                }
            }
        }
    }
    // Why each item apart and in parallel: a package with 20,000 findings was converted as
    // one value on the thread that evaluated it, the last one still running; the other core
    // was idle by then. `collect` keeps the items' order, and the first error in that order
    // is the one reported, as before.
    out.into_par_iter()
        .map(|(set, item)| {
            serde_json::to_value(&item)
                .map(|v| (set, v))
                .map_err(|e| Stop::Failed(format!("`{set}` is not JSON: {e}")))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// The `gitops/budget-exceeded` findings of the packages stopped by a budget, each at its
/// `package` line; a policy file the World does not hold (outside the linted repositories,
/// or embedded) is added to it, so that the finding can point into it.
pub fn budget_findings(
    world: &mut World,
    limits: PolicyLimits,
    hits: Vec<BudgetHit>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for hit in hits {
        let id = match world
            .files
            .iter()
            .find(|f| f.display == hit.policy && f.text == hit.text)
        {
            Some(f) => f.id,
            None => {
                let id = FileId(world.files.len() as u32);
                world.files.push(SourceFile::new(
                    id,
                    0,
                    hit.policy.clone(),
                    hit.policy.clone(),
                    FileKind::Other,
                    hit.text.clone(),
                ));
                world.yaml.push(Vec::new());
                id
            }
        };
        let (start, end) = package_line(&hit.text);
        let (key, what) = match hit.budget {
            RegoBudget::Time => (
                "limits.regoSeconds",
                format!(
                    "ran longer than {} s (`limits.regoSeconds`)",
                    limits.time.as_secs()
                ),
            ),
            RegoBudget::Memory => (
                "limits.regoMemoryBytes",
                format!(
                    "needed more than {} bytes of memory (`limits.regoMemoryBytes`)",
                    limits.memory_bytes
                ),
            ),
        };
        let package = hit.package.strip_prefix("data.").unwrap_or(&hit.package);
        out.push(
            Finding::new(
                RuleId::GITOPS_BUDGET_EXCEEDED,
                format!("the evaluation of policy package `{package}` {what}; it was stopped, so its findings are not known (the other packages' are reported)"),
                Location::Span(Span { file: id, start, end }),
            )
            .with_help(format!("if the policy is legitimate, raise `{key}` under `limits:` in .gitops-lint.yaml; otherwise find what in it runs away (a `numbers.range` or comprehension over a huge collection)")),
        );
    }
    out
}

/// The byte span of the `package` line of a policy (the whole text when there is none).
fn package_line(text: &str) -> (usize, usize) {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end();
        if body.trim_start().starts_with("package ") {
            let indent = body.len() - body.trim_start().len();
            return (start + indent, start + body.len());
        }
        start += line.len();
    }
    (0, 0)
}

fn read_policy_dir(dir: &Path) -> Result<Vec<(String, String)>, PolicyError> {
    let entries = std::fs::read_dir(dir).map_err(|e| PolicyError {
        policy: dir.display().to_string(),
        message: format!("cannot read the policy directory: {e}"),
    })?;
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".rego") && !name.ends_with("_test.rego")
        })
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            std::fs::read_to_string(&p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|e| PolicyError {
                    policy: p.display().to_string(),
                    message: format!("cannot read: {e}"),
                })
        })
        .collect()
}

fn to_path(v: Option<&Value>) -> Result<Vec<PathSeg>, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(items) = v.as_array() else {
        return Err("has a `path` that is not an array".into());
    };
    items
        .iter()
        .map(|s| match s {
            Value::String(k) => Ok(PathSeg::Key(k.clone())),
            Value::Number(n) => n
                .as_u64()
                .map(|i| PathSeg::Index(i as usize))
                .ok_or_else(|| "has a negative or fractional path index".to_string()),
            _ => Err("has a `path` element that is neither a string nor an index".into()),
        })
        .collect()
}

fn to_location(
    item: &Value,
    by_display: &HashMap<&str, FileId>,
    world: &World,
) -> Result<Location, String> {
    let file = item
        .get("file")
        .and_then(Value::as_str)
        .ok_or("has no `file`")?;
    let id = *by_display
        .get(file)
        .ok_or_else(|| format!("names a file that was not linted (`{file}`)"))?;
    if let Some(span) = item.get("span").filter(|v| !v.is_null()) {
        let text = &world.file(id).text;
        let bound = |i: usize| {
            span.get(i)
                .and_then(Value::as_u64)
                .map(|n| n as usize)
                .filter(|n| text.is_char_boundary(*n))
        };
        return match (span.as_array().map(Vec::len), bound(0), bound(1)) {
            (Some(2), Some(start), Some(end)) if start <= end => Ok(Location::Span(Span {
                file: id,
                start,
                end,
            })),
            _ => Err("has a `span` that is not [start, end] inside the file".into()),
        };
    }
    if item.get("whole_file").and_then(Value::as_bool) == Some(true) {
        return Ok(Location::File(id));
    }
    let doc = item.get("doc").and_then(Value::as_u64).unwrap_or(0) as usize;
    let path = to_path(item.get("path"))?;
    let key = item.get("key").and_then(Value::as_bool).unwrap_or(false);
    Ok(Location::Path {
        file: id,
        doc,
        path,
        key,
    })
}

fn to_finding(
    item: &Value,
    level: Level,
    by_display: &HashMap<&str, FileId>,
    world: &World,
) -> Result<Finding, String> {
    let rule = item
        .get("rule")
        .and_then(Value::as_str)
        .ok_or("has no `rule`")?;
    let msg = item
        .get("msg")
        .and_then(Value::as_str)
        .ok_or("has no `msg`")?;
    let mut finding = Finding::new(
        RuleId::custom(rule),
        msg,
        to_location(item, by_display, world)?,
    );
    finding.level = level;
    finding.help = item.get("help").and_then(Value::as_str).map(str::to_string);
    for related in item
        .get("related")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let message = related.get("msg").and_then(Value::as_str).unwrap_or("");
        finding = finding.with_related(to_location(related, by_display, world)?, message);
    }
    Ok(finding)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_policy_names_its_file() {
        let err = PolicySet::from_sources(
            vec![("mine.rego".into(), "package x\ndeny contains f if {".into())],
            PolicyLimits::default(),
        )
        .err()
        .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(err.policy, "mine.rego");
        assert!(err.to_string().contains("mine.rego"));
    }

    #[test]
    fn the_input_keys_a_policy_reads() {
        let reads = |text: &str| {
            let mut r = InputReads::default();
            r.scan(text);
            r
        };
        let r = reads("package p\n# input.commented\nx := input.tenants\ny := input[\"pools\"]\nm := \"input.irsa\"\n");
        assert!(!r.all);
        assert_eq!(
            r.keys.iter().map(String::as_str).collect::<Vec<_>>(),
            ["pools", "tenants"]
        );
        assert!(!r.reads("resources"));
        for whole in [
            "x := input",
            "y := input[k]",
            "z := walk(input)",
            "import input as i",
        ] {
            assert!(reads(whole).all, "{whole}");
        }
        assert!(!reads("my_input := input_x").all);
        // An unclosed string after `input[` (a policy that does not compile) does not panic.
        assert!(reads("x := input[\"é").all);
        // The embedded policies do not read `input.resources`.
        let mut embedded = InputReads::default();
        for (_, text) in crate::POLICIES {
            embedded.scan(text);
        }
        assert!(!embedded.all);
        assert!(embedded.reads("tenants") && !embedded.reads("resources"));
    }

    #[test]
    fn a_slow_policy_is_stopped_by_the_time_limit() {
        // 25 million small iterations (no huge array), far beyond a 50 ms limit.
        let slow = "package slow\ndeny contains x if {\n  some x in numbers.range(1, 5000)\n  some y in numbers.range(1, 5000)\n  x * y < 0\n}\n";
        let fast = "package fast\ndeny contains x if {\n  some x in [1, 2]\n  x > 5\n}\n";
        let set = PolicySet::from_sources(
            vec![
                ("slow.rego".into(), slow.into()),
                ("fast.rego".into(), fast.into()),
            ],
            PolicyLimits {
                time: Duration::from_millis(50),
                memory_bytes: 1 << 30,
            },
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let started = std::time::Instant::now();
        let out = set
            .evaluate(serde_json::json!({}), &World::default())
            .unwrap_or_else(|e| panic!("a budget is not a policy error: {e}"));
        assert!(out.findings.is_empty());
        assert_eq!(out.budget_hits.len(), 1);
        let hit = &out.budget_hits[0];
        assert_eq!(
            (hit.policy.as_str(), hit.package.as_str(), hit.budget),
            ("slow.rego", "data.slow", RegoBudget::Time)
        );
        // Reported at the package line, in a file added to the World.
        let mut world = World::default();
        let found = budget_findings(&mut world, set.limits, out.budget_hits);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, RuleId::GITOPS_BUDGET_EXCEEDED);
        assert!(
            found[0].message.contains("`limits.regoSeconds`"),
            "{}",
            found[0].message
        );
        assert_eq!(
            found[0].primary,
            Location::Span(Span {
                file: FileId(0),
                start: 0,
                end: "package slow".len()
            })
        );
        assert_eq!(world.files[0].display, "slow.rego");
        // Generous: only says the limit stopped it, not how fast a loaded machine is.
        assert!(started.elapsed() < Duration::from_secs(60));
    }
}
