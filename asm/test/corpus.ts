// A NASM source corpus with several lines for every encodable form of the instruction table,
// for byte-for-byte tests against real nasm (the disassembler's and the encoder's).
// Each line is one instruction in `bits 32` code; relative targets are `$`-relative so the
// lines can be laid out at any address.

import { FORMS, kindBits, type InstructionForm, type OperandKind } from '../../isa/src/index.js';
import { SIZE_NAME } from '../src/syntax.js';

export interface CorpusLine {
  /** The form the line was generated for (NASM may pick an equivalent encoding). */
  readonly form: InstructionForm;
  readonly line: string;
}

/** Forms NASM 2.16 does not accept in any spelling, with the reason. */
export const NASM_UNSUPPORTED: Readonly<Record<string, string>> = {
  'lldt r32': 'SDM and NASM only have lldt r/m16; the table accepts a 32-bit register as a convenience',
  'ltr r32': 'SDM and NASM only have ltr r/m16',
  'lmsw r32': 'SDM and NASM only have lmsw r/m16',
};

const R8 = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];

/** Addressing forms: 32-bit mod 0/1/2 with and without SIB, the ebp/esp special cases,
 *  absolute, negative disp8, segment overrides, and 16-bit addressing. */
const ADDRESSES = [
  '[eax]', '[ebx+ecx*4+0x10]', '[ebp]', '[esp]', '[esi-0x80]', '[edi+0x7f]', '[eax+0x80]', '[0x12345678]',
  '[esp+ebp*8-0x4]', '[fs:eax]', '[edx*8+0x1000]', '[ss:ebp+0x12345]', '[bx+si]', '[bp+di+0x7f]',
  '[gs:0x10]', '[ecx+edx*2-0x1000]', '[bp]', '[si-0x2]', '[bx+0x1234]', '[es:edi]',
];

const IMM8 = ['0x0', '0x1', '0x7f', '0x80', '0xff'];
const IMM16 = ['0x0', '0x7f', '0x80', '0x7fff', '0xffff', '0x1234'];
const IMM32 = ['0x0', '0x7f', '0x80', '0x7fff', '0xffffffff', '0x12345678', '-0x2', '0x80000000'];
const SIMM8 = ['0x0', '0x1', '0x7f', '-0x1', '-0x80'];
const SREGS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];

function regBits(kind: OperandKind): number {
  if (['r8', 'al'].includes(kind)) return 8; // not cl: a shift count says nothing of the size
  if (['r16', 'ax', 'sreg'].includes(kind)) return 16;
  if (['r32', 'eax'].includes(kind)) return 32;
  return 0;
}

/** Memory operands, with a size keyword unless another operand fixes the size. */
function memories(form: InstructionForm, kind: OperandKind): string[] {
  if (kind === 'mfar') return ADDRESSES.slice(0, 8).map((a) => `far ${a}`);
  const bits = kindBits(kind);
  const implied = bits === 0 || form.operands.some((k) => k !== kind && regBits(k) === bits);
  return ADDRESSES.map((a) => (implied ? a : `${SIZE_NAME[bits]} ${a}`));
}

/** Branch targets `$+n` giving displacements 0, max and min for a `len`-byte instruction. */
function targets(kind: OperandKind, len: number): string[] {
  const at = (rel: number) => (rel + len >= 0 ? `$+${rel + len}` : `$-${-(rel + len)}`);
  return kind === 'rel8' ? [at(0), at(0x7f), at(-0x80)] : [at(0x1000), at(-0x12345), at(0)];
}

function branchLength(form: InstructionForm): number {
  const prefix = form.adsize === 16 ? 1 : 0;
  const rel = form.tail.find((t) => t.kind === 'rel');
  return prefix + form.opcode.length + (rel && rel.kind === 'rel' ? rel.bytes : 0);
}

/** jmp and jcc also have a rel32 form, so the rel8 lines say `short`. */
function hasNearForm(form: InstructionForm): boolean {
  return form.mnemonic.startsWith('j') && form.mnemonic !== 'jecxz' && form.mnemonic !== 'jcxz';
}

function samples(form: InstructionForm, i: number): string[] {
  const kind = form.operands[i];
  switch (kind) {
    case 'r8': return R8;
    case 'r16': return R16;
    case 'r32': return R32;
    case 'rm8': return [...R8, ...memories(form, kind)];
    case 'rm16': return [...R16, ...memories(form, kind)];
    case 'rm32': return [...R32, ...memories(form, kind)];
    case 'm': case 'm16': case 'm32': case 'm64': case 'mfar': return memories(form, kind);
    case 'imm8': return IMM8;
    case 'imm16': return IMM16;
    case 'imm32': return IMM32;
    case 'simm8': return SIMM8;
    case 'one': return ['1'];
    case 'rel8': return targets(kind, branchLength(form)).map((t) => (hasNearForm(form) ? `short ${t}` : t));
    case 'rel32': return targets(kind, branchLength(form)).map((t) => `near ${t}`);
    case 'moffs8': case 'moffs16': case 'moffs32': return ['[0x12345678]', '[fs:0x10]', '[0x0]'];
    case 'ptr16:32': return ['0x10:0x12345678', '0x8:0x0', '0xffff:0xffffffff'];
    // mov to a segment register: loading CS with mov is #UD
    case 'sreg': return i === 0 ? SREGS.filter((s) => s !== 'cs') : SREGS;
    case 'creg': return ['cr0', 'cr2', 'cr3', 'cr4'];
    case 'dreg': return ['dr0', 'dr1', 'dr2', 'dr3', 'dr4', 'dr5', 'dr6', 'dr7'];
    default: return [kind]; // fixed registers
  }
}

/** The `push word 5` idiom: an immediate-only o16 form needs the size on the immediate. */
function sizedImmediate(form: InstructionForm, text: string): string {
  return form.opsize === 16 && form.operands.every((k) => k === 'imm16' || k === 'simm8') ? `word ${text}` : text;
}

function operandLines(form: InstructionForm): string[] {
  const lists = form.operands.map((_, i) => samples(form, i));
  const n = Math.max(1, ...lists.map((l) => l.length));
  const out: string[] = [];
  for (let v = 0; v < n; v++) {
    const ops = lists.map((l) => l[v % l.length]);
    out.push(ops.length ? `${form.mnemonic} ${sizedImmediate(form, ops.join(', '))}` : form.mnemonic);
  }
  return out;
}

/** Extra lines with prefixes: lock on memory destinations, rep/segment/a16 on string ops. */
function prefixedLines(form: InstructionForm, lines: string[]): string[] {
  if (form.operands.length === 0 && /^(movs|stos|lods|cmps|scas|ins|outs)[bwd]$/.test(form.mnemonic)) {
    const rep = /^(cmps|scas)/.test(form.mnemonic) ? ['repe', 'repne'] : ['rep'];
    return [...rep.map((r) => `${r} ${form.mnemonic}`), `a16 ${form.mnemonic}`, `fs ${form.mnemonic}`];
  }
  if (form.mnemonic === 'xlatb') return ['a16 xlatb', 'fs xlatb'];
  if (form.mnemonic === 'loop') return ['a16 loop $+3']; // cx as the counter; 3 bytes with 0x67
  const lockable = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'inc', 'dec', 'not', 'neg', 'xadd', 'cmpxchg', 'cmpxchg8b', 'bts', 'btr', 'btc', 'xchg'];
  if (!lockable.includes(form.mnemonic)) return [];
  return lines.filter((l) => / ?(byte |word |dword |qword )?\[[^\]]*\]/.test(l.split(',')[0].slice(form.mnemonic.length))).map((l) => `lock ${l}`);
}

function formKey(form: InstructionForm): string {
  return `${form.mnemonic} ${form.operands.join(',')}`;
}

/** Every non-decodeOnly form with several operand variants each. */
export function corpus(): CorpusLine[] {
  const out: CorpusLine[] = [];
  for (const form of FORMS) {
    if (form.decodeOnly || NASM_UNSUPPORTED[formKey(form)]) continue;
    const lines = operandLines(form);
    for (const line of [...lines, ...prefixedLines(form, lines)]) out.push({ form, line });
  }
  return out;
}

/** The corpus as NASM source lines (assemble with `bits 32`). */
export function corpusLines(): string[] {
  return corpus().map((c) => c.line);
}
