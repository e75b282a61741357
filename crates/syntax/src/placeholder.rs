//! Tier templates carry `{TENANT_ID}`-style tokens that `sed` replaces at onboarding. Unrendered,
//! `name: {TENANT_ID}-premium` is not YAML. Each token is replaced by one of the same length
//! (`_TENANT_ID_`) before parsing, so the template parses and every byte offset stays exact.

use std::borrow::Cow;

/// Whether `name` looks like a placeholder name: `TENANT_ID`, `RELEASE_VERSION`, ...
fn is_placeholder_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// Replaces every `{NAME}` (not part of `{{...}}`) with `_NAME_`; same length, so spans hold.
pub fn mask(text: &str) -> Cow<'_, str> {
    if !text.contains('{') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out: Option<Vec<u8>> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'{' && (i == 0 || bytes[i - 1] != b'{') {
            if let Some(len) = text[i + 1..].find('}') {
                let name = &text[i + 1..i + 1 + len];
                let closes_double = bytes.get(i + 2 + len) == Some(&b'}');
                if is_placeholder_name(name) && !closes_double {
                    let buf = out.get_or_insert_with(|| bytes.to_vec());
                    buf[i] = b'_';
                    buf[i + 1 + len] = b'_';
                    i += len + 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    match out {
        // Only ASCII braces were replaced by ASCII underscores, so the bytes stay UTF-8.
        Some(buf) => Cow::Owned(String::from_utf8(buf).unwrap_or_else(|_| text.to_string())),
        None => Cow::Borrowed(text),
    }
}

/// Shows a masked value the way the template spells it: `_TENANT_ID_-x` -> `{TENANT_ID}-x`.
pub fn unmask(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = String::with_capacity(value.len());
    let mut i = 0;
    while i < value.len() {
        if bytes[i] == b'_' {
            // The name may itself contain `_` (`TENANT_ID`): take the longest `_NAME_` whose
            // closing `_` is not followed by more name characters.
            let mut close = None;
            for j in i + 2..value.len() {
                let next_is_name = bytes
                    .get(j + 1)
                    .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
                if bytes[j] == b'_' && !next_is_name && is_placeholder_name(&value[i + 1..j]) {
                    close = Some(j);
                }
            }
            if let Some(j) = close {
                out.push('{');
                out.push_str(&value[i + 1..j]);
                out.push('}');
                i = j + 1;
                continue;
            }
        }
        let c = value[i..].chars().next().unwrap_or('_');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// One `{NAME}` token found in raw text, with what the text around it says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// Byte offset of `{`.
    pub start: usize,
    /// Byte offset just past `}`.
    pub end: usize,
    /// The name between the braces.
    pub name: &'a str,
    /// Inside a comment (`# ...`): never deployed.
    pub comment: bool,
    /// Part of a substitution command (`sed "s|{TENANT_ID}|$T|g"`, `\{X\}`): the token is meant
    /// to stay literal there.
    pub substitution: bool,
    /// The token starts a plain (unquoted) YAML value: `name: {X}` or `- {X}`.
    pub starts_plain_value: bool,
    /// Nothing but spaces or a comment follows the token on its line.
    pub alone: bool,
}

/// Whether a line's trimmed end opens a block scalar (`key: |`, `- >-`, `|2`).
fn opens_block(code: &str) -> bool {
    let code = code.trim_end();
    let Some(pos) = code.rfind(['|', '>']) else {
        return false;
    };
    let indicator = &code[pos + 1..];
    if !indicator
        .chars()
        .all(|c| c == '-' || c == '+' || c.is_ascii_digit())
    {
        return false;
    }
    let before = code[..pos].trim_end();
    before.is_empty() || before.ends_with(':') || before == "-" || before.ends_with(" -")
}

/// Byte offset where a comment starts in `line` (a `#` at the start or after a space, outside
/// quotes), if any. Quotes are only tracked outside block scalars.
fn comment_start(line: &str, track_quotes: bool) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let prev = if i == 0 { b' ' } else { bytes[i - 1] };
        match quote {
            Some(b'"') if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => {
                if b == b'#' && (prev == b' ' || prev == b'\t') {
                    return Some(i);
                }
                if track_quotes
                    && (b == b'"' || b == b'\'')
                    && matches!(prev, b' ' | b'\t' | b'[' | b'{' | b',')
                {
                    quote = Some(b);
                }
            }
        }
        i += 1;
    }
    None
}

/// Whether the token at `at` in `line` is part of a substitution command rather than a value.
fn in_substitution(line: &str, at: usize) -> bool {
    let before = &line[..at];
    let before_unescaped = before.strip_suffix('\\').unwrap_or(before);
    if before.ends_with('\\') {
        return true;
    }
    let sed_expr = ["s/", "s|", "s#", "s,", "s:", "s@"]
        .iter()
        .any(|p| before_unescaped.ends_with(p));
    sed_expr
        || before.contains("sed ")
        || before.contains("sed\t")
        || before.contains("replace(")
        || before.contains("gsub(")
}

/// Every `{NAME}` token in `text` with NAME upper-case (`[A-Z][A-Z0-9_]*`), not preceded by `$`,
/// `{`, `%` or `#` and not followed by `}`: `${VAR}` (shell), `{{ .Values.x }}` (Go templates),
/// `%{WORD}` (grok patterns in log-shipper ConfigMaps) and `#{X}` (Ruby) are not tokens.
/// Works on raw text, line by line, so every token has an exact byte span.
pub fn scan(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    if !text.contains('{') {
        return out;
    }
    let mut block_parent: Option<usize> = None;
    let mut offset = 0;
    for raw_line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += raw_line.len();
        let line = raw_line.trim_end_matches(['\n', '\r']);
        let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
        let blank = line.trim().is_empty();
        if let Some(parent) = block_parent {
            if !blank && indent <= parent {
                block_parent = None;
            }
        }
        let in_block = block_parent.is_some();
        let comment = comment_start(line, !in_block);
        let code = &line[..comment.unwrap_or(line.len())];
        if !in_block && opens_block(code) {
            block_parent = Some(indent);
        }
        if !line.contains('{') {
            continue;
        }
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'{' || (i > 0 && matches!(bytes[i - 1], b'$' | b'{' | b'%' | b'#')) {
                i += 1;
                continue;
            }
            let Some(len) = line[i + 1..].find('}') else {
                break;
            };
            let name = &line[i + 1..i + 1 + len];
            let end = i + 2 + len;
            if !is_placeholder_name(name) || bytes.get(end) == Some(&b'}') {
                i += 1;
                continue;
            }
            let before = line[..i].trim_end();
            let spaced = i == 0 || matches!(bytes[i - 1], b' ' | b'\t');
            let starts_plain_value = before.is_empty()
                || (spaced && (before.ends_with(':') || before == "-" || before.ends_with(" -")));
            let rest = &line[end..comment.unwrap_or(line.len()).max(end)];
            out.push(Token {
                start: line_start + i,
                end: line_start + end,
                name,
                comment: comment.is_some_and(|c| c <= i),
                substitution: in_substitution(line, i),
                starts_plain_value,
                alone: rest.trim().is_empty(),
            });
            i = end;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_placeholders_keeping_length() {
        let t = "name: {TENANT_ID}-premium\nrev: \"{RELEASE_VERSION}.x\"\n";
        let m = mask(t);
        assert_eq!(m.len(), t.len());
        assert_eq!(
            m,
            "name: _TENANT_ID_-premium\nrev: \"_RELEASE_VERSION_.x\"\n"
        );
    }

    #[test]
    fn unmask_restores_placeholders() {
        assert_eq!(unmask("_TENANT_ID_"), "{TENANT_ID}");
        assert_eq!(unmask("_TENANT_ID_-premium"), "{TENANT_ID}-premium");
        assert_eq!(unmask("_RELEASE_VERSION_.x"), "{RELEASE_VERSION}.x");
        assert_eq!(unmask("tenant_1"), "tenant_1");
    }

    #[test]
    fn leaves_go_templates_and_flow_maps_alone() {
        let t = "name: '{{path[2]}}'\nx: {a: 1}\ny: {{ .Values.x }}\n";
        assert_eq!(mask(t), t);
    }

    fn names(text: &str) -> Vec<&str> {
        scan(text).into_iter().map(|t| t.name).collect()
    }

    #[test]
    fn scan_finds_tokens_with_exact_spans() {
        let t = "a: arn:aws:iam::{ACCOUNT_ID}:role/x\nname: {TENANT_ID}\n";
        let tokens = scan(t);
        assert_eq!(tokens.len(), 2);
        assert_eq!(&t[tokens[0].start..tokens[0].end], "{ACCOUNT_ID}");
        assert!(!tokens[0].starts_plain_value);
        assert_eq!(&t[tokens[1].start..tokens[1].end], "{TENANT_ID}");
        assert!(tokens[1].starts_plain_value && tokens[1].alone);
    }

    #[test]
    fn scan_skips_shell_and_go_templates() {
        let t = "run: echo ${TENANT_ID} {{ .Values.x }} {{X}} {x} {A-B} {1} %{WORD} #{HOST}\n";
        assert!(names(t).is_empty());
    }

    #[test]
    fn scan_marks_comments_and_substitutions() {
        let t = "# {TENANT_ID} here\nx: 1 # {REGION}\ny: 'a # {ACCOUNT_ID}'\nrun: |\n  sed -i \"s|{TENANT_ID}|$T|g\" f\n  echo \\{X} \\{Y\\}\n";
        let tokens = scan(t);
        let flags: Vec<(&str, bool, bool)> = tokens
            .iter()
            .map(|t| (t.name, t.comment, t.substitution))
            .collect();
        assert_eq!(
            flags,
            vec![
                ("TENANT_ID", true, false),
                ("REGION", true, false),
                ("ACCOUNT_ID", false, false),
                ("TENANT_ID", false, true),
                ("X", false, true),
            ]
        );
    }

    #[test]
    fn scan_reads_block_scalars_without_quote_tracking() {
        let t = "values: |\n  it's: {TENANT_ID}-x\nnext: \"{REGION}\"\n";
        let tokens = scan(t);
        assert_eq!(tokens.len(), 2);
        assert!(tokens[0].starts_plain_value && !tokens[0].alone && !tokens[0].comment);
        assert!(!tokens[1].starts_plain_value);
    }
}

/// The first placeholder token in `line` that a template generator (not Helm or Argo CD)
/// replaces before the file is used: `<AWS_ACCOUNT_ID>` (kubefirst), `<<url>>`, `{TENANT_ID}`
/// (`sed` onboarding), `__TOKEN__` (Azure Pipelines replace-tokens), `${VAR}` (envsubst, Flux
/// post-build substitution), and Terraform `templatefile()` syntax (`${name}`, `%{ if x }`).
/// Returns its byte range in `line`.
pub fn template_token(line: &str) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let name_at = |from: usize, upper_only: bool| -> usize {
        line[from..]
            .find(|c: char| {
                !(c.is_ascii_digit()
                    || c == '_'
                    || if upper_only {
                        c.is_ascii_uppercase()
                    } else {
                        c.is_ascii_alphabetic() || c == '-' || c == '.'
                    })
            })
            .map_or(line.len(), |n| from + n)
    };
    let upper_start = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_uppercase);
    for i in 0..bytes.len() {
        let found = match bytes[i] {
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                let end = name_at(i + 2, false);
                (end > i + 2 && line[end..].starts_with(">>")).then_some(end + 2)
            }
            b'<' if upper_start(i + 1) => {
                let end = name_at(i + 1, true);
                line[end..].starts_with('>').then_some(end + 1)
            }
            b'$' if bytes.get(i + 1) == Some(&b'{') && upper_start(i + 2) => {
                let end = name_at(i + 2, true);
                line[end..].starts_with('}').then_some(end + 1)
            }
            // Terraform `templatefile()` syntax: `${var_name}`, `${xs[0]}`, `%{ for k, v in m ~}`.
            b'$' | b'%'
                if bytes.get(i + 1) == Some(&b'{')
                    && bytes.get(i + 2).is_some_and(|c| {
                        c.is_ascii_lowercase() || (bytes[i] == b'%' && *c == b' ')
                    }) =>
            {
                line[i + 2..].find('}').map(|n| i + 2 + n + 1)
            }
            b'{' if upper_start(i + 1) && (i == 0 || bytes[i - 1] != b'{') => {
                let end = name_at(i + 1, true);
                (line[end..].starts_with('}') && !line[end..].starts_with("}}")).then_some(end + 1)
            }
            b'_' if bytes.get(i + 1) == Some(&b'_') && upper_start(i + 2) => {
                let end = name_at(i + 2, true);
                // `__NAME__`: the name itself may hold single underscores.
                line[i + 2..end]
                    .strip_suffix("__")
                    .filter(|n| !n.is_empty())
                    .map(|_| end)
            }
            _ => None,
        };
        if let Some(end) = found {
            return Some((i, end));
        }
    }
    None
}

#[cfg(test)]
mod template_token_tests {
    use super::template_token;

    #[test]
    fn finds_the_common_generator_tokens_and_nothing_else() {
        fn token(l: &str) -> Option<&str> {
            template_token(l).map(|(s, e)| &l[s..e])
        }
        assert_eq!(
            token("    <CERT_MANAGER_ISSUER_ANNOTATION_1>"),
            Some("<CERT_MANAGER_ISSUER_ANNOTATION_1>")
        );
        assert_eq!(
            token("role: arn:aws:iam::<AWS_ACCOUNT_ID>:role/x"),
            Some("<AWS_ACCOUNT_ID>")
        );
        assert_eq!(token("url: <<repo-url>>"), Some("<<repo-url>>"));
        assert_eq!(token("name: {TENANT_ID}-x"), Some("{TENANT_ID}"));
        assert_eq!(token("image: __IMAGE_TAG__"), Some("__IMAGE_TAG__"));
        assert_eq!(token("cluster: ${CLUSTER_NAME}"), Some("${CLUSTER_NAME}"));
        assert_eq!(
            token("%{ for k, v in extra_args ~}"),
            Some("%{ for k, v in extra_args ~}")
        );
        assert_eq!(token("  ${k}: \"${v}\""), Some("${k}"));
        for plain in [
            "a: b < c > d",
            "tpl: {{ .Values.x }}",
            "x: <lower>",
            "__init__: 1",
            "f: ${{ inputs.id }}",
        ] {
            assert_eq!(token(plain), None, "{plain}");
        }
    }
}
