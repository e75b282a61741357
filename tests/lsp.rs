//! `gitops-lint lsp` driven over stdio by a test client, on a copy of the
//! `irsa/trust-mismatch` fixture pair (apps-repo as the workspace folder, infra-repo as an
//! extra root from `initializationOptions`): diagnostics from unsaved buffers with related
//! places in the other repository, clearing, code actions applied, hover, shutdown.

#[path = "common/lsp_client.rs"]
mod lsp_client;

use lsp_client::{apply_edits, file_uri, Client};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// The service accounts file with the namespace right (`tenant-1`, trusted by the role).
const FIXED: &str = "\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: tenant-1-consumer
  namespace: tenant-1
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/consumer-role-tenant-1
";

/// A folded list item (`   - tenant-7.yaml` one space too deep), which `--fix` realigns.
const KUSTOMIZATION: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - tenant-1.yaml
   - tenant-7.yaml
";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("{e}"));
    for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{e}")) {
        let entry = entry.unwrap_or_else(|e| panic!("{e}"));
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

/// A scratch copy of the fixture (outside this checkout, so git does not list its files).
fn workspace() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/irsa/trust-mismatch/fail");
    copy_dir(&fixture, dir.path());
    let apps = dir.path().join("apps-repo");
    let infra = dir.path().join("infra-repo");
    (dir, apps, infra)
}

fn start(apps: &Path) -> Client {
    let mut client = Client::spawn(
        Path::new(env!("CARGO_BIN_EXE_gitops-lint")),
        apps,
        Stdio::null(),
    );
    // The extra root is relative: to the first workspace folder.
    let caps = client.initialize(&[apps], json!({"roots": ["../infra-repo"]}));
    assert_eq!(caps["textDocumentSync"]["change"], 1, "full sync: {caps}");
    assert_eq!(caps["hoverProvider"], true, "{caps}");
    assert_eq!(caps["codeActionProvider"], true, "{caps}");
    assert_eq!(caps["definitionProvider"], true, "{caps}");
    client
}

fn open(client: &mut Client, uri: &str, text: &str) {
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
    );
}

fn change(client: &mut Client, uri: &str, version: i32, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

/// The next diagnostics for `uri` that satisfy `want` (earlier publications are skipped).
fn diagnostics_until(
    client: &mut Client,
    uri: &str,
    want: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    loop {
        match client.diagnostics(uri, WAIT) {
            Some((_, list)) if want(&list) => return list,
            Some(_) => {}
            None => panic!("no matching diagnostics for {uri}"),
        }
    }
}

fn has_rule(list: &[Value], rule: &str) -> bool {
    list.iter().any(|d| d["code"] == rule)
}

#[test]
fn namespace_typo_in_an_unsaved_buffer_is_reported_and_clears_when_fixed() {
    let (_dir, apps, infra) = workspace();
    let sa = apps.join("serviceaccounts/tenant-1.yaml");
    // On disk the file is right; the typo exists only in the editor's buffer.
    std::fs::write(&sa, FIXED).unwrap_or_else(|e| panic!("{e}"));
    let uri = file_uri(&sa);
    let mut client = start(&apps);
    let typo = FIXED.replace("namespace: tenant-1", "namespace: tenant-one");
    open(&mut client, &uri, &typo);
    let list = diagnostics_until(&mut client, &uri, |l| has_rule(l, "irsa/trust-mismatch"));
    assert_eq!(list.len(), 1, "{list:?}");
    let d = &list[0];
    // `tenant-one` on line 5 (0-based 4), columns 13..23.
    assert_eq!(
        d["range"],
        json!({"start": {"line": 4, "character": 13}, "end": {"line": 4, "character": 23}})
    );
    assert_eq!(d["severity"], 1);
    assert_eq!(d["source"], "gitops-lint");
    assert_eq!(
        d["codeDescription"]["href"],
        "https://github.com/acme/gitops-lint/blob/main/rules/irsa/trust-mismatch.md"
    );
    let message = d["message"].as_str().unwrap_or("");
    assert!(
        message.contains("trusts only `tenant-1:tenant-1-consumer`"),
        "{message}"
    );
    assert!(
        message.contains("\nhelp: run the ServiceAccount"),
        "{message}"
    );
    // The other end: the trust in the infra-repo's Terraform, line 16 (0-based 15).
    let related = d["relatedInformation"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let tf = file_uri(&infra.join("modules/tenant-apps/main.tf"));
    let trust = related
        .iter()
        .find(|r| r["location"]["uri"] == tf.as_str())
        .unwrap_or_else(|| panic!("no related place in {tf}: {related:?}"));
    assert_eq!(trust["location"]["range"]["start"]["line"], 15, "{trust}");
    assert!(
        trust["message"]
            .as_str()
            .unwrap_or("")
            .contains("trusts this"),
        "{trust}"
    );
    // Related places in the same file (the name, the role ARN) are there too.
    assert!(
        related.iter().any(|r| r["location"]["uri"] == uri.as_str()),
        "{related:?}"
    );

    // Hover on the diagnostic: the rule page.
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4, "character": 16}}),
    );
    let markdown = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert_eq!(hover["result"]["contents"]["kind"], "markdown");
    assert!(
        markdown.starts_with("**irsa/trust-mismatch** (error): ServiceAccount"),
        "{markdown}"
    );
    assert!(markdown.contains("## What it checks"), "{markdown}");
    assert_eq!(hover["result"]["range"], d["range"]);
    // Off the diagnostic: nothing.
    let nothing = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}),
    );
    assert_eq!(nothing["result"], Value::Null, "{nothing}");

    // Fix the buffer: the diagnostic clears (an empty list is published).
    change(&mut client, &uri, 2, FIXED);
    let list = diagnostics_until(&mut client, &uri, |_| true);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn ignore_action_inserts_a_suppression_that_silences_the_finding() {
    let (_dir, apps, _infra) = workspace();
    let sa = apps.join("serviceaccounts/tenant-1.yaml");
    let text = std::fs::read_to_string(&sa).unwrap_or_else(|e| panic!("{e}"));
    let uri = file_uri(&sa);
    let mut client = start(&apps);
    open(&mut client, &uri, &text);
    let list = diagnostics_until(&mut client, &uri, |l| has_rule(l, "irsa/trust-mismatch"));
    let d = list[0].clone();
    let response = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = response["result"].as_array().cloned().unwrap_or_default();
    let ignore = actions
        .iter()
        .find(|a| a["title"] == "gitops-lint: ignore irsa/trust-mismatch on this line")
        .unwrap_or_else(|| panic!("no ignore action: {actions:?}"));
    assert_eq!(ignore["kind"], "quickfix");
    assert_eq!(ignore["diagnostics"][0]["code"], "irsa/trust-mismatch");
    let edits = ignore["edit"]["changes"][uri.as_str()]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let edited = apply_edits(&text, &edits);
    let expected = text.replace(
        "  namespace: tenant-one\n",
        "  # gitops-lint: ignore[irsa/trust-mismatch] TODO: say why this is acceptable\n  namespace: tenant-one\n",
    );
    assert_eq!(edited, expected);
    // The suppression, once in the buffer, silences the finding (the gate's own reading).
    change(&mut client, &uri, 2, &edited);
    let list = diagnostics_until(&mut client, &uri, |_| true);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn safe_fix_action_realigns_a_folded_list_item() {
    let (_dir, apps, _infra) = workspace();
    let file = apps.join("kustomization.yaml");
    std::fs::write(&file, KUSTOMIZATION).unwrap_or_else(|e| panic!("{e}"));
    // The resources exist, so once the item is realigned the file is clean.
    for n in [1, 7] {
        let object =
            format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{n}\ndata: {{}}\n");
        std::fs::write(apps.join(format!("tenant-{n}.yaml")), object)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let uri = file_uri(&file);
    let mut client = start(&apps);
    open(&mut client, &uri, KUSTOMIZATION);
    let list = diagnostics_until(&mut client, &uri, |l| {
        has_rule(l, "yaml/continued-list-item")
    });
    let d = list
        .iter()
        .find(|d| d["range"]["start"]["line"] == 4)
        .cloned()
        .unwrap_or_else(|| panic!("no diagnostic on the folded item: {list:?}"));
    let response = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let actions = response["result"].as_array().cloned().unwrap_or_default();
    let fix = actions
        .iter()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("gitops-lint: apply the safe fixes in this file"))
        })
        .unwrap_or_else(|| panic!("no fix action: {actions:?}"));
    assert_eq!(fix["isPreferred"], true);
    let edits = fix["edit"]["changes"][uri.as_str()]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // One small edit, not the whole file.
    assert_eq!(edits.len(), 1, "{edits:?}");
    let edited = apply_edits(KUSTOMIZATION, &edits);
    assert_eq!(
        edited,
        KUSTOMIZATION.replace("   - tenant-7", "  - tenant-7")
    );
    change(&mut client, &uri, 2, &edited);
    let list = diagnostics_until(&mut client, &uri, |_| true);
    assert!(list.is_empty(), "{list:?}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn hover_and_go_to_definition_on_a_role_arn_land_on_the_terraform_line() {
    let (_dir, apps, infra) = workspace();
    let sa = apps.join("serviceaccounts/tenant-1.yaml");
    let text = std::fs::read_to_string(&sa).unwrap_or_else(|e| panic!("{e}"));
    let uri = file_uri(&sa);
    let mut client = start(&apps);
    open(&mut client, &uri, &text);
    // Line 15 (0-based 14): `    eks.amazonaws.com/role-arn: arn:aws:iam::...:role/consumer-role-tenant-1`.
    let line = text.lines().nth(14).unwrap_or("");
    let column = line
        .find("arn:aws")
        .unwrap_or_else(|| panic!("no ARN on {line:?}"));
    let at =
        json!({"textDocument": {"uri": uri}, "position": {"line": 14, "character": column + 10}});
    let tf = file_uri(&infra.join("modules/tenant-apps/main.tf"));

    let definition = client.request("textDocument/definition", at.clone());
    let targets = definition["result"].as_array().cloned().unwrap_or_default();
    // `role_name = format("consumer-role-%s", local.name)` in the module: line 11 (0-based 10).
    assert!(
        targets
            .iter()
            .any(|t| t["uri"] == tf.as_str() && t["range"]["start"]["line"] == 10),
        "{definition}"
    );

    let hover = client.request("textDocument/hover", at);
    let markdown = hover["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(markdown.contains("consumer-role-tenant-1"), "{markdown}");
    assert!(
        markdown.contains("/modules/tenant-apps/main.tf:11"),
        "{markdown}"
    );
    // The hovered range is the ARN value on that line.
    assert_eq!(hover["result"]["range"]["start"]["line"], 14, "{hover}");

    // Nothing joins at `kind:`: no targets.
    let none = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 2}}),
    );
    assert_eq!(none["result"], Value::Null, "{none}");
    assert_eq!(client.shutdown().code(), Some(0));
}
