// The instruction table covers what the issue lists, classifies privileged and sensitive
// instructions as a PV guest kernel meets them, and documents every mnemonic.

import { describe, expect, it } from 'vitest';
import { FORMS, MNEMONICS, UNSUPPORTED, formsOf, unsupportedInstruction } from '../src/index.js';

const REQUIRED = `
mov movzx movsx lea xchg push pop pushad popad pushfd popfd bswap cmove setne cmovz sete
add adc sub sbb cmp inc dec neg mul imul div idiv and or xor not test cbw cwde cdq
shl sal shr sar rol ror rcl rcr shld shrd bt bts btr btc bsf bsr
jmp je jne jz jnz jecxz loop loope loopne call ret int int3 into iret enter leave
movsb movsd stosb stosd lodsb lodsd cmpsb cmpsd scasb scasd xadd cmpxchg
clc stc cmc cld std nop pause cpuid rdtsc ud2 lfence mfence sfence
cli sti hlt lgdt lidt lldt ltr sgdt sidt sldt str smsw lmsw clts invlpg invd wbinvd
in out insb insd outsb outsd rdmsr wrmsr rdpmc`.trim().split(/\s+/);

const PRIVILEGED = 'cli sti hlt lgdt lidt lldt ltr lmsw clts invlpg invd wbinvd in out insb insw insd outsb outsw outsd rdmsr wrmsr rdpmc'.split(' ');
const SENSITIVE = 'sgdt sidt sldt str smsw popf popfd pushf pushfd'.split(' ');

describe('instruction table', () => {
  it('has every instruction the toolchain issue lists', () => {
    expect(REQUIRED.filter((m) => formsOf(m).length === 0)).toEqual([]);
  });

  it('classifies privileged and sensitive instructions', () => {
    for (const m of PRIVILEGED) expect(formsOf(m).every((f) => f.cls === 'privileged'), m).toBe(true);
    for (const m of SENSITIVE) expect(formsOf(m).every((f) => f.cls === 'sensitive'), m).toBe(true);
    // mov is normal except to/from control and debug registers
    const movClasses = new Set(formsOf('mov').filter((f) => f.operands.some((k) => k === 'creg' || k === 'dreg')).map((f) => f.cls));
    expect([...movClasses]).toEqual(['privileged']);
    expect(formsOf('mov').filter((f) => f.operands.includes('r32') && f.operands.includes('rm32')).every((f) => f.cls === 'normal')).toBe(true);
  });

  it('documents every mnemonic, with the PV replacement for every privileged or sensitive one', () => {
    for (const f of FORMS) {
      const info = MNEMONICS[f.mnemonic];
      expect(typeof info?.doc, f.mnemonic).toBe('string');
      expect(info.doc, f.mnemonic).toMatch(/\S.*\.$/);
      if (f.cls !== 'normal') expect(typeof info.pv, `${f.mnemonic} needs a paravirtual replacement`).toBe('string');
      if (info.cls === 'privileged') expect(info.xen, `${f.mnemonic}: what Xen does with it from ring 1`).toMatch(/\S.*\.$/);
    }
  });

  it('has no two encodable forms with the same operands, size and opcode', () => {
    const seen = new Map<string, number>();
    const dupes: string[] = [];
    for (const f of FORMS.filter((x) => !x.decodeOnly)) {
      const key = `${f.mnemonic} ${f.operands.join(',')} ${f.opsize} ${f.opcode.join('.')} ${f.modrm}`;
      if (seen.has(key)) dupes.push(key);
      seen.set(key, f.index);
    }
    expect(dupes).toEqual([]);
  });
});

describe('instructions the table does not have', () => {
  it('are none of the table\'s', () => {
    expect([...UNSUPPORTED.keys()].filter((m) => m in MNEMONICS)).toEqual([]);
  });
  it('are named as what they are, in any case', () => {
    expect(unsupportedInstruction('DAA')).toBe("'DAA' is an IA-32 instruction xenolab does not implement (BCD arithmetic)");
    expect(unsupportedInstruction('fld')).toMatch(/x87 floating point/);
    expect(unsupportedInstruction('mov')).toBeUndefined();
    expect(unsupportedInstruction('cdqe')).toBe("'cdqe' is an x86-64 instruction: it does not exist in 32-bit code");
    expect(unsupportedInstruction('SALC')).toMatch(/does not implement/);
    expect(unsupportedInstruction('my_label')).toBeUndefined();
  });
});
