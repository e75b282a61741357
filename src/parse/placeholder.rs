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
}
