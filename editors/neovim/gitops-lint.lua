-- gitops-lint as a language server in Neovim 0.11+ (vim.lsp.config / vim.lsp.enable).
-- Put this file in ~/.config/nvim/plugin/ (or paste it into init.lua).
--
-- The workspace root is the nearest folder with .gitops-lint.yaml or .git above the file you
-- open: the apps-repo. `roots` adds more repositories linted with it as one system (here the
-- infra-repo checked out beside it; relative paths are relative to the first root).
vim.lsp.config('gitops_lint', {
  cmd = { 'gitops-lint', 'lsp' },
  filetypes = { 'yaml', 'json', 'terraform', 'hcl' },
  root_markers = { '.gitops-lint.yaml', '.git' },
  init_options = {
    roots = { '../infra-repo' },
  },
})
vim.lsp.enable('gitops_lint')
