//! The embedded policies test the cheap conditions first: a lookup or a comparison before a
//! builtin call (`is_string`, `count`), which costs regorus about 13,000 instructions. These
//! tests pin what that order relies on: a value of the wrong type still gives no finding, and
//! every condition still decides on its own. Each case runs one package on a hand-written
//! input, the shape `input.rs` documents.

use gitops_lint_core::RuleId;
use serde_json::{json, Value};

/// An engine with the embedded policies and `input`.
fn engine(input: Value) -> regorus::Engine {
    let mut engine = regorus::Engine::new();
    for (name, text) in crate::POLICIES {
        engine
            .add_policy((*name).to_string(), (*text).to_string())
            .expect("the embedded policies compile");
    }
    engine.set_input(regorus::Value::from(input));
    engine
}

/// The `(rule, msg)` of every item of `data.<package>.deny`, sorted.
fn deny(package: &str, input: Value) -> Vec<(String, String)> {
    let value = engine(input)
        .eval_rule(format!("data.gitops_lint.{package}.deny"))
        .expect("the package evaluates");
    let mut out: Vec<(String, String)> = value
        .as_set()
        .expect("deny is a set")
        .iter()
        .map(|f| {
            let text = |key: &str| {
                f[key]
                    .as_string()
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            };
            (text("rule"), text("msg"))
        })
        .collect();
    out.sort();
    out
}

/// A tenant of tier `tier` as `input.tenants[_]` has it, with `values.apps` = `apps`.
fn tenant(id: &str, tier: &str, apps: Value) -> Value {
    json!({
        "id": id, "tier": tier, "file": format!("tenants/{tier}/{id}.yaml"), "doc": 0,
        "stem": id, "template": false,
        "name": format!("{id}-{tier}"), "name_path": ["metadata", "name"],
        "release_name": format!("{id}-{tier}"),
        "release_name_path": ["spec", "source", "helm", "releaseName"],
        "id_path": ["spec", "source", "helm", "values", "tenantId"],
        "namespace": id, "namespace_path": ["spec", "destination", "namespace"],
        "values": {"apps": apps}, "values_path": ["spec", "source", "helm", "values"],
    })
}

/// The input every case starts from: two tiers, one pool, one tier template.
fn base(tenants: Vec<Value>) -> Value {
    json!({
        "config": {"tiers": {
            "premium": {"api": "silo", "worker": "silo"},
            "basic": {"api": "pool", "worker": "pool"},
        }, "pools": []},
        "tenants": tenants,
        "pools": {"pool-1": {"id": "pool-1", "file": "tenants/basic/pool-1.yaml", "doc": 0}},
        "tier_templates": {"premium": {"file": "tier-templates/premium_tenant_template.yaml", "doc": 0}},
        "tenant_dirs": [],
        "infra": {"tenants": []},
    })
}

fn rules(found: &[(String, String)]) -> Vec<&str> {
    found.iter().map(|(rule, _)| rule.as_str()).collect()
}

#[test]
fn a_name_that_is_no_string_is_not_a_name_mismatch_and_a_wrong_string_is() {
    let apps = json!({"api": {"enabled": true}, "worker": {"enabled": true}});
    let mut numbered = tenant("t1", "premium", apps.clone());
    numbered["name"] = json!(7);
    numbered["release_name"] = Value::Null;
    let mut plain = tenant("t2", "premium", apps.clone());
    plain["name"] = json!("t2");
    let mut wrong = tenant("t3", "premium", apps);
    wrong["release_name"] = json!("t3-gold");
    let found = deny("tier_names", base(vec![numbered, plain, wrong]));
    assert_eq!(rules(&found), [RuleId::TIER_NAME_MISMATCH.as_str()]);
    assert!(
        found[0].1.starts_with("`releaseName` is `t3-gold`"),
        "{found:?}"
    );
}

#[test]
fn an_env_id_that_is_no_string_or_empty_names_no_missing_pool() {
    let env = |id: Value| json!({"enabled": false, "envId": id});
    let tenants = vec![
        tenant(
            "t1",
            "basic",
            json!({"api": env(json!(5)), "worker": env(json!(""))}),
        ),
        tenant(
            "t2",
            "basic",
            json!({"api": env(json!(null)), "worker": env(json!("pool-1"))}),
        ),
        tenant(
            "t3",
            "basic",
            json!({"api": env(json!("{ENV_ID}")), "worker": env(json!("_ENVIRONMENT_ID_"))}),
        ),
        tenant(
            "t4",
            "basic",
            json!({"api": env(json!("pool-9")), "worker": env(json!("pool-1"))}),
        ),
    ];
    let found = deny("tier", base(tenants));
    assert_eq!(rules(&found), [RuleId::TIER_POOL_MISSING.as_str()]);
    assert!(found[0].1.contains("to pool `pool-9`"), "{found:?}");
}

#[test]
fn an_infra_tier_that_is_no_string_is_no_unknown_tier() {
    let mut input = base(vec![]);
    input["infra"]["tenants"] = json!([
        {"id": "t1", "tier": 3, "file": "envs/prd/tenants.json", "path": [0]},
        {"id": "t2", "tier": null, "file": "envs/prd/tenants.json", "path": [1]},
        {"id": "t3", "tier": "premium", "file": "envs/prd/tenants.json", "path": [2]},
        {"id": "t4", "tier": "gold", "file": "envs/prd/tenants.json", "path": [3]},
    ]);
    let found = deny("tier", input);
    assert_eq!(rules(&found), [RuleId::TIER_UNKNOWN_TIER.as_str()]);
    assert!(
        found[0].1.contains("gives tenant `t4` tier `gold`"),
        "{found:?}"
    );
}

#[test]
fn enabled_must_be_true_exactly_for_silo_apps() {
    let tenants = vec![
        tenant(
            "t1",
            "premium",
            json!({"api": {"enabled": true}, "worker": {"enabled": false}}),
        ),
        tenant(
            "t2",
            "basic",
            json!({
                "api": {"enabled": true, "envId": "pool-1"},
                "worker": {"enabled": false, "envId": "pool-1"},
            }),
        ),
        // Not a boolean: wrong for both modes.
        tenant(
            "t3",
            "premium",
            json!({"api": {"enabled": "true"}, "worker": {"enabled": true}}),
        ),
    ];
    let found = deny("tier", base(tenants));
    let wrong: Vec<&str> = found.iter().map(|(_, msg)| msg.as_str()).collect();
    assert_eq!(
        rules(&found),
        [RuleId::TIER_APP_ENABLEMENT.as_str(); 3],
        "{found:?}"
    );
    assert!(wrong
        .iter()
        .any(|m| m.contains("`t1`") && m.contains("`apps.worker.enabled` is false")));
    assert!(wrong
        .iter()
        .any(|m| m.contains("`t2`") && m.contains("`apps.api.enabled` is true")));
    assert!(wrong
        .iter()
        .any(|m| m.contains("`t3`") && m.contains("`apps.api.enabled` is \"true\"")));
}

/// The three rules over a tier's apps look only at what `odd_apps` keeps: an `enabled`
/// that is not set, in either mode, and a shared app without `envId` still reach theirs.
#[test]
fn an_unset_enabled_and_a_shared_app_without_env_id_are_still_reported() {
    let tenants = vec![
        tenant(
            "t4",
            "premium",
            json!({"api": {}, "worker": {"enabled": true}}),
        ),
        tenant(
            "t5",
            "basic",
            json!({"api": {"enabled": false}, "worker": {"envId": "pool-1"}}),
        ),
    ];
    let found = deny("tier", base(tenants));
    let messages: Vec<&str> = found.iter().map(|(_, msg)| msg.as_str()).collect();
    assert_eq!(
        rules(&found),
        [
            RuleId::TIER_APP_ENABLEMENT.as_str(),
            RuleId::TIER_APP_ENABLEMENT.as_str(),
            RuleId::TIER_SHARED_APP_MISSING_POOL.as_str(),
        ],
        "{found:?}"
    );
    let unset = |id: &str, app: &str| {
        messages.iter().any(|m| {
            m.contains(&format!("`{id}`"))
                && m.contains(&format!("`apps.{app}.enabled` is not set"))
        })
    };
    assert!(unset("t4", "api") && unset("t5", "worker"), "{found:?}");
    assert!(messages[2].contains("`t5`") && messages[2].contains("`apps.api` has no `envId`"));
}

#[test]
fn a_namespace_mismatch_is_one_finding_however_many_apps_run_in_silo() {
    let apps = json!({"api": {"enabled": true}, "worker": {"enabled": true}});
    let mut silo = tenant("t1", "premium", apps.clone());
    silo["namespace"] = json!("shared");
    // A fully pooled tier may deploy into the pool's namespace.
    let mut pooled = tenant("t2", "basic", apps);
    pooled["namespace"] = json!("pool-1");
    let found = deny("tenant", base(vec![silo, pooled]));
    assert_eq!(rules(&found), [RuleId::TENANT_NAMESPACE_MISMATCH.as_str()]);
    assert!(found[0]
        .1
        .starts_with("namespace `shared` does not match tenantId `t1`"));
}

#[test]
fn a_tenant_listed_twice_on_either_side_is_a_duplicate_and_once_is_not() {
    let at = |file: &str| json!({"file": file, "doc": 0, "path": [], "key": false});
    let app = |file: &str| json!({"tier": "premium", "at": at(file)});
    let listing = |n: usize| {
        json!({"tier": "premium", "source": "tenants.json", "at": at("envs/prd/tenants.json"),
               "tier_at": at("envs/prd/tenants.json"), "n": n})
    };
    let mut input = base(vec![]);
    input["repos"] = json!({
        "apps": {"t1": [app("a/t1.yaml"), app("b/t1.yaml")], "t2": [app("a/t2.yaml")]},
        "infra": {"t1": [listing(0)], "t2": [listing(1), listing(2)]},
        "instances": {}, "file_stems": {}, "first_of_tier": {},
        "first_listing": listing(0),
    });
    let found = deny("repos", input);
    assert_eq!(
        rules(&found),
        [RuleId::REPOS_DUPLICATE_TENANT.as_str(); 2],
        "{found:?}"
    );
    assert!(found[0].1.contains("tenant `t1` is deployed twice"));
    assert!(found[1]
        .1
        .contains("tenant `t2` is listed twice in tenants.json"));
}

/// Whether `tier_contract`'s `owned_elsewhere` holds for the first tenant of `input` and `path`.
fn owned_elsewhere(input: Value, path: Value) -> bool {
    let query = format!(
        "count({{1 | data.gitops_lint.tier_contract.owned_elsewhere(input.tenants[0], {path})}}) == 1"
    );
    engine(input)
        .eval_bool_query(query, false)
        .expect("the function evaluates")
}

#[test]
fn each_test_of_the_contract_ownership_chain_decides_on_its_own() {
    // One chain of `else` in `tier_contract.rego`: the first test that holds decides. Each
    // path here is owned by exactly one test (or by none), so a test that is lost, or that
    // stops the chain early, changes an answer.
    let apps = json!({"api": {"enabled": true}, "worker": {"enabled": true}});
    let input = base(vec![tenant("t1", "premium", apps)]);
    let values = |rest: &[&str]| {
        let mut path = vec!["spec", "source", "helm", "values"];
        path.extend(rest);
        json!(path)
    };
    let owned = [
        json!(["spec", "destination", "namespace"]),
        json!(["metadata", "name"]),
        json!(["spec", "source", "helm", "releaseName"]),
        json!(["metadata", "labels", "team"]),
        values(&["apps", "api", "image", "tag"]),
        values(&["apps", "worker", "enabled"]),
    ];
    for path in owned {
        assert!(owned_elsewhere(input.clone(), path.clone()), "{path}");
    }
    let compared_here = [
        json!(["metadata", "namespace"]),
        values(&["region"]),
        values(&["apps", "api", "image", "repository"]),
        values(&["apps", "batch", "enabled"]),
    ];
    for path in compared_here {
        assert!(!owned_elsewhere(input.clone(), path.clone()), "{path}");
    }
}
