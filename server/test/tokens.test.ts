// Semantic tokens: privileged and sensitive instructions carry their modifiers, including
// the forms of an instruction that are privileged only with a control or debug register.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../asm/src/index.js';
import { buildIndex } from '../src/language/symbols.js';
import { semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from '../src/language/tokens.js';

const SEEDS = join(__dirname, '..', '..', 'seeds');

function decode(data: number[]) {
  let line = 0, col = 0;
  const out: { line: number; col: number; len: number; type: string; mods: string[] }[] = [];
  for (let i = 0; i < data.length; i += 5) {
    line += data[i];
    col = data[i] === 0 ? col + data[i + 1] : data[i + 1];
    out.push({ line, col, len: data[i + 2], type: TOKEN_TYPES[data[i + 3]], mods: TOKEN_MODIFIERS.filter((_, b) => data[i + 4] & (1 << b)) });
  }
  return out;
}

describe('semantic tokens', () => {
  it('mark privileged forms of mov (control and debug registers) but not the others', () => {
    const text = ['    mov cr3, eax', '    mov eax, cr2 ; read the fault address', '    mov eax, ebx', '    mov dr7, eax', '    pushf', '    cli', '    mov eax, 1 ; cr3 in a comment'].join('\n');
    const mnemonics = decode(semanticTokens('/t.xasm', text, null)).filter((t) => t.col === 4 && t.type === 'keyword');
    expect(mnemonics.map((t) => [t.line, t.mods])).toEqual([
      [0, ['privileged']], [1, ['privileged']], [2, []], [3, ['privileged']], [4, ['sensitive']], [5, ['privileged']], [6, []],
    ]);
  });

  it('for a range of lines: the tokens the whole document has on those lines, at the same places', () => {
    const continued = ['bits 32', 'table: dd 1, \\', '   2, 3 ; joined', '    mov eax, \\  ', '      cr0', '    cli', '; last'].join('\n');
    const texts = [continued, ...readdirSync(SEEDS).filter((f) => f.endsWith('.xasm')).map((f) => readFileSync(join(SEEDS, f), 'utf8'))];
    for (const text of texts) {
      const whole = decode(semanticTokens('/t.xasm', text, null));
      const n = text.split('\n').length;
      for (const [first, last] of [[0, 0], [0, n - 1], [1, 1], [2, 4], [3, 3], [4, 6], [Math.floor(n / 2), Math.floor(n / 2) + 40], [n - 1, n + 5], [5, 2]]) {
        const part = decode(semanticTokens('/t.xasm', text, null, { first, last }));
        expect(part).toEqual(whole.filter((t) => t.line >= first && t.line <= last));
      }
    }
    // the continued operand is still read as mov's: privileged
    expect(decode(semanticTokens('/t.xasm', continued, null, { first: 3, last: 3 })).find((t) => t.type === 'keyword')?.mods).toEqual(['privileged']);
  });

  it('labels are labels where they are defined (with the definition modifier) and used, local ones too (also in a range without their parent)', () => {
    const text = ['bits 32', 'start:', '.l: dec ecx', '    jnz .l', '    jmp start', '    jmp .nowhere', ''].join('\n');
    const index = buildIndex(assemble({ path: '/t.xasm', text }));
    const labels = (lines?: { first: number; last: number }) => decode(semanticTokens('/t.xasm', text, index, lines))
      .filter((t) => t.type === 'label' || t.type === 'function').map((t) => [t.line, t.col, t.type, t.mods.join()]);
    expect(labels()).toEqual([[1, 0, 'function', 'definition'], [2, 0, 'label', 'definition'], [3, 8, 'label', ''], [4, 8, 'function', '']]);
    expect(labels({ first: 3, last: 3 })).toEqual([[3, 8, 'label', '']]);
  });
});

