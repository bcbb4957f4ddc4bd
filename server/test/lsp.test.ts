// The language server over LSP, as a real process (`xenolab lsp --stdio`): diagnostics as
// documents open and change, hover, completion, definition, references, rename, the
// outline, quick fixes that fix, and random edits that never bring it down; and the same
// process driven by another editor's client, Neovim's.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDITOR_CAPABILITIES } from './inprocess.js';

const ROOT = join(__dirname, '..', '..');
const TRAPS = join(ROOT, 'seeds', 'traps.xasm');
const uri = (path: string) => 'file://' + path;

interface Diag { range: { start: { line: number; character: number } }; code: string; message: string; severity: number }

let server: ChildProcess;
let conn: MessageConnection;
const published = new Map<string, { version?: number; diagnostics: Diag[] }[]>();
const waiters: (() => void)[] = [];

beforeAll(async () => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')]);
  server = spawn(process.execPath, [join(ROOT, 'bin', 'xenolab.mjs'), 'lsp', '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  conn = createMessageConnection(new StreamMessageReader(server.stdout!), new StreamMessageWriter(server.stdin!));
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: Diag[] }) => {
    published.set(p.uri, [...(published.get(p.uri) ?? []), p]);
    for (const w of waiters.splice(0)) w();
  });
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: EDITOR_CAPABILITIES });
  conn.sendNotification('initialized', {});
});

afterAll(async () => {
  await conn.sendRequest('shutdown').catch(() => undefined);
  // The exit notification is written asynchronously: the server is killed only once it
  // has gone (or failed to), else the write could land on a closed pipe (EPIPE).
  const gone = new Promise<void>((resolve) => {
    if (server.exitCode !== null) resolve();
    server.once('exit', () => resolve());
    setTimeout(resolve, 5000);
  });
  await conn.sendNotification('exit').catch(() => undefined);
  await gone;
  conn.dispose();
  // it was up to the end and left when told to, with the status for a shutdown
  const status = server.exitCode;
  server.kill();
  expect(status).toBe(0);
});

/** The diagnostics published for a document's version (waits for them). */
async function diagnosticsOf(u: string, version: number): Promise<Diag[]> {
  for (let i = 0; i < 200; i++) {
    const got = (published.get(u) ?? []).find((p) => p.version === version);
    if (got) return got.diagnostics;
    await new Promise<void>((r) => {
      waiters.push(r);
      setTimeout(r, 50);
    });
  }
  throw new Error(`no diagnostics for ${u} version ${version}`);
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle));

describe('language server over LSP', () => {
  const text = readFileSync(TRAPS, 'utf8');
  const u = uri(TRAPS);

  it('publishes diagnostics when a document opens: the privileged cli, naming its replacement', async () => {
    conn.sendNotification('textDocument/didOpen', { textDocument: { uri: u, languageId: 'xasm', version: 1, text } });
    const d = await diagnosticsOf(u, 1);
    const cli = d.find((x) => x.code === 'privileged-instruction');
    expect(cli, JSON.stringify(d)).toBeDefined();
    expect(cli!.range.start.line).toBe(lineOf(text, '    cli'));
    expect(cli!.message).toMatch(/evtchn_upcall_mask/);
    expect(cli!.severity).toBe(1);
  });

  it('hovers instructions, labels and Xen constants', async () => {
    const line = lineOf(text, '    cli');
    const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: { line, character: 5 } }) as { contents: { value: string } };
    expect(h.contents.value).toMatch(/Privileged/);
    const use = lineOf(text, 'jne fail');
    const l = await conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: { line: use, character: 9 } }) as { contents: { value: string } };
    expect(l.contents.value).toMatch(/\*\*fail\*\* — label at 0xc0/);
    const ulines = text.split('\n');
    const uv = ulines.findIndex((x) => x.includes('UVMF_INVLPG'));
    const c = await conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: { line: uv, character: ulines[uv].indexOf('UVMF_INVLPG') + 2 } }) as { contents: { value: string } };
    expect(c.contents.value).toMatch(/UVMF_INVLPG/);
  });

  it('completes mnemonics at a statement and registers and labels in operands', async () => {
    const items = (pos: { line: number; character: number }) => conn.sendRequest('textDocument/completion', { textDocument: { uri: u }, position: pos }) as Promise<{ label: string }[]>;
    const at = lineOf(text, '    cld');
    expect((await items({ line: at, character: 4 })).map((i) => i.label)).toContain('mov');
    const jne = lineOf(text, 'jne fail');
    const labels = (await items({ line: jne, character: 8 })).map((i) => i.label);
    expect(labels).toContain('fail');
    expect(labels).toContain('eax');
    expect(labels).toContain('MMUEXT_PIN_L1_TABLE');
    // A label the document gains after an edit is offered once its new analysis is made.
    const other = 'file:///work/completion.xasm';
    const v1 = 'bits 32\nstart:\n    jmp start\n';
    conn.sendNotification('textDocument/didOpen', { textDocument: { uri: other, languageId: 'xasm', version: 1, text: v1 } });
    await diagnosticsOf(other, 1);
    const operand = { line: 2, character: 8 };
    const before = await conn.sendRequest('textDocument/completion', { textDocument: { uri: other }, position: operand }) as { label: string }[];
    expect(before.map((i) => i.label)).not.toContain('later');
    conn.sendNotification('textDocument/didChange', { textDocument: { uri: other, version: 2 }, contentChanges: [{ text: v1 + 'later:\n' }] });
    await diagnosticsOf(other, 2);
    const after = await conn.sendRequest('textDocument/completion', { textDocument: { uri: other }, position: operand }) as { label: string }[];
    expect(after.map((i) => i.label)).toContain('later');
  });

  it('goes to a definition, finds references, renames, and outlines the file', async () => {
    const use = lineOf(text, 'jne fail');
    const def = await conn.sendRequest('textDocument/definition', { textDocument: { uri: u }, position: { line: use, character: 9 } }) as { uri: string; range: { start: { line: number } } };
    expect(def.uri).toBe(u);
    expect(def.range.start.line).toBe(lineOf(text, 'fail:'));
    const refs = await conn.sendRequest('textDocument/references', { textDocument: { uri: u }, position: { line: use, character: 9 }, context: { includeDeclaration: true } }) as unknown[];
    // Every `fail` written as a whole word (not msg_fail, fail_msg) outside comments.
    const code = text.split('\n').map((l) => l.replace(/;.*$/, '')).join('\n');
    expect(refs.length).toBe(code.match(/(?<![\w.])fail(?!\w)/g)!.length);
    const edit = await conn.sendRequest('textDocument/rename', { textDocument: { uri: u }, position: { line: use, character: 9 }, newName: 'give_up' }) as { changes: Record<string, unknown[]> };
    expect(edit.changes[u].length).toBe(refs.length);
    const symbols = await conn.sendRequest('textDocument/documentSymbol', { textDocument: { uri: u } }) as { name: string }[];
    expect(symbols.map((s) => s.name)).toEqual(expect.arrayContaining(['_start', 'fail', 'gp_handler', 'pf_handler']));
  });

  it('semantic tokens mark the privileged instruction', async () => {
    const r = await conn.sendRequest('textDocument/semanticTokens/full', { textDocument: { uri: u } }) as { data: number[] };
    let line = 0, col = 0;
    const tokens: { line: number; col: number; len: number; type: number; mods: number }[] = [];
    for (let i = 0; i < r.data.length; i += 5) {
      line += r.data[i];
      col = r.data[i] === 0 ? col + r.data[i + 1] : r.data[i + 1];
      tokens.push({ line, col, len: r.data[i + 2], type: r.data[i + 3], mods: r.data[i + 4] });
    }
    const cliLine = lineOf(text, '    cli');
    const cli = tokens.find((t) => t.line === cliLine && t.col === 4);
    expect(cli).toMatchObject({ len: 3, type: 0, mods: 1 }); // keyword, privileged
    const mov = tokens.find((t) => t.line === lineOf(text, '    mov esp, stack_top') && t.col === 4);
    expect(mov).toMatchObject({ type: 0, mods: 0 });
    // the lines an editor shows: the same tokens, the first one placed from the document's start
    const range = await conn.sendRequest('textDocument/semanticTokens/range', { textDocument: { uri: u }, range: { start: { line: cliLine, character: 0 }, end: { line: cliLine + 1, character: 0 } } }) as { data: number[] };
    expect(range.data.slice(0, 5)).toEqual([cliLine, 4, 3, 0, 1]);
    expect(range.data.length).toBe(5 * tokens.filter((t) => t.line === cliLine).length);
  });

  it('quick fixes for the findings a cursor\'s line or a selection reaches, and none for other kinds', async () => {
    const line = lineOf(text, '    cli');
    const titles = async (range: { start: { line: number; character: number }; end: { line: number; character: number } }, only?: string[]) =>
      ((await conn.sendRequest('textDocument/codeAction', { textDocument: { uri: u }, range, context: { diagnostics: [], ...(only ? { only } : {}) } })) as { title: string }[])
        .map((a) => a.title).filter((t) => /cli/.test(t));
    const at = (l: number, c: number) => ({ line: l, character: c });
    expect((await titles({ start: at(line, 0), end: at(line, 0) })).length).toBeGreaterThan(0); // cursor on its line
    expect(await titles({ start: at(line - 1, 0), end: at(line, 0) })).toEqual([]); // a selection of the line above
    expect((await titles({ start: at(line - 1, 0), end: at(line, 5) })).length).toBeGreaterThan(0);
    expect(await titles({ start: at(line, 0), end: at(line, 0) }, ['refactor'])).toEqual([]);
    expect((await titles({ start: at(line, 0), end: at(line, 0) }, ['quickfix'])).length).toBeGreaterThan(0);
  });

  it('a quick fix removes the diagnostic it is for', async () => {
    const line = lineOf(text, '    cli');
    const actions = await conn.sendRequest('textDocument/codeAction', {
      textDocument: { uri: u }, range: { start: { line, character: 0 }, end: { line, character: 10 } }, context: { diagnostics: [] },
    }) as { title: string; edit: { changes: Record<string, { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[]> } }[];
    const ignore = actions.find((a) => /ignore/i.test(a.title));
    expect(ignore, JSON.stringify(actions.map((a) => a.title))).toBeDefined();
    const edits = ignore!.edit.changes[u];
    conn.sendNotification('textDocument/didChange', {
      textDocument: { uri: u, version: 2 },
      contentChanges: edits.map((e) => ({ range: e.range, text: e.newText })),
    });
    const d = await diagnosticsOf(u, 2);
    expect(d.find((x) => x.code === 'privileged-instruction')).toBeUndefined();
  });

  it('survives random edits (the server keeps answering, diagnostics keep coming)', async () => {
    let version = 2;
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const junk = ['%macro', ']', '[', 'mov', ',', '%include "nowhere"', '\n', 'eax', '0x', '%endmacro', 'times 100000000 db 0', ':', '.x:', '%rep 1000000', 'int 0x82', '%if', '"'];
    for (let i = 0; i < 60; i++) {
      const line = rand(120);
      conn.sendNotification('textDocument/didChange', {
        textDocument: { uri: u, version: ++version },
        contentChanges: [{ range: { start: { line, character: rand(20) }, end: { line, character: rand(20) + 20 } }, text: junk[rand(junk.length)] }],
      });
    }
    await diagnosticsOf(u, version);
    const h = await conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: { line: 0, character: 0 } });
    expect(h === null || typeof h === 'object').toBe(true);
  });
});

describe('in Neovim, with its own LSP client (no plugins)', () => {
  it('shows the diagnostic, hovers, completes, applies the quick fix and a rename, and stops the server', () => {
    // a copy of traps.xasm that the session edits (through the server's edits, in the buffer)
    const dir = mkdtempSync(join(tmpdir(), 'xenolab-nvim-'));
    const file = join(dir, 'traps.xasm');
    const text = readFileSync(TRAPS, 'utf8');
    writeFileSync(file, text);
    const cli = lineOf(text, '    cli');
    const out = execFileSync('nvim', ['--headless', '-u', 'NONE', '-c', `luafile ${join(__dirname, 'neovim', 'session.lua')}`], {
      env: { ...process.env, XENOLAB_FILE: file, XENOLAB_NODE: process.execPath, XENOLAB_BIN: join(ROOT, 'bin', 'xenolab.mjs'), XENOLAB_LINE: String(cli) },
      encoding: 'utf8', timeout: 120_000,
    });
    rmSync(dir, { recursive: true, force: true });
    const got = JSON.parse(out.trim().split('\n').pop()!);
    expect(got.diagnostics).toEqual([{ line: cli, col: 4, code: 'privileged-instruction', severity: 1 }]);
    expect(got.hover).toMatch(/^\*\*cli\*\*/);
    expect(got.completion).toEqual(expect.arrayContaining(['mov', 'cli', 'HYPERCALL']));
    expect(got.quickFix).toMatch(/^Replace cli with masking events/);
    expect(got.fixedLine).toMatch(/^ {4}mov byte \[shared \+ shared_info\.vcpu_info \+ vcpu_info\.evtchn_upcall_mask\], 1/);
    expect(got.diagnosticsAfterFix).toEqual([]);
    // every `_start` renamed (its definition, its uses), and the file still clean
    expect(got.rename).toEqual({ renamed: (text.match(/_start/g) ?? []).length, left: 0 });
    expect(got.diagnosticsAfterRename).toEqual([]);
    expect(got.symbols).toEqual(expect.arrayContaining(['kernel_entry', 'gp_handler', 'trap_table']));
    expect(got.symbols).not.toContain('_start');
    // it left when Neovim stopped it (shutdown, exit), with the status for that
    expect(got.exitCode).toBe(0);
  }, 150_000);
});
