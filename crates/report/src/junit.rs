//! JUnit XML: one `<testsuite>`, one `<testcase>` per finding (its classname is the file, so
//! test-report viewers group findings by file) and one passing `<testcase>` per checked file
//! without findings. Every finding is a `<failure>` whose `type` is its level.
//!
//! Written by hand: the format is small, and escaping is the only subtle part.

use super::place;
use gitops_lint_core::finding::Finding;
use gitops_lint_core::source::FileKind;
use gitops_lint_model::World;
use std::collections::BTreeSet;

/// Escapes text for XML 1.0 content and attribute values; line breaks become character
/// references, and characters XML 1.0 cannot carry at all (most control characters) U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push(c),
            // As character references, so no raw line of the file starts with input text (a
            // `::add-mask::` line if the report is printed to a GitHub Actions log); XML
            // readers decode them back.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Renders the report.
pub fn render(world: &World, findings: &[Finding]) -> String {
    let mut cases = String::new();
    let mut with_findings = BTreeSet::new();
    for f in findings {
        let p = place(world, &f.primary);
        with_findings.insert(p.file.to_string());
        let mut body = format!("{}:{}:{}: {}", p.file, p.line, p.column, f.message);
        if let Some(help) = &f.help {
            body.push_str("\nhelp: ");
            body.push_str(help);
        }
        for r in &f.related {
            let rp = place(world, &r.location);
            body.push_str(&format!(
                "\n{}:{}:{}: {}",
                rp.file, rp.line, rp.column, r.message
            ));
        }
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{} line {}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
            escape(p.file),
            escape(&f.rule),
            p.line,
            f.level,
            escape(&f.message),
            escape(&body)
        ));
    }
    let mut clean = 0;
    for file in &world.files {
        if file.kind == FileKind::Other || with_findings.contains(&file.display) {
            continue;
        }
        clean += 1;
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"no findings\"/>\n",
            escape(&file.display)
        ));
    }
    let tests = findings.len() + clean;
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gitops-lint\" tests=\"{tests}\" failures=\"{f}\">\n  <testsuite name=\"gitops-lint\" tests=\"{tests}\" failures=\"{f}\" errors=\"0\" skipped=\"0\">\n{cases}  </testsuite>\n</testsuites>\n",
        f = findings.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("a<b>&\"c'\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}"
        );
    }
}
