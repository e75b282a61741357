//! `yaml/unrendered-placeholder`, part one: a `{TENANT_ID}`-style token left in a file that is
//! not a tier template, where onboarding's `sed` missed it or someone copied a template by hand.
//! Tier templates themselves are checked in [`super::template`].

use gitops_lint_core::finding::{Finding, Location};
use gitops_lint_core::source::{FileKind, SourceFile, Span};
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use gitops_lint_syntax::placeholder::{scan, Token};

/// The rule id shared with [`super::template`].
pub const RULE: RuleId = RuleId::YAML_UNRENDERED_PLACEHOLDER;

/// Whether the file sits in a tenants folder (`.../tenants/<tier>/<file>`): a rendered tenant.
fn is_tenant_file(file: &SourceFile) -> bool {
    let segments: Vec<&str> = file.rel_path.split('/').collect();
    segments.len() >= 3 && segments[segments.len() - 3] == "tenants"
}

/// How YAML reads an unquoted value that starts with the token.
fn yaml_reading(file: &SourceFile, token: &Token) -> Option<String> {
    if !token.starts_plain_value {
        return None;
    }
    let line_start = file.line_start(file.line_index(token.start));
    let before = file.text.get(line_start..token.start).unwrap_or("").trim();
    let shown = if before.is_empty() {
        format!("{{{}}}", token.name)
    } else {
        format!("{before} {{{}}}", token.name)
    };
    Some(if token.alone {
        format!(
            "; unquoted, YAML reads `{shown}` as the flow mapping `{{{}: null}}`, not as a string",
            token.name
        )
    } else {
        "; unquoted and followed by more text, the line is not even valid YAML".to_string()
    })
}

fn finding(file: &SourceFile, token: &Token) -> Finding {
    let placeholder = format!("{{{}}}", token.name);
    let mut message = if is_tenant_file(file) {
        format!("`{placeholder}` was never rendered: onboarding's `sed` replaces it in tier templates, but this file is a rendered tenant file")
    } else {
        format!("`{placeholder}` was never rendered: onboarding's `sed` replaces such tokens in tier templates, but this file is not a tier template, so it is applied exactly as written")
    };
    if let Some(reading) = yaml_reading(file, token) {
        message.push_str(&reading);
    }
    let value = match token.name {
        "TENANT_ID" if is_tenant_file(file) => format!("the tenant id (`{}`?)", file.stem()),
        "TENANT_ID" => "the tenant id".to_string(),
        "ACCOUNT_ID" => "the 12-digit AWS account id".to_string(),
        "REGION" => "the AWS region (`us-east-1`, ...)".to_string(),
        "RELEASE_VERSION" => "the chart version".to_string(),
        "ENVIRONMENT_ID" => "the pool name (`pool-1`, ...)".to_string(),
        _ => "the real value".to_string(),
    };
    Finding::new(
        RULE,
        message,
        Location::Span(Span {
            file: file.id,
            start: token.start,
            end: token.end,
        }),
    )
    .with_help(format!(
        "replace `{placeholder}` with {value}, and check that the onboarding `sed` command has a `s|{placeholder}|...|g` expression for it"
    ))
}

/// Checks every YAML file that is not a tier template.
pub fn check(world: &World) -> Vec<Finding> {
    let mut findings = Vec::new();
    for file in &world.files {
        if !file.kind.is_yaml() || file.kind == FileKind::TierTemplate {
            continue;
        }
        for token in scan(&file.text) {
            if !token.comment && !token.substitution {
                findings.push(finding(file, &token));
            }
        }
    }
    findings
}
