//! fasttemplate rendering, Argo CD's default (`goTemplate: false`; facts.md §1.4): each
//! `{{tag}}` is trimmed and looked up in the flat parameters; an unknown, empty or non-string
//! tag is left verbatim (inner spaces kept) with no error.

use super::params::Params;
use serde_json::Value;

/// The result of rendering one string.
pub struct Rendered {
    /// The text after substitution.
    pub text: String,
    /// Trimmed tags left verbatim because no parameter has that name.
    pub unknown: Vec<String>,
}

/// Renders `text` against flat parameters.
pub fn render(text: &str, params: &Params) -> Rendered {
    let mut out = String::with_capacity(text.len());
    let mut unknown = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        out.push_str(&rest[..open]);
        let tag = &after[..close];
        let trimmed = tag.trim();
        match params.get(trimmed) {
            Some(Value::String(s)) if !trimmed.is_empty() => out.push_str(s),
            _ => {
                out.push_str("{{");
                out.push_str(tag);
                out.push_str("}}");
                unknown.push(trimmed.to_string());
            }
        }
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    Rendered { text: out, unknown }
}

/// The trimmed tags of a string, in order (for static checks).
pub fn tags(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            break;
        };
        found.push(after[..close].trim());
        rest = &after[close + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_tags_stay_verbatim() {
        let mut p = Params::new();
        p.insert("path.basename".into(), Value::String("t1".into()));
        let r = render("app-{{ path.basename }}-{{ nope }}-{{.path.path}}", &p);
        assert_eq!(r.text, "app-t1-{{ nope }}-{{.path.path}}");
        assert_eq!(r.unknown, vec!["nope", ".path.path"]);
    }
}
