// The abstract values of the eight general registers and the transfer function of one
// instruction over them. A value is a 32-bit constant, a pointer derived from something
// the analysis follows (start_info, its pt_base and shared_info fields, a register's
// value at a function's entry), or unknown (null). Alongside: which registers are
// definitely set, which instruction last set each one, and a bounded model of the stack
// so that push/pop pairs keep values.

import {
  HYPERCALL_ARG_REGISTERS, hypercallByNumber, registerByName, xenConstant, xenField, type DecodedOperand, type DecodedInstruction, type MemoryOperand, type Register,
} from '../../../isa/src/index.js';
import { ALL_GPRS, EAX, ECX, EDX, ESP, gpr, type Effects } from './effects.js';
import type { Instr } from './program.js';

/**
 * A constant (an unsigned 32-bit number); or a tag: `S<n>` start_info + n, `P` derived from
 * start_info.pt_base (a page-table pointer), `H` derived from start_info.shared_info (its
 * machine address), `N` start_info.nr_pt_frames and `M` that many pages in bytes (pt_base
 * plus it is past the page tables), `F` derived from start_info.mfn_list (Xen's list of the
 * domain's machine frames), `T<i>` a pointer into page-table region i, `E<r>` the
 * value register r had when the function was entered, `U` (on the stack only) a register
 * not set on every path when pushed; or null.
 */
export type Val = number | string | null;

export interface State {
  regs: Val[];
  /** Registers set on every path here (bit per register number). */
  defined: number;
  /** Per register: the instruction that set it on every path (-1: none, -2: several). */
  def: number[];
  /** The values pushed and not yet popped, top last; what lies below is unknown. */
  stack: Val[];
}

/** The empty stack, shared (never pushed onto: push replaces it). */
export const EMPTY_STACK: Val[] = [];

export const NOT_SET = -1;
export const SEVERAL = -2;
const MAX_STACK = 64;

const PT_BASE = xenField('start_info', 'pt_base')?.offset ?? 60;
const SHARED_INFO = xenField('start_info', 'shared_info')?.offset ?? 36;
const NR_PT_FRAMES = xenField('start_info', 'nr_pt_frames')?.offset ?? 64;
const MFN_LIST = xenField('start_info', 'mfn_list')?.offset ?? 48;
const PAGE_SHIFT = 12;

export function unknownState(defined: number): State {
  return { regs: [null, null, null, null, null, null, null, null], defined, def: [-1, -1, -1, -1, -1, -1, -1, -1], stack: EMPTY_STACK };
}

/** At the PV entry point Xen passes start_info in esi, and a stack. */
export function entryState(): State {
  const s = unknownState((1 << 6) | (1 << ESP));
  s.regs[6] = 'S0';
  return s;
}

/** At a function's entry, for the summary of what it preserves: each register is its own symbol. */
export function symbolicState(): State {
  const s = unknownState(ALL_GPRS);
  for (let r = 0; r < 8; r++) s.regs[r] = `E${r}`;
  return s;
}

export function cloneState(s: State): State {
  return { regs: s.regs.slice(), defined: s.defined, def: s.def.slice(), stack: s.stack.length ? s.stack.slice() : EMPTY_STACK };
}

/** Copies `from` into `to` in place (`to` keeps its arrays; its stack stays its own), or into a new state when `to` is null. */
export function copyState(to: State | null, from: State): State {
  if (!to) return cloneState(from);
  for (let r = 0; r < 8; r++) {
    to.regs[r] = from.regs[r];
    to.def[r] = from.def[r];
  }
  to.defined = from.defined;
  copyStack(to, from.stack);
  return to;
}

/** What the values mean in one program: pointers saved in memory, and its page-table regions. */
export interface Env {
  /** Where the hypercall page is (a call into it is a hypercall), or null. */
  hypercallPage: number | null;
  /** Constant-address memory cells holding a tagged pointer (start_info, or a page-table pointer, saved to a variable). */
  cells: ReadonlyMap<number, Val>;
  /** Page-table regions [start, end): different constants inside region i meet as `T<i>`. */
  regions: readonly { start: number; end: number }[];
}

export const NO_ENV: Env = { hypercallPage: null, cells: new Map(), regions: [] };

function regionOf(env: Env, v: number): number {
  for (let i = 0; i < env.regions.length; i++) if (v >= env.regions[i].start && v < env.regions[i].end) return i;
  return -1;
}

export function meetVal(a: Val, b: Val, env: Env = NO_ENV): Val {
  if (a === b) return a;
  if (env.regions.length && a !== null && b !== null) {
    // two pointers into the same page table: still a pointer into it
    const ra = typeof a === 'number' ? regionOf(env, a) : isTag(a, 'T') ? Number(a.slice(1)) : -1;
    const rb = typeof b === 'number' ? regionOf(env, b) : isTag(b, 'T') ? Number(b.slice(1)) : -1;
    if (ra >= 0 && ra === rb) return `T${ra}`;
  }
  return null;
}

/** The meet of two states (in place into a). */
export function meetInto(a: State, b: State, env: Env = NO_ENV): void {
  for (let r = 0; r < 8; r++) {
    if (a.regs[r] !== b.regs[r]) a.regs[r] = meetVal(a.regs[r], b.regs[r], env);
    if (a.def[r] !== b.def[r]) a.def[r] = SEVERAL;
  }
  a.defined &= b.defined;
  if (a.stack.length !== b.stack.length) a.stack = EMPTY_STACK;
  else for (let i = 0; i < a.stack.length; i++) if (a.stack[i] !== b.stack[i]) a.stack[i] = meetVal(a.stack[i], b.stack[i], env);
}

export function sameState(a: State, b: State): boolean {
  if (a.defined !== b.defined || a.stack.length !== b.stack.length) return false;
  for (let r = 0; r < 8; r++) if (a.regs[r] !== b.regs[r] || a.def[r] !== b.def[r]) return false;
  for (let i = 0; i < a.stack.length; i++) if (a.stack[i] !== b.stack[i]) return false;
  return true;
}

/** Registers a call to code nobody knows may change: the caller-saved ones of the C convention. */
export const CALLER_SAVED = (1 << EAX) | (1 << ECX) | (1 << EDX);

/** After a call whose callee is not known: caller-saved registers are unknown, eax holds a result. */
export function clobberUnknownCall(s: State, at: number): void {
  for (let r = 0; r < 8; r++) if (CALLER_SAVED & (1 << r)) {
    s.regs[r] = null;
    s.def[r] = at;
  }
  s.defined |= 1 << EAX;
}

/** Bytes per hypercall-page stub: hypercall N is at hypercall_page + N * STUB_SIZE. */
export const STUB_SIZE = xenConstant('HYPERCALL_STUB_SIZE')?.value ?? 32;
/** The registers of a hypercall's arguments, in order (ebx, ecx, edx, esi, edi). */
export const ARG_REGS: readonly number[] = HYPERCALL_ARG_REGISTERS.map((r) => gpr(registerByName(r)!));
/** Every argument register: what a hypercall whose number is not known may overwrite. */
export const ALL_ARGS = ARG_REGS.reduce((m, r) => m | (1 << r), 0);

/** Where in the hypercall page a call or jump into it goes (null for an `int 0x82`, or without a page). */
export function hypercallPageOffset(ins: Instr, hypercallPage: number | null): number | null {
  if (ins.mnemonic === 'int' || hypercallPage === null) return null;
  return (((ins.flow as { target?: number }).target ?? 0) - hypercallPage) >>> 0;
}

/** The number of the hypercall an instruction makes: eax at an `int 0x82`, the stub a call or jump into the hypercall page reaches. */
export function hypercallNumberOf(ins: Instr, eax: Val, hypercallPage: number | null): number | null {
  if (ins.mnemonic === 'int') return typeof eax === 'number' ? eax >>> 0 : null;
  const off = hypercallPageOffset(ins, hypercallPage);
  return off !== null && off % STUB_SIZE === 0 ? off / STUB_SIZE : null;
}

/**
 * The argument registers hypercall `n` may overwrite: Xen's ABI says a hypercall clobbers
 * the ones it takes (debug builds write 0xDEADF00D into them), unless it fails with -ENOSYS
 * (an unknown number, or none for a 32-bit guest); every one when the number is not known
 * (see afterHypercall).
 */
export function hypercallClobbers(n: number | null): number {
  if (n === null) return ALL_ARGS;
  const h = hypercallByNumber(n);
  if (!h || h.enosys) return 0;
  let m = 0;
  for (let i = 0; i < h.args.length && i < ARG_REGS.length; i++) m |= 1 << ARG_REGS[i];
  return m;
}

/**
 * After a hypercall: its result in eax, and the argument registers it may overwrite
 * (`clobbers`) hold nothing a later call may rely on, as if never set (`def` names the
 * hypercall). When the number is not known (`known` false: a wrapper called for several
 * hypercalls) the registers' values are lost but they count as set: which ones the call
 * overwrote depends on the number, and the caller may rely on the others.
 */
export function afterHypercall(s: State, at: number, clobbers: number, known = true): void {
  s.regs[EAX] = null;
  s.def[EAX] = at;
  s.defined |= 1 << EAX;
  for (let r = 0; r < 8; r++) if (clobbers & (1 << r)) {
    s.regs[r] = null;
    s.def[r] = at;
  }
  if (known) s.defined &= ~clobbers;
}

// ---------------------------------------------------------------------------------------
// Addresses

export interface Address {
  /** The whole address when every part is a constant. */
  value: number | null;
  /** Displacement plus the parts that are constants. */
  known: number;
  /** A base or index register whose value is not a constant. */
  unknownBase: boolean;
  unknownIndex: boolean;
  /** Tags of the base and index registers. */
  tags: readonly string[];
}

export function addressOf(m: MemoryOperand, regs: readonly Val[]): Address {
  const base = partOf(m.base, regs), index = partOf(m.index, regs);
  let known = m.disp | 0;
  if (typeof base === 'number') known = (known + base) | 0;
  if (typeof index === 'number') known = (known + Math.imul(index, m.scale)) | 0;
  known >>>= 0;
  const unknownBase = typeof base !== 'number', unknownIndex = typeof index !== 'number';
  const tags = typeof base === 'string' ? (typeof index === 'string' ? [base, index] : [base]) : typeof index === 'string' ? [index] : NO_TAGS;
  return { value: unknownBase || unknownIndex ? null : known, known, unknownBase, unknownIndex, tags };
}

const NO_TAGS: readonly string[] = [];

/** addressOf(m, regs).value without making an Address (loads ask it on every transfer). */
export function addressValue(m: MemoryOperand, regs: readonly Val[]): number | null {
  const base = partOf(m.base, regs), index = partOf(m.index, regs);
  if (typeof base !== 'number' || typeof index !== 'number') return null;
  let known = m.disp | 0;
  known = (known + base) | 0;
  known = (known + Math.imul(index, m.scale)) | 0;
  return known >>> 0;
}

/** A base or index register's value in an address: 0 when there is none, null when not a 32-bit register. */
function partOf(reg: Register | null, regs: readonly Val[]): Val {
  if (!reg) return 0;
  const r = gpr(reg);
  return r >= 0 && reg.cls === 'r32' ? regs[r] : null;
}

function load(m: MemoryOperand, regs: readonly Val[], env: Env): Val {
  if (m.bits !== 32) return null;
  if (m.base && !m.index) {
    const b = gpr(m.base);
    const v = b >= 0 ? regs[b] : null;
    if (typeof v === 'string' && v[0] === 'S') {
      const off = Number(v.slice(1)) + m.disp;
      if (off === PT_BASE) return 'P';
      if (off === SHARED_INFO) return 'H';
      if (off === NR_PT_FRAMES) return 'N';
      if (off === MFN_LIST) return 'F';
      return null;
    }
  }
  const a = addressValue(m, regs);
  return a !== null ? env.cells.get(a) ?? null : null;
}

/**
 * A word read from the stack model: [esp + 4k] (what was pushed k words below the top), or
 * [ebp + 4k] with ebp a copy of esp (`mov ebp, esp`: the `K<n>` tag, the model's depth
 * then). Null when the model does not reach that deep; undefined when m is no such read.
 * A function's model goes on from its caller's (with the return address on top), so a
 * cdecl argument (`push esi; call f` ... `mov eax, [esp + 4]`) is read as it was pushed.
 */
function stackRead(m: MemoryOperand, s: State): Val | undefined {
  if (m.bits !== 32 || !m.base || m.index || (m.disp & 3) !== 0) return undefined;
  const b = gpr(m.base);
  let top: number;
  if (b === ESP) top = s.stack.length - 1;
  else {
    const v = s.regs[b];
    if (!isTag(v, 'K')) return undefined;
    top = Number(v.slice(1)) - 1;
    if (top >= s.stack.length) return null;
  }
  const slot = top - (m.disp | 0) / 4;
  if (slot < 0 || slot > top) return null;
  const v = s.stack[slot];
  return v === UNSET ? null : v;
}

/** A copy of esp: the stack model's depth, while the model has one. */
export function stackPointer(s: State): Val {
  return s.stack.length ? `K${s.stack.length}` : null;
}

/** The stack a called function starts with: its caller's, and the return address on top. */
export function calleeStack(stack: Val[]): Val[] {
  if (!stack.length) return EMPTY_STACK;
  const out = stack.length >= MAX_STACK ? stack.slice(1) : stack.slice();
  out.push(null);
  return out;
}

// ---------------------------------------------------------------------------------------
// Operands

function width(op: DecodedOperand): number {
  if (op.type === 'reg') return op.reg.bits;
  if (op.type === 'mem') return op.bits || 32;
  if (op.type === 'imm') return op.bits;
  return 32;
}

function mask(v: number, bits: number): number {
  return bits === 32 ? v >>> 0 : bits === 16 ? v & 0xffff : v & 0xff;
}

function read(op: DecodedOperand, s: State, env: Env): Val {
  if (op.type === 'imm') return op.extended >>> 0;
  if (op.type === 'mem') return stackRead(op, s) ?? load(op, s.regs, env);
  if (op.type !== 'reg') return null;
  const r = gpr(op.reg);
  if (r < 0) return null;
  const v = s.regs[r];
  if (op.reg.cls === 'r32') return v;
  if (typeof v !== 'number') return null;
  if (op.reg.cls === 'r16') return v & 0xffff;
  return op.reg.num < 4 ? v & 0xff : (v >>> 8) & 0xff;
}

function writeReg(s: State, reg: Register, v: Val): void {
  const r = gpr(reg);
  if (r < 0) return;
  if (reg.cls === 'r32') {
    s.regs[r] = v;
    return;
  }
  const old = s.regs[r];
  if (typeof old !== 'number' || typeof v !== 'number') {
    s.regs[r] = null;
    return;
  }
  if (reg.cls === 'r16') s.regs[r] = ((old & 0xffff0000) | (v & 0xffff)) >>> 0;
  else if (reg.num < 4) s.regs[r] = ((old & 0xffffff00) | (v & 0xff)) >>> 0;
  else s.regs[r] = ((old & 0xffff00ff) | ((v & 0xff) << 8)) >>> 0;
}

export function isTag(v: Val, t: string): v is string {
  return typeof v === 'string' && v[0] === t;
}

/** Binary arithmetic on abstract values, at the operand width. */
function arith(m: string, a: Val, b: Val, bits: number): Val {
  if (typeof a === 'number' && typeof b === 'number') {
    let r: number;
    switch (m) {
      case 'add': r = a + b; break;
      case 'sub': r = a - b; break;
      case 'and': r = a & b; break;
      case 'or': r = a | b; break;
      case 'xor': r = a ^ b; break;
      case 'imul': r = Math.imul(a, b); break;
      case 'shl': case 'sal': r = (b & 31) >= bits ? 0 : a << (b & 31); break;
      case 'shr': r = (b & 31) >= bits ? 0 : mask(a, bits) >>> (b & 31); break;
      case 'sar': {
        const sh = b & 31;
        const signed = bits === 32 ? a | 0 : bits === 16 ? (a << 16) >> 16 : (a << 24) >> 24;
        r = signed >> Math.min(sh, 31);
        break;
      }
      case 'rol': case 'ror': {
        const sh = (b & 31) % bits;
        const x = mask(a, bits);
        if (sh === 0) { r = x; break; }
        r = m === 'rol' ? (x << sh) | (x >>> (bits - sh)) : (x >>> sh) | (x << (bits - sh));
        break;
      }
      default: return null;
    }
    return mask(r, bits);
  }
  if (bits !== 32) return null;
  // start_info.nr_pt_frames in bytes: how far the bootstrap page tables reach from pt_base
  if (isTag(a, 'N') && (((m === 'shl' || m === 'sal') && b === PAGE_SHIFT) || (m === 'imul' && b === 1 << PAGE_SHIFT))) return 'M';
  if (m === 'imul' && isTag(b, 'N') && a === 1 << PAGE_SHIFT) return 'M';
  // pointer arithmetic
  if (m === 'add' || m === 'sub') {
    // pt_base plus the tables' size: the first page after them, not a page table
    if (m === 'add' && ((isTag(a, 'P') && isTag(b, 'M')) || (isTag(a, 'M') && isTag(b, 'P')))) return null;
    if (isTag(a, 'S') && typeof b === 'number') return `S${(Number(a.slice(1)) + (m === 'add' ? b | 0 : -(b | 0))) | 0}`;
    if (m === 'add' && isTag(b, 'S') && typeof a === 'number') return `S${(Number(b.slice(1)) + (a | 0)) | 0}`;
    // a pointer moved within its tables stays one; minus a base such as VIRT_BASE it is an address, not a pointer
    if (isTag(a, 'P') && !(m === 'sub' && typeof b === 'number' && b >= 0x100000)) return 'P';
    if (m === 'add' && isTag(b, 'P')) return 'P';
    if (isTag(a, 'T')) return a;
    if (m === 'add' && isTag(b, 'T')) return b;
    if (isTag(a, 'H') && typeof b === 'number') return 'H';
    if (isTag(a, 'F') && typeof b === 'number') return 'F';
  }
  if ((m === 'or' || m === 'and') && isTag(a, 'H') && typeof b === 'number') return 'H';
  return null;
}

function lea(m: MemoryOperand, regs: readonly Val[]): Val {
  const a = addressOf(m, regs);
  if (a.value !== null) return a.value;
  if (a.tags.includes('P')) return a.tags.includes('M') ? null : 'P';
  const t = a.tags.find((x) => isTag(x, 'T'));
  if (t) return t;
  if (m.base && !m.index && a.tags.length === 1 && isTag(a.tags[0], 'S')) return `S${(Number(a.tags[0].slice(1)) + m.disp) | 0}`;
  return null;
}

function push(s: State, v: Val): void {
  if (s.stack === EMPTY_STACK) s.stack = [];
  s.stack.push(v);
  if (s.stack.length > MAX_STACK) s.stack.shift();
}

function pop(s: State): Val {
  return s.stack.length ? s.stack.pop()! : null;
}

const STRING = /^(movs|stos|lods|cmps|scas|ins|outs)[bwd]$/;
const UNARY = new Set(['inc', 'dec', 'neg', 'not', 'bswap']);
const BINARY_OPS = new Set(['add', 'sub', 'and', 'or', 'xor', 'shl', 'sal', 'shr', 'sar', 'rol', 'ror']);
/** Instructions whose write to esp the stack model follows. */
const STACK_KEEPING = new Set(['push', 'pop', 'pushad', 'pusha', 'popad', 'popa', 'pushf', 'pushfd', 'pushfw', 'popf', 'popfd', 'popfw', 'call', 'ret', 'retn']);

// What step does with a mnemonic, found once per instruction form (a switch, not a chain of
// string comparisons per instruction on every pass): one of these, plus STACK_KEEPER.
const OTHER = 0, MOV = 1, MOVX = 2, LEA = 3, XOR_SUB = 4, BINARY = 5, UNARY_OP = 6, IMUL = 7, XCHG = 8, CMOV = 9, PUSH = 10,
  POP = 11, PUSHAD = 12, POPAD = 13, PUSHF = 14, POPF = 15, CDQ = 16, CWDE = 17, LOOP = 18, STRING_OP = 19, LEAVE = 20;
const KIND = 31;
/** Its write to esp is one the stack model follows. */
const STACK_KEEPER = 32;
const STEP_KIND: (number | undefined)[] = [];

function stepKind(m: string): number {
  const keeps = STACK_KEEPING.has(m) ? STACK_KEEPER : 0;
  if (m === 'mov') return MOV | keeps;
  if (m === 'movzx' || m === 'movsx') return MOVX | keeps;
  if (m === 'lea') return LEA | keeps;
  if (m === 'xor' || m === 'sub') return XOR_SUB | keeps;
  if (BINARY_OPS.has(m)) return BINARY | keeps;
  if (UNARY.has(m)) return UNARY_OP | keeps;
  if (m === 'imul') return IMUL | keeps;
  if (m === 'xchg') return XCHG | keeps;
  if (m.startsWith('cmov')) return CMOV | keeps;
  if (m === 'push') return PUSH | keeps;
  if (m === 'pop') return POP | keeps;
  if (m === 'pushad' || m === 'pusha') return PUSHAD | keeps;
  if (m === 'popad' || m === 'popa') return POPAD | keeps;
  if (m === 'pushf' || m === 'pushfd' || m === 'pushfw') return PUSHF | keeps;
  if (m === 'popf' || m === 'popfd' || m === 'popfw') return POPF | keeps;
  if (m === 'cdq') return CDQ | keeps;
  if (m === 'cwde') return CWDE | keeps;
  if (m.startsWith('loop')) return LOOP | keeps;
  if (STRING.test(m)) return STRING_OP | keeps;
  if (m === 'leave' || m === 'enter') return LEAVE | keeps;
  return OTHER | keeps;
}

/** A two-operand arithmetic instruction (add, and, shl, ...); the bits of the registers it handled. */
function binary(s: State, m: string, dst: DecodedOperand, src: DecodedOperand, env: Env): number {
  const a = read(dst, s, env);
  const b = read(src, s, env);
  if (dst.type === 'reg' && gpr(dst.reg) === ESP && dst.reg.cls === 'r32' && typeof b === 'number' && (m === 'add' || m === 'sub')) {
    // add esp, 8 drops two stack slots; sub esp, 8 makes two unknown ones
    const words = (b | 0) / 4;
    if (Number.isInteger(words) && Math.abs(words) <= MAX_STACK) {
      const drop = m === 'add' ? words : -words;
      if (drop >= 0) s.stack = s.stack.slice(0, Math.max(0, s.stack.length - drop));
      else for (let i = 0; i < -drop; i++) push(s, null);
    } else s.stack = EMPTY_STACK;
    s.regs[ESP] = arith(m, a, b, 32);
    return 1 << ESP;
  }
  if (m === 'and' && b === 0) return setOperand(s, dst, 0);
  return setOperand(s, dst, arith(m, a, b, width(dst)));
}

/** Writes `v` to a register operand (nothing for others); the bit of the register written, or 0. */
function setOperand(s: State, op: DecodedOperand, v: Val): number {
  if (op.type !== 'reg') return 0;
  const r = gpr(op.reg);
  if (r < 0) return 0;
  writeReg(s, op.reg, v);
  return 1 << r;
}

/**
 * Applies one instruction to a state (in place). Control transfer is the caller's
 * business: calls and hypercalls are applied at the edges that leave their blocks.
 */
export function step(s: State, insn: DecodedInstruction, fx: Effects, index: number, env: Env): void {
  const m = insn.form.mnemonic;
  const ops = insn.operands;
  let code = STEP_KIND[insn.form.index];
  if (code === undefined) code = STEP_KIND[insn.form.index] = stepKind(m);
  let handled = 0;
  // registers this step writes with a copy of a register not set on every path (unset stays unset)
  let unset = 0;
  const dst = ops[0];

  switch (code & KIND) {
    case MOV:
      if (ops.length !== 2) break;
      if (dst.type === 'reg' && (dst.reg.cls === 'sreg' || dst.reg.cls === 'creg' || dst.reg.cls === 'dreg')) { /* no GPR */ }
      else if (ops[1].type === 'reg' && ops[1].reg.cls !== 'r32' && ops[1].reg.cls !== 'r16' && ops[1].reg.cls !== 'r8') handled |= setOperand(s, dst, null);
      else if (dst.type === 'reg' && dst.reg.cls === 'r32' && ops[1].type === 'reg' && ops[1].reg.cls === 'r32' && gpr(ops[1].reg) === ESP && gpr(dst.reg) !== ESP) {
        handled |= setOperand(s, dst, stackPointer(s));
      } else {
        handled |= setOperand(s, dst, read(ops[1], s, env));
        if (dst.type === 'reg' && dst.reg.cls === 'r32' && ops[1].type === 'reg' && ops[1].reg.cls === 'r32' && !(s.defined & (1 << gpr(ops[1].reg)))) unset |= 1 << gpr(dst.reg);
      }
      break;
    case MOVX: {
      if (ops.length !== 2) break;
      const v = read(ops[1], s, env);
      const w = width(ops[1]);
      handled |= setOperand(s, dst, typeof v === 'number' ? mask(m === 'movzx' ? v : w === 8 ? (v << 24) >> 24 : (v << 16) >> 16, width(dst)) : null);
      break;
    }
    case LEA:
      if (ops.length === 2 && ops[1].type === 'mem') handled |= setOperand(s, dst, width(dst) === 32 ? lea(ops[1], s.regs) : null);
      break;
    case XOR_SUB:
      // xor r, r and sub r, r: zero whatever r was; else arithmetic as the others
      if (ops.length === 2 && dst.type === 'reg' && ops[1].type === 'reg' && dst.reg === ops[1].reg) handled |= setOperand(s, dst, 0);
      else if (ops.length === 2) handled |= binary(s, m, dst, ops[1], env);
      break;
    case BINARY:
      if (ops.length === 2) handled |= binary(s, m, dst, ops[1], env);
      break;
    case UNARY_OP: {
      if (ops.length !== 1) break;
      const a = read(dst, s, env);
      const w = width(dst);
      let v: Val = null;
      if (typeof a === 'number') {
        if (m === 'inc') v = mask(a + 1, w);
        else if (m === 'dec') v = mask(a - 1, w);
        else if (m === 'neg') v = mask(-a, w);
        else if (m === 'not') v = mask(~a, w);
        else v = ((a & 0xff) << 24 | (a & 0xff00) << 8 | (a >>> 8) & 0xff00 | a >>> 24) >>> 0;
      } else if (m === 'inc' || m === 'dec') v = arith(m === 'inc' ? 'add' : 'sub', a, 1, w);
      handled |= setOperand(s, dst, v);
      break;
    }
    case IMUL: {
      if (ops.length < 2) break;
      const a = read(ops.length === 3 ? ops[1] : dst, s, env);
      const b = read(ops.length === 3 ? ops[2] : ops[1], s, env);
      handled |= setOperand(s, dst, arith('imul', a, b, width(dst)));
      break;
    }
    case XCHG: {
      if (ops.length !== 2) break;
      const a = read(dst, s, env);
      const b = read(ops[1], s, env);
      handled |= setOperand(s, dst, ops[1].type === 'mem' ? null : b);
      handled |= setOperand(s, ops[1], dst.type === 'mem' ? null : a);
      if (dst.type === 'reg' && ops[1].type === 'reg' && dst.reg.cls === 'r32' && ops[1].reg.cls === 'r32') {
        const x = gpr(dst.reg), y = gpr(ops[1].reg);
        if (!(s.defined & (1 << y))) unset |= 1 << x;
        if (!(s.defined & (1 << x))) unset |= 1 << y;
      }
      break;
    }
    case CMOV:
      if (ops.length === 2) handled |= setOperand(s, dst, meetVal(read(dst, s, env), read(ops[1], s, env), env));
      break;
    case PUSH:
      if (ops.length === 1) {
        const unsetReg = dst.type === 'reg' && dst.reg.cls === 'r32' && !(s.defined & (1 << gpr(dst.reg)));
        push(s, unsetReg ? UNSET : width(dst) === 32 || dst.type === 'imm' ? read(dst, s, env) : null);
      }
      break;
    case POP:
      if (ops.length === 1) {
        const v = pop(s);
        if (v === UNSET && dst.type === 'reg' && dst.reg.cls === 'r32') unset |= 1 << gpr(dst.reg);
        handled |= setOperand(s, dst, width(dst) === 32 && v !== UNSET ? v : null);
      }
      break;
    case PUSHAD:
      for (let r = 0; r < 8; r++) push(s, s.defined & (1 << r) ? s.regs[r] : UNSET);
      break;
    case POPAD:
      for (let r = 7; r >= 0; r--) {
        const v = pop(s);
        if (r === ESP) continue;
        if (v === UNSET) unset |= 1 << r;
        s.regs[r] = v === UNSET ? null : v;
      }
      handled = ALL_GPRS;
      break;
    case PUSHF:
      push(s, null);
      break;
    case POPF:
      pop(s);
      break;
    case CDQ: {
      const a = s.regs[EAX];
      s.regs[EDX] = typeof a === 'number' ? (a & 0x80000000 ? 0xffffffff : 0) : null;
      handled |= 1 << EDX;
      break;
    }
    case CWDE: {
      const a = s.regs[EAX];
      s.regs[EAX] = typeof a === 'number' ? ((a << 16) >> 16) >>> 0 : null;
      handled |= 1 << EAX;
      break;
    }
    case LOOP: {
      const c = s.regs[ECX];
      s.regs[ECX] = typeof c === 'number' ? (c - 1) >>> 0 : null;
      handled |= 1 << ECX;
      break;
    }
    case STRING_OP:
      // the pointers move by an amount not followed; a page-table pointer stays one
      for (let r = 6; r <= 7; r++) if (fx.writes & (1 << r)) {
        const v = s.regs[r];
        s.regs[r] = isTag(v, 'P') || isTag(v, 'T') ? v : null;
        handled |= 1 << r;
      }
      break;
    case LEAVE:
      s.stack = EMPTY_STACK;
      break;
    default:
      break;
  }
  if (fx.writes & (1 << ESP) && !(handled & (1 << ESP))) {
    // push/pop/call/ret keep the model; any other write to esp loses it
    if (!(code & STACK_KEEPER)) s.stack = EMPTY_STACK;
    s.regs[ESP] = null;
    handled |= 1 << ESP;
  }
  const rest = fx.writes & ~handled;
  for (let r = 0; r < 8; r++) if (rest & (1 << r)) s.regs[r] = null;
  for (let r = 0; r < 8; r++) if (fx.writes & (1 << r)) s.def[r] = index;
  s.defined = (s.defined | fx.writes) & ~unset;
}

/** On the stack model: the value of a register that was not set on every path when pushed. */
const UNSET = 'U';

/** The registers in `writes` hold values not known (and so does a value just pushed, when `pushed`). */
export function untrust(s: State, writes: number, pushed: boolean): void {
  for (let r = 0; r < 8; r++) if (writes & (1 << r)) s.regs[r] = null;
  if (pushed && s.stack.length > 0) s.stack = [...s.stack.slice(0, -1), null];
}

// ---------------------------------------------------------------------------------------
// States of many blocks

/**
 * The states of a graph's blocks, stored flat rather than as an object (and two arrays)
 * per block: a dataflow's in- and out-states live as long as its analysis (until the next
 * change), and one table of numbers and values is a few allocations instead of thousands,
 * which the collector copies and scans once instead of object by object. Stored stacks
 * are never changed (a store that changes one makes a new array), so a block's stack is
 * shared with whoever read it last. `get` makes a State for readers outside the solver.
 */
export class States {
  private readonly regs: Val[];
  private readonly defs: Int32Array;
  private readonly defined: Int32Array;
  private readonly stacks: Val[][];
  private readonly reached: Uint8Array;
  /** The stack stored last: most blocks have the same stack as the one stored before them, and share it. */
  private lastStack: Val[] = EMPTY_STACK;

  constructor(blocks: number) {
    this.regs = new Array<Val>(blocks * 8).fill(null);
    this.defs = new Int32Array(blocks * 8);
    this.defined = new Int32Array(blocks);
    this.stacks = new Array<Val[]>(blocks).fill(EMPTY_STACK);
    this.reached = new Uint8Array(blocks);
  }

  /** Block b has a state (it is reached). */
  has(b: number): boolean {
    return this.reached[b] === 1;
  }

  /** A copy of block b's state, or null when it has none. */
  get(b: number): State | null {
    return this.reached[b] ? this.load(b, unknownState(0)) : null;
  }

  /** One register's value in block b's state (null when it has none). */
  reg(b: number, r: number): Val {
    return this.reached[b] ? this.regs[b * 8 + r] : null;
  }

  /** Copies block b's state into `to` (which keeps its arrays, its stack its own); b must have one. */
  load(b: number, to: State): State {
    const o = b * 8;
    for (let r = 0; r < 8; r++) {
      to.regs[r] = this.regs[o + r];
      to.def[r] = this.defs[o + r];
    }
    to.defined = this.defined[b];
    copyStack(to, this.stacks[b]);
    return to;
  }

  /** The meet of `a` and block b's state, into `a` (as meetInto). */
  meetInto(a: State, b: number, env: Env): void {
    const o = b * 8;
    for (let r = 0; r < 8; r++) {
      const v = this.regs[o + r];
      if (a.regs[r] !== v) a.regs[r] = meetVal(a.regs[r], v, env);
      if (a.def[r] !== this.defs[o + r]) a.def[r] = SEVERAL;
    }
    a.defined &= this.defined[b];
    const stack = this.stacks[b];
    if (a.stack.length !== stack.length) a.stack = EMPTY_STACK;
    else for (let i = 0; i < stack.length; i++) if (a.stack[i] !== stack[i]) a.stack[i] = meetVal(a.stack[i], stack[i], env);
  }

  /** Block b's state holds a value tagged `t` in a register or on the stack. */
  holdsTag(b: number, t: string): boolean {
    if (!this.reached[b]) return false;
    for (let r = 0; r < 8; r++) if (isTag(this.regs[b * 8 + r], t)) return true;
    const stack = this.stacks[b];
    for (let i = 0; i < stack.length; i++) if (isTag(stack[i], t)) return true;
    return false;
  }

  /** Block b's state is `s` (as sameState). */
  same(b: number, s: State): boolean {
    if (!this.reached[b] || this.defined[b] !== s.defined) return false;
    const o = b * 8;
    for (let r = 0; r < 8; r++) if (this.regs[o + r] !== s.regs[r] || this.defs[o + r] !== s.def[r]) return false;
    return sameStack(this.stacks[b], s.stack);
  }

  /** Block b's state becomes a copy of `s`. */
  store(b: number, s: State): void {
    const o = b * 8;
    for (let r = 0; r < 8; r++) {
      this.regs[o + r] = s.regs[r];
      this.defs[o + r] = s.def[r];
    }
    this.defined[b] = s.defined;
    if (!sameStack(this.stacks[b], s.stack)) {
      if (s.stack.length === 0) this.stacks[b] = EMPTY_STACK;
      else if (sameStack(this.lastStack, s.stack)) this.stacks[b] = this.lastStack;
      else this.stacks[b] = this.lastStack = s.stack.slice();
    }
    this.reached[b] = 1;
  }

  /** Block b has no state again. */
  clear(b: number): void {
    if (!this.reached[b]) return;
    this.reached[b] = 0;
    this.stacks[b] = EMPTY_STACK;
    for (let r = 0; r < 8; r++) this.regs[b * 8 + r] = null;
  }
}

function sameStack(a: readonly Val[], b: readonly Val[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `to.stack` becomes a copy of `from`: into its own array when it has one (an own array,
 * even empty, is kept for the next copy; only push looks at EMPTY_STACK, to replace it).
 */
function copyStack(to: State, from: readonly Val[]): void {
  const n = from.length;
  if (to.stack === EMPTY_STACK) {
    if (n) to.stack = from.slice();
    return;
  }
  if (to.stack.length > n) to.stack.length = n;
  for (let i = 0; i < n; i++) to.stack[i] = from[i];
}
