//! Bad input is the normal case: every fixture file, truncated and corrupted at many places,
//! goes through the YAML loader, the JSON and HCL parsers and the locator without a panic.
//! Deterministic (a fixed LCG), so a failure reproduces.

use gitops_lint_core::source::PathSeg;
use gitops_lint_syntax::{hcl, json, locate::SpanIndex, placeholder, yaml};
use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn exercise(text: &str) {
    let loaded = yaml::load(text);
    let masked = placeholder::mask(text);
    let _ = yaml::load(&masked);
    let index = SpanIndex::new(text);
    for (d, doc) in loaded.docs.iter().enumerate() {
        let keys: Vec<PathSeg> = doc
            .value
            .as_object()
            .into_iter()
            .flat_map(|o| o.keys())
            .map(|k| PathSeg::Key(k.as_str().into()))
            .collect();
        let _ = index.locate(d, &keys);
        let _ = index.locate(
            d,
            &[
                PathSeg::Key("spec".into()),
                PathSeg::Key("source".into()),
                PathSeg::Key("helm".into()),
                PathSeg::Key("values".into()),
                PathSeg::Key("apps".into()),
            ],
        );
        for lit in &doc.literals {
            let _ = index.locate(d, &lit.path);
        }
    }
    for issue in loaded.issues {
        assert!(issue.start <= text.len() && issue.end <= text.len() && issue.start <= issue.end);
        assert!(text.is_char_boundary(issue.start) && text.is_char_boundary(issue.end));
    }
    let _ = json::load(text);
    let _ = hcl::load(text);
}

#[test]
fn truncated_and_corrupted_fixtures_never_panic() {
    let mut all = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"),
        &mut all,
    );
    all.sort();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut runs = 0;
    for path in all {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        if bytes.len() > 64 * 1024 {
            continue;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        exercise(&text);
        // Truncations at 16 places.
        for k in 1..=16 {
            let mut cut = text.len() * k / 17;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            exercise(&text[..cut]);
            runs += 1;
        }
        // 16 corruptions: a structural character dropped into a random place.
        for _ in 0..16 {
            if text.is_empty() {
                break;
            }
            let mut at = next() % text.len();
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let junk = [
                "\t", ":", "- ", "{", "[", "\"", "'", "|", "&a ", "*a", "\n  ", "---\n", "#",
                "\u{feff}", "é",
            ][next() % 15];
            let mutated = format!("{}{}{}", &text[..at], junk, &text[at..]);
            exercise(&mutated);
            runs += 1;
        }
    }
    assert!(runs > 1000, "only {runs} mutated inputs");
}
