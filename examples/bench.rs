//! Scaling benchmark: generate a repo pair with `gen_repo`, then lint it several times through
//! the library and print per-stage wall times, files/s and peak memory. Budgets live here, not in
//! timed unit tests.
//!
//! ```text
//! cargo run --release --example gen_repo -- --tenants 10000 --out /tmp/gen10k
//! cargo run --release --example bench -- /tmp/gen10k [runs]
//! ```
//!
//! The issue's sizes are 1,000, 10,000 and 40,000 tenants: generate each into its own directory
//! (`--tenants 1000 --out /tmp/gen1k`, `--tenants 40000 --out /tmp/gen40k`) and give that
//! directory. Beside the stages it prints the floor of the first stage: reading every file and
//! running saphyr-parser's event stream over the YAML ones, in parallel, with nothing built.

use gitops_lint::{lint, Options};
use gitops_lint_config::Config;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// The same allocator as the `gitops-lint` binary, so the stage times are the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Peak resident memory of this process, from /proc (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Every file under `dir`, recursively (hidden directories too: `.github`).
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() => files_under(&path, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// The read + parse floor: read every file under the repositories and run saphyr-parser's
/// events over the `.yaml`/`.yml` ones, building nothing. Returns (files, events).
fn read_parse_floor(roots: &[PathBuf]) -> (usize, usize) {
    let mut files = Vec::new();
    for root in roots {
        files_under(root, &mut files);
    }
    let events = files
        .par_iter()
        .map(|p| {
            let Ok(text) = std::fs::read_to_string(p) else {
                return 0;
            };
            let yaml = p.extension().is_some_and(|e| e == "yaml" || e == "yml");
            if !yaml {
                return 0;
            }
            saphyr_parser::Parser::new_from_str(&text)
                .take_while(Result::is_ok)
                .count()
        })
        .sum();
    (files.len(), events)
}

/// The fastest run: total time, per-stage times, files, findings.
type Run = (
    Duration,
    Vec<(&'static str, Duration)>,
    usize,
    usize,
    gitops_lint_model::World,
);

/// Prints a line of the report. Why not `println!`: it panics when standard output is closed
/// (`bench DIR | head -3`); the report then simply ends, as a command's output does.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if writeln!(std::io::stdout(), $($arg)*).is_err() {
            std::process::exit(0);
        }
    }};
}

fn main() {
    // As the CLI does (`src/main.rs`), so the stages are the CLI's.
    gitops_lint::no_transparent_huge_pages();
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next().map(PathBuf::from) else {
        eprintln!("usage: bench <dir with apps-repo/ and infra-repo/> [runs]");
        std::process::exit(2);
    };
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let options = Options {
        paths: vec![dir.join("apps-repo"), dir.join("infra-repo")],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let config = Config::default();
    let mut best: Option<Run> = None;
    for _ in 0..runs {
        let started = Instant::now();
        let outcome = match lint(&options, &config) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("bench: {e}");
                std::process::exit(2);
            }
        };
        let total = started.elapsed();
        if best.as_ref().is_none_or(|b| total < b.0) {
            best = Some((
                total,
                outcome.timings,
                outcome.world.files.len(),
                outcome.findings.len(),
                outcome.world,
            ));
        }
    }
    let Some((total, timings, files, findings, world)) = best else {
        return;
    };
    say!("{} files, {findings} findings, best of {runs} runs", files);
    for (stage, t) in &timings {
        say!("  {stage:<26} {:>8.1} ms", t.as_secs_f64() * 1e3);
    }
    say!("  {:<26} {:>8.1} ms", "total", total.as_secs_f64() * 1e3);
    say!(
        "  {:<26} {:>8.0} files/s",
        "throughput",
        files as f64 / total.as_secs_f64()
    );
    // The cross-repository stages on their own (already inside the laps above), best of `runs`.
    let time = |f: &dyn Fn() -> usize| {
        (0..runs.max(1))
            .map(|_| {
                let t = Instant::now();
                let n = f();
                (t.elapsed(), n)
            })
            .min()
            .unwrap_or_default()
    };
    let (tf, roles) = time(&|| {
        gitops_lint_derive::terraform::evaluate(&world, &[], &config.limits)
            .0
            .roles
            .len()
    });
    say!(
        "  of which terraform eval   {:>8.1} ms ({roles} roles, {} instances, {} ServiceAccounts)",
        tf.as_secs_f64() * 1e3,
        world.infra.instances.len(),
        world.service_accounts.len()
    );
    let (ap, apps) = time(&|| gitops_lint_derive::appset::expand(&world, &config).0.len());
    say!(
        "  of which appset expansion {:>8.1} ms ({apps} Applications)",
        ap.as_secs_f64() * 1e3
    );
    let (hl, accounts) = time(&|| {
        gitops_lint_derive::helm::service_accounts(&world, &config)
            .accounts
            .len()
    });
    say!(
        "  of which helm rendering   {:>8.1} ms ({accounts} ServiceAccounts)",
        hl.as_secs_f64() * 1e3
    );
    let (floor, events) = time(&|| read_parse_floor(&options.paths).1);
    say!(
        "  read + parse floor        {:>8.1} ms ({events} saphyr events; files read, nothing built)",
        floor.as_secs_f64() * 1e3
    );
    if let Some(mib) = peak_rss_mib() {
        say!("  {:<26} {:>8.0} MiB", "peak memory", mib);
    }
}
