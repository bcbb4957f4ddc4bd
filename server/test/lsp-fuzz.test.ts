// Random edit sequences through the real server (in-process, over LSP): every version of
// every seed is analysed and its diagnostics arrive, requests at random places answer
// without an error, and the text the server ends with (built from incremental changes)
// gets the same diagnostics, code lenses, inlay hints and outline as a fresh document with
// that text.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathToUri } from '../src/server.js';
import { InProcessClient } from './inprocess.js';

const SEEDS = join(__dirname, '..', '..', 'seeds');

function guests(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? guests(p) : f.endsWith('.xasm') ? [p] : [];
  });
}

/** What editing puts in a document: fragments of real syntax, half-typed and broken. */
const FRAGMENTS = [
  '%macro m 1', '%endmacro', '%if', '%endif', '%rep 100000', '%endrep', '%include "nowhere.inc"', '%define X', '%assign n n+1',
  'mov', 'mov eax, ', '[', ']', ',', ':', '.x:', 'l:', 'jmp l', 'call .x', 'int 0x82', 'HYPERCALL mmu_update', 'HYPERCALL',
  'cli', 'mov cr3, eax', 'popf', 'times 1000000000 db 0', 'dd 0x', '"', "'", '\n', '\n\n', '; comment', 'é', '\t', 'm 1\n m 2',
  'section .data', 'org 0', 'align 4096', 'equ', 'db 1,2,', 'eax', 'byte [esi+ecx*8+0x10]', '$$', '%%', '0b102',
];

describe('random edits through the server', () => {
  const client = new InProcessClient();
  beforeAll(() => client.initialize());
  afterAll(() => client.dispose());

  for (const path of guests(SEEDS)) {
    const name = path.slice(SEEDS.length + 1);
    it(name, async () => {
      let seed = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 17);
      const rand = (n: number) => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) % n);
      const uri = pathToUri(path);
      let text = readFileSync(path, 'utf8');
      await client.open(uri, text);
      for (let i = 0; i < 25; i++) {
        const lines = text.split('\n');
        const line = rand(lines.length);
        const start = rand(lines[line].length + 1);
        const endLine = Math.min(lines.length - 1, line + (rand(4) === 0 ? rand(3) : 0));
        const end = endLine === line ? start + rand(lines[line].length - start + 1) : rand(lines[endLine].length + 1);
        const insert = rand(3) === 0 ? '' : FRAGMENTS[rand(FRAGMENTS.length)];
        const at = (l: number, c: number) => lines.slice(0, l).reduce((n, s) => n + s.length + 1, 0) + c;
        text = text.slice(0, at(line, start)) + insert + text.slice(at(endLine, end));
        const diagnostics = await client.change(uri, { start: { line, character: start }, end: { line: endLine, character: end } }, insert);
        expect(Array.isArray(diagnostics)).toBe(true);
        expect(diagnostics.filter((d) => d.code === 'internal').map((d) => d.message)).toEqual([]);
        // Requests where the cursor happens to be.
        const position = { line, character: start };
        const doc = { textDocument: { uri } };
        for (const [method, params] of [
          ['textDocument/hover', { ...doc, position }],
          ['textDocument/completion', { ...doc, position }],
          ['textDocument/definition', { ...doc, position }],
          ['textDocument/references', { ...doc, position, context: { includeDeclaration: true } }],
          ['textDocument/documentSymbol', doc],
          ['textDocument/codeAction', { ...doc, range: { start: position, end: position }, context: { diagnostics: [] } }],
          ['textDocument/semanticTokens/full', doc],
          ['textDocument/semanticTokens/range', { ...doc, range: { start: { line: Math.max(0, line - 3), character: 0 }, end: { line: line + 3, character: 0 } } }],
        ] as const) {
          await expect(client.conn.sendRequest(method, params), method).resolves.not.toBeUndefined();
        }
      }
      const incremental = await client.diagnostics(uri, 26); // the 25th change's
      // what the analysis's program says of places (its trees moved edit after edit)
      const places = async (u: string) => {
        const doc = { textDocument: { uri: u } };
        const whole = { ...doc, range: { start: { line: 0, character: 0 }, end: { line: text.split('\n').length, character: 0 } } };
        return Promise.all([client.conn.sendRequest('textDocument/codeLens', doc), client.conn.sendRequest('textDocument/inlayHint', whole),
          client.conn.sendRequest('textDocument/documentSymbol', doc)]);
      };
      const incrementalPlaces = await places(uri);
      client.close(uri);
      const fresh = await client.open(uri + '.fresh', text);
      const freshPlaces = await places(uri + '.fresh');
      client.close(uri + '.fresh');
      const strip = (ds: typeof fresh) => ds.map((d) => ({ ...d, relatedInformation: undefined }));
      expect(strip(incremental)).toEqual(strip(fresh));
      expect(incrementalPlaces).toEqual(freshPlaces);
    }, 60_000);
  }
});
