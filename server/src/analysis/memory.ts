// What the program stores at known addresses, and what a word there holds when a
// hypercall reads it: the requests and arguments a guest builds in memory.

import type { Expr, Statement } from '../../../asm/src/index.js';
import type { Context } from './context.js';
import type { Instr } from './program.js';
import { addressOf, type State } from './values.js';

export interface ConstantStore {
  lo: number;
  hi: number;
  /** The stored constant (a mov of an immediate, or of a register holding a known 32-bit value), else null. */
  value: number | null;
  /** The instruction whose operand wrote the value: the store's own immediate, or the last setter of the register it stores. */
  source: Instr | null;
}

const storeCache = new WeakMap<Context, ConstantStore[]>();

function constantStores(ctx: Context): ConstantStore[] {
  let out = storeCache.get(ctx);
  if (out) return out;
  out = [];
  for (const blk of ctx.cfg.blocks) blockStores(ctx, blk.id, Infinity, out);
  storeCache.set(ctx, out);
  return out;
}

/** Stores at known addresses in block b before instruction `before`, in order, into `out`. */
function blockStores(ctx: Context, b: number, before: number, out: ConstantStore[]): void {
  ctx.df.replay(b, (ins, st) => {
    const store = ins.fx.store;
    if (ins.index >= before || !store || store === 'string') return;
    const a = addressOf(store, st.regs);
    if (a.value === null) return;
    const bytes = Math.max(1, (store.bits || 32) / 8);
    let value: number | null = null;
    let source: Instr | null = null;
    const src = ins.insn.operands[1];
    if (ins.mnemonic === 'mov' && src) {
      if (src.type === 'imm') {
        value = bytes === 4 ? src.extended >>> 0 : src.extended & ((1 << (8 * bytes)) - 1);
        source = ins;
      } else if (src.type === 'reg' && src.reg.cls === 'r32' && bytes === 4) {
        const v = st.regs[src.reg.num];
        value = typeof v === 'number' ? v : null;
        source = setterOf(ctx, st, src.reg.num);
      }
    }
    out.push({ lo: a.value, hi: a.value + bytes, value, source });
  });
}

/** Blocks walked back from a site for the stores made on the way to it. */
const MAX_WAY_BACK = 8;

/**
 * The stores made on the one way to instruction i: in its block before it, and in the
 * blocks before that while each is the only way into the next (oldest first).
 */
function storesBefore(ctx: Context, i: number): ConstantStore[] {
  let bySite = waysCache.get(ctx);
  if (!bySite) waysCache.set(ctx, (bySite = new Map()));
  const have = bySite.get(i);
  if (have) return have;
  const { cfg } = ctx;
  const chain = [cfg.blockOf[i]];
  for (let b = chain[0]; chain.length < MAX_WAY_BACK;) {
    const pred = cfg.blocks[b].pred;
    if (pred.length !== 1 || pred[0].kind === 'call' || pred[0].kind === 'return' || chain.includes(pred[0].from)) break;
    b = pred[0].from;
    chain.push(b);
  }
  const out: ConstantStore[] = [];
  for (let k = chain.length - 1; k >= 0; k--) blockStores(ctx, chain[k], k === 0 ? i : Infinity, out);
  bySite.set(i, out);
  return out;
}
/** storesBefore per instruction (a request array's words are looked up one by one). */
const waysCache = new WeakMap<Context, Map<number, ConstantStore[]>>();

/** The instruction that last set register r on every path to state s, or null. */
export function setterOf(ctx: Context, s: State, r: number): Instr | null {
  const def = s.def[r];
  return def >= 0 ? ctx.program.instrs[def] : null;
}

/**
 * The values the 32-bit word at `at` may hold when instruction i runs: the last store to
 * it on the straight way there decides; else every store to it anywhere; else the image's
 * initial data (then `stores` is empty). Null when a store to it is not a known 32-bit value.
 */
export function wordAt(ctx: Context, i: number, at: number): { values: number[]; stores: ConstantStore[] } | null {
  const stores = storesDeciding(ctx, i, at, 4);
  if (stores.length) {
    if (stores.some((st) => st.value === null || st.lo !== at || st.hi !== at + 4)) return null;
    return { values: stores.map((st) => st.value!), stores };
  }
  const v = ctx.program.read32(at);
  return v === undefined ? null : { values: [v], stores };
}

/**
 * The stores that decide the `bytes` at `at` when instruction i runs: the last one on the
 * straight way there that touches them; else every one anywhere that does (none: the
 * image's data decides).
 */
function storesDeciding(ctx: Context, i: number, at: number, bytes: number): ConstantStore[] {
  const touches = (st: ConstantStore) => st.lo < at + bytes && st.hi > at;
  let last: ConstantStore | undefined;
  for (const st of storesBefore(ctx, i)) if (touches(st)) last = st;
  return last ? [last] : constantStores(ctx).filter(touches);
}

/**
 * The 16-bit value at `at` when instruction i runs, as wordAt finds a word's: a store of
 * exactly those two bytes, or a 32-bit store holding them; else the image's data.
 */
export function halfAt(ctx: Context, i: number, at: number): number | null {
  const stores = storesDeciding(ctx, i, at, 2);
  if (stores.length === 0) {
    const lo = ctx.program.read8(at), hi = ctx.program.read8(at + 1);
    return lo === undefined || hi === undefined ? null : lo | (hi << 8);
  }
  const values = new Set(stores.map((st) => {
    if (st.value === null || st.lo > at || st.hi < at + 2 || st.hi - st.lo < 2) return null;
    return (st.value >>> (8 * (at - st.lo))) & 0xffff;
  }));
  return values.size === 1 ? [...values][0] : null;
}

const dataCache = new WeakMap<Context, Map<number, Expr>>();

/**
 * The expression a data statement wrote for the dword at `at` (`dd UVMF_INVLPG`, also
 * inside `at field, dd ...` or `times`), when one item made exactly those bytes.
 */
export function dataExprAt(ctx: Context, at: number): Expr | null {
  let map = dataCache.get(ctx);
  if (!map) {
    const words = new Map<number, Expr>();
    ctx.program.result.eachRow((row) => {
      let st: Statement | null | undefined = row.node.statement;
      while (st && (st.kind === 'times' || st.kind === 'directive')) st = st.body;
      if (!st || st.kind !== 'data' || st.unit !== 4 || row.to - row.from !== st.items.length * 4) return;
      st.items.forEach((item, k) => {
        if (item.kind === 'expr') words.set((row.address + k * 4) >>> 0, item.expr);
      });
    });
    dataCache.set(ctx, (map = words));
  }
  return map.get(at >>> 0) ?? null;
}
