//! Parsers that keep positions: YAML (saphyr events), JSON, HCL, and tier-template placeholders.

pub mod hcl;
pub mod json;
pub mod lints;
pub mod locate;
pub mod placeholder;
pub mod scalar;
pub mod text;
pub mod yaml;

/// A problem found while parsing, in byte offsets of the text that was parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
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
    /// Secondary places (`start`, `end`, what they show), in the same text.
    pub related: Vec<(usize, usize, String)>,
    /// An automatic fix, when one is safe.
    pub fix: Option<Box<Fix>>,
}

impl ParseIssue {
    /// An issue without help, related places or fix.
    pub fn new(rule: &'static str, start: usize, end: usize, message: impl Into<String>) -> Self {
        ParseIssue {
            rule,
            start,
            end,
            message: message.into(),
            ..ParseIssue::default()
        }
    }

    /// Adds a help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
}

/// What a fix promises, which decides how `--fix` verifies it before writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixKind {
    /// Only whitespace moves; every document must load to the same value afterwards.
    Preserving,
    /// Changes the value the way the author evidently meant (a folded list item becomes its
    /// own item); the file must still parse, and the finding must be gone.
    Intended,
}

/// Byte edits to one file, applied together.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix promises.
    pub kind: FixKind,
    /// Non-overlapping replacements (`start`, `end`, new text), in any order.
    pub edits: Vec<(usize, usize, String)>,
}
