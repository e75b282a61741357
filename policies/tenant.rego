# Naming that must agree inside one tenant release.
package gitops_lint.tenant

import rego.v1

# The tiers that run at least one app in silo. Why a set: a tenant is then one lookup, not a
# pass over its tier's apps (and the same finding built once per silo app).
silo_tiers contains tier if {
	some tier, apps in input.config.tiers
	some _, mode in apps
	mode == "silo"
}

# A tenant whose tier runs at least one app in silo deploys into a namespace named after it.
# Fully pooled tiers (basic) are exempt: their release may target the pool's namespace.
deny contains finding if {
	some t in input.tenants
	silo_tiers[t.tier]
	t.namespace != null
	t.namespace != t.id
	finding := {
		"rule": "tenant/namespace-mismatch",
		"file": t.file,
		"doc": t.doc,
		"path": t.namespace_path,
		# What the IRSA roles trust is not claimed here: where they trust the tenant's own
		# namespace, their irsa/trust-mismatch findings at this line are folded into this one
		# and say it (`follows`, set by the host); where they trust a third one, they stand apart.
		"msg": sprintf("namespace `%s` does not match tenantId `%s`; the %s tier runs apps in the tenant's own namespace", [
			t.namespace, t.id, t.tier,
		]),
		"help": sprintf("deploy to namespace `%s`, or fix `tenantId` if the namespace is right", [t.id]),
		# With trust mismatches folded in, only deploying there fixes them too: the roles trust
		# the tenant's own namespace, and a new `tenantId` would not change that.
		"help_when_folded": concat("", ["deploy to namespace `", t.id, "`"]),
		# Where `tenantId` is set, when it is (`id_path` is null otherwise). Why a comprehension,
		# not a function of two bodies: regorus evaluates a function anew on every call, and with
		# 667 findings the function was a quarter of this package's instructions.
		"related": [{"file": t.file, "doc": t.doc, "path": t.id_path, "msg": sprintf("tenantId `%s` is set here", [t.id])} | t.id_path != null],
	}
}
