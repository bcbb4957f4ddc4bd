import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_INSTRUCTION_LENGTH, decode, defaultSegment,
  type DecodeErrorReason, type DecodedInstruction, type DecodedOperand, type MemoryOperand,
} from '../src/decoder.js';
import { FORMS } from '../src/instructions.js';

const bytesOf = (hex: string): Uint8Array => Uint8Array.from(hex.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const hex = (n: number): string => `0x${n.toString(16)}`;

function ok(text: string, address = 0x1000): DecodedInstruction {
  const r = decode(bytesOf(text), 0, address);
  if (!r.ok) throw new Error(`${text}: ${r.reason}`);
  return r.insn;
}

function err(text: string): { reason: DecodeErrorReason; length: number } {
  const r = decode(bytesOf(text), 0, 0);
  if (r.ok) throw new Error(`${text} decoded as ${r.insn.form.mnemonic}`);
  return { reason: r.reason, length: r.length };
}

/** Compact reading for expectations: `m32 fs:[ebx+ecx*4+0x10]`, `imm 0xff/0xffffffff`. */
function operandText(op: DecodedOperand): string {
  switch (op.type) {
    case 'reg': return op.reg.name;
    case 'imm': return op.value === op.extended ? `imm ${hex(op.value)}` : `imm ${hex(op.value)}/${hex(op.extended)}`;
    case 'rel': return `rel${op.bits} ${hex(op.target)}`;
    case 'far': return `far${op.offsetBits} ${hex(op.selector)}:${hex(op.offset)}`;
    case 'mem': {
      const terms = [op.base?.name, op.index ? `${op.index.name}*${op.scale}` : undefined].filter(Boolean).join('+');
      const disp = terms === '' ? hex(op.disp >>> 0) : op.disp === 0 ? '' : op.disp < 0 ? `-${hex(-op.disp)}` : `+${hex(op.disp)}`;
      return `m${op.bits} ${op.segment ? `${op.segment}:` : ''}[${terms}${disp}]`;
    }
  }
}

function text(insn: DecodedInstruction): string {
  return `${insn.form.mnemonic} ${insn.operands.map(operandText).join(', ')}`.trim();
}

const show = (bytes: string, address = 0x1000): string => text(ok(bytes, address));
const mem = (bytes: string): MemoryOperand => ok(bytes).operands.find((o): o is MemoryOperand => o.type === 'mem')!;

describe('32-bit addressing', () => {
  it.each([
    // mod 0
    ['8b 03', 'mov eax, m32 [ebx]', 2],
    ['8b 05 78 56 34 12', 'mov eax, m32 [0x12345678]', 6], // rm=5: disp32, no base
    ['8b 04 8b', 'mov eax, m32 [ebx+ecx*4]', 3],
    ['8b 04 8d 10 00 00 00', 'mov eax, m32 [ecx*4+0x10]', 7], // SIB base=5: no base, disp32
    ['8b 04 24', 'mov eax, m32 [esp]', 3], // SIB index=4: no index
    ['8b 04 25 10 00 00 00', 'mov eax, m32 [0x10]', 7], // SIB without base and index
    ['8b 04 6d 00 00 00 00', 'mov eax, m32 [ebp*2]', 7],
    // mod 1: disp8, sign-extended
    ['8b 45 f0', 'mov eax, m32 [ebp-0x10]', 3],
    ['8b 45 00', 'mov eax, m32 [ebp]', 3],
    ['8b 44 24 08', 'mov eax, m32 [esp+0x8]', 4],
    ['8b 40 80', 'mov eax, m32 [eax-0x80]', 3],
    ['8b 40 7f', 'mov eax, m32 [eax+0x7f]', 3],
    ['8b 44 b5 fc', 'mov eax, m32 [ebp+esi*4-0x4]', 4],
    // mod 2: disp32
    ['8b 80 00 01 00 00', 'mov eax, m32 [eax+0x100]', 6],
    ['8b 84 cb 00 00 00 80', 'mov eax, m32 [ebx+ecx*8-0x80000000]', 7],
    ['8b 85 10 00 00 00', 'mov eax, m32 [ebp+0x10]', 6],
    // mod 3
    ['8b c3', 'mov eax, ebx', 2],
    ['89 c3', 'mov ebx, eax', 2],
    ['88 e7', 'mov bh, ah', 2],
  ])('%s -> %s', (bytes, expected, length) => {
    const insn = ok(bytes);
    expect(text(insn)).toBe(expected);
    expect(insn.length).toBe(length);
  });

  it('records the displacement width and the SIB byte', () => {
    expect(mem('8b 45 00')).toMatchObject({ dispBytes: 1, disp: 0, sib: false, addrBits: 32 });
    expect(mem('8b 85 10 00 00 00')).toMatchObject({ dispBytes: 4, disp: 0x10 });
    expect(mem('8b 04 24')).toMatchObject({ sib: true, dispBytes: 0, scale: 1 });
    expect(mem('8b 04 25 10 00 00 00')).toMatchObject({ sib: true, base: null, index: null, disp: 0x10 });
  });

  it('uses ss for esp/ebp bases and honours overrides', () => {
    expect(defaultSegment(mem('8b 45 f0'))).toBe('ss');
    expect(defaultSegment(mem('8b 04 24'))).toBe('ss');
    expect(defaultSegment(mem('8b 03'))).toBe('ds');
    expect(defaultSegment(mem('8b 04 6d 00 00 00 00'))).toBe('ds'); // ebp as index only
    expect(mem('64 8b 03').segment).toBe('fs');
    expect(mem('2e 8b 03').segment).toBe('cs');
    expect(mem('8b 03').segment).toBeNull();
  });
});

describe('16-bit addressing (0x67)', () => {
  it.each([
    ['67 8b 00', 'mov eax, m32 [bx+si*1]', 3],
    ['67 8b 01', 'mov eax, m32 [bx+di*1]', 3],
    ['67 8b 02', 'mov eax, m32 [bp+si*1]', 3],
    ['67 8b 03', 'mov eax, m32 [bp+di*1]', 3],
    ['67 8b 04', 'mov eax, m32 [si]', 3],
    ['67 8b 05', 'mov eax, m32 [di]', 3],
    ['67 8b 06 34 12', 'mov eax, m32 [0x1234]', 5], // mod 0 rm 6: disp16 only
    ['67 8b 07', 'mov eax, m32 [bx]', 3],
    ['67 8b 46 fe', 'mov eax, m32 [bp-0x2]', 4],
    ['67 8b 47 80', 'mov eax, m32 [bx-0x80]', 4],
    ['67 8b 87 34 12', 'mov eax, m32 [bx+0x1234]', 5],
    ['67 8b 86 ff ff', 'mov eax, m32 [bp-0x1]', 5], // disp16 is signed
    ['66 67 8b 41 10', 'mov ax, m16 [bx+di*1+0x10]', 5],
  ])('%s -> %s', (bytes, expected, length) => {
    const insn = ok(bytes);
    expect(text(insn)).toBe(expected);
    expect(insn.length).toBe(length);
    expect(insn.adsize).toBe(16);
  });

  it('marks 16-bit memory operands and their default segment', () => {
    expect(mem('67 8b 02')).toMatchObject({ addrBits: 16, dispBytes: 0 });
    expect(defaultSegment(mem('67 8b 02'))).toBe('ss');
    expect(defaultSegment(mem('67 8b 00'))).toBe('ds');
    expect(mem('67 8b 86 ff ff')).toMatchObject({ dispBytes: 2, disp: -1 });
  });
});

describe('prefixes', () => {
  it('reads lock, rep, segment, operand and address size in order', () => {
    const insn = ok('f3 26 66 67 a5');
    expect(insn.form.mnemonic).toBe('movsw');
    expect(insn.prefixes).toEqual({ lock: false, rep: 'rep', segment: 'es', opsize: true, adsize: true, bytes: [0xf3, 0x26, 0x66, 0x67] });
    expect(insn.opsize).toBe(16);
    expect(insn.adsize).toBe(16);
  });

  it('keeps the last prefix of a group and counts every byte', () => {
    const insn = ok('26 64 f2 f3 66 66 8b 03');
    expect(insn.prefixes.segment).toBe('fs');
    expect(insn.prefixes.rep).toBe('rep');
    expect(insn.prefixes.bytes).toEqual([0x26, 0x64, 0xf2, 0xf3, 0x66, 0x66]);
    expect(insn.length).toBe(8);
    expect(text(insn)).toBe('mov ax, m16 fs:[ebx]');
  });

  it('takes lock on a memory destination', () => {
    const insn = ok('f0 0f b1 0b');
    expect(text(insn)).toBe('cmpxchg m32 [ebx], ecx');
    expect(insn.prefixes.lock).toBe(true);
    expect(text(ok('f0 86 03'))).toBe('xchg al, m8 [ebx]'); // either operand of xchg
  });

  it('distinguishes rep and repne', () => {
    expect(ok('f3 a5').prefixes.rep).toBe('rep');
    expect(ok('f2 ae').prefixes.rep).toBe('repne');
    expect(ok('a5').prefixes.rep).toBeNull();
  });

  it('consumes F3 as the mandatory prefix of pause', () => {
    const insn = ok('f3 90');
    expect(insn.form.mnemonic).toBe('pause');
    expect(insn.prefixes.rep).toBeNull();
    expect(insn.prefixes.bytes).toEqual([0xf3]);
    expect(ok('f2 90').form.mnemonic).toBe('nop');
  });

  it('selects forms by operand and address size', () => {
    expect(show('90')).toBe('nop');
    expect(show('66 90')).toBe('xchg ax, ax');
    expect(show('60')).toBe('pusha');
    expect(show('66 60')).toBe('pushaw');
    expect(show('98')).toBe('cwde');
    expect(show('66 98')).toBe('cbw');
    expect(show('a5')).toBe('movsd');
    expect(show('e3 fe')).toBe('jecxz rel8 0x1000');
    expect(show('67 e3 fd')).toBe('jcxz rel8 0x1000');
    expect(show('8e d8')).toBe('mov ds, eax');
    expect(show('66 8e d8')).toBe('mov ds, ax');
    expect(show('66 ff e0')).toBe('jmp ax');
    expect(show('66 ff 10')).toBe('call m16 [eax]');
  });
});

describe('opcode forms', () => {
  it.each([
    ['41', 'inc ecx'], // +r
    ['0f c9', 'bswap ecx'],
    ['b4 12', 'mov ah, imm 0x12'],
    ['5d', 'pop ebp'],
    ['93', 'xchg eax, ebx'],
    ['0f 94 c0', 'sete al'], // +cc with canonical names
    ['0f 92 00', 'setb m8 [eax]'],
    ['0f 4f c1', 'cmovg eax, ecx'],
    ['7c 00', 'jl rel8 0x1002'],
    ['0f 8a 00 00 00 00', 'jp rel32 0x1006'],
    ['e1 fe', 'loope rel8 0x1000'],
    ['e0 fe', 'loopne rel8 0x1000'],
    ['c3', 'ret'],
    ['d1 e0', 'shl eax, imm 0x1'],
    ['0f ae e8', 'lfence'], // literal ModRM byte
    ['0f ae f0', 'mfence'],
    ['0f ae f8', 'sfence'],
    ['0f 20 d8', 'mov eax, cr3'],
    ['0f 22 e0', 'mov cr4, eax'],
    ['0f 21 f8', 'mov eax, dr7'],
    ['0f 20 18', 'mov eax, cr3'], // mod bits are ignored for CR/DR moves
    ['8c 00', 'mov m16 [eax], es'],
    ['66 8c d8', 'mov ax, ds'],
    ['0f 00 d0', 'lldt ax'],
    ['0f 00 c0', 'sldt eax'],
    ['0f 01 10', 'lgdt m0 [eax]'],
    ['8d 04 8b', 'lea eax, m0 [ebx+ecx*4]'],
    ['0f c7 0e', 'cmpxchg8b m64 [esi]'],
    ['ff 2d 00 10 00 00', 'jmp m48 [0x1000]'],
    ['66 ff 18', 'call m32 [eax]'], // m16:16 under 0x66
    ['ff 20', 'jmp m32 [eax]'],
    ['0f b6 03', 'movzx eax, m8 [ebx]'],
    ['0f bf c3', 'movsx eax, bx'],
    ['84 03', 'test m8 [ebx], al'],
    ['ec', 'in al, dx'],
    ['e7 80', 'out imm 0x80, eax'],
    ['06', 'push es'],
    ['0f a9', 'pop gs'],
  ])('%s -> %s', (bytes, expected) => {
    expect(show(bytes)).toBe(expected);
  });

  it('decodes decode-only aliases', () => {
    for (const [bytes, expected] of [
      ['82 c0 05', 'add al, imm 0x5'],
      ['82 38 ff', 'cmp m8 [eax], imm 0xff'],
      ['f6 c8 05', 'test al, imm 0x5'],
      ['f7 0b 78 56 34 12', 'test m32 [ebx], imm 0x12345678'],
      ['d1 f0', 'sal eax, imm 0x1'],
      ['c0 30 05', 'sal m8 [eax], imm 0x5'],
    ]) {
      const insn = ok(bytes);
      expect(text(insn)).toBe(expected);
      expect(insn.form.decodeOnly).toBe(true);
    }
  });

  it('prefers canonical non-decode-only forms', () => {
    expect(ok('84 c3').form.decodeOnly).toBe(false);
    expect(ok('f6 c0 05').form.decodeOnly).toBe(false);
    expect(ok('6b c0 05').form.dup).toBe(false); // imul eax, eax, 5: the 3-operand form
    expect(show('6b c0 05')).toBe('imul eax, eax, imm 0x5');
  });
});

describe('tail fields', () => {
  it('reads immediates of every width', () => {
    expect(show('b0 ff')).toBe('mov al, imm 0xff');
    expect(show('c6 00 80')).toBe('mov m8 [eax], imm 0x80');
    expect(show('66 b8 34 12')).toBe('mov ax, imm 0x1234');
    expect(show('b8 78 56 34 12')).toBe('mov eax, imm 0x12345678');
    expect(show('c7 44 24 04 ff ff ff ff')).toBe('mov m32 [esp+0x4], imm 0xffffffff');
    expect(show('c2 08 00')).toBe('ret imm 0x8');
    expect(show('c8 10 00 01')).toBe('enter imm 0x10, imm 0x1');
    expect(show('cd 80')).toBe('int imm 0x80');
  });

  it('sign-extends simm8 to the operand size', () => {
    expect(show('83 c0 ff')).toBe('add eax, imm 0xff/0xffffffff');
    expect(show('66 83 c0 80')).toBe('add ax, imm 0x80/0xff80');
    expect(show('83 c0 7f')).toBe('add eax, imm 0x7f');
    expect(show('6a 80')).toBe('push imm 0x80/0xffffff80');
    expect(show('66 6a ff')).toBe('push imm 0xff/0xffff');
    expect(show('6b c3 fe')).toBe('imul eax, ebx, imm 0xfe/0xfffffffe');
  });

  it('resolves relative targets and wraps them to 32 bits', () => {
    expect(show('eb fe', 0x1000)).toBe('jmp rel8 0x1000');
    expect(show('eb 80', 0x1000)).toBe('jmp rel8 0xf82');
    expect(show('eb 7f', 0x1000)).toBe('jmp rel8 0x1081');
    expect(show('e8 00 00 00 00', 0x1000)).toBe('call rel32 0x1005');
    expect(show('e9 fb ff ff ff', 0x1000)).toBe('jmp rel32 0x1000');
    expect(show('eb 00', 0xfffffffe)).toBe('jmp rel8 0x0');
    expect(show('e9 00 00 00 80', 0x90000000)).toBe('jmp rel32 0x10000005');
    const r = ok('e8 fb ff ff ff', 0x2000).operands[0];
    expect(r).toMatchObject({ type: 'rel', rel: -5, target: 0x2000, bits: 32 });
  });

  it('reads rel16 and truncates targets under 0x66', () => {
    const insn = ok('66 e9 fd ff', 0x12345);
    expect(insn.length).toBe(4);
    expect(insn.operands[0]).toMatchObject({ bits: 16, rel: -3, target: 0x2346 });
    expect(show('66 eb fe', 0x12345)).toBe('jmp rel8 0x2346'); // 0x12348 - 2, truncated
  });

  it('reads moffs with the address size', () => {
    expect(show('a1 78 56 34 12')).toBe('mov eax, m32 [0x12345678]');
    expect(show('64 a2 10 00 00 00')).toBe('mov m8 fs:[0x10], al');
    expect(show('66 a3 00 10 00 00')).toBe('mov m16 [0x1000], ax');
    const insn = ok('67 a0 34 12');
    expect(insn.length).toBe(4);
    expect(insn.operands[1]).toMatchObject({ type: 'mem', addrBits: 16, disp: 0x1234, dispBytes: 2 });
  });

  it('reads far pointers', () => {
    expect(show('ea 78 56 34 12 10 00')).toBe('jmp far32 0x10:0x12345678');
    expect(show('9a 00 00 00 00 08 00')).toBe('call far32 0x8:0x0');
    const insn = ok('66 ea 34 12 10 00');
    expect(insn.length).toBe(6);
    expect(text(insn)).toBe('jmp far16 0x10:0x1234');
  });
});

describe('invalid input', () => {
  it.each<[string, DecodeErrorReason]>([
    ['8d c1', 'invalid-modrm'], // lea eax, ecx
    ['0f 01 d0', 'invalid-modrm'], // lgdt with mod = 3
    ['0f c7 c8', 'invalid-modrm'], // cmpxchg8b with a register
    ['ff e8', 'invalid-modrm'], // jmp far through a register
    ['0f 00 f0', 'invalid-opcode'], // 0F 00 /6 does not exist
    ['fe d0', 'invalid-opcode'], // FE /2 does not exist
    ['d6', 'invalid-opcode'], // salc is not in the table
    ['0f ff', 'invalid-opcode'],
    ['0f ae e9', 'invalid-opcode'], // only E8/F0/F8 are in the table
    ['0f 20 c8', 'invalid-register'], // cr1
    ['0f 22 e8', 'invalid-register'], // cr5
    ['8c f0', 'invalid-register'], // segment register 6
    ['8e c8', 'invalid-register'], // mov cs, eax
    ['f0 01 c0', 'invalid-lock'], // register destination
    ['f0 03 03', 'invalid-lock'], // memory source only
    ['f0 90', 'invalid-lock'],
    ['f0 39 03', 'invalid-lock'], // cmp is not lockable
  ])('%s is %s', (bytes, reason) => {
    expect(err(bytes).reason).toBe(reason);
  });

  it.each([
    ['b8 01 02'], ['0f'], ['8b 44'], ['8b 84 24 00'], ['66'], ['67 8b 06 34'], ['ea 00 00 00 00 10'], ['f3'],
  ])('%s is truncated', (bytes) => {
    expect(err(bytes).reason).toBe('truncated');
  });

  it('handles offsets outside the buffer', () => {
    expect(decode(new Uint8Array(0), 0, 0)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decode(bytesOf('90'), 1, 0)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decode(bytesOf('90'), -1, 0)).toMatchObject({ ok: false, reason: 'truncated' });
    expect(decode(bytesOf('90'), Number.NaN, 0)).toMatchObject({ ok: false, reason: 'truncated' });
  });

  it('rejects instructions longer than 15 bytes', () => {
    const fourteen = '66 '.repeat(14);
    expect(ok(`${fourteen} 90`).length).toBe(15);
    expect(err(`${fourteen} 66 90`)).toEqual({ reason: 'too-long', length: 15 });
    // C7 84 24 disp32 imm32 is 11 bytes: 4 prefixes fit, 5 do not
    expect(ok(`${'2e '.repeat(4)} c7 84 24 00 00 00 00 78 56 34 12`).length).toBe(15);
    expect(err(`${'2e '.repeat(5)} c7 84 24 00 00 00 00 78 56 34 12`).reason).toBe('too-long');
  });
});

describe('decoding at an offset', () => {
  it('reads from the offset and reports the given address', () => {
    const bytes = bytesOf('90 90 e8 00 00 00 00');
    const r = decode(bytes, 2, 0x4000);
    expect(r.ok && text(r.insn)).toBe('call rel32 0x4005');
    expect(r.ok && r.insn.address).toBe(0x4000);
  });
});

describe('table coverage', () => {
  it('decodes the first opcode of every form to a form with the same opcode', () => {
    // Skip forms that need a ModRM, immediate or prefix to be complete: the corpus test in
    // asm/ covers those byte for byte against nasm and objdump.
    const simple = FORMS.filter((f) => f.modrm === undefined && f.tail.length === 0 && f.plusReg < 0 && f.opsize !== 16 && f.adsize === 0);
    for (const f of simple) {
      const r = decode(Uint8Array.from(f.opcode), 0, 0);
      expect(r.ok, f.mnemonic).toBe(true);
      if (r.ok) expect(r.insn.form.opcode).toEqual(f.opcode);
    }
  });
});

describe('properties', () => {
  const reasons: DecodeErrorReason[] = ['truncated', 'too-long', 'invalid-opcode', 'invalid-modrm', 'invalid-register', 'invalid-lock'];

  it('never throws; lengths stay within 1..15 and the buffer', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 24 }), fc.nat(30), fc.integer({ min: 0, max: 0xffffffff }),
      (bytes, offset, address) => {
        const r = decode(bytes, offset, address);
        if (r.ok) {
          expect(r.insn.length).toBeGreaterThanOrEqual(1);
          expect(r.insn.length).toBeLessThanOrEqual(MAX_INSTRUCTION_LENGTH);
          expect(offset + r.insn.length).toBeLessThanOrEqual(bytes.length);
          expect(r.insn.operands.length).toBe(r.insn.form.operands.length);
        } else {
          expect(r.length).toBeGreaterThanOrEqual(1);
          expect(r.length).toBeLessThanOrEqual(MAX_INSTRUCTION_LENGTH);
          expect(reasons).toContain(r.reason);
        }
      },
    ), { numRuns: 20000 });
  });

  it('reads exactly `length` bytes: more bytes change nothing, one fewer is truncated', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 8 }), (bytes, extra) => {
      const r = decode(bytes, 0, 0x1000);
      if (!r.ok) return;
      const exact = bytes.slice(0, r.insn.length);
      expect(decode(exact, 0, 0x1000)).toEqual(r);
      const padded = new Uint8Array([...extra, ...exact]);
      expect(decode(padded, extra.length, 0x1000)).toEqual(r);
      expect(decode(exact.slice(0, -1), 0, 0x1000)).toMatchObject({ ok: false, reason: 'truncated' });
    }), { numRuns: 5000 });
  });

  it('walks any buffer to its end', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      let off = 0;
      let steps = 0;
      while (off < bytes.length) {
        const r = decode(bytes, off, off);
        off += r.ok ? r.insn.length : 1;
        steps++;
      }
      expect(steps).toBeLessThanOrEqual(bytes.length);
    }), { numRuns: 2000 });
  });
});
