-- Headless check of editors/neovim/gitops-lint.lua (run by scripts/test-neovim.sh): waits for
-- the server's diagnostics on the opened buffer, prints them, and exits 0 when there is one
-- with the expected rule, 1 otherwise.
local want = os.getenv('GITOPS_LINT_EXPECT') or 'irsa/trust-mismatch'
local found = vim.wait(30000, function()
  for _, d in ipairs(vim.diagnostic.get(0)) do
    if d.code == want then return true end
  end
  return false
end, 100)
for _, d in ipairs(vim.diagnostic.get(0)) do
  io.stdout:write(string.format('%d:%d %s %s\n', d.lnum + 1, d.col + 1, d.code, d.message:gsub('\n.*', '')))
end
-- Hover on the first diagnostic answers with the rule page.
local hover_ok = false
for _, d in ipairs(vim.diagnostic.get(0)) do
  if d.code == want then
    vim.api.nvim_win_set_cursor(0, { d.lnum + 1, d.col })
    local params = vim.lsp.util.make_position_params(0, 'utf-16')
    local results = vim.lsp.buf_request_sync(0, 'textDocument/hover', params, 10000) or {}
    for _, r in pairs(results) do
      local value = r.result and r.result.contents and r.result.contents.value or ''
      if value:find('## What it checks', 1, true) then hover_ok = true end
    end
    break
  end
end
io.stdout:write(string.format('diagnostic %s: %s, hover with the rule page: %s\n', want, tostring(found), tostring(hover_ok)))
vim.cmd(found and hover_ok and 'qa!' or 'cq!')
