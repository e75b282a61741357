# Tier naming: a tenant's file name, names and tenantId must agree. A package of its own (not
# in tier.rego) so that it is evaluated beside the other tier rules, in parallel.
package gitops_lint.tier_names

import rego.v1

# ---------------------------------------------------------------------------------------------
# tier/name-mismatch: file name, metadata.name, releaseName and tenantId must name one tenant
# `T` of tier `R`: file `T.yaml`, names `T` or `T-R`, tenantId `T`. A template uses `{TENANT_ID}`.

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
	# `T-R`, once per tenant rather than once per name: a builtin call costs regorus about
	# 13,000 instructions.
	suffixed := concat("-", [t.id, t.tier])
	some field in [["metadata.name", t.name, t.name_path], ["releaseName", t.release_name, t.release_name_path]]
	# `T` or `T-R`. Inline, not a function: regorus evaluates a function anew on every call,
	# which was half of this package's time on 10,000 tenants (two calls per tenant).
	field[1] != t.id
	field[1] != suffixed
	# Last, so that it runs only for a name already found wrong: each builtin call costs
	# regorus about 13,000 instructions (it builds and looks up the function's path). A name
	# that is no string passes both comparisons above and is left out here, as before.
	is_string(field[1])
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
