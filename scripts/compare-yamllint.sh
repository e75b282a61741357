#!/usr/bin/env bash
# Installs yamllint (pinned, from PyPI) into target/yamllint-venv, builds gitops-lint, and
# compares the two on the fixture files. Exit 1 if yamllint flags something gitops-lint misses.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/yamllint-venv
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check yamllint==1.35.1
fi
cargo build --quiet --locked
exec "$venv/bin/python" scripts/compare-yamllint.py target/debug/gitops-lint "$@"
