// Semantic tokens: privileged and sensitive instructions carry their modifiers, including
// the forms of an instruction that are privileged only with a control or debug register.

import { describe, expect, it } from 'vitest';
import { semanticTokens, TOKEN_MODIFIERS, TOKEN_TYPES } from '../src/language/tokens.js';

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
});
