//! The rule catalog and the code agree: every rule id a check or policy can emit has a page,
//! every page parses, and every page has a fixture that triggers it and a near-miss that does not.

use gitops_lint_core::catalog;
use std::path::Path;

fn expected_rules(case: &Path) -> Vec<String> {
    std::fs::read_to_string(case.join("expected.txt"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn every_emitted_rule_has_a_page() {
    assert!(
        catalog::broken_pages().is_empty(),
        "pages with broken front matter: {:?}",
        catalog::broken_pages()
    );
    let pages: Vec<String> = catalog::pages().into_iter().map(|p| p.id).collect();
    let emitted: Vec<String> = gitops_lint_rules::registry::registered()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert!(emitted.len() >= 8);
    for id in &emitted {
        assert!(
            pages.contains(id),
            "rule `{id}` can be emitted but has no page in rules/"
        );
    }
    for id in &pages {
        assert!(
            emitted.contains(id),
            "page `{id}` documents a rule that nothing emits"
        );
    }
}

#[test]
fn every_page_has_a_triggering_fixture_and_a_clean_near_miss() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules");
    for page in catalog::pages() {
        let fail = root.join(&page.id).join("fail");
        let pass = root.join(&page.id).join("pass");
        assert!(
            expected_rules(&fail).contains(&page.id),
            "{}: no finding of `{}` expected in {}",
            page.source,
            page.id,
            fail.display()
        );
        assert!(
            pass.join("expected.txt").is_file(),
            "no near-miss fixture {}",
            pass.display()
        );
        assert!(
            !expected_rules(&pass).contains(&page.id),
            "the near-miss {} expects `{}`",
            pass.display(),
            page.id
        );
    }
}

#[test]
fn every_page_explains_why_and_shows_an_example() {
    for page in catalog::pages() {
        for section in ["## Why it matters", "## Example"] {
            assert!(
                page.text.contains(section),
                "{} lacks `{section}`",
                page.source
            );
        }
        assert!(page.id.contains('/'));
        assert!(
            !page.summary.is_empty() && page.summary.len() <= 100,
            "{}: summary",
            page.source
        );
    }
}

#[test]
fn page_ids_match_their_paths() {
    for page in catalog::pages() {
        assert_eq!(page.source, format!("rules/{}.md", page.id));
    }
}
