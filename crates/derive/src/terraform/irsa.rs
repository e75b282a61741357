//! Roles and their trust, from the three ways tenant modules write them: the
//! `terraform-aws-modules/iam` IRSA submodule (v5 `iam-role-for-service-accounts-eks`, v6
//! `iam-role-for-service-accounts`), a plain `aws_iam_role` whose `assume_role_policy` is
//! `jsonencode(...)`, heredoc JSON or an `aws_iam_policy_document`, and
//! `aws_eks_pod_identity_association`. Upstream: `terraform-aws-modules/terraform-aws-iam`
//! `modules/iam-role-for-service-accounts-eks/main.tf` (v5) and
//! `modules/iam-role-for-service-accounts/main.tf` (v6) build the trust policy;
//! `hashicorp/terraform-provider-aws` `website/docs/r/eks_pod_identity_association.html.markdown`;
//! Amazon EKS User Guide, "Assign IAM roles to Kubernetes service accounts" and "Create IAM role
//! with trust policy required by EKS Pod Identity".

use super::modules::{is_account, location_of, var_name, BlockCtx, Evaluator, ModuleSrc};
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::{FileId, Span};
use gitops_lint_model::infra::value::Value;
use gitops_lint_model::infra::{Infra, Origin, PodIdentity, Role, RoleKind, Subject};
use hcl::edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::edit::structure::Block;
use hcl::edit::Span as _;
use serde_json::Value as Json;
use std::collections::HashMap;

/// The Pod Identity service principal.
pub(crate) const POD_IDENTITY_PRINCIPAL: &str = "pods.eks.amazonaws.com";

/// Whether a module source is the IRSA submodule (either major version).
pub(crate) fn is_irsa_module(source: &str) -> bool {
    source.contains("iam-role-for-service-accounts")
}

/// The major version a `version` constraint pins (`~> 5.30` -> 5).
fn major(constraint: &str) -> Option<u32> {
    let digits: String = constraint
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Finds the expression of `key` inside an object literal (at any depth, through lists and calls).
pub(crate) fn find_key<'e>(
    expr: &'e Expression,
    key: &str,
    depth: usize,
) -> Option<&'e Expression> {
    if depth > 12 {
        return None;
    }
    match expr {
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                let name = match k {
                    ObjectKey::Ident(i) => Some(i.value().as_str()),
                    ObjectKey::Expression(Expression::String(s)) => Some(s.value().as_str()),
                    _ => None,
                };
                if name == Some(key) {
                    return Some(v.expr());
                }
            }
            obj.iter()
                .find_map(|(_, v)| find_key(v.expr(), key, depth + 1))
        }
        Expression::Array(items) => items.iter().find_map(|e| find_key(e, key, depth + 1)),
        Expression::FuncCall(f) => f.args.iter().find_map(|e| find_key(e, key, depth + 1)),
        Expression::Parenthesis(p) => find_key(p.inner(), key, depth + 1),
        _ => None,
    }
}

fn attr<'b>(block: &'b Block, name: &str) -> Option<&'b Expression> {
    block.body.get_attribute(name).map(|a| &a.value)
}

/// What a trust's subject values admit (`subjects`), and those that name no ServiceAccount, as
/// written (`malformed`: they trust nothing, and are kept to tell what was meant).
#[derive(Default)]
struct Subjects {
    subjects: Vec<Subject>,
    malformed: Vec<String>,
}

impl Subjects {
    /// One value of a `:sub` condition, compared with `StringEquals` when `exact`. `module`:
    /// an entry of the IRSA module's `namespace_service_accounts`, which it prefixes with
    /// `system:serviceaccount:` itself (so `"system:serviceaccount:ns:sa"` there trusts nothing
    /// real).
    fn add(&mut self, value: &str, exact: bool, module: bool) {
        let full = if module {
            format!("system:serviceaccount:{value}")
        } else {
            value.to_string()
        };
        match Subject::parse_condition(&full, exact) {
            Some(subject) => self.subjects.push(subject),
            None => self.malformed.push(value.to_string()),
        }
    }
}

/// Adds what a `:sub` condition's values admit; false when a value is unknown. `module`: the
/// values are the IRSA module's `namespace_service_accounts` (see [`Subjects::add`]).
fn subjects_of(list: &Value, out: &mut Subjects, exact: bool, module: bool) -> bool {
    match list {
        Value::List(items) => items.iter().all(|i| match i.as_str() {
            Some(s) => {
                out.add(s, exact, module);
                true
            }
            None => false,
        }),
        Value::String(s) => {
            out.add(s, exact, module);
            true
        }
        _ => false,
    }
}

/// Whether a chosen provider's ARN is a known value that is not an ARN.
fn provider_bad(p: Option<&(String, Value)>) -> bool {
    matches!(p, Some((_, Value::String(s))) if !s.starts_with("arn:"))
}

/// Whether the IRSA module creates its role in one instance: `create_role` (v5) or `create`
/// (v6), both defaulting to true; `None` when unknown. Also returns the argument's name.
pub(crate) fn module_creates(ctx: &BlockCtx) -> (Option<bool>, &'static str) {
    for key in ["create_role", "create"] {
        if let Some(e) = attr(ctx.block, key) {
            return (ctx.scope.eval(e).to_bool(), key);
        }
    }
    (Some(true), "create_role")
}

/// The role the IRSA module creates in one instance.
pub(crate) fn module_role(ctx: &BlockCtx, source: &str, ev: &Evaluator) -> Role {
    let scope = ctx.scope;
    let block = ctx.block;
    let version = attr(block, "version")
        .and_then(|e| e.as_str())
        .and_then(major);
    let v6 = source
        .trim_end_matches('/')
        .ends_with("iam-role-for-service-accounts")
        || version.is_some_and(|v| v >= 6)
        || (attr(block, "name").is_some() && attr(block, "role_name").is_none());
    let str_of = |name: &str| attr(block, name).map(|e| scope.eval(e));
    let (name_expr, name, prefixed) = if v6 {
        // `use_name_prefix` defaults to true; when it is unknown, so is the name (it is either
        // `name` or `name-<random>`), rather than assuming a prefix and reporting on it.
        match str_of("use_name_prefix").map_or(Some(true), |v| v.to_bool()) {
            Some(prefix) => (
                attr(block, "name"),
                str_of("name").and_then(|v| v.as_str().map(str::to_string)),
                prefix,
            ),
            None => (attr(block, "name"), None, false),
        }
    } else if let Some(e) = attr(block, "role_name") {
        (Some(e), scope.eval(e).as_str().map(str::to_string), false)
    } else {
        let e = attr(block, "role_name_prefix");
        (
            e,
            e.and_then(|e| scope.eval(e).as_str().map(str::to_string)),
            true,
        )
    };
    let path = str_of(if v6 { "path" } else { "role_path" })
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    let providers_expr = attr(block, "oidc_providers");
    let mut subjects = Subjects::default();
    // v6 merges `source_trust_policy_documents` / `override_trust_policy_documents` into the
    // trust: statements we cannot see may admit more (or other) ServiceAccounts.
    let extra_docs = [
        "source_trust_policy_documents",
        "override_trust_policy_documents",
    ]
    .into_iter()
    .filter_map(&str_of)
    .any(|v| v != Value::List(Vec::new()));
    let mut known = providers_expr.is_some() && !extra_docs;
    // `assume_role_condition_test` (v5) / `trust_condition_test` (v6), default `StringEquals`:
    // with it, `*` in `namespace_service_accounts` is a plain character. Unknown: read leniently.
    let test = str_of(if v6 {
        "trust_condition_test"
    } else {
        "assume_role_condition_test"
    })
    .unwrap_or_else(|| Value::String("StringEquals".to_string()));
    let exact = match test.as_str() {
        Some("StringEquals") => true,
        Some("StringLike") => false,
        Some(_) => {
            known = false; // StringNotEquals, ...: not modelled
            false
        }
        None => false,
    };
    // With several providers (clusters), report on the first whose ARN is wrong, if any.
    let mut provider: Option<(String, Value)> = None;
    if let Some(e) = providers_expr {
        match scope.eval(e) {
            Value::Map(providers) => {
                for (key, p) in &providers {
                    let Value::Map(p) = p else {
                        known = false;
                        continue;
                    };
                    if let Some(arn) = p.get("provider_arn") {
                        let bad = !matches!(arn, Value::String(s) if s.starts_with("arn:"));
                        if provider.is_none() || (bad && !provider_bad(provider.as_ref())) {
                            provider = Some((key.clone(), arn.clone()));
                        }
                    }
                    match p.get("namespace_service_accounts") {
                        Some(list) => known &= subjects_of(list, &mut subjects, exact, true),
                        None => known = false,
                    }
                }
            }
            _ => known = false,
        }
    }
    let provider_value = provider.as_ref().map_or(Value::Unknown, |(_, v)| v.clone());
    let provider_arn = providers_expr.map(|e| {
        // The entry's own `provider_arn` when the map is written out; else the first one.
        let entry = provider
            .as_ref()
            .and_then(|(k, _)| find_key(e, k, 0))
            .and_then(|entry| find_key(entry, "provider_arn", 0));
        match entry.or_else(|| find_key(e, "provider_arn", 0)) {
            Some(p) => ev.origin(p, ctx.file, &provider_value, ctx.origins),
            None => Origin {
                value: provider_value.clone(),
                text: String::new(),
                location: location_of(ctx.file, e),
            },
        }
    });
    let trust_location = providers_expr
        .map(|e| find_key(e, "namespace_service_accounts", 0).unwrap_or(e))
        .map_or_else(
            || location_of(ctx.file, &block.ident),
            |e| written_at(ctx, e),
        );
    Role {
        name,
        prefixed,
        path,
        kind: if v6 {
            RoleKind::IrsaModuleV6
        } else {
            RoleKind::IrsaModuleV5
        },
        subjects: known.then_some(subjects.subjects),
        malformed: subjects.malformed,
        pod_identity: false,
        provider_arn,
        instance: ctx.instance,
        location: name_expr.map_or_else(
            || location_of(ctx.file, &block.ident),
            |e| location_of(ctx.file, e),
        ),
        trust_location,
    }
}

/// What a trust policy admits.
#[derive(Default)]
struct Trust {
    subjects: Subjects,
    known: bool,
    pod_identity: bool,
    federated: Option<Value>,
    /// Where its `:sub` values are written, when read from an `aws_iam_policy_document`.
    sub_places: SubPlaces,
}

/// Where a trust policy's `:sub` condition values are written. Why: when what the trust admits
/// is wrong, that value is the line to change, not the `assume_role_policy = jsonencode({` line
/// that opens a dozen lines of policy.
#[derive(Default)]
struct SubPlaces {
    places: Vec<Location>,
    /// A `:sub` condition may hide where it cannot be seen (a `dynamic` block, a merged
    /// document, a condition key that is not literal).
    unsure: bool,
}

impl SubPlaces {
    /// The one place, when the policy has exactly one `:sub` condition and nothing hidden.
    /// With several, which one a finding is about is the rules' business: the whole policy
    /// stands for them.
    fn one(self) -> Option<Location> {
        match <[Location; 1]>::try_from(self.places) {
            Ok([place]) if !self.unsure => Some(place),
            _ => None,
        }
    }
}

/// The values of every `:sub` condition written in an HCL object literal, the argument of
/// `jsonencode({...})` (at any depth, through lists and parentheses).
fn hcl_sub_places(ctx: &BlockCtx, expr: &Expression, depth: usize, out: &mut SubPlaces) {
    if depth > 12 {
        out.unsure = true;
        return;
    }
    match expr {
        Expression::Object(obj) => {
            for (key, value) in obj.iter() {
                let name = match key {
                    ObjectKey::Ident(i) => Some(i.value().as_str()),
                    ObjectKey::Expression(k) => trailing_literal(k),
                };
                match name {
                    Some(name) if name.ends_with(":sub") => {
                        out.places.push(written_at(ctx, value.expr()))
                    }
                    Some(_) => hcl_sub_places(ctx, value.expr(), depth + 1, out),
                    // `(local.sub_key) = ...`: it may be the `:sub` condition.
                    None => out.unsure = true,
                }
            }
        }
        Expression::Array(items) => {
            for item in items.iter() {
                hcl_sub_places(ctx, item, depth + 1, out);
            }
        }
        Expression::Parenthesis(p) => hcl_sub_places(ctx, p.inner(), depth + 1, out),
        _ => {}
    }
}

/// Where the value `expr` of `ctx`'s block is written: for `var.NAME`, where the module's
/// caller sets it (the line to change), else the expression itself.
fn written_at(ctx: &BlockCtx, expr: &Expression) -> Location {
    match var_name(expr).and_then(|v| ctx.origins.get(v)) {
        Some(origin) => origin.location.clone(),
        None => location_of(ctx.file, expr),
    }
}

/// The values of every `:sub` condition key in JSON written as text (a heredoc), found in its
/// source: `"<issuer>:sub": "system:serviceaccount:ns:sa"` gives the span of the quoted value,
/// a list (`[`) its first line.
fn text_sub_places(file: FileId, text: &str, offset: usize, out: &mut SubPlaces) {
    for (at, _) in text.match_indices(":sub\"") {
        let after = &text[at + 5..];
        let value = after.trim_start().strip_prefix(':').map(str::trim_start);
        let Some(value) = value else {
            continue; // `:sub"` ending a value, not a key
        };
        let start = offset + text.len() - value.len();
        let len = match value.as_bytes().first() {
            Some(b'"') => value[1..].find('"').map(|n| n + 2),
            Some(b'[') => Some(value.find('\n').unwrap_or(value.len())),
            _ => None,
        };
        match len {
            Some(len) => out.places.push(Location::Span(Span {
                file,
                start,
                end: start + len,
            })),
            None => out.unsure = true,
        }
    }
}

/// Where the `:sub` values of a role's `assume_role_policy` are written, when it is written in
/// place: `jsonencode({...})` or a heredoc. A reference (`local.trust`,
/// `data.aws_iam_policy_document.x.json`) is followed elsewhere, or not at all.
fn policy_sub_places(ctx: &BlockCtx, policy: &Expression) -> SubPlaces {
    let mut out = SubPlaces::default();
    match policy {
        Expression::FuncCall(call)
            if call.name.name.value().as_str() == "jsonencode"
                && call.name.namespace.is_empty() =>
        {
            for arg in call.args.iter() {
                hcl_sub_places(ctx, arg, 0, &mut out);
            }
        }
        Expression::HeredocTemplate(_) | Expression::StringTemplate(_) | Expression::String(_) => {
            match policy.span() {
                Some(r) => {
                    let text = ctx.text.get(r.clone()).unwrap_or("");
                    text_sub_places(ctx.file, text, r.start, &mut out)
                }
                None => out.unsure = true,
            }
        }
        _ => out.unsure = true,
    }
    out
}

fn strings(v: &Json) -> Vec<&str> {
    match v {
        Json::String(s) => vec![s.as_str()],
        Json::Array(a) => a.iter().filter_map(Json::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Reads a JSON trust policy (from `jsonencode` or a heredoc).
fn trust_from_json(policy: &Json) -> Trust {
    let mut trust = Trust {
        known: true,
        ..Trust::default()
    };
    let statements = match policy.get("Statement") {
        Some(Json::Array(a)) => a.iter().collect(),
        Some(one @ Json::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for st in statements {
        if st
            .get("Effect")
            .and_then(Json::as_str)
            .is_some_and(|e| e != "Allow")
        {
            continue;
        }
        let mut federated_here = false;
        if let Some(p) = st.get("Principal") {
            if p.get("Service")
                .is_some_and(|s| strings(s).contains(&POD_IDENTITY_PRINCIPAL))
            {
                trust.pod_identity = true;
            }
            if let Some(f) = p.get("Federated").and_then(|f| strings(f).first().copied()) {
                trust.federated = Some(Value::String(f.to_string()));
                federated_here = true;
            }
        }
        let mut sub_seen = false;
        for (test, cond) in st
            .get("Condition")
            .and_then(Json::as_object)
            .into_iter()
            .flatten()
        {
            for (k, v) in cond.as_object().into_iter().flatten() {
                if !k.ends_with(":sub") {
                    continue;
                }
                sub_seen = true;
                match test.as_str() {
                    "StringEquals" | "StringLike" => {
                        let exact = test == "StringEquals";
                        for s in strings(v) {
                            trust.subjects.add(s, exact, false);
                        }
                    }
                    // StringNotEquals, ForAnyValue:..., IgnoreCase: not modelled.
                    _ => trust.known = false,
                }
            }
        }
        if federated_here && !sub_seen {
            // No `:sub` condition: every ServiceAccount of the cluster may assume the role.
            trust.subjects.subjects.push(Subject::any());
        }
    }
    trust
}

/// The attribute `key` of an object literal.
fn object_get<'e>(obj: &'e hcl::edit::expr::Object, key: &str) -> Option<&'e Expression> {
    obj.iter().find_map(|(k, v)| {
        let name = match k {
            ObjectKey::Ident(i) => Some(i.value().as_str()),
            ObjectKey::Expression(Expression::String(s)) => Some(s.value().as_str()),
            _ => None,
        };
        (name == Some(key)).then(|| v.expr())
    })
}

/// Reads a `jsonencode({...})` trust policy whose values are partly unknown, as most are: the
/// `Federated` principal is a resource's `arn` and the condition keys are
/// `"${<issuer>}:sub"`, so the whole document is unknown, yet its shape is literal and the
/// `:sub` values are plain strings. `None` when anything that decides the answer is not
/// known (the statements come from a variable, an unknown `Effect`, operator or `:sub` value).
fn trust_from_jsonencode(scope: &super::eval::Scope, expr: &Expression) -> Option<Trust> {
    let Expression::FuncCall(call) = expr else {
        return None;
    };
    if call.name.name.value().as_str() != "jsonencode" || !call.name.namespace.is_empty() {
        return None;
    }
    let Some(Expression::Object(policy)) = call.args.iter().next() else {
        return None;
    };
    let statements: Vec<&Expression> = match object_get(policy, "Statement")? {
        Expression::Array(a) => a.iter().collect(),
        one @ Expression::Object(_) => vec![one],
        _ => return None,
    };
    let mut trust = Trust {
        known: true,
        ..Trust::default()
    };
    for st in statements {
        let Expression::Object(st) = st else {
            return None;
        };
        match object_get(st, "Effect").map(|e| scope.eval(e)) {
            None => {}
            Some(Value::String(e)) if e == "Allow" => {}
            Some(Value::String(_)) => continue, // a Deny admits nobody
            Some(_) => return None,
        }
        let mut federated_here = false;
        match object_get(st, "Principal") {
            None => {}
            Some(Expression::Object(p)) => {
                federated_here = object_get(p, "Federated").is_some();
                if let Some(service) = object_get(p, "Service") {
                    match scope.eval(service) {
                        Value::String(s) => trust.pod_identity |= s == POD_IDENTITY_PRINCIPAL,
                        Value::List(l) => {
                            trust.pod_identity |=
                                l.iter().any(|v| v.as_str() == Some(POD_IDENTITY_PRINCIPAL))
                        }
                        _ => return None,
                    }
                }
            }
            Some(_) => return None,
        }
        let mut sub_seen = false;
        if let Some(condition) = object_get(st, "Condition") {
            let Expression::Object(ops) = condition else {
                return None;
            };
            for (op, body) in ops.iter() {
                let op = match op {
                    ObjectKey::Ident(i) => i.value().to_string(),
                    ObjectKey::Expression(e) => scope.eval(e).to_str()?,
                };
                let Expression::Object(body) = body.expr() else {
                    return None;
                };
                for (key, values) in body.iter() {
                    let is_sub = match key {
                        ObjectKey::Ident(i) => i.value().ends_with(":sub"),
                        ObjectKey::Expression(k) => match (scope.eval(k), trailing_literal(k)) {
                            (Value::String(k), _) => k.ends_with(":sub"),
                            (_, Some(tail)) => tail.ends_with(":sub"),
                            (_, None) => return None,
                        },
                    };
                    if !is_sub {
                        continue;
                    }
                    sub_seen = true;
                    let exact = match op.as_str() {
                        "StringEquals" => true,
                        "StringLike" => false,
                        _ => return None,
                    };
                    let values = scope.eval(values.expr());
                    if !subjects_of(&values, &mut trust.subjects, exact, false) {
                        return None;
                    }
                }
            }
        }
        if federated_here && !sub_seen {
            trust.subjects.subjects.push(Subject::any());
        }
    }
    Some(trust)
}

/// The literal text a string (template) ends with, even when its interpolations are unknown
/// (`"${local.issuer}:sub"` -> `:sub`); `None` when it does not end in a literal.
fn trailing_literal(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(s) => Some(s.value().as_str()),
        Expression::StringTemplate(t) => t
            .iter()
            .last()
            .and_then(|e| e.as_literal())
            .map(|l| l.value().as_str()),
        _ => None,
    }
}

/// Reads an `aws_iam_policy_document` data block's statements.
fn trust_from_document(
    ctx: &BlockCtx,
    doc: &Block,
    ev: &Evaluator,
    federated: &mut Option<Origin>,
) -> Trust {
    let scope = ctx.scope;
    let mut trust = Trust {
        known: true,
        ..Trust::default()
    };
    if doc.body.get_blocks("dynamic").next().is_some() {
        trust.known = false;
        trust.sub_places.unsure = true;
    }
    // Merged documents bring statements we do not read here.
    for key in [
        "source_policy_documents",
        "override_policy_documents",
        "source_json",
        "override_json",
    ] {
        if attr(doc, key).is_some_and(|e| scope.eval(e) != Value::List(Vec::new())) {
            trust.known = false;
            trust.sub_places.unsure = true;
        }
    }
    for st in doc.body.get_blocks("statement") {
        if st.body.get_blocks("dynamic").next().is_some() {
            trust.known = false;
            trust.sub_places.unsure = true;
        }
        match attr(st, "effect").map(|e| scope.eval(e)) {
            None => {}
            Some(Value::String(e)) if e == "Allow" => {}
            Some(Value::String(_)) => continue, // a Deny admits nobody
            Some(_) => {
                trust.known = false;
                continue;
            }
        }
        let mut federated_here = false;
        let mut sub_seen = false;
        for p in st.body.get_blocks("principals") {
            let kind = attr(p, "type").map(|e| scope.eval(e));
            let ids_expr = attr(p, "identifiers");
            let ids = ids_expr.map(|e| scope.eval(e));
            match kind.as_ref().and_then(Value::as_str) {
                Some("Service") => {
                    if let Some(Value::List(l)) = &ids {
                        trust.pod_identity |=
                            l.iter().any(|v| v.as_str() == Some(POD_IDENTITY_PRINCIPAL));
                    }
                }
                Some("Federated") => {
                    federated_here = true;
                    if let Some(e) = ids_expr {
                        let (e, value) = match (e, &ids) {
                            (Expression::Array(a), Some(Value::List(l))) if a.len() == 1 => (
                                a.get(0).unwrap_or(e),
                                l.first().cloned().unwrap_or(Value::Unknown),
                            ),
                            _ => (e, Value::Unknown),
                        };
                        *federated = Some(ev.origin(e, ctx.file, &value, ctx.origins));
                    }
                }
                _ => {}
            }
        }
        for c in st.body.get_blocks("condition") {
            let Some(var) = attr(c, "variable") else {
                continue;
            };
            let is_sub = match (scope.eval(var), trailing_literal(var)) {
                (Value::String(v), _) => v.ends_with(":sub"),
                // `"${local.issuer}:sub"` with the issuer unknown: the suffix decides.
                (_, Some(tail)) => tail.ends_with(":sub"),
                // `variable = local.sub_key`: it may be the `:sub` condition.
                (_, None) => {
                    trust.known = false;
                    trust.sub_places.unsure = true;
                    continue;
                }
            };
            if !is_sub {
                continue;
            }
            sub_seen = true;
            match attr(c, "values") {
                Some(values) => trust.sub_places.places.push(written_at(ctx, values)),
                None => trust.sub_places.unsure = true,
            }
            let exact = match attr(c, "test").map(|e| scope.eval(e)) {
                Some(Value::String(t)) if t == "StringEquals" => true,
                Some(Value::String(t)) if t == "StringLike" => false,
                // An unknown test, or one we do not model (StringNotEquals, ForAnyValue:...).
                _ => {
                    trust.known = false;
                    continue;
                }
            };
            match attr(c, "values").map(|e| scope.eval(e)) {
                Some(v) => trust.known &= subjects_of(&v, &mut trust.subjects, exact, false),
                None => trust.known = false,
            }
        }
        if federated_here && !sub_seen {
            // No `:sub` condition: every ServiceAccount of the cluster may assume the role.
            trust.subjects.subjects.push(Subject::any());
        }
    }
    trust
}

/// The scope of the policy-document instance a role's `assume_role_policy` names. `each` and
/// `count` inside the document are the document's own (its `for_each` / `count`), picked by the
/// reference's index (`data.aws_iam_policy_document.trust[each.key].json`), never the role's;
/// `None` when that instance cannot be known.
fn document_instance<'s>(
    ctx: &BlockCtx<'s>,
    reference: &Expression,
    doc: &Block,
    file: gitops_lint_core::source::FileId,
    text: &str,
) -> Option<super::eval::Scope<'s>> {
    use super::modules::{expand, Expansion};
    let base = ctx.scope.with_instance(None, None);
    let list = match expand(&base, doc, file, text) {
        Expansion::One => return Some(base),
        Expansion::Many(list) => list,
        Expansion::Unknown(..) => return None,
    };
    let Expression::Traversal(t) = reference else {
        return None;
    };
    // The first index after `data.aws_iam_policy_document.NAME`.
    let key = t.operators.iter().find_map(|o| match o.value() {
        TraversalOperator::Index(i) => Some(ctx.scope.eval(i)),
        TraversalOperator::LegacyIndex(n) => Some(Value::Number(*n.value() as f64)),
        _ => None,
    })?;
    if key.has_unknown() {
        return None;
    }
    let (_, each, count) = list
        .into_iter()
        .find(|(_, each, count)| match (each, count) {
            (Some((k, _)), _) => k.to_str().is_some() && k.to_str() == key.to_str(),
            (None, Some(c)) => key.to_number() == Some(*c),
            _ => false,
        })?;
    Some(base.with_instance(each, count))
}

/// `data.aws_iam_policy_document.NAME.json` -> `NAME`.
fn policy_document_ref(expr: &Expression) -> Option<&str> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    if root.value().as_str() != "data" {
        return None;
    }
    let names: Vec<&str> = t
        .operators
        .iter()
        .filter_map(|o| match o.value() {
            TraversalOperator::GetAttr(a) => Some(a.value().as_str()),
            _ => None,
        })
        .collect();
    match names.as_slice() {
        ["aws_iam_policy_document", name, "json", ..] => Some(name),
        _ => None,
    }
}

/// The role an `aws_iam_role` block creates in one instance.
pub(crate) fn iam_role(ctx: &BlockCtx, m: &ModuleSrc, ev: &Evaluator) -> Option<Role> {
    let scope = ctx.scope;
    let block = ctx.block;
    let (name_expr, prefixed) = match (attr(block, "name"), attr(block, "name_prefix")) {
        (Some(e), _) => (Some(e), false),
        (None, Some(e)) => (Some(e), true),
        (None, None) => (None, true),
    };
    let name = name_expr.and_then(|e| scope.eval(e).as_str().map(str::to_string));
    let path = attr(block, "path")
        .and_then(|e| scope.eval(e).as_str().map(str::to_string))
        .unwrap_or_else(|| "/".to_string());
    let policy_expr = attr(block, "assume_role_policy");
    let mut federated: Option<Origin> = None;
    let document = policy_expr.and_then(policy_document_ref);
    let mut trust = match policy_expr {
        Some(e) => match (scope.eval(e), document) {
            (Value::String(s), _) => match serde_json::from_str::<Json>(&s) {
                Ok(json) => {
                    let t = trust_from_json(&json);
                    if let Some(v) = &t.federated {
                        federated = Some(match find_key(e, "Federated", 0) {
                            Some(fe) => ev.origin(fe, ctx.file, v, ctx.origins),
                            None => Origin {
                                value: v.clone(),
                                text: String::new(),
                                location: location_of(ctx.file, e),
                            },
                        });
                    }
                    t
                }
                Err(_) => Trust::default(),
            },
            (_, Some(doc_name)) => {
                let doc = m.files.iter().find_map(|(f, body)| {
                    body.get_blocks("data")
                        .find(|b| {
                            b.labels.first().map(|l| l.as_str()) == Some("aws_iam_policy_document")
                                && b.labels.get(1).map(|l| l.as_str()) == Some(doc_name)
                        })
                        .map(|b| (*f, b))
                });
                let text = doc.map_or("", |(f, _)| ev.world.file(f).text.as_str());
                match doc
                    .and_then(|(f, b)| document_instance(ctx, e, b, f, text).map(|s| (f, b, s)))
                {
                    Some((f, b, doc_scope)) => {
                        let doc_ctx = BlockCtx {
                            scope: &doc_scope,
                            block: b,
                            file: f,
                            text,
                            ..*ctx
                        };
                        trust_from_document(&doc_ctx, b, ev, &mut federated)
                    }
                    None => Trust::default(),
                }
            }
            (_, None) => {
                // A jsonencode() with unknown parts still shows its Federated principal.
                if let Some(fe) = find_key(e, "Federated", 0) {
                    let v = scope.eval(fe);
                    federated = Some(ev.origin(fe, ctx.file, &v, ctx.origins));
                }
                trust_from_jsonencode(scope, e).unwrap_or_default()
            }
        },
        None => return None,
    };
    let policy_at = || {
        policy_expr.map_or_else(
            || location_of(ctx.file, &block.ident),
            |e| location_of(ctx.file, e),
        )
    };
    // A document's places were found while reading it; a policy written in place is read here.
    let sub_places = match (policy_expr, document) {
        (Some(e), None) => policy_sub_places(ctx, e),
        _ => std::mem::take(&mut trust.sub_places),
    };
    let is_irsa = trust.federated.is_some()
        || federated.is_some()
        || !trust.subjects.subjects.is_empty()
        || !trust.subjects.malformed.is_empty();
    if !is_irsa && !trust.pod_identity && trust.known {
        return None; // a role for an AWS service or another account: not ours to check
    }
    Some(Role {
        name,
        prefixed,
        path,
        kind: RoleKind::IamRole,
        subjects: trust.known.then_some(trust.subjects.subjects),
        malformed: trust.subjects.malformed,
        pod_identity: trust.pod_identity,
        provider_arn: federated,
        instance: ctx.instance,
        location: name_expr.map_or_else(
            || location_of(ctx.file, &block.ident),
            |e| location_of(ctx.file, e),
        ),
        trust_location: sub_places.one().unwrap_or_else(policy_at),
    })
}

/// The role name in a role ARN (`arn:aws:iam::1:role/path/name` -> `name`).
pub fn role_name_of_arn(arn: &str) -> Option<&str> {
    arn.split_once(":role/")
        .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(rest))
}

/// `aws_iam_role.X.arn` / `module.X.iam_role_arn` -> `aws_iam_role.X` / `module.X`.
fn role_reference(expr: &Expression) -> Option<String> {
    let Expression::Traversal(t) = expr else {
        return None;
    };
    let Expression::Variable(root) = &t.expr else {
        return None;
    };
    let root = root.value().as_str();
    let first = t.operators.iter().find_map(|o| match o.value() {
        TraversalOperator::GetAttr(a) => Some(a.value().as_str()),
        _ => None,
    })?;
    match root {
        "aws_iam_role" | "module" => Some(format!("{root}.{first}")),
        _ => None,
    }
}

/// The Pod Identity associations a block creates in one instance.
pub fn pod_identities(
    infra: &mut Infra,
    ctx: &BlockCtx,
    roles: &HashMap<String, Vec<Option<String>>>,
) {
    let instances =
        match super::modules::expand(ctx.scope, ctx.block, ctx.file, ctx.text).instances() {
            Ok(list) => list,
            Err((location, text)) => {
                infra.incomplete.push((
                    location,
                    format!("Pod Identity associations depend on `{text}`"),
                ));
                return;
            }
        };
    for (_, each, count) in instances {
        let scope = ctx.scope.with_instance(each, count);
        let get =
            |n: &str| attr(ctx.block, n).and_then(|e| scope.eval(e).as_str().map(str::to_string));
        let role_expr = attr(ctx.block, "role_arn");
        let role_name = role_expr.and_then(|e| match scope.eval(e) {
            Value::String(arn) => role_name_of_arn(&arn).map(str::to_string),
            _ => role_reference(e)
                .and_then(|r| roles.get(&r))
                .filter(|names| names.len() == 1)
                .and_then(|names| names[0].clone()),
        });
        if let Some(Value::String(arn)) = role_expr.map(|e| scope.eval(e)) {
            record_account(infra, &arn, role_expr.map(|e| location_of(ctx.file, e)));
        }
        infra.pod_identities.push(PodIdentity {
            namespace: get("namespace"),
            service_account: get("service_account"),
            role_name,
            instance: ctx.instance,
            namespace_location: attr(ctx.block, "namespace").map_or_else(
                || location_of(ctx.file, &ctx.block.ident),
                |e| location_of(ctx.file, e),
            ),
            location: attr(ctx.block, "service_account").map_or_else(
                || location_of(ctx.file, &ctx.block.ident),
                |e| location_of(ctx.file, e),
            ),
            role_location: role_expr.map_or_else(
                || location_of(ctx.file, &ctx.block.ident),
                |e| location_of(ctx.file, e),
            ),
        });
    }
}

/// Notes the account of a known ARN.
fn record_account(infra: &mut Infra, arn: &str, location: Option<Location>) {
    let Some(account) = arn.split(':').nth(4) else {
        return;
    };
    if let (true, Some(location)) = (is_account(account), location) {
        infra
            .accounts
            .entry(account.to_string())
            .or_insert(location);
    }
}

/// Adds a role to the model (and the account its provider ARN names).
pub fn record(infra: &mut Infra, mut role: Role) {
    // Why: a trust's subjects are gathered one by one (room for four at the first) and most
    // trusts name one; the role is kept for the whole run.
    if let Some(subjects) = &mut role.subjects {
        subjects.shrink_to_fit();
    }
    if let Some(Value::String(arn)) = role.provider_arn.as_ref().map(|o| &o.value) {
        if arn.starts_with("arn:") {
            let location = role.provider_arn.as_ref().map(|o| o.location.clone());
            record_account(infra, arn, location);
        }
    }
    infra.roles.push(role);
}
