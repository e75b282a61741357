//! YAML loading straight from saphyr's event stream: one pass builds each document's JSON-like
//! value, records where literal block scalars (embedded Helm values) start, and spots the
//! token-level traps that only the events show (a list item folded into the previous scalar).
//!
//! Positions are byte offsets into the text given. The same [`drive`] loop is used by
//! [`super::locate`], so document indexes always agree between loading and locating.

use super::lints::{TokenLints, YamlOptions};
use super::scalar::{key_string, resolve_plain};
use super::IssueEffect;
use super::{Fix, FixKind, ParseIssue};
use gitops_lint_core::source::{CharToByte, PathSeg};
use gitops_lint_core::RuleId;
use saphyr_parser::{Event, Parser, ScalarStyle};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// Deepest nesting we build; deeper documents are reported, not followed (no stack overflows).
pub const MAX_DEPTH: usize = 1000;

/// One YAML document: its value and where it sits in the file.
#[derive(Clone, Debug)]
pub struct YamlDoc {
    /// The document as Kubernetes would see it after YAML 1.1 resolution.
    pub value: Value,
    /// Byte offset where the document starts.
    pub start: usize,
    /// Literal block scalars (`key: |`) in this document, by path: embedded YAML lives there.
    pub literals: Vec<LiteralBlock>,
}

/// Where a literal block scalar is, so text inside it can be mapped back to file positions.
#[derive(Clone, Debug)]
pub struct LiteralBlock {
    /// Path of the scalar in its document.
    pub path: Vec<PathSeg>,
    /// Byte offset of the scalar's first content character.
    pub start: usize,
    /// 0-based line of `start`, and its byte column: what a reader of the embedded text adds
    /// to report at the file's lines. Why here: the loader has the text's line table at hand,
    /// while a file's own is built only when a line of it is asked for.
    pub line: usize,
    /// Bytes from the start of `line` to `start`.
    pub column: usize,
}

/// Everything a YAML file yields.
#[derive(Debug, Default)]
pub struct LoadedYaml {
    /// The documents that parsed.
    pub docs: Vec<YamlDoc>,
    /// Syntax errors and event-level traps, in byte offsets of the text.
    pub issues: Vec<ParseIssue>,
}

/// Loads every document of `text` with default options (indentation learned from the file).
pub fn load(text: &str) -> LoadedYaml {
    load_with(text, &YamlOptions::default())
}

/// Loads every document of `text` and runs the token- and character-level lints.
pub fn load_with(text: &str, options: &YamlOptions) -> LoadedYaml {
    let mut builder = Builder::new(text, options);
    let mut issues = Vec::new();
    drive(text, &mut builder, &mut issues);
    issues.append(&mut builder.issues);
    issues.append(&mut builder.lints.issues);
    let chars = super::text::scan(text, &builder.lints.scalar_ranges);
    // A tab or control character usually is why the parser stopped: keep the specific finding.
    // Lines by binary search and a set: a file may hold a tab on every one of 100,000 lines.
    let mut lines_with_char_issues: Vec<usize> = chars
        .iter()
        .filter(|i| i.rule == RuleId::YAML_TAB || i.effect == IssueEffect::ControlCharacter)
        .map(|i| builder.lints.line(i.start))
        .collect();
    lines_with_char_issues.sort_unstable();
    let near_char_issue = |l: usize| {
        // The parser reports the error on the tab's line or at the end of the line before.
        let from = lines_with_char_issues.partition_point(|c| *c + 1 < l);
        lines_with_char_issues
            .get(from)
            .is_some_and(|c| *c <= l + 1)
    };
    issues
        .retain(|i| i.rule != RuleId::YAML_SYNTAX || !near_char_issue(builder.lints.line(i.start)));
    issues.extend(chars);
    let mut docs = builder.docs;
    // Why: the documents of a file are kept for the whole run, and the list grows to four at
    // its first push while most files hold one document (MiBs spare at 10,000 files).
    docs.shrink_to_fit();
    LoadedYaml { docs, issues }
}

/// Loads the documents of `text` only: no lints and no issues. Why: text gitops-lint renders
/// itself (Helm templates, 10,000 releases at scale) has no file to report lints in, so
/// linting it was wasted work.
pub fn load_docs(text: &str) -> Vec<YamlDoc> {
    let mut builder = Builder::new(text, &YamlOptions::default());
    builder.lint = false;
    let mut issues = Vec::new();
    drive(text, &mut builder, &mut issues);
    builder.docs
}

/// Which mapping keys of a document to build (see [`load_docs_keeping`]).
#[derive(Debug)]
pub enum Keep {
    /// The whole value.
    Whole,
    /// Of a mapping, only these keys; a value that is not a mapping is kept whole.
    Keys(&'static [(&'static str, Keep)]),
}

impl Keep {
    /// What to keep of the value of `key`, when it is kept.
    pub fn child(&self, key: &str) -> Option<&Keep> {
        match self {
            Keep::Whole => Some(self),
            Keep::Keys(keys) => keys.iter().find(|(k, _)| *k == key).map(|(_, keep)| keep),
        }
    }
}

/// [`load_docs`], building only the keys `keep` names: each document's value is the full
/// load's value without the other keys of the mappings `keep` describes (the loader merges no
/// `<<` keys, so none can bring a key back). Why: the Helm output
/// rendered once per release (10,000 at scale) is read for a few fields only, and building
/// the rest (labels, containers, ports) and dropping it again was most of the loading that
/// is not the parser's own work. A text with an anchor or alias (any `&` or `*`) is loaded
/// whole, as an alias may copy a skipped node into a kept one.
pub fn load_docs_keeping(text: &str, keep: &'static Keep) -> Vec<YamlDoc> {
    if text.contains(['&', '*']) {
        return load_docs(text);
    }
    let mut builder = Builder::new(text, &YamlOptions::default());
    builder.lint = false;
    builder.keep = Some(keep);
    let mut issues = Vec::new();
    drive(text, &mut builder, &mut issues);
    builder.docs
}

/// What a sink tells the driver after an event.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    StopFile,
}

/// Receives parser events with byte spans.
pub(crate) trait Sink<'a> {
    /// One event, with its byte span in the whole text.
    fn event(&mut self, ev: Event<'a>, start: usize, end: usize) -> Flow;
    /// The current document broke: drop what was built of it.
    fn abort_document(&mut self);
    /// The parser stopped at `at`: a sink that understands why may explain it better.
    fn syntax_error(&mut self, _at: usize) -> Option<ParseIssue> {
        None
    }
}

/// Runs the parser over `text`, feeding `sink`. A syntax error becomes a `yaml/syntax` issue;
/// parsing resumes at the next `---` line so later documents are still read.
///
/// Anchors belong to their document (YAML 1.2 §3.2.2.2, "anchors need not be unique"; go-yaml
/// `parser.parse` resets its anchor map at each document start, as saphyr-parser's `load`
/// does). saphyr-parser's event iterator keeps them across `---`, so an alias to an earlier
/// document's anchor is caught here and reported like an undefined one: the parser's own
/// "found unknown anchor" error at the alias, that document dropped.
pub(crate) fn drive<'a>(text: &'a str, sink: &mut impl Sink<'a>, issues: &mut Vec<ParseIssue>) {
    let mut base = 0;
    // Anchor ids (unique per parser) defined in the current document.
    let mut anchors: HashSet<usize> = HashSet::new();
    while base <= text.len() {
        let chunk = &text[base..];
        let map = CharToByte::new(chunk);
        let mut resume = None;
        for item in Parser::new_from_str(chunk) {
            match item {
                Ok((ev, span)) => {
                    let start = base + map.byte(span.start.index());
                    let end = base + map.byte(span.end.index());
                    match &ev {
                        Event::DocumentStart(_) => anchors.clear(),
                        Event::Scalar(_, _, id, _)
                        | Event::SequenceStart(id, _)
                        | Event::MappingStart(id, _)
                            if *id != 0 =>
                        {
                            anchors.insert(*id);
                        }
                        Event::Alias(id) if !anchors.contains(id) => {
                            issues.push(syntax_issue(
                                text,
                                start,
                                "while parsing node, found unknown anchor",
                            ));
                            sink.abort_document();
                            resume = next_document_marker(text, start);
                            break;
                        }
                        _ => {}
                    }
                    if sink.event(ev, start, end) == Flow::StopFile {
                        return;
                    }
                }
                Err(err) => {
                    let at = base + map.byte(err.marker().index());
                    anchors.clear();
                    let issue = match sink.syntax_error(at) {
                        Some(mut better) => {
                            better.message = format!("{} (parser: {})", better.message, err.info());
                            better
                        }
                        None => syntax_issue(text, at, err.info()),
                    };
                    issues.push(issue);
                    sink.abort_document();
                    resume = next_document_marker(text, at);
                    break;
                }
            }
        }
        match resume {
            Some(next) if next > base => base = next,
            _ => return,
        }
    }
}

fn syntax_issue(text: &str, at: usize, info: &str) -> ParseIssue {
    let at = at.min(text.len());
    // One character: the place the parser stopped, not the rest of a possibly huge line.
    let line_end = text[at..]
        .chars()
        .next()
        .filter(|c| *c != '\n')
        .map_or(at, |c| at + c.len_utf8());
    let help = if info.contains("flow") {
        "a `{` or `[` opened a flow collection that is never closed before this point; close it, or quote a value that starts with `{` (in a tier template, a `{TENANT_ID}` that was never rendered)"
    } else if info.contains("mapping values are not allowed") {
        "a `key: value` sits where YAML expects a plain value; check this line's indentation against its siblings, or quote a value that contains `: `"
    } else if info.contains("block mapping") || info.contains("block sequence") {
        "this line is not indented like its siblings; line it up with the other keys (or `-` items) of the same level"
    } else if info.contains("tab") || info.contains("cannot start any token") {
        "indent with spaces: YAML never allows tabs in indentation"
    } else if info.contains("quoted") {
        "a quoted string is not closed; add the closing quote"
    } else if info.contains("anchor") {
        "an alias (`*name`) must follow its anchor (`&name`) in the same document: anchors do not carry over `---`; define the anchor in this document, or write the value out"
    } else {
        "fix the YAML at this place; kubectl and Argo CD reject the whole document"
    };
    ParseIssue {
        rule: RuleId::YAML_SYNTAX,
        start: at,
        end: line_end.max(at),
        message: format!("YAML does not parse: {info}"),
        help: Some(help.to_string()),
        ..ParseIssue::default()
    }
}

/// Byte offset of the first line at or after the line of `after` that starts a new document (`---`).
fn next_document_marker(text: &str, after: usize) -> Option<usize> {
    let after = after.min(text.len());
    let mut pos = text[..after].rfind('\n').map_or(0, |n| n + 1);
    while pos < text.len() {
        let rest = &text[pos..];
        if rest.starts_with("---")
            && matches!(
                rest.as_bytes().get(3),
                None | Some(b' ' | b'\n' | b'\r' | b'\t')
            )
        {
            return Some(pos);
        }
        pos += rest.find('\n')? + 1;
    }
    None
}

/// Maps a byte offset inside a literal block scalar's value back to the file.
///
/// `content` is the byte offset where the scalar's content starts (saphyr's span start: the
/// first content character, after the indentation). Literal style keeps line structure, so
/// inner line `k` column `c` is `k` lines below the first content line, at `indent + c`.
pub fn literal_to_outer(outer: &str, content: usize, inner: &str, inner_offset: usize) -> usize {
    let content = content.min(outer.len());
    let inner_offset = inner_offset.min(inner.len());
    let before = &inner[..inner_offset];
    let leading_blank = inner.len() - inner.trim_start_matches('\n').len();
    let inner_line = before.matches('\n').count().saturating_sub(leading_blank);
    let inner_col = inner_offset - before.rfind('\n').map_or(0, |n| n + 1);
    let first_line = outer[..content].rfind('\n').map_or(0, |n| n + 1);
    let indent = content - first_line;
    let mut line_start = first_line;
    for _ in 0..inner_line {
        match outer[line_start..].find('\n') {
            Some(n) => line_start += n + 1,
            None => return outer.len(),
        }
    }
    let line_end = outer[line_start..]
        .find('\n')
        .map_or(outer.len(), |n| line_start + n);
    (line_start + indent + inner_col).min(line_end)
}

/// What a value costs to copy: its nodes and its scalar bytes (mapping keys included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Size {
    nodes: u64,
    bytes: u64,
}

impl Size {
    fn add(&mut self, other: Size) {
        self.nodes = self.nodes.saturating_add(other.nodes);
        self.bytes = self.bytes.saturating_add(other.bytes);
    }
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        block: bool,
        start: usize,
        /// What the items built so far cost to copy.
        size: Size,
    },
    Map {
        /// The entries in order, made a [`Map`] when the mapping ends. Why not a `Map` from
        /// the start: it grows by rehashing, which was a twentieth of the CPU of a large
        /// run; built at the end it is allocated once, at its size.
        entries: Vec<(String, Value)>,
        key: Option<String>,
        anchor: usize,
        start: usize,
        /// What the keys and values built so far cost to copy.
        size: Size,
    },
}

struct Builder<'t> {
    text: &'t str,
    lints: TokenLints<'t>,
    /// Whether `lints` sees the events (see [`load_docs`]).
    lint: bool,
    frames: Vec<Frame>,
    root: Option<Value>,
    doc_start: usize,
    literals: Vec<LiteralBlock>,
    /// The current document's anchors: the value, and what it costs to copy.
    anchors: HashMap<usize, (Value, Size)>,
    /// What anchors and aliases have copied in this file so far, against
    /// [`YamlOptions::alias_nodes`] and [`YamlOptions::alias_bytes`].
    copied: Size,
    budget: Size,
    docs: Vec<YamlDoc>,
    issues: Vec<ParseIssue>,
    /// What to build of each document (see [`load_docs_keeping`]); `None`: everything.
    keep: Option<&'static Keep>,
    /// What to build of each open frame's values, beside `frames` (`None`: everything).
    keeps: Vec<Option<&'static Keep>>,
    /// Collections open inside a value that is not built (0: none).
    skipping: usize,
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, options: &YamlOptions) -> Self {
        Builder {
            text,
            lints: TokenLints::new(text, options),
            lint: true,
            frames: Vec::new(),
            root: None,
            doc_start: 0,
            literals: Vec::new(),
            anchors: HashMap::new(),
            copied: Size::default(),
            budget: Size {
                nodes: options.alias_nodes,
                bytes: options.alias_bytes,
            },
            docs: Vec::new(),
            issues: Vec::new(),
            keep: None,
            keeps: Vec::new(),
            skipping: 0,
        }
    }

    /// What to build of the value about to start (`Some(None)`: all of it, as always without
    /// a `keep`), or `None` when it is not built at all.
    fn keep_next(&self) -> Option<Option<&'static Keep>> {
        let Some(parent) = self.frames.last() else {
            return Some(self.keep.filter(|k| matches!(k, Keep::Keys(_))));
        };
        let Some(Some(keep)) = self.keeps.last().copied() else {
            return Some(None);
        };
        match parent {
            // A sequence where a mapping was described is kept whole.
            Frame::Seq { .. } => Some(None),
            // A key (even a collection, `? [a, b]`) is always built.
            Frame::Map { key: None, .. } => Some(None),
            Frame::Map { key: Some(key), .. } => {
                let child = keep.child(key)?;
                Some(Some(child).filter(|k| matches!(k, Keep::Keys(_))))
            }
        }
    }

    /// Drops the pending key of the open mapping whose value is not built.
    fn forget_key(&mut self) {
        if let Some(Frame::Map { key, .. }) = self.frames.last_mut() {
            *key = None;
        }
    }

    /// An event inside a value that is not built: only its nesting is followed.
    fn skip(&mut self, ev: &Event<'_>, start: usize) -> Flow {
        match ev {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                if self.frames.len() + self.skipping >= MAX_DEPTH {
                    return self.too_deep(start);
                }
                self.skipping += 1;
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.skipping -= 1;
                if self.skipping == 0 {
                    self.forget_key();
                }
            }
            _ => {}
        }
        Flow::Continue
    }

    /// Stops the file at a collection nested deeper than [`MAX_DEPTH`].
    fn too_deep(&mut self, start: usize) -> Flow {
        self.stop(
            start,
            format!("document nests deeper than {MAX_DEPTH} levels; gitops-lint stops reading this file here"),
            "flatten the structure; no Kubernetes or Argo CD object nests this deep",
        )
    }

    /// The path of the value about to be pushed.
    fn current_path(&self) -> Vec<PathSeg> {
        self.frames
            .iter()
            .map(|f| match f {
                Frame::Seq { items, .. } => PathSeg::Index(items.len()),
                Frame::Map { key, .. } => PathSeg::Key(key.as_deref().unwrap_or_default().into()),
            })
            .collect()
    }

    /// Whether the next value is a mapping key (rather than a value or a sequence item).
    fn expecting_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Map { key: None, .. }))
    }

    /// Adds a finished value (of copy cost `cost`) to the open collection, or makes it the root.
    fn push_value(&mut self, value: Value, cost: Size) {
        match self.frames.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, size, .. }) => {
                size.add(cost);
                items.push(value);
            }
            Some(Frame::Map {
                entries, key, size, ..
            }) => match key.take() {
                Some(k) => {
                    size.add(cost);
                    entries.push((k, value));
                }
                None => {
                    size.add(cost);
                    *key = Some(key_string(value));
                }
            },
        }
    }

    /// Keeps a copy of an anchored value for its aliases. The copy counts against the alias
    /// budgets like an expansion does: anchors nested in anchors copy the same bytes again.
    fn remember_anchor(&mut self, anchor: usize, value: &Value, cost: Size, at: usize) -> Flow {
        if anchor == 0 {
            return Flow::Continue;
        }
        if let Some(flow) = self.charge(cost, at, None, "this anchored node") {
            return flow;
        }
        self.anchors.insert(anchor, (value.clone(), cost));
        Flow::Continue
    }

    /// Counts a copy of `cost` against the alias budgets; over either, reports
    /// `gitops/budget-exceeded` at `at` (the alias, or the anchored node, up to `end` or the
    /// end of its line) and stops the file.
    fn charge(&mut self, cost: Size, at: usize, end: Option<usize>, what: &str) -> Option<Flow> {
        self.copied.add(cost);
        let (key, limit, unit) = if self.copied.nodes > self.budget.nodes {
            ("aliasNodes", self.budget.nodes, "nodes")
        } else if self.copied.bytes > self.budget.bytes {
            ("aliasBytes", self.budget.bytes, "bytes of scalars")
        } else {
            return None;
        };
        let line_end = self.text[at..]
            .find('\n')
            .map_or(self.text.len(), |n| at + n);
        let end = end.map_or(line_end, |e| e.min(line_end));
        self.issues.push(ParseIssue {
            rule: RuleId::GITOPS_BUDGET_EXCEEDED,
            start: at,
            end,
            message: format!(
                "{what} takes what YAML anchors and aliases copy in this file past {limit} {unit} (`limits.{key}`): an alias bomb? gitops-lint stops reading the file here, and the rest of it is not checked"
            ),
            help: Some(format!(
                "write the values out instead of aliasing aliases; if the file really is this large, raise `{key}` under `limits:` in `.gitops-lint.yaml`"
            )),
            ..ParseIssue::default()
        });
        self.abort_document();
        Some(Flow::StopFile)
    }

    fn stop(&mut self, start: usize, message: String, help: &str) -> Flow {
        let end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |n| start + n);
        self.issues.push(ParseIssue {
            rule: RuleId::YAML_SYNTAX,
            start,
            end,
            message,
            help: Some(help.to_string()),
            ..ParseIssue::default()
        });
        self.abort_document();
        Flow::StopFile
    }

    /// A plain scalar in a block sequence that runs over several lines: any continuation line
    /// that looks like `- item` was meant as a new item but YAML folded it into this one.
    fn check_continued_item(&mut self, value: &str, start: usize, end: usize) {
        let Some(Frame::Seq {
            block: true,
            start: seq_start,
            ..
        }) = self.frames.last()
        else {
            return;
        };
        let text = self.text;
        let end = end.min(text.len());
        if !text[start..end].contains('\n') {
            return;
        }
        // saphyr's block sequence span starts at the first item's content; the `-` is before it.
        let seq_line = text[..*seq_start].rfind('\n').map_or(0, |n| n + 1);
        let seq_col = text[seq_line..*seq_start]
            .rfind('-')
            .unwrap_or(seq_start - seq_line);
        let mut line_start = match text[start..end].find('\n') {
            Some(n) => start + n + 1,
            None => return,
        };
        while line_start < end {
            let line_end = text[line_start..]
                .find('\n')
                .map_or(text.len(), |n| line_start + n);
            let line = text[line_start..line_end].trim_end_matches('\r');
            let trimmed = line.trim_start_matches(' ');
            if trimmed == "-" || trimmed.starts_with("- ") {
                let dash = line_start + (line.len() - trimmed.len());
                let col = dash - line_start;
                // The intended change: the line becomes its own item, at its siblings' column.
                let fix = (seq_col < col).then(|| {
                    Box::new(Fix {
                        kind: FixKind::Intended,
                        edits: vec![(line_start + seq_col, dash, String::new())],
                    })
                });
                self.issues.push(ParseIssue {
                    rule: RuleId::YAML_CONTINUED_LIST_ITEM,
                    start: dash,
                    end: line_start + line.len(),
                    message: format!(
                        "this `- ` line is indented {} deeper than its sibling items, so YAML does not start a new item here: it continues the previous one, which becomes `{}`",
                        plural_columns(col.saturating_sub(seq_col)),
                        super::quoted(value)
                    ),
                    help: Some(format!(
                        "move `-` to column {} so it lines up with the other items",
                        seq_col + 1
                    )),
                    fix,
                    ..ParseIssue::default()
                });
            }
            line_start = line_end + 1;
        }
    }
}

/// A mapping's entries as a [`Map`], in order. sigs.k8s.io/yaml: the last duplicate wins (in
/// the place of the first, as inserting one by one does).
fn into_map(entries: Vec<(String, Value)>) -> Map<String, Value> {
    let mut map = Map::with_capacity(entries.len());
    for (k, v) in entries {
        map.insert(k, v);
    }
    map
}

fn plural_columns(n: usize) -> String {
    if n == 1 {
        "one column".to_string()
    } else {
        format!("{n} columns")
    }
}

impl<'a> Sink<'a> for Builder<'_> {
    fn syntax_error(&mut self, at: usize) -> Option<ParseIssue> {
        if !self.lint {
            return None;
        }
        self.lints.diagnose(at)
    }

    fn event(&mut self, ev: Event<'a>, start: usize, end: usize) -> Flow {
        if self.lint {
            self.lints.event(&ev, start, end);
        }
        if self.skipping > 0 {
            return self.skip(&ev, start);
        }
        match ev {
            Event::DocumentStart(_) => {
                self.doc_start = start;
                self.root = None;
                self.literals.clear();
                self.keeps.clear();
                // Anchors are per document (see [`drive`]).
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                self.frames.clear();
                self.keeps.clear();
                let mut literals = std::mem::take(&mut self.literals);
                // Why: a list grows to four at its first push, and most documents hold one
                // literal block (a tenant's `values: |`) or none, as with a sequence's items.
                literals.shrink_to_fit();
                self.docs.push(YamlDoc {
                    value: self.root.take().unwrap_or(Value::Null),
                    start: self.doc_start,
                    literals,
                });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_key = self.expecting_key();
                if self.keep_next().is_none() {
                    self.forget_key();
                    return Flow::Continue;
                }
                let value = if style != ScalarStyle::Plain
                    || tag.as_ref().is_some_and(|t| t.suffix == "str")
                {
                    Value::String(text.to_string())
                } else {
                    resolve_plain(&text)
                };
                if !is_key {
                    match style {
                        ScalarStyle::Literal => {
                            let path = self.current_path();
                            let line = self.lints.line(start);
                            self.literals.push(LiteralBlock {
                                path,
                                start,
                                line,
                                column: start - self.lints.line_start(line),
                            });
                        }
                        ScalarStyle::Plain => self.check_continued_item(&text, start, end),
                        _ => {}
                    }
                }
                let cost = Size {
                    nodes: 1,
                    bytes: text.len() as u64,
                };
                if self.remember_anchor(anchor, &value, cost, start) == Flow::StopFile {
                    return Flow::StopFile;
                }
                self.push_value(value, cost);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                let Some(keep) = self.keep_next() else {
                    return self.skip(&ev, start);
                };
                if self.frames.len() >= MAX_DEPTH {
                    return self.too_deep(start);
                }
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        block: self.text.as_bytes().get(start) != Some(&b'['),
                        start,
                        size: Size::default(),
                    }
                } else {
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        anchor,
                        start,
                        size: Size::default(),
                    }
                };
                self.frames.push(frame);
                self.keeps.push(keep);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.keeps.pop();
                let (value, anchor, at, mut cost) = match self.frames.pop() {
                    Some(Frame::Seq {
                        mut items,
                        anchor,
                        start,
                        size,
                        ..
                    }) => {
                        // Why: a list grows by doubling from four items, and most lists of a
                        // manifest hold one or two (`finalizers`, `syncOptions`): the spare
                        // room was 5 MiB of the heap at 10,000 tenants, kept for the whole run.
                        items.shrink_to_fit();
                        (Value::Array(items), anchor, start, size)
                    }
                    Some(Frame::Map {
                        entries,
                        anchor,
                        start,
                        size,
                        ..
                    }) => (Value::Object(into_map(entries)), anchor, start, size),
                    None => return Flow::Continue,
                };
                cost.add(Size { nodes: 1, bytes: 0 });
                if self.remember_anchor(anchor, &value, cost, at) == Flow::StopFile {
                    return Flow::StopFile;
                }
                self.push_value(value, cost);
            }
            Event::Alias(_) if self.keep_next().is_none() => {
                self.forget_key();
            }
            Event::Alias(id) => {
                // An alias of an anchor still open (`&a [*a]`) has nothing to copy yet: null.
                let cost = self
                    .anchors
                    .get(&id)
                    .map_or(Size { nodes: 1, bytes: 0 }, |(_, cost)| *cost);
                // Charged before copying, so a bomb never allocates what it asks for.
                // go-yaml (`decode.go`, `decoder.unmarshal` with `allowedAliasRatio`) likewise
                // refuses excessive aliasing, so Kubernetes' readers reject such a file too.
                if let Some(flow) = self.charge(cost, start, Some(end), "this alias") {
                    return flow;
                }
                let value = self
                    .anchors
                    .get(&id)
                    .map_or(Value::Null, |(v, _)| v.clone());
                self.push_value(value, cost);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Flow::Continue
    }

    fn abort_document(&mut self) {
        self.frames.clear();
        self.keeps.clear();
        self.skipping = 0;
        self.root = None;
        self.literals.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `v` without the keys `keep` does not name.
    fn kept(v: &Value, keep: &Keep) -> Value {
        match (v, keep) {
            (Value::Object(m), Keep::Keys(_)) => Value::Object(
                m.iter()
                    .filter_map(|(k, v)| keep.child(k).map(|c| (k.clone(), kept(v, c))))
                    .collect(),
            ),
            _ => v.clone(),
        }
    }

    const POD: Keep = Keep::Keys(&[("serviceAccountName", Keep::Whole)]);
    const SOME: Keep = Keep::Keys(&[
        ("kind", Keep::Whole),
        (
            "metadata",
            Keep::Keys(&[("name", Keep::Whole), ("annotations", Keep::Whole)]),
        ),
        (
            "spec",
            Keep::Keys(&[("template", Keep::Keys(&[("spec", POD)]))]),
        ),
    ]);

    #[test]
    fn keeping_builds_the_full_load_without_the_other_keys() {
        for text in [
            "kind: Deployment\nmetadata:\n  name: a\n  labels: {x: y}\n  annotations:\n    k: v\nspec:\n  replicas: 2\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      serviceAccountName: sa\n      containers:\n        - name: c\n          env: [{name: A, value: \"1\"}]\n",
            // Several documents, a syntax error in one, flow style, a key written twice.
            "kind: A\nspec: {template: {spec: {serviceAccountName: x, other: [1, 2]}}}\n---\nkind: [broken\n---\nmetadata: {name: n, name: m, skip: {deep: [{a: 1}]}}\n",
            // Values that are not mappings where mappings are described, and a complex key.
            "kind: {a: 1}\nmetadata: [1, {name: x}]\nspec: null\n? [a, b]\n: c\n",
            "- kind: A\n  other: 1\n",
            "plain scalar",
            "",
        ] {
            let full = load_docs(text);
            let some = load_docs_keeping(text, &SOME);
            assert_eq!(some.len(), full.len(), "{text}");
            for (s, f) in some.iter().zip(&full) {
                assert_eq!(s.value, kept(&f.value, &SOME), "{text}");
                assert_eq!(s.start, f.start, "{text}");
            }
        }
        // What is not kept is not built.
        let docs = load_docs_keeping(
            "kind: A\nspec: {replicas: 2, template: {spec: {x: 1}}}\n",
            &SOME,
        );
        assert_eq!(
            docs[0].value,
            json!({"kind": "A", "spec": {"template": {"spec": {}}}})
        );
    }

    #[test]
    fn keeping_stops_where_the_full_load_stops() {
        // Nested past the limit inside a key that is not kept: the file stops there either way.
        let deep = format!(
            "kind: A\nskip: {}{}\n---\nkind: B\n",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        let full = load_docs(&deep);
        let some = load_docs_keeping(&deep, &SOME);
        assert_eq!(some.len(), full.len());
        for (s, f) in some.iter().zip(&full) {
            assert_eq!(s.value, kept(&f.value, &SOME));
        }
        // An anchor or alias: loaded whole, as an alias may copy a skipped node.
        let aliased = "kind: A\nx: &a {name: n}\nmetadata: *a\n";
        assert_eq!(
            load_docs_keeping(aliased, &SOME)[0].value,
            load_docs(aliased)[0].value
        );
    }

    #[test]
    fn multi_document_values() {
        let loaded = load("a: 1\n---\nb: [x, z]\n");
        assert!(loaded.issues.is_empty());
        assert_eq!(loaded.docs.len(), 2);
        assert_eq!(loaded.docs[1].value, json!({"b": ["x", "z"]}));
        assert_eq!(loaded.docs[1].start, 5);
    }

    #[test]
    fn continued_list_item_is_found_at_the_folded_line() {
        let text = "resources:\n- basic\n - advanced.yaml\n";
        let loaded = load(text);
        assert_eq!(
            loaded.docs[0].value,
            json!({"resources": ["basic - advanced.yaml"]})
        );
        assert_eq!(loaded.issues.len(), 1);
        let issue = &loaded.issues[0];
        assert_eq!(issue.rule, RuleId::YAML_CONTINUED_LIST_ITEM);
        assert_eq!(&text[issue.start..issue.end], "- advanced.yaml");
        assert!(
            issue.message.contains("one column deeper"),
            "{}",
            issue.message
        );
        assert!(issue.help.as_deref().unwrap_or("").contains("column 1"));
    }

    #[test]
    fn a_multi_line_scalar_without_dash_is_fine() {
        let loaded = load("args:\n- --foo\n  bar\n- baz\n");
        assert!(loaded.issues.is_empty());
    }

    #[test]
    fn syntax_error_then_next_document_still_loads() {
        let text = "a: {b: 1\n---\nc: 2\n";
        let loaded = load(text);
        assert_eq!(loaded.issues.len(), 1);
        assert_eq!(loaded.issues[0].rule, RuleId::YAML_SYNTAX);
        assert_eq!(loaded.docs.len(), 1);
        assert_eq!(loaded.docs[0].value, json!({"c": 2}));
    }

    #[test]
    fn literal_blocks_are_recorded_and_mapped_back() {
        let text = "spec:\n  values: |\n    a: 1\n    b:\n      c: 2\n";
        let loaded = load(text);
        let lit = &loaded.docs[0].literals[0];
        assert_eq!(
            lit.path,
            vec![PathSeg::Key("spec".into()), PathSeg::Key("values".into())]
        );
        let inner = loaded.docs[0].value["spec"]["values"]
            .as_str()
            .unwrap_or_default();
        let c = inner.find("c:").unwrap_or_default();
        let outer = literal_to_outer(text, lit.start, inner, c);
        assert_eq!(&text[outer..outer + 4], "c: 2");
    }

    /// A literal's line and column are the ones the file's line table gives its start: after
    /// CRLF and empty lines, a multibyte character, and in a second document.
    #[test]
    fn literal_blocks_know_their_line_and_column() {
        let text = "a: 1\r\n\nk\u{e9}y: |\n  x: 1\n---\nspec:\n  values: |\n    b: 2\n";
        let starts = gitops_lint_core::source::line_starts(text);
        let literals: Vec<_> = load(text)
            .docs
            .into_iter()
            .flat_map(|d| d.literals)
            .collect();
        assert_eq!(literals.len(), 2);
        for lit in literals {
            let line = starts.partition_point(|s| *s <= lit.start) - 1;
            assert_eq!((lit.line, lit.column), (line, lit.start - starts[line]));
        }
    }

    #[test]
    fn alias_bomb_is_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let loaded = load(&text);
        assert_eq!(loaded.issues.len(), 1, "{:?}", loaded.issues);
        let issue = &loaded.issues[0];
        assert_eq!(issue.rule, RuleId::GITOPS_BUDGET_EXCEEDED);
        assert!(
            issue.message.contains("`limits.aliasNodes`"),
            "{}",
            issue.message
        );
        assert!(text[issue.start..].starts_with("*a"), "at an alias");
        assert!(loaded.docs.is_empty());
    }

    fn budget(nodes: u64, bytes: u64) -> YamlOptions {
        YamlOptions {
            alias_nodes: nodes,
            alias_bytes: bytes,
            ..YamlOptions::default()
        }
    }

    #[test]
    fn alias_bytes_are_budgeted_at_the_alias_that_goes_over() {
        // 100 bytes anchored (copied once), then 100 per alias: the 10th alias passes 1000.
        let big = "x".repeat(100);
        let mut text = format!("a: &big {big}\nl:\n");
        for _ in 0..20 {
            text.push_str("- *big\n");
        }
        text.push_str("---\nnext: 1\n");
        let loaded = load_with(&text, &budget(1_000_000, 1000));
        assert_eq!(loaded.issues.len(), 1, "{:?}", loaded.issues);
        let issue = &loaded.issues[0];
        assert_eq!(issue.rule, RuleId::GITOPS_BUDGET_EXCEEDED);
        assert!(
            issue.message.contains("`limits.aliasBytes`"),
            "{}",
            issue.message
        );
        assert!(issue.help.as_deref().unwrap_or("").contains("aliasBytes"));
        let line = text[..issue.start].matches('\n').count();
        assert_eq!(line, 2 + 10 - 1, "the 10th `- *big` line");
        assert_eq!(&text[issue.start..issue.end], "*big");
        // The file stops there: neither this document nor the next is read.
        assert!(loaded.docs.is_empty());

        // Just under: all 20 aliases fit in 2100 bytes.
        let loaded = load_with(&text, &budget(1_000_000, 2100));
        assert!(loaded.issues.is_empty(), "{:?}", loaded.issues);
        assert_eq!(loaded.docs.len(), 2);
        assert_eq!(loaded.docs[0].value["l"][19], json!(big));
    }

    #[test]
    fn nested_anchors_count_their_copies() {
        // Each anchor keeps its own copy of everything below it.
        let text = format!(
            "a: &a1\n  b: &a2\n    c: &a3\n      d: &a4 {}\n",
            "y".repeat(300)
        );
        let loaded = load_with(&text, &budget(1_000_000, 1000));
        assert_eq!(loaded.issues.len(), 1, "{:?}", loaded.issues);
        assert_eq!(loaded.issues[0].rule, RuleId::GITOPS_BUDGET_EXCEEDED);
        let at = &text[loaded.issues[0].start..];
        assert!(at.starts_with("&a1\n"), "at the outer anchor: {at:?}");
        assert!(load_with(&text, &budget(1_000_000, 1300)).issues.is_empty());
    }

    #[test]
    fn anchors_do_not_cross_documents() {
        let text = "a: &n 1\nb: *n\n---\nc: *n\nd: 2\n---\ne: &n 3\nf: *n\n";
        let loaded = load(text);
        assert_eq!(loaded.issues.len(), 1, "{:?}", loaded.issues);
        let issue = &loaded.issues[0];
        assert_eq!(issue.rule, RuleId::YAML_SYNTAX);
        assert_eq!(issue.start, text.find("*n\nd").unwrap_or_default());
        assert!(
            issue.message.contains("unknown anchor"),
            "{}",
            issue.message
        );
        assert!(issue.help.as_deref().unwrap_or("").contains("`---`"));
        // The document with the stray alias is dropped, as for any syntax error.
        let values: Vec<_> = loaded.docs.iter().map(|d| d.value.clone()).collect();
        assert_eq!(
            values,
            vec![json!({"a": 1, "b": 1}), json!({"e": 3, "f": 3})]
        );
        // Locating agrees on document indexes.
        let index = crate::locate::SpanIndex::new(text);
        let l = index
            .locate(1, &[PathSeg::Key("f".into())])
            .unwrap_or_else(|| panic!("not found"));
        assert_eq!(&text[l.start..l.end], "*n");
    }

    #[test]
    fn an_undefined_anchor_is_the_same_error() {
        let cross = load("a: &n 1\n---\nb: *n\n");
        let undefined = load("a: &m 1\n---\nb: *n\n");
        assert_eq!(cross.issues.len(), 1);
        assert_eq!(undefined.issues.len(), 1);
        assert_eq!(cross.issues[0].rule, undefined.issues[0].rule);
        assert_eq!(cross.issues[0].message, undefined.issues[0].message);
        assert_eq!(cross.issues[0].start, undefined.issues[0].start);
    }

    #[test]
    fn deep_nesting_is_reported_not_overflowed() {
        let text = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        let loaded = load(&text);
        // saphyr stops flow nesting itself ("recursion limit exceeded"); either way, a finding.
        assert_eq!(loaded.issues.len(), 1);
        assert_eq!(loaded.issues[0].rule, RuleId::YAML_SYNTAX);
    }
}
