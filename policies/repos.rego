# Tenants across the two repositories: every tenant file of the apps-repo against the tenants
# the infra-repo lists (`tenants.json`, tf-controller `Terraform` resources), by id and tier.
# Onboarding opens one PR in each repository; merging one without the other leaves them
# disagreeing. The facts (`input.repos`) are keyed by tenant id, so every join is a lookup.
package gitops_lint.repos

import rego.v1

repos := input.repos

# The tenants a rule below may report; every other one is listed once on each side, with one
# tier. Why apart from the rules: regorus orders a rule's statements by the variables they
# bind, so a rule over every tenant may build its finding before its conditions fail; these
# sets only test, and the rules then look at the few tenants left.
#
# `tenants[1]`, not `count(tenants) > 1`: the same test on a list, without a builtin call,
# which costs regorus about 13,000 instructions (it builds and looks up the function's path),
# here once per tenant of a clean tree.
odd_apps contains id if {
	some id, tenants in repos.apps
	tenants[1]
}

# Not listed by the infra-repo, or with another tier.
odd_apps contains id if {
	some id, tenants in repos.apps
	not repos.infra[id][0].tier == tenants[0].tier
}

odd_infra contains id if {
	some id, listings in repos.infra
	listings[1]
}

odd_infra contains id if {
	some id, _ in repos.infra
	not repos.apps[id]
}

# ---------------------------------------------------------------------------------------------
# repos/duplicate-tenant, on each side.

deny contains finding if {
	some id in odd_apps
	tenants := repos.apps[id]
	count(tenants) > 1
	first := tenants[0]
	some i, t in tenants
	i > 0
	finding := {
		"at": t.at,
		"rule": "repos/duplicate-tenant",
		"msg": sprintf("tenant `%s` is deployed twice: here (%s) and in `%s` (%s); both releases fight over one namespace and one set of IAM roles", [id, t.tier, first.at.file, first.tier]),
		"help": "keep one tenant file per tenant, under its tier's folder",
		"related": [{"at": first.at, "msg": "the tenant is also deployed here"}],
	}
}

# Per file and kind of listing: two environments (envs/dev, envs/prd) may each list a tenant
# once.
deny contains finding if {
	some id in odd_infra
	listings := repos.infra[id]
	count(listings) > 1
	some i, t in listings
	i > 0
	same := [e |
		some j, e in listings
		j < i
		e.source == t.source
		e.at.file == t.at.file
	]
	count(same) > 0
	finding := {
		"at": t.at,
		"rule": "repos/duplicate-tenant",
		"msg": sprintf("tenant `%s` is listed twice in %s: `for_each` over it fails with a duplicate key, so `terraform plan` fails for every tenant", [id, t.source]),
		"help": "remove the second entry",
		"related": [{"at": same[0].at, "msg": "first listed here"}],
	}
}

# ---------------------------------------------------------------------------------------------
# The other rules compare the two sides, so both must list tenants.

both_sides if {
	count(repos.apps) > 0
	count(repos.infra) > 0
}

# repos/tenant-missing-in-infra
deny contains finding if {
	both_sides
	some id in odd_apps
	tenants := repos.apps[id]
	not repos.infra[id]
	# Instantiated by hand (`module "tenant_9" { tenant_id = "tenant-9" }`): known all the same.
	not repos.instances[id]
	t := tenants[0]
	finding := {
		"at": t.at,
		"rule": "repos/tenant-missing-in-infra",
		"msg": sprintf("tenant `%s` (%s) is deployed by the apps-repo, but the infra-repo does not list it: Terraform creates none of its queues, tables or IAM roles, so its pods get no AWS credentials", [id, t.tier]),
		"help": sprintf("add `{\"id\": \"%s\", \"tier\": \"%s\"}` to the infra-repo's tenants.json (the onboarding PR for the infra-repo was not merged?)", [id, t.tier]),
		"related": [{"at": repos.first_listing.at, "msg": sprintf("the infra-repo lists its tenants in %s", [repos.first_listing.source])}],
	}
}

# repos/tier-mismatch
deny contains finding if {
	both_sides
	some id in odd_apps
	tenants := repos.apps[id]
	it := repos.infra[id][0]
	t := tenants[0]
	is_string(it.tier)
	it.tier != t.tier
	tier := it.tier
	finding := {
		"at": t.at,
		"rule": "repos/tier-mismatch",
		"msg": sprintf("tenant `%s` is deployed as `%s` (its file is under tenants/%s/), but the infra-repo's %s says `%s`: Terraform creates the `%s` resources and IAM roles", [id, t.tier, t.tier, it.source, tier, tier]),
		"help": sprintf("move the tenant file to tenants/%s/ (rendered from the %s template), or change its tier in the infra-repo to `%s`", [tier, tier, t.tier]),
		"related": [{"at": it.tier_at, "msg": sprintf("the infra-repo says `%s` here", [tier])}],
	}
}

# repos/tenant-missing-in-apps
deny contains finding if {
	both_sides
	some id in odd_infra
	listings := repos.infra[id]
	not repos.apps[id]
	# A tenant file in a folder that is no known tier: tier/unknown-tier reports the folder.
	not repos.file_stems[id]
	not input.pools[id]
	it := listings[0]
	tier := tier_or_placeholder(it)
	finding := {
		"at": it.at,
		"rule": "repos/tenant-missing-in-apps",
		"msg": sprintf("tenant `%s` is listed by the infra-repo (%s), but no tenant file in the apps-repo deploys it: Terraform keeps creating its resources for nothing", [id, it.source]),
		"help": sprintf("add tenants/%s/%s.yaml (rendered from the %s template) to the apps-repo, or remove the tenant from the infra-repo if it was offboarded", [tier, id, tier]),
		"related": siblings(it),
	}
}

tier_or_placeholder(it) := it.tier if is_string(it.tier)

tier_or_placeholder(it) := "<tier>" if not is_string(it.tier)

siblings(it) := [{"at": repos.first_of_tier[it.tier], "msg": sprintf("the %s tenants of the apps-repo live beside this one", [it.tier])}] if {
	repos.first_of_tier[it.tier]
} else := []
