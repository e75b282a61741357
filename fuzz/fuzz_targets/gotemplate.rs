//! The Go template engine with Helm's functions: the input is split at the first NUL byte into
//! a helpers file and a template, executed over small fixed values. Parsing and execution must
//! return (an error is fine), never panic, hang or exhaust memory.
#![no_main]

use gitops_lint_gotemplate::{helm_funcs, Funcs, Options, Templates};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (helpers, main) = text.split_once('\0').unwrap_or(("", &text));
    let mut funcs = Funcs::builtins();
    helm_funcs::register(&mut funcs);
    let mut set = Templates::new(funcs, Options::default());
    if set.add_file("templates/_helpers.tpl", helpers).is_err() {
        return;
    }
    if set.add_file("templates/main.yaml", main).is_err() {
        return;
    }
    let dot = serde_json::json!({
        "Values": {"tenant": "t-1", "list": [1, "a", {"k": "v"}], "map": {"a": 1, "b": [true]}},
        "Release": {"Name": "r", "Namespace": "ns"},
        "Chart": {"Name": "c", "Version": "0.1.0"}
    });
    let _ = set.execute("templates/main.yaml", &dot);
});
