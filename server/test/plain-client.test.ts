// A client that says it can take little (capabilities with no textDocument part, no
// built-in files): what the server sends it instead, and the LSP rules that hold for any client.

import { describe, expect, it } from 'vitest';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { TextEdit, WorkspaceEdit } from 'vscode-languageserver/node';
import { InProcessClient } from './inprocess.js';

const TEXT = [
  'bits 32', '%include "xen.inc"', 'section .text', '_start:', '    cli', '.loop:', '    HYPERCALL_PAGE_CALL sched_op', '    jmp .loop',
  'hypercall_page: times 4096 db 0', '',
].join('\n');

describe('a plain client', () => {
  it('gets plain text, flat symbols, commands, label text and no places in built-in files', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize({ capabilities: { textDocument: {} }, initializationOptions: { builtinFiles: false } });
    const path = '/plain/a.xasm';
    const d = await client.open(path, TEXT);
    expect(d.flatMap((x) => x.relatedInformation ?? []).some((r) => r.location.uri.startsWith('xenolab-builtin:'))).toBe(false);
    const hover = await client.request<{ contents: { kind: string; value: string } }>('textDocument/hover', path, { position: { line: 4, character: 5 } });
    expect(hover.contents.kind).toBe('plaintext');
    expect(hover.contents.value).not.toMatch(/```|\*\*/);
    const symbols = await client.request<{ name: string; location?: object; containerName?: string }[]>('textDocument/documentSymbol', path);
    expect(symbols.every((s) => s.location)).toBe(true);
    expect(symbols.find((s) => s.name === '.loop')?.containerName).toBe('_start');
    const items = await client.request<{ label: string; insertText?: string; insertTextFormat?: number }[]>('textDocument/completion', path, { position: { line: 5, character: 0 } });
    const snippet = items.find((i) => i.label === 'HYPERCALL sched_op')!;
    expect(snippet.insertTextFormat).not.toBe(2);
    expect(snippet.insertText).not.toMatch(/\$/);
    const actions = await client.request<{ title: string; command: string; arguments: unknown[] }[]>('textDocument/codeAction', path, {
      range: { start: { line: 4, character: 4 }, end: { line: 4, character: 4 } }, context: { diagnostics: [] },
    });
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => a.command === 'xenolab.applyFix' && a.arguments.length === 1)).toBe(true);
    const def = await client.request('textDocument/definition', path, { position: { line: 6, character: 8 } });
    expect(def).toBeNull();
    client.dispose();
  });

  it('applies a fix it sent as a command: the server asks the client to apply its edit', async () => {
    const client = new InProcessClient({ readText: () => null });
    const edits: WorkspaceEdit[] = [];
    let applied = true;
    client.conn.onRequest('workspace/applyEdit', (p: { edit: WorkspaceEdit }): { applied: boolean; failureReason?: string } => {
      edits.push(p.edit);
      return applied ? { applied: true } : { applied: false, failureReason: 'the file changed' };
    });
    await client.initialize({ capabilities: { textDocument: {} } });
    const path = '/plain/fix.xasm';
    await client.open(path, TEXT);
    const actions = await client.request<{ title: string; command: string; arguments: unknown[] }[]>('textDocument/codeAction', path, {
      range: { start: { line: 4, character: 4 }, end: { line: 4, character: 4 } }, context: { diagnostics: [] },
    });
    const fix = actions.find((a) => a.title.startsWith('Ignore'))!;
    expect(await client.conn.sendRequest('workspace/executeCommand', { command: fix.command, arguments: fix.arguments })).toBeNull();
    expect(edits).toHaveLength(1);
    const [uri, changes] = Object.entries(edits[0].changes ?? {})[0] as [string, TextEdit[]];
    expect(uri).toBe('file:///plain/fix.xasm');
    const fixed = TextDocument.applyEdits(TextDocument.create(uri, 'xasm', 1, TEXT), changes);
    expect(fixed.split('\n')[4]).toBe('    cli ; xenolab-ignore: privileged-instruction');
    // the editor refuses: the command fails with its reason
    applied = false;
    await expect(client.conn.sendRequest('workspace/executeCommand', { command: fix.command, arguments: fix.arguments }))
      .rejects.toMatchObject({ code: -32803, message: expect.stringContaining('the file changed') });
    await expect(client.conn.sendRequest('workspace/executeCommand', { command: 'xenolab.nothing', arguments: [] })).rejects.toMatchObject({ code: -32602 });
    client.dispose();
  });

  it('gets signature parameters as label text without labelOffsetSupport', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize({ capabilities: { textDocument: {} } });
    const path = '/plain/sig.xasm';
    const text = 'bits 32\n; PAIR first, second: two dwords\n%macro PAIR 2\n    dd %1, %2\n%endmacro\nPAIR 1, \n';
    await client.open(path, text);
    const h = await client.request<{ signatures: { label: string; parameters: { label: unknown }[] }[]; activeParameter: number }>('textDocument/signatureHelp', path, { position: { line: 5, character: 8 } });
    expect(h.signatures[0].label).toBe('PAIR first, second');
    expect(h.signatures[0].parameters.map((p) => p.label)).toEqual(['first', 'second']);
    expect(h.activeParameter).toBe(1);
    client.dispose();
  });

  it('keeps initializationOptions\' rules when settings are pushed without xenolab\'s, and reads them again for an added workspace folder', async () => {
    const disk: Record<string, string> = { '/w2/defs.inc': 'PORT equ 0x60\n' };
    const client = new InProcessClient({ readText: (p) => disk[p] ?? null });
    await client.initialize({
      capabilities: { workspace: { workspaceFolders: true } }, workspaceFolders: [{ uri: 'file:///w1', name: 'w1' }],
      initializationOptions: { rules: { 'privileged-instruction': 'off' } },
    });
    const path = '/w1/main.xasm';
    const codes = (d: { code?: unknown }[]) => d.map((x) => x.code).sort();
    const d = await client.open(path, 'bits 32\n%include "defs.inc"\nsection .text\n_start:\n    cli\n    mov eax, PORT\n    jmp $\n');
    expect(codes(d)).toEqual(['asm', 'asm']); // defs.inc not found, PORT undefined; cli not reported (off)
    // a push with xenolab: null (a client sending its whole settings object) keeps the rules
    const before = client.publishedCount();
    client.conn.sendNotification('workspace/didChangeConfiguration', { settings: { xenolab: null } });
    const again = await client.eventually(path, () => client.publishedCount() > before);
    expect(codes(again)).toEqual(['asm', 'asm']);
    // the folder holding defs.inc is added: the document is analysed again and finds it
    client.conn.sendNotification('workspace/didChangeWorkspaceFolders', { event: { added: [{ uri: 'file:///w2', name: 'w2' }], removed: [] } });
    expect(await client.eventually(path, (x) => x.length === 0)).toEqual([]);
    client.dispose();
  });

  it('completes a %word with a textEdit from the %', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize();
    const path = '/plain/b.xasm';
    await client.open(path, 'bits 32\n%inc\n');
    const items = await client.request<{ label: string; textEdit?: { range: { start: { character: number } }; newText: string } }[]>('textDocument/completion', path, { position: { line: 1, character: 4 } });
    const inc = items.find((i) => i.label === '%include')!;
    expect(inc.textEdit?.range.start.character).toBe(0);
    client.dispose();
  });

  it('finds an open include by path whatever the URI spelling, and answers with that spelling', async () => {
    const client = new InProcessClient({ readText: () => null });
    await client.initialize();
    const incUri = 'file:///w/a+b/util.inc'; // VS Code would write a%2Bb
    await client.open(incUri, 'ZERO equ 0\n');
    const main = 'file:///w/a+b/main.xasm';
    const d = await client.open(main, 'bits 32\n%include "util.inc"\nmov eax, ZERO\n');
    expect(d.filter((x) => x.severity === 1)).toEqual([]);
    const def = await client.request<{ uri: string }>('textDocument/definition', main, { position: { line: 2, character: 10 } });
    expect(def.uri).toBe(incUri);
    client.dispose();
  });

  it('refuses requests before initialize and explains a refused rename', async () => {
    const client = new InProcessClient({ readText: () => null });
    client.conn.listen();
    await expect(client.conn.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///x.xasm' }, position: { line: 0, character: 0 } }))
      .rejects.toMatchObject({ code: -32002 });
    await client.conn.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    client.conn.sendNotification('initialized', {});
    const path = '/plain/c.xasm';
    await client.open(path, TEXT);
    await expect(client.request('textDocument/rename', path, { position: { line: 6, character: 8 }, newName: 'X' })).rejects.toMatchObject({ code: -32803 });
    client.dispose();
  });
});
