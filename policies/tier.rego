# Tier contracts: which apps a tenant runs in its own namespace (silo) and which it shares
# with a pool, per tier. The contract comes from config (`input.config.tiers`), so a team with
# other tiers or apps edits `.gitops-lint.yaml`, not this file.
package gitops_lint.tier

import rego.v1

# The value `apps.<app>.enabled` must have for a mode.
want_enabled := {"silo": true, "pool": false}

app_path(t, app) := array.concat(t.values_path, ["apps", app])

# The `[tenant index, app, mode]` triples of a tier contract that a rule below may report:
# `enabled` is not what the app's mode wants (or is not set), or a shared app has no `envId`.
# Every other one is fine at a glance. Why apart from the rules: each of the three went through
# every tenant and app of its tier; these two passes only test, and the rules then look at
# the few left (a third fewer instructions for this package on a clean tree).
# `mode == "silo"` is `want_enabled[mode]` written out: the config admits only `silo` and
# `pool`, and a rule lookup per tenant and app was a tenth of this package's instructions.
odd_apps contains [i, app, mode] if {
	some i, t in input.tenants
	some app, mode in input.config.tiers[t.tier]
	not t.values.apps[app].enabled == (mode == "silo")
}

odd_apps contains [i, app, mode] if {
	some i, t in input.tenants
	some app, mode in input.config.tiers[t.tier]
	mode == "pool"
	not t.values.apps[app].envId
}

deny contains finding if {
	some [i, app, mode] in odd_apps
	t := input.tenants[i]
	got := t.values.apps[app].enabled
	got != (mode == "silo")
	finding := {
		"rule": "tier/app-enablement",
		"file": t.file,
		"doc": t.doc,
		"path": array.concat(app_path(t, app), ["enabled"]),
		"msg": sprintf("%s `%s` is %s, where `%s` runs %s, but `apps.%s.enabled` is %v", [
			subject(t), t.id, t.tier, app, mode_words[mode], app, json.marshal(got),
		]),
		"help": sprintf("set `apps.%s.enabled: %v` (the %s contract)%s", [
			app, want_enabled[mode], t.tier, pool_hint(mode),
		]),
	}
}

deny contains finding if {
	some [i, app, mode] in odd_apps
	t := input.tenants[i]
	# `enabled` is absent: `not x` holds when x is undefined or false, and the second line
	# rules out false (`null`, `0` or any other value fail the first). Inline, not a
	# function: regorus evaluates a function anew on every call (one per tenant and app),
	# which was a third of this package's time on 10,000 tenants.
	not t.values.apps[app].enabled
	not t.values.apps[app].enabled == false
	finding := {
		"rule": "tier/app-enablement",
		"file": t.file,
		"doc": t.doc,
		"path": app_path(t, app),
		"key": true,
		"msg": sprintf("%s `%s` is %s, where `%s` runs %s, but `apps.%s.enabled` is not set, so the chart's default decides", [
			subject(t), t.id, t.tier, app, mode_words[mode], app,
		]),
		"help": sprintf("set `apps.%s.enabled: %v` explicitly (the %s contract)%s", [
			app, want_enabled[mode], t.tier, pool_hint(mode),
		]),
	}
}

deny contains finding if {
	some [i, app, mode] in odd_apps
	t := input.tenants[i]
	mode == "pool"
	t.values.apps[app].enabled == false
	not t.values.apps[app].envId
	finding := {
		"rule": "tier/shared-app-missing-pool",
		"file": t.file,
		"doc": t.doc,
		"path": app_path(t, app),
		"key": true,
		"msg": sprintf("%s `%s` is %s, so `%s` is shared, but `apps.%s` has no `envId`: requests for this tenant are routed to no pool", [
			subject(t), t.id, t.tier, app, app,
		]),
		"help": sprintf("add `envId: %s` under `apps.%s`", [some_pool, app]),
	}
}

subject(t) := "tier template for" if t.template

subject(t) := "tenant" if not t.template

mode_words := {
	"silo": "in the tenant's own namespace (silo)",
	"pool": "in a shared pool",
}

pool_hint(mode) := sprintf(" and `envId: %s`", [some_pool]) if mode == "pool"

pool_hint(mode) := "" if mode != "pool"

# A pool that exists in the repo, for help texts; `pool-1` when none is declared.
default some_pool := "pool-1"

some_pool := min(object.keys(input.pools)) if count(input.pools) > 0

# ---------------------------------------------------------------------------------------------
# tier/unknown-tier: tenants of a tier that has no template (only in repos that have tier
# templates at all).

template_list := concat(", ", sort(object.keys(input.tier_templates)))

# The first template (by tier name): where a related note points.
first_template := input.tier_templates[min(object.keys(input.tier_templates))]

deny contains finding if {
	count(input.tier_templates) > 0
	some d in input.tenant_dirs
	not input.tier_templates[d.tier]
	known := first_template
	finding := {
		"rule": "tier/unknown-tier",
		"file": d.file,
		"doc": 0,
		"path": [],
		"msg": sprintf("folder `%s/` holds tenants of tier `%s`, but there is no tier template `%s_tenant_template.yaml` (templates exist for: %s)", [
			d.dir, d.tier, d.tier, template_list,
		]),
		"help": sprintf("add `tier-templates/%s_tenant_template.yaml`, or move these tenants to a tier that has a template", [d.tier]),
		"related": [{"file": known.file, "doc": 0, "path": [], "msg": "tier templates live here"}],
	}
}

deny contains finding if {
	count(input.tier_templates) > 0
	some e in input.infra.tenants
	not input.tier_templates[e.tier]
	# After the lookup, so that it runs only for the few tiers with no template: a builtin
	# call costs regorus about 13,000 instructions. A tier that is no string finds no template
	# either, and is left out here, as before.
	is_string(e.tier)
	known := first_template
	finding := {
		"rule": "tier/unknown-tier",
		"file": e.file,
		"doc": 0,
		"path": array.concat(e.path, ["tier"]),
		"msg": sprintf("tenants.json gives tenant `%v` tier `%s`, but the apps-repo has no tier template `%s_tenant_template.yaml` (templates exist for: %s)", [
			e.id, e.tier, e.tier, template_list,
		]),
		"help": "use one of the tiers that have a template, or add the template",
		"related": [{"file": known.file, "doc": 0, "path": [], "msg": "tier templates live here"}],
	}
}

# ---------------------------------------------------------------------------------------------
# tier/pool-missing: `envId` names a pool no release defines (only when the linted repos
# define pools at all: otherwise they are kept elsewhere).

# A template's values are masked (`_ENVIRONMENT_ID_`): such an envId is a placeholder.
placeholder(env) if contains(env, "{")

placeholder(env) if regex.match(`^_[A-Z][A-Z0-9_]*_$`, env)

deny contains finding if {
	count(input.pools) > 0
	some t in input.tenants
	some app, spec in t.values.apps
	env := spec.envId
	# Why this order: builtin calls are dear in regorus (about 13,000 instructions each, and
	# `placeholder` compiles a regex per call), so only the few envIds that name no pool get
	# to them. An envId that is no string names no pool.
	not input.pools[env]
	is_string(env)
	env != ""
	not placeholder(env)
	some_known := input.pools[some_pool]
	finding := {
		"rule": "tier/pool-missing",
		"file": t.file,
		"doc": t.doc,
		"path": array.concat(t.values_path, ["apps", app, "envId"]),
		"msg": sprintf("%s `%s` sends `%s` to pool `%s`, but no release defines a pool `%s` (pools: %s)", [
			subject(t), t.id, app, env, env, concat(", ", sort(object.keys(input.pools))),
		]),
		"help": sprintf("point `apps.%s.envId` at an existing pool, or add the `%s` pool release", [app, env]),
		"related": [{"file": some_known.file, "doc": some_known.doc, "path": [], "msg": sprintf("pool `%s` is defined here", [some_pool])}],
	}
}
