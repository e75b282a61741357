//! The command line: `gitops-lint [OPTIONS] [PATH]...`, `gitops-lint rules`,
//! `gitops-lint explain <RULE>`.

use crate::{appset_view, find_config, lint, Error, Options};
use clap::{Parser, Subcommand};
use gitops_lint_core::catalog;
use gitops_lint_core::finding::Level;
use gitops_lint_report::Format;
use std::io::Write;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  gitops-lint ./apps-repo                    lint one repository
  gitops-lint apps-repo infra-repo           lint both repositories as one system
  gitops-lint --format json . > lint.json    machine-readable findings
  gitops-lint --policy ./my-policies .       add your own Rego rules (package gitops_lint.<name>)
  gitops-lint --fail-on warning .            fail the gate on warnings too
  gitops-lint --fix --dry-run .              show the safe fixes as a diff, change nothing
  gitops-lint --fix .                        apply them (re-indent blocks, realign list items)
  gitops-lint --format human --output sarif=results.sarif .
                                             human on stdout, SARIF for code scanning in a file
  gitops-lint --format github .              GitHub annotations (+ $GITHUB_STEP_SUMMARY table)
  gitops-lint --changed-from origin/main .   lint everything, report what the PR touches
  gitops-lint --staged .                     the same for staged files (the pre-commit hook)
  gitops-lint --write-baseline b.json .      accept today's findings; then --baseline b.json
  gitops-lint init                           write a commented .gitops-lint.yaml for this repo
  gitops-lint appset bootstrap/children/tenants.yaml
                                             the Applications an ApplicationSet generates, offline
  gitops-lint --show-generated .             the same for every ApplicationSet of the repo
  gitops-lint rules                          list every rule
  gitops-lint explain tier/app-enablement    why a rule exists and how to fix it

Exit status: 0 no findings at or above --fail-on, 1 findings, 2 usage, config or policy error.
Configuration: .gitops-lint.yaml in the first PATH or the nearest parent up to the git root
(a regular file, not a link), or --config (tiers, pools, rule levels, ignore entries).
Style is opt-in: `presets: [style]` in the config turns on the rules that only judge layout
(indentation width, list style); everything else reported by default would break something.
Suppress one finding: `# gitops-lint: ignore[rule-id] reason` on its line or the line above.";

/// A policy linter and CI gate for GitOps repositories (Argo CD / Flux + Terraform).
#[derive(Parser, Debug)]
#[command(name = "gitops-lint", version, about, long_about = None, after_help = EXAMPLES,
          args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// Repository roots to lint together (apps-repo, infra-repo, or a monorepo). Default: `.`
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format; repeat it for several (all but one need `--output FORMAT=FILE`).
    #[arg(long, value_enum, default_value = "human")]
    format: Vec<Format>,

    /// A directory of extra Rego policies (`*.rego`, `*_test.rego` skipped). Repeatable.
    #[arg(long = "policy", value_name = "DIR")]
    policies: Vec<PathBuf>,

    /// Config file (default: `.gitops-lint.yaml` in the first PATH, else the nearest parent
    /// directory up to the git root).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Lowest level that makes the run fail (exit 1).
    #[arg(long, value_name = "LEVEL", default_value = "error", value_parser = ["error", "warning", "info"])]
    fail_on: String,

    /// Never colour the output (colour is only used on a terminal anyway).
    #[arg(long)]
    no_color: bool,

    /// Apply the safe fixes (indentation, folded list items), verified by re-parsing each file;
    /// files are replaced atomically, then everything is linted again and reported.
    #[arg(long)]
    fix: bool,

    /// With --fix: print the fixes as a unified diff and change nothing (exit 1 if any).
    #[arg(long, requires = "fix")]
    dry_run: bool,

    /// Print the Applications every ApplicationSet generates from this checkout (YAML, like
    /// `argocd appset generate` but offline) instead of the findings; see `gitops-lint appset`.
    #[arg(long)]
    show_generated: bool,
    #[command(flatten)]
    gate: crate::gate::GateArgs,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List every rule: id, default level, summary.
    Rules,
    /// Print a rule's page: what it checks, why, a failing example and the fix.
    Explain {
        /// The rule id, e.g. `tier/app-enablement`.
        rule: String,
    },
    /// Print the Applications an ApplicationSet generates from this checkout, offline.
    ///
    /// Like `argocd appset generate`, without a running Argo CD: git directories and files,
    /// list, cluster (clusters from the config's `clusters:`, default `in-cluster`), matrix and
    /// merge generators are evaluated against the checkout and the template is rendered as
    /// Argo CD renders it (fasttemplate or goTemplate). Each Application is a YAML document,
    /// preceded by `# generated for <element>`; findings about the expansion (a path that
    /// matches nothing, an unknown parameter, duplicate names, a generator that needs a live
    /// system) come first as comments. Exit status 1 when one of them is an error.
    #[command(
        after_help = "Examples:\n  gitops-lint appset bootstrap/children/tenants.yaml\n  gitops-lint appset --root apps-repo apps-repo/bootstrap/children/tenants.yaml\n\nThe repository root (where generator paths start) is the nearest directory above FILE\nnamed like the generator's repoURL (`.../apps-repo` -> `apps-repo/`), else the nearest one\nholding `.git` or `.gitops-lint.yaml`; `--root` sets it."
    )]
    Appset {
        /// ApplicationSet files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The repository root generator paths are relative to.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
        /// Config file (for `clusters:` and `newGitFileGlobbing`).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
    /// Run the language server on stdin/stdout, for editors (see the README's "Editors").
    ///
    /// Workspace folders are repository roots; `initializationOptions` may add
    /// `{"roots": [...]}` (the infra-repo beside the apps-repo) and `{"config": FILE}`.
    Lsp {
        /// Config file (default: discovered from the first workspace folder, as for a run).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Talk over stdin/stdout (the only transport; accepted because clients pass it).
        #[arg(long)]
        stdio: bool,
    },
    /// Write a commented `.gitops-lint.yaml` describing the detected layout.
    Init {
        /// The repository root (default: `.`).
        path: Option<PathBuf>,
        /// Overwrite an existing `.gitops-lint.yaml`.
        #[arg(long)]
        force: bool,
    },
}

/// Parses `std::env::args`, runs, and returns the exit code.
pub fn main() -> u8 {
    // A child started by `policy::sandbox` to evaluate one `--policy` package (not a user
    // command: it reads its request from standard input).
    if std::env::args_os().nth(1).as_deref()
        == Some(std::ffi::OsStr::new(
            gitops_lint_rules::policy::sandbox::SANDBOX_ARG,
        ))
    {
        return gitops_lint_rules::policy::sandbox::child_main();
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors quote config keys and values: escaped, so none starts a line that the
            // Actions runner would read as a workflow command.
            eprintln!(
                "gitops-lint: error: {}",
                gitops_lint_core::escape::terminal(&e.to_string())
            );
            2
        }
    }
}

fn run(cli: Cli) -> Result<u8, Error> {
    let mut stdout = std::io::stdout().lock();
    match cli.command {
        Some(Command::Rules) => {
            for page in catalog::pages() {
                // A preset rule is off until its preset is turned on; say at which level then.
                let (level, preset) = match &page.preset {
                    Some(p) => (
                        "off".to_string(),
                        format!(" (preset `{p}`: {})", page.level),
                    ),
                    None => (page.level.to_string(), String::new()),
                };
                let _ = writeln!(
                    stdout,
                    "{:<42} {:<8} {}{preset}",
                    page.id, level, page.summary
                );
            }
            return Ok(0);
        }
        Some(Command::Explain { rule }) => {
            return match catalog::page(&rule) {
                Some(page) => {
                    let _ = write!(stdout, "{}", page.text);
                    Ok(0)
                }
                None => Err(Error::Usage(format!(
                    "no rule `{rule}`; `gitops-lint rules` lists them"
                ))),
            };
        }
        Some(Command::Lsp { config, stdio: _ }) => {
            drop(stdout);
            return Ok(crate::lsp::run(config));
        }
        Some(Command::Init { path, force }) => {
            let path = path.unwrap_or_else(|| PathBuf::from("."));
            let written = crate::init::run(&path, force).map_err(Error::Usage)?;
            let _ = writeln!(stdout, "gitops-lint: wrote {}", written.display());
            return Ok(0);
        }
        Some(Command::Appset {
            files,
            root,
            config,
        }) => {
            let root = match root {
                Some(r) => r,
                None => appset_view::guess_root(&files)?,
            };
            let paths = vec![root.clone()];
            let mut config = find_config(config.as_ref(), &paths)?;
            config.appset_root_fallback = true;
            let options = Options {
                paths,
                policy_dirs: Vec::new(),
                policy_sandbox: None,
            };
            let outcome = lint(&options, &config)?;
            let only = appset_view::relative_to(&root, &files)?;
            let _ = stdout.write_all(
                appset_view::render(&outcome.world, &outcome.findings, &only).as_bytes(),
            );
            return Ok(u8::from(appset_view::has_errors(
                &outcome.world,
                &outcome.findings,
                &only,
            )));
        }
        None => {}
    }
    let config = find_config(cli.config.as_ref(), &cli.paths)?;
    let options = Options {
        paths: cli.paths.clone(),
        policy_dirs: cli.policies.clone(),
        // `--policy` packages run in children of this very binary (`policy::sandbox`).
        policy_sandbox: std::env::current_exe().ok(),
    };
    let mut outcome = lint(&options, &config)?;
    if cli.fix {
        let fixes = crate::fix::plan(&outcome.world, &config);
        let count: usize = fixes.iter().flat_map(|f| f.applied.values()).sum();
        if cli.dry_run {
            for f in &fixes {
                let _ = stdout.write_all(f.diff().as_bytes());
            }
            eprintln!(
                "gitops-lint: --dry-run: {count} fixes in {} files would be applied",
                fixes.len()
            );
            return Ok(u8::from(count > 0));
        }
        for f in &fixes {
            f.write().map_err(|e| {
                Error::Usage(format!("cannot write the fix to `{}`: {e}", f.display))
            })?;
            let rules: Vec<String> = f.applied.iter().map(|(r, n)| format!("{r} x{n}")).collect();
            eprintln!(
                "gitops-lint: fixed {}: {}",
                gitops_lint_core::escape::terminal_path(&f.display),
                rules.join(", ")
            );
        }
        if !fixes.is_empty() {
            outcome = lint(&options, &config)?;
        }
    }
    if cli.show_generated {
        let _ = stdout
            .write_all(appset_view::render(&outcome.world, &outcome.findings, &[]).as_bytes());
        return Ok(u8::from(appset_view::has_errors(
            &outcome.world,
            &outcome.findings,
            &[],
        )));
    }
    let fail_on = Level::parse(&cli.fail_on).unwrap_or(Level::Error);
    drop(stdout);
    crate::gate::finish(
        outcome,
        &config,
        &cli.gate,
        &cli.format,
        fail_on,
        cli.no_color,
    )
}
