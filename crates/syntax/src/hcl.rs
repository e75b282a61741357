//! Terraform files through `hcl-edit` (via `hcl-rs`), which keeps spans for later evaluation.

use super::ParseIssue;
use gitops_lint_core::RuleId;

/// A parsed Terraform file.
pub type Body = hcl::edit::structure::Body;

/// Parses a `.tf` file; a syntax error becomes a `terraform/syntax` issue at its byte offset.
pub fn load(text: &str) -> Result<Body, Box<ParseIssue>> {
    hcl::edit::parser::parse_body(text).map_err(|err| {
        let start = err.location().offset().min(text.len());
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        Box::new(ParseIssue {
            rule: RuleId::TERRAFORM_SYNTAX,
            start,
            end: end.max(start),
            message: format!("HCL does not parse: {}", err.message()),
            help: Some(
                "`terraform plan` fails on this file, so no tenant's infrastructure can change until it is fixed".to_string(),
            ),
            ..ParseIssue::default()
        })
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn unclosed_block_is_an_issue() {
        assert!(super::load("module \"x\" {\n  source = \"./m\"\n").is_err());
        assert!(super::load("module \"x\" {\n  source = \"./m\"\n}\n").is_ok());
    }
}
