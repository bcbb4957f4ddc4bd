// Constant propagation of the eight general registers through the control-flow graph,
// with definite assignment ("set on every path") and the last setter of each register,
// as one forward dataflow (meet: equal or unknown; set: on every path).
//
// Calls are interprocedural and context-insensitive: a function is entered with the meet
// of the states at its call sites, and after a call the registers the function may change
// (and does not restore) take the meet of its states at its returns; the others keep the
// caller's values. Calls to code that is not known clobber the C convention's
// caller-saved registers; a hypercall (int 0x82, a call into the hypercall page) changes
// eax only. Start_info, or a page-table pointer from it, saved in a variable is followed
// through it.

import { isIntra, type Cfg, type Edge } from './cfg.js';
import { ALL_GPRS, EAX } from './effects.js';
import type { Instr } from './program.js';
import {
  addressValue, afterHypercall, CALLER_SAVED, calleeStack, hypercallClobbers, hypercallNumberOf, cloneState, copyState, EMPTY_STACK, clobberUnknownCall, entryState, meetInto, States, step,
  symbolicState, unknownState, untrust, type Env, type State, type Val,
} from './values.js';

export interface Dataflow {
  cfg: Cfg;
  env: Env;
  /** State at each block's start (none: never reached). */
  inState: States;
  /**
   * State at each block's end: its start replayed through it (the solver's out-states are
   * not kept: each is its in-state's transfer, as the solver left them).
   */
  outState: OutStates;
  /** Per function: registers a call to it may leave changed. */
  clobbers: number[];
  /** The state just before instruction i (a fresh copy). */
  before(i: number): State | null;
  /** Calls `visit` with each instruction of a block and the state before it (one state, changed as it goes: copy what you keep). */
  replay(block: number, visit: (ins: Instr, s: State) => void): void;
  /** The state that flows along an edge (a fresh copy). */
  edgeState(e: Edge): State | null;
  /** Tables over all blocks for regionStates (made when first needed, reused by every region). */
  regionScratch?: Scratch;
}

/** Bounds the fixpoint on adversarial graphs (visits per block). */
const MAX_ROUNDS_PER_BLOCK = 40;

export function analyzeDataflow(cfg: Cfg): Dataflow {
  const clobbers = summarize(cfg);
  const regions = cfg.program.pageTables.map((p) => ({ start: p.start, end: p.end }));
  const { env, solved } = solveWithCells(cfg, clobbers, regions);
  const { inState } = solved.run;
  const edge = solved.edge;
  const outState = new Replayed(cfg, inState, env);
  const edgeState = (e: Edge): State | null => {
    const into = unknownState(0);
    const flow = edge(e, outState, into);
    return flow === NONE ? null : flow === OUT ? outState.get(e.from) : into;
  };
  const instrs = cfg.program.instrs;
  // Replayed from the block's start, or on from the last question when it was about an
  // earlier instruction of the same block (askers mostly go forward through the program).
  // Its state is reused from block to block.
  let cursorBlock = -1;
  let cursorAt = 0;
  const cursor = unknownState(0);
  const before = (i: number): State | null => {
    const b = cfg.blockOf[i];
    if (!inState.has(b)) return null;
    if (cursorBlock !== b || cursorAt > i) {
      cursorBlock = b;
      cursorAt = cfg.blocks[b].first;
      inState.load(b, cursor);
    }
    for (; cursorAt < i; cursorAt++) transfer(cursor, instrs[cursorAt], env);
    return cloneState(cursor);
  };
  // one state for every replay (a fresh one when a visit replays another block)
  const replayState = unknownState(0);
  let replaying = false;
  const replay = (b: number, visit: (ins: Instr, s: State) => void) => {
    if (!inState.has(b)) return;
    const nested = replaying;
    const s = inState.load(b, nested ? unknownState(0) : replayState);
    replaying = true;
    try {
      const blk = cfg.blocks[b];
      for (let i = blk.first; i <= blk.last; i++) {
        const ins = instrs[i];
        visit(ins, s);
        transfer(s, ins, env);
      }
    } finally {
      replaying = nested;
    }
  };
  return { cfg, env, inState, outState, clobbers, before, edgeState, replay };
}

/** Out-states replayed from in-states (a block's is its in-state through its instructions). */
class Replayed implements OutStates {
  private readonly tmp = unknownState(0);

  constructor(private readonly cfg: Cfg, private readonly inState: States, private readonly env: Env) {}

  has(b: number): boolean {
    return this.inState.has(b);
  }

  get(b: number): State | null {
    return this.has(b) ? this.load(b, unknownState(0)) : null;
  }

  load(b: number, to: State): State {
    this.inState.load(b, to);
    const blk = this.cfg.blocks[b];
    for (let i = blk.first; i <= blk.last; i++) transfer(to, this.cfg.program.instrs[i], this.env);
    return to;
  }

  meetInto(a: State, b: number, env: Env): void {
    meetInto(a, this.load(b, this.tmp), env);
  }
}

export function transfer(s: State, ins: Instr, env: Env): void {
  step(s, ins.insn, ins.fx, ins.index, env);
  // An assembler error is on its line: what it wrote is not what the source means (an
  // undefined name assembled as 0), so the registers it sets hold unknown values.
  if (ins.tainted) untrust(s, ins.fx.writes, ins.mnemonic === 'push');
  if (ins.hypercall) {
    const n = hypercallNumberOf(ins, s.regs[EAX], env.hypercallPage);
    afterHypercall(s, ins.index, hypercallClobbers(n), n !== null);
  }
}

// ---------------------------------------------------------------------------------------

/** Out-states as edges read them: a table, or replayed from the in-states. */
export interface OutStates {
  has(b: number): boolean;
  /** A copy of block b's state, or null. */
  get(b: number): State | null;
  /** Copies block b's state into `to` (b must have one). */
  load(b: number, to: State): State;
  /** The meet of `a` and block b's state, into `a`. */
  meetInto(a: State, b: number, env: Env): void;
}

export interface Run {
  inState: States;
  outState: States;
  /** The state along an edge (a fresh copy), or null. */
  edgeState(e: Edge): State | null;
}

/** What flows along an edge: nothing, the out-state of the edge's source as it is, or a state written into `tmp`. */
export const NONE = 0, OUT = 1, TMP = 2;
export type EdgeFlow = typeof NONE | typeof OUT | typeof TMP;

export interface FixpointSpec {
  member(b: number): boolean;
  source(b: number): State | null;
  /** The state along e, from the out-states: NONE, OUT (out's state of e.from, unchanged) or TMP (written into `tmp`). */
  edge(e: Edge, out: OutStates, tmp: State): EdgeFlow;
  /** Blocks whose in-state depends on block b's out-state beyond its successors. */
  dependents(b: number): readonly number[];
  transfer(s: State, ins: Instr): void;
  /** The blocks to start with (every member is one), or null for every block in order. */
  order: readonly number[] | null;
  env: Env;
}

/** Tables over all blocks that runs over small regions reuse (cleared by the runs that use them). */
export interface Scratch {
  inState: States;
  outState: States;
  queued: Uint8Array;
}

export function scratchFor(cfg: Cfg): Scratch {
  const nb = cfg.blocks.length;
  return { inState: new States(nb), outState: new States(nb), queued: new Uint8Array(nb) };
}

/** Clears what a run over `blocks` left in scratch tables. */
export function clearScratch(scratch: Scratch, blocks: Iterable<number>): void {
  for (const b of blocks) {
    scratch.inState.clear(b);
    scratch.outState.clear(b);
    scratch.queued[b] = 0;
  }
}

const NO_BLOCKS: readonly number[] = [];

export function fixpoint(cfg: Cfg, spec: FixpointSpec, scratch: Scratch = scratchFor(cfg)): Run {
  const nb = cfg.blocks.length;
  const { inState, outState, queued } = scratch;
  const blocks = cfg.blocks;
  const instrs = cfg.program.instrs;
  // a ring of queued blocks: a block is in it at most once, so it never holds more than
  // the blocks there are to start with (members are among them)
  let ring = new Int32Array(Math.max(1, spec.order ? spec.order.length : nb));
  let head = 0;
  let count = 0;
  const enqueue = (b: number) => {
    if (queued[b] || !spec.member(b)) return;
    if (count === ring.length) {
      const grown = new Int32Array(ring.length * 2);
      for (let k = 0; k < count; k++) grown[k] = ring[(head + k) % ring.length];
      ring = grown;
      head = 0;
    }
    queued[b] = 1;
    ring[(head + count++) % ring.length] = b;
  };
  if (spec.order) for (const b of spec.order) enqueue(b);
  else for (let b = 0; b < nb; b++) enqueue(b);
  let budget = nb * MAX_ROUNDS_PER_BLOCK + 1000;
  // One working state for every visit and one for an edge's state; the tables copy them
  const s = unknownState(0);
  const tmp = unknownState(0);
  while (count > 0 && budget-- > 0) {
    const b = ring[head];
    head = (head + 1) % ring.length;
    count--;
    queued[b] = 0;
    let reached = false;
    const src = spec.source(b);
    if (src) {
      copyState(s, src);
      reached = true;
    }
    const pred = blocks[b].pred;
    for (let k = 0; k < pred.length; k++) {
      const e = pred[k];
      if (!spec.member(e.from)) continue;
      const flow = spec.edge(e, outState, tmp);
      if (flow === NONE) continue;
      if (flow === OUT) {
        if (!reached) outState.load(e.from, s);
        else outState.meetInto(s, e.from, spec.env);
      } else if (!reached) copyState(s, tmp);
      else meetInto(s, tmp, spec.env);
      reached = true;
    }
    if (!reached) continue;
    inState.store(b, s);
    const blk = blocks[b];
    for (let i = blk.first; i <= blk.last; i++) spec.transfer(s, instrs[i]);
    if (outState.same(b, s)) continue;
    outState.store(b, s);
    for (let k = 0; k < blk.succ.length; k++) enqueue(blk.succ[k].to);
    const deps = spec.dependents(b);
    for (let k = 0; k < deps.length; k++) enqueue(deps[k]);
  }
  for (; count > 0; count--) {
    queued[ring[head]] = 0;
    head = (head + 1) % ring.length;
  }
  return {
    inState, outState,
    edgeState: (e) => {
      const into = unknownState(0);
      const flow = spec.edge(e, outState, into);
      return flow === NONE ? null : flow === OUT ? outState.get(e.from) : into;
    },
  };
}

/**
 * States over a region of blocks entered at `entry` with `start`, without the edges that
 * come back to the entry (one pass through a loop's body, say). `after` may change the
 * state after an instruction. The run's tables are the dataflow's region scratch: valid
 * until the next region's run.
 */
export function regionStates(df: Dataflow, region: ReadonlySet<number>, entry: number, start: State, after?: (ins: Instr, s: State) => void): Run {
  const { cfg, env, clobbers } = df;
  const scratch = (df.regionScratch ??= scratchFor(cfg));
  // what an earlier region left in them is never read (only members are), but a member's must go
  clearScratch(scratch, region);
  return fixpoint(cfg, {
    member: (b) => region.has(b),
    source: (b) => (b === entry ? start : null),
    edge: (e, out, tmp) => (e.to === entry ? NONE : intraEdge(cfg, clobbers, e, out, tmp)),
    dependents: () => NO_BLOCKS,
    env,
    transfer: (s, ins) => {
      transfer(s, ins, env);
      after?.(ins, s);
    },
    order: [...region],
  }, scratch);
}

const RESTORES = new Set(['pop', 'popa', 'popad', 'popaw', 'xchg']);
const SYMBOLS = ['E0', 'E1', 'E2', 'E3', 'E4', 'E5', 'E6', 'E7'];

function solveMain(cfg: Cfg, clobbers: number[], env: Env): { run: Run; edge: FixpointSpec['edge'] } {
  // by block (an array over the blocks, not a map: most roots are sources)
  const sources: (State | null)[] = new Array<State | null>(cfg.blocks.length).fill(null);
  const unknown = unknownState(ALL_GPRS);
  cfg.roots.forEach((kind, b) => {
    if (kind === 'address-taken' || kind === 'orphan') sources[b] = unknown;
  });
  for (const i of cfg.program.addressTaken) sources[cfg.blockOf[i]] = unknown;
  if (cfg.program.entry >= 0) sources[cfg.blockOf[cfg.program.entry]] = entryState();

  // the meet of a function's states at its returns, into `exit`; false when none is reached
  const exit = unknownState(0);
  const exitOf = (fn: number, out: OutStates): boolean => {
    let any = false;
    for (const r of cfg.functions[fn].returns) {
      if (!out.has(r)) continue;
      if (!any) out.load(r, exit);
      else out.meetInto(exit, r, env);
      any = true;
    }
    return any;
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
  const words = argumentWords(cfg);
  const edge = (e: Edge, out: OutStates, tmp: State): EdgeFlow => {
    if (!out.has(e.from)) return NONE;
    if (e.kind === 'call') {
      out.load(e.from, tmp);
      tmp.stack = calleeStack(tmp.stack);
      return TMP;
    }
    if (e.kind !== 'return') return OUT;
    const at = cfg.blocks[e.from].last;
    if (e.callee < 0) {
      out.load(e.from, tmp);
      clobberUnknownCall(tmp, at);
      return TMP;
    }
    if (!exitOf(e.callee, out)) return NONE;
    out.load(e.from, tmp);
    popArguments(tmp, words[e.callee]);
    const clob = clobbers[e.callee];
    for (let r = 0; r < 8; r++) if (clob & (1 << r)) {
      tmp.regs[r] = exit.regs[r];
      tmp.def[r] = exit.def[r];
    }
    // set after the call: what the caller had set and the callee leaves, and what the callee
    // sets (a register a hypercall in it overwrote and it did not set again is not)
    tmp.defined = (tmp.defined & ~clob) | (exit.defined & clob);
    return TMP;
  };
  const run = fixpoint(cfg, {
    member: () => true,
    source: (b) => sources[b],
    edge,
    dependents: (b) => retDeps.get(b) ?? NO_BLOCKS,
    env,
    transfer: (s, ins) => transfer(s, ins, env),
    order: null,
  }, scratchFor(cfg));
  return { run, edge };
}

/** Solves with the start_info cells after at most this many guesses, else with those the last two agree on. */
const MAX_CELL_ROUNDS = 3;

/**
 * The main solve, with the start_info cells it finds: cells such that solving with them
 * finds the same cells. The first guess is what the entry block stores (where a kernel
 * saves esi), so most programs are solved once; a guess the solve does not confirm is
 * followed by what it found. When the guesses do not settle, the cells the last two
 * rounds agree on.
 */
function solveWithCells(cfg: Cfg, clobbers: number[], regions: Env['regions']): { env: Env; solved: ReturnType<typeof solveMain> } {
  let cells = entryCells(cfg);
  let before: Map<number, Val> | null = null;
  for (let round = 0; round < MAX_CELL_ROUNDS; round++) {
    const env: Env = { hypercallPage: cfg.program.hypercallPage, cells, regions };
    const solved = solveMain(cfg, clobbers, env);
    const found = collectCells(cfg, solved.run, env);
    if (sameCells(found, cells)) return { env, solved };
    before = cells;
    cells = found;
  }
  // not settled: the cells the last two rounds both found (a chain of copies still growing
  // keeps what it had; guesses that take turns keep none)
  const both = new Map([...cells].filter(([a, v]) => before?.get(a) === v));
  const env: Env = { hypercallPage: cfg.program.hypercallPage, cells: both, regions };
  return { env, solved: solveMain(cfg, clobbers, env) };
}

function sameCells(a: ReadonlyMap<number, Val>, b: ReadonlyMap<number, Val>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/** The cells the entry block's own stores make, from the state Xen enters with. */
function entryCells(cfg: Cfg): Map<number, Val> {
  const cells = new Cells();
  if (cfg.program.entry >= 0) cells.scan(cfg, cfg.blockOf[cfg.program.entry], entryState(), NO_CELLS);
  return cells.found();
}

/**
 * start_info and page-table pointers (from start_info.pt_base) stored at constant
 * addresses, and never anything else there. With no cells in env, such a pointer only
 * comes from a state that holds one: the blocks entered with one are looked at first, and
 * only when they store one is every block looked at.
 */
function collectCells(cfg: Cfg, run: Run, env: Env): Map<number, Val> {
  if (env.cells.size === 0) {
    const some = storedPointers(cfg, run, env, true);
    if (some.size === 0) return some;
  }
  return storedPointers(cfg, run, env, false);
}

/** The cells of collectCells, from the blocks entered with such a pointer (`startInfoOnly`) or all blocks. */
function storedPointers(cfg: Cfg, run: Run, env: Env, startInfoOnly: boolean): Map<number, Val> {
  const cells = new Cells();
  const s = unknownState(0);
  for (let b = 0; b < cfg.blocks.length; b++) {
    if (!run.inState.has(b) || (startInfoOnly && !run.inState.holdsTag(b, 'S') && !run.inState.holdsTag(b, 'P'))) continue;
    cells.scan(cfg, b, run.inState.load(b, s), env);
  }
  return cells.found();
}

const NO_CELLS: Env = { hypercallPage: null, cells: new Map(), regions: [] };

/** Stores seen so far: of start_info and page-table pointers (by address: the tag, or null for two tags), and of anything else. */
class Cells {
  private readonly candidates = new Map<number, Val>();
  private readonly poisoned: [number, number][] = [];

  /** Looks at block b's stores, from state s (changed). */
  scan(cfg: Cfg, b: number, s: State, env: Env): void {
    const blk = cfg.blocks[b];
    for (let i = blk.first; i <= blk.last; i++) {
      const ins = cfg.program.instrs[i];
      const store = ins.fx.store;
      if (store && store !== 'string') {
        const a = addressValue(store, s.regs);
        if (a !== null) {
          const src = ins.insn.operands[1];
          const v = ins.mnemonic === 'mov' && store.bits === 32 && src?.type === 'reg' && src.reg.cls === 'r32' ? s.regs[src.reg.num] : null;
          if (typeof v === 'string' && (v[0] === 'S' || v === 'P')) {
            const old = this.candidates.get(a);
            this.candidates.set(a, old === undefined || old === v ? v : null);
          } else this.poisoned.push([a, a + Math.max(1, (store.bits || 32) / 8)]);
        }
      }
      transfer(s, ins, env);
    }
  }

  /** Addresses that only ever get one such pointer. */
  found(): Map<number, Val> {
    const out = new Map<number, Val>();
    for (const [a, v] of this.candidates) {
      if (v === null) continue;
      if (this.poisoned.some(([lo, hi]) => lo < a + 4 && hi > a)) continue;
      out.set(a, v);
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------
// Function summaries: what a call may change.

/**
 * The number of the hypercall instruction i makes, as far as its own block shows (for the
 * summaries, made before the solve): a stub of the hypercall page, or `mov eax, N` before
 * an `int 0x82` in its block. Else null.
 */
function staticHypercallNumber(cfg: Cfg, i: number): number | null {
  const instrs = cfg.program.instrs;
  const ins = instrs[i];
  if (ins.mnemonic !== 'int') return hypercallNumberOf(ins, null, cfg.program.hypercallPage);
  for (let k = i - 1; k >= cfg.blocks[cfg.blockOf[i]].first; k--) {
    if (!(instrs[k].fx.writes & (1 << EAX))) continue;
    const [dst, src] = instrs[k].insn.operands;
    return instrs[k].mnemonic === 'mov' && dst?.type === 'reg' && dst.reg.cls === 'r32' && src?.type === 'imm' ? src.value >>> 0 : null;
  }
  return null;
}

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
        if (instrs[i].hypercall) m |= (1 << EAX) | hypercallClobbers(staticHypercallNumber(cfg, i));
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
  if (!restores.some((r) => r)) return clob;
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
 * The state along an edge within one function (none for call edges): across a call, the
 * return edge loses what the callee may write (everything an unknown callee may).
 */
function intraEdge(cfg: Cfg, clobbers: readonly number[], e: Edge, out: OutStates, tmp: State): EdgeFlow {
  if (!isIntra(e) || !out.has(e.from)) return NONE;
  if (e.kind !== 'return') return OUT;
  out.load(e.from, tmp);
  if (e.callee < 0) clobberUnknownCall(tmp, cfg.blocks[e.from].last);
  else {
    popArguments(tmp, argumentWords(cfg)[e.callee]);
    for (let r = 0; r < 8; r++) if (clobbers[e.callee] & (1 << r)) tmp.regs[r] = null;
  }
  return TMP;
}

const ARGUMENT_WORDS = new WeakMap<Cfg, number[]>();

/**
 * Per function: the words its returns take off the caller's stack (`ret 8`: 2, stdcall's
 * arguments; a plain ret: 0), or -1 when its returns do not agree.
 */
function argumentWords(cfg: Cfg): number[] {
  let out = ARGUMENT_WORDS.get(cfg);
  if (out) return out;
  out = cfg.functions.map((fn) => {
    let words: number | null = null;
    for (const r of fn.returns) {
      const last = cfg.program.instrs[cfg.blocks[r].last];
      const imm = last.flow.kind === 'return' ? last.insn.operands[0] : undefined;
      const n = imm?.type === 'imm' ? (imm.value & 3 ? -1 : imm.value / 4) : 0;
      if (words !== null && words !== n) return -1;
      words = n;
    }
    return words ?? 0;
  });
  ARGUMENT_WORDS.set(cfg, out);
  return out;
}

/** After a call: the caller's stack without the arguments the callee's return took off. */
function popArguments(s: State, words: number): void {
  if (words === 0) return;
  s.stack = words < 0 || words > s.stack.length ? EMPTY_STACK : s.stack.slice(0, s.stack.length - words);
}

function preserved(cfg: Cfg, fn: number, clob: readonly number[], scratch: Scratch, member: Uint8Array): number {
  const f = cfg.functions[fn];
  for (const b of f.blocks) member[b] = 1;
  const env: Env = { hypercallPage: cfg.program.hypercallPage, cells: new Map(), regions: [] };
  const run = fixpoint(cfg, {
    member: (b) => member[b] === 1,
    source: (b) => (b === f.entry ? symbolicState() : null),
    edge: (e, out, tmp) => intraEdge(cfg, clob, e, out, tmp),
    dependents: () => NO_BLOCKS,
    env,
    transfer: (s, ins) => transfer(s, ins, env),
    order: f.blocks,
  }, scratch);
  let keep = ALL_GPRS;
  for (const r of f.returns) {
    if (!run.outState.has(r)) continue;
    for (let x = 0; x < 8; x++) if (run.outState.reg(r, x) !== SYMBOLS[x]) keep &= ~(1 << x);
  }
  clearScratch(scratch, f.blocks);
  for (const b of f.blocks) member[b] = 0;
  return keep;
}
