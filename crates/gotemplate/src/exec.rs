//! Executes parsed templates over `serde_json::Value` data, with Go's semantics for truth,
//! variables and scope, `range` order, missing keys and printing. Every execution runs under a
//! [`Meter`] of its [`Limits`]: steps and bytes, shared with the templates it includes.

use super::format::{print, truthy, type_name};
use super::parse::{Arg, Node, Operand, Pipeline};
use super::{Budget, Cause, Error, ErrorKind, Limits, MissingKey, Templates};
use serde_json::Value;
use std::borrow::Cow;
use std::cell::Cell;

/// What a missing key yields (borrowed, so field lookups need not own anything).
static NULL: Value = Value::Null;

/// `range` over an integer larger than this stops execution (hostile templates).
const MAX_RANGE: i64 = 100_000;

/// Bytes of a value copied or built that cost one step: copying is work too, and a loop that
/// copies a large value on every iteration must run out of steps long before it runs for hours.
const BYTES_PER_STEP: u64 = 1024;

/// The budgets of one execution as they are spent: shared by the template that was asked
/// for and every template it includes, calls with `template` or runs with `tpl`.
pub(crate) struct Meter {
    limits: Limits,
    steps: Cell<u64>,
    written: Cell<u64>,
}

impl Meter {
    /// A fresh meter.
    pub(crate) fn new(limits: Limits) -> Meter {
        Meter {
            limits,
            steps: Cell::new(0),
            written: Cell::new(0),
        }
    }

    /// Spends `n` steps. Once over, every later check fails too.
    fn step(&self, n: u64) -> Result<(), Budget> {
        let spent = self.steps.get().saturating_add(n);
        self.steps.set(spent);
        if spent > self.limits.steps {
            Err(Budget::Steps)
        } else {
            Ok(())
        }
    }

    /// Counts bytes written to an output.
    fn wrote(&self, n: usize) -> Result<(), Budget> {
        let written = self.written.get().saturating_add(n as u64);
        self.written.set(written);
        if written > self.limits.output_bytes {
            Err(Budget::OutputBytes)
        } else {
            Ok(())
        }
    }

    /// Pays for a value of `size` bytes copied or built: larger than the output budget is
    /// refused (it could not be written anyway), and every KiB costs a step.
    fn value(&self, size: u64) -> Result<(), Budget> {
        if size > self.limits.output_bytes {
            return Err(Budget::OutputBytes);
        }
        self.step(size / BYTES_PER_STEP)
    }

    /// The message for a budget that ran out.
    fn message(&self, budget: Budget) -> String {
        match budget {
            Budget::Steps => format!(
                "the template ran more than {} steps (actions, iterations, calls)",
                self.limits.steps
            ),
            Budget::OutputBytes => format!(
                "the template wrote or built more than {} bytes",
                self.limits.output_bytes
            ),
        }
    }

    /// The error for a budget that ran out, where it is known.
    fn error(&self, budget: Budget, template: &str, offset: usize) -> Error {
        Error {
            kind: ErrorKind::Exec,
            template: template.to_string(),
            offset,
            message: self.message(budget),
            cause: Cause::Budget(budget),
        }
    }
}

/// What one value costs besides its text, in bytes (roughly its size in memory).
const VALUE_BYTES: u64 = 32;

/// The size of a value in bytes, roughly as it takes memory: string and key bytes, and
/// [`VALUE_BYTES`] per value; counted only up to `cap` (a walk stops there).
fn size(v: &Value, cap: u64) -> u64 {
    match v {
        Value::String(s) => s.len() as u64,
        Value::Array(items) => {
            let mut total = VALUE_BYTES;
            for i in items {
                total = total.saturating_add(size(i, cap) + VALUE_BYTES);
                if total > cap {
                    break;
                }
            }
            total
        }
        Value::Object(m) => {
            let mut total = VALUE_BYTES;
            for (k, i) in m {
                total = total
                    .saturating_add(k.len() as u64 + VALUE_BYTES)
                    .saturating_add(size(i, cap));
                if total > cap {
                    break;
                }
            }
            total
        }
        _ => 1,
    }
}

/// What a template function can reach besides its arguments: the template set, and the
/// budgets of the execution it runs in.
pub struct Ctx<'a> {
    set: &'a Templates,
    depth: usize,
    meter: &'a Meter,
}

impl Ctx<'_> {
    /// Runs the named template with `dot` (Helm's `include`).
    pub fn include(&self, name: &str, dot: &Value) -> Result<String, Error> {
        if !self.set.has(name) {
            return Err(Error::func(format!("no template \"{name}\" associated")));
        }
        run(self.set, name, dot, self.depth + 1, self.meter)
    }

    /// Parses and runs `text` as a template of the set (Helm's `tpl`).
    pub fn tpl(&self, text: &str, dot: &Value) -> Result<String, Error> {
        run_text(self.set, "tpl", text, dot, self.depth + 1, self.meter)
    }

    /// Whether a function may build a value of `bytes` bytes: a function whose result can be
    /// much larger than its arguments (`indent`, `replace`, a regular expression replacement)
    /// asks before it builds it. `Err` is the budget error, located at the call.
    pub fn check_size(&self, bytes: u64) -> Result<(), Error> {
        self.meter
            .value(bytes)
            .map_err(|b| self.meter.error(b, "", usize::MAX))
    }
}

/// Runs a named template at a nesting depth.
pub(super) fn run<'a>(
    set: &'a Templates,
    name: &str,
    dot: &'a Value,
    depth: usize,
    meter: &'a Meter,
) -> Result<String, Error> {
    let Some(tree) = set.trees.get(name) else {
        return Err(Error::func(format!("template `{name}` not defined")));
    };
    if depth > set.options.max_depth {
        return Err(Error {
            kind: ErrorKind::Exec,
            template: tree.file.to_string(),
            offset: usize::MAX,
            message: format!("templates nested deeper than {}", set.options.max_depth),
            cause: Cause::Other,
        });
    }
    let mut ex = Exec {
        set,
        file: &tree.file,
        // Why borrowed: `$` is the whole data (a release's merged values); cloning it per run
        // was a large share of Helm rendering.
        vars: vec![("$".to_string(), Cow::Borrowed(dot))],
        out: String::new(),
        depth,
        meter,
        at: usize::MAX,
    };
    ex.walk(dot, &tree.nodes)?;
    Ok(ex.out)
}

/// Parses `text` with the set's functions and runs it (its defines are not kept).
pub(super) fn run_text(
    set: &Templates,
    name: &str,
    text: &str,
    dot: &Value,
    depth: usize,
    meter: &Meter,
) -> Result<String, Error> {
    // The set is copied (one entry per template) and the text parsed: both are work.
    meter
        .step(1 + set.trees.len() as u64 + text.len() as u64 / BYTES_PER_STEP)
        .map_err(|b| meter.error(b, "", usize::MAX))?;
    let mut scratch = set.clone();
    scratch.add_file(name, text)?;
    run(&scratch, name, dot, depth, meter)
}

struct Exec<'a> {
    set: &'a Templates,
    file: &'a str,
    vars: Vec<(String, Cow<'a, Value>)>,
    out: String,
    depth: usize,
    meter: &'a Meter,
    /// The offset of the last action started (text has no position of its own).
    at: usize,
}

impl<'a> Exec<'a> {
    fn error(&self, pos: usize, message: impl Into<String>) -> Error {
        Error {
            kind: ErrorKind::Exec,
            template: self.file.to_string(),
            offset: pos,
            message: message.into(),
            cause: Cause::Other,
        }
    }

    /// The error for a budget that ran out at `pos` of this template.
    fn budget(&self, budget: Budget, pos: usize) -> Error {
        self.meter.error(budget, self.file, pos)
    }

    /// Spends `n` steps at `pos`.
    fn step(&self, n: u64, pos: usize) -> Result<(), Error> {
        self.meter.step(n).map_err(|b| self.budget(b, pos))
    }

    /// Writes to the output, counting the bytes.
    fn emit(&mut self, text: &str) -> Result<(), Error> {
        self.out.push_str(text);
        self.meter
            .wrote(text.len())
            .map_err(|b| self.budget(b, self.at))
    }

    /// Pays for a value copied out of the data or a variable, or built by a function.
    fn paid(&self, v: Value, pos: usize) -> Result<Value, Error> {
        self.pay(&v, pos)?;
        Ok(v)
    }

    /// What [`Exec::paid`] charges for `v`.
    fn pay(&self, v: &Value, pos: usize) -> Result<(), Error> {
        let bytes = match v {
            Value::Null | Value::Bool(_) | Value::Number(_) => return Ok(()),
            Value::String(s) => s.len() as u64,
            other => size(other, self.meter.limits.output_bytes),
        };
        self.meter.value(bytes).map_err(|b| self.budget(b, pos))
    }

    /// Fills in where an error from a function or nested template happened, if unknown (a
    /// budget that ran out on the text of an included template is the include's).
    fn locate(&self, mut e: Error, pos: usize) -> Error {
        let budget = matches!(e.cause, Cause::Budget(_));
        if e.template.is_empty() || (budget && e.offset == usize::MAX) {
            e.template = self.file.to_string();
            e.offset = pos;
        }
        e
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node]) -> Result<(), Error> {
        for node in nodes {
            self.at = match node {
                Node::Text(_) => self.at,
                Node::Action(p) | Node::If { pipe: p, .. } | Node::Range { pipe: p, .. } => p.pos,
                Node::Template { pos, .. } => *pos,
            };
            self.step(1, self.at)?;
            match node {
                Node::Text(t) => self.emit(t)?,
                Node::Action(p) => {
                    let v = self.pipeline(dot, p)?;
                    if p.decl.is_empty() {
                        self.emit(&print(&v))?;
                    }
                }
                Node::If {
                    with,
                    pipe,
                    then,
                    els,
                } => {
                    let mark = self.vars.len();
                    let v = self.pipeline(dot, pipe)?;
                    if truthy(&v) {
                        if *with {
                            self.walk(&v, then)?;
                        } else {
                            self.walk(dot, then)?;
                        }
                    } else {
                        self.walk(dot, els)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Range { pipe, body, els } => self.range(dot, pipe, body, els)?,
                Node::Template { name, pipe, pos } => {
                    let data = match pipe {
                        Some(p) => self.pipeline(dot, p)?,
                        None => Value::Null,
                    };
                    if !self.set.has(name) {
                        return Err(self.error(*pos, format!("no such template \"{name}\"")));
                    }
                    let text = run(self.set, name, &data, self.depth + 1, self.meter)
                        .map_err(|e| self.locate(e, *pos))?;
                    self.at = *pos;
                    self.emit(&text)?;
                }
            }
        }
        Ok(())
    }

    fn range(
        &mut self,
        dot: &Value,
        pipe: &Pipeline,
        body: &[Node],
        els: &[Node],
    ) -> Result<(), Error> {
        let mark = self.vars.len();
        let coll = self.range_collection(dot, pipe)?;
        let items: Vec<(Value, Cow<'_, Value>)> = match coll {
            Cow::Borrowed(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), Cow::Borrowed(v)))
                .collect(),
            Cow::Owned(Value::Array(a)) => a
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), Cow::Owned(v)))
                .collect(),
            Cow::Borrowed(Value::Object(m)) => {
                let mut entries: Vec<(&String, &Value)> = m.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                entries
                    .into_iter()
                    .map(|(k, v)| (Value::String(k.clone()), Cow::Borrowed(v)))
                    .collect()
            }
            Cow::Owned(Value::Object(m)) => {
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries
                    .into_iter()
                    .map(|(k, v)| (Value::String(k), Cow::Owned(v)))
                    .collect()
            }
            other => match other.as_ref() {
                Value::Null => Vec::new(),
                Value::Number(n) if n.as_i64().is_some() => {
                    let count = n.as_i64().unwrap_or(0).max(0);
                    if count > MAX_RANGE {
                        return Err(self.error(
                            pipe.pos,
                            format!("range over {count}: more than {MAX_RANGE} iterations"),
                        ));
                    }
                    (0..count)
                        .map(|i| (Value::from(i), Cow::Owned(Value::from(i))))
                        .collect()
                }
                v => {
                    return Err(
                        self.error(pipe.pos, format!("range can't iterate over {}", print(v)))
                    )
                }
            },
        };
        if items.is_empty() {
            self.walk(dot, els)?;
        }
        for (k, v) in items {
            self.step(1, pipe.pos)?;
            self.vars.truncate(mark);
            match pipe.decl.as_slice() {
                [one] => self
                    .vars
                    .push((one.clone(), Cow::Owned(v.as_ref().clone()))),
                [key, val] => {
                    self.vars.push((key.clone(), Cow::Owned(k)));
                    self.vars
                        .push((val.clone(), Cow::Owned(v.as_ref().clone())));
                }
                _ => {}
            }
            let inner = self.vars.len();
            self.walk(&v, body)?;
            self.vars.truncate(inner);
        }
        self.vars.truncate(mark);
        Ok(())
    }

    /// What a `range` iterates over. Why borrowed when it can be: `range .Values.apps` (a
    /// field of the dot, or the dot) copied the whole collection for every release, only to
    /// take its elements apart. The copy a pipeline makes is still paid for, so the budgets
    /// stop the same templates. Any other pipeline runs as one (its declarations name the
    /// key and element, not the collection).
    fn range_collection<'v>(
        &mut self,
        dot: &'v Value,
        pipe: &Pipeline,
    ) -> Result<Cow<'v, Value>, Error> {
        if let [cmd] = pipe.cmds.as_slice() {
            if let [arg] = cmd.as_slice() {
                let found = match &arg.op {
                    Operand::Dot => Some(dot),
                    Operand::Field(chain) => Some(self.fields(dot, chain, arg.pos, "")?),
                    _ => None,
                };
                if let Some(v) = found {
                    self.pay(v, arg.pos)?;
                    return Ok(Cow::Borrowed(v));
                }
            }
        }
        let plain = Pipeline {
            decl: Vec::new(),
            assign: false,
            cmds: pipe.cmds.clone(),
            pos: pipe.pos,
        };
        self.pipeline(dot, &plain).map(Cow::Owned)
    }

    /// A variable's value, borrowed (callers clone only the part they use).
    fn var(&self, name: &str, pos: usize) -> Result<&Value, Error> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_ref())
            .ok_or_else(|| self.error(pos, format!("undefined variable: {name}")))
    }

    fn pipeline(&mut self, dot: &Value, p: &Pipeline) -> Result<Value, Error> {
        let mut piped: Option<Value> = None;
        for cmd in &p.cmds {
            piped = Some(self.command(dot, cmd, piped)?);
        }
        let v = piped.unwrap_or(Value::Null);
        if p.assign {
            for name in &p.decl {
                match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    Some(slot) => slot.1 = Cow::Owned(v.clone()),
                    None => return Err(self.error(p.pos, format!("undefined variable: {name}"))),
                }
            }
        } else {
            for name in &p.decl {
                self.vars.push((name.clone(), Cow::Owned(v.clone())));
            }
        }
        Ok(v)
    }

    fn command(&mut self, dot: &Value, cmd: &[Arg], piped: Option<Value>) -> Result<Value, Error> {
        let Some(first) = cmd.first() else {
            return Ok(Value::Null);
        };
        if let Operand::Func(name) = &first.op {
            return self.call(dot, name, first.pos, &cmd[1..], piped);
        }
        if cmd.len() > 1 || piped.is_some() {
            if let Operand::Field(chain) | Operand::Var(_, chain) = &first.op {
                if !chain.is_empty() {
                    return Err(Error {
                        kind: ErrorKind::Unsupported(format!("method call `.{}`", chain.join("."))),
                        template: self.file.to_string(),
                        offset: first.pos,
                        message: format!(
                            "method call `.{}` with arguments is not supported",
                            chain.join(".")
                        ),
                        cause: Cause::Other,
                    });
                }
            }
            return Err(self.error(first.pos, "can't give argument to non-function"));
        }
        self.arg(dot, first)
    }

    fn call(
        &mut self,
        dot: &Value,
        name: &str,
        pos: usize,
        args: &[Arg],
        piped: Option<Value>,
    ) -> Result<Value, Error> {
        self.step(1, pos)?;
        if name == "and" || name == "or" {
            // Go 1.18+: evaluation stops at the first argument that decides the result.
            let n = args.len() + usize::from(piped.is_some());
            if n == 0 {
                return Err(self.error(pos, format!("wrong number of args for {name}")));
            }
            let mut last = Value::Null;
            for a in args {
                last = self.arg(dot, a)?;
                if truthy(&last) == (name == "or") {
                    return Ok(last);
                }
            }
            if let Some(p) = piped {
                last = p;
            }
            return Ok(last);
        }
        if let (Some(f), Some((last, before)), None) =
            (self.set.funcs.context_form(name), args.split_last(), &piped)
        {
            if matches!(last.op, Operand::Dot) {
                // `include "x" .`: the arguments before the context are evaluated as they would
                // be, and `.` is paid for as its copy would be, but passed borrowed.
                let mut vals = Vec::with_capacity(before.len());
                for a in before {
                    vals.push(self.arg(dot, a)?);
                }
                self.pay(dot, last.pos)?;
                let v = f(&self.ctx(), &vals, dot).map_err(|e| self.call_error(e, name, pos))?;
                return self.paid(v, pos);
            }
        }
        let Some(f) = self.set.funcs.get(name) else {
            return Err(Error {
                kind: ErrorKind::Unsupported(format!("function `{name}`")),
                template: self.file.to_string(),
                offset: pos,
                message: format!("function `{name}` is not supported"),
                cause: Cause::Other,
            });
        };
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.arg(dot, a)?);
        }
        if let Some(p) = piped {
            vals.push(p);
        }
        let v = f(&self.ctx(), &vals).map_err(|e| self.call_error(e, name, pos))?;
        self.paid(v, pos)
    }

    /// What a function called here can reach besides its arguments.
    fn ctx(&self) -> Ctx<'_> {
        Ctx {
            set: self.set,
            depth: self.depth,
            meter: self.meter,
        }
    }

    /// A function's error, located at the call at `pos` and, as Go says it, prefixed with
    /// `error calling NAME` when the function itself failed there.
    fn call_error(&self, e: Error, name: &str, pos: usize) -> Error {
        let mut e = self.locate(e, pos);
        let budget = matches!(e.cause, Cause::Budget(_));
        if e.kind == ErrorKind::Exec && e.template == self.file && e.offset == pos && !budget {
            e.message = format!("error calling {name}: {}", e.message);
        }
        e
    }

    /// An operand's value. Copies out of the data and variables are paid for: a loop that
    /// doubles a list (`$l = list $l $l`) runs out of budget, not of memory.
    fn arg(&mut self, dot: &Value, a: &Arg) -> Result<Value, Error> {
        let copied = match &a.op {
            Operand::Dot => dot.clone(),
            Operand::Lit(v) => return Ok(v.clone()),
            // Why borrowed lookups: `.Values.x` used to clone all of `.` and then take `x`.
            Operand::Field(chain) => self.fields(dot, chain, a.pos, "")?.clone(),
            Operand::Var(name, chain) => {
                let v = self.var(name, a.pos)?;
                self.fields(v, chain, a.pos, name)?.clone()
            }
            Operand::Func(name) => return self.call(dot, name, a.pos, &[], None),
            Operand::Sub(p, chain) => {
                let v = self.pipeline(dot, p)?;
                if chain.is_empty() {
                    return Ok(v);
                }
                self.fields(&v, chain, a.pos, "")?.clone()
            }
        };
        self.paid(copied, a.pos)
    }

    /// Follows `.a.b.c` from `v` by reference; a missing key is `null` (or an error with
    /// `missingkey=error`), and a field of `null` is Go's nil pointer error.
    fn fields<'v>(
        &self,
        mut v: &'v Value,
        chain: &[String],
        pos: usize,
        base: &str,
    ) -> Result<&'v Value, Error> {
        for (i, name) in chain.iter().enumerate() {
            v = match v {
                Value::Object(m) => match m.get(name) {
                    Some(x) => x,
                    None if self.set.options.missing_key == MissingKey::Error => {
                        let missing = chain[..=i].join(".");
                        let message =
                            format!("map has no entry for key \"{name}\" (at {base}.{missing})");
                        let path = format!("{base}.{missing}")
                            .trim_start_matches('.')
                            .to_string();
                        return Err(self.error(pos, message).with_cause(Cause::MissingKey(path)));
                    }
                    None => &NULL,
                },
                Value::Null => {
                    return Err(self.error(
                        pos,
                        format!(
                            "nil pointer evaluating interface {{}}.{name} (at {base}.{})",
                            chain[..=i].join(".")
                        ),
                    ))
                }
                other => {
                    return Err(self.error(
                        pos,
                        format!("can't evaluate field {name} in type {}", type_name(other)),
                    ))
                }
            };
        }
        Ok(v)
    }
}
