//! The `gitops-lint` command: parse arguments, run the library, exit 0 / 1 / 2.

// Why: a run allocates and frees millions of small values; glibc malloc cost ~25% of the CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    gitops_lint::no_transparent_huge_pages();
    std::process::ExitCode::from(gitops_lint::cli::main())
}
