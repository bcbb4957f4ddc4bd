// unbatched-pt-loop and unbatched-pt-sequence: page-table writes made one hypercall per
// entry, where one batched mmu_update (or one multicall) would enter Xen once.

import type { Span } from '../../../../asm/src/index.js';
import { calledFrom, type Loop } from '../cfg.js';
import { nameAt, type Context } from '../context.js';
import { EAX, EBX, gpr } from '../effects.js';
import { loopBatchFix, multicallFix, sequenceBatchFix } from '../fixes/batch.js';
import { hypercallName, mappedPage, singleEntryCount, usesMappedMemory, type HypercallSite } from '../hypercalls.js';
import { runsOf, TRIP_COUNT_BUDGET, tripCount, type TripCount } from '../tripcount.js';
import { addressValue, type State } from '../values.js';
import type { Instr } from '../program.js';

const MAX_WALK = 10_000;

export function checkBatching(ctx: Context): void {
  const { cfg, sites } = ctx;
  const single = sites.filter((s) => s.state !== null && singleEntryCount(s) !== null);
  if (single.length === 0) return;
  const trips = new Map<number, TripCount | null>();
  const budget = { left: TRIP_COUNT_BUDGET };
  const tripOf = (loop: Loop) => {
    if (!trips.has(loop.id)) trips.set(loop.id, tripCount(ctx.df, loop, budget));
    return trips.get(loop.id)!;
  };

  // a single-entry call made inside a loop (written there, or from a macro used there);
  // not one that maps the same page on every round (mappedPage)
  const waiting = waitingFunctions(ctx);
  const perRound = single.filter((s) => mappedPage(s) === null);
  for (const site of perRound) {
    const loop = cfg.loopOf[cfg.blockOf[site.instr]];
    if (loop < 0) continue;
    const l = cfg.loops[loop];
    if (retries(ctx, l) || waits(ctx, l, waiting) || sameEachRound(ctx, site, l)) continue;
    const fix = loopBatchFix(ctx, site, l, tripOf(l), false);
    ctx.report.add({
      code: 'unbatched-pt-loop', at: ctx.program.instrs[site.instr],
      message: loopMessage(site, tripOf(l), runs(tripOf(l), l, cfg.blockOf[site.instr]), null, everyRound(ctx, l, cfg.blockOf[site.instr])),
      related: loopRelated(ctx, l),
      fixes: fix ? [fix] : [],
    });
  }

  // ... or in a function that a loop calls
  const reaches = reachingSites(ctx, perRound);
  for (const l of cfg.loops) {
    for (const b of l.blocks) {
      if (cfg.loopOf[b] !== l.id) continue;
      for (const e of cfg.blocks[b].succ) {
        if (e.kind !== 'call' || e.callee < 0) continue;
        const site = reaches.site[e.callee];
        if (!site || waits(ctx, l, waiting) || sameEachRound(ctx, site, l)) continue;
        const call = ctx.program.instrs[cfg.blocks[b].last];
        const fnName = nameAt(ctx, ctx.program.instrs[cfg.blocks[cfg.functions[e.callee].entry].first].address);
        const fix = loopBatchFix(ctx, site, l, tripOf(l), true);
        ctx.report.add({
          code: 'unbatched-pt-loop', at: call,
          message: loopMessage(site, tripOf(l), runs(tripOf(l), l, b), fnName, everyRound(ctx, l, b) && reaches.always[e.callee]),
          related: [
            { span: ctx.program.instrs[site.instr].user, message: `the single-entry ${hypercallName(site)} that ${fnName} makes` },
            ...loopRelated(ctx, l),
          ],
          fixes: fix ? [fix] : [],
        });
      }
    }
  }

  // consecutive single-entry calls in straight-line code
  const consumed = new Set<number>();
  const bySite = new Map(single.map((s) => [s.instr, s]));
  for (const site of single) {
    if (consumed.has(site.instr) || cfg.loopOf[cfg.blockOf[site.instr]] >= 0) continue;
    const seq = straightLine(ctx, site, bySite);
    if (seq.length < 2) continue;
    for (const s of seq) consumed.add(s.instr);
    const names = seq.map(hypercallName);
    const first = ctx.program.instrs[seq[0].instr];
    const fix = multicallFix(ctx, seq) ?? sequenceBatchFix(ctx, seq);
    ctx.report.add({
      code: 'unbatched-pt-sequence', at: first,
      message: `${seq.length} single-entry page-table hypercalls in a row (${[...new Set(names)].join(', ')}): ${seq.length} entries into Xen where one would do. Put the updates in one mmu_update request array, or the calls in one multicall; that saves ${seq.length - 1}.`,
      related: seq.slice(1).map((s) => ({ span: ctx.program.instrs[s.instr].user, message: `then ${hypercallName(s)} here` })),
      fixes: fix ? [fix] : [],
    });
  }
}

/**
 * An update_va_mapping that maps the same page on every round of the loop, its address
 * (ebx) not a constant but not changed by the loop: set before it, or loaded in it from a
 * word the loop never stores to (a kmap window whose address is kept in a variable).
 */
function sameEachRound(ctx: Context, site: HypercallSite, l: Loop): boolean {
  const name = site.hypercall?.name;
  if (name !== 'update_va_mapping' && name !== 'update_va_mapping_otherdomain') return false;
  const called = calledFrom(ctx.cfg, l.blocks);
  if (!called) return false;
  const code = new Set(l.blocks);
  for (const f of called) for (const b of ctx.cfg.functions[f].blocks) code.add(b);
  return invariantIn(ctx, code, site.instr, EBX, 4);
}

/** Register r before instruction `at` has the same value each time `code` runs (following copies `depth` deep). */
function invariantIn(ctx: Context, code: ReadonlySet<number>, at: number, r: number, depth: number): boolean {
  const { df, cfg, program } = ctx;
  const def = df.before(at)?.def[r] ?? -1;
  if (def < 0) return false;
  if (!code.has(cfg.blockOf[def])) return true;
  const ins = program.instrs[def];
  const src = ins.insn.operands[1];
  if (ins.mnemonic !== 'mov' || !src) return false;
  if (src.type === 'reg') return src.reg.cls === 'r32' && depth > 0 && invariantIn(ctx, code, def, gpr(src.reg), depth - 1);
  if (src.type !== 'mem' || src.bits !== 32) return false;
  const s = df.before(def);
  const word = s ? addressValue(src, s.regs) : null;
  return word !== null && !storesNear(ctx, code, word);
}

/** Some instruction of the blocks may store to the 4 bytes at `word`. */
function storesNear(ctx: Context, blocks: ReadonlySet<number>, word: number): boolean {
  for (const b of blocks) {
    const blk = ctx.cfg.blocks[b];
    for (let i = blk.first; i <= blk.last; i++) {
      const store = ctx.program.instrs[i].fx.store;
      if (!store) continue;
      if (store === 'string') return true;
      const s = ctx.df.before(i);
      const at = s ? addressValue(store, s.regs) : null;
      if (at === null || (at < word + 4 && word < at + Math.max(1, store.bits / 8))) return true;
    }
  }
  return false;
}

/** Per function: it blocks or yields (sched_op), itself or through what it calls. */
/** The hypercalls that wait (block, poll, yield): sched_op, and the legacy sched_op_compat. */
const WAITS: ReadonlySet<string> = new Set(['sched_op', 'sched_op_compat']);

function waitingFunctions(ctx: Context): boolean[] {
  const { cfg } = ctx;
  const out = cfg.functions.map(() => false);
  for (const s of ctx.sites) if (WAITS.has(s.hypercall?.name ?? '')) for (const f of cfg.functionsOf[cfg.blockOf[s.instr]]) out[f] = true;
  for (let changed = true, rounds = 0; changed && rounds < 64; rounds++) {
    changed = false;
    for (const fn of cfg.functions) {
      if (out[fn.id]) continue;
      if (fn.blocks.some((b) => cfg.blocks[b].succ.some((e) => e.kind === 'call' && e.callee >= 0 && out[e.callee]))) {
        out[fn.id] = true;
        changed = true;
      }
    }
  }
  return out;
}

/**
 * A loop that waits for something on every round (sched_op: block, poll, yield), such as
 * an event loop: its updates cannot be gathered into one batch across the waits.
 */
function waits(ctx: Context, l: Loop, waiting: readonly boolean[]): boolean {
  const { cfg } = ctx;
  for (const s of ctx.sites) if (WAITS.has(s.hypercall?.name ?? '') && l.blocks.has(cfg.blockOf[s.instr])) return true;
  for (const b of l.blocks) for (const e of cfg.blocks[b].succ) if (e.kind === 'call' && e.callee >= 0 && waiting[e.callee]) return true;
  return false;
}

/**
 * A loop that goes round again only when a hypercall in it failed (every back edge tests
 * eax as the hypercall left it): a retry, not a loop over entries.
 */
function retries(ctx: Context, l: Loop): boolean {
  const { cfg, program } = ctx;
  if (l.irreducible || l.latches.length === 0) return false;
  for (const latch of l.latches) {
    const blk = cfg.blocks[latch];
    const last = program.instrs[blk.last];
    const back = blk.succ.find((e) => e.to === l.header);
    if (last.flow.kind !== 'branch' || back?.kind !== 'branch') return false;
    let setter = -1;
    for (let i = blk.last - 1; i >= blk.first && setter < 0; i--) if (program.instrs[i].fx.setsFlags) setter = i;
    if (setter < 0) return false;
    const op = program.instrs[setter].insn.operands[0];
    if (op?.type !== 'reg' || op.reg.name !== 'eax') return false;
    const def = ctx.df.before(setter)?.def[EAX] ?? -1;
    if (def < 0 || !program.instrs[def].hypercall || !l.blocks.has(cfg.blockOf[def])) return false;
  }
  return true;
}

/** Block b runs on every round of the loop (it dominates each back edge's source). */
function everyRound(ctx: Context, l: Loop, b: number): boolean {
  return !l.irreducible && l.latches.length > 0 && l.latches.every((latch) => ctx.cfg.dominates(b, latch));
}

/** Times block b of loop l runs, when the trip count is known. */
function runs(trip: TripCount | null, l: Loop, b: number): number | null {
  return trip ? runsOf(trip, l, b) : null;
}

/** `n`: how many times the block making the call runs (the header may run once more than the iterations). */
function loopMessage(site: HypercallSite, trip: TripCount | null, n: number | null, via: string | null, every: boolean): string {
  const name = hypercallName(site);
  const count = singleEntryCount(site) ?? 1;
  const what = `${via ? `calls ${via}, which makes ` : ''}${name}${site.hypercall?.name === 'mmu_update' ? ` with a count of ${count}` : ' (one entry per call)'}`;
  const fix = site.hypercall?.name === 'mmu_update'
    ? 'Fill an array of mmu_update requests in the loop and make one call with the whole count after it.'
    : 'Queue the updates (as mmu_update requests, or multicall entries) in the loop and issue them in one hypercall after it.';
  if (trip && n !== null && n > 1) {
    const times = trip.only ? `${n} times` : `up to ${n} times`;
    if (!every) return `${what} on iterations of a loop that runs ${times} (counter ${trip.counter}), when its branch is taken: up to ${n} entries into Xen where one would do; batching saves up to ${n - 1}. ${fix}`;
    return `${what} on every iteration of a loop that runs ${times} (counter ${trip.counter}): ${n} entries into Xen where one would do; batching saves ${n - 1}. ${fix}`;
  }
  if (!every) return `${what} in a loop, on the iterations that take its branch: one entry into Xen each time. ${fix}`;
  return `${what} on every iteration of a loop: one entry into Xen per iteration. ${fix}`;
}

function loopRelated(ctx: Context, l: Loop): { span: Span; message: string }[] {
  const ins = ctx.program.instrs[ctx.cfg.blocks[l.header].first];
  return [{ span: ins.user, message: 'the loop starts here' }];
}

/**
 * Per function: a single-entry page-table call it makes, itself or in what it calls, and
 * whether that call is made on every call of the function (one made on every call is
 * preferred).
 */
function reachingSites(ctx: Context, single: HypercallSite[]): { site: (HypercallSite | null)[]; always: boolean[] } {
  const { cfg } = ctx;
  const site: (HypercallSite | null)[] = cfg.functions.map(() => null);
  const always = cfg.functions.map(() => false);
  // block b runs on every call of fn that returns (it dominates each of fn's returns)
  const onEveryCall = (fn: number, b: number) => cfg.functions[fn].returns.length > 0 && cfg.functions[fn].returns.every((r) => cfg.dominates(b, r));
  for (const s of single) {
    for (const f of cfg.functionsOf[cfg.blockOf[s.instr]]) {
      if (always[f]) continue;
      if (onEveryCall(f, cfg.blockOf[s.instr])) [site[f], always[f]] = [s, true];
      else site[f] ??= s;
    }
  }
  for (let changed = true, rounds = 0; changed && rounds < 64; rounds++) {
    changed = false;
    for (const fn of cfg.functions) {
      if (always[fn.id]) continue;
      for (const b of fn.blocks) {
        for (const e of cfg.blocks[b].succ) {
          if (e.kind !== 'call' || e.callee < 0 || !site[e.callee]) continue;
          if (always[e.callee] && onEveryCall(fn.id, b)) {
            [site[fn.id], always[fn.id]] = [site[e.callee], true];
            changed = true;
          } else if (!site[fn.id]) {
            site[fn.id] = site[e.callee];
            changed = true;
          }
        }
        if (always[fn.id]) break;
      }
    }
  }
  return { site, always };
}

/**
 * The single-entry page-table calls that follow a site in straight-line code: on through
 * conditional branches that leave (a failure check), never into a block entered from
 * elsewhere, and through a jump forward to a block only it enters; stopped by any other
 * hypercall, a call, any other jump or a return, and before a call that maps a page mapped
 * earlier in the run.
 */
/** An instruction that reads or writes at a constant address in one of `pages` (mapped by a call before it). */
function inPages(ctx: Context, ins: Instr, pages: ReadonlySet<number>): boolean {
  if (pages.size === 0) return false;
  let regs: State['regs'] | undefined;
  for (const m of ins.insn.operands) {
    if (m.type !== 'mem' || ins.mnemonic === 'lea') continue;
    regs ??= ctx.df.before(ins.index)?.regs;
    const at = regs ? addressValue(m, regs) : null;
    if (at !== null && (pages.has((at & ~0xfff) >>> 0) || pages.has(((at + (m.bits >> 3) - 1) & ~0xfff) >>> 0))) return true;
  }
  return false;
}

function straightLine(ctx: Context, first: HypercallSite, bySite: Map<number, HypercallSite>): HypercallSite[] {
  const { cfg, program } = ctx;
  const seq = [first];
  // pages mapped so far: mapping one again ends the run (mappedPage)
  const pages = new Set<number>();
  const page = mappedPage(first);
  if (page !== null) pages.add(page);
  let b = cfg.blockOf[first.instr];
  let i = first.instr + 1;
  // conditional branches passed (target block, calls found before it): a branch that skips
  // calls to rejoin the path makes them conditional, not consecutive
  const skips: { target: number; before: number }[] = [];
  for (let steps = 0; steps < MAX_WALK; steps++) {
    const blk = cfg.blocks[b];
    for (; i <= blk.last; i++) {
      const ins = program.instrs[i];
      if (!ins.hypercall) {
        // memory used through what the calls so far may have mapped: they must be made by then
        if (usesMappedMemory(ctx, ins) || inPages(ctx, ins, pages)) return seq;
        continue;
      }
      const s = bySite.get(i);
      if (!s || cfg.loopOf[b] >= 0) return seq;
      const p = mappedPage(s);
      if (p !== null && pages.has(p)) return seq;
      if (p !== null) pages.add(p);
      seq.push(s);
    }
    const last = program.instrs[blk.last];
    const kind = last.flow.kind === 'call' && last.hypercall ? 'next' : last.flow.kind;
    if (kind !== 'next' && kind !== 'branch' && kind !== 'jump') return seq;
    if (kind === 'branch') {
      const taken = blk.succ.find((e) => e.kind === 'branch');
      if (!taken || program.instrs[cfg.blocks[taken.to].first].address <= last.address) return seq;
      skips.push({ target: taken.to, before: seq.length });
    }
    // on through a jump forward that is the only way into where it goes (over data a
    // macro keeps inline, say)
    const on = kind === 'jump' ? blk.succ.length === 1 && blk.succ[0].kind === 'jump' ? blk.succ[0] : undefined : blk.succ.find((e) => e.kind === 'fall');
    if (!on || (kind === 'jump' && program.instrs[cfg.blocks[on.to].first].address <= last.address)) return seq;
    const nb = cfg.blocks[on.to];
    if (nb.pred.length !== 1 || cfg.roots.has(nb.id) || cfg.loopOf[nb.id] >= 0) {
      for (const k of skips) if (k.target === nb.id) seq.length = Math.min(seq.length, k.before);
      return seq;
    }
    b = nb.id;
    i = nb.first;
  }
  return seq;
}
