//! The YAML loader (saphyr events into documents with spans, the token-level lints) on any
//! bytes, with the option sets the real readers use. It must return, never panic or hang.
#![no_main]

use gitops_lint_syntax::lints::YamlOptions;
use gitops_lint_syntax::yaml;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = yaml::load(&text);
    let _ = yaml::load_with(&text, &YamlOptions::default());
    let _ = yaml::load_docs(&text);
});
