// The control-flow graph over a program's instructions: basic blocks, their edges (fall
// through, jumps, conditional branches, calls with the edge back to the instruction after
// the call), functions (what a call target reaches without following calls), the roots
// the program may be entered at, dominators, and loops (natural loops from back edges;
// cycles that are not natural loops, entered in more than one place, count as loops too).

import type { Instr, Program } from './program.js';

export type EdgeKind = 'fall' | 'jump' | 'branch' | 'call' | 'return';

export interface Edge {
  from: number;
  to: number;
  kind: EdgeKind;
  /** For 'call' and 'return' edges: the function called, or -1 when it is not known (indirect). */
  callee: number;
}

export interface Block {
  id: number;
  /** Instruction indices first..last, inclusive. */
  first: number;
  last: number;
  succ: Edge[];
  pred: Edge[];
  /** A call that leaves the block to code whose target is not known (indirect, or outside the program). */
  unknownCall: boolean;
}

export interface Func {
  id: number;
  entry: number;
  /** Blocks reachable from the entry without following calls (a shared tail belongs to each function reaching it). */
  blocks: number[];
  /** Blocks of the function that end in a return. */
  returns: number[];
  /** Blocks (elsewhere) whose last instruction calls this function. */
  callers: number[];
}

export type RootKind = 'entry' | 'function' | 'address-taken' | 'orphan';

export interface Loop {
  id: number;
  /** The header block; for a cycle with several entries, its first block. */
  header: number;
  blocks: Set<number>;
  /** Blocks with a back edge to the header. */
  latches: number[];
  /** Entered at more than one block (not a natural loop): no trip count. */
  irreducible: boolean;
  /** The smallest loop containing this one, or -1. */
  parent: number;
}

export interface Cfg {
  program: Program;
  blocks: Block[];
  /** Block of each instruction. */
  blockOf: Int32Array;
  roots: Map<number, RootKind>;
  functions: Func[];
  functionAt: Map<number, number>;
  /** Per block: the functions whose body holds it. */
  functionsOf: number[][];
  /** Immediate dominator of each block over intra-procedural edges (-1 for roots and unreached blocks). */
  idom: Int32Array;
  loops: Loop[];
  /** Innermost loop of each block, or -1. */
  loopOf: Int32Array;
  /** The address is inside the hypercall page. */
  inHypercallPage(address: number): boolean;
  dominates(a: number, b: number): boolean;
}

/** Work on loop bodies is bounded: past it, cycles not yet found count as loops of their own (no trip count). */
const MAX_LOOP_WORK = 2_000_000;
/** Work on functions' bodies is bounded: past it, bodies stay partial. */
const MAX_BODY_VISITS = 4_000_000;

export function isIntra(e: Edge): boolean {
  return e.kind !== 'call';
}

/** The blocks reached from `from` by the edges `follow` takes: a flag per block. */
export function blocksReached(cfg: Cfg, from: readonly number[], follow: (e: Edge) => boolean): Uint8Array {
  const seen = new Uint8Array(cfg.blocks.length);
  const stack = [...from];
  while (stack.length) {
    const b = stack.pop()!;
    if (seen[b]) continue;
    seen[b] = 1;
    for (const e of cfg.blocks[b].succ) if (follow(e)) stack.push(e.to);
  }
  return seen;
}

/** The functions code in `blocks` calls, and those they call (null when a callee is not known). */
export function calledFrom(cfg: Cfg, blocks: Iterable<number>): Set<number> | null {
  const out = new Set<number>();
  const work = [...blocks];
  while (work.length) {
    const blk = cfg.blocks[work.pop()!];
    if (blk.unknownCall) return null;
    for (const e of blk.succ) {
      if (e.kind !== 'call') continue;
      if (e.callee < 0) return null;
      if (out.has(e.callee)) continue;
      out.add(e.callee);
      work.push(...cfg.functions[e.callee].blocks);
    }
  }
  return out;
}

export function buildCfg(program: Program): Cfg {
  const { instrs, byAddress } = program;
  const hp = program.hypercallPage;
  const inHypercallPage = hypercallPageTest(hp);
  const n = instrs.length;
  const next = (ins: Instr): number => byAddress.get((ins.address + ins.length) >>> 0) ?? -1;
  const target = (t: number | null): number => (t === null || inHypercallPage(t) ? -1 : byAddress.get(t) ?? -1);

  // ---- leaders ----
  const leader = new Uint8Array(n + 1);
  if (n) leader[0] = 1;
  if (program.entry >= 0) leader[program.entry] = 1;
  for (const i of program.addressTaken) leader[i] = 1;
  program.labelsAt.forEach((_, a) => {
    const i = byAddress.get(a);
    if (i !== undefined) leader[i] = 1;
  });
  for (let i = 0; i < n; i++) {
    const ins = instrs[i];
    const f = ins.flow;
    let ends = false;
    if (f.kind === 'jump' || f.kind === 'branch' || f.kind === 'return' || f.kind === 'stop') ends = true;
    if (f.kind === 'call' && !(f.target !== null && inHypercallPage(f.target))) ends = true;
    if (f.kind === 'jump' || f.kind === 'branch' || f.kind === 'call') {
      const t = target(f.target);
      if (t >= 0) leader[t] = 1;
      const table = program.tables.get(i);
      if (table) for (const k of table) leader[k] = 1;
    }
    const nx = next(ins);
    if (nx !== i + 1) {
      ends = true;
      if (nx >= 0) leader[nx] = 1;
    }
    if (ends) leader[i + 1] = 1;
  }

  const blocks: Block[] = [];
  const blockOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (leader[i]) blocks.push({ id: blocks.length, first: i, last: i, succ: NO_EDGES, pred: NO_EDGES, unknownCall: false });
    const b = blocks[blocks.length - 1];
    b.last = i;
    blockOf[i] = b.id;
  }

  // ---- functions (call targets) ----
  const functions: Func[] = [];
  const functionAt = new Map<number, number>();
  const functionFor = (block: number): number => {
    let id = functionAt.get(block);
    if (id === undefined) {
      id = functions.length;
      functions.push({ id, entry: block, blocks: [], returns: [], callers: [] });
      functionAt.set(block, id);
    }
    return id;
  };

  // ---- edges ----
  const edge = (from: number, to: number, kind: EdgeKind, callee = -1) => {
    const e: Edge = { from, to, kind, callee };
    const f = blocks[from], t = blocks[to];
    // the first edge out of one block and into the other: one list serves as both (a
    // one-edge list is never pushed onto: withEdge makes a new one)
    if (f.succ.length === 0 && t.pred.length === 0) f.succ = t.pred = [e];
    else {
      f.succ = withEdge(f.succ, e);
      t.pred = withEdge(t.pred, e);
    }
  };
  for (let k = 0; k < blocks.length; k++) {
    const b = blocks[k];
    const ins = instrs[b.last];
    const f = ins.flow;
    const nx = next(ins);
    switch (f.kind) {
      case 'next':
        if (nx >= 0) edge(b.id, blockOf[nx], 'fall');
        break;
      case 'jump': {
        const t = target(f.target);
        if (t >= 0) edge(b.id, blockOf[t], 'jump');
        // through a table: to each of its targets (once each)
        const table = program.tables.get(b.last);
        if (table) for (const to of new Set(table.map((k) => blockOf[k]))) edge(b.id, to, 'jump');
        break;
      }
      case 'branch': {
        const t = target(f.target);
        if (t >= 0) edge(b.id, blockOf[t], 'branch');
        if (nx >= 0) edge(b.id, blockOf[nx], 'fall');
        break;
      }
      case 'call': {
        if (f.target !== null && inHypercallPage(f.target)) {
          if (nx >= 0) edge(b.id, blockOf[nx], 'fall');
          break;
        }
        const t = target(f.target);
        const table = program.tables.get(b.last);
        if (table) {
          // through a table: a call of each of its functions, and a return from each
          for (const to of new Set(table.map((k) => blockOf[k]))) {
            const callee = functionFor(to);
            functions[callee].callers.push(b.id);
            edge(b.id, to, 'call', callee);
            if (nx >= 0) edge(b.id, blockOf[nx], 'return', callee);
          }
          break;
        }
        let callee = -1;
        if (t >= 0) {
          callee = functionFor(blockOf[t]);
          functions[callee].callers.push(b.id);
          edge(b.id, blockOf[t], 'call', callee);
        } else b.unknownCall = true;
        if (nx >= 0) edge(b.id, blockOf[nx], 'return', callee);
        break;
      }
      default:
        break;
    }
  }

  // ---- function bodies ----
  // most blocks are in no function: they share one empty list (never pushed onto)
  const functionsOf: number[][] = new Array<number[]>(blocks.length).fill(NO_FUNCTIONS);
  let budget = MAX_BODY_VISITS;
  const mark = new Int32Array(blocks.length).fill(-1);
  for (const fn of functions) {
    const stack = [fn.entry];
    mark[fn.entry] = fn.id;
    while (stack.length && budget-- > 0) {
      const b = stack.pop()!;
      fn.blocks.push(b);
      if (functionsOf[b] === NO_FUNCTIONS) functionsOf[b] = [fn.id];
      else functionsOf[b].push(fn.id);
      const last = instrs[blocks[b].last];
      // a jump into the hypercall page returns to our caller from the stub (or, for iret, to the interrupted code)
      if (last.flow.kind === 'return' || (last.flow.kind === 'jump' && last.hypercall)) fn.returns.push(b);
      const succ = blocks[b].succ;
      for (let k = 0; k < succ.length; k++) {
        const e = succ[k];
        if (e.kind === 'call' || mark[e.to] === fn.id) continue;
        mark[e.to] = fn.id;
        stack.push(e.to);
      }
    }
  }

  // ---- roots ----
  const roots = new Map<number, RootKind>();
  if (program.entry >= 0 && n) roots.set(blockOf[program.entry], 'entry');
  for (const fn of functions) if (!roots.has(fn.entry)) roots.set(fn.entry, 'function');
  for (const i of program.addressTaken) if (!roots.has(blockOf[i])) roots.set(blockOf[i], 'address-taken');
  for (let b = 0; b < blocks.length; b++) if (blocks[b].pred.length === 0 && !roots.has(b)) roots.set(b, 'orphan');
  // cycles nothing enters: their first block is a root too
  const seen = new Uint8Array(blocks.length);
  // a block is pushed at most once (when first seen): one typed stack serves every walk
  const stack = new Int32Array(Math.max(1, blocks.length));
  const reach = (from: number) => {
    let top = 0;
    stack[top++] = from;
    seen[from] = 1;
    while (top > 0) {
      const succ = blocks[stack[--top]].succ;
      for (let k = 0; k < succ.length; k++) {
        const to = succ[k].to;
        if (seen[to]) continue;
        seen[to] = 1;
        stack[top++] = to;
      }
    }
  };
  for (const r of roots.keys()) if (!seen[r]) reach(r);
  for (let b = 0; b < blocks.length; b++) if (!seen[b]) {
    roots.set(b, 'orphan');
    reach(b);
  }

  // ---- dominators (Cooper, Harvey, Kennedy) over intra-procedural edges, from a virtual root ----
  const nb = blocks.length;
  const VROOT = nb;
  // postorder (the virtual root last); walked backwards, reverse postorder
  const postorder = new Int32Array(nb + 1);
  let postCount = 0;
  const post = new Int32Array(nb + 1).fill(-1);
  {
    // depth-first with the path as two typed stacks: block, and how many of its successors were taken
    const visited = new Uint8Array(nb + 1);
    const rootList = [...roots.keys()];
    const pathBlock = new Int32Array(nb + 1);
    const pathNext = new Int32Array(nb + 1);
    let depth = 0;
    pathBlock[0] = VROOT;
    visited[VROOT] = 1;
    while (depth >= 0) {
      const b = pathBlock[depth];
      const k = pathNext[depth]++;
      let to = -1;
      if (b === VROOT) {
        if (k < rootList.length) to = rootList[k];
      } else if (k < blocks[b].succ.length) {
        const e = blocks[b].succ[k];
        if (!isIntra(e)) continue;
        to = e.to;
      }
      if (k >= (b === VROOT ? rootList.length : blocks[b].succ.length)) {
        post[b] = postCount;
        postorder[postCount++] = b;
        depth--;
      } else if (!visited[to]) {
        visited[to] = 1;
        depth++;
        pathBlock[depth] = to;
        pathNext[depth] = 0;
      }
    }
  }
  const doms = new Int32Array(nb + 1).fill(-1);
  doms[VROOT] = VROOT;
  const intersect = (a: number, b: number): number => {
    while (a !== b) {
      while (post[a] < post[b]) a = doms[a];
      while (post[b] < post[a]) b = doms[b];
    }
    return a;
  };
  for (let changed = true, rounds = 0; changed && rounds < 1000; rounds++) {
    changed = false;
    for (let i = postCount - 1; i >= 0; i--) {
      const b = postorder[i];
      if (b === VROOT) continue;
      let idom = -1;
      if (roots.has(b)) idom = VROOT;
      const pred = blocks[b].pred;
      for (let k = 0; k < pred.length; k++) {
        const e = pred[k];
        if (!isIntra(e) || doms[e.from] < 0) continue;
        idom = idom < 0 ? e.from : intersect(e.from, idom);
      }
      if (idom >= 0 && doms[b] !== idom) {
        doms[b] = idom;
        changed = true;
      }
    }
  }
  const idom = new Int32Array(nb);
  for (let b = 0; b < nb; b++) idom[b] = doms[b] === VROOT ? -1 : doms[b];
  // dominance in O(1): a dominates b when b's interval in a walk of the dominator tree is inside a's
  const pre = new Int32Array(nb).fill(-1);
  const postN = new Int32Array(nb).fill(-1);
  {
    // children of each block in the dominator tree, in block order: child[first[b] .. first[b + 1])
    const first = new Int32Array(nb + 1);
    const tops: number[] = [];
    for (let b = 0; b < nb; b++) if (doms[b] >= 0 && idom[b] >= 0) first[idom[b] + 1]++;
    for (let b = 0; b < nb; b++) first[b + 1] += first[b];
    const child = new Int32Array(first[nb]);
    const fill = first.slice(0, nb);
    for (let b = 0; b < nb; b++) {
      if (doms[b] < 0) continue;
      if (idom[b] < 0) tops.push(b);
      else child[fill[idom[b]]++] = b;
    }
    // depth-first with the path as two typed stacks: block, and its next child
    const pathBlock = new Int32Array(nb);
    const pathNext = new Int32Array(nb);
    let clock = 0;
    for (const t of tops) {
      let depth = 0;
      pathBlock[0] = t;
      pathNext[0] = first[t];
      pre[t] = clock++;
      while (depth >= 0) {
        const b = pathBlock[depth];
        if (pathNext[depth] < first[b + 1]) {
          const c = child[pathNext[depth]++];
          pre[c] = clock++;
          depth++;
          pathBlock[depth] = c;
          pathNext[depth] = first[c];
        } else {
          postN[b] = clock++;
          depth--;
        }
      }
    }
  }
  const dominates = dominance(pre, postN);

  // ---- loops ----
  const loops: Loop[] = [];
  // loop by header block (-1: none), over the blocks rather than a map
  const byHeader = new Int32Array(nb).fill(-1);
  let work = MAX_LOOP_WORK;
  for (let k = 0; k < blocks.length; k++) {
    const b = blocks[k];
    for (let j = 0; j < b.succ.length; j++) {
      const e = b.succ[j];
      if (!isIntra(e) || !dominates(e.to, e.from) || work <= 0) continue;
      let loop = byHeader[e.to] >= 0 ? loops[byHeader[e.to]] : undefined;
      if (!loop) {
        loop = { id: loops.length, header: e.to, blocks: new Set([e.to]), latches: [], irreducible: false, parent: -1 };
        byHeader[e.to] = loops.length;
        loops.push(loop);
      }
      loop.latches.push(b.id);
      const stack = [b.id];
      while (stack.length && work-- > 0) {
        const x = stack.pop()!;
        if (loop.blocks.has(x)) continue;
        loop.blocks.add(x);
        const pred = blocks[x].pred;
        for (let j = 0; j < pred.length; j++) if (isIntra(pred[j])) stack.push(pred[j].from);
      }
      if (stack.length) loop.irreducible = true; // not all of it: no trip count
    }
  }
  const inNatural = new Uint8Array(nb);
  for (const l of loops) for (const b of l.blocks) inNatural[b] = 1;
  for (const scc of cycles(blocks)) {
    if (scc.every((b) => inNatural[b])) continue;
    loops.push({ id: loops.length, header: Math.min(...scc), blocks: new Set(scc), latches: [], irreducible: true, parent: -1 });
  }
  const loopOf = new Int32Array(nb).fill(-1);
  const bySize = [...loops].sort((a, b) => b.blocks.size - a.blocks.size);
  for (const l of bySize) {
    for (const b of l.blocks) {
      const outer = loopOf[b];
      if (outer >= 0 && outer !== l.id && (l.parent < 0 || loops[outer].blocks.size < loops[l.parent].blocks.size)) l.parent = outer;
      loopOf[b] = l.id;
    }
  }

  return { program, blocks, blockOf, roots, functions, functionAt, functionsOf, idom, loops, loopOf, inHypercallPage, dominates };
}

// The Cfg's closures are made outside buildCfg: one made in it would keep alive everything
// buildCfg's inner functions capture (its work arrays) for as long as the graph lives.

function hypercallPageTest(hp: number | null): (address: number) => boolean {
  return (a) => hp !== null && a >= hp && a < hp + 4096;
}

/** a dominates b when b's interval in a walk of the dominator tree is inside a's. */
function dominance(pre: Int32Array, post: Int32Array): (a: number, b: number) => boolean {
  return (a, b) => pre[a] >= 0 && pre[b] >= 0 && pre[a] <= pre[b] && post[b] <= post[a];
}

/** A block's edges before it has any: shared (withEdge replaces it, never pushes onto it). */
const NO_EDGES: Edge[] = [];
const NO_FUNCTIONS: number[] = [];

/** The list with one more edge: exact-size arrays for the usual one or two (a push would give each a store of 17); never changes `list` when it has fewer than two. */
function withEdge(list: Edge[], e: Edge): Edge[] {
  if (list.length === 0) return [e];
  if (list.length === 1) return [list[0], e];
  list.push(e);
  return list;
}

/** Strongly connected components that are cycles (more than one block, or a block that jumps to itself). */
function cycles(blocks: readonly Block[]): number[][] {
  const n = blocks.length;
  const index = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const onStack = new Uint8Array(n);
  const stack: number[] = [];
  const pathBlock = new Int32Array(n);
  const pathNext = new Int32Array(n);
  const out: number[][] = [];
  let counter = 0;
  for (let s = 0; s < n; s++) {
    if (index[s] >= 0) continue;
    // the depth-first path as two typed stacks: block, and how many of its successors were taken
    let depth = 0;
    pathBlock[0] = s;
    pathNext[0] = 0;
    index[s] = low[s] = counter++;
    stack.push(s);
    onStack[s] = 1;
    while (depth >= 0) {
      const b = pathBlock[depth];
      const succ = blocks[b].succ;
      if (pathNext[depth] < succ.length) {
        const e = succ[pathNext[depth]++];
        if (!isIntra(e)) continue;
        const w = e.to;
        if (index[w] < 0) {
          index[w] = low[w] = counter++;
          stack.push(w);
          onStack[w] = 1;
          depth++;
          pathBlock[depth] = w;
          pathNext[depth] = 0;
        } else if (onStack[w]) low[b] = Math.min(low[b], index[w]);
        continue;
      }
      depth--;
      if (depth >= 0) low[pathBlock[depth]] = Math.min(low[pathBlock[depth]], low[b]);
      if (low[b] !== index[b]) continue;
      if (stack[stack.length - 1] === b) {
        // a component of one block (most are): a cycle only when it jumps to itself
        stack.pop();
        onStack[b] = 0;
        if (jumpsToItself(blocks[b])) out.push([b]);
        continue;
      }
      const comp: number[] = [];
      let w: number;
      do {
        w = stack.pop()!;
        onStack[w] = 0;
        comp.push(w);
      } while (w !== b);
      out.push(comp);
    }
  }
  return out;
}

function jumpsToItself(b: Block): boolean {
  for (const e of b.succ) if (isIntra(e) && e.to === b.id) return true;
  return false;
}
