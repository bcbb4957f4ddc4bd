// Straight-line runs of hot instructions compiled to JavaScript functions: the
// interpreter's fast paths with the operands baked in, so a block costs one call instead
// of a dispatch per instruction. Semantics are the interpreter's (the generated code
// calls the same CPU helpers); the differential tests run with blocks compiled at once.
//
// A block holds at most MAX_BLOCK instructions of one page and ends after its first
// branch or before the first instruction without a fast path. It runs whole or not at
// all against the cycle budget. A memory access may fault: before each one the block
// records which instruction it is at (cpu.blockAt), so the fault is precise. After each
// memory access it checks cpu.codeGen, so a write into its own code ends it there.

import { HYPERCALL_VECTOR } from './arch.js';
import { ALU_CMP, Fast, Op, type Insn } from './compile.js';

export const MAX_BLOCK = 48;

/** Lazy-flag operations (Cpu.lop): which kind of instruction last set the status flags. */
export const L_NONE = 0, L_ADD = 1, L_SUB = 2, L_LOGIC = 3, L_INC = 4, L_DEC = 5;

/** The part of the CPU compiled blocks use. */
export interface BlockHost {
  eip: number;
  codeGen: number;
  /** Index of the instruction a block is at (set before each memory access). */
  blockAt: number;
  /** Instructions a looping block completed in its earlier rounds (see blockAt). */
  blockBase: number;
  /** How many instructions the block that just returned completed. */
  blockDone: number;
  lop: number;
  lres: number;
  la: number;
  lb: number;
  lc: number;
  lsize: number;
  read32(lin: number): number;
  write32(lin: number, v: number): void;
  alu32(op: number, a: number, b: number): number;
  logic(r: number, size: number): void;
  incDec32(a: number, inc: boolean): number;
  cond(cc: number): boolean;
  carry(): boolean;
  checkWritable32(lin: number): void;
  shift32(op: number, v: number, count: number): number;
  blockHypercall(done: number, next: number): number;
}

/**
 * Runs the block starting at linear address `start`; returns the next EIP. A block that
 * branches back to its own start goes round again while `budget` cycles allow.
 */
export type BlockFn = (c: BlockHost, r: Int32Array, start: number, budget: number) => number;

export interface Block {
  readonly run: BlockFn;
  /** Instructions in the block. */
  readonly count: number;
  /** Offset of each instruction from the block's start (for precise faults). */
  readonly offsets: Int32Array;
  /** The last instruction (its links lead to what follows the block). */
  readonly last: Insn;
}

let available: boolean | undefined;

/** Whether code can be generated here (a strict content security policy forbids it). */
export function canCompile(): boolean {
  if (available === undefined) {
    try {
      available = new Function('return 1')() === 1;
    } catch {
      available = false;
    }
  }
  return available;
}

/** `int 0x82`: a block calls the hypervisor there and goes on (see Cpu.blockHypercall). */
function isHypercall(i: Insn): boolean {
  return i.op === Op.INT && (i.imm & 0xff) === HYPERCALL_VECTOR;
}

/** Whether an instruction may be part of a block, and whether it ends one. */
export function blockable(i: Insn): boolean {
  return i.fast !== Fast.NONE || isHypercall(i);
}

export function endsBlock(i: Insn): boolean {
  return i.fast === Fast.JCC || i.fast === Fast.JMP || i.fast === Fast.CALL || i.fast === Fast.RET;
}

function ea(i: Insn): string {
  let e = String(i.disp | 0);
  if (i.base >= 0) e += ` + r[${i.base}]`;
  if (i.index >= 0) e += ` + (r[${i.index}] << ${i.scale})`;
  return `((${e}) >>> 0)`;
}

/**
 * Status flags set in the block but not yet stored into the CPU's lazy-flag fields: held
 * in locals, stored only before something else may look at them (a memory access, which
 * may fault; a helper that reads flags; the block's end). A later flag-setting
 * instruction simply replaces them.
 */
interface Pending {
  op: number;
  res: string;
  a: string;
  b: string;
  /** Carry in (L_ADD/L_SUB) or the kept CF (L_INC/L_DEC), as an expression. */
  c: string;
  /** Already stored into the CPU (before a hypercall, which leaves them there). */
  stored?: boolean;
}

const ALU_LAZY = [L_ADD, L_LOGIC, -1, -1, L_LOGIC, L_SUB, L_LOGIC, L_SUB]; // by ALU sub-op; -1: adc/sbb
const ALU_EXPR = ['(A + B) >>> 0', '(A | B) >>> 0', '', '', '(A & B) >>> 0', '(A - B) >>> 0', '(A ^ B) >>> 0', '(A - B) >>> 0'];

/** A condition code as an expression over pending flags, or null when it needs the CPU's help (parity). */
function condition(p: Pending, cc: number): string | null {
  const { op, res, a, b } = p;
  const zf = `(${res} === 0)`;
  const sf = `((${res} | 0) < 0)`;
  let cf: string, of: string;
  switch (op) {
    case L_ADD: cf = `(${a} + ${b} + ${p.c} > 4294967295)`; of = `((((${a} ^ ${res}) & (${b} ^ ${res})) | 0) < 0)`; break;
    case L_SUB: cf = `(${a} < ${b} + ${p.c})`; of = `((((${a} ^ ${b}) & (${a} ^ ${res})) | 0) < 0)`; break;
    case L_LOGIC: cf = 'false'; of = 'false'; break;
    case L_INC: cf = `(${p.c} !== 0)`; of = `(${res} === 2147483648)`; break;
    default: cf = `(${p.c} !== 0)`; of = `(${res} === 2147483647)`; break; // L_DEC
  }
  // Signed comparisons straight from the operands after cmp/sub.
  const lt = op === L_SUB && p.c === '0' ? `((${a} | 0) < (${b} | 0))` : `(${sf} !== ${of})`;
  const le = op === L_SUB && p.c === '0' ? `((${a} | 0) <= (${b} | 0))` : `(${zf} || ${sf} !== ${of})`;
  const base = [of, cf, zf, `(${cf} || ${zf})`, sf, null, lt, le][cc >> 1];
  if (base === null) return null;
  return cc & 1 ? `!${base}` : base;
}

/** An instruction of a block: its offset from the block's start, and for a direct jmp or
 *  call, whether the block goes on at its target (in the same page) instead of ending. */
export interface BlockItem {
  insn: Insn;
  offset: number;
  follow: boolean;
}

/** Compiles a block's instructions (all blockable, in execution order) into one function. */
export function compileBlock(items: readonly BlockItem[]): Block {
  const insns = items.map((x) => x.insn);
  const count = items.length;
  const last = items[count - 1];
  const lastTarget = last.offset + last.insn.len + last.insn.rel;
  // A loop: the block ends with a branch back to its first instruction.
  const loops = (last.insn.fast === Fast.JCC || last.insn.fast === Fast.JMP) && !last.follow && lastTarget === 0;
  const lines: string[] = ['const g = c.codeGen;'];
  /** Values computed once at the block's start, not in each round of a loop (put in place at the end). */
  const invariant: string[] = [];
  // Cycles the hypervisor charged for the block's hypercalls count against its budget.
  const calls = insns.some(isHypercall);
  const E = calls ? ' + e' : '';
  if (calls) lines.push('let e = 0;');
  if (loops) lines.push('let n = 0;', 'for (;;) {', 'c.blockBase = n;');
  /** Instructions completed when leaving after instruction k (its index) completes. */
  const completed = (k: number) => (loops ? `n + ${k + 1}` : String(k + 1));
  const offsets = new Int32Array(insns.length);
  let off = 0;
  let temp = 0;
  let pending: Pending | null = null;
  const fresh = () => `t${temp++}`;
  /** Stores pending flags into the CPU, where they stay until the CPU's helpers set others. */
  const store = () => {
    const p = pending;
    if (p === null || p.stored) return;
    lines.push(`c.lop = ${p.op}; c.lres = ${p.res}; c.la = ${p.a}; c.lb = ${p.b}; c.lc = ${p.c}; c.lsize = 4;`);
    p.stored = true;
  };
  /** Stores pending flags and forgets them (what follows may change the CPU's). */
  const flush = () => {
    store();
    pending = null;
  };
  /** Before a memory access (which may fault): flags stored, position recorded. */
  const at = (k: number) => {
    flush();
    lines.push(`c.blockAt = ${k};`);
  };
  /** After a memory access: stop if code changed (the next instruction is k + 1). */
  const guard = (k: number, next: number) => lines.push(`if (c.codeGen !== g) { c.blockDone = ${completed(k)}; return (s + ${next}) >>> 0; }`);
  /** An ALU operation on 32-bit values `a` and `b` (expressions); returns the result's local. */
  const alu = (sub: number, a: string, b: string): string => {
    const lazy = ALU_LAZY[sub];
    if (lazy < 0) {
      flush(); // adc/sbb read CF: the CPU's helper does it
      const x = fresh();
      lines.push(`const ${x} = c.alu32(${sub}, ${a}, ${b});`);
      return x;
    }
    const av = fresh(), bv = fresh(), x = fresh();
    lines.push(`const ${av} = ${a}, ${bv} = ${b}, ${x} = ${ALU_EXPR[sub].replace('A', av).replace('B', bv)};`);
    pending = { op: lazy, res: x, a: av, b: bv, c: '0' };
    return x;
  };
  /** The branch back: another round if the budget holds a whole one and the code is unchanged. */
  const again = (k: number) => {
    lines.push(`n += ${k + 1};`, `if (n${E} + ${count} > b || c.codeGen !== g) { c.blockDone = n; return s >>> 0; }`, '}');
  };
  let ended = false;
  insns.forEach((i, k) => {
    off = items[k].offset;
    offsets[k] = off;
    const follow = items[k].follow;
    const next = off + i.len;
    const nextEip = `((s + ${next}) >>> 0)`;
    const target = `((s + ${next + i.rel}) >>> 0)`;
    const done = `c.blockDone = ${completed(k)};`;
    const imm = String(i.imm | 0);
    switch (i.fast) {
      case Fast.MOV_RR: lines.push(`r[${i.r0}] = r[${i.r1}];`); break;
      case Fast.MOV_RI: lines.push(`r[${i.r0}] = ${imm};`); break;
      case Fast.MOV_RM: at(k); lines.push(`r[${i.r0}] = c.read32(${ea(i)});`); guard(k, next); break;
      case Fast.MOV_MR: at(k); lines.push(`c.write32(${ea(i)}, r[${i.r1}]);`); guard(k, next); break;
      case Fast.MOV_MI: at(k); lines.push(`c.write32(${ea(i)}, ${imm});`); guard(k, next); break;
      case Fast.ALU_RR: case Fast.ALU_RI: {
        const x = alu(i.sub, `r[${i.r0}] >>> 0`, i.fast === Fast.ALU_RR ? `r[${i.r1}] >>> 0` : String(i.imm >>> 0));
        if (i.sub !== ALU_CMP) lines.push(`r[${i.r0}] = ${x};`);
        break;
      }
      case Fast.ALU_RM: {
        at(k);
        const m = fresh();
        lines.push(`const ${m} = c.read32(${ea(i)});`);
        guard(k, next);
        const x = alu(i.sub, `r[${i.r0}] >>> 0`, m);
        if (i.sub !== ALU_CMP) lines.push(`r[${i.r0}] = ${x};`);
        break;
      }
      case Fast.ALU_MR: case Fast.ALU_MI: {
        at(k);
        const e = fresh(), m = fresh();
        lines.push(`const ${e} = ${ea(i)};`);
        if (i.sub !== ALU_CMP) lines.push(`c.checkWritable32(${e});`);
        lines.push(`const ${m} = c.read32(${e});`);
        const x = alu(i.sub, m, i.fast === Fast.ALU_MR ? `r[${i.r1}] >>> 0` : String(i.imm >>> 0));
        if (i.sub !== ALU_CMP) {
          flush();
          lines.push(`c.write32(${e}, ${x});`);
        }
        guard(k, next);
        break;
      }
      case Fast.TEST_RR: case Fast.TEST_RI: {
        const x = fresh();
        lines.push(`const ${x} = (r[${i.r0}] & ${i.fast === Fast.TEST_RR ? `r[${i.r1}]` : imm}) >>> 0;`);
        pending = { op: L_LOGIC, res: x, a: '0', b: '0', c: '0' };
        break;
      }
      case Fast.INC_R: case Fast.DEC_R: {
        // CF is kept: from the pending flags when known, else from the CPU.
        let carry: string;
        const p = pending as Pending | null;
        if (p !== null) {
          const cond = condition(p, 2);
          carry = fresh();
          lines.push(`const ${carry} = ${cond} ? 1 : 0;`);
        } else {
          carry = fresh();
          lines.push(`const ${carry} = c.carry() ? 1 : 0;`);
        }
        const a = fresh(), x = fresh();
        const inc = i.fast === Fast.INC_R;
        lines.push(`const ${a} = r[${i.r0}] >>> 0, ${x} = (${a} ${inc ? '+' : '-'} 1) >>> 0;`, `r[${i.r0}] = ${x};`);
        pending = { op: inc ? L_INC : L_DEC, res: x, a, b: '1', c: carry };
        break;
      }
      case Fast.LEA: lines.push(`r[${i.r0}] = ${ea(i)};`); break;
      case Fast.SHIFT_RI:
        if ((i.imm & 31) === 0) break; // a shift by 0 changes nothing
        flush(); // the CPU's helper sets the flags itself
        lines.push(`r[${i.r0}] = c.shift32(${i.sub}, r[${i.r0}] >>> 0, ${i.imm & 31});`);
        break;
      case Fast.PUSH_R: case Fast.PUSH_I: {
        const v = i.fast === Fast.PUSH_R ? `r[${i.r0}]` : imm;
        at(k);
        lines.push(`{ const v = ${v}, sp = (r[4] - 4) >>> 0; c.write32(sp, v); r[4] = sp; }`);
        guard(k, next);
        break;
      }
      case Fast.POP_R:
        at(k);
        lines.push(`{ const sp = r[4] >>> 0, v = c.read32(sp); r[4] = sp + 4; r[${i.r0}] = v; }`);
        guard(k, next);
        break;
      case Fast.JCC: {
        const p = pending as Pending | null;
        const inline = p !== null ? condition(p, i.cc) : null;
        const t = fresh();
        if (inline !== null) {
          lines.push(`const ${t} = ${inline};`);
          flush();
        } else {
          flush();
          lines.push(`const ${t} = c.cond(${i.cc});`);
        }
        if (loops && k === count - 1) {
          lines.push(`if (!${t}) { ${done} return ${nextEip}; }`);
          again(k);
        } else lines.push(done, `return ${t} ? ${target} : ${nextEip};`);
        ended = true;
        break;
      }
      case Fast.JMP:
        if (follow) break;
        flush();
        if (loops && k === count - 1) again(k);
        else lines.push(done, `return ${target};`);
        ended = true;
        break;
      case Fast.CALL:
        at(k);
        lines.push(`{ const sp = (r[4] - 4) >>> 0; c.write32(sp, ${nextEip}); r[4] = sp; }`);
        if (follow) {
          guard(k, next + i.rel);
          break;
        }
        lines.push(done, `return ${target};`);
        ended = true;
        break;
      case Fast.RET:
        at(k);
        if (follow) {
          // Followed back to the caller: only when the return address is the expected one.
          const back = items[k + 1].offset;
          lines.push(`{ const sp = r[4] >>> 0, t = c.read32(sp); r[4] = sp + 4; if (t !== ((s + ${back}) >>> 0)) { ${done} return t; } }`);
          guard(k, back);
          break;
        }
        lines.push(`{ const sp = r[4] >>> 0, t = c.read32(sp); r[4] = sp + 4;`, done, 'return t; }');
        ended = true;
        break;
      default: {
        if (!isHypercall(i)) throw new Error(`instruction ${k} of a block has no fast path`);
        // Ends the block when the hypervisor changed its course or the rest no longer fits the
        // budget. The flags are stored for the hypervisor and, as it leaves them unless it
        // ends the block, still known afterwards. The EIP after it is the same in every round.
        store();
        lines.push(`c.blockAt = ${k};`);
        const rest = loops ? `n + ${count}` : String(count);
        invariant.push(`const h${k} = ${nextEip};`);
        lines.push(`{ const x = c.blockHypercall(${completed(k)}, h${k}); if (x < 0 || ${rest} + (e += x) > b) { ${done} return c.eip >>> 0; } }`);
        break;
      }
    }
  });
  if (!ended) {
    flush();
    lines.push(`c.blockDone = ${insns.length};`, `return (s + ${off + last.insn.len}) >>> 0;`);
  }
  lines.splice(1, 0, ...invariant);
  return { run: blockFunction(lines.join('\n')), count: insns.length, offsets, last: insns[insns.length - 1] };
}

/**
 * Generated functions by their source. A block's source depends only on its instructions
 * (its start address is the parameter `s`), so domains running the same kernel share one
 * function, and V8 optimizes it once rather than once per domain.
 */
const FUNCTIONS = new Map<string, BlockFn>();
const MAX_FUNCTIONS = 8192;

function blockFunction(source: string): BlockFn {
  let run = FUNCTIONS.get(source);
  if (run === undefined) {
    run = new Function('c', 'r', 's', 'b', source) as BlockFn;
    if (FUNCTIONS.size >= MAX_FUNCTIONS) FUNCTIONS.delete(FUNCTIONS.keys().next().value!); // the oldest
    FUNCTIONS.set(source, run);
  }
  return run;
}
