# The IRSA chain joined across the two repositories: each ServiceAccount's
# `eks.amazonaws.com/role-arn` against the roles Terraform creates for its tenant, and each
# role's trusted `namespace:serviceaccount` against the ServiceAccounts the releases create.
# The facts (`input.irsa`, `input.repos`) are derived in Rust: Terraform evaluated, charts
# rendered, ARNs parsed, trusts matched as IAM matches them. Every join here is a lookup in an
# object keyed by role name, `namespace:serviceaccount`, namespace or account, so the rules stay
# linear in tenants.
package gitops_lint.irsa

import rego.v1

irsa := input.irsa

# A finding names its place with `at`, a location object of the input, and so does each
# related label: `{"at": sa.at, "rule": ...}`, `{"at": role.trust_at, "msg": ...}`. Why not
# `object.union(sa.at, {...})`, which gives the same place: a builtin call is resolved by name on
# every call, and an object literal is not. With 1,665 trust-mismatch findings (a generated tree)
# the literals take 7% fewer instructions for this package (see the README's Speed).

# Why so few function calls in the rules that look at every suspect ServiceAccount (with many
# findings, two per tenant): regorus evaluates a function anew on every call, at about ten
# microseconds each even when its body is one line, while a rule's value is computed once. So
# what the rules need per ServiceAccount is a value keyed by its index in
# `irsa.service_accounts` (`suspects`, `account_mismatch`,
# `joined_suspects`, `shared_by_name`, `shared_by_namespace`) or a fact of
# the input (a ServiceAccount's `namespace_wrong` and `namespace_key`, a subject's `text` and
# `wildcard`, a role's `namespaces` and `namespace_key`, a
# role name's `trusted_namespace_key`); the functions left run once per finding. This took the
# package from 5.3 s to 3.4 s on 10,000 tenants with 16,635 trust mismatches (and the two
# namespace keys, from a comprehension per ServiceAccount, about 10% more).

# Which ServiceAccounts this evaluation judges. With many suspects the host evaluates this
# package in parts side by side (`input.irsa_part`, see `evaluate_in_parts` in
# `policy/mod.rs`): each part judges its own ServiceAccounts (`service_accounts`, by their
# index in `irsa.service_accounts`), and part 0 alone judges the roles and associations. The
# host puts every ServiceAccount that one finding may group or cite together in the same part
# (their `part`), so the parts' findings together are the whole package's. Why the host splits
# them rather than a test here: a statement per ServiceAccount costs a few microseconds.
judged := input.irsa_part.service_accounts if {
	input.irsa_part
} else := irsa.service_accounts

default part_index := 0

part_index := input.irsa_part.index

# The ServiceAccounts a rule below may report. Every other one is fine at a glance: its ARN
# names a role Terraform creates whose trust admits it, in an account the infra-repo uses.
# Why apart from the rules: regorus orders a rule's statements by the variables they bind, so
# a rule over every ServiceAccount (two per tenant) may build its finding before its conditions
# fail; these sets only test, and the rules then look at the few ServiceAccounts left. Why
# comprehensions (and `object.union`, `object.remove` below) rather than rules of one entry
# per ServiceAccount: regorus adds each entry of such a rule to the rule's value and the data
# tree apart, and with 2,000 suspects `suspects` and `joined_suspects` built that way were
# over a quarter of this package's instructions (382 → 278 M).
suspects := object.union({i: sa | some i, sa in judged; not sa.admitted}, {i: sa |
	count(irsa.accounts) > 0
	some i, sa in judged
	not irsa.accounts[sa.account]
})

# Only a suspect whose ARN is rendered and parses (`not sa.unrendered`, `not sa.error`: its
# `account` and `role` are known) may have its role judged, by `account_mismatch` and
# `joined_suspects` below. An unrendered `{ACCOUNT_ID}` / `{{ .Values.x }}` token is
# yaml/unrendered-placeholder's, and a template generator's token (`<AWS_ACCOUNT_ID>`,
# `__ACCOUNT__`) is replaced before use. The host tests for them (`unrendered`, see
# `input/irsa.rs`): a `regex.match` here, once per suspect, was a tenth of this package. Why
# the two tests are repeated in those two rules rather than kept in a rule of the rendered
# suspects (`checkable`, as before): building that rule's value, a copy per suspect, was 13%
# of this package's instructions on 2,000 suspects.

# ---------------------------------------------------------------------------------------------
# irsa/invalid-role-arn

deny contains finding if {
	some i, sa in suspects
	not sa.unrendered
	sa.error
	finding := {
		"at": sa.at,
		"rule": "irsa/invalid-role-arn",
		"msg": sprintf("ServiceAccount `%s`: the role ARN `%s` is invalid: %s", [sa.name, sa.arn, sa.error]),
		"help": "write `arn:aws:iam::<12-digit account id>:role/<role name>`; if it is rendered from values, set the account id (`accountId`) for this release",
	}
}

# ---------------------------------------------------------------------------------------------
# The tenant a ServiceAccount belongs to (its release's tenant, else its namespace), if the
# infra-repo knows it: from tenants.json or a tf-controller resource, else a module instance.

infra_knows(t) if input.repos.infra[t]

infra_knows(t) if input.repos.instances[t]

infra_tenant_at(t) := input.repos.infra[t][0].at

infra_tenant_at(t) := input.repos.instances[t] if not input.repos.infra[t]

sa_tenant(sa) := sa.tenant if {
	infra_knows(sa.tenant)
} else := sa.namespace if {
	infra_knows(sa.namespace)
}

# The infra-repo knows something of this ServiceAccount: its tenant, or its role's name.
known(sa) if _ = sa_tenant(sa)

known(sa) if irsa.roles_named[sa.role]

known(sa) if irsa.skipped[sa.role]

# ---------------------------------------------------------------------------------------------
# irsa/account-mismatch: the role is in another account than the infra-repo deploys to.

first_account := sort(object.keys(irsa.accounts))[0]

deny contains finding if {
	irsa.has_terraform
	some i in account_mismatch
	sa := suspects[i]
	account := first_account
	finding := {
		"at": sa.at,
		"rule": "irsa/account-mismatch",
		"msg": sprintf("ServiceAccount `%s` names a role in account `%s`, but the infra-repo deploys to account `%s`: the role `%s` does not exist there, so pods get no credentials", [sa.name, sa.account, account, sa.role]),
		"help": sprintf("use `arn:aws:iam::%s:role/%s` (check the `accountId` value of this release)", [account, sa.role]),
		"related": [{"at": irsa.accounts[account], "msg": sprintf("the infra-repo's account `%s` is set here", [account])}],
	}
}

account_mismatch contains i if {
	count(irsa.accounts) > 0
	some i, sa in suspects
	not sa.unrendered
	not sa.error
	not irsa.accounts[sa.account]
	known(sa)
}

# The suspects whose role is looked up in the infra-repo (those of `account_mismatch` are
# taken out as a set: a negated lookup per suspect cost as much as the rest of this rule).
joined_suspects := object.remove({i: sa |
	irsa.has_terraform
	some i, sa in suspects
	not sa.unrendered
	not sa.error
}, account_mismatch)

# ---------------------------------------------------------------------------------------------
# irsa/trust-mismatch: the role exists, but its trust does not admit the ServiceAccount.

deny contains finding if {
	some sa in unexplained
	sa.admitted == false
	roles := irsa.roles_named[sa.role]
	every r in roles {
		r.subjects
	}
	role := roles[0]
	# The words and the place to change come from the host (see `mismatch_msg` below).
	finding := {
		"at": sa.mismatch_at,
		"rule": "irsa/trust-mismatch",
		"msg": sa.mismatch_msg,
		"help": sa.mismatch_help,
		# `tenant/namespace-mismatch` when the tenant's own namespace would be trusted: that
		# finding, at the same place, is the root cause, and this one is folded into it.
		"follows": sa.mismatch_follows,
		# Where the ARN is set, the trust, and where the account is named. The host leaves out
		# a label at the finding's own place (then its message says what is named there).
		"related": [
			{"at": sa.at, "msg": "the role ARN comes from here"},
			{"at": role.trust_at, "msg": sa.mismatch_trust_label},
			{"at": sa.named_at, "msg": "the ServiceAccount is named here"},
		],
	}
}

# The joined suspects that no finding on a trust line explains. Why one set difference, made
# once: testing `not shared_by_name[i]` and `not shared_by_namespace[i]` per ServiceAccount in
# the rule above cost 8% of this package's instructions on 2,000 of them.
unexplained := object.remove(joined_suspects, shared_by_name | shared_by_namespace)

# One root cause, one finding: when the namespace is trusted but the account name is not, for
# ServiceAccounts of `shared_min` or more namespaces whose roles' trust is written on the same
# line (a module used by every tenant), that line is what to change. It gets one finding with
# the count and a few names; the ServiceAccounts are not reported one by one.
shared_min := 2

name_mismatch(sa, role) if {
	sa.admitted == false
	not sa.namespace_wrong
	role.trust_at
}

# The joined suspects that a shared-trust finding below explains (by name, by namespace).
shared_by_name contains i if {
	some i, sa in joined_suspects
	not sa.namespace_wrong
	shared_cause(sa, irsa.roles_named[sa.role][0])
}

shared_by_namespace contains i if {
	# Most trees have no such group: then no ServiceAccount is looked at (the test binds
	# nothing, so regorus runs it first). With 2,000 ServiceAccounts in a wrong namespace, each
	# in a group of its own, looking each one's group up was 10% of this package's instructions.
	count(shared_namespace_keys) > 0
	some i, sa in joined_suspects
	sa.namespace_wrong
	shared_namespace_keys[irsa.roles_named[sa.role][0].namespace_key]
}

# The trust lines (with the one namespace they admit) that ServiceAccounts of two or more other
# namespaces use: each gets one finding, below.
shared_namespace_keys contains key if {
	some key, namespaces in namespace_mismatches
	count(namespaces) >= 2
}

# Trust line (its number, a role's `trust`) -> the ServiceAccounts whose mismatch it explains.
name_mismatches[key] contains sprintf("%s:%s", [sa.namespace, sa.name]) if {
	some i, sa in joined_suspects
	not sa.namespace_wrong
	roles := irsa.roles_named[sa.role]
	every r in roles {
		r.subjects
	}
	name_mismatch(sa, roles[0])
	key := roles[0].trust
}

shared_cause(sa, role) if {
	name_mismatch(sa, role)
	count(mismatch_namespaces(name_mismatches[role.trust])) >= shared_min
}

# The namespaces of `namespace:name` accounts.
mismatch_namespaces(accounts) := {split(a, ":")[0] | some a in accounts}

deny contains finding if {
	some key, accounts in name_mismatches
	count(mismatch_namespaces(accounts)) >= shared_min
	# One of them, for the trusted subjects and an example: the first of the first name (the
	# same account may be declared twice, by a chart and a manifest).
	examples := sort([sa |
		some sa in suspects
		sprintf("%s:%s", [sa.namespace, sa.name]) == min(accounts)
		# An account of this name in a namespace the trust does not name is another finding's.
		not sa.namespace_wrong
		irsa.roles_named[sa.role][0].trust == key
	])
	sa := examples[0]
	role := irsa.roles_named[sa.role][0]
	names := sort(accounts)
	shown := array.slice(names, 0, 3)
	more := count(names) - count(shown)
	trusted := sort({sprintf("`%s`", [s.text]) | some s in role.subjects})
	finding := {
		"at": role.trust_at,
		"rule": "irsa/trust-mismatch",
		"msg": sprintf("the trust written here does not admit the ServiceAccounts that use its roles, for %d ServiceAccounts (%s%s): each is in a trusted namespace, but under another name (%s uses role `%s`, which trusts only %s): AssumeRoleWithWebIdentity is denied for all of them", [
			count(names), concat(", ", [sprintf("`%s`", [n]) | some n in shown]), more_text(more), sprintf("`%s`", [min(accounts)]), sa.role, concat(", ", trusted),
		]),
		"help": "make the trusted ServiceAccount name here match the name the chart gives its ServiceAccounts (or rename them in the chart)",
		"related": array.concat(
			[{"at": sa.named_at, "msg": sprintf("`%s` is named here (one of %d)", [min(accounts), count(names)])}],
			[{"at": role.instance_at, "msg": sprintf("%s is instantiated here", [role.address])} | role.instance_at],
		),
	}
}

# The same for a namespace: when ServiceAccounts of two or more namespaces all use roles whose
# trust is written on one line and admits one and the same namespace (a module that trusts
# `pool-1:${var.tenant_id}-consumer` for every tenant), that namespace in the trust is what
# to change, not each tenant's namespace.
namespace_mismatches[key] contains sa.namespace if {
	some sa in joined_suspects
	# Set only when no subject trusted by the roles of its name is in its namespace
	# (`namespace_wrong`), and every one of those roles has a known trust that names one and
	# the same namespace: `[the first role's trust, that namespace]`, the role name's
	# `irsa.trusted_namespace_key` (looked up here by role name, 3% more).
	key := sa.namespace_key
}

deny contains finding if {
	some key in shared_namespace_keys
	namespaces := namespace_mismatches[key]
	examples := sort([sa |
		some sa in suspects
		namespaces[sa.namespace]
		sa.namespace_wrong
		irsa.roles_named[sa.role][0].namespace_key == key
	])
	sa := examples[0]
	role := irsa.roles_named[sa.role][0]
	accounts := sort({sprintf("`%s:%s`", [e.namespace, e.name]) | some e in examples})
	shown := array.slice(accounts, 0, 3)
	trusted := sort({sprintf("`%s`", [s.text]) | some s in role.subjects})
	finding := {
		"at": role.trust_at,
		"rule": "irsa/trust-mismatch",
		"msg": sprintf("the trust written here admits only namespace `%s`, but the ServiceAccounts that use its roles run in %d other namespaces (%s%s; `%s` uses role `%s`, which trusts only %s): AssumeRoleWithWebIdentity is denied for all of them", [
			key[1], count(namespaces), concat(", ", shown), more_text(count(accounts) - count(shown)), sprintf("%s:%s", [sa.namespace, sa.name]), sa.role, concat(", ", trusted),
		]),
		"help": shared_namespace_help(role),
		"related": array.concat(
			[{"at": sa.namespace_at, "msg": sprintf("`%s:%s` runs in namespace `%s` (one of %d)", [sa.namespace, sa.name, sa.namespace, count(examples)])}],
			[{"at": role.instance_at, "msg": sprintf("%s is instantiated here", [role.address])} | role.instance_at],
		),
	}
}

# The help of the finding above. A trust that says `system:serviceaccount:` twice admits
# namespace `system` (a subject's `prefix_twice`, set by the host): the prefix is what to
# change, not the namespace.
shared_namespace_help(role) := "write the entries here without `system:serviceaccount:`: the module puts it before each entry of `namespace_service_accounts`, so with it written here they trust namespace `system`" if {
	doubled_prefix(role)
	role.kind != "aws_iam_role"
} else := "write `system:serviceaccount:` once in the `:sub` values here: with it twice, they trust namespace `system`" if {
	doubled_prefix(role)
} else := "trust each ServiceAccount's own namespace here (the tenant's namespace, e.g. `${var.tenant_id}:...`), or deploy the releases into the trusted namespace"

doubled_prefix(role) if {
	some s in role.subjects
	s.prefix_twice
}

more_text(0) := ""

more_text(n) := sprintf(" and %d more", [n]) if n > 0

# What a trust-mismatch finding about one ServiceAccount says, and where it points, the host
# computes once per ServiceAccount that a role of its name does not admit (`mismatch` in
# `input/irsa.rs`): `sa.mismatch_at` is the end that is wrong (the trust when it says
# `system:serviceaccount:` twice and would admit the account with it once; the namespace when
# no trusted subject is in it; the role ARN when the role trusts another ServiceAccount that
# exists, so this one borrowed its role; else the place that names the account);
# `sa.mismatch_msg` names what the roles trust (every trusted subject once, sorted), with a note
# when a `*` is compared with `StringEquals`, or says they trust no ServiceAccount, or only EKS
# Pod Identity, or that the prefix is written twice; `sa.mismatch_help` says to run as the
# first trusted subject (when a ServiceAccount can be so named) or to trust this one, or to
# write the prefix once;
# `sa.mismatch_trust_label` says what creates the first role, and where. Why there:
# regorus evaluates a function anew on every call, about ten microseconds however short its
# body, and a `sprintf` costs about 13,000 instructions; with many findings these ran once per
# ServiceAccount, and the three functions that were here took a quarter of this package's
# instructions on a generated tree with 1,665 trust mismatches.

# ---------------------------------------------------------------------------------------------
# irsa/role-missing: the ServiceAccount names a role the infra-repo does not create for its
# tenant.

# A prefixed role (`name-<random>`) an ARN's role name may have been meant for: the first prefix
# of the name, cut at a `-` or not at all, that some prefixed role has.
prefixed_match(name) := matches[0] if {
	cuts := array.concat(indexof_n(name, "-"), [count(name)])
	matches := [r |
		some cut in cuts
		some r in irsa.prefixed[substring(name, 0, cut)]
	]
	count(matches) > 0
}

# The ServiceAccounts whose role name no role has, though the infra-repo knows their tenant
# (found once, for the three kinds of finding below).
missing contains {"sa": sa, "tenant": tenant} if {
	some sa in joined_suspects
	not irsa.roles_named[sa.role]
	tenant := sa_tenant(sa)
	# Created by something not modelled (a registry module, a non-IRSA role).
	not irsa.other_role_names[sa.role]
}

deny contains finding if {
	some m in missing
	sa := m.sa
	role := prefixed_match(sa.role)
	finding := {
		"at": sa.at,
		"rule": "irsa/role-missing",
		"msg": sprintf("ServiceAccount `%s` names role `%s`, but Terraform creates `%s-<random suffix>` (%s): its name is not known before apply, so no fixed ARN can match it", [sa.name, sa.role, role.name, prefix_reason(role)]),
		"help": "set `use_name_prefix = false` (v6) or `name` instead of `name_prefix`, or pass the role's `arn` output to the release",
		"related": [{"at": role.at, "msg": sprintf("the role is created here in %s", [role.address])}],
	}
}

prefix_reason(role) := "the v6 IRSA module's `use_name_prefix` defaults to true" if role.v6

prefix_reason(role) := "`name_prefix` is set" if not role.v6

deny contains finding if {
	some m in missing
	sa := m.sa
	tenant := m.tenant
	not prefixed_match(sa.role)
	irsa.complete
	skipped := irsa.skipped[sa.role]
	finding := {
		"at": sa.at,
		"rule": "irsa/role-missing",
		"msg": skipped_message(sa, skipped),
		"help": sprintf("enable the role for tenant `%s` in the infra-repo, or disable the app (and its ServiceAccount) in this release", [tenant]),
		"related": array.concat([{"at": skipped.count_at, "msg": switch_label(skipped.switch)}], cause_related(skipped)),
	}
}

skipped_message(sa, skipped) := sprintf("ServiceAccount `%s` names role `%s`, which Terraform does not create for %s: %s because `%s` is %s", [
	sa.name, sa.role, skipped.address, switched_off(skipped.switch), skipped.cause["var"], skipped.cause.value,
]) if {
	skipped.cause
} else := sprintf("ServiceAccount `%s` names role `%s`, which Terraform does not create for %s: %s", [
	sa.name, sa.role, skipped.address, switched_off(skipped.switch),
])

switched_off(switch) := "its `count` is 0" if {
	switch == "count"
} else := "its `for_each` is empty" if {
	switch == "for_each"
} else := sprintf("its `%s` is false", [switch])

switch_label(switch) := "the role's `count` is 0 for this instance" if {
	switch == "count"
} else := sprintf("the role's `%s` switches it off for this instance", [switch])

cause_related(skipped) := [{"at": skipped.cause.at, "msg": sprintf("`%s` is set here", [skipped.cause["var"]])}] if {
	skipped.cause
} else := []

deny contains finding if {
	some m in missing
	sa := m.sa
	tenant := m.tenant
	not prefixed_match(sa.role)
	irsa.complete
	not irsa.skipped[sa.role]
	finding := {
		"at": sa.at,
		"rule": "irsa/role-missing",
		"msg": sprintf("ServiceAccount `%s` names role `%s`, which the infra-repo does not create for tenant `%s`", [sa.name, sa.role, tenant]),
		"help": missing_help(tenant),
		"related": [{"at": infra_tenant_at(tenant), "msg": sprintf("the infra-repo knows tenant `%s` here", [tenant])}],
	}
}

missing_help(tenant) := sprintf("Terraform creates %s for this tenant; fix the role name in the annotation or create the role", [
	concat(", ", [sprintf("`%s`", [n]) | some n in array.slice(irsa.tenant_roles[tenant], 0, 4)]),
]) if {
	count(irsa.tenant_roles[tenant]) > 0
} else := "create the role in the infra-repo, or fix the role name in the annotation"

# ---------------------------------------------------------------------------------------------
# irsa/unused-role: a role (or Pod Identity association) for a ServiceAccount no release
# creates, in a namespace whose IRSA ServiceAccounts are known.

# A prefixed role is named `<prefix><random>` (v6 adds a `-` between them).
shown_name(role) := role.name if {
	not role.prefixed
} else := sprintf("%s-<random>", [role.name]) if {
	role.v6
} else := sprintf("%s<random>", [role.name])

# The roles of one name, fixed or prefixed.
same_name(name) := array.concat(object.get(irsa.roles_named, name, []), object.get(irsa.prefixed, name, []))

# An earlier role of the same name trusts the same subject: it has the finding.
reported_earlier(role, text) if {
	some other in same_name(role.name)
	other.index < role.index
	some s in other.subjects
	s.text == text
}

# The roles no ServiceAccount's ARN names (one that some ServiceAccount uses and that has a
# wrong subject is irsa/trust-mismatch's).
unnamed_roles contains role if {
	some role in irsa.roles
	role.name
	not irsa.arn_roles[role.name]
}

deny contains finding if {
	part_index == 0
	irsa.has_terraform
	# Terraform creates ServiceAccounts that cannot be placed.
	not irsa.deploys_anywhere
	some role in unnamed_roles
	role.subjects
	some s in role.subjects
	not s.wildcard
	text := s.text
	not irsa.subjects[text]
	not reported_earlier(role, text)
	# The apps side of this namespace is not known: say nothing.
	neighbour := irsa.service_accounts[irsa.namespace_users[s.namespace]]
	# Terraform deploys into this namespace itself (helm_release, ...).
	not irsa.terraform_namespaces[s.namespace]
	finding := {
		"at": role.trust_at,
		"rule": "irsa/unused-role",
		"msg": sprintf("role `%s` (%s) trusts ServiceAccount `%s`, which no release creates: namespace `%s` has IRSA ServiceAccounts, but not `%s`", [shown_name(role), role.address, text, s.namespace, s.service_account]),
		"help": "enable the app for this tenant in the apps-repo, or stop creating the role (its `enable_*` flag) in the infra-repo",
		"related": [
			{"at": role.instance_at, "msg": sprintf("%s is instantiated here", [role.address])},
			{"at": neighbour.named_at, "msg": sprintf("ServiceAccount `%s` of namespace `%s` uses a Terraform role; `%s` is not created", [neighbour.name, s.namespace, s.service_account])},
		],
	}
}

deny contains finding if {
	part_index == 0
	irsa.has_terraform
	some p in irsa.pod_identities
	p.namespace
	p.service_account
	not irsa.deploys_anywhere
	not irsa.terraform_namespaces[p.namespace]
	neighbour := irsa.service_accounts[irsa.namespace_users[p.namespace]]
	not irsa.subjects[sprintf("%s:%s", [p.namespace, p.service_account])]
	finding := {
		"at": p.at,
		"rule": "irsa/unused-role",
		"msg": sprintf("Pod Identity association (%s) gives ServiceAccount `%s:%s` a role, but no release creates that ServiceAccount", [p.address, p.namespace, p.service_account]),
		"help": "associate the ServiceAccount the release runs as, or create it",
		"related": [{"at": neighbour.named_at, "msg": sprintf("ServiceAccount `%s` of namespace `%s` uses a Terraform role; `%s` is not created", [neighbour.name, p.namespace, p.service_account])}],
	}
}

# A Pod Identity association for a namespace where no ServiceAccount is known, while its
# account exists in another namespace: the association names the wrong namespace (EKS matches
# the pair exactly, so the account's pods get no credentials).
deny contains finding if {
	part_index == 0
	irsa.has_terraform
	some p in irsa.pod_identities
	p.namespace
	p.service_account
	not irsa.deploys_anywhere
	not irsa.terraform_namespaces[p.namespace]
	not irsa.account_namespaces[p.namespace]
	elsewhere := irsa.accounts_named[p.service_account]
	not p.namespace in elsewhere.namespaces
	namespaces := concat("`, `", sort(elsewhere.namespaces))
	finding := {
		"at": p.namespace_at,
		"rule": "irsa/unused-role",
		"msg": sprintf("Pod Identity association (%s) gives ServiceAccount `%s:%s` a role, but no release creates that ServiceAccount: `%s` is created in namespace `%s`, which this association does not name", [p.address, p.namespace, p.service_account, p.service_account, namespaces]),
		"help": sprintf("associate the ServiceAccount where it runs (`namespace = \"%s\"`)", [sort(elsewhere.namespaces)[0]]),
		"related": [{"at": elsewhere.at, "msg": sprintf("ServiceAccount `%s` is named here (namespace `%s`)", [p.service_account, namespaces])}],
	}
}

# ---------------------------------------------------------------------------------------------
# irsa/trust-mismatch for EKS Pod Identity: the association's role must trust the agent.

deny contains finding if {
	part_index == 0
	irsa.has_terraform
	some p in irsa.pod_identities
	roles := irsa.roles_named[p.role_name]
	every r in roles {
		r.subjects
		not r.pod_identity
	}
	finding := {
		"at": p.role_at,
		"rule": "irsa/trust-mismatch",
		"msg": sprintf("Pod Identity association (%s) uses role `%s`, but the role does not trust `pods.eks.amazonaws.com`: the Pod Identity agent cannot assume it", [p.address, p.role_name]),
		"help": "trust `Service: pods.eks.amazonaws.com` with actions `sts:AssumeRole` and `sts:TagSession` in the role",
		"related": [{"at": roles[0].trust_at, "msg": "the role's trust policy"}],
	}
}

# ---------------------------------------------------------------------------------------------
# irsa/provider-arn-not-arn: the trust names the OIDC issuer instead of the provider's ARN.

# An expression that yields the issuer URL or host rather than the provider ARN.
issuer_expression(text) if endswith(trim_space(text), ".issuer")

issuer_expression(text) if endswith(trim_space(text), "oidc_issuer_url")

issuer_expression(text) if endswith(trim_space(text), "oidc_issuer")

issuer_expression(text) if {
	t := trim_space(text)
	startswith(t, "module.")
	endswith(t, ".oidc_provider")
}

not_an_arn(p) if {
	is_string(p.value)
	not startswith(p.value, "arn:")
}

not_an_arn(p) if {
	p.unknown
	issuer_expression(p.text)
}

shown_provider(p) := p.value if is_string(p.value)

shown_provider(p) := p.text if not is_string(p.value)

deny contains finding if {
	part_index == 0
	some place in irsa.providers
	wrong := [p | some p in place; not_an_arn(p)]
	count(wrong) > 0
	p := wrong[0]
	finding := {
		"at": p.at,
		"rule": "irsa/provider-arn-not-arn",
		"msg": sprintf("`provider_arn` is `%s`, the cluster's OIDC issuer, not its IAM OIDC provider ARN (`arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>`): the trust policy's Federated principal and `:sub` condition key are wrong, so no ServiceAccount can assume the role", [shown_provider(p)]),
		"help": "pass `module.eks.oidc_provider_arn`, or `data.aws_iam_openid_connect_provider.<name>.arn` (look the provider up by the issuer URL)",
		# Left out by the host when the trust is built where the provider is written.
		"related": [{"at": p.trust_at, "msg": sprintf("the role's trust is built here (%s)", [p.kind])}],
	}
}
