// Disassembler: formats decoded instructions as NASM source that assembles back to the same
// bytes. Size keywords, `strict`, `near`, `o16`/`a16` and forced displacement widths are
// printed exactly when NASM would otherwise pick another encoding; that decision is made by
// matching the text against the other forms of the same mnemonic in the instruction table.

import { MNEMONICS, formsOf, type InstructionForm, type OperandKind } from '../../isa/src/index.js';
import { SIZE_NAME } from './syntax.js';
import {
  decode,
  type DecodeErrorReason, type DecodedInstruction, type DecodedOperand, type ImmediateOperand,
  type MemoryOperand, type RelativeOperand,
} from '../../isa/src/decoder.js';

export interface SymbolRef {
  readonly name: string;
  /** Bytes past the symbol (0 for the symbol itself). */
  readonly offset: number;
}

export interface FormatOptions {
  /** Names a relative branch target; undefined keeps the absolute address. */
  readonly symbol?: (address: number) => SymbolRef | undefined;
}

export interface DisasmLine {
  readonly address: number;
  readonly bytes: Uint8Array;
  readonly length: number;
  readonly text: string;
  /** The decoded instruction, or null for a `db` line of undecodable bytes. */
  readonly insn: DecodedInstruction | null;
  /** Why the bytes of a `db` line did not decode. */
  readonly error?: DecodeErrorReason;
}

const hex = (n: number): string => `0x${n.toString(16)}`;


const MEMORY_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['rm8', 'rm16', 'rm32', 'm', 'm16', 'm32', 'm64']);
const IMM_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['imm8', 'imm16', 'imm32', 'simm8', 'one']);
const MOFFS_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['moffs8', 'moffs16', 'moffs32']);

function kindMemBits(kind: OperandKind): number {
  switch (kind) {
    case 'rm8': case 'moffs8': return 8;
    case 'rm16': case 'm16': case 'moffs16': return 16;
    case 'rm32': case 'm32': case 'moffs32': return 32;
    case 'm64': return 64;
    default: return 0;
  }
}

function fitsSimm8(value: number, bits: number): boolean {
  const mask = bits === 16 ? 0xffff : 0xffffffff;
  return ((((value << 24) >> 24) & mask) >>> 0) === ((value & mask) >>> 0);
}

// ---------------------------------------------------------------------------------------
// Matching the text against table forms, the way NASM chooses a form.

/** How an operand will read in the text: memory may be printed without its size. */
interface TextView {
  readonly op: DecodedOperand;
  /** The printed number of an immediate. */
  readonly imm?: number;
  /** Memory printed with its size keyword (or `far`). */
  readonly sized: boolean;
  /** Accept any immediate kind: NASM never sizes a memory operand from an immediate's value. */
  readonly anyImm?: boolean;
}

function acceptsRegister(kind: OperandKind, op: Extract<DecodedOperand, { type: 'reg' }>): boolean {
  const cls = op.reg.cls;
  switch (kind) {
    case 'r8': case 'rm8': return cls === 'r8';
    case 'r16': case 'rm16': return cls === 'r16';
    case 'r32': case 'rm32': return cls === 'r32';
    case 'sreg': case 'creg': case 'dreg': return cls === kind;
    default: return op.reg.name === kind;
  }
}

function acceptsMemory(kind: OperandKind, m: MemoryOperand, sized: boolean): boolean {
  if ((kind === 'mfar') !== (m.kind === 'mfar')) return false;
  if (kind === 'mfar') return true;
  if (MOFFS_KINDS.has(kind)) {
    if (m.base || m.index) return false;
  } else if (!MEMORY_KINDS.has(kind)) {
    return false;
  }
  return !sized || kind === 'm' || kindMemBits(kind) === m.bits;
}

function accepts(kind: OperandKind, v: TextView, width: number): boolean {
  const op = v.op;
  switch (op.type) {
    case 'reg': return acceptsRegister(kind, op);
    case 'mem': return acceptsMemory(kind, op, v.sized);
    case 'rel': return kind === 'rel8' || kind === 'rel32';
    case 'far': return kind === 'ptr16:32';
    case 'imm': {
      if (v.anyImm) return IMM_KINDS.has(kind);
      const n = v.imm ?? op.value;
      if (kind === 'one') return n === 1;
      if (kind === 'simm8') return fitsSimm8(n, width);
      if (kind === 'imm8') return n <= 0xff;
      if (kind === 'imm16') return n <= 0xffff;
      return kind === 'imm32';
    }
  }
}

/** Forms of the mnemonic NASM could choose for these operands (all but position `skip`). */
function rivals(insn: DecodedInstruction, views: readonly TextView[], skip: number): InstructionForm[] {
  return formsOf(insn.form.mnemonic).filter((f) => {
    if (f.dup || f.operands.length !== views.length) return false;
    const width = f.opsize || insn.opsize;
    return f.operands.every((k, j) => j === skip || accepts(k, views[j], width));
  });
}

// ---------------------------------------------------------------------------------------
// Operand text.

function memoryNeedsSize(insn: DecodedInstruction, views: TextView[], i: number): boolean {
  const m = insn.operands[i] as MemoryOperand;
  if (m.bits === 0 || m.kind === 'mfar' || MOFFS_KINDS.has(m.kind) || insn.form.noSize) return false;
  const widths = new Set<number>();
  const loose = views.map((v) => (v.op.type === 'imm' ? { ...v, anyImm: true } : v));
  for (const f of rivals(insn, loose, i)) {
    if (acceptsMemory(f.operands[i], m, false)) widths.add(kindMemBits(f.operands[i]));
  }
  return widths.size > 1;
}

/** NASM's default displacement width for these registers and value. */
function naturalDispBytes(m: MemoryOperand): number {
  if (!m.base && !m.index) return m.addrBits === 16 ? 2 : 4;
  if (!m.base) return 4; // SIB without base always has disp32
  const bpOnly = m.addrBits === 16 ? m.base.name === 'bp' && !m.index : m.base.name === 'ebp';
  if (m.disp === 0 && !bpOnly) return 0;
  if (m.disp >= -128 && m.disp <= 127) return 1;
  return m.addrBits === 16 ? 2 : 4;
}

function addressText(m: MemoryOperand): string {
  const regs: string[] = [];
  if (m.base) regs.push(m.base.name);
  if (m.index) regs.push(m.base && m.scale === 1 ? m.index.name : `${m.index.name}*${m.scale}`);
  const forced = m.dispBytes !== naturalDispBytes(m) ? `${SIZE_NAME[m.dispBytes * 8]} ` : '';
  // Without a base NASM would turn ecx*1 into [ecx] and ecx*2 into [ecx+ecx].
  const nosplit = !m.base && m.index && m.scale <= 2 ? 'nosplit ' : '';
  if (regs.length === 0) return hex(m.addrBits === 16 ? m.disp & 0xffff : m.disp >>> 0);
  const disp = m.disp === 0 && !forced ? '' : m.disp < 0 ? `-${hex(-m.disp)}` : `+${hex(m.disp)}`;
  return `${nosplit}${forced}${regs.join('+')}${disp}`;
}

function memoryText(m: MemoryOperand, sizeKeyword: string): string {
  const far = m.kind === 'mfar' ? 'far ' : '';
  const seg = m.segment ? `${m.segment}:` : '';
  return `${far}${sizeKeyword}[${seg}${addressText(m)}]`;
}

function targetText(target: number, opts: FormatOptions): string {
  const sym = opts.symbol?.(target);
  if (!sym) return hex(target);
  return sym.offset === 0 ? sym.name : sym.offset > 0 ? `${sym.name}+${hex(sym.offset)}` : `${sym.name}-${hex(-sym.offset)}`;
}

/** `near` when NASM would pick the short form for a rel32 encoding. */
function needsNear(insn: DecodedInstruction, op: RelativeOperand): boolean {
  if (op.bits === 8) return false;
  if (!formsOf(insn.form.mnemonic).some((f) => f.operands[0] === 'rel8')) return false;
  const rel = (op.target - (insn.address + insn.prefixes.bytes.length + 2)) | 0;
  return op.bits === 16 || (rel >= -128 && rel <= 127);
}

function relText(insn: DecodedInstruction, op: RelativeOperand, opts: FormatOptions): string {
  const target = targetText(op.target, opts);
  if (op.bits === 16) return `near word ${target}`;
  if (needsNear(insn, op)) return `near ${target}`;
  // NASM widens a branch whose distance it cannot settle early (forward targets, `times`),
  // so a rel8 encoding of jmp/jcc always says `short`.
  const hasNear = formsOf(insn.form.mnemonic).some((f) => f.operands[0] === 'rel32');
  return op.bits === 8 && hasNear ? `short ${target}` : target;
}

/** Printed number of an immediate: sign-extended simm8 as the instruction sees it. */
function immNumber(op: ImmediateOperand): number {
  return op.kind === 'simm8' ? op.extended : op.value;
}

/** `strict` when NASM would choose a shorter immediate (simm8, or the shift-by-1 form). */
function immNeedsStrict(insn: DecodedInstruction, views: TextView[], i: number): boolean {
  const op = insn.operands[i] as ImmediateOperand;
  if (op.kind === 'simm8' || op.kind === 'one') return false;
  return rivals(insn, views, i).some((f) => {
    const k = f.operands[i];
    return (k === 'simm8' && fitsSimm8(op.value, f.opsize || insn.opsize)) || (k === 'one' && op.value === 1);
  });
}

// ---------------------------------------------------------------------------------------
// Instruction text.

interface Decorations {
  /** Per operand: the size keyword printed before it ('' for none). */
  readonly keywords: string[];
  /** Operand size 16 is visible in the text (no `o16` needed). */
  readonly o16Implied: boolean;
}

function sizeKeywords(insn: DecodedInstruction, views: TextView[]): string[] {
  const ops = insn.operands;
  const keywords = ops.map(() => '');
  ops.forEach((op, i) => {
    if (op.type === 'mem' && memoryNeedsSize(insn, views, i)) {
      keywords[i] = `${SIZE_NAME[op.bits]} `;
      views[i] = { ...views[i], sized: true };
    }
  });
  ops.forEach((op, i) => {
    if (op.type === 'imm' && immNeedsStrict(insn, views, i)) keywords[i] = `strict ${SIZE_NAME[op.bits]} `;
  });
  return keywords;
}

function decorate(insn: DecodedInstruction): Decorations {
  const ops = insn.operands;
  const views: TextView[] = ops.map((op) => ({ op, imm: op.type === 'imm' ? immNumber(op) : undefined, sized: op.type === 'mem' && op.kind === 'mfar' }));
  const keywords = sizeKeywords(insn, views);
  if (!insn.prefixes.opsize) return { keywords, o16Implied: false };
  const f = insn.form;
  // Which operand carries the 16-bit size in the text, if any.
  let implied = f.opsize === 16 && (ops.length === 0 || ops.some((op) => op.type === 'reg' && op.reg.cls === 'r16'));
  ops.forEach((op, i) => {
    if (op.type === 'mem' && op.bits === 16 && keywords[i] !== '' && f.opsize === 16) implied = true;
    if (op.type === 'mem' && op.kind === 'mfar') { keywords[i] = 'word '; implied = true; }
    if (op.type === 'far' || (op.type === 'rel' && op.bits === 16)) implied = true;
  });
  const firstImm = ops.findIndex((op) => op.type === 'imm' && op.kind !== 'one');
  if (!implied && f.opsize === 16 && firstImm >= 0 && ops.every((op) => op.type === 'imm')) {
    // `push word 5`: NASM warns on `o16 push 5`, a size on the immediate is its idiom.
    keywords[firstImm] = keywords[firstImm].startsWith('strict') ? keywords[firstImm] : 'word ';
    implied = true;
  }
  return { keywords, o16Implied: implied };
}

function operandText(insn: DecodedInstruction, op: DecodedOperand, keyword: string, opts: FormatOptions): string {
  switch (op.type) {
    case 'reg': return op.reg.name;
    case 'mem': return op.kind === 'mfar' ? memoryText(op, keyword) : `${keyword}${memoryText(op, '')}`;
    case 'imm': return op.kind === 'one' ? '1' : `${keyword}${hex(immNumber(op))}`;
    case 'rel': return relText(insn, op, opts);
    case 'far': return `${op.offsetBits === 16 ? 'word ' : ''}${hex(op.selector)}:${hex(op.offset)}`;
  }
}

function hasAddressRegisters(insn: DecodedInstruction): boolean {
  return insn.operands.some((op) => op.type === 'mem' && op.addrBits === 16 && (op.base !== null || op.index !== null));
}

/** Near branches where NASM reads F2 as the MPX `bnd` prefix and refuses `repne`. */
function bndBranch(insn: DecodedInstruction): boolean {
  const f = insn.form;
  if (f.mnemonic === 'ret' || f.mnemonic === 'retn') return true;
  if (f.mnemonic === 'jmp' || f.mnemonic === 'call') return ['rel32', 'rm32', 'rm16'].includes(f.operands[0]);
  return isJcc(f);
}

function isJcc(f: InstructionForm): boolean {
  return f.mnemonic.startsWith('j') && f.mnemonic !== 'jmp' && f.mnemonic !== 'jecxz' && f.mnemonic !== 'jcxz';
}

function prefixWords(insn: DecodedInstruction, d: Decorations): string[] {
  const p = insn.prefixes;
  const words: string[] = [];
  if (p.lock) words.push('lock');
  if (p.rep === 'repne') words.push(bndBranch(insn) ? 'bnd' : 'repne');
  if (p.rep === 'rep') words.push(MNEMONICS[insn.form.mnemonic]?.rep === 'repe' ? 'repe' : 'rep');
  if (p.segment && !insn.operands.some((op) => op.type === 'mem')) words.push(p.segment);
  if (p.opsize && !d.o16Implied) words.push('o16');
  if (p.adsize && insn.form.adsize !== 16 && !hasAddressRegisters(insn)) words.push('a16');
  return words;
}

/** Prefix bytes NASM cannot write twice (a repeated group), or F2 on a short jmp (NASM
 *  allows neither `bnd` nor `repne` there), force a `db` line. */
function expressible(insn: DecodedInstruction): boolean {
  if (insn.prefixes.rep === 'repne' && insn.form.mnemonic === 'jmp' && insn.form.operands[0] === 'rel8') return false;
  const groups = new Set<number>();
  for (const b of insn.prefixes.bytes) {
    const g = b === 0xf2 || b === 0xf3 ? 1 : b === 0xf0 ? 0 : b === 0x66 ? 2 : b === 0x67 ? 3 : 4;
    if (groups.has(g)) return false;
    groups.add(g);
  }
  return true;
}

function dbText(bytes: ArrayLike<number>): string {
  return `db ${Array.from(bytes, (b) => hex(b)).join(', ')}`;
}

/** NASM text of one decoded instruction (lower case). */
export function formatInstruction(insn: DecodedInstruction, opts: FormatOptions = {}): string {
  const d = decorate(insn);
  const ops = insn.operands.map((op, i) => operandText(insn, op, d.keywords[i], opts));
  const head = [...prefixWords(insn, d), insn.form.mnemonic].join(' ');
  return ops.length ? `${head} ${ops.join(', ')}` : head;
}

/** Like formatInstruction, but a `db` line (with the reading as a comment) when NASM cannot
 *  reproduce the prefix bytes. */
export function formatLine(insn: DecodedInstruction, bytes: Uint8Array, opts: FormatOptions = {}): string {
  const text = formatInstruction(insn, opts);
  return expressible(insn) ? text : `${dbText(bytes)} ; ${text}`;
}

/** Linear sweep: one line per instruction, `db` for each byte that does not decode. */
export function disassemble(bytes: Uint8Array, baseAddress: number, opts: FormatOptions = {}): DisasmLine[] {
  const lines: DisasmLine[] = [];
  let off = 0;
  while (off < bytes.length) {
    const address = (baseAddress + off) >>> 0;
    const r = decode(bytes, off, address);
    if (r.ok) {
      const b = bytes.slice(off, off + r.insn.length);
      lines.push({ address, bytes: b, length: r.insn.length, text: formatLine(r.insn, b, opts), insn: r.insn });
      off += r.insn.length;
    } else {
      const b = bytes.slice(off, off + 1);
      lines.push({ address, bytes: b, length: 1, text: dbText(b), insn: null, error: r.reason });
      off += 1;
    }
  }
  return lines;
}
