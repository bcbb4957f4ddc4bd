// Loop trip counts: a counter register with a constant value on entry, one constant step
// per iteration (inc, dec, add/sub of a constant, or the loop instruction), and an exit
// test of it against a constant (cmp, test, or the flags of the step itself) at the top
// or the bottom of the loop.

import { CONDITIONS } from '../../../isa/src/index.js';
import type { Loop } from './cfg.js';
import { regionStates, transfer, type Dataflow } from './constprop.js';
import { ECX, GPR_NAMES, gpr } from './effects.js';
import type { Instr } from './program.js';
import type { Val } from './values.js';

export interface TripCount {
  /** Iterations before the counted exit is taken. */
  iterations: number;
  /**
   * Times the header runs: one more than the iterations when the counted exit is the
   * header's own test (the header runs once more, on the way out).
   */
  headerRuns: number;
  /** The counter register. */
  counter: string;
  /** The loop has no exit other than the counted one. */
  only: boolean;
}

const MAX_ITERATIONS = 2 ** 32;

/** Work left for trip counts (blocks of loop bodies passed through); shared by one analysis. */
export interface Budget {
  left: number;
}

/** Trip counts in one analysis look at this many loop-body blocks in all. */
export const TRIP_COUNT_BUDGET = 200_000;

export function tripCount(df: Dataflow, loop: Loop, budget: Budget = { left: TRIP_COUNT_BUDGET }): TripCount | null {
  // several back edges (a `continue` that skips the bound test): a round need not pass the
  // test or the counter's step the count is read from
  if (loop.irreducible || loop.latches.length !== 1) return null;
  budget.left -= 4 * loop.blocks.size;
  if (budget.left < 0) return null;
  const { cfg } = df;
  const instrs = cfg.program.instrs;
  let exits = 0;
  for (const b of loop.blocks) for (const e of cfg.blocks[b].succ) if (e.kind !== 'call' && !loop.blocks.has(e.to)) exits++;
  let best: TripCount | null = null;
  for (const x of loop.blocks) {
    const blk = cfg.blocks[x];
    const last = instrs[blk.last];
    if (last.flow.kind !== 'branch') continue;
    const taken = blk.succ.find((e) => e.kind === 'branch');
    const fall = blk.succ.find((e) => e.kind === 'fall');
    if (!taken || !fall) continue;
    const takenStays = loop.blocks.has(taken.to);
    if (takenStays === loop.blocks.has(fall.to)) continue;
    const isLatch = loop.latches.includes(x);
    const isHeader = x === loop.header;
    if (!isLatch && !isHeader) continue;
    const got = counted(df, loop, x, last, takenStays, isLatch);
    if (got !== null && (best === null || got.iterations < best.iterations)) best = { ...got, only: exits === 1 };
  }
  return best;
}

interface Test {
  reg: number;
  /** 'cmp': flags of reg - bound; 'zero': flags of the value itself (test, dec, ...). */
  kind: 'cmp' | 'zero';
  bound: number;
  cc: string;
  /** Index of the flag-setting instruction. */
  at: number;
}

/** Times block b of the loop runs. */
export function runsOf(trip: TripCount, loop: Loop, b: number): number {
  return b === loop.header ? trip.headerRuns : trip.iterations;
}

function counted(df: Dataflow, loop: Loop, x: number, jcc: Instr, takenStays: boolean, isLatch: boolean): { iterations: number; headerRuns: number; counter: string } | null {
  const { cfg } = df;
  const instrs = cfg.program.instrs;
  const blk = cfg.blocks[x];
  let test: Test | null = null;
  if (jcc.mnemonic === 'loop') {
    test = { reg: ECX, kind: 'zero', bound: 0, cc: 'ne', at: jcc.index };
  } else if (jcc.insn.form.cc >= 0) {
    const cc = CONDITIONS[jcc.insn.form.cc].name;
    for (let i = blk.last - 1; i >= blk.first; i--) {
      const s = instrs[i];
      if (!s.fx.setsFlags) continue;
      test = testOf(df, s, cc);
      break;
    }
  }
  if (!test) return null;
  const r = test.reg;
  // the counter: one constant step per iteration (other writes must put back what they took)
  let update: Instr | null = null;
  for (const b of loop.blocks) {
    const bb = cfg.blocks[b];
    for (let i = bb.first; i <= bb.last; i++) {
      const ins = instrs[i];
      if (ins.fx.writes & (1 << r) && stepOf(ins, r) !== null) {
        if (update) return null;
        update = ins;
      }
    }
  }
  if (!update) return null;
  const step = stepOf(update, r);
  if (step === null || step === 0) return null;
  const ub = cfg.blockOf[update.index];
  if (cfg.loopOf[ub] !== loop.id) return null;
  for (const l of loop.latches) if (!cfg.dominates(ub, l)) return null;
  const updateFirst = ub === x ? update.index <= test.at : isLatch;
  if (!keepsCounter(df, loop, r, update, test.at, updateFirst)) return null;
  // the counter's value when the loop is entered
  let init: number | null = null;
  let seen = false;
  for (const e of cfg.blocks[loop.header].pred) {
    if (e.kind === 'call' || loop.blocks.has(e.from)) continue;
    const s = df.edgeState(e);
    if (!s) continue;
    const v = s.regs[r];
    if (typeof v !== 'number' || (seen && v !== init)) return null;
    init = v;
    seen = true;
  }
  if (init === null) return null;
  const a = (updateFirst ? init : init - step) >>> 0;
  const leave = (v: number): boolean | null => {
    const c = condition(test!, v);
    return c === null ? null : takenStays ? !c : c;
  };
  const k = firstExit(a, step, leave, test);
  if (k === null) return null;
  const iterations = isLatch ? k : k - 1;
  if (iterations < 0 || iterations >= MAX_ITERATIONS) return null;
  return { iterations, headerRuns: k, counter: GPR_NAMES[r] };
}

/**
 * One pass through the body with the counter as a symbol: it must be unchanged up to the
 * update, the update's result after it up to the back edges, and the tested value where
 * it is tested.
 */
function keepsCounter(df: Dataflow, loop: Loop, r: number, update: Instr, testAt: number, updateFirst: boolean): boolean {
  const s0 = df.inState.get(loop.header);
  if (!s0) return false;
  s0.regs[r] = BEFORE;
  const run = regionStates(df, loop.blocks, loop.header, s0, (ins, s) => {
    if (ins === update) s.regs[r] = AFTER;
  });
  const beforeUpdate = df.cfg.blockOf[update.index];
  const at = (i: number): Val => {
    const b = df.cfg.blockOf[i];
    const s = run.inState.get(b);
    if (!s) return null;
    for (let k = df.cfg.blocks[b].first; k < i; k++) {
      const ins = df.cfg.program.instrs[k];
      transfer(s, ins, df.env);
      if (ins === update) s.regs[r] = AFTER;
    }
    return s.regs[r];
  };
  if (!run.inState.has(beforeUpdate) || at(update.index) !== BEFORE) return false;
  const tested = update.index === testAt ? BEFORE : updateFirst ? AFTER : BEFORE;
  if (at(testAt) !== tested) return false;
  for (const l of loop.latches) if (run.outState.reg(l, r) !== AFTER) return false;
  return true;
}

const BEFORE = 'Qbefore';
const AFTER = 'Qafter';

function testOf(df: Dataflow, s: Instr, cc: string): Test | null {
  const ops = s.insn.operands;
  const m = s.mnemonic;
  const reg32 = (i: number) => (ops[i]?.type === 'reg' && ops[i].reg.cls === 'r32' ? gpr(ops[i].reg) : -1);
  const r = reg32(0);
  if (r < 0) return null;
  if (m === 'cmp' && ops.length === 2) {
    let bound: number | null = null;
    const src = ops[1];
    if (src.type === 'imm') bound = src.extended >>> 0;
    else if (src.type === 'reg' && src.reg.cls === 'r32') {
      const v = df.before(s.index)?.regs[gpr(src.reg)];
      if (typeof v === 'number') bound = v;
    }
    return bound === null ? null : { reg: r, kind: 'cmp', bound, cc, at: s.index };
  }
  const selfTest = (m === 'test' || m === 'and' || m === 'or') && ops.length === 2 && reg32(1) === r;
  const arith = m === 'inc' || m === 'dec' || ((m === 'add' || m === 'sub') && ops[1]?.type === 'imm');
  if (selfTest || arith) {
    if (!['e', 'ne', 's', 'ns', 'l', 'ge', 'le', 'g'].includes(cc)) return null;
    return { reg: r, kind: 'zero', bound: 0, cc, at: s.index };
  }
  return null;
}

function stepOf(u: Instr, r: number): number | null {
  const ops = u.insn.operands;
  const onReg = ops[0]?.type === 'reg' && ops[0].reg.cls === 'r32' && gpr(ops[0].reg) === r;
  switch (u.mnemonic) {
    case 'inc': return onReg ? 1 : null;
    case 'dec': return onReg ? -1 : null;
    case 'add': return onReg && ops[1]?.type === 'imm' ? ops[1].extended | 0 : null;
    case 'sub': return onReg && ops[1]?.type === 'imm' ? -(ops[1].extended | 0) : null;
    case 'loop': return r === ECX ? -1 : null;
    default: return null;
  }
}

/** Whether the jump is taken when the counter holds v. */
function condition(t: Test, v: number): boolean | null {
  const k = t.bound >>> 0;
  const u = v >>> 0;
  if (t.kind === 'zero') {
    const s = v | 0;
    switch (t.cc) {
      case 'e': return s === 0;
      case 'ne': return s !== 0;
      case 's': case 'l': return s < 0;
      case 'ns': case 'ge': return s >= 0;
      case 'le': return s <= 0;
      case 'g': return s > 0;
      default: return null;
    }
  }
  switch (t.cc) {
    case 'e': return u === k;
    case 'ne': return u !== k;
    case 'b': return u < k;
    case 'ae': return u >= k;
    case 'be': return u <= k;
    case 'a': return u > k;
    case 'l': return (u | 0) < (k | 0);
    case 'ge': return (u | 0) >= (k | 0);
    case 'le': return (u | 0) <= (k | 0);
    case 'g': return (u | 0) > (k | 0);
    case 's': return ((u - k) | 0) < 0;
    case 'ns': return ((u - k) | 0) >= 0;
    default: return null;
  }
}

/** The first k >= 1 at which leave(a + k*step) holds, or null when it cannot be worked out. */
function firstExit(a: number, step: number, leave: (v: number) => boolean | null, t: Test): number | null {
  const at = (k: number) => (a + k * step) >>> 0;
  for (let k = 1; k <= 4; k++) {
    const l = leave(at(k));
    if (l === null) return null;
    if (l) return k;
  }
  const cc = t.cc;
  if (cc === 'e' || cc === 'ne') {
    // leaves exactly when the counter reaches the bound
    if (!(leave(t.bound >>> 0) === true)) return null;
    const d = t.kind === 'zero' ? (0 - a) >>> 0 : ((t.bound >>> 0) - a) >>> 0;
    let k: number | null = null;
    if (step === 1) k = d;
    else if (step === -1) k = (MAX_ITERATIONS - d) % MAX_ITERATIONS;
    else {
      const signed = d | 0;
      if (signed % step === 0 && signed / step > 0) k = signed / step;
      else if (d % step === 0 && d / step > 0) k = d / step;
    }
    return k !== null && k >= 1 && leave(at(k)) === true ? k : null;
  }
  // ordering conditions: the counter moves monotonically until it wraps
  const signed = t.kind === 'zero' || ['l', 'ge', 'le', 'g', 's', 'ns'].includes(cc);
  const start = signed ? a | 0 : a >>> 0;
  const lo = signed ? -(2 ** 31) : 0;
  const hi = signed ? 2 ** 31 - 1 : 2 ** 32 - 1;
  const kmax = step > 0 ? Math.floor((hi - start) / step) : Math.floor((start - lo) / -step);
  if (kmax < 1 || leave(at(kmax)) !== true) return null;
  let l = 1;
  let h = kmax;
  while (l < h) {
    const mid = Math.floor((l + h) / 2);
    if (leave(at(mid)) === true) h = mid;
    else l = mid + 1;
  }
  return l;
}
