// Hover text for words the index does not define: instructions (and the IA-32 ones the
// table lacks), registers, nothing for other words.

import { describe, expect, it } from 'vitest';
import { makeSourceFile } from '../../asm/src/index.js';
import { hoverFor, hypercallArgumentHover } from '../src/language/hover.js';
import { offsetAt, wordAt } from '../src/language/symbols.js';

describe('hover', () => {
  it('names an IA-32 instruction xenolab lacks as such, and says nothing of an unknown word', () => {
    expect(hoverFor('cli', null)).toMatch(/^\*\*cli\*\* — .*\n\n\*\*Privileged\*\*/);
    expect(hoverFor('DAA', null)).toBe("'DAA' is an IA-32 instruction xenolab does not implement (BCD arithmetic).");
    expect(hoverFor('esp', null)).toMatch(/^\*\*esp\*\* — 32-bit r32 register/);
    expect(hoverFor('no_such_word', null)).toBeNull();
  });

  it('says what a preprocessor directive or function does; the word under the cursor keeps its %', () => {
    expect(hoverFor('%define', null)).toBe('**%define** — a single-line macro: %define NAME(params) text');
    expect(hoverFor('%EVAL', null)).toBe('**%eval** — the value of expressions');
    expect(hoverFor('%nosuch', null)).toBeNull();
    const file = makeSourceFile(0, '/h.xasm', '%define X 1\n    db %eval(X), %%lbl, %1\n');
    const word = (line: number, column: number) => wordAt(file, { line, column })?.text;
    expect([word(0, 3), word(1, 9), word(1, 20), word(1, 25)]).toEqual(['%define', '%eval', 'lbl', '1']);
  });

  it('a hypercall macro\'s argument is the hypercall: its signature', () => {
    expect(hypercallArgumentHover('    HYPERCALL ', 'sched_op')).toMatch(/^\*\*hypercall 29: sched_op\*\*\(int cmd, void \* arg\)/);
    expect(hypercallArgumentHover('.x: HYPERCALL_PAGE_CALL ', 'mmu_update')).toMatch(/^\*\*hypercall 1: mmu_update\*\*/);
    expect(hypercallArgumentHover('    mov ebx, ', 'sched_op')).toBeNull();
    expect(hypercallArgumentHover('    HYPERCALL ', 'no_such_call')).toBeNull();
  });

  it('a column past the end of a line is that line\'s end, never the next line (LF and CRLF)', () => {
    for (const nl of ['\n', '\r\n']) {
      const file = makeSourceFile(0, '/h.xasm', ['bits 32', 'start:', '    call helper', 'helper:', '    ret', ''].join(nl));
      const word = (line: number, column: number) => wordAt(file, { line, column })?.text;
      expect([word(0, 8), word(1, 7), word(2, 17), word(3, 0)]).toEqual(['32', undefined, 'helper', 'helper']);
      expect(offsetAt(file, { line: 2, column: 99 })).toBe(file.text.indexOf(nl + 'helper:'));
    }
  });
});
