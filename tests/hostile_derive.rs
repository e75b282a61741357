//! Hostile pull requests against derivation and policy evaluation: inputs that multiply work
//! (ApplicationSet generator products, Go template fan-out, Terraform expansion, Rego
//! allocations) end in one `gitops/budget-exceeded` finding at the place that hit the budget,
//! quickly, and the run goes on. The inputs are generated here, at run time.

mod common;

use common::{run, scratch, stderr, stdout};
use std::time::{Duration, Instant};

/// The findings of a `--format json` run: (rule, file, line, message).
fn findings(out: &std::process::Output) -> Vec<(String, String, u64, String)> {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(out), stderr(out)));
    json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_string(),
                f["file"].as_str().unwrap_or("").to_string(),
                f["line"].as_u64().unwrap_or(0),
                f["message"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// Runs `gitops-lint --format json ARGS` in `dir`, within `limit`.
fn lint(dir: &std::path::Path, args: &[&str], limit: Duration) -> std::process::Output {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let started = Instant::now();
    let out = run(dir, &all);
    assert!(
        started.elapsed() < limit,
        "took {:?}: {}",
        started.elapsed(),
        stderr(&out)
    );
    out
}

/// The only budget finding of a run, asserting there is exactly one.
fn one_budget(out: &std::process::Output) -> (String, u64, String) {
    let all = findings(out);
    let budget: Vec<_> = all
        .iter()
        .filter(|f| f.0 == "gitops/budget-exceeded")
        .collect();
    assert_eq!(budget.len(), 1, "{all:#?}\n{}", stderr(out));
    (budget[0].1.clone(), budget[0].2, budget[0].3.clone())
}

/// The 1-based line of the first line of `text` that contains `needle`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines()
        .position(|l| l.contains(needle))
        .map_or(0, |i| i as u64 + 1)
}

fn list(key: &str, n: usize, indent: usize) -> String {
    (0..n)
        .map(|i| format!("{}- {key}: '{key}{i}'\n", " ".repeat(indent)))
        .collect()
}

/// An ApplicationSet whose matrix multiplies three lists of `n` elements.
fn matrix_appset(n: usize) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: bomb\n  namespace: argocd\nspec:\n  goTemplate: true\n  generators:\n    - matrix:\n        generators:\n          - list:\n              elements:\n{}          - matrix:\n              generators:\n                - list:\n                    elements:\n{}                - list:\n                    elements:\n{}  template:\n    metadata:\n      name: 'x-{{{{.a}}}}-{{{{.b}}}}-{{{{.c}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://github.com/acme/apps\n        path: apps\n        targetRevision: HEAD\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: x\n",
        list("a", n, 16),
        list("b", n, 22),
        list("c", n, 22),
    )
}

/// The line of the inner `- matrix:` of [`matrix_appset`].
fn inner_matrix_line(text: &str) -> u64 {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "- matrix:")
        .nth(1)
        .map_or(0, |(i, _)| i as u64 + 1)
}

#[test]
fn a_matrix_of_a_billion_is_refused_at_the_inner_matrix() {
    // 1000 x 1000 x 1000 parameter sets (~95 KB of YAML).
    let text = matrix_appset(1000);
    let dir = scratch(&[("repo/appset.yaml", &text)]);
    let out = lint(dir.path(), &["repo"], Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (file, line, message) = one_budget(&out);
    // The inner matrix (1000 x 1000) is the first to overflow, before anything is built.
    assert_eq!(
        (file.as_str(), line),
        ("repo/appset.yaml", inner_matrix_line(&text))
    );
    assert!(message.contains("1000000 parameter sets"), "{message}");
    assert!(message.contains("`limits.generatorProducts`"), "{message}");
    // Nothing else about the ApplicationSet: it is not expanded, so nothing is judged.
    assert_eq!(findings(&out).len(), 1, "{:#?}", findings(&out));
}

#[test]
fn the_appset_view_and_show_generated_use_the_same_bound() {
    let text = matrix_appset(400);
    let dir = scratch(&[("repo/appset.yaml", &text)]);
    let view = run(
        dir.path(),
        &["appset", "--root", "repo", "repo/appset.yaml"],
    );
    assert_eq!(view.status.code(), Some(1), "{}", stderr(&view));
    let shown = stdout(&view);
    assert!(shown.contains("0 Applications"), "{shown}");
    assert!(
        shown.contains(&format!(
            "[gitops/budget-exceeded] line {}:",
            inner_matrix_line(&text)
        )) && shown.contains("limits.generatorProducts"),
        "{shown}"
    );
    let started = Instant::now();
    let all = run(dir.path(), &["--show-generated", "--no-color", "repo"]);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(all.status.code(), Some(1), "{}", stderr(&all));
    assert!(
        stdout(&all).contains("gitops/budget-exceeded"),
        "{}",
        stdout(&all)
    );
}

#[test]
fn the_products_of_an_appset_add_up_and_a_small_budget_is_obeyed() {
    // Two generators of 6 under a budget of 10: the second one overflows the ApplicationSet.
    let set = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: two\nspec:\n  generators:\n    - list:\n        elements:\n{}    - list:\n        elements:\n{}  template:\n    metadata:\n      name: 'x-{{{{a}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://github.com/acme/apps\n        path: apps\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: x\n",
        list("a", 6, 10),
        list("a", 6, 10).replace("'a", "'z"),
    );
    let dir = scratch(&[
        (
            "repo/.gitops-lint.yaml",
            "limits:\n  generatorProducts: 10\n",
        ),
        ("repo/two.yaml", &set),
    ]);
    let out = lint(dir.path(), &["repo"], Duration::from_secs(10));
    let (file, line, message) = one_budget(&out);
    let second = set
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "- list:")
        .nth(1)
        .map_or(0, |(i, _)| i as u64 + 1);
    assert_eq!((file.as_str(), line), ("repo/two.yaml", second));
    assert!(message.contains("more than 10 parameter sets"), "{message}");
}

#[test]
fn a_matrix_whose_second_child_is_templated_is_bounded_as_it_grows() {
    // The second child is rendered per element of the first (a parameter in its elements):
    // 20 x 20 sets under a budget of 100 stop while the product grows.
    let set = format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: grows\nspec:\n  goTemplate: true\n  generators:\n    - matrix:\n        generators:\n          - list:\n              elements:\n{}          - list:\n              elements:\n{}  template:\n    metadata:\n      name: 'x-{{{{.a}}}}-{{{{.b}}}}'\n    spec:\n      project: default\n      source:\n        repoURL: https://github.com/acme/apps\n        path: apps\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: x\n",
        list("a", 20, 16),
        (0..20)
            .map(|i| format!("                - b: '{{{{.a}}}}-{i}'\n"))
            .collect::<String>(),
    );
    let dir = scratch(&[
        (
            "repo/.gitops-lint.yaml",
            "limits:\n  generatorProducts: 100\n",
        ),
        ("repo/grows.yaml", &set),
    ]);
    let out = lint(dir.path(), &["repo"], Duration::from_secs(10));
    let (file, line, message) = one_budget(&out);
    assert_eq!((file.as_str(), line), ("repo/grows.yaml", 8));
    assert!(
        message.contains("more than 100 parameter sets"),
        "{message}"
    );
    assert_eq!(findings(&out).len(), 1, "{:#?}", findings(&out));
}

/// A minimal chart used by a tenant Application (the shape of the Helm rule fixtures).
fn chart_repo(helpers: &str, template: &str) -> tempfile::TempDir {
    let tenant = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: t1\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/example/apps-repo.git\n    path: charts/tenant\n    targetRevision: main\n    helm:\n      releaseName: t1\n      values: |\n        tenantId: t1\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: t1\n";
    scratch(&[
        ("apps/tenants/premium/t1.yaml", tenant),
        (
            "apps/charts/tenant/Chart.yaml",
            "apiVersion: v2\nname: tenant\nversion: 1.0.0\n",
        ),
        ("apps/charts/tenant/values.yaml", "tenantId: \"\"\n"),
        ("apps/charts/tenant/templates/_helpers.yaml", helpers),
        ("apps/charts/tenant/templates/serviceaccount.yaml", template),
    ])
}

#[test]
fn a_template_fan_out_of_two_to_the_forty_stops_at_an_include() {
    // Each define includes the previous twice and prints nothing: 2^40 include calls.
    let mut helpers = String::from("{{- define \"d0\" }}x{{ end }}\n");
    for i in 1..=40 {
        helpers.push_str(&format!(
            "{{{{- define \"d{i}\" }}}}{{{{- $a := include \"d{p}\" . }}}}{{{{- $b := include \"d{p}\" . }}}}{{{{ end }}}}\n",
            p = i - 1
        ));
    }
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.tenantId }}\n  annotations:\n    x: {{ include \"d40\" . }}\n";
    let dir = chart_repo(&helpers, sa);
    let out = lint(dir.path(), &["apps"], Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (file, line, message) = one_budget(&out);
    assert_eq!(file, "apps/charts/tenant/templates/_helpers.yaml");
    // Some define's `include` (which one depends only on the step count).
    assert!(line >= 2, "{line}");
    assert!(message.contains("`limits.templateSteps`"), "{message}");
    assert!(
        !findings(&out)
            .iter()
            .any(|f| f.0 == "helm/template-not-understood"),
        "{:#?}",
        findings(&out)
    );
}

#[test]
fn nested_ranges_and_runaway_output_stop_at_the_action() {
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.tenantId }}\n{{- range $i := 100000 }}{{ range $j := 100000 }}{{ end }}{{ end }}\n";
    let dir = chart_repo("", sa);
    let out = lint(dir.path(), &["apps"], Duration::from_secs(30));
    let (file, line, message) = one_budget(&out);
    assert_eq!(
        (file.as_str(), line),
        ("apps/charts/tenant/templates/serviceaccount.yaml", 5)
    );
    assert!(message.contains("more than 1000000 steps"), "{message}");
    // Output doubling, under a small output budget from the config.
    let mut helpers = String::from("{{- define \"d0\" }}xxxxxxxx{{ end }}\n");
    for i in 1..=30 {
        helpers.push_str(&format!(
            "{{{{- define \"d{i}\" }}}}{{{{ include \"d{p}\" . }}}}{{{{ include \"d{p}\" . }}}}{{{{ end }}}}\n",
            p = i - 1
        ));
    }
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Values.tenantId }}\n  annotations:\n    x: {{ include \"d30\" . }}\n";
    let dir = chart_repo(&helpers, sa);
    common::write(
        dir.path(),
        "apps/.gitops-lint.yaml",
        "limits:\n  templateOutputBytes: 64KiB\n",
    );
    let out = lint(dir.path(), &["apps"], Duration::from_secs(30));
    let (file, _, message) = one_budget(&out);
    assert_eq!(file, "apps/charts/tenant/templates/_helpers.yaml");
    assert!(message.contains("more than 65536 bytes"), "{message}");
    assert!(
        message.contains("`limits.templateOutputBytes`"),
        "{message}"
    );
}

#[test]
fn a_go_template_in_an_appset_is_bounded_too() {
    let set = "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: slow\nspec:\n  goTemplate: true\n  generators:\n    - list:\n        elements:\n          - a: x\n  template:\n    metadata:\n      name: 'x-{{ range $i := 100000 }}{{ range $j := 100000 }}{{ end }}{{ end }}{{ .a }}'\n    spec:\n      project: default\n      source:\n        repoURL: https://github.com/acme/apps\n        path: apps\n      destination:\n        server: https://kubernetes.default.svc\n        namespace: x\n";
    let dir = scratch(&[("repo/slow.yaml", set)]);
    let out = lint(dir.path(), &["repo"], Duration::from_secs(30));
    let (file, line, message) = one_budget(&out);
    assert_eq!(
        (file.as_str(), line),
        ("repo/slow.yaml", line_of(set, "name: 'x-"))
    );
    assert!(message.contains("`limits.templateSteps`"), "{message}");
    assert_eq!(findings(&out).len(), 1, "{:#?}", findings(&out));
}

#[test]
fn terraform_counts_multiply_through_modules() {
    let root = "module \"m\" {\n  source = \"../../modules/m\"\n  count  = 100000\n}\n";
    let module = "resource \"aws_iam_role\" \"r\" {\n  count = 100000\n  name  = \"r-${count.index}\"\n  assume_role_policy = jsonencode({ Statement = [] })\n}\n";
    let dir = scratch(&[
        ("infra/envs/prd/main.tf", root),
        ("infra/modules/m/main.tf", module),
    ]);
    let out = lint(dir.path(), &["infra"], Duration::from_secs(30));
    let (file, line, message) = one_budget(&out);
    // The module's 100000 instances fit; the role's 100000 in each of them do not.
    assert_eq!((file.as_str(), line), ("infra/modules/m/main.tf", 2));
    assert!(
        message.contains("100000 instances in each of the 100000"),
        "{message}"
    );
    assert!(message.contains("`limits.terraformInstances`"), "{message}");
    // One count over the budget on its own.
    let dir = scratch(&[(
        "infra/envs/prd/main.tf",
        "resource \"aws_iam_role\" \"r\" {\n  name  = \"r\"\n  count = 1e12\n}\n",
    )]);
    let out = lint(dir.path(), &["infra"], Duration::from_secs(10));
    let (_, line, message) = one_budget(&out);
    assert_eq!(line, 3);
    assert!(message.contains("1000000000000 instances"), "{message}");
}

#[test]
fn nested_for_expressions_run_out_of_values_and_nothing_is_judged_missing() {
    // 1000^3 elements, from a literal list and from range(); an IRSA ServiceAccount in the
    // apps-repo names a role this configuration would create after the budget ran out.
    let l = format!(
        "[{}]",
        (0..1000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let tf = format!(
        "locals {{\n  l    = {l}\n  cube = [for a in local.l : [for b in local.l : [for c in local.l : c]]]\n  r    = [for a in range(1000) : [for b in range(1000) : [for c in range(1000) : c]]]\n}}\n\nmodule \"irsa\" {{\n  source    = \"terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks\"\n  count     = length(local.cube) > 0 ? 1 : 0\n  role_name = \"t1-app\"\n  oidc_providers = {{\n    main = {{\n      provider_arn               = \"arn:aws:iam::123456789012:oidc-provider/oidc.eks.x\"\n      namespace_service_accounts = [\"t1:app\"]\n    }}\n  }}\n}}\n\nmodule \"other\" {{\n  source = \"../../modules/m\"\n  count  = length(local.r)\n}}\n"
    );
    let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: t1\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/t1-app\n";
    let dir = scratch(&[
        ("infra/envs/prd/main.tf", &tf),
        ("infra/modules/m/main.tf", ""),
        ("apps/sa.yaml", sa),
    ]);
    let out = lint(dir.path(), &["apps", "infra"], Duration::from_secs(30));
    let (file, line, message) = one_budget(&out);
    // The innermost `for` of the cube is where the budget runs out.
    assert_eq!((file.as_str(), line), ("infra/envs/prd/main.tf", 3));
    assert!(message.contains("more than 10000000 values"), "{message}");
    assert!(message.contains("`limits.terraformValues`"), "{message}");
    // Unknown is "not judged": no irsa finding about the role the budget left unknown.
    assert!(
        !findings(&out).iter().any(|f| f.0.starts_with("irsa/")),
        "{:#?}",
        findings(&out)
    );
}

#[test]
fn range_is_bounded_as_terraform_bounds_it() {
    // More than 1024 numbers is an error in Terraform: unknown here, no budget spent on it.
    let tf = "locals {\n  big = range(100000000)\n}\nmodule \"m\" {\n  source = \"../../modules/m\"\n  count  = length(local.big)\n}\nmodule \"n\" {\n  source = \"../../modules/m\"\n  count  = length(range(3))\n}\n";
    let dir = scratch(&[
        ("infra/envs/prd/main.tf", tf),
        ("infra/modules/m/main.tf", ""),
    ]);
    let out = lint(dir.path(), &["infra"], Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(0), "{:#?}", findings(&out));
}

/// A repository, and a policy directory whose `bomb.rego` asks for a huge allocation while
/// `ok.rego` reports one finding per manifest.
fn policy_repo(bomb: &str) -> tempfile::TempDir {
    scratch(&[
        (
            "repo/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        ),
        ("policy/bomb.rego", bomb),
        (
            "policy/ok.rego",
            "package acme.ok\nimport rego.v1\n\nwarn contains f if {\n  f := {\"rule\": \"acme/seen\", \"file\": \"repo/cm.yaml\", \"doc\": 0, \"path\": [\"metadata\", \"name\"], \"msg\": \"seen\"}\n}\n",
        ),
    ])
}

#[test]
fn a_policy_that_allocates_a_billion_numbers_is_a_finding_not_a_crash() {
    let bomb = "# A policy from the pull request.\npackage acme.bomb\nimport rego.v1\n\ndeny contains f if {\n  n := count(numbers.range(1, 1000000000))\n  f := {\"rule\": \"acme/bomb\", \"file\": \"repo/cm.yaml\", \"msg\": sprintf(\"%d\", [n])}\n}\n";
    let dir = policy_repo(bomb);
    let out = lint(
        dir.path(),
        &["--policy", "policy", "repo"],
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (file, line, message) = one_budget(&out);
    assert_eq!((file.as_str(), line), ("policy/bomb.rego", 2));
    assert!(message.contains("`limits.regoMemoryBytes`"), "{message}");
    // The other package's finding is still reported.
    assert!(
        findings(&out).iter().any(|f| f.0 == "acme/seen"),
        "{:#?}",
        findings(&out)
    );
}

#[test]
fn a_policy_that_grows_memory_slowly_or_runs_long_is_stopped() {
    // A comprehension that keeps allocating (no single huge request).
    let grow = "package acme.bomb\nimport rego.v1\n\ndeny contains f if {\n  xs := [sprintf(\"%d-%d\", [a, b]) | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000)]\n  f := {\"rule\": \"acme/bomb\", \"file\": \"repo/cm.yaml\", \"msg\": sprintf(\"%d\", [count(xs)])}\n}\n";
    let dir = policy_repo(grow);
    common::write(
        dir.path(),
        "repo/.gitops-lint.yaml",
        "limits:\n  regoMemoryBytes: 256MiB\n  regoSeconds: 5\n",
    );
    let out = lint(
        dir.path(),
        &["--policy", "policy", "repo"],
        Duration::from_secs(40),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let (file, line, message) = one_budget(&out);
    assert_eq!((file.as_str(), line), ("policy/bomb.rego", 1));
    // Whichever budget runs out first; both are named by their key.
    assert!(
        message.contains("`limits.regoMemoryBytes`") || message.contains("`limits.regoSeconds`"),
        "{message}"
    );
    assert!(findings(&out).iter().any(|f| f.0 == "acme/seen"));
    // A loop with nothing to allocate runs into the time budget.
    let slow = "package acme.bomb\nimport rego.v1\n\ndeny contains x if {\n  some x in numbers.range(1, 100000)\n  some y in numbers.range(1, 100000)\n  x * y < 0\n}\n";
    let dir = policy_repo(slow);
    common::write(
        dir.path(),
        "repo/.gitops-lint.yaml",
        "limits:\n  regoSeconds: 1\n",
    );
    let out = lint(
        dir.path(),
        &["--policy", "policy", "repo"],
        Duration::from_secs(30),
    );
    let (_, _, message) = one_budget(&out);
    assert!(
        message.contains("longer than 1 s (`limits.regoSeconds`)"),
        "{message}"
    );
}

#[test]
fn a_policy_error_is_still_a_policy_error() {
    // Not a budget: a policy that fails at run time stops the run (exit 2), as before.
    let bad = "package acme.bomb\nimport rego.v1\n\ndeny contains f if {\n  f := {\"rule\": \"acme/bomb\", \"file\": \"not/linted.yaml\", \"msg\": \"x\"}\n}\n";
    let dir = policy_repo(bad);
    let out = run(dir.path(), &["--policy", "policy", "repo"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bomb.rego"), "{}", stderr(&out));
}
