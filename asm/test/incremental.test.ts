// An edited file is lexed and parsed again only from the line of its first change: the
// lines before keep their tokens and trees. Random texts and edit sequences must give
// exactly what lexing and assembling the edited text from nothing gives.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assemble, type AssembleResult } from '../src/assembler.js';
import { withBuiltins } from '../src/builtins.js';
import { lex, relex, type TokenStream } from '../src/lexer.js';

const RUNS = Number(process.env['XENOLAB_INCREMENTAL_RUNS'] ?? 150);

/** Everything a stream holds, as plain data. */
function contents(s: TokenStream): unknown {
  const n = s.count;
  return {
    count: n, lineStart: [...s.lineStart], text: Array.from({ length: n }, (_, i) => s.textAt(i)),
    kind: [...s.kind.subarray(0, n)], start: [...s.start.subarray(0, n)], end: [...s.end.subarray(0, n)],
    file: [...s.file.subarray(0, n)], atom: [...s.atom.subarray(0, n)],
  };
}

// Lines that exercise the lexer's line structure: comments, strings, continuations,
// carriage returns, preprocessor tokens, lines with no newline at the end.
const LINES = [
  'mov eax, [ebx + 4]', 'label: db "a;b", 0 ; comment', '%define X 3', '  jmp $ + 2', "dd 'ab\\", 'add eax, \\', '  1', '',
  '; only a comment', 'x equ 5\r', 'section .data', 'times 3 nop', '`esc\\n`', '%macro M 1', '  push %1', '%endmacro', 'M ebx',
  // a length no value decides (laid out without evaluating), and the label it names
  'mov edx, [lbl + ecx * 4]', 'lbl: mov eax, lbl',
];
const source = fc.array(fc.constantFrom(...LINES), { maxLength: 14 }).chain((lines) =>
  fc.constantFrom('\n', '\r\n').map((nl) => lines.join(nl)));

/** An edit: replace `length` characters at `at` (both scaled to the text) by `insert`. */
const edit = fc.record({
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  length: fc.integer({ min: 0, max: 12 }),
  insert: fc.oneof(fc.constantFrom('', ' ', '\n', '\r\n', '\\', ';', '"', '9', 'x:', 'nop\n', 'mov ecx, 1\n', '%define Y 2\n', 'jz .l\n'), fc.string({ maxLength: 6 })),
});

function applyEdit(text: string, e: { at: number; length: number; insert: string }): string {
  const at = Math.floor(e.at * text.length);
  return text.slice(0, at) + e.insert + text.slice(at + e.length);
}

describe('relex', () => {
  it('gives what lex gives, after random edits', () => {
    fc.assert(fc.property(source, fc.array(edit, { minLength: 1, maxLength: 5 }), (text, edits) => {
      let stream = lex(text, 2);
      for (const e of edits) {
        text = applyEdit(text, e);
        const { stream: next, kept, tail } = relex(stream, text, 2);
        expect(contents(next)).toEqual(contents(lex(text, 2)));
        expect(kept + tail).toBeLessThanOrEqual(next.lines);
        stream = next;
      }
    }), { numRuns: RUNS * 4 });
  });

  it('gives what lex gives on long texts (compared a block at a time)', () => {
    const long = fc.array(fc.constantFrom(...LINES), { minLength: 200, maxLength: 400 }).map((lines) => lines.join('\n'));
    fc.assert(fc.property(long, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
      let stream = lex(text);
      for (const e of edits) {
        text = applyEdit(text, e);
        const { stream: next, kept, tail } = relex(stream, text);
        expect(contents(next)).toEqual(contents(lex(text)));
        // one edit touches a few lines at most
        expect(next.lines - kept - tail).toBeLessThanOrEqual(4 + e.insert.split('\n').length + e.length);
        stream = next;
      }
    }), { numRuns: Math.ceil(RUNS / 3) });
  });

  it('finds a change at each place of a block', () => {
    const text = Array.from({ length: 120 }, (_, i) => `  mov eax, ${i} ; line ${i}`).join('\n');
    const stream = lex(text);
    const changed = (text: string, where: number) => text.slice(0, where) + 'Q' + text.slice(where + 1);
    for (const at of [0, 1, 510, 511, 512, 513, 1023, 1024, 1025, 1536]) {
      // a change that ends the common prefix there, and one that ends the common suffix
      // there (with another change near the start, so the prefix does not reach it)
      for (const edited of [changed(text, at), changed(changed(text, text.length - 1 - at), 3)]) {
        expect(contents(relex(stream, edited).stream)).toEqual(contents(lex(edited)));
      }
    }
  });

  it('grows the new stream when an edit makes many tokens of few characters', () => {
    const text = `x\n${'a'.repeat(400)}\ny\n`;
    const edited = `x\n${'a,'.repeat(200)}\ny\n`;
    expect(contents(relex(lex(text), edited).stream)).toEqual(contents(lex(edited)));
  });

  it('keeps the lines after the last change, moved', () => {
    const text = 'a\nbb\nccc\ndddd\n';
    const tailOf = (edited: string) => {
      const { tail, delta } = relex(lex(text), edited);
      return [tail, delta];
    };
    // the lines after the edit, and the empty line after the last newline
    expect(tailOf(text.replace('bb', 'bXb'))).toEqual([3, 1]);
    expect(tailOf(text.replace('bb\n', ''))).toEqual([3, -3]);
    expect(tailOf('Z' + text)).toEqual([4, 1]);
    expect(tailOf(text + 'e')).toEqual([0, 1]);
    // a line joined to the one before by a continuation is no line of its own
    expect(relex(lex('a \\\nb\nc'), 'aa \\\nb\nc').tail).toBe(1);
  });

  it('keeps the lines before the first change, and only those', () => {
    const text = 'a\nbb\nccc\ndddd\n';
    expect(relex(lex(text), text.replace('ccc', 'cXc')).kept).toBe(2);
    expect(relex(lex(text), 'Z' + text).kept).toBe(0);
    expect(relex(lex(text), text + 'e').kept).toBe(4);
    expect(relex(lex(text), text.replace('ccc', 'Xccc')).kept).toBe(2);
    expect(relex(lex(text), text.replace('ccc', '')).kept).toBe(2);
    // a \r newline looks at the next character
    expect(relex(lex('a\rb'), 'a\r\nb').kept).toBe(0);
    // a change to a line's newline changes that line
    expect(relex(lex(text), text.replace('bb\n', 'bb\r\n')).kept).toBe(1);
  });
});

// Programs whose edits move labels, add and remove macros and defines, break lines.
const PROGRAM_LINES = [
  'bits 32', 'start:', '  mov eax, [table + ecx*4]', '  jmp start', '  jz .skip', '  nop', '.skip:', '  call far_away', '%define N 4',
  '  jmp 0x10:0x1000', '  dd 1 ? 2 : -3', '  times 2 db 1', 'align 4', '  resb 4', '  rep movsb', '  lock xadd [eax], ebx',
  '  mov eax, [ebx + esi*2 + 4]', 'nocolon db 1', "  db 'ab', ?", '  mov eax,', '  dw (1 << 3) | ~2', 'struc S', '.f: resd 1', 'endstruc',
  '%assign K K+1', '%assign K 0', '%ifdef N', '%endif', '  jmp short $', '  mov eax, [fs:ebx]', '  dd 1.5, -2.5e-3',
  '  mov ecx, N', '%macro PUT 1', '  mov ebx, %1', '%endmacro', '  PUT 7', 'far_away: ret', 'section .data', 'table: times 8 dd 0',
  'msg: db "hi", 10', 'len equ $ - msg', '%if N > 2', '  inc eax', '%endif', '  undefined_op eax', 'section .text',
];
const program = fc.array(fc.constantFrom(...PROGRAM_LINES), { minLength: 1, maxLength: 24 }).map((l) => l.join('\n') + '\n');

/** What an assembly gives, as plain data. */
function outcome(r: AssembleResult): unknown {
  const all = {
    ok: r.ok, diagnostics: r.diagnostics, sections: r.image.sections.map((s) => [s.name, s.vaddr, [...s.bytes]]),
    symbols: r.image.symbols, lines: r.image.lines, listing: r.listing, trees: [...r.trees],
  };
  return JSON.parse(JSON.stringify(all, (key, value: unknown) => (CACHES.has(key) ? undefined : typeof value === 'bigint' ? `${value}n` : value)));
}

/** Fields of tree nodes that cache what the assembler derived (see ARCHITECTURE.md). */
const CACHES = new Set(['memo', 'shape', 'v']);

describe('assembling an edited file', () => {
  const provider = withBuiltins({ read: () => null });
  const fresh = (path: string, text: string) => {
    // Another text first, so that nothing of this one is kept from a previous run.
    assemble({ path, text: '\0', provider });
    return outcome(assemble({ path, text, provider }));
  };
  it('gives what assembling it from nothing gives, after random edits', () => {
    fc.assert(fc.property(program, fc.array(edit, { minLength: 1, maxLength: 4 }), (text, edits) => {
      assemble({ path: 'edited.asm', text, provider });
      for (const e of edits) {
        text = applyEdit(text, e);
        const edited = outcome(assemble({ path: 'edited.asm', text, provider }));
        expect(edited).toEqual(fresh('edited.asm', text));
      }
    }), { numRuns: RUNS });
  });

  it('moving the trees after an edit where they are gives the same, edit after edit', () => {
    // The edited file's own line of assemblies (each moving the last one's trees), and
    // each compared with a fresh assembly of its text under another name.
    const rename = (o: unknown) => JSON.parse(JSON.stringify(o).replaceAll('fresh.asm', 'moved.asm'));
    fc.assert(fc.property(program, fc.array(edit, { minLength: 1, maxLength: 6 }), (text, edits) => {
      assemble({ path: 'moved.asm', text: '\0', provider });
      assemble({ path: 'moved.asm', text, provider, moveTreesInPlace: true });
      for (const e of edits) {
        text = applyEdit(text, e);
        const moved = outcome(assemble({ path: 'moved.asm', text, provider, moveTreesInPlace: true }));
        expect(moved).toEqual(rename(fresh('fresh.asm', text)));
      }
    }), { numRuns: RUNS });
  });

  it('keeps an earlier result\'s trees where they were unless asked to move them in place', () => {
    const lines = ['bits 32', 'start:', '  mov eax, [table + ecx*4]', '  jmp start', 'table: dd 1, 2', ''];
    const text = lines.join('\n');
    const edited = 'nop\n' + text; // every line after it moves a line down and 4 characters on
    const treeOf = (r: AssembleResult, line: number) => r.trees.get(0)![line];
    for (const inPlace of [false, true]) {
      assemble({ path: 'keep.asm', text: '\0', provider });
      const before = assemble({ path: 'keep.asm', text, provider, moveTreesInPlace: inPlace });
      const tree = treeOf(before, 2);
      const start = tree.start;
      const after = assemble({ path: 'keep.asm', text: edited, provider, moveTreesInPlace: inPlace });
      expect(treeOf(after, 3).start).toBe(start + 4);
      // copied: the earlier tree is untouched; moved: it is the new one, at the new place
      expect(treeOf(after, 3) === tree).toBe(inPlace);
      expect(tree.start).toBe(inPlace ? start + 4 : start);
    }
  });
});
