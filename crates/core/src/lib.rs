//! The bottom of the crate graph: the coordinates every finding is expressed in (files, byte
//! spans, node paths), findings with their locations and levels, and the rule catalog with its
//! generated [`catalog::RuleId`]s, and freeing large values off the critical path
//! ([`background`]). It depends on no other crate of the workspace.

pub mod background;
pub mod catalog;
pub mod escape;
pub mod finding;
pub mod read;
pub mod source;

pub use catalog::RuleId;
