//! `gitops-lint lsp`: a language server over stdio, so mistakes show where tenant files are
//! written instead of minutes later in CI.
//!
//! Each workspace folder is a repository root; extra roots (the infra-repo beside the
//! apps-repo) come from `initializationOptions.roots`. On every open, change (debounced) and
//! save the whole system is linted again, with the editor's unsaved buffers read instead of the
//! files on disk ([`gitops_lint_model::load::Overlay`]), because a finding in one file can come
//! from another (a role in Terraform, a tier template). Findings become diagnostics
//! ([`convert`]); the safe `--fix` fixes and inline suppressions become code actions
//! ([`actions`]); hover shows what a value joins to (`gitops_lint_nav`) and a diagnostic's rule
//! page ([`hover`]); go-to-definition follows the same joins.
//!
//! The transport is rust-analyzer's `lsp-server` (synchronous: one thread reads stdin, one
//! writes stdout, the loop in [`server`] owns all state), with `lsp-types`.

pub mod actions;
pub mod convert;
pub mod documents;
pub mod hover;
pub mod server;

pub use server::run;
