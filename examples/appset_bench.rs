//! ApplicationSet expansion benchmark: a checkout with 10,000 tenant directories
//! (`tenants/<tier>/tenant-N/`), expanded offline by a git directories generator (fasttemplate),
//! the same in goTemplate, and a matrix of the directories with three clusters. Prints the best
//! of several runs of [`gitops_lint_derive::appset::expand`] alone (the load is timed separately).
//!
//! ```text
//! cargo run --release --example appset_bench -- [tenants] [runs]
//! ```

use gitops_lint_config::{Cluster, Config};
use gitops_lint_model::load::RepoInput;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const APPSETS: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: { name: tenants, namespace: argocd }
spec:
  generators:
    - git:
        repoURL: https://github.com/example-org/apps-repo
        revision: main
        directories:
          - path: tenants/*/*
          - path: tenants/*/legacy-*
            exclude: true
  template:
    metadata:
      name: '{{path[1]}}-{{path.basename}}'
      labels: { tier: '{{path[1]}}' }
    spec:
      project: default
      source:
        repoURL: https://github.com/example-org/apps-repo
        path: '{{path}}'
        targetRevision: main
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{path.basename}}'
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: { name: tenants-go, namespace: argocd }
spec:
  goTemplate: true
  goTemplateOptions: ["missingkey=error"]
  generators:
    - git:
        repoURL: https://github.com/example-org/apps-repo
        revision: main
        directories:
          - path: tenants/*/*
  template:
    metadata:
      name: 'go-{{index .path.segments 1}}-{{.path.basename | lower}}'
    spec:
      project: default
      source:
        repoURL: https://github.com/example-org/apps-repo
        path: '{{.path.path}}'
        targetRevision: main
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{.path.basename}}'
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: { name: tenants-everywhere, namespace: argocd }
spec:
  generators:
    - matrix:
        generators:
          - git:
              repoURL: https://github.com/example-org/apps-repo
              revision: main
              directories:
                - path: tenants/*/*
          - clusters:
              selector: { matchLabels: { tenants: "yes" } }
  template:
    metadata:
      name: '{{path.basename}}-{{name}}'
    spec:
      project: default
      source:
        repoURL: https://github.com/example-org/apps-repo
        path: '{{path}}'
        targetRevision: main
      destination:
        server: '{{server}}'
        namespace: '{{path.basename}}'
"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let tenants: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("appset_bench: {e}");
            std::process::exit(2);
        }
    };
    let root = dir.path().join("apps-repo");
    let tiers = ["premium", "advanced", "basic"];
    for i in 0..tenants {
        let d = root.join(format!("tenants/{}/tenant-{i}", tiers[i % 3]));
        let ok = std::fs::create_dir_all(&d)
            .and_then(|()| std::fs::write(d.join("kustomization.yaml"), "resources: []\n"));
        if let Err(e) = ok {
            eprintln!("appset_bench: {e}");
            std::process::exit(2);
        }
    }
    let boot = root.join("bootstrap");
    let config = Config {
        clusters: (0..3)
            .map(|i| Cluster {
                name: format!("cluster-{i}"),
                server: format!("https://cluster-{i}.example.com"),
                labels: BTreeMap::from([("tenants".to_string(), "yes".to_string())]),
                ..Cluster::default()
            })
            .collect(),
        ..Config::default()
    };
    let inputs = vec![RepoInput {
        root: root.clone(),
        display: "apps-repo".into(),
    }];
    let docs: Vec<&str> = APPSETS.split("---\n").collect();
    let names = [
        "fasttemplate",
        "goTemplate",
        "matrix x 3 clusters",
        "all three",
    ];
    for (k, name) in names.iter().enumerate() {
        let text = if k < docs.len() {
            docs[k].to_string()
        } else {
            APPSETS.to_string()
        };
        if let Err(e) = std::fs::create_dir_all(&boot)
            .and_then(|()| std::fs::write(boot.join("tenants.yaml"), &text))
        {
            eprintln!("appset_bench: {e}");
            std::process::exit(2);
        }
        let started = Instant::now();
        let (world, _) = gitops_lint_model::load::load(&inputs, &config);
        let load = started.elapsed();
        let mut best = Duration::MAX;
        let mut generated = 0;
        let mut findings = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let (apps, f) = gitops_lint_derive::appset::expand(&world, &config);
            best = best.min(started.elapsed());
            generated = apps.len();
            findings = f.len();
        }
        if k == 0 {
            println!(
                "{} directories; load (walk + parse) {:.1} ms",
                world.repos[0].dirs.len(),
                load.as_secs_f64() * 1e3
            );
        }

        println!(
            "expand {name:<20} {:>7.1} ms for {generated:>5} Applications ({:.2} us each), {findings} findings, best of {runs}",
            best.as_secs_f64() * 1e3,
            best.as_secs_f64() * 1e6 / generated.max(1) as f64
        );
    }
}
