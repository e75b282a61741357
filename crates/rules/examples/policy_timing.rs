//! Times each Rego package of a policy directory against a tree's real policy input, so that a
//! policy can be tuned without rebuilding: edit the `.rego` files, run again.
//!
//! ```text
//! cargo build --release -p gitops-lint-rules --example policy_timing
//! target/release/examples/policy_timing DIR POLICY_DIR [PACKAGE_SUFFIX [OUT]]
//! Q='count(data.gitops_lint.irsa.suspects)@@...' target/release/examples/policy_timing DIR POLICY_DIR
//! ```
//!
//! `DIR` holds `apps-repo/` and `infra-repo/` (as `examples/gen_repo` writes them). Each
//! package's `deny` and `warn` sets are evaluated on a fresh clone of the engine and timed;
//! `OUT` gets every item as JSON, sorted, to compare two versions of a policy byte for byte.
//! With `Q`, the queries it lists (separated by `@@`) are timed instead, each on a fresh clone,
//! which shows what one rule or function costs.

use gitops_lint_config::Config;
use gitops_lint_model::load::{self, RepoInput};
use gitops_lint_rules::policy::{input, InputReads};
use regorus::Engine;
use std::path::{Path, PathBuf};
use std::process::exit;
use std::time::Instant;

fn fail(message: String) -> ! {
    eprintln!("policy_timing: {message}");
    exit(2);
}

/// The engine with every `*.rego` (not `*_test.rego`) of `dir`, and the packages they declare.
fn compile(dir: &Path) -> (Engine, Vec<String>) {
    let mut engine = Engine::new();
    let mut packages = Vec::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| fail(format!("{}: {e}", dir.display())));
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    for f in files {
        let name = f.display().to_string();
        if !name.ends_with(".rego") || name.ends_with("_test.rego") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap_or_else(|e| fail(format!("{name}: {e}")));
        match engine.add_policy(name.clone(), text) {
            Ok(p) if !packages.contains(&p) => packages.push(p),
            Ok(_) => {}
            Err(e) => fail(format!("{name}: {e}")),
        }
    }
    (engine, packages)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(tree), Some(policies)) = (args.get(1), args.get(2)) else {
        fail("usage: policy_timing DIR POLICY_DIR [PACKAGE_SUFFIX [OUT]]".into());
    };
    let tree = PathBuf::from(tree);
    let config = Config::default();
    let inputs: Vec<RepoInput> = ["apps-repo", "infra-repo"]
        .iter()
        .map(|r| RepoInput {
            root: tree.join(r),
            display: tree.join(r).display().to_string(),
        })
        .collect();
    let (mut world, _) = load::load(&inputs, &config);
    gitops_lint_derive::derive(&mut world, &config);
    let everything = InputReads {
        all: true,
        ..Default::default()
    };
    let (mut engine, packages) = compile(Path::new(policies));
    engine.set_input(input::build_for(&world, &config, &everything));
    let eval = |query: String| {
        let started = Instant::now();
        let result = engine
            .clone()
            .eval_query(query.clone(), false)
            .unwrap_or_else(|e| fail(format!("{query}: {e}")));
        (result, started.elapsed())
    };
    if let Ok(queries) = std::env::var("Q") {
        for query in queries.split("@@") {
            let (result, took) = eval(query.to_string());
            let value = result
                .result
                .first()
                .and_then(|r| r.expressions.first())
                .map(|e| e.value.to_string())
                .unwrap_or_default();
            let shown: String = value.chars().take(80).collect();
            eprintln!("{query}: {took:?} -> {shown}");
        }
        return;
    }
    let only = args.get(3);
    let mut items = Vec::new();
    for package in &packages {
        if only.is_some_and(|o| !package.ends_with(o.as_str())) {
            continue;
        }
        for set in ["deny", "warn"] {
            let (result, took) = eval(format!("{package}.{set}"));
            let mut count = 0;
            for expr in result.result.iter().flat_map(|r| &r.expressions) {
                if let regorus::Value::Set(s) = &expr.value {
                    count += s.len();
                    items.extend(s.iter().map(ToString::to_string));
                }
            }
            eprintln!("{package}.{set}: {count} items in {took:?}");
        }
    }
    items.sort();
    if let Some(out) = args.get(4) {
        std::fs::write(out, items.join("\n")).unwrap_or_else(|e| fail(format!("{out}: {e}")));
    }
}
