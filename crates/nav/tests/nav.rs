//! Hover and go-to-definition over the example two-repo system (`fixtures/example`: an Argo CD
//! apps-repo and its Terraform infra-repo) and an Application fixture with value files: each
//! kind of answer lands on an exact file and line, and places that join to nothing answer
//! nothing.

use gitops_lint_config::Config;
use gitops_lint_nav::{load_world, NavIndex, Target};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const APPS: &str = "../../fixtures/example/apps-repo";
const INFRA: &str = "../../fixtures/example/infra-repo";

fn example() -> &'static NavIndex {
    static INDEX: OnceLock<NavIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let (world, _) = load_world(
            &[PathBuf::from(APPS), PathBuf::from(INFRA)],
            &Config::default(),
        );
        NavIndex::build(&world)
    })
}

fn text(file: &str) -> String {
    std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// The byte offset of the `nth` occurrence of `needle` in `file`, plus `within` bytes.
fn offset(file: &str, needle: &str, nth: usize, within: usize) -> usize {
    let t = text(file);
    let found = t
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("{needle:?} #{nth} not in {file}"));
    found.0 + within
}

/// `file:line` of each target (1-based line of the span's start), checking the span is a
/// real range of the file.
fn lines(targets: &[Target]) -> Vec<String> {
    targets
        .iter()
        .map(|t| {
            let body = text(&t.file);
            assert!(t.span.start <= t.span.end && t.span.end <= body.len());
            let line = body[..t.span.start].matches('\n').count() + 1;
            format!("{}:{line}", t.file)
        })
        .collect()
}

#[test]
fn role_arn_rendered_from_values_joins_to_the_terraform_role() {
    let nav = example();
    let file = format!("{APPS}/tenants/premium/tenant-1.yaml");
    // `accountId` decides both ServiceAccounts' role ARNs (the chart renders them from it).
    let at = offset(&file, "123456789012\"", 0, 3);
    let hover = nav
        .hover(&file, at)
        .unwrap_or_else(|| panic!("no hover on accountId"));
    let md = &hover.markdown;
    assert!(md.contains("**IAM role `consumer-role-tenant-1`**"), "{md}");
    assert!(md.contains("**IAM role `producer-role-tenant-1`**"), "{md}");
    assert!(
        md.contains(&format!("{INFRA}/modules/tenant-apps/main.tf:87`")),
        "{md}"
    );
    assert!(
        md.contains(&format!("{INFRA}/envs/prd/main.tf:24`")),
        "{md}"
    );
    assert!(
        md.contains("Trusted subjects: `tenant-1:tenant-1-consumer`"),
        "{md}"
    );
    assert!(md.contains("`tenant-1:tenant-1-consumer` (`"), "{md}");
    assert_eq!(&text(&file)[hover.span.clone()], "\"123456789012\"");

    let targets = nav.definition(&file, at);
    assert_eq!(
        lines(&targets),
        vec![
            format!("{INFRA}/modules/tenant-apps/main.tf:87"),
            format!("{INFRA}/envs/prd/main.tf:24"),
            format!("{INFRA}/modules/tenant-apps/main.tf:105"),
        ]
    );
}

#[test]
fn service_account_block_joins_to_its_role() {
    let nav = example();
    let file = format!("{APPS}/tenants/premium/tenant-1.yaml");
    // Inside `apps.consumer` (which renders tenant-1-consumer), on `enabled: true`.
    let at = offset(&file, "enabled: true", 2, 2);
    let md = nav
        .hover(&file, at)
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    assert!(
        md.starts_with("**ServiceAccount `tenant-1:tenant-1-consumer`**, rendered for release `tenant-1-premium`"),
        "{md}"
    );
    assert!(md.contains("**IAM role `consumer-role-tenant-1`**"), "{md}");
    assert_eq!(
        lines(&nav.definition(&file, at)),
        vec![
            format!("{INFRA}/modules/tenant-apps/main.tf:87"),
            format!("{INFRA}/envs/prd/main.tf:24"),
        ]
    );
}

#[test]
fn annotation_arn_without_terraform_role_says_so() {
    let nav = example();
    let file = format!("{APPS}/platform/aws-load-balancer-controller.yaml");
    let at = offset(&file, "role/aws-load-balancer-controller", 0, 6);
    let md = nav
        .hover(&file, at)
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    assert!(
        md.contains("**IAM role `aws-load-balancer-controller`**\n\nNo Terraform in the linted repositories creates this role."),
        "{md}"
    );
    assert!(
        md.contains("`kube-system:aws-load-balancer-controller`"),
        "{md}"
    );
    assert!(nav.definition(&file, at).is_empty());
}

#[test]
fn terraform_role_name_shows_its_users() {
    let nav = example();
    let file = format!("{INFRA}/modules/tenant-apps/main.tf");
    let at = offset(&file, "\"consumer-role-${var.tenant_id}\"", 0, 5);
    let md = nav
        .hover(&file, at)
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    // One line creates the role of every instance: one section per role.
    for t in ["tenant-1", "tenant-3", "tenant-4", "tenant-55"] {
        assert!(
            md.contains(&format!("**IAM role `consumer-role-{t}`**")),
            "{md}"
        );
    }
    assert!(
        md.contains(&format!(
            "`tenant-1:tenant-1-consumer` (`{APPS}/tenants/premium/tenant-1.yaml:"
        )),
        "{md}"
    );
    // tenant-4's consumer is disabled: the role has no user (irsa/unused-role).
    assert!(
        md.contains("Used by ServiceAccounts: none in the linted repositories"),
        "{md}"
    );
    // It is the definition: nothing to jump to.
    assert!(nav.definition(&file, at).is_empty());
}

#[test]
fn tenant_id_joins_to_tenants_json_and_back() {
    let nav = example();
    let file = format!("{APPS}/tenants/premium/tenant-1.yaml");
    let at = offset(&file, "tenantId: tenant-1", 0, 12);
    let hover = nav.hover(&file, at).unwrap_or_else(|| panic!("no hover"));
    assert_eq!(&text(&file)[hover.span.clone()], "tenant-1");
    assert!(
        hover
            .markdown
            .starts_with("**Tenant `tenant-1`** (tier `premium`)"),
        "{}",
        hover.markdown
    );
    assert!(
        hover.markdown.contains(&format!(
            "tenants.json: `{INFRA}/envs/prd/tenants.json:3`, tier `premium`"
        )),
        "{}",
        hover.markdown
    );
    assert!(
        hover.markdown.contains(&format!(
            "Tier template: `{APPS}/tier-templates/premium_tenant_template.yaml`"
        )),
        "{}",
        hover.markdown
    );
    assert_eq!(
        lines(&nav.definition(&file, at)),
        vec![format!("{INFRA}/envs/prd/tenants.json:3")]
    );

    // From the infra side back to the tenant release.
    let json = format!("{INFRA}/envs/prd/tenants.json");
    let at = offset(&json, "\"tenant-2\"", 0, 3);
    let md = nav
        .hover(&json, at)
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    assert!(md.contains("tier `basic`"), "{md}");
    assert!(
        md.contains(&format!(
            "Apps-repo: `{APPS}/tenants/basic/tenant-2.yaml:15`, tier `basic`"
        )),
        "{md}"
    );
    assert_eq!(
        lines(&nav.definition(&json, at)),
        vec![format!("{APPS}/tenants/basic/tenant-2.yaml:15")]
    );
}

#[test]
fn env_id_joins_to_the_pool_release() {
    let nav = example();
    let file = format!("{APPS}/tenants/basic/tenant-2.yaml");
    let at = offset(&file, "envId: pool-1", 1, 9);
    let hover = nav.hover(&file, at).unwrap_or_else(|| panic!("no hover"));
    assert_eq!(&text(&file)[hover.span.clone()], "pool-1");
    assert!(
        hover.markdown.contains(&format!(
            "Release `pool-1` at `{APPS}/tenants/basic/pool-1.yaml:4`"
        )),
        "{}",
        hover.markdown
    );
    assert_eq!(
        lines(&nav.definition(&file, at)),
        vec![format!("{APPS}/tenants/basic/pool-1.yaml:4")]
    );
}

#[test]
fn tenant_file_jumps_to_its_tier_template() {
    let nav = example();
    let file = format!("{APPS}/tenants/premium/tenant-1.yaml");
    let at = offset(&file, "project: default", 0, 3);
    // No hover there: only the definition.
    assert_eq!(nav.hover(&file, at), None);
    assert_eq!(
        lines(&nav.definition(&file, at)),
        vec![format!(
            "{APPS}/tier-templates/premium_tenant_template.yaml:3"
        )]
    );
}

#[test]
fn application_path_opens_the_folder() {
    let nav = example();
    let file = format!("{APPS}/bootstrap/root-app.yaml");
    let at = offset(&file, "path: bootstrap/children", 0, 10);
    let hover = nav.hover(&file, at).unwrap_or_else(|| panic!("no hover"));
    assert_eq!(&text(&file)[hover.span.clone()], "bootstrap/children");
    assert!(
        hover.markdown.contains("the folder `bootstrap/children`"),
        "{}",
        hover.markdown
    );
    // A folder opens its first file (no kustomization.yaml or Chart.yaml there).
    assert_eq!(
        nav.definition(&file, at),
        vec![Target {
            file: format!("{APPS}/bootstrap/children/platform.yaml"),
            span: 0..0
        }]
    );
}

#[test]
fn value_files_open_the_file() {
    let root = "../../fixtures/rules/argocd/app-value-file-missing/pass/apps-repo";
    let config = Config::from_file(Path::new(&format!("{root}/.gitops-lint.yaml")))
        .unwrap_or_else(|e| panic!("{e}"));
    let (world, _) = load_world(&[PathBuf::from(root)], &config);
    let nav = NavIndex::build(&world);
    let web = format!("{root}/apps/web.yaml");
    let jump = |file: &str, needle: &str| {
        nav.definition(file, offset(file, needle, 0, 2))
            .into_iter()
            .map(|t| (t.file, t.span))
            .collect::<Vec<_>>()
    };
    let at = |rel: &str| vec![(format!("{root}/{rel}"), 0..0)];
    assert_eq!(jump(&web, "- values.yaml"), at("charts/web/values.yaml"));
    assert_eq!(
        jump(&web, "./values-prd.yaml"),
        at("charts/web/values-prd.yaml")
    );
    assert_eq!(
        jump(&web, "../../envs/prd/web.yaml"),
        at("envs/prd/web.yaml")
    );
    // Absolute: from the repository root.
    assert_eq!(jump(&web, "- /envs/prd/web.yaml"), at("envs/prd/web.yaml"));
    // A glob and a URL name no one file.
    assert_eq!(jump(&web, "values-*.yaml"), vec![]);
    assert_eq!(jump(&web, "https://config"), vec![]);
    // The chart folder opens its Chart.yaml.
    assert_eq!(jump(&web, "charts/web"), at("charts/web/Chart.yaml"));
    // `$values/...` resolves against the `ref: values` source's repository root.
    let multi = format!("{root}/apps/web-multi.yaml");
    assert_eq!(jump(&multi, "$values/envs"), at("envs/prd/web.yaml"));
}

#[test]
fn nothing_there_answers_nothing() {
    let nav = example();
    let tenant = format!("{APPS}/tenants/premium/tenant-1.yaml");
    // Not in the World.
    assert_eq!(nav.hover("no/such/file.yaml", 0), None);
    assert!(nav.definition("no/such/file.yaml", 0).is_empty());
    // Past the end.
    assert_eq!(nav.hover(&tenant, usize::MAX), None);
    assert!(nav.definition(&tenant, 1 << 40).is_empty());
    // A comment, a `kind:` and a Terraform line that join to nothing.
    let template = format!("{APPS}/tier-templates/premium_tenant_template.yaml");
    assert_eq!(nav.hover(&template, 5), None);
    assert!(nav.definition(&template, 5).is_empty());
    let platform = format!("{APPS}/platform/kustomization.yaml");
    assert_eq!(nav.hover(&platform, offset(&platform, "kind", 0, 1)), None);
    let tf = format!("{INFRA}/envs/prd/main.tf");
    let at = offset(&tf, "default_tags", 0, 2);
    assert_eq!(nav.hover(&tf, at), None);
    assert!(nav.definition(&tf, at).is_empty());
}

#[test]
fn every_offset_of_every_file_is_safe() {
    let nav = example();
    // Every byte offset (inside multi-byte characters too) of every file, one past the end.
    for root in [APPS, INFRA] {
        for file in walk(Path::new(root)) {
            let name = file.to_string_lossy().replace('\\', "/");
            let len = std::fs::metadata(&file).map_or(0, |m| m.len() as usize);
            for at in 0..=len + 1 {
                if let Some(h) = nav.hover(&name, at) {
                    assert!(h.span.start <= at && at <= h.span.end, "{name}:{at}");
                }
                for t in nav.definition(&name, at) {
                    assert!(t.span.start <= t.span.end);
                }
            }
        }
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn an_arn_written_anywhere_in_a_kept_file_is_read_from_the_text() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let repo = dir.path().join("apps");
    std::fs::create_dir_all(&repo).unwrap_or_else(|e| panic!("{e}"));
    // A ServiceAccount (so the file is indexed) with the ARN it used before in a comment.
    let text = "# was: arn:aws:iam::123456789012:role/old-role (moved é)\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: web\n  namespace: web\n  annotations:\n    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/web\n";
    std::fs::write(repo.join("sa.yaml"), text).unwrap_or_else(|e| panic!("{e}"));
    let (world, _) = load_world(std::slice::from_ref(&repo), &Config::default());
    let nav = NavIndex::build(&world);
    let file = format!("{}/sa.yaml", gitops_lint_core::read::slash_path(&repo));
    let at = text.find("old-role").unwrap_or_default();
    let hover = nav.hover(&file, at).unwrap_or_else(|| panic!("no hover"));
    assert_eq!(
        &text[hover.span.clone()],
        "arn:aws:iam::123456789012:role/old-role"
    );
    assert!(
        hover
            .markdown
            .starts_with("**IAM role `old-role`**\n\nNo Terraform was loaded"),
        "{}",
        hover.markdown
    );
    assert!(
        hover.markdown.contains("Used by ServiceAccounts: none"),
        "{}",
        hover.markdown
    );
    // The annotation is the ServiceAccount's own role.
    let at = text.find("role/web").unwrap_or_default();
    let md = nav
        .hover(&file, at)
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    assert!(
        md.contains("**IAM role `web`**") && md.contains("`web:web` (`"),
        "{md}"
    );
    // Inside the two-byte `é` and on plain words: nothing.
    let inside = text.find('é').unwrap_or_default() + 1;
    assert_eq!(nav.hover(&file, inside), None);
    assert_eq!(
        nav.hover(&file, text.find("moved").unwrap_or_default()),
        None
    );
}

#[test]
fn a_role_that_trusts_another_namespace_says_so() {
    let nav = example();
    // tenant-55 deploys to namespace tenant-5 (a typo); its roles trust tenant-55:*.
    let file = format!("{APPS}/tenants/premium/tenant-55.yaml");
    let at = offset(&file, "accountId: ", 0, 12);
    let md = nav
        .hover(&file, at)
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    assert!(
        md.contains("Trusted subjects: `tenant-55:tenant-55-consumer`"),
        "{md}"
    );
    assert!(
        md.contains("**The role's trust does not admit `tenant-5:tenant-55-consumer`**"),
        "{md}"
    );
    // A ServiceAccount the trust admits gets no such line.
    let file = format!("{APPS}/tenants/premium/tenant-1.yaml");
    let md = nav
        .hover(&file, offset(&file, "accountId: ", 0, 12))
        .unwrap_or_else(|| panic!("no hover"))
        .markdown;
    assert!(!md.contains("does not admit"), "{md}");
}
