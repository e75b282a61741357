//! Parsers that keep positions: YAML (saphyr events), JSON, HCL, and tier-template placeholders.

pub mod hcl;
pub mod json;
pub mod lints;
pub mod locate;
pub mod placeholder;
pub mod pointer;
pub mod scalar;
mod text;
pub mod yaml;

use gitops_lint_core::source::{FileKind, SourceFile};
use gitops_lint_core::RuleId;
use std::borrow::Cow;

/// Input text quoted in a message, cut to [`QUOTED_CHARS`] characters with `…`: a message
/// repeats per finding, and a scalar of a megabyte folded over 20,000 lines would otherwise be
/// written out once for each of them.
pub(crate) fn quoted(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(QUOTED_CHARS) {
        None => Cow::Borrowed(text),
        Some((cut, _)) => Cow::Owned(format!("{}…", &text[..cut])),
    }
}

/// Most characters of input text a message quotes.
pub(crate) const QUOTED_CHARS: usize = 120;

/// The text of a file as the parsers see it: tier templates get their `{PLACEHOLDER}` tokens
/// masked with same-length stand-ins, so byte offsets are the same in both.
pub fn parse_text(file: &SourceFile) -> Cow<'_, str> {
    parse_text_of(file.kind, &file.text)
}

/// [`parse_text`] for a file's text kept apart from its [`SourceFile`].
pub fn parse_text_of(kind: FileKind, text: &str) -> Cow<'_, str> {
    if kind == FileKind::TierTemplate {
        placeholder::mask(text)
    } else {
        Cow::Borrowed(text)
    }
}

/// A problem found while parsing, in byte offsets of the text that was parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseIssue {
    /// Rule id (`yaml/syntax`, `yaml/continued-list-item`, ...).
    pub rule: RuleId,
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
    /// What the issue does to the file's readers (typed, so that callers never decide by the
    /// message's wording).
    pub effect: IssueEffect,
}

/// What an issue does to the programs that read the file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IssueEffect {
    /// The file is read; the issue is about what it says.
    #[default]
    Readable,
    /// The file does not parse because of this (an indentation no sibling explains).
    StopsParsing,
    /// A control character: parsers reject the file or keep the character invisibly, and the
    /// parser's own error nearby is usually this.
    ControlCharacter,
}

impl Default for ParseIssue {
    /// A `yaml/syntax` issue at offset 0; callers set what they know.
    fn default() -> Self {
        ParseIssue::new(RuleId::YAML_SYNTAX, 0, 0, String::new())
    }
}

impl ParseIssue {
    /// An issue without help, related places or fix.
    pub fn new(rule: RuleId, start: usize, end: usize, message: impl Into<String>) -> Self {
        ParseIssue {
            rule,
            start,
            end,
            message: message.into(),
            help: None,
            related: Vec::new(),
            fix: None,
            effect: IssueEffect::Readable,
        }
    }

    /// Marks what the issue does to the file's readers.
    pub(crate) fn with_effect(mut self, effect: IssueEffect) -> Self {
        self.effect = effect;
        self
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
