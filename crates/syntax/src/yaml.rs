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
use std::collections::HashMap;

/// Deepest nesting we build; deeper documents are reported, not followed (no stack overflows).
pub const MAX_DEPTH: usize = 1000;
/// Most nodes that alias expansion may add to one file (guards against alias bombs).
pub(crate) const MAX_ALIAS_NODES: usize = 1_000_000;

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
    let lines_with_char_issues: Vec<usize> = chars
        .iter()
        .filter(|i| i.rule == RuleId::YAML_TAB || i.effect == IssueEffect::ControlCharacter)
        .map(|i| line_of(text, i.start))
        .collect();
    issues.retain(|i| {
        i.rule != RuleId::YAML_SYNTAX || {
            let l = line_of(text, i.start);
            // The parser reports the error on the tab's line or at the end of the line before.
            !lines_with_char_issues.iter().any(|c| c.abs_diff(l) <= 1)
        }
    });
    issues.extend(chars);
    LoadedYaml {
        docs: builder.docs,
        issues,
    }
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

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
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
pub(crate) fn drive<'a>(text: &'a str, sink: &mut impl Sink<'a>, issues: &mut Vec<ParseIssue>) {
    let mut base = 0;
    while base <= text.len() {
        let chunk = &text[base..];
        let map = CharToByte::new(chunk);
        let mut resume = None;
        for item in Parser::new_from_str(chunk) {
            match item {
                Ok((ev, span)) => {
                    let start = base + map.byte(span.start.index());
                    let end = base + map.byte(span.end.index());
                    if sink.event(ev, start, end) == Flow::StopFile {
                        return;
                    }
                }
                Err(err) => {
                    let at = base + map.byte(err.marker().index());
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

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        block: bool,
        start: usize,
    },
    Map {
        map: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
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
    anchors: HashMap<usize, (Value, usize)>,
    alias_nodes: usize,
    docs: Vec<YamlDoc>,
    issues: Vec<ParseIssue>,
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
            alias_nodes: 0,
            docs: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// The path of the value about to be pushed.
    fn current_path(&self) -> Vec<PathSeg> {
        self.frames
            .iter()
            .map(|f| match f {
                Frame::Seq { items, .. } => PathSeg::Index(items.len()),
                Frame::Map { key, .. } => PathSeg::Key(key.clone().unwrap_or_default()),
            })
            .collect()
    }

    /// Whether the next value is a mapping key (rather than a value or a sequence item).
    fn expecting_key(&self) -> bool {
        matches!(self.frames.last(), Some(Frame::Map { key: None, .. }))
    }

    fn push_value(&mut self, value: Value) {
        match self.frames.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map { map, key, .. }) => match key.take() {
                // sigs.k8s.io/yaml: the last duplicate wins.
                Some(k) => {
                    map.insert(k, value);
                }
                None => *key = Some(key_string(&value)),
            },
        }
    }

    fn remember_anchor(&mut self, anchor: usize, value: &Value) {
        if anchor != 0 {
            self.anchors
                .insert(anchor, (value.clone(), count_nodes(value)));
        }
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
                        value
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

fn plural_columns(n: usize) -> String {
    if n == 1 {
        "one column".to_string()
    } else {
        format!("{n} columns")
    }
}

/// Counts nodes without recursion (documents may be deep).
fn count_nodes(value: &Value) -> usize {
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        count += 1;
        match v {
            Value::Array(a) => stack.extend(a.iter()),
            Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    count
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
        match ev {
            Event::DocumentStart(_) => {
                self.doc_start = start;
                self.root = None;
                self.literals.clear();
            }
            Event::DocumentEnd => {
                self.frames.clear();
                self.docs.push(YamlDoc {
                    value: self.root.take().unwrap_or(Value::Null),
                    start: self.doc_start,
                    literals: std::mem::take(&mut self.literals),
                });
            }
            Event::Scalar(text, style, anchor, tag) => {
                let is_key = self.expecting_key();
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
                            self.literals.push(LiteralBlock { path, start });
                        }
                        ScalarStyle::Plain => self.check_continued_item(&text, start, end),
                        _ => {}
                    }
                }
                self.remember_anchor(anchor, &value);
                self.push_value(value);
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.frames.len() >= MAX_DEPTH {
                    return self.stop(
                        start,
                        format!("document nests deeper than {MAX_DEPTH} levels; gitops-lint stops reading this file here"),
                        "flatten the structure; no Kubernetes or Argo CD object nests this deep",
                    );
                }
                let frame = if matches!(ev, Event::SequenceStart(..)) {
                    Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        block: self.text.as_bytes().get(start) != Some(&b'['),
                        start,
                    }
                } else {
                    Frame::Map {
                        map: Map::new(),
                        key: None,
                        anchor,
                    }
                };
                self.frames.push(frame);
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (value, anchor) = match self.frames.pop() {
                    Some(Frame::Seq { items, anchor, .. }) => (Value::Array(items), anchor),
                    Some(Frame::Map { map, anchor, .. }) => (Value::Object(map), anchor),
                    None => return Flow::Continue,
                };
                self.remember_anchor(anchor, &value);
                self.push_value(value);
            }
            Event::Alias(id) => {
                let (value, nodes) = self.anchors.get(&id).cloned().unwrap_or((Value::Null, 1));
                self.alias_nodes += nodes;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return self.stop(
                        start,
                        format!("aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?); Kubernetes' YAML reader also refuses such excessive aliasing, and gitops-lint stops reading this file here"),
                        "avoid aliases of aliases; write the values out",
                    );
                }
                self.push_value(value);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Flow::Continue
    }

    fn abort_document(&mut self) {
        self.frames.clear();
        self.root = None;
        self.literals.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn alias_bomb_is_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let prev = format!("*a{}", i - 1);
            text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        let loaded = load(&text);
        assert!(loaded.issues.iter().any(|i| i.message.contains("alias")));
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
