#!/usr/bin/env bash
# The PyPI package, as the release workflow builds it (maturin, pinned, from PyPI):
#
#   1. the wheel: `maturin build --locked`, a bin wheel named for Cargo.toml's version;
#   2. the sdist: `maturin sdist`, which must carry everything the build embeds (rule pages,
#      policies, schemas live outside every crate) and none of the fixtures; pip builds it, and
#      the binary it gives has the same rule catalog and findings as the wheel's;
#   3. the wheel installed from the local file into a fresh virtualenv: `gitops-lint` is on the
#      venv's PATH, says its version, has the full rule catalog and lints the example;
#   4. pre-commit installing the hook from that wheel (tests/precommit/run.sh with
#      PRECOMMIT_WHEEL_DIR), offline and without compiling.
#
# WHEEL_PROFILE (default dev) is the cargo profile: CI builds with dev to reuse the target/debug
# that `cargo test` built (a release build would add ~20 minutes on 2 cores); the release
# workflow builds --release from the same pyproject.toml.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$repo"
profile="${WHEEL_PROFILE:-dev}"
maturin_version=1.16.0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%03ds' $(($1 / 1000)) $(($1 % 1000)); }
# pip must not look anywhere but where each step says (the machine may set PIP_FIND_LINKS).
unset PIP_FIND_LINKS PIP_NO_INDEX

version="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version = "\(.*\)"/\1/p' Cargo.toml)"
[ -n "$version" ] || fail "no version in Cargo.toml [workspace.package]"

echo "== maturin $maturin_version (PyPI) in target/wheel-tools"
tools="$repo/target/wheel-tools"
if ! "$tools/bin/maturin" --version 2>/dev/null | grep -qx "maturin $maturin_version"; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$maturin_version"
fi

echo "== the wheel: maturin build --locked --profile $profile"
out="$repo/target/wheel-dist"
rm -rf "$out" && mkdir -p "$out"
start=$(now_ms)
"$tools/bin/maturin" build --locked --profile "$profile" --out "$out" 2>&1 | tail -n 3
echo "   built in $(secs $(($(now_ms) - start)))"
shopt -s nullglob
wheels=("$out"/gitops_lint-*.whl)
shopt -u nullglob
[ "${#wheels[@]}" = 1 ] || fail "expected one wheel in $out, found ${#wheels[@]}"
wheel="${wheels[0]}"
[[ "$(basename "$wheel")" == "gitops_lint-$version-py3-none-"*.whl ]] ||
  fail "wheel $(basename "$wheel") is not gitops_lint-$version-py3-none-<platform>.whl"
python3 - "$wheel" "$version" <<'PY' || fail "the wheel's contents or metadata are wrong"
import sys, zipfile
wheel, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    names = z.namelist()
    meta = z.read(f"gitops_lint-{version}.dist-info/METADATA").decode()
# A bin wheel: the binary as a script, no Python package.
assert f"gitops_lint-{version}.data/scripts/gitops-lint" in names, names
assert not [n for n in names if n.endswith(".py")], names
for line in ("Name: gitops-lint", f"Version: {version}", "License-Expression: Apache-2.0",
             "Requires-Python: >=3.8", "Summary: A fast policy linter and CI gate for GitOps"):
    assert line in meta, line
PY

echo "== the sdist carries what the build embeds, and no fixtures"
mkdir -p "$tmp/sdist"
"$tools/bin/maturin" sdist --out "$tmp/sdist" 2>&1 | tail -n 1
sdist="$tmp/sdist/gitops_lint-$version.tar.gz"
[ -f "$sdist" ] || fail "no $sdist"
tar -tzf "$sdist" | sed "s#^gitops_lint-$version/##" | sort >"$tmp/sdist.txt"
# What crates/core/build.rs and crates/rules/build.rs read, and every file an `include_str!` or
# `include_bytes!` of the sources names (found here, so that a new embedded file cannot be
# forgotten in pyproject.toml's include list).
{
  git ls-files 'rules/*.md' 'policies/*.rego'
  grep -rEo --include='*.rs' 'include_(str|bytes)!\("[^"]+"\)' crates src |
    while IFS=: read -r file m; do
      rel=${m#*(\"}
      rel=${rel%\")}
      realpath --relative-to=. -m "$(dirname "$file")/$rel"
    done
  printf '%s\n' Cargo.toml Cargo.lock pyproject.toml src/main.rs
  for c in crates/*/Cargo.toml; do echo "$c"; done
} | sort -u >"$tmp/needed.txt"
missing="$(comm -23 "$tmp/needed.txt" "$tmp/sdist.txt")"
[ -z "$missing" ] || fail "the sdist lacks files the build needs: $missing"
extra="$(grep -E '^(fixtures|tests|examples|target)/' "$tmp/sdist.txt" | head -n 3 || true)"
[ -z "$extra" ] || fail "the sdist carries files no build needs: $extra"
echo "   $(wc -l <"$tmp/sdist.txt") files, $(($(wc -c <"$sdist") / 1024)) KiB"

echo "== pip builds the sdist (PEP 517, as on a platform without a wheel): the same binary comes out"
# Reuses target/ for the dependencies; the workspace crates compile again from the sdist's copy.
python3 -m venv "$tmp/from-sdist"
"$tmp/from-sdist/bin/python" -m pip install --quiet --disable-pip-version-check "maturin==$maturin_version"
start=$(now_ms)
# Without build isolation pip does not put the build tools on PATH, and maturin's PEP 517
# backend runs the `maturin` executable by name: the venv's bin goes first.
PATH="$tmp/from-sdist/bin:$PATH" CARGO_TARGET_DIR="$repo/target" MATURIN_PEP517_ARGS="--profile $profile" \
  "$tmp/from-sdist/bin/python" -m pip install --quiet --disable-pip-version-check --no-index \
  --no-build-isolation "$sdist"
echo "   built and installed from the sdist in $(secs $(($(now_ms) - start)))"
from_sdist="$tmp/from-sdist/bin/gitops-lint"
[ "$("$from_sdist" --version)" = "gitops-lint $version" ] || fail "the sdist's build says $("$from_sdist" --version)"

echo "== pip install of the wheel file into a fresh virtualenv"
python3 -m venv "$tmp/venv"
start=$(now_ms)
"$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
echo "   pip install took $(secs $(($(now_ms) - start)))"
installed="$tmp/venv/bin/gitops-lint"
[ -x "$installed" ] || fail "no gitops-lint in the venv's bin"
[ "$("$installed" --version)" = "gitops-lint $version" ] || fail "--version says $("$installed" --version)"
[ "$(PATH="$tmp/venv/bin:/usr/bin:/bin" command -v gitops-lint)" = "$installed" ] || fail "gitops-lint is not on the venv's PATH"
rules="$("$installed" rules | wc -l)"
[ "$rules" -gt 50 ] || fail "the wheel's binary lists $rules rules"
set +e
"$installed" --no-color fixtures/example/apps-repo fixtures/example/infra-repo >"$tmp/lint.out" 2>&1
code=$?
set -e
[ "$code" = 1 ] || fail "the wheel's gitops-lint exited $code on the example: $(head -n 20 "$tmp/lint.out")"
grep -qF 'error[tenant/namespace-mismatch]' "$tmp/lint.out" || fail "no tenant/namespace-mismatch finding"
# The sdist's build has every rule page and policy: the same catalog, the same findings.
[ "$("$from_sdist" rules)" = "$("$installed" rules)" ] || fail "the sdist's build lists other rules than the wheel's"
for b in "$installed" "$from_sdist"; do
  "$b" --format json fixtures/example/apps-repo fixtures/example/infra-repo >"$tmp/$(basename "$(dirname "$(dirname "$b")")").json" || true
done
cmp -s "$tmp/venv.json" "$tmp/from-sdist.json" || fail "the sdist's build finds other things in the example than the wheel's"

echo "== pre-commit installs the hook from the wheel"
PRECOMMIT_WHEEL_DIR="$out" bash "$repo/tests/precommit/run.sh"

echo "wheel: all checks passed"
