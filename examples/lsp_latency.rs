//! Diagnostics latency of `gitops-lint lsp` after a keystroke pause, on a generated workspace.
//!
//! ```text
//! cargo build --release --bins --examples
//! target/release/examples/gen_repo --tenants 1000 --out /tmp/lsp1k
//! target/release/examples/lsp_latency /tmp/lsp1k 20
//! ```
//!
//! Starts the release `gitops-lint lsp` beside this example (`target/release/gitops-lint`,
//! or `$GITOPS_LINT`), with `DIR/apps-repo` as the workspace folder and `DIR/infra-repo` as an
//! extra root, opens a tenant file, and then N times types a namespace typo into the buffer
//! (`namespace: tenant-1` -> `tenant-1x`, which the tenant rules and the IRSA trust in the
//! other repository report) or takes it out again. For each edit it measures the time from
//! sending `didChange` to receiving that file's `publishDiagnostics`, minus the server's
//! debounce (the pause the budget starts after), and prints each, the median and the worst.
//! The server's own log (lint and publish time per run) goes to `DIR/lsp-latency.log`.

#[path = "../tests/common/lsp_client.rs"]
mod lsp_client;

use lsp_client::{file_uri, Client};
use serde_json::json;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The debounce asked of the server (its default).
const DEBOUNCE_MS: u64 = 120;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().unwrap_or_else(|| "/tmp/lsp1k".to_string()));
    let edits: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let dir = std::fs::canonicalize(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let bin = std::env::var_os("GITOPS_LINT")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap_or_else(|e| panic!("{e}"));
            // target/release/examples/lsp_latency -> target/release/gitops-lint
            exe.parent()
                .and_then(|p| p.parent())
                .map(|p| p.join("gitops-lint"))
                .unwrap_or_else(|| panic!("no binary beside {}", exe.display()))
        });
    let apps = dir.join("apps-repo");
    let infra = dir.join("infra-repo");
    let file = apps.join("tenants/premium/tenant-1.yaml");
    let clean =
        std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let typo = clean.replacen("namespace: tenant-1\n", "namespace: tenant-1x\n", 1);
    assert_ne!(
        clean,
        typo,
        "no `namespace: tenant-1` line in {}",
        file.display()
    );
    let log = std::fs::File::create(dir.join("lsp-latency.log")).unwrap_or_else(|e| panic!("{e}"));
    let mut client = Client::spawn(&bin, &apps, Stdio::from(log));
    let started = Instant::now();
    client.initialize(
        &[&apps],
        json!({"roots": [infra.display().to_string()], "debounceMs": DEBOUNCE_MS}),
    );
    let uri = file_uri(&file);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 0, "text": clean}}),
    );
    // A request is answered after pending edits are linted: the first lint is done.
    client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    println!(
        "first lint (initialize to first answer): {} ms",
        started.elapsed().as_millis()
    );
    let mut samples = Vec::new();
    for i in 1..=edits {
        let text = if i % 2 == 1 { &typo } else { &clean };
        let sent = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": i}, "contentChanges": [{"text": text}]}),
        );
        let Some((at, list)) = client.diagnostics(&uri, Duration::from_secs(60)) else {
            panic!("edit {i}: no diagnostics for {uri} within 60 s");
        };
        // The typo must be reported and the fix must clear it, or the number means nothing.
        assert_eq!(list.is_empty(), i % 2 == 0, "edit {i}: {list:?}");
        let ms = at.duration_since(sent).as_secs_f64() * 1000.0 - DEBOUNCE_MS as f64;
        println!(
            "edit {i:>3} ({}): {ms:.0} ms after the pause ({} diagnostics)",
            if i % 2 == 1 { "typo" } else { "fix " },
            list.len()
        );
        samples.push(ms);
        // A keystroke pause longer than the debounce, so every edit is linted on its own.
        std::thread::sleep(Duration::from_millis(300));
    }
    samples.sort_by(f64::total_cmp);
    if let (Some(median), Some(worst)) = (samples.get(samples.len() / 2), samples.last()) {
        println!(
            "{} edits: median {median:.0} ms, worst {worst:.0} ms (didChange to publishDiagnostics, minus the {DEBOUNCE_MS} ms debounce)",
            samples.len()
        );
    }
    let status = client.shutdown();
    assert!(status.success(), "server exit: {status}");
}
