//! The expression evaluator: HCL expressions (from `hcl-edit`, which keeps spans) to
//! [`Value`]s, in the scope of one module instance. hcl-rs's own `eval` module has no unknown
//! value (it errors on `aws_iam_role.x.arn`), so this is a small evaluator of our own; anything
//! it cannot know is [`Value::Unknown`].

use super::functions;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::FileId;
use gitops_lint_core::RuleId;
use gitops_lint_matchers::paths::normalize;
use gitops_lint_model::infra::value::{number_to_string, Value};
use gitops_lint_model::World;
use hcl::edit::expr::{BinaryOperator, Expression, TraversalOperator, UnaryOperator};
use hcl::edit::template::{Directive, Element, Template};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Files Terraform's `file()` can read, by repository and repo-relative path.
pub struct FileIndex<'w> {
    /// The World the files are in.
    pub world: &'w World,
    by_path: HashMap<(usize, &'w str), FileId>,
}

impl<'w> FileIndex<'w> {
    /// Indexes every file of the World.
    pub fn new(world: &'w World) -> Self {
        let by_path = world
            .files
            .iter()
            .map(|f| ((f.repo, f.rel_path.as_str()), f.id))
            .collect();
        FileIndex { world, by_path }
    }

    /// The file at a repo-relative path (normalised: `a/./b/../c` is `a/c`).
    pub fn find(&self, repo: usize, path: &str) -> Option<FileId> {
        let normal = normalize(path)?;
        self.by_path.get(&(repo, normal.as_str())).copied()
    }
}

/// A module's `locals`, evaluated on first use (locals may refer to each other in any order).
#[derive(Default)]
pub struct Locals<'a> {
    /// Each local's expression and the file it is written in.
    exprs: HashMap<&'a str, (FileId, &'a Expression)>,
    cache: RefCell<HashMap<String, Value>>,
    busy: RefCell<HashSet<String>>,
}

impl<'a> Locals<'a> {
    /// Locals from their expressions (and the files they are written in).
    pub fn new(exprs: HashMap<&'a str, (FileId, &'a Expression)>) -> Self {
        Locals {
            exprs,
            ..Locals::default()
        }
    }
}

/// A for-expression's iteration variables, innermost first.
pub(crate) struct Bound<'b> {
    name: &'b str,
    value: Value,
    parent: Option<&'b Bound<'b>>,
}

impl Bound<'_> {
    fn get(&self, name: &str) -> Option<&Value> {
        if self.name == name {
            Some(&self.value)
        } else {
            self.parent.and_then(|p| p.get(name))
        }
    }
}

/// Everything an expression in one module instance can refer to.
pub struct Scope<'a> {
    /// The files `file()` reads.
    pub files: &'a FileIndex<'a>,
    /// The repository the module lives in.
    pub repo: usize,
    /// `path.module`: the module directory, repo-relative.
    pub module_dir: &'a str,
    /// `path.root` (and the working directory relative paths are read from).
    pub root_dir: &'a str,
    /// `var.*`.
    pub vars: &'a HashMap<String, Value>,
    /// `local.*`.
    pub locals: &'a Locals<'a>,
    /// `each.key`, `each.value` inside a `for_each` block.
    pub each: Option<(Value, Value)>,
    /// `count.index` inside a `count` block.
    pub count_index: Option<f64>,
    /// The budgets of the configuration this instance belongs to (see [`Scope::charge`]).
    pub budget: &'a Budget,
    /// The file the expressions being evaluated are written in (where a budget that runs
    /// out is reported).
    pub file: FileId,
    /// How many instances of this module the configuration creates: the product of the
    /// `count` / `for_each` of every module call above it (1 for a root module).
    pub multiplicity: u64,
}

/// The budgets of one Terraform configuration (a root module, or a tf-controller resource,
/// with every module it instantiates), as they are spent, and the `gitops/budget-exceeded`
/// findings of those that ran out (one per place).
pub struct Budget {
    /// `limits.terraformValues`.
    values: u64,
    /// `limits.terraformInstances`.
    instances: u64,
    /// Value elements (values, string bytes) the configuration may still build.
    left: Cell<u64>,
    /// Where the values ran out: from there on, everything of the configuration is unknown.
    exhausted: RefCell<Option<Location>>,
    /// Whether they did (read on every evaluation step).
    spent: Cell<bool>,
    findings: RefCell<Vec<Finding>>,
    reported: RefCell<HashSet<Location>>,
}

impl Budget {
    /// A fresh budget from the config's `limits:`.
    pub fn new(limits: &gitops_lint_config::Limits) -> Budget {
        Budget {
            values: limits.terraform_values,
            instances: limits.terraform_instances,
            left: Cell::new(limits.terraform_values),
            exhausted: RefCell::new(None),
            spent: Cell::new(false),
            findings: RefCell::new(Vec::new()),
            reported: RefCell::new(HashSet::new()),
        }
    }

    /// Where the values ran out, if they did.
    pub fn exhausted(&self) -> Option<Location> {
        self.exhausted.borrow().clone()
    }

    /// The findings of the budgets that ran out.
    pub fn take_findings(&self) -> Vec<Finding> {
        std::mem::take(&mut *self.findings.borrow_mut())
    }

    fn report(&self, at: Location, message: String, key: &str) {
        if !self.reported.borrow_mut().insert(at.clone()) {
            return;
        }
        self.findings.borrow_mut().push(
            Finding::new(RuleId::GITOPS_BUDGET_EXCEEDED, message, at)
                .with_help(crate::raise_help(key)),
        );
    }

    /// Pays `n` value elements; `false` once the values ran out (reported at `at`, the first
    /// time).
    fn pay(&self, n: u64, at: impl FnOnce() -> Location) -> bool {
        if self.spent.get() {
            return false;
        }
        let left = self.left.get();
        if n <= left {
            self.left.set(left - n);
            return true;
        }
        self.left.set(0);
        self.spent.set(true);
        let at = at();
        *self.exhausted.borrow_mut() = Some(at.clone());
        self.report(
            at,
            format!(
                "evaluating this, the Terraform configuration builds more than {} values (`limits.terraformValues`: list and map elements, strings by 16 bytes); it and everything the configuration evaluates after it is treated as unknown, and the checks that need it are skipped",
                self.values
            ),
            "limits.terraformValues",
        );
        false
    }

    /// Whether `n` instances of a block, in a module created `multiplicity` times, fit in
    /// `limits.terraformInstances`; if not, reported at `at` (the `count` / `for_each`).
    pub(crate) fn instances(&self, n: u64, multiplicity: u64, at: &Location) -> bool {
        let total = u128::from(n) * u128::from(multiplicity);
        if total <= u128::from(self.instances) {
            return true;
        }
        let how = if multiplicity > 1 {
            format!("{n} instances in each of the {multiplicity} instances of its module")
        } else {
            format!("{n} instances")
        };
        self.report(
            at.clone(),
            format!(
                "this creates {how}, more than {} (`limits.terraformInstances`); its instances are treated as unknown, and the checks that need them are skipped",
                self.instances
            ),
            "limits.terraformInstances",
        );
        false
    }
}

/// Bytes of string (or map key) that count as one value element: a string that doubles
/// (`"${local.s}${local.s}"`) runs out of budget long before it runs out of memory, while the
/// names and ARNs of a real configuration cost a few elements each.
const BYTES_PER_VALUE: u64 = 16;

/// The size of a value in value elements (see [`BYTES_PER_VALUE`]), counted up to `cap`.
fn weight(v: &Value, cap: u64) -> u64 {
    let mut total: u64 = 1;
    match v {
        Value::String(s) => total += s.len() as u64 / BYTES_PER_VALUE,
        Value::List(items) => {
            for i in items {
                total += weight(i, cap);
                if total > cap {
                    break;
                }
            }
        }
        Value::Map(m) => {
            for (k, i) in m {
                total += k.len() as u64 / BYTES_PER_VALUE + weight(i, cap);
                if total > cap {
                    break;
                }
            }
        }
        _ => {}
    }
    total
}

/// Whether evaluating `expr` pays for the value it builds itself (so a container of it pays
/// only for its slot, not again for its content).
fn pays_itself(expr: &Expression) -> bool {
    match expr {
        Expression::Parenthesis(p) => pays_itself(p.inner()),
        Expression::Array(_)
        | Expression::Object(_)
        | Expression::StringTemplate(_)
        | Expression::HeredocTemplate(_)
        | Expression::FuncCall(_)
        | Expression::ForExpr(_) => true,
        _ => false,
    }
}

/// Deepest nesting followed; deeper expressions are unknown (no stack overflow on any input).
const MAX_DEPTH: usize = 64;

impl<'a> Scope<'a> {
    /// Pays for a value `expr` built (less what was paid for it in advance); unknown once the
    /// budget is spent.
    fn charge(&self, expr: &Expression, v: Value, prepaid: u64) -> Value {
        let left = self.budget.left.get();
        let w = weight(&v, left.saturating_add(prepaid)).saturating_sub(prepaid);
        if self.pay(w, expr) {
            v
        } else {
            Value::Unknown
        }
    }

    /// What an element of a list or map literal costs: its slot when `expr` paid for the
    /// value it built, else the whole value (a copy of a local or variable is work too: a
    /// local that doubles another, `[local.a, local.a]`, pays for both copies).
    fn element_cost(&self, expr: &Expression, v: &Value) -> u64 {
        if pays_itself(expr) {
            1
        } else {
            weight(v, self.budget.left.get())
        }
    }

    /// Pays `n` value elements for `expr` before it builds them; `false` once the values ran
    /// out (reported at `expr`).
    pub(crate) fn pay(&self, n: u64, expr: &Expression) -> bool {
        self.budget
            .pay(n, || super::modules::location_of(self.file, expr))
    }

    /// Whether the values of the configuration ran out (everything is unknown from there).
    pub(crate) fn spent(&self) -> bool {
        self.budget.spent.get()
    }

    /// The same module scope inside one `for_each` / `count` instance.
    pub(crate) fn with_instance(
        &self,
        each: Option<(Value, Value)>,
        count_index: Option<f64>,
    ) -> Self {
        Scope {
            files: self.files,
            repo: self.repo,
            module_dir: self.module_dir,
            root_dir: self.root_dir,
            vars: self.vars,
            locals: self.locals,
            each,
            count_index,
            budget: self.budget,
            file: self.file,
            multiplicity: self.multiplicity,
        }
    }

    /// The same scope for the expressions of another file of the module.
    pub(crate) fn in_file(&self, file: FileId) -> Self {
        let mut scope = self.with_instance(self.each.clone(), self.count_index);
        scope.file = file;
        scope
    }

    /// Evaluates an expression.
    pub fn eval(&self, expr: &Expression) -> Value {
        self.eval_in(expr, None, 0)
    }

    fn local(&self, name: &str, depth: usize) -> Value {
        if let Some(v) = self.locals.cache.borrow().get(name) {
            return v.clone();
        }
        let Some((file, expr)) = self.locals.exprs.get(name).copied() else {
            return Value::Unknown;
        };
        if !self.locals.busy.borrow_mut().insert(name.to_string()) {
            return Value::Unknown; // a cycle: Terraform refuses it; we just do not know
        }
        let mut plain = self.with_instance(None, None);
        plain.file = file;
        let value = plain.eval_in(expr, None, depth + 1);
        self.locals.busy.borrow_mut().remove(name);
        self.locals
            .cache
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }

    /// Reads a file `file()` names: relative to the module's repository, else to the root module.
    pub fn read_file(&self, path: &str) -> Option<&'a str> {
        let id = self.files.find(self.repo, path).or_else(|| {
            self.files
                .find(self.repo, &format!("{}/{path}", self.root_dir))
        })?;
        Some(self.files.world.file(id).text.as_str())
    }

    fn root_value(
        &self,
        name: &str,
        first: Option<&str>,
        bound: Option<&Bound>,
        depth: usize,
    ) -> (Value, bool) {
        if let Some(v) = bound.and_then(|b| b.get(name)) {
            return (v.clone(), false);
        }
        // The boolean says whether the first attribute was consumed here.
        match (name, first) {
            ("var", Some(attr)) => (self.vars.get(attr).cloned().unwrap_or(Value::Unknown), true),
            ("local", Some(attr)) => (self.local(attr, depth), true),
            ("each", Some("key")) => (
                self.each.as_ref().map_or(Value::Unknown, |e| e.0.clone()),
                true,
            ),
            ("each", Some("value")) => (
                self.each.as_ref().map_or(Value::Unknown, |e| e.1.clone()),
                true,
            ),
            ("count", Some("index")) => {
                (self.count_index.map_or(Value::Unknown, Value::Number), true)
            }
            ("path", Some("module")) => (Value::String(self.module_dir.to_string()), true),
            ("path", Some("root" | "cwd")) => (Value::String(self.root_dir.to_string()), true),
            _ => (Value::Unknown, true),
        }
    }

    fn eval_in(&self, expr: &Expression, bound: Option<&Bound>, depth: usize) -> Value {
        if depth > MAX_DEPTH || self.spent() {
            return Value::Unknown;
        }
        let d = depth + 1;
        match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => n.value().as_f64().map_or(Value::Unknown, Value::Number),
            Expression::String(s) => Value::String(s.value().to_string()),
            Expression::Array(items) => {
                let values: Vec<Value> = items.iter().map(|e| self.eval_in(e, bound, d)).collect();
                let cost = 1 + items
                    .iter()
                    .zip(&values)
                    .map(|(e, v)| self.element_cost(e, v))
                    .fold(0u64, u64::saturating_add);
                if self.pay(cost, expr) {
                    Value::List(values)
                } else {
                    Value::Unknown
                }
            }
            Expression::Object(obj) => {
                let mut map = BTreeMap::new();
                let mut cost = 1u64;
                for (k, v) in obj.iter() {
                    let key = match k {
                        hcl::edit::expr::ObjectKey::Ident(id) => id.value().as_str().to_string(),
                        hcl::edit::expr::ObjectKey::Expression(e) => {
                            match self.eval_in(e, bound, d).to_str() {
                                Some(s) => s,
                                None => return Value::Unknown,
                            }
                        }
                    };
                    let value = self.eval_in(v.expr(), bound, d);
                    cost = cost
                        .saturating_add(key.len() as u64 / BYTES_PER_VALUE)
                        .saturating_add(self.element_cost(v.expr(), &value));
                    map.insert(key, value);
                }
                if self.pay(cost, expr) {
                    Value::Map(map)
                } else {
                    Value::Unknown
                }
            }
            Expression::StringTemplate(t) => {
                let v = self.template(expr, t, bound, d);
                self.charge(expr, v, 0)
            }
            Expression::HeredocTemplate(h) => {
                let v = self.template(expr, &h.template, bound, d);
                self.charge(expr, v, 0)
            }
            Expression::Parenthesis(p) => self.eval_in(p.inner(), bound, d),
            Expression::Variable(v) => {
                let name = v.value().as_str();
                bound
                    .and_then(|b| b.get(name))
                    .cloned()
                    .unwrap_or(Value::Unknown)
            }
            Expression::Conditional(c) => match self.eval_in(&c.cond_expr, bound, d).to_bool() {
                Some(true) => self.eval_in(&c.true_expr, bound, d),
                Some(false) => self.eval_in(&c.false_expr, bound, d),
                None => {
                    let (a, b) = (
                        self.eval_in(&c.true_expr, bound, d),
                        self.eval_in(&c.false_expr, bound, d),
                    );
                    if a == b && !a.has_unknown() {
                        a
                    } else {
                        Value::Unknown
                    }
                }
            },
            Expression::FuncCall(call) => {
                let name = call.name.name.value().as_str();
                if !call.name.namespace.is_empty() {
                    return Value::Unknown; // provider functions
                }
                if name == "try" && !call.args.expand_final() {
                    return self.try_args(call.args.iter(), bound, d);
                }
                let mut args: Vec<Value> = call
                    .args
                    .iter()
                    .map(|a| self.eval_in(a, bound, d))
                    .collect();
                if call.args.expand_final() {
                    match args.pop() {
                        Some(Value::List(rest)) => args.extend(rest),
                        _ => return Value::Unknown,
                    }
                }
                let v = functions::call(self, expr, name, args);
                if name == "range" {
                    v // paid for before it was built
                } else {
                    self.charge(expr, v, 0)
                }
            }
            Expression::Traversal(t) => self.traversal(&t.expr, &t.operators, bound, d),
            Expression::UnaryOp(op) => {
                let v = self.eval_in(&op.expr, bound, d);
                match op.operator.value() {
                    UnaryOperator::Not => v.to_bool().map_or(Value::Unknown, |b| Value::Bool(!b)),
                    UnaryOperator::Neg => {
                        v.to_number().map_or(Value::Unknown, |n| Value::Number(-n))
                    }
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval_in(&op.lhs_expr, bound, d);
                let rhs = self.eval_in(&op.rhs_expr, bound, d);
                binary(*op.operator.value(), lhs, rhs)
            }
            Expression::ForExpr(f) => {
                let (v, prepaid) = self.for_expr(expr, f, bound, d);
                if pays_itself(&f.value_expr) {
                    // Each element paid where it was built, its slot in advance.
                    v
                } else {
                    self.charge(expr, v, prepaid)
                }
            }
        }
    }

    /// A `for` expression, and the elements paid for in advance: one per item iterated,
    /// before any is evaluated (nested `for`s over large collections run out of budget
    /// instead of running for hours).
    fn for_expr(
        &self,
        expr: &Expression,
        f: &hcl::edit::expr::ForExpr,
        bound: Option<&Bound>,
        d: usize,
    ) -> (Value, u64) {
        let collection = self.eval_in(&f.intro.collection_expr, bound, d);
        let n = match &collection {
            Value::List(items) => items.len(),
            Value::Map(map) => map.len(),
            _ => return (Value::Unknown, 0),
        } as u64;
        if !self.pay(n, expr) {
            return (Value::Unknown, 0);
        }
        (self.for_items(f, collection, bound, d), n)
    }

    fn for_items(
        &self,
        f: &hcl::edit::expr::ForExpr,
        collection: Value,
        bound: Option<&Bound>,
        d: usize,
    ) -> Value {
        let pairs: Vec<(Value, Value)> = match collection {
            Value::List(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
            Value::Map(map) => map
                .into_iter()
                .map(|(k, v)| (Value::String(k), v))
                .collect(),
            _ => return Value::Unknown,
        };
        let key_name = f.intro.key_var.as_ref().map(|k| k.value().as_str());
        let value_name = f.intro.value_var.value().as_str();
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in pairs {
            if self.spent() {
                return Value::Unknown;
            }
            let vb = Bound {
                name: value_name,
                value: v,
                parent: bound,
            };
            let kb;
            let inner = match key_name {
                Some(name) => {
                    kb = Bound {
                        name,
                        value: k,
                        parent: Some(&vb),
                    };
                    &kb
                }
                None => &vb,
            };
            if let Some(cond) = &f.cond {
                match self.eval_in(&cond.expr, Some(inner), d).to_bool() {
                    Some(true) => {}
                    Some(false) => continue,
                    None => return Value::Unknown,
                }
            }
            let value = self.eval_in(&f.value_expr, Some(inner), d);
            match &f.key_expr {
                Some(key_expr) => {
                    let Some(key) = self.eval_in(key_expr, Some(inner), d).to_str() else {
                        return Value::Unknown;
                    };
                    if f.grouping {
                        groups.entry(key).or_default().push(value);
                    } else if map.insert(key, value).is_some() {
                        // Duplicate keys are a plan error in Terraform; nothing is created.
                        return Value::Unknown;
                    }
                }
                None => list.push(value),
            }
        }
        match (&f.key_expr, f.grouping) {
            (None, _) => Value::List(list),
            (Some(_), false) => Value::Map(map),
            (Some(_), true) => Value::Map(
                groups
                    .into_iter()
                    .map(|(k, v)| (k, Value::List(v)))
                    .collect(),
            ),
        }
    }

    /// `try(a, b, ...)`: the first argument that is not certainly an error. An argument that is
    /// unknown may be an error or a computed value, so the result is unknown from there on.
    fn try_args<'e>(
        &self,
        args: impl Iterator<Item = &'e Expression>,
        bound: Option<&Bound>,
        d: usize,
    ) -> Value {
        for arg in args {
            match self.fallible(arg, bound, d) {
                Err(Certain) => continue,
                Ok(v) if v.has_unknown() => return Value::Unknown,
                Ok(v) => return v,
            }
        }
        Value::Unknown
    }

    /// Evaluates a `try()` argument, telling a certain error (an attribute or key a known map
    /// lacks, an index past a known list's end, an attribute of null) from an unknown value.
    fn fallible(
        &self,
        expr: &Expression,
        bound: Option<&Bound>,
        d: usize,
    ) -> Result<Value, Certain> {
        match expr {
            Expression::Traversal(t) => self.traversal_in(&t.expr, &t.operators, bound, d, true),
            Expression::Parenthesis(p) => self.fallible(p.inner(), bound, d + 1),
            other => Ok(self.eval_in(other, bound, d)),
        }
    }

    fn traversal(
        &self,
        base: &Expression,
        ops: &[hcl::edit::Decorated<TraversalOperator>],
        bound: Option<&Bound>,
        d: usize,
    ) -> Value {
        self.traversal_in(base, ops, bound, d, false)
            .unwrap_or(Value::Unknown)
    }

    /// A traversal; with `strict`, a step that certainly fails is `Err` instead of unknown.
    fn traversal_in(
        &self,
        base: &Expression,
        ops: &[hcl::edit::Decorated<TraversalOperator>],
        bound: Option<&Bound>,
        d: usize,
        strict: bool,
    ) -> Result<Value, Certain> {
        if d > MAX_DEPTH {
            return Ok(Value::Unknown);
        }
        let (mut value, skip) = match base {
            Expression::Variable(v) => {
                let first = match ops.first().map(|o| o.value()) {
                    Some(TraversalOperator::GetAttr(a)) => Some(a.value().as_str()),
                    _ => None,
                };
                let (value, consumed) = self.root_value(v.value().as_str(), first, bound, d);
                let is_bound = bound.and_then(|b| b.get(v.value().as_str())).is_some();
                (value, usize::from(consumed && !is_bound && first.is_some()))
            }
            other => (self.eval_in(other, bound, d), 0),
        };
        let rest = &ops[skip.min(ops.len())..];
        let step = |value: &Value, key: &Value| match get_checked(value, key) {
            Ok(v) => Ok(v),
            Err(Certain) if strict => Err(Certain),
            Err(Certain) => Ok(Value::Unknown),
        };
        for (i, op) in rest.iter().enumerate() {
            value = match op.value() {
                TraversalOperator::GetAttr(a) => {
                    step(&value, &Value::String(a.value().as_str().to_string()))?
                }
                TraversalOperator::Index(e) => step(&value, &self.eval_in(e, bound, d))?,
                TraversalOperator::LegacyIndex(n) => {
                    step(&value, &Value::Number(*n.value() as f64))?
                }
                TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                    let items = match value {
                        Value::List(items) => items,
                        Value::Null => Vec::new(),
                        Value::Unknown => return Ok(Value::Unknown),
                        other => vec![other],
                    };
                    let after = &rest[i + 1..];
                    return Ok(Value::List(
                        items
                            .into_iter()
                            .map(|item| {
                                after.iter().fold(item, |v, op| match op.value() {
                                    TraversalOperator::GetAttr(a) => {
                                        get(&v, &Value::String(a.value().as_str().to_string()))
                                    }
                                    TraversalOperator::Index(e) => {
                                        get(&v, &self.eval_in(e, bound, d))
                                    }
                                    _ => Value::Unknown,
                                })
                            })
                            .collect(),
                    ));
                }
            };
        }
        Ok(value)
    }

    fn template(&self, expr: &Expression, t: &Template, bound: Option<&Bound>, d: usize) -> Value {
        let mut out = String::new();
        for element in t.iter() {
            if self.spent() {
                return Value::Unknown;
            }
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.eval_in(&i.expr, bound, d).to_str() {
                    Some(s) => out.push_str(&s),
                    None => return Value::Unknown,
                },
                Element::Directive(dir) => match dir.as_ref() {
                    Directive::If(iff) => {
                        match self.eval_in(&iff.if_expr.cond_expr, bound, d).to_bool() {
                            Some(true) => {
                                match self.template(expr, &iff.if_expr.template, bound, d) {
                                    Value::String(s) => out.push_str(&s),
                                    _ => return Value::Unknown,
                                }
                            }
                            Some(false) => {
                                if let Some(e) = &iff.else_expr {
                                    match self.template(expr, &e.template, bound, d) {
                                        Value::String(s) => out.push_str(&s),
                                        _ => return Value::Unknown,
                                    }
                                }
                            }
                            None => return Value::Unknown,
                        }
                    }
                    Directive::For(f) => {
                        let fe = &f.for_expr;
                        let items: Vec<(Value, Value)> =
                            match self.eval_in(&fe.collection_expr, bound, d) {
                                Value::List(items) => items
                                    .into_iter()
                                    .enumerate()
                                    .map(|(i, v)| (Value::Number(i as f64), v))
                                    .collect(),
                                Value::Map(m) => {
                                    m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
                                }
                                _ => return Value::Unknown,
                            };
                        // Each iteration writes at least its text: paid before they run.
                        if !self.pay(items.len() as u64, expr) {
                            return Value::Unknown;
                        }
                        for (k, v) in items {
                            if self.spent() {
                                return Value::Unknown;
                            }
                            let vb = Bound {
                                name: fe.value_var.value().as_str(),
                                value: v,
                                parent: bound,
                            };
                            let kb;
                            let inner = match &fe.key_var {
                                Some(name) => {
                                    kb = Bound {
                                        name: name.value().as_str(),
                                        value: k,
                                        parent: Some(&vb),
                                    };
                                    &kb
                                }
                                None => &vb,
                            };
                            match self.template(expr, &fe.template, Some(inner), d) {
                                Value::String(s) => out.push_str(&s),
                                _ => return Value::Unknown,
                            }
                        }
                    }
                },
            }
        }
        Value::String(out)
    }
}

/// A traversal step that certainly fails in Terraform (what `try()` skips).
#[derive(Debug)]
pub(crate) struct Certain;

/// `value[key]` / `value.key`.
fn get(value: &Value, key: &Value) -> Value {
    get_checked(value, key).unwrap_or(Value::Unknown)
}

/// `value[key]`: `Err` when Terraform would fail for certain (a key a known map lacks, an index
/// out of a known list, any step on null); unknown when the container or key is unknown.
fn get_checked(value: &Value, key: &Value) -> Result<Value, Certain> {
    if matches!(key, Value::Unknown) {
        return Ok(Value::Unknown);
    }
    match (value, key) {
        (Value::Map(m), k) => match k.to_str() {
            Some(k) => m.get(&k).cloned().ok_or(Certain),
            None => Ok(Value::Unknown),
        },
        (Value::List(items), k) => match k.to_number() {
            Some(n) if n >= 0.0 && n.fract() == 0.0 => {
                items.get(n as usize).cloned().ok_or(Certain)
            }
            _ => Ok(Value::Unknown),
        },
        (Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_), _) => Err(Certain),
        (Value::Unknown, _) => Ok(Value::Unknown),
    }
}

fn binary(op: BinaryOperator, lhs: Value, rhs: Value) -> Value {
    use BinaryOperator as B;
    match op {
        B::And => match (lhs.to_bool(), rhs.to_bool()) {
            (Some(false), _) | (_, Some(false)) => Value::Bool(false),
            (Some(true), Some(true)) => Value::Bool(true),
            _ => Value::Unknown,
        },
        B::Or => match (lhs.to_bool(), rhs.to_bool()) {
            (Some(true), _) | (_, Some(true)) => Value::Bool(true),
            (Some(false), Some(false)) => Value::Bool(false),
            _ => Value::Unknown,
        },
        B::Eq | B::NotEq => {
            if lhs.has_unknown() || rhs.has_unknown() {
                return Value::Unknown;
            }
            let equal = match (&lhs, &rhs) {
                (Value::Number(a), Value::Number(b)) => a == b,
                _ => lhs == rhs,
            };
            Value::Bool(if op == B::Eq { equal } else { !equal })
        }
        _ => {
            let (Some(a), Some(b)) = (lhs.to_number(), rhs.to_number()) else {
                return Value::Unknown;
            };
            match op {
                B::Plus => Value::Number(a + b),
                B::Minus => Value::Number(a - b),
                B::Mul => Value::Number(a * b),
                B::Div if b != 0.0 => Value::Number(a / b),
                B::Mod if b != 0.0 => Value::Number(a % b),
                B::Less => Value::Bool(a < b),
                B::LessEq => Value::Bool(a <= b),
                B::Greater => Value::Bool(a > b),
                B::GreaterEq => Value::Bool(a >= b),
                _ => Value::Unknown,
            }
        }
    }
}

/// A value as text for messages.
pub fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Number(n) => number_to_string(*n),
        Value::Unknown => "(known after apply)".to_string(),
        other => other
            .to_json()
            .map_or_else(|| "(known after apply)".to_string(), |j| j.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `expr` with `var.tier = "premium"`, `var.n = 2` and `local.base = {a = 1}`.
    fn eval(expr: &str) -> Value {
        let body = gitops_lint_syntax::hcl::load(&format!("x = {expr}\nbase = {{ a = 1 }}\n"))
            .unwrap_or_else(|e| panic!("{}", e.message));
        let world = World::default();
        let files = FileIndex::new(&world);
        let vars: HashMap<String, Value> = [
            ("tier".to_string(), Value::String("premium".into())),
            ("n".to_string(), Value::Number(2.0)),
        ]
        .into_iter()
        .collect();
        let base = body.get_attribute("base").map(|a| &a.value);
        let locals = Locals::new(base.into_iter().map(|e| ("base", (FileId(0), e))).collect());
        let budget = Budget::new(&gitops_lint_config::Limits::default());
        let scope = Scope {
            files: &files,
            repo: 0,
            module_dir: "modules/m",
            root_dir: "envs/prd",
            vars: &vars,
            locals: &locals,
            each: None,
            count_index: None,
            budget: &budget,
            file: FileId(0),
            multiplicity: 1,
        };
        body.get_attribute("x")
            .map_or(Value::Unknown, |a| scope.eval(&a.value))
    }

    fn s(v: &str) -> Value {
        Value::String(v.to_string())
    }

    #[test]
    fn known_values() {
        assert_eq!(eval(r#"var.tier == "premium" ? 1 : 0"#), Value::Number(1.0));
        assert_eq!(eval(r#""role-${var.tier}-${var.n}""#), s("role-premium-2"));
        assert_eq!(eval(r#"format("%s-%d", "a", 3)"#), s("a-3"));
        assert_eq!(eval(r#"lower(replace("A_B", "_", "-"))"#), s("a-b"));
        assert_eq!(
            eval(r#"merge(local.base, { b = 2 }).b"#),
            Value::Number(2.0)
        );
        assert_eq!(eval(r#"lookup(local.base, "z", "dflt")"#), s("dflt"));
        assert_eq!(
            eval(r#"contains(concat(["a"], ["b"]), "b")"#),
            Value::Bool(true)
        );
        assert_eq!(
            eval(r#"jsondecode(jsonencode({ a = [1, "x"] })).a[1]"#),
            s("x")
        );
        assert_eq!(eval(r#"tostring(var.n)"#), s("2"));
        assert_eq!(
            eval(r#"{ for k, v in { a = 1, b = 2 } : k => v if v > 1 }"#),
            Value::Map(
                [("b".to_string(), Value::Number(2.0))]
                    .into_iter()
                    .collect()
            )
        );
        assert_eq!(
            eval(r#"[for t in [{ id = "a" }, { id = "b" }] : t.id][1]"#),
            s("b")
        );
        assert_eq!(eval(r#"path.module"#), s("modules/m"));
    }

    #[test]
    fn try_skips_certain_errors_only() {
        assert_eq!(eval(r#"try(local.base.z, "d")"#), s("d")); // a key the map lacks
        assert_eq!(eval(r#"try(local.base.a, 0)"#), Value::Number(1.0));
        assert_eq!(eval(r#"try(var.tier.x, "d")"#), s("d")); // an attribute of a string
        assert_eq!(eval(r#"try([1][3], "d")"#), s("d")); // past the end of a list
        assert_eq!(
            eval(r#"try(local.base["z"], local.base.a)"#),
            Value::Number(1.0)
        );
        // An unknown value may be computed or an error: unknown either way.
        assert_eq!(eval(r#"try(aws_iam_role.x.name, "d")"#), Value::Unknown);
        assert_eq!(eval(r#"try(var.missing.x, "d")"#), Value::Unknown);
    }

    #[test]
    fn unknown_values_stay_unknown() {
        assert_eq!(eval("aws_iam_role.x.arn"), Value::Unknown);
        assert_eq!(eval(r#""${data.x.y.name}-role""#), Value::Unknown);
        assert_eq!(eval("var.missing ? 1 : 0"), Value::Unknown);
        // ...except where the result does not depend on them.
        assert_eq!(eval("false && var.missing"), Value::Bool(false));
        assert_eq!(eval("var.missing ? 1 : 1"), Value::Number(1.0));
        // A duplicate key is a plan error: nothing is known.
        assert_eq!(eval(r#"{ for t in ["a", "a"] : t => t }"#), Value::Unknown);
    }
}
