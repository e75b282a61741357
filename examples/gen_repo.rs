//! Synthetic GitOps repo generator for gitops-lint tests and benchmarks.
//!
//! ```text
//! cargo run --release --example gen_repo -- --tenants 1000 --out /tmp/gen [--defects]
//! ```
//!
//! Writes `<out>/apps-repo` (Argo CD, seed layout) and `<out>/infra-repo` (Terraform +
//! `envs/prd/tenants.json`). Tenants `tenant-1..=tenant-N` are spread round-robin over
//! premium, advanced, basic. Without `--defects` the pair is clean under the first
//! milestone's rules. With `--defects` a known set of mistakes is injected and printed
//! to stdout, one per line, as `<rule-id> <file relative to out>:<line>`, sorted:
//!
//! - every 97th tenant that is not basic deploys to its neighbour's namespace
//!   (`tenant/namespace-mismatch`, the `namespace:` line);
//! - every 101st premium tenant has `consumer.enabled: false` (`tier/app-enablement`);
//! - every 103rd advanced tenant has no `producer.envId` (`tier/shared-app-missing-pool`,
//!   the `producer:` line; the tenant's drift from its tier template there,
//!   `tier/contract-drift`, is folded into that finding: the same fix);
//! - `platform/kustomization.yaml` has its last resource one space too deep
//!   (`yaml/continued-list-item`), so the item above becomes `... - external-dns.yaml`,
//!   which names no file (`kustomize/missing-resource`, the line above);
//! - `bootstrap/children/tenants-appset.yaml` is the seed's broken ApplicationSet over
//!   `tenants/*/*` (`argocd/appset-path-matches-nothing`).
//!
//! With `--many-findings` (which implies `--defects`), every premium and advanced tenant
//! deploys to its neighbour's namespace, not only every 97th: about 0.67 findings per tenant,
//! 1.7 with `--service-accounts` (the benchmark's many-findings tree; the list on stdout is
//! still exact).
//!
//! The tenant chart renders each silo app's ServiceAccount into the release namespace, so with
//! `--defects` a tenant deployed to its neighbour's namespace also breaks its roles' trust: that
//! `irsa/trust-mismatch` is folded into the `tenant/namespace-mismatch` finding (the same line,
//! the same fix). A premium tenant without its consumer leaves `consumer-role-<id>` unused
//! (`irsa/unused-role`, reported at the module's trust line).
//!
//! With `--service-accounts`, `serviceaccounts/<id>.yaml` also holds the ServiceAccounts each
//! release runs (its silo apps, plus `pool-1`'s) as plain manifests, in the namespace the release
//! deploys to, annotated with the role Terraform creates; a wrong namespace then gives
//! `irsa/trust-mismatch` at each manifest's `namespace:` line too.
//!
//! Std only, deterministic (no randomness, no timestamps), one write per file.
//! The timing line goes to stderr so stdout stays the defect list.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const TIERS: [&str; 3] = ["premium", "advanced", "basic"];
const APPS: [&str; 2] = ["producer", "consumer"];
const ACCOUNT_ID: &str = "123456789012";
const REGION: &str = "ap-northeast-2";
const POOL: &str = "pool-1";
const APPS_REPO_URL: &str = "https://github.com/example-org/apps-repo.git";
const IN_CLUSTER: &str = "https://kubernetes.default.svc";

struct Args {
    tenants: usize,
    out: PathBuf,
    defects: bool,
    /// Every premium and advanced tenant in the wrong namespace (`--many-findings`).
    many_findings: bool,
    service_accounts: bool,
    workshop_naming: bool,
}

const USAGE: &str =
    "usage: gen_repo --tenants N --out DIR [--defects] [--many-findings] [--service-accounts]\n\
       [--workshop-naming]\n\
\n\
Writes DIR/apps-repo and DIR/infra-repo (both replaced if present).\n\
--defects injects known mistakes and prints them as `<rule-id> <file>:<line>`.\n\
--many-findings is --defects with every premium and advanced tenant in its neighbour's\n\
namespace (about 0.67 findings per tenant; 1.7 with --service-accounts).\n\
--service-accounts also writes each release's ServiceAccounts as plain manifests\n\
(serviceaccounts/<id>.yaml, in the namespace the release deploys to), so the IRSA joins\n\
have work to do.\n\
--workshop-naming names the pool Application and Helm release `pool-1-basic` and sets\n\
`tenantId: pool-1` in its values, as the EKS SaaS GitOps workshop does; tenants still\n\
route to it with `envId: pool-1`.";

fn parse_args() -> Result<Args, String> {
    let mut tenants = None;
    let mut out = None;
    let mut defects = false;
    let mut many_findings = false;
    let mut service_accounts = false;
    let mut workshop_naming = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tenants" | "-n" => {
                let v = it.next().ok_or("--tenants needs a value")?;
                tenants = Some(
                    v.parse::<usize>()
                        .map_err(|_| format!("--tenants: not a number: {v}"))?,
                );
            }
            "--out" | "-o" => out = Some(PathBuf::from(it.next().ok_or("--out needs a value")?)),
            "--defects" => defects = true,
            "--many-findings" => {
                defects = true;
                many_findings = true;
            }
            "--service-accounts" => service_accounts = true,
            "--workshop-naming" => workshop_naming = true,
            "-h" | "--help" => return Err(String::new()),
            _ => {
                if let Some(v) = a.strip_prefix("--tenants=") {
                    tenants = Some(
                        v.parse()
                            .map_err(|_| format!("--tenants: not a number: {v}"))?,
                    );
                } else if let Some(v) = a.strip_prefix("--out=") {
                    out = Some(PathBuf::from(v));
                } else {
                    return Err(format!("unknown argument: {a}"));
                }
            }
        }
    }
    Ok(Args {
        tenants: tenants.unwrap_or(100),
        out: out.ok_or("--out is required")?,
        defects,
        many_findings,
        service_accounts,
        workshop_naming,
    })
}

/// One injected mistake, as the linter is expected to report it.
struct Defect {
    rule: &'static str,
    file: String,
    line: usize,
}

/// A text file built line by line, so the generator knows every line number.
struct Doc {
    buf: String,
    line: usize,
}

impl Doc {
    fn with_capacity(n: usize) -> Doc {
        Doc {
            buf: String::with_capacity(n),
            line: 0,
        }
    }
    /// Appends one line (without its newline) and returns its 1-based number.
    fn l(&mut self, s: &str) -> usize {
        self.buf.push_str(s);
        self.buf.push('\n');
        self.line += 1;
        self.line
    }
    /// Formatted line; returns its 1-based number.
    fn f(&mut self, args: std::fmt::Arguments<'_>) -> usize {
        self.buf.write_fmt(args).expect("write to String");
        self.buf.push('\n');
        self.line += 1;
        self.line
    }
    /// Several literal lines at once (text must end with '\n').
    fn text(&mut self, s: &str) {
        debug_assert!(s.ends_with('\n'));
        self.buf.push_str(s);
        self.line += s.bytes().filter(|&b| b == b'\n').count();
    }
}

macro_rules! lf {
    ($d:expr, $($t:tt)*) => { $d.f(format_args!($($t)*)) };
}

// ------------------------------------------------------------------------------------
// Tenant Applications (also used, with placeholders, for the tier templates)

/// What one tenant file is made of. For a tier template the fields hold placeholders.
struct TenantSpec<'a> {
    tier: usize,
    id: &'a str,
    account: &'a str,
    region: &'a str,
    release: &'a str,
    /// Destination namespace written into the file (normally `id`, the pool for basic).
    namespace: &'a str,
    /// Defect: premium consumer switched off.
    consumer_off: bool,
    /// Defect: advanced producer without `envId`.
    producer_no_pool: bool,
}

/// Line numbers of interest in a rendered tenant file.
#[derive(Default)]
struct TenantLines {
    namespace: usize,
    consumer_enabled: usize,
    producer_key: usize,
}

/// `true` where the tier runs the app in the tenant's own namespace (silo).
fn tier_silo(tier: usize, app: usize) -> bool {
    match tier {
        0 => true,
        1 => app == 1,
        _ => false,
    }
}

fn render_tenant(s: &TenantSpec<'_>, d: &mut Doc) -> TenantLines {
    let tier = TIERS[s.tier];
    let mut lines = TenantLines::default();
    d.text("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n");
    lf!(d, "  name: {}-{}", s.id, tier);
    d.l("  namespace: argocd");
    d.l("  labels:");
    lf!(d, "    saas.example.com/tenant: {}", s.id);
    lf!(d, "    saas.example.com/tier: {}", tier);
    let silo: Vec<usize> = (0..APPS.len()).filter(|&a| tier_silo(s.tier, a)).collect();
    if !silo.is_empty() {
        d.l("  annotations:");
        let mut list = String::new();
        for (k, &a) in silo.iter().enumerate() {
            if k > 0 {
                list.push(',');
            }
            let _ = write!(
                list,
                "{app}={acct}.dkr.ecr.{reg}.amazonaws.com/{app}",
                app = APPS[a],
                acct = s.account,
                reg = s.region
            );
        }
        lf!(
            d,
            "    argocd-image-updater.argoproj.io/image-list: {}",
            list
        );
        for &a in &silo {
            lf!(
                d,
                "    argocd-image-updater.argoproj.io/{}.update-strategy: semver",
                APPS[a]
            );
        }
    }
    d.text("  finalizers:\n    - resources-finalizer.argocd.argoproj.io\nspec:\n  project: default\n  source:\n");
    lf!(d, "    repoURL: {}", APPS_REPO_URL);
    d.text("    path: helm-charts/helm-tenant-chart\n    targetRevision: main\n    helm:\n");
    lf!(d, "      releaseName: {}-{}", s.id, tier);
    d.l("      values: |");
    lf!(d, "        tenantId: {}", s.id);
    lf!(d, "        tier: {}", tier);
    lf!(d, "        accountId: \"{}\"", s.account);
    lf!(d, "        region: {}", s.region);
    d.l("        apps:");
    for (a, app) in APPS.iter().enumerate() {
        let key = lf!(d, "          {}:", app);
        if a == 0 {
            lines.producer_key = key;
        }
        if tier_silo(s.tier, a) {
            let off = a == 1 && s.consumer_off;
            let ln = lf!(
                d,
                "            enabled: {}",
                if off { "false" } else { "true" }
            );
            if a == 1 {
                lines.consumer_enabled = ln;
            }
            d.l("            replicas: 1");
            d.l("            image:");
            lf!(
                d,
                "              repository: {}.dkr.ecr.{}.amazonaws.com/{}",
                s.account,
                s.region,
                app
            );
            lf!(d, "              tag: \"{}\"", s.release);
        } else {
            let ln = d.l("            enabled: false");
            if a == 1 {
                lines.consumer_enabled = ln;
            }
            if !(a == 0 && s.producer_no_pool) {
                lf!(d, "            envId: {}", POOL);
            }
        }
        d.l("            ingress:");
        d.l("              enabled: true");
    }
    d.text("  destination:\n");
    lf!(d, "    server: {}", IN_CLUSTER);
    lines.namespace = lf!(d, "    namespace: {}", s.namespace);
    d.text(
        "  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n    syncOptions:\n      - CreateNamespace=true\n",
    );
    lines
}

/// The pool (`basic_env_template` rendered): a release of the same chart with every app on.
/// With `workshop_naming`, the Application and release are named `<env>-basic` and the values
/// carry `tenantId: <env>`: the pool's identity is its values, not its name.
fn render_pool(
    env: &str,
    account: &str,
    region: &str,
    release: &str,
    workshop_naming: bool,
    d: &mut Doc,
) {
    let name = if workshop_naming {
        format!("{env}-basic")
    } else {
        env.to_string()
    };
    d.text("apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n");
    lf!(d, "  name: {}", name);
    d.l("  namespace: argocd");
    d.l("  labels:");
    lf!(d, "    saas.example.com/pool: {}", env);
    d.l("  annotations:");
    lf!(
        d,
        "    argocd-image-updater.argoproj.io/image-list: producer={a}.dkr.ecr.{r}.amazonaws.com/producer,consumer={a}.dkr.ecr.{r}.amazonaws.com/consumer",
        a = account,
        r = region
    );
    d.l("    argocd-image-updater.argoproj.io/producer.update-strategy: semver");
    d.l("    argocd-image-updater.argoproj.io/consumer.update-strategy: semver");
    d.text("  finalizers:\n    - resources-finalizer.argocd.argoproj.io\nspec:\n  project: default\n  source:\n");
    lf!(d, "    repoURL: {}", APPS_REPO_URL);
    d.text("    path: helm-charts/helm-tenant-chart\n    targetRevision: main\n    helm:\n");
    lf!(d, "      releaseName: {}", name);
    d.l("      values: |");
    if workshop_naming {
        lf!(d, "        tenantId: {}", env);
    }
    lf!(d, "        envId: {}", env);
    lf!(d, "        accountId: \"{}\"", account);
    lf!(d, "        region: {}", region);
    d.l("        apps:");
    for app in APPS {
        lf!(d, "          {}:", app);
        d.l("            enabled: true");
        d.l("            replicas: 2");
        d.l("            image:");
        lf!(
            d,
            "              repository: {}.dkr.ecr.{}.amazonaws.com/{}",
            account,
            region,
            app
        );
        lf!(d, "              tag: \"{}\"", release);
        d.l("            ingress:");
        d.l("              enabled: true");
    }
    d.text("  destination:\n");
    lf!(d, "    server: {}", IN_CLUSTER);
    lf!(d, "    namespace: {}", env);
    d.text(
        "  syncPolicy:\n    automated:\n      prune: true\n      selfHeal: true\n    syncOptions:\n      - CreateNamespace=true\n",
    );
}

/// Release version of tenant `i` (deterministic, varied, always a quoted string).
fn release_of(i: usize) -> String {
    format!("1.{}.{}", (i / 7) % 5, i % 3)
}

// ------------------------------------------------------------------------------------
// Static files of the apps-repo

const ROOT_APP: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: default
  source:
    repoURL: https://github.com/example-org/apps-repo.git
    path: bootstrap/children
    targetRevision: main
    directory:
      recurse: true
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
";

const CHILD_PLATFORM: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: platform
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example-org/apps-repo.git
    path: platform
    targetRevision: main
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
";

/// The working fix: one Application with `directory.recurse` over every tenant file.
const CHILD_TENANTS: &str = "\
# Every tenant file under tenants/<tier>/ is an Argo CD Application; deploy them all.
# (A git `directories` generator over tenants/*/* would match nothing: tenants are files.)
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: tenants
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://github.com/example-org/apps-repo.git
    path: tenants
    targetRevision: main
    directory:
      recurse: true
      include: '*.yaml'
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
";

/// Defect: the seed's ApplicationSet. Line 14 is the `path:` value.
const CHILD_TENANTS_APPSET: &str = "\
# Seed version: a git directories generator over tenants/*/*. Tenants are files,
# so this generates no Application at all.
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: tenants-by-directory
  namespace: argocd
spec:
  generators:
    - git:
        repoURL: https://github.com/example-org/apps-repo.git
        revision: main
        directories:
          - path: tenants/*/*
  template:
    metadata:
      name: '{{path[2]}}'
    spec:
      project: default
      source:
        repoURL: https://github.com/example-org/apps-repo.git
        path: '{{path}}'
        targetRevision: main
      destination:
        server: https://kubernetes.default.svc
        namespace: '{{path[2]}}'
      syncPolicy:
        automated:
          prune: true
          selfHeal: true
        syncOptions:
          - CreateNamespace=true
";
const APPSET_PATH_LINE: usize = 14;

const PLATFORM_APPS: [(&str, &str); 3] = [
    (
        "aws-load-balancer-controller.yaml",
        "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: aws-load-balancer-controller
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: \"-1\"
spec:
  project: default
  source:
    repoURL: https://aws.github.io/eks-charts
    chart: aws-load-balancer-controller
    targetRevision: 1.8.1
    helm:
      releaseName: aws-load-balancer-controller
      valuesObject:
        clusterName: eks-saas-gitops
        region: ap-northeast-2
        serviceAccount:
          create: true
          name: aws-load-balancer-controller
  destination:
    server: https://kubernetes.default.svc
    namespace: kube-system
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
",
    ),
    (
        "metrics-server.yaml",
        "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: metrics-server
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://kubernetes-sigs.github.io/metrics-server/
    chart: metrics-server
    targetRevision: 3.12.1
    helm:
      releaseName: metrics-server
      valuesObject:
        replicas: 2
        args:
          - --kubelet-preferred-address-types=InternalIP
  destination:
    server: https://kubernetes.default.svc
    namespace: kube-system
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
",
    ),
    (
        "external-dns.yaml",
        "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: external-dns
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://kubernetes-sigs.github.io/external-dns/
    chart: external-dns
    targetRevision: 1.14.5
    helm:
      releaseName: external-dns
      valuesObject:
        provider:
          name: aws
        policy: upsert-only
        domainFilters:
          - saas.example.com
  destination:
    server: https://kubernetes.default.svc
    namespace: external-dns
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
    syncOptions:
      - CreateNamespace=true
",
    ),
];

const KUSTOMIZATION_HEAD: &str = "\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - aws-load-balancer-controller.yaml
  - metrics-server.yaml
";
/// Line number of the last resource (after the 5 lines of the head).
const KUSTOMIZATION_LAST_LINE: usize = 6;

const CHART_YAML: &str = "\
apiVersion: v2
name: helm-tenant-chart
description: One chart for every tier; the tier is only a values difference.
type: application
version: 0.0.1
appVersion: \"1.0.0\"
";

const CHART_VALUES: &str = "\
# Defaults; every tenant and pool Application overrides them in helm.values.
tenantId: \"\"
envId: \"\"
tier: \"\"
accountId: \"\"
region: ap-northeast-2
apps:
  producer:
    enabled: false
    envId: \"\"
    replicas: 1
    image:
      repository: \"\"
      tag: \"\"
    ingress:
      enabled: false
  consumer:
    enabled: false
    envId: \"\"
    replicas: 1
    image:
      repository: \"\"
      tag: \"\"
    ingress:
      enabled: false
";

const CHART_HELPERS: &str = r#"{{/* The id a release is named after: the tenant, or the pool for a pool release. */}}
{{- define "tenant.id" -}}
{{- .Values.tenantId | default .Values.envId -}}
{{- end -}}
"#;

const CHART_SA: &str = r#"{{- $id := include "tenant.id" . }}
{{- range $name, $app := .Values.apps }}
{{- if $app.enabled }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ $id }}-{{ $name }}
  namespace: {{ $.Release.Namespace }}
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::{{ $.Values.accountId }}:role/{{ $name }}-role-{{ $id }}
{{- end }}
{{- end }}
"#;

const CHART_DEPLOYMENT: &str = r#"{{- $id := include "tenant.id" . }}
{{- range $name, $app := .Values.apps }}
{{- if $app.enabled }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $id }}-{{ $name }}
  namespace: {{ $.Release.Namespace }}
  labels:
    app.kubernetes.io/name: {{ $name }}
    app.kubernetes.io/instance: {{ $id }}
spec:
  replicas: {{ $app.replicas | default 1 }}
  selector:
    matchLabels:
      app.kubernetes.io/name: {{ $name }}
      app.kubernetes.io/instance: {{ $id }}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {{ $name }}
        app.kubernetes.io/instance: {{ $id }}
    spec:
      serviceAccountName: {{ $id }}-{{ $name }}
      containers:
        - name: {{ $name }}
          image: "{{ $app.image.repository }}:{{ $app.image.tag }}"
          env:
            - name: TENANT_ID
              value: {{ $id | quote }}
            - name: AWS_REGION
              value: {{ $.Values.region | quote }}
          ports:
            - containerPort: 8080
{{- end }}
{{- end }}
"#;

const CHART_SERVICE: &str = r#"{{- $id := include "tenant.id" . }}
{{- range $name, $app := .Values.apps }}
{{- if $app.enabled }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ $id }}-{{ $name }}
  namespace: {{ $.Release.Namespace }}
spec:
  selector:
    app.kubernetes.io/name: {{ $name }}
    app.kubernetes.io/instance: {{ $id }}
  ports:
    - port: 80
      targetPort: 8080
{{- end }}
{{- end }}
"#;

const CHART_INGRESS: &str = r#"{{- $id := include "tenant.id" . }}
{{- range $name, $app := .Values.apps }}
{{- if and $app.enabled $app.ingress.enabled }}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $id }}-{{ $name }}
  namespace: {{ $.Release.Namespace }}
  annotations:
    alb.ingress.kubernetes.io/group.name: saas
    alb.ingress.kubernetes.io/scheme: internet-facing
    alb.ingress.kubernetes.io/target-type: ip
    alb.ingress.kubernetes.io/conditions.{{ $id }}-{{ $name }}: '[{"field":"http-header","httpHeaderConfig":{"httpHeaderName":"tenantID","values":["{{ $id }}"]}}]'
spec:
  ingressClassName: alb
  rules:
    - http:
        paths:
          - path: /{{ $name }}
            pathType: Prefix
            backend:
              service:
                name: {{ $id }}-{{ $name }}
                port:
                  number: 80
{{- end }}
{{- end }}
"#;

// ------------------------------------------------------------------------------------
// infra-repo

const TF_BACKEND: &str = r#"terraform {
  required_version = ">= 1.6"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }

  backend "s3" {
    bucket         = "eks-saas-gitops-tfstate-123456789012"
    key            = "prd/terraform.tfstate"
    region         = "ap-northeast-2"
    dynamodb_table = "eks-saas-gitops-tflock"
    encrypt        = true
  }
}
"#;

const TF_ENV_VARIABLES: &str = r#"variable "region" {
  description = "AWS region of the cluster."
  type        = string
  default     = "ap-northeast-2"
}

variable "cluster_name" {
  description = "Name of the EKS cluster that hosts every tenant."
  type        = string
  default     = "eks-saas-gitops"
}
"#;

const TF_ENV_MAIN: &str = r#"provider "aws" {
  region = var.region
}

data "aws_eks_cluster" "this" {
  name = var.cluster_name
}

# The IAM OIDC provider of the cluster: IRSA trust policies need its ARN, not the issuer URL.
data "aws_iam_openid_connect_provider" "eks" {
  url = data.aws_eks_cluster.this.identity[0].oidc[0].issuer
}

locals {
  # [{"id": "tenant-1", "tier": "premium"}, ...], appended to by the onboarding workflow.
  tenants = jsondecode(file("${path.module}/tenants.json"))
}

module "tenant_apps" {
  source   = "../../modules/tenant-apps"
  for_each = { for t in local.tenants : t.id => t }

  tenant_id         = each.value.id
  enable_producer   = each.value.tier == "premium"
  enable_consumer   = each.value.tier != "basic"
  oidc_provider_arn = data.aws_iam_openid_connect_provider.eks.arn
}

# The shared pool runs both apps for every tenant whose tier shares them.
module "pool_apps" {
  source   = "../../modules/tenant-apps"
  for_each = toset(["pool-1"])

  tenant_id         = each.key
  enable_producer   = true
  enable_consumer   = true
  oidc_provider_arn = data.aws_iam_openid_connect_provider.eks.arn
}
"#;

const TF_MOD_VARIABLES: &str = r#"variable "tenant_id" {
  description = "Tenant (or pool) id; also the Kubernetes namespace of its silo apps."
  type        = string
}

variable "enable_producer" {
  description = "Create the producer's AWS resources (the producer runs in the tenant's namespace)."
  type        = bool
  default     = false
}

variable "enable_consumer" {
  description = "Create the consumer's AWS resources (the consumer runs in the tenant's namespace)."
  type        = bool
  default     = false
}

variable "oidc_provider_arn" {
  description = "ARN of the cluster's IAM OIDC provider (arn:aws:iam::<acct>:oidc-provider/...)."
  type        = string
}
"#;

const TF_MOD_MAIN: &str = r#"resource "random_string" "suffix" {
  length  = 3
  special = false
  upper   = false
}

resource "aws_sqs_queue" "consumer" {
  count = var.enable_consumer ? 1 : 0
  name  = "consumer-${var.tenant_id}-${random_string.suffix.result}"

  tags = {
    Name = var.tenant_id
  }
}

resource "aws_dynamodb_table" "consumer" {
  count        = var.enable_consumer ? 1 : 0
  name         = "consumer-${var.tenant_id}-${random_string.suffix.result}"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "tenant_id"
  range_key    = "message_id"

  attribute {
    name = "tenant_id"
    type = "S"
  }

  attribute {
    name = "message_id"
    type = "S"
  }

  tags = {
    Name = var.tenant_id
  }
}

data "aws_iam_policy_document" "consumer" {
  count = var.enable_consumer ? 1 : 0

  statement {
    actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    resources = [aws_sqs_queue.consumer[0].arn]
  }

  statement {
    actions   = ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:Query"]
    resources = [aws_dynamodb_table.consumer[0].arn]
  }
}

resource "aws_iam_policy" "consumer" {
  count  = var.enable_consumer ? 1 : 0
  name   = "consumer-policy-${var.tenant_id}"
  policy = data.aws_iam_policy_document.consumer[0].json
}

data "aws_iam_policy_document" "producer" {
  count = var.enable_producer ? 1 : 0

  statement {
    actions   = ["sqs:SendMessage", "sqs:GetQueueUrl"]
    resources = ["arn:aws:sqs:*:*:consumer-*"]
  }
}

resource "aws_iam_policy" "producer" {
  count  = var.enable_producer ? 1 : 0
  name   = "producer-policy-${var.tenant_id}"
  policy = data.aws_iam_policy_document.producer[0].json
}

module "consumer_irsa_role" {
  count   = var.enable_consumer ? 1 : 0
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.30"

  role_name = "consumer-role-${var.tenant_id}"
  role_policy_arns = {
    policy = aws_iam_policy.consumer[0].arn
  }

  oidc_providers = {
    main = {
      provider_arn               = var.oidc_provider_arn
      namespace_service_accounts = ["${var.tenant_id}:${var.tenant_id}-consumer"]
    }
  }
}

module "producer_irsa_role" {
  count   = var.enable_producer ? 1 : 0
  source  = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  version = "~> 5.30"

  role_name = "producer-role-${var.tenant_id}"
  role_policy_arns = {
    policy = aws_iam_policy.producer[0].arn
  }

  oidc_providers = {
    main = {
      provider_arn               = var.oidc_provider_arn
      namespace_service_accounts = ["${var.tenant_id}:${var.tenant_id}-producer"]
    }
  }
}
"#;

const TF_MOD_OUTPUTS: &str = r#"output "consumer_role_arn" {
  description = "IRSA role of the consumer, or null when the consumer is shared."
  value       = var.enable_consumer ? module.consumer_irsa_role[0].iam_role_arn : null
}

output "producer_role_arn" {
  description = "IRSA role of the producer, or null when the producer is shared."
  value       = var.enable_producer ? module.producer_irsa_role[0].iam_role_arn : null
}

output "consumer_queue_url" {
  value = var.enable_consumer ? aws_sqs_queue.consumer[0].url : null
}
"#;

// ------------------------------------------------------------------------------------

fn write(root: &Path, rel: &str, content: &[u8]) -> Result<(), String> {
    let p = root.join(rel);
    fs::write(&p, content).map_err(|e| format!("{}: {e}", p.display()))
}

fn mkdirs(root: &Path, dirs: &[&str]) -> Result<(), String> {
    for d in dirs {
        let p = root.join(d);
        fs::create_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
    }
    Ok(())
}

/// Tier index of tenant `i` (1-based) and its 1-based rank inside that tier.
/// Line of the consumer role's `namespace_service_accounts` in the module (1-based).
fn consumer_trust_line() -> usize {
    TF_MOD_MAIN
        .lines()
        .position(|l| l.contains("namespace_service_accounts") && l.contains("-consumer"))
        .map_or(0, |i| i + 1)
}

fn tier_of(i: usize) -> (usize, usize) {
    ((i - 1) % 3, (i - 1) / 3 + 1)
}

/// Writes tenants `i` with `i % stride == offset` and returns the defects injected.
fn write_tenants(
    apps: &Path,
    n: usize,
    defects: bool,
    many_findings: bool,
    service_accounts: bool,
    offset: usize,
    stride: usize,
) -> Result<Vec<Defect>, String> {
    let mut out = Vec::new();
    let mut doc = Doc::with_capacity(4096);
    let mut id = String::with_capacity(16);
    let mut ns = String::with_capacity(16);
    let mut rel = String::with_capacity(64);
    let mut i = if offset == 0 { stride } else { offset };
    while i <= n {
        let (tier, rank) = tier_of(i);
        id.clear();
        let _ = write!(id, "tenant-{i}");
        let wrong_ns = defects && (many_findings || i % 97 == 0) && tier != 2;
        let consumer_off = defects && tier == 0 && rank % 101 == 0;
        let producer_no_pool = defects && tier == 1 && rank % 103 == 0;
        ns.clear();
        if tier == 2 {
            ns.push_str(POOL);
        } else if wrong_ns {
            let _ = write!(ns, "tenant-{}", i - 1);
        } else {
            ns.push_str(&id);
        }
        let release = release_of(i);
        doc.buf.clear();
        doc.line = 0;
        let lines = render_tenant(
            &TenantSpec {
                tier,
                id: &id,
                account: ACCOUNT_ID,
                region: REGION,
                release: &release,
                namespace: &ns,
                consumer_off,
                producer_no_pool,
            },
            &mut doc,
        );
        rel.clear();
        let _ = write!(rel, "tenants/{}/{}.yaml", TIERS[tier], id);
        write(apps, &rel, doc.buf.as_bytes())?;
        let file = || format!("apps-repo/{rel}");
        if wrong_ns {
            out.push(Defect {
                rule: "tenant/namespace-mismatch",
                file: file(),
                line: lines.namespace,
            });
        }
        if consumer_off {
            out.push(Defect {
                rule: "tier/app-enablement",
                file: file(),
                line: lines.consumer_enabled,
            });
        }
        if producer_no_pool {
            out.push(Defect {
                rule: "tier/shared-app-missing-pool",
                file: file(),
                line: lines.producer_key,
            });
        }
        // The chart renders each silo app's ServiceAccount into the release namespace, so a
        // tenant deployed to its neighbour's namespace breaks the trust of its roles too; their
        // trust already admits the tenant's own namespace, so those findings are folded into
        // `tenant/namespace-mismatch` above (one root cause). A premium tenant without its
        // consumer leaves `consumer-role-<id>` unused.
        if !wrong_ns && consumer_off {
            out.push(Defect {
                rule: "irsa/unused-role",
                file: "infra-repo/modules/tenant-apps/main.tf".to_string(),
                line: consumer_trust_line(),
            });
        }
        if service_accounts && tier != 2 {
            let mut sa = String::with_capacity(512);
            let mut namespace_lines = Vec::new();
            let mut line = 0;
            for (app, name) in APPS.iter().enumerate() {
                if !tier_silo(tier, app) || (app == 1 && consumer_off) {
                    continue;
                }
                if !sa.is_empty() {
                    sa.push_str("---\n");
                    line += 1;
                }
                let _ = write!(
                    sa,
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {id}-{name}\n  namespace: {ns}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{ACCOUNT_ID}:role/{name}-role-{id}\n"
                );
                namespace_lines.push(line + 5);
                line += 7;
            }
            let sa_rel = format!("serviceaccounts/{id}.yaml");
            write(apps, &sa_rel, sa.as_bytes())?;
            if wrong_ns {
                // Reported at the namespace, the end that is wrong.
                for l in namespace_lines {
                    out.push(Defect {
                        rule: "irsa/trust-mismatch",
                        file: format!("apps-repo/{sa_rel}"),
                        line: l,
                    });
                }
            }
        }
        i += stride;
    }
    Ok(out)
}

/// Removes `<out>/apps-repo` and `<out>/infra-repo` left by an earlier run (only those two).
fn clean(out: &Path) -> Result<bool, String> {
    let mut removed = false;
    for r in [out.join("apps-repo"), out.join("infra-repo")] {
        if r.exists() {
            fs::remove_dir_all(&r).map_err(|e| format!("{}: {e}", r.display()))?;
            removed = true;
        }
    }
    Ok(removed)
}

fn generate(args: &Args) -> Result<Vec<Defect>, String> {
    let apps = args.out.join("apps-repo");
    let infra = args.out.join("infra-repo");
    mkdirs(
        &apps,
        &[
            "bootstrap/children",
            "platform",
            "tier-templates",
            "tenants/premium",
            "tenants/advanced",
            "tenants/basic",
            "helm-charts/helm-tenant-chart/templates",
        ],
    )?;
    mkdirs(&infra, &["envs/prd", "modules/tenant-apps"])?;
    if args.service_accounts {
        mkdirs(&apps, &["serviceaccounts"])?;
        let mut pool = String::new();
        for (i, name) in APPS.iter().enumerate() {
            if i > 0 {
                pool.push_str("---\n");
            }
            let _ = write!(
                pool,
                "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {POOL}-{name}\n  namespace: {POOL}\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::{ACCOUNT_ID}:role/{name}-role-{POOL}\n"
            );
        }
        write(
            &apps,
            &format!("serviceaccounts/{POOL}.yaml"),
            pool.as_bytes(),
        )?;
    }

    let mut defects = Vec::new();

    // bootstrap
    write(&apps, "bootstrap/root-app.yaml", ROOT_APP.as_bytes())?;
    write(
        &apps,
        "bootstrap/children/platform.yaml",
        CHILD_PLATFORM.as_bytes(),
    )?;
    write(
        &apps,
        "bootstrap/children/tenants.yaml",
        CHILD_TENANTS.as_bytes(),
    )?;
    if args.defects {
        write(
            &apps,
            "bootstrap/children/tenants-appset.yaml",
            CHILD_TENANTS_APPSET.as_bytes(),
        )?;
        debug_assert_eq!(
            CHILD_TENANTS_APPSET
                .lines()
                .nth(APPSET_PATH_LINE - 1)
                .map(str::trim),
            Some("- path: tenants/*/*")
        );
        defects.push(Defect {
            rule: "argocd/appset-path-matches-nothing",
            file: "apps-repo/bootstrap/children/tenants-appset.yaml".into(),
            line: APPSET_PATH_LINE,
        });
    }

    // platform
    for (name, body) in PLATFORM_APPS {
        write(&apps, &format!("platform/{name}"), body.as_bytes())?;
    }
    let mut kust = String::from(KUSTOMIZATION_HEAD);
    if args.defects {
        // Appended one space deeper than its siblings: YAML folds it into the item above.
        kust.push_str("   - external-dns.yaml\n");
        defects.push(Defect {
            rule: "yaml/continued-list-item",
            file: "apps-repo/platform/kustomization.yaml".into(),
            line: KUSTOMIZATION_LAST_LINE,
        });
        // ...so `resources` holds `<previous> - external-dns.yaml`, which names no file.
        defects.push(Defect {
            rule: "kustomize/missing-resource",
            file: "apps-repo/platform/kustomization.yaml".into(),
            line: KUSTOMIZATION_LAST_LINE - 1,
        });
    } else {
        kust.push_str("  - external-dns.yaml\n");
    }
    write(&apps, "platform/kustomization.yaml", kust.as_bytes())?;

    // tier templates: the tenant renderer fed with placeholders
    for (tier, tier_name) in TIERS.iter().enumerate() {
        let mut d = Doc::with_capacity(4096);
        render_tenant(
            &TenantSpec {
                tier,
                id: "{TENANT_ID}",
                account: "{ACCOUNT_ID}",
                region: "{REGION}",
                release: "{RELEASE_VERSION}",
                namespace: if tier == 2 { POOL } else { "{TENANT_ID}" },
                consumer_off: false,
                producer_no_pool: false,
            },
            &mut d,
        );
        write(
            &apps,
            &format!("tier-templates/{tier_name}_tenant_template.yaml"),
            d.buf.as_bytes(),
        )?;
    }
    let mut d = Doc::with_capacity(4096);
    render_pool(
        "{ENVIRONMENT_ID}",
        "{ACCOUNT_ID}",
        "{REGION}",
        "{RELEASE_VERSION}",
        false,
        &mut d,
    );
    write(
        &apps,
        "tier-templates/basic_env_template.yaml",
        d.buf.as_bytes(),
    )?;

    // the pool
    let mut d = Doc::with_capacity(4096);
    render_pool(
        POOL,
        ACCOUNT_ID,
        REGION,
        "1.0.0",
        args.workshop_naming,
        &mut d,
    );
    write(&apps, "tenants/basic/pool-1.yaml", d.buf.as_bytes())?;

    // helm chart
    let chart = "helm-charts/helm-tenant-chart";
    write(&apps, &format!("{chart}/Chart.yaml"), CHART_YAML.as_bytes())?;
    write(
        &apps,
        &format!("{chart}/values.yaml"),
        CHART_VALUES.as_bytes(),
    )?;
    write(
        &apps,
        &format!("{chart}/templates/_helpers.tpl"),
        CHART_HELPERS.as_bytes(),
    )?;
    write(
        &apps,
        &format!("{chart}/templates/serviceaccount.yaml"),
        CHART_SA.as_bytes(),
    )?;
    write(
        &apps,
        &format!("{chart}/templates/deployment.yaml"),
        CHART_DEPLOYMENT.as_bytes(),
    )?;
    write(
        &apps,
        &format!("{chart}/templates/service.yaml"),
        CHART_SERVICE.as_bytes(),
    )?;
    write(
        &apps,
        &format!("{chart}/templates/ingress.yaml"),
        CHART_INGRESS.as_bytes(),
    )?;

    // tenants, split over the available cores
    let n = args.tenants;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    let threads = if n < 256 { 1 } else { threads };
    let results: Vec<Result<Vec<Defect>, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let apps = &apps;
                let defects = args.defects;
                let many_findings = args.many_findings;
                let service_accounts = args.service_accounts;
                // offset t+1 .. threads, with offset `threads` meaning i % threads == 0
                s.spawn(move || {
                    write_tenants(
                        apps,
                        n,
                        defects,
                        many_findings,
                        service_accounts,
                        (t + 1) % threads,
                        threads,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("tenant writer panicked"))
            .collect()
    });
    for r in results {
        defects.extend(r?);
    }

    // infra-repo
    let mut json = String::with_capacity(48 * n + 8);
    json.push('[');
    for i in 1..=n {
        let (tier, _) = tier_of(i);
        json.push_str(if i == 1 { "\n  " } else { ",\n  " });
        let _ = write!(
            json,
            "{{\"id\": \"tenant-{}\", \"tier\": \"{}\"}}",
            i, TIERS[tier]
        );
    }
    json.push_str(if n == 0 { "]\n" } else { "\n]\n" });
    write(&infra, "envs/prd/tenants.json", json.as_bytes())?;
    write(&infra, "envs/prd/backend.tf", TF_BACKEND.as_bytes())?;
    write(&infra, "envs/prd/variables.tf", TF_ENV_VARIABLES.as_bytes())?;
    write(&infra, "envs/prd/main.tf", TF_ENV_MAIN.as_bytes())?;
    write(
        &infra,
        "modules/tenant-apps/main.tf",
        TF_MOD_MAIN.as_bytes(),
    )?;
    write(
        &infra,
        "modules/tenant-apps/variables.tf",
        TF_MOD_VARIABLES.as_bytes(),
    )?;
    write(
        &infra,
        "modules/tenant-apps/outputs.tf",
        TF_MOD_OUTPUTS.as_bytes(),
    )?;

    defects.sort_by(|a, b| (&a.file, a.line, a.rule).cmp(&(&b.file, b.line, b.rule)));
    Ok(defects)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if e.is_empty() {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("gen_repo: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let t0 = Instant::now();
    match clean(&args.out) {
        Ok(true) => eprintln!(
            "gen_repo: removed the previous output in {:.1} ms",
            t0.elapsed().as_secs_f64() * 1000.0
        ),
        Ok(false) => {}
        Err(e) => {
            eprintln!("gen_repo: {e}");
            return ExitCode::from(1);
        }
    }
    let start = Instant::now();
    let defects = match generate(&args) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("gen_repo: {e}");
            return ExitCode::from(1);
        }
    };
    let elapsed = start.elapsed();
    let mut out = String::with_capacity(defects.len() * 80);
    for d in &defects {
        let _ = writeln!(out, "{} {}:{}", d.rule, d.file, d.line);
    }
    print!("{out}");
    eprintln!(
        "gen_repo: {} tenants -> {} in {:.1} ms ({} defects)",
        args.tenants,
        args.out.display(),
        elapsed.as_secs_f64() * 1000.0,
        defects.len()
    );
    ExitCode::SUCCESS
}
