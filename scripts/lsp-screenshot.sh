#!/usr/bin/env bash
# The README's editor screenshot (docs/lsp-neovim.svg), taken headless: Neovim 0.11+ with
# editors/neovim/gitops-lint.lua under tmux, on a copy of the irsa/trust-mismatch fixture, the
# cursor on the diagnostic and its float open; `tmux capture-pane -e -p` keeps the colours as
# ANSI, and scripts/ansi-to-svg.py (Python `rich`, installed in a throwaway venv) draws the SVG.
# Usage: scripts/lsp-screenshot.sh [GITOPS_LINT_BINARY]   (NVIM=path/to/nvim to pick one)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=$(realpath "${1:-target/debug/gitops-lint}")
nvim=$(command -v "${NVIM:-nvim}")
work=$(mktemp -d)
session="gitops-lint-shot-$$"
cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
cp -r fixtures/rules/irsa/trust-mismatch/fail/. "$work/"
git -C "$work/apps-repo" init -q
mkdir -p "$work/bin" && ln -s "$bin" "$work/bin/gitops-lint"
cat > "$work/look.lua" <<'LUA'
vim.o.termguicolors = true
vim.o.number = true
vim.diagnostic.config({ virtual_text = true, float = { border = 'rounded', source = true } })
LUA
tmux new-session -d -s "$session" -x 110 -y 30 -c "$work/apps-repo" \
  "PATH='$work/bin':\$PATH TERM=tmux-256color '$nvim' --clean --cmd 'luafile $repo/editors/neovim/gitops-lint.lua' -c 'luafile $work/look.lua' serviceaccounts/tenant-1.yaml"
# Wait for the diagnostic's virtual text (the first lint), at most 30 s.
for _ in $(seq 150); do
  tmux capture-pane -p -t "$session" | grep -q "AssumeRole" && break
  sleep 0.2
done
tmux send-keys -t "$session" '13G' '14|'
sleep 0.5
tmux send-keys -t "$session" ':lua vim.diagnostic.open_float()' Enter
sleep 1
tmux capture-pane -e -p -t "$session" > "$work/pane.ansi"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check "rich==14.1.0"
"$work/venv/bin/python" scripts/ansi-to-svg.py "$work/pane.ansi" docs/lsp-neovim.svg 110 \
  "gitops-lint lsp in Neovim: irsa/trust-mismatch"
echo "wrote docs/lsp-neovim.svg"
