#!/usr/bin/env bash
# End-to-end: Neovim's built-in LSP client runs `cmflow lsp` on tests/fixtures/lsp/.
#
# Installs Neovim from the distribution's packages when `nvim` is missing (Debian or
# Ubuntu: apt-get, through sudo when not root; Debian 12 has 0.7.2, whose client API is
# `vim.lsp.start_client` and `vim.lsp.buf_attach_client`). Headless Neovim opens
# site.kdl, attaches the server, and checks: the diagnostics (count, code, position in
# the UTF-16 columns the client counts), an edit through the buffer that clears them, a
# definition and a hover request answered without error, and exit code 0 after the
# client stops the server. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v nvim >/dev/null; then
    echo "-- installing neovim"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq neovim >/dev/null
fi
nvim --version | head -n 1

target_dir=${CARGO_TARGET_DIR:-target}
if [ -z "${CMFLOW:-}" ]; then
    cargo build --release --locked
    CMFLOW="$target_dir/release/cmflow"
fi
CMFLOW=$(realpath "$CMFLOW")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/model"
cp tests/fixtures/lsp/*.kdl "$work/model/"

cat >"$work/test.lua" <<'LUA'
local cmflow, root = os.getenv("CMFLOW"), os.getenv("MODEL")
local failures = 0

local function check(ok, what)
  if ok then
    print("ok   " .. what)
  else
    print("FAIL " .. what)
    failures = failures + 1
  end
end

local function finish()
  if failures > 0 then
    vim.cmd("cquit 1")
  end
  vim.cmd("qall!")
end

-- A Lua error fails the run at once rather than leaving Neovim waiting.
local function main()
vim.cmd("edit " .. vim.fn.fnameescape(root .. "/site.kdl"))
local buf = vim.api.nvim_get_current_buf()
local exit_code
local client_id = vim.lsp.start_client({
  name = "cmflow",
  cmd = { cmflow, "lsp" },
  root_dir = root,
  on_exit = function(code) exit_code = code end,
})
check(client_id ~= nil, "the client starts cmflow lsp")
if client_id == nil then return end
vim.lsp.buf_attach_client(buf, client_id)

local got = vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
check(got, "diagnostics arrive")
local diags = vim.diagnostic.get(buf)
local function code(d)
  return d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
end
check(#diags == 1, "one diagnostic, got " .. #diags)
if diags[1] then
  local d = diags[1]
  check(code(d) == "schema/unknown-reference", "its code, got " .. tostring(code(d)))
  check(d.message == "zone `lab` does not exist", "its message, got " .. d.message)
  -- Line 16, column 25 in UTF-16 units, which Neovim turns into byte 28 (é, 𝄞).
  check(d.lnum == 15 and d.col == 28 and d.end_col == 33,
    string.format("its position, got %d:%d-%d", d.lnum, d.col, d.end_col))
  check(d.severity == vim.diagnostic.severity.ERROR, "its severity")
end

-- Definition and hover on the zone the client group names.
local line = vim.fn.search('zone="north-office"', "n")
vim.api.nvim_win_set_cursor(0, { line, 45 })
local params = vim.lsp.util.make_position_params()
for _, method in ipairs({ "textDocument/definition", "textDocument/hover" }) do
  local answers, err = vim.lsp.buf_request_sync(buf, method, params, 30000)
  local answer = answers and answers[client_id]
  check(err == nil and answer ~= nil and answer.err == nil,
    method .. " answered" .. (err and (": " .. tostring(err)) or ""))
  if method == "textDocument/definition" and answer then
    check(answer.result == nil or type(answer.result) == "table", method .. " gives locations")
  end
end

-- Fix the reference in the buffer, unsaved: an incremental change after non-ASCII text.
local lab = vim.fn.search('zone="lab"', "n")
local text = vim.api.nvim_buf_get_lines(buf, lab - 1, lab, true)[1]
local col = text:find('"lab"', 1, true)
vim.api.nvim_buf_set_text(buf, lab - 1, col, lab - 1, col + 3, { "north-office" })
got = vim.wait(60000, function() return #vim.diagnostic.get(buf) == 0 end, 50)
check(got, "the edit clears the diagnostic")

vim.lsp.stop_client(client_id)
got = vim.wait(10000, function() return exit_code ~= nil end, 50)
check(got and exit_code == 0, "the server exits with 0 after shutdown, got " .. tostring(exit_code))
end

local ok, err = pcall(main)
check(ok, "the script runs" .. (ok and "" or (": " .. tostring(err))))
finish()
LUA

echo "-- neovim with cmflow lsp on tests/fixtures/lsp"
# Headless Neovim prints to stderr; the script's verdict is its exit code.
if CMFLOW="$CMFLOW" MODEL="$work/model" timeout 300 \
    nvim --headless --clean -u NONE -c "luafile $work/test.lua" 2>&1; then
    echo
    echo "neovim: ok"
else
    echo
    echo "neovim: FAILED" >&2
    exit 1
fi
