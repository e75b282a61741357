//! Character-level YAML checks that tools disagree on: tabs in indentation, byte-order marks
//! and invisible or control characters. They run on the raw text; the ranges of block and
//! quoted scalars (where such characters are content, not structure) are skipped.

use super::{IssueEffect, ParseIssue};
use gitops_lint_core::RuleId;

/// Whether `byte` lies inside one of `ranges`, which are sorted by start and disjoint (scalars
/// do not overlap): only the last range starting before `byte` can hold it. A binary search,
/// so that a file with a scalar and a suspicious character on each of 100,000 lines stays
/// linear.
fn inside(ranges: &[(usize, usize)], byte: usize) -> bool {
    let after = ranges.partition_point(|(s, _)| *s < byte);
    after > 0 && byte < ranges[after - 1].1
}

/// Describes an invisible or control character, or `None` for an ordinary one.
fn suspicious(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{a0}' => "no-break space (U+00A0)",
        '\u{200b}' => "zero-width space (U+200B)",
        '\u{200c}' => "zero-width non-joiner (U+200C)",
        '\u{200d}' => "zero-width joiner (U+200D)",
        '\u{2060}' => "word joiner (U+2060)",
        '\u{feff}' => "byte-order mark (U+FEFF)",
        '\u{3000}' => "ideographic space (U+3000)",
        '\u{202f}' => "narrow no-break space (U+202F)",
        '\u{205f}' => "medium mathematical space (U+205F)",
        '\u{2000}'..='\u{200a}' => "typographic space (U+2000..U+200A)",
        '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}' => {
            "control character"
        }
        '\u{80}'..='\u{9f}' => "C1 control character",
        _ => return None,
    })
}

/// Scans `text` (a YAML file) for tabs in indentation and suspicious characters. `skip` are
/// byte ranges of block and multi-line quoted scalars.
pub fn scan(text: &str, skip: &[(usize, usize)]) -> Vec<ParseIssue> {
    // A byte-order mark at the very start is allowed by YAML and skipped by every parser that
    // matters here, so it is not reported; one anywhere else is.
    let mut issues = Vec::new();
    // Most files are plain ASCII without tabs or control characters: one pass says so.
    if !text
        .bytes()
        .any(|b| b >= 0x80 || b == 0x7f || (b < 0x20 && b != b'\n' && b != b'\r'))
    {
        return issues;
    }
    let sorted: Vec<(usize, usize)>;
    let skip = if skip.is_sorted() {
        skip
    } else {
        let mut copy = skip.to_vec();
        copy.sort_unstable();
        sorted = copy;
        &sorted
    };
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let start = offset;
        offset += raw.len();
        let lead = line.len() - line.trim_start_matches([' ', '\t']).len();
        let content = &line[lead..];
        if line[..lead].contains('\t')
            && !content.is_empty()
            && !content.starts_with('#')
            && !inside(skip, start)
        {
            let tab = start + line.find('\t').unwrap_or(0);
            issues.push(
                ParseIssue::new(
                    RuleId::YAML_TAB,
                    tab,
                    start + lead,
                    "a tab in this line's indentation: YAML forbids tabs there; go-yaml (kubectl, Argo CD, Helm) stops with `found character that cannot start any token`, while some editors and parsers silently count the tab as 8 or 4 spaces",
                )
                .with_help("indent with spaces only (set your editor to insert spaces for YAML)"),
            );
        }
        // Fast path: a plain ASCII line without control characters has nothing to report.
        if !line
            .bytes()
            .any(|b| b >= 0x80 || b == 0x7f || (b < 0x20 && b != b'\t'))
        {
            continue;
        }
        // Comments may hold anything printable; the rest of the line is YAML structure or a
        // plain scalar, where an invisible character silently becomes part of a name.
        let code_end = comment_start(line).unwrap_or(line.len());
        for (i, c) in line.char_indices() {
            let Some(what) = suspicious(c) else {
                continue;
            };
            let at = start + i;
            let control = what.contains("control");
            if (i >= code_end && !control) || (at == 0 && c == '\u{feff}') || inside(skip, at) {
                continue;
            }
            let message = if control {
                format!("a {what} (U+{:04X}) is in the file; YAML allows only printable characters, so parsers either reject the file or keep the character invisibly", c as u32)
            } else if c == '\u{feff}' {
                "a byte-order mark in the middle of the file (two files concatenated?); YAML accepts one only at the start of a document, so go-yaml rejects the file".to_string()
            } else {
                format!("an invisible {what} is here; YAML does not treat it as a space, so it becomes part of the key or value (a name that looks right but does not match)")
            };
            let effect = if control {
                IssueEffect::ControlCharacter
            } else {
                IssueEffect::Readable
            };
            issues.push(
                ParseIssue::new(RuleId::YAML_BOM_OR_ENCODING, at, at + c.len_utf8(), message)
                    .with_help("delete the character and type a plain space (or nothing) instead")
                    .with_effect(effect),
            );
        }
    }
    issues
}

/// Byte index where a YAML comment starts on `line` (a `#` at the start or after a space,
/// outside quotes), if any.
fn comment_start(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut quote: Option<u8> = None;
    for (i, &b) in bytes.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'"' | b'\''
                    if i == 0
                        || matches!(bytes[i - 1], b' ' | b':' | b'[' | b'{' | b',' | b'-') =>
                {
                    quote = Some(b)
                }
                b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t') => return Some(i),
                _ => {}
            },
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_in_indentation_is_found_but_not_inside_block_scalars() {
        let text = "a:\n\tb: 1\nc: |\n\tkept\n";
        let block = text.find("|\n").unwrap_or(0);
        let issues = scan(text, &[(block, text.len())]);
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].rule, RuleId::YAML_TAB);
        assert_eq!(issues[0].start, 3);
    }

    #[test]
    fn tab_after_content_is_separation_not_indentation() {
        assert!(scan("key:\tvalue\n", &[]).is_empty());
    }

    #[test]
    fn bom_only_in_the_middle_and_nbsp_in_a_key_are_found() {
        let text = "\u{feff}a: 1\nname\u{a0}: x # ok\u{a0}in comment\n\u{feff}b: 2\n";
        let issues = scan(text, &[]);
        assert_eq!(issues.len(), 2, "{issues:?}");
        assert!(issues[0].message.contains("U+00A0"));
        assert!(issues[1].message.contains("middle"));
    }
}
