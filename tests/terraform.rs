//! The Terraform evaluator on the example infra-repo: the model it derives, written out.

mod common;

use gitops_lint::{lint, Options};
use gitops_lint_config::Config;
use gitops_lint_model::infra::Infra;
use std::path::PathBuf;
use std::time::Duration;

fn infra_of(paths: &[&str]) -> (Infra, gitops_lint_model::World) {
    let options = Options {
        paths: paths
            .iter()
            .map(|p| common::root().join(p))
            .collect::<Vec<PathBuf>>(),
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    let mut outcome = lint(&options, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let infra = std::mem::take(&mut outcome.world.infra);
    (infra, outcome.world)
}

/// One line per role: instance address, tenant, name, trusted subjects, provider expression.
fn describe(infra: &Infra) -> Vec<String> {
    let mut lines: Vec<String> = infra
        .roles
        .iter()
        .map(|r| {
            let instance = &infra.instances[r.instance];
            let subjects = r.subjects.as_ref().map_or("?".to_string(), |s| {
                s.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            });
            format!(
                "{} tenant={} role={}{} trusts={} provider={}",
                instance.address,
                instance.tenant.as_deref().unwrap_or("?"),
                r.name.as_deref().unwrap_or("?"),
                if r.prefixed { "-<random>" } else { "" },
                subjects,
                r.provider_arn.as_ref().map_or("", |o| o.text.as_str()),
            )
        })
        .collect();
    for s in &infra.skipped {
        lines.push(format!(
            "{} skipped role={} because {}",
            infra.instances[s.instance].address,
            s.name.as_deref().unwrap_or("?"),
            s.cause
                .as_ref()
                .map_or(String::new(), |(v, o)| format!("{v} = {}", o.text)),
        ));
    }
    lines.sort();
    lines
}

#[test]
fn example_infra_repo_evaluates_to_its_roles() {
    let (infra, _) = infra_of(&["fixtures/example/infra-repo"]);
    assert!(infra.has_terraform);
    assert!(infra.incomplete.is_empty(), "{:?}", infra.incomplete);
    let addresses: Vec<&str> = infra.instances.iter().map(|i| i.address.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "envs/prd",
            "module.tenant_apps[\"tenant-1\"]",
            "module.tenant_apps[\"tenant-2\"]",
            "module.tenant_apps[\"tenant-3\"]",
            "module.tenant_apps[\"tenant-4\"]",
            "module.tenant_apps[\"tenant-55\"]",
        ]
    );
    let provider = "data.aws_iam_openid_connect_provider.eks.arn";
    let expected: Vec<String> = [
        "module.tenant_apps[\"tenant-1\"] tenant=tenant-1 role=consumer-role-tenant-1 trusts=tenant-1:tenant-1-consumer provider=P",
        "module.tenant_apps[\"tenant-1\"] tenant=tenant-1 role=producer-role-tenant-1 trusts=tenant-1:tenant-1-producer provider=P",
        "module.tenant_apps[\"tenant-2\"] skipped role=consumer-role-tenant-2 because enable_consumer = each.value.tier != \"basic\"",
        "module.tenant_apps[\"tenant-2\"] skipped role=producer-role-tenant-2 because enable_producer = each.value.tier == \"premium\"",
        "module.tenant_apps[\"tenant-3\"] skipped role=producer-role-tenant-3 because enable_producer = each.value.tier == \"premium\"",
        "module.tenant_apps[\"tenant-3\"] tenant=tenant-3 role=consumer-role-tenant-3 trusts=tenant-3:tenant-3-consumer provider=P",
        "module.tenant_apps[\"tenant-4\"] tenant=tenant-4 role=consumer-role-tenant-4 trusts=tenant-4:tenant-4-consumer provider=P",
        "module.tenant_apps[\"tenant-4\"] tenant=tenant-4 role=producer-role-tenant-4 trusts=tenant-4:tenant-4-producer provider=P",
        "module.tenant_apps[\"tenant-55\"] tenant=tenant-55 role=consumer-role-tenant-55 trusts=tenant-55:tenant-55-consumer provider=P",
        "module.tenant_apps[\"tenant-55\"] tenant=tenant-55 role=producer-role-tenant-55 trusts=tenant-55:tenant-55-producer provider=P",
    ]
    .iter()
    .map(|l| l.replace("=P", &format!("={provider}")))
    .collect();
    assert_eq!(describe(&infra), expected);
    let tenants: Vec<(String, Option<String>)> = infra
        .tenants
        .iter()
        .map(|t| (t.id.clone(), t.tier.clone()))
        .collect();
    assert_eq!(tenants.len(), 5);
    assert_eq!(
        tenants[2],
        ("tenant-3".to_string(), Some("advanced".to_string()))
    );
}

#[test]
fn argocd_pair_has_for_each_and_pool_instances() {
    let (infra, _) = infra_of(&[
        "fixtures/chain/argocd/clean/apps-repo",
        "fixtures/chain/argocd/clean/infra-repo",
    ]);
    assert!(infra.incomplete.is_empty(), "{:?}", infra.incomplete);
    let provider = "data.aws_iam_openid_connect_provider.eks.arn";
    let expected: Vec<String> = [
        "module.pool_1 tenant=pool-1 role=consumer-role-pool-1 trusts=pool-1:pool-1-consumer provider=P",
        "module.pool_1 tenant=pool-1 role=producer-role-pool-1 trusts=pool-1:pool-1-producer provider=P",
        "module.tenant_apps[\"tenant-1\"] tenant=tenant-1 role=consumer-role-tenant-1 trusts=tenant-1:tenant-1-consumer provider=P",
        "module.tenant_apps[\"tenant-1\"] tenant=tenant-1 role=producer-role-tenant-1 trusts=tenant-1:tenant-1-producer provider=P",
        "module.tenant_apps[\"tenant-2\"] skipped role=consumer-role-tenant-2 because enable_consumer = contains(lookup(local.silo, each.value.tier, []), \"consumer\")",
        "module.tenant_apps[\"tenant-2\"] skipped role=producer-role-tenant-2 because enable_producer = contains(lookup(local.silo, each.value.tier, []), \"producer\")",
        "module.tenant_apps[\"tenant-3\"] skipped role=producer-role-tenant-3 because enable_producer = contains(lookup(local.silo, each.value.tier, []), \"producer\")",
        "module.tenant_apps[\"tenant-3\"] tenant=tenant-3 role=consumer-role-tenant-3 trusts=tenant-3:tenant-3-consumer provider=P",
    ]
    .iter()
    .map(|l| l.replace("=P", &format!("={provider}")))
    .collect();
    assert_eq!(describe(&infra), expected);
    assert_eq!(infra.accounts.keys().collect::<Vec<_>>(), ["123456789012"]);
}

#[test]
fn flux_pair_instantiates_the_module_per_terraform_resource() {
    let (infra, _) = infra_of(&[
        "fixtures/chain/flux/clean/apps-repo",
        "fixtures/chain/flux/clean/infra-repo",
    ]);
    assert!(infra.incomplete.is_empty(), "{:?}", infra.incomplete);
    // The module default (where the value is written), not the variable reference.
    let provider = "\"arn:aws:iam::123456789012:oidc-provider/oidc.eks.ap-northeast-2.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE\"";
    let expected: Vec<String> = [
        "Terraform flux-system/tenant-1-infra tenant=tenant-1 role=consumer-role-tenant-1 trusts=tenant-1:tenant-1-consumer provider=P",
        "Terraform flux-system/tenant-1-infra tenant=tenant-1 role=payments-role-tenant-1 trusts= provider=",
        "Terraform flux-system/tenant-1-infra tenant=tenant-1 role=producer-role-tenant-1 trusts=tenant-1:tenant-1-producer provider=P",
        "Terraform flux-system/tenant-3-infra skipped role=payments-role-tenant-3 because enable_payments = false",
        "Terraform flux-system/tenant-3-infra skipped role=producer-role-tenant-3 because enable_producer = false",
        "Terraform flux-system/tenant-3-infra tenant=tenant-3 role=consumer-role-tenant-3 trusts=tenant-3:tenant-3-consumer provider=P",
    ]
    .iter()
    .map(|l| l.replace("=P", &format!("={provider}")))
    .collect();
    assert_eq!(describe(&infra), expected);
    assert_eq!(infra.pod_identities.len(), 1);
    let p = &infra.pod_identities[0];
    assert_eq!(
        (
            p.namespace.as_deref(),
            p.service_account.as_deref(),
            p.role_name.as_deref()
        ),
        (
            Some("tenant-1"),
            Some("tenant-1-payments"),
            Some("payments-role-tenant-1")
        )
    );
    assert!(infra.roles.iter().any(|r| r.pod_identity));
    let tenants: Vec<&str> = infra.tenants.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(tenants, ["tenant-3", "tenant-1"]); // file order: advanced/ before premium/
}

/// Evaluates a scratch infra-repo.
fn infra_from(files: &[(&str, &str)]) -> Infra {
    std::mem::take(&mut world_from(files).infra)
}

/// Loads and evaluates a scratch infra-repo.
fn world_from(files: &[(&str, &str)]) -> gitops_lint_model::World {
    let dir = common::scratch(files);
    let options = Options {
        paths: vec![dir.path().to_path_buf()],
        policy_dirs: Vec::new(),
        policy_sandbox: None,
    };
    lint(&options, &Config::default())
        .unwrap_or_else(|e| panic!("{e}"))
        .world
}

/// Where each role's trusted subjects are written (`Role::trust_location`): the value of its
/// one `:sub` condition (in a `jsonencode`, a heredoc, an `aws_iam_policy_document`), the line
/// a trust mismatch changes; the whole `assume_role_policy` when there are several, or one
/// may hide (a `dynamic` block, a key that is not literal), or none. Near misses: `:sub` as
/// the end of a value, not a key; an `:aud` condition beside the `:sub` one.
#[test]
fn a_roles_trust_is_where_its_sub_values_are_written() {
    const FEDERATED: &str =
        r#"Principal = { Federated = "arn:aws:iam::123456789012:oidc-provider/${local.i}" }"#;
    let jsonencode = |name: &str, statements: &str| {
        format!(
            "resource \"aws_iam_role\" \"{name}\" {{\n  name = \"{name}\"\n  assume_role_policy = jsonencode({{\n    Version = \"2012-10-17\"\n    Statement = [{statements}]\n  }})\n}}\n"
        )
    };
    let statement = |condition: &str| {
        format!("{{\n      Effect = \"Allow\"\n      {FEDERATED}\n      Condition = {condition}\n    }}")
    };
    let sub = |sa: &str| {
        format!(
            r#"{{ StringEquals = {{ "${{local.i}}:sub" = "system:serviceaccount:t1:{sa}" }} }}"#
        )
    };
    let mut tf = String::from("locals {\n  i = \"oidc.eks.x.amazonaws.com/id/AB\"\n  k = \"oidc.eks.x.amazonaws.com/id/AB:sub\"\n}\n");
    tf += &jsonencode("one", &statement(&sub("a")));
    tf += &jsonencode(
        "two",
        &format!("{}, {}", statement(&sub("b")), statement(&sub("c"))),
    );
    tf += &jsonencode(
        "keyed",
        &statement(r#"{ StringEquals = { (local.k) = "system:serviceaccount:t1:d" } }"#),
    );
    tf += &jsonencode(
        "nosub",
        &format!("{{\n      Effect = \"Allow\"\n      {FEDERATED}\n    }}"),
    );
    tf += r#"
resource "aws_iam_role" "heredoc" {
  name               = "heredoc"
  assume_role_policy = <<-EOT
    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow", "Sid": "trust:sub",
       "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/${local.i}"},
       "Condition": {"StringEquals": {
         "${local.i}:aud": "sts.amazonaws.com",
         "${local.i}:sub": "system:serviceaccount:t1:e"}}}]}
  EOT
}
data "aws_iam_policy_document" "doc" {
  statement {
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/${local.i}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.i}:sub"
      values   = ["system:serviceaccount:t1:f"]
    }
  }
}
resource "aws_iam_role" "doc" {
  name               = "doc"
  assume_role_policy = data.aws_iam_policy_document.doc.json
}
data "aws_iam_policy_document" "dyn" {
  statement {
    principals {
      type        = "Federated"
      identifiers = ["arn:aws:iam::123456789012:oidc-provider/${local.i}"]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.i}:sub"
      values   = ["system:serviceaccount:t1:g"]
    }
    dynamic "condition" {
      for_each = []
      content {
        test     = "StringEquals"
        variable = "${local.i}:sub"
        values   = []
      }
    }
  }
}
resource "aws_iam_role" "dyn" {
  name               = "dyn"
  assume_role_policy = data.aws_iam_policy_document.dyn.json
}
"#;
    let world = world_from(&[("envs/prd/main.tf", &tf)]);
    let mut places: Vec<String> = world
        .infra
        .roles
        .iter()
        .map(|r| {
            let at = match &r.trust_location {
                gitops_lint_core::finding::Location::Span(s) => {
                    let text = &world.file(s.file).text[s.start..s.end];
                    text.lines().next().unwrap_or("").to_string()
                }
                other => format!("{other:?}"),
            };
            format!("{}: {at}", r.name.as_deref().unwrap_or("?"))
        })
        .collect();
    places.sort();
    assert_eq!(
        places,
        [
            "doc: [\"system:serviceaccount:t1:f\"]",
            "dyn: data.aws_iam_policy_document.dyn.json",
            "heredoc: \"system:serviceaccount:t1:e\"",
            "keyed: jsonencode({",
            "nosub: jsonencode({",
            "one: \"system:serviceaccount:t1:a\"",
            "two: jsonencode({",
        ]
    );
}

#[test]
fn heredoc_trust_functions_and_nested_modules() {
    let infra = infra_from(&[
        (
            "envs/prd/main.tf",
            r#"
locals {
  base  = { tier = "premium" }
  conf  = merge(local.base, { owner = upper("team") })
  names = toset(["a", "b", "a"])
}
module "outer" {
  source   = "../../modules/outer"
  for_each = local.names
  id       = format("%s-%s", each.key, local.conf.tier)
  slot     = tostring(2)
}
"#,
        ),
        (
            "modules/outer/main.tf",
            r#"
variable "id" {}
variable "slot" {}
module "inner" {
  source = "../inner"
  name   = replace("${var.id}_${var.slot}", "_", "-")
}
"#,
        ),
        (
            "modules/inner/main.tf",
            r#"
variable "name" {}
resource "aws_iam_role" "r" {
  name               = "role-${var.name}"
  assume_role_policy = <<-EOF
    {"Version": "2012-10-17",
     "Statement": [{"Effect": "Allow",
       "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.eks.x.amazonaws.com/id/ABC"},
       "Action": "sts:AssumeRoleWithWebIdentity",
       "Condition": {"StringEquals": {"oidc.eks.x.amazonaws.com/id/ABC:sub": "system:serviceaccount:${var.name}:app"}}}]}
  EOF
}
"#,
        ),
    ]);
    assert!(infra.incomplete.is_empty(), "{:?}", infra.incomplete);
    assert_eq!(
        describe(&infra),
        [
            "module.outer[\"a\"].module.inner tenant=a role=role-a-premium-2 trusts=a-premium-2:app provider=",
            "module.outer[\"b\"].module.inner tenant=b role=role-b-premium-2 trusts=b-premium-2:app provider=",
        ]
    );
    assert!(infra.accounts.contains_key("123456789012"));
}

#[test]
fn unknown_for_each_marks_the_model_incomplete() {
    let infra = infra_from(&[
        (
            "envs/prd/main.tf",
            r#"
data "aws_ssm_parameter" "tenants" { name = "/tenants" }
module "tenant_apps" {
  source   = "../../modules/tenant-apps"
  for_each = toset(jsondecode(data.aws_ssm_parameter.tenants.value))
}
"#,
        ),
        ("modules/tenant-apps/main.tf", "variable \"x\" {}\n"),
    ]);
    assert_eq!(infra.incomplete.len(), 1);
    assert!(infra.roles.is_empty());
    assert!(infra
        .instances
        .iter()
        .all(|i| !i.address.starts_with("module.")));
}

#[test]
fn tfvars_override_defaults_and_explicit_var_files_are_unknown() {
    let infra = infra_from(&[
        (
            "envs/prd/main.tf",
            r#"
variable "enable_a" { default = false }
variable "enable_b" { default = true }
module "a" {
  count     = var.enable_a ? 1 : 0
  source    = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  role_name = "a"
}
module "b" {
  count     = var.enable_b ? 1 : 0
  source    = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  role_name = "b"
}
"#,
        ),
        ("envs/prd/terraform.tfvars", "enable_a = true\n"),
        ("envs/prd/prd.tfvars", "enable_b = false\n"),
    ]);
    let names: Vec<Option<&str>> = infra.roles.iter().map(|r| r.name.as_deref()).collect();
    assert_eq!(names, [Some("a")]);
    // enable_b may be false through `-var-file=prd.tfvars`: unknown, so the model is incomplete.
    assert_eq!(infra.incomplete.len(), 1, "{:?}", infra.incomplete);
}

#[test]
fn modules_that_call_each_other_do_not_explode() {
    let infra = infra_from(&[
        (
            "envs/prd/main.tf",
            "module \"a\" {\n  source   = \"../../modules/a\"\n  for_each = toset([\"1\", \"2\", \"3\", \"4\"])\n}\n",
        ),
        (
            "modules/a/main.tf",
            "module \"b\" {\n  source   = \"../b\"\n  for_each = toset([\"1\", \"2\", \"3\", \"4\"])\n}\n",
        ),
        (
            "modules/b/main.tf",
            "module \"a\" {\n  source   = \"../a\"\n  for_each = toset([\"1\", \"2\", \"3\", \"4\"])\n}\n",
        ),
    ]);
    assert!(infra.instances.len() < 100_000);
    assert!(!infra.incomplete.is_empty());
}

#[test]
fn policies_see_the_roles() {
    let policy = common::scratch(&[(
        "roles.rego",
        r#"package acme.roles
import rego.v1

warn contains f if {
  some r in input.infra.roles
  r.tenant == "tenant-3"
  t := input.infra.tenants[0]
  f := {"rule": "acme/role-seen", "file": t.file, "doc": 0, "path": t.path,
        "msg": sprintf("%s trusts %v", [r.name, r.subjects])}
}
"#,
    )]);
    let options = Options {
        paths: vec![common::root().join("fixtures/example/infra-repo")],
        policy_dirs: vec![policy.path().to_path_buf()],
        policy_sandbox: None,
    };
    let outcome = lint(&options, &Config::default()).unwrap_or_else(|e| panic!("{e}"));
    let seen: Vec<&str> = outcome
        .findings
        .iter()
        .filter(|f| f.rule == "acme/role-seen")
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        seen,
        ["consumer-role-tenant-3 trusts [\"tenant-3:tenant-3-consumer\"]"]
    );
}

#[test]
fn absurd_counts_are_unknown_not_expanded() {
    let infra = infra_from(&[(
        "envs/prd/main.tf",
        "module \"r\" {\n  count     = tonumber(\"inf\")\n  source    = \"terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks\"\n  role_name = \"x\"\n}\nmodule \"s\" {\n  count     = 1e12\n  source    = \"terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks\"\n  role_name = \"y\"\n}\n",
    )]);
    assert!(infra.roles.is_empty());
    assert_eq!(infra.incomplete.len(), 2);
}

#[test]
fn exponential_locals_run_out_of_budget() {
    let started = std::time::Instant::now();
    let infra = infra_from(&[(
        "envs/prd/main.tf",
        r#"locals {
  l0 = ["xxxxxxxxxxxxxxxx"]
  l1 = [local.l0, local.l0]
  l2 = [local.l1, local.l1]
  l3 = [local.l2, local.l2]
  l4 = [local.l3, local.l3]
  l5 = [local.l4, local.l4]
  l6 = [local.l5, local.l5]
  l7 = [local.l6, local.l6]
  l8 = [local.l7, local.l7]
  l9 = [local.l8, local.l8]
  l10 = [local.l9, local.l9]
  l11 = [local.l10, local.l10]
  l12 = [local.l11, local.l11]
  l13 = [local.l12, local.l12]
  l14 = [local.l13, local.l13]
  l15 = [local.l14, local.l14]
  l16 = [local.l15, local.l15]
  l17 = [local.l16, local.l16]
  l18 = [local.l17, local.l17]
  l19 = [local.l18, local.l18]
  l20 = [local.l19, local.l19]
  l21 = [local.l20, local.l20]
  l22 = [local.l21, local.l21]
  l23 = [local.l22, local.l22]
  l24 = [local.l23, local.l23]
  l25 = [local.l24, local.l24]
  l26 = [local.l25, local.l25]
  l27 = [local.l26, local.l26]
  l28 = [local.l27, local.l27]
  l29 = [local.l28, local.l28]
  l30 = [local.l29, local.l29]
  l31 = [local.l30, local.l30]
  l32 = [local.l31, local.l31]
  l33 = [local.l32, local.l32]
  l34 = [local.l33, local.l33]
  l35 = [local.l34, local.l34]
  l36 = [local.l35, local.l35]
  l37 = [local.l36, local.l36]
  l38 = [local.l37, local.l37]
  l39 = [local.l38, local.l38]
  l40 = [local.l39, local.l39]
  l41 = [local.l40, local.l40]
  l42 = [local.l41, local.l41]
  l43 = [local.l42, local.l42]
  l44 = [local.l43, local.l43]
  l45 = [local.l44, local.l44]
  l46 = [local.l45, local.l45]
  l47 = [local.l46, local.l46]
  l48 = [local.l47, local.l47]
  l49 = [local.l48, local.l48]
  l50 = [local.l49, local.l49]
  l51 = [local.l50, local.l50]
  l52 = [local.l51, local.l51]
  l53 = [local.l52, local.l52]
  l54 = [local.l53, local.l53]
  l55 = [local.l54, local.l54]
  l56 = [local.l55, local.l55]
  l57 = [local.l56, local.l56]
  l58 = [local.l57, local.l57]
  l59 = [local.l58, local.l58]
  n = length(flatten(local.l59))
}
module "r" {
  count     = local.n > 0 ? 1 : 0
  source    = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  role_name = "x"
}
"#,
    )]);
    assert!(infra.roles.is_empty());
    assert_eq!(infra.incomplete.len(), 1);
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// Variable types fill in `optional(type, default)` attributes before anything reads them, so
/// `try(each.value.x, other)` sees the declared default as Terraform does.
#[test]
fn optional_attribute_defaults_and_try() {
    let infra = infra_from(&[(
        "envs/prd/main.tf",
        r#"
variable "tenants" {
  type = map(object({
    enable = optional(bool, false)
    apps   = optional(list(string), ["consumer"])
    extra  = optional(object({ path = optional(string, "/team/") }), {})
    flag   = string
  }))
  default = {
    a = { flag = "true", enable = true }
    b = { flag = "x", ignored = "dropped" }
  }
}
module "role" {
  source    = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks"
  for_each  = { for k, v in var.tenants : k => v if try(v.enable, true) }
  role_name = "${each.key}-${join("-", each.value.apps)}-${try(each.value.ignored, "none")}"
  role_path = each.value.extra.path
  oidc_providers = {
    main = {
      provider_arn               = "arn:aws:iam::123456789012:oidc-provider/x"
      namespace_service_accounts = ["${each.key}:${each.key}"]
    }
  }
}
"#,
    )]);
    assert!(infra.incomplete.is_empty(), "{:?}", infra.incomplete);
    let roles: Vec<(Option<&str>, &str)> = infra
        .roles
        .iter()
        .map(|r| (r.name.as_deref(), r.path.as_str()))
        .collect();
    // b is off (optional default false wins over try's true); `ignored` is not in the type.
    assert_eq!(roles, [(Some("a-consumer-none"), "/team/")]);
}

/// Half-written and hostile Terraform: every case evaluates (or is skipped) quickly, never
/// panics, and whatever cannot be known stays unknown.
#[test]
fn garbage_terraform_never_panics_or_hangs() {
    let irsa = "terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts-eks";
    let main = format!(
        r#"
locals {{
  a    = local.b
  b    = local.a
  self = "${{local.self}}-x"
  deep = {deep}
}}
module "cyclic" {{
  source    = "{irsa}"
  role_name = "${{local.a}}-${{local.self}}"
  oidc_providers = {{ main = {{ provider_arn = local.b, namespace_service_accounts = [local.a] }} }}
}}
module "huge" {{
  count     = 1000000000000
  source    = "{irsa}"
  role_name = "huge"
}}
module "negative" {{
  count     = -1
  source    = "{irsa}"
  role_name = "negative"
}}
module "self"       {{ source = "./" }}
module "self_too"   {{ source = "../prd" }}
module "outside"    {{ source = "../../../../../../../etc" }}
module "registry"   {{ source = "hashicorp/consul/aws" }}
module "git"        {{ source = "git::https://example.com/x.git//modules/y?ref=v1" }}
module "no_source"  {{ }}
module "number_src" {{ source = 42 }}
module "chain"      {{ source = "../../modules/m0" }}
resource "aws_iam_role" "weird" {{
  for_each           = local.a
  name               = each.key
  assume_role_policy = "{{ not json"
}}
resource "aws_iam_role" "no_trust" {{ name = "x" }}
"#,
        deep = "[".repeat(60) + &"]".repeat(60),
    );
    let mut files: Vec<(String, String)> = vec![
        ("envs/prd/main.tf".into(), main),
        (
            "envs/prd/broken.tf".into(),
            "module \"x\" {\n  source = \"../../modules/m0\"\n  count = \n".into(),
        ),
        ("envs/prd/empty.tf".into(), String::new()),
        (
            "envs/prd/unclosed.tf".into(),
            "resource \"aws_iam_role\" \"r\" {\n  name = \"${var.x\n".into(),
        ),
    ];
    // A chain of modules deeper than the evaluator follows, each with a for_each.
    for i in 0..12 {
        files.push((
            format!("modules/m{i}/main.tf"),
            format!(
                "module \"next\" {{\n  source   = \"../m{}\"\n  for_each = toset([\"a\", \"b\"])\n}}\n",
                i + 1
            ),
        ));
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let started = std::time::Instant::now();
    let infra = infra_from(&refs);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    // The cyclic role's name is unknown (and says so); the huge count is not expanded.
    let names: Vec<Option<&str>> = infra.roles.iter().map(|r| r.name.as_deref()).collect();
    assert_eq!(names, [None], "{names:?}");
    assert!(infra.roles[0].subjects.is_none());
    let why: Vec<&str> = infra.incomplete.iter().map(|(_, m)| m.as_str()).collect();
    assert!(why.iter().any(|m| m.contains("module.huge")), "{why:?}");
    assert!(
        why.iter().any(|m| m.contains("name is not known")),
        "{why:?}"
    );
    assert!(why.iter().any(|m| m.contains("nests too deep")), "{why:?}");
}
