//! fasttemplate rendering, Argo CD's default (`goTemplate: false`; Argo CD
//! `applicationset/utils/utils.go` `Replace`, over `valyala/fasttemplate`): each
//! `{{tag}}` is trimmed and looked up in the flat parameters; an unknown, empty or non-string
//! tag is left verbatim (inner spaces kept) with no error.
//!
//! Two details of `utils.go` `Replace`: a string is only touched when one of its lines holds a
//! `{{...}}` (`isTemplatedRegex`, `.*{{.*}}.*`, where `.` does not match a newline), and a
//! touched string with a `{{` that is never closed fails (`fasttemplate.NewTemplate`).

use super::params::Params;
use serde_json::Value;

/// The result of rendering one string.
pub struct Rendered {
    /// The text after substitution.
    pub text: String,
    /// Trimmed tags left verbatim because no parameter has that name.
    pub unknown: Vec<String>,
    /// Argo CD's error for a `{{` without its `}}` (the whole ApplicationSet then fails).
    pub error: Option<String>,
}

/// Whether Argo CD templates the string at all: some line holds `{{` and, after it, `}}`.
pub(crate) fn is_templated(text: &str) -> bool {
    text.lines().any(|line| {
        line.find("{{")
            .is_some_and(|open| line[open + 2..].contains("}}"))
    })
}

/// Renders `text` against flat parameters.
pub fn render(text: &str, params: &Params) -> Rendered {
    if !is_templated(text) {
        return Rendered {
            text: text.to_string(),
            unknown: Vec::new(),
            error: None,
        };
    }
    let mut out = String::with_capacity(text.len());
    let mut unknown = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else {
            return Rendered {
                text: text.to_string(),
                unknown,
                error: Some(format!(
                    "invalid template: Cannot find end tag=\"}}}}\" in the template={text:?} starting from {after:?}"
                )),
            };
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
    Rendered {
        text: out,
        unknown,
        error: None,
    }
}

/// Whether a tag left verbatim was meant as an ApplicationSet parameter (a mistake worth a
/// finding) rather than text for another templating layer that Argo CD rightly passes through:
/// Helm (`{{ .Values.x }}`, `{{ include "x" . }}`), Prometheus alert templates
/// (`{{ $labels.instance }}`), and the like.
///
/// A plain name (`cluster`, `path.basenme`, `values.x`, `path[3]`) is a parameter reference.
/// Anything else (goTemplate syntax) counts only when one of its `.field` references names a
/// parameter of the set (`{{.path.path}}`, `{{ .cluster | upper }}`: goTemplate written in a
/// fasttemplate ApplicationSet).
pub(crate) fn meant_as_parameter(tag: &str, params: &Params) -> bool {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']');
    // Go template keywords (`{{ end }}` closing a Helm `{{- if }}` block) are not names.
    const KEYWORDS: &[&str] = &["end", "else", "break", "continue", "nil", "true", "false"];
    if KEYWORDS.contains(&tag) {
        return false;
    }
    if tag
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && tag.chars().all(plain)
    {
        return true;
    }
    let roots: std::collections::BTreeSet<&str> = params
        .keys()
        .map(|k| k.split(['.', '[']).next().unwrap_or(k))
        .collect();
    let bytes = tag.as_bytes();
    tag.match_indices('.').any(|(i, _)| {
        // A field reference starts a term: `.x` after a space, `(`, `|` or at the start, never
        // `$labels.instance` or `a.b`.
        let starts_term = i == 0 || matches!(bytes[i - 1], b' ' | b'(' | b'|' | b'\t');
        let name: String = tag[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        starts_term && !name.is_empty() && roots.contains(name.as_str())
    })
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

    fn params() -> Params {
        let mut p = Params::new();
        p.insert("path.basename".into(), Value::String("t1".into()));
        p.insert("cluster".into(), Value::String("c".into()));
        p
    }

    #[test]
    fn unknown_tags_stay_verbatim() {
        let r = render(
            "app-{{ path.basename }}-{{ nope }}-{{.path.path}}",
            &params(),
        );
        assert_eq!(r.text, "app-t1-{{ nope }}-{{.path.path}}");
        assert_eq!(r.unknown, vec!["nope", ".path.path"]);
        assert!(r.error.is_none());
    }

    #[test]
    fn only_strings_with_a_tag_on_one_line_are_templated() {
        // `{{` and `}}` on different lines: isTemplatedRegex does not match, nothing changes.
        let r = render("a: {{\npath.basename }}", &params());
        assert_eq!(r.text, "a: {{\npath.basename }}");
        assert!(r.unknown.is_empty() && r.error.is_none());
        // A templated string with an unclosed `{{`: fasttemplate.NewTemplate fails.
        let r = render("{{path.basename}} and {{ oops", &params());
        assert!(r.error.is_some_and(|e| e.starts_with("invalid template")));
    }

    #[test]
    fn passthrough_tags_are_not_parameter_mistakes() {
        let p = params();
        for tag in [
            "nope",
            "path.basenme",
            "values.x",
            "path[3]",
            ".path.path",
            ".cluster | upper",
            "- if .cluster",
        ] {
            assert!(meant_as_parameter(tag, &p), "{tag}");
        }
        for tag in [
            ".Values.x",
            "$labels.instance",
            "$value | humanize",
            "include \"x\" .",
            ".Release.Name",
            "",
            "- if .Values.on",
            "end",
            "else",
        ] {
            assert!(!meant_as_parameter(tag, &p), "{tag}");
        }
    }
}
