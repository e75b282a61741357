//! gitops-lint: a policy linter and CI gate for GitOps repositories.
//!
//! One pass from files to findings:
//!
//! ```text
//! discover -> load (parallel: YAML/JSON/HCL with positions) -> World (tenants, pools, indexes)
//!   -> derive (ApplicationSets expanded, Terraform evaluated, Helm ServiceAccounts rendered)
//!   -> checks (native Rust) + policies (embedded and user Rego) -> levels -> report
//! ```
//!
//! [`lint`] is the whole pipeline; `main` only parses arguments and prints. Each stage is a
//! crate of its own (see `ARCHITECTURE.md`); this crate only wires them together and holds the
//! command line.

pub mod appset_view;
pub mod cli;
pub mod fix;
pub mod gate;
pub mod init;
pub mod lsp;
pub mod memory;

use gitops_lint_config::{self as config, Config, ConfigError};
use gitops_lint_core::finding::Finding;
use gitops_lint_gate::levels::apply_levels;
use gitops_lint_model::load::{self, RepoInput};
use gitops_lint_model::World;
use gitops_lint_rules::policy::{self, PolicyError, PolicyLimits, PolicySet};
use gitops_lint_rules::registry;
use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// What to lint and with which policies.
#[derive(Clone, Debug)]
pub struct Options {
    /// Repository roots, as the user typed them.
    pub paths: Vec<PathBuf>,
    /// Extra policy directories.
    pub policy_dirs: Vec<PathBuf>,
    /// The executable that evaluates the `--policy` packages in child processes, each
    /// capped in memory (`limits.regoMemoryBytes`): the `gitops-lint` binary, which the CLI
    /// names here. `None` evaluates them in this process, bounded in time only.
    pub policy_sandbox: Option<PathBuf>,
}

/// The result of a run: the World (for printing source lines) and the resolved, sorted findings.
pub struct Outcome {
    /// Everything that was loaded.
    pub world: World,
    /// Findings with exact spans, in output order.
    pub findings: Vec<Finding>,
    /// Wall time of each stage, in pipeline order (for the benchmark). Stages that ran at once
    /// come each with its own time, then the lap they took together.
    pub timings: Vec<(&'static str, Duration)>,
    /// Rule ids the loaded policies emit, beside the catalog's (for inline suppressions).
    pub policy_rules: BTreeSet<String>,
}

/// Why a run could not produce findings (exit code 2).
#[derive(Debug)]
pub enum Error {
    /// Bad command-line use.
    Usage(String),
    /// A bad config file.
    Config(ConfigError),
    /// A policy that does not compile or fails at run time (not one that runs out of a
    /// budget: that is a `gitops/budget-exceeded` finding).
    Policy(PolicyError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(m) => f.write_str(m),
            Error::Config(e) => write!(f, "config error: {e}"),
            Error::Policy(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Turns the PATH arguments into repository inputs (checking that they exist).
pub fn repo_inputs(paths: &[PathBuf]) -> Result<Vec<RepoInput>, Error> {
    let paths = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    paths
        .into_iter()
        .map(|p| {
            if !p.is_dir() {
                return Err(Error::Usage(format!(
                    "`{}` is not a directory; give the root of an apps-repo or infra-repo",
                    p.display()
                )));
            }
            let display = gitops_lint_core::read::slash_path(&p);
            let display = display.trim_end_matches('/').to_string();
            Ok(RepoInput {
                root: p,
                display: if display == "." {
                    String::new()
                } else {
                    display
                },
            })
        })
        .collect()
}

/// Finds the config: `--config FILE`, else `.gitops-lint.yaml` in the first repository root or
/// the nearest directory above it within its git checkout (stopping at the directory holding
/// `.git`). A discovered config must be a regular file ([`Config::from_discovered`]).
pub fn find_config(explicit: Option<&PathBuf>, paths: &[PathBuf]) -> Result<Config, Error> {
    if let Some(path) = explicit {
        return Config::from_file(path).map_err(Error::Config);
    }
    let first = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
    match config::discover(&first) {
        Some(found) => Config::from_discovered(&found).map_err(Error::Config),
        None => Ok(Config::default()),
    }
}

/// Runs the whole pipeline.
pub fn lint(options: &Options, config: &Config) -> Result<Outcome, Error> {
    lint_overlaid(options, config, &load::Overlay::new(), None)
}

/// [`lint`], with the files of `overlay` (editor buffers) read from it instead of the disk,
/// and unchanged files' parses reused from `cache` (the language server's).
pub fn lint_overlaid(
    options: &Options,
    config: &Config,
    overlay: &load::Overlay,
    cache: Option<&load::ParseCache>,
) -> Result<Outcome, Error> {
    let mut laps = Laps::start();
    let purge_at_once = memory::PurgeAtOnce::start();
    let inputs = repo_inputs(&options.paths)?;
    let policy_limits = PolicyLimits::from_config(&config.limits);
    let policies = PolicySet::load(&options.policy_dirs, policy_limits).map_err(Error::Policy)?;
    config
        .check_rule_ids(|id| policies.rule_ids().contains(id))
        .map_err(Error::Config)?;
    // `schemas:` files are refused before anything is linted if the config's paths are wrong.
    let schema_crds = config
        .schema_files()
        .and_then(|files| load::schema_crds(&files, config))
        .map_err(Error::Config)?;
    laps.lap("compile policies");
    let (mut world, mut findings) = load::load_overlaid(&inputs, config, overlay, cache);
    world.schema_crds = schema_crds;
    laps.lap("discover + read + parse");
    findings.extend(gitops_lint_derive::derive(&mut world, config));
    laps.lap("derive (appsets, terraform, helm)");
    // Why beside the policies: both only read the World, and with many findings one Rego
    // package (`irsa`) keeps a single core busy for most of the evaluation while the other
    // has finished its packages; the native checks fill that core instead of running first.
    let ((native, native_time), (evaluated, input_time, evaluate_time)) = rayon::join(
        || timed(|| registry::run_checks(&world, config)),
        || {
            let (input, input_time) =
                timed(|| policy::input::build_for(&world, config, policies.input_reads()));
            // The peak of a clean run is behind: see `memory`.
            drop(purge_at_once);
            let (evaluated, evaluate_time) =
                timed(|| policies.evaluate_input(input, &world, options.policy_sandbox.as_deref()));
            (evaluated, input_time, evaluate_time)
        },
    );
    let evaluated = evaluated.map_err(Error::Policy)?;
    // In the order they were found before the join: derive, native, policies (a finding's
    // place in the list breaks ties when sorting).
    findings.extend(native);
    findings.extend(evaluated.findings);
    findings.extend(policy::budget_findings(
        &mut world,
        policy_limits,
        evaluated.budget_hits,
    ));
    // Stages that ran at once: each one's own time, then the lap they took together.
    laps.add("native checks (beside the policies)", native_time);
    laps.add("build policy input", input_time);
    laps.add("evaluate policies", evaluate_time);
    laps.lap("native checks + policies, at once");
    let findings = apply_levels(findings, config);
    let findings = gitops_lint_report::resolve(&world, findings);
    laps.lap("resolve + sort findings");
    Ok(Outcome {
        world,
        findings,
        timings: laps.timings,
        policy_rules: policies.rule_ids().clone(),
    })
}

/// The wall time of each stage of a run, for the benchmark and the language server's log.
struct Laps {
    timings: Vec<(&'static str, Duration)>,
    clock: Instant,
}

impl Laps {
    fn start() -> Self {
        Laps {
            timings: Vec::new(),
            clock: Instant::now(),
        }
    }

    /// Ends the stage `name`: the time since the last lap.
    fn lap(&mut self, name: &'static str) {
        self.timings.push((name, self.clock.elapsed()));
        self.clock = Instant::now();
    }

    /// Notes a stage timed on its own (one of several that ran at once).
    fn add(&mut self, name: &'static str, time: Duration) {
        self.timings.push((name, time));
    }
}

/// Runs `f`, and says how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    (f(), started.elapsed())
}

/// Opts this process (and the processes it starts) out of transparent huge pages. Why:
/// mimalloc asks for them (`madvise(MADV_HUGEPAGE)`, mimalloc `src/prim/unix/prim.c`), so
/// every first touch of a 2 MiB region zeroes all of it; a run touches its memory once,
/// sparsely, and zeroing was 15% of the CPU profile of the 10,000-tenant benchmark
/// (`perf record -g`: `clear_page_erms` under `do_huge_pmd_anonymous_page`). Off, the run's
/// peak memory is 12% lower, at the same speed. The kernel checks the flag at each fault
/// (`PR_SET_THP_DISABLE`, prctl(2)), so memory mapped before this call is covered too.
/// Failure (an old kernel) changes nothing but memory.
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and touches no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
