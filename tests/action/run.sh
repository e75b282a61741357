#!/usr/bin/env bash
# Runs the action's lint step (action/run.sh, what action.yml's `Lint` step runs) with the
# GitHub Actions environment simulated, against the bundled example, and checks the
# annotations, the job summary, the step outputs and the SARIF file.
#
# Usage: tests/action/run.sh [path/to/gitops-lint]   (default: target/debug/gitops-lint)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$repo/target/debug/gitops-lint}"
[ -x "$bin" ] || { echo "no binary at $bin; run cargo build first" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
contains() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$1 lacks: $2"; }; }

# action.yml declares the inputs the issue names and hands each to the step.
for input in paths infra-path config fail-on format sarif-file version; do
  grep -qE "^  $input:" "$repo/action.yml" || fail "action.yml has no input $input"
done
for var in INPUT_PATHS INPUT_INFRA_PATH INPUT_CONFIG INPUT_FAIL_ON INPUT_FORMAT INPUT_SARIF_FILE; do
  grep -q "$var: \${{ inputs\." "$repo/action.yml" || fail "action.yml does not pass $var"
done
grep -q 'run: bash "$GITHUB_ACTION_PATH/action/run.sh"' "$repo/action.yml" || fail "action.yml does not run action/run.sh"
if python3 -c 'import yaml' 2>/dev/null; then
  python3 - "$repo/action.yml" <<'PY'
import sys, yaml
a = yaml.safe_load(open(sys.argv[1]))
assert a["runs"]["using"] == "composite", a["runs"]
assert all("shell" in s for s in a["runs"]["steps"] if "run" in s), "every run step needs a shell"
PY
fi

# One simulated step run: fresh GitHub files, inputs from the arguments (NAME=VALUE).
step() {
  rm -rf "$tmp/runner" && mkdir -p "$tmp/runner"
  (
    cd "$repo"
    export GITHUB_ACTIONS=true GITHUB_WORKSPACE="$repo" GITHUB_ACTION_PATH="$repo" \
      RUNNER_TEMP="$tmp/runner" GITHUB_STEP_SUMMARY="$tmp/runner/summary.md" \
      GITHUB_OUTPUT="$tmp/runner/output" GITOPS_LINT_BIN="$bin" \
      INPUT_PATHS=. INPUT_INFRA_PATH= INPUT_CONFIG= INPUT_FAIL_ON=error INPUT_FORMAT=github \
      INPUT_SARIF_FILE=
    for kv in "$@"; do export "${kv?}"; done
    set +e
    bash "$repo/action/run.sh" >"$tmp/stdout" 2>"$tmp/stderr"
    echo $? >"$tmp/code"
  )
}

echo "== the example pair: eight errors and three warnings (fixtures/example/expected.txt explains each)"
step INPUT_PATHS=fixtures/example/apps-repo INPUT_INFRA_PATH=fixtures/example/infra-repo \
  INPUT_SARIF_FILE="$tmp/results.sarif"
[ "$(cat "$tmp/code")" = 1 ] || fail "exit code $(cat "$tmp/code"), expected 1: $(cat "$tmp/stderr")"
[ "$(grep -c '^::error ' "$tmp/stdout")" = 8 ] || fail "expected 8 ::error lines: $(cat "$tmp/stdout")"
[ "$(grep -c '^::warning ' "$tmp/stdout")" = 3 ] || fail "expected 3 ::warning lines: $(cat "$tmp/stdout")"
contains "$tmp/stdout" '::error file=fixtures/example/apps-repo/tenants/premium/tenant-55.yaml,line=37,col=16,endLine=37,endColumn=24,title=tenant/namespace-mismatch::namespace `tenant-5` does not match tenantId `tenant-55`'
contains "$tmp/stdout" '::error file=fixtures/example/apps-repo/platform/kustomization.yaml,line=8,col=4,endLine=8,endColumn=19,title=yaml/continued-list-item::'
contains "$tmp/stdout" '::error file=fixtures/example/apps-repo/tenants/premium/tenant-4.yaml,line=32,col=22,endLine=32,endColumn=27,title=tier/app-enablement::'
contains "$tmp/stdout" '%0Ahelp: deploy to namespace `tenant-55`'
# Most important first: the tenant rules, then the rest.
head -n1 "$tmp/stdout" | grep -q 'title=tier/app-enablement' || fail "first annotation is not a tier rule: $(head -n1 "$tmp/stdout")"
S="$tmp/runner/summary.md"
contains "$S" '## gitops-lint'
contains "$S" '8 errors, 3 warnings, 0 info in 34 files.'
# tenant-55's trust mismatches are folded into its namespace finding (one root cause).
contains "$S" '| `tenant/namespace-mismatch` | 1 | 0 | 0 |'
if grep -qF 'irsa/trust-mismatch`' "$S"; then fail "irsa/trust-mismatch has a row of its own: $(cat "$S")"; fi
contains "$S" '| `irsa/unused-role` | 0 | 1 | 0 |'
contains "$S" '| Rule | Errors | Warnings | Info |'
contains "$S" '| `yaml/continued-list-item` | 1 | 0 | 0 |'
contains "$S" '| `argocd/appset-path-matches-nothing` | 1 | 0 | 0 |'
contains "$S" '| Tenant | Tier | Errors | Warnings | Info |'
contains "$S" '| tenant-4 | premium | 1 | 0 | 0 |'
contains "$S" '| tenant-55 | premium | 1 | 0 | 0 |'
contains "$S" '| (tier template) | advanced | 1 | 0 | 0 |'
contains "$S" '| `kustomize/missing-resource` | 1 | 0 | 0 |'
contains "$S" '| (not in a tenant file) | | 5 | 1 | 0 |'
if grep -q 'more not annotated' "$S"; then fail "nothing should be left unannotated"; fi
contains "$tmp/runner/output" 'exit-code=1'
contains "$tmp/runner/output" "sarif-file=$tmp/results.sarif"
python3 - "$tmp/results.sarif" <<'PY' || fail "bad SARIF"
import json, sys
log = json.load(open(sys.argv[1]))
assert log["version"] == "2.1.0"
results = log["runs"][0]["results"]
assert len(results) == 11, len(results)
PY

echo "== more than ten errors: ten annotated, the summary counts the rest"
mkdir -p "$tmp/many/platform"
{
  printf 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n'
  for _ in $(seq 12); do printf '  - a.yaml\n   - b.yaml\n'; done
} >"$tmp/many/platform/kustomization.yaml"
step INPUT_PATHS="$tmp/many"
[ "$(cat "$tmp/code")" = 1 ] || fail "exit code $(cat "$tmp/code")"
[ "$(grep -c '^::error ' "$tmp/stdout")" = 10 ] || fail "expected 10 ::error lines"
contains "$tmp/stdout" '14 more findings are not annotated'
contains "$tmp/runner/summary.md" '**14 more not annotated:**'
contains "$tmp/runner/summary.md" '| `yaml/continued-list-item` | 12 | 0 | 0 |'

echo "== human log format: diagnostics in the log, annotations still emitted"
step INPUT_PATHS="fixtures/example/apps-repo fixtures/example/infra-repo" INPUT_FORMAT=human
[ "$(cat "$tmp/code")" = 1 ] || fail "exit code $(cat "$tmp/code")"
contains "$tmp/stdout" 'error[tenant/namespace-mismatch]'
[ "$(grep -c '^::error ' "$tmp/stdout")" = 8 ] || fail "expected 8 ::error lines with format human (the example has eight errors)"

echo "== a clean repository passes"
step INPUT_PATHS=fixtures/rules/yaml/continued-list-item/pass/apps-repo
[ "$(cat "$tmp/code")" = 0 ] || fail "exit code $(cat "$tmp/code"): $(cat "$tmp/stdout")"
if grep -q '^::' "$tmp/stdout"; then fail "annotations on a clean repo"; fi
contains "$tmp/runner/summary.md" 'No findings in'
contains "$tmp/runner/output" 'exit-code=0'

echo "== fail-on warning and a bad config"
printf 'rules:\n  yaml/continued-list-item: warning\n' >"$tmp/cfg.yaml"
step INPUT_PATHS=fixtures/example/apps-repo INPUT_CONFIG="$tmp/cfg.yaml" INPUT_FAIL_ON=warning
[ "$(cat "$tmp/code")" = 1 ] || fail "exit code $(cat "$tmp/code")"
contains "$tmp/stdout" '::warning file=fixtures/example/apps-repo/platform/kustomization.yaml,line=8'
printf 'rules: [oops]\n' >"$tmp/bad.yaml"
step INPUT_CONFIG="$tmp/bad.yaml"
[ "$(cat "$tmp/code")" = 2 ] || fail "exit code $(cat "$tmp/code") for a bad config"
contains "$tmp/stderr" 'bad.yaml:1: `rules`'

echo "action: all checks passed"
