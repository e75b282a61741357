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
//! `"whole_file": true`. A finding or a related label may instead name its place with an `at`
//! key holding such an object: the input's location objects (`Builder::location` in `input.rs`)
//! have exactly these fields, so a policy writes `{"at": sa.at, "rule": ..., "msg": ...}` (the
//! same finding as `object.union(sa.at, {"rule": ..., "msg": ...})`, without a builtin call per
//! finding). A related label at the finding's own place, or around it on its line, is left out.
//! A finding whose root cause is another rule's finding at the same place names that rule in
//! `"follows"` (an empty string for none): where that finding is reported, this one is folded
//! into it (`Finding::follows`). A root may name, as `"help_when_folded"`, the one of its fixes
//! that resolves what is folded into it too (`Finding::help_when_folded`).
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
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
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
    /// The keys a policy other than the embedded ones reads (`input.tenants`): what of them
    /// the embedded policies leave unread is built only for such a policy.
    pub others_read: BTreeSet<String>,
}

impl InputReads {
    /// Whether `input.<key>` may be read.
    pub fn reads(&self, key: &str) -> bool {
        self.all || self.keys.contains(key)
    }

    /// Whether the tenants' `values` must be whole. Otherwise they hold only what the embedded
    /// policies read of them (`input/convert.rs`, `Converter::app_switches`), which a test holds
    /// to the same findings on every fixture.
    pub fn whole_values(&self) -> bool {
        self.all || self.others_read.contains("tenants")
    }

    /// Whether `input.infra.roles` is built. No embedded policy reads it (`irsa.rego` reads
    /// the roles as `input.irsa.roles`, keyed and joined); at 10,000 tenants it was 7 MiB of
    /// the heap's peak. The same test that holds the values' cut holds this one.
    pub fn infra_roles(&self) -> bool {
        self.all || self.others_read.contains("infra")
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
            if !name.starts_with(EMBEDDED) {
                let mut own = InputReads::default();
                own.scan(&text);
                reads.others_read.append(&mut own.keys);
            }
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
        let parts = irsa_parts(&input, rayon::current_num_threads());
        self.evaluate_in_parts(input, world, sandbox, parts)
    }

    /// [`PolicySet::evaluate_input`] with the embedded `irsa` package evaluated in `parts`
    /// parts side by side (1: whole). The findings are the same for any number of parts
    /// (`policies/irsa.rego`, `judged`); `evaluate_input` picks it from the input's size.
    pub fn evaluate_in_parts(
        &self,
        input: regorus::Value,
        world: &World,
        sandbox: Option<&Path>,
        parts: usize,
    ) -> Result<Evaluated, PolicyError> {
        // The input as JSON, for child processes: built once, only if one is needed.
        let json = OnceLock::new();
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
        // One job per package, and one per part of a package evaluated in parts.
        let mut jobs: Vec<(usize, Option<usize>)> = Vec::new();
        for (p, (package, files)) in self.packages.iter().enumerate() {
            let embedded = files.iter().all(|f| f.starts_with(EMBEDDED));
            if parts > 1 && embedded && package == PARTED_PACKAGE {
                jobs.extend((0..parts).map(|k| (p, Some(k))));
            } else {
                jobs.push((p, None));
            }
        }
        let run =
            |&(p, part): &(usize, Option<usize>)| -> Result<Result<Items, Stop>, PolicyError> {
                let (package, files) = &self.packages[p];
                let user = files.iter().any(|f| !f.starts_with(EMBEDDED));
                Ok(match (sandbox, part) {
                    (Some(exe), _) if user => sandbox::run_package(
                        exe,
                        &self.user_dirs,
                        package,
                        self.limits,
                        input_json()?,
                    )
                    .map(Items::Json),
                    (_, Some(k)) => {
                        // Why made by the job: made for every part before the jobs started,
                        // on one core, they held up the evaluation with the other core idle.
                        let mut engine = engine.clone();
                        engine.set_input(part_input(&input, parts, k));
                        eval_sets(&mut engine, package).map(Items::Rego)
                    }
                    (_, None) => eval_sets(&mut engine.clone(), package).map(Items::Rego),
                })
            };
        // Why a shared queue, longest first: each core takes the longest job not yet started
        // (list scheduling). Spawned one job each, a thread runs the jobs it spawned newest
        // first and an idle core steals them oldest first, so on a clean tree one core ran
        // `tier_names`, `tier_contract` and then `tier`, the longest, while the other had
        // finished its three short packages and waited about 0.2 s.
        let order = longest_first(&jobs, &self.packages);
        let next = AtomicUsize::new(0);
        let done: Vec<OnceLock<Result<Result<Items, Stop>, PolicyError>>> =
            jobs.iter().map(|_| OnceLock::new()).collect();
        // The files by name, for the findings, made while the first jobs start: made before
        // them, on one core, it held up the evaluation with the other core idle.
        let (by_display, ()) = rayon::join(
            || {
                world
                    .files
                    .iter()
                    .map(|f| (f.display.as_str(), f.id))
                    .collect::<HashMap<&str, FileId>>()
            },
            || {
                rayon::scope(|s| {
                    for _ in 0..rayon::current_num_threads().min(jobs.len()) {
                        s.spawn(|_| {
                            while let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                                // Each slot is set once: the counter hands each index out once.
                                let _ = done[i].set(run(&jobs[i]));
                            }
                        });
                    }
                })
            },
        );
        // Why freed in the background: the input is hundreds of thousands of small values, and
        // the last reference to it went out of scope here, on this thread, after the last
        // package: 1% of the clean 10,000-tenant run's CPU samples, on its critical path. A
        // command that exits first skips the work; the language server frees it on a core that
        // is free.
        gitops_lint_core::background::drop_in_background((input, engine));
        let outcomes = done
            .into_iter()
            .map(|slot| {
                slot.into_inner()
                    .unwrap_or_else(|| Ok(Err(Stop::Failed("not evaluated".into()))))
            })
            .collect::<Result<Vec<_>, PolicyError>>()?;
        // Each package's outcome, its parts' findings joined as one set's would be.
        let mut by_package: Vec<Vec<Result<Items, Stop>>> =
            self.packages.iter().map(|_| Vec::new()).collect();
        for (&(p, _), outcome) in jobs.iter().zip(outcomes) {
            by_package[p].push(outcome);
        }
        let mut out = Evaluated::default();
        for ((package, files), outcomes) in self.packages.iter().zip(by_package) {
            let failed = |message: String| PolicyError {
                policy: files.join(", "),
                message,
            };
            let items = match join_parts(outcomes).and_then(Items::into_json) {
                Ok(items) => items,
                Err(Stop::Budget(budget)) => {
                    let policy = files.first().cloned().unwrap_or_default();
                    out.budget_hits.push(BudgetHit {
                        text: self.texts.get(&policy).cloned().unwrap_or_default(),
                        policy,
                        package: package.clone(),
                        budget,
                    });
                    continue;
                }
                Err(Stop::Failed(message)) => return Err(failed(message)),
            };
            // In parallel for the reason `to_json` converts in parallel; the first error in
            // the items' order is the one reported. Each item is freed where it was read: freed
            // together after the last one, on one core, they held up the next package.
            let findings = items
                .into_par_iter()
                .map(|(set, item)| {
                    let level = if set == "deny" {
                        Level::Error
                    } else {
                        Level::Warning
                    };
                    to_finding(&item, level, &by_display, world)
                        .map_err(|m| failed(format!("a `{set}` finding {m}: {item}")))
                })
                .collect::<Vec<_>>()
                .into_iter()
                .collect::<Result<Vec<_>, _>>()?;
            out.findings.extend(findings);
        }
        Ok(out)
    }
}

/// The embedded packages, the longest to evaluate first: `policy_timing` on a generated
/// 10,000-tenant tree gave `tier` 170 ms, `tier_names` 110, `repos` 57, `tier_contract` 32,
/// `irsa` 31 and `tenant` 23 (with many findings `irsa` is the longest, and is then
/// evaluated in parts, which start first anyway). Only when the jobs start depends on it,
/// never what they find.
const EMBEDDED_LONGEST_FIRST: [&str; 6] = [
    "data.gitops_lint.tier",
    "data.gitops_lint.tier_names",
    "data.gitops_lint.repos",
    "data.gitops_lint.tier_contract",
    "data.gitops_lint.irsa",
    "data.gitops_lint.tenant",
];

/// The indices of `jobs` (a package, and a part of it or the whole) in the order they should
/// start, the longest expected first: the parts of a package evaluated in parts (it is split
/// because it is long), then packages with a user's file (their cost is unknown, and an
/// unknown started last may run alone), then the embedded packages by
/// [`EMBEDDED_LONGEST_FIRST`]. Equal ranks keep the jobs' order.
fn longest_first(
    jobs: &[(usize, Option<usize>)],
    packages: &[(String, Vec<String>)],
) -> Vec<usize> {
    let rank = |&(p, part): &(usize, Option<usize>)| {
        let (package, files) = &packages[p];
        if part.is_some() {
            0
        } else if files.iter().any(|f| !f.starts_with(EMBEDDED)) {
            1
        } else {
            2 + EMBEDDED_LONGEST_FIRST
                .iter()
                .position(|name| name == package)
                .unwrap_or(0)
        }
    };
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| rank(&jobs[i]));
    order
}

/// The embedded package that may be evaluated in parts (`policies/irsa.rego`, `judged`).
const PARTED_PACKAGE: &str = "data.gitops_lint.irsa";

/// From how many suspect ServiceAccounts (those not admitted by their role's trust) the `irsa`
/// package is evaluated in parts. Below that it takes a few milliseconds, and each part costs
/// an engine of its own.
const PARTED_FROM: usize = 2_000;

/// How many parts to evaluate the `irsa` package in, on `threads` cores: one per core (at most
/// eight). Why: with many suspects it is by far the longest package (about 2 s of Rego with
/// 20,000 of them, the five others 0.7 s together), and it ran on one core while the other had
/// finished the rest. Why not more parts than cores: each part's rules run apart, and on the
/// many-findings tree four parts on two cores took 2.2 and 2.7 s of CPU in two runs, two parts
/// 2.1 s in both.
fn irsa_parts(input: &regorus::Value, threads: usize) -> usize {
    let service_accounts = &input["irsa"]["service_accounts"];
    let suspects = service_accounts.as_array().map_or(0, |list| {
        list.iter()
            .filter(|sa| sa["admitted"] != regorus::Value::Bool(true))
            .count()
    });
    if threads < 2 || suspects < PARTED_FROM {
        1
    } else {
        threads.min(8)
    }
}

/// The input of part `k` of the `count` parts of the `irsa` package: the same values with
/// `irsa_part` added, `{"index": k, "service_accounts": {i: sa}}`, the ServiceAccounts whose
/// `part` is k modulo `count` (by their index in `irsa.service_accounts`; the top-level object
/// is copied, its values are shared).
fn part_input(input: &regorus::Value, count: usize, k: usize) -> regorus::Value {
    use regorus::Value as V;
    let mut judged: BTreeMap<V, V> = BTreeMap::new();
    if let Ok(list) = input["irsa"]["service_accounts"].as_array() {
        for (i, sa) in list.iter().enumerate() {
            if sa["part"].as_u64().unwrap_or(0) as usize % count == k {
                judged.insert(V::from(i), sa.clone());
            }
        }
    }
    let mut input = input.clone();
    if let Ok(m) = input.as_object_mut() {
        let part = BTreeMap::from([
            (V::from("index"), V::from(k)),
            (V::from("service_accounts"), V::from(judged)),
        ]);
        m.insert(V::from("irsa_part"), V::from(part));
    }
    input
}

/// A package's items as evaluated here (the engine's values) or in a child process (JSON).
enum Items {
    Rego(Vec<(&'static str, regorus::Value)>),
    Json(Vec<(&'static str, Value)>),
}

impl Items {
    fn into_json(self) -> Result<Vec<(&'static str, Value)>, Stop> {
        match self {
            Items::Rego(items) => to_json(items),
            Items::Json(items) => Ok(items),
        }
    }
}

/// One package's outcome from its parts' (or its one) outcome: the first stop in the parts'
/// order, else the parts' items joined as the whole package's sets would hold them: each item
/// once, the `deny` items first, each set in the engine's order.
fn join_parts(outcomes: Vec<Result<Items, Stop>>) -> Result<Items, Stop> {
    if outcomes.len() == 1 {
        return outcomes
            .into_iter()
            .next()
            .unwrap_or_else(|| Err(Stop::Failed("no outcome".into())));
    }
    let mut lists = Vec::new();
    for outcome in outcomes {
        match outcome? {
            Items::Rego(items) => lists.push(items),
            Items::Json(_) => return Err(Stop::Failed("a part was evaluated elsewhere".into())),
        }
    }
    Ok(Items::Rego(merge_sorted(lists)))
}

/// Merges lists that are each sorted by (set, item), as a set's items are (`deny` before
/// `warn`), into one sorted list without repeats. Why not a `BTreeSet`: the parts' lists are
/// sorted already, and comparing two findings walks their objects, so a merge that compares
/// each item with the other lists' heads only costs a fraction of inserting 20,000 of them.
fn merge_sorted(
    lists: Vec<Vec<(&'static str, regorus::Value)>>,
) -> Vec<(&'static str, regorus::Value)> {
    // `deny` before `warn`, then the engine's order of values.
    let order = |a: &(&str, regorus::Value), b: &(&str, regorus::Value)| {
        (a.0 != "deny")
            .cmp(&(b.0 != "deny"))
            .then_with(|| a.1.cmp(&b.1))
    };
    let mut next = vec![0usize; lists.len()];
    let mut out: Vec<(&'static str, regorus::Value)> = Vec::new();
    loop {
        let mut least: Option<usize> = None;
        for (i, list) in lists.iter().enumerate() {
            let Some(head) = list.get(next[i]) else {
                continue;
            };
            if least.is_none_or(|l| order(head, &lists[l][next[l]]).is_lt()) {
                least = Some(i);
            }
        }
        let Some(l) = least else { break };
        let head = &lists[l][next[l]];
        next[l] += 1;
        if out.last().is_none_or(|last| order(last, head).is_ne()) {
            out.push(head.clone());
        }
    }
    out
}

/// Evaluates one package's `deny` and `warn` sets: each item with the set it is in, as JSON.
pub(crate) fn eval_package(
    engine: &mut Engine,
    package: &str,
) -> Result<Vec<(&'static str, Value)>, Stop> {
    to_json(eval_sets(engine, package)?)
}

/// Evaluates one package's `deny` and `warn` sets: each item with the set it is in.
fn eval_sets(
    engine: &mut Engine,
    package: &str,
) -> Result<Vec<(&'static str, regorus::Value)>, Stop> {
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
    Ok(out)
}

/// The items as JSON.
fn to_json(out: Vec<(&'static str, regorus::Value)>) -> Result<Vec<(&'static str, Value)>, Stop> {
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
            Value::String(k) => Ok(PathSeg::Key(k.as_str().into())),
            Value::Number(n) => n
                .as_u64()
                .map(|i| PathSeg::Index(i as usize))
                .ok_or_else(|| "has a negative or fractional path index".to_string()),
            _ => Err("has a `path` element that is neither a string nor an index".into()),
        })
        .collect()
}

/// The place a finding or a related label names: its `at` object when it has one, else its own
/// `file`, `doc`, `path`... keys. Why both: `{"at": sa.at, "rule": ...}` is an object literal,
/// while `object.union(sa.at, {...})` is a builtin call, which regorus resolves by name on every
/// call; on a generated tree with 1,665 trust-mismatch findings the literals save 7% of
/// `irsa.rego`'s instructions.
fn to_location(
    item: &Value,
    by_display: &HashMap<&str, FileId>,
    world: &World,
) -> Result<Location, String> {
    let item = match item.get("at") {
        None => item,
        Some(at) if at.is_object() => at,
        Some(_) => return Err("has an `at` that is not a location object".into()),
    };
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
    finding.help_when_folded = item
        .get("help_when_folded")
        .and_then(Value::as_str)
        .filter(|help| !help.is_empty())
        .map(str::to_string);
    finding.follows = item
        .get("follows")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(RuleId::custom);
    for related in item
        .get("related")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let location = to_location(related, by_display, world)?;
        // A label at the finding's own place would be drawn on the primary's span a second
        // time; the primary message says what is there. Left out here rather than tested in
        // each policy, where the test is a comprehension per label and finding.
        if drawn_around(world, &location, &finding.primary) {
            continue;
        }
        let message = related.get("msg").and_then(Value::as_str).unwrap_or("");
        finding = finding.with_related(location, message);
    }
    Ok(finding)
}

/// Whether a related label at `label` would only be drawn on or around the primary's span: it
/// is the primary's place, or it holds that span and starts on the same line (a trust
/// `["t1/t1-batch"]` around the entry the finding points at).
fn drawn_around(world: &World, label: &Location, primary: &Location) -> bool {
    if label == primary {
        return true;
    }
    let (Location::Span(l), Location::Span(p)) = (label, primary) else {
        return false;
    };
    let before = world.file(p.file).text.get(l.start..p.start);
    l.file == p.file && l.end >= p.end && before.is_some_and(|t| !t.contains('\n'))
}

#[cfg(test)]
mod condition_order_tests;

#[cfg(test)]
mod cut_values_tests;

#[cfg(test)]
mod tests {
    use super::*;

    /// An input with `n` ServiceAccounts, the first `suspects` not admitted by their trust,
    /// the ServiceAccount `i` in bucket `i`.
    fn irsa_input(n: usize, suspects: usize) -> regorus::Value {
        let accounts: Vec<Value> = (0..n)
            .map(|i| serde_json::json!({"name": format!("sa-{i}"), "admitted": i >= suspects, "part": i}))
            .collect();
        regorus::Value::from(serde_json::json!({"irsa": {"service_accounts": accounts}}))
    }

    #[test]
    fn irsa_is_evaluated_in_one_part_per_core_from_two_thousand_suspects() {
        assert_eq!(irsa_parts(&irsa_input(5_000, 1_999), 2), 1);
        assert_eq!(irsa_parts(&irsa_input(2_000, 2_000), 2), 2);
        assert_eq!(irsa_parts(&irsa_input(2_000, 2_000), 1), 1);
        assert_eq!(irsa_parts(&irsa_input(2_000, 2_000), 16), 8);
        assert_eq!(irsa_parts(&regorus::Value::new_object(), 2), 1);
    }

    #[test]
    fn each_part_judges_the_service_accounts_of_its_buckets_by_their_index() {
        let whole = irsa_input(7, 7);
        for k in 0..3 {
            let input = &part_input(&whole, 3, k);
            let part = &input["irsa_part"];
            assert_eq!(part["index"], regorus::Value::from(k));
            let judged = part["service_accounts"]
                .as_object()
                .unwrap_or_else(|e| panic!("{e}"));
            let indexes: Vec<usize> = judged
                .keys()
                .map(|i| i.as_u64().unwrap_or_else(|e| panic!("{e}")) as usize)
                .collect();
            let expected: Vec<usize> = (0..7).filter(|i| i % 3 == k).collect();
            assert_eq!(indexes, expected);
            for (i, sa) in judged.iter() {
                assert_eq!(sa, &input["irsa"]["service_accounts"][i]);
            }
        }
    }

    #[test]
    fn parts_are_merged_as_one_set_deny_first_each_item_once() {
        let v = |n: i64| regorus::Value::from(n);
        let merged = merge_sorted(vec![
            vec![("deny", v(1)), ("deny", v(4)), ("warn", v(2))],
            vec![("deny", v(2)), ("deny", v(4)), ("warn", v(1))],
            vec![],
        ]);
        assert_eq!(
            merged,
            vec![
                ("deny", v(1)),
                ("deny", v(2)),
                ("deny", v(4)),
                ("warn", v(1)),
                ("warn", v(2)),
            ]
        );
    }

    #[test]
    fn every_embedded_package_has_its_place_in_the_longest_first_order() {
        let set = PolicySet::load(&[], PolicyLimits::default()).unwrap_or_else(|e| panic!("{e}"));
        let mut packages: Vec<&str> = set.packages.iter().map(|(p, _)| p.as_str()).collect();
        let mut ranked = EMBEDDED_LONGEST_FIRST.to_vec();
        packages.sort_unstable();
        ranked.sort_unstable();
        assert_eq!(packages, ranked);
    }

    #[test]
    fn jobs_start_parts_first_then_user_packages_then_the_longest_embedded() {
        let embedded = |name: &str| {
            (
                format!("data.gitops_lint.{name}"),
                vec![format!("{EMBEDDED}{name}.rego")],
            )
        };
        // As `from_sources` keeps them: sorted by package name.
        let packages = vec![
            (
                "data.acme.rules".to_string(),
                vec!["acme/rules.rego".to_string()],
            ),
            embedded("irsa"),
            embedded("repos"),
            embedded("tenant"),
            embedded("tier"),
            embedded("tier_contract"),
            embedded("tier_names"),
        ];
        let whole = |p: usize| (p, None);
        let jobs = vec![
            whole(0),
            (1, Some(0)),
            (1, Some(1)),
            whole(2),
            whole(3),
            whole(4),
            whole(5),
            whole(6),
        ];
        let started: Vec<String> = longest_first(&jobs, &packages)
            .into_iter()
            .map(|i| match jobs[i] {
                (p, Some(k)) => format!("{} part {k}", packages[p].0),
                (p, None) => packages[p].0.clone(),
            })
            .collect();
        assert_eq!(
            started,
            [
                "data.gitops_lint.irsa part 0",
                "data.gitops_lint.irsa part 1",
                "data.acme.rules",
                "data.gitops_lint.tier",
                "data.gitops_lint.tier_names",
                "data.gitops_lint.repos",
                "data.gitops_lint.tier_contract",
                "data.gitops_lint.tenant",
            ]
        );
    }

    /// A label around the primary on its line (a module's `["t1/t1-batch"]` around the entry)
    /// is left out; near misses: a label that starts a line above (a list written one entry per
    /// line), one inside the primary, one beside it on the same line, one in another file.
    #[test]
    fn a_label_drawn_around_the_primary_on_its_line_is_left_out() {
        let mut world = World::default();
        let text = "  accounts = [\"t1/t1-batch\"]\n  list = [\n    \"t1/t1-cron\",\n  ]\n";
        for (i, name) in [(0, "a.tf"), (1, "b.tf")] {
            world.files.push(SourceFile::new(
                FileId(i),
                0,
                name.into(),
                name.into(),
                FileKind::Other,
                text.into(),
            ));
        }
        let at = |file: u32, what: &str, nth: usize| {
            let start = text.match_indices(what).nth(nth).map_or(0, |(i, _)| i);
            Location::Span(Span {
                file: FileId(file),
                start,
                end: start + what.len(),
            })
        };
        let entry = at(0, "\"t1/t1-batch\"", 0);
        assert!(drawn_around(&world, &entry, &entry));
        assert!(drawn_around(&world, &at(0, "[\"t1/t1-batch\"]", 0), &entry));
        assert!(!drawn_around(&world, &at(0, "t1/t1-batch", 0), &entry));
        assert!(!drawn_around(&world, &at(0, "accounts", 0), &entry));
        assert!(!drawn_around(
            &world,
            &at(1, "[\"t1/t1-batch\"]", 0),
            &entry
        ));
        let cron = at(0, "\"t1/t1-cron\"", 0);
        let list = Location::Span(Span {
            file: FileId(0),
            start: text.find("[\n").unwrap_or(0),
            end: text.find("  ]").unwrap_or(0) + 3,
        });
        assert!(!drawn_around(&world, &list, &cron));
        assert!(!drawn_around(&world, &Location::File(FileId(0)), &cron));
    }

    #[test]
    fn a_place_under_at_is_the_place_of_the_same_keys_at_the_top_and_a_label_there_is_left_out() {
        let mut world = World::default();
        world.files.push(SourceFile::new(
            FileId(0),
            0,
            "main.tf".into(),
            "infra-repo/main.tf".into(),
            FileKind::Other,
            "resource \"x\" \"y\" {}\n".into(),
        ));
        world.yaml.push(Vec::new());
        let evaluate = |rule: &str| {
            let text = format!(
                "package p\nimport rego.v1\nloc := {{\"file\": \"infra-repo/main.tf\", \"span\": [0, 8]}}\nother := {{\"file\": \"infra-repo/main.tf\", \"whole_file\": true}}\n{rule}\n"
            );
            PolicySet::from_sources(vec![("p.rego".into(), text)], PolicyLimits::default())
                .unwrap_or_else(|e| panic!("{e}"))
                .evaluate(serde_json::json!({}), &world)
        };
        let unions = evaluate(
            "deny contains object.union(loc, {\"rule\": \"p/r\", \"msg\": \"m\", \"related\": [object.union(other, {\"msg\": \"r\"})]})",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let nested = evaluate(
            "deny contains {\"at\": loc, \"rule\": \"p/r\", \"msg\": \"m\", \"related\": [{\"at\": loc, \"msg\": \"here\"}, {\"at\": other, \"msg\": \"r\"}]}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(nested.findings.len(), 1);
        // The label at the finding's own place is left out.
        assert_eq!(nested.findings[0].related.len(), 1);
        assert_eq!(
            nested.findings[0].primary,
            Location::Span(Span {
                file: FileId(0),
                start: 0,
                end: 8
            })
        );
        assert_eq!(
            nested.findings[0].related[0].location,
            Location::File(FileId(0))
        );
        assert_eq!(
            format!("{:?}", nested.findings),
            format!("{:?}", unions.findings)
        );
        // An `at` that is not an object is the policy's mistake, named as such.
        let err =
            evaluate("deny contains {\"at\": \"main.tf\", \"rule\": \"p/r\", \"msg\": \"m\"}")
                .err()
                .unwrap_or_else(|| panic!("should fail"));
        assert!(
            err.to_string()
                .contains("has an `at` that is not a location object"),
            "{err}"
        );
    }

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
        // The tenants' values are whole when a policy of the user's may read `input.tenants`.
        let loaded = |extra: &[(&str, &str)]| {
            let mut sources: Vec<(String, String)> = crate::POLICIES
                .iter()
                .filter(|(p, _)| !p.ends_with("_test.rego"))
                .map(|(p, t)| (format!("{EMBEDDED}{p}"), (*t).to_string()))
                .collect();
            sources.extend(extra.iter().map(|(n, t)| (n.to_string(), t.to_string())));
            PolicySet::from_sources(sources, PolicyLimits::default())
                .unwrap_or_else(|e| panic!("{e}"))
                .input_reads()
                .clone()
        };
        let whole_values = |extra: &[(&str, &str)]| loaded(extra).whole_values();
        assert!(!whole_values(&[]));
        // `input.infra.roles` only for a policy of the user's that may read `input.infra`.
        assert!(!loaded(&[]).infra_roles());
        assert!(!loaded(&[("mine.rego", "package mine\nx := input.tenants\n")]).infra_roles());
        assert!(loaded(&[("mine.rego", "package mine\nx := input.infra.roles\n")]).infra_roles());
        assert!(loaded(&[("mine.rego", "package mine\nx := input\n")]).infra_roles());
        assert!(!whole_values(&[(
            "mine.rego",
            "package mine
x := input.pools
"
        )]));
        assert!(whole_values(&[(
            "mine.rego",
            "package mine
x := input.tenants[0].values.region
"
        )]));
        assert!(whole_values(&[(
            "mine.rego",
            "package mine
x := input
"
        )]));
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
