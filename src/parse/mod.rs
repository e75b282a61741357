//! Parsers that keep positions: YAML (saphyr events), JSON, HCL, and tier-template placeholders.

pub mod hcl;
pub mod json;
pub mod locate;
pub mod placeholder;
pub mod scalar;
pub mod yaml;

/// A problem found while parsing, in byte offsets of the text that was parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseIssue {
    /// Rule id (`yaml/syntax`, `yaml/continued-list-item`, ...).
    pub rule: &'static str,
    /// First byte of the offending text.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}
