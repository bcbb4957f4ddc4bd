// Acceptance: random and mutated input never throws and never hangs, and every
// diagnostic is located inside a real file.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, type AssembleResult } from '../src/assembler.js';
import { formatDiagnostic } from '../src/diagnostics.js';
import { lex, tokenize, tokenizeLines } from '../src/lexer.js';
import { parseLine } from '../src/parser.js';
import { dirProvider } from './nasm.js';

const RUNS = Number(process.env['XENOLAB_FUZZ_RUNS'] ?? 120);
const root = join(import.meta.dirname, '..', '..');
const seedText = readFileSync(join(root, 'seeds', 'hello.xasm'), 'utf8');
const featuresText = readFileSync(join(import.meta.dirname, 'fixtures', 'features.asm'), 'utf8');
const provider = dirProvider(join(root, 'seeds'));

function checkResult(r: AssembleResult): void {
  for (const d of r.diagnostics) {
    for (const span of [d.span, ...d.related.map((x) => x.span)]) {
      const file = r.files[span.file];
      expect(file, `diagnostic '${d.message}' points at an unknown file`).toBeDefined();
      expect(span.start).toBeGreaterThanOrEqual(0);
      expect(span.end).toBeGreaterThanOrEqual(span.start);
      expect(span.end).toBeLessThanOrEqual(file.text.length);
    }
    expect(formatDiagnostic(d, r.files)).toMatch(/^[^\n]+:\d+:\d+: (error|warning|info): \S/);
  }
  expect(r.ok).toBe(!r.diagnostics.some((d) => d.severity === 'error'));
}

function run(text: string): void {
  const r = assemble({ path: 'fuzz.asm', text, provider });
  checkResult(r);
}

const VOCAB = [
  'mov', 'add', 'jmp', 'call', 'ret', 'push', 'lea', 'int', 'times', 'db', 'dd', 'resb', 'equ', 'align', 'section', '.text',
  '.bss', 'org', 'struc', 'endstruc', 'istruc', 'at', 'iend', 'eax', 'ebx', 'esp', 'al', 'cr3', 'ds', 'byte', 'dword',
  'short', 'near', 'far', 'strict', '[', ']', '+', '-', '*', '/', '(', ')', ',', ':', '$', '$$', '0', '1', '0x7f',
  '4096', '-1', '0FFFFFFFFh', "'a'", '"str"', '`esc\\n`', 'label', '.local', '%define', '%macro', '%endmacro', '%if',
  '%else', '%endif', '%rep', '%endrep', '%1', '%%l', '%include', '"xen.inc"', 'HYPERCALL', 'XEN_ELFNOTE', ';', '\n',
  '\n', '\n', ' ', ' ', '\\', '%+', '{', '}', '?', '!', '~', '<<', '>>', '==',
];

describe('the assembler never throws or hangs', () => {
  it('on arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 400, unit: 'binary' }), (s) => run(s)), { numRuns: RUNS });
  });

  it('on token soup', () => {
    const soup = fc.array(fc.constantFrom(...VOCAB), { maxLength: 120 }).map((ts) => ts.join(' '));
    // Cheap per case, so many: `[org]` crashed the assembler only once in ~15,000 cases.
    fc.assert(fc.property(soup, (s) => run(s)), { numRuns: RUNS * 25 });
  });

  it('on mutated real programs', () => {
    const edit = fc.record({
      at: fc.nat(),
      del: fc.nat({ max: 12 }),
      ins: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...VOCAB)),
    });
    const mutated = fc.tuple(fc.constantFrom(seedText, featuresText), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([text, edits]) => {
      let t = text;
      for (const e of edits) {
        const at = e.at % (t.length + 1);
        t = t.slice(0, at) + e.ins + t.slice(at + e.del);
      }
      return t;
    });
    fc.assert(fc.property(mutated, (s) => run(s)), { numRuns: RUNS });
  });
});

describe('the parser is lossless', () => {
  it('keeps every character of every line', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      const tokens = tokenize(s);
      // Tokens are in order, each is the text at its offset, and only whitespace or a
      // `\` line continuation lies between them.
      let at = 0;
      for (const t of tokens) {
        expect(t.start).toBeGreaterThanOrEqual(at);
        expect(s.slice(at, t.start)).toMatch(/^([ \t\v\f]|\\[ \t\v\f]*(\r\n|\r|\n))*$/);
        expect(s.slice(t.start, t.start + t.text.length)).toBe(t.text);
        at = t.start + t.text.length;
      }
      expect(s.slice(at)).toMatch(/^[ \t\v\f]*$/);
      // A line's span runs from its first token to its last.
      const firstLine = tokens.slice(0, (tokens.findIndex((t) => t.kind === 'newline') + 1 || tokens.length + 1) - 1);
      const line = parseLine(firstLine);
      if (firstLine.length) expect([line.start, line.end]).toEqual([firstLine[0].start, firstLine[firstLine.length - 1].end]);
    }), { numRuns: RUNS * 5 });
  });
});

describe('lex', () => {
  it('keeps every token of a text denser than its first guess of the token count', () => {
    const text = 'a,'.repeat(3000) + '\n' + ',;c\n'.repeat(500);
    const s = lex(text);
    expect(s.count).toBe(7501);
    expect(s.lines).toBe(502);
    expect([s.token(5999), s.token(6001)]).toMatchObject([{ kind: 'op', text: ',', start: 5999 }, { kind: 'op', text: ',', start: 6001 }]);
    expect(s.textAt(6002)).toBe(';c');
  });
});

describe('tokenizeLines', () => {
  it('gives the lines of tokenize, split at newlines', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => {
      const flat = tokenize(s);
      const lines: typeof flat[] = [[]];
      for (const t of flat) {
        if (t.kind === 'newline') lines.push([]);
        else lines[lines.length - 1].push(t);
      }
      expect(tokenizeLines(s)).toEqual(lines);
    }), { numRuns: RUNS * 5 });
  });
});
