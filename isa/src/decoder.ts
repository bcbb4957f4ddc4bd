// Table-driven decoder for 32-bit IA-32 code. Every decodable encoding comes from FORMS;
// the lookup tables below are built once at module load (per opcode byte / 0F byte and per
// 0x66/0x67 state, candidates pre-sorted by preference) so that decode() only indexes
// arrays, filters a handful of candidates by ModRM and allocates the result objects.
// Register operands and constant operands are shared, immutable objects.
// Shared by the disassembler and the CPU interpreter (which raises #UD on `ok: false`).

import { FORMS, MNEMONICS, PREFIXES, type InstructionForm } from './instructions.js';
import { FIXED_REGISTER_KINDS, IMMEDIATE_KINDS, kindBits, REGISTER_KINDS, type OperandKind } from './operands.js';
import { registerByName, REGISTERS_BY_NUMBER, type Register, type RegisterClass } from './registers.js';

export type SegmentName = 'es' | 'cs' | 'ss' | 'ds' | 'fs' | 'gs';

export interface DecodedPrefixes {
  readonly lock: boolean;
  /** Last F3 (`rep`) / F2 (`repne`) prefix; null when absent or consumed as a mandatory prefix (pause). */
  readonly rep: 'rep' | 'repne' | null;
  /** Last segment-override prefix. */
  readonly segment: SegmentName | null;
  /** A 0x66 prefix was present. */
  readonly opsize: boolean;
  /** A 0x67 prefix was present. */
  readonly adsize: boolean;
  /** Every prefix byte in the order read (a mandatory prefix included). */
  readonly bytes: readonly number[];
}

export interface RegisterOperand {
  readonly type: 'reg';
  readonly kind: OperandKind;
  readonly reg: Register;
}

export interface MemoryOperand {
  readonly type: 'mem';
  readonly kind: OperandKind;
  /** Access width in bits; 0 for unsized forms (lea, lgdt, invlpg); 48/32 for far pointers. */
  readonly bits: 0 | 8 | 16 | 32 | 48 | 64;
  /** Segment-override prefix, or null for the default segment (see defaultSegment). */
  readonly segment: SegmentName | null;
  readonly base: Register | null;
  readonly index: Register | null;
  readonly scale: 1 | 2 | 4 | 8;
  /** Signed displacement (moffs addresses too: read them with `>>> 0`). */
  readonly disp: number;
  /** Bytes the displacement occupies in the encoding (the disassembler keeps them). */
  readonly dispBytes: 0 | 1 | 2 | 4;
  /** A SIB byte was present (32-bit addressing only). */
  readonly sib: boolean;
  readonly addrBits: 16 | 32;
}

export interface ImmediateOperand {
  readonly type: 'imm';
  readonly kind: OperandKind;
  /** Encoded width in bits (8 for `one`, which has no bytes). */
  readonly bits: 8 | 16 | 32;
  /** The encoded value, unsigned, masked to `bits`. */
  readonly value: number;
  /** The value the instruction uses, unsigned: simm8 sign-extended to the operand size, else `value`. */
  readonly extended: number;
}

export interface RelativeOperand {
  readonly type: 'rel';
  readonly kind: OperandKind;
  /** Displacement width in bits (16 for rel32 forms under 0x66). */
  readonly bits: 8 | 16 | 32;
  /** Signed displacement from the next instruction. */
  readonly rel: number;
  /** Absolute target, wrapped to 32 bits (to 16 bits under 0x66, as the CPU truncates EIP). */
  readonly target: number;
}

export interface FarPointerOperand {
  readonly type: 'far';
  readonly kind: OperandKind;
  readonly selector: number;
  readonly offset: number;
  /** 16 under 0x66 (ptr16:16). */
  readonly offsetBits: 16 | 32;
}

export type DecodedOperand = RegisterOperand | MemoryOperand | ImmediateOperand | RelativeOperand | FarPointerOperand;

export interface DecodedInstruction {
  readonly form: InstructionForm;
  readonly address: number;
  readonly length: number;
  readonly prefixes: DecodedPrefixes;
  /** Effective operand size (16 under 0x66). Forms with opsize 0 may still depend on it:
   *  ret/retf/iret/enter/leave/push sreg pop 16 bits, lgdt loads a 24-bit base, and so on. */
  readonly opsize: 16 | 32;
  /** Effective address size (16 under 0x67). */
  readonly adsize: 16 | 32;
  /** One operand per form.operands entry, in the same order. */
  readonly operands: readonly DecodedOperand[];
}

export type DecodeErrorReason =
  | 'truncated' // the buffer ended inside the instruction
  | 'too-long' // more than 15 bytes
  | 'invalid-opcode' // no form has these opcode bytes
  | 'invalid-modrm' // the opcode exists but not with this ModRM (lea eax, ecx; lgdt with mod=3)
  | 'invalid-register' // reserved sreg/creg number, or mov to cs
  | 'invalid-lock'; // lock on a non-lockable instruction or a register destination

export type DecodeResult =
  | { readonly ok: true; readonly insn: DecodedInstruction }
  | { readonly ok: false; readonly length: number; readonly reason: DecodeErrorReason };

export const MAX_INSTRUCTION_LENGTH = 15;

/** The segment an instruction's memory operand uses when there is no override. */
export function defaultSegment(mem: MemoryOperand): SegmentName {
  const b = mem.base?.name;
  return b === 'esp' || b === 'ebp' || b === 'bp' ? 'ss' : 'ds';
}

// ---------------------------------------------------------------------------------------
// Registers and prebuilt register operands (register operands never allocate).

const R16 = REGISTERS_BY_NUMBER.r16 as Register[];
const R32 = REGISTERS_BY_NUMBER.r32 as Register[];
/** 16-bit ModRM r/m field: base and index registers ([si]/[di] are bases here). */
const MODRM16_BASE: readonly (Register | null)[] = [R16[3], R16[3], R16[5], R16[5], R16[6], R16[7], R16[5], R16[3]];
const MODRM16_INDEX: readonly (Register | null)[] = [R16[6], R16[7], R16[6], R16[7], null, null, null, null];
const SEGMENT_OF_PREFIX: readonly (SegmentName | null)[] = Array.from({ length: 256 }, (_, b) =>
  b === 0x26 ? 'es' : b === 0x2e ? 'cs' : b === 0x36 ? 'ss' : b === 0x3e ? 'ds' : b === 0x64 ? 'fs' : b === 0x65 ? 'gs' : null);

function regClassOf(kind: OperandKind): RegisterClass {
  if (kind === 'r8' || kind === 'rm8') return 'r8';
  if (kind === 'r16' || kind === 'rm16') return 'r16';
  if (kind === 'sreg' || kind === 'creg' || kind === 'dreg') return kind;
  return 'r32';
}

const REGISTER_OPERANDS = new Map<OperandKind, readonly (RegisterOperand | null)[]>();

/** The eight register operands of a kind, by encoding number (null: reserved number). */
function registerOperands(kind: OperandKind): readonly (RegisterOperand | null)[] {
  let ops = REGISTER_OPERANDS.get(kind);
  if (!ops) {
    ops = REGISTERS_BY_NUMBER[regClassOf(kind)].map((reg) => (reg ? { type: 'reg', kind, reg } : null));
    REGISTER_OPERANDS.set(kind, ops);
  }
  return ops;
}

// ---------------------------------------------------------------------------------------
// Lookup tables.

/** Where each operand of a form comes from. */
type Role = 'reg' | 'rm' | 'opreg' | 'constant' | 'imm' | 'rel' | 'moffs' | 'far';

interface OperandPlan {
  readonly role: Role;
  readonly kind: OperandKind;
  /** Register operands by number, for the reg, rm (mod = 3) and opreg roles. */
  readonly regs: readonly (RegisterOperand | null)[];
  /** The operand itself when the bytes do not change it (fixed register, `one`). */
  readonly constant: DecodedOperand | null;
  /** Bytes of an immediate, or of a relative displacement without 0x66 (imm, rel roles). */
  readonly fieldBytes: 0 | 1 | 2 | 4;
}

/** ModRM.mod constraint of a form's r/m operand. */
const Mod = { Any: 0, MemOnly: 1, RegOnly: 2, Ignored: 3 } as const;
type Mod = (typeof Mod)[keyof typeof Mod];

interface Entry {
  readonly form: InstructionForm;
  readonly plans: readonly OperandPlan[];
  /** Prefix byte that is part of the opcode (F3 for pause), or 0. */
  readonly mandatory: number;
  /** Required ModRM.reg (the /digit), or -1. */
  readonly digit: number;
  /** Required whole ModRM byte (lfence = 0F AE E8), or -1. */
  readonly literal: number;
  readonly mod: Mod;
  /** Low three bits of the opcode byte, for +r forms. */
  readonly opreg: number;
  /** lock is allowed on this form (a lockable mnemonic). */
  readonly lockable: boolean;
}

interface Slot {
  readonly hasModrm: boolean;
  readonly entries: readonly Entry[];
}

const MEM_ONLY: ReadonlySet<OperandKind> = new Set<OperandKind>(['m', 'm16', 'm32', 'm64', 'mfar']);

function roleOf(form: InstructionForm, k: OperandKind, i: number, rm: number): Role {
  if (i === rm) return 'rm';
  if (i === form.plusReg) return 'opreg';
  if (FIXED_REGISTER_KINDS.has(k) || k === 'one') return 'constant';
  if (IMMEDIATE_KINDS.has(k)) return 'imm';
  if (k === 'rel8' || k === 'rel32') return 'rel';
  if (k === 'moffs8' || k === 'moffs16' || k === 'moffs32') return 'moffs';
  if (k === 'ptr16:32') return 'far';
  if (form.modrm === 'r') return 'reg';
  throw new Error(`decoder: cannot place operand ${k} of ${form.mnemonic}`);
}

function constantOperand(kind: OperandKind): DecodedOperand {
  if (kind === 'one') return { type: 'imm', kind, bits: 8, value: 1, extended: 1 };
  return { type: 'reg', kind, reg: registerByName(kind)! };
}

/** Tail fields are in operand order: the n-th imm/rel operand owns the n-th such field. */
function plansOf(form: InstructionForm): OperandPlan[] {
  const rm = form.rmOperand;
  const fields = form.tail.filter((t) => t.kind === 'imm' || t.kind === 'rel');
  let next = 0;
  return form.operands.map((kind, i) => {
    const role = roleOf(form, kind, i, rm);
    const t = role === 'imm' || role === 'rel' ? fields[next++] : undefined;
    return {
      role, kind,
      regs: role === 'reg' || role === 'rm' || role === 'opreg' ? registerOperands(kind) : [],
      constant: role === 'constant' ? constantOperand(kind) : null,
      fieldBytes: t && (t.kind === 'imm' || t.kind === 'rel') ? t.bytes : 0,
    };
  });
}

function modOf(form: InstructionForm, plans: readonly OperandPlan[]): Mod {
  const rm = plans.find((p) => p.role === 'rm');
  if (!rm) return Mod.Any;
  if (MEM_ONLY.has(rm.kind)) return Mod.MemOnly;
  if (!REGISTER_KINDS.has(rm.kind)) return Mod.Any;
  // mov to/from control and debug registers ignores the mod bits (always a register).
  return form.operands.some((o) => o === 'creg' || o === 'dreg') ? Mod.Ignored : Mod.RegOnly;
}

/** Every legacy prefix byte (the instruction table's prefix words; o32/a32 have none). */
const PREFIX_BYTES: ReadonlySet<number> = new Set(Object.values(PREFIXES).filter((b) => b !== 0));

/** Splits a form's opcode bytes into mandatory prefix, map (0: one-byte, 1: 0F) and key bytes. */
function placeForm(form: InstructionForm): { mandatory: number; key: number; literal: number } {
  const bytes = [...form.opcode];
  const mandatory = bytes.length > 1 && PREFIX_BYTES.has(bytes[0]) ? bytes.shift()! : 0;
  const map = bytes[0] === 0x0f ? (bytes.shift(), 1) : 0;
  const op = bytes.shift()!;
  const literal = bytes.length > 0 ? bytes.shift()! : -1;
  if (bytes.length > 0) throw new Error(`decoder: opcode of ${form.mnemonic} too long`);
  return { mandatory, key: map * 256 + op, literal };
}

function entriesOf(form: InstructionForm): { key: number; entry: Entry }[] {
  const { mandatory, key, literal } = placeForm(form);
  const plans = plansOf(form);
  const base = {
    form, plans, mandatory, literal,
    digit: typeof form.modrm === 'number' ? form.modrm : -1,
    mod: modOf(form, plans),
    lockable: MNEMONICS[form.mnemonic]?.lockable === true,
  };
  if (form.plusReg < 0) return [{ key, entry: { ...base, opreg: 0 } }];
  return [0, 1, 2, 3, 4, 5, 6, 7].map((r) => ({ key: key + r, entry: { ...base, opreg: r } }));
}

/** A form of opsize 0 whose register-only GPR operand has the other width is a worse name
 *  for the bytes: `8E C0` is `mov es, eax` without 0x66 and `mov es, ax` with it. */
function misfit(form: InstructionForm, osz: 16 | 32): boolean {
  if (form.opsize !== 0) return false;
  return form.operands.some((k) => (k === 'r16' && osz === 32) || (k === 'r32' && osz === 16));
}

/** Sort key: mandatory/literal forms; the size-specific form under 0x66 (pushaw, and the
 *  decode-only `jmp rm16` over `jmp rm32`) but the plain one without it (pusha, nop), and
 *  likewise under 0x67 (`loop rel8, cx`, but `loop rel8`); then
 *  canonical before decode-only; then table order (canonical cc names come first). */
function rankKey(e: Entry, osz: 16 | 32, asz: 16 | 32): number[] {
  const f = e.form;
  return [
    e.mandatory !== 0 || e.literal >= 0 ? 0 : 1,
    osz === 16 ? (f.opsize === 16 ? 0 : 1) : (f.opsize === 0 ? 0 : 1),
    asz === 16 ? (f.adsize === 16 ? 0 : 1) : (f.adsize === 0 ? 0 : 1),
    f.decodeOnly ? 1 : 0,
    misfit(f, osz) ? 1 : 0,
    f.index,
  ];
}

function compareKeys(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

/** TABLES[osz16 * 2 + asz16][map * 256 + opcode]: candidates in order of preference. */
function buildTables(): Slot[][] {
  const all: Entry[][] = Array.from({ length: 512 }, () => []);
  for (const form of FORMS) {
    if (form.dup) continue; // `imul r, imm` is the encoder's shorthand for `imul r, r, imm`
    for (const { key, entry } of entriesOf(form)) all[key].push(entry);
  }
  const hasModrm = all.map((list, key) => {
    const flags = new Set(list.map((e) => e.form.modrm !== undefined || e.literal >= 0));
    if (flags.size > 1) throw new Error(`decoder: opcode ${key.toString(16)} mixes ModRM and no ModRM`);
    return flags.has(true);
  });
  const empty: Entry[] = [];
  const tables: Slot[][] = [];
  for (const osz of [32, 16] as const) {
    for (const asz of [32, 16] as const) {
      tables.push(all.map((list, key) => {
        const fit = list.filter((e) => (e.form.opsize === 0 || e.form.opsize === osz) && (e.form.adsize === 0 || e.form.adsize === asz));
        fit.sort((a, b) => compareKeys(rankKey(a, osz, asz), rankKey(b, osz, asz)));
        return { hasModrm: hasModrm[key], entries: fit.length ? fit : empty };
      }));
    }
  }
  return tables;
}

const TABLES = buildTables();

// ---------------------------------------------------------------------------------------
// Decoding state. decode() is synchronous and never reenters, so the cursor, the prefixes
// and the ModRM address being read live in module variables instead of per-call objects.

const EMPTY = new Uint8Array(0);
let buf: Uint8Array = EMPTY;
let pos = 0;
let start = 0;
let end = 0;

let pLock = false;
let pRep = 0;
let pSegment: SegmentName | null = null;
let pOpsize = false;
let pAdsize = false;
let pCount = 0;

let modrm = -1;
let hasMem = false;
let mBase: Register | null = null;
let mIndex: Register | null = null;
let mScale: 1 | 2 | 4 | 8 = 1;
let mDisp = 0;
let mDispBytes: 0 | 1 | 2 | 4 = 0;
let mSib = false;

/** Checks that n more bytes can be read: null, or why not. */
function need(n: number): DecodeErrorReason | null {
  if (pos - start + n > MAX_INSTRUCTION_LENGTH) return 'too-long';
  if (pos + n > end) return 'truncated';
  return null;
}

function u8(): number { return buf[pos++]; }
function u16(): number { const v = buf[pos] | (buf[pos + 1] << 8); pos += 2; return v; }
function u32(): number { const v = (buf[pos] | (buf[pos + 1] << 8) | (buf[pos + 2] << 16) | (buf[pos + 3] << 24)) >>> 0; pos += 4; return v; }

function readUnsigned(bytes: 1 | 2 | 4): number {
  return bytes === 1 ? u8() : bytes === 2 ? u16() : u32();
}

function signed(value: number, bytes: 1 | 2 | 4): number {
  return bytes === 1 ? (value << 24) >> 24 : bytes === 2 ? (value << 16) >> 16 : value | 0;
}

function fail(reason: DecodeErrorReason): DecodeResult {
  return { ok: false, reason, length: Math.max(1, Math.min(pos - start, MAX_INSTRUCTION_LENGTH)) };
}

/** Reads prefixes; returns an error or null. */
function readPrefixes(): DecodeErrorReason | null {
  pLock = false; pRep = 0; pSegment = null; pOpsize = false; pAdsize = false; pCount = 0;
  for (;;) {
    const err = need(1);
    if (err) return err;
    const b = buf[pos];
    if (b === 0xf0) pLock = true;
    else if (b === 0xf2 || b === 0xf3) pRep = b;
    else if (b === 0x66) pOpsize = true;
    else if (b === 0x67) pAdsize = true;
    else if (SEGMENT_OF_PREFIX[b] !== null) pSegment = SEGMENT_OF_PREFIX[b];
    else return null;
    pos++;
    pCount++;
  }
}

/** First candidate matching the prefixes and ModRM, or why none does. */
function pick(slot: Slot): Entry | DecodeErrorReason {
  let sawOpcode = false;
  const entries = slot.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.mandatory !== 0 && e.mandatory !== pRep) continue;
    if (slot.hasModrm) {
      if (e.literal >= 0 && modrm !== e.literal) continue;
      if (e.digit >= 0 && ((modrm >> 3) & 7) !== e.digit) continue;
      sawOpcode = true;
      const isReg = modrm >= 0xc0;
      if ((e.mod === Mod.MemOnly && isReg) || (e.mod === Mod.RegOnly && !isReg)) continue;
    }
    return e;
  }
  return sawOpcode ? 'invalid-modrm' : 'invalid-opcode';
}

function readDisp(bytes: 0 | 1 | 2 | 4): DecodeErrorReason | null {
  if (bytes === 0) return null;
  const err = need(bytes);
  if (err) return err;
  mDisp = signed(readUnsigned(bytes), bytes);
  mDispBytes = bytes;
  return null;
}

function readAddress16(): DecodeErrorReason | null {
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 0 && rm === 6) return readDisp(2);
  mBase = MODRM16_BASE[rm];
  mIndex = MODRM16_INDEX[rm];
  return readDisp(mod === 1 ? 1 : mod === 2 ? 2 : 0);
}

function readAddress32(): DecodeErrorReason | null {
  const mod = modrm >> 6;
  let rm = modrm & 7;
  if (rm === 4) {
    const err = need(1);
    if (err) return err;
    const sib = u8();
    mSib = true;
    const idx = (sib >> 3) & 7;
    if (idx !== 4) { mIndex = R32[idx]; mScale = (1 << (sib >> 6)) as 1 | 2 | 4 | 8; }
    rm = sib & 7;
  }
  const noBase = mod === 0 && rm === 5;
  if (!noBase) mBase = R32[rm];
  return readDisp(noBase ? 4 : mod === 1 ? 1 : mod === 2 ? 4 : 0);
}

/** Reads SIB and displacement when the ModRM selects memory. */
function readAddress(e: Entry, asz: 16 | 32): DecodeErrorReason | null {
  hasMem = false; mBase = null; mIndex = null; mScale = 1; mDisp = 0; mDispBytes = 0; mSib = false;
  if (modrm < 0 || modrm >= 0xc0 || e.literal >= 0 || e.mod === Mod.Ignored) return null;
  hasMem = true;
  return asz === 16 ? readAddress16() : readAddress32();
}

function memBits(kind: OperandKind, osz: 16 | 32): MemoryOperand['bits'] {
  // A far pointer is an offset and a selector; every other width is the kind's own.
  if (kind === 'mfar') return osz === 16 ? 32 : 48;
  return kindBits(kind) as MemoryOperand['bits'];
}

function memoryOperand(kind: OperandKind, osz: 16 | 32, asz: 16 | 32): MemoryOperand {
  return {
    type: 'mem', kind, bits: memBits(kind, osz), segment: pSegment, base: mBase, index: mIndex,
    scale: mScale, disp: mDisp, dispBytes: mDispBytes, sib: mSib, addrBits: asz,
  };
}

function immediate(plan: OperandPlan, form: InstructionForm, osz: 16 | 32): ImmediateOperand | DecodeErrorReason {
  const bytes = plan.fieldBytes || 1;
  const err = need(bytes);
  if (err) return err;
  const value = readUnsigned(bytes);
  const bits = (bytes * 8) as 8 | 16 | 32;
  if (plan.kind !== 'simm8') return { type: 'imm', kind: plan.kind, bits, value, extended: value };
  const ext = signed(value, 1);
  const width = form.opsize || osz;
  return { type: 'imm', kind: plan.kind, bits, value, extended: width === 16 ? ext & 0xffff : ext >>> 0 };
}

function moffs(kind: OperandKind, osz: 16 | 32, asz: 16 | 32): MemoryOperand | DecodeErrorReason {
  const bytes = asz === 16 ? 2 : 4;
  const err = need(bytes);
  if (err) return err;
  mDisp = signed(readUnsigned(bytes), bytes);
  mDispBytes = bytes;
  return memoryOperand(kind, osz, asz);
}

function farPointer(kind: OperandKind, osz: 16 | 32): FarPointerOperand | DecodeErrorReason {
  const offBytes = osz === 16 ? 2 : 4;
  const err = need(offBytes + 2);
  if (err) return err;
  const offset = readUnsigned(offBytes);
  return { type: 'far', kind, offset, selector: u16(), offsetBits: osz };
}

/** A relative displacement (rel32 reads 16 bits under 0x66); the target needs the length,
 *  so the operand gets it once every byte is read. */
function relative(plan: OperandPlan, osz: 16 | 32): RelativeOperand | DecodeErrorReason {
  const bytes = plan.fieldBytes === 4 ? (osz === 16 ? 2 : 4) : 1;
  const err = need(bytes);
  if (err) return err;
  return { type: 'rel', kind: plan.kind, bits: (bytes * 8) as 8 | 16 | 32, rel: signed(readUnsigned(bytes), bytes), target: 0 };
}

function withTarget(op: RelativeOperand, next: number, osz: 16 | 32): RelativeOperand {
  const t = next + op.rel;
  return { type: 'rel', kind: op.kind, bits: op.bits, rel: op.rel, target: osz === 16 ? t & 0xffff : t >>> 0 };
}

/** Builds the operand list in encoding order (ModRM operands, then the tail fields). */
function readOperands(e: Entry, osz: 16 | 32, asz: 16 | 32, address: number): DecodedOperand[] | DecodeErrorReason {
  const { form, plans } = e;
  const out: DecodedOperand[] = [];
  let relAt = -1;
  for (let i = 0; i < plans.length; i++) {
    const p = plans[i];
    let op: DecodedOperand | DecodeErrorReason | null;
    switch (p.role) {
      case 'reg': op = p.regs[(modrm >> 3) & 7]; break;
      case 'rm': op = hasMem ? memoryOperand(p.kind, osz, asz) : p.regs[modrm & 7]; break;
      case 'opreg': op = p.regs[e.opreg]; break;
      case 'constant': op = p.constant; break;
      case 'imm': op = immediate(p, form, osz); break;
      case 'rel': op = relative(p, osz); relAt = i; break;
      case 'moffs': op = moffs(p.kind, osz, asz); break;
      case 'far': op = farPointer(p.kind, osz); break;
    }
    if (op === null) return 'invalid-register';
    if (typeof op === 'string') return op;
    out.push(op);
  }
  if (relAt >= 0) out[relAt] = withTarget(out[relAt] as RelativeOperand, address + (pos - start), osz);
  return out;
}

/** lock needs a memory destination; xchg writes both operands and the table lists both orders. */
function lockTarget(form: InstructionForm, ops: readonly DecodedOperand[]): boolean {
  return ops[0]?.type === 'mem' || (form.mnemonic === 'xchg' && ops[1]?.type === 'mem');
}

function checkSemantics(e: Entry, ops: readonly DecodedOperand[]): DecodeErrorReason | null {
  // Loading CS with mov is #UD.
  if (e.form.operands[0] === 'sreg' && ops[0].type === 'reg' && ops[0].reg.name === 'cs') return 'invalid-register';
  if (pLock && (!e.lockable || !lockTarget(e.form, ops))) return 'invalid-lock';
  return null;
}

const NO_PREFIXES: DecodedPrefixes = { lock: false, rep: null, segment: null, opsize: false, adsize: false, bytes: [] };

function prefixesOf(e: Entry): DecodedPrefixes {
  if (pCount === 0) return NO_PREFIXES;
  const bytes: number[] = [];
  for (let i = 0; i < pCount; i++) bytes.push(buf[start + i]);
  return {
    lock: pLock,
    // F3 of pause is part of the opcode, not a repeat prefix
    rep: e.mandatory !== 0 || pRep === 0 ? null : pRep === 0xf3 ? 'rep' : 'repne',
    segment: pSegment, opsize: pOpsize, adsize: pAdsize, bytes,
  };
}

/**
 * Decodes one instruction of 32-bit code at bytes[offset]; `address` is its linear address
 * (for relative targets). Never throws.
 */
export function decode(bytes: Uint8Array, offset: number, address: number): DecodeResult {
  if (!(offset >= 0 && offset < bytes.length)) return { ok: false, reason: 'truncated', length: 1 };
  buf = bytes;
  start = pos = Math.floor(offset);
  end = bytes.length;
  const result = decodeHere(address >>> 0);
  buf = EMPTY; // do not keep the caller's buffer alive
  return result;
}

/** Opcode byte(s) and ModRM: the matching table entry, or why there is none. */
function readOpcode(): Entry | DecodeErrorReason {
  const table = TABLES[(pOpsize ? 2 : 0) + (pAdsize ? 1 : 0)];
  let key = u8();
  if (key === 0x0f) {
    const err = need(1);
    if (err) return err;
    key = 256 + u8();
  }
  const slot = table[key];
  modrm = -1;
  if (slot.hasModrm) {
    const err = need(1);
    if (err) return err;
    modrm = u8();
  }
  return pick(slot);
}

function decodeHere(address: number): DecodeResult {
  const perr = readPrefixes();
  if (perr) return fail(perr);
  const osz: 16 | 32 = pOpsize ? 16 : 32;
  const asz: 16 | 32 = pAdsize ? 16 : 32;
  const entry = readOpcode();
  if (typeof entry === 'string') return fail(entry);
  const aerr = readAddress(entry, asz);
  if (aerr) return fail(aerr);
  const ops = readOperands(entry, osz, asz, address);
  if (typeof ops === 'string') return fail(ops);
  const serr = checkSemantics(entry, ops);
  if (serr) return fail(serr);
  const insn: DecodedInstruction = {
    form: entry.form, address, length: pos - start, prefixes: prefixesOf(entry), opsize: osz, adsize: asz, operands: ops,
  };
  return { ok: true, insn };
}
