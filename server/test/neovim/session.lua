-- A Neovim session with xenolab's language server (Neovim's own LSP client, no plugins),
-- run by lsp.test.ts as `nvim --headless -u NONE`: it opens $XENOLAB_FILE, and prints as
-- JSON what the server gave at each step. Works with Neovim 0.7 and later.
local file = os.getenv('XENOLAB_FILE')
local out = {}
local function log(step, value) out[step] = value end
vim.cmd('edit ' .. file)
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({
  name = 'xenolab',
  cmd = { os.getenv('XENOLAB_NODE'), os.getenv('XENOLAB_BIN'), 'lsp', '--stdio' },
  root_dir = vim.fn.fnamemodify(file, ':h'),
  on_exit = function(code) log('exitCode', code) end,
})
vim.lsp.buf_attach_client(buf, id)
local client = vim.lsp.get_client_by_id(id)
local doc = { uri = vim.uri_from_bufnr(buf) }
local function request(method, params)
  local res = vim.lsp.buf_request_sync(buf, method, params, 10000)
  local r = res and res[id]
  if not r then return { error = 'no answer' } end
  if r.err then return { error = r.err.message } end
  return { result = r.result }
end
local function diagnostics()
  return vim.tbl_map(function(d) return { line = d.lnum, col = d.col, code = d.code, severity = d.severity } end, vim.diagnostic.get(buf))
end
local function line(n) return vim.api.nvim_buf_get_lines(buf, n, n + 1, false)[1] end
local target = tonumber(os.getenv('XENOLAB_LINE'))

vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
log('diagnostics', diagnostics())
local hover = request('textDocument/hover', { textDocument = doc, position = { line = target, character = 5 } })
log('hover', hover.result and hover.result.contents.value or hover.error)
local completion = request('textDocument/completion', { textDocument = doc, position = { line = target, character = 4 } })
local items = completion.result and (completion.result.items or completion.result) or {}
log('completion', vim.tbl_map(function(i) return i.label end, items))

-- the quick fix on the privileged instruction's line, applied as Neovim applies one
local actions = request('textDocument/codeAction', {
  textDocument = doc, range = { start = { line = target, character = 4 }, ['end'] = { line = target, character = 4 } },
  context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(buf, target) },
})
local fix = actions.result and actions.result[1]
log('quickFix', fix and fix.title or actions.error)
if fix then vim.lsp.util.apply_workspace_edit(fix.edit, 'utf-16') end
log('fixedLine', line(target))
vim.wait(10000, function() return #vim.diagnostic.get(buf) == 0 end, 20)
log('diagnosticsAfterFix', diagnostics())

-- rename the label the file starts at, everywhere
local start = vim.fn.search('^_start:') - 1
local rename = request('textDocument/rename', { textDocument = doc, position = { line = start, character = 1 }, newName = 'kernel_entry' })
if rename.result then vim.lsp.util.apply_workspace_edit(rename.result, 'utf-16') end
local text = table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
local _, renamed = text:gsub('kernel_entry', '')
local _, left = text:gsub('_start', '')
log('rename', { error = rename.error, renamed = renamed, left = left })
vim.wait(10000, function() return #vim.diagnostic.get(buf) == 0 end, 20)
log('diagnosticsAfterRename', diagnostics())

local symbols = request('textDocument/documentSymbol', { textDocument = doc })
log('symbols', vim.tbl_map(function(s) return s.name end, symbols.result or {}))

client.stop()
vim.wait(5000, function() return out.exitCode ~= nil end, 20)
io.stdout:write(vim.fn.json_encode(out) .. '\n')
vim.cmd('qa!')
