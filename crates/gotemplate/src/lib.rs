//! A Go `text/template` engine over `serde_json::Value`, for the subset that Helm charts and
//! Argo CD ApplicationSet `goTemplate` use. In-process: no `helm` binary.
//!
//! # API
//!
//! ```no_run
//! use gitops_lint_gotemplate::{Funcs, Options, Templates};
//! let mut funcs = Funcs::builtins();               // and, or, not, eq, index, len, printf, ...
//! gitops_lint_gotemplate::helm_funcs::register(&mut funcs); // include, default, quote, toYaml, ...
//! let mut set = Templates::new(funcs, Options::default());
//! set.add_file("templates/_helpers.tpl", "{{ define \"x\" }}[{{ . }}]{{ end }}")?;
//! set.add_file("templates/sa.yaml", "name: {{ include \"x\" .Values.id }}")?;
//! let out = set.execute("templates/sa.yaml", &serde_json::json!({"Values": {"id": "t1"}}))?;
//! assert_eq!(out, "name: [t1]");
//! # Ok::<(), gitops_lint_gotemplate::Error>(())
//! ```
//!
//! - A file's top level is a template named after the file; each `define`/`block` is a template
//!   of its own name, shared by the whole set (so `include` and `template` reach across files).
//! - Functions are a [`Funcs`] table of plain `fn(&Ctx, &[Value]) -> Result<Value, Error>`; a
//!   function family lives in its own file and registers itself (`builtins`,
//!   `helm_funcs::register`; `helm_funcs::register_sprig` is the sprig part alone, without
//!   Helm's `include`/`tpl`/`required`/`toYaml`; Argo CD's sprig set goes in another file the
//!   same way, and may start from `register_sprig`). [`Ctx`] gives a function the
//!   template set (`include`, `tpl`).
//! - Anything outside the subset is an [`ErrorKind::Unsupported`] error naming the construct
//!   and its byte offset: a function not in the table (found when the file is added, as Go
//!   does), `break`/`continue`, `call`, method calls such as `.Files.Get`. Callers report such a
//!   template as "not understood" rather than guess.
//! - [`MissingKey`] chooses Go's default (`<no value>`) or `missingkey=error`.
//! - Values print as Go prints them: a float64 `1.23456789012e+11`, a list `[a b]`, a map
//!   `map[a:1]`; `range` over a map goes in sorted key order.

mod builtins;
mod exec;
pub mod format;
pub mod helm_funcs;
mod parse;
pub mod yaml_out;

use serde_json::Value;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

pub use exec::Ctx;

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The text is not a valid template.
    Parse,
    /// Execution failed (as `helm template` would fail): `required`, `fail`, a nil pointer.
    Exec,
    /// A construct outside the supported subset, named.
    Unsupported(String),
}

/// A template error with where it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The kind.
    pub kind: ErrorKind,
    /// The file (template source) the offset is in; empty when not known.
    pub template: String,
    /// Byte offset into that file; `usize::MAX` when not known.
    pub offset: usize,
    /// What happened.
    pub message: String,
    /// Why, where a caller decides by it (typed, so that nobody matches on the message).
    pub cause: Cause,
}

/// The causes of an execution error that callers tell apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cause {
    /// Anything else.
    #[default]
    Other,
    /// `missingkey=error` and the key is absent: the dotted path of the missing key (`a.x`).
    MissingKey(String),
    /// `index` or `slice` beyond the end of a list.
    IndexOutOfRange,
    /// The execution ran out of one of its [`Limits`]: not the template's fault as Go would
    /// see it, but more work than a linter does for one template.
    Budget(Budget),
}

/// Which of an execution's [`Limits`] ran out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Budget {
    /// [`Limits::steps`]: nodes walked, range iterations, function and template calls, and
    /// one step per KiB of values copied or built.
    Steps,
    /// [`Limits::output_bytes`]: bytes written (by the template and every template it
    /// includes), or one value larger than that.
    OutputBytes,
}

/// The budgets of one execution ([`Templates::execute`] and everything it includes or runs
/// with `tpl`): a hostile template cannot make it run or allocate without bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Steps: each node walked, each `range` iteration, each function, `include`,
    /// `template` or `tpl` call, and one per KiB of a value copied out of the data or
    /// variables or built by a function.
    pub steps: u64,
    /// Bytes written to the outputs of the execution (nested templates included); a single
    /// value built larger than this also stops it.
    pub output_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            steps: 1_000_000,
            output_bytes: 16 << 20,
        }
    }
}

impl Error {
    /// The same error with a typed cause.
    pub fn with_cause(mut self, cause: Cause) -> Error {
        self.cause = cause;
        self
    }

    /// An execution error raised by a function; the executor fills in where.
    pub fn func(message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Exec,
            template: String::new(),
            offset: usize::MAX,
            message: message.into(),
            cause: Cause::Other,
        }
    }

    /// The 1-based line and column of the offset in `text` (the template's source).
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        let before = text.get(..self.offset)?;
        let line = before.matches('\n').count() + 1;
        let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Some((line, col))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.template.is_empty() {
            f.write_str(&self.message)
        } else if self.offset == usize::MAX {
            write!(f, "{}: {}", self.template, self.message)
        } else {
            write!(f, "{}@{}: {}", self.template, self.offset, self.message)
        }
    }
}

impl std::error::Error for Error {}

/// A template function: arguments already evaluated (a piped value comes last).
pub(crate) type Func = fn(&Ctx<'_>, &[Value]) -> Result<Value, Error>;

/// A function whose last argument is a template's context (Helm's `include` and `tpl`): the
/// arguments before it, then the context. Why apart from [`Func`]: the context is nearly always
/// `.`, the release's whole data, and [`Func`] takes its arguments by value, so each call copied
/// all of it (twice per release in a typical chart, 1.8% of a clean 1,000-tenant run's
/// instructions). The executor passes `.` to this form borrowed.
pub(crate) type ContextFunc = fn(&Ctx<'_>, &[Value], &Value) -> Result<Value, Error>;

/// The function table a set parses and runs with.
#[derive(Clone, Default)]
pub struct Funcs {
    map: HashMap<&'static str, Func>,
    /// The [`ContextFunc`] form of some of `map`'s functions, doing the same.
    context: HashMap<&'static str, ContextFunc>,
}

impl Funcs {
    /// An empty table (not even `and`/`or`; those are built into the executor).
    pub fn empty() -> Funcs {
        Funcs::default()
    }

    /// Go's builtin functions (see [`builtins`]).
    pub fn builtins() -> Funcs {
        let mut f = Funcs::default();
        builtins::register(&mut f);
        f
    }

    /// Adds or replaces a function.
    pub fn insert(&mut self, name: &'static str, func: Func) {
        // A replaced function's context form must not outlive it.
        self.context.remove(name);
        self.map.insert(name, func);
    }

    /// Adds or replaces a function that also has a [`ContextFunc`] form (which must do what
    /// `func` does with its last argument).
    pub(crate) fn insert_with_context(
        &mut self,
        name: &'static str,
        func: Func,
        context: ContextFunc,
    ) {
        self.map.insert(name, func);
        self.context.insert(name, context);
    }

    /// The function of this name.
    pub fn get(&self, name: &str) -> Option<Func> {
        self.map.get(name).copied()
    }

    /// The [`ContextFunc`] form of the function of this name, when it has one.
    pub(crate) fn context_form(&self, name: &str) -> Option<ContextFunc> {
        self.context.get(name).copied()
    }

    /// Whether a name is callable (the table, or `and`/`or` which the executor short-circuits).
    pub fn has(&self, name: &str) -> bool {
        self.map.contains_key(name) || matches!(name, "and" | "or")
    }
}

/// What a missing map key evaluates to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// Go's default: no value (prints `<no value>`, falsy).
    #[default]
    Default,
    /// `missingkey=error`: execution fails naming the key.
    Error,
}

/// Execution options.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Missing map keys.
    pub missing_key: MissingKey,
    /// The budgets of each execution (hostile templates); see [`Templates::execute_within`]
    /// to give others per call.
    pub limits: Limits,
    /// Nested `include`/`template`/`tpl` calls deeper than this stop execution.
    pub max_depth: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            missing_key: MissingKey::Default,
            limits: Limits::default(),
            max_depth: 64,
        }
    }
}

/// One named template: its nodes and the file its offsets refer to.
#[derive(Clone)]
struct Tree {
    file: Arc<str>,
    nodes: Arc<Vec<parse::Node>>,
}

/// A set of named templates sharing one function table.
#[derive(Clone)]
pub struct Templates {
    trees: HashMap<String, Tree>,
    funcs: Funcs,
    options: Options,
}

impl Templates {
    /// An empty set.
    pub fn new(funcs: Funcs, options: Options) -> Templates {
        Templates {
            trees: HashMap::new(),
            funcs,
            options,
        }
    }

    /// Parses a file: its top level becomes template `name`, its `define`s templates of their
    /// own. A function not in the table is an [`ErrorKind::Unsupported`] error.
    pub fn add_file(&mut self, name: &str, text: &str) -> Result<(), Error> {
        let parsed = parse::parse(name, text)?;
        let mut called = Vec::new();
        parse::functions(&parsed.body, &mut called);
        for (_, body) in &parsed.defines {
            parse::functions(body, &mut called);
        }
        if let Some((f, pos)) = called
            .into_iter()
            .filter(|(f, _)| !self.funcs.has(f))
            .min_by_key(|(_, p)| *p)
        {
            return Err(Error {
                message: format!("function `{f}` is not supported"),
                kind: ErrorKind::Unsupported(format!("function `{f}`")),
                template: name.to_string(),
                offset: pos,
                cause: Cause::Other,
            });
        }
        let file: Arc<str> = Arc::from(name);
        for (define, body) in parsed.defines {
            // Go: a definition that is only white space does not replace an existing one.
            let blank = body
                .iter()
                .all(|n| matches!(n, parse::Node::Text(t) if t.trim().is_empty()));
            if blank && self.trees.contains_key(&define) {
                continue;
            }
            self.trees.insert(
                define,
                Tree {
                    file: file.clone(),
                    nodes: Arc::new(body),
                },
            );
        }
        self.trees.insert(
            name.to_string(),
            Tree {
                file,
                nodes: Arc::new(parsed.body),
            },
        );
        Ok(())
    }

    /// Whether a template of this name exists.
    pub fn has(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Runs template `name` with `dot` as its data (and `$`), within the set's
    /// [`Options::limits`].
    pub fn execute(&self, name: &str, dot: &Value) -> Result<String, Error> {
        self.execute_within(name, dot, self.options.limits)
    }

    /// [`Templates::execute`] within other budgets (a set parsed once and cached may run
    /// under the limits of the run at hand). Running out is an [`ErrorKind::Exec`] error
    /// whose cause is [`Cause::Budget`], at the action that ran out where it is known.
    pub fn execute_within(&self, name: &str, dot: &Value, limits: Limits) -> Result<String, Error> {
        let meter = exec::Meter::new(limits);
        exec::run(self, name, dot, 0, &meter)
    }
}

#[cfg(test)]
mod tests;
