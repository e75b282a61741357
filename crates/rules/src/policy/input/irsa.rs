//! `input.irsa`: the two ends of the IRSA chain as facts for `policies/irsa.rego`. The roles
//! Terraform creates (with their trusted subjects, where each is written, and the instance that
//! creates them) and the ServiceAccounts the apps-repo creates (with their role ARNs taken apart
//! and where each comes from). Every join the policy makes is a lookup in an object keyed here
//! by role name, `namespace:serviceaccount`, namespace or account, so the policy stays linear.
//!
//! Two facts are computed here because Rego cannot compute them exactly: whether a role ARN
//! parses (IAM's grammar), and whether a role's trust admits a ServiceAccount (IAM
//! `StringLike`, where `*` and `?` are the only wildcards, unlike Rego's `glob.match`). A few
//! more are computed here for speed, each what the policy computed before, word for word, and
//! checked against that Rego in the tests: whether an ARN is unrendered ([`unrendered`]), and
//! the words and place of a trust-mismatch finding ([`mismatch`]). The policy still decides
//! which ServiceAccounts get a finding.

use super::Builder;
use gitops_lint_core::finding::Location;
use gitops_lint_core::source::Span;
use gitops_lint_core::RuleId;
use gitops_lint_derive::terraform::irsa::role_name_of_arn;
use gitops_lint_derive::terraform::modules::is_account;
use gitops_lint_matchers::k8s_names::{self, NameKind};
use gitops_lint_model::accounts::ServiceAccount;
use gitops_lint_model::infra::value::Value;
use gitops_lint_model::infra::{Role, RoleKind, Subject};
use gitops_lint_model::World;
use rayon::prelude::*;
use regorus::Value as V;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// A role ARN taken apart.
struct RoleArn<'a> {
    /// The 12-digit account id.
    account: &'a str,
    /// The role name (after the path).
    name: &'a str,
}

/// Parses a role ARN as the pod identity webhook needs it, in the grammar of IAM's ARN format
/// (AWS IAM User Guide, "IAM identifiers", and the role name limits of `CreateRole`):
/// `^arn:aws[a-z-]*:iam::\d{12}:role/(?:[\x21-\x7E]+/)?[\w+=,.@-]{1,64}$`. The error says which
/// part is wrong.
fn parse_role_arn(arn: &str) -> Result<RoleArn<'_>, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" {
        return Err(format!("`{arn}` is not an ARN (`arn:aws:iam::<12-digit account>:role/<name>`); the pod identity webhook needs the full ARN"));
    }
    let partition = parts[1];
    if !partition.starts_with("aws")
        || !partition[3..]
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'-')
    {
        return Err(format!(
            "`{partition}` is not an AWS partition (`aws`, `aws-cn`, `aws-us-gov`)"
        ));
    }
    if parts[2] != "iam" || !parts[3].is_empty() {
        return Err(format!(
            "`{arn}` is not an IAM ARN: it must start `arn:{partition}:iam::` (IAM has no region)"
        ));
    }
    let account = parts[4];
    if account.is_empty() {
        return Err("the account id is empty (`arn:aws:iam::` is followed directly by `:role/`): the value it is rendered from is unset".to_string());
    }
    if !is_account(account) {
        return Err(format!("the account id `{account}` is not 12 digits"));
    }
    let Some(rest) = parts[5].strip_prefix("role/") else {
        return Err(format!("`{}` is not a role (`role/<name>`)", parts[5]));
    };
    let (path, name) = rest.rsplit_once('/').map_or(("", rest), |(p, n)| (p, n));
    if path.len() > 510 || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(format!(
            "the role path `/{path}/` has characters IAM does not allow"
        ));
    }
    if name.is_empty() || name.len() > 64 {
        return Err(format!(
            "the role name `{name}` is {} characters; IAM allows 1 to 64",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)))
    {
        return Err(format!("the role name `{name}` has `{c}`, which IAM does not allow (letters, digits and `_+=,.@-` only)"));
    }
    Ok(RoleArn { account, name })
}

fn s(text: &str) -> V {
    V::from(text)
}

fn opt(text: Option<&str>) -> V {
    text.map_or(V::Null, V::from)
}

fn kind_name(kind: RoleKind) -> &'static str {
    match kind {
        RoleKind::IrsaModuleV5 => "iam-role-for-service-accounts-eks (v5)",
        RoleKind::IrsaModuleV6 => "iam-role-for-service-accounts (v6)",
        RoleKind::IamRole => "aws_iam_role",
    }
}

/// One role: `kind` is what creates it, spelled as the findings name it; `index` is its place
/// in `input.irsa.roles` (the first of two roles with one name is the one reported).
fn role<'w>(b: &mut Builder<'w>, trusts: &mut TrustIds<'w>, index: usize, r: &'w Role) -> V {
    let world = b.world;
    let instance = &world.infra.instances[r.instance];
    let subjects = match &r.subjects {
        None => V::Null,
        Some(subjects) => {
            let list: Vec<V> = subjects
                .iter()
                .map(|x| {
                    let (namespace, account) =
                        (b.word(&x.namespace), V::from(x.service_account.as_str()));
                    let text = format!("{}:{}", x.namespace, x.service_account);
                    let wildcard = x.has_wildcard();
                    // Only a `true` is written, as `unrendered`: a rule tests the key.
                    let prefix_twice = if undoubled(x).is_some() {
                        V::from(true)
                    } else {
                        V::Null
                    };
                    b.object([
                        ("namespace", namespace),
                        ("service_account", account),
                        ("exact", V::from(x.exact)),
                        ("text", V::from(text)),
                        ("wildcard", V::from(wildcard)),
                        ("prefix_twice", prefix_twice),
                    ])
                })
                .collect();
            V::from(list)
        }
    };
    // The namespaces the trust names, each once, sorted.
    let namespaces: Option<Vec<V>> = r.subjects.as_ref().map(|subjects| {
        let set: BTreeSet<&str> = subjects.iter().map(|x| x.namespace.as_str()).collect();
        set.into_iter().map(|n| b.word(n)).collect()
    });
    let trust_at = b.location(&r.trust_location);
    let trust = trusts.id(&r.trust_location);
    let namespace_key = match namespaces.as_deref() {
        Some([namespace]) => V::from(vec![trust.clone(), namespace.clone()]),
        _ => V::Null,
    };
    let fields = [
        ("index", V::from(index)),
        ("name", opt(r.name.as_deref())),
        ("prefixed", V::from(r.prefixed)),
        ("v6", V::from(r.kind == RoleKind::IrsaModuleV6)),
        ("kind", b.word(kind_name(r.kind))),
        ("subjects", subjects),
        ("namespaces", namespaces.map_or(V::Null, V::from)),
        ("namespace_key", namespace_key),
        ("pod_identity", V::from(r.pod_identity)),
        ("address", s(&instance.address)),
        ("at", b.location(&r.location)),
        ("trust_at", trust_at),
        ("trust", trust),
        ("instance_at", b.location(&instance.location)),
    ];
    b.object(fields)
}

/// Whether a role ARN still holds a placeholder that something else renders:
/// an unrendered `{ACCOUNT_ID}` or `{{ .Values.x }}` (any `{`), or a template generator's
/// token, `<AWS_ACCOUNT_ID>` or `__ACCOUNT__`. Exactly what `irsa.rego` tested with
/// `contains(arn, "{")` and `regex.match(`<[A-Z][A-Z0-9_]*>|__[A-Z][A-Z0-9_]*__`, arn)`;
/// why here: that regex ran for every suspect ServiceAccount, about 6 microseconds each in
/// regorus (about a tenth of the package with many findings).
fn unrendered(arn: &str) -> bool {
    let bytes = arn.as_bytes();
    // The end of the run of `[A-Z0-9_]` that starts at `from`.
    let run_end = |from: usize| {
        from + bytes[from.min(bytes.len())..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || **c == b'_')
            .count()
    };
    let upper_at = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_uppercase);
    arn.contains('{')
        || (0..bytes.len()).any(|i| match bytes[i] {
            // `<[A-Z][A-Z0-9_]*>`: the class holds no `>`, so the run must end at one.
            b'<' => upper_at(i + 1) && bytes.get(run_end(i + 2)) == Some(&b'>'),
            // `__[A-Z][A-Z0-9_]*__`: the class holds `_`, so the closing `__` lies inside the
            // run, anywhere after the first letter.
            b'_' => {
                bytes.get(i + 1) == Some(&b'_')
                    && upper_at(i + 2)
                    && arn[i + 3..run_end(i + 3)].contains("__")
            }
            _ => false,
        })
}

/// What the trust-mismatch message says of the roles named `role` that do not admit a
/// ServiceAccount: every subject they trust, each once, as `` `ns:sa` ``, sorted as regorus sorts
/// strings (by bytes) and joined with `, ` (empty when none), and whether one of them has a `*`
/// or `?` but is compared with `StringEquals`. Exactly what `irsa.rego` computed per finding with
/// `sort({sprintf("`%s`", [s.text]) | some r in roles; some s in r.subjects})` and a loop over
/// the subjects; why here: that was a tenth of the package's instructions on a generated tree
/// with 1,665 trust mismatches.
fn trusted_words(roles: &[&Role]) -> (String, bool) {
    let subjects = || roles.iter().flat_map(|r| r.subjects.iter().flatten());
    let shown: BTreeSet<String> = subjects().map(|x| format!("`{x}`")).collect();
    let exact_wildcard = subjects().any(|x| x.exact && x.has_wildcard());
    (
        shown.into_iter().collect::<Vec<_>>().join(", "),
        exact_wildcard,
    )
}

/// `input.irsa.subjects`: every ServiceAccount the apps-repo creates in a known namespace, as
/// `"namespace:name"`. [`mismatch`] reads it too.
fn subjects(world: &World) -> BTreeMap<V, V> {
    world
        .service_accounts
        .iter()
        .filter_map(|sa| {
            let ns = sa.namespace.as_deref()?;
            Some((V::from(format!("{ns}:{}", sa.name)), V::from(true)))
        })
        .collect()
}

/// What an `irsa/trust-mismatch` finding about one ServiceAccount says and where it points,
/// when the roles named `role` (fixed names, in order; the first is the one the finding cites)
/// do not admit `namespace:name`. Exactly what `irsa.rego` computed per finding with its
/// functions `trust_words`, `trust_help` and `trust_primary`, and the related label at the
/// trust with a `sprintf`. Why here: regorus evaluates a function anew on every call, and
/// these three were a quarter of the package's instructions on a generated tree with 1,665
/// trust mismatches (a `sprintf` alone costs about 13,000 instructions in the engine).
struct Mismatch {
    /// The message: what the roles trust ([`trusted_words`]), or that they trust no
    /// ServiceAccount, or only EKS Pod Identity.
    msg: String,
    /// How to fix it: run as the first trusted subject, or trust this ServiceAccount.
    help: String,
    /// The related label at the first role's trust: what creates the role, and where.
    trust_label: String,
    /// The end that is wrong ([`Primary`]).
    primary: Primary,
    /// With [`Primary::Trust`], the trust entry to change, as written: the place is that entry
    /// when the trust writes it literally ([`entry_place`]).
    entry: Option<String>,
    /// What the roles trust and whether a wildcard is compared exactly ([`trusted_words`]):
    /// kept in the input as `trusted` and `exact_wildcard` for policies that read them.
    trusted: (String, bool),
}

/// Where a trust-mismatch finding points: the trust when it says `system:serviceaccount:`
/// twice and would admit the ServiceAccount with it once ([`undoubled`]); the namespace when no
/// trusted subject is in it; the role ARN when the role trusts another ServiceAccount that
/// exists (this one borrowed its role); else the place that names the ServiceAccount (the name
/// is what differs).
#[derive(Debug, PartialEq, Eq)]
enum Primary {
    Trust,
    Namespace,
    RoleArn,
    Name,
}

/// The subject a trust entry that names no ServiceAccount ([`Role::malformed`]) was meant to
/// be, when the mistake is plain: `/` between namespace and name (`t1/t1-producer`), or, in an
/// `aws_iam_role`'s `:sub` condition, `namespace:name` without `system:serviceaccount:` (IAM
/// compares the whole string, so `t1:t1-consumer` matches no token). Compared exactly: what
/// was meant is a name, not a pattern.
fn as_written_meant(kind: RoleKind, written: &str) -> Option<Subject> {
    let rest = match kind {
        RoleKind::IamRole => written
            .strip_prefix("system:serviceaccount:")
            .unwrap_or(written),
        _ => written,
    };
    let (namespace, service_account) = match rest.split_once(':') {
        // With the prefix already there, the value did parse; without it, only an
        // `aws_iam_role` value can lack it (the module adds it).
        Some(pair) if kind == RoleKind::IamRole && rest.len() == written.len() => pair,
        Some(_) => return None,
        None => rest.split_once('/')?,
    };
    let plain = |s: &str| !s.is_empty() && !s.contains([':', '/', '*', '?']);
    (plain(namespace) && plain(service_account)).then(|| Subject {
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
        exact: true,
    })
}

/// The subject a trusted one was meant to be when it says `system:serviceaccount:` twice: an
/// entry of the IRSA module's `namespace_service_accounts` written with the prefix the module
/// adds itself (`terraform-aws-modules/iam`, `iam-role-for-service-accounts-eks/main.tf`:
/// `"system:serviceaccount:${sa}"` for each entry), or a `:sub` value written so. It was read
/// as namespace `system` and account `serviceaccount:<namespace>:<name>`, which no
/// ServiceAccount can be (a name has no `:`).
fn undoubled(x: &Subject) -> Option<Subject> {
    if x.namespace != "system" {
        return None;
    }
    let (namespace, service_account) = x
        .service_account
        .strip_prefix("serviceaccount:")?
        .split_once(':')?;
    Some(Subject {
        namespace: namespace.to_string(),
        service_account: service_account.to_string(),
        exact: x.exact,
    })
}

/// Whether a ServiceAccount can be named `service_account` in namespace `namespace`: what a
/// help may tell a user to run as. Not a subject with a `*`, nor one read from a malformed
/// entry (`a:b:c` is namespace `a`, account `b:c`).
fn can_run_as(x: &Subject) -> bool {
    k8s_names::problem(&x.namespace, NameKind::Label).is_none()
        && k8s_names::problem(&x.service_account, NameKind::Subdomain).is_none()
}

/// How the help names the place to write a trusted subject, and how it writes one, for the
/// kind of the role: the module's list takes `namespace:name`, a `:sub` condition the whole
/// subject.
fn trust_place(kind: RoleKind, namespace: &str, name: &str) -> String {
    match kind {
        RoleKind::IamRole => format!(
            "trust `system:serviceaccount:{namespace}:{name}` in the role's `:sub` condition"
        ),
        _ => format!("trust `{namespace}:{name}` in the role's `namespace_service_accounts`"),
    }
}

/// The help of a trust-mismatch finding whose first role (of kind `kind`) trusts `first`
/// first: run as that subject, when a ServiceAccount can be so named, or trust this one. With
/// a `*` compared exactly (`StringEquals`), the other way out is to compare with `StringLike`:
/// the module's `assume_role_condition_test` (v5) or `trust_condition_test` (v6).
fn trust_help(kind: RoleKind, first: Option<&Subject>, (namespace, name): (&str, &str)) -> String {
    let trust = trust_place(kind, namespace, name);
    let Some(x) = first else {
        return format!("trust `{namespace}:{name}` in the role");
    };
    if x.exact && x.has_wildcard() {
        let variable = match kind {
            RoleKind::IrsaModuleV5 => {
                "set the module's `assume_role_condition_test` to `StringLike`"
            }
            RoleKind::IrsaModuleV6 => "set the module's `trust_condition_test` to `StringLike`",
            RoleKind::IamRole => "compare with `StringLike`",
        };
        return format!("{trust}, or {variable} so that `*` in `{x}` matches any characters");
    }
    if can_run_as(x) {
        return format!(
            "run the ServiceAccount as `{}` in namespace `{}`, or {trust}",
            x.service_account, x.namespace
        );
    }
    trust
}

/// The [`Mismatch`] of ServiceAccount `namespace:name` whose role ARN names `role`, given the
/// roles of that name (at least one), whether no subject they trust is in its namespace, and
/// the ServiceAccounts that exist ([`subjects`]).
fn mismatch(
    (namespace, name, role): (&str, &str, &str),
    roles: &[&Role],
    namespace_wrong: bool,
    (world, subjects): (&World, &BTreeMap<V, V>),
) -> Mismatch {
    let (trusted, exact_wildcard) = trusted_words(roles);
    let account = format!("ServiceAccount `{namespace}:{name}` uses role `{role}`");
    let first = roles.first();
    let trust_label = match first {
        Some(r) => format!(
            "{} trusts this in {}",
            kind_name(r.kind),
            world.infra.instances[r.instance].address
        ),
        None => String::new(),
    };
    let trusted_subjects = || roles.iter().flat_map(|r| r.subjects.iter().flatten());
    let kind = first.map_or(RoleKind::IrsaModuleV5, |r| r.kind);
    // A trust entry that, written as meant, would admit this ServiceAccount: that entry is the
    // line to change, whatever the namespace. Either it says `system:serviceaccount:` twice, or
    // it names no ServiceAccount at all (`t1/t1-producer`; a `:sub` value without the prefix).
    let doubled = || {
        let (x, m) = trusted_subjects().find_map(|x| {
            undoubled(x)
                .filter(|m| m.admits(namespace, name))
                .map(|m| (x, m))
        })?;
        Some(match kind {
            RoleKind::IamRole => (
                format!("system:serviceaccount:{x}"),
                format!("{account}, but the role's `:sub` condition says `system:serviceaccount:` twice (`system:serviceaccount:{x}`), which no ServiceAccount can be: AssumeRoleWithWebIdentity is denied at run time"),
                format!("write `system:serviceaccount:{m}` in the role's `:sub` condition, with `system:serviceaccount:` once"),
            ),
            _ => (
                x.to_string(),
                format!("{account}, but the role trusts `system:serviceaccount:{x}`, which no ServiceAccount can be (the module puts `system:serviceaccount:` before each entry of `namespace_service_accounts`, and the entry `{x}` has it already): AssumeRoleWithWebIdentity is denied at run time"),
                format!("write the entry as `{m}`, without `system:serviceaccount:` (the module adds it)"),
            ),
        })
    };
    let unnamed = || {
        let (x, m) = roles.iter().flat_map(|r| &r.malformed).find_map(|x| {
            as_written_meant(kind, x)
                .filter(|m| m.admits(namespace, name))
                .map(|m| (x, m))
        })?;
        Some(match kind {
            RoleKind::IamRole => (
                x.clone(),
                format!("{account}, but the role's `:sub` condition says `{x}`, which names no ServiceAccount (a ServiceAccount is `system:serviceaccount:<namespace>:<name>` there): AssumeRoleWithWebIdentity is denied at run time"),
                format!("write `system:serviceaccount:{m}` in the role's `:sub` condition"),
            ),
            _ => (
                x.clone(),
                format!("{account}, but the role's `namespace_service_accounts` entry `{x}` names no ServiceAccount (an entry is `<namespace>:<name>`): AssumeRoleWithWebIdentity is denied at run time"),
                format!("write the entry as `{m}`"),
            ),
        })
    };
    if let Some((entry, msg, help)) = doubled().or_else(unnamed) {
        return Mismatch {
            msg,
            help,
            trust_label,
            primary: Primary::Trust,
            entry: Some(entry),
            trusted: (trusted, exact_wildcard),
        };
    }
    let msg = if trusted.is_empty() && first.is_some_and(|r| r.pod_identity) {
        format!("{account} through IRSA, but the role trusts only EKS Pod Identity (`pods.eks.amazonaws.com`), not the cluster's OIDC provider: AssumeRoleWithWebIdentity is denied")
    } else if trusted.is_empty() {
        format!("{account}, whose trust policy admits no ServiceAccount")
    } else if exact_wildcard {
        format!("{account}, but the role trusts only {trusted} (compared with `StringEquals`, where `*` is a plain character; wildcards need `StringLike`): AssumeRoleWithWebIdentity is denied at run time")
    } else {
        format!("{account}, but the role trusts only {trusted}: AssumeRoleWithWebIdentity is denied at run time")
    };
    let help = trust_help(
        kind,
        first.and_then(|r| r.subjects.as_deref()?.first()),
        (namespace, name),
    );
    // As `irsa.rego` tested `irsa.subjects[s.text]`.
    let primary = if namespace_wrong {
        Primary::Namespace
    } else if trusted_subjects().any(|x| subjects.contains_key(&V::from(x.to_string()))) {
        Primary::RoleArn
    } else {
        Primary::Name
    };
    Mismatch {
        msg,
        help,
        trust_label,
        primary,
        entry: None,
        trusted: (trusted, exact_wildcard),
    }
}

/// Where trust entry `entry` (as written) is, inside the trust written at `trust`: the line to
/// change when a list is written over several lines (`values = [` then one entry per line), or
/// a policy has several `:sub` conditions. The trust's own place when the entry is not written
/// there, quoted, exactly once (an interpolation, a reference to a list elsewhere): `None`.
fn entry_place(world: &World, trust: &Location, entry: Option<&str>) -> Option<Span> {
    let (Location::Span(span), Some(entry)) = (trust, entry) else {
        return None;
    };
    let text = world
        .file(span.file)
        .text
        .get(span.start..span.end)
        .unwrap_or("");
    let quoted = format!("\"{entry}\"");
    let mut found = text.match_indices(&quoted);
    match (found.next(), found.next()) {
        (Some((at, _)), None) => Some(Span {
            file: span.file,
            start: span.start + at,
            end: span.start + at + quoted.len(),
        }),
        _ => None,
    }
}

/// Whether a trust mismatch follows from the tenant's namespace (its `follows` is then
/// `tenant/namespace-mismatch`, see [`Finding::follows`]): the place to change is the tenant's
/// namespace, and the tenant's own namespace (its `tenantId`) would be trusted, so that the
/// fix that finding asks for (deploy to namespace `<tenantId>`) is this one's fix too. Not when
/// the roles trust some third namespace, or no tenant is known.
///
/// [`Finding::follows`]: gitops_lint_core::finding::Finding::follows
fn follows_namespace(m: &Mismatch, sa: &ServiceAccount, roles: &[&Role]) -> bool {
    let own = sa
        .tenant
        .as_deref()
        .filter(|t| m.primary == Primary::Namespace && sa.namespace.as_deref() != Some(*t));
    own.is_some_and(|t| {
        roles
            .iter()
            .flat_map(|r| r.subjects.iter().flatten())
            .any(|x| x.admits(t, &sa.name))
    })
}

/// A ServiceAccount's `trusted`, `exact_wildcard` (only a `true` is written, as `unrendered`:
/// a rule tests the key), `mismatch_msg`, `mismatch_help`, `mismatch_trust_label` and
/// `mismatch_at` (one of its `namespace_at`, `at`, `named_at`, given in that order, or the
/// first role's trust, which `trust_at` makes only when it is the place), all unset when its
/// role's trust admits it.
fn mismatch_fields(
    mismatch: Option<Mismatch>,
    places: [&V; 3],
    trust_at: impl FnOnce(Option<&str>) -> V,
) -> [V; 6] {
    let Some(m) = mismatch else {
        return [V::Null, V::Null, V::Null, V::Null, V::Null, V::Null];
    };
    let [namespace_at, at, named_at] = places;
    let trust_place;
    let place = match m.primary {
        Primary::Trust => {
            trust_place = trust_at(m.entry.as_deref());
            &trust_place
        }
        Primary::Namespace => namespace_at,
        Primary::RoleArn => at,
        Primary::Name => named_at,
    };
    let (text, exact_wildcard) = m.trusted;
    [
        V::from(text),
        if exact_wildcard {
            V::from(true)
        } else {
            V::Null
        },
        V::from(m.msg),
        V::from(m.help),
        V::from(m.trust_label),
        place.clone(),
    ]
}

/// One ServiceAccount with a role ARN. `account`/`role` are the ARN's parts, or `error` says
/// why it does not parse; `unrendered` is set when the ARN holds a placeholder
/// ([`unrendered`]). `admitted` / `namespace_admitted`: whether the trust of the roles named
/// `role` (those with a known trust) admits `namespace:name` / some ServiceAccount of
/// `namespace`, as IAM compares subjects; unset when the namespace is unknown or Terraform
/// creates no role of that name. When it is not admitted, `trusted` and `exact_wildcard` say
/// what those roles trust ([`trusted_words`]), and `mismatch_msg`, `mismatch_help`,
/// `mismatch_trust_label` and `mismatch_at` are the trust-mismatch finding's words and place
/// ([`mismatch`]). When no subject those roles trust is in its known namespace,
/// `namespace_wrong` is set and `namespace_key` is `trusted_namespace_key` of its role name.
fn service_account<'w>(
    b: &mut Builder<'w>,
    sa: &'w ServiceAccount,
    roles: &HashMap<&str, Vec<&'w Role>>,
    trusted_namespace_key: &BTreeMap<V, V>,
    subjects: &BTreeMap<V, V>,
) -> V {
    let arn = sa.role_arn.as_deref().unwrap_or_default();
    let parsed = parse_role_arn(arn);
    // The roles of the name the ARN names (fixed names, in order).
    let named_roles = parsed.as_ref().ok().and_then(|p| roles.get(p.name));
    let trust = match (named_roles, sa.namespace.as_deref()) {
        (Some(roles), Some(ns)) => {
            let subjects = || roles.iter().flat_map(|r| r.subjects.iter().flatten());
            Some((
                subjects().any(|x| x.admits(ns, &sa.name)),
                subjects().any(|x| x.admits(ns, &x.service_account)),
            ))
        }
        _ => None,
    };
    let (account, name, error) = match &parsed {
        Ok(p) => (b.word(p.account), s(p.name), V::Null),
        Err(e) => (V::Null, V::Null, s(e)),
    };
    let namespace = sa.namespace.as_deref().map_or(V::Null, |n| b.word(n));
    let tenant = sa.tenant.as_deref().map_or(V::Null, |t| b.word(t));
    // The namespace is known, and no trusted subject is in it (what `irsa.rego` tested as
    // `sa.namespace_at; sa.namespace_admitted == false` before it read `namespace_wrong`).
    let namespace_wrong = sa.namespace_location.is_some() && trust.is_some_and(|t| !t.1);
    let part = part_bucket(&part_key(
        sa,
        named_roles.map(Vec::as_slice),
        namespace_wrong,
    ));
    let at = b.location(sa.role_location.as_ref().unwrap_or(&sa.location));
    let named_at = b.location(&sa.location);
    let namespace_at = sa
        .namespace_location
        .as_ref()
        .map_or(V::Null, |l| b.location(l));
    // `trust` is known only with the roles, the ARN's role name and the namespace.
    let mismatch = match (trust, named_roles, &parsed, sa.namespace.as_deref()) {
        (Some((false, _)), Some(roles), Ok(p), Some(ns)) => Some(mismatch(
            (ns, &sa.name, p.name),
            roles,
            namespace_wrong,
            (b.world, subjects),
        )),
        _ => None,
    };
    // Always a string where there is a mismatch (empty: it follows nothing), so that the rule
    // can write it into its finding as it is.
    let follows = match &mismatch {
        Some(m) if follows_namespace(m, sa, named_roles.map_or(&[], Vec::as_slice)) => {
            b.word(RuleId::TENANT_NAMESPACE_MISMATCH.as_str())
        }
        Some(_) => b.word(""),
        None => V::Null,
    };
    // Why here: `irsa.rego` groups these ServiceAccounts by it, and looking it up by role name
    // there was 3% of the package's instructions on 2,000 ServiceAccounts in a wrong namespace.
    let namespace_key = match &parsed {
        Ok(p) if namespace_wrong => trusted_namespace_key
            .get(&s(p.name))
            .cloned()
            .unwrap_or(V::Null),
        _ => V::Null,
    };
    let [trusted, exact_wildcard, mismatch_msg, mismatch_help, mismatch_trust_label, mismatch_at] =
        mismatch_fields(mismatch, [&namespace_at, &at, &named_at], |entry| {
            // The first role's trust, as the finding's label at the trust (`roles[0]` there),
            // narrowed to the entry to change when the trust writes it.
            let world = b.world;
            let Some(first) = named_roles.and_then(|roles| roles.first()) else {
                return V::Null;
            };
            match entry_place(world, &first.trust_location, entry) {
                Some(span) => b.span_location(&span),
                None => b.location(&first.trust_location),
            }
        });
    let fields = [
        ("name", s(&sa.name)),
        ("namespace", namespace),
        ("tenant", tenant),
        ("arn", s(arn)),
        ("account", account),
        ("role", name),
        ("error", error),
        (
            "unrendered",
            if unrendered(arn) {
                V::from(true)
            } else {
                V::Null
            },
        ),
        ("at", at),
        ("named_at", named_at),
        ("namespace_at", namespace_at),
        ("admitted", trust.map_or(V::Null, |t| V::from(t.0))),
        (
            "namespace_admitted",
            trust.map_or(V::Null, |t| V::from(t.1)),
        ),
        ("trusted", trusted),
        ("exact_wildcard", exact_wildcard),
        ("mismatch_msg", mismatch_msg),
        ("mismatch_help", mismatch_help),
        ("mismatch_trust_label", mismatch_trust_label),
        ("mismatch_at", mismatch_at),
        ("mismatch_follows", follows),
        (
            "namespace_wrong",
            if namespace_wrong {
                V::from(true)
            } else {
                V::Null
            },
        ),
        ("namespace_key", namespace_key),
        ("part", V::from(part)),
    ];
    b.object(fields)
}

/// How many buckets the ServiceAccounts' `part` spreads over: divisible by every part count
/// up to 8, so that each part gets as many buckets.
const PART_BUCKETS: u64 = 840;

/// What decides a ServiceAccount's `part` (the host may evaluate `policies/irsa.rego` in parts,
/// each judging the ServiceAccounts of some buckets: `judged` there). Every ServiceAccount that
/// one finding may group or cite together has the same key:
/// - the trust-mismatch finding of a trust line that admits the namespaces but not the names
///   groups the ServiceAccounts whose role's (first role of its name) trust is on that line and
///   whose namespace it names, and cites one of them;
/// - the one of a trust line that admits one namespace groups the ServiceAccounts in other
///   namespaces whose roles all trust that namespace there (`trusted_namespace_key`), and each
///   of them looks its group up by its first role's `namespace_key`, the same pair when both
///   are known;
/// - every other finding is about one ServiceAccount.
#[derive(Debug, Hash, PartialEq, Eq)]
enum PartKey<'w> {
    /// In a namespace the trust does not name: the trust line and the namespace it names.
    TrustedNamespace(&'w Location, &'w str),
    /// Of a role Terraform creates, in a namespace the trust names (or not known): the line.
    TrustLine(&'w Location),
    /// Any other: only findings of its own (`namespace`, name, ARN).
    Alone(Option<&'w str>, &'w str, Option<&'w str>),
}

/// The [`PartKey`] of a ServiceAccount, given the roles of the name its ARN names (fixed names,
/// in order) and whether no subject they trust is in its namespace (`namespace_wrong`).
fn part_key<'w>(
    sa: &'w ServiceAccount,
    roles: Option<&[&'w Role]>,
    namespace_wrong: bool,
) -> PartKey<'w> {
    let alone = || PartKey::Alone(sa.namespace.as_deref(), &sa.name, sa.role_arn.as_deref());
    let Some(first) = roles.and_then(|r| r.first()) else {
        return alone();
    };
    if !namespace_wrong {
        return PartKey::TrustLine(&first.trust_location);
    }
    // The first role's `namespace_key` (the one namespace of its own trust), else the name's
    // `trusted_namespace_key`.
    match trusted_namespace(&[first]).or_else(|| roles.and_then(trusted_namespace)) {
        Some((at, namespace)) => PartKey::TrustedNamespace(at, namespace),
        None => alone(),
    }
}

/// The bucket of a [`PartKey`], in `0..PART_BUCKETS`. Any stable hash does: the findings do not
/// depend on which part judges what, only the parts' balance does.
fn part_bucket(key: &PartKey<'_>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish() % PART_BUCKETS
}

/// `input.irsa` (the shape is documented in `super`).
pub(super) fn facts(world: &World) -> V {
    let infra = &world.infra;
    let mut b = Builder::new(world);
    let mut trusts = TrustIds::default();
    let roles: Vec<V> = infra
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| role(&mut b, &mut trusts, i, r))
        .collect();
    // Role name -> the roles so named, in order: fixed names and prefixes apart (a prefixed
    // role's real name has a random suffix, so no ARN names it exactly).
    let mut named: HashMap<&str, Vec<&Role>> = HashMap::new();
    let mut roles_named: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    let mut prefixed: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    let mut tenant_roles: BTreeMap<&str, Vec<V>> = BTreeMap::new();
    for (r, v) in infra.roles.iter().zip(&roles) {
        if let Some(name) = r.name.as_deref() {
            if r.prefixed {
                prefixed.entry(name).or_default().push(v.clone());
            } else {
                named.entry(name).or_default().push(r);
                roles_named.entry(name).or_default().push(v.clone());
            }
            if let Some(t) = infra.instances[r.instance].tenant.as_deref() {
                tenant_roles.entry(t).or_default().push(s(name));
            }
        }
    }
    let trusted_namespace_key = trusted_namespace_keys(&mut b, &trusts, &named);
    let mut skipped = BTreeMap::new();
    for r in &infra.skipped {
        let Some(name) = r.name.as_deref() else {
            continue;
        };
        if skipped.contains_key(name) {
            continue;
        }
        let cause = match &r.cause {
            None => V::Null,
            Some((var, origin)) => {
                let value = match &origin.value {
                    Value::Bool(b) => b.to_string(),
                    v => gitops_lint_derive::terraform::eval::show(v),
                };
                let at = b.location(&origin.location);
                b.object([("var", s(var)), ("value", V::from(value)), ("at", at)])
            }
        };
        let fields = [
            ("address", s(&infra.instances[r.instance].address)),
            ("switch", s(&r.switch)),
            ("count_at", b.location(&r.count_location)),
            ("cause", cause),
        ];
        skipped.insert(name, b.object(fields));
    }
    let skipped: BTreeMap<V, V> = skipped.into_iter().map(|(k, v)| (s(k), v)).collect();
    let subjects = subjects(world);
    // Why in parallel, one builder per batch: a ServiceAccount is the largest fact and there
    // are two per tenant. Why beside the rest (a join): the rest is on one core, and run after
    // them it was the end of building the input, with the other core idle (about 30 ms of the
    // 10,000-tenant many-findings run).
    let (service_accounts, others) = rayon::join(
        || {
            // Batches of at most 512: in two halves, the one with more mismatches (whose
            // facts have more to say) ran on alone for 30 ms at the end.
            world
                .service_accounts
                .par_iter()
                .with_max_len(512)
                .filter(|sa| sa.role_arn.is_some())
                .map_init(
                    || Builder::new(world),
                    |b, sa| service_account(b, sa, &named, &trusted_namespace_key, &subjects),
                )
                .collect::<Vec<V>>()
        },
        || {
            rayon::join(
                || usage_facts(&mut Builder::new(world), &named),
                || {
                    let fields = [
                        ("roles_named", b.lists(roles_named)),
                        ("prefixed", b.lists(prefixed)),
                        ("skipped", V::from(skipped)),
                        ("tenant_roles", b.lists(tenant_roles)),
                        ("providers", providers(&mut b)),
                        ("pod_identities", pod_identities(&mut b)),
                    ];
                    (fields, b)
                },
            )
        },
    );
    let (usage, (rest, mut b)) = others;
    let mut fields = vec![
        ("has_terraform", V::from(infra.has_terraform)),
        ("complete", V::from(infra.incomplete.is_empty())),
        (
            "deploys_anywhere",
            V::from(infra.terraform_deploys_anywhere),
        ),
        ("roles", V::from(roles)),
        ("trusted_namespace_key", V::from(trusted_namespace_key)),
        ("service_accounts", V::from(service_accounts)),
        ("subjects", V::from(subjects)),
    ];
    fields.extend(usage);
    fields.extend(rest);
    b.object(fields)
}

/// The facts of `input.irsa` about which names and namespaces are in use: `arn_roles`,
/// `namespace_users`, `account_namespaces`, `accounts_named`, `terraform_namespaces`,
/// `other_role_names` and `accounts` (the shape is documented in `super`).
fn usage_facts<'w>(
    b: &mut Builder<'w>,
    named: &HashMap<&'w str, Vec<&'w Role>>,
) -> Vec<(&'static str, V)> {
    let world = b.world;
    let infra = &world.infra;
    // Which role names the ServiceAccounts' ARNs name (parsed leniently: a role some annotation
    // names is in use even when the ARN is otherwise wrong), and per namespace the first
    // ServiceAccount that uses a role Terraform creates (then the namespace's IRSA
    // ServiceAccounts are known, and a trusted one that is missing is a finding).
    let mut arn_roles = BTreeSet::new();
    let mut namespace_users = BTreeMap::new();
    // Every namespace some ServiceAccount is known in, and per account name the first place it
    // is named and the namespaces it is in (for a Pod Identity association whose namespace
    // nothing deploys to, while its account exists elsewhere).
    // Sets of names until the end, each name made a value once: per ServiceAccount, a value
    // made to be inserted (or to be thrown away, its name being in already) was half the
    // allocations of this loop.
    let mut account_namespaces = BTreeSet::new();
    let mut accounts_named: BTreeMap<&str, (Vec<&str>, &Location)> = BTreeMap::new();
    // The place of each ServiceAccount with a role ARN in `service_accounts`.
    let mut listed = 0;
    for sa in &world.service_accounts {
        let role = sa.role_arn.as_deref().and_then(role_name_of_arn);
        if let Some(ns) = sa.namespace.as_deref() {
            account_namespaces.insert(ns);
            let entry = accounts_named
                .entry(sa.name.as_str())
                .or_insert((Vec::new(), &sa.location));
            if !entry.0.contains(&ns) {
                entry.0.push(ns);
            }
            if role.is_some_and(|r| named.contains_key(r)) {
                namespace_users.entry(ns).or_insert(listed);
            }
        }
        if let Some(name) = role {
            arn_roles.insert(name);
        }
        if sa.role_arn.is_some() {
            listed += 1;
        }
    }
    let accounts_named: BTreeMap<V, V> = accounts_named
        .into_iter()
        .map(|(name, (namespaces, at))| {
            let namespaces: Vec<V> = namespaces.into_iter().map(s).collect();
            let at = b.location(at);
            (
                s(name),
                b.object([("namespaces", V::from(namespaces)), ("at", at)]),
            )
        })
        .collect();
    let namespace_users: BTreeMap<V, V> = namespace_users
        .into_iter()
        .map(|(k, v)| (b.word(k), V::from(v)))
        .collect();
    let accounts: BTreeMap<V, V> = infra
        .accounts
        .iter()
        .map(|(a, l)| (s(a), b.location(l)))
        .collect();
    vec![
        (
            "terraform_namespaces",
            V::from(true_for_each(
                infra.terraform_namespaces.iter().map(String::as_str),
            )),
        ),
        (
            "other_role_names",
            V::from(true_for_each(
                infra.other_role_names.iter().map(String::as_str),
            )),
        ),
        ("accounts", V::from(accounts)),
        ("arn_roles", V::from(true_for_each(arn_roles))),
        ("namespace_users", V::from(namespace_users)),
        (
            "account_namespaces",
            V::from(true_for_each(account_namespaces)),
        ),
        ("accounts_named", V::from(accounts_named)),
    ]
}

/// An object of `true` per name: the set as the policies read it.
fn true_for_each<'a>(names: impl IntoIterator<Item = &'a str>) -> BTreeMap<V, V> {
    names.into_iter().map(|n| (s(n), V::from(true))).collect()
}

/// The number of each place a role's trust is written (a role's `trust`), in the order the
/// places are first seen. Equal places get equal numbers, and so do equal location objects:
/// `Builder::location` gives distinct places distinct objects (a file's display name is
/// unique). The numbers never reach a finding; only which ServiceAccounts share one does.
///
/// Why numbers: `irsa.rego` groups the ServiceAccounts by trust line (`name_mismatches`,
/// `namespace_mismatches`), and regorus compares the keys of such a group value by value. A
/// location object as the key cost a deep comparison at each step of every insert and lookup:
/// about a third of the grouping's instructions on a tree with 2,000 ServiceAccounts in a
/// wrong namespace.
#[derive(Default)]
struct TrustIds<'w> {
    ids: HashMap<&'w Location, V>,
}

impl<'w> TrustIds<'w> {
    /// The number of the trust written at `at`, given now if the place is new.
    fn id(&mut self, at: &'w Location) -> V {
        let next = self.ids.len();
        self.ids.entry(at).or_insert_with(|| V::from(next)).clone()
    }

    /// The number already given to `at`.
    fn get(&self, at: &Location) -> Option<V> {
        self.ids.get(at).cloned()
    }
}

/// `input.irsa.trusted_namespace_key`: per fixed role name, [`trusted_namespace`] as
/// `[trust, ns]` (`trust` as the roles' `trust` numbers it). Why in Rust: `irsa.rego` groups
/// the ServiceAccounts in a wrong namespace by it, and computing it there (a set comprehension
/// over the roles' namespaces) was done again for each of them.
fn trusted_namespace_keys<'w>(
    b: &mut Builder<'w>,
    trusts: &TrustIds<'w>,
    named: &HashMap<&'w str, Vec<&'w Role>>,
) -> BTreeMap<V, V> {
    let mut out = BTreeMap::new();
    // Only reads the numbers: `at` is a role's trust place, which `role` has numbered, so the
    // map's order (it changes from run to run) cannot change one.
    for (name, roles) in named {
        if let Some((at, namespace)) = trusted_namespace(roles) {
            if let Some(trust) = trusts.get(at) {
                out.insert(s(name), V::from(vec![trust, b.word(namespace)]));
            }
        }
    }
    out
}

/// Where the trust of roles of one name is written (the first role's) and the one namespace
/// they trust together, when every one of them has a known trust and together they name
/// exactly one namespace.
fn trusted_namespace<'w>(roles: &[&'w Role]) -> Option<(&'w Location, &'w str)> {
    let mut trusted: BTreeSet<&str> = BTreeSet::new();
    for r in roles {
        trusted.extend(r.subjects.as_ref()?.iter().map(|x| x.namespace.as_str()));
    }
    match (roles.first(), Vec::from_iter(trusted).as_slice()) {
        (Some(first), [namespace]) => Some((&first.trust_location, namespace)),
        _ => None,
    }
}

/// `input.irsa.providers`: the OIDC providers the roles' trusts name, one list per place the
/// provider is written (every instance of a module shares the place), each value once, in the
/// order of the first role that uses it, with that role.
fn providers(b: &mut Builder<'_>) -> V {
    let world = b.world;
    let mut places: HashMap<&Location, usize> = HashMap::new();
    let mut groups: Vec<Vec<V>> = Vec::new();
    let mut seen = HashSet::new();
    for r in &world.infra.roles {
        let Some(origin) = &r.provider_arn else {
            continue;
        };
        let value = match &origin.value {
            Value::String(v) => Some(v.as_str()),
            _ => None,
        };
        let unknown = matches!(origin.value, Value::Unknown);
        if !seen.insert((&origin.location, value, unknown, origin.text.as_str())) {
            continue;
        }
        let group = *places.entry(&origin.location).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        let fields = [
            ("value", opt(value)),
            ("unknown", V::from(unknown)),
            ("text", s(&origin.text)),
            ("at", b.location(&origin.location)),
            ("trust_at", b.location(&r.trust_location)),
            ("kind", b.word(kind_name(r.kind))),
        ];
        groups[group].push(b.object(fields));
    }
    V::from(groups.into_iter().map(V::from).collect::<Vec<_>>())
}

/// `input.irsa.pod_identities`: the `aws_eks_pod_identity_association`s.
fn pod_identities(b: &mut Builder<'_>) -> V {
    let world = b.world;
    let infra = &world.infra;
    let list: Vec<V> = infra
        .pod_identities
        .iter()
        .map(|p| {
            let fields = [
                ("namespace", opt(p.namespace.as_deref())),
                ("service_account", opt(p.service_account.as_deref())),
                ("role_name", opt(p.role_name.as_deref())),
                ("address", s(&infra.instances[p.instance].address)),
                ("at", b.location(&p.location)),
                ("namespace_at", b.location(&p.namespace_location)),
                ("role_at", b.location(&p.role_location)),
            ];
            b.object(fields)
        })
        .collect();
    V::from(list)
}

#[cfg(test)]
mod tests {
    use super::{
        entry_place, follows_namespace, kind_name, mismatch, parse_role_arn, part_key, subjects,
        trusted_namespace, trusted_namespace_keys, trusted_words, unrendered, PartKey, Primary,
        TrustIds,
    };
    use crate::policy::input::Builder;
    use gitops_lint_core::finding::Location;
    use gitops_lint_core::source::{FileId, Span};
    use gitops_lint_model::accounts::{AccountSource, ServiceAccount};
    use gitops_lint_model::infra::{Instance, Role, RoleKind, Subject};
    use gitops_lint_model::World;
    use regorus::Value as V;
    use std::collections::HashMap;

    /// A role whose trust is written in file `file` and admits `subjects` (`None`: unknown).
    fn role(file: u32, subjects: Option<&[&str]>) -> Role {
        Role {
            name: Some("consumer".into()),
            prefixed: false,
            path: "/".into(),
            kind: RoleKind::IamRole,
            subjects: subjects.map(|l| l.iter().filter_map(|s| Subject::parse(s)).collect()),
            malformed: Vec::new(),
            pod_identity: false,
            provider_arn: None,
            instance: 0,
            location: Location::File(FileId(file)),
            trust_location: Location::File(FileId(file)),
        }
    }

    #[test]
    fn roles_of_one_name_trusting_one_namespace_give_the_first_trust_and_that_namespace() {
        let (a, b) = (role(1, Some(&["t1:x", "t1:y"])), role(2, Some(&["t1:z"])));
        let found = trusted_namespace(&[&a, &b]);
        assert_eq!(found, Some((&Location::File(FileId(1)), "t1")));
    }

    #[test]
    fn two_namespaces_an_unknown_trust_or_no_subject_give_no_namespace() {
        let (a, b) = (role(1, Some(&["t1:x"])), role(2, Some(&["t2:x"])));
        assert_eq!(trusted_namespace(&[&a, &b]), None);
        let unknown = role(2, None);
        assert_eq!(trusted_namespace(&[&a, &unknown]), None);
        assert_eq!(trusted_namespace(&[&role(1, Some(&[]))]), None);
    }

    /// `irsa.rego` groups by a role's `trust` and looks groups up by `trusted_namespace_key`:
    /// one place has one number wherever it is asked for, two places two numbers.
    #[test]
    fn a_trust_place_has_one_number_for_roles_and_for_the_namespace_key() {
        let (a, b, c) = (
            role(1, Some(&["t1:x"])),
            role(2, Some(&["t1:y"])),
            role(1, Some(&["t1:z"])),
        );
        let mut trusts = TrustIds::default();
        // As `role` numbers them, in the order of the roles: file 2 first.
        assert_eq!(trusts.id(&b.trust_location), V::from(0));
        assert_eq!(trusts.id(&a.trust_location), V::from(1));
        assert_eq!(trusts.id(&c.trust_location), V::from(1));
        let world = World::default();
        let mut builder = Builder::new(&world);
        let named = HashMap::from([("consumer", vec![&a, &b]), ("other", vec![&b])]);
        let keys = trusted_namespace_keys(&mut builder, &trusts, &named);
        let key = |name: &str| keys.get(&V::from(name)).cloned();
        assert_eq!(
            key("consumer"),
            Some(V::from(vec![V::from(1), V::from("t1")]))
        );
        assert_eq!(key("other"), Some(V::from(vec![V::from(0), V::from("t1")])));
    }

    /// ServiceAccount `t9:t9-consumer`, written in file 9.
    fn account() -> ServiceAccount {
        ServiceAccount {
            namespace: Some("t9".into()),
            namespace_location: Some(Location::File(FileId(9))),
            name: "t9-consumer".into(),
            role_arn: Some("arn:aws:iam::123456789012:role/consumer".into()),
            tenant: None,
            source: AccountSource::Manifest,
            location: Location::File(FileId(9)),
            role_location: None,
        }
    }

    #[test]
    fn accounts_a_finding_may_group_share_a_part_key() {
        let sa = account();
        let first = Location::File(FileId(1));
        // In a trusted namespace (or not known): grouped by the trust line of the first role.
        let (a, b) = (role(1, Some(&["t1:x", "t2:x"])), role(2, Some(&["t3:x"])));
        assert_eq!(
            part_key(&sa, Some(&[&a, &b]), false),
            PartKey::TrustLine(&first)
        );
        // In another namespace: by the first role's one namespace (its `namespace_key`)...
        let b = role(2, Some(&["t3:x"]));
        let a = role(1, Some(&["t1:x"]));
        assert_eq!(
            part_key(&sa, Some(&[&a, &b]), true),
            PartKey::TrustedNamespace(&first, "t1")
        );
        // ... else by the one namespace all roles of the name trust (`trusted_namespace_key`).
        let empty = role(1, Some(&[]));
        assert_eq!(
            part_key(&sa, Some(&[&empty, &b]), true),
            PartKey::TrustedNamespace(&first, "t3")
        );
        // Neither: no grouped finding, nor a role Terraform creates.
        let two = role(1, Some(&["t1:x", "t2:x"]));
        let alone = PartKey::Alone(Some("t9"), "t9-consumer", sa.role_arn.as_deref());
        assert_eq!(part_key(&sa, Some(&[&two]), true), alone);
        assert_eq!(part_key(&sa, None, false), alone);
    }

    /// Subject `ns:sa`, compared with `StringEquals` when `exact`, else `StringLike`.
    fn subject(text: &str, exact: bool) -> Subject {
        let (namespace, service_account) = text.split_once(':').expect("ns:sa");
        Subject {
            namespace: namespace.into(),
            service_account: service_account.into(),
            exact,
        }
    }

    /// `trusted_words` says what the Rego it replaced said, as regorus evaluates it: subjects
    /// repeated across roles, orders where the backquotes matter (`a:b` against `a-x:b`),
    /// upper case and multibyte text, wildcards compared exactly or not, a role with no
    /// subject and one whose trust is unknown.
    #[test]
    fn trusted_words_agree_with_the_rego_they_replaced() {
        let with = |subjects: Option<Vec<Subject>>| Role {
            subjects,
            ..role(1, None)
        };
        let cases: Vec<Vec<Role>> = vec![
            vec![with(Some(vec![subject("t1:consumer", true)]))],
            vec![
                with(Some(vec![subject("t1:a", true)])),
                with(Some(vec![subject("t2:b", true), subject("t1:a", true)])),
            ],
            vec![with(Some(vec![
                subject("a:b", true),
                subject("a-x:b", true),
                subject("a:b-c", true),
                subject("A:b", true),
                subject("é:x", true),
                subject("e:x", true),
            ]))],
            vec![with(Some(vec![subject("t1:*", true)]))],
            vec![with(Some(vec![subject("t1:*", false)]))],
            vec![with(Some(vec![
                subject("t?:x", true),
                subject("t1:x", false),
            ]))],
            vec![with(Some(vec![]))],
            vec![with(None), with(Some(vec![subject("t1:x", true)]))],
            vec![],
        ];
        let mut engine = regorus::Engine::new();
        for roles in &cases {
            // The roles as `input.irsa.roles` has them: the fields the old Rego read.
            let input: Vec<serde_json::Value> = roles
                .iter()
                .map(|r| {
                    let subjects = r.subjects.as_ref().map(|l| {
                        l.iter()
                            .map(|x| {
                                let text = x.to_string();
                                serde_json::json!({
                                    "text": text, "exact": x.exact,
                                    "wildcard": text.contains(['*', '?']),
                                })
                            })
                            .collect::<Vec<_>>()
                    });
                    // An unknown trust leaves the key out, as `Builder::object` does.
                    match subjects {
                        Some(list) => serde_json::json!({ "subjects": list }),
                        None => serde_json::json!({}),
                    }
                })
                .collect();
            engine.set_input(regorus::Value::from(serde_json::Value::from(input)));
            let query = r#"[concat(", ", sort({sprintf("`%s`", [s.text]) | some r in input; some s in r.subjects})), count([1 | some r in input; some s in r.subjects; s.exact; s.wildcard]) > 0]"#;
            let results = engine
                .eval_query(query.to_string(), false)
                .expect("the query evaluates");
            let rego = &results.result[0].expressions[0].value;
            let refs: Vec<&Role> = roles.iter().collect();
            let (text, exact_wildcard) = trusted_words(&refs);
            let host = regorus::Value::from(vec![
                regorus::Value::from(text.as_str()),
                regorus::Value::from(exact_wildcard),
            ]);
            assert_eq!(&host, rego, "{roles:?}");
        }
    }

    /// Two of the three functions of `irsa.rego` that `mismatch` replaced (`trust_words`,
    /// `trust_primary`), verbatim but for where they read the roles of the name
    /// (`input.roles`) and the ServiceAccounts that exist (`input.subjects`), and
    /// `trust_primary` naming the place it picks; then the related label at the trust, as the
    /// finding wrote it. The third, `trust_help`, is replaced by [`trust_help`].
    const MISMATCH_REGO: &str = r#"package old
import rego.v1

trust_primary(sa) := "namespace" if {
	sa.namespace_at
	sa.namespace_admitted == false
} else := "arn" if {
	some r in input.roles
	some s in r.subjects
	input.subjects[s.text]
} else := "name" if {
	sa.named_at
} else := "arn"

trust_words(sa, role) := sprintf("ServiceAccount `%s:%s` uses role `%s` through IRSA, but the role trusts only EKS Pod Identity (`pods.eks.amazonaws.com`), not the cluster's OIDC provider: AssumeRoleWithWebIdentity is denied", [sa.namespace, sa.name, sa.role]) if {
	sa.trusted == ""
	role.pod_identity
} else := sprintf("ServiceAccount `%s:%s` uses role `%s`, whose trust policy admits no ServiceAccount", [sa.namespace, sa.name, sa.role]) if {
	sa.trusted == ""
} else := sprintf("ServiceAccount `%s:%s` uses role `%s`, but the role trusts only %s (compared with `StringEquals`, where `*` is a plain character; wildcards need `StringLike`): AssumeRoleWithWebIdentity is denied at run time", [
	sa.namespace, sa.name, sa.role, sa.trusted,
]) if {
	sa.exact_wildcard
} else := sprintf("ServiceAccount `%s:%s` uses role `%s`, but the role trusts only %s: AssumeRoleWithWebIdentity is denied at run time", [
	sa.namespace, sa.name, sa.role, sa.trusted,
])

role := input.roles[0]

out := [trust_words(input.sa, role), trust_primary(input.sa), sprintf("%s trusts this in %s", [role.kind, role.address])]
"#;

    /// `mismatch` says and points where the Rego it replaced did, as regorus evaluates it: roles
    /// that trust only Pod Identity or nothing, a `*` under `StringEquals` or `StringLike`,
    /// several roles of one name (an empty first one), a namespace no subject is in, a trusted
    /// subject that exists (also one whose text splits at a second colon) and one that does
    /// not, and roles of two kinds in two instances (the label at the trust). The help is no
    /// longer the Rego's (it told users to run as `*`, or as `b:c`):
    /// `the_help_names_only_what_can_be_written` pins it.
    #[test]
    fn mismatch_agrees_with_the_rego_it_replaced() {
        let with = |subjects: Vec<Subject>, pod_identity: bool| Role {
            subjects: Some(subjects),
            pod_identity,
            ..role(1, None)
        };
        let mut world = World::default();
        for address in [
            r#"module.tenant["t9"].aws_iam_role.consumer"#,
            "module.irsa_t8",
        ] {
            world.infra.instances.push(Instance {
                address: address.into(),
                dir: "modules/tenant".into(),
                repo: 0,
                tenant: None,
                location: Location::File(FileId(0)),
            });
        }
        for (namespace, name) in [("t1", "api"), ("a:b", "c")] {
            world.service_accounts.push(ServiceAccount {
                namespace: Some(namespace.into()),
                name: name.into(),
                ..account()
            });
        }
        let existing = subjects(&world);
        let cases: Vec<(Vec<Role>, bool)> = vec![
            (vec![with(vec![], true)], false),
            (vec![with(vec![], false)], false),
            (vec![with(vec![subject("t9:*", true)], false)], false),
            (vec![with(vec![subject("t9:*", false)], false)], false),
            (vec![with(vec![subject("t9:web", true)], false)], false),
            (
                vec![
                    with(vec![subject("t9:b", true), subject("t9:a", true)], false),
                    with(vec![subject("t8:c", true)], false),
                ],
                false,
            ),
            (
                vec![
                    with(vec![], false),
                    with(vec![subject("t8:c", true)], false),
                ],
                true,
            ),
            (
                vec![Role {
                    kind: RoleKind::IrsaModuleV6,
                    instance: 1,
                    ..with(vec![subject("t8:c", true)], false)
                }],
                false,
            ),
            (vec![with(vec![subject("t1:api", true)], false)], true),
            (vec![with(vec![subject("t1:api", true)], false)], false),
            (vec![with(vec![subject("a:b:c", true)], false)], false),
            (vec![with(vec![subject("a:b:d", true)], false)], false),
        ];
        let mut engine = regorus::Engine::new();
        engine
            .add_policy("old.rego".into(), MISMATCH_REGO.into())
            .expect("the old functions compile");
        for (roles, namespace_wrong) in &cases {
            let refs: Vec<&Role> = roles.iter().collect();
            let (trusted, exact_wildcard) = trusted_words(&refs);
            let mut sa = serde_json::json!({
                "namespace": "t9", "name": "t9-consumer", "role": "consumer",
                "trusted": trusted, "named_at": 1, "namespace_at": 2,
                "namespace_admitted": !namespace_wrong,
            });
            // Only a `true` is written, as the input did.
            if exact_wildcard {
                sa["exact_wildcard"] = true.into();
            }
            let input_roles: Vec<serde_json::Value> = roles
                .iter()
                .map(|r| {
                    let subjects: Vec<serde_json::Value> = r
                        .subjects
                        .iter()
                        .flatten()
                        .map(|x| {
                            serde_json::json!({
                                "namespace": x.namespace, "service_account": x.service_account,
                                "text": x.to_string(),
                            })
                        })
                        .collect();
                    serde_json::json!({
                        "pod_identity": r.pod_identity, "subjects": subjects,
                        "kind": kind_name(r.kind),
                        "address": world.infra.instances[r.instance].address,
                    })
                })
                .collect();
            let input = serde_json::json!({
                "sa": sa, "roles": input_roles,
                "subjects": {"t1:api": true, "a:b:c": true},
            });
            engine.set_input(regorus::Value::from(input));
            let rego = engine
                .eval_rule("data.old.out".into())
                .expect("the old functions evaluate");
            let host = mismatch(
                ("t9", "t9-consumer", "consumer"),
                &refs,
                *namespace_wrong,
                (&world, &existing),
            );
            let place = match host.primary {
                Primary::Trust => "trust",
                Primary::Namespace => "namespace",
                Primary::RoleArn => "arn",
                Primary::Name => "name",
            };
            let host = regorus::Value::from(vec![
                regorus::Value::from(host.msg),
                regorus::Value::from(place),
                regorus::Value::from(host.trust_label),
            ]);
            assert_eq!(host, rego, "{roles:?}, namespace wrong: {namespace_wrong}");
        }
    }

    /// The help and the place of the mismatch of ServiceAccount `t9:t9-api`, whose ARN names
    /// role `consumer`, against the role `r` (no ServiceAccount exists).
    fn help_and_place(world: &World, r: &Role, namespace_wrong: bool) -> (String, Primary) {
        let existing = std::collections::BTreeMap::new();
        let m = mismatch(
            ("t9", "t9-api", "consumer"),
            &[r],
            namespace_wrong,
            (world, &existing),
        );
        (m.help, m.primary)
    }

    /// A trust entry to change is found inside its trust when it is written there, quoted,
    /// once; near misses: written twice, written through an interpolation, a trust that is a
    /// whole file, no entry to find.
    #[test]
    fn an_entry_is_its_own_place_only_when_written_once_in_the_trust() {
        let mut world = World::default();
        let text = "list = [\n  \"t1:t1-api\",\n  \"t1/t1-cron\",\n  \"${local.ns}/t1-x\",\n  \"t1/t1-cron\",\n]\n";
        world.files.push(gitops_lint_core::source::SourceFile::new(
            FileId(0),
            0,
            "main.tf".into(),
            "main.tf".into(),
            gitops_lint_core::source::FileKind::Other,
            text.into(),
        ));
        let list_start = text.find('[').unwrap_or(0);
        let trust = |end: usize| {
            Location::Span(Span {
                file: FileId(0),
                start: list_start,
                end,
            })
        };
        let shown = |place: Option<Span>| place.map(|s| &text[s.start..s.end]);
        // The first three entries only: `t1/t1-cron` is written once there.
        let first_three = trust(text.find("  \"t1/t1-cron\",\n]").unwrap_or(0));
        assert_eq!(
            shown(entry_place(&world, &first_three, Some("t1/t1-cron"))),
            Some("\"t1/t1-cron\"")
        );
        assert_eq!(
            shown(entry_place(&world, &first_three, Some("t1:t1-api"))),
            Some("\"t1:t1-api\"")
        );
        let whole = trust(text.len());
        assert_eq!(entry_place(&world, &whole, Some("t1/t1-cron")), None);
        assert_eq!(entry_place(&world, &whole, Some("t1/t1-x")), None);
        assert_eq!(entry_place(&world, &whole, None), None);
        let file = Location::File(FileId(0));
        assert_eq!(entry_place(&world, &file, Some("t1:t1-api")), None);
    }

    /// A World whose Terraform has one instance (`envs/prd`), the one `role` names.
    fn world_with_one_instance() -> World {
        let mut world = World::default();
        world.infra.instances.push(Instance {
            address: "envs/prd".into(),
            dir: "envs/prd".into(),
            repo: 0,
            tenant: None,
            location: Location::File(FileId(0)),
        });
        world
    }

    /// The help of a trust mismatch tells the user to run as a trusted subject only when a
    /// ServiceAccount can be so named, says where to write this one for the role's kind, offers
    /// `StringLike` for a `*` compared exactly (by the module's variable), and, when the trust
    /// says `system:serviceaccount:` twice, points at the trust and says to write the prefix
    /// once; near misses: a namespace really called `system`, and a doubled subject meant for
    /// another ServiceAccount (the usual help then).
    #[test]
    fn the_help_names_only_what_can_be_written() {
        let world = world_with_one_instance();
        let help = |kind: RoleKind, subjects: Vec<Subject>| {
            let r = Role {
                kind,
                subjects: Some(subjects),
                ..role(1, None)
            };
            help_and_place(&world, &r, false)
        };
        let (v5, v6, plain) = (
            RoleKind::IrsaModuleV5,
            RoleKind::IrsaModuleV6,
            RoleKind::IamRole,
        );
        let cases: Vec<(RoleKind, Subject, &str, Primary)> = vec![
            (v5, subject("t9:web", true), "run the ServiceAccount as `web` in namespace `t9`, or trust `t9:t9-api` in the role's `namespace_service_accounts`", Primary::Name),
            (plain, subject("t9:web", true), "run the ServiceAccount as `web` in namespace `t9`, or trust `system:serviceaccount:t9:t9-api` in the role's `:sub` condition", Primary::Name),
            (v5, subject("system:web", true), "run the ServiceAccount as `web` in namespace `system`, or trust `t9:t9-api` in the role's `namespace_service_accounts`", Primary::Name),
            (v5, subject("t9:*", true), "trust `t9:t9-api` in the role's `namespace_service_accounts`, or set the module's `assume_role_condition_test` to `StringLike` so that `*` in `t9:*` matches any characters", Primary::Name),
            (v6, subject("t9:web-*", true), "trust `t9:t9-api` in the role's `namespace_service_accounts`, or set the module's `trust_condition_test` to `StringLike` so that `*` in `t9:web-*` matches any characters", Primary::Name),
            (plain, subject("t9:*", true), "trust `system:serviceaccount:t9:t9-api` in the role's `:sub` condition, or compare with `StringLike` so that `*` in `t9:*` matches any characters", Primary::Name),
            (v5, subject("t9:web-*", false), "trust `t9:t9-api` in the role's `namespace_service_accounts`", Primary::Name),
            (v5, subject("a:b:c", true), "trust `t9:t9-api` in the role's `namespace_service_accounts`", Primary::Name),
            (v5, subject("system:serviceaccount:t9:t9-api", true), "write the entry as `t9:t9-api`, without `system:serviceaccount:` (the module adds it)", Primary::Trust),
            (v6, subject("system:serviceaccount:t9:*", false), "write the entry as `t9:*`, without `system:serviceaccount:` (the module adds it)", Primary::Trust),
            (plain, subject("system:serviceaccount:t9:t9-api", true), "write `system:serviceaccount:t9:t9-api` in the role's `:sub` condition, with `system:serviceaccount:` once", Primary::Trust),
            (v5, subject("system:serviceaccount:t9:web", true), "trust `t9:t9-api` in the role's `namespace_service_accounts`", Primary::Name),
        ];
        for (kind, x, want, primary) in cases {
            let shown = format!("{kind:?} {x}");
            assert_eq!(help(kind, vec![x]), (want.to_string(), primary), "{shown}");
        }
        let empty = help(v5, vec![]);
        assert_eq!(empty.0, "trust `t9:t9-api` in the role");
    }

    /// A trust entry that names no ServiceAccount is the place to change, with the entry to
    /// write, when written as one it would admit the ServiceAccount. Near misses (the usual
    /// words and place): meant for another, no separator, two of them, a pattern.
    #[test]
    fn an_entry_that_names_no_account_is_the_place_when_it_was_meant_for_this_one() {
        let world = world_with_one_instance();
        let case = |kind: RoleKind, written: &str| {
            let r = Role {
                kind,
                subjects: Some(Vec::new()),
                malformed: vec![written.to_string()],
                ..role(1, None)
            };
            help_and_place(&world, &r, true)
        };
        let (v5, plain) = (RoleKind::IrsaModuleV5, RoleKind::IamRole);
        let sub = "write `system:serviceaccount:t9:t9-api` in the role's `:sub` condition";
        assert_eq!(
            case(v5, "t9/t9-api"),
            ("write the entry as `t9:t9-api`".to_string(), Primary::Trust)
        );
        assert_eq!(case(plain, "t9:t9-api"), (sub.to_string(), Primary::Trust));
        assert_eq!(
            case(plain, "system:serviceaccount:t9/t9-api"),
            (sub.to_string(), Primary::Trust)
        );
        for (kind, written) in [
            (v5, "t9/web"),
            (v5, "t9-api"),
            (v5, "t9/t9/api"),
            (v5, "system:serviceaccount:t9/t9-api"),
            (plain, "t9:t9-api:x"),
            (plain, "t9/*"),
        ] {
            let (help, primary) = case(kind, written);
            assert_eq!(primary, Primary::Namespace, "{kind:?} {written}: {help}");
        }
    }

    /// A trust mismatch follows `tenant/namespace-mismatch` only where that finding's fix (the
    /// tenant's own namespace) is this one's fix too.
    #[test]
    fn a_mismatch_follows_the_namespace_finding_only_when_the_tenants_namespace_is_trusted() {
        let world = world_with_one_instance();
        let existing = std::collections::BTreeMap::new();
        let follows = |tenant: Option<&str>, trusted: &[&str], namespace_wrong: bool| {
            let r = role(1, Some(trusted));
            let sa = ServiceAccount {
                tenant: tenant.map(str::to_string),
                ..account()
            };
            let m = mismatch(
                ("t9", "t9-consumer", "consumer"),
                &[&r],
                namespace_wrong,
                (&world, &existing),
            );
            follows_namespace(&m, &sa, &[&r])
        };
        // Tenant `t1` deployed to `t9`, its roles trusting `t1`: one fix.
        assert!(follows(Some("t1"), &["t1:t9-consumer"], true));
        assert!(follows(Some("t1"), &["other:x", "t1:t9-consumer"], true));
        assert!(!follows(Some("t1"), &["t1:t9-producer"], true));
        // Its roles trust a third namespace: moving to `t1` would not do.
        assert!(!follows(Some("t1"), &["t3:t9-consumer"], true));
        // No tenant known (a plain manifest), or the namespace is the tenant's own.
        assert!(!follows(None, &["t1:t9-consumer"], true));
        assert!(!follows(Some("t9"), &["t9:web"], false));
        // The namespace is trusted (the name differs): the place is not the namespace.
        assert!(!follows(Some("t1"), &["t9:web", "t1:t9-consumer"], false));
    }

    /// `unrendered` says what the Rego it replaced said, as regorus evaluates it, on tokens of
    /// both kinds, their near misses (lowercase, a digit first, unclosed, one underscore),
    /// tokens at either end, and text around them.
    #[test]
    fn unrendered_agrees_with_the_rego_it_replaced() {
        let arns = [
            "arn:aws:iam::123456789012:role/consumer-role-t1",
            "arn:aws:iam::{ACCOUNT_ID}:role/x",
            "arn:aws:iam::{{ .Values.accountId }}:role/x",
            "arn:aws:iam::<AWS_ACCOUNT_ID>:role/x",
            "arn:aws:iam::<aws_account_id>:role/x",
            "arn:aws:iam::<1ACCOUNT>:role/x",
            "arn:aws:iam::<ACCOUNT:role/x",
            "arn:aws:iam::<A>:role/x",
            "<A>",
            "<A",
            "<>",
            "arn:aws:iam::<ACCOUNT-ID>:role/x",
            "arn:aws:iam::__ACCOUNT__:role/x",
            "arn:aws:iam::__ACCOUNT_ID__:role/x",
            "arn:aws:iam::__A__:role/x",
            "__A__",
            "__A_",
            "__A___",
            "___A__",
            "____",
            "__a__",
            "__1A__",
            "arn:aws:iam::__ACCOUNT_:role/x",
            "arn:aws:iam::_ACCOUNT_:role/x",
            "arn:aws:iam::__ACCOUNT__x:role/x",
            "x__AB_C9__y",
            "__AB-C__",
            "<AB_9>__",
            "é<AÉ>",
            "é__É__",
            "",
        ];
        let mut engine = regorus::Engine::new();
        for arn in arns {
            engine.set_input(regorus::Value::from(arn));
            // Both tests of the old `rendered` rule, as one array.
            let query = r#"[contains(input, "{"), regex.match(`<[A-Z][A-Z0-9_]*>|__[A-Z][A-Z0-9_]*__`, input)]"#;
            let results = engine
                .eval_query(query.to_string(), false)
                .expect("the query evaluates");
            let tests = results.result[0].expressions[0]
                .value
                .as_array()
                .expect("an array")
                .clone();
            let rego = tests.contains(&regorus::Value::from(true));
            assert_eq!(unrendered(arn), rego, "`{arn}`: regorus says {tests:?}");
        }
    }

    #[test]
    fn role_arns() {
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/consumer-role-t1").is_ok());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/team/ci/x").is_ok());
        assert!(parse_role_arn("arn:aws:iam:::role/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::12345:role/x").is_err());
        assert!(parse_role_arn("arn:aws:iam::123456789012:role/a b").is_err());
        assert!(parse_role_arn("consumer-role").is_err());
        let long = format!("arn:aws:iam::123456789012:role/{}", "a".repeat(65));
        assert!(parse_role_arn(&long).is_err());
    }
}
