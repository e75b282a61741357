//! Modules and their instances: `.tf` files grouped by directory, root modules and tf-controller
//! `Terraform` resources instantiated, `module` blocks expanded over `count` / `for_each` with
//! their arguments passed into the called local module, recursively.

use super::eval::{Budget, FileIndex, Locals, Scope};
use super::irsa;
use super::types;
use crate::helm::RenderedResource;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileId, FileKind, PathSeg, Span};
use gitops_lint_matchers::paths::normalize;
use gitops_lint_model::infra::value::Value;
use gitops_lint_model::infra::{Infra, InfraTenant, Instance, Origin, SkippedRole, TenantSource};
use gitops_lint_model::World;
use gitops_lint_syntax::pointer::Lookup;
use hcl::edit::expr::{Expression, TraversalOperator};
use hcl::edit::structure::{Block, Body};
use serde_json::Value as Json;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One module: the parsed `.tf` files of one directory.
pub(crate) struct ModuleSrc {
    /// The repository.
    pub repo: usize,
    /// The directory, repo-relative (`""` for the repository root).
    pub dir: String,
    /// Its files, parsed.
    pub files: Vec<(FileId, Body)>,
}

/// Arguments of a `module` block that are not input variables.
const META_ARGS: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
];

/// Deepest module nesting followed.
const MAX_NESTING: usize = 8;

/// Most module instances followed (a hostile nesting of `for_each` cannot explode).
const MAX_INSTANCES: usize = 200_000;

/// The span of an HCL node in a file, as a location.
pub(crate) fn location_of(file: FileId, node: &impl hcl::edit::Span) -> Location {
    match node.span() {
        Some(r) => Location::Span(Span {
            file,
            start: r.start,
            end: r.end,
        }),
        None => Location::File(file),
    }
}

/// The source text of a node.
pub(crate) fn text_of<'t>(text: &'t str, node: &impl hcl::edit::Span) -> &'t str {
    node.span().and_then(|r| text.get(r)).unwrap_or("")
}

/// `var.NAME` when the expression is exactly that.
pub(crate) fn var_name(expr: &Expression) -> Option<&str> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    match (&t.expr, t.operators.as_slice()) {
        (Expression::Variable(v), [op]) if v.value().as_str() == "var" => match op.value() {
            TraversalOperator::GetAttr(a) => Some(a.value().as_str()),
            _ => None,
        },
        _ => None,
    }
}

/// The first `var.NAME` an expression mentions (what a `count` depends on).
pub(crate) fn first_var(expr: &Expression) -> Option<&str> {
    if let Some(v) = var_name(expr) {
        return Some(v);
    }
    match expr {
        Expression::Traversal(t) => {
            if let (Expression::Variable(v), Some(op)) = (&t.expr, t.operators.first()) {
                if v.value().as_str() == "var" {
                    if let TraversalOperator::GetAttr(a) = op.value() {
                        return Some(a.value().as_str());
                    }
                }
            }
            first_var(&t.expr)
        }
        Expression::Conditional(c) => first_var(&c.cond_expr)
            .or_else(|| first_var(&c.true_expr))
            .or_else(|| first_var(&c.false_expr)),
        Expression::BinaryOp(b) => first_var(&b.lhs_expr).or_else(|| first_var(&b.rhs_expr)),
        Expression::UnaryOp(u) => first_var(&u.expr),
        Expression::Parenthesis(p) => first_var(p.inner()),
        Expression::FuncCall(f) => f.args.iter().find_map(first_var),
        _ => None,
    }
}

/// One expansion of a block: its address suffix, `each`, and `count.index`.
pub(crate) type Expanded = (String, Option<(Value, Value)>, Option<f64>);

/// How many instances a block has.
pub enum Expansion {
    /// No `count` / `for_each`: one.
    One,
    /// The instances (possibly none).
    Many(Vec<Expanded>),
    /// Not known statically: the place and the expression text.
    Unknown(Location, String),
}

impl Expansion {
    /// The instances to evaluate (one unnamed instance without `count`/`for_each`), or where
    /// and why they are not known.
    pub fn instances(self) -> Result<Vec<Expanded>, (Location, String)> {
        match self {
            Expansion::One => Ok(vec![(String::new(), None, None)]),
            Expansion::Many(list) => Ok(list),
            Expansion::Unknown(location, text) => Err((location, text)),
        }
    }
}

/// Expands a block's `count` / `for_each` in a scope. More instances than
/// `limits.terraformInstances` allows (this module's own multiplicity multiplied in) are
/// reported at the attribute and not expanded: unknown, as if known only at apply.
pub fn expand(scope: &Scope, block: &Block, file: FileId, text: &str) -> Expansion {
    let unknown = |attr: &hcl::edit::structure::Attribute| {
        Expansion::Unknown(
            location_of(file, &attr.value),
            text_of(text, &attr.value).to_string(),
        )
    };
    let fits = |n: u64, attr: &hcl::edit::structure::Attribute| {
        scope
            .budget
            .instances(n, scope.multiplicity, &location_of(file, attr))
    };
    if let Some(attr) = block.body.get_attribute("count") {
        return match scope.eval(&attr.value).to_number() {
            // Checked before anything is built (a `1e12` is refused here, not allocated).
            Some(n) if n >= 0.0 && n.is_finite() && !fits(n as u64, attr) => unknown(attr),
            Some(n) if n >= 0.0 && n.is_finite() => Expansion::Many(
                (0..n as usize)
                    .map(|i| (format!("[{i}]"), None, Some(i as f64)))
                    .collect(),
            ),
            _ => unknown(attr),
        };
    }
    if let Some(attr) = block.body.get_attribute("for_each") {
        let pairs: Option<Vec<(String, Value)>> = match scope.eval(&attr.value) {
            Value::Map(m) if !fits(m.len() as u64, attr) => None,
            Value::List(items) if !fits(items.len() as u64, attr) => None,
            Value::Map(m) => Some(m.into_iter().collect()),
            Value::List(items) => items
                .into_iter()
                .map(|v| v.to_str().map(|s| (s, v)))
                .collect(),
            _ => None,
        };
        return match pairs {
            Some(pairs) => Expansion::Many(
                pairs
                    .into_iter()
                    .map(|(k, v)| (format!("[\"{k}\"]"), Some((Value::String(k), v)), None))
                    .collect(),
            ),
            None => Expansion::Unknown(
                location_of(file, &attr.value),
                text_of(text, &attr.value).to_string(),
            ),
        };
    }
    Expansion::One
}

fn label(block: &Block, i: usize) -> Option<&str> {
    block.labels.get(i).map(|l| l.as_str())
}

/// Groups every parsed `.tf` file by directory.
fn load_modules(world: &World) -> BTreeMap<(usize, String), ModuleSrc> {
    let mut modules: BTreeMap<(usize, String), ModuleSrc> = BTreeMap::new();
    for file in world.files.iter().filter(|f| f.kind == FileKind::Terraform) {
        // Files that do not parse are reported by the loader as `terraform/syntax`.
        let Ok(body) = gitops_lint_syntax::hcl::load(&file.text) else {
            continue;
        };
        let dir = file
            .rel_path
            .rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string());
        modules
            .entry((file.repo, dir.clone()))
            .or_insert_with(|| ModuleSrc {
                repo: file.repo,
                dir,
                files: Vec::new(),
            })
            .files
            .push((file.id, body));
    }
    modules
}

fn join(dir: &str, rel: &str) -> Option<String> {
    normalize(&format!("{dir}/{rel}"))
}

fn is_local(source: &str) -> bool {
    source.starts_with("./") || source.starts_with("../")
}

/// A tf-controller `Terraform` resource: a module instantiated with `spec.vars`.
struct Resource {
    path: String,
    address: String,
    vars: Vec<(String, Value, Location)>,
    /// `spec.varsFrom` / `spec.tfVarsFrom`: variables set from ConfigMaps or Secrets we cannot see.
    vars_from: bool,
    location: Location,
}

fn terraform_resources(world: &World, rendered: &[RenderedResource]) -> Vec<Resource> {
    let key = |k: &str| PathSeg::Key(k.into());
    let mut out = Vec::new();
    for at in world.kind("Terraform") {
        let Some(doc) = world.doc(*at) else { continue };
        let var_at = |i: usize| {
            Location::value(
                at.file,
                at.doc,
                vec![key("spec"), key("vars"), PathSeg::Index(i), key("value")],
            )
        };
        let path_at = Location::value(at.file, at.doc, vec![key("spec"), key("path")]);
        out.extend(resource_of(&doc.value, var_at, path_at));
    }
    // Rendered from a chart for a release: the variables come from the release's values, and
    // the resource is created where the release is.
    for r in rendered {
        out.extend(resource_of(
            &r.doc,
            |_| r.values_location.clone(),
            r.release_location.clone(),
        ));
    }
    out
}

/// One tf-controller `Terraform` resource, with where its variables and its path are written.
fn resource_of(
    v: &Json,
    var_at: impl Fn(usize) -> Location,
    path_at: Location,
) -> Option<Resource> {
    let api = v.get("apiVersion").and_then(Json::as_str).unwrap_or("");
    if !api.starts_with("infra.contrib.fluxcd.io/") {
        return None;
    }
    let path = v.lookup("/spec/path").and_then(Json::as_str)?;
    let name = v
        .lookup("/metadata/name")
        .and_then(Json::as_str)
        .unwrap_or("?");
    let ns = v
        .lookup("/metadata/namespace")
        .and_then(Json::as_str)
        .unwrap_or("flux-system");
    let mut vars = Vec::new();
    for (i, item) in v
        .lookup("/spec/vars")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let (Some(n), Some(value)) = (item.get("name").and_then(Json::as_str), item.get("value"))
        else {
            continue;
        };
        vars.push((n.to_string(), Value::from_json(value), var_at(i)));
    }
    let non_empty = |p: &str| {
        v.lookup(p)
            .is_some_and(|x| !x.is_null() && x != &Json::Array(Vec::new()))
    };
    Some(Resource {
        path: path
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string(),
        address: format!("Terraform {ns}/{name}"),
        vars,
        vars_from: non_empty("/spec/varsFrom") || non_empty("/spec/tfVarsFrom"),
        location: path_at,
    })
}

/// The names of a module's input variables.
fn variable_names(m: &ModuleSrc) -> Vec<String> {
    m.files
        .iter()
        .flat_map(|(_, body)| body.get_blocks("variable"))
        .filter_map(|b| label(b, 0).map(str::to_string))
        .collect()
}

/// Variables a root module's `.tfvars` files set. `terraform.tfvars`, `*.auto.tfvars` and
/// their `.json` forms are loaded by Terraform itself, so their values are used; any other
/// `.tfvars` file is probably passed with `-var-file` by CI, so what it sets is unknown.
fn tfvars(
    world: &World,
    files: &FileIndex,
    m: &ModuleSrc,
    budget: &Budget,
) -> (HashMap<String, Value>, HashMap<String, Origin>) {
    let mut vars = HashMap::new();
    let mut origins = HashMap::new();
    let Some(repo) = world.repos.get(m.repo) else {
        return (vars, origins);
    };
    let prefix = if m.dir.is_empty() {
        String::new()
    } else {
        format!("{}/", m.dir)
    };
    let mut found: Vec<&String> = repo
        .files
        .iter()
        .filter(|f| {
            f.strip_prefix(&prefix).is_some_and(|name| {
                !name.contains('/') && (name.ends_with(".tfvars") || name.ends_with(".tfvars.json"))
            })
        })
        .collect();
    // Terraform loads terraform.tfvars first, then *.auto.tfvars in lexical order.
    found.sort_by_key(|f| {
        (
            !f.ends_with("/terraform.tfvars")
                && !f.ends_with("/terraform.tfvars.json")
                && *f != "terraform.tfvars",
            (*f).clone(),
        )
    });
    for rel in found {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let auto = matches!(name, "terraform.tfvars" | "terraform.tfvars.json")
            || name.ends_with(".auto.tfvars")
            || name.ends_with(".auto.tfvars.json");
        let set: Vec<(String, Value, Location)> = if name.ends_with(".json") {
            let Some((id, json)) = files
                .find(m.repo, rel)
                .and_then(|id| world.json.get(&id).map(|j| (id, j)))
            else {
                continue;
            };
            json.as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Value::from_json(v),
                        Location::value(id, 0, vec![PathSeg::Key(k.as_str().into())]),
                    )
                })
                .collect()
        } else {
            // `.tfvars` files are not read by the loader; read this one (it is small).
            let Ok(text) = std::fs::read_to_string(repo.root.join(rel)) else {
                continue;
            };
            let Ok(body) = gitops_lint_syntax::hcl::load(&text) else {
                continue;
            };
            let no_vars = HashMap::new();
            let no_locals = Locals::default();
            let file_id = files.find(m.repo, rel);
            let scope = Scope {
                files,
                repo: m.repo,
                module_dir: &m.dir,
                root_dir: &m.dir,
                vars: &no_vars,
                locals: &no_locals,
                each: None,
                count_index: None,
                budget,
                // A `.tfvars` file is not in the World: its module's first file stands in.
                file: file_id
                    .or_else(|| m.files.first().map(|(f, _)| *f))
                    .unwrap_or(FileId(0)),
                multiplicity: 1,
            };
            body.attributes()
                .map(|a| {
                    let location =
                        file_id.map_or_else(|| Location::File(FileId(0)), Location::File);
                    (
                        a.key.value().as_str().to_string(),
                        scope.eval(&a.value),
                        location,
                    )
                })
                .collect()
        };
        for (k, v, location) in set {
            let value = if auto { v } else { Value::Unknown };
            origins.insert(
                k.clone(),
                Origin {
                    value: value.clone(),
                    text: format!("{k} in {name}"),
                    location,
                },
            );
            vars.insert(k, value);
        }
    }
    (vars, origins)
}

/// Evaluates every root module and tf-controller resource (written, or `rendered` from a
/// chart) into `infra`, each configuration within the budgets of `limits`. Returns the
/// `gitops/budget-exceeded` findings of those that ran out.
pub fn evaluate(
    world: &World,
    rendered: &[RenderedResource],
    infra: &mut Infra,
    limits: &gitops_lint_config::Limits,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    // One configuration's budget: its findings taken, and where its values ran out makes the
    // model incomplete (a role the rest would have created must not be reported missing).
    let mut settle = |infra: &mut Infra, budget: Budget| {
        if let Some(at) = budget.exhausted() {
            infra.incomplete.push((
                at,
                "the evaluation ran out of `limits.terraformValues`".to_string(),
            ));
        }
        findings.extend(budget.take_findings());
    };
    let modules = load_modules(world);
    let resources = terraform_resources(world, rendered);
    for r in &resources {
        let var = |n: &str| r.vars.iter().find(|(k, _, _)| k == n);
        if let Some((_, Value::String(id), location)) = var("tenant_id") {
            let tier = var("tier");
            infra.tenants.push(InfraTenant {
                id: id.clone(),
                tier: tier.and_then(|(_, v, _)| v.as_str().map(str::to_string)),
                location: location.clone(),
                tier_location: tier.map(|(_, _, l)| l.clone()),
                source: TenantSource::TerraformResource,
            });
        }
    }
    if modules.is_empty() {
        return findings;
    }
    infra.has_terraform = true;
    let mut referenced: HashSet<(usize, String)> = HashSet::new();
    for m in modules.values() {
        for (_, body) in &m.files {
            for block in body.get_blocks("module") {
                if let Some(src) = block
                    .body
                    .get_attribute("source")
                    .and_then(|a| a.value.as_str())
                    .filter(|s| is_local(s))
                {
                    // A module calling itself (Terraform refuses it) does not make it a child:
                    // it must still be evaluated as the root it is.
                    if let Some(dir) = join(&m.dir, src).filter(|d| *d != m.dir) {
                        referenced.insert((m.repo, dir));
                    }
                }
            }
        }
    }
    let find_dir = |dir: &str| modules.values().find(|m| m.dir == dir);
    for r in &resources {
        if let Some(m) = find_dir(&r.path) {
            referenced.insert((m.repo, m.dir.clone()));
        }
    }
    let files = FileIndex::new(world);
    let ev = Evaluator {
        world,
        files: &files,
        modules: &modules,
    };
    let mut roots = 0;
    for m in modules.values() {
        let is_library = m.dir.split('/').any(|s| s == "modules");
        if referenced.contains(&(m.repo, m.dir.clone())) || is_library {
            continue;
        }
        roots += 1;
        let location = m
            .files
            .first()
            .map_or(Location::File(FileId(0)), |(f, _)| Location::File(*f));
        let address = if m.dir.is_empty() {
            ".".to_string()
        } else {
            m.dir.clone()
        };
        let budget = Budget::new(limits);
        let (vars, origins) = tfvars(world, &files, m, &budget);
        ev.instance(
            infra,
            m,
            Call {
                vars,
                origins,
                address,
                tenant: None,
                location,
                root_dir: &m.dir,
                depth: 0,
                budget: &budget,
                multiplicity: 1,
            },
        );
        settle(infra, budget);
    }
    if roots == 0 && resources.is_empty() {
        // Every module is called by another (a cycle) or is a library: nothing was evaluated,
        // so nothing may be reported missing.
        if let Some(m) = modules.values().next() {
            let location = m
                .files
                .first()
                .map_or(Location::File(FileId(0)), |(f, _)| Location::File(*f));
            infra.incomplete.push((
                location,
                "no root module found (every module is called by another)".to_string(),
            ));
        }
    }
    for r in resources {
        let Some(m) = find_dir(&r.path) else { continue };
        let mut vars = HashMap::new();
        let mut origins = HashMap::new();
        if r.vars_from {
            // Any variable may come from there, overriding its default: none is known.
            for name in variable_names(m) {
                vars.insert(name, Value::Unknown);
            }
        }
        for (name, value, location) in r.vars {
            origins.insert(
                name.clone(),
                Origin {
                    value: value.clone(),
                    text: super::eval::show(&value),
                    location,
                },
            );
            vars.insert(name, value);
        }
        let budget = Budget::new(limits);
        ev.instance(
            infra,
            m,
            Call {
                vars,
                origins,
                address: r.address,
                tenant: None,
                location: r.location,
                root_dir: &m.dir,
                depth: 0,
                budget: &budget,
                multiplicity: 1,
            },
        );
        settle(infra, budget);
    }
    findings
}

/// How a module is called: its inputs and where they come from.
pub(crate) struct Call<'r> {
    /// Input variables.
    pub vars: HashMap<String, Value>,
    /// Where each input is set (the caller's argument, or the resource's `spec.vars` item).
    pub origins: HashMap<String, Origin>,
    /// The instance address.
    pub address: String,
    /// The tenant, when the caller knows it (`each.key`).
    pub tenant: Option<String>,
    /// Where the instance is created.
    pub location: Location,
    /// The root module directory (`path.root`, base of relative `file()` paths).
    pub root_dir: &'r str,
    /// Nesting depth.
    pub depth: usize,
    /// The budgets of the configuration.
    pub budget: &'r Budget,
    /// How many instances of this module the configuration creates (see
    /// [`Scope::multiplicity`]).
    pub multiplicity: u64,
}

/// Shared, read-only evaluation context.
pub(crate) struct Evaluator<'a> {
    /// The World.
    pub world: &'a World,
    /// Files for `file()`.
    pub files: &'a FileIndex<'a>,
    /// Every module.
    pub modules: &'a BTreeMap<(usize, String), ModuleSrc>,
}

impl Evaluator<'_> {
    /// Where an argument's value comes from: a plain `var.X` passes the caller's origin through.
    pub fn origin(
        &self,
        expr: &Expression,
        file: FileId,
        value: &Value,
        origins: &HashMap<String, Origin>,
    ) -> Origin {
        if let Some(o) = var_name(expr).and_then(|v| origins.get(v)) {
            return o.clone();
        }
        Origin {
            value: value.clone(),
            text: text_of(&self.world.file(file).text, expr)
                .trim()
                .to_string(),
            location: location_of(file, expr),
        }
    }

    /// Evaluates one module instance and everything it instantiates.
    pub fn instance(&self, infra: &mut Infra, m: &ModuleSrc, call: Call) {
        let Call {
            mut vars,
            mut origins,
            address,
            tenant,
            location,
            root_dir,
            depth,
            budget,
            multiplicity,
        } = call;
        let empty_vars = HashMap::new();
        let no_locals = Locals::default();
        let module_scope = Scope {
            files: self.files,
            repo: m.repo,
            module_dir: &m.dir,
            root_dir,
            vars: &empty_vars,
            locals: &no_locals,
            each: None,
            count_index: None,
            budget,
            file: m.files.first().map_or(FileId(0), |(f, _)| *f),
            multiplicity,
        };
        let mut local_exprs = HashMap::new();
        for (file, body) in &m.files {
            let constants = module_scope.in_file(*file);
            for block in body.get_blocks("variable") {
                let Some(name) = label(block, 0) else {
                    continue;
                };
                // The declared type converts what the caller gives, and the default.
                let ty = block.body.get_attribute("type").map(|a| &a.value);
                let typed = |v: Value| match ty {
                    Some(t) => types::conform(&constants, v, t, 0),
                    None => v,
                };
                if let Some(given) = vars.remove(name) {
                    vars.insert(name.to_string(), typed(given));
                    continue;
                }
                if let Some(attr) = block.body.get_attribute("default") {
                    let value = typed(constants.eval(&attr.value));
                    origins.insert(
                        name.to_string(),
                        self.origin(&attr.value, *file, &value, &HashMap::new()),
                    );
                    vars.insert(name.to_string(), value);
                }
            }
            for block in body.get_blocks("locals") {
                for attr in block.body.attributes() {
                    local_exprs.insert(attr.key.value().as_str(), (*file, &attr.value));
                }
            }
        }
        for (name, value) in &vars {
            if let (true, Some(s)) = (name.contains("account_id"), value.as_str()) {
                if is_account(s) {
                    if let Some(o) = origins.get(name) {
                        infra
                            .accounts
                            .entry(s.to_string())
                            .or_insert_with(|| o.location.clone());
                    }
                }
            }
        }
        let tenant = vars
            .get("tenant_id")
            .and_then(|v| v.as_str().map(str::to_string))
            .or(tenant);
        let index = infra.instances.len();
        infra.instances.push(Instance {
            address: address.clone(),
            dir: m.dir.clone(),
            repo: m.repo,
            tenant: tenant.clone(),
            location,
        });
        let locals = Locals::new(local_exprs);
        let instance_scope = Scope {
            vars: &vars,
            locals: &locals,
            ..module_scope
        };
        let mut role_names: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for (file, body) in &m.files {
            let text = &self.world.file(*file).text;
            let scope = instance_scope.in_file(*file);
            for block in body.blocks() {
                match (
                    block.ident.value().as_str(),
                    label(block, 0),
                    label(block, 1),
                ) {
                    ("provider", Some("aws"), _) => {
                        if let Some(attr) = block.body.get_attribute("allowed_account_ids") {
                            if let Value::List(ids) = scope.eval(&attr.value) {
                                for id in ids
                                    .iter()
                                    .filter_map(Value::as_str)
                                    .filter(|s| is_account(s))
                                {
                                    infra
                                        .accounts
                                        .entry(id.to_string())
                                        .or_insert_with(|| location_of(*file, &attr.value));
                                }
                            }
                        }
                    }
                    ("module", Some(name), _) => {
                        let ctx = BlockCtx {
                            scope: &scope,
                            block,
                            file: *file,
                            text,
                            origins: &origins,
                            instance: index,
                        };
                        let names = self.module_call(
                            infra,
                            &ctx,
                            m,
                            name,
                            &address,
                            tenant.as_deref(),
                            root_dir,
                            depth,
                        );
                        role_names.insert(format!("module.{name}"), names);
                    }
                    ("resource", Some(kind), _) if deploys_to_kubernetes(kind) => {
                        kubernetes_namespaces(infra, &scope, block, kind);
                    }
                    ("resource", Some("aws_iam_role"), Some(name)) => {
                        let ctx = BlockCtx {
                            scope: &scope,
                            block,
                            file: *file,
                            text,
                            origins: &origins,
                            instance: index,
                        };
                        let names = self.iam_roles(infra, &ctx, m);
                        role_names.insert(format!("aws_iam_role.{name}"), names);
                    }
                    _ => {}
                }
            }
        }
        for (file, body) in &m.files {
            let text = &self.world.file(*file).text;
            let scope = instance_scope.in_file(*file);
            for block in body.blocks() {
                if block.ident.value().as_str() == "resource"
                    && label(block, 0) == Some("aws_eks_pod_identity_association")
                {
                    let ctx = BlockCtx {
                        scope: &scope,
                        block,
                        file: *file,
                        text,
                        origins: &origins,
                        instance: index,
                    };
                    irsa::pod_identities(infra, &ctx, &role_names);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn module_call(
        &self,
        infra: &mut Infra,
        ctx: &BlockCtx,
        m: &ModuleSrc,
        name: &str,
        address: &str,
        tenant: Option<&str>,
        root_dir: &str,
        depth: usize,
    ) -> Vec<Option<String>> {
        let mut names = Vec::new();
        let block = ctx.block;
        let Some(source) = block
            .body
            .get_attribute("source")
            .and_then(|a| a.value.as_str())
        else {
            return names;
        };
        let irsa_module = irsa::is_irsa_module(source);
        if !is_local(source) && !irsa_module {
            self.opaque_module(infra, ctx, name, source);
            return names;
        }
        let instances = match expand(ctx.scope, block, ctx.file, ctx.text).instances() {
            Ok(list) => list,
            Err((location, text)) => {
                infra.incomplete.push((
                    location,
                    format!("the instances of `module.{name}` depend on `{text}`, which is not known before apply"),
                ));
                return names;
            }
        };
        if instances.is_empty() && irsa_module {
            let probe = ctx.scope.with_instance(None, Some(0.0));
            let probe_ctx = BlockCtx {
                scope: &probe,
                ..*ctx
            };
            let role = irsa::module_role(&probe_ctx, source, self);
            infra.skipped.push(skipped(ctx, role.name));
        }
        let count_of_instances = instances.len() as u64;
        for (suffix, each, count) in instances {
            let scope = ctx.scope.with_instance(each.clone(), count);
            let inner = BlockCtx {
                scope: &scope,
                ..*ctx
            };
            if irsa_module {
                let role = irsa::module_role(&inner, source, self);
                // `create_role` (v5) / `create` (v6) switch the role off like a `count` of 0;
                // a role that may not exist must not be checked either way.
                match irsa::module_creates(&inner) {
                    (Some(true), _) => {}
                    (Some(false), switch) => {
                        infra.skipped.push(skipped_by(&inner, role.name, switch));
                        continue;
                    }
                    (None, switch) => {
                        infra.incomplete.push((
                            location_of(ctx.file, &block.ident),
                            format!("whether `module.{name}` creates its role depends on `{switch}`, which is not known before apply"),
                        ));
                        continue;
                    }
                }
                record_role(infra, role, &mut names);
                continue;
            }
            if depth >= MAX_NESTING || infra.instances.len() >= MAX_INSTANCES {
                infra.incomplete.push((
                    location_of(ctx.file, &block.ident),
                    format!(
                        "`module.{name}` nests too deep or creates too many instances to follow"
                    ),
                ));
                return names;
            }
            let Some(child) = join(&m.dir, source).and_then(|d| self.modules.get(&(m.repo, d)))
            else {
                continue;
            };
            if child.dir == m.dir {
                continue; // a module calling itself: Terraform refuses the cycle
            }
            let mut vars = HashMap::new();
            let mut origins = HashMap::new();
            for attr in block.body.attributes() {
                let key = attr.key.value().as_str();
                if META_ARGS.contains(&key) {
                    continue;
                }
                let value = scope.eval(&attr.value);
                origins.insert(
                    key.to_string(),
                    self.origin(&attr.value, ctx.file, &value, ctx.origins),
                );
                vars.insert(key.to_string(), value);
            }
            let child_address = if depth == 0 {
                format!("module.{name}{suffix}")
            } else {
                format!("{address}.module.{name}{suffix}")
            };
            let child_tenant = each
                .as_ref()
                .and_then(|(k, _)| k.as_str().map(str::to_string))
                .or_else(|| tenant.map(str::to_string));
            self.instance(
                infra,
                child,
                Call {
                    vars,
                    origins,
                    address: child_address,
                    tenant: child_tenant,
                    location: location_of(ctx.file, &block.ident),
                    root_dir,
                    depth: depth + 1,
                    budget: ctx.scope.budget,
                    multiplicity: ctx.scope.multiplicity.saturating_mul(count_of_instances),
                },
            );
        }
        names
    }

    fn iam_roles(&self, infra: &mut Infra, ctx: &BlockCtx, m: &ModuleSrc) -> Vec<Option<String>> {
        let mut names = Vec::new();
        let instances = match expand(ctx.scope, ctx.block, ctx.file, ctx.text).instances() {
            Ok(list) => list,
            Err((location, text)) => {
                infra.incomplete.push((
                    location,
                    format!("the instances of this `aws_iam_role` depend on `{text}`, which is not known before apply"),
                ));
                return names;
            }
        };
        if instances.is_empty() {
            let probe = ctx.scope.with_instance(None, Some(0.0));
            let probe_ctx = BlockCtx {
                scope: &probe,
                ..*ctx
            };
            if let Some(role) = irsa::iam_role(&probe_ctx, m, self) {
                infra.skipped.push(skipped(ctx, role.name));
            }
        }
        for (_, each, count) in instances {
            let scope = ctx.scope.with_instance(each, count);
            let inner = BlockCtx {
                scope: &scope,
                ..*ctx
            };
            let role = irsa::iam_role(&inner, m, self);
            if role.is_none() {
                // Not a role for ServiceAccounts, but it exists: a ServiceAccount naming it has
                // a trust problem, not a missing role.
                if let Some(Value::String(n)) = ["name", "name_prefix"]
                    .into_iter()
                    .find_map(|k| ctx.block.body.get_attribute(k))
                    .map(|a| scope.eval(&a.value))
                {
                    infra.other_role_names.insert(n);
                }
            }
            if let Some(role) = role {
                record_role(infra, role, &mut names);
            }
        }
        names
    }
}

/// Resources through which Terraform puts objects (and ServiceAccounts) into the cluster.
fn deploys_to_kubernetes(kind: &str) -> bool {
    matches!(
        kind,
        "helm_release"
            | "kubernetes_service_account"
            | "kubernetes_service_account_v1"
            | "kubernetes_manifest"
            | "kubectl_manifest"
    )
}

/// Notes the namespace a Kubernetes-deploying resource writes to (`helm_release.namespace`,
/// default `default`; `metadata { namespace }`); anything else means "any namespace".
fn kubernetes_namespaces(infra: &mut Infra, scope: &Scope, block: &Block, kind: &str) {
    let expr = match kind {
        "helm_release" => block.body.get_attribute("namespace").map(|a| &a.value),
        "kubernetes_service_account" | "kubernetes_service_account_v1" => block
            .body
            .get_blocks("metadata")
            .next()
            .and_then(|m| m.body.get_attribute("namespace"))
            .map(|a| &a.value),
        _ => {
            infra.terraform_deploys_anywhere = true;
            return;
        }
    };
    // Evaluated without the block's own each/count: per-instance namespaces are unknown.
    match expr.map(|e| scope.eval(e)) {
        None => {
            infra.terraform_namespaces.insert("default".to_string());
        }
        Some(Value::String(ns)) => {
            infra.terraform_namespaces.insert(ns);
        }
        Some(_) => infra.terraform_deploys_anywhere = true,
    }
}

/// Sources of registry modules that may create IAM roles (besides the IRSA submodule we model).
const ROLE_MODULE_HINTS: &[&str] = &["iam", "role", "irsa", "identity", "karpenter", "addon"];

impl Evaluator<'_> {
    /// A module we do not evaluate (registry, git): every string it is given may be the name of
    /// a role it creates, so a ServiceAccount naming one is not "missing". When it looks like a
    /// role module and its instances or a `*name*` argument are unknown, the model is incomplete.
    fn opaque_module(&self, infra: &mut Infra, ctx: &BlockCtx, name: &str, source: &str) {
        let role_like = ROLE_MODULE_HINTS.iter().any(|h| source.contains(h));
        let instances = match expand(ctx.scope, ctx.block, ctx.file, ctx.text).instances() {
            Ok(list) => list,
            Err((location, text)) => {
                if role_like {
                    infra.incomplete.push((
                        location,
                        format!("the instances of `module.{name}` ({source}) depend on `{text}`, which is not known before apply"),
                    ));
                }
                return;
            }
        };
        for (_, each, count) in instances {
            let scope = ctx.scope.with_instance(each, count);
            for attr in ctx.block.body.attributes() {
                let key = attr.key.value().as_str();
                if META_ARGS.contains(&key) {
                    continue;
                }
                let value = scope.eval(&attr.value);
                if role_like && key.contains("name") && value.has_unknown() {
                    infra.incomplete.push((
                        location_of(ctx.file, &attr.value),
                        format!("`{key}` of `module.{name}` ({source}) is not known before apply"),
                    ));
                }
                collect_strings(&value, &mut infra.other_role_names, 0);
            }
        }
    }
}

/// Every known string inside a value that could be a role name (no spaces, at most 64 bytes).
fn collect_strings(value: &Value, out: &mut std::collections::BTreeSet<String>, depth: usize) {
    match value {
        Value::String(s) if !s.is_empty() && s.len() <= 64 && !s.contains(char::is_whitespace) => {
            out.insert(s.clone());
        }
        Value::List(items) if depth < 8 => {
            items
                .iter()
                .for_each(|v| collect_strings(v, out, depth + 1));
        }
        Value::Map(m) if depth < 8 => m.values().for_each(|v| collect_strings(v, out, depth + 1)),
        _ => {}
    }
}

/// A block being evaluated in one instance.
#[derive(Clone, Copy)]
pub struct BlockCtx<'c> {
    /// The scope (with `each` / `count` set).
    pub scope: &'c Scope<'c>,
    /// The block.
    pub block: &'c Block,
    /// Its file.
    pub file: FileId,
    /// The file's text.
    pub text: &'c str,
    /// Where the instance's variables are set.
    pub origins: &'c HashMap<String, Origin>,
    /// Index of the instance in [`Infra::instances`].
    pub instance: usize,
}

fn skipped(ctx: &BlockCtx, name: Option<String>) -> SkippedRole {
    let switch = ["count", "for_each"]
        .into_iter()
        .find(|k| ctx.block.body.get_attribute(k).is_some())
        .unwrap_or("count");
    skipped_by(ctx, name, switch)
}

/// A role switched off by the block's `switch` argument (`count`, `for_each`, `create_role`).
fn skipped_by(ctx: &BlockCtx, name: Option<String>, switch: &str) -> SkippedRole {
    let count = ctx.block.body.get_attribute(switch);
    let cause = count
        .and_then(|a| first_var(&a.value))
        .and_then(|v| ctx.origins.get(v).map(|o| (v.to_string(), o.clone())));
    SkippedRole {
        name,
        instance: ctx.instance,
        count_location: count.map_or(location_of(ctx.file, &ctx.block.ident), |a| {
            location_of(ctx.file, a)
        }),
        cause,
        switch: switch.to_string(),
    }
}

/// Whether a string is an AWS account id (12 digits).
pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Records a role Terraform creates, and its name among the names this instance creates. A name
/// known only at apply makes the model incomplete: a ServiceAccount may well name this role.
fn record_role(
    infra: &mut Infra,
    role: gitops_lint_model::infra::Role,
    names: &mut Vec<Option<String>>,
) {
    if role.name.is_none() && !role.prefixed {
        infra.incomplete.push((
            role.location.clone(),
            "this role's name is not known before apply".to_string(),
        ));
    }
    names.push(role.name.clone());
    irsa::record(infra, role);
}
