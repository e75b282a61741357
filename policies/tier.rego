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

# ---------------------------------------------------------------------------------------------
# tier/contract-drift: a tenant file differs from its tier template rendered with its id
# (input.tenants[_].contract, built in Rust: `{TENANT_ID}` replaced, other placeholders turned
# into patterns; only for tenants of the template's shape). Fields other rules own are left to
# them: `apps.<app>.enabled` of contract apps (tier/app-enablement), the namespace
# (tenant/namespace-mismatch), names (tier/name-mismatch), and image tags (the image updater
# moves them).

owned_elsewhere(t, path) if {
	some app, _ in input.config.tiers[t.tier]
	path == array.concat(t.values_path, ["apps", app, "enabled"])
}

owned_elsewhere(t, path) if path == t.namespace_path

owned_elsewhere(t, path) if path == t.name_path

owned_elsewhere(t, path) if path == t.release_name_path

# Only what deploys is compared: the spec (values included) and the Application's own
# namespace. Labels and annotations may be added per tenant (notifications, dashboards).
owned_elsewhere(_, path) if not compared(path)

compared(path) if path[0] == "spec"

compared(path) if path == ["metadata", "namespace"]

owned_elsewhere(_, path) if {
	n := count(path)
	n >= 2
	path[n - 2] == "image"
	path[n - 1] == "tag"
}

# `t.contract.drift` (computed in Rust, see src/policy/contract.rs) lists how the tenant
# differs from its template: `changed` (path, want, got), `missing` and `extra` (the topmost
# key, with the field paths inside as `leaves`). This policy decides which of them matter.

# A missing or extra subtree matters when one of its fields is this rule's business.
ours(t, d) if {
	some leaf in d.leaves
	not owned_elsewhere(t, leaf)
}

dotted(path) := concat(".", path)

shown(v) := v if {
	is_string(v)
	not contains(v, "\n")
}

shown(v) := json.marshal(v) if not is_string(v)

shown(v) := json.marshal(v) if {
	is_string(v)
	contains(v, "\n")
}

drift_help(t) := sprintf("make the tenant match `%s` (rendered with tenantId `%s`), or change the template if the contract itself moved", [t.contract.file, t.id])

parent_of(path) := array.slice(path, 0, count(path) - 1)

warn contains finding if {
	some t in input.tenants
	some d in t.contract.drift
	d.kind == "changed"
	not owned_elsewhere(t, d.path)
	finding := {
		"rule": "tier/contract-drift",
		"file": t.file,
		"doc": t.doc,
		"path": d.path,
		"msg": sprintf("tenant `%s`: `%s` is `%s`, but the %s tier template renders `%s` for it", [
			t.id, dotted(d.path), shown(d.got), t.tier, shown(d.want),
		]),
		"help": drift_help(t),
		"related": [{
			"file": t.contract.file, "doc": t.contract.doc, "path": d.path,
			"msg": sprintf("the %s template sets it here", [t.tier]),
		}],
	}
}

warn contains finding if {
	some t in input.tenants
	some d in t.contract.drift
	d.kind == "missing"
	ours(t, d)
	parent := parent_of(d.path)
	finding := {
		"rule": "tier/contract-drift",
		"file": t.file,
		"doc": t.doc,
		"path": parent,
		"key": count(parent) > 0,
		"msg": sprintf("tenant `%s` has no `%s`, which the %s tier template sets", [t.id, dotted(d.path), t.tier]),
		"help": drift_help(t),
		"related": [{
			"file": t.contract.file, "doc": t.contract.doc, "path": d.path, "key": true,
			"msg": sprintf("the %s template sets `%s` here", [t.tier, dotted(d.path)]),
		}],
	}
}

warn contains finding if {
	some t in input.tenants
	some d in t.contract.drift
	d.kind == "extra"
	ours(t, d)
	parent := parent_of(d.path)
	finding := {
		"rule": "tier/contract-drift",
		"file": t.file,
		"doc": t.doc,
		"path": d.path,
		"key": true,
		"msg": sprintf("tenant `%s` sets `%s`, which the %s tier template does not have", [t.id, dotted(d.path), t.tier]),
		"help": drift_help(t),
		"related": [{
			"file": t.contract.file, "doc": t.contract.doc, "path": parent, "key": count(parent) > 0,
			"msg": sprintf("the %s template's `%s` has no `%s`", [t.tier, dotted(parent), d.path[count(d.path) - 1]]),
		}],
	}
}

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
	is_string(e.tier)
	not input.tier_templates[e.tier]
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
	is_string(env)
	env != ""
	# Why this order: `placeholder` runs a regex (compiled per call), so it only looks at the
	# few envIds that name no pool.
	not input.pools[env]
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

# ---------------------------------------------------------------------------------------------
# tier/name-mismatch: file name, metadata.name, releaseName and tenantId must name one tenant
# `T` of tier `R`: file `T.yaml`, names `T` or `T-R`, tenantId `T`. A template uses `{TENANT_ID}`.

name_ok(t, name) if name == t.id

name_ok(t, name) if name == sprintf("%s-%s", [t.id, t.tier])

id_related(t) := [{"file": t.file, "doc": t.doc, "path": t.id_path, "msg": sprintf("tenantId `%s` is set here", [t.id])}] if t.id_path

id_related(t) := [] if not t.id_path

deny contains finding if {
	some t in input.tenants
	not t.template
	t.id_path
	t.stem != t.id
	finding := {
		"rule": "tier/name-mismatch",
		"file": t.file,
		"doc": t.doc,
		"path": t.id_path,
		"msg": sprintf("tenantId is `%s`, but the file is `%s.yaml`: onboarding and offboarding find a tenant by its file name", [t.id, t.stem]),
		"help": sprintf("rename the file to `%s.yaml`, or fix tenantId", [t.id]),
		"related": [{"file": t.file, "doc": t.doc, "path": t.name_path, "msg": "the release is named here"}],
	}
}

deny contains finding if {
	some t in input.tenants
	t.template
	t.id_path
	t.id != "{TENANT_ID}"
	finding := {
		"rule": "tier/name-mismatch",
		"file": t.file,
		"doc": t.doc,
		"path": t.id_path,
		"msg": sprintf("tier template for %s sets tenantId `%s` instead of `{TENANT_ID}`: every tenant rendered from it gets that id", [t.tier, t.id]),
		"help": "set `tenantId: {TENANT_ID}`",
		"related": [{"file": t.file, "doc": t.doc, "path": t.name_path, "msg": "the release is named here"}],
	}
}

deny contains finding if {
	some t in input.tenants
	not t.template
	some field in [["metadata.name", t.name, t.name_path], ["releaseName", t.release_name, t.release_name_path]]
	is_string(field[1])
	not name_ok(t, field[1])
	finding := {
		"rule": "tier/name-mismatch",
		"file": t.file,
		"doc": t.doc,
		"path": field[2],
		"msg": sprintf("`%s` is `%s`, but tenant `%s` of tier %s must be named `%s` or `%s-%s` (file name, names and tenantId must agree)", [
			field[0], field[1], t.id, t.tier, t.id, t.id, t.tier,
		]),
		"help": sprintf("rename it to `%s-%s`", [t.id, t.tier]),
		"related": id_related(t),
	}
}

# In a template the names are compared as written, placeholders masked (`_TENANT_ID_`).
raw_name_ok(t, name) if name == "_TENANT_ID_"

raw_name_ok(t, name) if name == sprintf("_TENANT_ID_-%s", [t.tier])

deny contains finding if {
	some t in input.tenants
	t.template
	some field in [["metadata.name", t.raw_name, t.name_path], ["releaseName", t.raw_release_name, t.release_name_path]]
	is_string(field[1])
	not raw_name_ok(t, field[1])
	finding := {
		"rule": "tier/name-mismatch",
		"file": t.file,
		"doc": t.doc,
		"path": field[2],
		"msg": sprintf("the %s tier template's `%s` is neither `{TENANT_ID}` nor `{TENANT_ID}-%s`, so every tenant rendered from it gets a name that disagrees with its file and tenantId", [
			t.tier, field[0], t.tier,
		]),
		"help": sprintf("name it `{TENANT_ID}-%s`", [t.tier]),
		"related": id_related(t),
	}
}
