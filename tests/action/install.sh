#!/usr/bin/env bash
# Runs the action's install steps (action/install.sh, what action.yml's `Download gitops-lint`
# and `Build gitops-lint with cargo` steps run) with the GitHub Actions environment simulated,
# against a fake release served on 127.0.0.1 by `python3 -m http.server`:
#
#   - a good release (the real binary packed by scripts/package-release.sh, as the release
#     workflow packs it, and its SHA256SUMS): downloaded, verified, on PATH, lints the example;
#   - a corrupted asset, a SHA256SUMS without its line, a release without SHA256SUMS: the step
#     fails with an ::error:: and the binary is never run (the corrupted asset is a script that
#     would leave a marker file);
#   - no asset (a branch ref, a 404, a platform without builds): the step says it falls back,
#     and the build step runs the fallback cargo (a stub here, GITOPS_LINT_CARGO) with the
#     arguments action.yml documents;
#   - the release server unreachable: the step fails, and does not silently build instead.
#
# Usage: tests/action/install.sh [path/to/gitops-lint]   (default: target/debug/gitops-lint)
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$repo/target/debug/gitops-lint}"
[ -x "$bin" ] || { echo "no binary at $bin; run cargo build first" >&2; exit 2; }
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"
version="$("$bin" --version | sed -n 's/^gitops-lint //p')"
[ -n "$version" ] || { echo "$bin --version printed no version" >&2; exit 2; }

tmp="$(mktemp -d)"
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
# Release binaries are stripped (pyproject.toml: strip = true); a debug build's 200 MB of debug
# info would only slow the packing and hashing here.
if command -v strip >/dev/null && strip --strip-debug -o "$tmp/gitops-lint" "$bin" 2>/dev/null; then
  bin="$tmp/gitops-lint"
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
contains() { grep -qF -- "$2" "$1" || { echo "--- $1:" >&2; cat "$1" >&2; fail "$1 lacks: $2"; }; }
lacks() { if [ -f "$1" ] && grep -qF -- "$2" "$1"; then echo "--- $1:" >&2; cat "$1" >&2; fail "$1 has: $2"; fi; }

# action.yml: the download step runs first, the cache and the build only for source=build, and
# the lint step runs the binary the install step names.
python3 - "$repo/action.yml" <<'PY' || fail "action.yml does not wire the install steps as expected"
import sys, yaml
steps = yaml.safe_load(open(sys.argv[1]))["runs"]["steps"]
ids = [s.get("id") for s in steps]
install, cache, lint = (steps[ids.index(i)] for i in ("install", "cache", "lint"))
build = next(s for s in steps if s.get("run", "").endswith("install.sh\" build"))
assert ids.index("install") < ids.index("cache") < steps.index(build) < ids.index("lint"), ids
assert install["run"] == 'bash "$GITHUB_ACTION_PATH/action/install.sh" download', install["run"]
assert "if" not in install, "the download step must always run"
for s in (cache, build):
    assert s["if"] == "steps.install.outputs.source == 'build'", s
assert cache["uses"].startswith("actions/cache@"), cache
assert cache["with"]["path"] == "${{ runner.temp }}/gitops-lint-bin", cache
assert "steps.install.outputs.source-key" in cache["with"]["key"], cache
env = install["env"]
assert env["GITOPS_LINT_ACTION_REF"] == "${{ github.action_ref }}", env
assert env["INPUT_VERSION"] == "${{ inputs.version }}", env
assert env["INPUT_DOWNLOAD_BASE"] == "${{ inputs.download-base }}", env
assert lint["env"]["GITOPS_LINT_BIN"] == "${{ steps.install.outputs.bin }}", lint["env"]
PY

# The fallback cargo: records its arguments, and "builds" by copying the real binary where
# `cargo install --root DIR` would put it.
cat >"$tmp/cargo-stub" <<SH
#!/usr/bin/env bash
set -euo pipefail
printf '%s\n' "\$*" >>"$tmp/cargo-calls"
root=
while [ "\$#" -gt 0 ]; do
  if [ "\$1" = --root ]; then root="\$2"; fi
  shift
done
mkdir -p "\$root/bin"
cp "$bin" "\$root/bin/gitops-lint"
SH
chmod +x "$tmp/cargo-stub"

# The releases: good/, bad/ (corrupted asset), noline/ (SHA256SUMS lacks the asset), nosums/.
target=x86_64-unknown-linux-musl # what a Linux X64 runner downloads; this machine's binary stands in
asset="gitops-lint-$version-$target.tar.gz"
rel="$tmp/www"
mkdir -p "$rel/good/v$version" "$rel/bad/v$version" "$rel/noline/v$version" "$rel/nosums/v$version"
bash "$repo/scripts/package-release.sh" archive "$bin" "$version" "$target" "$rel/good/v$version" >/dev/null
bash "$repo/scripts/package-release.sh" archive "$bin" "$version" aarch64-apple-darwin "$rel/good/v$version" >/dev/null
bash "$repo/scripts/package-release.sh" sums "$rel/good/v$version" >/dev/null
[ "$(grep -c " gitops-lint-$version-" "$rel/good/v$version/SHA256SUMS")" = 2 ] || fail "SHA256SUMS should list both archives"
(cd "$rel/good/v$version" && sha256sum --check --quiet SHA256SUMS) || fail "SHA256SUMS does not check"

# The corrupted asset: same name, a gitops-lint that is a script leaving a marker when run.
marker="$tmp/the-corrupted-binary-ran"
mkdir -p "$tmp/evil/gitops-lint-$version-$target"
printf '#!/bin/sh\ntouch "%s"\necho "gitops-lint %s"\n' "$marker" "$version" \
  >"$tmp/evil/gitops-lint-$version-$target/gitops-lint"
chmod +x "$tmp/evil/gitops-lint-$version-$target/gitops-lint"
tar -C "$tmp/evil" -czf "$rel/bad/v$version/$asset" "gitops-lint-$version-$target"
cp "$rel/good/v$version/SHA256SUMS" "$rel/bad/v$version/SHA256SUMS"
# The marker does prove a run: running the corrupted binary once by hand leaves it.
"$tmp/evil/gitops-lint-$version-$target/gitops-lint" >/dev/null
[ -f "$marker" ] || fail "the corrupted binary leaves no marker, so the checks below would prove nothing"
rm -f "$marker"
cp "$rel/good/v$version/$asset" "$rel/noline/v$version/"
grep -vF " $asset" "$rel/good/v$version/SHA256SUMS" >"$rel/noline/v$version/SHA256SUMS"
cp "$rel/good/v$version/$asset" "$rel/nosums/v$version/"

# README's copy-paste check of a release binary accepts the good asset and refuses the bad one.
# shellcheck disable=SC2016 # the README line, with its $version and $target, literally
snippet="$(grep -m1 -F 'grep "  gitops-lint-$version-$target.tar.gz' "$repo/README.md" | sed 's/ *#.*$//')"
[ -n "$snippet" ] || fail "README has no SHA256SUMS check line for a release binary"
(cd "$rel/good/v$version" && eval "$snippet" >/dev/null) || fail "README's check refuses the good asset: $snippet"
if (cd "$rel/bad/v$version" && eval "$snippet" >/dev/null 2>&1); then fail "README's check accepts the corrupted asset"; fi
if (cd "$rel/noline/v$version" && eval "$snippet" >/dev/null 2>&1); then fail "README's check accepts an asset without a checksum line"; fi

# Serve them on a free loopback port (the server prints the port it got).
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$rel" >"$tmp/server.out" 2>"$tmp/server.log" &
server_pid=$!
port=
for _ in $(seq 100); do
  port="$(sed -n 's/.*port \([0-9][0-9]*\).*/\1/p' "$tmp/server.out" | head -n1)"
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || fail "http.server did not start: $(cat "$tmp/server.out" "$tmp/server.log")"
url="http://127.0.0.1:$port"

# One simulated run of `install.sh MODE` in a fresh runner; NAME=VALUE arguments override.
# Leaves $tmp/stdout, $tmp/stderr, $tmp/code; the runner files in $runner.
runner="$tmp/runner"
step() {
  local mode="$1"
  shift
  (
    cd "$repo"
    export GITHUB_ACTIONS=true GITHUB_ACTION_PATH="$repo" GITHUB_WORKSPACE="$repo" \
      RUNNER_OS=Linux RUNNER_ARCH=X64 RUNNER_TEMP="$runner" \
      GITHUB_PATH="$runner/path" GITHUB_OUTPUT="$runner/output" \
      GITOPS_LINT_ACTION_REF="v$version" GITOPS_LINT_ACTION_REPOSITORY=acme/gitops-lint \
      INPUT_VERSION='' INPUT_DOWNLOAD_BASE='' GITOPS_LINT_DOWNLOAD_BASE="$url/good" \
      GITOPS_LINT_CARGO="$tmp/cargo-stub"
    for kv in "$@"; do export "${kv?}"; done
    set +e
    bash "$repo/action/install.sh" "$mode" >"$tmp/stdout" 2>"$tmp/stderr"
    echo $? >"$tmp/code"
  )
}
fresh() { rm -rf "$runner" "$tmp/cargo-calls" && mkdir -p "$runner"; }
code() { cat "$tmp/code"; }
out() { sed -n "s/^$1=//p" "$runner/output" 2>/dev/null | tail -n1; }

echo "== a release tag: the asset is downloaded, verified, put on PATH; it lints the example"
fresh
start=$(date +%s%N)
step download
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
[ "$(code)" = 0 ] || fail "install exited $(code): $(cat "$tmp/stdout" "$tmp/stderr")"
contains "$tmp/stdout" "sha256 $(sha256sum "$rel/good/v$version/$asset" | cut -d' ' -f1) verified against SHA256SUMS"
contains "$tmp/stdout" "gitops-lint $version installed from $asset"
[ "$(out source)" = download ] || fail "source=$(out source), expected download"
[ "$(out version)" = "$version" ] || fail "version=$(out version)"
[ "$(out bin)" = "$runner/gitops-lint-bin/bin/gitops-lint" ] || fail "bin=$(out bin)"
[ "$(cat "$runner/path")" = "$runner/gitops-lint-bin/bin" ] || fail "GITHUB_PATH: $(cat "$runner/path")"
cmp -s "$bin" "$runner/gitops-lint-bin/bin/gitops-lint" || fail "the installed binary is not the released one"
[ ! -e "$tmp/cargo-calls" ] || fail "cargo ran although the asset exists"
grep -q "GET /good/v$version/$asset HTTP/1.[01]\" 200" "$tmp/server.log" || fail "no GET of the asset: $(cat "$tmp/server.log")"
grep -q "GET /good/v$version/SHA256SUMS HTTP/1.[01]\" 200" "$tmp/server.log" || fail "no GET of SHA256SUMS"
echo "   download + verify + extract took ${elapsed_ms} ms"
# Later steps of the job find it on PATH (the runner prepends GITHUB_PATH's lines).
set +e
PATH="$(cat "$runner/path"):$PATH" gitops-lint fixtures/example/apps-repo fixtures/example/infra-repo \
  --no-color >"$tmp/lint.out" 2>&1
lint_code=$?
set -e
[ "$lint_code" = 1 ] || fail "the installed gitops-lint exited $lint_code on the example, expected 1: $(cat "$tmp/lint.out")"
contains "$tmp/lint.out" 'error[tenant/namespace-mismatch]'
# And the lint step runs it through action.yml's GITOPS_LINT_BIN (steps.install.outputs.bin).
set +e
(cd "$repo" && GITOPS_LINT_BIN="$(out bin)" INPUT_PATHS=fixtures/example/apps-repo \
  INPUT_INFRA_PATH=fixtures/example/infra-repo GITHUB_OUTPUT="$runner/lint-output" \
  bash action/run.sh >"$tmp/lint.out" 2>&1)
set -e
contains "$runner/lint-output" 'exit-code=1'
contains "$tmp/lint.out" '::error file=fixtures/example/apps-repo/tenants/premium/tenant-55.yaml,line=37'

echo "== the version input picks the release, whatever the ref (here a branch)"
fresh
step download GITOPS_LINT_ACTION_REF=main INPUT_VERSION="v$version"
[ "$(code)" = 0 ] || fail "install exited $(code): $(cat "$tmp/stdout")"
[ "$(out source)" = download ] || fail "source=$(out source)"
cmp -s "$bin" "$runner/gitops-lint-bin/bin/gitops-lint" || fail "the installed binary is not the released one"
step download INPUT_VERSION=latest
[ "$(code)" = 1 ] || fail "version=latest was accepted"
contains "$tmp/stdout" "::error title=gitops-lint install::input version must be a release such as 0.3.0"

echo "== the download-base input wins over GITOPS_LINT_DOWNLOAD_BASE; macOS arm64 picks its own asset"
fresh
step download INPUT_DOWNLOAD_BASE="$url/good/" GITOPS_LINT_DOWNLOAD_BASE="$url/nowhere" \
  RUNNER_OS=macOS RUNNER_ARCH=ARM64
[ "$(code)" = 0 ] || fail "install exited $(code): $(cat "$tmp/stdout")"
grep -q "GET /good/v$version/gitops-lint-$version-aarch64-apple-darwin.tar.gz HTTP/1.[01]\" 200" "$tmp/server.log" ||
  fail "no GET of the macOS arm64 asset"
if grep -q "GET /nowhere/" "$tmp/server.log"; then fail "GITOPS_LINT_DOWNLOAD_BASE was used over the input"; fi

check_refused() { # what: the step failed, said why, and ran nothing
  [ "$(code)" = 1 ] || fail "$1: install exited $(code), expected 1: $(cat "$tmp/stdout")"
  [ ! -e "$marker" ] || fail "$1: the downloaded binary was run"
  [ ! -e "$runner/gitops-lint-bin/bin/gitops-lint" ] || fail "$1: a binary was installed"
  [ ! -s "$runner/path" ] || fail "$1: something was put on PATH: $(cat "$runner/path")"
  [ ! -e "$tmp/cargo-calls" ] || fail "$1: fell back to building"
  lacks "$runner/output" "source="
}

echo "== a corrupted asset: the step fails with ::error::, the binary is never run"
fresh
step download GITOPS_LINT_DOWNLOAD_BASE="$url/bad"
check_refused "checksum mismatch"
contains "$tmp/stdout" "::error title=gitops-lint install::checksum mismatch for $asset: SHA256SUMS says $(sha256sum "$rel/good/v$version/$asset" | cut -d' ' -f1), the download is $(sha256sum "$rel/bad/v$version/$asset" | cut -d' ' -f1)"

echo "== SHA256SUMS without the asset's line: refused"
fresh
step download GITOPS_LINT_DOWNLOAD_BASE="$url/noline"
check_refused "no checksum line"
contains "$tmp/stdout" "::error title=gitops-lint install::SHA256SUMS of release v$version has no checksum for $asset"

echo "== a release without SHA256SUMS: refused"
fresh
step download GITOPS_LINT_DOWNLOAD_BASE="$url/nosums"
check_refused "no SHA256SUMS"
contains "$tmp/stdout" "::error title=gitops-lint install::release v$version has no SHA256SUMS"

echo "== the release server unreachable: the step fails, it does not build instead"
fresh
python3 - "$tmp/closed-port" <<'PY'
import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); open(sys.argv[1], "w").write(str(s.getsockname()[1])); s.close()
PY
step download GITOPS_LINT_DOWNLOAD_BASE="http://127.0.0.1:$(cat "$tmp/closed-port")"
check_refused "unreachable"
contains "$tmp/stdout" "::error title=gitops-lint install::cannot download http://127.0.0.1:"

check_fallback() { # why-in-the-log: the download step chose the source build, and the build step ran the stub
  [ "$(code)" = 0 ] || fail "install exited $(code): $(cat "$tmp/stdout")"
  contains "$tmp/stdout" "::notice title=gitops-lint install::$1; falling back to building from source with cargo install"
  [ "$(out source)" = build ] || fail "source=$(out source), expected build"
  [[ "$(out source-key)" =~ ^[0-9a-f]{64}$ ]] || fail "source-key=$(out source-key)"
  [ ! -e "$runner/gitops-lint-bin" ] || fail "the download step installed something"
  [ ! -e "$tmp/cargo-calls" ] || fail "the download step ran cargo"
  step build
  [ "$(code)" = 0 ] || fail "build exited $(code): $(cat "$tmp/stdout" "$tmp/stderr")"
  contains "$tmp/stdout" "building gitops-lint from $repo with $tmp/cargo-stub install (no release asset)"
  [ "$(cat "$tmp/cargo-calls")" = "install --locked --root $runner/gitops-lint-bin --path $repo" ] ||
    fail "cargo was called as: $(cat "$tmp/cargo-calls")"
  [ "$(cat "$runner/path")" = "$runner/gitops-lint-bin/bin" ] || fail "GITHUB_PATH: $(cat "$runner/path")"
  "$runner/gitops-lint-bin/bin/gitops-lint" --version >/dev/null
}

echo "== a branch ref: no download, the build step builds from source"
fresh
requests="$(grep -c "GET /" "$tmp/server.log")"
step download GITOPS_LINT_ACTION_REF=main
[ "$(grep -c "GET /" "$tmp/server.log")" = "$requests" ] || fail "a branch ref made a download request"
key="$(out source-key)"
check_fallback "the action's ref 'main' is not a release tag (vX.Y.Z) and no version input is set"

echo "== ... a second job restores the cache (the binary is there): cargo does not run again"
rm -f "$tmp/cargo-calls"
step build
[ "$(code)" = 0 ] || fail "build exited $(code)"
contains "$tmp/stdout" "restored from the cache of an earlier source build: gitops-lint $version"
[ ! -e "$tmp/cargo-calls" ] || fail "cargo ran although the cache restored the binary"

echo "== ... the cache key follows the sources: same tree, same key; a changed source, another key"
fresh
step download GITOPS_LINT_ACTION_REF=main
[ "$(out source-key)" = "$key" ] || fail "the source key changed without a change"
mkdir -p "$tmp/src-copy"
(cd "$repo" && cp -r Cargo.toml Cargo.lock src crates rules policies schemas "$tmp/src-copy/")
fresh
step download GITOPS_LINT_ACTION_REF=main GITHUB_ACTION_PATH="$tmp/src-copy"
[ "$(out source-key)" = "$key" ] || fail "a copy of the same sources has another key"
echo "// changed" >>"$tmp/src-copy/src/main.rs"
fresh
step download GITOPS_LINT_ACTION_REF=main GITHUB_ACTION_PATH="$tmp/src-copy"
[ "$(out source-key)" != "$key" ] || fail "the source key did not change with the sources"

echo "== a release without an asset (HTTP 404): falls back"
fresh
step download GITOPS_LINT_ACTION_REF=v0.0.1
check_fallback "release v0.0.1 has no asset gitops-lint-0.0.1-$target.tar.gz ($url/good/v0.0.1/gitops-lint-0.0.1-$target.tar.gz: HTTP 404)"

echo "== a commit SHA ref, and a runner without builds (Linux ARM): fall back"
fresh
step download GITOPS_LINT_ACTION_REF=0123456789abcdef0123456789abcdef01234567
check_fallback "the action's ref '0123456789abcdef0123456789abcdef01234567' is not a release tag (vX.Y.Z) and no version input is set"
fresh
step download RUNNER_ARCH=ARM
check_fallback "no release asset is built for Linux/ARM"

echo "== the default download base: \$GITHUB_SERVER_URL/<action repository>/releases/download"
# GITHUB_SERVER_URL points at the good release server here, so the default URL is really fetched.
fresh
step download GITOPS_LINT_DOWNLOAD_BASE= GITOPS_LINT_ACTION_REPOSITORY=acme/gitops-lint GITHUB_SERVER_URL="$url"
[ "$(code)" = 0 ] && [ "$(out source)" = build ] || fail "install exited $(code), source=$(out source): a 404 falls back"
contains "$tmp/stdout" "gitops-lint $version for Linux/X64: $url/acme/gitops-lint/releases/download/v$version/$asset"
grep -q "GET /acme/gitops-lint/releases/download/v$version/$asset HTTP/1.[01]\" 404" "$tmp/server.log" ||
  fail "the default URL was not requested"
mkdir -p "$rel/acme/gitops-lint/releases/download"
cp -r "$rel/good/v$version" "$rel/acme/gitops-lint/releases/download/"
fresh
step download GITOPS_LINT_DOWNLOAD_BASE= GITOPS_LINT_ACTION_REPOSITORY=acme/gitops-lint GITHUB_SERVER_URL="$url"
[ "$(code)" = 0 ] || fail "install from the default URL exited $(code): $(cat "$tmp/stdout")"
[ "$(out source)" = download ] || fail "source=$(out source)"
echo "== ... with github.action_repository empty (actions/runner#2473), the repository comes from the action's path"
mkdir -p "$tmp/_actions/acme/gitops-lint/v$version"
fresh
step download GITOPS_LINT_DOWNLOAD_BASE= GITOPS_LINT_ACTION_REPOSITORY= GITHUB_SERVER_URL="$url" \
  GITHUB_ACTION_PATH="$tmp/_actions/acme/gitops-lint/v$version"
[ "$(code)" = 0 ] || fail "install exited $(code): $(cat "$tmp/stdout")"
contains "$tmp/stdout" "$url/acme/gitops-lint/releases/download/v$version/$asset"

echo "action install: all checks passed"
