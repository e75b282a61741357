//! Offline ApplicationSet expansion: the Applications each generator type generates from a
//! fixture checkout, written out (name, source path, destination namespace), and the `appset`
//! view of the bundled example pinned as a snapshot.

mod common;

use common::{root, run, stdout};
use gitops_lint::{find_config, lint, Options, Outcome};
use gitops_lint_syntax::pointer::Lookup;
use std::path::PathBuf;

/// (ApplicationSet name, generated element, app name, source path, destination server,
/// destination namespace) for every generated Application of a repository.
type Row = (String, String, String, String, String, String);

/// Lints one repository of the crate with its own config (found as the CLI finds it).
fn lint_repo(repo: &str) -> Outcome {
    let paths = vec![root().join(repo)];
    let config = find_config(None, &paths).unwrap_or_else(|e| panic!("{e}"));
    let options = Options {
        paths,
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    lint(&options, &config).unwrap_or_else(|e| panic!("{e}"))
}

fn generated(repo: &str) -> Vec<Row> {
    let outcome = lint_repo(repo);
    let s = |v: &serde_json::Value, p: &str| {
        v.lookup(p)
            .and_then(|x| x.as_str())
            .unwrap_or("")
            .to_string()
    };
    outcome
        .world
        .generated
        .iter()
        .map(|g| {
            let set = outcome
                .world
                .doc(g.appset)
                .map(|d| s(&d.value, "/metadata/name"))
                .unwrap_or_default();
            (
                set,
                g.element.clone(),
                s(&g.value, "/metadata/name"),
                s(&g.value, "/spec/source/path"),
                s(&g.value, "/spec/destination/server"),
                s(&g.value, "/spec/destination/namespace"),
            )
        })
        .collect()
}

fn of<'a>(rows: &'a [Row], set: &str) -> Vec<(&'a str, &'a str, &'a str, &'a str, &'a str)> {
    rows.iter()
        .filter(|r| r.0 == set)
        .map(|r| {
            (
                r.1.as_str(),
                r.2.as_str(),
                r.3.as_str(),
                r.4.as_str(),
                r.5.as_str(),
            )
        })
        .collect()
}

const LOCAL: &str = "https://kubernetes.default.svc";
const PROD_EU: &str = "https://prod-eu.example.com";
const STAGING: &str = "https://staging.example.com";
const GENERATORS: &str = "fixtures/appset/generators/apps-repo";

#[test]
fn git_directories_exclude_wins_and_dot_directories_are_skipped() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "tenant-dirs"),
        vec![
            (
                "directory tenants/basic/tenant-2",
                "tenant-2",
                "tenants/basic/tenant-2",
                LOCAL,
                "tenant-2"
            ),
            (
                "directory tenants/premium/tenant-1",
                "tenant-1",
                "tenants/premium/tenant-1",
                LOCAL,
                "tenant-1"
            ),
            (
                "directory tenants/premium/tenant-7",
                "tenant-7",
                "tenants/premium/tenant-7",
                LOCAL,
                "tenant-7"
            ),
        ]
    );
}

#[test]
fn git_files_flatten_content_and_lists_give_one_set_per_item() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "tenant-files"),
        vec![
            (
                "file config/tenants/tenant-1.json",
                "cfg-tenant-1-eu",
                "tenants/premium/tenant-1",
                LOCAL,
                "tenant-1"
            ),
            (
                "file config/tenants/tenant-2.yaml item 0",
                "cfg-tenant-2-eu",
                "tenants/basic/tenant-2",
                LOCAL,
                "tenant-2"
            ),
            (
                "file config/tenants/tenant-2.yaml item 1",
                "cfg-tenant-2-us",
                "tenants/basic/tenant-2",
                LOCAL,
                "tenant-2"
            ),
        ]
    );
}

#[test]
fn go_printing_of_numbers_and_the_path_parameter_wins_over_the_file() {
    let outcome = lint_repo(GENERATORS);
    let app = outcome
        .world
        .generated
        .iter()
        .find(|g| g.element == "file config/tenants/tenant-1.json")
        .unwrap_or_else(|| panic!("tenant-1.json generates an Application"));
    assert_eq!(app.value["metadata"]["annotations"]["quota"], "1e+06");
    assert_eq!(
        app.value["metadata"]["annotations"]["source"],
        "config/tenants/tenant-1.json"
    );
}

#[test]
fn list_generator() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "guestbook-list"),
        vec![
            (
                "list element 0",
                "engineering-dev-guestbook",
                "guestbook",
                "https://dev.example.com",
                "guestbook"
            ),
            (
                "list element 1",
                "engineering-prod-guestbook",
                "guestbook",
                "https://prod.example.com",
                "guestbook"
            ),
        ]
    );
}

#[test]
fn cluster_generator_uses_config_clusters_and_in_cluster_without_selector() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "monitoring"),
        vec![
            (
                "cluster prod-eu",
                "prod-eu-monitoring-prod",
                "monitoring",
                PROD_EU,
                "monitoring-prod-eu"
            ),
            (
                "cluster in-cluster",
                "in-cluster-monitoring-all",
                "monitoring",
                LOCAL,
                "monitoring-in-cluster"
            ),
            (
                "cluster prod-eu",
                "prod-eu-monitoring-all",
                "monitoring",
                PROD_EU,
                "monitoring-prod-eu"
            ),
            (
                "cluster staging",
                "staging-monitoring-all",
                "monitoring",
                STAGING,
                "monitoring-staging"
            ),
        ]
    );
}

#[test]
fn matrix_is_the_cartesian_product() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "premium-everywhere"),
        vec![
            (
                "directory tenants/premium/tenant-1 and cluster prod-eu",
                "tenant-1-prod-eu",
                "tenants/premium/tenant-1",
                PROD_EU,
                "tenant-1"
            ),
            (
                "directory tenants/premium/tenant-1 and cluster staging",
                "tenant-1-staging",
                "tenants/premium/tenant-1",
                STAGING,
                "tenant-1"
            ),
            (
                "directory tenants/premium/tenant-7 and cluster prod-eu",
                "tenant-7-prod-eu",
                "tenants/premium/tenant-7",
                PROD_EU,
                "tenant-7"
            ),
            (
                "directory tenants/premium/tenant-7 and cluster staging",
                "tenant-7-staging",
                "tenants/premium/tenant-7",
                STAGING,
                "tenant-7"
            ),
        ]
    );
}

#[test]
fn merge_overrides_by_key_and_drops_unmatched_sets() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "tenant-overrides"),
        vec![
            (
                "list element 0",
                "override-tenant-1",
                "tenants/premium/tenant-1",
                LOCAL,
                "tenant-1"
            ),
            (
                "list element 1 merged with list element 0",
                "override-tenant-2",
                "tenants/premium/tenant-2",
                LOCAL,
                "tenant-2-blue"
            ),
        ]
    );
}

#[test]
fn go_template_with_sprig_and_template_patch() {
    let rows = generated(GENERATORS);
    assert_eq!(
        of(&rows, "premium-go"),
        vec![
            (
                "directory tenants/premium/tenant-1",
                "go-tenant-1",
                "tenants/premium/tenant-1",
                LOCAL,
                "premium-1"
            ),
            (
                "directory tenants/premium/tenant-7",
                "go-tenant-7",
                "tenants/premium/tenant-7",
                LOCAL,
                "premium-7"
            ),
        ]
    );
    let outcome = lint_repo(GENERATORS);
    let patched: Vec<&str> = outcome
        .world
        .generated
        .iter()
        .filter(|g| g.value.lookup("/spec/syncPolicy/automated/prune") == Some(&true.into()))
        .filter_map(|g| g.value.lookup("/metadata/name").and_then(|v| v.as_str()))
        .collect();
    assert_eq!(
        patched,
        vec!["go-tenant-7"],
        "templatePatch applies to tenant-7 only"
    );
}

#[test]
fn live_generators_generate_nothing_offline() {
    let rows = generated(GENERATORS);
    assert!(of(&rows, "previews").is_empty());
}

#[test]
fn every_generated_application_is_in_the_set_namespace_with_the_finalizer() {
    let outcome = lint_repo(GENERATORS);
    assert_eq!(outcome.world.generated.len(), 20);
    for g in &outcome.world.generated {
        assert_eq!(g.value["metadata"]["namespace"], "argocd");
        assert_eq!(
            g.value["metadata"]["finalizers"][0],
            "resources-finalizer.argocd.argoproj.io"
        );
        assert_eq!(g.value["kind"], "Application");
    }
}

fn view(dir: &str, file: &str) -> String {
    let out = run(&root().join(dir), &["appset", file]);
    stdout(&out)
}

#[test]
fn the_example_appset_view_is_empty_and_says_why() {
    insta::assert_snapshot!(
        "example_view",
        view(
            "fixtures/example",
            "apps-repo/bootstrap/children/tenants.yaml"
        )
    );
}

#[test]
fn the_fixed_example_appset_view() {
    insta::assert_snapshot!(
        "fixed_example_view",
        view(
            "fixtures/appset/fixed-example",
            "apps-repo/bootstrap/children/tenants.yaml"
        )
    );
}

#[test]
fn show_generated_prints_every_set() {
    let out = run(
        &root().join("fixtures/appset/generators"),
        &["--show-generated", "apps-repo"],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text.matches("\nkind: Application\n").count(), 20);
    assert!(text.contains("# generated for directory tenants/premium/tenant-7 and cluster staging"));
    let _ = PathBuf::new();
}

/// Malformed or hostile ApplicationSets never crash the run: each becomes a finding or nothing.
#[test]
fn hostile_applicationsets_never_crash() {
    let head = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: x, namespace: argocd}\n";
    let specs = [
        "spec: 3\n",
        "spec: {generators: 3, template: []}\n",
        "spec: {generators: [3, null, [], {}], template: {metadata: {name: a}, spec: {}}}\n",
        "spec:\n  generators:\n    - git: {directories: [{path: '['}, {path: 3}, {exclude: true}, 7]}\n  template: {metadata: {name: '{{path'}, spec: {}}\n",
        "spec:\n  generators:\n    - git: {files: [{path: '{a,{b,{c'}, {path: '**/**/**'}]}\n  template: {metadata: {name: '{{}}{{ }}{{path[99999999999999999999]}}'}, spec: {}}\n",
        "spec:\n  goTemplate: true\n  generators:\n    - list: {elements: [{a: 1}], elementsYaml: '- [unclosed'}\n  template: {metadata: {name: '{{ .a | nope }}{{ if }}{{ range .x }}'}, spec: {}}\n",
        "spec:\n  goTemplate: true\n  goTemplateOptions: [3, 'missingkey=error']\n  generators: [{list: {elements: [{}]}}]\n  template: {metadata: {name: '{{ index .a 1 }}'}, spec: {}}\n",
        "spec:\n  generators:\n    - matrix: {generators: [{matrix: {generators: [{matrix: {generators: [{list: {elements: [{a: b}]}}, {list: {elements: [{c: d}]}}]}}, {list: {elements: []}}]}}, {list: {elements: [{e: f}]}}]}\n  template: {metadata: {name: '{{a}}'}, spec: {}}\n",
        "spec:\n  generators:\n    - merge: {mergeKeys: [a], generators: [{list: {elements: [{a: '1'}, {a: '1'}]}}, {list: {elements: [{a: '1'}]}}]}\n  template: {metadata: {name: '{{a}}'}, spec: {}}\n",
        "spec:\n  generators: [{clusters: {selector: {matchExpressions: [{key: a, operator: Bogus}]}}}]\n  template: {metadata: {name: '{{name}}'}, spec: {}}\n  templatePatch: \"{{name}}: [\"\n",
    ];
    let mut files: Vec<(String, String)> = specs
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("apps-repo/sets/s{i}.yaml"), format!("{head}{s}")))
        .collect();
    files.push(("apps-repo/a/b/c.json".into(), "[1, 2]".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = common::scratch(&refs);
    for args in [
        vec!["--format", "json", "apps-repo"],
        vec!["--show-generated", "apps-repo"],
    ] {
        let out = run(dir.path(), &args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {}",
            common::stderr(&out)
        );
    }
}

#[test]
fn the_view_exits_1_when_argo_cd_refuses_the_set() {
    let case = root().join("fixtures/rules/argocd/appset-generator-error/fail");
    let out = run(&case, &["appset", "apps-repo/bootstrap/merge.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no merge keys were specified"));
    let ok = run(
        &root().join("fixtures/rules/argocd/appset-generator-error/pass"),
        &["appset", "apps-repo/bootstrap/merge.yaml"],
    );
    assert_eq!(ok.status.code(), Some(0));
    assert!(stdout(&ok).contains("# generated for list element 0 merged with list element 0"));
}

#[test]
fn git_files_with_doublestar_globbing() {
    let rows = generated("fixtures/appset/doublestar/apps-repo");
    assert_eq!(
        of(&rows, "config"),
        vec![
            (
                "file config/root.yaml",
                "cfg-root",
                "config",
                LOCAL,
                "config"
            ),
            (
                "file config/eu/prod/cluster.yaml",
                "cfg-eu-prod",
                "config/eu/prod",
                LOCAL,
                "prod"
            ),
            (
                "file config/us/cluster.yaml",
                "cfg-us",
                "config/us",
                LOCAL,
                "us"
            ),
        ]
    );
}

const REAL_WORLD: &str = "fixtures/appset/real-world/apps-repo";

/// The generated Application of one set and element, by name.
fn app_named(repo: &str, name: &str) -> serde_json::Value {
    let outcome = lint_repo(repo);
    outcome
        .world
        .generated
        .iter()
        .find(|g| g.value["metadata"]["name"] == name)
        .map(|g| g.value.clone())
        .unwrap_or_else(|| panic!("no generated Application {name}"))
}

#[test]
fn real_world_files_over_doublestar_config_json() {
    let rows = generated(REAL_WORLD);
    // The legacy pathspec `**/config.json` needs a `/`: the root-level config.json is not
    // matched; nested objects flatten with dots.
    assert_eq!(
        of(&rows, "env-configs"),
        vec![
            (
                "file envs/dev/config.json",
                "dev-frontend",
                "apps/frontend",
                LOCAL,
                "frontend-dev"
            ),
            (
                "file envs/prod/config.json",
                "prod-backend-api",
                "apps/backend-api",
                "https://prod-eu.example.com",
                "backend-api-prod"
            ),
            (
                "file envs/prod/eu/config.json",
                "prod-eu-frontend",
                "apps/frontend",
                "https://prod-eu.example.com",
                "frontend-eu"
            ),
        ]
    );
    let eu = app_named(REAL_WORLD, "prod-eu-frontend");
    assert_eq!(eu["metadata"]["annotations"]["first-ip"], "10.2.0.1");
    assert_eq!(eu["metadata"]["annotations"]["replicas"], "1e+06");
}

#[test]
fn real_world_matrix_of_directories_and_list() {
    let rows = generated(REAL_WORLD);
    let names: Vec<&str> = of(&rows, "apps-by-env").iter().map(|r| r.1).collect();
    assert_eq!(
        names,
        vec![
            "backend-api-dev",
            "backend-api-prod",
            "frontend-dev",
            "frontend-prod"
        ]
    );
}

#[test]
fn real_world_go_template_pipelines_and_if_blocks() {
    let app = app_named(REAL_WORLD, "backend-api-go");
    assert_eq!(app["metadata"]["labels"]["component"], "backend_api");
    assert_eq!(app["metadata"]["labels"]["tier"], "backend");
    let app = app_named(REAL_WORLD, "frontend-go");
    assert_eq!(app["metadata"]["labels"]["tier"], "frontend");
}

#[test]
fn template_patch_is_applied_after_the_finalizer_and_merges_finalizers() {
    // RenderTemplateParams adds the resources finalizer first; the templatePatch is a strategic
    // merge patch, and ObjectMeta.finalizers merges: both finalizers end up on the Application.
    let on = app_named(REAL_WORLD, "frontend-patched");
    assert_eq!(
        on["metadata"]["finalizers"],
        serde_json::json!([
            "resources-finalizer.argocd.argoproj.io",
            "example.com/cleanup"
        ])
    );
    assert_eq!(on["spec"]["syncPolicy"]["automated"]["prune"], false);
    let off = app_named(REAL_WORLD, "backend-api-patched");
    assert!(off["spec"].get("syncPolicy").is_none());
}

#[test]
fn fasttemplate_leaves_other_templating_layers_verbatim() {
    let app = app_named(REAL_WORLD, "monitoring-prod-eu");
    let values = app["spec"]["source"]["helm"]["values"]
        .as_str()
        .unwrap_or_else(|| panic!("helm values"));
    assert!(values.contains("cluster: prod-eu"), "{values}");
    assert!(values.contains("'Instance {{ $labels.instance }} is down'"));
    assert!(values.contains("'{{ .Release.Name }}-mon'"));
    // preserveResourcesOnDeletion: no finalizer.
    assert!(app["metadata"].get("finalizers").is_none());
}

#[test]
fn a_generator_level_template_overrides_spec_template_for_its_elements() {
    let rows = generated(REAL_WORLD);
    assert_eq!(
        of(&rows, "overrides"),
        vec![
            (
                "list element 0",
                "frontend-tmpl",
                "apps/frontend",
                LOCAL,
                "frontend-override"
            ),
            (
                "list element 0",
                "backend-api-tmpl",
                "apps/backend-api",
                LOCAL,
                "backend-api"
            ),
        ]
    );
}

#[test]
fn a_files_generator_over_an_empty_list_gives_one_set() {
    let rows = generated(REAL_WORLD);
    assert_eq!(
        of(&rows, "empty-list"),
        vec![(
            "file empty-list/app.yaml",
            "from-empty-list",
            "apps/frontend",
            LOCAL,
            "empty-list"
        )]
    );
}

#[test]
fn cluster_secrets_carry_the_secret_type_label() {
    let rows = generated(REAL_WORLD);
    let names: Vec<&str> = of(&rows, "registered-clusters")
        .iter()
        .map(|r| r.1)
        .collect();
    // A selector drops the local cluster; both registered clusters match.
    assert_eq!(names, vec!["guestbook-prod-eu", "guestbook-staging"]);
    let staging = app_named(REAL_WORLD, "guestbook-staging");
    assert_eq!(staging["metadata"]["labels"]["env"], "none");
}

#[test]
fn the_view_reads_its_root_when_the_repo_url_names_no_checkout() {
    // A lint run leaves a git generator on an unknown repository unexpanded (no guess, no false
    // `path-matches-nothing`); the view's root is where the user says generator paths start.
    let out = view("fixtures/appset/checkout-name", "work/bootstrap/apps.yaml");
    assert!(out.contains("): 1 Application\n"), "{out}");
    assert!(out.contains("  name: billing\n"), "{out}");
    let rows = generated("fixtures/appset/checkout-name/work");
    assert!(rows.is_empty(), "{rows:?}");
}

#[test]
fn a_checkout_named_otherwise_is_known_by_its_git_remote() {
    // The example apps-repo, checked out under another directory name: without its git remote
    // the ApplicationSet's repoURL names no linted repository and the set is not expanded.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let checkout = dir.path().join("gitops");
    common::copy_dir(&root().join("fixtures/example/apps-repo"), &checkout);
    let rules = |o: &std::process::Output| -> Vec<String> {
        let json: serde_json::Value =
            serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}"));
        json["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("findings"))
            .iter()
            .filter_map(|f| f["rule"].as_str().map(str::to_string))
            .filter(|r| r.starts_with("argocd/appset"))
            .collect()
    };
    let before = run(dir.path(), &["--format", "json", "gitops"]);
    assert_eq!(rules(&before), vec!["argocd/appset-not-expandable"]);
    std::fs::create_dir_all(checkout.join(".git")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        checkout.join(".git/config"),
        "[remote \"origin\"]\n\turl = git@github.com:example-org/apps-repo.git\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let after = run(dir.path(), &["--format", "json", "gitops"]);
    assert_eq!(rules(&after), vec!["argocd/appset-path-matches-nothing"]);
}

#[test]
fn a_path_that_is_a_subfolder_of_a_checkout_resolves_against_the_checkout() {
    // A monorepo: `mono/` is the git checkout (its remote names it), `mono/gitops/` is the
    // PATH. Argo CD resolves repoURL paths against the repository root, so `gitops/apps/*`
    // expands, `charts/api` (outside the PATH) exists, and `gitops/apps/billing` is missing.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mono = dir.path().join("mono");
    let app = |name: &str, path: &str| {
        format!("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/mono.git\n    targetRevision: HEAD\n    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {name}\n")
    };
    let appset = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: apps\n  namespace: argocd\nspec:\n  goTemplate: true\n  generators:\n    - git:\n        repoURL: https://github.com/acme/mono.git\n        revision: HEAD\n        directories:\n          - path: gitops/apps/*\n  template:\n    metadata:\n      name: '{{.path.basename}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://github.com/acme/mono.git\n        targetRevision: HEAD\n        path: '{{.path.path}}'\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: '{{.path.basename}}'\n";
    let kustomization =
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - cm.yaml\n";
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  a: \"1\"\n";
    let files = [
        (
            ".git/config",
            "[remote \"origin\"]\n\turl = git@github.com:acme/mono.git\n".to_string(),
        ),
        (
            "charts/api/Chart.yaml",
            "apiVersion: v2\nname: api\nversion: 0.1.0\n".to_string(),
        ),
        (
            "gitops/apps/web/kustomization.yaml",
            kustomization.to_string(),
        ),
        ("gitops/apps/web/cm.yaml", cm.to_string()),
        (
            "gitops/bootstrap/apps.yaml",
            format!(
                "{}---\n{}---\n{appset}",
                app("api", "charts/api"),
                app("billing", "gitops/apps/billing")
            ),
        ),
    ];
    for (rel, text) in files {
        let path = mono.join(rel);
        std::fs::create_dir_all(path.parent().unwrap_or(&mono)).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = run(dir.path(), &["--format", "json", "mono/gitops"]);
    let found = common::json_findings(&out);
    assert_eq!(
        found,
        vec!["argocd/app-path-missing mono/gitops/bootstrap/apps.yaml:26".to_string()]
    );
    let generated = run(dir.path(), &["--show-generated", "mono/gitops"]);
    assert!(
        stdout(&generated).contains("path: gitops/apps/web"),
        "{}",
        stdout(&generated)
    );
}
