//! The ServiceAccounts rendered from the example chart for every tenant and pool release.

use gitops_lint_config::Config;
use gitops_lint_model::accounts::AccountSource;
use std::path::PathBuf;

fn example(config: &Config) -> Vec<String> {
    accounts("fixtures/example/apps-repo", config)
}

fn accounts(dir: &str, config: &Config) -> Vec<String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let options = gitops_lint::Options {
        paths: vec![root],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let outcome = gitops_lint::lint(&options, config).unwrap_or_else(|e| panic!("{e}"));
    let mut out: Vec<String> = outcome
        .world
        .service_accounts
        .iter()
        .filter(|sa| sa.source != AccountSource::Manifest)
        .map(|sa| {
            format!(
                "{}/{} role={} tenant={}",
                sa.namespace.as_deref().unwrap_or("?"),
                sa.name,
                sa.role_arn.as_deref().unwrap_or("-"),
                sa.tenant.as_deref().unwrap_or("-")
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn example_chart_service_accounts() {
    let arn = |app: &str, t: &str| format!("arn:aws:iam::123456789012:role/{app}-role-{t}");
    let mut want: Vec<String> = vec![
        // pool-1 runs both apps for the basic tier (and advanced producers)
        format!(
            "pool-1/pool-1-consumer role={} tenant=-",
            arn("consumer", "pool-1")
        ),
        format!(
            "pool-1/pool-1-producer role={} tenant=-",
            arn("producer", "pool-1")
        ),
        // premium tenant-1: both silo
        format!(
            "tenant-1/tenant-1-consumer role={} tenant=tenant-1",
            arn("consumer", "tenant-1")
        ),
        format!(
            "tenant-1/tenant-1-producer role={} tenant=tenant-1",
            arn("producer", "tenant-1")
        ),
        // advanced tenant-3: consumer only (producer is pooled)
        format!(
            "tenant-3/tenant-3-consumer role={} tenant=tenant-3",
            arn("consumer", "tenant-3")
        ),
        // premium tenant-4 disabled its consumer by mistake: producer only
        format!(
            "tenant-4/tenant-4-producer role={} tenant=tenant-4",
            arn("producer", "tenant-4")
        ),
        // tenant-55 deploys into namespace tenant-5 (the seeded typo): the accounts follow it
        format!(
            "tenant-5/tenant-55-consumer role={} tenant=tenant-55",
            arn("consumer", "tenant-55")
        ),
        format!(
            "tenant-5/tenant-55-producer role={} tenant=tenant-55",
            arn("producer", "tenant-55")
        ),
        // basic tenant-2: both apps pooled, no account of its own
        // platform/aws-load-balancer-controller.yaml installs a chart from a Helm repository;
        // its values name the account (`serviceAccount.name`, helm create's convention)
        "kube-system/aws-load-balancer-controller role=arn:aws:iam::123456789012:role/aws-load-balancer-controller tenant=-".to_string(),
    ];
    want.sort();
    assert_eq!(example(&Config::default()), want);
}

#[test]
fn convention_instead_of_the_chart() {
    let config = Config {
        service_account: Some("{tenant}-{app}-sa".to_string()),
        ..Config::default()
    };
    let got = example(&config);
    assert!(
        got.contains(&"tenant-3/tenant-3-consumer-sa role=- tenant=tenant-3".to_string()),
        "{got:?}"
    );
    assert!(
        !got.iter().any(|g| g.contains("tenant-3-producer")),
        "{got:?}"
    );
    // 8 by the convention, and the remote chart's account its values name
    assert_eq!(got.len(), 9, "{got:?}");
}

#[test]
fn supported_subset_chart_renders() {
    let got = accounts(
        "fixtures/rules/helm/template-not-understood/pass/apps-repo",
        &Config::default(),
    );
    let arn = |app: &str| format!("arn:aws:iam::123456789012:role/{app}-role-tenant-1");
    assert_eq!(
        got,
        vec![
            format!(
                "tenant-1/tenant-1-consumer role={} tenant=tenant-1",
                arn("consumer")
            ),
            format!(
                "tenant-1/tenant-1-producer role={} tenant=tenant-1",
                arn("producer")
            ),
        ]
    );
}

#[test]
fn example_workloads_run_as_the_rendered_accounts() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/example/apps-repo");
    let options = gitops_lint::Options {
        paths: vec![root],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let outcome = gitops_lint::lint(&options, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let world = &outcome.world;
    let mut uses: Vec<String> = world
        .account_uses
        .iter()
        .filter(|u| u.source != AccountSource::Manifest)
        .map(|u| {
            format!(
                "{}/{} {}",
                u.namespace.as_deref().unwrap_or("?"),
                u.account,
                u.workload
            )
        })
        .collect();
    uses.sort();
    // Each enabled app's Deployment runs as the account the chart creates for it.
    // (Accounts named in a remote chart's values: its workloads are not rendered.)
    let mut accounts: Vec<String> = world
        .service_accounts
        .iter()
        .filter(|sa| !matches!(sa.source, AccountSource::Manifest | AccountSource::Values))
        .map(|sa| {
            let ns = sa.namespace.as_deref().unwrap_or("?");
            format!("{ns}/{} Deployment/{}", sa.name, sa.name)
        })
        .collect();
    accounts.sort();
    assert_eq!(uses, accounts);
    assert_eq!(uses.len(), 8);
}
