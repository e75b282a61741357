//! Every pattern matcher (gobwas globs for AppProjects, Go `path.Match`, git pathspecs and
//! doublestar, IAM `StringLike`): the input is split at the first NUL byte into pattern and
//! value. Each must return, in time linear-ish in its input, never panic.
#![no_main]

use gitops_lint_matchers::{git_files, go_path, gobwas, iam};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some((pattern, value)) = text.split_once('\0') else {
        return;
    };
    let _ = gobwas::glob_match(pattern, value, None);
    let _ = gobwas::glob_match(pattern, value, Some('/'));
    let _ = gobwas::argo_glob(pattern, value, Some('/'));
    let _ = go_path::path_match(pattern, value);
    let _ = go_path::glob_path(pattern, value);
    let _ = git_files::pathspec_match(pattern, value);
    let _ = git_files::doublestar_match(pattern, value);
    let _ = iam::string_like(pattern, value);
});
