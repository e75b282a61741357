#!/usr/bin/env bash
# Runs this repository's real `.pre-commit-hooks.yaml` through pre-commit (installed from PyPI
# by .ci/run) in a sample apps-repo made here: a commit with a mis-indented tenant file is
# rejected, a clean one passes, and an old problem in a file outside the commit does not block.
#
# The hooks are `language: python`; pre-commit installs them with pip. Two ways, as README
# "pre-commit" documents them:
#
#   PRECOMMIT_WHEEL_DIR=DIR  (what CI runs, after tests/wheel/run.sh built the wheel into DIR)
#       The fast path: a `repo: local` hook with this file's definition and
#       `additional_dependencies: [gitops-lint==VERSION]`. pip runs offline (no index, DIR as
#       its only source), so the binary can only come from the wheel, and `cargo` is a stub that
#       fails if anything tries to compile.
#   unset
#       This repository as the hook repo (a snapshot of this working tree): pre-commit runs
#       `pip install .` in it, which builds the wheel from source with maturin (minutes). The
#       build shares a target directory across runs (target/precommit) and uses a cheap release
#       profile; set PRECOMMIT_TARGET_DIR to move it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
if command -v pre-commit >/dev/null; then
  pc() { pre-commit "$@"; }
elif python3 -c 'import pre_commit' 2>/dev/null; then
  pc() { python3 -m pre_commit "$@"; }
else
  echo "pre-commit is not installed (pip install pre-commit)" >&2
  exit 2
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

export GIT_AUTHOR_NAME=ci GIT_AUTHOR_EMAIL=ci@example.com
export GIT_COMMITTER_NAME=ci GIT_COMMITTER_EMAIL=ci@example.com
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export PRE_COMMIT_HOME="$tmp/pre-commit-home"

wheel_dir="${PRECOMMIT_WHEEL_DIR:-}"
if [ -n "$wheel_dir" ]; then
  wheel_dir="$(cd "$wheel_dir" && pwd)"
  shopt -s nullglob
  wheels=("$wheel_dir"/gitops_lint-*.whl)
  shopt -u nullglob
  [ "${#wheels[@]}" = 1 ] || fail "expected one gitops_lint-*.whl in $wheel_dir, found ${#wheels[@]}"
  version="$(basename "${wheels[0]}" | cut -d- -f2)"
  # pip offline: the wheel directory is the only source, so nothing can come from PyPI, and
  # there is no sdist to compile. The placeholder package pre-commit installs for a local hook
  # is built with the virtualenv's own setuptools instead of one fetched for an isolated build.
  export PIP_NO_INDEX=1 PIP_FIND_LINKS="$wheel_dir" PIP_NO_BUILD_ISOLATION=0
  # Anything that tries to compile finds this cargo.
  mkdir -p "$tmp/stub-bin"
  printf '#!/bin/sh\necho "cargo $*" >>"%s"\nexit 1\n' "$tmp/cargo-called" >"$tmp/stub-bin/cargo"
  chmod +x "$tmp/stub-bin/cargo"
  export PATH="$tmp/stub-bin:$PATH"
  # The sample repo's hook: this repository's definition, from the wheel.
  repo_config="$(python3 - "$repo/.pre-commit-hooks.yaml" "$version" <<'PY'
import json, sys, yaml
hooks = yaml.safe_load(open(sys.argv[1]))
hook = dict(next(h for h in hooks if h["id"] == "gitops-lint"))
assert hook["language"] == "python", hook
hook["additional_dependencies"] = [f"gitops-lint=={sys.argv[2]}"]
print(json.dumps({"repo": "local", "hooks": [hook]}))
PY
)"
  echo "   hook: .pre-commit-hooks.yaml's gitops-lint as a local hook, gitops-lint==$version from ${wheels[0]}"
  # README's local-hook snippets say what .pre-commit-hooks.yaml says.
  python3 - "$repo/README.md" "$repo/.pre-commit-hooks.yaml" <<'PY' || fail "README's local hook differs from .pre-commit-hooks.yaml"
import re, sys, yaml
readme, hooks = open(sys.argv[1]).read(), yaml.safe_load(open(sys.argv[2]))
want = next(h for h in hooks if h["id"] == "gitops-lint")
blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "repo: local" in b]
assert len(blocks) >= 2, f"{len(blocks)} local-hook snippets in README"
for block in blocks:
    hook = block["repos"][0]["hooks"][0]
    for key in ("id", "entry", "language", "pass_filenames", "files", "require_serial"):
        assert hook[key] == want[key], (key, hook[key], want[key])
    assert re.fullmatch(r"gitops-lint==\d+\.\d+\.\d+", hook["additional_dependencies"][0]), hook
PY
else
  export CARGO_TARGET_DIR="${PRECOMMIT_TARGET_DIR:-$repo/target/precommit}"
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false
  # The hook repository: a snapshot of this working tree (tracked and untracked files, not
  # ignored ones), committed, so pre-commit can clone it at a revision.
  hooks="$tmp/hook-repo"
  mkdir -p "$hooks"
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' |
    tar --null -T - -cf -) | (cd "$hooks" && tar -xf -)
  git -C "$hooks" init -q -b main
  git -C "$hooks" add -A
  git -C "$hooks" commit -q -m snapshot
  repo_config="{\"repo\": \"$hooks\", \"rev\": \"$(git -C "$hooks" rev-parse HEAD)\", \"hooks\": [{\"id\": \"gitops-lint\"}]}"
  echo "   hook repo: a snapshot of this working tree (pip builds it from source)"
fi

# 2. A sample apps-repo that uses the hook.
sample="$tmp/apps-repo"
mkdir -p "$sample/tenants/premium"
tenant() { # id syncOptions-block
  cat <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1-premium
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://example.com/charts.git
    chart: helm-tenant-chart
    helm:
      values: |
        tenantId: $1
        apps:
          producer:
            enabled: true
          consumer:
            enabled: true
  destination:
    server: https://kubernetes.default.svc
    namespace: $1
  syncPolicy:
    syncOptions:
$2
YAML
}
good_opts='      - CreateNamespace=true
      - PruneLast=true'
bad_opts='      - CreateNamespace=true
       - PruneLast=true'
tenant tenant-1 "$good_opts" >"$sample/tenants/premium/tenant-1.yaml"
printf 'resources:\n  - tenant-1.yaml\n' >"$sample/tenants/premium/kustomization.yaml"
printf '{"repos": [%s]}\n' "$repo_config" >"$sample/.pre-commit-config.yaml" # JSON is YAML
cd "$sample"
git init -q -b main
pc install >/dev/null

commit() { # message -> exit code of git commit, output in $tmp/out
  set +e
  git commit -q -m "$1" >"$tmp/out" 2>&1
  local code=$?
  set -e
  return $code
}

echo "== clean first commit passes (pre-commit installs the hook here)"
start=$(date +%s%N)
git add -A
commit "tenant-1" || { cat "$tmp/out"; fail "the clean commit was rejected"; }
ms=$((($(date +%s%N) - start) / 1000000))
echo "   hook install + first run took $((ms / 1000)).$(printf '%03d' $((ms % 1000)))s"
grep -q 'Installing environment for' "$tmp/out" || { cat "$tmp/out"; fail "pre-commit did not install the hook on the first commit"; }
if [ -n "$wheel_dir" ]; then
  [ ! -e "$tmp/cargo-called" ] || fail "something compiled: $(cat "$tmp/cargo-called")"
  # The hook's binary is the wheel's, byte for byte.
  shopt -s nullglob
  hook_bins=("$PRE_COMMIT_HOME"/repo*/py_env-*/bin/gitops-lint)
  shopt -u nullglob
  [ "${#hook_bins[@]}" = 1 ] || fail "expected one gitops-lint in the hook's virtualenv, found ${#hook_bins[@]}"
  python3 - "${wheels[0]}" "${hook_bins[0]}" <<'PY' || fail "the hook's gitops-lint is not the wheel's"
import sys, zipfile
wheel, installed = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    name = next(n for n in z.namelist() if n.endswith(".data/scripts/gitops-lint"))
    assert z.read(name) == open(installed, "rb").read()
PY
fi

echo "== a commit with a mis-indented tenant file is rejected"
tenant tenant-2 "$bad_opts" >tenants/premium/tenant-2.yaml
printf 'resources:\n  - tenant-1.yaml\n  - tenant-2.yaml\n' >tenants/premium/kustomization.yaml
git add -A
before="$(git rev-parse HEAD)"
if commit "tenant-2"; then fail "the commit with a mis-indented tenant file passed"; fi
grep -q 'yaml/continued-list-item' "$tmp/out" || { cat "$tmp/out"; fail "no yaml/continued-list-item in the hook output"; }
grep -q 'tenants/premium/tenant-2.yaml:25' "$tmp/out" || { cat "$tmp/out"; fail "finding not at tenant-2.yaml:25"; }
[ "$(git rev-parse HEAD)" = "$before" ] || fail "HEAD moved"

echo "== the fixed commit passes"
tenant tenant-2 "$good_opts" >tenants/premium/tenant-2.yaml
git add -A
commit "tenant-2 fixed" || { cat "$tmp/out"; fail "the fixed commit was rejected"; }

echo "== an old problem outside the commit does not block it"
tenant tenant-3 "$bad_opts" >tenants/premium/tenant-3.yaml
git add -A
git commit -q --no-verify -m "legacy tenant-3"
printf 'resources:\n  - tenant-1.yaml\n  - tenant-2.yaml\n  - tenant-3.yaml\n' >tenants/premium/kustomization.yaml
git add -A
commit "list tenant-3" || { cat "$tmp/out"; fail "an unrelated commit was blocked by tenant-3"; }
echo "== ... but touching that file reports it"
printf '# owner: team-a\n' >>tenants/premium/tenant-3.yaml
git add -A
if commit "touch tenant-3"; then fail "the commit touching tenant-3 passed"; fi
grep -q 'tenants/premium/tenant-3.yaml:25' "$tmp/out" || { cat "$tmp/out"; fail "tenant-3 not reported"; }

echo "pre-commit: all checks passed"
