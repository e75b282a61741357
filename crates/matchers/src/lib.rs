//! Pattern matchers and name syntax. Each module is a port of one upstream behaviour and is
//! named after it, so that a rule says which program's reading it reproduces:
//!
//! - [`go_path`]: Go `path.Match` (Argo CD git `directories` generator, config paths);
//! - [`gobwas`]: `github.com/gobwas/glob` (AppProject `sourceRepos` and `destinations`);
//! - [`git_files`]: git pathspec and doublestar (the git `files` generator);
//! - [`iam`]: IAM `StringLike` (trust policy conditions);
//! - [`k8s_names`]: Kubernetes DNS-1123 names and Helm release names;
//! - [`git_url`]: git URL normalisation (Argo CD `NormalizeGitURL`, same-repo keys);
//! - [`paths`]: every repository-path join and normaliser;
//!
//! It depends on no other crate of the workspace.

pub mod git_files;
pub mod git_url;
pub mod go_path;
pub mod gobwas;
pub mod iam;
pub mod k8s_names;
pub mod paths;
