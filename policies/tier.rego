# Tier contracts: which apps a tenant runs in its own namespace (silo) and which it shares
# with a pool, per tier. The contract comes from config (`input.config.tiers`), so a team with
# other tiers or apps edits `.gitops-lint.yaml`, not this file.
package gitops_lint.tier

import rego.v1

# The value `apps.<app>.enabled` must have for a mode.
want_enabled := {"silo": true, "pool": false}

app_path(t, app) := array.concat(t.values_path, ["apps", app])

deny contains finding if {
	some t in input.tenants
	some app, mode in input.config.tiers[t.tier]
	got := t.values.apps[app].enabled
	got != want_enabled[mode]
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
	some t in input.tenants
	some app, mode in input.config.tiers[t.tier]
	not has_enabled(t, app)
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
	some t in input.tenants
	some app, mode in input.config.tiers[t.tier]
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

has_enabled(t, app) if {
	_ = t.values.apps[app].enabled
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
