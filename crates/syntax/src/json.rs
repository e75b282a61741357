//! JSON data files (`tenants.json`): a value, or a `json/syntax` issue at the exact place.
//! Positions inside a parsed JSON file are found with the YAML span index (JSON is YAML).

use super::ParseIssue;
use gitops_lint_core::RuleId;
use serde_json::Value;

/// Parses `text`; on failure, the issue points at the line and column serde_json stopped at.
pub fn load(text: &str) -> Result<Value, Box<ParseIssue>> {
    serde_json::from_str(text).map_err(|err| {
        let line_start = text
            .split_inclusive('\n')
            .take(err.line().saturating_sub(1))
            .map(str::len)
            .sum::<usize>();
        let line = &text[line_start..];
        let col = line
            .char_indices()
            .nth(err.column().saturating_sub(1))
            .map_or(line.len(), |(b, _)| b);
        let start = (line_start + col).min(text.len());
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        let mut message = err.to_string();
        if let Some(cut) = message.find(" at line ") {
            message.truncate(cut);
        }
        Box::new(ParseIssue {
            rule: RuleId::JSON_SYNTAX,
            start,
            end,
            message: format!("JSON does not parse: {message}"),
            help: Some(
                "Terraform's jsondecode() fails on this file, so `terraform plan` fails for every tenant; JSON allows no trailing commas or comments".to_string(),
            ),
            ..ParseIssue::default()
        })
    })
}

#[cfg(test)]
mod tests {
    use gitops_lint_core::RuleId;

    #[test]
    fn trailing_comma_points_at_the_closing_bracket() {
        let text = "[\n  {\"id\": \"tenant-1\"},\n]\n";
        let issue = super::load(text)
            .err()
            .unwrap_or_else(|| panic!("should fail"));
        assert_eq!(issue.rule, RuleId::JSON_SYNTAX);
        assert_eq!(&text[issue.start..issue.start + 1], "]");
    }
}
