//! `schema/cel-rule` and `schema/cel-not-evaluated`: the `x-kubernetes-validations` CEL rules of
//! the CRDs whose schemas `crd.rs` converts, evaluated over every custom resource of their kind
//! the way the API server evaluates them on create.
//!
//! Semantics follow k8s.io/apiextensions-apiserver `pkg/apiserver/schema/cel`
//! (`validation.go`, `Validator.Validate` / `validateExpressions`) and the Kubernetes docs
//! ("Validation rules" in "Extend the Kubernetes API with CustomResourceDefinitions"):
//! - a rule runs once per value at its schema node (for every list item under `items`, every
//!   map value under `additionalProperties`) and not at all where the node is absent;
//! - `self` is that value, typed by the schema: `properties` names escaped as the API server
//!   escapes them (`__dash__`, `__dot__`, `__slash__`, `__underscores__`, reserved words as
//!   `__word__`; k8s.io/apiserver `pkg/cel/escaping.go`, `Escape`), only `name` and
//!   `generateName` of the root's `metadata`, `number` values as doubles, schema `default`s
//!   applied first (structural defaulting runs before validation:
//!   `pkg/apiserver/schema/defaulting/algorithm.go`, `Default`), and a `null` in a
//!   non-nullable field dropped (pruning does that);
//! - a rule that reads `oldSelf` is a transition rule: it does not run on create, unless
//!   `optionalOldSelf: true`, when `oldSelf` is `optional.none()`;
//! - `messageExpression` replaces `message`; if it fails or yields an empty string, `message`
//!   is used, else `failed rule: <rule>` (`validation.go`, `evalMessageExpression` and the
//!   fallback around it).
//!
//! Where gitops-lint departs from the API server, it does so on the quiet side: an evaluation
//! error (a missing key, a type mismatch, a non-boolean result) is an error at the API server
//! too, but a document here may be incomplete in ways the API server's copy is not (a field a
//! mutating webhook or a controller sets, a default we cannot see), so it is said once per rule
//! as info, never as a violation. Rules the crate cannot run as Kubernetes would (a Kubernetes
//! CEL library function such as `isSorted`, `quantity`, `url`, `ip`, `format`; fields typed as
//! timestamps, durations or bytes; a `matches` regex with a feature RE2 lacks) are said once
//! per rule as info and not evaluated. A value holding unrendered template syntax (`{{ }}`,
//! `${VAR}`, a tier template's placeholder, a SOPS `ENC[...]`) is not evaluated, silently, as
//! for `schema/invalid-type`; nor is a Kustomize patch file, which is a partial object.
//!
//! Budgets (a CRD in a pull request is attacker-written): see [`MAX_RULE_CHARS`],
//! [`MAX_RULES`], [`MAX_EVAL_COST`] and [`MAX_DOC_COST`]; what goes over is reported as
//! `schema/cel-not-evaluated` at the place and skipped, and the run goes on.

use super::registry::Registry;
use cel::common::ast::{EntryExpr, Expr};
use cel::extractors::This;
use cel::objects::{Key, Map as CelMap};
use cel::{Context, ExecutionError, FunctionContext, Program, Value as Cel};
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{display_path, FileId, FileKind, PathSeg};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// The longest rule (or `messageExpression`) text compiled, in characters. Real rules are a
/// line or two; this bounds the parser's work (its recursion is bounded by the crate, 96
/// levels: cel `parser::Parser::max_recursion_depth`).
pub(crate) const MAX_RULE_CHARS: usize = 4096;

/// The most rules compiled in one run (the CRDs that have custom resources in the linted
/// repositories). Further rules are reported as not evaluated.
pub(crate) const MAX_RULES: usize = 5000;

/// The largest estimated cost of one evaluation: the size of `self` (values, plus string bytes
/// / 64) times the longest list or map in it raised to the rule's comprehension nesting depth
/// (`all`, `exists`, `map`, `filter` inside one another). This stands in for the API server's
/// cost budget (`StaticEstimatedCostLimit`, `PerCallLimit`), which needs cel-go's checker.
pub(crate) const MAX_EVAL_COST: u64 = 1_000_000;

/// The largest total estimated cost of all evaluations in one document.
pub(crate) const MAX_DOC_COST: u64 = 20_000_000;

/// One step from a schema node to a child node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A declared property.
    Prop(String),
    /// Every item of a list (`items`).
    Items,
    /// Every value of a map (`additionalProperties`).
    Values,
}

/// Why a rule is not evaluated at all.
#[derive(Debug)]
enum Skip {
    /// It reads `oldSelf` (and has no `optionalOldSelf: true`).
    Transition,
    /// It does not parse (the API server would refuse the CRD itself).
    Parse(String),
    /// It calls functions the crate does not provide.
    Functions(Vec<String>),
    /// Over a budget.
    Budget(String),
}

/// A compiled rule, ready to run.
#[derive(Debug)]
struct Ready {
    program: Program,
    /// The comprehension nesting depth (for the cost estimate).
    depth: u32,
    /// Whether `oldSelf` is bound (to `optional.none()`).
    old_self: bool,
    /// The compiled `messageExpression`, if it has one that can run.
    message_expression: Option<Program>,
    /// The field names it selects (`self.a.b`: `a`, `b`), to tell whether it reads a typed
    /// string (see [`Why::Format`]).
    fields: HashSet<String>,
}

/// One `x-kubernetes-validations` entry of a CRD version, compiled once per run.
#[derive(Debug)]
pub(crate) struct Validation {
    /// Where the rule sits, from the root of `openAPIV3Schema`.
    steps: Vec<Step>,
    /// The schema node holding the rule (types, defaults and escaping of `self`).
    schema: Value,
    rule: String,
    message: Option<String>,
    field_path: Option<String>,
    reason: Option<String>,
    /// The CRD's `metadata.name`, for messages.
    crd: String,
    compiled: Result<Ready, Skip>,
    /// Rules that could not be evaluated go without a `schema/cel-not-evaluated` note: set for
    /// the embedded catalog's CRDs, whose rules the user did not write and cannot change (a
    /// note for every transition rule of a Karpenter NodePool would come with every valid
    /// repository). Violations are still reported.
    quiet: bool,
}

impl Validation {
    /// The same rule, with its "not evaluated" notes left out (see `quiet`).
    pub(crate) fn quiet(self) -> Self {
        Validation {
            quiet: true,
            ..self
        }
    }

    /// Whether the rule sits under the root's `status`.
    pub(crate) fn under_status(&self) -> bool {
        self.steps.first() == Some(&Step::Prop("status".into()))
    }
}

/// Collects the rules of one version's `openAPIV3Schema` (schema nodes deeper than `max_depth`
/// are not searched, as `crd.rs` does not convert them). `budget` counts the rules compiled in
/// this run so far.
pub(crate) fn collect(
    schema: &Value,
    crd: &str,
    max_depth: usize,
    budget: &mut usize,
) -> Vec<Validation> {
    let mut out = Vec::new();
    walk(schema, &mut Vec::new(), crd, max_depth, budget, &mut out);
    out
}

fn walk(
    node: &Value,
    steps: &mut Vec<Step>,
    crd: &str,
    max_depth: usize,
    budget: &mut usize,
    out: &mut Vec<Validation>,
) {
    if steps.len() > max_depth {
        return;
    }
    let Some(obj) = node.as_object() else { return };
    for rule in obj
        .get("x-kubernetes-validations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let text = |k: &str| rule.get(k).and_then(Value::as_str).map(str::to_string);
        let Some(source) = text("rule") else { continue };
        let optional_old_self = rule.get("optionalOldSelf").and_then(Value::as_bool) == Some(true);
        let compiled = if *budget >= MAX_RULES {
            Err(Skip::Budget(format!(
                "more than {MAX_RULES} CEL rules in the CRDs of this run"
            )))
        } else {
            *budget += 1;
            compile(
                &source,
                text("messageExpression").as_deref(),
                optional_old_self,
            )
        };
        out.push(Validation {
            steps: steps.clone(),
            schema: node.clone(),
            rule: source,
            message: text("message").filter(|m| !m.trim().is_empty()),
            field_path: text("fieldPath"),
            reason: text("reason"),
            crd: crd.to_string(),
            quiet: false,
            compiled,
        });
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, child) in props {
            steps.push(Step::Prop(name.clone()));
            walk(child, steps, crd, max_depth, budget, out);
            steps.pop();
        }
    }
    if let Some(items) = obj.get("items") {
        steps.push(Step::Items);
        walk(items, steps, crd, max_depth, budget, out);
        steps.pop();
    }
    if let Some(values @ Value::Object(_)) = obj.get("additionalProperties") {
        steps.push(Step::Values);
        walk(values, steps, crd, max_depth, budget, out);
        steps.pop();
    }
}

/// The functions (and operators) the evaluation context provides: the crate's
/// `Context::default()` ones, minus the non-standard `max`/`min` (Kubernetes has no such
/// global functions), plus the ones we add in [`context`]. The macros (`has`, `all`, `exists`,
/// `exists_one`, `map`, `filter`) are expanded by the parser and never appear as calls.
const FUNCTIONS: &[&str] = &[
    "contains",
    "size",
    "startsWith",
    "endsWith",
    "string",
    "bytes",
    "double",
    "int",
    "uint",
    "matches",
    "none",
    "of",
    "ofNonZeroValue",
    "value",
    "hasValue",
    "or",
    "orValue",
    "lowerAscii",
    "upperAscii",
];

/// Operators the crate's evaluator implements itself (cel `objects.rs`, `Value::resolve`).
const OPERATORS: &[&str] = &[
    "_?_:_",
    "_&&_",
    "_||_",
    "!_",
    "_-_",
    "_+_",
    "_*_",
    "_/_",
    "_%_",
    "_==_",
    "_!=_",
    "_>=_",
    "_<=_",
    "_>_",
    "_<_",
    "-_",
    "_[_]",
    "_[?_]",
    "_?._",
    "@not_strictly_false",
    "@in",
];

fn compile(
    source: &str,
    message_expression: Option<&str>,
    optional_old_self: bool,
) -> Result<Ready, Skip> {
    let program = parse(source)?;
    let mut facts = Facts::default();
    facts.visit(program.expression(), 0);
    if facts.variables.contains("oldSelf") && !optional_old_self {
        return Err(Skip::Transition);
    }
    if !facts.unknown.is_empty() {
        return Err(Skip::Functions(facts.unknown.into_iter().collect()));
    }
    // A `messageExpression` that cannot run leaves `message` (or the rule) as the message.
    let message_expression = message_expression.and_then(|m| {
        let p = parse(m).ok()?;
        let mut f = Facts::default();
        f.visit(p.expression(), 0);
        let old = f.variables.contains("oldSelf");
        (f.unknown.is_empty() && (!old || optional_old_self)).then_some(p)
    });
    Ok(Ready {
        program,
        depth: facts.depth,
        fields: facts.fields,
        old_self: optional_old_self,
        message_expression,
    })
}

fn parse(source: &str) -> Result<Program, Skip> {
    if source.chars().count() > MAX_RULE_CHARS {
        return Err(Skip::Budget(format!(
            "the rule is longer than {MAX_RULE_CHARS} characters"
        )));
    }
    // Why catch_unwind: the parser is generated (antlr4rust) and this text is
    // attacker-written; no panic is known, but one would take the whole run down.
    match std::panic::catch_unwind(|| Program::compile(source)) {
        Ok(Ok(p)) => Ok(p),
        Ok(Err(e)) => Err(Skip::Parse(
            e.to_string().lines().next().unwrap_or("").into(),
        )),
        Err(_) => Err(Skip::Parse("the CEL parser failed on it".into())),
    }
}

/// What a rule's AST uses: variables, functions the context lacks, comprehension depth.
#[derive(Default)]
struct Facts {
    variables: HashSet<String>,
    fields: HashSet<String>,
    unknown: BTreeSet<String>,
    depth: u32,
}

impl Facts {
    fn visit(&mut self, e: &cel::IdedExpr, depth: u32) {
        self.depth = self.depth.max(depth);
        match &e.expr {
            Expr::Call(call) => {
                let name = call.func_name.as_str();
                if !OPERATORS.contains(&name) && !FUNCTIONS.contains(&name) {
                    self.unknown.insert(name.to_string());
                }
                if let Some(t) = &call.target {
                    self.visit(t, depth);
                }
                call.args.iter().for_each(|a| self.visit(a, depth));
            }
            Expr::Comprehension(c) => {
                self.visit(&c.iter_range, depth);
                self.visit(&c.accu_init, depth);
                self.visit(&c.loop_cond, depth + 1);
                self.visit(&c.loop_step, depth + 1);
                self.visit(&c.result, depth);
            }
            Expr::Ident(name) => {
                self.variables.insert(name.clone());
            }
            Expr::List(l) => l.elements.iter().for_each(|x| self.visit(x, depth)),
            Expr::Map(m) => m.entries.iter().for_each(|x| match &x.expr {
                EntryExpr::MapEntry(me) => {
                    self.visit(&me.key, depth);
                    self.visit(&me.value, depth);
                }
                EntryExpr::StructField(f) => self.visit(&f.value, depth),
            }),
            Expr::Select(s) => {
                self.fields.insert(s.field.clone());
                self.visit(&s.operand, depth);
            }
            Expr::Struct(s) => {
                // A message literal (`google.protobuf.Timestamp{...}`): not a Kubernetes value.
                self.unknown.insert(s.type_name.clone());
            }
            Expr::Literal(_) | Expr::Unspecified => {}
        }
    }
}

thread_local! {
    static CONTEXT: Context<'static> = context();
}

/// The evaluation context: the crate's functions, with `size` counting characters as CEL does
/// (the crate counts a string's bytes), and the Kubernetes string library's `lowerAscii` and
/// `upperAscii` (k8s.io/apiserver `pkg/cel/library`, cel-go `ext.Strings`).
fn context() -> Context<'static> {
    let mut ctx = Context::default();
    ctx.add_function("size", size);
    ctx.add_function("lowerAscii", lower_ascii);
    ctx.add_function("upperAscii", upper_ascii);
    ctx
}

fn lower_ascii(This(s): This<Arc<String>>) -> String {
    s.to_ascii_lowercase()
}

fn upper_ascii(This(s): This<Arc<String>>) -> String {
    s.to_ascii_uppercase()
}

fn size(ftx: &FunctionContext, This(this): This<Cel>) -> Result<i64, ExecutionError> {
    let n = match this {
        Cel::List(l) => l.len(),
        Cel::Map(m) => m.map.len(),
        Cel::String(s) => s.chars().count(),
        Cel::Bytes(b) => b.len(),
        other => return Err(ftx.error(format!("cannot determine the size of {other:?}"))),
    };
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The compiled rules of the CRD kinds, by definition name.
pub(crate) type Rules = HashMap<String, Vec<Validation>>;

/// One thing that happened while evaluating, before aggregation.
enum Event {
    /// A finding to report as is.
    Finding(Finding),
    /// A rule not evaluated (or failing) here: said once per rule, at its first place.
    Note {
        def: usize,
        rule: usize,
        file: FileId,
        doc: usize,
        path: Vec<PathSeg>,
        why: Why,
    },
}

/// Why a rule was not evaluated at one place.
enum Why {
    /// For its [`Skip`] reason.
    Skipped,
    /// Its evaluation failed.
    Error(String),
    /// `self` holds a string with this `format`, which Kubernetes types as a timestamp,
    /// duration or bytes in CEL (k8s.io/apiserver `pkg/cel/common/schemas.go`,
    /// `SchemaDeclType`); the crate is built without timestamps, so it is not evaluated.
    Format(String),
}

/// Evaluates the rules over every custom resource of their kinds in `files`.
pub(crate) fn check(world: &World, reg: &Registry, rules: &Rules, files: &[usize]) -> Vec<Finding> {
    if rules.is_empty() {
        return Vec::new();
    }
    let patches = patch_files(world);
    let defs: Vec<(&String, &Vec<Validation>)> = {
        let mut d: Vec<_> = rules.iter().collect();
        d.sort_by(|a, b| a.0.cmp(b.0));
        d
    };
    let by_def: HashMap<&str, usize> = defs
        .iter()
        .enumerate()
        .map(|(i, (d, _))| (d.as_str(), i))
        .collect();
    let per_file: Vec<Vec<Event>> = files
        .par_iter()
        .map(|&i| {
            let file = &world.files[i];
            if patches.contains(&(file.repo, file.rel_path.as_str())) {
                return Vec::new();
            }
            let template = file.kind == FileKind::TierTemplate;
            let mut events = Vec::new();
            for (d, doc) in world.yaml[i].iter().enumerate() {
                let v = &doc.value;
                let (Some(api), Some(kind)) = (
                    v.get("apiVersion").and_then(Value::as_str),
                    v.get("kind").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let Some(def) = reg.kind(api, kind) else {
                    continue;
                };
                let Some(&di) = by_def.get(def) else {
                    continue;
                };
                let sops = v.get("sops").is_some_and(|m| m.get("mac").is_some());
                let doc_at = DocAt {
                    file: file.id,
                    doc: d,
                    kind,
                    template,
                    sops,
                };
                // One context per thread: registering the functions costs more than most
                // evaluations.
                CONTEXT.with(|ctx| evaluate_doc(ctx, &doc_at, v, di, defs[di].1, &mut events));
            }
            events
        })
        .collect();
    aggregate(&defs, per_file.into_iter().flatten())
}

/// The files Kustomize kustomizations list as patches: partial objects, not evaluated.
fn patch_files(world: &World) -> HashSet<(usize, &str)> {
    let mut out = HashSet::new();
    for file in world
        .files
        .iter()
        .filter(|f| f.kind == FileKind::Kustomization)
    {
        let dir = file.rel_path.rsplit_once('/').map_or("", |(d, _)| d);
        for doc in &world.yaml[file.id.0 as usize] {
            for e in crate::checks::kustomize::entries(&doc.value) {
                if !e.field.starts_with("patches") {
                    continue;
                }
                if let crate::checks::kustomize::Resolved::Path(p) =
                    crate::checks::kustomize::resolve(dir, e.value)
                {
                    if let Some(f) = world.repos.get(file.repo).and_then(|r| r.files.get(&p)) {
                        out.insert((file.repo, f.as_str()));
                    }
                }
            }
        }
    }
    out
}

/// Where a document is, for findings.
struct DocAt<'a> {
    file: FileId,
    doc: usize,
    kind: &'a str,
    template: bool,
    sops: bool,
}

fn evaluate_doc(
    ctx: &Context,
    at: &DocAt,
    value: &Value,
    def: usize,
    rules: &[Validation],
    events: &mut Vec<Event>,
) {
    let mut spent: u64 = 0;
    for (r, rule) in rules.iter().enumerate() {
        let mut nodes = Vec::new();
        find_nodes(value, &rule.steps, &mut Vec::new(), &mut nodes);
        for (path, node) in nodes {
            let note = |why: Why| Event::Note {
                def,
                rule: r,
                file: at.file,
                doc: at.doc,
                path: path.clone(),
                why,
            };
            let ready = match &rule.compiled {
                Ok(ready) => ready,
                Err(_) => {
                    events.push(note(Why::Skipped));
                    continue;
                }
            };
            if has_unrendered(node, at) {
                continue;
            }
            let mut size = Size::default();
            let mut reads = Reads {
                fields: &ready.fields,
                ancestors: Vec::new(),
            };
            let this = to_cel(
                node,
                &rule.schema,
                rule.steps.is_empty(),
                &mut size,
                &mut reads,
            );
            if let Some(format) = size.format.take() {
                events.push(note(Why::Format(format)));
                continue;
            }
            let cost = size.cost(ready.depth);
            if cost > MAX_EVAL_COST || spent.saturating_add(cost) > MAX_DOC_COST {
                let what = if cost > MAX_EVAL_COST {
                    format!("the value is too large for this rule (estimated cost {cost}, budget {MAX_EVAL_COST} per evaluation)")
                } else {
                    format!("this document's CEL budget ({MAX_DOC_COST}) ran out")
                };
                events.push(Event::Finding(
                    Finding::new(
                        RuleId::SCHEMA_CEL_NOT_EVALUATED,
                        format!("CEL rule `{}` of the CRD `{}` was not evaluated here: {what}", rule.rule, rule.crd),
                        at_node(at.file, at.doc, path.clone(), false),
                    )
                    .with_help("a budget that bounds the work an attacker-written CRD can cause; nothing to fix unless the value is really this large"),
                ));
                if cost <= MAX_EVAL_COST {
                    return;
                }
                continue;
            }
            spent += cost;
            let mut scope = ctx.new_inner_scope();
            scope.add_variable_from_value("self", this);
            if ready.old_self {
                scope.add_variable_from_value("oldSelf", none());
            }
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ready.program.execute(&scope)
            }));
            match result {
                Ok(Ok(Cel::Bool(true))) => {}
                Ok(Ok(Cel::Bool(false))) => {
                    events.push(Event::Finding(violation(
                        rule, ready, &scope, at, &path, node,
                    )));
                }
                Ok(Ok(other)) => events.push(note(Why::Error(format!(
                    "it evaluated to {other:?}, not a boolean"
                )))),
                Ok(Err(e)) => events.push(note(Why::Error(e.to_string()))),
                Err(_) => events.push(note(Why::Error("the CEL evaluator failed".into()))),
            }
        }
    }
}

/// `optional.none()`, the `oldSelf` of an `optionalOldSelf` rule on create.
fn none() -> Cel {
    Cel::Opaque(Arc::new(cel::objects::OptionalValue::none()))
}

/// The values at a rule's schema node: `path` from the document root, and the value.
fn find_nodes<'v>(
    value: &'v Value,
    steps: &[Step],
    path: &mut Vec<PathSeg>,
    out: &mut Vec<(Vec<PathSeg>, &'v Value)>,
) {
    if value.is_null() {
        // An absent node (pruning drops a null in a non-nullable field; a nullable null has
        // nothing for a rule to read either: cel `validation.go` skips nil values).
        return;
    }
    let Some((step, rest)) = steps.split_first() else {
        out.push((path.clone(), value));
        return;
    };
    match (step, value) {
        (Step::Prop(name), Value::Object(map)) => {
            if let Some(child) = map.get(name) {
                path.push(PathSeg::Key(name.as_str().into()));
                find_nodes(child, rest, path, out);
                path.pop();
            }
        }
        (Step::Items, Value::Array(items)) => {
            for (i, child) in items.iter().enumerate() {
                path.push(PathSeg::Index(i));
                find_nodes(child, rest, path, out);
                path.pop();
            }
        }
        (Step::Values, Value::Object(map)) => {
            for (k, child) in map {
                path.push(PathSeg::Key(k.as_str().into()));
                find_nodes(child, rest, path, out);
                path.pop();
            }
        }
        // A wrong type: `schema/invalid-type` reports it.
        _ => {}
    }
}

/// Whether the value holds something filled in later (see the module comment).
fn has_unrendered(value: &Value, at: &DocAt) -> bool {
    let text = |s: &str| {
        s.contains("{{")
            || s.contains("${")
            || (at.template && super::is_placeholder(s))
            || (at.sops && s.starts_with("ENC["))
    };
    match value {
        Value::String(s) => text(s),
        Value::Array(items) => items.iter().any(|v| has_unrendered(v, at)),
        Value::Object(map) => map.iter().any(|(k, v)| text(k) || has_unrendered(v, at)),
        _ => false,
    }
}

/// The size of a converted value, for the cost estimate.
#[derive(Default)]
struct Size {
    values: u64,
    bytes: u64,
    longest: u64,
    /// A `byte`, `duration`, `date` or `date-time` string the rule reads (see
    /// [`Why::Format`]).
    format: Option<String>,
}

/// What the conversion needs to know about the rule: the fields it selects, and the property
/// names from `self` down to the value being converted.
struct Reads<'a> {
    fields: &'a HashSet<String>,
    ancestors: Vec<String>,
}

impl Size {
    fn cost(&self, depth: u32) -> u64 {
        let base = self.values.saturating_add(self.bytes / 64).max(1);
        (0..depth).fold(base, |c, _| c.saturating_mul(self.longest.max(1)))
    }
}

/// A JSON value as the API server hands it to CEL, typed by its schema node.
fn to_cel(value: &Value, schema: &Value, root: bool, size: &mut Size, reads: &mut Reads) -> Cel {
    size.values += 1;
    // Deeper than any real value (the YAML loader allows 1000 levels): bounds the recursion.
    if reads.ancestors.len() > 128 {
        return Cel::Null;
    }
    let ty = schema.get("type").and_then(Value::as_str);
    match value {
        Value::Null => Cel::Null,
        Value::Bool(b) => Cel::Bool(*b),
        Value::Number(n) => match (ty, n.as_i64()) {
            (Some("number"), _) | (_, None) => Cel::Float(n.as_f64().unwrap_or(f64::NAN)),
            (_, Some(i)) => Cel::Int(i),
        },
        Value::String(s) => {
            size.bytes += s.len() as u64;
            if let Some(f @ ("byte" | "duration" | "date" | "date-time")) =
                schema.get("format").and_then(Value::as_str)
            {
                // Read if it is `self`, or the rule selects a field on the way to it (a rule
                // that reads no field on its path cannot tell it from a string).
                if reads.ancestors.is_empty()
                    || reads.ancestors.iter().any(|a| reads.fields.contains(a))
                {
                    size.format.get_or_insert_with(|| f.to_string());
                }
            }
            Cel::String(Arc::new(s.clone()))
        }
        Value::Array(items) => {
            size.longest = size.longest.max(items.len() as u64);
            let item_schema = schema.get("items").unwrap_or(&Value::Null);
            Cel::List(Arc::new(
                items
                    .iter()
                    .map(|v| {
                        reads.ancestors.push(String::new());
                        let c = to_cel(v, item_schema, false, size, reads);
                        reads.ancestors.pop();
                        c
                    })
                    .collect(),
            ))
        }
        Value::Object(map) => {
            size.longest = size.longest.max(map.len() as u64);
            let props = schema.get("properties").and_then(Value::as_object);
            let values = schema.get("additionalProperties").filter(|v| v.is_object());
            let mut out: HashMap<Key, Cel> = HashMap::new();
            for (k, v) in map {
                let declared = props.and_then(|p| p.get(k));
                let sub = declared.or(values).unwrap_or(&Value::Null);
                let nullable = sub.get("nullable").and_then(Value::as_bool) == Some(true);
                if v.is_null() && !nullable {
                    continue;
                }
                if root && k == "metadata" {
                    out.insert(Key::String(Arc::new(k.clone())), root_metadata(v));
                    continue;
                }
                let name = if props.is_some() && values.is_none() {
                    match escape(k) {
                        Some(n) => n,
                        None => continue,
                    }
                } else {
                    k.clone()
                };
                reads.ancestors.push(name.clone());
                let c = to_cel(v, sub, false, size, reads);
                reads.ancestors.pop();
                out.insert(Key::String(Arc::new(name)), c);
            }
            // Defaults of absent properties (structural defaulting).
            for (k, sub) in props.into_iter().flatten() {
                if let (Some(default), false) = (sub.get("default"), map.contains_key(k)) {
                    if let Some(name) = escape(k) {
                        reads.ancestors.push(name.clone());
                        let c = to_cel(default, sub, false, size, reads);
                        reads.ancestors.pop();
                        out.insert(Key::String(Arc::new(name)), c);
                    }
                }
            }
            Cel::Map(CelMap { map: Arc::new(out) })
        }
    }
}

/// The root's `metadata` as CEL sees it: only `name` and `generateName`
/// (`pkg/apiserver/schema/cel/model`, the root's `metadata` declaration).
fn root_metadata(meta: &Value) -> Cel {
    let mut out: HashMap<Key, Cel> = HashMap::new();
    for k in ["name", "generateName"] {
        if let Some(Value::String(s)) = meta.get(k) {
            out.insert(
                Key::String(Arc::new(k.into())),
                Cel::String(Arc::new(s.clone())),
            );
        }
    }
    Cel::Map(CelMap { map: Arc::new(out) })
}

/// A property name as a CEL field name (k8s.io/apiserver `pkg/cel/escaping.go`, `Escape`);
/// `None`: not accessible from CEL.
fn escape(name: &str) -> Option<String> {
    const RESERVED: &[&str] = &[
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
    ];
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if RESERVED.contains(&name) {
        return Some(format!("__{name}__"));
    }
    let mut out = String::with_capacity(name.len());
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '_' if chars.peek() == Some(&'_') => {
                chars.next();
                out.push_str("__underscores__");
            }
            '.' => out.push_str("__dot__"),
            '-' => out.push_str("__dash__"),
            '/' => out.push_str("__slash__"),
            c if c.is_ascii_alphanumeric() || c == '_' => out.push(c),
            _ => return None,
        }
    }
    Some(out)
}

/// The `schema/cel-rule` finding of a rule that evaluated to false.
fn violation(
    rule: &Validation,
    ready: &Ready,
    scope: &Context,
    at: &DocAt,
    path: &[PathSeg],
    node: &Value,
) -> Finding {
    let evaluated =
        ready.message_expression.as_ref().and_then(|p| {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| p.execute(scope))) {
                Ok(Ok(Cel::String(s))) if !s.trim().is_empty() => Some(s.to_string()),
                _ => None,
            }
        });
    let message = evaluated
        .or_else(|| rule.message.clone())
        .unwrap_or_else(|| format!("failed rule: {}", rule.rule));
    let mut place = path.to_vec();
    let mut target = node;
    if let Some(rel) = rule.field_path.as_deref().and_then(parse_field_path) {
        if let Some(v) = lookup(node, &rel) {
            place.extend(rel);
            target = v;
        }
    }
    let shown = if place.is_empty() {
        "the object".to_string()
    } else {
        format!("`{}`", display_path(&place))
    };
    let reason = match rule.reason.as_deref() {
        Some("FieldValueForbidden") => "Forbidden",
        Some("FieldValueRequired") => "Required value",
        Some("FieldValueDuplicate") => "Duplicate value",
        _ => "Invalid value",
    };
    Finding::new(
        RuleId::SCHEMA_CEL_RULE,
        format!(
            "{message}: this {} breaks the CRD `{}`'s validation rule `{}` at {shown}; the API server refuses it ({reason})",
            at.kind, rule.crd, rule.rule
        ),
        at_node(at.file, at.doc, place, !target.is_object() && !target.is_array()),
    )
    .with_help("change the value so that the rule holds; the rule is in the CRD's `x-kubernetes-validations`")
}

/// Where to point for a node: a scalar's value; a mapping's or list's key (`spec:`), the line
/// to look at, rather than the first line of its content.
fn at_node(file: FileId, doc: usize, path: Vec<PathSeg>, scalar: bool) -> Location {
    if !scalar && matches!(path.last(), Some(PathSeg::Key(_))) {
        Location::key(file, doc, path)
    } else {
        Location::value(file, doc, path)
    }
}

/// A `fieldPath` (`.spec.x`, `.map['key']`, relative to the rule's node) as path segments.
fn parse_field_path(s: &str) -> Option<Vec<PathSeg>> {
    let mut out = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end == 0 {
                return None;
            }
            out.push(PathSeg::Key(r[..end].into()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let end = r.find("']")?;
            out.push(PathSeg::Key(r[..end].into()));
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            out.push(PathSeg::Index(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(out)
}

fn lookup<'v>(value: &'v Value, path: &[PathSeg]) -> Option<&'v Value> {
    path.iter().try_fold(value, |v, seg| match seg {
        PathSeg::Key(k) => v.get(k.as_str()),
        PathSeg::Index(i) => v.get(*i),
    })
}

/// Turns the events into findings: findings as they are, notes once per rule, at the first
/// place (files in World order, so the output is deterministic), with counts.
fn aggregate(
    defs: &[(&String, &Vec<Validation>)],
    events: impl Iterator<Item = Event>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    // (def, rule) -> (first note, places, how many were errors)
    type Note = ((usize, usize), (FileId, usize, Vec<PathSeg>, Why), usize);
    let mut notes: Vec<Note> = Vec::new();
    let mut index: HashMap<(usize, usize), usize> = HashMap::new();
    for event in events {
        match event {
            Event::Finding(f) => out.push(f),
            Event::Note {
                def,
                rule,
                file,
                doc,
                path,
                why,
            } => match index.get(&(def, rule)) {
                Some(&i) => notes[i].2 += 1,
                None => {
                    index.insert((def, rule), notes.len());
                    notes.push(((def, rule), (file, doc, path, why), 1));
                }
            },
        }
    }
    for ((def, r), (file, doc, path, why), count) in notes {
        let rule = &defs[def].1[r];
        if rule.quiet {
            continue;
        }
        let places = if count == 1 {
            "1 place".to_string()
        } else {
            format!("{count} places")
        };
        let (why, help) = match (&rule.compiled, why) {
            (_, Why::Format(f)) => (
                format!("the value holds a string with `format: {f}`, which Kubernetes types as a timestamp, duration or bytes in CEL, and gitops-lint does not ({places})"),
                "nothing to fix in the file; the rule is checked by the API server when the object is applied",
            ),
            (_, Why::Error(e)) => (
                format!("its evaluation failed ({e}), so it was not checked ({places}); the API server reports an error for this too, unless the object it sees differs (a field set by a webhook or controller)"),
                "if the field can be absent, the rule should guard it with `has(self.field)`; nothing else to fix in this file",
            ),
            (Err(Skip::Transition), Why::Skipped) => (
                format!("it reads `oldSelf`, so it is a transition rule, which the API server runs on updates only ({places} it would apply to)"),
                "nothing to fix: gitops-lint sees the new object only",
            ),
            (Err(Skip::Functions(f)), Why::Skipped) => (
                format!("it calls {} that gitops-lint's CEL evaluator does not provide ({places})", f.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")),
                "nothing to fix in the file; the rule is checked by the API server when the object is applied",
            ),
            (Err(Skip::Parse(e)), Why::Skipped) => (
                format!("it does not parse ({e}); the API server would refuse the CRD ({places})"),
                "fix the rule in the CRD",
            ),
            (Err(Skip::Budget(b)), Why::Skipped) => (
                format!("{b} ({places})"),
                "a budget that bounds the work an attacker-written CRD can cause",
            ),
            (Ok(_), Why::Skipped) => continue,
        };
        out.push(
            Finding::new(
                RuleId::SCHEMA_CEL_NOT_EVALUATED,
                format!(
                    "CEL rule `{}` of the CRD `{}` was not evaluated: {why}",
                    rule.rule, rule.crd
                ),
                at_node(file, doc, path, false),
            )
            .with_help(help),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rules(schema: Value) -> Vec<Validation> {
        collect(&schema, "widgets.example.com", 128, &mut 0)
    }

    /// Evaluates the first rule at the root of `schema` over `value`: Some(true/false), or
    /// None for an error or a skipped rule.
    fn eval(schema: Value, value: Value) -> Option<bool> {
        let rs = rules(schema);
        let rule = rs.first()?;
        let ready = rule.compiled.as_ref().ok()?;
        let ctx = context();
        let mut scope = ctx.new_inner_scope();
        let mut size = Size::default();
        let mut reads = Reads {
            fields: &ready.fields,
            ancestors: Vec::new(),
        };
        scope.add_variable_from_value(
            "self",
            to_cel(&value, &rule.schema, false, &mut size, &mut reads),
        );
        if ready.old_self {
            scope.add_variable_from_value("oldSelf", none());
        }
        match ready.program.execute(&scope) {
            Ok(Cel::Bool(b)) => Some(b),
            _ => None,
        }
    }

    fn with_rule(rule: &str, props: Value) -> Value {
        json!({"type": "object", "properties": props, "x-kubernetes-validations": [{"rule": rule}]})
    }

    #[test]
    fn rules_are_collected_with_their_paths() {
        let schema = json!({"type": "object", "properties": {"spec": {"type": "object",
        "x-kubernetes-validations": [{"rule": "self.a <= self.b", "message": "m", "fieldPath": ".a"}],
        "properties": {
            "list": {"type": "array", "items": {"type": "object", "x-kubernetes-validations": [{"rule": "self.x > 0"}]}},
            "map": {"type": "object", "additionalProperties": {"type": "string", "x-kubernetes-validations": [{"rule": "self != ''"}]}}
        }}}});
        let rs = rules(schema);
        let steps: Vec<_> = rs.iter().map(|r| r.steps.clone()).collect();
        let p = |s: &str| Step::Prop(s.into());
        assert_eq!(
            steps,
            vec![
                vec![p("spec")],
                vec![p("spec"), p("list"), Step::Items],
                vec![p("spec"), p("map"), Step::Values],
            ]
        );
        assert_eq!(rs[0].message.as_deref(), Some("m"));
        assert_eq!(rs[0].field_path.as_deref(), Some(".a"));
    }

    #[test]
    fn rules_see_typed_escaped_defaulted_values() {
        let props = json!({"min": {"type": "integer"}, "max": {"type": "integer", "default": 10},
                           "ratio": {"type": "number"}, "dash-name": {"type": "string"},
                           "namespace": {"type": "string"}});
        assert_eq!(
            eval(
                with_rule("self.min <= self.max", props.clone()),
                json!({"min": 3})
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                with_rule("self.min <= self.max", props.clone()),
                json!({"min": 30})
            ),
            Some(false)
        );
        assert_eq!(
            eval(
                with_rule("self.ratio == 1.0", props.clone()),
                json!({"ratio": 1})
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                with_rule("self.dash__dash__name == 'x'", props.clone()),
                json!({"dash-name": "x"})
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                with_rule("self.__namespace__ == 'n'", props.clone()),
                json!({"namespace": "n"})
            ),
            Some(true)
        );
        // Absent without a default: an evaluation error, not false.
        assert_eq!(
            eval(with_rule("self.min > 0", props.clone()), json!({})),
            None
        );
        assert_eq!(
            eval(
                with_rule("!has(self.min) || self.min > 0", props.clone()),
                json!({})
            ),
            Some(true)
        );
        // size() counts characters, as CEL does.
        assert_eq!(
            eval(
                with_rule("self.dash__dash__name.size() == 2", props.clone()),
                json!({"dash-name": "éé"})
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                with_rule("self.dash__dash__name.matches('^[a-z]+$')", props.clone()),
                json!({"dash-name": "abc"})
            ),
            Some(true)
        );
        assert_eq!(
            eval(
                with_rule("self.dash__dash__name.lowerAscii() == 'abc'", props),
                json!({"dash-name": "ABC"})
            ),
            Some(true)
        );
    }

    #[test]
    fn transition_and_unknown_function_rules_are_not_compiled() {
        let r = rules(with_rule("self == oldSelf", json!({})));
        assert!(matches!(r[0].compiled, Err(Skip::Transition)));
        let r = rules(json!({"type": "object", "x-kubernetes-validations": [
            {"rule": "!has(oldSelf.x) || self.x == oldSelf.x", "optionalOldSelf": true}]}));
        assert!(r[0].compiled.is_ok());
        let r = rules(with_rule(
            "self.l.isSorted() && quantity(self.q).isGreaterThan(quantity('1'))",
            json!({}),
        ));
        match &r[0].compiled {
            Err(Skip::Functions(f)) => assert!(
                f.contains(&"isSorted".to_string()) && f.contains(&"quantity".to_string()),
                "{f:?}"
            ),
            other => panic!("{other:?}"),
        }
        // The typed-string `format` that keeps a rule from running over `{"t": <timestamp>}`.
        let format_seen = |rule: &str| {
            let r = rules(with_rule(
                rule,
                json!({"t": {"type": "string", "format": "date-time"}}),
            ));
            let ready = r[0].compiled.as_ref().expect("compiles");
            let mut size = Size::default();
            let mut reads = Reads {
                fields: &ready.fields,
                ancestors: Vec::new(),
            };
            to_cel(
                &json!({"t": "2024-01-01T00:00:00Z"}),
                &r[0].schema,
                false,
                &mut size,
                &mut reads,
            );
            size.format
        };
        assert_eq!(format_seen("self.t != ''").as_deref(), Some("date-time"));
        // A rule that does not select `t` is evaluated.
        assert_eq!(format_seen("size(self) > 0"), None);
        let r = rules(with_rule("self.x ==", json!({})));
        assert!(matches!(r[0].compiled, Err(Skip::Parse(_))));
    }

    #[test]
    fn optional_old_self_is_none_on_create() {
        let schema = json!({"type": "object", "properties": {"x": {"type": "string"}},
            "x-kubernetes-validations": [{"rule": "!oldSelf.hasValue() || self.x == oldSelf.value().x", "optionalOldSelf": true}]});
        assert_eq!(eval(schema, json!({"x": "a"})), Some(true));
    }

    #[test]
    fn hostile_rules_are_bounded() {
        let deep = format!("{}1{}", "(".repeat(2000), ")".repeat(2000));
        let r = rules(with_rule(&deep, json!({})));
        assert!(r[0].compiled.is_err());
        let long = format!("self.a == '{}'", "x".repeat(MAX_RULE_CHARS));
        let r = rules(with_rule(&long, json!({})));
        assert!(matches!(r[0].compiled, Err(Skip::Budget(_))));
        let mut budget = MAX_RULES;
        let r = collect(&with_rule("true", json!({})), "c", 128, &mut budget);
        assert!(matches!(r[0].compiled, Err(Skip::Budget(_))));
        // Nested comprehensions over a long list: the estimate is over budget.
        let s = Size {
            values: 2001,
            bytes: 0,
            longest: 2000,
            format: None,
        };
        assert!(s.cost(2) > MAX_EVAL_COST);
        assert!(s.cost(0) < MAX_EVAL_COST);
    }

    #[test]
    fn field_paths_parse() {
        let k = |s: &str| PathSeg::Key(s.into());
        assert_eq!(parse_field_path(".spec.x"), Some(vec![k("spec"), k("x")]));
        assert_eq!(
            parse_field_path(".m['a.b'].c"),
            Some(vec![k("m"), k("a.b"), k("c")])
        );
        assert_eq!(
            parse_field_path(".l[2]"),
            Some(vec![k("l"), PathSeg::Index(2)])
        );
        assert_eq!(parse_field_path("spec"), None);
        assert_eq!(escape("a__b"), Some("a__underscores__b".into()));
        assert_eq!(escape("a.b/c"), Some("a__dot__b__slash__c".into()));
        assert_eq!(escape("1a"), None);
        assert_eq!(escape("a b"), None);
    }
}
