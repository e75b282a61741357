//! Escaping for the sinks that input text reaches, so that a file name, a key or a value taken
//! from a hostile repository cannot carry commands. The GitHub Actions runner reads workflow
//! commands (`::add-mask::`, `::stop-commands::`) at the start of any line of a step's
//! stdout and stderr, and a terminal obeys ANSI escape sequences. One function per sink.

use std::borrow::Cow;

/// Text for one line of terminal or log output: line breaks and every other control character
/// become visible escapes (`\n`, `\r`, `\e`, `\u{7}`), so the text never starts a new line and
/// never drives the terminal. Tabs stay.
pub fn terminal(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{1b}' => out.push_str("\\e"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A file path for one line of terminal output, unambiguous: a path with a control character,
/// a `\` or a `"` is quoted and escaped the way git quotes names (`"a\\b.yaml"` for a name
/// holding a backslash, `"a\nb.yaml"` for one holding a line break), so neither reads like
/// the other; any other path is shown as it is.
pub fn terminal_path(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| needs_escape(c) || c == '\\' || c == '"') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    out.push('"');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push_str(&terminal(c.encode_utf8(&mut [0; 4]))),
        }
    }
    out.push('"');
    Cow::Owned(out)
}

/// Source text shown to a terminal with byte offsets kept: each control character other than
/// a tab or a line ending becomes `?` (one byte for one byte: they are all ASCII or C1), and a
/// carriage return not followed by a line feed does too, so no line of a file can move the
/// cursor or rewrite what was printed.
pub fn terminal_source(s: &str) -> Cow<'_, str> {
    let bytes = s.as_bytes();
    let bad = |i: usize, c: u8| {
        (c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r')
            || c == 0x7f
            || (c == b'\r' && bytes.get(i + 1) != Some(&b'\n'))
    };
    if !bytes.iter().enumerate().any(|(i, c)| bad(i, *c)) {
        return Cow::Borrowed(s);
    }
    let cleaned: Vec<u8> = bytes
        .iter()
        .enumerate()
        .map(|(i, c)| if bad(i, *c) { b'?' } else { *c })
        .collect();
    // Only ASCII bytes were replaced by an ASCII byte, so the text stays UTF-8.
    Cow::Owned(String::from_utf8(cleaned).unwrap_or_else(|_| s.to_string()))
}

/// Text for Markdown (a job summary): HTML and inline code cannot open, and the text stays on
/// one line (a `\r` or `\n` could start a heading or a table row).
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push_str("&#96;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c != '\t' && (c.is_control() || c == '\u{2028}' || c == '\u{2029}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sink_carries_a_line_break_or_an_escape_sequence() {
        assert_eq!(terminal("a\n::add-mask::x"), "a\\n::add-mask::x");
        assert_eq!(terminal("\u{1b}[2Jx\r"), "\\e[2Jx\\r");
        assert_eq!(terminal("plain `text`\twith tab"), "plain `text`\twith tab");
        assert_eq!(
            terminal_source("a: 1\r\nb: \u{1b}[31m\rx\n"),
            "a: 1\r\nb: ?[31m?x\n"
        );
        assert_eq!(terminal_path("repo/a.yaml"), "repo/a.yaml");
        assert_eq!(terminal_path("repo/a\\b.yaml"), "\"repo/a\\\\b.yaml\"");
        assert_eq!(terminal_path("a\\nb"), "\"a\\\\nb\"");
        assert_eq!(terminal_path("a\nb"), "\"a\\nb\"");
        assert_eq!(terminal_path("a\"b"), "\"a\\\"b\"");
        assert_eq!(
            markdown("x`<img src=a>`\r# heading"),
            "x&#96;&lt;img src=a&gt;&#96; # heading"
        );
    }
}
