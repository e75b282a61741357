#!/usr/bin/env bash
# Release assets, named as action/install.sh expects them. The release workflow
# (.github/workflows/release.yml) and the action's install test (tests/action/install.sh) both
# use this script, so the names the workflow publishes and the names the action downloads
# cannot drift apart.
#
#   package-release.sh archive BINARY VERSION TARGET OUTDIR
#       OUTDIR/gitops-lint-VERSION-TARGET.tar.gz (.zip for Windows targets), holding
#       gitops-lint-VERSION-TARGET/{gitops-lint[.exe],README.md}; prints the archive's path.
#   package-release.sh sums DIR
#       DIR/SHA256SUMS: one `<sha256>  <file>` line per gitops-lint-* file in DIR (the format of
#       `sha256sum`, checked with `sha256sum --check --ignore-missing SHA256SUMS`).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

usage() {
  sed -n '2,13p' "$0" >&2
  exit 2
}

sha256() { # FILE -> hex digest
  if command -v sha256sum >/dev/null; then
    sha256sum -- "$1" | cut -d' ' -f1
  else
    shasum -a 256 -- "$1" | cut -d' ' -f1
  fi
}

archive() {
  local bin="$1" version="$2" target="$3" out="$4"
  [ -f "$bin" ] || { echo "no binary at $bin" >&2; exit 2; }
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] ||
    { echo "version '$version' is not X.Y.Z[-pre]" >&2; exit 2; }
  local name="gitops-lint-$version-$target" exe=gitops-lint
  case "$target" in *windows*) exe=gitops-lint.exe ;; esac
  mkdir -p "$out"
  out="$(cd "$out" && pwd)"
  local stage
  stage="$(mktemp -d)"
  mkdir "$stage/$name"
  cp "$bin" "$stage/$name/$exe"
  chmod 755 "$stage/$name/$exe"
  cp "$repo/README.md" "$stage/$name/"
  case "$target" in
    *windows*)
      rm -f "$out/$name.zip"
      if command -v 7z >/dev/null; then
        (cd "$stage" && 7z a -tzip -bso0 "$out/$name.zip" "$name")
      else
        (cd "$stage" && zip -qr "$out/$name.zip" "$name")
      fi
      echo "$out/$name.zip"
      ;;
    *)
      tar -C "$stage" -czf "$out/$name.tar.gz" "$name"
      echo "$out/$name.tar.gz"
      ;;
  esac
  rm -rf "$stage"
}

sums() {
  local dir="$1" f
  [ -d "$dir" ] || { echo "no directory $dir" >&2; exit 2; }
  (
    cd "$dir"
    shopt -s nullglob
    local files=(gitops-lint-* gitops_lint-*)
    [ "${#files[@]}" -gt 0 ] || { echo "nothing to sum in $dir" >&2; exit 2; }
    for f in "${files[@]}"; do
      printf '%s  %s\n' "$(sha256 "$f")" "$f"
    done >SHA256SUMS
  )
  cat "$dir/SHA256SUMS"
}

case "${1:-}" in
  archive) [ "$#" -eq 5 ] || usage; archive "$2" "$3" "$4" "$5" ;;
  sums) [ "$#" -eq 2 ] || usage; sums "$2" ;;
  *) usage ;;
esac
