# Tier contracts, field by field: a tenant file against its tier template rendered with its
# id. A package of its own (not in tier.rego) so that it is evaluated beside the other tier
# rules on the other core: each package runs on its own, in parallel.
package gitops_lint.tier_contract

import rego.v1

# ---------------------------------------------------------------------------------------------
# tier/contract-drift: a tenant file differs from its tier template rendered with its id
# (input.tenants[_].contract, built in Rust: `{TENANT_ID}` replaced, other placeholders turned
# into patterns; only for tenants of the template's shape). Fields other rules own are left to
# them: `apps.<app>.enabled` of contract apps (tier/app-enablement), the namespace
# (tenant/namespace-mismatch), names (tier/name-mismatch), and image tags (the image updater
# moves them).

# One chain of `else`: the first test that holds decides, and the engine stops there. Written
# as separate definitions, every one of them was evaluated for every drift entry (13 µs each:
# 90 ms on a 10,000-tenant tree whose tenants all moved their namespace). The commonest first.
owned_elsewhere(t, path) if {
	path == t.namespace_path
} else if {
	path == t.name_path
} else if {
	path == t.release_name_path
} else if {
	# Only what deploys is compared: the spec (values included) and the Application's own
	# namespace. Labels and annotations may be added per tenant (notifications, dashboards).
	not compared(path)
} else if {
	n := count(path)
	n >= 2
	path[n - 2] == "image"
	path[n - 1] == "tag"
} else if {
	some app, _ in input.config.tiers[t.tier]
	path == array.concat(t.values_path, ["apps", app, "enabled"])
}

compared(path) if path[0] == "spec"

compared(path) if path == ["metadata", "namespace"]

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
		"follows": missing_follows(d.path),
		"related": [{
			"file": t.contract.file, "doc": t.contract.doc, "path": d.path, "key": true,
			"msg": sprintf("the %s template sets `%s` here", [t.tier, dotted(d.path)]),
		}],
	}
}

# The rule whose finding at the same place is a missing value's root cause (`follows`): a
# shared app with no `envId` is what tier/shared-app-missing-pool reports at that app's key,
# with the same fix (add it). The drift is folded into that finding where it is reported; where
# it is not (the app is a silo in this tier), the drift stands on its own.
missing_follows(path) := "tier/shared-app-missing-pool" if {
	n := count(path)
	n >= 3
	path[n - 1] == "envId"
	path[n - 3] == "apps"
} else := ""

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
