// The editor features beyond diagnostics, through the real server over LSP (in this
// process, over in-memory streams): macro signature help, workspace symbols and
// navigation into workspace files that are not open, folding ranges, inlay hints (and the
// ones that must not appear), formatting (every seed assembles to the same bytes and
// formatting twice is formatting once), code lenses, and settings pulled with
// workspace/configuration.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Diagnostic, TextEdit } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { assemble, flatBinary } from '../../asm/src/index.js';
import { listFiles, nodeFiles, nodeProvider } from '../../cli/src/nodeProvider.js';
import { pathToUri, uriToPath } from '../src/server.js';
import { InProcessClient } from './inprocess.js';

const ROOT = join(__dirname, '..', '..');

interface Pos { line: number; character: number }
interface Rng { start: Pos; end: Pos }

const Client = InProcessClient;

const lines = (text: string) => text.split('\n');
/** The 0-based line holding `needle` (the first one after line `after`). */
const lineOf = (text: string, needle: string, after = -1) => lines(text).findIndex((l, i) => i > after && l.includes(needle));
/** The position just after `needle` on its line. */
const after = (text: string, needle: string): Pos => {
  const line = lineOf(text, needle);
  return { line, character: lines(text)[line].indexOf(needle) + needle.length };
};
const apply = (text: string, edits: TextEdit[]) => TextDocument.applyEdits(TextDocument.create('x', 'xasm', 1, text), edits);
const FORMAT = { tabSize: 4, insertSpaces: true };

describe('semantic tokens after an edit', () => {
  it('given from the last analysis, then asked for again (refresh) once the edit\'s is published', async () => {
    const client = new Client({ readText: () => null });
    let refreshes = 0;
    client.conn.onRequest('workspace/semanticTokens/refresh', () => {
      refreshes++;
      return null;
    });
    await client.initialize({ capabilities: { workspace: { semanticTokens: { refreshSupport: true } } } });
    const path = '/virtual/tokens.xasm';
    await client.open(path, 'bits 32\n%macro OLDM 0\n    nop\n%endmacro\n    OLDM\n');
    await client.request('textDocument/semanticTokens/full', path);
    expect(refreshes).toBe(0);
    const published = client.replace(path, 'bits 32\n%macro NEWM 0\n    nop\n%endmacro\n    NEWM\n');
    await client.request('textDocument/semanticTokens/full', path); // before the edit's analysis
    await published;
    await vi.waitFor(() => expect(refreshes).toBe(1));
    const fresh = await client.request<{ data: number[] }>('textDocument/semanticTokens/full', path);
    expect(fresh.data.slice(-5)).toEqual([1, 4, 4, 1, 0]); // NEWM, the line after %endmacro: a macro
    client.dispose();
  });
});

describe('places in the built-in xen.inc', () => {
  it('have xenolab-builtin: URIs, whose text the server gives (related information, definitions)', async () => {
    const client = new Client({ readText: () => null });
    await client.initialize();
    const text = 'bits 32\n%include "xen.inc"\nsection .text\n_start:\n    HYPERCALL_PAGE_CALL sched_op\n    jmp $\nhypercall_page: times 4096 db 0\n';
    const d = await client.open('/virtual/builtin.xasm', text);
    const related = d.flatMap((x) => x.relatedInformation ?? []).find((r) => r.message.includes("macro 'HYPERCALL_PAGE_CALL'"))!;
    expect(related.location.uri).toBe('xenolab-builtin:/xen.inc');
    const xenInc = await client.conn.sendRequest('xenolab/builtinFile', { uri: related.location.uri }) as string;
    expect(xenInc.split('\n')[related.location.range.start.line]).toMatch(/^\s*call hypercall_page/);
    const def = await client.request<{ uri: string; range: Rng }>('textDocument/definition', '/virtual/builtin.xasm', { position: { line: 4, character: 8 } });
    expect(def.uri).toBe('xenolab-builtin:/xen.inc');
    expect(xenInc.split('\n')[def.range.start.line]).toMatch(/^%macro HYPERCALL_PAGE_CALL/);
    expect(await client.conn.sendRequest('xenolab/builtinFile', { uri: 'xenolab-builtin:/nothing.inc' })).toBeNull();
    expect(uriToPath(pathToUri('<builtin>/xen.inc'))).toBe('<builtin>/xen.inc');
    client.dispose();
  });
});

describe('file URIs', () => {
  it("are written as VS Code writes them (what it percent-encodes and encodeURIComponent does not: !'()*), and read back", () => {
    expect(pathToUri("/w/wsp (copy)/it's!*~.inc")).toBe('file:///w/wsp%20%28copy%29/it%27s%21%2A~.inc');
    expect(uriToPath(pathToUri('/w/wsp (copy)/a b#1.inc'))).toBe('/w/wsp (copy)/a b#1.inc');
  });
});

describe('completion', () => {
  const client = new Client({ readText: () => null });
  beforeAll(() => client.initialize());
  afterAll(() => client.dispose());
  interface Item { label: string; detail?: string; documentation?: string; insertText?: string; insertTextFormat?: number }
  /** A snippet with each placeholder given its default, as accepting it unchanged would. */
  const expand = (snippet: string, value: (name: string) => string) => snippet.replace(/\$\{\d+:([^}]*)\}/g, (_, n: string) => value(n)).replace(/\$0/g, '');

  for (const xenInc of [true, false]) {
    it(`a hypercall snippet sets every argument register and calls (${xenInc ? 'HYPERCALL from xen.inc' : 'int 0x82 without it'})`, async () => {
      const path = `/completion/${xenInc ? 'inc' : 'plain'}.xasm`;
      const head = ['bits 32', ...(xenInc ? ['%include "xen.inc"'] : []), 'section .text', '_start:'];
      const text = [...head, '    ', '    jmp $', 'req: dd 0, 0, 0, 0', ''].join('\n');
      await client.open(path, text);
      const items = await client.request<Item[]>('textDocument/completion', path, { position: { line: head.length, character: 4 } });
      const mmu = items.find((i) => i.label === 'HYPERCALL mmu_update')!;
      expect(mmu.insertTextFormat).toBe(2);
      expect(mmu.detail).toBe('hypercall 1(reqs, count, pdone, foreigndom)');
      const body = expand(mmu.insertText!, (n) => (n === 'reqs' ? 'req' : n === 'count' ? '1' : n === 'foreigndom' ? '0x7FF0' : '0'));
      expect(body.split('\n').map((l) => l.replace(/\t;.*$/, ''))).toEqual(
        ['mov ebx, req', 'mov ecx, 1', 'mov edx, 0', 'mov esi, 0x7FF0', ...(xenInc ? ['HYPERCALL mmu_update'] : ['mov eax, 1', 'int 0x82'])]);
      const filled = [...head, ...body.split('\n').map((l) => '    ' + l), '    jmp $', 'req: dd 0, 0, 0, 0', ''].join('\n');
      expect(await client.replace(path, filled)).toEqual([]);
      client.close(path);
    });
  }

  it('mnemonics come with their operand forms; operands get registers, labels and Xen constants', async () => {
    const path = '/completion/operands.xasm';
    const text = 'bits 32\n%include "xen.inc"\nsection .text\nstart:\n    mov eax, \n    \n';
    await client.open(path, text);
    const statement = await client.request<Item[]>('textDocument/completion', path, { position: { line: 5, character: 4 } });
    expect(statement.find((i) => i.label === 'xadd')?.documentation).toContain('xadd rm32, r32');
    const operand = await client.request<Item[]>('textDocument/completion', path, { position: { line: 4, character: 13 } });
    const labels = new Set(operand.map((i) => i.label));
    for (const want of ['ebx', 'start', 'MMU_NORMAL_PT_UPDATE']) expect(labels.has(want), want).toBe(true);
    expect(labels.has('HYPERCALL mmu_update')).toBe(false);
    client.close(path);
  });

  it('mnemonics after an instruction prefix, a label\'s own locals after a dot, nothing in a comment or string', async () => {
    const path = '/completion/places.xasm';
    const lines = ['bits 32', 'section .text', 'first:', '.done: ret', 'start:', '.loop: dec ecx', '    rep mo', '    lock xa', '    jnz .l', '.again:',
      '    nop ; see the mo', "    db 'mo", '    jmp first.d', '    HYPERCALL sch', '.x: HYPERCALL_PAGE_CALL ', ''];
    await client.open(path, lines.join('\n'));
    const at = async (line: number) => (await client.request<Item[]>('textDocument/completion', path, { position: { line, character: lines[line].length } })).map((i) => i.label);
    expect((await at(6)).includes('movsb')).toBe(true);
    expect((await at(6)).includes('eax')).toBe(false);
    expect((await at(7)).includes('xadd')).toBe(true);
    expect((await at(8)).sort()).toEqual(['.again', '.loop', '.x']);
    expect([await at(10), await at(11)]).toEqual([[], []]);
    expect((await at(12)).includes('first.done')).toBe(true);
    for (const line of [13, 14]) {
      const names = await at(line);
      expect(names.includes('sched_op') && names.includes('mmu_update') && !names.includes('eax'), lines[line]).toBe(true);
    }
    client.close(path);
  });

  it('after %: preprocessor directives at the start of a line, functions inside one, nothing of theirs in %%name or %1', async () => {
    const path = '/completion/percent.xasm';
    const text = 'bits 32\n%de\n    db %ev\n%macro m 1\n%%lo\n    db %1\n%endmacro\n';
    await client.open(path, text);
    const at = async (line: number, character: number) => new Set((await client.request<Item[]>('textDocument/completion', path, { position: { line, character } })).map((i) => i.label));
    const start = await at(1, 3);
    for (const want of ['%define', '%macro', '%include', '%ifdef', '%arg', '%rep']) expect(start.has(want), want).toBe(true);
    expect(start.has('mov')).toBe(false);
    const inside = await at(2, 10);
    for (const want of ['%eval', '%num', '%sel']) expect(inside.has(want), want).toBe(true);
    expect(inside.has('%define')).toBe(false);
    for (const [line, character] of [[4, 4], [5, 9]]) expect((await at(line, character)).has('%define')).toBe(false);
    client.close(path);
  });
});

describe('signature help for macros', () => {
  const client = new Client({ readText: () => null });
  const path = '/virtual/sig.xasm';
  const text = [
    'bits 32',
    '%include "xen.inc"',
    '; PAIR first, second: two dwords',
    '%macro PAIR 2',
    '    dd %1, %2',
    '%endmacro',
    '%macro SOME 1-3 5',
    '    db %1',
    '%endmacro',
    'section .text',
    '_start:',
    '    HYPERCALL console_io',
    '    PAIR 1, 2',
    'here: SOME {a, b}, (1 + 2), 3',
    '    SOME [a, b',
    '    XEN_ELFNOTE ENTRY, 1, 2, 3',
    '    mov eax, 1 ; PAIR 1, 2',
    '    PAIR',
    // being typed: no argument yet (the assembler reads no macro call here, but a word alone)
    '    HYPERCALL ',
    '    PAIR ',
  ].join('\n') + '\n';
  interface Help { signatures: { label: string; documentation: string; parameters: { label: [number, number] }[] }[]; activeParameter: number }
  const help = (p: Pos) => client.request<Help | null>('textDocument/signatureHelp', path, { position: p });
  const labels = (h: Help) => h.signatures[0].parameters.map((p) => h.signatures[0].label.slice(...p.label));

  beforeAll(async () => {
    await client.initialize();
    await client.open(path, text);
  });
  afterAll(() => client.dispose());

  it('names xen.inc macro parameters from their comment and shows it', async () => {
    const h = (await help(after(text, 'HYPERCALL ')))!;
    expect(h.signatures[0].label).toBe('HYPERCALL name');
    expect(labels(h)).toEqual(['name']);
    expect(h.activeParameter).toBe(0);
    expect(h.signatures[0].documentation).toMatch(/^macro \(built-in xen\.inc\), 1 parameter\n\nHYPERCALL name: trap straight into Xen/);
  });

  it('follows the commas to the active parameter', async () => {
    const h = (await help(after(text, 'PAIR 1, ')))!;
    expect(h.signatures[0].label).toBe('PAIR first, second');
    expect(h.activeParameter).toBe(1);
    expect((await help(after(text, '    PAIR 1')))!.activeParameter).toBe(0);
  });

  it('counts the commas a macro call splits at (all but those in braces); %1.. for a macro without a named comment', async () => {
    const h = (await help(after(text, 'SOME {a, b}, (1 + 2), ')))!;
    expect(h.signatures[0].label).toBe('SOME %1, [%2 = 5], [%3]');
    expect(labels(h)).toEqual(['%1', '[%2 = 5]', '[%3]']);
    expect(h.activeParameter).toBe(2);
    expect((await help(after(text, 'SOME [a, b')))!.activeParameter).toBe(1);
    expect(h.signatures[0].documentation).toMatch(/^macro \(sig\.xasm:7\), 1 to 3 parameters$/);
  });

  it('keeps a greedy last parameter active past its commas', async () => {
    const h = (await help(after(text, 'XEN_ELFNOTE ENTRY, 1, 2, ')))!;
    expect(h.signatures[0].label).toBe('XEN_ELFNOTE TYPE, desc...');
    expect(h.activeParameter).toBe(1);
  });

  it('helps from the space after the name on, before any argument is typed', async () => {
    const end = (line: string) => ({ line: lines(text).lastIndexOf(line), character: line.length });
    expect((await help(end('    HYPERCALL ')))!.signatures[0].label).toBe('HYPERCALL name');
    expect((await help(end('    PAIR ')))!.signatures[0].label).toBe('PAIR first, second');
    // and the word is the macro for hover and definition too, not a label of its own
    const at = { line: lines(text).lastIndexOf('    HYPERCALL '), character: 6 };
    const def = await client.request<{ uri: string } | null>('textDocument/definition', path, { position: at });
    expect(def?.uri).toBe('xenolab-builtin:/xen.inc');
  });

  it('offers nothing for instructions, in comments, or before the space after the name', async () => {
    expect(await help(after(text, 'mov eax, '))).toBeNull();
    expect(await help(after(text, '; PAIR 1, '))).toBeNull();
    expect(await help({ line: lineOf(text, '    PAIR', lineOf(text, 'mov eax, 1')), character: 8 })).toBeNull();
  });
});

describe('workspace symbols and navigation into files that are not open', () => {
  const dir = mkdtempSync(join(tmpdir(), 'xenolab-ws-'));
  const main = join(dir, 'main.xasm'), lib = join(dir, 'lib.inc'), other = join(dir, 'sub', 'other.xasm');
  const mainText = [
    'bits 32',
    '%include "lib.inc"',
    'org 0xC0000000',
    'section .text',
    'global _start',
    '_start:',
    '    mov esp, stack_top',
    '    call lib_func',
    '    call lib_func',
    '.spin: jmp .spin',
    'section .bss',
    '    resb 4096',
    'stack_top:',
  ].join('\n') + '\n';
  const libText = '; lib.inc: included by main.xasm\nlib_func:\n    mov eax, stack_top\n    ret\n';
  mkdirSync(join(dir, 'sub'));
  mkdirSync(join(dir, 'node_modules'));
  mkdirSync(join(dir, '.hidden'));
  writeFileSync(main, mainText);
  writeFileSync(lib, libText);
  writeFileSync(other, 'bits 32\nsection .text\nother_entry:\n    ret\n');
  writeFileSync(join(dir, 'node_modules', 'dep.inc'), 'dep_label:\n    ret\n');
  writeFileSync(join(dir, '.hidden', 'h.xasm'), 'hidden_label:\n    ret\n');
  writeFileSync(join(dir, 'notes.txt'), 'text_label:\n');

  const client = new Client({ readText: nodeFiles.readText, listFiles });
  beforeAll(async () => {
    await client.initialize({ workspaceFolders: [{ uri: pathToUri(dir), name: 'ws' }] });
    await client.open(lib, libText);
  });
  afterAll(() => {
    client.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Sym { name: string; kind: number; location: { uri: string; range: Rng } }
  const symbols = (query: string) => client.conn.sendRequest('workspace/symbol', { query }) as Promise<Sym[]>;

  it('indexes a file created after it started, and forgets one deleted (didChangeWatchedFiles)', async () => {
    const added = join(dir, 'sub', 'added.xasm');
    writeFileSync(added, 'bits 32\nsection .text\nadded_entry:\n    ret\n');
    client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToUri(added), type: 1 }] });
    await vi.waitFor(async () => expect((await symbols('added_entry')).map((x) => x.location.uri)).toEqual([pathToUri(added)]));
    rmSync(added);
    client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToUri(added), type: 3 }] });
    await vi.waitFor(async () => expect(await symbols('added_entry')).toEqual([]));
  });

  it('indexes a workspace folder added later, and forgets one removed (didChangeWorkspaceFolders)', async () => {
    const more = mkdtempSync(join(tmpdir(), 'xenolab-ws2-'));
    writeFileSync(join(more, 'more.xasm'), 'bits 32\nsection .text\nmore_entry:\n    ret\n');
    const c = new Client({ readText: nodeFiles.readText, listFiles });
    await c.initialize({ workspaceFolders: [{ uri: pathToUri(dir), name: 'ws' }], capabilities: { workspace: { workspaceFolders: true } } });
    const find = async (q: string) => ((await c.conn.sendRequest('workspace/symbol', { query: q })) as Sym[]).map((x) => x.name);
    expect(await find('more_entry')).toEqual([]);
    const folder = { uri: pathToUri(more), name: 'more' };
    c.conn.sendNotification('workspace/didChangeWorkspaceFolders', { event: { added: [folder], removed: [] } });
    await vi.waitFor(async () => expect(await find('more_entry')).toEqual(['more_entry']));
    c.conn.sendNotification('workspace/didChangeWorkspaceFolders', { event: { added: [], removed: [folder] } });
    await vi.waitFor(async () => expect(await find('more_entry')).toEqual([]));
    c.dispose();
    rmSync(more, { recursive: true, force: true });
  });

  it('names the guest source that includes a file (xenolab/includedBy), and none for a file nothing includes', async () => {
    const includer = (path: string) => client.conn.sendRequest('xenolab/includedBy', { textDocument: { uri: pathToUri(path) } });
    expect(await includer(lib)).toBe(pathToUri(main));
    expect(await includer(other)).toBeNull();
    expect(await includer(join(dir, 'node_modules', 'dep.inc'))).toBeNull();
    // a fresh server, asked first thing: it indexes the workspace to answer
    const fresh = new Client({ readText: nodeFiles.readText, listFiles });
    await fresh.initialize({ workspaceFolders: [{ uri: pathToUri(dir), name: 'ws' }] });
    expect(await fresh.conn.sendRequest('xenolab/includedBy', { textDocument: { uri: pathToUri(lib) } })).toBe(pathToUri(main));
    fresh.dispose();
  });

  it('answers other requests while it indexes a large workspace to say a file is included by nothing', async () => {
    const big = mkdtempSync(join(tmpdir(), 'xenolab-big-'));
    for (let i = 0; i < 300; i++) writeFileSync(join(big, `g${i}.xasm`), `bits 32\nsection .text\ng${i}_entry:\n${'    nop\n'.repeat(50)}    ret\n`);
    writeFileSync(join(big, 'alone.inc'), 'alone:\n    ret\n');
    const c = new Client({ readText: nodeFiles.readText, listFiles });
    await c.initialize({ workspaceFolders: [{ uri: pathToUri(big), name: 'big' }] });
    const open = join(big, 'g0.xasm');
    await c.open(open, readFileSync(open, 'utf8'));
    const order: string[] = [];
    const includedBy = c.conn.sendRequest('xenolab/includedBy', { textDocument: { uri: pathToUri(join(big, 'alone.inc')) } }).then((r) => {
      order.push('includedBy');
      return r;
    });
    const hover = c.request('textDocument/hover', open, { position: { line: 2, character: 2 } }).then(() => order.push('hover'));
    expect(await includedBy).toBeNull();
    await hover;
    expect(order).toEqual(['hover', 'includedBy']);
    c.dispose();
    rmSync(big, { recursive: true, force: true });
  });

  it('lists the node provider\'s source files, skipping hidden and dependency folders', () => {
    expect(listFiles(dir, ['.xasm', '.inc'], 100)).toEqual([lib, main, other]);
    expect(listFiles(dir, ['.xasm', '.inc'], 2)).toEqual([lib, main]);
  });

  it('finds symbols of files that are not open, by subsequence', async () => {
    const stack = await symbols('stktop');
    expect(stack).toEqual([{ name: 'stack_top', kind: 12, location: { uri: pathToUri(main), range: { start: { line: 12, character: 0 }, end: { line: 12, character: 9 } } } }]);
    expect((await symbols('other')).map((s) => [s.name, s.location.uri])).toEqual([['other_entry', pathToUri(other)]]);
    expect((await symbols('lib_func')).map((s) => s.location.uri)).toEqual([pathToUri(lib)]); // once, though two assemblies define it
    expect(await symbols('hidden_label')).toEqual([]);
    expect(await symbols('dep_label')).toEqual([]);
    expect(await symbols('text_label')).toEqual([]);
  });

  it('goes to a definition in a file that includes the open one', async () => {
    const def = await client.request<{ uri: string; range: Rng }>('textDocument/definition', lib, { position: { line: 2, character: 15 } });
    expect(def).toEqual({ uri: pathToUri(main), range: { start: { line: 12, character: 0 }, end: { line: 12, character: 9 } } });
  });

  it('finds references and renames in files that are not open', async () => {
    const refs = await client.request<{ uri: string; range: Rng }[]>('textDocument/references', lib, { position: { line: 1, character: 2 }, context: { includeDeclaration: true } });
    expect(refs.map((r) => [r.uri === pathToUri(lib) ? 'lib' : 'main', r.range.start.line, r.range.start.character])).toEqual([['lib', 1, 0], ['main', 7, 9], ['main', 8, 9]]);
    const edit = await client.request<{ changes: Record<string, TextEdit[]> }>('textDocument/rename', lib, { position: { line: 1, character: 2 }, newName: 'helper' });
    expect(apply(mainText, edit.changes[pathToUri(main)])).toBe(mainText.replaceAll('lib_func', 'helper'));
    expect(apply(libText, edit.changes[pathToUri(lib)])).toBe(libText.replace('lib_func:', 'helper:'));
  });

  it('follows edits of the open file (the including file is read again with its new text)', async () => {
    await client.replace(lib, '; moved\n' + libText);
    const def = await client.request<{ uri: string; range: Rng }>('textDocument/definition', lib, { position: { line: 3, character: 15 } });
    expect(def?.uri).toBe(pathToUri(main));
    const refs = await client.request<{ uri: string; range: Rng }[]>('textDocument/references', lib, { position: { line: 2, character: 2 }, context: { includeDeclaration: false } });
    expect(refs.map((r) => r.range.start.line)).toEqual([7, 8]);
  });

  it('offers to include a workspace .inc file that defines a name the document uses', async () => {
    const user = join(dir, 'user.xasm');
    const text = 'bits 32\nsection .text\nstart:\n    call lib_func\n    ret\nstack_top:\n';
    const diags = await client.open(user, text);
    expect(diags.map((d) => d.code)).toEqual(['asm']);
    const actions = await client.request<{ title: string; edit: { changes: Record<string, TextEdit[]> } }[]>('textDocument/codeAction', user, {
      range: { start: { line: 3, character: 9 }, end: { line: 3, character: 9 } }, context: { diagnostics: [] },
    });
    const include = actions.find((a) => a.title.startsWith('Add %include "lib.inc"'));
    expect(include, actions.map((a) => a.title).join(', ')).toBeDefined();
    const fixed = apply(text, include!.edit.changes[pathToUri(user)]);
    expect(fixed).toContain('%include "lib.inc"');
    expect(await client.replace(user, fixed)).toEqual([]);
    client.close(user);
  });

  it('a host with no file listing (the browser worker) has no workspace files', async () => {
    const bare = new Client({ readText: nodeFiles.readText });
    await bare.initialize({ workspaceFolders: [{ uri: pathToUri(dir), name: 'ws' }] });
    await bare.open(lib, libText);
    expect(await bare.conn.sendRequest('workspace/symbol', { query: 'stack_top' })).toEqual([]);
    expect(await bare.request('textDocument/definition', lib, { position: { line: 2, character: 15 } })).toBeNull();
    bare.dispose();
  });
});

describe('folding ranges', () => {
  const client = new Client({ readText: () => null });
  const path = '/virtual/fold.xasm';
  const text = [
    '; a header comment',       // 0
    '; on two lines',           // 1
    'bits 32',                  // 2
    '%macro TWICE 1',           // 3
    '    %1',                   // 4
    '    %1',                   // 5
    '%endmacro',                // 6
    '%ifdef DEBUG',             // 7
    '    nop',                  // 8
    '    nop',                  // 9
    '%else',                    // 10
    '    int3',                 // 11
    '    int3',                 // 12
    '%endif',                   // 13
    'section .text',            // 14
    'f:',                       // 15
    '    mov eax, 1',           // 16
    '.local:',                  // 17
    '    dec eax',              // 18
    '    jnz .local',           // 19
    '    ret',                  // 20
    '    align 16',             // 21 (g's padding, not f's)
    '; the next function',      // 22
    '; is g',                   // 23
    'g:',                       // 24
    '    ret',                  // 25
    'K equ 5',                  // 26
    'section .data',            // 27
    'msg: db "a;b", 0',         // 28
    'len equ $ - msg',          // 29
  ].join('\n') + '\n';

  beforeAll(async () => {
    await client.initialize();
    await client.open(path, text);
  });
  afterAll(() => client.dispose());

  it('folds macros, conditional branches, sections, functions and comment runs', async () => {
    const folds = await client.request<{ startLine: number; endLine: number; kind?: string }[]>('textDocument/foldingRange', path);
    expect(folds.map((f) => [f.startLine, f.endLine, f.kind ?? ''])).toEqual([
      [0, 1, 'comment'],
      [3, 5, ''],
      [7, 9, ''],
      [10, 12, ''],
      [14, 26, ''],
      [15, 20, ''],
      [22, 23, 'comment'],
      [24, 26, ''],
      [27, 29, ''],
      [28, 29, ''],
    ]);
  });
});

describe('inlay hints', () => {
  const client = new Client({ readText: () => null });
  const path = '/virtual/hints.xasm';
  const text = readFileSync(join(__dirname, 'features', 'hints.xasm'), 'utf8');
  interface Hint { position: Pos; label: string; kind: number }
  let hints: Hint[] = [];

  beforeAll(async () => {
    await client.initialize();
    await client.open(path, text);
    hints = await client.request<Hint[]>('textDocument/inlayHint', path, { range: { start: { line: 0, character: 0 }, end: { line: lines(text).length, character: 0 } } });
  });
  afterAll(() => client.dispose());

  it('names the hypercall of a mov eax, N that reaches int 0x82, and the start_info fields of [esi + N]', () => {
    // Each line of the fixture that must have a hint says so: `; hint: LABEL`. No other line may have one.
    const expected = lines(text).flatMap((l, line) => {
      const m = /; hint: (.*)$/.exec(l);
      if (!m || /^\s*;/.test(l)) return [];
      const code = l.slice(0, l.indexOf(';')).trimEnd();
      return [{ line, character: code.length, label: m[1] }];
    });
    expect(expected.length).toBe(6);
    expect(hints.map((h) => ({ line: h.position.line, character: h.position.character, label: h.label }))).toEqual(expected);
  });

  it('hints only the lines asked for', async () => {
    const line = lineOf(text, 'mov eax, 18');
    const some = await client.request<Hint[]>('textDocument/inlayHint', path, { range: { start: { line, character: 0 }, end: { line, character: 99 } } });
    expect(some.map((h) => h.label)).toEqual(['console_io']);
  });
});

describe('formatting', () => {
  const client = new Client({ readText: nodeFiles.readText });
  beforeAll(() => client.initialize());
  afterAll(() => client.dispose());

  const seeds: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith('.xasm')) seeds.push(p);
    }
  };
  walk(join(ROOT, 'seeds'));
  const bytes = (path: string, text: string) => {
    const r = assemble({ path, text, provider: nodeProvider() });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    // the line table too (formatting moves columns, never lines)
    const rows = r.image.lines.map((l) => ({ ...l, column: 0 }));
    return { binary: Buffer.from(flatBinary(r.image)).toString('hex'), symbols: r.image.symbols, notes: r.image.notes, rows };
  };

  for (const options of [FORMAT, { tabSize: 8, insertSpaces: false }]) {
    it(`formats every seed (${options.insertSpaces ? 'spaces' : 'tabs'}) without changing what it assembles to; formatting twice is once`, async () => {
      expect(seeds.length).toBeGreaterThanOrEqual(9);
      for (const path of seeds) {
        const text = readFileSync(path, 'utf8');
        await client.open(path, text);
        const edits = await client.request<TextEdit[]>('textDocument/formatting', path, { options });
        expect(edits.length, path).toBeGreaterThan(0);
        const once = apply(text, edits);
        expect(lines(once).length).toBe(lines(text).length);
        expect(bytes(path, once), path).toEqual(bytes(path, text));
        await client.replace(path, once);
        expect(await client.request('textDocument/formatting', path, { options }), path).toEqual([]);
        client.close(path);
      }
    });
  }

  it('formats seeds with their whitespace scrambled (and CRLF line ends) back to the same bytes, idempotently', async () => {
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const space = () => [' ', '  ', '\t', ' \t ', '     '][rand(5)];
    for (const path of seeds) {
      const text = readFileSync(path, 'utf8');
      // every run of blanks between tokens (not in strings, comments or preprocessor lines) made another, some added at commas and line starts
      const out = lines(text).map((l) => {
        if (/^\s*%|\\\s*$/.test(l)) return l;
        const [code, ...comment] = l.split(';');
        if (/["'`]/.test(code)) return l;
        const scrambled = code.replace(/[ \t]+/g, space).replace(/,/g, () => [',', ' ,', ', '][rand(3)]);
        return (rand(3) === 0 ? space() : '') + [scrambled, ...comment].join(';');
      });
      const scrambled = out.join(rand(2) ? '\r\n' : '\n');
      expect(bytes(path, scrambled), path).toEqual(bytes(path, text));
      await client.open(path, scrambled);
      const once = apply(scrambled, await client.request<TextEdit[]>('textDocument/formatting', path, { options: FORMAT }));
      expect(bytes(path, once), path).toEqual(bytes(path, text));
      await client.replace(path, once);
      expect(await client.request('textDocument/formatting', path, { options: FORMAT }), path).toEqual([]);
      client.close(path);
    }
  });

  const path = '/virtual/format.xasm';
  const messy = [
    '  bits 32',
    '%define TWO  2',
    '   start:   mov   eax ,1   ; one',
    '.l:  dec eax',
    '\tjnz .l        ; loop',
    '                  ; its second line',
    '                ; not its second line',
    'data_label    dd  1,2 ,  3',
    'K   equ   4',
    ' ; a comment',
    '; at the margin',
    '    db "a ,  b" ,0',
    '    mov eax, [ ebx +  4 ]   ',
    '    lock   add [eax], ebx',
    'HYPERCALL   sched_op,  x ,y',
    'long_label: ret',
    'table:      dd  1,2',
    'table2: dd 3',
    'pad:\t\ttimes 2 db 0',
    'start2:     mov eax,1',
    '    mov eax, \\',
    '      1',
  ].join('\n') + '\n';
  const formatted = [
    '  bits 32',
    '%define TWO  2',
    'start: mov eax, 1          ; one',
    '.l: dec eax',
    '    jnz .l        ; loop',
    '                  ; its second line',
    '    ; not its second line',
    'data_label    dd 1, 2, 3',
    'K   equ   4',
    '    ; a comment',
    '; at the margin',
    '    db "a ,  b", 0',
    '    mov eax, [ ebx + 4 ]',
    '    lock add [eax], ebx',
    '    HYPERCALL sched_op,  x ,y',
    'long_label: ret',
    'table:      dd 1, 2',
    'table2: dd 3',
    'pad:\t\ttimes 2 db 0',
    'start2: mov eax, 1',
    '    mov eax, \\',
    '      1',
  ].join('\n') + '\n';

  it('lays a file out as NASM does: labels at 0, code indented, operands after one space, comments kept', async () => {
    await client.open(path, messy);
    const edits = await client.request<TextEdit[]>('textDocument/formatting', path, { options: FORMAT });
    expect(apply(messy, edits)).toBe(formatted);
  });

  it('uses the tab size and tabs when asked', async () => {
    const edits = await client.request<TextEdit[]>('textDocument/formatting', path, { options: { tabSize: 8, insertSpaces: false } });
    const out = lines(apply(messy, edits));
    expect(out[3]).toBe('.l:\tdec eax');
    expect(out[13]).toBe('\tlock add [eax], ebx');
  });

  it('formats only the lines of a range', async () => {
    const edits = await client.request<TextEdit[]>('textDocument/rangeFormatting', path, { options: FORMAT, range: { start: { line: 3, character: 0 }, end: { line: 5, character: 0 } } });
    expect(edits.map((e) => e.range.start.line)).toEqual([3, 4]);
    expect(apply(messy, edits)).toBe(lines(messy).map((l, i) => (i === 3 || i === 4 ? lines(formatted)[i] : l)).join('\n'));
  });
});

describe('code lenses', () => {
  const client = new Client({ readText: () => null });
  const path = '/virtual/hints.xasm';
  const text = readFileSync(join(__dirname, 'features', 'hints.xasm'), 'utf8');
  beforeAll(async () => {
    await client.initialize();
    await client.open(path, text);
  });
  afterAll(() => client.dispose());

  it('counts hypercalls in loops, their hypervisor entries when the trip count is known, and references to functions', async () => {
    const lenses = await client.request<{ range: Rng; command: { title: string } }[]>('textDocument/codeLens', path);
    expect(lenses.map((l) => [l.range.start.line, l.command.title])).toEqual([
      [lineOf(text, '.yield:'), '1 hypercall in this loop'],
      [lineOf(text, '.yield:'), 'loop of 3 iterations → 3 hypervisor entries'],
      [lineOf(text, '.maybe:'), '1 hypercall in this loop'],
      [lineOf(text, '.maybe:'), 'loop of 5 iterations → up to 5 hypervisor entries'],
      [lineOf(text, '.calls:'), '1 hypercall in this loop (1 in the functions it calls)'],
      [lineOf(text, '.calls:'), 'loop of 4 iterations'],
      [lineOf(text, 'nested:'), '3 references'],
      [lineOf(text, '.outer:'), '1 hypercall in this loop'],
      [lineOf(text, '.outer:'), 'loop of 3 iterations'],
      [lineOf(text, '.inner:'), '1 hypercall in this loop'],
      [lineOf(text, '.inner:'), 'loop of 2 iterations → 2 hypervisor entries'],
    ]);
  });
});

describe('settings', () => {
  const path = '/virtual/settings.xasm';
  const text = 'bits 32\nsection .text\n_start:\n    cli\n    ret\n';
  const privileged = (d: Diagnostic[]) => d.some((x) => x.code === 'privileged-instruction');

  it('pulls xenolab settings with workspace/configuration, registers for changes, and pulls them again on a change', async () => {
    const client = new Client({ readText: () => null });
    let answer: unknown = { rules: { 'privileged-instruction': 'off' } };
    const asked: unknown[] = [];
    const registered: string[] = [];
    client.conn.onRequest('workspace/configuration', (p: { items: unknown[] }) => {
      asked.push(p.items);
      return [answer];
    });
    client.conn.onRequest('client/registerCapability', (p: { registrations: { method: string }[] }) => {
      registered.push(...p.registrations.map((r) => r.method));
      return null;
    });
    await client.initialize({ capabilities: { workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true } } } });
    await client.open(path, text);
    await client.eventually(path, (d) => !privileged(d));
    expect(asked[0]).toEqual([{ section: 'xenolab' }]);
    expect(registered).toEqual(['workspace/didChangeConfiguration']);
    answer = null;
    client.conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    await client.eventually(path, privileged);
    expect(asked.length).toBe(2);
    client.dispose();
  });

  it('the manifest\'s defaults (what VS Code sends when nothing is set) keep each finding\'s own severity: an assembler warning stays a warning', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default?: unknown }> }[] } };
    const rules: Record<string, unknown> = {};
    for (const section of manifest.contributes.configuration) {
      for (const [key, p] of Object.entries(section.properties)) if (key.startsWith('xenolab.rules.')) rules[key.slice('xenolab.rules.'.length)] = p.default;
    }
    expect(Object.keys(rules).length).toBeGreaterThan(5);
    const client = new Client({ readText: () => null });
    await client.initialize({ initializationOptions: { rules } });
    const d = await client.open('/virtual/defaults.xasm', 'bits 32\nsection .text\norphan\n    cli\n');
    expect(d.map((x) => [x.code, x.severity])).toEqual([['asm', 2], ['privileged-instruction', 1]]);
    client.dispose();
  });

  it('a client without workspace/configuration still pushes settings, and initializationOptions still apply', async () => {
    const client = new Client({ readText: () => null });
    await client.initialize({ initializationOptions: { rules: { 'privileged-instruction': 'off' } } });
    expect(privileged(await client.open(path, text))).toBe(false);
    // settings of another section change nothing of xenolab's
    client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { editor: { tabSize: 2 } } });
    expect(privileged(await client.replace(path, text + '\n'))).toBe(false);
    client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { xenolab: { rules: { 'privileged-instruction': 'warning' } } } });
    await client.eventually(path, privileged);
    client.dispose();
  });
});

describe('a document is analysed again when a file it includes changes', () => {
  // The files on "disk": what the server reads for a file that is not open.
  const disk = new Map<string, string>([['/w/lib.inc', '; nothing yet\n']]);
  const main = '/w/src/main.xasm';
  const mainText = 'bits 32\n%include "../lib.inc"\nmov eax, LIMIT\n';
  const undefinedLimit = (d: Diagnostic[]) => d.some((x) => x.message === "symbol 'LIMIT' is not defined");
  const registrations: unknown[] = [];
  const client = new InProcessClient({ readText: (path) => disk.get(path) ?? null });
  beforeAll(async () => {
    client.conn.onRequest('client/registerCapability', (p: { registrations: unknown[] }) => {
      registrations.push(...p.registrations);
    });
    await client.initialize({ capabilities: { workspace: { didChangeWatchedFiles: { dynamicRegistration: true } } } });
  });
  afterAll(() => client.dispose());

  it('an include open in the editor: its text there, edited or closed', async () => {
    await client.open('/w/lib.inc', 'LIMIT equ 5\n');
    // `../lib.inc` from src/ is the open document, not the file on disk
    expect(await client.open(main, mainText)).toEqual([]);
    await client.replace('/w/lib.inc', '; LIMIT is gone\n');
    await client.eventually(main, undefinedLimit);
    await client.replace('/w/lib.inc', 'LIMIT equ 6\n');
    await client.eventually(main, (d) => d.length === 0);
    client.close('/w/lib.inc'); // read from the disk again, where it has no LIMIT
    await client.eventually(main, undefinedLimit);
  });

  it('an include not beside the file is looked for in the workspace folders, as xenolab lint looks where it runs', async () => {
    const files = new Map([['/w3/inc/k.inc', 'K equ 5\n']]);
    const c = new InProcessClient({ readText: (p) => files.get(p) ?? null });
    await c.initialize({ workspaceFolders: [{ uri: pathToUri('/w3'), name: 'w3' }] });
    expect(await c.open('/w3/src/m.xasm', 'bits 32\n%include "inc/k.inc"\ndb K\n')).toEqual([]);
    const links = await c.request<{ target: string }[]>('textDocument/documentLink', '/w3/src/m.xasm');
    expect(links.map((l) => l.target)).toEqual([pathToUri('/w3/inc/k.inc')]);
    c.dispose();
  });

  it('links each %include to its file, and goes to the file from its name', async () => {
    const text = '; %include "not.inc" in a comment\nbits 32\n%include "../lib.inc" ; the library\n%include "xen.inc"\n%include "missing.inc"\n';
    await client.open('/w/src/links.xasm', text);
    const links = await client.request<{ range: Rng; target: string }[]>('textDocument/documentLink', '/w/src/links.xasm');
    // xen.inc is built in (no file to open), missing.inc is nowhere
    expect(links.map((l) => [l.range, l.target])).toEqual([[{ start: { line: 2, character: 9 }, end: { line: 2, character: 21 } }, pathToUri('/w/lib.inc')]]);
    const def = await client.request<{ uri: string }>('textDocument/definition', '/w/src/links.xasm', { position: { line: 2, character: 14 } });
    expect(def.uri).toBe(pathToUri('/w/lib.inc'));
    expect(await client.request('textDocument/definition', '/w/src/links.xasm', { position: { line: 2, character: 25 } })).toBeNull();
  });

  it('an include that is not open, changed on disk (the server asks the client to watch the files)', async () => {
    expect(registrations).toContainEqual(expect.objectContaining({ method: 'workspace/didChangeWatchedFiles' }));
    disk.set('/w/lib.inc', 'LIMIT equ 7\n');
    client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: pathToUri('/w/lib.inc'), type: 2 }] });
    await client.eventually(main, (d) => d.length === 0);
  });
});

describe('an include file is checked as part of the file that includes it', () => {
  // lib.inc uses stack_top and the PUTS macro, which main.xasm defines before including it.
  const disk = new Map<string, string>([
    ['/v/main.xasm', 'bits 32\n%macro PUTS 1\n    mov eax, %1\n%endmacro\nsection .text\n_start: call lib_func\n%include "lib.inc"\nstack_top:\n'],
    ['/v/other.xasm', 'bits 32\nnop\n'],
  ]);
  const libText = 'lib_func:\n    mov eax, stack_top\n    PUTS 1\n    mov ebx, nowhere\n    ret\n';
  const messages = (d: Diagnostic[]) => d.map((x) => `${x.range.start.line}: ${x.message}`);
  const undefinedOnly = ['3: symbol \'nowhere\' is not defined'];

  it('names the includer defines are not undefined (a workspace file that is not open, indexed in the background)', async () => {
    const client = new InProcessClient({ readText: (p) => disk.get(p) ?? null, listFiles: () => [...disk.keys()] });
    await client.initialize({ workspaceFolders: [{ uri: pathToUri('/v'), name: 'v' }] });
    await client.open('/v/lib.inc', libText);
    await client.eventually('/v/lib.inc', (d) => messages(d).join() === undefinedOnly.join());
    // edited: its includer is assembled again with the new text, and still defines them
    await client.replace('/v/lib.inc', libText.replace('PUTS 1', 'PUTS 2'));
    await client.eventually('/v/lib.inc', (d) => messages(d).join() === undefinedOnly.join());
    client.dispose();
  });

  it('through a file between: the outermost includer\'s names count (not the one between, which defines none)', async () => {
    const files = new Map<string, string>([
      ['/n/mid.inc', '%include "leaf.inc"\n'],
      ['/n/main.xasm', 'bits 32\nMAIN_VAL equ 7\n%include "mid.inc"\n'],
    ]);
    const client = new InProcessClient({ readText: (p) => files.get(p) ?? null, listFiles: () => [...files.keys()] });
    await client.initialize({ workspaceFolders: [{ uri: pathToUri('/n'), name: 'n' }] });
    await client.open('/n/leaf.inc', 'mov eax, MAIN_VAL\n');
    await client.eventually('/n/leaf.inc', (d) => d.length === 0);
    client.dispose();
  });

  it('a workspace file open with an undefined name is analysed once: its own index is no includer of it', async () => {
    const files = new Map([['/u/alone.xasm', 'bits 32\nmov eax, nowhere\n'], ['/u/other.xasm', 'bits 32\nnop\n']]);
    const client = new InProcessClient({ readText: (p) => files.get(p) ?? null, listFiles: () => [...files.keys()] });
    await client.initialize({ workspaceFolders: [{ uri: pathToUri('/u'), name: 'u' }] });
    await client.open('/u/alone.xasm', files.get('/u/alone.xasm')!);
    await new Promise((r) => setTimeout(r, 300)); // the workspace indexed in the background meanwhile
    expect(client.publishedVersions('/u/alone.xasm')).toEqual([1]);
    client.dispose();
  });

  it('nor when the includer is open, and they are again when it stops defining them', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize();
    const main = disk.get('/v/main.xasm')!;
    await client.open('/v/lib.inc', libText);
    // main.xasm opened after: lib.inc is checked again as part of it; main.xasm shows lib.inc's error at its %include
    expect(messages(await client.open('/v/main.xasm', main))).toEqual(["6: symbol 'nowhere' is not defined"]);
    await client.eventually('/v/lib.inc', (d) => messages(d).join() === undefinedOnly.join());
    await client.replace('/v/main.xasm', main.replace('stack_top:\n', ''));
    await client.eventually('/v/lib.inc', (d) => messages(d).includes("1: symbol 'stack_top' is not defined"));
    client.dispose();
  });

  it('completion and navigation in it know its includer\'s names', async () => {
    const client = new InProcessClient({ readText: (p) => disk.get(p) ?? null, listFiles: () => [...disk.keys()] });
    await client.initialize({ workspaceFolders: [{ uri: pathToUri('/v'), name: 'v' }] });
    await client.open('/v/lib.inc', libText);
    await client.eventually('/v/lib.inc', (d) => messages(d).join() === undefinedOnly.join());
    const items = await client.request<{ items: { label: string }[] } | { label: string }[]>('textDocument/completion', '/v/lib.inc', { position: { line: 1, character: 18 } });
    const labels = (Array.isArray(items) ? items : items.items).map((i) => i.label);
    expect(labels).toContain('stack_top');
    const def = await client.request<{ uri: string; range: Rng }>('textDocument/definition', '/v/lib.inc', { position: { line: 1, character: 15 } });
    expect(def).toEqual({ uri: pathToUri('/v/main.xasm'), range: { start: { line: 7, character: 0 }, end: { line: 7, character: 9 } } });
    client.dispose();
  });

  it('documents that include each other: each edit is answered, and they do not analyse each other for ever', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize();
    await client.open('/w2/a.xasm', 'bits 32\n%include "b.inc"\nmov eax, from_b\nfrom_a: nop\n');
    await client.open('/w2/b.inc', '%include "a.xasm"\nmov ebx, from_a\nfrom_b: nop\nmov ecx, nowhere\n');
    const edits: [string, string][] = [['/w2/b.inc', 'mov edx, nowhere2\n'], ['/w2/a.xasm', 'x\n'], ['/w2/b.inc', 'mov esi, from_a\n'], ['/w2/a.xasm', 'from_b:\n']];
    for (const [doc, text] of edits) {
      const d = await client.change(doc, { start: { line: 1, character: 0 }, end: { line: 1, character: 0 } }, text);
      expect(d.some((x) => String(x.message).includes('nested more than 64 deep'))).toBe(true);
    }
    // quiet afterwards: nothing more is published once the last edit's analyses are done
    const count = () => client.publishedCount();
    await new Promise((r) => setTimeout(r, 300));
    const settled = count();
    await new Promise((r) => setTimeout(r, 300));
    expect(count()).toBe(settled);
    client.dispose();
  });

  it('a file nothing includes reports its undefined names', async () => {
    const client = new InProcessClient({ readText: (p) => disk.get(p) ?? null, listFiles: () => [...disk.keys()] });
    await client.initialize({ workspaceFolders: [{ uri: pathToUri('/v'), name: 'v' }] });
    expect(messages(await client.open('/v/alone.inc', libText))).toEqual([
      "1: symbol 'stack_top' is not defined", "2: unknown instruction 'puts'", ...undefinedOnly,
    ]);
    client.dispose();
  });
});

describe('changes that come together', () => {
  it('are analysed once, at the newest version', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize();
    await client.open('/burst/a.xasm', 'bits 32\nstart:\n    nop\n');
    // sent at once: the server reads them before it analyses anything
    const versions = ['    cli\n', '    hlt\n', '    mov eax, 1\n', '    jmp start\n', '    sti\n'].map((text) =>
      client.change('/burst/a.xasm', { start: { line: 2, character: 0 }, end: { line: 2, character: 0 } }, text));
    const newest = await versions[versions.length - 1];
    expect(newest.filter((d) => d.code === 'privileged-instruction').map((d) => d.range.start.line)).toEqual([2, 5, 6]);
    expect(client.publishedVersions('/burst/a.xasm')).toEqual([1, 6]);
    client.dispose();
  });
});
