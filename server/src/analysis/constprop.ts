// Constant propagation of the eight general registers through the control-flow graph,
// with definite assignment ("set on every path") and the last setter of each register,
// as one forward dataflow (meet: equal or unknown; set: on every path).
//
// Calls are interprocedural and context-insensitive: a function is entered with the meet
// of the states at its call sites, and after a call the registers the function may change
// (and does not restore) take the meet of its states at its returns; the others keep the
// caller's values. Calls to code that is not known clobber the C convention's
// caller-saved registers; a hypercall (int 0x82, a call into the hypercall page) changes
// eax only. Start_info saved in a variable is followed through it.

import { isIntra, type Cfg, type Edge } from './cfg.js';
import { ALL_GPRS, EAX } from './effects.js';
import type { Instr } from './program.js';
import {
  addressOf, afterHypercall, CALLER_SAVED, cloneState, copyState, EMPTY_STACK, clobberUnknownCall, entryState, isTag, meetInto, sameState, step,
  symbolicState, unknownState, type Env, type State, type Val,
} from './values.js';

export interface Dataflow {
  cfg: Cfg;
  env: Env;
  /** State at each block's start and end (null: never reached). */
  inState: (State | null)[];
  outState: (State | null)[];
  /** Per function: registers a call to it may leave changed. */
  clobbers: number[];
  /** The state just before instruction i (a fresh copy). */
  before(i: number): State | null;
  /** Calls `visit` with each instruction of a block and the state before it (one state, changed as it goes: copy what you keep). */
  replay(block: number, visit: (ins: Instr, s: State) => void): void;
  /** The state that flows along an edge. */
  edgeState(e: Edge): State | null;
}

/** Bounds the fixpoint on adversarial graphs (visits per block). */
const MAX_ROUNDS_PER_BLOCK = 40;

export function analyzeDataflow(cfg: Cfg): Dataflow {
  const clobbers = summarize(cfg);
  const regions = cfg.program.pageTables.map((p) => ({ start: p.start, end: p.end }));
  let env: Env = { cells: new Map(), regions };
  let run = solveMain(cfg, clobbers, env);
  const found = collectCells(cfg, run, env);
  if (found.size) {
    env = { cells: found, regions };
    run = solveMain(cfg, clobbers, env);
  }
  const { inState, outState, edgeState } = run;
  // Replayed from the block's start, or on from the last question when it was about an
  // earlier instruction of the same block (askers mostly go forward through the program).
  // Its state is reused from block to block.
  const cursor: { block: number; at: number; state: State | null } = { block: -1, at: 0, state: null };
  const before = (i: number): State | null => {
    const b = cfg.blockOf[i];
    const start = inState[b];
    if (!start) return null;
    if (cursor.block !== b || cursor.at > i) {
      cursor.block = b;
      cursor.at = cfg.blocks[b].first;
      cursor.state = copyState(cursor.state, start);
    }
    const state = cursor.state!;
    for (; cursor.at < i; cursor.at++) transfer(state, cfg.program.instrs[cursor.at], env);
    return cloneState(state);
  };
  const replay = (b: number, visit: (ins: Instr, s: State) => void) => {
    const start = inState[b];
    if (!start) return;
    const s = cloneState(start);
    const blk = cfg.blocks[b];
    for (let i = blk.first; i <= blk.last; i++) {
      const ins = cfg.program.instrs[i];
      visit(ins, s);
      transfer(s, ins, env);
    }
  };
  return { cfg, env, inState, outState, clobbers, before, edgeState, replay };
}

export function transfer(s: State, ins: Instr, env: Env): void {
  step(s, ins.insn, ins.fx, ins.index, env);
  if (ins.hypercall) afterHypercall(s, ins.index);
}

// ---------------------------------------------------------------------------------------

export interface Run {
  inState: (State | null)[];
  outState: (State | null)[];
  edgeState(e: Edge): State | null;
}

export interface FixpointSpec {
  member(b: number): boolean;
  source(b: number): State | null;
  edge(e: Edge, out: readonly (State | null)[]): State | null;
  /** Blocks whose in-state depends on block b's out-state beyond its successors. */
  dependents(b: number): Iterable<number>;
  transfer(s: State, ins: Instr): void;
  order: readonly number[];
  env: Env;
}

/** Arrays over all blocks that runs over small regions reuse (left cleared for the next). */
export interface Scratch {
  inState: (State | null)[];
  outState: (State | null)[];
  queued: Uint8Array;
}

export function scratchFor(cfg: Cfg): Scratch {
  const nb = cfg.blocks.length;
  return { inState: new Array(nb).fill(null), outState: new Array(nb).fill(null), queued: new Uint8Array(nb) };
}

/** Clears what a run over `blocks` left in scratch arrays. */
export function clearScratch(scratch: Scratch, blocks: Iterable<number>): void {
  for (const b of blocks) {
    scratch.inState[b] = null;
    scratch.outState[b] = null;
    scratch.queued[b] = 0;
  }
}

export function fixpoint(cfg: Cfg, spec: FixpointSpec, scratch: Scratch = scratchFor(cfg)): Run {
  const nb = cfg.blocks.length;
  const { inState, outState, queued } = scratch;
  const queue: number[] = [];
  let head = 0;
  const enqueue = (b: number) => {
    if (!queued[b] && spec.member(b)) {
      queued[b] = 1;
      queue.push(b);
    }
  };
  for (const b of spec.order) enqueue(b);
  let budget = nb * MAX_ROUNDS_PER_BLOCK + 1000;
  // One working state for every visit; a block's in- and out-states are copied into the
  // ones it already has (only its first visit makes new ones).
  let s: State | null = null;
  while (head < queue.length && budget-- > 0) {
    const b = queue[head++];
    queued[b] = 0;
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    let reached = false;
    const src = spec.source(b);
    if (src) {
      s = copyState(s, src);
      reached = true;
    }
    for (const e of cfg.blocks[b].pred) {
      if (!spec.member(e.from)) continue;
      const es = spec.edge(e, outState);
      if (!es) continue;
      if (!reached) s = copyState(s, es);
      else meetInto(s!, es, spec.env);
      reached = true;
    }
    if (!reached) continue;
    const work = s!;
    inState[b] = copyState(inState[b], work);
    const blk = cfg.blocks[b];
    for (let i = blk.first; i <= blk.last; i++) spec.transfer(work, cfg.program.instrs[i]);
    const old = outState[b];
    if (old && sameState(old, work)) continue;
    outState[b] = copyState(old, work);
    for (const e of blk.succ) enqueue(e.to);
    for (const d of spec.dependents(b)) enqueue(d);
  }
  for (let i = head; i < queue.length; i++) queued[queue[i]] = 0;
  return { inState, outState, edgeState: (e) => spec.edge(e, outState) };
}

/**
 * States over a region of blocks entered at `entry` with `start`, without the edges that
 * come back to the entry (one pass through a loop's body, say). `after` may change the
 * state after an instruction.
 */
export function regionStates(df: Dataflow, region: ReadonlySet<number>, entry: number, start: State, after?: (ins: Instr, s: State) => void): Run {
  const { cfg, env, clobbers } = df;
  return fixpoint(cfg, {
    member: (b) => region.has(b),
    source: (b) => (b === entry ? start : null),
    edge: (e, out) => (e.to === entry ? null : intraEdge(cfg, clobbers, e, out)),
    dependents: () => [],
    env,
    transfer: (s, ins) => {
      transfer(s, ins, env);
      after?.(ins, s);
    },
    order: [...region],
  });
}

/** Blocks in reverse postorder-ish (program order is a good start for assembly). */
const RESTORES = new Set(['pop', 'popa', 'popad', 'popaw', 'xchg']);
const SYMBOLS = ['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7'];

function programOrder(cfg: Cfg): number[] {
  return cfg.blocks.map((b) => b.id);
}

function solveMain(cfg: Cfg, clobbers: number[], env: Env): Run {
  const sources = new Map<number, State>();
  const unknown = unknownState(ALL_GPRS);
  for (const [b, kind] of cfg.roots) {
    if (kind === 'address-taken' || kind === 'orphan') sources.set(b, unknown);
  }
  for (const i of cfg.program.addressTaken) sources.set(cfg.blockOf[i], unknown);
  if (cfg.program.entry >= 0) sources.set(cfg.blockOf[cfg.program.entry], entryState());

  const exitOf = (fn: number, out: readonly (State | null)[]): State | null => {
    let s: State | null = null;
    for (const r of cfg.functions[fn].returns) {
      const o = out[r];
      if (!o) continue;
      if (!s) s = cloneState(o);
      else meetInto(s, o, env);
    }
    return s;
  };
  const returnTargets = (fn: number): number[] => {
    const out: number[] = [];
    for (const c of cfg.functions[fn].callers) for (const e of cfg.blocks[c].succ) if (e.kind === 'return') out.push(e.to);
    return out;
  };
  const retDeps = new Map<number, number[]>();
  for (const fn of cfg.functions) for (const r of fn.returns) {
    const list = retDeps.get(r) ?? [];
    list.push(...returnTargets(fn.id));
    retDeps.set(r, list);
  }
  return fixpoint(cfg, {
    member: () => true,
    source: (b) => sources.get(b) ?? null,
    edge: (e, out) => {
      const o = out[e.from];
      if (!o) return null;
      if (e.kind === 'call') {
        const s = cloneState(o);
        s.stack = EMPTY_STACK;
        return s;
      }
      if (e.kind !== 'return') return o;
      const at = cfg.blocks[e.from].last;
      const s = cloneState(o);
      if (e.callee < 0) {
        clobberUnknownCall(s, at);
        return s;
      }
      const exit = exitOf(e.callee, out);
      if (!exit) return null;
      const clob = clobbers[e.callee];
      for (let r = 0; r < 8; r++) if (clob & (1 << r)) {
        s.regs[r] = exit.regs[r];
        s.def[r] = exit.def[r];
      }
      s.defined |= exit.defined;
      return s;
    },
    dependents: (b) => retDeps.get(b) ?? [],
    env,
    transfer: (s, ins) => transfer(s, ins, env),
    order: programOrder(cfg),
  });
}

/**
 * start_info pointers stored at constant addresses, and never anything else there. Such a
 * pointer only comes from a state that holds one (env has no cells yet): the blocks entered
 * with one are looked at first, and only when they store one is every block looked at.
 */
function collectCells(cfg: Cfg, run: Run, env: Env): Map<number, Val> {
  const found = storedPointers(cfg, run, env, (s) => holdsStartInfo(s));
  return found.size ? storedPointers(cfg, run, env, () => true) : found;
}

function holdsStartInfo(s: State): boolean {
  for (let r = 0; r < 8; r++) if (isTag(s.regs[r], 'S')) return true;
  for (let i = 0; i < s.stack.length; i++) if (isTag(s.stack[i], 'S')) return true;
  return false;
}

/** The cells of collectCells, from the blocks whose in-state passes `visit`. */
function storedPointers(cfg: Cfg, run: Run, env: Env, visit: (s: State) => boolean): Map<number, Val> {
  const candidates = new Map<number, Val>();
  const poisoned: [number, number][] = [];
  for (const blk of cfg.blocks) {
    const start = run.inState[blk.id];
    if (!start || !visit(start)) continue;
    const s = cloneState(start);
    for (let i = blk.first; i <= blk.last; i++) {
      const ins = cfg.program.instrs[i];
      const store = ins.fx.store;
      if (store && store !== 'string') {
        const a = addressOf(store, s.regs);
        if (a.value !== null) {
          const src = ins.insn.operands[1];
          const v = ins.mnemonic === 'mov' && store.bits === 32 && src?.type === 'reg' && src.reg.cls === 'r32' ? s.regs[src.reg.num] : null;
          if (typeof v === 'string' && v[0] === 'S') {
            const old = candidates.get(a.value);
            candidates.set(a.value, old === undefined || old === v ? v : null);
          } else poisoned.push([a.value, a.value + Math.max(1, (store.bits || 32) / 8)]);
        }
      }
      transfer(s, ins, env);
    }
  }
  const out = new Map<number, Val>();
  for (const [a, v] of candidates) {
    if (v === null) continue;
    if (poisoned.some(([lo, hi]) => lo < a + 4 && hi > a)) continue;
    out.set(a, v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Function summaries: what a call may change.

function summarize(cfg: Cfg): number[] {
  const { functions, blocks } = cfg;
  const instrs = cfg.program.instrs;
  // registers written anywhere in the body, or in what it calls
  const local = functions.map((fn) => {
    let m = 0;
    for (const b of fn.blocks) {
      const blk = blocks[b];
      for (let i = blk.first; i <= blk.last; i++) {
        m |= instrs[i].fx.writes;
        if (instrs[i].hypercall) m |= 1 << EAX;
      }
      if (blk.unknownCall) m |= CALLER_SAVED;
    }
    return m;
  });
  const mod = local.slice();
  for (let changed = true, rounds = 0; changed && rounds < 64; rounds++) {
    changed = false;
    for (const fn of functions) {
      let m = mod[fn.id];
      for (const b of fn.blocks) for (const e of blocks[b].succ) if (e.kind === 'call' && e.callee >= 0) m |= mod[e.callee];
      if (m !== mod[fn.id]) {
        mod[fn.id] = m;
        changed = true;
      }
    }
  }
  // minus what it restores (push/pop pairs, pushad/popad): a pass with symbolic entry values
  // only a function that pops can put back what it changed
  const restores = functions.map((fn) => fn.blocks.some((b) => {
    for (let i = blocks[b].first; i <= blocks[b].last; i++) if (RESTORES.has(instrs[i].mnemonic)) return true;
    return false;
  }));
  let clob = mod.slice();
  const scratch = scratchFor(cfg);
  const member = new Uint8Array(cfg.blocks.length);
  for (let round = 0, changed = true; round < 2 && changed; round++) {
    const next = clob.slice();
    changed = false;
    for (const fn of functions) {
      if (!restores[fn.id] || fn.returns.length === 0 || fn.blocks.length > 5000) continue;
      next[fn.id] = mod[fn.id] & ~preserved(cfg, fn.id, clob, scratch, member);
      if (next[fn.id] !== clob[fn.id]) changed = true;
    }
    clob = next;
  }
  return clob;
}

/**
 * The state along an edge within one function (null for call edges): across a call, the
 * return edge loses what the callee may write (everything an unknown callee may).
 */
function intraEdge(cfg: Cfg, clobbers: readonly number[], e: Edge, out: readonly (State | null)[]): State | null {
  if (!isIntra(e)) return null;
  const o = out[e.from];
  if (!o || e.kind !== 'return') return o;
  const s = cloneState(o);
  if (e.callee < 0) clobberUnknownCall(s, cfg.blocks[e.from].last);
  else for (let r = 0; r < 8; r++) if (clobbers[e.callee] & (1 << r)) s.regs[r] = null;
  return s;
}

function preserved(cfg: Cfg, fn: number, clob: readonly number[], scratch: Scratch, member: Uint8Array): number {
  const f = cfg.functions[fn];
  for (const b of f.blocks) member[b] = 1;
  const env: Env = { cells: new Map(), regions: [] };
  const run = fixpoint(cfg, {
    member: (b) => member[b] === 1,
    source: (b) => (b === f.entry ? symbolicState() : null),
    edge: (e, out) => intraEdge(cfg, clob, e, out),
    dependents: () => [],
    env,
    transfer: (s, ins) => transfer(s, ins, env),
    order: f.blocks,
  }, scratch);
  let keep = ALL_GPRS;
  for (const r of f.returns) {
    const o = run.outState[r];
    if (!o) continue;
    for (let x = 0; x < 8; x++) if (o.regs[x] !== SYMBOLS[x]) keep &= ~(1 << x);
  }
  clearScratch(scratch, f.blocks);
  for (const b of f.blocks) member[b] = 0;
  return keep;
}
