//! The `gitops-lint` command: parse arguments, run the library, exit 0 / 1 / 2.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(gitops_lint::cli::main())
}
