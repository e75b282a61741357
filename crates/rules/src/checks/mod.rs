//! Native checks: what Rego does badly (Kustomize
//! references against the tree, raw-text placeholder tokens, rendering tier templates;
//! token-level YAML traps are reported by the loader). Each family has its own module; each
//! check is registered in [`crate::registry::CHECKS`].

pub mod appset;
pub mod argocd;
pub(crate) mod flux;
pub mod image_updater;
pub(crate) mod k8s_apis;
pub(crate) mod kustomize;
pub(crate) mod template;
pub(crate) mod unknown_kinds;
pub(crate) mod unrendered;
pub(crate) mod workflow;
