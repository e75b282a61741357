//! The whole load + derive stage on a small repository: the input is split at NUL bytes into
//! files (`apps/app.yaml`, `chart/templates/sa.yaml`, `infra/main.tf`, `tenants/t.yaml`) beside
//! a fixed Helm chart and an Application that renders it, so the bytes reach ApplicationSet
//! expansion, Helm rendering and Terraform evaluation the way a pull request's files do.
#![no_main]

use gitops_lint_config::Config;
use gitops_lint_model::load::{self, RepoInput};
use libfuzzer_sys::fuzz_target;
use std::fs;

const FIXED: &[(&str, &str)] = &[
    ("chart/Chart.yaml", "apiVersion: v2\nname: svc\nversion: 0.1.0\n"),
    ("chart/values.yaml", "serviceAccount:\n  name: svc\n"),
    (
        "apps/chart-app.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: svc\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/apps-repo\n    path: chart\n    targetRevision: HEAD\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: svc\n",
    ),
    (".gitops-lint.yaml", "repoURLs:\n  https://github.com/acme/apps-repo: .\n"),
];
const SLOTS: &[&str] = &[
    "apps/app.yaml",
    "chart/templates/sa.yaml",
    "infra/main.tf",
    "tenants/t.yaml",
];

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let root = dir.path();
    let write = |rel: &str, bytes: &[u8]| {
        let path = root.join(rel);
        if let Some(parent) = path.parent() {
            let _ = fs::create_dir_all(parent);
        }
        let _ = fs::write(path, bytes);
    };
    for (rel, text) in FIXED {
        write(rel, text.as_bytes());
    }
    for (rel, bytes) in SLOTS.iter().zip(data.split(|b| *b == 0)) {
        write(rel, bytes);
    }
    let config = Config::from_file(&root.join(".gitops-lint.yaml")).unwrap_or_default();
    let inputs = [RepoInput {
        root: root.to_path_buf(),
        display: String::new(),
    }];
    let (mut world, _) = load::load(&inputs, &config);
    let _ = gitops_lint_derive::derive(&mut world, &config);
});
