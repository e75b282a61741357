#!/usr/bin/env bash
# The action's install steps (action.yml runs them; tests/action/install.sh runs them with the
# GitHub environment simulated and a local release server).
#
#   install.sh download   Find the release for the action's ref (or the `version` input), pick
#                         the asset for RUNNER_OS/RUNNER_ARCH, download it and SHA256SUMS, verify
#                         the checksum, extract, and only then put the binary on PATH.
#                         Writes source=download, or source=build when no asset exists (a branch
#                         or commit ref, a platform without an asset, an HTTP 404), to
#                         $GITHUB_OUTPUT. A checksum mismatch, a missing checksum or a failed
#                         download fails the step; the binary is never run then.
#   install.sh build      The fallback: `cargo install --locked --path "$GITHUB_ACTION_PATH"`,
#                         unless action.yml's cache step restored the binary already.
#
# Environment (action.yml sets these from the action's inputs and the github context):
#   INPUT_VERSION                  the `version` input: a release such as 0.3.0 or v0.3.0
#   GITOPS_LINT_ACTION_REF         github.action_ref (v0.3.0, main, a commit SHA, or empty)
#   GITOPS_LINT_ACTION_REPOSITORY  github.action_repository (owner/name)
#   INPUT_DOWNLOAD_BASE            the `download-base` input, or else
#   GITOPS_LINT_DOWNLOAD_BASE      (e.g. set in the workflow's env) the releases URL; the asset is
#                                  <base>/v<version>/<asset>
#                                  (default: $GITHUB_SERVER_URL/<owner/name>/releases/download)
#   GITOPS_LINT_CARGO              the cargo of the fallback build (default: cargo)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_ACTION_PATH, GITHUB_PATH, GITHUB_OUTPUT
set -euo pipefail

mode="${1:-download}"
dir="${RUNNER_TEMP:?RUNNER_TEMP is not set}/gitops-lint-bin"
exe=gitops-lint
if [ "${RUNNER_OS:-}" = Windows ]; then exe=gitops-lint.exe; fi
bin="$dir/bin/$exe"

output() { # NAME=VALUE for the step's outputs
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "$1" >>"$GITHUB_OUTPUT"; fi
}
fail() { # message: an error annotation, and the step fails
  echo "::error title=gitops-lint install::$*"
  exit 1
}
sha256() { # FILE -> lowercase hex digest (download() checks that one of the two exists)
  if command -v sha256sum >/dev/null; then
    sha256sum -- "$1" | cut -d' ' -f1
  else
    shasum -a 256 -- "$1" | cut -d' ' -f1
  fi
}
on_path() { # put $dir/bin on PATH for this job's later steps
  if [ -n "${GITHUB_PATH:-}" ]; then echo "$dir/bin" >>"$GITHUB_PATH"; fi
  output "bin=$bin"
}
# A key for the cache of a source build: a digest of the sources the binary is built from.
source_key() {
  (
    cd "${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}"
    paths=()
    for p in Cargo.toml Cargo.lock src crates rules policies schemas; do
      if [ -e "$p" ]; then paths+=("$p"); fi
    done
    hasher=(sha256sum)
    if ! command -v sha256sum >/dev/null; then hasher=(shasum -a 256); fi
    find "${paths[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 "${hasher[@]}"
  ) >"$RUNNER_TEMP/gitops-lint-sources.txt"
  sha256 "$RUNNER_TEMP/gitops-lint-sources.txt"
}
fallback() { # why: no asset to download, so the next steps build from source
  echo "::notice title=gitops-lint install::$*; falling back to building from source with cargo install (several minutes)"
  output "source=build"
  output "source-key=$(source_key)"
  output "bin=$bin"
  exit 0
}

download() {
  command -v sha256sum >/dev/null || command -v shasum >/dev/null ||
    fail "neither sha256sum nor shasum is available to verify a download"
  local version="${INPUT_VERSION:-}" ref="${GITOPS_LINT_ACTION_REF:-}"
  version="${version#v}"
  if [ -n "$version" ]; then
    [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
      fail "input version must be a release such as 0.3.0 or v0.3.0, not '${INPUT_VERSION}'"
  elif [[ "$ref" =~ ^v([0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?)$ ]]; then
    version="${BASH_REMATCH[1]}"
  else
    fallback "the action's ref '${ref:-(none)}' is not a release tag (vX.Y.Z) and no version input is set"
  fi

  local target archive=tar.gz
  case "${RUNNER_OS:-}/${RUNNER_ARCH:-}" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    # Windows on Arm runs the x64 build under its x64 emulation.
    Windows/X64 | Windows/ARM64) target=x86_64-pc-windows-msvc archive=zip ;;
    *) fallback "no release asset is built for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" ;;
  esac

  local base="${INPUT_DOWNLOAD_BASE:-${GITOPS_LINT_DOWNLOAD_BASE:-}}"
  if [ -z "$base" ]; then
    local repository="${GITOPS_LINT_ACTION_REPOSITORY:-}"
    # github.action_repository can be empty in composite actions (actions/runner#2473); the
    # runner keeps the action at .../_actions/<owner>/<name>/<ref>.
    if [ -z "$repository" ] &&
      [[ "${GITHUB_ACTION_PATH:-}" =~ [/\\]_actions[/\\]([^/\\]+)[/\\]([^/\\]+)[/\\][^/\\]+[/\\]?$ ]]; then
      repository="${BASH_REMATCH[1]}/${BASH_REMATCH[2]}"
    fi
    [ -n "$repository" ] || fallback "the action's repository is unknown, so there is no release to download from"
    base="${GITHUB_SERVER_URL:-https://github.com}/$repository/releases/download"
  fi
  base="${base%/}"

  local asset="gitops-lint-$version-$target.$archive"
  local url="$base/v$version/$asset" sums_url="$base/v$version/SHA256SUMS"
  local work="$RUNNER_TEMP/gitops-lint-download"
  rm -rf "$work" && mkdir -p "$work"

  echo "gitops-lint $version for ${RUNNER_OS}/${RUNNER_ARCH}: $url"
  local code rc=0
  code="$(fetch "$url" "$work/$asset")" || rc=$?
  [ "$rc" -eq 0 ] || fail "cannot download $url (curl exit status $rc)"
  case "$code" in
    200) ;;
    404) fallback "release v$version has no asset $asset ($url: HTTP 404)" ;;
    *) fail "cannot download $url: HTTP $code" ;;
  esac

  code="$(fetch "$sums_url" "$work/SHA256SUMS")" || rc=$?
  [ "$rc" -eq 0 ] || fail "cannot download $sums_url (curl exit status $rc)"
  [ "$code" = 200 ] ||
    fail "release v$version has no SHA256SUMS ($sums_url: HTTP $code); refusing to run an unverified binary"
  local expected actual
  expected="$(awk -v f="$asset" '{ n = $2; sub(/^\*/, "", n) } n == f { print tolower($1); exit }' "$work/SHA256SUMS")"
  [[ "$expected" =~ ^[0-9a-f]{64}$ ]] ||
    fail "SHA256SUMS of release v$version has no checksum for $asset; refusing to run an unverified binary"
  actual="$(sha256 "$work/$asset")"
  if [ "$actual" != "$expected" ]; then
    rm -f "$work/$asset"
    fail "checksum mismatch for $asset: SHA256SUMS says $expected, the download is $actual; the binary was not run"
  fi
  echo "sha256 $actual verified against SHA256SUMS"

  mkdir -p "$work/x"
  case "$archive" in
    tar.gz) tar -xzf "$work/$asset" -C "$work/x" ;;
    zip)
      if command -v unzip >/dev/null; then
        unzip -q "$work/$asset" -d "$work/x"
      elif command -v 7z >/dev/null; then
        7z x -bso0 -o"$work/x" "$work/$asset"
      else
        pwsh -NoProfile -Command "Expand-Archive -LiteralPath '$work/$asset' -DestinationPath '$work/x'"
      fi
      ;;
  esac
  local found="$work/x/gitops-lint-$version-$target/$exe"
  [ -f "$found" ] || fail "$asset has no gitops-lint-$version-$target/$exe"
  mkdir -p "$dir/bin"
  mv -f "$found" "$bin"
  chmod +x "$bin"
  rm -rf "$work"

  local says
  says="$("$bin" --version)" || fail "the downloaded $exe does not run on ${RUNNER_OS}/${RUNNER_ARCH}"
  [ "$says" = "gitops-lint $version" ] || fail "the downloaded binary says '$says', expected 'gitops-lint $version'"
  echo "$says installed from $asset"
  on_path
  output "source=download"
  output "version=$version"
}

# GET URL into FILE. Prints the HTTP status; fails (with curl's exit status) on a network error.
fetch() {
  curl --silent --show-error --location --retry 3 --connect-timeout 20 --max-time 600 \
    --output "$2" --write-out '%{http_code}' "$1"
}

build() {
  if [ -x "$bin" ]; then
    echo "gitops-lint restored from the cache of an earlier source build: $("$bin" --version)"
  else
    local cargo="${GITOPS_LINT_CARGO:-cargo}"
    echo "building gitops-lint from ${GITHUB_ACTION_PATH:?} with $cargo install (no release asset)"
    "$cargo" install --locked --root "$dir" --path "$GITHUB_ACTION_PATH"
    [ -x "$bin" ] || fail "cargo install left no $bin"
  fi
  on_path
}

case "$mode" in
  download) download ;;
  build) build ;;
  *)
    echo "usage: install.sh download|build" >&2
    exit 2
    ;;
esac
