//! The rule registry: every rule id the tool can report, with the unit that reports it.
//!
//! Native checks are listed in [`CHECKS`], each with the rules it may emit (a debug build
//! asserts that it emits no other). Rules reported by the loaders, by derivation and by the gate
//! are listed where they are emitted, and Rego rules are the `"rule"` ids of the embedded
//! policies. `tests/catalog.rs` holds that this registry and the pages under `rules/` name the
//! same ids.

use crate::checks;
use crate::schema;
use gitops_lint_config::Config;
use gitops_lint_core::finding::Finding;
use gitops_lint_core::RuleId;
use gitops_lint_model::World;
use rayon::prelude::*;

/// One native check: reads the World, emits findings of its rules.
pub(crate) struct NativeCheck {
    /// The module that implements it (for messages and the architecture test).
    pub name: &'static str,
    /// The rules it may emit.
    pub rules: &'static [RuleId],
    /// Runs it.
    pub run: fn(&World, &Config) -> Vec<Finding>,
}

/// Every native check, in the order they run.
pub(crate) static CHECKS: &[NativeCheck] = &[
    NativeCheck {
        name: "checks::kustomize",
        rules: &[
            RuleId::KUSTOMIZE_MISSING_RESOURCE,
            RuleId::KUSTOMIZE_UNLISTED_FILE,
            RuleId::SCHEMA_INVALID_TYPE,
        ],
        run: |w, _| checks::kustomize::check(w),
    },
    NativeCheck {
        name: "checks::unknown_kinds",
        rules: &[RuleId::GITOPS_KIND_NOT_UNDERSTOOD],
        run: |w, _| checks::unknown_kinds::check(w),
    },
    NativeCheck {
        name: "checks::unrendered",
        rules: &[RuleId::YAML_UNRENDERED_PLACEHOLDER],
        run: |w, _| checks::unrendered::check(w),
    },
    NativeCheck {
        name: "checks::template",
        rules: &[RuleId::YAML_UNRENDERED_PLACEHOLDER, RuleId::YAML_SYNTAX],
        run: |w, _| checks::template::check(w),
    },
    NativeCheck {
        name: "checks::workflow",
        rules: &[
            RuleId::WORKFLOW_TIER_OPTIONS,
            RuleId::WORKFLOW_UNVALIDATED_TENANT_ID,
        ],
        run: |w, _| checks::workflow::check(w),
    },
    NativeCheck {
        name: "schema",
        rules: &[
            RuleId::SCHEMA_UNKNOWN_FIELD,
            RuleId::SCHEMA_INVALID_TYPE,
            RuleId::SCHEMA_KIND_NOT_CHECKED,
            RuleId::SCHEMA_CEL_RULE,
            RuleId::SCHEMA_CEL_NOT_EVALUATED,
        ],
        run: schema::check,
    },
    NativeCheck {
        name: "checks::k8s_apis",
        rules: &[RuleId::K8S_REMOVED_API, RuleId::K8S_DEPRECATED_API],
        run: checks::k8s_apis::check,
    },
    NativeCheck {
        name: "checks::appset",
        rules: &[
            RuleId::ARGOCD_APPSET_PATH_MATCHES_NOTHING,
            RuleId::ARGOCD_APPSET_LEADING_SLASH,
            RuleId::ARGOCD_APPSET_EXCLUDE_SHADOWS_INCLUDE,
        ],
        run: checks::appset::check,
    },
    NativeCheck {
        name: "checks::argocd",
        rules: &[
            RuleId::ARGOCD_APP_SOURCE_XOR_SOURCES,
            RuleId::ARGOCD_APP_DESTINATION_SERVER_XOR_NAME,
            RuleId::ARGOCD_APP_PATH_MISSING,
            RuleId::ARGOCD_APP_VALUE_FILE_MISSING,
            RuleId::ARGOCD_APP_SYNC_OPTION_UNKNOWN,
            RuleId::ARGOCD_SYNC_OPTION_WRONG_PLACE,
            RuleId::ARGOCD_APP_PROJECT_MISSING,
            RuleId::ARGOCD_PROJECT_SOURCE_NOT_PERMITTED,
            RuleId::ARGOCD_PROJECT_DESTINATION_NOT_PERMITTED,
            RuleId::ARGOCD_PROJECT_KIND_NOT_PERMITTED,
            RuleId::ARGOCD_ANNOTATION_SYNC_WAVE,
            RuleId::ARGOCD_ANNOTATION_HOOK,
            RuleId::ARGOCD_ANNOTATION_SYNC_OPTIONS,
        ],
        run: |w, _| checks::argocd::check(w),
    },
    NativeCheck {
        name: "checks::image_updater",
        rules: &[
            RuleId::IMAGE_UPDATER_IMAGE_LIST,
            RuleId::IMAGE_UPDATER_UPDATE_STRATEGY,
            RuleId::IMAGE_UPDATER_WRITE_BACK_METHOD,
            RuleId::IMAGE_UPDATER_EMPTY_IMAGE_PART,
        ],
        run: |w, _| checks::image_updater::check(w),
    },
    NativeCheck {
        name: "checks::flux",
        rules: &[
            RuleId::FLUX_SOURCE_MISSING,
            RuleId::FLUX_PATH_MISSING,
            RuleId::FLUX_DEPENDS_ON_MISSING,
        ],
        run: |w, _| checks::flux::check(w),
    },
];

/// Rules the loaders report while reading files (`gitops-lint-syntax`, `model::load`).
pub(crate) static LOADER_RULES: &[RuleId] = &[
    RuleId::YAML_SYNTAX,
    RuleId::YAML_CONTINUED_LIST_ITEM,
    RuleId::YAML_CONTINUED_MAPPING_VALUE,
    RuleId::YAML_INDENTATION,
    RuleId::YAML_INDENT_WIDTH,
    RuleId::YAML_LIST_STYLE,
    RuleId::YAML_DUPLICATE_KEY,
    RuleId::YAML_AMBIGUOUS_SCALAR,
    RuleId::YAML_TAB,
    RuleId::YAML_BOM_OR_ENCODING,
    RuleId::JSON_SYNTAX,
    RuleId::TERRAFORM_SYNTAX,
    RuleId::GITOPS_BUDGET_EXCEEDED,
    RuleId::GITOPS_SPECIAL_FILE,
    RuleId::GITOPS_UNREADABLE_PATH,
    RuleId::GIT_ENCRYPTED_FILE,
    RuleId::TEMPLATE_UNRENDERED_FILE,
];

/// Rules derivation reports where it cannot do what Argo CD or Helm would
/// (`gitops-lint-derive`: ApplicationSet expansion, Helm rendering).
pub(crate) static DERIVE_RULES: &[RuleId] = &[
    RuleId::ARGOCD_APPSET_PARAM_UNKNOWN,
    RuleId::ARGOCD_APPSET_PATH_INDEX_OUT_OF_RANGE,
    RuleId::ARGOCD_APPSET_DUPLICATE_NAME,
    RuleId::ARGOCD_APPSET_INVALID_NAME,
    RuleId::ARGOCD_APPSET_NOT_EXPANDABLE,
    RuleId::ARGOCD_APPSET_GENERATOR_ERROR,
    RuleId::HELM_TEMPLATE_NOT_UNDERSTOOD,
    RuleId::GITOPS_BUDGET_EXCEEDED,
];

/// Rules the policy host reports about the policies' evaluation itself (`policy`: a package
/// that runs out of `limits.regoSeconds` or `limits.regoMemoryBytes`).
pub(crate) static POLICY_HOST_RULES: &[RuleId] = &[RuleId::GITOPS_BUDGET_EXCEEDED];

/// Rules the gate reports about suppressions themselves (`gitops-lint-gate`).
pub(crate) static GATE_RULES: &[RuleId] = &[
    RuleId::SUPPRESS_MISSING_REASON,
    RuleId::SUPPRESS_UNUSED,
    RuleId::SUPPRESS_EXPIRED,
];

/// Rule ids the embedded Rego policies emit (`"rule": "family/name"` literals).
pub fn policy_rules() -> Vec<String> {
    let mut ids: Vec<String> = crate::POLICIES
        .iter()
        .flat_map(|(_, text)| crate::policy::rule_literals(text))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// Every registered rule id with the unit that reports it (`loader`, `derive`, `gate`,
/// `policy`, or the native check's name), sorted by id.
pub fn registered() -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    out.extend(LOADER_RULES.iter().map(|r| (r.to_string(), "loader")));
    out.extend(DERIVE_RULES.iter().map(|r| (r.to_string(), "derive")));
    out.extend(
        POLICY_HOST_RULES
            .iter()
            .map(|r| (r.to_string(), "policy host")),
    );
    out.extend(GATE_RULES.iter().map(|r| (r.to_string(), "gate")));
    for check in CHECKS {
        out.extend(check.rules.iter().map(|r| (r.to_string(), check.name)));
    }
    out.extend(policy_rules().into_iter().map(|r| (r, "policy")));
    out.sort();
    out
}

/// Runs every native check over the World.
pub fn run_checks(world: &World, config: &Config) -> Vec<Finding> {
    // Why parallel: the checks only read the World, and ran one after another on one core;
    // `collect` keeps the registry's order, so the findings come out as a serial loop's did.
    let per_check: Vec<Vec<Finding>> = CHECKS
        .par_iter()
        .map(|check| {
            let found = (check.run)(world, config);
            debug_assert!(
                found.iter().all(|f| check.rules.contains(&f.rule)),
                "{} emitted a rule it does not declare in the registry",
                check.name
            );
            found
        })
        .collect();
    per_check.into_iter().flatten().collect()
}
