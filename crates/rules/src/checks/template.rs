//! `yaml/unrendered-placeholder`, part two: tier templates. Each template is rendered the way
//! onboarding's `sed` renders it, with realistic values (every valid tenant id of the tier), and
//! the result is parsed again: a placeholder that renders to YAML that does not parse, or to an
//! invalid Kubernetes or Helm name, is reported at the template. So is a placeholder that
//! onboarding does not replace at all.

use super::unrendered::RULE;
use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::display_path;
use gitops_lint_core::source::{key_path, FileKind, PathSeg, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_matchers::k8s_names::{problem, NameKind};
use gitops_lint_model::view::value_at as get;
use gitops_lint_model::World;
use gitops_lint_syntax::placeholder::{scan, unmask};
use gitops_lint_syntax::pointer::Lookup;
use gitops_lint_syntax::scalar::resolve_plain;
use gitops_lint_syntax::yaml;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The placeholders onboarding's `sed` replaces, with the stand-in value used to render.
pub(crate) const KNOWN: [(&str, &str); 5] = [
    ("TENANT_ID", "tenant-1"),
    ("RELEASE_VERSION", "1.0.0"),
    ("ACCOUNT_ID", "123456789012"),
    ("REGION", "us-east-1"),
    ("ENVIRONMENT_ID", "pool-1"),
];

/// A name field that renders badly: the template's value, why, its rule, and the tenant ids.
type NameIssue = (String, String, NameKind, Vec<String>);

/// One replaced token: its bytes in the template and in the rendered text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seg {
    orig: (usize, usize),
    out: (usize, usize),
}

/// A rendered template and the map back to the template's bytes.
#[derive(Debug)]
struct Rendered {
    text: String,
    segs: Vec<Seg>,
}

impl Rendered {
    /// The template offset of a rendered offset (inside a replaced value: the token's start).
    fn to_template(&self, out: usize) -> usize {
        let mut shift: isize = 0;
        for s in &self.segs {
            if out < s.out.0 {
                break;
            }
            if out < s.out.1 {
                return s.orig.0;
            }
            shift = s.orig.1 as isize - s.out.1 as isize;
        }
        (out as isize + shift).max(0) as usize
    }
}

/// Renders `text` like `sed -e 's|{NAME}|value|g'` for every known placeholder. Unknown
/// placeholders (reported on their own) are masked to same-length stand-ins so that they do
/// not also break the render.
fn render(text: &str, tenant: &str) -> Rendered {
    let unknown: BTreeSet<usize> = scan(text)
        .into_iter()
        .filter(|t| !KNOWN.iter().any(|(n, _)| *n == t.name))
        .map(|t| t.start)
        .collect();
    let mut out = String::with_capacity(text.len() + 64);
    let mut segs = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with('{') {
            let known = KNOWN.iter().find(|(n, _)| {
                rest[1..].starts_with(n) && rest.as_bytes().get(n.len() + 1) == Some(&b'}')
            });
            if let Some((name, value)) = known {
                let value = if *name == "TENANT_ID" { tenant } else { value };
                let start = out.len();
                out.push_str(value);
                segs.push(Seg {
                    orig: (i, i + name.len() + 2),
                    out: (start, out.len()),
                });
                i += name.len() + 2;
                continue;
            }
            if unknown.contains(&i) {
                out.push('_');
                i += 1;
                if let Some(close) = text[i..].find('}') {
                    out.push_str(&text[i..i + close]);
                    out.push('_');
                    i += close + 1;
                }
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    Rendered { text: out, segs }
}

/// Shows a masked value as the template spells it, preferring the known placeholder names
/// (`_TENANT_ID__premium` is `{TENANT_ID}_premium`, which plain unmasking cannot tell).
fn unmask_known(masked: &str) -> String {
    let mut out = String::with_capacity(masked.len());
    let mut rest = masked;
    'outer: while let Some(c) = rest.chars().next() {
        if c == '_' {
            for (name, _) in KNOWN {
                let token_len = name.len() + 2;
                if rest[1..].starts_with(name) && rest.as_bytes().get(token_len - 1) == Some(&b'_')
                {
                    out.push('{');
                    out.push_str(name);
                    out.push('}');
                    rest = &rest[token_len..];
                    continue 'outer;
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if out == masked {
        unmask(masked)
    } else {
        out
    }
}

/// The first syntax error of a rendered template, at the replaced placeholder nearest to it
/// (on the same line if there is one), in template bytes.
fn render_error(
    file: &SourceFile,
    rendered: &Rendered,
    loaded: &yaml::LoadedYaml,
) -> Option<((usize, usize), String)> {
    let issue = loaded
        .issues
        .iter()
        .find(|i| i.rule == RuleId::YAML_SYNTAX)?;
    let at = rendered.to_template(issue.start);
    let line = file.line_index(at);
    let span = rendered
        .segs
        .iter()
        .map(|s| s.orig)
        .min_by_key(|(s, _)| (file.line_index(*s) != line, s.abs_diff(at)))?;
    Some((span, issue.message.clone()))
}

/// Name fields that placeholders typically fill, with the rule each follows.
fn name_fields(doc: &Value) -> Vec<(Vec<PathSeg>, NameKind)> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let helm_app = kind == "Application"
        && doc.lookup("/spec/source/helm").is_some()
        && doc.lookup("/spec/source/helm/releaseName").is_none();
    // Argo CD passes the Application name as the Helm release name when none is set.
    let name_kind = if kind == "Namespace" {
        NameKind::Label
    } else if helm_app {
        NameKind::HelmRelease
    } else {
        NameKind::Subdomain
    };
    vec![
        (key_path(&["metadata", "name"]), name_kind),
        (key_path(&["metadata", "namespace"]), NameKind::Label),
        (key_path(&["spec", "releaseName"]), NameKind::HelmRelease),
        (key_path(&["spec", "targetNamespace"]), NameKind::Label),
        (key_path(&["spec", "storageNamespace"]), NameKind::Label),
        (
            key_path(&["spec", "destination", "namespace"]),
            NameKind::Label,
        ),
        (
            key_path(&["spec", "source", "helm", "releaseName"]),
            NameKind::HelmRelease,
        ),
    ]
}

/// The template value with everything outside `{PLACEHOLDER}` tokens made name-safe.
fn name_safe(template: &str) -> String {
    let mut out = String::new();
    let mut i = 0;
    let tokens = scan(template);
    for t in &tokens {
        out.extend(template[i..t.start].chars().map(safe_char));
        out.push_str(&template[t.start..t.end]);
        i = t.end;
    }
    out.extend(template[i..].chars().map(safe_char));
    out
}

fn safe_char(c: char) -> char {
    if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
        c.to_ascii_lowercase()
    } else {
        '-'
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// "for `tenant-1`" or "for `tenant-1` and 3 other tenants of the premium tier".
fn for_tenants(ids: &[String], tier: &str) -> String {
    match ids {
        [] => String::new(),
        [one] => format!("TENANT_ID=`{one}`"),
        [first, rest @ ..] => format!(
            "TENANT_ID=`{first}` and {} other {tier} tenant{}",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" }
        ),
    }
}

/// The tenant ids to render a template of `tier` with: the tier's tenants with valid ids
/// (an invalid tenant id is the tenant's problem, not the template's), else `tenant-1`.
///
/// Ids are grouped into classes that render alike: a valid id is made of `[a-z0-9-]`, so the
/// only things that can change how the rendered YAML parses or whether a name fits are its
/// length and how YAML resolves it as a plain scalar (`123` is a number). One render per
/// class keeps a tier of thousands of tenants cheap; every id of a failing class is reported.
fn tenant_classes(world: &World, tier: &str) -> Vec<Vec<String>> {
    let ids: BTreeSet<&str> = world
        .tenants
        .iter()
        .filter(|t| !t.template && t.tier == tier && problem(&t.id, NameKind::Label).is_none())
        .map(|t| t.id.as_str())
        .collect();
    if ids.is_empty() {
        return vec![vec![KNOWN[0].1.to_string()]];
    }
    let mut classes: BTreeMap<(usize, &'static str), Vec<String>> = BTreeMap::new();
    for id in ids {
        let key = (id.len(), type_name(&resolve_plain(id)));
        classes.entry(key).or_default().push(id.to_string());
    }
    classes.into_values().collect()
}

fn check_template(world: &World, file: &SourceFile, findings: &mut Vec<Finding>) {
    let name = file.rel_path.rsplit('/').next().unwrap_or("");
    let tier = name.split('_').next().unwrap_or("");
    let tokens = scan(&file.text);
    for t in tokens.iter().filter(|t| !t.comment && !t.substitution) {
        if KNOWN.iter().any(|(n, _)| *n == t.name) {
            continue;
        }
        let known = KNOWN
            .iter()
            .map(|(n, _)| format!("`{{{n}}}`"))
            .collect::<Vec<_>>()
            .join(", ");
        findings.push(
            Finding::new(
                RULE,
                format!("`{{{}}}` is not a placeholder onboarding's `sed` replaces ({known}), so every tenant rendered from this template keeps it literally", t.name),
                Location::Span(Span { file: file.id, start: t.start, end: t.end }),
            )
            .with_help(format!("use one of {known}, or add `s|{{{}}}|...|g` to the onboarding `sed` command", t.name)),
        );
    }
    if !tokens
        .iter()
        .any(|t| KNOWN.iter().any(|(n, _)| *n == t.name))
    {
        return;
    }
    // If the masked template does not parse, `yaml/syntax` already said so.
    let masked_parses = !yaml::load(&gitops_lint_syntax::parse_text(file))
        .issues
        .iter()
        .any(|i| i.rule == RuleId::YAML_SYNTAX);
    let masked_docs = &world.yaml[file.id.0 as usize];
    // Findings keyed by where they point, with the tenant ids that trigger them.
    let mut syntax: BTreeMap<(usize, usize), (String, Vec<String>)> = BTreeMap::new();
    let mut names: BTreeMap<(usize, Vec<PathSeg>), NameIssue> = BTreeMap::new();
    let uses_tenant = tokens.iter().any(|t| t.name == "TENANT_ID");
    let classes = if uses_tenant {
        tenant_classes(world, tier)
    } else {
        vec![vec![KNOWN[0].1.to_string()]]
    };
    for class in &classes {
        let Some(id) = class.first() else { continue };
        let rendered = render(&file.text, id);
        let loaded = yaml::load(&rendered.text);
        if masked_parses {
            if let Some((span, message)) = render_error(file, &rendered, &loaded) {
                syntax
                    .entry(span)
                    .or_insert_with(|| (message, Vec::new()))
                    .1
                    .extend(class.iter().cloned());
            }
        }
        for (d, doc) in loaded.docs.iter().enumerate() {
            let Some(masked) = masked_docs.get(d) else {
                continue;
            };
            for (path, kind) in name_fields(&doc.value) {
                let Some(template_value) = get(&masked.value, &path).and_then(Value::as_str) else {
                    continue;
                };
                let template_value = unmask_known(template_value);
                if !template_value.contains('{') {
                    continue;
                }
                let Some(value) = get(&doc.value, &path) else {
                    continue;
                };
                let why = match value.as_str() {
                    Some(s) => problem(s, kind).map(|p| (s.to_string(), p)),
                    None => Some((
                        value.to_string(),
                        format!("YAML reads it as {}, not a string", type_name(value)),
                    )),
                };
                if let Some((rendered_value, mut why)) = why {
                    let fixed = rendered_value
                        .chars()
                        .count()
                        .saturating_sub(id.chars().count());
                    if why.contains("characters long")
                        && template_value.matches("{TENANT_ID}").count() == 1
                    {
                        why.push_str(&format!(
                            "; this name leaves room for tenant ids of at most {} characters",
                            kind.max_len().saturating_sub(fixed)
                        ));
                    }
                    names
                        .entry((d, path))
                        .or_insert_with(|| {
                            (
                                template_value.clone(),
                                format!("`{rendered_value}`: {why}"),
                                kind,
                                Vec::new(),
                            )
                        })
                        .3
                        .extend(class.iter().cloned());
                }
            }
        }
    }
    for ((start, end), (message, ids)) in syntax {
        findings.push(
            Finding::new(
                RULE,
                format!("rendered with {} (as onboarding's `sed` renders it), this template is not valid YAML: {message}", for_tenants(&ids, tier)),
                Location::Span(Span { file: file.id, start, end }),
            )
            .with_help("quote the value that holds the placeholder (`\"...\"`), so that any rendered value stays one string"),
        );
    }
    for ((d, path), (template_value, why, kind, ids)) in names {
        let field = display_path(&path);
        let safe = name_safe(&template_value);
        let help = if safe != template_value {
            format!("write `{safe}`")
        } else {
            "shorten the fixed part of the name around the placeholder, and have onboarding reject tenant ids that do not fit".to_string()
        };
        findings.push(
            Finding::new(
                RULE,
                format!(
                    "`{field}: {template_value}` renders with {} to {why}; it must be {}",
                    for_tenants(&ids, tier),
                    kind.describe()
                ),
                Location::value(file.id, d, path),
            )
            .with_help(help),
        );
    }
}

/// Checks every tier template.
pub fn check(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in world
        .files
        .iter()
        .filter(|f| f.kind == FileKind::TierTemplate)
    {
        check_template(world, file, &mut findings);
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_sed_and_maps_offsets_back() {
        let t = "name: {TENANT_ID}-x\nacct: \"{ACCOUNT_ID}\"\nother: {FOO}\n";
        let r = render(t, "tenant-abc");
        assert_eq!(
            r.text,
            "name: tenant-abc-x\nacct: \"123456789012\"\nother: _FOO_\n"
        );
        // `-x` after the tenant id maps back to `-x` after the token.
        let out = r.text.find("-x").unwrap_or(0);
        assert_eq!(&t[r.to_template(out)..r.to_template(out) + 2], "-x");
        // Inside a replaced value: the token's start.
        assert_eq!(r.to_template(8), t.find('{').unwrap_or(0));
        let other = r.text.find("other").unwrap_or(0);
        assert_eq!(r.to_template(other), t.find("other").unwrap_or(0));
    }

    #[test]
    fn a_render_that_breaks_yaml_points_at_the_placeholder() {
        let text = "metadata:\n  name: {TENANT_ID}-x\n  region: {REGION}\n";
        let file = SourceFile::new(
            gitops_lint_core::source::FileId(0),
            0,
            "tier-templates/premium_tenant_template.yaml".into(),
            "tier-templates/premium_tenant_template.yaml".into(),
            FileKind::TierTemplate,
            text.to_string(),
        );
        // A stand-in with `: ` in it turns the value into a nested mapping: not YAML.
        let rendered = render(text, "a: b");
        let loaded = yaml::load(&rendered.text);
        let found = render_error(&file, &rendered, &loaded);
        let start = text.find("{TENANT_ID}").unwrap_or(0);
        assert_eq!(
            found.map(|(span, _)| span),
            Some((start, start + "{TENANT_ID}".len()))
        );
        let fine = render(text, "tenant-1");
        assert_eq!(render_error(&file, &fine, &yaml::load(&fine.text)), None);
    }

    #[test]
    fn name_safe_keeps_placeholders() {
        assert_eq!(name_safe("{TENANT_ID}_Premium"), "{TENANT_ID}-premium");
        assert_eq!(unmask_known("_TENANT_ID__premium"), "{TENANT_ID}_premium");
        assert_eq!(
            unmask_known("_ACCOUNT_ID_.x._REGION_"),
            "{ACCOUNT_ID}.x.{REGION}"
        );
    }
}
