// Instruction encoder: matches resolved operands against the forms of the isa/ table and
// emits the shortest encoding, taking the first form on ties — the choice NASM makes.

import {
  FORMS, formsOf, IMMEDIATE_KINDS, kindBits, PREFIXES, REGISTERS, SEGMENT_PREFIX, unsupportedInstruction,
  type InstructionForm, type OperandKind, type Register,
} from '../../isa/src/index.js';
import { addressLength, addressMode, writeAddress, type AddressMode, type AddressShape } from './address.js';
import { low32, type Value } from './expr.js';

/** An operand whose expressions have been evaluated (values undefined while unknown). */
export type ResolvedOperand =
  | { kind: 'reg'; reg: Register }
  | {
      kind: 'mem';
      size: number;
      far: boolean;
      seg: Register | null;
      shape: AddressShape;
      disp: Value | undefined;
      dispSize: number;
    }
  | { kind: 'imm'; value: Value | undefined; size: number; strict: boolean; distance: '' | 'short' | 'near' | 'far' }
  | { kind: 'farptr'; seg: Value | undefined; offset: Value | undefined };

export interface EncodeRequest {
  mnemonic: string;
  prefixes: readonly string[];
  operands: readonly ResolvedOperand[];
  /** Address of the instruction's first byte (for relative branches). */
  address: number;
  /** Section of the instruction (branch targets in another section are never short). */
  section: string;
  /** The last pass: every value must be known, and range problems are errors. */
  final: boolean;
  /**
   * Where the bytes go, written from index 0 over what earlier encodings left there (the
   * array only grows): the assembler passes one array for every instruction and copies
   * or emits the bytes at once. Default: a new array.
   */
  out?: number[];
  /**
   * The source statement's memo: operand shapes (registers, sizes, keywords) never
   * change between passes, so the forms they allow are kept there.
   */
  memo?: { plan?: ShapePlan };
  /**
   * Filled and returned on success instead of a new object: the assembler passes one for
   * every instruction (it reads the result at once). Default: a new object.
   */
  result?: EncodeSuccess;
}

/** The forms one mnemonic allows for one combination of operand shapes, and facts about them. */
export interface ShapePlan {
  forms: readonly InstructionForm[];
  /** Some form's match depends on values (short immediates, short branches). */
  valueDependent: boolean;
  /** An unsized memory operand fits forms of several widths. */
  ambiguous: boolean;
}

export interface EncodeSuccess {
  ok: true;
  length: number;
  /** The encoding is `length` entries of this from `at` (empty outside the final pass). */
  bytes: number[];
  at: number;
  form: InstructionForm;
  /** The encoding has a relative branch field (its bytes depend on its address). */
  relative: boolean;
  /** Usually the shared empty list. */
  warnings: readonly string[];
}

export type EncodeResult = EncodeSuccess | { ok: false; message: string; code: string; operand?: number };

/** Whether a number fits a signed byte. */
function fitsByte(v: number): boolean {
  return v >= -128 && v < 128;
}

function known(v: Value | undefined): v is Value {
  return v !== undefined;
}

/**
 * Whether `op` can be an operand of `kind` in `form`, judged on what does not change
 * between passes: registers, sizes and keywords (values are checked by valueMatch).
 */
function shapeMatch(kind: OperandKind, op: ResolvedOperand, form: InstructionForm): boolean {
  switch (op.kind) {
    case 'reg': {
      const r = op.reg;
      switch (kind) {
        case 'r8': case 'rm8': return r.cls === 'r8';
        case 'r16': case 'rm16': return r.cls === 'r16';
        case 'r32': case 'rm32': return r.cls === 'r32';
        case 'sreg': case 'creg': case 'dreg': return r.cls === kind;
        case 'al': case 'ax': case 'eax': case 'cl': case 'dx': case 'cx': case 'ecx':
        case 'es': case 'cs': case 'ss': case 'ds': case 'fs': case 'gs':
          return r.name === kind;
        default: return false;
      }
    }
    case 'mem': {
      if (op.far) return kind === 'mfar';
      switch (kind) {
        case 'rm8': case 'rm16': case 'rm32': case 'm16': case 'm32': case 'm64':
          return op.size === 0 || op.size === kindBits(kind);
        case 'm': return true;
        case 'moffs8': case 'moffs16': case 'moffs32':
          // an offset of the address size: 32-bit, or 16-bit with 0x67 (`[word 0x10]`)
          return (op.size === 0 || op.size === kindBits(kind)) && op.shape.base === null && op.shape.index === null && op.dispSize !== 8;
        default: return false;
      }
    }
    case 'imm': {
      const size = op.size;
      // `push 5` is a dword push: a 16-bit form needs `word` unless another operand is 16-bit.
      if (form.opsize === 16 && size !== 16 && !FACTS[form.index].sized16) return false;
      if (op.distance === 'short' && kind !== 'rel8') return false;
      if (op.distance === 'near' && kind !== 'rel32') return false;
      switch (kind) {
        case 'imm8': return size === 0 || size === 8;
        case 'imm16': return size === 0 || size === 16;
        case 'imm32': return size === 0 || size === 32;
        case 'simm8':
          if (op.strict && size !== 8) return false;
          return size === 0 || size === 8 || size === form.opsize;
        case 'one': return (size === 0 || size === 8) && !op.strict;
        case 'rel8':
          if (op.distance === 'short') return true;
          return (size === 0 || size === 8) && !op.strict;
        case 'rel32': return size === 0 || size === 32;
        default: return false;
      }
    }
    case 'farptr':
      return kind === 'ptr16:32';
  }
}

/** Plans by mnemonic, then by the operands' shapes packed in a number (shapeKey). */
const BY_SHAPE = new Map<string, Map<number, ShapePlan>>();

const REGISTER_CODE = new Map(REGISTERS.map((r, i) => [r, i]));
const WIDTH_CODE: Readonly<Record<number, number>> = { 0: 0, 8: 1, 16: 2, 32: 3, 48: 4, 64: 5, 80: 6, 128: 7 };
const DISTANCE_CODE = { '': 0, short: 1, near: 2, far: 3 } as const;

/** Everything shapeMatch() looks at in one operand, as a number below 512. */
function operandShape(o: ResolvedOperand): number {
  switch (o.kind) {
    case 'reg': return 1 + REGISTER_CODE.get(o.reg)!;
    case 'mem': {
      const sh = o.shape;
      const bare = sh.base === null && sh.index === null ? 1 : 0;
      return 64 + ((WIDTH_CODE[o.size] ?? 7) << 4 | (o.far ? 8 : 0) | bare << 2 | (WIDTH_CODE[o.dispSize] ?? 3) & 3);
    }
    case 'imm': return 256 + ((WIDTH_CODE[o.size] ?? 7) << 3 | (o.strict ? 4 : 0) | DISTANCE_CODE[o.distance]);
    case 'farptr': return 511;
  }
}

/** The operands' shapes packed in one number (no instruction has more than three operands). */
function shapeKey(req: EncodeRequest): number {
  const ops = req.operands;
  let key = ops.length;
  for (let i = 0; i < ops.length; i++) key = key * 512 + operandShape(ops[i]);
  return key;
}

/**
 * The value-dependent part of matching: short immediates and short branches. A value not
 * known (a forward reference) is assumed to fit, as NASM does; later passes grow it. In the
 * final pass only an undefined symbol is unknown, an error already: the instruction keeps
 * the size the layout gave it, so that the error costs no further pass.
 */
function valueMatch(kind: OperandKind, op: ResolvedOperand, form: InstructionForm, req: EncodeRequest): boolean {
  if (op.kind !== 'imm') return true;
  const v = op.value;
  switch (kind) {
    case 'simm8':
      if (!known(v)) return true;
      return v.sect === null && fitsByte(form.opsize === 16 ? (low32(v) << 16) >> 16 : low32(v));
    case 'one':
      if (!known(v)) return true;
      return v.sect === null && v.n === 1n;
    case 'rel8':
      if (op.distance === 'short') return true;
      if (!known(v)) return true;
      return v.sect === null || v.sect === req.section;
    default:
      return true;
  }
}

function matchOperand(kind: OperandKind, op: ResolvedOperand, form: InstructionForm, req: EncodeRequest): boolean {
  return shapeMatch(kind, op, form) && valueMatch(kind, op, form, req);
}

const VALUE_KINDS: ReadonlySet<OperandKind> = new Set<OperandKind>(['simm8', 'one', 'rel8']);

/** Facts about each form that the encoder needs on every instruction, computed once. */
interface FormFacts {
  /** Indices of the operands that fill the tail fields, in order. */
  tail: number[];
  /** Some non-immediate operand is 16-bit (so an unsized immediate may be 16-bit). */
  sized16: boolean;
  /** Some operand kind is value-dependent (simm8, one, rel8). */
  valueDependent: boolean;
  /** A tail field is a relative branch displacement. */
  relative: boolean;
  /** Opcode, a one-byte ModRM and the tail fields: the length before prefixes and address bytes. */
  baseLength: number;
  /** A tail field is a memory offset (4 bytes in baseLength; 2 with 16-bit addressing). */
  moffs: boolean;
}

const FACTS: FormFacts[] = FORMS.map((f) => ({
  tail: f.operands.flatMap((k, i) => (IMMEDIATE_KINDS.has(k) && k !== 'one') || k === 'rel8' || k === 'rel32' || k === 'ptr16:32' || k.startsWith('moffs') ? [i] : []),
  sized16: f.operands.some((k) => kindBits(k) === 16 && !IMMEDIATE_KINDS.has(k)),
  valueDependent: f.operands.some((k) => VALUE_KINDS.has(k)),
  relative: f.tail.some((t) => t.kind === 'rel'),
  baseLength: f.opcode.length + (f.modrm !== undefined ? 1 : 0) + f.tail.reduce((n, t) => n + tailSize(t), 0),
  moffs: f.tail.some((t) => t.kind === 'moffs'),
}));

const NO_WARNINGS: readonly string[] = [];
const NO_BYTES: number[] = [];
/** Warnings of the encoding being written (copied out when there are any). */
const WARNINGS: string[] = [];

/** How many prefix bytes prefixBytes() gives, without building them (`mem`: the memory operand). */
function prefixCount(form: InstructionForm, req: EncodeRequest, mem: MemOperand | undefined): number {
  if (req.prefixes.length === 0) {
    let n = form.opsize === 16 ? 1 : 0;
    if (mem?.seg) n++;
    if (form.adsize === 16 || mem?.shape.adsize === 16) n++;
    return n;
  }
  return prefixBytes(form, req, PREFIX_SCRATCH, 0);
}

const PREFIX_SCRATCH: number[] = [];

/** Writes the prefix bytes of an encoding, in NASM's order (lock/rep, segment, 0x66, 0x67), to `out` from `at`; returns where they end. */
function prefixBytes(form: InstructionForm, req: EncodeRequest, out: number[], at: number): number {
  const mem = memoryOperand(req);
  let seg = mem?.seg ? SEGMENT_PREFIX[mem.seg.name] : undefined;
  let rep: number | undefined;
  let opsize16 = form.opsize === 16;
  let adsize16 = form.adsize === 16 || mem?.shape.adsize === 16;
  for (let i = 0; i < req.prefixes.length; i++) {
    const p = req.prefixes[i];
    if (p === 'lock' || p.startsWith('rep')) rep = rep ?? PREFIXES[p];
    else if (p === 'o16') opsize16 = true;
    else if (p === 'o32') opsize16 = false; // nasm lets the prefix win (with a warning: see sizePrefixWarning)
    else if (p === 'a16') adsize16 = true;
    else if (p in SEGMENT_PREFIX) seg = seg ?? SEGMENT_PREFIX[p];
  }
  if (rep !== undefined) out[at++] = rep;
  if (seg !== undefined) out[at++] = seg;
  if (opsize16) out[at++] = 0x66;
  if (adsize16) out[at++] = 0x67;
  return at;
}

type MemOperand = Extract<ResolvedOperand, { kind: 'mem' }>;

/** The request's memory operand (an instruction has at most one). */
function memoryOperand(req: EncodeRequest): MemOperand | undefined {
  const ops = req.operands;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.kind === 'mem') return op;
  }
  return undefined;
}

/** How a memory operand is encoded (null without one); every form shares this. */
function memoryMode(op: MemOperand | undefined): AddressMode | null {
  return op ? addressMode(op.shape, op.disp, op.dispSize, MODE) : null;
}

/** The address mode of the encoding being made (used only while encodeInstruction runs). */
const MODE: AddressMode = { mod: 0, rm: 0, sib: -1, dispBytes: 0, disp: 0 };

function tailSize(t: InstructionForm['tail'][number]): number {
  return t.kind === 'imm' || t.kind === 'rel' ? t.bytes : t.kind === 'moffs' ? 4 : 6;
}

/** Length of the encoding with `form`, or a message when it cannot encode these operands. */
function measure(form: InstructionForm, req: EncodeRequest, mem: MemOperand | undefined, mode: AddressMode | null): number | string {
  const facts = FACTS[form.index];
  let n = prefixCount(form, req, mem) + facts.baseLength;
  if (facts.moffs && mem?.shape.adsize === 16) n -= 2;
  if (form.modrm !== undefined) {
    const op = req.operands[form.rmOperand];
    if (!op) return 'internal: ModRM operand missing';
    if (op.kind === 'mem' && mode) n += addressLength(mode) - 1;
  }
  if (!facts.relative) return n;
  const tail = facts.tail;
  for (let i = 0; i < tail.length; i++) {
    const t = form.tail[i];
    const op = req.operands[tail[i]];
    if (t.kind === 'rel' && t.bytes === 1 && op.kind === 'imm' && op.value && !fitsByte((low32(op.value) - (req.address + n)) | 0)) {
      return op.distance === 'short' ? 'short jump is out of range' : 'jump target out of range for a short jump';
    }
  }
  return n;
}

/** Values an immediate field of 1, 2 or 4 bytes holds without warning (signed or unsigned). */
const FIELD_RANGE: Record<number, [bigint, bigint]> = {
  1: [-0x80n, 0xffn], 2: [-0x8000n, 0xffffn], 4: [-0x80000000n, 0xffffffffn],
};

/** nasm's warning for a 16-bit address offset that is a number out of its range (a label's is cut silently). */
function checkWordOffset(disp: Value | undefined, warnings: string[]): void {
  if (disp && disp.sect === null && (disp.n < FIELD_RANGE[2][0] || disp.n > FIELD_RANGE[2][1])) warnings.push('word data exceeds bounds');
}

/** Writes `v` little-endian in `n` bytes to `out` from `at`; returns where they end. */
function le(out: number[], at: number, v: number, n: number): number {
  for (let i = 0; i < n; i++) out[at++] = (v >>> (8 * i)) & 0xff;
  return at;
}

/** The bytes of the encoding with `form` (after measure() accepted it), in `out` from index 0. */
function write(form: InstructionForm, req: EncodeRequest, length: number, mode: AddressMode | null, warnings: string[], out: number[]): void {
  const ops = req.operands;
  let at = prefixBytes(form, req, out, 0);
  const opcode = form.opcode;
  for (let i = 0; i < opcode.length; i++) out[at++] = opcode[i];
  if (form.plusReg >= 0) {
    const r = ops[form.plusReg];
    if (r.kind === 'reg') out[at - 1] += r.reg.num;
  }
  if (form.modrm !== undefined) {
    const regOp = form.regOperand >= 0 ? ops[form.regOperand] : undefined;
    const regField = form.modrm === 'r' ? (regOp && regOp.kind === 'reg' ? regOp.reg.num : 0) : form.modrm;
    const op = ops[form.rmOperand];
    if (op && op.kind === 'mem' && mode) {
      at = writeAddress(out, at, mode, regField);
      if (mode.dispBytes === 2) checkWordOffset(op.disp, warnings);
    } else if (op && op.kind === 'reg') out[at++] = 0xc0 | (regField << 3) | op.reg.num;
  }
  const tail = FACTS[form.index].tail;
  for (let i = 0; i < form.tail.length; i++) {
    const field = form.tail[i];
    const op = ops[tail[i]];
    if (field.kind === 'imm' && op?.kind === 'imm') {
      const signExtended = form.operands[tail[i]] === 'simm8';
      if (op.value && op.value.sect === null && !signExtended) {
        const n = op.value.n;
        const [min, max] = FIELD_RANGE[field.bytes];
        if (n < min || n > max) warnings.push(`${field.bytes === 1 ? 'byte' : field.bytes === 2 ? 'word' : 'dword'} value exceeds bounds`);
      }
      at = le(out, at, op.value ? low32(op.value) : 0, field.bytes);
    } else if (field.kind === 'rel' && op?.kind === 'imm') {
      const target = op.value ? low32(op.value) : req.address + length;
      at = le(out, at, (target - (req.address + length)) >>> 0, field.bytes);
    } else if (field.kind === 'moffs' && op?.kind === 'mem') {
      const bytes = op.shape.adsize === 16 ? 2 : 4;
      if (bytes === 2) checkWordOffset(op.disp, warnings);
      at = le(out, at, op.disp ? low32(op.disp) : 0, bytes);
    } else if (field.kind === 'farptr' && op?.kind === 'farptr') {
      at = le(out, at, op.offset ? low32(op.offset) : 0, 4);
      at = le(out, at, op.seg ? low32(op.seg) : 0, 2);
    }
  }
}

const CANDIDATES = new Map<string, InstructionForm[][]>();

/** Encodable forms of a mnemonic, by operand count. */
function candidates(mnemonic: string, count: number): readonly InstructionForm[] | undefined {
  let byCount = CANDIDATES.get(mnemonic);
  if (!byCount) {
    byCount = [];
    for (const f of formsOf(mnemonic)) if (!f.decodeOnly) (byCount[f.operands.length] ??= []).push(f);
    CANDIDATES.set(mnemonic, byCount);
  }
  return byCount[count];
}

/**
 * Encodes one instruction. Outside the final pass only the length is computed (`bytes`
 * is then empty), which is all the layout passes need.
 */
export function encodeInstruction(req: EncodeRequest): EncodeResult {
  let plan = req.memo?.plan;
  if (!plan) {
    plan = shapePlan(req);
    if (!plan) return { ok: false, message: unsupportedInstruction(req.mnemonic) ?? `unknown instruction '${req.mnemonic}'`, code: 'unknown-instruction' };
    if (req.memo) req.memo.plan = plan;
  }
  // Dropping forms for their values can only remove ambiguity: look closer only when the
  // shape alone is ambiguous.
  if (plan.ambiguous) {
    const sizeProblem = ambiguousSize(plan.forms.filter((f) => valueMatches(f, req)), req.operands);
    if (sizeProblem) return sizeProblem;
  }
  let best: InstructionForm | undefined;
  let bestLength = Infinity;
  let lastError = '';
  let matched = false;
  const mem = memoryOperand(req);
  const mode = memoryMode(mem);
  const forms = plan.forms;
  for (let i = 0; i < forms.length; i++) {
    const f = forms[i];
    if (plan.valueDependent && !valueMatches(f, req)) continue;
    matched = true;
    const n = measure(f, req, mem, mode);
    if (typeof n === 'string') lastError = n;
    else if (n < bestLength) {
      best = f;
      bestLength = n;
    }
  }
  if (!matched) return noMatch(req, formsOf(req.mnemonic));
  if (!best) return { ok: false, message: lastError, code: 'out-of-range' };
  if (mem?.shape.adsize === 16 && req.prefixes.includes('a32')) {
    return { ok: false, message: 'a32 with a 16-bit address: impossible combination of address sizes', code: 'address-size' };
  }
  if (!req.final) return success(req, bestLength, NO_BYTES, 0, best, NO_WARNINGS);
  const warnings = WARNINGS;
  if (warnings.length !== 0) warnings.length = 0;
  if (req.prefixes.length) sizePrefixWarning(best, req.prefixes, warnings);
  const bytes = req.out ?? [];
  write(best, req, bestLength, mode, warnings, bytes);
  return success(req, bestLength, bytes, 0, best, warnings.length ? warnings.slice() : NO_WARNINGS);
}

/** An o16/o32 prefix that contradicts the instruction's operand size (nasm's prefix-opsize warning; the prefix decides). */
function sizePrefixWarning(form: InstructionForm, prefixes: readonly string[], warnings: string[]): void {
  if (form.opsize === 16 && prefixes.includes('o32')) warnings.push('o32 on a 16-bit instruction: its 0x66 is left out, so it runs with 32-bit operands (as nasm does)');
  else if (form.opsize === 32 && prefixes.includes('o16')) warnings.push('o16 on a 32-bit instruction: the 0x66 makes it run with 16-bit operands (as nasm does)');
}

function success(req: EncodeRequest, length: number, bytes: number[], at: number, form: InstructionForm, warnings: readonly string[]): EncodeSuccess {
  const relative = FACTS[form.index].relative;
  const r = req.result;
  if (!r) return { ok: true, length, bytes, at, form, relative, warnings };
  r.length = length;
  r.bytes = bytes;
  r.at = at;
  r.form = form;
  r.relative = relative;
  r.warnings = warnings;
  return r;
}

/**
 * The plan for the request's mnemonic and operand shapes, made once for all statements
 * that share them; undefined for an unknown mnemonic.
 */
function shapePlan(req: EncodeRequest): ShapePlan | undefined {
  let byShape = BY_SHAPE.get(req.mnemonic);
  if (!byShape) {
    if (formsOf(req.mnemonic).length === 0) return undefined;
    BY_SHAPE.set(req.mnemonic, (byShape = new Map()));
  }
  const key = shapeKey(req);
  let plan = byShape.get(key);
  if (!plan) {
    const forms: InstructionForm[] = [];
    for (const f of candidates(req.mnemonic, req.operands.length) ?? []) {
      let ok = true;
      for (let i = 0; i < f.operands.length && ok; i++) ok = shapeMatch(f.operands[i], req.operands[i], f);
      if (ok) forms.push(f);
    }
    plan = {
      forms,
      valueDependent: forms.some((f) => FACTS[f.index].valueDependent),
      ambiguous: ambiguousSize(forms, req.operands) !== null,
    };
    byShape.set(key, plan);
  }
  return plan;
}

/** Whether the operands' values suit a form their shapes already match. */
function valueMatches(f: InstructionForm, req: EncodeRequest): boolean {
  if (!FACTS[f.index].valueDependent) return true;
  for (let i = 0; i < f.operands.length; i++) if (!valueMatch(f.operands[i], req.operands[i], f, req)) return false;
  return true;
}

/** An unsized memory operand that several forms of different widths accept. */
function ambiguousSize(matched: readonly InstructionForm[], ops: readonly ResolvedOperand[]): EncodeResult | null {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    if (op.kind !== 'mem' || op.size !== 0) continue;
    const widths = new Set(matched.map((f) => kindBits(f.operands[i])).filter((b) => b !== 0));
    if (widths.size > 1) return { ok: false, message: 'operation size not specified: write byte, word or dword before the memory operand', code: 'operand-size', operand: i };
  }
  return null;
}

function noMatch(req: EncodeRequest, forms: readonly InstructionForm[]): EncodeResult {
  const counts = new Set(forms.filter((f) => !f.decodeOnly).map((f) => f.operands.length));
  if (!counts.has(req.operands.length)) {
    const want = [...counts].sort().join(' or ');
    return { ok: false, message: `'${req.mnemonic}' takes ${want} operand(s), not ${req.operands.length}`, code: 'operand-count' };
  }
  const shortJump = req.operands.find((o) => o.kind === 'imm' && o.distance === 'short');
  if (shortJump) return { ok: false, message: `'${req.mnemonic}' has no short form`, code: 'invalid-operands' };
  const desc = req.operands.map(describe).join(', ');
  // Show the forms closest to what was written: most operands matching first.
  const score = (f: InstructionForm) => f.operands.filter((k, i) => matchOperand(k, req.operands[i], f, req)).length;
  const valid = forms
    .filter((f) => !f.decodeOnly && f.operands.length === req.operands.length)
    .map((f) => ({ text: f.operands.join(','), score: score(f) }))
    .sort((a, b) => b.score - a.score)
    .map((x) => x.text)
    .filter((v, i, a) => a.indexOf(v) === i);
  return { ok: false, message: `invalid operands for '${req.mnemonic}': ${desc} (valid forms: ${valid.slice(0, 8).join('; ')}${valid.length > 8 ? '; ...' : ''})`, code: 'invalid-operands' };
}

function describe(o: ResolvedOperand): string {
  switch (o.kind) {
    case 'reg': return o.reg.name;
    case 'mem': return o.size ? `${o.size}-bit memory` : 'memory';
    case 'imm': return o.size ? `${o.size}-bit immediate` : 'immediate';
    case 'farptr': return 'far pointer';
  }
}
