// Acceptance: every form of the instruction table, with several operand variants each,
// assembles to nasm's bytes exactly.

import { describe, expect, it } from 'vitest';
import { FORMS } from '../../isa/src/index.js';
import { corpus } from './corpus.js';
import { mismatches, nasmBin, xenolabBin } from './nasm.js';

describe('instruction corpus vs nasm', () => {
  const lines = corpus();
  const source = ['bits 32', 'org 0x10000', ...lines.map((l) => l.line)].join('\n') + '\n';

  it('covers every encodable form', () => {
    const covered = new Set(lines.map((l) => l.form.index));
    const missing = FORMS.filter((f) => !f.decodeOnly && !covered.has(f.index)).map((f) => `${f.mnemonic} ${f.operands.join(',')}`);
    expect(missing.filter((m) => !/^(lldt|ltr|lmsw) r32$/.test(m))).toEqual([]);
  });

  it('is byte-identical to nasm -f bin', () => {
    const ref = nasmBin(source, 'corpus.asm');
    const { result, bytes } = xenolabBin(source, 'corpus.asm');
    expect(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.message)).toEqual([]);
    expect(mismatches(result, bytes, ref).slice(0, 30)).toEqual([]);
    expect(Buffer.from(bytes).equals(ref)).toBe(true);
  });
});
