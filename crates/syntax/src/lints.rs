//! Token-level YAML lints, fed the same parser events as the document builder: indentation
//! (width and list style learned from the file, or set in config), duplicate keys, scalars that
//! YAML 1.1 and 1.2 read differently, and a plain mapping value that swallowed the next line.
//! When the parser gives up, [`TokenLints::diagnose`] explains a mis-indented line in terms of
//! its siblings instead of the parser's wording.
//!
//! Everything works in byte offsets of the parsed text; columns in messages are 1-based
//! characters, plus [`YamlOptions::column_offset`] for YAML embedded in a literal block.

use super::scalar::{key_string, resolve_core, resolve_plain};
use super::{quoted, Fix, FixKind, IssueEffect, ParseIssue};
use gitops_lint_core::RuleId;
use saphyr_parser::{Event, ScalarStyle};
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;

/// How block lists sit under their key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SequenceStyle {
    /// Whatever the file does first (the default).
    #[default]
    Consistent,
    /// `key:` then `  - item` (indented by the file's width).
    Indented,
    /// `key:` then `- item` (same column as the key, as `kubectl get -o yaml` writes).
    Flush,
    /// Either, mixed freely.
    Any,
}

/// Options for YAML checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlOptions {
    /// Indentation width; `None` learns it from the first indented block of each file.
    pub spaces: Option<usize>,
    /// List style under keys.
    pub sequences: SequenceStyle,
    /// Whether mapping keys like `on:`/`yes:` are reported (not in GitHub workflows, which are
    /// read by a YAML 1.2 parser where `on` is a string).
    pub skip_ambiguous_keys: bool,
    /// Added to columns in messages (YAML embedded in a literal block starts further right).
    pub column_offset: usize,
    /// Added to line numbers in messages (YAML embedded in a literal block starts further
    /// down): the outer file's 0-based line of the embedded text's first line.
    pub line_offset: usize,
    /// The program that reads the file, so messages say what it does with a duplicate key.
    pub reader: Reader,
    /// Most nodes that anchors and aliases may copy in one file (`limits.aliasNodes`).
    pub alias_nodes: u64,
    /// Most scalar bytes (keys included) that anchors and aliases may copy in one file
    /// (`limits.aliasBytes`).
    pub alias_bytes: u64,
}

impl Default for YamlOptions {
    /// Learned style, the Kubernetes reader, and the default alias budgets (the same numbers
    /// as `gitops_lint_config::Limits::default`, which the config crate passes in).
    fn default() -> Self {
        YamlOptions {
            spaces: None,
            sequences: SequenceStyle::default(),
            skip_ambiguous_keys: false,
            column_offset: 0,
            line_offset: 0,
            reader: Reader::default(),
            alias_nodes: 1_000_000,
            alias_bytes: 16 << 20,
        }
    }
}

/// The program that reads a YAML file (messages name what it does).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reader {
    /// kubectl, Argo CD and Flux (go-yaml v2 through sigs.k8s.io/yaml), and kustomize.
    #[default]
    Kubernetes,
    /// Helm reading a chart's values (sigs.k8s.io/yaml).
    Helm,
    /// GitHub Actions (or a compatible runner) reading a workflow.
    Actions,
    /// Some other program (another CI system, a tool's config): no Kubernetes semantics.
    Other,
}

/// One open collection.
struct Node {
    map: bool,
    block: bool,
    /// Byte offset of the keys (map) or the `-` (sequence).
    pos: usize,
    /// For maps: the next scalar is a key.
    expecting_key: bool,
    /// For maps: the last key, its span and its line.
    last_key: Option<(usize, usize)>,
    /// For maps: keys seen (as Kubernetes reads them) and where.
    keys: SeenKeys,
    /// For sequences: byte offset of the current item's `-`.
    dash: usize,
    /// Furthest byte any content of this node reaches.
    last_end: usize,
    /// An indentation issue raised when this node opened, waiting for its end to get a fix.
    pending: Option<Pending>,
}

/// The keys of one mapping and where each was first set. Why not always a hash map: most
/// mappings hold a handful of keys, where comparing them one by one beats hashing each key and
/// allocating a table per mapping (both showed in the parse profile); past [`FEW_KEYS`] a
/// table keeps a long mapping (a large ConfigMap or values file) linear.
#[derive(Default)]
struct SeenKeys {
    few: Vec<(String, (usize, usize))>,
    many: HashMap<String, (usize, usize)>,
}

/// Keys a mapping holds before [`SeenKeys`] moves them into a hash table.
const FEW_KEYS: usize = 16;

impl SeenKeys {
    /// Where `name` was first set, if it was.
    fn get(&self, name: &str) -> Option<(usize, usize)> {
        if self.many.is_empty() {
            self.few.iter().find(|(k, _)| k == name).map(|(_, at)| *at)
        } else {
            self.many.get(name).copied()
        }
    }

    /// Records a key not seen before.
    fn insert(&mut self, name: String, at: (usize, usize)) {
        if self.many.is_empty() {
            if self.few.len() < FEW_KEYS {
                self.few.push((name, at));
                return;
            }
            self.many.extend(self.few.drain(..));
        }
        self.many.insert(name, at);
    }
}

struct Pending {
    issue: usize,
    /// Signed column change to apply to every line of the node.
    delta: isize,
}

/// The lints' state over one text.
pub(crate) struct TokenLints<'t> {
    text: &'t str,
    /// Built on first use. Why lazily: [`crate::yaml::load_docs`] turns the lints off, and
    /// the text it loads (Helm output rendered once per release, 10,000 at scale) asks for a
    /// line only at a literal block scalar, if ever.
    line_starts: std::cell::OnceCell<Vec<usize>>,
    options: YamlOptions,
    stack: Vec<Node>,
    /// Learned (or configured) width and the line it was learned on (0 when configured).
    width: Option<(usize, usize)>,
    /// Learned (or configured) list style and where.
    style: Option<(bool, usize)>,
    /// Byte ranges of block and multi-line quoted scalars (their content is not indentation).
    pub scalar_ranges: Vec<(usize, usize)>,
    /// Levels of blocks closed since the last token that was not an end: the parser closes
    /// blocks at a dedent before it fails, and a diagnosis needs them.
    closed: Vec<Node>,
    /// What was found.
    pub issues: Vec<ParseIssue>,
}

impl<'t> TokenLints<'t> {
    /// Lints over `text` with `options`.
    pub fn new(text: &'t str, options: &YamlOptions) -> Self {
        let style = match options.sequences {
            SequenceStyle::Indented => Some((true, 0)),
            SequenceStyle::Flush => Some((false, 0)),
            _ => None,
        };
        TokenLints {
            text,
            line_starts: std::cell::OnceCell::new(),
            width: options.spaces.map(|w| (w, 0)),
            style,
            options: options.clone(),
            stack: Vec::new(),
            scalar_ranges: Vec::new(),
            closed: Vec::new(),
            issues: Vec::new(),
        }
    }

    /// Byte offsets at which each line of the text starts.
    fn starts(&self) -> &[usize] {
        self.line_starts
            .get_or_init(|| gitops_lint_core::source::line_starts(self.text))
    }

    /// 0-based line of a byte offset (binary search).
    pub(crate) fn line(&self, byte: usize) -> usize {
        match self.starts().binary_search(&byte) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// Byte offset at which 0-based line `line` starts.
    pub(crate) fn line_start(&self, line: usize) -> usize {
        self.starts()[line]
    }

    /// Where line `line`'s columns start: after a leading byte-order mark on the first line.
    fn column_origin(&self, line: usize) -> usize {
        let start = self.starts()[line];
        if line == 0 && self.text.starts_with('\u{feff}') {
            start + '\u{feff}'.len_utf8()
        } else {
            start
        }
    }

    /// 0-based character column.
    fn col(&self, byte: usize) -> usize {
        let start = self.column_origin(self.line(byte));
        self.text
            .get(start..byte.min(self.text.len()))
            .map_or(0, |s| s.chars().count())
    }

    fn line_text(&self, line: usize) -> &'t str {
        let start = self.starts().get(line).copied().unwrap_or(self.text.len());
        let end = self
            .starts()
            .get(line + 1)
            .map_or(self.text.len(), |n| n - 1);
        self.text[start..end.max(start)].trim_end_matches('\r')
    }

    /// Whether only spaces precede `byte` on its line.
    fn first_on_line(&self, byte: usize) -> bool {
        let start = self.column_origin(self.line(byte));
        self.text
            .get(start..byte)
            .is_some_and(|s| s.bytes().all(|b| b == b' '))
    }

    /// The `-` right before an item's content at `start` (over spaces and line breaks).
    fn dash_before(&self, start: usize) -> Option<usize> {
        let bytes = self.text.as_bytes();
        let mut i = start.min(bytes.len());
        while i > 0 && matches!(bytes[i - 1], b' ' | b'\n' | b'\r') {
            i -= 1;
        }
        (i > 0 && bytes[i - 1] == b'-').then(|| i - 1)
    }

    /// Where a block sequence's `-` column is: saphyr reports either the first `-` or the
    /// first item's content.
    fn sequence_dash(&self, start: usize) -> usize {
        if self.text.as_bytes().get(start) == Some(&b'-') {
            start
        } else {
            self.dash_before(start).unwrap_or(start)
        }
    }

    /// A 0-based line of this text as the reader sees it: 1-based, in the outer file.
    fn human_line(&self, line: usize) -> usize {
        line + 1 + self.options.line_offset
    }

    fn human_col(&self, col: usize) -> usize {
        col + 1 + self.options.column_offset
    }

    /// One parser event.
    pub fn event(&mut self, ev: &Event<'_>, start: usize, end: usize) {
        // End events are reported at the next token, which is not part of the block.
        if !matches!(ev, Event::MappingEnd | Event::SequenceEnd) {
            if let Some(top) = self.stack.last_mut() {
                top.last_end = top.last_end.max(end);
            }
            self.closed.clear();
        }
        match ev {
            Event::DocumentStart(_) | Event::DocumentEnd => self.stack.clear(),
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let map = matches!(ev, Event::MappingStart(..));
                let byte = self.text.as_bytes().get(start).copied();
                let block = !matches!(byte, Some(b'{' | b'['));
                let pos = if !map && block {
                    self.sequence_dash(start)
                } else {
                    start
                };
                self.item_or_value(start);
                let pending = if block {
                    self.check_open(map, pos)
                } else {
                    None
                };
                self.stack.push(Node {
                    map,
                    block,
                    pos,
                    expecting_key: true,
                    last_key: None,
                    keys: SeenKeys::default(),
                    dash: pos,
                    last_end: end,
                    pending,
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                if let Some(mut node) = self.stack.pop() {
                    if let Some(p) = node.pending.take() {
                        self.attach_shift_fix(p, node.pos, node.last_end);
                    }
                    self.value_done(node.last_end);
                    // Kept whole (no formatting here: this runs for every block of every file);
                    // only a diagnosis turns it into words.
                    node.keys = SeenKeys::default();
                    self.closed.push(node);
                }
            }
            Event::Scalar(value, style, _, tag) => {
                self.scalar(value, *style, tag.is_some(), start, end);
            }
            Event::Alias(_) => {
                if self.expecting_key() {
                    // An alias key has no name of its own to compare.
                    if let Some(top) = self.stack.last_mut() {
                        top.expecting_key = false;
                    }
                } else {
                    self.item_or_value(start);
                    self.value_done(end);
                }
            }
            _ => {}
        }
    }

    fn expecting_key(&self) -> bool {
        matches!(self.stack.last(), Some(n) if n.map && n.expecting_key)
    }

    /// Before a value (scalar or collection) in a sequence: remember its dash.
    fn item_or_value(&mut self, start: usize) {
        let dash = match self.stack.last() {
            Some(n) if !n.map && n.block => self.dash_before(start),
            _ => None,
        };
        if let (Some(d), Some(top)) = (dash, self.stack.last_mut()) {
            top.dash = d;
        }
    }

    /// A value finished: its map expects a key again.
    fn value_done(&mut self, end: usize) {
        if let Some(top) = self.stack.last_mut() {
            top.last_end = top.last_end.max(end);
            if top.map {
                top.expecting_key = true;
            }
        }
    }

    fn scalar(&mut self, value: &str, style: ScalarStyle, tagged: bool, start: usize, end: usize) {
        let multi_line = self.text.get(start..end).is_some_and(|s| s.contains('\n'));
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
            || (multi_line && style != ScalarStyle::Plain)
        {
            self.scalar_ranges.push((start, end));
        }
        if self.expecting_key() {
            let name = if style == ScalarStyle::Plain && !tagged {
                if !self.options.skip_ambiguous_keys {
                    self.ambiguous(value, start, end, true);
                }
                key_string(resolve_plain(value))
            } else {
                value.to_string()
            };
            self.key(name, start, end);
            return;
        }
        self.item_or_value(start);
        if style == ScalarStyle::Plain && !tagged {
            self.ambiguous(value, start, end, false);
            if multi_line {
                self.folded_value(value, start, end);
            }
        }
        self.value_done(end);
    }

    fn key(&mut self, name: String, start: usize, end: usize) {
        let text = self.text;
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        top.expecting_key = false;
        if name != "<<" {
            if let Some((first_start, first_end)) = top.keys.get(&name) {
                let shown = text.get(start..end).unwrap_or("");
                let first_shown = text.get(first_start..first_end).unwrap_or("");
                let first_line = self.human_line(self.line(first_start));
                let same_text = first_shown == shown;
                let (shown, first_shown, name) =
                    (quoted(shown), quoted(first_shown), quoted(&name));
                // What the file's reader does with it: go-yaml v2 keeps the last value,
                // kustomize (kyaml, go-yaml v3) and the Actions parser refuse the file.
                let effect = match self.options.reader {
                    Reader::Kubernetes => "kubectl and Argo CD silently keep this last value and drop the first, kustomize refuses the file",
                    Reader::Helm => "Helm silently keeps this last value and drops the first",
                    Reader::Actions => "GitHub Actions refuses the workflow",
                    Reader::Other => "most YAML readers silently keep this last value, strict ones refuse the file",
                };
                let message = if same_text {
                    format!("`{shown}` is set twice in this mapping (first on line {first_line}); {effect}")
                } else {
                    format!("`{shown}` is the same key as `{first_shown}` on line {first_line} (both read as `{name}`); {effect}")
                };
                let mut issue = ParseIssue::new(RuleId::YAML_DUPLICATE_KEY, start, end, message)
                    .with_help("keep one of the two (merge their contents if both matter)");
                issue
                    .related
                    .push((first_start, first_end, "first set here".to_string()));
                self.issues.push(issue);
            } else {
                top.keys.insert(name, (start, end));
            }
        }
        if let Some(top) = self.stack.last_mut() {
            top.last_key = Some((start, end));
        }
    }

    /// A plain scalar that the YAML readers in the deploy path read differently: go-yaml v2
    /// (kubectl, Argo CD, Helm through sigs.k8s.io/yaml) and go-yaml v3 (kustomize's kyaml, yq).
    fn ambiguous(&mut self, value: &str, start: usize, end: usize, is_key: bool) {
        // Only the YAML 1.1 booleans (y/n/yes/no/on/off) differ between those readers: go-yaml
        // v3 keeps the 1.1 octals (`0600`) and Go's `0b`/`0x`/`_` number forms (its
        // resolve.go parses plain integers with `strconv.ParseInt(plain, 0, 64)`), so a number
        // means the same to every Go consumer and is never reported. Everything else is
        // rejected on its first byte without resolving anything.
        if !matches!(
            value.as_bytes().first(),
            Some(b'y' | b'Y' | b'n' | b'N' | b'o' | b'O')
        ) {
            return;
        }
        let old = resolve_plain(value);
        let Value::Bool(old) = old else {
            return;
        };
        let new = resolve_core(value);
        let describe = |v: &Value| match v {
            Value::Bool(b) => format!("the boolean {b}"),
            Value::Null => "null".to_string(),
            Value::String(s) => format!("the string \"{s}\""),
            other => other.to_string(),
        };
        if new == Value::Bool(old) {
            return;
        }
        let other = "YAML 1.2 readers, kustomize and yq (go-yaml v3) among them";
        let (message, help) = if is_key {
            (
                format!("the key `{value}` is the boolean {old} to Kubernetes and Argo CD (YAML 1.1), which turn it into the key \"{old}\", but {} to {other}", describe(&new)),
                format!("quote the key (\"{value}\") so every tool reads the same name"),
            )
        } else {
            (
                format!(
                    "`{value}` is the boolean {old} to Kubernetes, Argo CD and Helm (YAML 1.1) but {} to {other}",
                    describe(&new)
                ),
                format!("write `{old}` if you mean a boolean, or quote it (\"{value}\") if you mean the text"),
            )
        };
        self.issues.push(
            ParseIssue::new(RuleId::YAML_AMBIGUOUS_SCALAR, start, end, message).with_help(help),
        );
    }

    /// A plain mapping value running over several lines whose continuation looks like a list
    /// item or a `key:`: the author meant structure, YAML made one string.
    fn folded_value(&mut self, value: &str, start: usize, end: usize) {
        let Some(top) = self.stack.last() else {
            return;
        };
        if !top.map || !top.block {
            return;
        }
        let Some((key_start, key_end)) = top.last_key else {
            return;
        };
        let key = self.key_text(key_start, key_end);
        let value = quoted(value);
        let first = self.line(start);
        let last = self.line(end.saturating_sub(1).max(start));
        for line in first + 1..=last {
            let text = self.line_text(line);
            let trimmed = text.trim_start_matches(' ');
            let looks_like_item = trimmed == "-" || trimmed.starts_with("- ");
            let looks_like_key = trimmed.split_once(':').is_some_and(|(k, rest)| {
                is_key_like(k) && !rest.starts_with(['/', ' ', '\t']) && !rest.is_empty()
            });
            if !(looks_like_item || looks_like_key) {
                continue;
            }
            let line_start = self.starts()[line];
            let at = line_start + (text.len() - trimmed.len());
            let what = if looks_like_item {
                "a list item"
            } else {
                "a `key:`"
            };
            let message = format!(
                "this line looks like {what}, but YAML folds it into the value of `{key}` (line {}), which becomes the single string `{value}`",
                self.human_line(self.line(key_start))
            );
            let help = if looks_like_item {
                format!("a key has either a value on its own line or a list below it, not both: move `{}` onto its own line as the first item, or quote the value", value.split(" - ").next().unwrap_or(&value))
            } else {
                "put a space after the `:` and indent the line like its siblings if it is a key; quote the value if it is text".to_string()
            };
            self.issues.push(
                ParseIssue::new(
                    RuleId::YAML_CONTINUED_MAPPING_VALUE,
                    at,
                    line_start + text.len(),
                    message,
                )
                .with_help(help),
            );
        }
    }

    /// Checks a block collection that opens at `pos` against its parent; returns what to fix
    /// when its end is known.
    fn check_open(&mut self, map: bool, pos: usize) -> Option<Pending> {
        if !self.first_on_line(pos) {
            return None;
        }
        let col = self.col(pos);
        let line = self.line(pos);
        let what = if map { "block" } else { "list" };
        let Some(parent) = self.stack.last() else {
            if col != 0 {
                let issue = self.indent_issue(
                    RuleId::YAML_INDENT_WIDTH,
                    pos,
                    format!(
                        "the top level of this document starts at column {}; expected column {}",
                        self.human_col(col),
                        self.human_col(0)
                    ),
                    0,
                    col,
                );
                return Some(Pending {
                    issue,
                    delta: -(col as isize),
                });
            }
            return None;
        };
        if !parent.block {
            return None;
        }
        let parent_col = self.col(parent.pos);
        if parent.map {
            let (key_start, key_end) = parent.last_key?;
            let key = self.key_text(key_start, key_end);
            if self.line(key_start) >= line {
                return None;
            }
            let key_line = self.human_line(self.line(key_start));
            let step = col as isize - parent_col as isize;
            if step < 0 {
                return None;
            }
            let step = step as usize;
            if !map {
                let indented = step > 0;
                match self.style {
                    None if self.options.sequences != SequenceStyle::Any => {
                        self.style = Some((indented, self.human_line(line)));
                    }
                    Some((want, learned)) if want != indented => {
                        let width = self.width.map_or(2, |w| w.0);
                        let expected = if want { parent_col + width } else { parent_col };
                        let origin = if learned == 0 {
                            "`.gitops-lint.yaml` (yaml.sequences) asks for".to_string()
                        } else {
                            format!("the first list of this file (line {learned}) sets")
                        };
                        let message = if want {
                            format!("this list is flush with its key `{key}` (line {key_line}), but {origin} lists indented under their key")
                        } else {
                            format!("this list is indented under its key `{key}` (line {key_line}), but {origin} lists flush with their key")
                        };
                        let issue =
                            self.indent_issue(RuleId::YAML_LIST_STYLE, pos, message, expected, col);
                        return Some(Pending {
                            issue,
                            delta: expected as isize - col as isize,
                        });
                    }
                    _ => {}
                }
                if !indented {
                    return None;
                }
            }
            self.check_width(pos, step, parent_col, col, || {
                format!("this {what} is indented {step} spaces under `{key}` (line {key_line})")
            })
        } else {
            // An item whose content starts on the line after its `-`.
            let dash = parent.dash;
            if self.line(dash) >= line {
                return None;
            }
            let dash_col = self.col(dash);
            let step = col.checked_sub(dash_col)?;
            let dash_line = self.human_line(self.line(dash));
            self.check_width(pos, step, dash_col, col, || {
                format!("this {what} is indented {step} spaces after its `-` (line {dash_line})")
            })
        }
    }

    /// Compares one indentation step with the file's width (learning it if unknown). `what`
    /// describes the block for a finding; why a closure: this runs for every block of every
    /// file, and the words are needed only when the step is wrong.
    fn check_width(
        &mut self,
        pos: usize,
        step: usize,
        base_col: usize,
        col: usize,
        what: impl FnOnce() -> String,
    ) -> Option<Pending> {
        if step == 0 {
            return None;
        }
        match self.width {
            None => {
                self.width = Some((step, self.human_line(self.line(pos))));
                None
            }
            Some((width, _)) if width == step => None,
            Some((width, learned)) => {
                let origin = if learned == 0 {
                    format!("`.gitops-lint.yaml` sets the width to {width}")
                } else {
                    format!("this file indents by {width} (first at line {learned})")
                };
                let expected = base_col + width;
                let issue = self.indent_issue(
                    RuleId::YAML_INDENT_WIDTH,
                    pos,
                    format!("{}; {origin}", what()),
                    expected,
                    col,
                );
                Some(Pending {
                    issue,
                    delta: expected as isize - col as isize,
                })
            }
        }
    }

    /// Records a style finding of `rule` (width or list style) at the line of `pos`.
    fn indent_issue(
        &mut self,
        rule: RuleId,
        pos: usize,
        message: String,
        expected: usize,
        col: usize,
    ) -> usize {
        let line = self.line(pos);
        let end = self.starts()[line] + self.line_text(line).len();
        let moves = if expected > col {
            format!("{} more", expected - col)
        } else {
            format!("{} fewer", col - expected)
        };
        let spaces = if expected.abs_diff(col) == 1 {
            "space"
        } else {
            "spaces"
        };
        self.issues.push(
            ParseIssue::new(rule, pos, end.max(pos), message).with_help(format!(
                "indent it to column {} ({moves} {spaces}), with everything nested under it",
                self.human_col(expected)
            )),
        );
        self.issues.len() - 1
    }

    /// Attaches a fix that moves every line of a node by `delta` columns, when that is safe:
    /// only spaces move, no line would lose characters, and no block scalar pins its indent.
    fn attach_shift_fix(&mut self, pending: Pending, pos: usize, last_end: usize) {
        let first = self.line(pos);
        let last = self.line(last_end.saturating_sub(1).max(pos));
        let mut edits = Vec::new();
        for line in first..=last {
            let text = self.line_text(line);
            let trimmed = text.trim_start_matches(' ');
            if trimmed.is_empty() {
                continue;
            }
            if text.starts_with('\t') || has_indent_indicator(trimmed) {
                return;
            }
            let lead = text.len() - trimmed.len();
            let start = self.starts()[line];
            if pending.delta > 0 {
                edits.push((start, start, " ".repeat(pending.delta as usize)));
            } else {
                let cut = pending.delta.unsigned_abs();
                if lead < cut {
                    if trimmed.starts_with('#') {
                        continue;
                    }
                    return;
                }
                edits.push((start, start + cut, String::new()));
            }
        }
        if let Some(issue) = self.issues.get_mut(pending.issue) {
            issue.fix = Some(Box::new(Fix {
                kind: FixKind::Preserving,
                edits,
            }));
        }
    }

    /// A key as written (for messages): its source text.
    fn key_text(&self, start: usize, end: usize) -> Cow<'t, str> {
        quoted(self.text.get(start..end).unwrap_or(""))
    }

    /// A block's level for a diagnosis: its column, what sits there, and the line.
    fn level(&self, node: &Node) -> Option<(usize, String, usize)> {
        if !node.block {
            return None;
        }
        if node.map {
            let (start, end) = node.last_key?;
            let key = self.key_text(start, end);
            Some((
                self.col(start),
                format!("`{key}`"),
                self.human_line(self.line(start)),
            ))
        } else {
            Some((
                self.col(node.dash),
                "the list items' `-`".to_string(),
                self.human_line(self.line(node.dash)),
            ))
        }
    }

    /// Explains a syntax error at `at` when its line is indented to a column that none of the
    /// open blocks uses. Returns `None` when the error is not about indentation.
    pub(crate) fn diagnose(&self, at: usize) -> Option<ParseIssue> {
        let line = self.line(at.min(self.text.len()));
        let text = self.line_text(line);
        let trimmed = text.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') || text.starts_with('\t') {
            return None;
        }
        let col = text.len() - trimmed.len();
        let line_start = self.starts()[line];
        // Open block levels, innermost last: (column, what sits there, its line, is the
        // innermost level's last entry a scalar that cannot have children).
        let mut levels: Vec<(usize, String, usize)> =
            self.stack.iter().filter_map(|n| self.level(n)).collect();
        levels.extend(self.closed.iter().filter_map(|n| self.level(n)));
        if levels.iter().any(|(c, _, _)| *c == col) || levels.is_empty() {
            return None;
        }
        let end = line_start + text.len();
        let deeper = levels
            .iter()
            .filter(|(c, _, _)| *c < col)
            .max_by_key(|l| l.0);
        let shallower = levels
            .iter()
            .filter(|(c, _, _)| *c > col)
            .min_by_key(|l| l.0);
        let cols = |n: usize| {
            if n == 1 {
                "1 column".to_string()
            } else {
                format!("{n} columns")
            }
        };
        let (message, help, fix) = match (deeper, shallower) {
            (Some((c, what, l)), None) => {
                // Deeper than the innermost sibling, which holds a plain value: the only
                // reading that parses is a sibling.
                let message = format!(
                    "this line is indented {} deeper than its sibling {what} (line {l}), so YAML cannot read it as a sibling, and a value cannot have children; the file does not parse",
                    cols(col - c)
                );
                let help = format!(
                    "move it to column {} to line it up with {what}",
                    self.human_col(*c)
                );
                (
                    message,
                    help,
                    Some(Box::new(Fix {
                        kind: FixKind::Intended,
                        edits: vec![(line_start + c, line_start + col, String::new())],
                    })),
                )
            }
            (Some((c1, what1, l1)), Some((c2, what2, l2))) => (
                format!(
                    "this line is indented to column {}, between {what1} (line {l1}, column {}) and {what2} (line {l2}, column {}): {} deeper than one and {} shallower than the other, so it belongs to neither and the file does not parse",
                    self.human_col(col),
                    self.human_col(*c1),
                    self.human_col(*c2),
                    cols(col - c1),
                    cols(c2 - col)
                ),
                format!(
                    "move it to column {} or {}, whichever level it belongs to",
                    self.human_col(*c1),
                    self.human_col(*c2)
                ),
                None,
            ),
            _ => return None,
        };
        let mut issue = ParseIssue::new(RuleId::YAML_INDENTATION, line_start + col, end, message)
            .with_help(help)
            .with_effect(IssueEffect::StopsParsing);
        issue.fix = fix;
        Some(issue)
    }
}

/// Whether `s` could be a mapping key typed without its space (`image:nginx`).
fn is_key_like(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
}

/// Whether a line carries a block scalar header with an explicit indentation (`|2`, `>-4`).
fn has_indent_indicator(line: &str) -> bool {
    let code = line.split(" #").next().unwrap_or(line).trim_end();
    let Some(pos) = code.rfind(['|', '>']) else {
        return false;
    };
    let rest = &code[pos + 1..];
    !rest.is_empty()
        && rest.len() <= 2
        && rest.chars().all(|c| matches!(c, '-' | '+' | '1'..='9'))
        && rest.chars().any(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use crate::yaml::load_with;
    use crate::ParseIssue;
    use gitops_lint_core::RuleId;

    use super::*;

    fn issues(text: &str, options: &YamlOptions) -> Vec<ParseIssue> {
        load_with(text, options).issues
    }

    fn rules_and_lines(text: &str) -> Vec<(RuleId, usize)> {
        let mut out: Vec<_> = issues(text, &YamlOptions::default())
            .into_iter()
            .map(|i| (i.rule, text[..i.start].matches('\n').count() + 1))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn messages_quote_long_input_cut_short() {
        // A scalar folded over 2,000 key-like lines: one finding per line, each quoting the
        // value, which would make the messages quadratic in the file.
        let mut text = String::from("data:\n  key: start\n");
        for _ in 0..2000 {
            text.push_str("    a:b\n");
        }
        let found = issues(&text, &YamlOptions::default());
        assert_eq!(found.len(), 2000);
        assert!(found[0].rule == RuleId::YAML_CONTINUED_MAPPING_VALUE);
        assert!(
            found.iter().all(|i| i.message.len() < 400),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("`start a:b a:b"),
            "{}",
            found[0].message
        );
        assert!(found[0].message.contains("…`"), "{}", found[0].message);

        let key = "k".repeat(1000);
        let found = issues(&format!("{key}: 1\n{key}: 2\n"), &YamlOptions::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, RuleId::YAML_DUPLICATE_KEY);
        assert!(found[0].message.len() < 600, "{}", found[0].message.len());
    }

    #[test]
    fn width_is_learned_from_the_first_block() {
        let text = "a:\n  b:\n     c: 1\nd:\n  e: 2\n";
        let found = issues(text, &YamlOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, RuleId::YAML_INDENT_WIDTH);
        assert!(found[0]
            .message
            .contains("indented 3 spaces under `b` (line 2)"));
        assert!(found[0].message.contains("indents by 2 (first at line 2)"));
        assert!(found[0].help.as_deref().unwrap_or("").contains("column 5"));
        assert!(found[0].fix.is_some());
    }

    #[test]
    fn a_configured_width_wins() {
        let options = YamlOptions {
            spaces: Some(4),
            ..YamlOptions::default()
        };
        let found = issues("a:\n  b: 1\n", &options);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("sets the width to 4"));
    }

    #[test]
    fn list_styles_must_not_mix_but_either_is_fine_alone() {
        assert!(rules_and_lines("a:\n- x\nb:\n- z\n").is_empty());
        assert!(rules_and_lines("a:\n  - x\nb:\n  - z\n").is_empty());
        assert_eq!(
            rules_and_lines("a:\n  - x\nb:\n- z\n"),
            vec![(RuleId::YAML_LIST_STYLE, 4)]
        );
        let any = YamlOptions {
            sequences: SequenceStyle::Any,
            ..YamlOptions::default()
        };
        assert!(issues("a:\n  - x\nb:\n- z\n", &any).is_empty());
    }

    #[test]
    fn compact_items_and_block_scalars_are_not_indentation() {
        let text = "items:\n  - name: a\n    value: |\n        deep text\n  - - x\n    - z\n";
        assert!(
            rules_and_lines(text).is_empty(),
            "{:?}",
            rules_and_lines(text)
        );
    }

    #[test]
    fn a_line_deeper_than_its_plain_sibling_is_explained_and_fixable() {
        let text = "spec:\n  image: nginx\n   ports: []\n";
        let found = issues(text, &YamlOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, RuleId::YAML_INDENTATION);
        assert!(found[0]
            .message
            .contains("1 column deeper than its sibling `image` (line 2)"));
        assert_eq!(
            found[0].fix.as_ref().map(|f| f.kind),
            Some(FixKind::Intended)
        );
    }

    #[test]
    fn a_line_between_two_levels_is_explained_but_not_fixed() {
        let text = "a:\n  b: 1\n c: 2\n";
        let found = issues(text, &YamlOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("between `a`"),
            "{}",
            found[0].message
        );
        assert!(found[0].fix.is_none());
    }

    #[test]
    fn duplicate_keys_point_at_both_and_see_yaml_1_1_keys() {
        let text = "a: 1\nb:\n  true: x\n  on: y\na: 2\n";
        let found: Vec<_> = issues(text, &YamlOptions::default())
            .into_iter()
            .filter(|i| i.rule == RuleId::YAML_DUPLICATE_KEY)
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].message.contains("same key as `true`"));
        assert_eq!(found[1].related[0].0, 0);
        assert!(rules_and_lines("a: {x: 1}\nb: {x: 2}\n<<: {}\n").is_empty());
    }

    #[test]
    fn duplicate_keys_are_found_in_long_mappings_too() {
        // Past FEW_KEYS the keys move into a hash table: a key repeated before the move, one
        // repeated after it, and one first set after it are all still seen (as Kubernetes reads
        // them: `on` is `true`).
        let mut text: String = (0..40).map(|i| format!("k{i}: {i}\n")).collect();
        text.push_str("k3: again\nk30: again\ntrue: 1\non: 2\n");
        let found: Vec<(usize, usize)> = issues(&text, &YamlOptions::default())
            .into_iter()
            .filter(|i| i.rule == RuleId::YAML_DUPLICATE_KEY)
            .map(|i| {
                let line = |at: usize| text[..at].matches('\n').count() + 1;
                (line(i.start), line(i.related[0].0))
            })
            .collect();
        assert_eq!(found, vec![(41, 4), (42, 31), (44, 43)]);
        let short: String = (0..FEW_KEYS).map(|i| format!("k{i}: {i}\n")).collect();
        assert!(rules_and_lines(&short).is_empty());
    }

    #[test]
    fn ambiguous_scalars_only_where_yaml_versions_disagree() {
        // Numbers (`017`, `1_000`, `0b110`) mean the same to go-yaml v2 and v3: not reported.
        let text = "a: yes\nb: 'yes'\nc: True\nd: 017\ne: 0o17\nf: 1e3\ng: 1_000\nh: !!str no\ni: n\nj: 0b110\n";
        let lines: Vec<usize> = rules_and_lines(text).into_iter().map(|r| r.1).collect();
        assert_eq!(lines, vec![1, 9]);
        let workflow = YamlOptions {
            skip_ambiguous_keys: true,
            ..YamlOptions::default()
        };
        assert!(issues("on:\n  push: {}\n", &workflow).is_empty());
        assert_eq!(
            rules_and_lines("on:\n  push: {}\n"),
            vec![(RuleId::YAML_AMBIGUOUS_SCALAR, 1)]
        );
    }

    #[test]
    fn a_mapping_value_that_swallowed_a_list_item() {
        let text = "args: --foo\n  - --bar\nimage: x\n";
        assert_eq!(
            rules_and_lines(text),
            vec![(RuleId::YAML_CONTINUED_MAPPING_VALUE, 2)]
        );
        assert!(rules_and_lines("command: echo\n  hello world\nurl: a\n  http://x\n").is_empty());
    }

    #[test]
    fn a_leading_byte_order_mark_is_not_a_column() {
        assert!(rules_and_lines("\u{feff}a:\n  b:\n    c: 1\n").is_empty());
    }

    #[test]
    fn indentation_indicators_block_the_shift_fix() {
        assert!(has_indent_indicator("script: |2"));
        assert!(has_indent_indicator("- >-4"));
        assert!(!has_indent_indicator("script: |"));
        assert!(!has_indent_indicator("a: b > 3"));
    }
}
