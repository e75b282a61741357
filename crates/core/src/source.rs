//! Source files, byte spans and node paths: the coordinates every finding is expressed in.

use crate::catalog::RuleId;
pub use compact_str::CompactString;
use serde::Serialize;
use std::fmt;
use std::sync::OnceLock;

/// Index of a [`SourceFile`] in the World's file list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one source file (`start..end`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file the range is in.
    pub file: FileId,
    /// First byte (inclusive).
    pub start: usize,
    /// Last byte (exclusive).
    pub end: usize,
}

/// One step of a path into a YAML/JSON document: a mapping key or a sequence index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PathSeg {
    /// A mapping key. Why not a `String`: a run keeps hundreds of thousands of paths (every
    /// ServiceAccount, tenant and release has several), nearly every key fits inline, and a
    /// `String` was an allocation per key.
    Key(CompactString),
    /// A sequence index.
    Index(usize),
}

/// A key as a string, an index as a number (the policy input and JSON output).
impl Serialize for PathSeg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PathSeg::Key(k) => s.serialize_str(k),
            PathSeg::Index(i) => s.serialize_u64(*i as u64),
        }
    }
}

impl fmt::Display for PathSeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathSeg::Key(k) => f.write_str(k),
            PathSeg::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// Builds a path from string keys (convenience for checks).
pub fn key_path(keys: &[&str]) -> Vec<PathSeg> {
    path_below(&[], keys)
}

/// The path of `keys` below `parent`, allocated at its size. Why: a path a model value keeps
/// for the whole run (a tenant's, a ServiceAccount's place) would otherwise keep the spare room
/// of a clone grown by a push.
pub fn path_below(parent: &[PathSeg], keys: &[&str]) -> Vec<PathSeg> {
    let mut path = Vec::with_capacity(parent.len() + keys.len());
    path.extend_from_slice(parent);
    path.extend(keys.iter().map(|k| PathSeg::Key((*k).into())));
    path
}

/// Renders a path the way people write it: `spec.source.helm.values`.
pub fn display_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// What a file is, decided from its path during discovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// A Kubernetes / Argo CD / Flux manifest (YAML).
    Manifest,
    /// A tier template with `{PLACEHOLDER}` tokens (YAML once rendered).
    TierTemplate,
    /// A Kustomize `kustomization.yaml`.
    Kustomization,
    /// A Helm chart's `values*.yaml`.
    ChartValues,
    /// A Helm chart's `templates/` file: a Go template, not YAML.
    ChartTemplate,
    /// A GitHub Actions workflow (or a Gitea/Forgejo one: the same syntax and parser family).
    Workflow,
    /// Another program's YAML: another CI system (GitLab CI, Drone, Buildkite, Codefresh,
    /// CircleCI), a repository tool's config (dependabot, pre-commit, goreleaser, codecov,
    /// mkdocs, yamllint, golangci-lint, docker compose). Checked for syntax and duplicate keys
    /// only: nothing that assumes Kubernetes applies.
    ToolConfig,
    /// A Terraform `.tf` file.
    Terraform,
    /// `tenants.json` or another JSON data file read by Terraform.
    Json,
    /// Anything else: recorded in the tree, not read.
    Other,
}

impl FileKind {
    /// Whether files of this kind are parsed as YAML.
    pub fn is_yaml(self) -> bool {
        matches!(
            self,
            FileKind::Manifest
                | FileKind::TierTemplate
                | FileKind::Kustomization
                | FileKind::ChartValues
                | FileKind::Workflow
                | FileKind::ToolConfig
        )
    }
}

/// Byte offsets at which each line of `text` starts (line 0 starts at 0).
pub fn line_starts(text: &str) -> Vec<usize> {
    // Why memchr: this runs over every YAML text the loader lints, and a byte-by-byte filter
    // was 1.3% of a clean 10,000-tenant run's CPU samples.
    let mut starts = vec![0];
    starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
    starts
}

/// One file read from a repository, with what is needed to turn byte offsets into lines.
#[derive(Debug)]
pub struct SourceFile {
    /// This file's id.
    pub id: FileId,
    /// Index of the repository (command-line PATH) it belongs to.
    pub repo: usize,
    /// Path relative to the repository root, with `/` separators.
    pub rel_path: String,
    /// The path shown to people: the PATH given on the command line joined with `rel_path`.
    pub display: String,
    /// What the file is.
    pub kind: FileKind,
    /// The text (invalid UTF-8 is replaced; the loader reports it).
    pub text: String,
    /// Where each line starts, indexed on the first line asked: most files never have a
    /// finding (on 10,000 tenants the tables were 5 MiB of the heap's peak).
    line_starts: OnceLock<Vec<usize>>,
    /// Character counts for columns, built on the first column asked (few files have findings).
    chars: OnceLock<CharIndex>,
}

/// Characters before a byte offset in O(1): `None` for ASCII text (a byte is a character),
/// else the count of characters before every [`CHAR_STRIDE`]-th byte, so a lookup counts at
/// most one stride of bytes instead of the whole line (a minified line is megabytes long, and
/// it may carry a finding on every key).
#[derive(Debug)]
struct CharIndex(Option<Vec<usize>>);

/// Bytes between two checkpoints of [`CharIndex`].
const CHAR_STRIDE: usize = 256;

/// Whether a byte starts a character (is not a UTF-8 continuation byte).
fn starts_char(b: &u8) -> bool {
    (*b as i8) >= -0x40
}

impl CharIndex {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return CharIndex(None);
        }
        let mut counts = Vec::with_capacity(text.len() / CHAR_STRIDE + 1);
        let mut total = 0;
        for block in text.as_bytes().chunks(CHAR_STRIDE) {
            counts.push(total);
            total += block.iter().filter(|b| starts_char(b)).count();
        }
        counts.push(total);
        CharIndex(Some(counts))
    }

    /// Characters that start before byte `at` of `text`.
    fn before(&self, text: &str, at: usize) -> usize {
        match &self.0 {
            None => at,
            Some(counts) => {
                let block = at / CHAR_STRIDE;
                counts[block]
                    + text.as_bytes()[block * CHAR_STRIDE..at]
                        .iter()
                        .filter(|b| starts_char(b))
                        .count()
            }
        }
    }
}

impl SourceFile {
    /// Creates a source file (its lines are indexed when first asked for).
    pub fn new(
        id: FileId,
        repo: usize,
        rel_path: String,
        display: String,
        kind: FileKind,
        text: String,
    ) -> Self {
        SourceFile {
            id,
            repo,
            rel_path,
            display,
            kind,
            text,
            line_starts: OnceLock::new(),
            chars: OnceLock::new(),
        }
    }

    /// Byte offsets at which each line starts (line 0 starts at 0).
    pub fn line_starts(&self) -> &[usize] {
        self.line_starts.get_or_init(|| line_starts(&self.text))
    }

    /// 0-based line index of a byte offset.
    pub fn line_index(&self, byte: usize) -> usize {
        match self.line_starts().binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// 1-based line and 1-based column (in characters) of a byte offset. O(log lines): the
    /// line by binary search, the characters from a per-file index (not by counting the line).
    pub fn line_col(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.text.len());
        let line = self.line_index(byte);
        let start = self.line_starts()[line];
        let col = if self.text.is_char_boundary(byte) {
            let chars = self.chars.get_or_init(|| CharIndex::new(&self.text));
            chars.before(&self.text, byte) - chars.before(&self.text, start)
        } else {
            byte - start
        };
        (line + 1, col + 1)
    }

    /// Byte offset of a 0-based line, or the end of the text.
    pub fn line_start(&self, line: usize) -> usize {
        self.line_starts()
            .get(line)
            .copied()
            .unwrap_or(self.text.len())
    }

    /// The rule that reports this file failing to read or parse.
    pub fn syntax_rule(&self) -> RuleId {
        match self.kind {
            FileKind::Json => RuleId::JSON_SYNTAX,
            FileKind::Terraform => RuleId::TERRAFORM_SYNTAX,
            _ => RuleId::YAML_SYNTAX,
        }
    }

    /// The file stem: `tenants/premium/tenant-1.yaml` -> `tenant-1`.
    pub fn stem(&self) -> &str {
        let name = self.rel_path.rsplit('/').next().unwrap_or(&self.rel_path);
        match name.rfind('.') {
            Some(dot) if dot > 0 => &name[..dot],
            _ => name,
        }
    }
}

/// Maps the character offsets a YAML parser reports to byte offsets in the text.
///
/// saphyr counts characters; findings and codespan count bytes. ASCII text (the usual case)
/// needs no table.
pub struct CharToByte {
    table: Option<Vec<usize>>,
    len: usize,
}

impl CharToByte {
    /// Indexes `text` (no allocation when it is ASCII).
    pub fn new(text: &str) -> Self {
        let table = if text.is_ascii() {
            None
        } else {
            Some(text.char_indices().map(|(b, _)| b).collect())
        };
        CharToByte {
            table,
            len: text.len(),
        }
    }

    /// Byte offset of the `index`-th character (clamped to the end).
    pub fn byte(&self, index: usize) -> usize {
        match &self.table {
            None => index.min(self.len),
            Some(t) => t.get(index).copied().unwrap_or(self.len),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            FileId(0),
            0,
            "f.yaml".into(),
            "f.yaml".into(),
            FileKind::Manifest,
            text.to_string(),
        )
    }

    /// What `PathSeg::Key` is for: a key of up to 24 bytes (every key of the generated
    /// benchmark trees) is held inline, and a step is no larger than the key itself.
    #[test]
    fn a_short_key_is_held_inline_and_a_step_is_three_words() {
        assert_eq!(std::mem::size_of::<PathSeg>(), 24);
        let PathSeg::Key(k) = PathSeg::Key("serviceAccountRoleArnXyz".into()) else {
            unreachable!("built as a key");
        };
        assert!(!k.is_heap_allocated());
        // Sorted as strings: paths key the sorted maps the output is written from.
        let mut keys = ["b", "a", "aa", "B"].map(|k| PathSeg::Key(k.into()));
        keys.sort();
        assert_eq!(keys.map(|k| k.to_string()), ["B", "a", "aa", "b"]);
    }

    #[test]
    fn columns_count_characters_within_the_line() {
        let f = file("a: 1\nkey: \"é€😀\" x\n");
        assert_eq!(f.line_col(0), (1, 1));
        let x = f.text.rfind('x').unwrap_or_default();
        assert_eq!(f.line_col(x), (2, 12));
        assert_eq!(f.line_col(f.text.len()), (3, 1));
        // Inside a character: counted in bytes, as before.
        let e = f.text.find('é').unwrap_or_default();
        assert_eq!(f.line_col(e + 1), (2, 8));
    }

    #[test]
    fn columns_on_a_long_multibyte_line_match_counting() {
        let mut text = String::from("é\n");
        for i in 0..2000 {
            text.push_str(if i % 3 == 0 { "ü, " } else { "k: 1, " });
        }
        let f = file(&text);
        let start = text.find('\n').unwrap_or_default() + 1;
        for byte in (start..text.len())
            .filter(|b| text.is_char_boundary(*b))
            .step_by(97)
        {
            let expected = text[start..byte].chars().count() + 1;
            assert_eq!(f.line_col(byte), (2, expected), "at {byte}");
        }
    }
}
