//! Times `NavIndex::build` and requests on a generated tree:
//!
//! ```text
//! cargo build --release --examples
//! target/release/examples/gen_repo --tenants 10000 --out /tmp/nav10k
//! target/release/examples/nav_bench /tmp/nav10k/apps-repo /tmp/nav10k/infra-repo
//! ```
//!
//! Prints the load + derive time (what the lint run pays anyway), the index build time (best
//! and median of 7), and the mean time of hover and definition requests on tenant files (the
//! first request on a file parses it; the second is a lookup).

use gitops_lint_config::Config;
use gitops_lint_nav::{load_world, NavIndex};
use std::path::PathBuf;
use std::time::{Duration, Instant};

// As in the `gitops-lint` binary (src/main.rs), which the language server runs in.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: nav_bench APPS_REPO [INFRA_REPO...]");
        std::process::exit(2);
    }
    let config = gitops_lint_config::discover(&paths[0])
        .map(|c| Config::from_discovered(&c).unwrap_or_else(|e| panic!("{e}")))
        .unwrap_or_default();
    let clock = Instant::now();
    let (world, _) = load_world(&paths, &config);
    println!(
        "load + derive: {:?} ({} files, {} tenants, {} roles, {} service accounts)",
        clock.elapsed(),
        world.files.len(),
        world.tenants.len(),
        world.infra.roles.len(),
        world.service_accounts.len()
    );
    let mut times: Vec<Duration> = Vec::new();
    let mut cpu: Vec<Duration> = Vec::new();
    let mut index = None;
    // `NAV_BUILDS=40` for profiling the build alone.
    let builds = std::env::var("NAV_BUILDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(7);
    for _ in 0..builds {
        let clock = Instant::now();
        let cpu_start = thread_cpu();
        let built = NavIndex::build(&world);
        times.push(clock.elapsed());
        cpu.push(thread_cpu().saturating_sub(cpu_start));
        index = Some(built);
    }
    times.sort();
    cpu.sort();
    println!(
        "NavIndex::build: wall best {:?}, median {:?}; CPU best {:?}, median {:?}",
        times[0],
        times[times.len() / 2],
        cpu[0],
        cpu[cpu.len() / 2]
    );
    let Some(nav) = index else { return };

    // Requests on the accountId, tenantId and envId of every 10th tenant file.
    let tenant_files: Vec<_> = world
        .tenants
        .iter()
        .filter(|t| !t.template)
        .step_by(10)
        .map(|t| (t.file.clone(), world.file(t.file_id).text.clone()))
        .collect();
    for round in ["first (parses the file)", "again (cached)"] {
        let mut n = 0u32;
        let mut answered = 0u32;
        let clock = Instant::now();
        for (file, text) in &tenant_files {
            for needle in ["accountId: ", "tenantId: ", "envId: "] {
                let Some(at) = text.find(needle) else {
                    continue;
                };
                let at = at + needle.len() + 1;
                n += 2;
                answered += u32::from(nav.hover(file, at).is_some());
                answered += u32::from(!nav.definition(file, at).is_empty());
            }
        }
        let spent = clock.elapsed();
        println!(
            "{n} requests {round}: {:?} each on average, {answered} answered",
            spent / n.max(1)
        );
    }
}

/// CPU time of this thread so far.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec; the clock id is a constant libc defines.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) } == 0;
    if !ok {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}
